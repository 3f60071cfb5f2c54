//! The scenario catalog on the simulation tier: every `@sim` scenario of `features/*.feature`.
//!
//! Run: `cargo test -p pithead-scenarios --test catalog`.
//!
//! - `PITHEAD_SCENARIO=<substring>` runs only the scenarios whose name (or feature name) contains
//!   the substring, e.g. `PITHEAD_SCENARIO="Recovery hysteresis" cargo test -p pithead-scenarios
//!   --test catalog`. Outline rows carry their example values in the name.
//! - `PITHEAD_SEED=<u64>` replaces every scenario's seed (by default each scenario's seed is a
//!   hash of its feature and name, so a run replays exactly).
//!
//! What runs and what does not, always said out loud in the summary:
//! - `@pending(capability)`: not run, listed apart with the capability it waits for, never
//!   counted as passed.
//! - no `@sim` tag (only `@mini-stack`, `@live`, `@contract`): not run here, listed with the
//!   tier and command that runs it.
//! - `@quarantine(reason)`: runs, is reported apart, and its failure does not fail the build
//!   (no retries: a flaky scenario is investigated, not retried).
//! - A step that matches no definition fails its scenario, and so the run.
//!
//! Output: cucumber's pretty writer on stdout, JUnit XML in `target/cucumber/junit.xml`, this
//! runner's summary (pending, skipped, quarantined, counts, wall time) last. Exit code 1 on any
//! failure outside quarantine, on a parse error, or when the filter selects nothing.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use cucumber::gherkin;
use cucumber::writer::{self, Coloring, Verbosity};
use cucumber::{event, parser, Event, World as _, Writer, WriterExt as _};
use futures::FutureExt as _;
use pithead_scenarios::sim_driver::SimTier;
use pithead_scenarios::{scenario_seed, CatalogWorld};

/// Where a scenario stands before it runs.
#[derive(Debug, Clone)]
enum Plan {
    /// Waits for a capability: `@pending(...)`.
    Pending(Vec<String>),
    /// Belongs to another tier.
    OtherTier(String),
    /// Runs here; `Some(reason)` when quarantined.
    Run(Option<String>),
}

/// A scenario's identity: feature file, line, names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: String,
    line: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    feature: String,
    scenario: String,
    plan: Plan,
}

#[derive(Debug, Clone, Default)]
struct Outcome {
    finished: bool,
    failure: Option<String>,
}

/// Everything the summary needs, filled by the filter and the ledger writer.
#[derive(Debug, Default)]
struct Book {
    entries: BTreeMap<Key, Entry>,
    outcomes: BTreeMap<Key, Outcome>,
    unselected: usize,
    parse_errors: Vec<String>,
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
        .map(|t| t.trim_start_matches('@'))
}

/// The argument of `@name(arg)` tags.
fn tag_args<'a>(all: &[&'a str], name: &str) -> Vec<&'a str> {
    all.iter()
        .filter_map(|t| t.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')'))
        .collect()
}

fn plan(all: &[&str]) -> Plan {
    let pending = tag_args(all, "pending");
    if !pending.is_empty() {
        return Plan::Pending(pending.into_iter().map(str::to_owned).collect());
    }
    if !all.contains(&"sim") {
        let reason = if all.contains(&"mini-stack") {
            "runs on the mini-stack tier: `cargo xtask test-mini-stack`"
        } else if all.contains(&"live") {
            "runs on the live tier: `cargo xtask test-live --host user@box`"
        } else if all.contains(&"contract") {
            "runs on the contract tier: `cargo test -p pithead-fakes` (clients against the fakes)"
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

/// Records each scenario's end and first failure; the pretty and JUnit writers do the rest.
struct Ledger(Rc<RefCell<Book>>);

impl Ledger {
    fn record(&self, feature: &gherkin::Feature, scenario: &gherkin::Scenario, ev: &Scenario) {
        let mut book = self.0.borrow_mut();
        let outcome = book.outcomes.entry(key(feature, scenario)).or_default();
        let failure = match ev {
            event::Scenario::Step(step, event::Step::Failed(_, _, _, err))
            | event::Scenario::Background(step, event::Step::Failed(_, _, _, err)) => {
                Some(format!("step `{} {}`: {err}", step.keyword.trim(), step.value))
            }
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

type Scenario = event::Scenario<CatalogWorld>;

fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
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
        if let event::Cucumber::Feature(feature, ev) = ev {
            match ev {
                event::Feature::Scenario(sc, ev)
                | event::Feature::Rule(_, event::Rule::Scenario(sc, ev)) => {
                    self.record(&feature, &sc, &ev.event);
                }
                _ => {}
            }
        }
    }
}

impl writer::NonTransforming for Ledger {}

fn junit_path() -> PathBuf {
    // The test binary lives in <target>/<profile>/deps/: honour CARGO_TARGET_DIR that way.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("cucumber").join("junit.xml")
}

fn main() -> ExitCode {
    #[allow(clippy::disallowed_methods)] // wall time of the whole run, printed for people
    let started = std::time::Instant::now();
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");
    let only = std::env::var("PITHEAD_SCENARIO")
        .ok()
        .filter(|s| !s.is_empty());

    let junit = junit_path();
    let junit_file = match junit
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| File::create(&junit))
    {
        Ok(file) => file,
        Err(e) => {
            eprintln!("catalog: cannot create {}: {e}", junit.display());
            return ExitCode::FAILURE;
        }
    };

    let book = Rc::new(RefCell::new(Book::default()));
    let writer = writer::Basic::raw(io::stdout(), Coloring::Auto, Verbosity::Default)
        .summarized()
        .tee::<CatalogWorld, _>(writer::JUnit::for_tee(junit_file, Verbosity::Default))
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
        let all: Vec<&str> = tags(feature, rule, scenario).collect();
        let mut book = filter_book.borrow_mut();
        if let Some(only) = &only {
            if !scenario.name.contains(only.as_str()) && !feature.name.contains(only.as_str()) {
                book.unselected += 1;
                return false;
            }
        }
        let plan = plan(&all);
        let runs = matches!(plan, Plan::Run(_));
        book.entries.insert(
            key(feature, scenario),
            Entry {
                feature: feature.name.clone(),
                scenario: scenario.name.clone(),
                plan,
            },
        );
        runs
    };

    let run = CatalogWorld::cucumber()
        .with_writer(writer)
        .fail_on_skipped()
        .with_default_cli()
        .max_concurrent_scenarios(1)
        .before(|feature, _rule, scenario, world| {
            let seed = scenario_seed(&feature.name, &scenario.name);
            *world = CatalogWorld::on(Box::new(SimTier::new(seed)), &scenario.name);
            async {}.boxed_local()
        })
        .filter_run(features, filter);
    let stats = futures::executor::block_on(run);

    let book = book.borrow();
    let failed = summarize(&book, started.elapsed(), &junit);
    use cucumber::writer::Stats as _;
    let broken = failed
        || stats.parsing_errors() > 0
        || stats.hook_errors() > 0
        || (stats.execution_has_failed() && book.outcomes.values().all(|o| o.failure.is_none()));
    if broken {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the runner's summary; `true` when the run must fail.
fn summarize(book: &Book, wall: std::time::Duration, junit: &Path) -> bool {
    let mut pending = Vec::new();
    let mut other_tier = Vec::new();
    let mut quarantined = Vec::new();
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for (key, entry) in &book.entries {
        let name = format!(
            "{} › {} ({}:{})",
            entry.feature, entry.scenario, key.file, key.line
        );
        match &entry.plan {
            Plan::Pending(capabilities) => {
                pending.push(format!("{name} — waits for {}", capabilities.join(", ")));
            }
            Plan::OtherTier(reason) => other_tier.push(format!("{name} — {reason}")),
            Plan::Run(quarantine) => {
                let outcome = book.outcomes.get(key).cloned().unwrap_or_default();
                let verdict = match (&outcome.failure, outcome.finished) {
                    (Some(why), _) => Err(why.clone()),
                    (None, true) => Ok(()),
                    (None, false) => Err("did not finish".to_owned()),
                };
                match (quarantine, verdict) {
                    (Some(reason), Ok(())) => {
                        quarantined.push(format!("{name} — passed (quarantined: {reason})"));
                    }
                    (Some(reason), Err(why)) => quarantined.push(format!(
                        "{name} — FAILED, not counted (quarantined: {reason}): {why}"
                    )),
                    (None, Ok(())) => passed.push(name),
                    (None, Err(why)) => failed.push(format!("{name}\n      {why}")),
                }
            }
        }
    }

    println!();
    println!("── scenario catalog, simulation tier ─────────────────────────────");
    print_list("pending (not run, never counted as passed)", &pending);
    print_list("skipped here (another tier runs them)", &other_tier);
    print_list("quarantined (run, reported apart, never fail the build)", &quarantined);
    print_list("FAILED", &failed);
    for err in &book.parse_errors {
        println!("parse error: {err}");
    }
    println!(
        "passed {} · failed {} · quarantined {} · pending {} · skipped (other tier) {}{}",
        passed.len(),
        failed.len(),
        quarantined.len(),
        pending.len(),
        other_tier.len(),
        if book.unselected > 0 {
            format!(" · not selected by PITHEAD_SCENARIO {}", book.unselected)
        } else {
            String::new()
        },
    );
    println!("JUnit XML: {}", junit.display());
    println!("wall time: {:.2} s", wall.as_secs_f64());

    let ran = passed.len() + failed.len() + quarantined.len();
    if ran == 0 {
        println!("nothing ran: the filter selected no @sim scenario");
    }
    !failed.is_empty() || !book.parse_errors.is_empty() || ran == 0
}

fn print_list(title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    println!("{title}: {}", items.len());
    for item in items {
        println!("  - {item}");
    }
}
