//! Tier 1: node health and failover (catalog section C), table-driven timelines, no I/O.
//!
//! Every row is a timeline of observations at offsets (seconds) from a base instant, with the
//! verdict expected after each step. The windows are the production defaults
//! (`NODE_DOWN_AFTER_SEC=90`, `NODE_RECOVERY_AFTER_SEC=60`).

use std::time::Duration;

use pithead_runtime::config::Config;
use pithead_runtime::control::{
    ContainerAction, Failover, FailoverDecision, FailoverEvent, FailoverObservation, HealthEvent,
    Machines, NodeHealth, TariLastGood,
};
use pithead_runtime::cycle::Observations;
use pithead_runtime::observe::monero::MoneroInfo;
use pithead_runtime::observe::tari::{self, TariNodeState, TariReading};
use tokio::time::Instant;

const DOWN_AFTER: Duration = Duration::from_secs(90);
const RECOVERY_AFTER: Duration = Duration::from_secs(60);

/// Maps an offset in seconds to an instant after one fixed base.
fn clock() -> impl Fn(u64) -> Instant {
    let base = Instant::now();
    move |secs| base + Duration::from_secs(secs)
}

/// One step of a timeline and the verdict expected after it.
#[derive(Debug, Clone, Copy)]
struct Step {
    at: u64,
    monero: bool,
    tari: bool,
    rejected: bool,
    event: Option<FailoverEvent>,
    monero_down: bool,
    tari_down: bool,
}

/// Shorthand: `s(at, monero_reachable, tari_reachable, rejected, monero_down, tari_down, event)`.
fn s(
    at: u64,
    monero: bool,
    tari: bool,
    rejected: bool,
    monero_down: bool,
    tari_down: bool,
    event: Option<FailoverEvent>,
) -> Step {
    Step {
        at,
        monero,
        tari,
        rejected,
        event,
        monero_down,
        tari_down,
    }
}

const UP: bool = true;
const DOWN: bool = false;
const REJ: Option<FailoverEvent> = Some(FailoverEvent::Reject);
const READMIT: Option<FailoverEvent> = Some(FailoverEvent::Readmit);

struct Row {
    name: &'static str,
    tari_enabled: bool,
    tari_required: bool,
    steps: Vec<Step>,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "monerod down: reject only once the 90 s window has passed",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                // The outage starts at 30; down at 30 + 90 = 120, not a second earlier.
                s(30, DOWN, UP, false, false, false, None),
                s(60, DOWN, UP, false, false, false, None),
                s(90, DOWN, UP, false, false, false, None),
                s(119, DOWN, UP, false, false, false, None),
                s(120, DOWN, UP, true, true, false, REJ),
                s(150, DOWN, UP, true, true, false, None),
            ],
        },
        Row {
            name: "monerod down: unreachable at +0, +30, +60 not down; +90 rejected",
            tari_enabled: false,
            tari_required: false,
            steps: vec![
                s(0, UP, DOWN, false, false, false, None),
                s(10, DOWN, DOWN, false, false, false, None),
                s(40, DOWN, DOWN, false, false, false, None),
                s(70, DOWN, DOWN, false, false, false, None),
                s(100, DOWN, DOWN, true, true, false, REJ),
            ],
        },
        Row {
            name: "transient blip shorter than the window: no reject",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(30, DOWN, UP, false, false, false, None),
                s(60, DOWN, UP, false, false, false, None),
                s(119, DOWN, UP, false, false, false, None),
                // Back one second before the window closes: the run is broken.
                s(120, UP, UP, false, false, false, None),
                // A fresh outage starts its own window.
                s(121, DOWN, UP, false, false, false, None),
                s(200, DOWN, UP, false, false, false, None),
                s(210, DOWN, UP, false, false, false, None),
                s(211, DOWN, UP, true, true, false, REJ),
            ],
        },
        Row {
            name: "never-reachable monerod: never down, never rejects",
            tari_enabled: true,
            tari_required: true,
            steps: (0..200)
                .map(|i| s(i * 60, DOWN, UP, false, false, false, None))
                .collect(),
        },
        Row {
            name: "never-reachable required Tari: never down, never rejects",
            tari_enabled: true,
            tari_required: true,
            steps: (0..200)
                .map(|i| s(i * 60, UP, DOWN, false, false, false, None))
                .collect(),
        },
        Row {
            name: "recovery hysteresis: readmit only after 60 s continuously reachable",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, DOWN, UP, false, false, false, None),
                s(100, DOWN, UP, true, true, false, REJ),
                s(130, UP, UP, true, true, false, None),
                s(160, UP, UP, true, true, false, None),
                s(189, UP, UP, true, true, false, None),
                s(190, UP, UP, false, false, false, READMIT),
                s(220, UP, UP, false, false, false, None),
            ],
        },
        Row {
            name: "a blip during recovery restarts the recovery window",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, DOWN, UP, false, false, false, None),
                s(100, DOWN, UP, true, true, false, REJ),
                s(130, UP, UP, true, true, false, None),
                s(180, DOWN, UP, true, true, false, None),
                // Would have recovered at 190 without the blip.
                s(185, UP, UP, true, true, false, None),
                s(190, UP, UP, true, true, false, None),
                s(244, UP, UP, true, true, false, None),
                s(245, UP, UP, false, false, false, READMIT),
            ],
        },
        Row {
            name: "double outage: monerod back alone stays rejected, both back readmits",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, DOWN, DOWN, false, false, false, None),
                s(100, DOWN, DOWN, true, true, true, REJ),
                s(130, UP, DOWN, true, true, true, None),
                // monerod has recovered, Tari has not.
                s(190, UP, DOWN, true, false, true, None),
                s(300, UP, DOWN, true, false, true, None),
                s(310, UP, UP, true, false, true, None),
                s(369, UP, UP, true, false, true, None),
                s(370, UP, UP, false, false, false, READMIT),
            ],
        },
        Row {
            name: "double outage: Tari back first, monerod later",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, DOWN, DOWN, false, false, false, None),
                s(100, DOWN, DOWN, true, true, true, REJ),
                s(110, DOWN, UP, true, true, true, None),
                s(170, DOWN, UP, true, true, false, None),
                s(200, UP, UP, true, true, false, None),
                s(260, UP, UP, false, false, false, READMIT),
            ],
        },
        Row {
            name: "second node fails while the first recovers: readmit, then reject again",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, DOWN, UP, false, false, false, None),
                s(100, DOWN, UP, true, true, false, REJ),
                s(110, UP, DOWN, true, true, false, None),
                // monerod recovered; Tari has been unreachable only 60 s: not down yet.
                s(170, UP, DOWN, false, false, false, READMIT),
                s(199, UP, DOWN, false, false, false, None),
                s(200, UP, DOWN, true, false, true, REJ),
            ],
        },
        Row {
            name: "Tari down and required: reject, recover: readmit",
            tari_enabled: true,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, UP, DOWN, false, false, false, None),
                s(99, UP, DOWN, false, false, false, None),
                s(100, UP, DOWN, true, false, true, REJ),
                s(130, UP, UP, true, false, true, None),
                s(190, UP, UP, false, false, false, READMIT),
            ],
        },
        Row {
            name: "Tari down and not required: no reject, tari_down shown",
            tari_enabled: true,
            tari_required: false,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, UP, DOWN, false, false, false, None),
                s(100, UP, DOWN, false, false, true, None),
                s(1_000, UP, DOWN, false, false, true, None),
                s(1_030, UP, UP, false, false, true, None),
                s(1_090, UP, UP, false, false, false, None),
            ],
        },
        Row {
            name: "Tari not required: monerod down still rejects",
            tari_enabled: true,
            tari_required: false,
            steps: vec![
                s(0, UP, DOWN, false, false, false, None),
                s(10, DOWN, DOWN, false, false, false, None),
                s(100, DOWN, DOWN, true, true, false, REJ),
                s(130, UP, DOWN, true, true, false, None),
                s(190, UP, DOWN, false, false, false, READMIT),
            ],
        },
        Row {
            name: "no Tari in the stack: its reachability is ignored",
            tari_enabled: false,
            tari_required: true,
            steps: vec![
                s(0, UP, UP, false, false, false, None),
                s(10, UP, DOWN, false, false, false, None),
                s(1_000, UP, DOWN, false, false, false, None),
            ],
        },
    ]
}

fn run(row: &Row) -> Vec<String> {
    let failover = Failover::new(
        DOWN_AFTER,
        RECOVERY_AFTER,
        row.tari_enabled,
        row.tari_required,
    );
    check(failover, row)
}

/// Steps `failover` through `row`, collecting every step whose verdict differs from the row's.
fn check(mut failover: Failover, row: &Row) -> Vec<String> {
    let at = clock();
    let mut failures = Vec::new();
    for step in &row.steps {
        let got: FailoverDecision = failover.step(
            FailoverObservation {
                monero_reachable: step.monero,
                tari_reachable: step.tari,
            },
            at(step.at),
        );
        let want = FailoverDecision {
            rejected: step.rejected,
            event: step.event,
            monero_down: step.monero_down,
            tari_down: step.tari_down,
        };
        if got != want {
            failures.push(format!(
                "{} @ t={}:\n  expected {want:?}\n  got      {got:?}",
                row.name, step.at
            ));
        }
        if failover.rejected() != got.rejected {
            failures.push(format!(
                "{} @ t={}: rejected() disagrees",
                row.name, step.at
            ));
        }
    }
    failures
}

#[test]
fn catalog_c_rows() {
    let failures: Vec<String> = rows().iter().flat_map(run).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A process that starts from a snapshot: which nodes were down when the previous one stopped.
struct Restart {
    monero_down: bool,
    tari_down: bool,
    row: Row,
}

/// Restarts from a snapshot (`Failover::restore`), as the cycle does before its first step.
fn restart_rows() -> Vec<Restart> {
    vec![
        Restart {
            monero_down: true,
            tari_down: false,
            row: Row {
                name: "restart during a monerod outage: still rejected, no new reject, \
                       readmit only after the full recovery window",
                tari_enabled: true,
                tari_required: true,
                steps: vec![
                    // Still unreachable: rejected from the first step, without waiting 90 s
                    // again, and no transition (the workers already were rejected).
                    s(0, DOWN, UP, true, true, false, None),
                    s(10, UP, UP, true, true, false, None),
                    s(69, UP, UP, true, true, false, None),
                    s(70, UP, UP, false, false, false, READMIT),
                ],
            },
        },
        Restart {
            monero_down: true,
            tari_down: false,
            row: Row {
                name: "restart during a monerod outage that is over: not readmitted at once",
                tari_enabled: false,
                tari_required: false,
                steps: vec![
                    s(0, UP, DOWN, true, true, false, None),
                    s(59, UP, DOWN, true, true, false, None),
                    s(60, UP, DOWN, false, false, false, READMIT),
                ],
            },
        },
        Restart {
            monero_down: false,
            tari_down: true,
            row: Row {
                name: "restart during a required Tari outage: still rejected until Tari recovers",
                tari_enabled: true,
                tari_required: true,
                steps: vec![
                    s(0, UP, DOWN, true, false, true, None),
                    s(30, UP, UP, true, false, true, None),
                    s(90, UP, UP, false, false, false, READMIT),
                ],
            },
        },
        Restart {
            monero_down: false,
            tari_down: true,
            row: Row {
                name: "restart during an optional Tari outage: shown down, never rejected",
                tari_enabled: true,
                tari_required: false,
                steps: vec![
                    s(0, UP, DOWN, false, false, true, None),
                    s(30, UP, UP, false, false, true, None),
                    s(90, UP, UP, false, false, false, None),
                ],
            },
        },
        Restart {
            monero_down: false,
            tari_down: false,
            row: Row {
                name: "restart with nothing down: nothing shown down, no transition",
                tari_enabled: true,
                tari_required: true,
                steps: vec![
                    s(0, UP, UP, false, false, false, None),
                    // A fresh outage needs its whole window, as on a first start.
                    s(10, DOWN, DOWN, false, false, false, None),
                    s(99, DOWN, DOWN, false, false, false, None),
                    s(100, DOWN, DOWN, true, true, true, REJ),
                ],
            },
        },
        Restart {
            monero_down: false,
            tari_down: true,
            row: Row {
                name: "restart with Tari down in the snapshot but no longer in the stack",
                tari_enabled: false,
                tari_required: false,
                steps: vec![s(0, UP, DOWN, false, false, false, None)],
            },
        },
    ]
}

#[test]
fn a_restart_keeps_the_outages_of_its_snapshot() {
    let mut failures = Vec::new();
    for restart in restart_rows() {
        let row = &restart.row;
        let mut failover = Failover::new(
            DOWN_AFTER,
            RECOVERY_AFTER,
            row.tari_enabled,
            row.tari_required,
        );
        failover.restore(restart.monero_down, restart.tari_down);
        // A node restored down was up before the restart: shown down, not "not yet up".
        if failover.monero().ever_up() != restart.monero_down {
            failures.push(format!("{}: monerod ever_up after restore", row.name));
        }
        if row.tari_enabled && failover.tari().ever_up() != restart.tari_down {
            failures.push(format!("{}: Tari ever_up after restore", row.name));
        }
        failures.extend(check(failover, row));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn node_health_down_exactly_at_the_window() {
    let at = clock();
    let mut node = NodeHealth::new(DOWN_AFTER, RECOVERY_AFTER);
    assert_eq!(node.step(true, at(0)), None);
    assert!(node.ever_up());
    assert_eq!(node.step(false, at(0)), None);
    assert_eq!(node.unreachable_since(), Some(at(0)));
    assert_eq!(node.step(false, at(30)), None);
    assert_eq!(node.step(false, at(60)), None);
    assert!(!node.is_down());
    assert_eq!(node.step(false, at(90)), Some(HealthEvent::WentDown));
    assert!(node.is_down());
    // The event fires once per outage.
    assert_eq!(node.step(false, at(120)), None);
    assert!(node.is_down());
}

#[test]
fn node_health_recovers_exactly_at_the_window() {
    let at = clock();
    let mut node = NodeHealth::new(DOWN_AFTER, RECOVERY_AFTER);
    node.step(true, at(0));
    node.step(false, at(1));
    assert_eq!(node.step(false, at(91)), Some(HealthEvent::WentDown));
    assert_eq!(node.step(true, at(100)), None);
    assert_eq!(node.reachable_since(), Some(at(100)));
    assert_eq!(node.step(true, at(159)), None);
    assert!(node.is_down());
    assert_eq!(node.step(true, at(160)), Some(HealthEvent::Recovered));
    assert!(!node.is_down());
    assert_eq!(node.step(true, at(220)), None);
}

#[test]
fn never_reachable_node_is_not_yet_up_not_down() {
    let at = clock();
    let mut node = NodeHealth::new(DOWN_AFTER, RECOVERY_AFTER);
    for i in 0..1_000 {
        assert_eq!(node.step(false, at(i * 30)), None, "step {i}");
    }
    assert!(!node.ever_up());
    assert!(!node.is_down());
    // Once it answers, an outage counts from the first failure after that, not from boot.
    node.step(true, at(30_000));
    assert_eq!(node.step(false, at(30_001)), None);
    assert_eq!(node.step(false, at(30_090)), None);
    assert_eq!(node.step(false, at(30_091)), Some(HealthEvent::WentDown));
}

/// What the Tari node answers in each phase this test drives it through: its replies to
/// `GetNetworkState`, `GetTipInfo` and `GetSyncProgress`.
#[derive(Clone)]
struct TariReplies {
    network: Option<tari::proto::GetNetworkStateResponse>,
    tip: Option<tari::proto::TipInfoResponse>,
    progress: Option<tari::proto::SyncProgressResponse>,
}

impl TariReplies {
    fn tip(state: tari::proto::BaseNodeState, synced: bool, height: u64) -> Self {
        Self {
            network: None,
            tip: Some(tari::proto::TipInfoResponse {
                metadata: Some(tari::proto::MetaData {
                    best_block_height: height,
                    ..Default::default()
                }),
                initial_sync_achieved: synced,
                base_node_state: state as i32,
            }),
            progress: None,
        }
    }

    fn not_ready(status: tari::proto::readiness_status::Status) -> Self {
        Self {
            network: Some(tari::proto::GetNetworkStateResponse {
                readiness_status: Some(tari::proto::ReadinessStatus {
                    status: Some(status),
                    timestamp: 0,
                }),
                ..Default::default()
            }),
            tip: None,
            progress: None,
        }
    }

    fn reading(&self) -> TariReading {
        tari::derive_reading(
            self.network.as_ref(),
            self.tip.as_ref(),
            self.progress.as_ref(),
        )
    }
}

/// The cycle's reduction of a Tari status to the machines' reading (`cycle.rs` `readings()`):
/// no chain reading unless the node answered this cycle.
/// Tari answering while `starting`, `migrating` or `syncing` is reachable: however long that
/// lasts after release, workers are never rejected and the latch holds.
///
/// Driven along the cycle's path, not with a hand-set flag: the node's replies →
/// `derive_reading` → `TariLastGood` (status and reachability) → the machines' `Readings` →
/// `Machines::decide`, with Tari required and seen up first. A regression anywhere on that path
/// that took such a node for unreachable (or down) rejects the workers after the down window
/// and fails here.
#[test]
fn tari_starting_migrating_or_syncing_never_rejects() {
    use tari::proto::readiness_status::{State, Status};
    use tari::proto::BaseNodeState;

    let at = clock();
    let config =
        Config::from_lookup(|key| (key == "TARI_REQUIRED").then(|| "true".to_owned())).unwrap();
    assert!(config.tari_grpc_address.is_some() && config.tari_required);
    let mut machines = Machines::new(&config, true);
    let mut last_good = TariLastGood::default();
    let monero_info = MoneroInfo {
        height: 3_000_000,
        target_height: 0,
        synchronized: true,
        busy_syncing: false,
        offline: false,
        database_size: None,
        nettype: None,
        version: None,
        restricted: false,
    };
    let listening = TariReplies::tip(BaseNodeState::Listening, true, 2_000);
    assert_eq!(listening.reading().state, TariNodeState::Listening);
    for i in 0..500u64 {
        // Up and synced at the release, then (a restart after it) starting, migrating or far
        // behind, for 250 minutes: far past the 90 s down window.
        let (replies, state) = match (i, i % 4) {
            (0, _) => (listening.clone(), TariNodeState::Listening),
            (_, 0) => (
                TariReplies::tip(BaseNodeState::StartUp, false, 0),
                TariNodeState::Starting,
            ),
            (_, 1) => (
                TariReplies::not_ready(Status::State(State::DatabaseInitializing as i32)),
                TariNodeState::Starting,
            ),
            (_, 2) => (
                TariReplies::not_ready(Status::Migration(tari::proto::MigrationProgress {
                    progress_percentage: 40.0,
                    ..Default::default()
                })),
                TariNodeState::Migrating,
            ),
            _ => (
                TariReplies {
                    progress: Some(tari::proto::SyncProgressResponse {
                        tip_height: 100_000,
                        local_height: i,
                        state: 4,
                    }),
                    ..TariReplies::tip(BaseNodeState::HeaderSync, false, i)
                },
                TariNodeState::Syncing,
            ),
        };
        let reading = replies.reading();
        assert_eq!(reading.state, state, "step {i}");
        let status = last_good.observe(&Ok(reading));
        // The cycle's own reduction of its observations to the machines' readings.
        let observations = Observations {
            monero: Some(monero_info.clone()),
            tari: Some(status),
            p2pool_network_height: None,
        };
        let decision = machines.decide(&observations.readings(), at(i * 30));
        assert!(
            !decision.failover.rejected,
            "step {i}: rejected while Tari answers {state:?}"
        );
        assert!(
            !decision.failover.tari_down,
            "step {i}: {state:?} counted down"
        );
        assert!(!decision.gate.holding, "step {i}: re-held");
        assert!(
            !decision
                .owed
                .contains(&ContainerAction::Stop("xmrig-proxy".into())),
            "step {i}: xmrig-proxy stopped while Tari answers {state:?}"
        );
    }
}
