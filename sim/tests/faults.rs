//! Each fault, one call, against the whole runtime: what it must do, with every invariant
//! checked after every step along the way.
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::time::Duration;

use pithead_fakes::docker::{Outcome, Verb};
use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;
use pithead_sim::world::{DOCKER, MONEROD, RUNTIME, TARI};
use pithead_sim::{What, World, WorldBuilder};

const HEIGHT: u64 = 3_300_000;
const MIN: Duration = Duration::from_secs(60);

fn synced() -> MoneroMode {
    MoneroMode::Synced { height: HEIGHT }
}

/// A released world (both chains synced from the start), Tari required.
fn released(seed: u64) -> World {
    let mut w = WorldBuilder::new(seed).build();
    w.run_until("the release", MIN * 5, |w| w.state().miner_released)
        .unwrap();
    w.run_for(MIN).unwrap();
    w
}

fn count(w: &World, name: &str, verb: Verb, outcome: Outcome) -> usize {
    w.docker()
        .actions()
        .iter()
        .filter(|a| a.container == name && a.verb == verb && a.outcome == outcome)
        .count()
}

fn rejected(w: &World) -> bool {
    w.state().workers_rejected
}

/// Asserts a full outage → reject → recovery → readmit round, with p2pool running throughout.
fn outage_round(w: &mut World, cause: impl FnOnce(&mut World), cure: impl FnOnce(&mut World)) {
    let stops_before = count(w, "xmrig-proxy", Verb::Stop, Outcome::Changed);
    let p2pool_stops = count(w, "p2pool", Verb::Stop, Outcome::Changed);
    cause(w);
    // Not before the down window (90 s)...
    w.run_for(Duration::from_secs(60)).unwrap();
    assert!(
        !rejected(w),
        "rejected before NODE_DOWN_AFTER_SEC\n{}",
        w.trace()
    );
    // ...but soon after it.
    w.run_until("workers rejected", MIN * 3, rejected).unwrap();
    w.run_until("xmrig-proxy stopped", MIN, |w| {
        !w.container_running("xmrig-proxy")
    })
    .unwrap();
    assert!(w.container_running("p2pool"), "p2pool must keep running");
    assert_eq!(
        count(w, "xmrig-proxy", Verb::Stop, Outcome::Changed),
        stops_before + 1
    );
    assert!(w.state().miner_released, "the latch stays released");
    w.run_for(MIN * 5).unwrap();
    assert!(rejected(w));

    cure(w);
    w.run_for(Duration::from_secs(40)).unwrap();
    assert!(rejected(w), "readmitted before NODE_RECOVERY_AFTER_SEC");
    w.run_until("workers readmitted", MIN * 3, |w| !rejected(w))
        .unwrap();
    w.run_until("xmrig-proxy running", MIN, |w| {
        w.container_running("xmrig-proxy")
    })
    .unwrap();
    assert!(w.container_running("p2pool"));
    assert_eq!(
        count(w, "p2pool", Verb::Stop, Outcome::Changed),
        p2pool_stops,
        "p2pool is never stopped after the release"
    );
}

#[test]
fn monerod_down_rejects_then_readmits() {
    let mut w = released(10);
    outage_round(
        &mut w,
        |w| w.set_monero(MoneroMode::Down),
        |w| w.set_monero(synced()),
    );
}

#[test]
fn monerod_busy_garbage_and_slow_past_the_deadline_count_as_unreachable() {
    let mut w = released(11);
    outage_round(
        &mut w,
        |w| w.set_monero(MoneroMode::Busy),
        |w| w.set_monero(synced()),
    );
    outage_round(
        &mut w,
        |w| w.set_monero(MoneroMode::Garbage),
        |w| w.set_monero(synced()),
    );
    outage_round(
        &mut w,
        |w| w.set_monero(MoneroMode::Slow { secs: 30 }),
        |w| w.set_monero(synced()),
    );
}

#[test]
fn a_slow_but_timely_monerod_and_a_short_blip_reject_nothing() {
    let mut w = released(12);
    w.set_monero(MoneroMode::Slow { secs: 1 });
    w.run_for(MIN * 10).unwrap();
    w.set_monero(synced());
    w.set_monero(MoneroMode::Down);
    w.run_for(Duration::from_secs(40)).unwrap();
    w.set_monero(synced());
    w.run_for(MIN * 10).unwrap();
    assert_eq!(
        count(&w, "xmrig-proxy", Verb::Stop, Outcome::Changed),
        0,
        "{}",
        w.trace()
    );
    assert!(!rejected(&w));
}

#[test]
fn partition_and_hold_between_runtime_and_monerod_are_outages() {
    let mut w = released(13);
    outage_round(
        &mut w,
        |w| w.partition(RUNTIME, MONEROD),
        |w| w.repair(RUNTIME, MONEROD),
    );
    outage_round(
        &mut w,
        |w| w.hold(RUNTIME, MONEROD),
        |w| w.release(RUNTIME, MONEROD),
    );
}

#[test]
fn required_tari_down_rejects_and_its_readiness_states_do_not() {
    let mut w = released(14);
    outage_round(
        &mut w,
        |w| w.set_tari(TariMode::Down),
        |w| w.set_tari(TariMode::Synced { height: 90_000 }),
    );
    outage_round(
        &mut w,
        |w| w.partition(RUNTIME, TARI),
        |w| w.repair(RUNTIME, TARI),
    );
    for mode in [
        TariMode::Starting,
        TariMode::Migrating,
        TariMode::Syncing {
            local: 10,
            tip: 90_000,
        },
    ] {
        w.set_tari(mode);
        w.run_for(MIN * 10).unwrap();
        assert!(!rejected(&w), "Tari answering is reachable\n{}", w.trace());
        assert!(w.state().miner_released);
    }
}

#[test]
fn optional_tari_never_rejects_but_monerod_still_does() {
    let mut w = WorldBuilder::new(15)
        .env("TARI_REQUIRED", "false")
        .tari(Some(TariMode::Syncing {
            local: 10,
            tip: 90_000,
        }))
        .monero(MoneroMode::Syncing {
            height: 10,
            target: HEIGHT,
        })
        .build();
    w.run_for(MIN * 3).unwrap();
    assert!(!w.state().miner_released);
    w.set_monero(synced());
    w.run_until("release on monerod alone", MIN * 3, |w| {
        w.state().miner_released
    })
    .unwrap();
    w.set_tari(TariMode::Down);
    w.run_for(MIN * 15).unwrap();
    assert!(!rejected(&w), "optional Tari never rejects\n{}", w.trace());
    assert!(w.state().nodes["tari"].down, "but it is shown down");
    outage_round(
        &mut w,
        |w| w.set_monero(MoneroMode::Down),
        |w| w.set_monero(synced()),
    );
}

#[test]
fn a_double_outage_readmits_only_when_both_are_back() {
    let mut w = released(16);
    w.set_monero(MoneroMode::Down);
    w.set_tari(TariMode::Down);
    w.run_until("workers rejected", MIN * 4, rejected).unwrap();
    w.set_monero(synced());
    w.run_for(MIN * 10).unwrap();
    assert!(rejected(&w), "Tari is still down\n{}", w.trace());
    w.set_tari(TariMode::Synced { height: 90_000 });
    w.run_until("readmitted", MIN * 4, |w| !rejected(w))
        .unwrap();
}

#[test]
fn refused_docker_calls_are_retried_until_they_land() {
    let mut w = WorldBuilder::new(17)
        .monero(MoneroMode::Syncing {
            height: 10,
            target: HEIGHT,
        })
        .build();
    w.run_for(MIN * 2).unwrap();
    w.refuse_docker(3);
    w.set_monero(synced());
    w.run_until("both miners running", MIN * 5, |w| {
        w.container_running("p2pool") && w.container_running("xmrig-proxy")
    })
    .unwrap();
    assert_eq!(w.docker_tap().refused(), 3);
    let refused = w
        .trace()
        .events()
        .iter()
        .filter(|e| matches!(e.what, What::Docker { status: 500, .. }))
        .count();
    assert_eq!(refused, 3);
    assert_eq!(count(&w, "p2pool", Verb::Start, Outcome::Changed), 1);
    assert_eq!(count(&w, "xmrig-proxy", Verb::Start, Outcome::Changed), 1);
}

#[test]
fn a_docker_partition_delays_the_reject_until_it_heals() {
    let mut w = released(18);
    w.partition(RUNTIME, DOCKER);
    w.set_monero(MoneroMode::Down);
    w.run_until("workers rejected", MIN * 4, rejected).unwrap();
    w.run_for(MIN * 3).unwrap();
    assert!(w.container_running("xmrig-proxy"), "docker is unreachable");
    w.repair(RUNTIME, DOCKER);
    w.run_until("xmrig-proxy stopped", MIN * 2, |w| {
        !w.container_running("xmrig-proxy")
    })
    .unwrap();
}

#[test]
fn a_restart_after_the_release_never_holds_again() {
    let mut w = released(19);
    w.crash_runtime();
    assert!(
        w.fetch_state_json().is_err(),
        "a crashed runtime does not answer"
    );
    w.run_for(MIN).unwrap();
    w.restart_runtime();
    w.run_until("a cycle after the restart", MIN, |w| w.cycles() >= 1)
        .unwrap();
    w.run_for(MIN * 5).unwrap();
    assert!(w.state().miner_released);
    assert!(w.container_running("p2pool") && w.container_running("xmrig-proxy"));
    assert_eq!(count(&w, "p2pool", Verb::Stop, Outcome::Changed), 0);
}

#[test]
fn a_restart_mid_sync_keeps_holding() {
    let mut w = WorldBuilder::new(20)
        .monero(MoneroMode::Syncing {
            height: 10,
            target: HEIGHT,
        })
        .build();
    w.run_for(MIN * 3).unwrap();
    w.crash_runtime();
    w.run_for(MIN).unwrap();
    w.restart_runtime();
    w.run_for(MIN * 3).unwrap();
    assert!(w.state().miner_held);
    assert!(!w.container_running("p2pool"));
    w.set_monero(synced());
    w.run_until("the release", MIN * 3, |w| w.state().miner_released)
        .unwrap();
}

#[test]
fn api_state_answers_while_monerod_is_slow_and_while_docker_is_held() {
    let mut w = released(21);
    w.set_monero(MoneroMode::Slow { secs: 3600 });
    w.hold(RUNTIME, DOCKER);
    for _ in 0..5 {
        w.run_for(MIN).unwrap();
        let state = w.fetch_state_json().unwrap();
        assert_eq!(state["miner_released"], true);
    }
    w.release(RUNTIME, DOCKER);
    w.set_monero(synced());
    w.run_for(MIN * 10).unwrap();
}

/// Tests of the tests: a checker that assumes other thresholds than the runtime's must fail,
/// naming the right invariant.
mod checker_sensitivity {
    use super::*;
    use pithead_sim::Invariant;

    fn failure_of(
        mut w: World,
        script: impl FnOnce(&mut World) -> Result<(), pithead_sim::Failure>,
    ) -> Invariant {
        match script(&mut w) {
            Ok(()) => panic!(
                "the checker accepted a runtime that breaks its assumption\n{}",
                w.trace()
            ),
            Err(failure) => failure.invariant,
        }
    }

    #[test]
    fn an_early_reject_is_caught() {
        let w = WorldBuilder::new(30)
            .expect_env("NODE_DOWN_AFTER_SEC", "900")
            .build();
        let invariant = failure_of(w, |w| {
            w.run_for(MIN * 2)?;
            w.set_monero(MoneroMode::Down);
            w.run_for(MIN * 10)
        });
        // The docker stop of the reject container or the published down flag, whichever the
        // checker sees first.
        assert!(
            [
                Invariant::DownOnlyAfterWindow,
                Invariant::RejectOnlyWhenRequiredNodeDown
            ]
            .contains(&invariant),
            "{invariant}"
        );
    }

    #[test]
    fn a_late_reject_is_caught() {
        let w = WorldBuilder::new(31)
            .env("NODE_DOWN_AFTER_SEC", "1200")
            .expect_env("NODE_DOWN_AFTER_SEC", "90")
            .build();
        let invariant = failure_of(w, |w| {
            w.run_for(MIN * 2)?;
            w.set_monero(MoneroMode::Down);
            w.run_for(MIN * 30)
        });
        assert_eq!(invariant, Invariant::OutageIsNoticed);
    }

    #[test]
    fn an_early_readmit_is_caught() {
        let w = WorldBuilder::new(32)
            .expect_env("NODE_RECOVERY_AFTER_SEC", "900")
            .build();
        let invariant = failure_of(w, |w| {
            w.run_for(MIN * 2)?;
            w.set_monero(MoneroMode::Down);
            w.run_for(MIN * 5)?;
            w.set_monero(synced());
            w.run_for(MIN * 10)
        });
        assert_eq!(invariant, Invariant::RecoveredOnlyAfterWindow);
    }

    #[test]
    fn a_release_while_a_required_chain_syncs_is_caught() {
        let w = WorldBuilder::new(33)
            .env("TARI_REQUIRED", "false")
            .expect_env("TARI_REQUIRED", "true")
            .tari(Some(TariMode::Syncing {
                local: 10,
                tip: 90_000,
            }))
            .build();
        let invariant = failure_of(w, |w| w.run_for(MIN * 5));
        assert_eq!(invariant, Invariant::HoldUntilSynced);
    }

    #[test]
    fn a_held_gate_while_synced_is_caught() {
        let w = WorldBuilder::new(34)
            .env("TARI_REQUIRED", "true")
            .expect_env("TARI_REQUIRED", "false")
            .tari(Some(TariMode::Syncing {
                local: 10,
                tip: 90_000,
            }))
            .build();
        let invariant = failure_of(w, |w| w.run_for(MIN * 10));
        assert_eq!(invariant, Invariant::ReleaseWhenSynced);
    }

    #[test]
    fn a_wrong_reject_container_is_caught() {
        let w = WorldBuilder::new(35)
            .expect_env("REJECT_WORKERS_CONTAINER", "p2pool")
            .build();
        let invariant = failure_of(w, |w| {
            w.run_for(MIN * 2)?;
            w.set_monero(MoneroMode::Down);
            w.run_for(MIN * 5)
        });
        assert_eq!(invariant, Invariant::LatchNeverReverts);
    }
}
