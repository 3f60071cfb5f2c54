//! The swarm runner: seeds on several threads, a summary that names each failing seed and the
//! command that replays it, and a timeline of a run.
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pithead_sim::swarm::{replay_command, run_seed_traced, SwarmReport};
use pithead_sim::{swarm, timeline_html, Failure, Invariant, Trace};

#[test]
fn a_small_swarm_passes_and_reports_progress() {
    let calls = AtomicU64::new(0);
    let report = swarm(4, 2.0, 2, |done, total| {
        assert!(done <= total && total == 4);
        calls.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(calls.load(Ordering::Relaxed), 4);
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(
        report.passed.iter().map(|s| s.seed).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(report.summary().contains("4 passed, 0 failed"));
    assert_eq!(report.to_json()["passed"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a_failure_names_its_seed_and_the_replay_command() {
    let report = SwarmReport {
        seeds: 2,
        hours: 6.0,
        tick: Duration::from_secs(1),
        passed: Vec::new(),
        failures: vec![Failure {
            seed: 17,
            step: 1234,
            at: Duration::from_secs(1234),
            invariant: Invariant::LatchNeverReverts,
            message: "miner_released is false in cycle 9".to_owned(),
            trace: Trace::new(),
            replay: None,
        }],
    };
    let text = report.summary();
    assert!(!report.ok());
    assert!(text.contains("seed 17"), "{text}");
    assert!(text.contains("latch-never-reverts"), "{text}");
    assert!(
        text.contains("cargo xtask swarm --replay 17 --hours 6"),
        "{text}"
    );
    assert_eq!(
        replay_command(17, 6.0),
        "cargo xtask swarm --replay 17 --hours 6"
    );
    assert_eq!(report.to_json()["failures"][0]["seed"], 17);
}

#[test]
fn a_run_draws_as_a_timeline() {
    let (summary, trace) = run_seed_traced(2, 2.0).unwrap();
    assert_eq!(summary.trace_hash, trace.hash());
    let html = timeline_html(&trace);
    for lane in [
        "faults",
        "monero reachable (model)",
        "runtime process",
        "gate (held / released)",
        "workers rejected",
        "docker start / stop",
        "sync % (monero, tari)",
    ] {
        assert!(html.contains(lane), "missing lane {lane}");
    }
    assert!(html.contains("<svg") && html.ends_with("</html>\n"));
}
