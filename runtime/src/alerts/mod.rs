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

mod client;
mod config;
mod heartbeat;
pub mod ntfy;
mod telegram;
mod url;
pub mod webhook;

pub use client::{BODY_LIMIT_BYTES, SEND_TIMEOUT};
pub use config::{
    toggle_var, AlertsConfig, NtfyConfig, TelegramConfig, HOST_MAX_LEN, TELEGRAM_DEFAULT_API_BASE,
};
pub use url::{is_private_ip, SinkUrl, SinkUrlError};

use std::sync::Arc;

use crate::io::{SharedConnector, TlsTrust, TrustError};
use crate::observe::SetupError;

/// Why the sinks cannot be set up from a configuration that parsed.
#[derive(Debug, thiserror::Error)]
pub enum AlertsSetupError {
    /// `ALERTS_CA_FILE` unreadable or not a PEM certificate (or no TLS provider at all).
    #[error("ALERTS_CA_FILE: {0}")]
    Trust(#[from] TrustError),
    /// `NTFY_TOKEN` cannot travel in a header (the configuration refuses such a token first).
    #[error("NTFY_TOKEN: not usable in an Authorization header")]
    NtfyToken,
}

/// The sinks and the heartbeat one configuration asks for.
#[derive(Default)]
pub struct Built {
    /// Every configured sink, in the reference's order (Telegram, webhooks, ntfy).
    pub sinks: Vec<Arc<dyn Sink>>,
    /// The heartbeat's endpoint, when `HEALTHCHECKS_PING_URL` is set.
    pub pinger: Option<Arc<dyn Pinger>>,
}

/// Builds the sinks and the heartbeat of `config`, dialling through `connector` (behind
/// `ALERTS_PROXY` when set; TLS for `https://` with Mozilla's roots plus `ALERTS_CA_FILE`).
/// Reads the CA file; dials nothing.
pub fn build(config: &AlertsConfig, connector: SharedConnector) -> Result<Built, SetupError> {
    let trust = match &config.ca_file {
        Some(path) => TlsTrust::webpki_and_ca_file(path),
        None => TlsTrust::webpki(),
    }
    .map_err(AlertsSetupError::from)?;
    let route = client::Route {
        connector,
        proxy: config.proxy.clone(),
        trust,
    };
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if let Some(telegram) = &config.telegram {
        sinks.push(Arc::new(telegram::TelegramSink::new(&route, telegram)));
    }
    for (i, url) in config.webhooks.iter().enumerate() {
        sinks.push(Arc::new(webhook::WebhookSink::new(
            &route,
            url,
            i + 1,
            config.webhook_secret.as_deref(),
        )));
    }
    if let Some(ntfy) = &config.ntfy {
        let sink = ntfy::NtfySink::new(&route, ntfy).ok_or(AlertsSetupError::NtfyToken)?;
        sinks.push(Arc::new(sink));
    }
    let pinger = config
        .healthchecks
        .as_ref()
        .map(|url| Arc::new(heartbeat::HealthchecksPinger::new(&route, url)) as Arc<dyn Pinger>);
    Ok(Built { sinks, pinger })
}
