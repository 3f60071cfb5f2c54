//! `cargo xtask test-live`: the live matrix over SSH (issue 21).

pub mod redact;
pub mod report;
