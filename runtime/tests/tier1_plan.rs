//! Tier 1: the container plan, alone and driven by the gate and failover together (catalog
//! rows "stop/start fails → retry next cycle" and "#35 latch × #31 failover coexist").

use std::collections::BTreeMap;
use std::time::Duration;

use pithead_runtime::control::{
    ChainReading, ContainerAction, ContainerPlan, Desired, Failover, FailoverEvent,
    FailoverObservation, GateObservation, SyncGate,
};
use tokio::time::Instant;

const P2POOL: &str = "p2pool";
const PROXY: &str = "xmrig-proxy";

fn stop(name: &str) -> ContainerAction {
    ContainerAction::Stop(name.into())
}

fn start(name: &str) -> ContainerAction {
    ContainerAction::Start(name.into())
}

fn default_plan() -> ContainerPlan {
    ContainerPlan::new(vec![P2POOL.into(), PROXY.into()], PROXY.into())
}

fn confirm_all(plan: &mut ContainerPlan, actions: &[ContainerAction]) {
    for action in actions {
        plan.confirm(action);
    }
}

/// One row: a sequence of `(holding, rejected)` inputs, each with the actions expected owed
/// and whether the cycle's docker calls land (all confirmed) or fail (none confirmed).
struct Row {
    name: &'static str,
    plan: fn() -> ContainerPlan,
    steps: Vec<(bool, bool, Vec<ContainerAction>, bool)>,
}

const LANDS: bool = true;
const FAILS: bool = false;

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "cold start: hold owes stop p2pool and stop xmrig-proxy",
            plan: default_plan,
            steps: vec![
                (true, false, vec![stop(P2POOL), stop(PROXY)], LANDS),
                (true, false, vec![], LANDS),
            ],
        },
        Row {
            name: "release owes both starts, once",
            plan: default_plan,
            steps: vec![
                (true, false, vec![stop(P2POOL), stop(PROXY)], LANDS),
                (false, false, vec![start(P2POOL), start(PROXY)], LANDS),
                (false, false, vec![], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "stop fails: owed again next cycle until it lands, then never repeated",
            plan: default_plan,
            steps: vec![
                (true, false, vec![stop(P2POOL), stop(PROXY)], FAILS),
                (true, false, vec![stop(P2POOL), stop(PROXY)], FAILS),
                (true, false, vec![stop(P2POOL), stop(PROXY)], LANDS),
                (true, false, vec![], LANDS),
            ],
        },
        Row {
            name: "start fails: owed again next cycle",
            plan: default_plan,
            steps: vec![
                (true, false, vec![stop(P2POOL), stop(PROXY)], LANDS),
                (false, false, vec![start(P2POOL), start(PROXY)], FAILS),
                (false, false, vec![start(P2POOL), start(PROXY)], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "restart after release: starts owed once (the engine answers already running)",
            plan: default_plan,
            steps: vec![
                (false, false, vec![start(P2POOL), start(PROXY)], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "reject after release: stop xmrig-proxy only; readmit: start it only",
            plan: default_plan,
            steps: vec![
                (false, false, vec![start(P2POOL), start(PROXY)], LANDS),
                (false, true, vec![stop(PROXY)], LANDS),
                (false, true, vec![], LANDS),
                (false, false, vec![start(PROXY)], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "reject while held: nothing extra; release while rejected starts p2pool only",
            plan: default_plan,
            steps: vec![
                (true, false, vec![stop(P2POOL), stop(PROXY)], LANDS),
                (true, true, vec![], LANDS),
                (false, true, vec![start(P2POOL)], LANDS),
                (false, false, vec![start(PROXY)], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "desired flips back before a failed stop lands: nothing owed",
            plan: default_plan,
            steps: vec![
                (false, false, vec![start(P2POOL), start(PROXY)], LANDS),
                (false, true, vec![stop(PROXY)], FAILS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "reject container outside the gate: unmanaged until a reject, stops first",
            plan: || ContainerPlan::new(vec!["alpha".into(), "zeta".into()], "mid".into()),
            steps: vec![
                (false, false, vec![start("alpha"), start("zeta")], LANDS),
                (false, true, vec![stop("mid")], LANDS),
                (true, true, vec![stop("alpha"), stop("zeta")], FAILS),
                (false, false, vec![start("mid")], LANDS),
                (false, false, vec![], LANDS),
            ],
        },
        Row {
            name: "owed order: stops before starts, whatever the names",
            plan: || ContainerPlan::new(vec!["alpha".into(), "zeta".into()], "mid".into()),
            steps: vec![(
                false,
                true,
                vec![stop("mid"), start("alpha"), start("zeta")],
                LANDS,
            )],
        },
    ]
}

#[test]
fn plan_rows() {
    let mut failures = Vec::new();
    for row in rows() {
        let mut plan = (row.plan)();
        for (i, (holding, rejected, want, lands)) in row.steps.iter().enumerate() {
            let owed = plan.step(*holding, *rejected);
            if &owed != want {
                failures.push(format!(
                    "{} step {i} (holding={holding}, rejected={rejected}):\n  expected {want:?}\n  got      {owed:?}",
                    row.name
                ));
            }
            if plan.owed() != owed {
                failures.push(format!(
                    "{} step {i}: owed() disagrees with step()",
                    row.name
                ));
            }
            if *lands {
                confirm_all(&mut plan, &owed);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn confirming_twice_or_an_already_applied_state_is_harmless() {
    let mut plan = default_plan();
    let owed = plan.step(true, false);
    confirm_all(&mut plan, &owed);
    // AlreadyInState (304) confirms the same target again.
    confirm_all(&mut plan, &owed);
    assert_eq!(plan.step(true, false), vec![]);
    assert_eq!(plan.applied().get(P2POOL), Some(&Desired::Stopped));
    assert_eq!(plan.desired().get(PROXY), Some(&Desired::Stopped));
}

/// The docker engine as the plan sees it: container states, and calls that fail on demand.
#[derive(Default)]
struct Engine {
    running: BTreeMap<String, bool>,
    fail_next: usize,
    calls: Vec<ContainerAction>,
}

impl Engine {
    /// Applies one call; `true` when it landed (done or already in that state).
    fn apply(&mut self, action: &ContainerAction) -> bool {
        self.calls.push(action.clone());
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return false;
        }
        let run = matches!(action, ContainerAction::Start(_));
        self.running.insert(action.container().to_owned(), run);
        true
    }

    fn is_running(&self, name: &str) -> bool {
        self.running.get(name).copied().unwrap_or(true)
    }
}

/// Gate, failover and plan wired like the cycle wires them, over a virtual 30 s cadence.
struct Harness {
    base: Instant,
    gate: SyncGate,
    failover: Failover,
    plan: ContainerPlan,
    engine: Engine,
}

impl Harness {
    fn new(released: bool) -> Self {
        Self {
            base: Instant::now(),
            gate: SyncGate::new(true, true, released),
            failover: Failover::new(Duration::from_secs(90), Duration::from_secs(60), true, true),
            plan: default_plan(),
            engine: Engine::default(),
        }
    }

    /// One cycle at `at` seconds; returns the calls made and the failover event.
    fn cycle(
        &mut self,
        at: u64,
        monero: Option<ChainReading>,
        tari: Option<ChainReading>,
    ) -> (Vec<ContainerAction>, Option<FailoverEvent>) {
        let view = self.gate.step(&GateObservation {
            monero,
            tari,
            p2pool_network_height: None,
        });
        let decision = self.failover.step(
            FailoverObservation {
                monero_reachable: monero.is_some(),
                tari_reachable: tari.is_some(),
            },
            self.base + Duration::from_secs(at),
        );
        let owed = self.plan.step(view.holding, decision.rejected);
        for action in &owed {
            if self.engine.apply(action) {
                self.plan.confirm(action);
            }
        }
        (owed, decision.event)
    }
}

fn syncing() -> Option<ChainReading> {
    Some(ChainReading {
        height: 10,
        target: 1_000,
        syncing: true,
    })
}

fn synced() -> Option<ChainReading> {
    Some(ChainReading {
        height: 1_000,
        target: 1_000,
        syncing: false,
    })
}

#[test]
fn latch_and_failover_coexist_after_release() {
    let mut h = Harness::new(false);
    let (calls, _) = h.cycle(0, syncing(), syncing());
    assert_eq!(calls, vec![stop(P2POOL), stop(PROXY)]);
    let (calls, _) = h.cycle(30, synced(), synced());
    assert_eq!(calls, vec![start(P2POOL), start(PROXY)]);
    assert!(h.gate.released());

    // monerod goes away at 60: rejected at 150, p2pool untouched.
    let mut rejected_at = None;
    for at in (60..=180).step_by(30) {
        let (calls, event) = h.cycle(at, None, synced());
        if event == Some(FailoverEvent::Reject) {
            rejected_at = Some(at);
            assert_eq!(calls, vec![stop(PROXY)], "t={at}");
        } else {
            assert_eq!(calls, vec![], "t={at}");
        }
    }
    assert_eq!(rejected_at, Some(150));
    assert!(h.gate.released(), "an outage must not re-arm the latch");
    assert!(h.engine.is_running(P2POOL));
    assert!(!h.engine.is_running(PROXY));

    // monerod back (still catching up) at 210: readmitted at 270.
    let mut readmitted_at = None;
    for at in (210..=330).step_by(30) {
        let (calls, event) = h.cycle(at, syncing(), synced());
        if event == Some(FailoverEvent::Readmit) {
            readmitted_at = Some(at);
            assert_eq!(calls, vec![start(PROXY)], "t={at}");
        } else {
            assert_eq!(calls, vec![], "t={at}");
        }
    }
    assert_eq!(readmitted_at, Some(270));
    assert!(h.gate.released());
    assert!(h.engine.is_running(P2POOL) && h.engine.is_running(PROXY));
    let p2pool_stops = h
        .engine
        .calls
        .iter()
        .filter(|c| **c == stop(P2POOL))
        .count();
    assert_eq!(p2pool_stops, 1, "p2pool stopped again after release");
}

#[test]
fn restart_post_release_with_outage_never_stops_p2pool() {
    let mut h = Harness::new(true);
    let (calls, _) = h.cycle(0, synced(), synced());
    assert_eq!(calls, vec![start(P2POOL), start(PROXY)]);
    for at in (30..=600).step_by(30) {
        let reading = if (100..400).contains(&at) {
            None
        } else {
            syncing()
        };
        h.cycle(at, reading, reading);
    }
    assert!(!h.engine.calls.contains(&stop(P2POOL)));
    assert!(h.engine.calls.contains(&stop(PROXY)));
    assert!(h.engine.is_running(PROXY), "readmitted at the end");
}

#[test]
fn docker_errors_are_retried_each_cycle_until_they_land() {
    let mut h = Harness::new(false);
    h.engine.fail_next = 5;
    let mut attempts = Vec::new();
    for at in (0..=150).step_by(30) {
        let (calls, _) = h.cycle(at, syncing(), syncing());
        attempts.push(calls.len());
    }
    // Two stops owed per cycle; the first five calls fail: cycles 0, 30 fail fully, 60 half.
    assert_eq!(attempts, vec![2, 2, 2, 1, 0, 0]);
    assert!(!h.engine.is_running(P2POOL));
    assert!(!h.engine.is_running(PROXY));
    assert_eq!(h.engine.calls.len(), 7);
}
