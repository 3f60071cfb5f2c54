//! The recording alert sinks as the world sees them: new requests drained into the trace every
//! step, fed to the [`AlertCheck`], and the sink faults (a class answering 503, closing, hanging).

use std::collections::BTreeMap;
use std::time::Duration;

use pithead_fakes::sinks::{FakeSinks, Outcome, RecordQuery, SinkClass, SinkMode, SinkRequest};

use super::World;
use crate::alerts::AlertCheck;
use crate::invariants::Violation;
use crate::trace::What;

/// The sinks fake, what of it the world has seen, and the alert invariant.
#[derive(Debug)]
pub(super) struct SinkWatch {
    pub(super) fake: FakeSinks,
    /// The last record drained.
    seen: u64,
    pub(super) check: AlertCheck,
    /// Every request, with the virtual time the world saw it arrive.
    arrivals: Vec<(Duration, SinkRequest)>,
}

impl SinkWatch {
    pub(super) fn new(fake: FakeSinks, check: AlertCheck) -> Self {
        Self {
            fake,
            seen: 0,
            check,
            arrivals: Vec::new(),
        }
    }
}

fn answer(outcome: Outcome) -> String {
    match outcome {
        Outcome::Answered { status } => status.to_string(),
        Outcome::Closed => "closed".to_owned(),
        Outcome::Hang => "hang".to_owned(),
    }
}

/// A sink mode as faults show it.
pub fn mode_name(mode: SinkMode) -> String {
    match mode {
        SinkMode::Up => "up".to_owned(),
        SinkMode::Status { code } => format!("down ({code})"),
        SinkMode::Closed => "down (closes)".to_owned(),
        SinkMode::Hang => "down (hangs)".to_owned(),
    }
}

impl World {
    /// The recording sinks (`None` unless the world was built with alerts).
    pub fn sinks(&self) -> Option<&FakeSinks> {
        self.sinks.as_ref().map(|w| &w.fake)
    }

    /// Every request that reached a sink, with the virtual time it arrived, oldest first.
    pub fn sink_requests(&self, query: &RecordQuery) -> Vec<(Duration, SinkRequest)> {
        self.sinks.as_ref().map_or_else(Vec::new, |w| {
            w.arrivals
                .iter()
                .filter(|(_, r)| query.matches(r))
                .cloned()
                .collect()
        })
    }

    /// The runtime's node-down edges the alert invariant counted (virtual times).
    pub fn alert_edges(&self) -> Vec<Duration> {
        self.sinks
            .as_ref()
            .map_or_else(Vec::new, |w| w.check.edges().to_vec())
    }

    /// How long after each node-down edge each sink acknowledged its alert.
    pub fn alert_latencies(&self) -> BTreeMap<SinkClass, Vec<Duration>> {
        self.sinks
            .as_ref()
            .map_or_else(BTreeMap::new, |w| w.check.latencies())
    }

    /// Takes a sink class down or brings it back (a fault in the trace).
    ///
    /// # Panics
    /// When the world was built without alerts (a scenario's mistake).
    pub fn set_sink(&mut self, class: SinkClass, mode: SinkMode) {
        let now = self.elapsed();
        let Some(watch) = &self.sinks else {
            panic!("set_sink({class}): this world was built without alerts");
        };
        watch.fake.set_mode(class, mode);
        self.trace.record(
            now,
            What::Fault {
                target: format!("{class} sink"),
                action: mode_name(mode),
            },
        );
    }

    /// The step's part of the alert invariant: new requests into the trace and the checker.
    pub(super) fn observe_sinks(&mut self, now: Duration) -> Result<(), Violation> {
        let Some(watch) = &mut self.sinks else {
            return Ok(());
        };
        for r in watch.fake.requests_after(watch.seen) {
            watch.seen = r.seq;
            self.trace.record(
                now,
                What::Sink {
                    sink: r.class,
                    event: r.event.clone(),
                    answer: answer(r.outcome),
                    delivered: r.delivered(),
                },
            );
            watch.check.on_request(now, &r);
            watch.arrivals.push((now, r));
        }
        watch.check.check(now)
    }

    /// A process's first published cycle: nodes it sees up that the model says are reachable
    /// recovered while it was away; a node it sees down that was up is a new edge.
    pub(super) fn alert_first_view(&mut self, now: Duration, down: &BTreeMap<String, bool>) {
        let reachable: BTreeMap<String, bool> = down
            .keys()
            .map(|n| (n.clone(), self.reach(n) == Some(crate::Reach::Reachable)))
            .collect();
        let Some(watch) = &mut self.sinks else {
            return;
        };
        watch
            .check
            .on_first_view(now, down, |n| reachable.get(n).copied().unwrap_or(false));
    }

    /// Feeds the runtime's published node edges and process starts to the alert invariant.
    pub(super) fn alert_edge(&mut self, now: Duration, what: &What) {
        let Some(watch) = &mut self.sinks else {
            return;
        };
        match what {
            What::NodeDown { node, down } => watch.check.on_node(now, node, *down),
            What::ProcessStart { .. } => watch.check.on_start(now),
            _ => {}
        }
    }
}
