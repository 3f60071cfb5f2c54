//! The catalog runner: which scenarios run on this tier, how, and what the run amounts to.
//!
//! What runs and what does not is always said out loud in the [`Report`]:
//! - `@pending(capability)`: not run, listed apart with the capability it waits for, never
//!   counted as passed;
//! - no `@sim` tag (only `@mini-stack`, `@live`, `@contract`): not run here, listed with the tier
//!   and the command that runs it;
//! - `@quarantine(reason)`: runs, is reported apart, and its failure does not fail the build (no
//!   retries: a flaky scenario is investigated, not retried);
//! - a step that matches no definition fails its scenario (cucumber's `fail_on_skipped`).
//!
//! Output: cucumber's pretty writer, JUnit XML, and [`Report::print`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use cucumber::gherkin;
use cucumber::writer::{self, Coloring, Verbosity};
use cucumber::{event, parser, Event, World as _, Writer, WriterExt as _};
use futures::FutureExt as _;

use crate::sim_driver::SimTier;
use crate::{scenario_seed, CatalogWorld};

/// What to run and where the output goes.
pub struct Options {
    /// The directory of `.feature` files.
    pub features: PathBuf,
    /// Run only scenarios whose name (or feature name) contains this.
    pub only: Option<String>,
    /// Seed for every scenario instead of each one's own ([`scenario_seed`]).
    pub seed: Option<u64>,
    /// Where cucumber's pretty output goes.
    pub pretty: Box<dyn io::Write>,
    /// Where the JUnit XML goes.
    pub junit: Box<dyn io::Write>,
    /// Print each scenario's tier record (the simulation's trace) on stderr when it ends.
    pub show_record: bool,
}

/// Where a scenario stands before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// Waits for capabilities: `@pending(...)`.
    Pending(Vec<String>),
    /// Belongs to another tier (the reason says which and how to run it).
    OtherTier(String),
    /// Runs here; `Some(reason)` when quarantined.
    Run(Option<String>),
}

/// A scenario's identity: feature file and line (outline rows have their own line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: String,
    line: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    /// `Feature › Scenario (file:line)`.
    title: String,
    plan: Plan,
}

#[derive(Debug, Clone, Default)]
struct Outcome {
    finished: bool,
    failure: Option<String>,
}

/// What the filter and the ledger writer saw.
#[derive(Debug, Default)]
struct Book {
    entries: BTreeMap<Key, Entry>,
    outcomes: BTreeMap<Key, Outcome>,
    unselected: usize,
    parse_errors: Vec<String>,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Scenarios that passed (`Feature › Scenario (file:line)`).
    pub passed: Vec<String>,
    /// Scenarios that failed outside quarantine, with the first failure.
    pub failed: Vec<(String, String)>,
    /// Quarantined scenarios: title, reason, and the failure when it failed.
    pub quarantined: Vec<(String, String, Option<String>)>,
    /// Pending scenarios by the capabilities they wait for (`a + b`).
    pub pending: BTreeMap<String, Vec<String>>,
    /// Scenarios another tier runs, with the reason.
    pub other_tier: Vec<(String, String)>,
    /// Scenarios the name filter left out.
    pub unselected: usize,
    /// Feature files that did not parse.
    pub parse_errors: Vec<String>,
    /// Errors cucumber counted that no scenario accounts for (hooks, parsing).
    pub unattributed_errors: usize,
    /// Wall time of the run.
    pub wall: Duration,
}

impl Report {
    /// Pending scenarios in all.
    pub fn pending_count(&self) -> usize {
        self.pending.values().map(Vec::len).sum()
    }

    /// Scenarios that ran (passed, failed or quarantined).
    pub fn ran(&self) -> usize {
        self.passed.len() + self.failed.len() + self.quarantined.len()
    }

    /// Whether the run fails the build: a failure outside quarantine, a parse error, an error no
    /// scenario accounts for, or nothing ran at all.
    pub fn fails_build(&self) -> bool {
        !self.failed.is_empty()
            || !self.parse_errors.is_empty()
            || self.unattributed_errors > 0
            || self.ran() == 0
    }

    /// The human summary: pending, skipped, quarantined, failed, counts, wall time.
    pub fn print(&self, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "── scenario catalog, simulation tier ─────────────────────────────"
        )?;
        let pending = self.pending_count();
        if pending > 0 {
            writeln!(out, "pending (not run, never counted as passed): {pending}")?;
            for (capabilities, titles) in &self.pending {
                writeln!(out, "  waiting for {capabilities}: {}", titles.len())?;
                for title in titles {
                    writeln!(out, "    - {title}")?;
                }
            }
        }
        if !self.other_tier.is_empty() {
            let n = self.other_tier.len();
            writeln!(out, "skipped here, another tier runs them: {n}")?;
            for (title, reason) in &self.other_tier {
                writeln!(out, "  - {title} — {reason}")?;
            }
        }
        if !self.quarantined.is_empty() {
            let n = self.quarantined.len();
            writeln!(
                out,
                "quarantined (run, reported apart, never fail the build): {n}"
            )?;
            for (title, reason, failure) in &self.quarantined {
                match failure {
                    None => writeln!(out, "  - {title} — passed (quarantined: {reason})")?,
                    Some(why) => writeln!(
                        out,
                        "  - {title} — FAILED, not counted (quarantined: {reason}): {why}"
                    )?,
                }
            }
        }
        if !self.failed.is_empty() {
            writeln!(out, "FAILED: {}", self.failed.len())?;
            for (title, why) in &self.failed {
                writeln!(out, "  - {title}\n      {}", why.replace('\n', "\n      "))?;
            }
        }
        for err in &self.parse_errors {
            writeln!(out, "parse error: {err}")?;
        }
        if self.unattributed_errors > 0 {
            writeln!(
                out,
                "errors outside any scenario (hooks, parsing): {}",
                self.unattributed_errors
            )?;
        }
        let unselected = if self.unselected > 0 {
            format!(" · not selected by PITHEAD_SCENARIO {}", self.unselected)
        } else {
            String::new()
        };
        writeln!(
            out,
            "passed {} · failed {} · quarantined {} · pending {} · skipped (other tier) {}{unselected}",
            self.passed.len(),
            self.failed.len(),
            self.quarantined.len(),
            pending,
            self.other_tier.len(),
        )?;
        if self.ran() == 0 {
            writeln!(out, "nothing ran: no @sim scenario was selected")?;
        }
        writeln!(out, "wall time: {:.2} s", self.wall.as_secs_f64())
    }
}

fn tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> Vec<&'a str> {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@'))
        .collect()
}

/// The arguments of every `@name(arg)` tag.
fn tag_args<'a>(all: &[&'a str], name: &str) -> Vec<&'a str> {
    all.iter()
        .filter_map(|t| t.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')'))
        .collect()
}

fn plan(all: &[&str]) -> Plan {
    let pending = tag_args(all, "pending");
    if !pending.is_empty() {
        let mut capabilities: Vec<String> = pending.into_iter().map(str::to_owned).collect();
        capabilities.sort();
        capabilities.dedup();
        return Plan::Pending(capabilities);
    }
    if !all.contains(&"sim") {
        let reason = if all.contains(&"mini-stack") {
            "runs on the mini-stack tier: `cargo xtask test-mini-stack`"
        } else if all.contains(&"live") {
            "runs on the live tier: `cargo xtask test-live --host user@box`"
        } else if all.contains(&"contract") {
            "runs on the contract tier: the clients against the fakes (`cargo xtask test`)"
        } else {
            "has no tier tag (@sim, @mini-stack, @live, @contract): nothing runs it"
        };
        return Plan::OtherTier(reason.to_owned());
    }
    let quarantine = tag_args(all, "quarantine");
    Plan::Run(quarantine.first().map(|r| (*r).to_owned()))
}

fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Key {
    let file = feature
        .path
        .as_deref()
        .and_then(Path::file_name)
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| feature.name.clone());
    Key {
        file,
        line: scenario.position.line,
    }
}

fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}

/// Records each scenario's end and first failure; the pretty and JUnit writers do the rest.
struct Ledger(Rc<RefCell<Book>>);

impl Ledger {
    fn record(
        &self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: &event::Scenario<CatalogWorld>,
    ) {
        let mut book = self.0.borrow_mut();
        let outcome = book.outcomes.entry(key(feature, scenario)).or_default();
        let failure = match ev {
            event::Scenario::Step(step, event::Step::Failed(_, _, _, err))
            | event::Scenario::Background(step, event::Step::Failed(_, _, _, err)) => Some(
                format!("step `{} {}`: {err}", step.keyword.trim(), step.value),
            ),
            event::Scenario::Hook(which, event::Hook::Failed(_, info)) => {
                Some(format!("{which:?} hook panicked: {}", panic_text(info)))
            }
            event::Scenario::Finished => {
                outcome.finished = true;
                None
            }
            _ => None,
        };
        if outcome.failure.is_none() {
            outcome.failure = failure;
        }
    }
}

impl Writer<CatalogWorld> for Ledger {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: parser::Result<Event<event::Cucumber<CatalogWorld>>>,
        _cli: &Self::Cli,
    ) {
        let ev = match ev {
            Ok(ev) => ev.value,
            Err(err) => {
                self.0.borrow_mut().parse_errors.push(err.to_string());
                return;
            }
        };
        if let event::Cucumber::Feature(
            feature,
            event::Feature::Scenario(sc, ev)
            | event::Feature::Rule(_, event::Rule::Scenario(sc, ev)),
        ) = ev
        {
            self.record(&feature, &sc, &ev.event);
        }
    }
}

impl writer::NonTransforming for Ledger {}

/// Runs the catalog in `options.features` on the simulation tier and reports.
///
/// Blocks the calling thread (the simulation runs its own tokio runtimes, so this must not be
/// called from inside an async runtime).
pub fn run(options: Options) -> Report {
    #[allow(clippy::disallowed_methods)] // wall time of the run, printed for people
    let started = std::time::Instant::now();
    let Options {
        features,
        only,
        seed,
        pretty,
        junit,
        show_record,
    } = options;

    let book = Rc::new(RefCell::new(Book::default()));
    let writer = writer::Basic::raw(pretty, Coloring::Auto, Verbosity::Default)
        .summarized()
        .tee::<CatalogWorld, _>(writer::JUnit::for_tee(junit, Verbosity::Default))
        .tee::<CatalogWorld, _>(
            Ledger(Rc::clone(&book))
                .discard_stats_writes()
                .discard_arbitrary_writes(),
        )
        .normalized();

    let filter_book = Rc::clone(&book);
    let filter = move |feature: &gherkin::Feature,
                       rule: Option<&gherkin::Rule>,
                       scenario: &gherkin::Scenario| {
        let mut book = filter_book.borrow_mut();
        if let Some(only) = only.as_deref() {
            if !scenario.name.contains(only) && !feature.name.contains(only) {
                book.unselected += 1;
                return false;
            }
        }
        let key = key(feature, scenario);
        let title = format!(
            "{} › {} ({}:{})",
            feature.name, scenario.name, key.file, key.line
        );
        let plan = plan(&tags(feature, rule, scenario));
        let runs = matches!(plan, Plan::Run(_));
        book.entries.insert(key, Entry { title, plan });
        runs
    };

    let run = CatalogWorld::cucumber()
        .with_writer(writer)
        .fail_on_skipped()
        .with_default_cli()
        // One at a time: the steps block their thread (the simulation is synchronous), and the
        // simulation counts panics per thread, so a failing step (a panic) must not share its
        // thread with another running world.
        .max_concurrent_scenarios(1)
        .before(move |feature, _rule, scenario, world| {
            let seed = seed.unwrap_or_else(|| scenario_seed(&feature.name, &scenario.name));
            *world = CatalogWorld::on(Box::new(SimTier::new(seed)), &scenario.name);
            async {}.boxed_local()
        })
        .after(move |_feature, _rule, scenario, _finished, world| {
            if let (true, Some(record)) = (show_record, world.and_then(|w| w.record())) {
                eprintln!("── {} ──\n{record}", scenario.name);
            }
            async {}.boxed_local()
        })
        .filter_run(features, filter);
    let stats = futures::executor::block_on(run);

    let book = book.borrow();
    let mut report = Report {
        unselected: book.unselected,
        parse_errors: book.parse_errors.clone(),
        ..Report::default()
    };
    for (key, entry) in &book.entries {
        let title = entry.title.clone();
        match &entry.plan {
            Plan::Pending(capabilities) => report
                .pending
                .entry(capabilities.join(" + "))
                .or_default()
                .push(title),
            Plan::OtherTier(reason) => report.other_tier.push((title, reason.clone())),
            Plan::Run(quarantine) => {
                let outcome = book.outcomes.get(key).cloned().unwrap_or_default();
                let failure = match (outcome.failure, outcome.finished) {
                    (Some(why), _) => Some(why),
                    (None, true) => None,
                    (None, false) => Some("did not finish".to_owned()),
                };
                match (quarantine, failure) {
                    (Some(reason), failure) => {
                        report.quarantined.push((title, reason.clone(), failure));
                    }
                    (None, None) => report.passed.push(title),
                    (None, Some(why)) => report.failed.push((title, why)),
                }
            }
        }
    }
    use cucumber::writer::Stats as _;
    let attributed = book.outcomes.values().any(|o| o.failure.is_some());
    report.unattributed_errors = stats.hook_errors()
        + stats
            .parsing_errors()
            .saturating_sub(book.parse_errors.len())
        + usize::from(stats.execution_has_failed() && !attributed);
    report.wall = started.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_wins_over_every_tier_and_lists_each_capability() {
        assert_eq!(
            plan(&["sim", "pending(live-matrix)", "pending(cli)"]),
            Plan::Pending(vec!["cli".into(), "live-matrix".into()])
        );
    }

    #[test]
    fn scenarios_without_sim_name_the_tier_that_runs_them() {
        let Plan::OtherTier(reason) = plan(&["mini-stack", "live"]) else {
            panic!("a mini-stack scenario must be skipped here");
        };
        assert!(reason.contains("cargo xtask test-mini-stack"), "{reason}");
        let Plan::OtherTier(reason) = plan(&["live"]) else {
            panic!("a live scenario must be skipped here");
        };
        assert!(reason.contains("test-live"), "{reason}");
        let Plan::OtherTier(reason) = plan(&["section-B"]) else {
            panic!("an untiered scenario must be reported");
        };
        assert!(reason.contains("nothing runs it"), "{reason}");
    }

    #[test]
    fn quarantine_still_runs_with_its_reason() {
        assert_eq!(
            plan(&["sim", "quarantine(flaky #12)"]),
            Plan::Run(Some("flaky #12".into()))
        );
        assert_eq!(plan(&["sim", "mini-stack"]), Plan::Run(None));
    }

    #[test]
    fn an_empty_run_fails_the_build() {
        let empty = Report::default();
        assert!(empty.fails_build());
        let quarantined_failure = Report {
            passed: vec!["a".into()],
            quarantined: vec![("b".into(), "flaky".into(), Some("boom".into()))],
            ..Report::default()
        };
        assert!(!quarantined_failure.fails_build());
    }
}
