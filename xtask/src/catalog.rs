//! `cargo xtask catalog [--check]`: the scenario catalog, generated from `features/*.feature`.
//!
//! The Gherkin files are the catalog's single source: each feature is one section (A–H) of the
//! testing strategy, each scenario one situation. This module parses them with the same `gherkin`
//! crate cucumber uses, validates their tags, checks that every runnable `@sim` step is a phrase
//! of the shared step library, and renders `docs/scenario-catalog.md`. `--check` regenerates the
//! document in memory and fails when the file on disk differs.
//!
//! Tags a feature or scenario may carry (anything else is an error):
//! - tier: `@sim`, `@contract` (executed by a runner on every PR, shown ✅), `@mini-stack`,
//!   `@live` (executed only when that harness runs, shown ▶);
//! - section: `@section-A` … `@section-H`, exactly one per feature, matching the file's prefix;
//! - issue: `@issue-N` for the issues the strategy names;
//! - `@pending(<capability>)`: the capability (`xvb-engine`, `dashboard`, `cli`, `mini-stack`,
//!   `live-matrix`) is not built yet. Like the scenario runner, which skips any scenario with a
//!   pending tag, a pending scenario is pending on every tier it names: shown `⏳ pending(..)`
//!   and never counted as covered. `mini-stack` and `live-matrix` need their own tier tag;
//! - `@quarantine(<reason>)`: the runner runs it but reports it apart and its failure does not
//!   fail the build, so it is shown `⚠` and not counted as covered either;
//! - cucumber's own `@serial` and `@allow.skipped`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use gherkin::{GherkinEnv, StepType};

/// The catalog document, relative to the workspace root.
pub const CATALOG_DOC: &str = "docs/scenario-catalog.md";
/// Where the feature files live, relative to the workspace root.
pub const FEATURES_DIR: &str = "features";

/// The catalog sections of the testing strategy, in order.
pub const SECTIONS: [(char, &str); 8] = [
    ('A', "Configuration permutations"),
    ('B', "Sync lifecycle (#35)"),
    ('C', "Node health & failover (#31)"),
    ('D', "Container health verdicts (pithead status)"),
    ('E', "XvB switching engine"),
    ('F', "Dashboard /api/state field states"),
    ('G', "CLI lifecycle (pithead)"),
    ('H', "Host / infrastructure (real-only)"),
];

/// Issues the strategy names; an `@issue-N` tag outside this list is a typo until added here.
pub const KNOWN_ISSUES: [u32; 7] = [31, 32, 35, 44, 51, 70, 90];

/// Cucumber's own tags, accepted as they are.
const CUCUMBER_TAGS: [&str; 2] = ["serial", "allow.skipped"];

/// The shared step library for `@sim` scenarios: a runnable `@sim` scenario may use only these
/// phrases. `{int}` is a whole number, `"{text}"` a quoted string, `{field}` and `{value}` one
/// bare word each (a dotted /api/state path and a JSON value). Keep in step with
/// `scenarios/src/steps`.
pub const SIM_STEP_PHRASES: &[(StepKind, &str)] = &[
    (StepKind::Given, "the stack boots with default settings"),
    (StepKind::Given, "Tari is required"),
    (StepKind::Given, "Tari is not required"),
    (StepKind::Given, "monerod is syncing at {int} of {int}"),
    (StepKind::Given, "monerod is synced"),
    (StepKind::Given, "Tari is syncing at {int} of {int}"),
    (StepKind::Given, "Tari is synced"),
    (StepKind::Given, "Tari is starting"),
    (StepKind::Given, "Tari is migrating"),
    (StepKind::Given, "p2pool reports network height 0"),
    (StepKind::Given, "the node down window is {int} seconds"),
    (StepKind::Given, "the recovery window is {int} seconds"),
    (StepKind::Given, "the update interval is {int} seconds"),
    (StepKind::Given, "the miners have been released"),
    (
        StepKind::Given,
        "the docker engine refuses the next {int} calls",
    ),
    (StepKind::Given, "monerod was never reachable"),
    (StepKind::When, "monerod becomes synced"),
    (StepKind::When, "Tari becomes synced"),
    (StepKind::When, "monerod goes down"),
    (StepKind::When, "monerod comes back"),
    (StepKind::When, "monerod becomes busy"),
    (StepKind::When, "Tari goes down"),
    (StepKind::When, "Tari comes back"),
    (StepKind::When, "Tari becomes starting"),
    (StepKind::When, "Tari becomes migrating"),
    (StepKind::When, "Tari becomes syncing"),
    (StepKind::When, "the runtime restarts"),
    (StepKind::When, "{int} seconds pass"),
    (StepKind::Then, "the miners are held"),
    (StepKind::Then, "the miners stay held for {int} seconds"),
    (StepKind::Then, "the miners are released"),
    (StepKind::Then, "p2pool is running"),
    (StepKind::Then, "p2pool is stopped"),
    (StepKind::Then, "xmrig-proxy is running"),
    (StepKind::Then, "xmrig-proxy is stopped"),
    (StepKind::Then, "workers are rejected"),
    (StepKind::Then, "workers are accepted"),
    (StepKind::Then, "workers stay accepted for {int} seconds"),
    (StepKind::Then, "workers stay rejected for {int} seconds"),
    (StepKind::Then, "the badge \"{text}\" is shown"),
    (StepKind::Then, "the badge \"{text}\" is not shown"),
    (StepKind::Then, "the api reports {field} as {value}"),
    (StepKind::Then, "p2pool was started exactly once"),
    (StepKind::Then, "xmrig-proxy was started exactly once"),
    (StepKind::Then, "no container was stopped after the release"),
];

/// A step's kind after `And`/`But` are resolved (mirrors `gherkin::StepType`, which is not `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StepKind {
    /// A `Given` step: the situation.
    Given,
    /// A `When` step: the trigger.
    When,
    /// A `Then` step: the expected outcome.
    Then,
}

impl From<StepType> for StepKind {
    fn from(ty: StepType) -> Self {
        match ty {
            StepType::Given => StepKind::Given,
            StepType::When => StepKind::When,
            StepType::Then => StepKind::Then,
        }
    }
}

/// Where a scenario can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// The deterministic simulation (every PR).
    Sim,
    /// Real clients against the fakes (every PR).
    Contract,
    /// Real containers against the fakes (when that harness runs).
    MiniStack,
    /// A real, synced box (when the live matrix runs).
    Live,
}

impl Tier {
    /// All tiers, cheapest first.
    pub const ALL: [Tier; 4] = [Tier::Sim, Tier::Contract, Tier::MiniStack, Tier::Live];

    /// The tag (without `@`) that names this tier.
    pub fn tag(self) -> &'static str {
        match self {
            Tier::Sim => "sim",
            Tier::Contract => "contract",
            Tier::MiniStack => "mini-stack",
            Tier::Live => "live",
        }
    }

    /// Whether a runner executes this tier on every PR (✅) rather than only when its harness
    /// runs (▶).
    pub fn runs_every_pr(self) -> bool {
        matches!(self, Tier::Sim | Tier::Contract)
    }
}

/// A capability that is not built yet, named by `@pending(<capability>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// The XvB switching engine (section E).
    XvbEngine,
    /// The dashboard read model beyond the sync block and the gate/failover badges.
    Dashboard,
    /// The `pithead` CLI (status verdicts, config, lifecycle).
    Cli,
    /// The container mini-stack harness (tier 3).
    MiniStack,
    /// The live matrix against a real box (tier 4).
    LiveMatrix,
}

impl Capability {
    /// Every capability, in tag order.
    pub const ALL: [Capability; 5] = [
        Capability::XvbEngine,
        Capability::Dashboard,
        Capability::Cli,
        Capability::MiniStack,
        Capability::LiveMatrix,
    ];

    /// The name used inside `@pending(..)`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::XvbEngine => "xvb-engine",
            Capability::Dashboard => "dashboard",
            Capability::Cli => "cli",
            Capability::MiniStack => "mini-stack",
            Capability::LiveMatrix => "live-matrix",
        }
    }

    /// The tier a harness capability provides; `None` for a product capability.
    pub fn harness_tier(self) -> Option<Tier> {
        match self {
            Capability::MiniStack => Some(Tier::MiniStack),
            Capability::LiveMatrix => Some(Tier::Live),
            Capability::XvbEngine | Capability::Dashboard | Capability::Cli => None,
        }
    }
}

/// One parsed tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `@sim`, `@contract`, `@mini-stack`, `@live`.
    Tier(Tier),
    /// `@section-X`.
    Section(char),
    /// `@issue-N`.
    Issue(u32),
    /// `@pending(<capability>)`.
    Pending(Capability),
    /// `@quarantine(<reason>)`.
    Quarantine(String),
    /// A tag cucumber itself interprets (`@serial`, `@allow.skipped`).
    Cucumber,
}

/// Parses one tag, with or without its leading `@`. Unknown tags are errors that name the tag.
pub fn parse_tag(raw: &str) -> anyhow::Result<Tag> {
    let tag = raw.strip_prefix('@').unwrap_or(raw);
    if let Some(tier) = Tier::ALL.into_iter().find(|t| t.tag() == tag) {
        return Ok(Tag::Tier(tier));
    }
    if CUCUMBER_TAGS.contains(&tag) {
        return Ok(Tag::Cucumber);
    }
    if let Some(letter) = tag.strip_prefix("section-") {
        let mut chars = letter.chars();
        return match (chars.next(), chars.next()) {
            (Some(c), None) if SECTIONS.iter().any(|(s, _)| *s == c) => Ok(Tag::Section(c)),
            _ => bail!("unknown section tag \"@{tag}\" (sections are A to H)"),
        };
    }
    if let Some(number) = tag.strip_prefix("issue-") {
        let n: u32 = number
            .parse()
            .with_context(|| format!("issue tag \"@{tag}\" does not name an issue number"))?;
        if !KNOWN_ISSUES.contains(&n) {
            bail!("issue tag \"@{tag}\" names an issue the strategy does not (known: {KNOWN_ISSUES:?})");
        }
        return Ok(Tag::Issue(n));
    }
    if let Some(reason) = tag
        .strip_prefix("quarantine(")
        .and_then(|t| t.strip_suffix(')'))
    {
        if reason.is_empty() {
            bail!("\"@{tag}\" needs a reason inside the parentheses");
        }
        return Ok(Tag::Quarantine(reason.to_owned()));
    }
    if let Some(inner) = tag
        .strip_prefix("pending(")
        .and_then(|t| t.strip_suffix(')'))
    {
        return match Capability::ALL.into_iter().find(|c| c.name() == inner) {
            Some(c) => Ok(Tag::Pending(c)),
            None => {
                let known: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
                bail!(
                    "unknown capability in \"@{tag}\" (known: {})",
                    known.join(", ")
                )
            }
        };
    }
    bail!("unknown tag \"@{tag}\"")
}

/// How one tier of one scenario stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Executed by a runner on every PR.
    Covered,
    /// Executed when its harness (mini-stack, live matrix) runs.
    Harness,
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
    pub tiers: BTreeSet<Tier>,
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
    pub fn cell(&self, tier: Tier) -> Option<Cell> {
        if !self.tiers.contains(&tier) {
            return None;
        }
        Some(if !self.pending.is_empty() {
            Cell::Pending(self.pending.iter().copied().collect())
        } else if !tier.runs_every_pr() {
            Cell::Harness
        } else if let Some(reason) = &self.quarantine {
            Cell::Quarantined(reason.clone())
        } else {
            Cell::Covered
        })
    }

    /// Executed by a runner on every PR (at least one ✅ tier).
    pub fn is_runnable(&self) -> bool {
        Tier::ALL
            .iter()
            .any(|t| self.cell(*t) == Some(Cell::Covered))
    }

    /// Waits on a capability (`@pending`): no tier runs it yet.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Runs on every PR only under quarantine.
    pub fn is_quarantined(&self) -> bool {
        !self.is_runnable()
            && Tier::ALL
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

/// Parses one feature file's text into catalog rows, validating its tags and, for runnable
/// `@sim` scenarios, its step phrases.
pub fn parse_feature(file: &str, text: &str) -> anyhow::Result<Vec<Row>> {
    let feature = gherkin::Feature::parse(text, GherkinEnv::default())
        .map_err(|e| anyhow::anyhow!("{file}: not valid Gherkin: {e}"))?;
    let mut section = None;
    let mut feature_tiers = BTreeSet::new();
    let mut feature_pending = BTreeSet::new();
    let mut feature_issues = BTreeSet::new();
    for raw in &feature.tags {
        match parse_tag(raw).with_context(|| format!("{file}: feature tags"))? {
            Tag::Section(c) => {
                if let Some(previous) = section.replace(c) {
                    bail!("{file}: two section tags (@section-{previous} and @section-{c})");
                }
            }
            Tag::Tier(t) => {
                feature_tiers.insert(t);
            }
            Tag::Pending(c) => {
                feature_pending.insert(c);
            }
            Tag::Issue(n) => {
                feature_issues.insert(n);
            }
            Tag::Quarantine(_) => bail!("{file}: quarantine a scenario, not a whole feature"),
            Tag::Cucumber => {}
        }
    }
    let Some(section) = section else {
        bail!("{file}: the feature has no @section-X tag");
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
        let mut tiers = feature_tiers.clone();
        let mut pending = feature_pending.clone();
        let mut issues = feature_issues.clone();
        let mut quarantine = None;
        if scenario.examples.iter().any(|e| !e.tags.is_empty()) {
            // The runner plans by feature and scenario tags only; an Examples tag would make
            // the catalog and the run disagree.
            bail!("{at}: tag the scenario outline, not its Examples block");
        }
        for raw in &scenario.tags {
            match parse_tag(raw).with_context(|| at.clone())? {
                Tag::Section(c) => {
                    bail!("{at}: @section-{c} belongs on the feature, not a scenario")
                }
                Tag::Tier(t) => {
                    tiers.insert(t);
                }
                Tag::Pending(c) => {
                    pending.insert(c);
                }
                Tag::Issue(n) => {
                    issues.insert(n);
                }
                Tag::Quarantine(reason) => quarantine = Some(reason),
                Tag::Cucumber => {}
            }
        }
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
            tiers,
            pending,
            issues,
            quarantine,
        };
        if matches!(
            row.cell(Tier::Sim),
            Some(Cell::Covered | Cell::Quarantined(_))
        ) {
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
                if !matches_library(kind, &text) {
                    bail!(
                        "{at}: \"{kind:?} {text}\" is not a phrase of the @sim step library \
                         (see SIM_STEP_PHRASES in xtask/src/catalog.rs)"
                    );
                }
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

/// Whether `text` is one of the library's phrases for `kind`.
pub fn matches_library(kind: StepKind, text: &str) -> bool {
    SIM_STEP_PHRASES
        .iter()
        .any(|(k, phrase)| *k == kind && matches_phrase(phrase, text))
}

/// Matches a step against one phrase template (`{int}`, `"{text}"`, `{field}`, `{value}`).
pub fn matches_phrase(phrase: &str, text: &str) -> bool {
    let mut rest = text;
    let mut pattern = phrase;
    while !pattern.is_empty() {
        let Some(open) = pattern.find('{') else {
            return rest == pattern;
        };
        let (literal, after) = pattern.split_at(open);
        let Some(tail) = rest.strip_prefix(literal) else {
            return false;
        };
        let Some(close) = after.find('}') else {
            return false;
        };
        let placeholder = &after[1..close];
        pattern = &after[close + 1..];
        // The placeholder's value runs to the next literal character of the pattern (or the
        // end); the values allowed never contain it.
        let stop = pattern.chars().next();
        let end = match stop {
            Some(c) => match tail.find(c) {
                Some(i) => i,
                None => return false,
            },
            None => tail.len(),
        };
        let value = &tail[..end];
        let ok = match placeholder {
            "int" => !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()),
            "text" => !value.is_empty() && !value.contains('"'),
            "field" | "value" => !value.is_empty() && !value.contains(char::is_whitespace),
            _ => false,
        };
        if !ok {
            return false;
        }
        rest = &tail[end..];
    }
    rest.is_empty()
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
    let named: Vec<Tier> = Tier::ALL
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
                Cell::Harness => format!("{} ▶", t.tag()),
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
    /// Scenarios a runner executes on every PR.
    pub runnable: usize,
    /// Scenarios that run only with the mini-stack or the live matrix.
    pub harness_only: usize,
    /// Scenarios that run on every PR only under quarantine.
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
            self.harness_only += n;
        }
    }

    fn plus(self, o: Totals) -> Totals {
        Totals {
            rows: self.rows + o.rows,
            scenarios: self.scenarios + o.scenarios,
            runnable: self.runnable + o.runnable,
            harness_only: self.harness_only + o.harness_only,
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

/// Renders the catalog document.
pub fn render(rows: &[Row]) -> String {
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
        "Tiers: `sim` = the deterministic simulation and `contract` = real clients against the \
         fakes (✅ run on every PR); `mini-stack` = real containers against the fakes and `live` \
         = the live matrix on a real box (▶ run when that harness runs). \
         ⏳ `pending(<capability>)` marks a scenario waiting on a capability that is not built \
         yet, and ⚠ `quarantined(<reason>)` one that runs but may not fail the build; neither is \
         ever counted as covered. The trigger is the scenario's `When` steps without the passage \
         of time."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Totals");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| Section | Rows | Scenarios | Runnable (✅) | Harness only (▶) | Quarantined (⚠) | Pending (⏳) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let mut all = Totals::default();
    for (letter, title) in SECTIONS {
        let t = totals.get(&letter).copied().unwrap_or_default();
        all = all.plus(t);
        let _ = writeln!(
            out,
            "| {letter}. {title} | {} | {} | {} | {} | {} | {} |",
            t.rows, t.scenarios, t.runnable, t.harness_only, t.quarantined, t.pending
        );
    }
    let _ = writeln!(
        out,
        "| **All** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        all.rows, all.scenarios, all.runnable, all.harness_only, all.quarantined, all.pending
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
            "**{letter} totals:** {} scenarios in {} rows — {} runnable, {} harness only, \
             {} quarantined, {} pending.",
            t.scenarios, t.rows, t.runnable, t.harness_only, t.quarantined, t.pending
        );
    }
    out
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Reads and parses every `features/*.feature` under `root`, in file-name order.
pub fn load_rows(root: &Path) -> anyhow::Result<Vec<Row>> {
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
        rows.extend(parse_feature(&name, &text)?);
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
    let rows = load_rows(&root)?;
    let doc = render(&rows);
    write_or_check(&root.join(CATALOG_DOC), &doc, check, "cargo xtask catalog")?;
    let totals = totals(&rows);
    for (letter, _) in SECTIONS {
        let t = totals.get(&letter).copied().unwrap_or_default();
        println!(
            "{letter}: {} scenarios ({} rows) — {} runnable, {} harness only, {} quarantined, \
             {} pending",
            t.scenarios, t.rows, t.runnable, t.harness_only, t.quarantined, t.pending
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
        let rows = parse_feature("b_sample.feature", SAMPLE).expect("parses");
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].name, "Cold start holds");
        assert!(rows[0].triggers.is_empty(), "time passing is not a trigger");
        assert_eq!(rows[0].cell(Tier::Sim), Some(Cell::Covered));
        assert_eq!(rows[0].cell(Tier::MiniStack), Some(Cell::Harness));
        assert_eq!(rows[0].cell(Tier::Live), None);
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
            rows[3].cell(Tier::Sim),
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
                harness_only: 0,
                quarantined: 1,
                pending: 1
            }
        );
    }

    #[test]
    fn pending_tags_parse_and_unknown_tags_are_refused() {
        assert_eq!(
            parse_tag("@pending(xvb-engine)").unwrap(),
            Tag::Pending(Capability::XvbEngine)
        );
        assert_eq!(
            parse_tag("pending(live-matrix)").unwrap(),
            Tag::Pending(Capability::LiveMatrix)
        );
        assert_eq!(parse_tag("@section-H").unwrap(), Tag::Section('H'));
        assert_eq!(
            parse_tag("@quarantine(issue-12)").unwrap(),
            Tag::Quarantine("issue-12".to_owned())
        );
        assert_eq!(parse_tag("@issue-70").unwrap(), Tag::Issue(70));
        assert_eq!(
            parse_tag("@mini-stack").unwrap(),
            Tag::Tier(Tier::MiniStack)
        );
        for bad in [
            "@pending(warp-drive)",
            "@section-Z",
            "@issue-9999",
            "@issue-x",
            "@slow",
            "@pending",
            "@quarantine()",
        ] {
            let err = parse_tag(bad).expect_err(bad).to_string();
            assert!(err.contains(bad.trim_start_matches('@')), "{bad}: {err}");
        }
    }

    #[test]
    fn any_pending_tag_holds_back_every_tier_as_the_runner_skips_it() {
        let text = "@section-C\nFeature: F\n\n  @sim @live @pending(live-matrix)\n  Scenario: S\n    Given the stack boots with default settings\n    Then the miners are held\n";
        let rows = parse_feature("c.feature", text).expect("parses");
        let pending = Some(Cell::Pending(vec![Capability::LiveMatrix]));
        assert_eq!(rows[0].cell(Tier::Sim), pending);
        assert_eq!(rows[0].cell(Tier::Live), pending);
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
            ("b.feature", "@section-B\nFeature: F\n  @sim\n  Scenario: S\n    Given the moon is full\n", "step library"),
            ("b.feature", "@section-B\nFeature: F\n  @sim @pending(mini-stack)\n  Scenario: S\n    Given x\n", "without the @mini-stack tier tag"),
            ("b.feature", "@section-B @quarantine(x)\nFeature: F\n  @sim\n  Scenario: S\n    Given x\n", "not a whole feature"),
            ("b.feature", "@section-B\nFeature: F\n  @sim\n  Scenario Outline: O <n>\n    When <n> seconds pass\n\n    @pending(cli)\n    Examples:\n      | n |\n      | 1 |\n", "not its Examples block"),
        ];
        for (file, text, needle) in cases {
            let err = format!("{:#}", parse_feature(file, text).expect_err(needle));
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        }
    }

    #[test]
    fn outline_placeholders_are_expanded_before_the_library_check() {
        let text = "@section-B\nFeature: F\n  @sim\n  Scenario Outline: O\n    When <node> goes down\n\n    Examples:\n      | node |\n      | monerod |\n      | the moon |\n";
        let err = format!(
            "{:#}",
            parse_feature("b.feature", text).expect_err("the moon")
        );
        assert!(err.contains("the moon goes down"), "{err}");
    }

    #[test]
    fn phrase_templates_match_their_parameters_only() {
        assert!(matches_phrase(
            "monerod is syncing at {int} of {int}",
            "monerod is syncing at 10 of 100"
        ));
        assert!(!matches_phrase(
            "monerod is syncing at {int} of {int}",
            "monerod is syncing at ten of 100"
        ));
        assert!(!matches_phrase(
            "monerod is syncing at {int} of {int}",
            "monerod is syncing at 10 of 100 now"
        ));
        assert!(matches_phrase(
            "the badge \"{text}\" is shown",
            "the badge \"Miner held (sync)\" is shown"
        ));
        assert!(!matches_phrase(
            "the badge \"{text}\" is shown",
            "the badge \"x\" is not shown"
        ));
        assert!(matches_phrase(
            "the api reports {field} as {value}",
            "the api reports sync.monero.state as syncing"
        ));
        assert!(!matches_phrase(
            "the api reports {field} as {value}",
            "the api reports sync state as syncing"
        ));
        assert!(matches_library(StepKind::When, "90 seconds pass"));
        assert!(
            !matches_library(StepKind::Given, "90 seconds pass"),
            "kind matters"
        );
    }

    #[test]
    fn render_marks_tiers_and_totals_and_escapes_cells() {
        let mut rows = parse_feature("b_sample.feature", SAMPLE).expect("parses");
        for (letter, _) in SECTIONS {
            if letter != 'B' {
                let mut r = rows[0].clone();
                r.section = letter;
                rows.push(r);
            }
        }
        check_sections(&rows).expect("all sections present");
        let doc = render(&rows);
        assert!(
            doc.contains("| Cold start holds | steady state | sim ✅ · mini-stack ▶ | #35 |"),
            "{doc}"
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
                "**B totals:** 5 scenarios in 4 rows — 3 runnable, 0 harness only, 1 quarantined, 1 pending."
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
        let rows = parse_feature("b_sample.feature", SAMPLE).expect("parses");
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
        let rows = load_rows(&workspace_root()).expect("features/ parses");
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
