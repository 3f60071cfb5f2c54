//! Deterministic simulation of the whole Pithead runtime under turmoil.
pub mod clock;
pub mod net;
