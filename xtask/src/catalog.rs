//! `cargo xtask catalog [--check]`: the scenario catalog, generated from `features/*.feature`.
//!
//! The Gherkin files are the catalog's single source: each feature is one section (A–H) of the
//! testing strategy, each scenario one situation. This module parses them with the parser the
//! runner uses, reads their tags with the runner's grammar (`pithead_scenarios::tags`), checks
//! every step of a scenario some runner executes against the step library itself
//! (`pithead_scenarios::steps::Vocabulary`), and renders `docs/scenario-catalog.md`. A tier is
//! shown runnable only when the tier factory (`pithead_scenarios::tiers::Registry::builtin`) or a
//! harness of its own (`pithead_scenarios::tiers::HARNESSES`: the mini-stack) has a runner for it.
//! `--check` regenerates the document in memory and fails when the file on disk
//! differs.
//!
//! On top of the grammar, the catalog's own rules: exactly one `@section-X` per feature, on the
//! feature, matching the file's prefix; at least one tier tag per scenario; `@pending(mini-stack)`
//! and `@pending(live-matrix)` need their own tier tag; `@quarantine` on scenarios only; no tags
//! on an `Examples` block (the runner plans by feature and scenario tags only).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use pithead_scenarios::gherkin::{self, GherkinEnv, StepType};
use pithead_scenarios::steps::{StepKind, Vocabulary};
pub use pithead_scenarios::tags::{Capability, TagSet, TierTag, SECTIONS};
use pithead_scenarios::tiers::{Registry, HARNESSES};

/// The catalog document, relative to the workspace root.
pub const CATALOG_DOC: &str = "docs/scenario-catalog.md";
/// Where the feature files live, relative to the workspace root.
pub const FEATURES_DIR: &str = "features";

/// What the catalog learns from the scenarios crate: the step library and the tiers with a
/// runner.
#[derive(Debug, Clone)]
pub struct Library {
    /// Every step definition the runner registers.
    pub vocabulary: Vocabulary,
    /// The tiers the tier factory can run.
    pub runners: BTreeSet<TierTag>,
}

impl Library {
    /// The scenarios crate's own: its step library, [`Registry::builtin`] and the tiers whose
    /// runner is a harness of its own ([`HARNESSES`]).
    pub fn of_scenarios() -> Self {
        let mut tiers = Registry::builtin().tags();
        tiers.extend(HARNESSES.iter().map(|(tag, _)| *tag));
        Self::with_runners(&tiers)
    }

    /// The step library with a runner for exactly `tiers` (to try a tier that does not exist).
    pub fn with_runners(tiers: &[TierTag]) -> Self {
        Self {
            vocabulary: Vocabulary::of_library(),
            runners: tiers.iter().copied().collect(),
        }
    }
}

/// How one tier of one scenario stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Executed by that tier's runner.
    Covered,
    /// Named, but no runner for that tier exists: nothing executes it there.
    NoRunner,
    /// Executed, but its failure does not fail the build (`@quarantine`).
    Quarantined(String),
    /// Waiting on the named capabilities.
    Pending(Vec<Capability>),
}

/// One catalog row: a scenario or a scenario outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The catalog section (A–H).
    pub section: char,
    /// The feature file's name, e.g. `b_sync_lifecycle.feature`.
    pub file: String,
    /// The line of the scenario in its file.
    pub line: usize,
    /// The situation: the scenario's name.
    pub name: String,
    /// Example rows of an outline; `None` for a plain scenario.
    pub examples: Option<usize>,
    /// The first column of each example row, to name the cases.
    pub example_values: Vec<String>,
    /// The `When` steps, in order, with the passage of time left out.
    pub triggers: Vec<String>,
    /// The tiers the scenario names (its own and its feature's tags).
    pub tiers: BTreeSet<TierTag>,
    /// The tiers a runner exists for (see [`Library::runners`]).
    pub runners: BTreeSet<TierTag>,
    /// The capabilities it waits on.
    pub pending: BTreeSet<Capability>,
    /// The issues it belongs to.
    pub issues: BTreeSet<u32>,
    /// Why it is quarantined, when it is.
    pub quarantine: Option<String>,
}

impl Row {
    /// How many scenarios cucumber runs for this row (an outline runs once per example).
    pub fn scenario_count(&self) -> usize {
        self.examples.unwrap_or(1)
    }

    /// The state of one of its tiers, or `None` when the scenario does not name that tier.
    pub fn cell(&self, tier: TierTag) -> Option<Cell> {
        if !self.tiers.contains(&tier) {
            return None;
        }
        Some(if !self.pending.is_empty() {
            Cell::Pending(self.pending.iter().copied().collect())
        } else if !self.runners.contains(&tier) {
            Cell::NoRunner
        } else if let Some(reason) = &self.quarantine {
            Cell::Quarantined(reason.clone())
        } else {
            Cell::Covered
        })
    }

    /// Executed by a runner (at least one ✅ tier).
    pub fn is_runnable(&self) -> bool {
        TierTag::ALL
            .iter()
            .any(|t| self.cell(*t) == Some(Cell::Covered))
    }

    /// Waits on a capability (`@pending`): no tier runs it yet.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Runs only under quarantine.
    pub fn is_quarantined(&self) -> bool {
        !self.is_runnable()
            && TierTag::ALL
                .iter()
                .any(|t| matches!(self.cell(*t), Some(Cell::Quarantined(_))))
    }
}

/// Whether a `When` step only lets time pass (`60 seconds pass`).
fn is_time_passing(step: &str) -> bool {
    match step.strip_suffix(" seconds pass") {
        Some(n) => !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

/// Parses one feature file's text into catalog rows, validating its tags and, for scenarios a
/// runner executes, that every step is a phrase of the step library.
pub fn parse_feature(file: &str, text: &str, library: &Library) -> anyhow::Result<Vec<Row>> {
    let feature = gherkin::Feature::parse(text, GherkinEnv::default())
        .map_err(|e| anyhow::anyhow!("{file}: not valid Gherkin: {e}"))?;
    let shared = TagSet::parse(feature.tags.iter().map(String::as_str))
        .with_context(|| format!("{file}: feature tags"))?;
    if shared.quarantine.is_some() {
        bail!("{file}: quarantine a scenario, not a whole feature");
    }
    let section = match shared.sections.iter().collect::<Vec<_>>()[..] {
        [] => bail!("{file}: the feature has no @section-X tag"),
        [c] => *c,
        [a, b, ..] => bail!("{file}: two section tags (@section-{a} and @section-{b})"),
    };
    let prefix = file.chars().next().map(|c| c.to_ascii_uppercase());
    if prefix != Some(section) {
        bail!("{file}: tagged @section-{section} but the file name does not start with its letter");
    }
    if !feature.rules.is_empty() {
        bail!("{file}: Rule blocks are not used in the catalog; list scenarios directly");
    }

    let background: Vec<(StepKind, String)> = feature
        .background
        .iter()
        .flat_map(|b| b.steps.iter())
        .map(|s| (StepKind::from(s.ty), s.value.clone()))
        .collect();

    let mut rows = Vec::new();
    for scenario in &feature.scenarios {
        let line = scenario.position.line;
        let at = format!("{file}:{line} \"{}\"", scenario.name);
        if scenario.examples.iter().any(|e| !e.tags.is_empty()) {
            // The runner plans by feature and scenario tags only; an Examples tag would make
            // the catalog and the run disagree.
            bail!("{at}: tag the scenario outline, not its Examples block");
        }
        let own =
            TagSet::parse(scenario.tags.iter().map(String::as_str)).with_context(|| at.clone())?;
        if let Some(c) = own.sections.first() {
            bail!("{at}: @section-{c} belongs on the feature, not a scenario");
        }
        let tiers: BTreeSet<TierTag> = shared.tiers.union(&own.tiers).copied().collect();
        let pending: BTreeSet<Capability> = shared.pending.union(&own.pending).copied().collect();
        if tiers.is_empty() {
            bail!("{at}: no tier tag (@sim, @contract, @mini-stack or @live)");
        }
        for c in &pending {
            if let Some(tier) = c.harness_tier() {
                if !tiers.contains(&tier) {
                    bail!(
                        "{at}: @pending({}) without the @{} tier tag",
                        c.name(),
                        tier.tag()
                    );
                }
            }
        }
        let examples = if scenario.examples.is_empty() {
            None
        } else {
            let mut n = 0;
            for ex in &scenario.examples {
                let rows = ex
                    .table
                    .as_ref()
                    .map_or(0, |t| t.rows.len().saturating_sub(1));
                if rows == 0 {
                    bail!("{at}: an Examples block has no rows");
                }
                n += rows;
            }
            Some(n)
        };
        let triggers: Vec<String> = scenario
            .steps
            .iter()
            .filter(|s| s.ty == StepType::When && !is_time_passing(&s.value))
            .map(|s| s.value.clone())
            .collect();
        let row = Row {
            section,
            file: file.to_owned(),
            line,
            name: scenario.name.clone(),
            examples,
            example_values: scenario
                .examples
                .iter()
                .filter_map(|e| e.table.as_ref())
                .flat_map(|t| t.rows.iter().skip(1))
                .filter_map(|r| r.first().cloned())
                .collect(),
            triggers,
            runners: tiers.intersection(&library.runners).copied().collect(),
            tiers,
            pending,
            issues: shared.issues.union(&own.issues).copied().collect(),
            quarantine: own.quarantine,
        };
        let executed = TierTag::ALL
            .iter()
            .any(|t| matches!(row.cell(*t), Some(Cell::Covered | Cell::Quarantined(_))));
        if executed {
            let steps: Vec<(StepKind, String)> = background
                .iter()
                .cloned()
                .chain(
                    scenario
                        .steps
                        .iter()
                        .map(|s| (StepKind::from(s.ty), s.value.clone())),
                )
                .collect();
            for (kind, text) in expand_outline(&steps, scenario) {
                library
                    .vocabulary
                    .find(kind, &text)
                    .with_context(|| at.clone())?;
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The steps of a scenario with every outline placeholder replaced, once per example row.
fn expand_outline(
    steps: &[(StepKind, String)],
    scenario: &gherkin::Scenario,
) -> Vec<(StepKind, String)> {
    let tables: Vec<&gherkin::Table> = scenario
        .examples
        .iter()
        .filter_map(|e| e.table.as_ref())
        .collect();
    if tables.is_empty() {
        return steps.to_vec();
    }
    let mut out = Vec::new();
    for table in tables {
        let Some((header, body)) = table.rows.split_first() else {
            continue;
        };
        for values in body {
            for (kind, text) in steps {
                let mut text = text.clone();
                for (key, value) in header.iter().zip(values) {
                    text = text.replace(&format!("<{key}>"), value);
                }
                out.push((*kind, text));
            }
        }
    }
    out
}

/// Escapes text for a Markdown table cell outside code spans.
fn cell_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// Wraps a step in a code span fit for a table cell.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

/// The tiers column: each named tier with its state, or for a pending scenario the
/// capabilities it waits on and the tiers it will run on.
pub fn render_tiers(row: &Row) -> String {
    let named: Vec<TierTag> = TierTag::ALL
        .into_iter()
        .filter(|t| row.tiers.contains(t))
        .collect();
    if row.is_pending() {
        let caps: Vec<&str> = row.pending.iter().map(|c| c.name()).collect();
        let tiers: Vec<&str> = named.iter().map(|t| t.tag()).collect();
        return format!("⏳ pending({}) — {}", caps.join(", "), tiers.join(" · "));
    }
    named
        .iter()
        .filter_map(|t| {
            row.cell(*t).map(|c| match c {
                Cell::Covered => format!("{} ✅", t.tag()),
                Cell::NoRunner => format!("{} (no runner)", t.tag()),
                Cell::Quarantined(reason) => {
                    format!("{} ⚠ quarantined({})", t.tag(), cell_text(&reason))
                }
                Cell::Pending(_) => format!("{} ⏳", t.tag()),
            })
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Per-section totals, counting scenarios as cucumber does (an outline once per example).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Catalog rows (scenarios and outlines).
    pub rows: usize,
    /// Scenarios, outlines expanded.
    pub scenarios: usize,
    /// Scenarios a runner executes.
    pub runnable: usize,
    /// Scenarios, not pending, that name only tiers no runner exists for: nothing executes them.
    pub no_runner: usize,
    /// Scenarios a runner executes only under quarantine.
    pub quarantined: usize,
    /// Scenarios no tier can run yet.
    pub pending: usize,
}

impl Totals {
    fn add(&mut self, row: &Row) {
        let n = row.scenario_count();
        self.rows += 1;
        self.scenarios += n;
        if row.is_runnable() {
            self.runnable += n;
        } else if row.is_pending() {
            self.pending += n;
        } else if row.is_quarantined() {
            self.quarantined += n;
        } else {
            self.no_runner += n;
        }
    }

    fn plus(self, o: Totals) -> Totals {
        Totals {
            rows: self.rows + o.rows,
            scenarios: self.scenarios + o.scenarios,
            runnable: self.runnable + o.runnable,
            no_runner: self.no_runner + o.no_runner,
            quarantined: self.quarantined + o.quarantined,
            pending: self.pending + o.pending,
        }
    }
}

/// Totals per section letter.
pub fn totals(rows: &[Row]) -> BTreeMap<char, Totals> {
    let mut out: BTreeMap<char, Totals> = BTreeMap::new();
    for row in rows {
        out.entry(row.section).or_default().add(row);
    }
    out
}

/// Fails unless every section A–H has at least one scenario.
pub fn check_sections(rows: &[Row]) -> anyhow::Result<()> {
    let present: BTreeSet<char> = rows.iter().map(|r| r.section).collect();
    let missing: Vec<String> = SECTIONS
        .iter()
        .filter(|(c, _)| !present.contains(c))
        .map(|(c, _)| c.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "catalog sections without any scenario: {}",
            missing.join(", ")
        );
    }
    Ok(())
}

/// `sim, contract`, or `none`.
fn tier_names(tiers: &BTreeSet<TierTag>) -> String {
    if tiers.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<String> = tiers.iter().map(|t| format!("`{t}`")).collect();
    names.join(", ")
}

/// The step vocabulary section: every phrase of the step library, by kind.
fn render_vocabulary(out: &mut String, vocabulary: &Vocabulary) {
    let _ = writeln!(out);
    let _ = writeln!(out, "## Step vocabulary");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Generated from the step library (`scenarios/src/steps`): a scenario a runner executes may \
         use only these phrases (an unknown step fails the run, and this catalog refuses it). \
         `N` is a whole number, `TEXT` text without quotes, `PATH` a dotted `/api/state` path, \
         `VALUE` a JSON value or a bare word; `a|b` is one of them, `[not ]` optional."
    );
    for kind in [StepKind::Given, StepKind::When, StepKind::Then] {
        let phrases: Vec<String> = vocabulary
            .definitions()
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| format!("`{}`", d.phrase()))
            .collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "- {kind}: {}", phrases.join(" · "));
    }
}

/// Renders the catalog document; `library` says which tiers a runner exists for and what the
/// step library's phrases are.
pub fn render(rows: &[Row], library: &Library) -> String {
    let runners = &library.runners;
    let totals = totals(rows);
    let mut out = String::new();
    let _ = writeln!(out, "# Scenario catalog");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "<!-- Generated by `cargo xtask catalog` from `features/*.feature`; do not edit by hand. \
         `cargo xtask catalog --check` fails when this file is stale. -->"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Every situation the stack can be in, what triggers it, and the tier that proves it. \
         Each row is one Gherkin scenario; an outline counts once per example."
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Tiers: `sim` = the deterministic simulation, `contract` = real clients against the \
         fakes, `mini-stack` = real containers against the fakes, `live` = a real box. A tier is \
         marked ✅ only when the scenario runner has a runner for it (the tier factory, \
         `pithead_scenarios::tiers::Registry::builtin`, run by `cargo test -p pithead-scenarios \
         --test catalog`, and the harnesses of `pithead_scenarios::tiers::HARNESSES`: the \
         mini-stack's `cargo xtask mini-stack`; `cargo xtask test` runs both); today that is {}. A tier a \
         scenario names but no runner exists for yet is shown `(no runner)`: nothing executes \
         the scenario there. ⏳ `pending(<capability>)` marks a scenario waiting on a capability \
         that is not built yet, and ⚠ `quarantined(<reason>)` one that runs but may not fail \
         the build; none of these is ever counted as covered. The trigger is the scenario's \
         `When` steps without the passage of time.",
        tier_names(runners)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Totals");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| Section | Rows | Scenarios | Runnable (✅) | No runner yet | Quarantined (⚠) | Pending (⏳) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let mut all = Totals::default();
    for (letter, title) in SECTIONS {
        let t = totals.get(&letter).copied().unwrap_or_default();
        all = all.plus(t);
        let _ = writeln!(
            out,
            "| {letter}. {title} | {} | {} | {} | {} | {} | {} |",
            t.rows, t.scenarios, t.runnable, t.no_runner, t.quarantined, t.pending
        );
    }
    let _ = writeln!(
        out,
        "| **All** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        all.rows, all.scenarios, all.runnable, all.no_runner, all.quarantined, all.pending
    );

    for (letter, title) in SECTIONS {
        let section_rows: Vec<&Row> = rows.iter().filter(|r| r.section == letter).collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "## {letter}. {title}");
        let _ = writeln!(out);
        let files: BTreeSet<&str> = section_rows.iter().map(|r| r.file.as_str()).collect();
        for f in &files {
            let _ = writeln!(out, "Source: `features/{f}`");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| Situation | Trigger | Tiers | Issues |");
        let _ = writeln!(out, "|---|---|---|---|");
        for row in &section_rows {
            let mut situation = cell_text(&row.name);
            if let Some(n) = row.examples {
                let values = row.example_values.join(" · ");
                let distinct: BTreeSet<&String> = row.example_values.iter().collect();
                if distinct.len() == row.example_values.len() && values.chars().count() <= 80 {
                    let _ = write!(situation, " *(outline: {})*", cell_text(&values));
                } else {
                    let _ = write!(situation, " *(outline, {n} examples)*");
                }
            }
            let trigger = if row.triggers.is_empty() {
                if letter == 'A' {
                    "config"
                } else {
                    "steady state"
                }
                .to_owned()
            } else {
                row.triggers
                    .iter()
                    .map(|t| code(t))
                    .collect::<Vec<_>>()
                    .join(" → ")
            };
            let issues = row
                .issues
                .iter()
                .map(|n| format!("#{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "| {situation} | {trigger} | {} | {issues} |",
                render_tiers(row)
            );
        }
        let t = totals.get(&letter).copied().unwrap_or_default();
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "**{letter} totals:** {} scenarios in {} rows — {} runnable, {} without a runner, \
             {} quarantined, {} pending.",
            t.scenarios, t.rows, t.runnable, t.no_runner, t.quarantined, t.pending
        );
    }
    render_vocabulary(&mut out, &library.vocabulary);
    out
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Reads and parses every `features/*.feature` under `root`, in file-name order.
pub fn load_rows(root: &Path, library: &Library) -> anyhow::Result<Vec<Row>> {
    let dir = root.join(FEATURES_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "feature"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        rows.extend(parse_feature(&name, &text, library)?);
    }
    check_sections(&rows)?;
    Ok(rows)
}

/// Where two texts first differ, for a `--check` failure message.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let mut e = expected.lines();
    let mut a = actual.lines();
    let mut line = 1;
    loop {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (None, None) => return "the files differ only in line endings".to_owned(),
            (x, y) => {
                return format!(
                    "first difference at line {line}:\n  expected: {}\n  on disk:  {}",
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                )
            }
        }
    }
}

/// Writes `text` to `path`, or with `check` compares instead and fails when they differ.
pub fn write_or_check(
    path: &Path,
    text: &str,
    check: bool,
    regenerate: &str,
) -> anyhow::Result<()> {
    if check {
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk != text {
            bail!(
                "{} is stale; run `{regenerate}` and commit the result.\n{}",
                path.display(),
                first_difference(text, &on_disk)
            );
        }
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `cargo xtask catalog [--check]`.
pub fn run_catalog(check: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let library = Library::of_scenarios();
    let rows = load_rows(&root, &library)?;
    let doc = render(&rows, &library);
    write_or_check(&root.join(CATALOG_DOC), &doc, check, "cargo xtask catalog")?;
    let totals = totals(&rows);
    for (letter, _) in SECTIONS {
        let t = totals.get(&letter).copied().unwrap_or_default();
        println!(
            "{letter}: {} scenarios ({} rows) — {} runnable, {} without a runner, {} quarantined, \
             {} pending",
            t.scenarios, t.rows, t.runnable, t.no_runner, t.quarantined, t.pending
        );
    }
    println!(
        "{} {CATALOG_DOC}",
        if check { "up to date:" } else { "wrote" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Library {
        Library::with_runners(&[TierTag::Sim])
    }

    const SAMPLE: &str = r#"
@section-B @issue-35
Feature: Sample

  @sim @mini-stack
  Scenario: Cold start holds
    Given the stack boots with default settings
    And monerod is syncing at 10 of 100
    When 60 seconds pass
    Then the miners are held

  @sim
  Scenario Outline: <who> comes back
    Given the miners have been released
    When <who> goes down
    And <who> comes back
    Then workers stay accepted for 30 seconds

    Examples:
      | who     |
      | monerod |
      | Tari    |

  @sim @pending(xvb-engine)
  Scenario: Something unbuilt
    Given an engine
    When a cycle is decided
    Then nothing

  @sim @quarantine(issue-12)
  Scenario: Sometimes flaky
    Given the stack boots with default settings
    Then the miners are held
"#;

    #[test]
    fn a_feature_becomes_rows_with_triggers_tiers_and_counts() {
        let rows = parse_feature("b_sample.feature", SAMPLE, &sim()).expect("parses");
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].name, "Cold start holds");
        assert!(rows[0].triggers.is_empty(), "time passing is not a trigger");
        assert_eq!(rows[0].cell(TierTag::Sim), Some(Cell::Covered));
        assert_eq!(rows[0].cell(TierTag::MiniStack), Some(Cell::NoRunner));
        assert_eq!(rows[0].cell(TierTag::Live), None);
        assert!(rows[0].issues.contains(&35), "feature tags are inherited");
        assert_eq!(rows[1].examples, Some(2));
        assert_eq!(rows[1].example_values, vec!["monerod", "Tari"]);
        assert_eq!(rows[1].scenario_count(), 2);
        assert_eq!(
            rows[1].triggers,
            vec!["<who> goes down", "<who> comes back"]
        );
        assert!(rows[2].is_pending());
        assert!(!rows[2].is_runnable());
        assert_eq!(
            rows[3].cell(TierTag::Sim),
            Some(Cell::Quarantined("issue-12".to_owned()))
        );
        assert!(rows[3].is_quarantined() && !rows[3].is_runnable());
        let t = totals(&rows)[&'B'];
        assert_eq!(
            t,
            Totals {
                rows: 4,
                scenarios: 5,
                runnable: 3,
                no_runner: 0,
                quarantined: 1,
                pending: 1
            }
        );
    }

    #[test]
    fn a_tier_is_runnable_only_when_the_registry_has_a_runner_for_it() {
        let text = "@section-B\nFeature: F\n\n  @mini-stack @live\n  Scenario: S\n    Given the stack boots with default settings\n    Then the moon is full\n";
        let rows = parse_feature("b.feature", text, &sim()).expect("no runner: steps unchecked");
        assert_eq!(rows[0].cell(TierTag::MiniStack), Some(Cell::NoRunner));
        assert!(!rows[0].is_runnable() && !rows[0].is_pending());
        assert_eq!(
            render_tiers(&rows[0]),
            "mini-stack (no runner) · live (no runner)"
        );
        assert_eq!(totals(&rows)[&'B'].no_runner, 1);

        let mini = Library::with_runners(&[TierTag::Sim, TierTag::MiniStack]);
        let err = format!(
            "{:#}",
            parse_feature("b.feature", text, &mini).expect_err("a runner checks the steps")
        );
        assert!(err.contains("the moon is full"), "{err}");
        let text = text.replace("    Then the moon is full\n", "");
        let rows = parse_feature("b.feature", &text, &mini).expect("parses");
        assert_eq!(rows[0].cell(TierTag::MiniStack), Some(Cell::Covered));
        assert_eq!(render_tiers(&rows[0]), "mini-stack ✅ · live (no runner)");
    }

    #[test]
    fn the_catalog_reads_tags_with_the_runners_grammar() {
        for (tag, needle) in [
            ("@pending(warp-drive)", "unknown capability"),
            ("@issue-9999", "names an issue the strategy does not"),
            ("@slow", "unknown tag \"@slow\""),
        ] {
            let text =
                format!("@section-B\nFeature: F\n  @sim {tag}\n  Scenario: S\n    Given x\n");
            let err = format!(
                "{:#}",
                parse_feature("b.feature", &text, &sim()).expect_err(tag)
            );
            let from_the_grammar = TagSet::parse([tag]).expect_err(tag).to_string();
            assert!(
                err.contains(&from_the_grammar) && err.contains(needle),
                "{err}"
            );
        }
    }

    #[test]
    fn any_pending_tag_holds_back_every_tier_as_the_runner_skips_it() {
        let text = "@section-C\nFeature: F\n\n  @sim @live @pending(live-matrix)\n  Scenario: S\n    Given the stack boots with default settings\n    Then the miners are held\n";
        let rows = parse_feature("c.feature", text, &sim()).expect("parses");
        let pending = Some(Cell::Pending(vec![Capability::LiveMatrix]));
        assert_eq!(rows[0].cell(TierTag::Sim), pending);
        assert_eq!(rows[0].cell(TierTag::Live), pending);
        assert!(rows[0].is_pending() && !rows[0].is_runnable());
        assert_eq!(
            render_tiers(&rows[0]),
            "⏳ pending(live-matrix) — sim · live"
        );
    }

    #[test]
    fn feature_errors_name_the_problem() {
        let cases = [
            ("b.feature", "Feature: F\n  @sim\n  Scenario: S\n    Given the stack boots with default settings\n", "no @section-X"),
            ("c.feature", "@section-B\nFeature: F\n  @sim\n  Scenario: S\n    Given the stack boots with default settings\n", "file name"),
            ("b.feature", "@section-B\nFeature: F\n  Scenario: S\n    Given the stack boots with default settings\n", "no tier tag"),
            ("b.feature", "@section-B\nFeature: F\n  @sim @flaky\n  Scenario: S\n    Given x\n", "unknown tag"),
            ("b.feature", "@section-B\nFeature: F\n  @sim\n  Scenario: S\n    Given the moon is full\n", "\"Given the moon is full\" matches no definition of the step library"),
            ("b.feature", "@section-B @section-C\nFeature: F\n  @sim\n  Scenario: S\n    Given x\n", "two section tags"),
            ("b.feature", "@section-B\nFeature: F\n  @sim @section-B\n  Scenario: S\n    Given x\n", "belongs on the feature"),
            ("b.feature", "@section-B\nFeature: F\n  @sim @pending(mini-stack)\n  Scenario: S\n    Given x\n", "without the @mini-stack tier tag"),
            ("b.feature", "@section-B @quarantine(x)\nFeature: F\n  @sim\n  Scenario: S\n    Given x\n", "not a whole feature"),
            ("b.feature", "@section-B\nFeature: F\n  @sim\n  Scenario Outline: O <n>\n    When <n> seconds pass\n\n    @pending(cli)\n    Examples:\n      | n |\n      | 1 |\n", "not its Examples block"),
        ];
        for (file, text, needle) in cases {
            let err = format!("{:#}", parse_feature(file, text, &sim()).expect_err(needle));
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        }
    }

    #[test]
    fn outline_placeholders_are_expanded_before_the_library_check() {
        let text = "@section-B\nFeature: F\n  @sim\n  Scenario Outline: O\n    When <node> goes down\n\n    Examples:\n      | node |\n      | monerod |\n      | the moon |\n";
        let err = format!(
            "{:#}",
            parse_feature("b.feature", text, &sim()).expect_err("the moon")
        );
        assert!(err.contains("the moon goes down"), "{err}");
    }

    #[test]
    fn steps_are_checked_against_the_library_itself() {
        let feature =
            |step: &str| format!("@section-B\nFeature: F\n  @sim\n  Scenario: S\n    {step}\n");
        for ok in [
            "Given monerod is syncing at 10 of 100",
            "Then the badge \"Miner held (sync)\" is shown",
            "Then the api reports sync.monero.state as syncing",
            "When 90 seconds pass",
        ] {
            parse_feature("b.feature", &feature(ok), &sim()).expect(ok);
        }
        for bad in [
            "Given monerod is syncing at ten of 100",
            "Given monerod is syncing at 10 of 100 now",
            "Then the api reports sync state as syncing",
            "Given 90 seconds pass",
        ] {
            let err = format!(
                "{:#}",
                parse_feature("b.feature", &feature(bad), &sim()).expect_err(bad)
            );
            assert!(err.contains(bad) && err.contains("no definition"), "{err}");
        }
    }

    #[test]
    fn render_marks_tiers_and_totals_and_escapes_cells() {
        let mut rows = parse_feature("b_sample.feature", SAMPLE, &sim()).expect("parses");
        for (letter, _) in SECTIONS {
            if letter != 'B' {
                let mut r = rows[0].clone();
                r.section = letter;
                rows.push(r);
            }
        }
        check_sections(&rows).expect("all sections present");
        let doc = render(&rows, &sim());
        assert!(
            doc.contains(
                "| Cold start holds | steady state | sim ✅ · mini-stack (no runner) | #35 |"
            ),
            "{doc}"
        );
        assert!(doc.contains("today that is `sim`."), "{doc}");
        assert!(
            !doc.contains('▶'),
            "no tier is shown run by a harness that does not exist"
        );
        assert!(
            doc.contains("- When: `N seconds pass` · ")
                && doc.contains(" · `monerod|Tari becomes synced` · "),
            "the vocabulary comes from the step library: {doc}"
        );
        assert!(doc.contains("| &lt;who&gt; comes back *(outline: monerod · Tari)* | `<who> goes down` → `<who> comes back` | sim ✅ | #35 |"), "{doc}");
        assert!(
            doc.contains(
                "| Something unbuilt | `a cycle is decided` | ⏳ pending(xvb-engine) — sim | #35 |"
            ),
            "{doc}"
        );
        assert!(
            doc.contains("| Sometimes flaky | steady state | sim ⚠ quarantined(issue-12) | #35 |"),
            "{doc}"
        );
        assert!(
            doc.contains(
                "**B totals:** 5 scenarios in 4 rows — 3 runnable, 0 without a runner, 1 quarantined, 1 pending."
            ),
            "{doc}"
        );
        assert!(
            doc.contains("| A. Configuration permutations | 1 | 1 | 1 | 0 | 0 | 0 |"),
            "{doc}"
        );
        assert!(
            doc.contains("| **All** | **11** | **12** | **10** | **0** | **1** | **1** |"),
            "{doc}"
        );
    }

    #[test]
    fn a_missing_section_fails_the_check() {
        let rows = parse_feature("b_sample.feature", SAMPLE, &sim()).expect("parses");
        let err = check_sections(&rows)
            .expect_err("A and C–H missing")
            .to_string();
        assert!(err.contains("A, C, D, E, F, G, H"), "{err}");
    }

    #[test]
    fn first_difference_points_at_the_line() {
        let d = first_difference("a\nb\nc\n", "a\nx\nc\n");
        assert!(
            d.contains("line 2") && d.contains("expected: b") && d.contains("on disk:  x"),
            "{d}"
        );
        assert!(first_difference("a\n", "a\nb\n").contains("<end of file>"));
    }

    #[test]
    fn the_repository_features_parse_and_cover_every_section() {
        let library = Library::of_scenarios();
        assert_eq!(
            library.runners,
            BTreeSet::from([TierTag::Sim, TierTag::MiniStack, TierTag::Live]),
            "the tier factory's registry and the harnesses: update the catalog's expectations"
        );
        let rows = load_rows(&workspace_root(), &library).expect("features/ parses");
        let t = totals(&rows);
        assert!(
            rows.iter().all(|r| r.quarantine.is_none()),
            "nothing quarantined yet"
        );
        for s in ['B', 'C'] {
            assert_eq!(t[&s].pending, 0, "section {s} must run on the sim tier");
            assert_eq!(
                t[&s].runnable, t[&s].scenarios,
                "section {s} must run on the sim tier"
            );
        }
    }
}
