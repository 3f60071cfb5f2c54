//! The `.env` diff `pithead apply` shows before it acts: each changed key classified INFO,
//! CONFIRM or DESTRUCTIVE with a one-line description. Secret values show as changed, never
//! printed.

use std::fmt;

use super::env_file::{is_secret_env, EnvFile};
use super::stack_dir::RearmScope;

/// How much a change needs the operator's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Applied without asking.
    Info,
    /// Asks `Proceed with applying these changes? (y/N):` unless `-y`.
    Confirm,
    /// Loses data (pruned → full re-syncs the chain from scratch); asks like CONFIRM.
    Destructive,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Info => "INFO",
            Class::Confirm => "CONFIRM",
            Class::Destructive => "DESTRUCTIVE",
        })
    }
}

/// One changed `.env` key.
#[derive(Clone, PartialEq, Eq)]
pub struct Change {
    /// The key.
    pub key: String,
    /// Old value (`None`: not set before).
    pub old: Option<String>,
    /// New value (`None`: no longer set).
    pub new: Option<String>,
    /// Its class.
    pub class: Class,
    /// What it does, in one line.
    pub description: &'static str,
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

fn shown(value: &Option<String>) -> String {
    match value {
        None => "(unset)".into(),
        Some(v) => format!("\"{v}\""),
    }
}

impl fmt::Display for Change {
    /// `[CONFIRM] P2POOL_FLAGS: "--mini" → "--nano" — p2pool moves to another sidechain ...`;
    /// a secret reads `changed (value hidden)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if is_secret_env(&self.key) {
            "changed (value hidden)".to_owned()
        } else {
            format!("{} → {}", shown(&self.old), shown(&self.new))
        };
        write!(
            f,
            "[{}] {}: {what} — {}",
            self.class, self.key, self.description
        )
    }
}

/// The class and description of a change of `key` from `old` to `new`.
pub fn classify(key: &str, old: Option<&str>, new: Option<&str>) -> (Class, &'static str) {
    use Class::*;
    match key {
        "MONERO_PRUNE" if old == Some("1") && new == Some("0") => (
            Destructive,
            "monerod switches from pruned to full: the chain re-syncs from scratch",
        ),
        "MONERO_PRUNE" => (
            Confirm,
            "monerod prunes its chain database: slow, and the miners wait for the node",
        ),
        "COMPOSE_PROFILES" => (
            Confirm,
            "a local node is added or removed: its container is created or stopped",
        ),
        "MONERO_NODE_HOST" | "MONERO_RPC_PORT" => (
            Confirm,
            "the Monero node changes: the miners are held again until the chains are synced",
        ),
        "TARI_GRPC_ADDRESS" => (
            Confirm,
            "the Tari node changes: where Tari gates mining (TARI_REQUIRED), the miners are held again until Tari is synced",
        ),
        "P2POOL_FLAGS" => (
            Confirm,
            "p2pool moves to another sidechain: shares on the current one stop counting",
        ),
        "MONERO_RPC_USER" => (Info, "the Monero RPC login changes"),
        "MONERO_WALLET_ADDRESS" | "TARI_WALLET_ADDRESS" => {
            (Confirm, "payouts go to a different wallet address")
        }
        "MONERO_RPC_BIND" if new == Some("0.0.0.0") => {
            (Confirm, "monerod's RPC becomes reachable from the LAN")
        }
        "MONERO_RPC_BIND" => (Info, "monerod's RPC is reachable from this host only"),
        "STRATUM_PORT" => (Confirm, "miners must connect to the new stratum port"),
        "PROXY_AUTH_TOKEN" | "MONERO_RPC_PASSWORD" | "WALLET_RPC_PASSWORD" => (
            Info,
            "an internal credential changes; its containers are recreated",
        ),
        "DASHBOARD_SECURE" | "DASHBOARD_PORT" => (
            Info,
            "the dashboard's address changes (https on 443 or http on 80)",
        ),
        "DASHBOARD_AUTH_USER" | "DASHBOARD_AUTH_HASH" => (Info, "the dashboard login changes"),
        "TARI_REQUIRED" => (Info, "whether Tari must be synced and healthy for mining"),
        "XVB_ENABLED" => (Info, "the XvB engine is switched on or off"),
        k if k.starts_with("XVB_") => (Info, "an XvB setting changes"),
        k if k.starts_with("TELEGRAM_")
            || k.starts_with("NOTIFY_")
            || k.starts_with("NTFY_")
            || k.starts_with("ALERTS_") =>
        {
            (Info, "an alert setting changes")
        }
        "HEALTHCHECKS_PING_URL" => (Info, "the heartbeat URL changes"),
        k if k.ends_with("_ONION") => (Info, "an onion address changes"),
        _ => (Info, "setting changes"),
    }
}

/// Every key whose value differs between `old` and `new`, in `new`'s order then removed keys.
pub fn diff(old: &EnvFile, new: &EnvFile) -> Vec<Change> {
    let local_node = new
        .get("COMPOSE_PROFILES")
        .is_some_and(|p| p.split(',').any(|p| p == "local_node"));
    let mut out = Vec::new();
    let mut push = |key: &str, o: Option<&str>, n: Option<&str>| {
        if o != n {
            let (class, description) = if key == "MONERO_PRUNE" && !local_node {
                // No local chain to lose or rewrite.
                (Class::Info, "pruning applies to a local node only")
            } else {
                classify(key, o, n)
            };
            out.push(Change {
                key: key.to_owned(),
                old: o.map(str::to_owned),
                new: n.map(str::to_owned),
                class,
                description,
            });
        }
    };
    for (k, v) in new.entries() {
        push(k, old.get(k), Some(v));
    }
    for (k, v) in old.entries() {
        if new.get(k).is_none() {
            push(k, Some(v), None);
        }
    }
    out
}

/// The strongest class among `changes` (INFO when empty).
pub fn strongest(changes: &[Change]) -> Class {
    changes.iter().map(|c| c.class).max().unwrap_or(Class::Info)
}

/// Whether the changes move a node endpoint, so the runtime's gate must hold again.
pub fn rearm(changes: &[Change]) -> Option<RearmScope> {
    let changed = |key: &str| changes.iter().any(|c| c.key == key);
    if changed("MONERO_NODE_HOST") || changed("MONERO_RPC_PORT") {
        Some(RearmScope::All)
    } else if changed("TARI_GRPC_ADDRESS") {
        Some(RearmScope::Tari)
    } else {
        None
    }
}
