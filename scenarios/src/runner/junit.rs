//! The JUnit XML of a run: every scenario the run saw, the ones it did not run as skipped with
//! their reason (cucumber's own JUnit writer never sees a filtered-out scenario).
//!
//! One `testsuite` per feature file, one `testcase` per scenario in file order, named as
//! cucumber names them (`Scenario: <name>: <file>:<line>:<column>`).

use std::collections::BTreeMap;
use std::io;

use junit_report::{Duration, Report, TestCase, TestSuite};

use super::{Book, Entry, Outcome, Plan};

/// Writes the JUnit XML of `book` to `out`.
pub(super) fn write(book: &Book, mut out: Box<dyn io::Write>) -> Result<(), junit_report::Error> {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for (key, entry) in &book.entries {
        let outcome = book.outcomes.get(key).cloned().unwrap_or_default();
        let suite = suites.entry(&key.file).or_insert_with(|| {
            TestSuite::new(&format!("Feature: {}: {}", entry.feature, entry.path))
        });
        suite.add_testcase(case(entry, key.line, &outcome, book.only.as_deref()));
    }
    let mut report = Report::new();
    for suite in suites.into_values() {
        report.add_testsuite(suite);
    }
    if !book.parse_errors.is_empty() {
        let mut errors = TestSuite::new("Errors");
        for err in &book.parse_errors {
            errors.add_testcase(TestCase::failure(
                "Feature",
                Duration::ZERO,
                "Parser Error",
                err,
            ));
        }
        report.add_testsuite(errors);
    }
    report.write_xml(&mut out)?;
    out.flush()?;
    Ok(())
}

fn case(entry: &Entry, line: usize, outcome: &Outcome, only: Option<&str>) -> TestCase {
    let name = format!(
        "Scenario: {}: {}:{line}:{}",
        entry.scenario, entry.path, entry.column
    );
    let time = Duration::try_from(outcome.duration()).unwrap_or(Duration::ZERO);
    let mut case = match &entry.plan {
        Plan::Invalid(why) => TestCase::failure(&name, time, "Invalid Tags", why),
        Plan::Pending(capabilities) => TestCase::skipped_with_cause(
            &name,
            "Pending",
            &format!("pending: waits for {}", capabilities.join(" + ")),
        ),
        Plan::OtherTier(reason) => TestCase::skipped_with_cause(&name, "No Runner", reason),
        Plan::Unselected => TestCase::skipped_with_cause(
            &name,
            "Not Selected",
            &format!(
                "not selected by PITHEAD_SCENARIO={:?}",
                only.unwrap_or_default()
            ),
        ),
        Plan::Run { tier, quarantine } => match (quarantine, outcome.failure()) {
            (_, None) => TestCase::success(&name, time),
            (_, Some(_)) if outcome.unsupported.is_some() => TestCase::skipped_with_cause(
                &name,
                "Unsupported Step",
                &format!(
                    "on {tier}: {}",
                    outcome.unsupported.as_deref().unwrap_or_default()
                ),
            ),
            (None, Some(why)) => {
                TestCase::failure(&name, time, "Step Failed", &format!("on {tier}: {why}"))
            }
            (Some(reason), Some(why)) => TestCase::failure(
                &name,
                time,
                "Quarantined",
                &format!("on {tier}, quarantined ({reason}), does not fail the build: {why}"),
            ),
        },
    };
    if !outcome.steps.is_empty() {
        case.set_system_out(&outcome.steps.join("\n"));
    }
    case
}
