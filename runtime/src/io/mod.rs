//! The injectable edges: the network [`Connector`] and the [`Clock`], and the one HTTP client
//! every daemon client speaks through ([`HttpSession`], failing with [`TransportError`]).
//!
//! The one client that leaves the box (XvB) layers TLS ([`TlsTrust`]) and optionally a SOCKS5
//! proxy ([`Socks5Proxy`]) over the injected connector, so the layers never dial on their own.
//!
//! Production passes [`TokioConnector`] and [`SystemClock`]; the simulation passes turmoil's
//! equivalents. Only the binaries' `main` (and the simulation's world builder) choose them:
//! nothing below this module knows which one it got.

mod clock;
mod connector;
mod endpoint;
pub mod http;
mod session;
mod socks;
mod tls;
mod transport;

pub use clock::{Clock, SharedClock, SystemClock};
pub use connector::{BoxedStream, Connector, SharedConnector, Stream, TokioConnector};
pub use endpoint::{redact_url, Endpoint, EndpointError};
pub use session::{exchange_once, Conversation, HttpSession, MAX_IDLE};
pub use socks::{ProxyUrlError, Socks5Proxy};
pub use tls::{TlsTrust, TrustError};
pub use transport::{BoxError, HandshakeError, Target, TransportError};
