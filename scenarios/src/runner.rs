//! The catalog runner: which scenarios run on which tier, how, and what the run amounts to.
//!
//! The runner knows no tier by name: each scenario runs on the cheapest tier it names that the
//! run's [`Registry`] has a runner for, on a fresh driver from that tier's constructor. What runs
//! and what does not is always said out loud in the [`Report`] and the JUnit XML:
//! - a tag outside the grammar ([`crate::tags`]): the scenario fails, naming the tag;
//! - `@pending(capability)`: not run, listed apart with the capability it waits for, never
//!   counted as passed;
//! - no registered tier among its tier tags (or no tier tag at all): not run, listed with the
//!   tiers it names and the fact that no runner for them is registered;
//! - `@quarantine(reason)`: runs, is reported apart, and its failure does not fail the build (no
//!   retries: a flaky scenario is investigated, not retried);
//! - a step that matches no definition fails its scenario (cucumber's `fail_on_skipped`).
//!
//! Output: cucumber's pretty writer, JUnit XML (`junit`: every scenario, the ones not run as
//! skipped with their reason), and [`Report::print`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use cucumber::gherkin;
use cucumber::writer::{self, Coloring, Verbosity};
use cucumber::{event, parser, Event, World as _, Writer, WriterExt as _};
use futures::FutureExt as _;

use crate::driver::TierError;
use crate::tags::{TagSet, TierTag};
use crate::tiers::{Registry, ScenarioContext};
use crate::{scenario_seed, CatalogWorld};

mod junit;

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
    /// The tiers this run can execute ([`Registry::builtin`] for the crate's own).
    pub tiers: Registry,
}

/// Where a scenario stands before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// A tag outside the grammar: fails without running.
    Invalid(String),
    /// Waits for capabilities: `@pending(...)`.
    Pending(Vec<String>),
    /// No runner in this run for any tier it names (the reason says which).
    OtherTier(String),
    /// Left out by the name filter.
    Unselected,
    /// Runs on `tier`; `quarantine` is the reason when quarantined.
    Run {
        tier: TierTag,
        quarantine: Option<String>,
    },
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
    /// The feature's name.
    feature: String,
    /// The feature file as given to the run.
    path: String,
    /// The scenario's name.
    scenario: String,
    /// The scenario's column in its file.
    column: usize,
    plan: Plan,
}

#[derive(Debug, Clone, Default)]
struct Outcome {
    finished: bool,
    failure: Option<String>,
    /// The first failure was a step the tier declared it cannot perform: skipped, not failed.
    unsupported: Option<String>,
    started: Option<SystemTime>,
    ended: Option<SystemTime>,
    /// One line per step that ran, for the JUnit `system-out`.
    steps: Vec<String>,
}

impl Outcome {
    /// The first failure, or "did not finish" when it never finished.
    fn failure(&self) -> Option<String> {
        match (&self.failure, self.finished) {
            (Some(why), _) => Some(why.clone()),
            (None, true) => None,
            (None, false) => Some("did not finish".to_owned()),
        }
    }

    fn duration(&self) -> Duration {
        match (self.started, self.ended) {
            (Some(start), Some(end)) => end.duration_since(start).unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }
}

/// What the filter and the ledger writer saw.
#[derive(Debug, Default)]
struct Book {
    entries: BTreeMap<Key, Entry>,
    outcomes: BTreeMap<Key, Outcome>,
    unselected: usize,
    parse_errors: Vec<String>,
    /// The name filter, for the reason given to the scenarios it left out.
    only: Option<String>,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Scenarios that passed (`Feature › Scenario (file:line)`).
    pub passed: Vec<String>,
    /// Scenarios that failed outside quarantine, with the first failure.
    pub failed: Vec<(String, String)>,
    /// Scenarios stopped by a step their tier declared it cannot perform (skipped, never
    /// passed), with the tier's reason.
    pub unsupported: Vec<(String, String)>,
    /// Scenarios not run because a tag is outside the grammar, with the tag error.
    pub invalid: Vec<(String, String)>,
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
    /// The tiers the run had a runner for, cheapest first.
    pub tiers: Vec<TierTag>,
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

    /// Whether the run fails the build: a failure outside quarantine, a tag outside the grammar,
    /// a parse error, an error no scenario accounts for, or nothing ran at all.
    pub fn fails_build(&self) -> bool {
        !self.failed.is_empty()
            || !self.invalid.is_empty()
            || !self.parse_errors.is_empty()
            || self.unattributed_errors > 0
            || self.ran() == 0
    }

    /// The human summary: pending, skipped, quarantined, failed, counts, wall time.
    pub fn print(&self, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "── scenario catalog, tiers with a runner: {} ──────────────────",
            self.tier_list()
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
            writeln!(out, "skipped, no runner in this run for their tiers: {n}")?;
            for (title, reason) in &self.other_tier {
                writeln!(out, "  - {title} — {reason}")?;
            }
        }
        if !self.unsupported.is_empty() {
            let n = self.unsupported.len();
            writeln!(
                out,
                "skipped, a step this tier cannot perform (never counted as passed): {n}"
            )?;
            for (title, reason) in &self.unsupported {
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
        if !self.invalid.is_empty() {
            writeln!(
                out,
                "NOT RUN, tags outside the grammar: {}",
                self.invalid.len()
            )?;
            for (title, why) in &self.invalid {
                writeln!(out, "  - {title} — {why}")?;
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
        let invalid = if self.invalid.is_empty() {
            String::new()
        } else {
            format!(" · invalid tags {}", self.invalid.len())
        };
        let unsupported = if self.unsupported.is_empty() {
            String::new()
        } else {
            format!(" · skipped (unsupported step) {}", self.unsupported.len())
        };
        let unselected = if self.unselected > 0 {
            format!(" · not selected by PITHEAD_SCENARIO {}", self.unselected)
        } else {
            String::new()
        };
        writeln!(
            out,
            "passed {} · failed {} · quarantined {} · pending {} · skipped (no runner) {}{unsupported}{invalid}{unselected}",
            self.passed.len(),
            self.failed.len(),
            self.quarantined.len(),
            pending,
            self.other_tier.len(),
        )?;
        if self.ran() == 0 {
            writeln!(
                out,
                "nothing ran: no scenario for a tier with a runner ({}) was selected",
                self.tier_list()
            )?;
        }
        writeln!(out, "wall time: {:.2} s", self.wall.as_secs_f64())
    }

    fn tier_list(&self) -> String {
        if self.tiers.is_empty() {
            return "none".to_owned();
        }
        let tags: Vec<&str> = self.tiers.iter().map(|t| t.tag()).collect();
        tags.join(", ")
    }
}

fn tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a str> {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
        .map(String::as_str)
}

fn plan<'a>(raw: impl IntoIterator<Item = &'a str>, tiers: &Registry) -> Plan {
    let set = match TagSet::parse(raw) {
        Ok(set) => set,
        Err(e) => return Plan::Invalid(format!("tags: {e}")),
    };
    if !set.pending.is_empty() {
        return Plan::Pending(set.pending.iter().map(|c| c.name().to_owned()).collect());
    }
    let Some(tier) = tiers.pick(&set.tiers) else {
        let registered = match tiers.tags().as_slice() {
            [] => "none".to_owned(),
            tags => tags
                .iter()
                .map(|t| format!("@{t}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let reason = if set.tiers.is_empty() {
            "has no tier tag (@sim, @contract, @mini-stack, @live): nothing runs it".to_owned()
        } else {
            let named: Vec<String> = set.tiers.iter().map(|t| format!("@{t}")).collect();
            let which = if named.len() == 1 {
                "that tier"
            } else {
                "any of those tiers"
            };
            format!(
                "tagged {}: no runner for {which} exists in this run (tiers with a runner: {registered})",
                named.join(", ")
            )
        };
        return Plan::OtherTier(reason);
    };
    Plan::Run {
        tier,
        quarantine: set.quarantine,
    }
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
        at: SystemTime,
    ) {
        let mut book = self.0.borrow_mut();
        let outcome = book.outcomes.entry(key(feature, scenario)).or_default();
        if let Some(line) = step_line(ev) {
            outcome.steps.push(line);
        }
        let failure = match ev {
            event::Scenario::Step(step, event::Step::Failed(_, _, _, err))
            | event::Scenario::Background(step, event::Step::Failed(_, _, _, err)) => Some(
                format!("step `{} {}`: {err}", step.keyword.trim(), step.value),
            ),
            event::Scenario::Hook(which, event::Hook::Failed(_, info)) => {
                Some(format!("{which:?} hook panicked: {}", panic_text(info)))
            }
            event::Scenario::Started => {
                outcome.started = Some(at);
                None
            }
            event::Scenario::Finished => {
                outcome.finished = true;
                outcome.ended = Some(at);
                None
            }
            _ => None,
        };
        if outcome.failure.is_none() {
            outcome.unsupported = failure
                .as_deref()
                .and_then(TierError::unsupported_reason)
                .map(str::to_owned);
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
        let (ev, at) = match ev {
            Ok(ev) => (ev.value, ev.at),
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
            self.record(&feature, &sc, &ev.event, at);
        }
    }
}

impl writer::NonTransforming for Ledger {}

/// A step that ended, as one line of the scenario's log.
fn step_line(ev: &event::Scenario<CatalogWorld>) -> Option<String> {
    let (step, ev) = match ev {
        event::Scenario::Step(step, ev) | event::Scenario::Background(step, ev) => (step, ev),
        _ => return None,
    };
    let what = format!("{} {}", step.keyword.trim(), step.value);
    match ev {
        event::Step::Passed(..) => Some(format!("passed: {what}")),
        event::Step::Skipped => Some(format!("skipped (matches no step definition): {what}")),
        event::Step::Failed(_, _, _, err) => Some(format!("FAILED: {what}: {err}")),
        event::Step::Started => None,
    }
}

/// The cargo target directory a harness binary runs from (`<target>/<profile>/deps/`), so
/// `CARGO_TARGET_DIR` is honoured; `target/` next to the workspace when that cannot be told.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Creates `<target>/cucumber/<name>` for a harness's JUnit XML; its path and the open file, or
/// a message naming the path.
pub fn junit_file(name: &str) -> Result<(PathBuf, std::fs::File), String> {
    let path = target_dir().join("cucumber").join(name);
    path.parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| std::fs::File::create(&path))
        .map(|file| (path.clone(), file))
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Runs the catalog in `options.features` on the tiers of `options.tiers` and reports.
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
        tiers,
    } = options;
    let registered = tiers.tags();
    let tiers = Rc::new(tiers);

    let book = Rc::new(RefCell::new(Book {
        only: only.clone(),
        ..Book::default()
    }));
    let writer = writer::Basic::raw(pretty, Coloring::Auto, Verbosity::Default)
        .summarized()
        .tee::<CatalogWorld, _>(
            Ledger(Rc::clone(&book))
                .discard_stats_writes()
                .discard_arbitrary_writes(),
        )
        .normalized();

    let filter_book = Rc::clone(&book);
    let filter_tiers = Rc::clone(&tiers);
    let hook_book = Rc::clone(&book);
    let filter = move |feature: &gherkin::Feature,
                       rule: Option<&gherkin::Rule>,
                       scenario: &gherkin::Scenario| {
        let mut book = filter_book.borrow_mut();
        let key = key(feature, scenario);
        let title = format!(
            "{} › {} ({}:{})",
            feature.name, scenario.name, key.file, key.line
        );
        let selected = only
            .as_deref()
            .is_none_or(|only| scenario.name.contains(only) || feature.name.contains(only));
        let plan = if selected {
            plan(tags(feature, rule, scenario), &filter_tiers)
        } else {
            book.unselected += 1;
            Plan::Unselected
        };
        let runs = matches!(plan, Plan::Run { .. });
        let entry = Entry {
            title,
            feature: feature.name.clone(),
            path: feature
                .path
                .as_deref()
                .map_or_else(|| key.file.clone(), |p| p.display().to_string()),
            scenario: scenario.name.clone(),
            column: scenario.position.col,
            plan,
        };
        book.entries.insert(key, entry);
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
            let planned = hook_book
                .borrow()
                .entries
                .get(&key(feature, scenario))
                .map(|e| e.plan.clone());
            let cx = ScenarioContext {
                feature: &feature.name,
                scenario: &scenario.name,
                seed: seed.unwrap_or_else(|| scenario_seed(&feature.name, &scenario.name)),
            };
            *world = match planned {
                Some(Plan::Run { tier, .. }) => match tiers.make(tier, &cx) {
                    Ok(driver) => CatalogWorld::on(driver, &scenario.name),
                    Err(e) => CatalogWorld::unavailable(
                        &scenario.name,
                        format!("the {tier} tier could not be made: {e}"),
                    ),
                },
                _ => CatalogWorld::unavailable(
                    &scenario.name,
                    "the runner planned no tier for this scenario".to_owned(),
                ),
            };
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
        tiers: registered,
        ..Report::default()
    };
    if let Err(e) = junit::write(&book, junit) {
        report
            .parse_errors
            .push(format!("the JUnit XML was not written: {e}"));
    }
    for (key, entry) in &book.entries {
        let title = entry.title.clone();
        match &entry.plan {
            Plan::Invalid(why) => report.invalid.push((title, why.clone())),
            Plan::Unselected => {}
            Plan::Pending(capabilities) => report
                .pending
                .entry(capabilities.join(" + "))
                .or_default()
                .push(title),
            Plan::OtherTier(reason) => report.other_tier.push((title, reason.clone())),
            Plan::Run { quarantine, .. } => {
                let outcome = book.outcomes.get(key).cloned().unwrap_or_default();
                match (quarantine, outcome.failure()) {
                    (Some(reason), failure) => {
                        report.quarantined.push((title, reason.clone(), failure));
                    }
                    (None, None) => report.passed.push(title),
                    (None, Some(_)) if outcome.unsupported.is_some() => report
                        .unsupported
                        .push((title, outcome.unsupported.clone().unwrap_or_default())),
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
    use crate::driver::TierError;

    fn sim_and_live() -> Registry {
        let refuse = |_: &ScenarioContext<'_>| -> Result<Box<dyn crate::driver::Tier>, TierError> {
            Err(TierError::Check("unit test".into()))
        };
        Registry::empty()
            .with(TierTag::Sim, refuse)
            .with(TierTag::Live, refuse)
    }

    #[test]
    fn pending_wins_over_every_tier_and_lists_each_capability() {
        assert_eq!(
            plan(
                ["@sim", "@pending(live-matrix)", "@pending(cli)"],
                &sim_and_live()
            ),
            Plan::Pending(vec!["cli".into(), "live-matrix".into()])
        );
    }

    #[test]
    fn scenarios_without_a_registered_tier_say_so_and_point_at_no_command() {
        let Plan::OtherTier(reason) = plan(["@mini-stack", "@contract"], &sim_and_live()) else {
            panic!("a mini-stack scenario must be skipped when no mini-stack runner exists");
        };
        assert!(reason.contains("@contract, @mini-stack"), "{reason}");
        assert!(
            reason.contains("no runner for any of those tiers"),
            "{reason}"
        );
        assert!(
            reason.contains("tiers with a runner: @sim, @live"),
            "{reason}"
        );
        assert!(!reason.contains("cargo xtask"), "{reason}");
        let Plan::OtherTier(reason) = plan(["@sim"], &Registry::empty()) else {
            panic!("nothing runs without a registered tier");
        };
        assert!(reason.contains("tiers with a runner: none"), "{reason}");
        let Plan::OtherTier(reason) = plan(["@section-B"], &sim_and_live()) else {
            panic!("an untiered scenario must be reported");
        };
        assert!(reason.contains("nothing runs it"), "{reason}");
    }

    #[test]
    fn the_cheapest_registered_tier_runs_it_and_quarantine_keeps_its_reason() {
        assert_eq!(
            plan(["@sim", "@quarantine(flaky #12)"], &sim_and_live()),
            Plan::Run {
                tier: TierTag::Sim,
                quarantine: Some("flaky #12".into())
            }
        );
        assert_eq!(
            plan(["@live", "@mini-stack"], &sim_and_live()),
            Plan::Run {
                tier: TierTag::Live,
                quarantine: None
            }
        );
    }

    #[test]
    fn a_tag_outside_the_grammar_is_a_failure_naming_it() {
        let Plan::Invalid(why) = plan(["@sim", "@pending(teleport)"], &sim_and_live()) else {
            panic!("an unknown capability must not be skipped quietly");
        };
        assert!(why.contains("pending(teleport)"), "{why}");
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
