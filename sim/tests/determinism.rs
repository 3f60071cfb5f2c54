//! A seed means one run: the same seed twice gives the same trace (hash), on any thread.
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use pithead_sim::{run_seed, WorldBuilder};

#[test]
fn a_seed_replays_to_the_same_trace() {
    for seed in [3, 8] {
        let a = run_seed(seed, 3.0).unwrap();
        let b = run_seed(seed, 3.0).unwrap();
        assert_eq!(a, b, "seed {seed}");
        assert!(
            a.faults > 0 && a.docker_calls > 0,
            "the run did something: {a:?}"
        );
    }
    let other = run_seed(4, 3.0).unwrap();
    assert_ne!(other.trace_hash, run_seed(3, 3.0).unwrap().trace_hash);
}

/// Seeds whose XvB slice ends fell on an update tick: the runtime's loop chose between the two
/// with tokio's unseeded random branch order (an extra pass or not), so two runs of these seeds
/// drifted apart after hours (a rejection a tick late, a stop 22 s apart, the heartbeat's
/// cadence). Every wait that races two ready branches is now `biased`.
#[test]
fn seeds_whose_slices_meet_the_tick_replay_to_the_same_trace() {
    for seed in [5, 8, 10, 13] {
        let a = run_seed(seed, 6.0).unwrap();
        let b = run_seed(seed, 6.0).unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
}

#[test]
fn a_seed_replays_the_same_on_another_thread() {
    let here = run_seed(5, 2.0).unwrap();
    let there = std::thread::spawn(|| run_seed(5, 2.0).unwrap())
        .join()
        .unwrap();
    assert_eq!(here.trace_hash, there.trace_hash);
}

#[test]
fn a_scripted_world_replays_to_the_same_trace() {
    let run = || {
        let mut w = WorldBuilder::new(99)
            .monero(MoneroMode::Syncing {
                height: 1,
                target: 100,
            })
            .build();
        w.run_for(Duration::from_secs(200)).unwrap();
        w.set_monero(MoneroMode::Synced { height: 100 });
        w.run_for(Duration::from_secs(300)).unwrap();
        w.crash_runtime();
        w.run_for(Duration::from_secs(20)).unwrap();
        w.restart_runtime();
        w.set_monero(MoneroMode::Busy);
        w.run_for(Duration::from_secs(600)).unwrap();
        (w.trace().hash(), w.trace().to_string())
    };
    let (a, text) = run();
    let (b, _) = run();
    assert_eq!(a, b, "{text}");
}

/// Two tasks woken in the same step (one by a wake from outside the host's runtime, as every
/// network delivery is, one spawned inside it by the other) must run in the same order however
/// many scheduler ticks came before. tokio serves outside wakes first on every 31st tick by
/// default, which made replays of a seed drift apart; the patched turmoil builds its hosts'
/// runtimes so they never do (third_party/turmoil/PITHEAD-PATCH.md).
#[test]
fn the_order_of_tasks_woken_in_one_step_does_not_depend_on_earlier_ticks() {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};
    use tokio::sync::Notify;

    let mut orders = BTreeSet::new();
    for warmup in 0..64u32 {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (outside, trigger) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let mut sim = turmoil::Builder::new().build();
        {
            let (log, outside, trigger) = (log.clone(), outside.clone(), trigger.clone());
            sim.client("host", async move {
                let inside_log = log.clone();
                tokio::spawn(async move {
                    trigger.notified().await;
                    // Spawned inside the runtime: the local queue.
                    tokio::spawn(async move { inside_log.lock().unwrap().push("inside") });
                });
                let outside_log = log.clone();
                tokio::spawn(async move {
                    outside.notified().await;
                    outside_log.lock().unwrap().push("outside");
                });
                // Move the scheduler's tick count by a different amount in each world.
                for _ in 0..warmup {
                    tokio::task::yield_now().await;
                }
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            });
        }
        sim.step().unwrap();
        sim.step().unwrap();
        // Both woken from outside any runtime, between two steps, in this order.
        trigger.notify_one();
        outside.notify_one();
        sim.step().unwrap();
        let order = log.lock().unwrap().join(",");
        orders.insert(order);
    }
    assert_eq!(
        orders.len(),
        1,
        "the order depended on earlier ticks: {orders:?}"
    );
}
