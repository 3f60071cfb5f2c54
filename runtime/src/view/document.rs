//! The `/api/state` document: its types and the state shown before the first cycle.
//!
//! Field names and order are the JSON the dashboard, the CLI and the simulation read: a change
//! here is a change users see.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::control::{ChainProgress, Desired};

/// Colour class of a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BadgeVariant {
    /// Something is wrong.
    Bad,
    /// Attention.
    Warn,
    /// Neutral information.
    Outline,
}

/// A status badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// Text shown.
    pub text: String,
    /// Colour class.
    pub variant: BadgeVariant,
    /// Tooltip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Badge {
    pub(super) fn new(text: impl Into<String>, variant: BadgeVariant, title: Option<&str>) -> Self {
        Self {
            text: text.into(),
            variant,
            title: title.map(str::to_owned),
        }
    }
}

/// Per-chain progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSection {
    /// Monero.
    pub monero: ChainProgress,
    /// Tari.
    pub tari: ChainProgress,
}

/// The Monero node's storage facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneroSection {
    /// `Pruned`, `Full` or `Unknown` (a remote node).
    pub mode: &'static str,
    /// `"85.0 GB"` or `"—"`.
    pub db_size: String,
}

/// One node's health as the failover sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct NodeSection {
    /// Answered this cycle.
    pub reachable: bool,
    /// Counts as down (debounced).
    pub down: bool,
    /// Answered at least once since start.
    pub ever_up: bool,
}

/// Cycle bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CycleSection {
    /// Cycles completed since start.
    pub count: u64,
    /// Wall time of the last cycle's end, epoch ms.
    pub last_wall_ms: u64,
    /// Errors of the last cycle (docker calls refused, snapshot not written), human-readable.
    pub errors: Vec<String>,
}

/// The whole read model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiState {
    /// Any chain shown as syncing.
    pub syncing: bool,
    /// Per-chain progress.
    pub sync: SyncSection,
    /// Monero storage facts.
    pub monero: MoneroSection,
    /// The release latch.
    pub miner_released: bool,
    /// Workers rejected by the failover.
    pub workers_rejected: bool,
    /// The sync gate holds the miners now.
    pub miner_held: bool,
    /// Node health.
    pub nodes: BTreeMap<&'static str, NodeSection>,
    /// Managed containers: what the runtime wants.
    pub containers: BTreeMap<String, Desired>,
    /// Badges in display order.
    pub badges: Vec<Badge>,
    /// Cycle bookkeeping.
    pub cycle: CycleSection,
}

impl Default for ApiState {
    fn default() -> Self {
        let empty = ChainProgress::from_reading(None);
        Self {
            syncing: true,
            sync: SyncSection {
                monero: empty,
                tari: empty,
            },
            monero: MoneroSection {
                mode: "Unknown",
                db_size: "—".to_owned(),
            },
            miner_released: false,
            workers_rejected: false,
            miner_held: true,
            nodes: BTreeMap::new(),
            containers: BTreeMap::new(),
            badges: vec![Badge::new("Starting...", BadgeVariant::Warn, None)],
            cycle: CycleSection::default(),
        }
    }
}
