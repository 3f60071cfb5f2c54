//! The `/api/state` document: its types and the state shown before the first cycle.
//!
//! Field names and order are the JSON the dashboard, the CLI and the simulation read: a change
//! here is a change users see.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::control::alerts::{HeartbeatStatus, OutboxCounters};
use crate::control::verdicts::Verdict;
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

/// The last switch of xmrig-proxy's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XvbSwitch {
    /// When it was tried, epoch ms.
    pub wall_ms: u64,
    /// `xvb` or `p2pool`.
    pub to: &'static str,
    /// It landed (xmrig-proxy answered 204).
    pub ok: bool,
}

/// The XvB engine's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XvbSection {
    /// `XVB_ENABLED`.
    pub enabled: bool,
    /// `P2POOL`, `XVB` or `SPLIT`.
    pub mode: &'static str,
    /// Where the hashrate goes now: `xvb`, `p2pool`, or `unknown` before the first switch.
    pub pool: &'static str,
    /// The guard that forces P2Pool, if any.
    pub guard: Option<&'static str>,
    /// The tier XvB's averages meet now.
    pub current_tier: Option<&'static str>,
    /// The tier steered to.
    pub target_tier: Option<&'static str>,
    /// The donated fraction in force.
    pub fraction: f64,
    /// XvB's 1 h average of the donated hashrate, H/s.
    pub avg_1h: Option<f64>,
    /// XvB's 24 h average, H/s.
    pub avg_24h: Option<f64>,
    /// XvB's fail counter.
    pub fail_count: Option<u64>,
    /// The last switch tried.
    pub last_switch: Option<XvbSwitch>,
    /// Switches that failed since start.
    pub switch_failures: u64,
    /// XvB's stats are stale.
    pub stale: bool,
}

/// The whole read model.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The XvB engine (absent before the first cycle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xvb: Option<XvbSection>,
    /// Cycle bookkeeping.
    pub cycle: CycleSection,
    /// The stack's container health verdicts, the rows `pithead status` prints (absent until
    /// the engine answered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Verdict>,
    /// The host: CPU, memory and disk levels, HugePages.
    pub system: SystemSection,
    /// xmrig-proxy's workers, online first, at most [`super::WORKERS_SHOWN`] rows.
    pub workers: Vec<WorkerRow>,
    /// Every worker in xmrig-proxy's list (`workers` may show fewer).
    pub workers_total: u64,
    /// Workers online (connected to xmrig-proxy).
    pub proxy_workers: u64,
    /// The fleet's hashrate, H/s: the sum of the workers' 15-minute figures.
    pub hashrate: f64,
    /// The hashrate chart, with outage breaks (filled per request from the history).
    pub chart: ChartSection,
    /// The history database takes writes.
    pub db_healthy: bool,
    /// The alert sinks' deliveries and the heartbeat.
    pub alerts: AlertsSection,
}

/// One alert sink's deliveries. Never a URL, a token or a chat id: the label is the sink's
/// kind and position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertSinkRow {
    /// `telegram`, `webhook#2`, `ntfy`.
    pub label: String,
    /// `telegram`, `webhook` or `ntfy`.
    pub kind: &'static str,
    /// Sent, retried, dropped, queued, the last error's class.
    #[serde(flatten)]
    pub counters: OutboxCounters,
}

/// The alert sinks and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AlertsSection {
    /// One row per configured sink, in the configuration's order.
    pub sinks: Vec<AlertSinkRow>,
    /// The heartbeat (`enabled: false` without `HEALTHCHECKS_PING_URL`).
    pub heartbeat: HeartbeatStatus,
}

/// One host figure's level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelSection {
    /// Percent in use, when read.
    pub percent: Option<f64>,
    /// `high` above 80 %, `ok` otherwise, `unknown` when not read.
    pub level: &'static str,
}

/// HugePages as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HugePagesSection {
    /// `on`, `off` or `unknown`.
    pub status: &'static str,
    /// `"<free>/<total> free"`, `"0"` or `"—"`.
    pub value: String,
    /// Badge colour: `ok`, `warn` (off) or `outline` (unknown).
    pub variant: &'static str,
}

/// The host's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSection {
    /// CPU busy.
    pub cpu: LevelSection,
    /// Memory in use.
    pub mem: LevelSection,
    /// The data disk in use.
    pub disk: LevelSection,
    /// HugePages.
    pub hugepages: HugePagesSection,
}

/// One worker row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerRow {
    /// The worker's name as xmrig-proxy groups it.
    pub name: String,
    /// `online` (connected) or `offline`.
    pub status: &'static str,
    /// `p2pool`, `xvb` or `unknown` (offline, or before the first XvB switch).
    pub pool: &'static str,
    /// Short average, H/s (xmrig-proxy's 10-minute window, its nearest to 15 minutes).
    pub h15: f64,
    /// 1-hour average, H/s.
    pub h60: f64,
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares.
    pub rejected: u64,
}

/// One chart point: `x` epoch ms, `y` H/s or `null` for an outage break.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChartPoint {
    /// Epoch ms.
    pub x: u64,
    /// H/s; `None` breaks the line.
    pub y: Option<f64>,
}

/// The hashrate chart.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ChartSection {
    /// Hashrate sent to P2Pool.
    pub p2pool: Vec<ChartPoint>,
    /// Hashrate sent to XvB.
    pub xvb: Vec<ChartPoint>,
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
            xvb: None,
            cycle: CycleSection::default(),
            services: Vec::new(),
            system: super::system::section(&crate::observe::system::SystemReading::default()),
            workers: Vec::new(),
            workers_total: 0,
            proxy_workers: 0,
            hashrate: 0.0,
            chart: ChartSection::default(),
            db_healthy: true,
            alerts: AlertsSection::default(),
        }
    }
}
