//! `/metrics`: the read model in Prometheus text format (`pithead_` names), through
//! `prometheus-client`.
//!
//! Gauges follow each recorded document; the cycle adds what a document does not carry (the
//! cycle's duration, docker calls by outcome).

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::document::ApiState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabel {
    chain: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabel {
    sink: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: &'static str,
    outcome: &'static str,
}

/// The runtime's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    sync_percent: Family<ChainLabel, Gauge>,
    node_up: Family<ChainLabel, Gauge>,
    held: Gauge,
    released: Gauge,
    rejected: Gauge,
    hashrate: Gauge<f64, AtomicU64>,
    workers_online: Gauge,
    db_healthy: Gauge,
    cycle_seconds: Histogram,
    docker_calls: Family<CallLabels, Counter>,
    alerts_sent: Family<SinkLabel, Counter>,
    alerts_retried: Family<SinkLabel, Counter>,
    alerts_dropped: Family<SinkLabel, Counter>,
    alerts_queued: Family<SinkLabel, Gauge>,
    heartbeat_ok: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn flag(on: bool) -> i64 {
    i64::from(on)
}

impl Metrics {
    /// Every metric registered, at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pithead");
        let sync_percent = Family::<ChainLabel, Gauge>::default();
        let node_up = Family::<ChainLabel, Gauge>::default();
        let (held, released, rejected) = (Gauge::default(), Gauge::default(), Gauge::default());
        let hashrate = Gauge::<f64, AtomicU64>::default();
        let (workers_online, db_healthy) = (Gauge::default(), Gauge::default());
        // 10 ms … ~40 s: a cycle is bounded by the RPC timeout.
        let cycle_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 13));
        let docker_calls = Family::<CallLabels, Counter>::default();
        let alerts_sent = Family::<SinkLabel, Counter>::default();
        let alerts_retried = Family::<SinkLabel, Counter>::default();
        let alerts_dropped = Family::<SinkLabel, Counter>::default();
        let alerts_queued = Family::<SinkLabel, Gauge>::default();
        let heartbeat_ok = Gauge::default();
        registry.register(
            "sync_percent",
            "Chain sync progress, percent",
            sync_percent.clone(),
        );
        registry.register(
            "node_up",
            "The node is not counted down (1) or is (0)",
            node_up.clone(),
        );
        registry.register("miner_held", "The sync gate holds the miners", held.clone());
        registry.register("miner_released", "The release latch", released.clone());
        registry.register(
            "workers_rejected",
            "Workers rejected by the failover",
            rejected.clone(),
        );
        registry.register("hashrate", "The fleet's hashrate, H/s", hashrate.clone());
        registry.register(
            "workers_online",
            "Workers connected to xmrig-proxy",
            workers_online.clone(),
        );
        registry.register(
            "db_healthy",
            "The history database takes writes",
            db_healthy.clone(),
        );
        registry.register(
            "cycle_duration_seconds",
            "Duration of one observe-decide-act cycle",
            cycle_seconds.clone(),
        );
        registry.register(
            "docker_calls",
            "Docker start/stop calls by outcome",
            docker_calls.clone(),
        );
        registry.register(
            "alerts_sent",
            "Alerts delivered, per sink",
            alerts_sent.clone(),
        );
        registry.register(
            "alerts_retried",
            "Failed alert deliveries (retried), per sink",
            alerts_retried.clone(),
        );
        registry.register(
            "alerts_dropped",
            "Alerts lost to the outbox bound or the give-up age, per sink",
            alerts_dropped.clone(),
        );
        registry.register(
            "alerts_queued",
            "Alerts waiting for delivery, per sink",
            alerts_queued.clone(),
        );
        registry.register(
            "heartbeat_ok",
            "The last heartbeat ping landed (1) or not, or none yet (0)",
            heartbeat_ok.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            sync_percent,
            node_up,
            held,
            released,
            rejected,
            hashrate,
            workers_online,
            db_healthy,
            cycle_seconds,
            docker_calls,
            alerts_sent,
            alerts_retried,
            alerts_dropped,
            alerts_queued,
            heartbeat_ok,
        }
    }

    /// Sets the gauges from a recorded document.
    pub fn observe(&self, state: &ApiState) {
        for (chain, progress) in [("monero", &state.sync.monero), ("tari", &state.sync.tari)] {
            self.sync_percent
                .get_or_create(&ChainLabel { chain })
                .set(i64::from(progress.percent));
        }
        for (chain, node) in &state.nodes {
            let chain = match *chain {
                "monero" => "monero",
                "tari" => "tari",
                _ => continue,
            };
            self.node_up
                .get_or_create(&ChainLabel { chain })
                .set(flag(!node.down));
        }
        self.held.set(flag(state.miner_held));
        self.released.set(flag(state.miner_released));
        self.rejected.set(flag(state.workers_rejected));
        self.hashrate.set(state.hashrate);
        self.workers_online
            .set(i64::try_from(state.proxy_workers).unwrap_or(i64::MAX));
        self.db_healthy.set(flag(state.db_healthy));
        for row in &state.alerts.sinks {
            let label = SinkLabel {
                sink: row.label.clone(),
            };
            // The outbox's counters only grow within a process: the counter follows them.
            for (family, value) in [
                (&self.alerts_sent, row.counters.sent),
                (&self.alerts_retried, row.counters.retried),
                (&self.alerts_dropped, row.counters.dropped),
            ] {
                let counter = family.get_or_create(&label);
                counter.inc_by(value.saturating_sub(counter.get()));
            }
            self.alerts_queued
                .get_or_create(&label)
                .set(i64::try_from(row.counters.queued).unwrap_or(i64::MAX));
        }
        self.heartbeat_ok
            .set(flag(state.alerts.heartbeat.ok == Some(true)));
    }

    /// One cycle took `seconds`.
    pub fn cycle_duration(&self, seconds: f64) {
        self.cycle_seconds.observe(seconds);
    }

    /// A docker `action` (`start`, `stop`) landed (`ok`) or not.
    pub fn docker_call(&self, action: &'static str, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.docker_calls
            .get_or_create(&CallLabels { action, outcome })
            .inc();
    }

    /// The text exposition (`text/plain; version=0.0.4`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            // Writing to a String cannot fail; an empty exposition is still valid text.
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> prometheus_parse::Scrape {
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        prometheus_parse::Scrape::parse(lines).unwrap()
    }

    fn value(scrape: &prometheus_parse::Scrape, name: &str, label: Option<(&str, &str)>) -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .unwrap_or_else(|| panic!("{name} {label:?} missing"));
        match sample.value {
            // The parser reads OpenMetrics counters (`_total` of a `counter` family) as untyped.
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn the_exposition_parses_and_carries_the_documents_figures() {
        let metrics = Metrics::new();
        let mut state = ApiState::default();
        state.sync.monero.percent = 42;
        state.miner_released = true;
        state.workers_rejected = true;
        state.hashrate = 12_345.5;
        state.proxy_workers = 3;
        state.db_healthy = false;
        state.nodes.insert(
            "monero",
            super::super::NodeSection {
                reachable: false,
                down: true,
                ever_up: true,
            },
        );
        state.alerts.sinks.push(super::super::AlertSinkRow {
            label: "webhook#2".into(),
            kind: "webhook",
            counters: crate::control::alerts::OutboxCounters {
                sent: 4,
                retried: 7,
                dropped: 1,
                queued: 2,
                last_error: Some("timeout".into()),
            },
        });
        state.alerts.heartbeat.ok = Some(true);
        metrics.observe(&state);
        // Observed again with the same counts: the counters do not double.
        metrics.observe(&state);
        metrics.cycle_duration(0.25);
        metrics.docker_call("stop", true);
        metrics.docker_call("stop", true);
        metrics.docker_call("start", false);
        let scrape = parse(&metrics.encode());
        assert_eq!(
            value(&scrape, "pithead_sync_percent", Some(("chain", "monero"))),
            42.0
        );
        assert_eq!(
            value(&scrape, "pithead_sync_percent", Some(("chain", "tari"))),
            0.0
        );
        assert_eq!(
            value(&scrape, "pithead_node_up", Some(("chain", "monero"))),
            0.0
        );
        assert_eq!(value(&scrape, "pithead_miner_released", None), 1.0);
        assert_eq!(value(&scrape, "pithead_miner_held", None), 1.0);
        assert_eq!(value(&scrape, "pithead_workers_rejected", None), 1.0);
        assert_eq!(value(&scrape, "pithead_hashrate", None), 12_345.5);
        assert_eq!(value(&scrape, "pithead_workers_online", None), 3.0);
        assert_eq!(value(&scrape, "pithead_db_healthy", None), 0.0);
        assert_eq!(
            value(
                &scrape,
                "pithead_docker_calls_total",
                Some(("outcome", "ok"))
            ),
            2.0
        );
        let sink = Some(("sink", "webhook#2"));
        assert_eq!(value(&scrape, "pithead_alerts_sent_total", sink), 4.0);
        assert_eq!(value(&scrape, "pithead_alerts_retried_total", sink), 7.0);
        assert_eq!(value(&scrape, "pithead_alerts_dropped_total", sink), 1.0);
        assert_eq!(value(&scrape, "pithead_alerts_queued", sink), 2.0);
        assert_eq!(value(&scrape, "pithead_heartbeat_ok", None), 1.0);
        let histogram = scrape
            .samples
            .iter()
            .find(|s| s.metric == "pithead_cycle_duration_seconds")
            .expect("the cycle histogram");
        match &histogram.value {
            prometheus_parse::Value::Histogram(buckets) => {
                let le_half = buckets.iter().find(|b| b.less_than == 0.32).unwrap();
                assert_eq!(le_half.count, 1.0);
            }
            other => panic!("not a histogram: {other:?}"),
        }
        assert!(scrape
            .samples
            .iter()
            .all(|s| s.metric.starts_with("pithead_")));
    }
}
