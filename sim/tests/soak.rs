//! The soak: simulated days of random outages, asserting that nothing grows without bound and
//! that the gate and the failover settle every day.
//!
//! The 30-day run takes minutes in a debug build: it is `#[ignore]`d here and run in release,
//! with a progress bar, by `cargo xtask soak` (`pithead-sim soak --seed 30 --days 30`).
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use pithead_sim::soak::{soak, SoakReport};

fn assert_bounded(report: &SoakReport) {
    let problems = report.unbounded();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn one_day_soak_settles_and_stays_bounded() {
    let report = soak(7, 1).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.days.len(), 1);
    assert!(report.days[0].faults > 0);
    assert_bounded(&report);
}

/// A seed that sends alerts takes sinks down on its days: the soak's world carries the sinks
/// (it used to panic on the first sink fault, as `soak --seed 30` did).
#[test]
fn a_seed_with_alerts_soaks_with_its_sinks() {
    use pithead_sim::schedule::{Action, Schedule};
    let seed = (0..200)
        .find(|s| {
            let knobs = Schedule::generate(*s, 1.0).knobs;
            Schedule::generate(*s, 1.0).alerts
                && Schedule::soak_day(*s, 0, &knobs)
                    .actions
                    .iter()
                    .any(|(_, a)| matches!(a, Action::Sink(..)))
        })
        .expect("a seed with alerts and a sink fault on its first day");
    let report = soak(seed, 1).unwrap_or_else(|f| panic!("seed {seed}: {f}"));
    assert_eq!(report.days.len(), 1);
    assert_bounded(&report);
}

#[test]
#[ignore = "30 simulated days: run in release (`cargo xtask soak`)"]
fn thirty_day_soak_settles_every_day_and_stays_bounded() {
    let report = soak(30, 30).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.days.len(), 30);
    assert_bounded(&report);
    println!(
        "{}",
        serde_json::to_string_pretty(&report.days).unwrap_or_default()
    );
}

#[test]
fn a_history_past_its_budget_or_its_retention_is_reported() {
    let mut knobs = pithead_sim::schedule::Schedule::generate(1, 1.0).knobs;
    knobs.interval = 30;
    let day = |history_bytes, history_samples| pithead_sim::soak::DayStats {
        day: 0,
        api_state_bytes: 4_000,
        events: 10,
        data_files: 3,
        data_bytes: history_bytes,
        history_bytes,
        history_samples,
        faults: 1,
        open_connections: 1,
    };
    let report = |d| SoakReport {
        seed: 1,
        knobs: knobs.clone(),
        days: vec![d],
        trace_hash: 0,
    };
    // 30 days at 30 s: 86,400 rows and a few MB are within bounds.
    assert_bounded(&report(day(3_000_000, 86_400)));
    let problems = |d| report(d).unbounded().join("\n");
    assert!(problems(day(9 * 1024 * 1024, 86_400)).contains("history database"));
    assert!(problems(day(3_000_000, 90_000)).contains("samples in the history"));
    assert!(problems(day(3_000_000, 0)).contains("no samples"));
}
