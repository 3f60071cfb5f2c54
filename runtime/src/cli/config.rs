//! `config.json`: the operator's one file, as a serde schema with every key's default.
//!
//! A key left out keeps its default, so a minimal file names only the wallet addresses. The
//! choice-valued keys (`monero.mode`, `p2pool.pool`, ...) are plain strings here: their exact
//! refusal messages belong to [`super::validate`], which turns this document into typed
//! [`super::validate::Settings`].

use serde::{Deserialize, Serialize};

/// Keys whose values are credentials: never echoed in a message.
pub const SECRET_KEYS: &[&str] = &[
    "monero.node_password",
    "dashboard.auth.password",
    "telegram.bot_token",
    "notifications.ntfy.token",
    // Webhook and heartbeat URLs carry their own tokens (Slack, Discord, healthchecks.io).
    "notifications.webhooks",
    "notifications.ntfy.url",
    "healthchecks.ping_url",
];

/// Whether `key` (a dotted path, list items as `key[N]`) holds a credential.
pub fn is_secret(key: &str) -> bool {
    let base = key.split('[').next().unwrap_or(key);
    SECRET_KEYS.contains(&base)
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    /// A stamp the reference installer writes; read and ignored.
    pub config_version: String,
    /// P2Pool.
    pub p2pool: P2pool,
    /// The XvB raffle engine.
    pub xvb: Xvb,
    /// The Monero node and payout wallet.
    pub monero: Monero,
    /// The Tari node and payout wallet.
    pub tari: Tari,
    /// The dashboard behind Caddy.
    pub dashboard: Dashboard,
    /// Outbound liveness heartbeat.
    pub healthchecks: Healthchecks,
    /// Telegram alerts.
    pub telegram: Telegram,
    /// Webhook and ntfy alerts.
    pub notifications: Notifications,
}

/// `p2pool.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct P2pool {
    /// `main`, `mini` or `nano`: the sidechain.
    pub pool: String,
    /// Where miners connect (xmrig-proxy's stratum port).
    pub stratum_port: u16,
}

impl Default for P2pool {
    fn default() -> Self {
        Self {
            pool: "mini".into(),
            stratum_port: 3333,
        }
    }
}

/// `xvb.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Xvb {
    /// The engine on or off.
    pub enabled: bool,
    /// XvB's stratum `host:port`.
    pub url: String,
    /// `auto` or the donor id XvB registered.
    pub donor_id: String,
    /// `auto` or a fixed tier.
    pub donation_level: String,
    /// Where the donor's stats are read (`https://`, or an `http://` stand-in).
    pub api_url: String,
    /// Read XvB through the stack's Tor (`socks5h://tor:9050`), as the reference stack does.
    pub tor: bool,
    /// A PEM file of extra CAs for `api_url`, as the dashboard container sees it (the stack's
    /// `data/dashboard/` is its `/data/`); blank ⇒ Mozilla's roots only.
    pub ca_file: String,
}

impl Default for Xvb {
    fn default() -> Self {
        Self {
            enabled: true,
            url: "na.xmrvsbeast.com:4247".into(),
            donor_id: "auto".into(),
            donation_level: "auto".into(),
            api_url: "https://xmrvsbeast.com".into(),
            tor: true,
            ca_file: String::new(),
        }
    }
}

/// `monero.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Monero {
    /// The primary address p2pool pays (starts with 4).
    pub wallet_address: String,
    /// `local` (the box's own monerod) or `remote`.
    pub mode: String,
    /// RPC login; blank on a local node ⇒ generated.
    pub node_username: String,
    /// RPC password; blank on a local node ⇒ generated (32 alphanumerics).
    pub node_password: String,
    /// A pruned local node.
    pub prune: bool,
    /// Bind the local node's RPC on every interface instead of loopback.
    pub rpc_lan_access: bool,
    /// The node used when `mode` is `remote`.
    pub remote: MoneroRemote,
}

impl Default for Monero {
    fn default() -> Self {
        Self {
            wallet_address: String::new(),
            mode: "local".into(),
            node_username: String::new(),
            node_password: String::new(),
            prune: true,
            rpc_lan_access: false,
            remote: MoneroRemote::default(),
        }
    }
}

/// `monero.remote.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MoneroRemote {
    /// Host name or address.
    pub host: String,
    /// RPC port.
    pub rpc_port: u16,
}

impl Default for MoneroRemote {
    fn default() -> Self {
        Self {
            host: String::new(),
            rpc_port: 18081,
        }
    }
}

/// `tari.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tari {
    /// The Tari address merge-mined rewards go to.
    pub wallet_address: String,
    /// `local`, `remote` or `off`.
    pub mode: String,
    /// The node used when `mode` is `remote`.
    pub remote: TariRemote,
}

impl Default for Tari {
    fn default() -> Self {
        Self {
            wallet_address: String::new(),
            mode: "local".into(),
            remote: TariRemote::default(),
        }
    }
}

/// `tari.remote.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TariRemote {
    /// Host name or address.
    pub host: String,
    /// gRPC port.
    pub grpc_port: u16,
}

impl Default for TariRemote {
    fn default() -> Self {
        Self {
            host: String::new(),
            grpc_port: 18142,
        }
    }
}

/// `dashboard.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dashboard {
    /// `https` with Caddy's own CA (`tls internal`) instead of plain `http`.
    pub secure: bool,
    /// The site name Caddy answers for; `auto` answers any name.
    pub host: String,
    /// Basic auth in front of the dashboard.
    pub auth: DashboardAuth,
    /// Tari must be synced before release, and its outage rejects workers.
    pub tari_required: bool,
    /// Percent of the baseline hashrate below which a loss alert fires.
    pub hashrate_drop_threshold: u8,
    /// Minutes below the threshold before it fires.
    pub hashrate_drop_minutes: u32,
}

impl Default for Dashboard {
    fn default() -> Self {
        Self {
            secure: true,
            host: "auto".into(),
            auth: DashboardAuth::default(),
            tari_required: true,
            hashrate_drop_threshold: 50,
            hashrate_drop_minutes: 10,
        }
    }
}

/// `dashboard.auth.*`: basic auth is on when the password is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DashboardAuth {
    /// Login name.
    pub username: String,
    /// Password; blank ⇒ no basic auth.
    pub password: String,
}

impl Default for DashboardAuth {
    fn default() -> Self {
        Self {
            username: "admin".into(),
            password: String::new(),
        }
    }
}

/// `healthchecks.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Healthchecks {
    /// The heartbeat URL; blank ⇒ off.
    pub ping_url: String,
}

/// The alert events Telegram can toggle one by one (all on by default).
pub const TELEGRAM_EVENTS: &[&str] = &[
    "node_down",
    "node_recovered",
    "worker_offline",
    "worker_recovered",
    "worker_joined",
    "worker_left",
    "sync_finished",
    "disk_space",
    "db_unhealthy",
    "db_reset",
    "xvb_no_share",
    "clearnet_exposed",
    "xvb_registration",
    "new_release",
    "stack_online",
    "daily_summary",
    "hashrate_low",
    "hashrate_loss",
    "hugepages",
    "low_ram",
    "wallet_changed",
    "high_reject_rate",
    "block_found",
    "payout_found",
    "payout_confirmed",
    "container_unhealthy",
    "raffle_win",
];

/// `telegram.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Telegram {
    /// The sink on or off.
    pub enabled: bool,
    /// The bot's token.
    pub bot_token: String,
    /// The chat the bot posts to.
    pub chat_id: String,
    /// Per-event toggles (Telegram only).
    pub events: std::collections::BTreeMap<String, bool>,
    /// `HH:MM` of the daily digest.
    pub daily_summary_time: String,
}

impl Default for Telegram {
    fn default() -> Self {
        Self {
            enabled: false,
            bot_token: String::new(),
            chat_id: String::new(),
            events: TELEGRAM_EVENTS
                .iter()
                .map(|e| ((*e).to_owned(), true))
                .collect(),
            daily_summary_time: "08:00".into(),
        }
    }
}

/// `notifications.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notifications {
    /// Webhook URLs, each POSTed every event.
    pub webhooks: Vec<String>,
    /// ntfy topic.
    pub ntfy: Ntfy,
    /// Send webhook and ntfy traffic through Tor.
    pub tor: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            ntfy: Ntfy::default(),
            tor: true,
        }
    }
}

/// `notifications.ntfy.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Ntfy {
    /// The topic URL; blank ⇒ off.
    pub url: String,
    /// Bearer token, optional.
    pub token: String,
}
