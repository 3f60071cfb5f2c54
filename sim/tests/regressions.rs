//! Behaviours the simulation found wrong in the runtime, kept as regression tests:
//! - the container plan now reads back containers that must stay stopped (`ContainerPlan::observe`);
//! - which nodes were down is persisted with the latch, so a restart mid-outage keeps rejecting.
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use pithead_sim::WorldBuilder;

const MIN: Duration = Duration::from_secs(60);

/// The container plan remembers what *it* applied and never reads docker's state back: a gate
/// container started behind its back while the gate holds (an operator, a restart policy, a
/// docker daemon restart) keeps mining on an unsynced node, and the runtime never stops it again.
#[test]
fn a_miner_started_by_hand_during_the_hold_is_stopped_again() {
    let mut w = WorldBuilder::new(40)
        .monero(MoneroMode::Syncing {
            height: 10,
            target: 3_300_000,
        })
        .build();
    w.run_for(MIN * 3).unwrap();
    w.set_container("p2pool", true);
    w.run_for(MIN * 10).unwrap_or_else(|f| panic!("{f}"));
    assert!(!w.container_running("p2pool"));
}

/// `ever_up` is per process (domain.md §4): after a restart during a monerod outage the new
/// process has never seen monerod up, so it never counts it down — and its first cycle starts
/// xmrig-proxy again. Workers are readmitted for the rest of the outage.
#[test]
fn a_restart_during_an_outage_keeps_workers_rejected() {
    let mut w = WorldBuilder::new(41).build();
    w.run_for(MIN * 3).unwrap();
    w.set_monero(MoneroMode::Down);
    w.run_until("rejected", MIN * 4, |w| w.state().workers_rejected)
        .unwrap();
    w.crash_runtime();
    w.run_for(MIN).unwrap();
    w.restart_runtime();
    w.run_for(MIN * 10).unwrap();
    assert!(
        !w.container_running("xmrig-proxy"),
        "monerod is still down but workers were readmitted\n{}",
        w.trace()
    );
}
