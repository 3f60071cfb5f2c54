//! `pithead test-alert`: one test message through every sink the stack's `.env` configures,
//! and one line per sink saying how it went.
//!
//! Lines, in the runtime's sink order (Telegram, webhooks, ntfy):
//! `telegram: PASS`, `webhook#2: FAIL (HTTP 404)`, `ntfy: FAIL (timeout)`,
//! `ntfy: not configured` (and `webhook: not configured` when there is no webhook). A failure
//! names its class only (`HTTP <code>`, `timeout`, `connection error`): never a URL, a token
//! or a chat id. The heartbeat is never pinged. Exit code: 0 when no sink failed (nothing
//! configured included), 1 on any FAIL; a `.env` the runtime would refuse is the command's
//! own failure (2, from the binary).

use futures::future::join_all;

use crate::alerts::{self, AlertsConfig, SendError, SinkKind};
use crate::control::alerts::{Alert, EventKey, Severity};
use crate::io::{Clock, SharedConnector};

use super::env_file::EnvFile;

/// Why the test cannot run at all.
#[derive(Debug, thiserror::Error)]
pub enum TestAlertError {
    /// The `.env` holds a value the runtime would refuse (the message names the variable and
    /// never the secret).
    #[error(".env: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The sinks cannot be set up (`ALERTS_CA_FILE`).
    #[error(".env: {0}")]
    Setup(#[from] crate::observe::SetupError),
}

/// How one sink did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The sink answered 2xx.
    Pass,
    /// The attempt failed; the class only.
    Fail(SendError),
    /// Not configured in `.env`.
    NotConfigured,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `telegram`, `webhook#N` (`webhook` when none is configured), `ntfy`.
    pub label: String,
    /// How it went.
    pub outcome: Outcome,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            Outcome::Pass => write!(f, "{}: PASS", self.label),
            Outcome::Fail(why) => write!(f, "{}: FAIL ({why})", self.label),
            Outcome::NotConfigured => write!(f, "{}: not configured", self.label),
        }
    }
}

/// The test message: one line, `[HOST] ` first when a host is configured, ` #test` last.
pub fn test_alert(config: &AlertsConfig, at_unix: i64) -> Alert {
    let prefix = config
        .host
        .as_ref()
        .map(|h| format!("[{h}] "))
        .unwrap_or_default();
    Alert {
        key: EventKey::Test,
        severity: Severity::Info,
        text: format!("{prefix}🔔 Pithead test alert: this sink delivers. #test"),
        host: config.host.clone(),
        at_unix,
    }
}

/// The `ALERTS_PROXY` host of `env` when it is a name this host may not resolve (the stack's
/// `tor`, reachable by name only inside the stack's network): the binary then dials the
/// container's address instead ([`ContainerRoute`]), so the test takes the route the runtime's
/// alerts take, never a direct one.
pub fn proxy_host(env: &EnvFile) -> Option<(String, u16)> {
    let config =
        AlertsConfig::from_lookup(&|name: &str| env.get(name).map(|v| v.trim().to_owned())).ok()?;
    let target = config.proxy?.target().clone();
    if target.host().parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    Some((target.host().to_owned(), target.port()))
}

/// Dials `name` at `address` (a container's IP), every other host through `inner`.
pub struct ContainerRoute {
    /// The name the proxy URL uses.
    pub name: String,
    /// Where that container answers from this host.
    pub address: std::net::IpAddr,
    /// Every other dial.
    pub inner: SharedConnector,
}

impl crate::io::Connector for ContainerRoute {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::io::Result<crate::io::BoxedStream>>
                + Send
                + 'static,
        >,
    > {
        if host == self.name {
            self.inner.connect(&self.address.to_string(), port)
        } else {
            self.inner.connect(host, port)
        }
    }
}

/// Reads the alert variables of `env`, sends the test message through every configured sink
/// at once (each bounded by [`alerts::SEND_TIMEOUT`]) and reports one line per sink.
pub async fn run(
    env: &EnvFile,
    connector: SharedConnector,
    clock: &dyn Clock,
) -> Result<Vec<Line>, TestAlertError> {
    let config =
        AlertsConfig::from_lookup(&|name: &str| env.get(name).map(|v| v.trim().to_owned()))?;
    let built = alerts::build(&config, connector)?;
    let at_unix = i64::try_from(clock.wall_ms() / 1000).unwrap_or(i64::MAX);
    let alert = test_alert(&config, at_unix);
    let results = join_all(built.sinks.iter().map(|sink| {
        let alert = &alert;
        async move {
            let outcome = match sink.send(alert).await {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            };
            (sink.kind(), sink.label(), outcome)
        }
    }))
    .await;
    let mut lines = Vec::new();
    for kind in [SinkKind::Telegram, SinkKind::Webhook, SinkKind::Ntfy] {
        let mut any = false;
        for (_, label, outcome) in results.iter().filter(|(k, _, _)| *k == kind) {
            any = true;
            lines.push(Line {
                label: label.clone(),
                outcome: outcome.clone(),
            });
        }
        if !any {
            lines.push(Line {
                label: kind.as_str().to_owned(),
                outcome: Outcome::NotConfigured,
            });
        }
    }
    Ok(lines)
}

/// The exit code of a report: 1 when any sink failed, else 0.
pub fn exit_code(lines: &[Line]) -> u8 {
    u8::from(lines.iter().any(|l| matches!(l.outcome, Outcome::Fail(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_exit_code() {
        let lines = vec![
            Line {
                label: "telegram".into(),
                outcome: Outcome::Pass,
            },
            Line {
                label: "webhook#1".into(),
                outcome: Outcome::Fail(SendError::Status(401)),
            },
            Line {
                label: "ntfy".into(),
                outcome: Outcome::NotConfigured,
            },
        ];
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "telegram: PASS",
                "webhook#1: FAIL (HTTP 401)",
                "ntfy: not configured"
            ]
        );
        assert_eq!(exit_code(&lines), 1);
        assert_eq!(exit_code(&lines[..1]), 0);
        assert_eq!(exit_code(&lines[2..]), 0);
    }

    #[test]
    fn the_test_message_keeps_the_text_contract() {
        let mut config = AlertsConfig::default();
        let alert = test_alert(&config, 5);
        assert!(alert.text.ends_with(" #test") && !alert.text.starts_with('['));
        config.host = Some("rig-1".into());
        let alert = test_alert(&config, 5);
        assert!(alert.text.starts_with("[rig-1] "), "{}", alert.text);
        assert!(!alert.text.contains('\n'));
        assert_eq!((alert.key, alert.at_unix), (EventKey::Test, 5));
    }

    #[tokio::test]
    async fn nothing_configured_is_three_not_configured_lines() {
        let lines = run(
            &EnvFile::default(),
            std::sync::Arc::new(crate::io::TokioConnector),
            &crate::io::SystemClock,
        )
        .await
        .unwrap();
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "telegram: not configured",
                "webhook: not configured",
                "ntfy: not configured"
            ]
        );
    }
}
