//! Tier 1: the sync gate (catalog section B), table-driven, no I/O.
//!
//! Each row is named after the catalog situation it proves.

use pithead_runtime::control::{
    ChainProgress, ChainReading, ContainerAction, ContainerPlan, GateObservation, GateView, Latch,
    ProgressState, SyncGate,
};
use pithead_runtime::store::{Snapshot, SnapshotStore};

const P2POOL: &str = "p2pool";
const PROXY: &str = "xmrig-proxy";

fn syncing(height: u64, target: u64) -> Option<ChainReading> {
    Some(ChainReading {
        height,
        target,
        syncing: true,
    })
}

fn synced(height: u64) -> Option<ChainReading> {
    Some(ChainReading {
        height,
        target: height,
        syncing: false,
    })
}

fn obs(monero: Option<ChainReading>, tari: Option<ChainReading>) -> GateObservation {
    GateObservation {
        monero,
        tari,
        p2pool_network_height: None,
    }
}

/// What a row expects of one step's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    holding: bool,
    global_sync: bool,
    tari_syncing_passive: bool,
    monero_display_syncing: bool,
    newly_released: bool,
}

struct Row {
    name: &'static str,
    tari_enabled: bool,
    tari_required: bool,
    /// The latch as read from the snapshot.
    released_before: bool,
    observation: GateObservation,
    expect: Expect,
}

fn view_expect(view: &GateView) -> Expect {
    Expect {
        holding: view.holding,
        global_sync: view.global_sync,
        tari_syncing_passive: view.tari_syncing_passive,
        monero_display_syncing: view.monero_display_syncing,
        newly_released: view.newly_released,
    }
}

const HOLD: Expect = Expect {
    holding: true,
    global_sync: true,
    tari_syncing_passive: false,
    monero_display_syncing: false,
    newly_released: false,
};

const RELEASE: Expect = Expect {
    holding: false,
    global_sync: false,
    tari_syncing_passive: false,
    monero_display_syncing: false,
    newly_released: true,
};

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "cold start, both chains syncing: hold",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(syncing(100, 3_000_000), syncing(10, 50_000)),
            expect: Expect {
                monero_display_syncing: true,
                ..HOLD
            },
        },
        Row {
            name: "cold start, nodes not answering yet: hold",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(None, None),
            expect: Expect {
                monero_display_syncing: true,
                ..HOLD
            },
        },
        Row {
            name: "Monero synced, Tari required but syncing: keep holding",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(synced(3_000_000), syncing(40_000, 50_000)),
            expect: HOLD,
        },
        Row {
            name: "Monero synced, Tari required but unreachable: keep holding",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(synced(3_000_000), None),
            expect: HOLD,
        },
        Row {
            name: "Monero synced, Tari non-blocking and syncing: release with the passive badge",
            tari_enabled: true,
            tari_required: false,
            released_before: false,
            observation: obs(synced(3_000_000), syncing(40_000, 50_000)),
            expect: Expect {
                tari_syncing_passive: true,
                ..RELEASE
            },
        },
        Row {
            name: "Monero synced, Tari non-blocking and unreachable: release, no passive badge",
            tari_enabled: true,
            tari_required: false,
            released_before: false,
            observation: obs(synced(3_000_000), None),
            expect: RELEASE,
        },
        Row {
            name: "Monero syncing, Tari non-blocking and syncing: hold, no passive badge",
            tari_enabled: true,
            tari_required: false,
            released_before: false,
            observation: obs(syncing(1, 3_000_000), syncing(40_000, 50_000)),
            expect: Expect {
                monero_display_syncing: true,
                ..HOLD
            },
        },
        Row {
            name: "both synced: release",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(synced(3_000_000), synced(50_000)),
            expect: RELEASE,
        },
        Row {
            name: "no Tari in the stack: Monero alone releases",
            tari_enabled: false,
            tari_required: true,
            released_before: false,
            observation: obs(synced(3_000_000), None),
            expect: RELEASE,
        },
        Row {
            name: "node says syncing but has reached its target: done, release",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(synced(3_000_000), syncing(50_000, 50_000)),
            expect: RELEASE,
        },
        Row {
            name: "p2pool network height 0 override: releases from the node RPC, shown syncing",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: GateObservation {
                p2pool_network_height: Some(0),
                ..obs(synced(3_000_000), synced(50_000))
            },
            expect: Expect {
                monero_display_syncing: true,
                ..RELEASE
            },
        },
        Row {
            name: "p2pool network height known: no display override",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: GateObservation {
                p2pool_network_height: Some(3_000_000),
                ..obs(synced(3_000_000), synced(50_000))
            },
            expect: RELEASE,
        },
        Row {
            name: "restart mid-sync (latch false): hold",
            tari_enabled: true,
            tari_required: true,
            released_before: false,
            observation: obs(syncing(2_000_000, 3_000_000), synced(50_000)),
            expect: Expect {
                monero_display_syncing: true,
                ..HOLD
            },
        },
        Row {
            name: "restart post-release (latch true), chains syncing: never re-hold",
            tari_enabled: true,
            tari_required: true,
            released_before: true,
            observation: obs(syncing(2_000_000, 3_000_000), syncing(1, 50_000)),
            expect: Expect {
                holding: false,
                global_sync: true,
                tari_syncing_passive: false,
                monero_display_syncing: true,
                newly_released: false,
            },
        },
        Row {
            name: "restart post-release (latch true), nodes unreachable: never re-hold",
            tari_enabled: true,
            tari_required: true,
            released_before: true,
            observation: obs(None, None),
            expect: Expect {
                holding: false,
                global_sync: true,
                tari_syncing_passive: false,
                monero_display_syncing: true,
                newly_released: false,
            },
        },
        Row {
            name: "restart post-release (latch true), chains synced: not newly released",
            tari_enabled: true,
            tari_required: true,
            released_before: true,
            observation: obs(synced(3_000_000), synced(50_000)),
            expect: Expect {
                newly_released: false,
                ..RELEASE
            },
        },
    ]
}

#[test]
fn catalog_b_rows() {
    let mut failures = Vec::new();
    for row in rows() {
        let mut gate = SyncGate::new(row.tari_enabled, row.tari_required, row.released_before);
        let view = gate.step(&row.observation);
        let got = view_expect(&view);
        if got != row.expect {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                row.name, row.expect, got
            ));
        }
        if view.released == view.holding || gate.released() != view.released {
            failures.push(format!(
                "{}: latch and holding disagree: {view:?}",
                row.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cold_start_holds_and_plan_owes_both_stops() {
    let mut gate = SyncGate::new(true, true, false);
    let mut plan = ContainerPlan::new(vec![P2POOL.into(), PROXY.into()], PROXY.into());
    let view = gate.step(&obs(syncing(100, 3_000_000), syncing(10, 50_000)));
    assert!(view.holding);
    assert_eq!(view.monero.state, ProgressState::Syncing);
    assert_eq!(view.tari.state, ProgressState::Syncing);
    let owed = plan.step(view.holding, false);
    assert_eq!(
        owed,
        vec![
            ContainerAction::Stop(P2POOL.into()),
            ContainerAction::Stop(PROXY.into())
        ]
    );
}

#[test]
fn monero_synced_tari_required_syncing_stays_held_for_many_cycles() {
    let mut gate = SyncGate::new(true, true, false);
    for cycle in 0..50u64 {
        let view = gate.step(&obs(synced(3_000_000), syncing(40_000 + cycle, 50_000)));
        assert!(view.holding, "cycle {cycle}: released while Tari syncs");
        assert!(!view.newly_released, "cycle {cycle}");
        assert!(
            !view.tari_syncing_passive,
            "cycle {cycle}: blocking Tari shown passive"
        );
    }
    assert!(!gate.released());
}

#[test]
fn both_synced_release_exactly_once_over_many_steps() {
    let mut gate = SyncGate::new(true, true, false);
    let mut releases = Vec::new();
    for cycle in 0..100u64 {
        let observation = match cycle {
            0..10 => obs(syncing(cycle, 100), syncing(cycle, 100)),
            10..20 => obs(synced(100), syncing(cycle, 100)),
            // After release, readings flap between synced, syncing and unreachable.
            _ => match (cycle - 20) % 3 {
                0 => obs(synced(100 + cycle), synced(100 + cycle)),
                1 => obs(syncing(cycle, 1_000), syncing(cycle, 1_000)),
                _ => obs(None, None),
            },
        };
        let view = gate.step(&observation);
        if view.newly_released {
            releases.push(cycle);
        }
        assert_eq!(view.holding, cycle < 20, "cycle {cycle}");
    }
    assert_eq!(
        releases,
        vec![20],
        "newly_released must fire exactly once, at the release"
    );
}

#[test]
fn p2pool_height_zero_override_does_not_deadlock() {
    // p2pool is held, so it reports network height 0 the whole time; the gate must still
    // release from the nodes' own RPC readings.
    let mut gate = SyncGate::new(true, true, false);
    let mut released_at = None;
    for cycle in 0..20u64 {
        let monero = if cycle < 5 {
            syncing(cycle * 100, 3_000_000)
        } else {
            synced(3_000_000)
        };
        let view = gate.step(&GateObservation {
            monero,
            tari: synced(50_000),
            p2pool_network_height: Some(0),
        });
        assert!(
            view.monero_display_syncing,
            "cycle {cycle}: override not shown"
        );
        if view.newly_released {
            released_at = Some(cycle);
        }
    }
    assert_eq!(released_at, Some(5));
    assert!(gate.released());
}

/// A gate as the cycle builds it after a restart: the latch comes from the snapshot on disk.
fn gate_from_snapshot(store: &SnapshotStore) -> SyncGate {
    let released = store
        .load()
        .expect("snapshot readable")
        .unwrap_or_default()
        .miner_released;
    SyncGate::new(true, true, released)
}

/// Persists the latch the way the cycle does, before acting on it.
fn persist(store: &SnapshotStore, view: &GateView) {
    store
        .save(&Snapshot {
            miner_released: view.released,
            ..Snapshot::default()
        })
        .expect("snapshot written");
}

#[test]
fn restart_mid_sync_holds_then_releases_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SnapshotStore::new(dir.path());

    // First process: still syncing, persists a held latch, then dies.
    let mut gate = gate_from_snapshot(&store);
    let first = gate.step(&obs(syncing(2_000_000, 3_000_000), synced(50_000)));
    assert!(first.holding);
    persist(&store, &first);

    // Second process: only the snapshot survives; still mid-sync, so it keeps holding.
    let mut gate = gate_from_snapshot(&store);
    let resumed = gate.step(&obs(syncing(2_500_000, 3_000_000), synced(50_000)));
    assert!(resumed.holding, "a restart mid-sync released the miners");
    assert!(!resumed.released);
    let synced_view = gate.step(&obs(synced(3_000_000), synced(50_000)));
    assert!(synced_view.newly_released);
    assert!(!synced_view.holding);
    persist(&store, &synced_view);

    // Third process: released from the snapshot, never released a second time, never re-holds
    // even when the chains look behind again.
    let mut gate = gate_from_snapshot(&store);
    for observation in [
        obs(syncing(10, 3_000_000), syncing(10, 50_000)),
        obs(None, None),
        obs(synced(3_000_000), synced(50_000)),
    ] {
        let view = gate.step(&observation);
        assert!(!view.holding, "re-held after a restart post-release");
        assert!(!view.newly_released, "released twice across a restart");
    }
}

#[test]
fn restart_post_release_never_re_holds() {
    let mut gate = SyncGate::new(true, true, true);
    for cycle in 0..30u64 {
        let observation = match cycle % 3 {
            0 => obs(syncing(cycle, 3_000_000), syncing(cycle, 50_000)),
            1 => obs(None, None),
            _ => obs(synced(3_000_000), synced(50_000)),
        };
        let view = gate.step(&observation);
        assert!(!view.holding, "cycle {cycle}: re-held after release");
        assert!(view.released, "cycle {cycle}");
        assert!(!view.newly_released, "cycle {cycle}: released twice");
    }
}

#[test]
fn tari_non_blocking_passive_badge_only_while_tari_syncs() {
    let mut gate = SyncGate::new(true, false, false);
    let view = gate.step(&obs(synced(3_000_000), syncing(25_000, 50_000)));
    assert!(view.newly_released);
    assert!(view.tari_syncing_passive);
    assert_eq!(view.tari.percent, 50);
    assert_eq!(view.tari.state, ProgressState::Syncing);
    let view = gate.step(&obs(synced(3_000_000), synced(50_000)));
    assert!(!view.tari_syncing_passive);
    assert_eq!(view.tari.state, ProgressState::Done);
}

struct ProgressRow {
    name: &'static str,
    reading: Option<ChainReading>,
    state: ProgressState,
    percent: u8,
    remaining: u64,
    done: bool,
}

#[test]
fn chain_progress_rows() {
    let rows = [
        ProgressRow {
            name: "no reading",
            reading: None,
            state: ProgressState::Loading,
            percent: 0,
            remaining: 0,
            done: false,
        },
        ProgressRow {
            name: "syncing without a target",
            reading: syncing(10, 0),
            state: ProgressState::Loading,
            percent: 0,
            remaining: 0,
            done: false,
        },
        ProgressRow {
            name: "syncing, percent floors",
            reading: syncing(2, 3),
            state: ProgressState::Syncing,
            percent: 66,
            remaining: 1,
            done: false,
        },
        ProgressRow {
            name: "syncing one block short of a large target: never 100",
            reading: syncing(999_999, 1_000_000),
            state: ProgressState::Syncing,
            percent: 99,
            remaining: 1,
            done: false,
        },
        ProgressRow {
            name: "says syncing at its target: done",
            reading: syncing(1_000, 1_000),
            state: ProgressState::Done,
            percent: 100,
            remaining: 0,
            done: true,
        },
        ProgressRow {
            name: "says syncing beyond its target: done",
            reading: syncing(1_001, 1_000),
            state: ProgressState::Done,
            percent: 100,
            remaining: 0,
            done: true,
        },
        ProgressRow {
            name: "not syncing: done",
            reading: synced(5),
            state: ProgressState::Done,
            percent: 100,
            remaining: 0,
            done: true,
        },
        ProgressRow {
            name: "not syncing below its target (node says synchronized): done, shown 100",
            reading: Some(ChainReading {
                height: 90,
                target: 100,
                syncing: false,
            }),
            state: ProgressState::Done,
            percent: 100,
            remaining: 10,
            done: true,
        },
        ProgressRow {
            name: "heights near u64::MAX do not overflow",
            reading: syncing(u64::MAX - 1, u64::MAX),
            state: ProgressState::Syncing,
            percent: 99,
            remaining: 1,
            done: false,
        },
    ];
    let mut failures = Vec::new();
    for row in rows {
        let p = ChainProgress::from_reading(row.reading);
        let got = (p.state, p.percent, p.remaining, p.done);
        let want = (row.state, row.percent, row.remaining, row.done);
        if got != want {
            failures.push(format!("{}: expected {want:?}, got {got:?}", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn outage_after_release_is_not_shown_as_a_sync() {
    let mut gate = SyncGate::new(true, true, false);
    let view = gate.step(&obs(synced(3_000_000), synced(50_000)));
    assert!(view.newly_released);
    assert!(!view.display_syncing);
    // Both nodes stop answering: the decision sees no reading, the display keeps the last one.
    let view = gate.step(&obs(None, None));
    assert!(view.global_sync, "no reading must not count as done");
    assert!(!view.holding);
    assert!(!view.monero_display_syncing);
    assert!(!view.display_syncing);
    assert_eq!(view.monero.state, ProgressState::Done);
    assert_eq!(view.tari.current, 50_000);
    // p2pool's height-0 override still shows Monero as syncing.
    let view = gate.step(&GateObservation {
        p2pool_network_height: Some(0),
        ..obs(None, None)
    });
    assert!(view.monero_display_syncing && view.display_syncing);
}

#[test]
fn a_stale_reading_never_releases() {
    // monerod synced while Tari blocks; then monerod stops answering as Tari finishes.
    let mut gate = SyncGate::new(true, true, false);
    assert!(
        gate.step(&obs(synced(3_000_000), syncing(1, 50_000)))
            .holding
    );
    let view = gate.step(&obs(None, synced(50_000)));
    assert!(view.holding, "released from monerod's last reading");
    assert!(
        gate.step(&obs(synced(3_000_000), synced(50_000)))
            .newly_released
    );

    // Tari synced while monerod syncs; then Tari stops answering as monerod finishes.
    let mut gate = SyncGate::new(true, true, false);
    assert!(
        gate.step(&obs(syncing(1, 3_000_000), synced(50_000)))
            .holding
    );
    let view = gate.step(&obs(synced(3_000_000), None));
    assert!(view.holding, "released from Tari's last reading");
}

/// Domain §3: a Tari-only endpoint change re-arms only the Tari part. Monero's part stays
/// released, so a monerod a few blocks behind does not hold the miners; Tari syncing does.
#[test]
fn a_tari_only_rearm_holds_for_tari_alone() {
    let mut gate = SyncGate::new(true, true, true);
    gate.rearm_tari();
    assert_eq!(gate.latch(), Latch::TariArmed);
    assert!(!gate.released());
    let behind = syncing(2_999_990, 3_000_000);

    let view = gate.step(&obs(behind, syncing(10, 50_000)));
    assert!(view.holding, "a re-armed Tari part syncing did not hold");
    assert!(!view.released);
    // Tari synced while monerod is still a few blocks behind: Monero's part was never re-armed.
    let view = gate.step(&obs(behind, synced(50_000)));
    assert!(
        view.newly_released && !view.holding,
        "a Tari-only re-arm held for Monero: {view:?}"
    );
    assert_eq!(gate.latch(), Latch::Released);
}

/// The re-armed Tari part decides from a fresh Tari reading only, as the whole gate does.
#[test]
fn a_tari_only_rearm_does_not_release_on_an_unreachable_tari() {
    let mut gate = SyncGate::new(true, true, true);
    gate.rearm_tari();
    let view = gate.step(&obs(synced(3_000_000), None));
    assert!(view.holding, "released without a Tari reading");
    assert!(
        gate.step(&obs(synced(3_000_000), synced(50_000)))
            .newly_released
    );
}

/// A Tari that does not gate the release (optional, or not part of the stack) has no part to
/// re-arm: nothing is held.
#[test]
fn a_tari_only_rearm_of_a_tari_that_does_not_gate_holds_nothing() {
    for (tari_enabled, tari_required) in [(true, false), (false, true), (false, false)] {
        let mut gate = SyncGate::new(tari_enabled, tari_required, true);
        gate.rearm_tari();
        assert!(gate.released(), "{tari_enabled}/{tari_required}");
        let view = gate.step(&obs(syncing(1, 3_000_000), syncing(1, 50_000)));
        assert!(
            !view.holding && !view.newly_released,
            "{tari_enabled}/{tari_required}: {view:?}"
        );
    }
}

/// A Monero change re-arms the whole gate, also over a pending Tari-only re-arm; a Tari-only
/// change never narrows a whole re-arm.
#[test]
fn a_whole_rearm_holds_for_both_chains_and_a_tari_rearm_never_narrows_it() {
    let mut gate = SyncGate::new(true, true, true);
    gate.rearm_tari();
    gate.rearm_all();
    assert_eq!(gate.latch(), Latch::Armed);
    gate.rearm_tari();
    assert_eq!(gate.latch(), Latch::Armed);
    let view = gate.step(&obs(syncing(2_999_990, 3_000_000), synced(50_000)));
    assert!(view.holding, "a whole re-arm released with monerod behind");
    assert!(
        gate.step(&obs(synced(3_000_000), synced(50_000)))
            .newly_released
    );
}
