//! One alert, as every sink receives it.

use serde::{Deserialize, Serialize};

/// What happened. The wire name ([`EventKey::as_str`]) is the reference stack's event key
/// where one exists, so `TELEGRAM_EVENT_<KEY>` toggles keep their meaning; a recovery shares
/// its problem's key where the reference does (`disk_space`, `db_unhealthy`,
/// `container_unhealthy`, `hashrate_low`) and carries [`Severity::Info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKey {
    /// A required node is down (per chain; the text names it).
    NodeDown,
    /// A down node is back.
    NodeRecovered,
    /// The workers were rejected (xmrig-proxy stopped: miners fail over to backup pools).
    WorkersRejected,
    /// The workers were readmitted.
    WorkersReadmitted,
    /// The chains synced and the miners were released (once per release).
    SyncFinished,
    /// A container turned unhealthy, or recovered.
    ContainerUnhealthy,
    /// The data disk crossed the warn or critical level, or fell back below warn.
    DiskSpace,
    /// The history database stopped accepting writes, or accepts them again.
    DbUnhealthy,
    /// The chosen XvB tier cannot be sustained, or can again.
    HashrateLow,
    /// `pithead test-alert`'s message.
    Test,
    /// Alerts a sink's rate limit held back, folded into one message (the outbox's).
    Summary,
}

impl EventKey {
    /// Every key, in a stable order (toggles, counters, docs).
    pub const ALL: [EventKey; 11] = [
        Self::NodeDown,
        Self::NodeRecovered,
        Self::WorkersRejected,
        Self::WorkersReadmitted,
        Self::SyncFinished,
        Self::ContainerUnhealthy,
        Self::DiskSpace,
        Self::DbUnhealthy,
        Self::HashrateLow,
        Self::Test,
        Self::Summary,
    ];

    /// The wire name: the webhook's `event`, an ntfy tag, the Telegram text's closing
    /// hashtag, the `TELEGRAM_EVENT_<KEY>` toggle (upper-cased).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NodeDown => "node_down",
            Self::NodeRecovered => "node_recovered",
            Self::WorkersRejected => "workers_rejected",
            Self::WorkersReadmitted => "workers_readmitted",
            Self::SyncFinished => "sync_finished",
            Self::ContainerUnhealthy => "container_unhealthy",
            Self::DiskSpace => "disk_space",
            Self::DbUnhealthy => "db_unhealthy",
            Self::HashrateLow => "hashrate_low",
            Self::Test => "test",
            Self::Summary => "summary",
        }
    }

    /// The key whose wire name is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for EventKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How loud an alert is: ntfy's `Priority`, the webhook's `severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something recovered, or a notice.
    Info,
    /// Needs attention soon.
    Warning,
    /// Mining or the box is affected now.
    Critical,
}

impl Severity {
    /// The wire name (`info`, `warning`, `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// One alert, as every sink receives it.
///
/// Wire contract, relied on by the sinks and by the recording fakes' assertions: `text` is one
/// line, prefixed `[HOST] ` when a host is configured, and ends with ` #<key>` (a Telegram
/// hashtag an operator can tap to see every alert of that kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// What happened.
    pub key: EventKey,
    /// How loud.
    pub severity: Severity,
    /// The one-line message (see the wire contract above).
    pub text: String,
    /// The configured host name (`ALERTS_HOST`, else `HOST_IP`), when set.
    pub host: Option<String>,
    /// When the edge was seen: unix seconds (the webhook's `ts`).
    pub at_unix: i64,
}
