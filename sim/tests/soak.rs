//! The soak: simulated days of random outages, asserting that nothing grows without bound and
//! that the gate and the failover settle every day.
//!
//! The 30-day run takes minutes in a debug build: it is `#[ignore]`d here and run in release by
//! `cargo xtask soak` (`cargo test --release -p pithead-sim --test soak -- --ignored`).
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use pithead_sim::soak::{soak, SoakReport};

fn assert_bounded(report: &SoakReport) {
    let days = &report.days;
    assert!(!days.is_empty());
    let first = &days[0];
    for d in days {
        // The read model does not grow with time or with the number of outages seen.
        assert!(
            d.api_state_bytes <= 16 * 1024,
            "day {}: /api/state is {} bytes",
            d.day,
            d.api_state_bytes
        );
        assert!(
            d.api_state_bytes <= first.api_state_bytes + first.api_state_bytes / 4,
            "day {}: /api/state grew from {} to {} bytes",
            d.day,
            first.api_state_bytes,
            d.api_state_bytes
        );
        // The trace of a day is a function of that day's faults, not of the days before.
        assert!(
            d.events <= 400 + 20 * d.faults,
            "day {}: {} events for {} faults",
            d.day,
            d.events,
            d.faults
        );
        // The data directory holds the snapshot and nothing piles up beside it.
        assert!(
            d.data_files <= 2,
            "day {}: {} files in DATA_DIR",
            d.day,
            d.data_files
        );
        assert!(
            d.data_bytes <= 64 * 1024,
            "day {}: {} bytes in DATA_DIR",
            d.day,
            d.data_bytes
        );
        // No connection leak: the runtime's host holds a handful of sockets at most.
        assert!(
            d.open_connections <= 8,
            "day {}: {} connections still open",
            d.day,
            d.open_connections
        );
    }
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
