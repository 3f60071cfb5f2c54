//! The injectable edges: the network [`Connector`] and the [`Clock`].
//!
//! Production passes [`TokioConnector`] and [`SystemClock`]; the simulation passes turmoil's
//! equivalents. Only the binaries' `main` (and the simulation's world builder) choose them:
//! nothing below this module knows which one it got.

mod clock;
mod connector;
pub mod http;

pub use clock::{Clock, SharedClock, SystemClock};
pub use connector::{BoxedStream, Connector, SharedConnector, Stream, TokioConnector};
