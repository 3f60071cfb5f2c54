//! `cargo bench -p pithead-sim`: one simulated day of a full world at 1 s and 100 ms ticks,
//! and swarm seeds per minute. Under `cargo test --all-targets` (no `--bench` flag) it only
//! checks that a short run works.

use std::time::Duration;

use pithead_sim::{bench_day, bench_swarm};

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    if !benching {
        let r = pithead_sim::WorldBuilder::new(1)
            .build()
            .run_for(Duration::from_secs(600));
        assert!(r.is_ok(), "{r:?}");
        return;
    }
    for tick in [Duration::from_secs(1), Duration::from_millis(100)] {
        let r = bench_day(30, tick);
        println!(
            "day @ UPDATE_INTERVAL=30, tick {:?}: {:.3} s wall, {:.0}x real time, {} steps{}",
            tick,
            r.wall_secs,
            r.speedup,
            r.steps,
            r.failure
                .map(|f| format!(" FAILED: {f}"))
                .unwrap_or_default()
        );
    }
    let s = bench_swarm(16, 6.0, 0);
    println!(
        "swarm: {} seeds x {} h on {} threads: {:.2} s wall, {:.0} seeds/minute",
        s.seeds, s.hours, s.threads, s.wall_secs, s.seeds_per_minute
    );
}
