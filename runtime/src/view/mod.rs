//! The read model: the `/api/state` document, written by the cycle, read by everyone else.
//!
//! The cycle hands one pass's decisions to its [`StateWriter`], which renders the document
//! ([`render`]) and publishes it; the HTTP server, the simulation's invariants and the demo
//! hold [`StateReader`]s and only read. The writer is not `Clone`: one runtime, one writer.
//!
//! Architecture invariant: knows nothing of HTTP (the `api` module serves what it reads) and
//! nothing of I/O; rendering is a pure function of its input.

mod document;
mod render;

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use crate::control::verdicts::Verdict;

pub use document::{
    ApiState, Badge, BadgeVariant, CycleSection, MoneroSection, NodeSection, SyncSection,
    XvbSection, XvbSwitch,
};
pub use render::{render, RenderInput};

/// A new read model showing the state before the first cycle ("Starting...").
pub fn read_model() -> (StateWriter, StateReader) {
    let shared = Arc::new(RwLock::new(ApiState::default()));
    (
        StateWriter {
            shared: shared.clone(),
            services: Mutex::default(),
        },
        StateReader { shared },
    )
}

/// The cycle's end of the read model.
#[derive(Debug)]
pub struct StateWriter {
    shared: Arc<RwLock<ApiState>>,
    /// The container health verdicts the next [`StateWriter::record`] publishes.
    services: Mutex<Vec<Verdict>>,
}

impl StateWriter {
    /// The container health verdicts (`services`) the next [`StateWriter::record`] publishes
    /// with its document, so both appear together.
    pub fn set_services(&self, services: Vec<Verdict>) {
        *self.services.lock().unwrap_or_else(PoisonError::into_inner) = services;
    }

    /// Renders `input` and publishes it as the current document.
    pub fn record(&self, input: &RenderInput<'_>) {
        let mut rendered = render(input);
        rendered.services = self
            .services
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // A poisoned lock only means a reader panicked while holding it; the document itself is
        // always whole (it is replaced, never edited in place).
        *self.shared.write().unwrap_or_else(PoisonError::into_inner) = rendered;
    }

    /// A reader of this model.
    pub fn reader(&self) -> StateReader {
        StateReader {
            shared: self.shared.clone(),
        }
    }
}

/// A read-only handle on the current document.
#[derive(Debug, Clone)]
pub struct StateReader {
    shared: Arc<RwLock<ApiState>>,
}

impl StateReader {
    /// The current document, borrowed (hold the guard briefly: the cycle waits for it).
    pub fn read(&self) -> RwLockReadGuard<'_, ApiState> {
        // `/api/state` must always answer: a poisoned lock still holds the last whole document.
        self.shared.read().unwrap_or_else(PoisonError::into_inner)
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
        let loading = r#"{"state":"loading","percent":0,"current":0,"target":0,"remaining":0}"#;
        let expected = format!(
            concat!(
                r#"{{"syncing":true,"sync":{{"monero":{loading},"tari":{loading}}},"#,
                r#""monero":{{"mode":"Unknown","db_size":"—"}},"miner_released":false,"#,
                r#""workers_rejected":false,"miner_held":true,"nodes":{{}},"containers":{{}},"#,
                r#""badges":[{{"text":"Starting...","variant":"warn"}}],"#,
                r#""cycle":{{"count":0,"last_wall_ms":0,"errors":[]}}}}"#
            ),
            loading = loading
        );
        assert_eq!(serde_json::to_string(&reader.get()).unwrap(), expected);
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
        let json = serde_json::to_string(&*reader.read()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"syncing":false,"sync":{"monero":{"state":"done","percent":100,"current":3000,"#,
                r#""target":3000,"remaining":0},"tari":{"state":"done","percent":100,"current":0,"#,
                r#""target":0,"remaining":0}},"monero":{"mode":"Pruned","db_size":"85.0 GB"},"#,
                r#""miner_released":true,"workers_rejected":true,"miner_held":false,"#,
                r#""nodes":{"monero":{"reachable":false,"down":true,"ever_up":true}},"#,
                r#""containers":{"xmrig-proxy":"stopped"},"badges":[{"text":"monerod DOWN","#,
                r#""variant":"bad","title":"monerod has been unreachable for longer than the down window"},"#,
                r#"{"text":"Workers rejected","variant":"bad","#,
                r#""title":"xmrig-proxy is stopped so miners fail over to their backup pools"},"#,
                r#"{"text":"XMR Pruned","variant":"outline"}],"#,
                r#""cycle":{"count":7,"last_wall_ms":1000,"errors":["stop xmrig-proxy failed"]}}"#
            )
        );
    }
}
