//! Issue 16, item 6: thirty simulated days of the XvB engine against a donor whose averages
//! follow what was actually sent (lag, credit below 1), with a fleet that varies (a daily
//! ±30 % cycle, a quarter of it gone for four hours, XvB's stats stale for an hour).
//!
//! The target is both averages at or above the tier in ≥ 99 % of cycles after a warm-up
//! day, with a mean excess ≤ 10 %. The engine meets the excess bound; the held share is below
//! the target (the figures print with `--nocapture`), so this test guards the excess bound and a
//! floor under the held share, and the 99 % target stays open in issue 16.

use pithead_sim::xvb::convergence_run;

#[test]
fn thirty_days_against_a_lagging_under_crediting_donor() {
    let report = convergence_run(30, 40_000.0);
    println!("{report:#?}");
    assert!(report.cycles >= 29 * 86_400 / 30, "{report:?}");
    assert!(report.max_fraction <= 0.85, "{report:?}");
    assert!(
        report.mean_excess <= 0.10,
        "mean excess {:.2} %",
        report.mean_excess * 100.0
    );
    // A regression floor, not the goal (see the module doc).
    assert!(
        report.held_share >= 0.93,
        "tier held in {:.2} % of cycles",
        report.held_share * 100.0
    );
}
