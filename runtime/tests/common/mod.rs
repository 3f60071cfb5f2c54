//! Helpers shared by the integration tests that drive real daemons.
//!
//! Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod monerod;
pub mod rawhttp;
pub mod shape;
