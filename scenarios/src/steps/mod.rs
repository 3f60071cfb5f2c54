//! The step library: each step parses the operator's words and calls one [`Tier`] method.
//!
//! No logic and no waits here: waiting lives in the driver ([`crate::driver`]). The words
//! steps accept are the catalog's fixed vocabulary (see `features/*.feature`); a step that
//! matches nothing fails the run, so a typo in a feature file never passes silently.
//! [`Vocabulary`] reads the same definitions the runner registers, so `xtask catalog` checks a
//! feature's steps against the library itself.
//!
//! [`Tier`]: crate::driver::Tier

pub mod alerts;
pub mod cli;
pub mod dashboard;
pub mod given;
pub mod live;
pub mod then;
mod vocabulary;
pub mod when;
pub mod xvb;

pub use vocabulary::{StepDef, StepError, StepKind, Vocabulary};

use std::str::FromStr;
use std::time::Duration;

use crate::driver::Node;

impl FromStr for Node {
    type Err = String;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word {
            "monerod" => Ok(Node::Monerod),
            "Tari" => Ok(Node::Tari),
            other => Err(format!("unknown node {other:?} (expected monerod or Tari)")),
        }
    }
}

/// `{int} seconds` as a duration.
fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
