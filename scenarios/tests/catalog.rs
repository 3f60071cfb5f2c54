//! The scenario catalog on the tiers this crate registers (`Registry::builtin`: the simulation):
//! every `@sim` scenario of `features/*.feature`.
//!
//! Run: `cargo test -p pithead-scenarios --test catalog`.
//!
//! - `PITHEAD_SCENARIO=<substring>` runs only the scenarios whose name (or feature name) contains
//!   the substring, e.g. `PITHEAD_SCENARIO="Recovery hysteresis" cargo test -p pithead-scenarios
//!   --test catalog`. Outline rows carry their example values in the name.
//! - `PITHEAD_SEED=<u64>` replaces every scenario's seed (by default each scenario's seed is a
//!   hash of its feature and name, so a run replays exactly).
//! - `PITHEAD_FEATURES=<dir>` reads the feature files from `<dir>` instead of `features/` (to try
//!   a draft).
//! - `PITHEAD_TRACE=1` prints each scenario's simulation trace on stderr when it ends.
//!
//! `@pending(...)` scenarios are listed, not run; scenarios naming no tier with a runner are
//! listed with that reason; `@quarantine(...)` ones run and are reported apart; an unmatched step
//! or a tag outside the grammar fails (see `pithead_scenarios::runner`). Output: cucumber's
//! pretty writer on stdout, JUnit XML in `target/cucumber/junit.xml` (every scenario; the ones
//! not run as skipped with their reason), then the summary with the wall time. Exit code 1 on any
//! failure outside quarantine, on a parse error, or when nothing ran. Command-line arguments are
//! ignored (so `cargo test -- <filter>` for other test binaries does not break this one).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pithead_scenarios::runner::{junit_file, run, Options};
use pithead_scenarios::tiers::Registry;

fn main() -> ExitCode {
    let features = std::env::var_os("PITHEAD_FEATURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../features"));
    // A clean path reads better in the output and the JUnit names than `scenarios/../features`.
    let features = std::fs::canonicalize(&features).unwrap_or(features);
    let only = std::env::var("PITHEAD_SCENARIO")
        .ok()
        .filter(|s| !s.is_empty());
    let seed = match std::env::var("PITHEAD_SEED") {
        Err(_) => None,
        Ok(raw) => match raw.trim().parse() {
            Ok(seed) => Some(seed),
            Err(_) => {
                eprintln!("catalog: PITHEAD_SEED must be a u64 (got {raw:?})");
                return ExitCode::FAILURE;
            }
        },
    };
    let (junit, file) = match junit_file("junit.xml") {
        Ok(created) => created,
        Err(e) => {
            eprintln!("catalog: {e}");
            return ExitCode::FAILURE;
        }
    };

    let report = run(Options {
        features,
        only,
        seed,
        pretty: Box::new(io::stdout()),
        junit: Box::new(file),
        show_record: std::env::var_os("PITHEAD_TRACE").is_some_and(|v| !v.is_empty() && v != "0"),
        tiers: Registry::builtin(),
    });

    let mut out = io::stdout().lock();
    let printed = report
        .print(&mut out)
        .and_then(|()| writeln!(out, "JUnit XML: {}", junit.display()));
    if printed.is_err() || report.fails_build() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
