//! Alerts in the simulation: the recording sinks on their own turmoil host, the runtime's alert
//! configuration pointing at them, and the invariant "every node-down edge is alerted exactly
//! once per enabled sink, within the retry bound, and never duplicated".
//!
//! The runtime is pointed at the `sinks` host by its IP literal: `http://` sink URLs are
//! accepted only to loopback or private addresses, and turmoil's hosts have private
//! `192.168.x.y` addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use pithead_fakes::sinks::{Expect, FakeSinks, SinkClass, SinkRequest};

use crate::failure::Invariant;
use crate::invariants::Violation;
use crate::trace::format_time;

/// The recording sinks' host.
pub const SINKS: &str = "sinks";
/// Port of the recording sinks on their host.
pub const SINKS_PORT: u16 = 8099;
/// The simulated Telegram bot token (a test of the logs greps for it).
pub const BOT_TOKEN: &str = "7700111222:SIMbotTOKEN-never-in-a-log";
/// The simulated Telegram chat id.
pub const CHAT_ID: &str = "-1009988776655";
/// The simulated webhook secret.
pub const WEBHOOK_SECRET: &str = "sim-webhook-secret-never-in-a-log";
/// The simulated ntfy access token.
pub const NTFY_TOKEN: &str = "tk_simntfytokennever1nalog";
/// The simulated healthchecks check id.
pub const CHECK_ID: &str = "5f0c6a7e-sim-check";
/// `ALERTS_HOST` in the simulation: every alert text starts `[sim-box] `.
pub const ALERTS_HOST: &str = "sim-box";

/// Every secret the alert configuration holds (for the checks that none leaks).
pub const SECRETS: [&str; 4] = [BOT_TOKEN, CHAT_ID, WEBHOOK_SECRET, NTFY_TOKEN];

/// The alert sinks a world configures, and the event key the invariant follows.
pub const ALERT_SINKS: [SinkClass; 3] = [SinkClass::Telegram, SinkClass::Webhook, SinkClass::Ntfy];

/// How long after a node-down edge (or after the runtime came back, if it was down then) every
/// enabled sink must have acknowledged the alert: a sink outage of at most
/// [`MAX_SINK_OUTAGE`], then one capped backoff (5 min), a cycle and slack.
pub const RETRY_BOUND: Duration = Duration::from_secs(20 * 60);

/// The longest sink outage the swarm schedules (longer ones may exhaust the retries legitimately).
pub const MAX_SINK_OUTAGE: Duration = Duration::from_secs(10 * 60);

/// The runtime environment that sends every alert to the sinks at `ip`.
pub fn env(ip: IpAddr) -> Vec<(String, String)> {
    let base = format!("http://{ip}:{SINKS_PORT}");
    [
        ("TELEGRAM_ENABLED", "true".to_owned()),
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_CHAT_ID", CHAT_ID.to_owned()),
        ("TELEGRAM_API_BASE", base.clone()),
        ("NOTIFY_WEBHOOK_URLS", format!("{base}/hook/ops")),
        ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("NTFY_URL", format!("{base}/pithead")),
        ("NTFY_TOKEN", NTFY_TOKEN.to_owned()),
        ("HEALTHCHECKS_PING_URL", format!("{base}/ping/{CHECK_ID}")),
        ("ALERTS_HOST", ALERTS_HOST.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A sinks fake that checks what the configuration promises (tokens, chat, HMAC).
pub fn fake() -> FakeSinks {
    FakeSinks::new().with_expect(Expect {
        telegram_token: Some(BOT_TOKEN.to_owned()),
        telegram_chat_id: Some(CHAT_ID.to_owned()),
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ntfy_token: Some(NTFY_TOKEN.to_owned()),
    })
}

/// The checker of [`Invariant::AlertedOncePerSink`], fed the runtime's node edges and what
/// reached the sinks.
#[derive(Debug, Clone)]
pub struct AlertCheck {
    bound: Duration,
    /// How late after a delivery the runtime's published edge may show (the alert is sent in
    /// the cycle that publishes the edge).
    slack: Duration,
    /// Whether each node counts as down, across runtime restarts (a restart during an outage
    /// is no new edge).
    down: BTreeMap<String, bool>,
    /// When each down edge was published.
    edges: Vec<Duration>,
    /// When each sink acknowledged a `node_down` alert.
    delivered: BTreeMap<SinkClass, Vec<Duration>>,
    /// Deliveries already checked against the edges (per sink).
    checked: BTreeMap<SinkClass, usize>,
    /// The last time the runtime (re)started: retries could not run while it was down.
    last_start: Duration,
}

/// The event key the invariant follows.
pub const NODE_DOWN: &str = "node_down";

impl AlertCheck {
    /// A checker with the given bound and slack.
    pub fn new(bound: Duration, slack: Duration) -> Self {
        Self {
            bound,
            slack,
            down: BTreeMap::new(),
            edges: Vec::new(),
            delivered: BTreeMap::new(),
            checked: BTreeMap::new(),
            last_start: Duration::ZERO,
        }
    }

    /// The runtime published `node` as down (or recovered) at `now`.
    pub fn on_node(&mut self, now: Duration, node: &str, down: bool) {
        let was = self.down.insert(node.to_owned(), down).unwrap_or(false);
        if down && !was {
            self.edges.push(now);
        }
    }

    /// A process's first published cycle at `now`, with each node's `down`: a node it sees up
    /// that is `reachable` recovered while it was away; one it sees down that was up is an edge.
    pub fn on_first_view(
        &mut self,
        now: Duration,
        down: &BTreeMap<String, bool>,
        reachable: impl Fn(&str) -> bool,
    ) {
        for (node, is_down) in down {
            if *is_down {
                self.on_node(now, node, true);
            } else if reachable(node) {
                self.down.insert(node.clone(), false);
            }
        }
    }

    /// The runtime's process started at `now`.
    pub fn on_start(&mut self, now: Duration) {
        self.last_start = now;
    }

    /// A request reached a sink at `now`.
    pub fn on_request(&mut self, now: Duration, r: &SinkRequest) {
        if r.delivered() && r.event.as_deref() == Some(NODE_DOWN) {
            self.delivered.entry(r.class).or_default().push(now);
        }
    }

    /// Down edges published so far.
    pub fn edges(&self) -> &[Duration] {
        &self.edges
    }

    /// Checks both halves at `now`: no sink got more `node_down` alerts than there were edges,
    /// and every edge older than the bound reached every sink.
    pub fn check(&mut self, now: Duration) -> Result<(), Violation> {
        for class in ALERT_SINKS {
            let got = self.delivered.get(&class).map_or(&[][..], Vec::as_slice);
            let checked = self.checked.entry(class).or_insert(0);
            while let Some(at) = got.get(*checked) {
                if now < *at + self.slack {
                    break;
                }
                let edges = self
                    .edges
                    .iter()
                    .filter(|e| **e <= *at + self.slack)
                    .count();
                if *checked + 1 > edges {
                    return Err(Violation {
                        invariant: Invariant::AlertedOncePerSink,
                        message: format!(
                            "{class} acknowledged node_down alert #{} at {} but only {edges} down edge(s) were published by then (a duplicate)",
                            *checked + 1,
                            format_time(*at)
                        ),
                    });
                }
                *checked += 1;
            }
            for (i, edge) in self.edges.iter().enumerate() {
                let due = (*edge).max(self.last_start) + self.bound;
                if now >= due && got.len() <= i {
                    return Err(Violation {
                        invariant: Invariant::AlertedOncePerSink,
                        message: format!(
                            "the node-down edge at {} reached {class} {} time(s) of {} by {} (bound {:?})",
                            format_time(*edge),
                            got.len(),
                            i + 1,
                            format_time(due),
                            self.bound
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// How long after each down edge each sink acknowledged its alert (edge order).
    pub fn latencies(&self) -> BTreeMap<SinkClass, Vec<Duration>> {
        self.delivered
            .iter()
            .map(|(class, at)| {
                let lat = at
                    .iter()
                    .zip(&self.edges)
                    .map(|(d, e)| d.saturating_sub(*e))
                    .collect();
                (*class, lat)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pithead_fakes::sinks::{Outcome, Parsed};

    fn record(class: SinkClass, event: &str, status: u16) -> SinkRequest {
        SinkRequest {
            seq: 0,
            class,
            method: "POST".into(),
            path: "/".into(),
            headers: BTreeMap::new(),
            body: String::new(),
            at_ms: 0,
            event: Some(event.into()),
            parsed: Parsed::default(),
            problems: Vec::new(),
            outcome: Outcome::Answered { status },
        }
    }

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn all(check: &mut AlertCheck, at: u64, event: &str, status: u16) {
        for class in ALERT_SINKS {
            check.on_request(s(at), &record(class, event, status));
        }
    }

    #[test]
    fn one_alert_per_sink_per_edge_passes() {
        let mut c = AlertCheck::new(s(600), s(40));
        c.on_node(s(100), "monero", true);
        all(&mut c, 101, NODE_DOWN, 200);
        c.on_node(s(500), "monero", false);
        all(&mut c, 501, "node_recovered", 200);
        assert!(c.check(s(5_000)).is_ok());
        assert_eq!(c.latencies()[&SinkClass::Ntfy], [s(1)]);
    }

    #[test]
    fn a_missing_alert_fails_once_the_bound_passed() {
        let mut c = AlertCheck::new(s(600), s(40));
        c.on_node(s(100), "monero", true);
        // Refused attempts are not deliveries.
        all(&mut c, 101, NODE_DOWN, 503);
        assert!(c.check(s(699)).is_ok());
        let err = c.check(s(700)).unwrap_err();
        assert_eq!(err.invariant, Invariant::AlertedOncePerSink);
        assert!(
            err.message.contains("reached telegram 0 time(s)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_duplicate_fails() {
        let mut c = AlertCheck::new(s(600), s(40));
        c.on_node(s(100), "monero", true);
        all(&mut c, 101, NODE_DOWN, 200);
        c.on_request(s(300), &record(SinkClass::Webhook, NODE_DOWN, 200));
        assert!(c.check(s(339)).is_ok());
        let err = c.check(s(340)).unwrap_err();
        assert!(err.message.contains("webhook"), "{}", err.message);
        assert!(err.message.contains("duplicate"), "{}", err.message);
    }

    #[test]
    fn a_restart_during_an_outage_is_no_new_edge() {
        let mut c = AlertCheck::new(s(600), s(40));
        c.on_node(s(100), "monero", true);
        all(&mut c, 101, NODE_DOWN, 200);
        c.on_start(s(200));
        // The new process publishes the node down again: same outage.
        c.on_node(s(300), "monero", true);
        assert_eq!(c.edges().len(), 1);
        all(&mut c, 301, NODE_DOWN, 200);
        assert!(c.check(s(400)).is_err(), "a re-sent alert is a duplicate");
    }

    #[test]
    fn the_bound_counts_from_a_later_restart() {
        let mut c = AlertCheck::new(s(600), s(40));
        c.on_node(s(100), "monero", true);
        c.on_start(s(500));
        assert!(c.check(s(1_000)).is_ok());
        assert!(c.check(s(1_100)).is_err());
    }
}
