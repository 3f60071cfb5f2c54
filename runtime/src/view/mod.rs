//! The read model: the `/api/state` document, written by the cycle, read by everyone else.
//!
//! The cycle hands one pass's decisions to its [`StateWriter`], which renders the document
//! ([`render`]) and publishes it; the HTTP server, the simulation's invariants and the demo
//! hold [`StateReader`]s and only read. The writer is not `Clone`: one runtime, one writer.
//!
//! Architecture invariant: knows nothing of HTTP (the `api` module serves what it reads) and
//! nothing of I/O; rendering is a pure function of its input.

pub mod chart;
mod document;
pub mod metrics;
mod render;
#[cfg(test)]
mod states;
pub mod system;
pub mod workers;

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use crate::control::verdicts::Verdict;

pub use chart::{ChartQuery, Sample, Window};
pub use document::{
    AlertSinkRow, AlertsSection, ApiState, Badge, BadgeVariant, ChartPoint, ChartSection,
    CycleSection, HugePagesSection, LevelSection, MoneroSection, NodeSection, SyncSection,
    SystemSection, WorkerRow, XvbSection, XvbSwitch,
};
pub use render::{events, render, render_all, sample, DashboardInput, RenderInput};
pub use workers::WORKERS_SHOWN;

/// A new read model showing the state before the first cycle ("Starting...").
pub fn read_model() -> (StateWriter, StateReader) {
    let shared = Arc::new(RwLock::new(ApiState::default()));
    let metrics = Arc::new(metrics::Metrics::new());
    (
        StateWriter {
            shared: shared.clone(),
            services: Mutex::default(),
            alerts: Mutex::default(),
            metrics: metrics.clone(),
        },
        StateReader { shared, metrics },
    )
}

/// The cycle's end of the read model.
#[derive(Debug)]
pub struct StateWriter {
    shared: Arc<RwLock<ApiState>>,
    /// The container health verdicts the next [`StateWriter::record`] publishes.
    services: Mutex<Vec<Verdict>>,
    /// The alert sinks' state the next [`StateWriter::record`] publishes.
    alerts: Mutex<AlertsSection>,
    metrics: Arc<metrics::Metrics>,
}

impl StateWriter {
    /// The alert sinks' counters and the heartbeat (`alerts`) the next
    /// [`StateWriter::record`] publishes with its document.
    pub fn set_alerts(&self, alerts: AlertsSection) {
        *self.alerts.lock().unwrap_or_else(PoisonError::into_inner) = alerts;
    }

    /// The container health verdicts (`services`) the next [`StateWriter::record`] publishes
    /// with its document, so both appear together.
    pub fn set_services(&self, services: Vec<Verdict>) {
        *self.services.lock().unwrap_or_else(PoisonError::into_inner) = services;
    }

    /// Renders `input` and publishes it as the current document.
    pub fn record(&self, input: &RenderInput<'_>) {
        self.record_all(input, &DashboardInput::default());
    }

    /// Renders `input` with the dashboard's own inputs and publishes it; returns a copy.
    pub fn record_all(&self, input: &RenderInput<'_>, dashboard: &DashboardInput<'_>) -> ApiState {
        let mut rendered = render_all(input, dashboard);
        rendered.services = self
            .services
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        rendered.alerts = self
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.metrics.observe(&rendered);
        let copy = rendered.clone();
        // A poisoned lock only means a reader panicked while holding it; the document itself is
        // always whole (it is replaced, never edited in place).
        *self.shared.write().unwrap_or_else(PoisonError::into_inner) = rendered;
        copy
    }

    /// Publishes `state` as it is (the demo and tests that need a given document).
    pub fn publish(&self, state: ApiState) {
        self.metrics.observe(&state);
        *self.shared.write().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// A reader of this model.
    pub fn reader(&self) -> StateReader {
        StateReader {
            shared: self.shared.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// The metrics the cycle adds to (cycle duration, docker calls).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }
}

/// A read-only handle on the current document.
#[derive(Debug, Clone)]
pub struct StateReader {
    shared: Arc<RwLock<ApiState>>,
    metrics: Arc<metrics::Metrics>,
}

impl StateReader {
    /// The current document, borrowed (hold the guard briefly: the cycle waits for it).
    pub fn read(&self) -> RwLockReadGuard<'_, ApiState> {
        // `/api/state` must always answer: a poisoned lock still holds the last whole document.
        self.shared.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The metrics, for `/metrics`.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// A copy of the current document.
    pub fn get(&self) -> ApiState {
        self.read().clone()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::control::{ChainReading, Desired, FailoverDecision, GateObservation, SyncGate};

    #[test]
    fn the_document_before_the_first_cycle_is_pinned_byte_for_byte() {
        let (_writer, reader) = read_model();
        insta::assert_snapshot!(serde_json::to_string(&reader.get()).unwrap());
    }

    #[test]
    fn a_recorded_cycle_is_what_readers_see() {
        let (writer, reader) = read_model();
        let mut gate = SyncGate::new(false, false, false);
        let view = gate.step(&GateObservation {
            monero: Some(ChainReading {
                height: 3_000,
                target: 3_000,
                syncing: false,
            }),
            ..GateObservation::default()
        });
        let failover = FailoverDecision {
            rejected: true,
            event: None,
            monero_down: true,
            tari_down: false,
        };
        let containers = BTreeMap::from([("xmrig-proxy".to_owned(), Desired::Stopped)]);
        writer.record(&RenderInput {
            gate: &view,
            failover: &failover,
            monero_reachable: false,
            monero_ever_up: true,
            tari_enabled: false,
            tari_reachable: false,
            tari_ever_up: false,
            monero_local: true,
            monero_prune: true,
            monero_db_bytes: Some(85_000_000_000),
            containers: &containers,
            xvb: None,
            cycle: CycleSection {
                count: 7,
                last_wall_ms: 1_000,
                errors: vec!["stop xmrig-proxy failed".to_owned()],
            },
        });
        insta::assert_snapshot!(serde_json::to_string(&*reader.read()).unwrap());
    }

    #[test]
    fn transitions_between_documents_are_the_history_events() {
        let before = ApiState::default();
        let mut after = before.clone();
        after.miner_held = false;
        after.miner_released = true;
        after.workers_rejected = true;
        after.nodes.insert(
            "monero",
            NodeSection {
                reachable: false,
                down: true,
                ever_up: true,
            },
        );
        let kinds: Vec<_> = events(&before, &after)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(kinds, ["released", "rejected", "node down"]);
        let back: Vec<_> = events(&after, &before)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(back, ["held", "readmitted"]);
        assert!(events(&after, &after).is_empty());
    }

    #[test]
    fn a_sample_attributes_the_hashrate_to_the_pool_in_use() {
        let mut state = ApiState {
            hashrate: 9_000.0,
            ..ApiState::default()
        };
        assert_eq!(
            sample(&state, 5),
            Sample {
                x: 5,
                p2pool: 9_000.0,
                xvb: 0.0
            }
        );
        let (section, _) = crate::cycle::XvbDriver::new(
            true,
            crate::config::Config::from_lookup(|_| None).unwrap().xvb,
            None,
        )
        .section();
        state.xvb = Some(XvbSection {
            pool: "xvb",
            ..section
        });
        assert_eq!(
            sample(&state, 6),
            Sample {
                x: 6,
                p2pool: 0.0,
                xvb: 9_000.0
            }
        );
    }
}
