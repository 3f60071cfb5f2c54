//! The per-step observation: what the runtime published, the docker calls the fake answered,
//! the prober's failures and panics, fed to the invariant [`Checker`](crate::invariants::Checker)
//! and recorded in the trace.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use pithead_runtime::control::Desired;
use pithead_runtime::store::SnapshotStore;
use pithead_runtime::view::StateReader;

use super::{lock, Shared, World, AUX};
use crate::failure::Invariant;
use crate::fakes;
use crate::invariants::{RuntimeView, Violation};
use crate::model::Link;
use crate::panics;
use crate::trace::{format_time, What};

/// What the world keeps of the runtime's process between steps.
#[derive(Debug)]
pub(super) struct Monitor {
    /// The current process's read model (`None` before it built its app, or while crashed).
    pub(super) runtime_state: Shared<Option<StateReader>>,
    /// Process starts so far (the runtime host counts them).
    pub(super) runtime_starts: Shared<u64>,
    /// Connections the runtime dialled that are still alive.
    pub(super) open_connections: Arc<AtomicUsize>,
    /// Process starts already recorded in the trace.
    starts_seen: u64,
    /// The cycle count of the last view read.
    last_count: u64,
    /// The last view read (for the trace's changes).
    last_view: Option<RuntimeView>,
    /// When the prober's path was last disturbed (a crash, a restart, an `aux` link fault).
    pub(super) last_disruption: Duration,
    /// Panics already counted when the world was built.
    panics_at_start: usize,
}

impl Default for Monitor {
    fn default() -> Self {
        Self {
            runtime_state: Arc::default(),
            runtime_starts: Arc::default(),
            open_connections: Arc::default(),
            starts_seen: 0,
            last_count: 0,
            last_view: None,
            last_disruption: Duration::ZERO,
            panics_at_start: panics::count(),
        }
    }
}

impl Monitor {
    /// The runtime's process went away or was replaced: its next cycle is a first one.
    pub(super) fn forget_view(&mut self) {
        self.last_view = None;
        self.last_count = 0;
    }

    /// The runtime's published state reduced to what the invariants need, when a cycle
    /// completed since the last call.
    fn read_view(&mut self) -> Option<RuntimeView> {
        let slot = lock(&self.runtime_state);
        let state = slot.as_ref()?;
        let s = state.read();
        if s.cycle.count == self.last_count {
            return None;
        }
        self.last_count = s.cycle.count;
        Some(RuntimeView {
            count: s.cycle.count,
            released: s.miner_released,
            rejected: s.workers_rejected,
            held: s.miner_held,
            down: s
                .nodes
                .iter()
                .map(|(name, node)| ((*name).to_owned(), node.down))
                .collect(),
            desired: s
                .containers
                .iter()
                .map(|(name, d)| (name.clone(), *d == Desired::Running))
                .collect(),
            percent: [
                ("monero", s.sync.monero.percent),
                ("tari", s.sync.tari.percent),
            ]
            .into_iter()
            .collect(),
            errors: s.cycle.errors.len(),
        })
    }
}

/// The changes from `prev` to `view`, as trace events.
fn view_changes(prev: Option<&RuntimeView>, view: &RuntimeView) -> Vec<What> {
    let mut out = Vec::new();
    let Some(prev) = prev else {
        out.push(What::FirstCycle {
            released: view.released,
            held: view.held,
            rejected: view.rejected,
        });
        out.extend(view.percent.iter().map(|(chain, percent)| What::Sync {
            chain,
            percent: *percent,
        }));
        return out;
    };
    if prev.released != view.released {
        out.push(What::Latch {
            released: view.released,
        });
    }
    if prev.held != view.held {
        out.push(What::Gate { held: view.held });
    }
    if prev.rejected != view.rejected {
        out.push(What::Workers {
            rejected: view.rejected,
        });
    }
    for (node, down) in &view.down {
        if prev.down.get(node).is_some_and(|was| was != down) {
            out.push(What::NodeDown {
                node: node.clone(),
                down: *down,
            });
        }
    }
    if prev.errors == 0 && view.errors > 0 {
        out.push(What::CycleErrors { count: view.errors });
    }
    for (chain, percent) in &view.percent {
        if prev.percent.get(chain) != Some(percent) {
            out.push(What::Sync {
                chain,
                percent: *percent,
            });
        }
    }
    out
}

impl World {
    /// Everything checked after a step at `now`.
    pub(super) fn observe(&mut self, now: Duration) -> Result<(), Violation> {
        if let Some(message) = panics::since(self.monitor.panics_at_start) {
            return Err(Violation {
                invariant: Invariant::NoPanics,
                message,
            });
        }

        // Model: what the runtime should be able to see.
        self.refresh_model(now);

        // Runtime (re)starts.
        let starts = *lock(&self.monitor.runtime_starts);
        if starts != self.monitor.starts_seen {
            self.monitor.starts_seen = starts;
            self.trace
                .record(now, What::ProcessStart { number: starts });
            self.alert_edge(now, &What::ProcessStart { number: starts });
        }

        // Docker calls.
        for call in self.tap.drain() {
            self.trace.record(
                call.at,
                What::Docker {
                    container: call.container.clone(),
                    verb: call.verb.clone(),
                    status: call.status,
                },
            );
            let store = SnapshotStore::new(&self.data_dir);
            self.checker.on_docker(&call, || {
                store
                    .load()
                    .ok()
                    .flatten()
                    .is_some_and(|s| s.miner_released)
            })?;
        }

        // The runtime's read model, when a cycle completed.
        if self.runtime_up {
            if let Some(view) = self.monitor.read_view() {
                if self.monitor.last_view.is_none() {
                    self.alert_first_view(now, &view.down);
                }
                for what in view_changes(self.monitor.last_view.as_ref(), &view) {
                    self.alert_edge(now, &what);
                    self.trace.record(now, what);
                }
                self.checker.on_view(now, view.clone())?;
                self.monitor.last_view = Some(view);
            }
        }
        let docker = &self.docker;
        self.checker
            .on_step(now, |name| fakes::is_running(docker, name))?;

        // What reached the alert sinks.
        self.observe_sinks(now)?;

        // Periodic probes of /api/state.
        for failure in self.prober.take_failures() {
            let excused = !self.runtime_up
                || self.links.get(AUX) != Link::Up
                || failure.started <= self.monitor.last_disruption + self.tick * 2
                || self.monitor.starts_seen == 0;
            self.trace.record(
                failure.ended,
                What::ProbeFailed {
                    error: failure.error.clone(),
                    excused,
                },
            );
            if !excused {
                return Err(Violation {
                    invariant: Invariant::ApiStateAnswers,
                    message: format!(
                        "GET /api/state started at {} failed at {}: {}",
                        format_time(failure.started),
                        format_time(failure.ended),
                        failure.error
                    ),
                });
            }
        }
        Ok(())
    }
}
