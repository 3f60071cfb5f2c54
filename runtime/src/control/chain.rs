//! What a chain node's reading means: whether it is still syncing, how far along it is, and what
//! a failed read of the Tari node leaves behind.
//!
//! The clients in [`crate::observe`] return what the daemons said (or a typed error); the rules
//! that interpret it live here, once each:
//! - the monerod sync rule ([`monero_is_syncing`], see `docs/decisions.md`);
//! - the Tari sync rule ([`tari_is_syncing`]);
//! - the percentage, through the gate's one rule ([`ChainProgress::from_reading`]: done at
//!   100, never 100 before done), so a client-side figure and the dashboard's never differ;
//! - the Tari stale-reading policy ([`TariLastGood`]): after one good reading a failed read
//!   repeats it flagged unreachable and stale, so a blip does not blank the progress; node
//!   health decides from `reachable` alone.

use serde::Serialize;

use super::{ChainProgress, ChainReading};
use crate::observe::monero::MoneroInfo;
use crate::observe::tari::{TariError, TariNodeState, TariReading};

/// Whether monerod is still catching up: *not* syncing ⇔ `synchronized`, or a known target
/// (`target_height > 0`) that the height has reached.
///
/// Deliberately stricter than the reference's "`target_height == 0` ⇒ synced": a real monerod
/// that has just started and has no peer yet answers `synchronized: false, target_height: 0,
/// height: 1` for a few seconds, which that rule reads as synced — the gate would release the
/// miners on an empty chain (caught by `runtime/tests/contract_real_monerod_runtime.rs`). A
/// synced node reports `synchronized: true`, so it needs no help from the target.
pub fn monero_is_syncing(info: &MoneroInfo) -> bool {
    let reached_target = info.target_height > 0 && info.height >= info.target_height;
    !(info.synchronized || reached_target)
}

/// Whether the Tari node is still catching up (anything but [`TariNodeState::Listening`]).
pub fn tari_is_syncing(reading: &TariReading) -> bool {
    reading.state != TariNodeState::Listening
}

/// monerod's sync progress as the gate and the dashboard show it.
pub fn monero_percent(info: &MoneroInfo) -> u8 {
    ChainProgress::from_reading(Some(monero_chain(info))).percent
}

/// The Tari node's sync progress as the gate and the dashboard show it (a node that still
/// says it syncs but has reached its tip is done: 100).
pub fn tari_percent(reading: &TariReading) -> u8 {
    ChainProgress::from_reading(Some(tari_chain(reading))).percent
}

/// monerod's reading as the sync gate takes it.
pub fn monero_chain(info: &MoneroInfo) -> ChainReading {
    let syncing = monero_is_syncing(info);
    ChainReading {
        height: info.height,
        // A synced node often reports target_height 0; show its own height as the target.
        // A syncing one with target 0 has no peer yet: the target is unknown (loading).
        target: if info.target_height == 0 && !syncing {
            info.height
        } else {
            info.target_height
        },
        syncing,
    }
}

/// The Tari node's reading as the sync gate takes it.
pub fn tari_chain(reading: &TariReading) -> ChainReading {
    ChainReading {
        height: reading.local_height,
        target: reading.tip_height,
        syncing: tari_is_syncing(reading),
    }
}

/// One cycle's view of the Tari node: the live reading, or the last good one repeated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariStatus {
    /// The node answered this cycle.
    pub reachable: bool,
    /// `reading` is the last good reading repeated, not a live one.
    pub stale: bool,
    /// What the node said (live, last good, or [`TariStatus::NO_READING`]).
    pub reading: TariReading,
}

impl TariStatus {
    /// What is shown before any good reading: starting, zero heights.
    pub const NO_READING: TariReading = TariReading {
        state: TariNodeState::Starting,
        local_height: 0,
        tip_height: 0,
        initial_sync_achieved: false,
        migration_percent: None,
    };

    /// Unreachable before any good reading.
    pub fn unreachable() -> Self {
        Self {
            reachable: false,
            stale: false,
            reading: Self::NO_READING,
        }
    }

    /// Still catching up ([`tari_is_syncing`] of the reading).
    pub fn is_syncing(&self) -> bool {
        tari_is_syncing(&self.reading)
    }

    /// Sync progress ([`tari_percent`] of the reading).
    pub fn percent(&self) -> u8 {
        tari_percent(&self.reading)
    }
}

/// The Tari stale-reading policy: keeps the last good reading and decides what a failed read
/// means (the node is unreachable this cycle; the last good reading stays on display, flagged
/// stale).
#[derive(Debug, Clone, Default)]
pub struct TariLastGood {
    last_good: Option<TariReading>,
}

impl TariLastGood {
    /// Folds one read into a status. Every error counts as unreachable, whatever its kind: a
    /// node that answers garbage or a refusal is no more usable than one that does not answer.
    pub fn observe(&mut self, read: &Result<TariReading, TariError>) -> TariStatus {
        match read {
            Ok(reading) => {
                self.last_good = Some(reading.clone());
                TariStatus {
                    reachable: true,
                    stale: false,
                    reading: reading.clone(),
                }
            }
            Err(_) => match &self.last_good {
                Some(cached) => TariStatus {
                    reachable: false,
                    stale: true,
                    reading: cached.clone(),
                },
                None => TariStatus::unreachable(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(height: u64, target_height: u64, synchronized: bool) -> MoneroInfo {
        MoneroInfo {
            height,
            target_height,
            synchronized,
            busy_syncing: false,
            offline: false,
            database_size: None,
            nettype: None,
            version: None,
            restricted: false,
        }
    }

    fn tari(state: TariNodeState, local_height: u64, tip_height: u64) -> TariReading {
        TariReading {
            state,
            local_height,
            tip_height,
            initial_sync_achieved: state == TariNodeState::Listening,
            migration_percent: None,
        }
    }

    #[test]
    fn monero_syncing_rule_and_its_edges() {
        assert!(monero_is_syncing(&info(100, 200, false)));
        assert_eq!(monero_percent(&info(100, 200, false)), 50);
        assert_eq!(monero_percent(&info(199, 200, false)), 99);
        // height == target with synchronized=false is NOT syncing.
        assert!(!monero_is_syncing(&info(200, 200, false)));
        assert_eq!(monero_percent(&info(200, 200, false)), 100);
        // target 0 without synchronized is a node with no peer yet: still syncing, 0 %.
        assert!(monero_is_syncing(&info(1, 0, false)));
        assert_eq!(monero_percent(&info(1, 0, false)), 0);
        // target 0 with synchronized is a synced node.
        assert!(!monero_is_syncing(&info(3_000, 0, true)));
        // synchronized wins even when height lags target (real monerod does this for a batch).
        assert!(!monero_is_syncing(&info(281, 301, true)));
        assert_eq!(monero_percent(&info(281, 301, true)), 100);
        assert_eq!(monero_percent(&info(0, 1, false)), 0);
        assert_eq!(monero_percent(&info(u64::MAX - 1, u64::MAX, false)), 99);
    }

    #[test]
    fn monero_chain_shows_a_synced_node_at_its_own_height() {
        let synced = monero_chain(&info(3_000, 0, true));
        assert_eq!((synced.target, synced.syncing), (3_000, false));
        let fresh = monero_chain(&info(1, 0, false));
        assert_eq!((fresh.target, fresh.syncing), (0, true));
    }

    #[test]
    fn tari_shows_100_only_when_done() {
        assert_eq!(tari_percent(&tari(TariNodeState::Listening, 500, 500)), 100);
        // Still "syncing" at its tip: done, as the gate counts it (domain §3).
        assert_eq!(tari_percent(&tari(TariNodeState::Syncing, 5000, 5000)), 100);
        assert_eq!(tari_percent(&tari(TariNodeState::Syncing, 4999, 5000)), 99);
        assert_eq!(tari_percent(&tari(TariNodeState::Syncing, 2500, 5000)), 50);
        assert_eq!(tari_percent(&tari(TariNodeState::Syncing, 10, 0)), 0);
        assert!(tari_is_syncing(&tari(TariNodeState::Failed, 7, 0)));
        let chain = tari_chain(&tari(TariNodeState::Migrating, 3, 9));
        assert_eq!((chain.height, chain.target, chain.syncing), (3, 9, true));
    }

    #[test]
    fn a_failed_tari_read_repeats_the_last_good_reading_flagged_stale() {
        let error = || {
            Err(TariError::Transport(crate::io::TransportError::Timeout {
                target: crate::io::Target::new("tari", 18142),
                timeout: std::time::Duration::from_secs(10),
            }))
        };
        let mut policy = TariLastGood::default();
        let before = policy.observe(&error());
        assert_eq!(before, TariStatus::unreachable());
        assert_eq!((before.reading.local_height, before.percent()), (0, 0));

        let good = tari(TariNodeState::Syncing, 30, 100);
        let live = policy.observe(&Ok(good.clone()));
        assert!(live.reachable && !live.stale);
        let stale = policy.observe(&error());
        assert!(!stale.reachable && stale.stale);
        assert_eq!(stale.reading, good);
        assert_eq!(stale.percent(), 30);
        // A syncing node's repeated reading still shows it syncing, live or stale.
        assert!(live.is_syncing() && stale.is_syncing());
        let back = policy.observe(&Ok(tari(TariNodeState::Listening, 100, 100)));
        assert!(back.reachable && !back.stale && !back.is_syncing());
    }
}
