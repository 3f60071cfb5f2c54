//! The injectable edges: the network [`Connector`] and the [`Clock`], and the one HTTP client
//! every daemon client speaks through ([`HttpSession`], failing with [`TransportError`]).
//!
//! Production passes [`TokioConnector`] and [`SystemClock`]; the simulation passes turmoil's
//! equivalents. Only the binaries' `main` (and the simulation's world builder) choose them:
//! nothing below this module knows which one it got.

mod clock;
mod connector;
mod endpoint;
pub mod http;
mod session;
mod transport;

pub use clock::{Clock, SharedClock, SystemClock};
pub use connector::{BoxedStream, Connector, SharedConnector, Stream, TokioConnector};
pub use endpoint::{redact_url, Endpoint, EndpointError};
pub use session::{exchange_once, Conversation, HttpSession, MAX_IDLE};
pub use transport::{BoxError, Target, TransportError};
