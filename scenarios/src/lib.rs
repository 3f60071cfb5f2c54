//! Pithead's scenario catalog: the cucumber step library and the tier drivers it steers.
//!
//! - [`driver`]: the [`driver::Tier`] trait every step calls, and the tier-neutral vocabulary
//!   (nodes, chains, reachability, settings, conditions).
//! - [`tags`]: the tag grammar (`@sim`, `@pending(..)`, ...), shared with `xtask catalog`.
//! - [`tiers`]: the tier factory: which tiers a run can execute and how each driver is made.
//! - `sim_driver` (feature `sim`, on by default): [`driver::Tier`] on the deterministic
//!   simulation (`pithead_sim`), the only module that touches it.
//! - `mini_stack` (feature `mini-stack`): [`driver::Tier`] on real containers — the runtime's
//!   image against fake-daemon images on a real docker engine, started with `testcontainers`.
//! - `model` (either feature): one node as a scenario steers it, and the fake's mode for it.
//! - [`steps`]: `Given`/`When`/`Then` definitions, a few lines each, and their
//!   [`steps::Vocabulary`], which `xtask catalog` checks feature files against.
//! - [`world`]: the cucumber world, one tier driver per scenario.
//! - [`runner`]: which scenarios run on which tier, the writers, the report.
//!
//! The runner is `tests/catalog.rs` (`cargo test -p pithead-scenarios --test catalog`).
#![warn(missing_docs)]

pub mod alerts;
pub mod dashboard;
pub mod driver;
#[cfg(feature = "mini-stack")]
pub mod mini_stack;
#[cfg(any(feature = "sim", feature = "mini-stack"))]
pub mod model;
pub mod runner;
#[cfg(feature = "sim")]
pub mod sim_cli;
#[cfg(feature = "sim")]
pub mod sim_driver;
#[cfg(feature = "sim")]
pub mod sim_status;
#[cfg(feature = "sim")]
pub mod sim_xvb;
pub mod steps;
pub mod tags;
pub mod tiers;
pub mod world;

/// The Gherkin parser the runner reads feature files with (so `xtask catalog` parses them alike).
pub use cucumber::gherkin;
pub use world::CatalogWorld;

/// The seed of a world no scenario named (unit tests, ad-hoc use).
pub const DEFAULT_SEED: u64 = 7;

/// The seed of one scenario: a stable hash (FNV-1a) of the feature's and the scenario's names,
/// so every scenario replays on its own seed.
pub fn scenario_seed(feature: &str, scenario: &str) -> u64 {
    fnv1a(feature.bytes().chain([0]).chain(scenario.bytes()))
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_stable_and_differ_per_scenario() {
        assert_eq!(fnv1a(b"".iter().copied()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a".iter().copied()), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(scenario_seed("B", "one"), scenario_seed("B", "two"));
        assert_ne!(scenario_seed("B", "one"), scenario_seed("C", "one"));
        assert_eq!(scenario_seed("B", "one"), scenario_seed("B", "one"));
    }
}
