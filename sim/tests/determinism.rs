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

/// A host's tick in which nothing would run only moves its clock (the patched tokio and turmoil,
/// third_party/tokio/PITHEAD-PATCH.md). That must change nothing a run does: the same seeds,
/// with every host ticked on every step, give the same trace; and most host ticks were skipped,
/// or the skip is not what makes the swarm fast.
#[test]
fn skipping_idle_host_ticks_changes_no_trace() {
    use pithead_sim::swarm::{run_seed_stepped, DEFAULT_TICK};
    // Seed 94's task order once depended on how many scheduler ticks came before.
    for (seed, hours, tick) in [
        (0, 3.0, DEFAULT_TICK),
        (94, 3.0, DEFAULT_TICK),
        (5, 0.5, Duration::from_millis(100)),
    ] {
        let (skipping, skipped_trace) = run_seed_stepped(seed, hours, tick, true).unwrap();
        let (ticking, ticked_trace) = run_seed_stepped(seed, hours, tick, false).unwrap();
        assert_eq!(
            skipped_trace.to_string(),
            ticked_trace.to_string(),
            "seed {seed}"
        );
        assert_eq!(skipping.trace_hash, ticking.trace_hash, "seed {seed}");
        assert_eq!(ticking.idle_ticks_skipped, 0);
        // Two hosts or more run on every step.
        assert!(
            skipping.idle_ticks_skipped > skipping.steps,
            "seed {seed}: only {} of {} steps' host ticks skipped",
            skipping.idle_ticks_skipped,
            skipping.steps
        );
    }
}

/// Timers land on the same virtual instant whether or not the ticks around them are skipped:
/// deadlines inside a tick, on a tick's end, and many ticks away, on a host that does nothing
/// else, and a second host whose message wakes it mid-sleep.
#[test]
fn a_skipped_idle_tick_moves_no_timer() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    let run = |skip: bool| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut sim = turmoil::Builder::new()
            .tick_duration(Duration::from_secs(1))
            .simulation_duration(Duration::from_secs(300))
            .skip_idle_ticks(skip)
            .build();
        let sleeper_seen = seen.clone();
        sim.host("sleeper", move || {
            let seen = sleeper_seen.clone();
            async move {
                let start = Instant::now();
                let listener = turmoil::net::TcpListener::bind("0.0.0.0:7").await?;
                for ms in [1_500u64, 1_000, 250, 7_000, 30_000, 999, 1] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    seen.lock().unwrap().push(("sleeper", start.elapsed()));
                }
                let (mut stream, _) = listener.accept().await?;
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).await?;
                seen.lock()
                    .unwrap()
                    .push(("woken by the network", start.elapsed()));
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let client_seen = seen.clone();
        sim.client("caller", async move {
            let start = Instant::now();
            tokio::time::sleep(Duration::from_millis(55_500)).await;
            let mut stream = turmoil::net::TcpStream::connect("sleeper:7").await?;
            stream.write_all(b"x").await?;
            client_seen
                .lock()
                .unwrap()
                .push(("caller", start.elapsed()));
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        });
        sim.run().unwrap();
        let skipped = sim.idle_ticks_skipped();
        let seen = seen.lock().unwrap().clone();
        (seen, skipped)
    };
    let (skipping, skipped) = run(true);
    let (ticking, none) = run(false);
    assert_eq!(skipping, ticking);
    // Timers fire at their own millisecond inside a tick, skipped ticks or not; the network
    // moves at tick boundaries.
    let ms = Duration::from_millis;
    assert_eq!(
        skipping,
        [
            ("sleeper", ms(1_500)),
            ("sleeper", ms(2_500)),
            ("sleeper", ms(2_750)),
            ("sleeper", ms(9_750)),
            ("sleeper", ms(39_750)),
            ("sleeper", ms(40_749)),
            ("sleeper", ms(40_750)),
            ("caller", ms(56_000)),
            ("woken by the network", ms(57_000)),
        ]
    );
    assert_eq!(none, 0);
    assert!(skipped > 50, "only {skipped} idle ticks skipped");
}
