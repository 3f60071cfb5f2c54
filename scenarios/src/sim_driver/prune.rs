//! Section A's prune outline on the simulation: config.json's `monero.prune` goes through
//! `pithead apply -y` (the CLI's library, [`CliStack`](crate::sim_cli::CliStack)), the runtime
//! boots from the `.env` it rendered, and the fake monerod holds the chain a node handed that
//! `MONERO_PRUNE` would hold. What the dashboard then reports is the runtime's own reading.
//!
//! The monerod here is a fake: the pruning itself is the image's entrypoint's (it reads
//! `MONERO_PRUNE`), which the live tier proves on a box; this tier proves the rendered flag, the
//! runtime's size reading and the mode and badge it derives.

use pithead_fakes::monerod::DEFAULT_DATABASE_SIZE;

use super::SimTier;
use crate::driver::{db_size_fits, LiveFact, LiveOutcome, TierError};

/// A full mainnet chain's database (about 250 GB in 2026).
const FULL_DATABASE_SIZE: u64 = 230 * 1024 * 1024 * 1024;

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), TierError> {
    if ok {
        Ok(())
    } else {
        Err(TierError::Check(what()))
    }
}

/// Whether a step is this module's; the others are the live tier's.
pub(super) fn handles_fact(fact: &LiveFact) -> bool {
    matches!(fact, LiveFact::Override { path, value } if path == "monero.prune" && value.is_boolean())
}

/// Whether an outcome is this module's.
pub(super) fn handles_outcome(outcome: &LiveOutcome) -> bool {
    matches!(
        outcome,
        LiveOutcome::MonerodPruning { .. }
            | LiveOutcome::DbSizeInRange { .. }
            | LiveOutcome::MoneroMode(_)
    )
}

impl SimTier {
    /// Given: the baseline config.json with `monero.prune` set.
    pub(super) fn prune_given(&mut self, fact: LiveFact) -> Result<(), TierError> {
        let LiveFact::Override { path, value } = fact else {
            return Err(TierError::Scenario(format!(
                "not a prune override: {fact:?}"
            )));
        };
        self.cli_stack()?.set_value(&path, value);
        self.prune_scenario = true;
        Ok(())
    }

    /// When: `pithead apply -y`, then the runtime boots from the rendered `.env` and runs a
    /// cycle against a monerod holding the chain that `.env` asks for.
    pub(super) fn prune_apply(&mut self) -> Result<(), TierError> {
        let cli = self.cli_stack()?;
        cli.apply_now()?;
        let rendered = |key: &str| -> Result<String, TierError> {
            Ok(cli.env_value(key)?.unwrap_or_default())
        };
        let prune = rendered("MONERO_PRUNE")?;
        let node = rendered("MONERO_NODE_HOST")?;
        self.set_env(&[
            ("MONERO_PRUNE", prune.clone()),
            ("MONERO_NODE_HOST", node),
            ("LOCAL_MONERO_HOST", "monerod".to_owned()),
        ])?;
        // What a monerod started with this flag would hold once synced.
        let bytes = if prune == "1" {
            DEFAULT_DATABASE_SIZE
        } else {
            FULL_DATABASE_SIZE
        };
        let world = self.booted()?;
        let _ = world.monerod().clone().with_database_size(bytes);
        self.dashboard_when_sim(crate::dashboard::DashboardEvent::Refresh)
    }

    /// Then: the rendered flag, the size the runtime read, the mode and badge it derived.
    pub(super) fn prune_expect(&mut self, outcome: &LiveOutcome) -> Result<(), TierError> {
        match outcome {
            LiveOutcome::MonerodPruning { enabled } => {
                let seen = self.cli_stack()?.env_value("MONERO_PRUNE")?;
                let wanted = if *enabled { "1" } else { "0" };
                check(seen.as_deref() == Some(wanted), || {
                    format!("the rendered .env hands monerod MONERO_PRUNE={seen:?}, expected {wanted:?}")
                })
            }
            LiveOutcome::DbSizeInRange { pruned } => {
                let world = self.booted()?;
                let size = world.state().monero.db_size.clone();
                db_size_fits(&size, *pruned).map_err(TierError::Check)
            }
            LiveOutcome::MoneroMode(mode) => {
                let world = self.booted()?;
                let state = world.state();
                let badge = format!("XMR {mode}");
                let prune_badges: Vec<&str> = state
                    .badges
                    .iter()
                    .map(|b| b.text.as_str())
                    .filter(|t| t.starts_with("XMR "))
                    .collect();
                check(
                    state.monero.mode == mode && prune_badges == [badge.as_str()],
                    || {
                        format!(
                            "monero.mode {:?} with the badges {prune_badges:?}, expected {mode:?} \
                             with {badge:?}",
                            state.monero.mode
                        )
                    },
                )
            }
            other => Err(TierError::Scenario(format!(
                "not a prune outcome: {other:?}"
            ))),
        }
    }
}
