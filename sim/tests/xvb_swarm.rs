//! The swarm's XvB faults: seeds whose schedule enables the engine (the XvB site down, fail-count
//! bursts) run with every invariant of the world checked.

use pithead_sim::run_seed;
use pithead_sim::schedule::{Action, Schedule};

fn with_xvb(seed: u64, hours: f64) -> bool {
    Schedule::generate(seed, hours)
        .env
        .iter()
        .any(|(k, v)| k == "XVB_ENABLED" && v == "true")
}

#[test]
fn seeds_with_xvb_faults_hold_every_invariant() {
    let hours = 1.5;
    let seeds: Vec<u64> = (0..64).filter(|s| with_xvb(*s, hours)).take(3).collect();
    assert_eq!(seeds.len(), 3, "half the seeds enable the engine");
    for seed in seeds {
        let schedule = Schedule::generate(seed, hours);
        assert!(
            schedule
                .actions
                .iter()
                .any(|(_, a)| matches!(a, Action::XvbFleet(_))),
            "seed {seed}"
        );
        let summary = run_seed(seed, hours).unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        assert!(summary.steps > 0, "seed {seed}");
    }
}
