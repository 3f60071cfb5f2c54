//! `cargo xtask test-live`: the live matrix over SSH (domain §8); pure parts first.
pub mod battery;
pub mod matrix;
