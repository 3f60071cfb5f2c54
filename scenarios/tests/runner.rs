//! The runner says out loud what it did not run, fails what it must, and forgives only
//! quarantine: checked on the fixture catalogs in `tests/fixtures/`.

use std::io;
use std::path::{Path, PathBuf};

use pithead_scenarios::runner::{run, Options, Report};
use pithead_scenarios::tiers::Registry;

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn run_fixture(dir: &str, only: Option<&str>) -> Report {
    run(Options {
        features: fixture(dir),
        only: only.map(str::to_owned),
        seed: None,
        pretty: Box::new(io::sink()),
        junit: Box::new(io::sink()),
        show_record: false,
        tiers: Registry::builtin(),
    })
}

fn failure_of<'a>(report: &'a Report, scenario: &str) -> &'a str {
    report
        .failed
        .iter()
        .find(|(title, _)| title.contains(scenario))
        .map(|(_, why)| why.as_str())
        .unwrap_or_else(|| panic!("{scenario:?} should have failed; report: {report:#?}"))
}

// One test, so the runs share no thread with another world (the simulation counts panics per
// thread, and a failing step is a panic).
#[test]
fn the_runner_fails_what_it_must_and_lists_what_it_skips() {
    let report = run_fixture("runner", None);
    assert!(report.fails_build());
    assert!(report.passed.is_empty(), "{report:#?}");
    assert_eq!(report.failed.len(), 7, "{report:#?}");

    let why = failure_of(&report, "an unknown step fails");
    assert!(why.contains("the moon turns blue"), "{why}");
    assert!(why.contains("doesn't match any function"), "{why}");

    let why = failure_of(&report, "a false readiness fails");
    assert!(
        why.contains("timed out") && why.contains("miner_held=true"),
        "{why}"
    );
    assert!(why.contains("last events of the trace"), "{why}");

    let why = failure_of(&report, "a broken stay fails");
    assert!(why.contains("stopped holding at t="), "{why}");
    assert!(why.contains("p2pool running"), "{why}");

    let why = failure_of(&report, "a wrong api value fails");
    assert!(why.contains("sync.monero.percent = 40"), "{why}");

    let why = failure_of(&report, "started exactly once");
    assert!(why.contains("started 0 times"), "{why}");

    let why = failure_of(&report, "no stop after release");
    assert!(why.contains("never saw the miners released"), "{why}");

    let why = failure_of(&report, "a setting after boot");
    assert!(why.contains("after the stack booted"), "{why}");

    assert_eq!(report.invalid.len(), 1, "{report:#?}");
    let (title, why) = &report.invalid[0];
    assert!(title.contains("an unknown capability fails"), "{title}");
    assert!(
        why.contains("unknown capability in \"@pending(teleport)\""),
        "{why}"
    );

    assert_eq!(report.quarantined.len(), 1, "{report:#?}");
    let (_, reason, failure) = &report.quarantined[0];
    assert_eq!(reason, "known-flake-123");
    assert!(
        failure.is_some(),
        "the quarantined scenario fails, and says so"
    );

    assert_eq!(report.pending_count(), 1);
    assert!(report.pending.contains_key("xvb-engine"), "{report:#?}");
    assert_eq!(report.other_tier.len(), 1);
    let (_, why) = &report.other_tier[0];
    assert!(
        why.contains("tagged @mini-stack: no runner for that tier exists"),
        "{why}"
    );

    let mut summary = Vec::new();
    report.print(&mut summary).expect("print to a Vec");
    let summary = String::from_utf8(summary).expect("UTF-8 summary");
    assert!(
        summary.contains(
            "failed 7 · quarantined 1 · pending 1 · skipped (no runner) 1 · invalid tags 1"
        ),
        "{summary}"
    );

    // A quarantined failure alone does not fail the build.
    let report = run_fixture("quarantine", None);
    assert_eq!(report.passed.len(), 1, "{report:#?}");
    assert_eq!(report.quarantined.len(), 1, "{report:#?}");
    assert!(!report.fails_build(), "{report:#?}");

    // A filter that selects nothing fails the build instead of passing vacuously.
    let report = run_fixture("quarantine", Some("no such scenario"));
    assert_eq!(report.unselected, 2);
    assert!(report.fails_build());
}
