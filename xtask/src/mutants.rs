//! `cargo xtask mutants`: mutation testing of the decisions with `cargo-mutants`.
//!
//! Mutates `runtime/src/control/`, `runtime/src/store/` and the cycle, runs the tests that are
//! meant to pin them (the library's unit tests and the tier-1 suites), and prints caught / missed /
//! unviable / timeout per file. Too slow for CI (every viable mutant is a rebuild plus a test run);
//! `docs/testing.md` keeps the last score and the reasons for every mutant left missed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};

/// The files whose mutants are scored.
const MUTATED: &[&str] = &[
    "runtime/src/control/**/*.rs",
    "runtime/src/store/**/*.rs",
    "runtime/src/cycle.rs",
];

/// Where cargo-mutants writes `mutants.out/`.
const OUTPUT: &str = "target/mutants";

/// Options of `cargo xtask mutants`.
#[derive(Debug, clap::Args)]
pub struct MutantsArgs {
    /// Only list the mutants, run nothing.
    #[arg(long)]
    list: bool,
    /// Only re-read the last run's results (target/mutants/mutants.out) and print the score.
    #[arg(long)]
    report: bool,
    /// Parallel mutant jobs (each builds its own copy of the tree).
    #[arg(long, short, default_value_t = 1)]
    jobs: u32,
}

/// Runs cargo-mutants (or only reads its last results) and prints the per-file score.
#[allow(clippy::disallowed_methods)] // wall time of the run is what is reported
pub fn run(args: &MutantsArgs) -> anyhow::Result<()> {
    if !args.report {
        ensure_cargo_mutants()?;
        let mut command = Command::new(cargo());
        command.args(["mutants", "--package", "pithead-runtime", "--no-shuffle"]);
        for glob in MUTATED {
            command.args(["--file", glob]);
        }
        let jobs = args.jobs.to_string();
        command.args(["--jobs", &jobs, "--output", OUTPUT]);
        // The tests that pin the decisions; the contract tier and the simulation are not in the
        // loop (minutes per mutant), which makes every score here a floor.
        command.args(["--cargo-test-arg=--lib", "--cargo-test-arg=--test=tier1_*"]);
        if args.list {
            command.arg("--list");
        }
        eprintln!("+ {command:?}");
        let started = Instant::now();
        let status = command.status().context("cannot run cargo mutants")?;
        if args.list {
            return if status.success() {
                Ok(())
            } else {
                bail!("cargo mutants --list failed ({status})")
            };
        }
        // cargo-mutants exits 2 when mutants were missed and 3 on timeouts: the score says it.
        if !matches!(status.code(), Some(0 | 2 | 3)) {
            bail!("cargo mutants failed ({status})");
        }
        eprintln!(
            "cargo mutants took {:.0} s wall",
            started.elapsed().as_secs_f64()
        );
    }
    let out = Path::new(OUTPUT).join("mutants.out");
    let score = Score::read(&out)?;
    print!("{}", score.render());
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn ensure_cargo_mutants() -> anyhow::Result<()> {
    let present = Command::new(cargo())
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    eprintln!("+ cargo install cargo-mutants --locked (once)");
    let status = Command::new(cargo())
        .args(["install", "cargo-mutants", "--locked"])
        .status()
        .context("cannot run cargo install")?;
    if !status.success() {
        bail!("cargo install cargo-mutants failed ({status})");
    }
    Ok(())
}

/// Counts per outcome, per mutated file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// file -> [caught, missed, unviable, timeout].
    pub per_file: BTreeMap<String, [usize; 4]>,
    /// The missed mutants, as cargo-mutants names them (`file:line:col: replace … with …`).
    pub missed: Vec<String>,
}

const OUTCOMES: [&str; 4] = ["caught.txt", "missed.txt", "unviable.txt", "timeout.txt"];

impl Score {
    /// Reads cargo-mutants' `caught.txt`, `missed.txt`, `unviable.txt`, `timeout.txt`.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!(
                "{} does not exist: run `cargo xtask mutants` first",
                dir.display()
            );
        }
        let mut texts = Vec::new();
        for name in OUTCOMES {
            let path: PathBuf = dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            texts.push(text);
        }
        Ok(Self::parse(&texts))
    }

    /// Builds the score from the four files' contents, in [`OUTCOMES`] order.
    pub fn parse(texts: &[String]) -> Self {
        let mut score = Self::default();
        for (outcome, text) in texts.iter().enumerate() {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let file = line.split(':').next().unwrap_or(line).to_owned();
                score.per_file.entry(file).or_default()[outcome] += 1;
                if outcome == 1 {
                    score.missed.push(line.to_owned());
                }
            }
        }
        score
    }

    /// A table per file, a total, and the missed mutants.
    pub fn render(&self) -> String {
        let mut out = String::from("file | caught | missed | unviable | timeout | score\n");
        let mut total = [0usize; 4];
        for (file, counts) in &self.per_file {
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
            out += &format!("{file} | {}\n", row(counts));
        }
        out += &format!("total | {}\n", row(&total));
        if !self.missed.is_empty() {
            out += "\nmissed:\n";
            for m in &self.missed {
                out += &format!("  {m}\n");
            }
        }
        out
    }
}

/// `caught | missed | unviable | timeout | caught / viable %`; a timeout counts as caught (the
/// mutant hung the tests), as cargo-mutants' own summary treats it.
fn row(c: &[usize; 4]) -> String {
    let viable = c[0] + c[1] + c[3];
    let score = if viable == 0 {
        "-".to_owned()
    } else {
        format!("{:.1} %", 100.0 * (c[0] + c[3]) as f64 / viable as f64)
    };
    format!("{} | {} | {} | {} | {score}", c[0], c[1], c[2], c[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_each_outcome_per_file_and_lists_the_missed() {
        let texts = [
            "runtime/src/control/a.rs:1:1: replace x with y\nruntime/src/control/a.rs:2:1: replace z\n",
            "runtime/src/control/b.rs:9:5: replace f -> bool with true\n",
            "runtime/src/control/a.rs:3:1: replace w with Default::default()\n",
            "",
        ]
        .map(str::to_owned);
        let score = Score::parse(&texts);
        assert_eq!(score.per_file["runtime/src/control/a.rs"], [2, 0, 1, 0]);
        assert_eq!(score.per_file["runtime/src/control/b.rs"], [0, 1, 0, 0]);
        assert_eq!(
            score.missed,
            ["runtime/src/control/b.rs:9:5: replace f -> bool with true"]
        );
        let table = score.render();
        assert!(table.contains("runtime/src/control/a.rs | 2 | 0 | 1 | 0 | 100.0 %"));
        assert!(table.contains("runtime/src/control/b.rs | 0 | 1 | 0 | 0 | 0.0 %"));
        assert!(table.contains("total | 2 | 1 | 1 | 0 | 66.7 %"));
    }

    #[test]
    fn a_missing_output_dir_is_a_clear_error() {
        let err = Score::read(Path::new("/nonexistent/mutants.out")).unwrap_err();
        assert!(err.to_string().contains("run `cargo xtask mutants` first"));
    }
}
