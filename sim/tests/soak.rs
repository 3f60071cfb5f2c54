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
