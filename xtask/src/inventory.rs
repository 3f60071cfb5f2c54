//! `cargo xtask inventory [--check]`: the test inventory, generated from the test code itself.
//!
//! Walks `runtime/`, `fakes/`, `sim/`, `scenarios/` and `xtask/` for `#[test]` and
//! `#[tokio::test]` functions and for each `fn` inside a `proptest!` block (parsed with `syn`,
//! so comments and strings never count), adds the Gherkin scenarios of `features/` by tier, and
//! renders `docs/test-inventory.md` grouped by tier and file. `--check` fails when the document
//! is stale or when a tier's count falls below its floor in [`FLOORS`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use syn::visit::Visit;

use crate::catalog::{self, Cell, Row, TierTag};

/// The inventory document, relative to the workspace root.
pub const INVENTORY_DOC: &str = "docs/test-inventory.md";

/// The crates walked for Rust tests.
pub const SCANNED_DIRS: [&str; 5] = ["runtime", "fakes", "sim", "scenarios", "xtask"];

/// A tier of the inventory: where a test lives decides its tier (see [`classify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Tests inside a crate's `src/` and `tests/tier1_*` (decision logic, parsers, stores).
    Unit,
    /// `tests/contract_*` and `fakes/tests/`: real clients against the fakes.
    Contract,
    /// Any other `tests/` target outside `sim/`.
    Integration,
    /// Everything in `sim/`: the deterministic whole-system simulation.
    Sim,
    /// Gherkin scenarios a runner executes on this tier (0 while no runner for it exists).
    ScenariosOn(TierTag),
    /// Gherkin scenarios, not pending, that name only tiers no runner exists for.
    ScenariosNoRunner,
    /// Gherkin scenarios that run only under quarantine.
    ScenariosQuarantined,
    /// Gherkin scenarios no tier can run yet.
    ScenariosPending,
}

impl Kind {
    /// Every kind, in document order.
    pub const ALL: [Kind; 11] = [
        Kind::Unit,
        Kind::Contract,
        Kind::Integration,
        Kind::Sim,
        Kind::ScenariosOn(TierTag::Sim),
        Kind::ScenariosOn(TierTag::Contract),
        Kind::ScenariosOn(TierTag::MiniStack),
        Kind::ScenariosOn(TierTag::Live),
        Kind::ScenariosNoRunner,
        Kind::ScenariosQuarantined,
        Kind::ScenariosPending,
    ];

    /// The name shown in the document and in floor failures.
    pub fn label(self) -> String {
        match self {
            Kind::Unit => "unit".to_owned(),
            Kind::Contract => "contract".to_owned(),
            Kind::Integration => "integration".to_owned(),
            Kind::Sim => "sim".to_owned(),
            Kind::ScenariosOn(tier) => format!("scenarios run on {tier}"),
            Kind::ScenariosNoRunner => "scenarios: no runner yet".to_owned(),
            Kind::ScenariosQuarantined => "scenarios: quarantined ⚠".to_owned(),
            Kind::ScenariosPending => "scenarios: pending ⏳".to_owned(),
        }
    }
}

/// Minimum counts per tier; `--check` fails below them. Raise a floor when tests land so a
/// deleted test shows up as a failure instead of a quieter document.
pub const FLOORS: &[(Kind, usize)] = &[
    (Kind::Unit, 90),
    (Kind::Contract, 50),
    (Kind::Sim, 15),
    (Kind::ScenariosOn(TierTag::Sim), 54),
];

/// How a Rust test is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TestAttr {
    /// `#[test]` (or another `path::test` attribute).
    Test,
    /// `#[tokio::test]`.
    Tokio,
    /// A `fn` inside `proptest! { .. }`.
    Proptest,
}

/// One Rust test found in a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FoundTest {
    /// The in-file path, e.g. `tests::holds_while_syncing`.
    pub name: String,
    /// How it is declared.
    pub attr: TestAttr,
}

/// Finds the tests in one Rust source file.
pub fn scan_rust(source: &str) -> Result<Vec<FoundTest>, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut finder = Finder::default();
    finder.visit_file(&file);
    finder.found.sort();
    Ok(finder.found)
}

#[derive(Default)]
struct Finder {
    modules: Vec<String>,
    found: Vec<FoundTest>,
}

impl Finder {
    fn push(&mut self, ident: &str, attr: TestAttr) {
        let mut name = self.modules.join("::");
        if !name.is_empty() {
            name.push_str("::");
        }
        name.push_str(ident);
        self.found.push(FoundTest { name, attr });
    }
}

fn test_attr(attrs: &[syn::Attribute]) -> Option<TestAttr> {
    attrs.iter().find_map(|a| {
        let segments: Vec<String> = a
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match segments.as_slice() {
            [only] if only == "test" => Some(TestAttr::Test),
            [first, last] if last == "test" && first == "tokio" => Some(TestAttr::Tokio),
            [_, last] if last == "test" => Some(TestAttr::Test),
            _ => None,
        }
    })
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.modules.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.modules.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if let Some(attr) = test_attr(&f.attrs) {
            self.push(&f.sig.ident.to_string(), attr);
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let is_proptest = m
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "proptest");
        if is_proptest {
            // Only the block's top level: `fn name(..) { .. }` per test; bodies are groups.
            let mut tokens = m.tokens.clone().into_iter().peekable();
            while let Some(token) = tokens.next() {
                if let proc_macro2::TokenTree::Ident(ident) = &token {
                    if ident == "fn" {
                        if let Some(proc_macro2::TokenTree::Ident(name)) = tokens.peek() {
                            let name = name.to_string();
                            self.push(&name, TestAttr::Proptest);
                        }
                    }
                }
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// The tier of a Rust test file, from its path relative to the workspace root.
pub fn classify(path: &str) -> Kind {
    let parts: Vec<&str> = path.split('/').collect();
    let in_tests = parts.get(1) == Some(&"tests");
    let file = parts.last().copied().unwrap_or_default();
    if parts.first() == Some(&"sim") {
        Kind::Sim
    } else if path.starts_with("fakes/tests/") || (in_tests && file.starts_with("contract_")) {
        Kind::Contract
    } else if parts.get(1) == Some(&"src") || (in_tests && file.starts_with("tier1_")) {
        Kind::Unit
    } else {
        Kind::Integration
    }
}

/// Every Rust test of the workspace, by relative file path.
pub type RustTests = BTreeMap<String, Vec<FoundTest>>;

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?
            .is_dir()
        {
            collect_rs(&path, out)?;
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Scans the workspace under `root` for Rust tests; files without tests are left out.
pub fn scan_workspace(root: &Path) -> anyhow::Result<RustTests> {
    let mut files = Vec::new();
    for dir in SCANNED_DIRS {
        collect_rs(&root.join(dir), &mut files)?;
    }
    let mut out = RustTests::new();
    for path in files {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let source = std::fs::read_to_string(&path).with_context(|| format!("reading {rel}"))?;
        let tests = scan_rust(&source).map_err(|e| {
            let at = e.span().start();
            anyhow::anyhow!("{rel}:{}:{}: cannot parse: {e}", at.line, at.column + 1)
        })?;
        if !tests.is_empty() {
            out.insert(rel, tests);
        }
    }
    Ok(out)
}

/// Counts per kind: Rust tests by file tier, scenarios (outlines expanded) by tier tag.
pub fn counts(tests: &RustTests, rows: &[Row]) -> BTreeMap<Kind, usize> {
    let mut out: BTreeMap<Kind, usize> = Kind::ALL.iter().map(|k| (*k, 0)).collect();
    for (path, found) in tests {
        *out.entry(classify(path)).or_default() += found.len();
    }
    for row in rows {
        let n = row.scenario_count();
        for tier in TierTag::ALL {
            if row.cell(tier) == Some(Cell::Covered) {
                *out.entry(Kind::ScenariosOn(tier)).or_default() += n;
            }
        }
        if row.is_pending() {
            *out.entry(Kind::ScenariosPending).or_default() += n;
        } else if row.is_quarantined() {
            *out.entry(Kind::ScenariosQuarantined).or_default() += n;
        } else if !row.is_runnable() {
            *out.entry(Kind::ScenariosNoRunner).or_default() += n;
        }
    }
    out
}

/// The floors a count falls below, as messages naming the tier, the count and the floor.
pub fn floor_violations(counts: &BTreeMap<Kind, usize>, floors: &[(Kind, usize)]) -> Vec<String> {
    floors
        .iter()
        .filter_map(|(kind, floor)| {
            let have = counts.get(kind).copied().unwrap_or(0);
            (have < *floor)
                .then(|| format!("{}: {have} tests, below the floor of {floor}", kind.label()))
        })
        .collect()
}

fn attr_note(attr: TestAttr) -> &'static str {
    match attr {
        TestAttr::Test => "",
        TestAttr::Tokio => " *(tokio)*",
        TestAttr::Proptest => " *(proptest)*",
    }
}

/// Renders the inventory document.
pub fn render(tests: &RustTests, rows: &[Row], floors: &[(Kind, usize)]) -> String {
    let counts = counts(tests, rows);
    let floor_of: BTreeMap<Kind, usize> = floors.iter().copied().collect();
    let mut out = String::new();
    let _ = writeln!(out, "# Test inventory");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "<!-- Generated by `cargo xtask inventory` from the test code and `features/`; do not edit \
         by hand. `cargo xtask inventory --check` fails when this file is stale or a tier falls \
         below its floor. -->"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Every test the workspace runs, by tier and file. Rust tests are `#[test]`, \
         `#[tokio::test]` and each `fn` inside `proptest!`; a file's tier follows from where it \
         lives (`src/` and `tests/tier1_*` → unit, `tests/contract_*` and `fakes/tests/` → \
         contract, `sim/` → sim, other `tests/` → integration). Scenarios are the Gherkin catalog \
         (see `docs/scenario-catalog.md`), an outline counted once per example."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Totals");
    let _ = writeln!(out);
    let _ = writeln!(out, "| Tier | Count | Floor |");
    let _ = writeln!(out, "|---|---:|---:|");
    for kind in Kind::ALL {
        let floor = floor_of
            .get(&kind)
            .map_or("—".to_owned(), |f| f.to_string());
        let _ = writeln!(
            out,
            "| {} | {} | {floor} |",
            kind.label(),
            counts.get(&kind).copied().unwrap_or(0)
        );
    }
    let rust_total: usize = tests.values().map(Vec::len).sum();
    let scenario_total: usize = rows.iter().map(Row::scenario_count).sum();
    let _ = writeln!(out, "| **Rust tests** | **{rust_total}** | |");
    let _ = writeln!(out, "| **Scenarios** | **{scenario_total}** | |");

    for kind in [Kind::Unit, Kind::Contract, Kind::Integration, Kind::Sim] {
        let files: Vec<(&String, &Vec<FoundTest>)> =
            tests.iter().filter(|(p, _)| classify(p) == kind).collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "## {} tests", kind.label());
        if files.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "None yet.");
            continue;
        }
        for (path, found) in files {
            let _ = writeln!(out);
            let _ = writeln!(out, "### `{path}` ({})", found.len());
            let _ = writeln!(out);
            for t in found {
                let _ = writeln!(out, "- `{}`{}", t.name, attr_note(t.attr));
            }
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "## Scenarios");
    let by_file: BTreeMap<&str, Vec<&Row>> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        m.entry(r.file.as_str()).or_insert_with(Vec::new).push(r);
        m
    });
    for (file, rows) in by_file {
        let n: usize = rows.iter().map(|r| r.scenario_count()).sum();
        let _ = writeln!(out);
        let _ = writeln!(out, "### `features/{file}` ({n})");
        let _ = writeln!(out);
        for row in rows {
            let outline = row
                .examples
                .map_or(String::new(), |n| format!(" *(outline × {n})*"));
            let name = row.name.replace('<', "&lt;").replace('>', "&gt;");
            let _ = writeln!(out, "- {name}{outline} — {}", catalog::render_tiers(row));
        }
    }
    out
}

/// `cargo xtask inventory [--check]`.
pub fn run_inventory(check: bool) -> anyhow::Result<()> {
    let root = catalog::workspace_root();
    let tests = scan_workspace(&root)?;
    let rows = catalog::load_rows(&root, &catalog::Library::of_scenarios())?;
    let doc = render(&tests, &rows, FLOORS);
    let counts = counts(&tests, &rows);
    for kind in Kind::ALL {
        println!(
            "{}: {}",
            kind.label(),
            counts.get(&kind).copied().unwrap_or(0)
        );
    }
    catalog::write_or_check(
        &root.join(INVENTORY_DOC),
        &doc,
        check,
        "cargo xtask inventory",
    )?;
    let below = floor_violations(&counts, FLOORS);
    if !below.is_empty() {
        if check {
            bail!("test counts below their floors:\n  {}", below.join("\n  "));
        }
        eprintln!(
            "warning: test counts below their floors (`--check` fails on this):\n  {}",
            below.join("\n  ")
        );
    }
    println!(
        "{} {INVENTORY_DOC}",
        if check { "up to date:" } else { "wrote" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn names(found: &[FoundTest]) -> BTreeSet<&str> {
        found.iter().map(|t| t.name.as_str()).collect()
    }

    const SOURCE: &str = r##"
//! #[test] in a doc comment does not count
fn helper() {}

#[test]
fn top_level() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() { let _ = "#[test] fn in_a_string() {}"; }

    #[tokio::test(flavor = "current_thread")]
    async fn with_tokio() {}

    #[test]
    #[should_panic]
    fn panics() { panic!() }

    mod nested {
        #[tokio::test]
        async fn deep() {}
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn prop_one(x in 0u8..10) { fn inner() {} prop_assert!(x < 10); }

        #[test]
        fn prop_two(s in ".*") { let _ = s; }
    }

    #[cfg(test)]
    fn not_a_test() {}
}
"##;

    #[test]
    fn finds_tests_tokio_tests_and_each_proptest_fn_once() {
        let found = scan_rust(SOURCE).expect("parses");
        assert_eq!(
            names(&found),
            BTreeSet::from([
                "top_level",
                "tests::plain",
                "tests::with_tokio",
                "tests::panics",
                "tests::nested::deep",
                "tests::prop_one",
                "tests::prop_two",
            ])
        );
        assert_eq!(found.len(), 7, "no test is counted twice: {found:?}");
        let attr = |n: &str| found.iter().find(|t| t.name == n).map(|t| t.attr);
        assert_eq!(attr("tests::with_tokio"), Some(TestAttr::Tokio));
        assert_eq!(attr("tests::prop_one"), Some(TestAttr::Proptest));
        assert_eq!(attr("top_level"), Some(TestAttr::Test));
    }

    #[test]
    fn a_file_that_does_not_parse_is_an_error() {
        assert!(scan_rust("fn broken( {").is_err());
    }

    #[test]
    fn paths_classify_into_tiers() {
        assert_eq!(classify("runtime/src/control/gate.rs"), Kind::Unit);
        assert_eq!(classify("xtask/src/catalog.rs"), Kind::Unit);
        assert_eq!(classify("runtime/tests/contract_monero.rs"), Kind::Contract);
        assert_eq!(classify("fakes/tests/control.rs"), Kind::Contract);
        assert_eq!(classify("runtime/tests/tier1_sync_gate.rs"), Kind::Unit);
        assert_eq!(classify("runtime/tests/api.rs"), Kind::Integration);
        assert_eq!(classify("runtime/src/tests/contract_like.rs"), Kind::Unit);
        assert_eq!(classify("sim/src/world.rs"), Kind::Sim);
        assert_eq!(classify("sim/tests/invariants.rs"), Kind::Sim);
    }

    fn sample() -> (RustTests, Vec<Row>) {
        let mut tests = RustTests::new();
        tests.insert(
            "runtime/src/a.rs".into(),
            scan_rust("#[test] fn a() {} #[test] fn b() {}").expect("parses"),
        );
        tests.insert(
            "sim/tests/s.rs".into(),
            scan_rust("#[test] fn s() {}").expect("parses"),
        );
        let feature = "@section-B\nFeature: F\n  @sim @mini-stack\n  Scenario Outline: O <n>\n    When <n> seconds pass\n\n    Examples:\n      | n |\n      | 1 |\n      | 2 |\n\n  @live @pending(live-matrix)\n  Scenario: L\n    Given a box\n";
        let library = catalog::Library::with_runners(&[TierTag::Sim]);
        let rows = catalog::parse_feature("b.feature", feature, &library).expect("parses");
        (tests, rows)
    }

    #[test]
    fn counts_split_rust_tests_by_file_tier_and_scenarios_by_tag() {
        let (tests, rows) = sample();
        let c = counts(&tests, &rows);
        assert_eq!(c[&Kind::Unit], 2);
        assert_eq!(c[&Kind::Sim], 1);
        assert_eq!(c[&Kind::Contract], 0);
        assert_eq!(c[&Kind::ScenariosOn(TierTag::Sim)], 2);
        assert_eq!(
            c[&Kind::ScenariosOn(TierTag::MiniStack)],
            0,
            "no runner exists for the mini-stack: nothing runs there"
        );
        assert_eq!(
            c[&Kind::ScenariosOn(TierTag::Live)],
            0,
            "a pending live scenario is not counted as live"
        );
        assert_eq!(c[&Kind::ScenariosNoRunner], 0, "the outline runs on sim");
        assert_eq!(c[&Kind::ScenariosPending], 1);
    }

    #[test]
    fn floors_report_each_shortfall() {
        let (tests, rows) = sample();
        let c = counts(&tests, &rows);
        let v = floor_violations(&c, &[(Kind::Unit, 2), (Kind::Contract, 1), (Kind::Sim, 5)]);
        assert_eq!(
            v,
            vec![
                "contract: 0 tests, below the floor of 1".to_owned(),
                "sim: 1 tests, below the floor of 5".to_owned()
            ]
        );
    }

    #[test]
    fn render_lists_files_names_and_totals_deterministically() {
        let (tests, rows) = sample();
        let doc = render(&tests, &rows, &[(Kind::Unit, 2)]);
        assert_eq!(
            doc,
            render(&tests, &rows, &[(Kind::Unit, 2)]),
            "stable output"
        );
        assert!(doc.contains("| unit | 2 | 2 |"), "{doc}");
        assert!(doc.contains("| sim | 1 | — |"), "{doc}");
        assert!(
            doc.contains("### `runtime/src/a.rs` (2)\n\n- `a`\n- `b`\n"),
            "{doc}"
        );
        assert!(doc.contains("## contract tests\n\nNone yet."), "{doc}");
        assert!(
            doc.contains("- O &lt;n&gt; *(outline × 2)* — sim ✅ · mini-stack (no runner)"),
            "{doc}"
        );
        assert!(
            doc.contains("- L — ⏳ pending(live-matrix) — live"),
            "{doc}"
        );
        assert!(doc.contains("| **Rust tests** | **3** | |"), "{doc}");
    }

    #[test]
    fn the_workspace_scans_and_finds_this_very_test() {
        let tests = scan_workspace(&catalog::workspace_root()).expect("workspace parses");
        let mine = tests
            .get("xtask/src/inventory.rs")
            .expect("this file has tests");
        assert!(names(mine).contains("tests::the_workspace_scans_and_finds_this_very_test"));
    }
}
