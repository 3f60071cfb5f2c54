//! `cargo xtask test-live --host user@box`: the live matrix (tier 4) on a real box over SSH.
//!
//! - [`ssh`]: the one connection (system `ssh`, one control master), every command bounded.
//! - [`matrix`]: the config matrix as data (`xtask/live-matrix.json`), `--list`.
//! - [`battery`]: the assertions, pure over what was read on the box.
//! - [`reads`]: what is read there (files, status, `/api/state`, containers, fingerprints).
//! - [`wait`]: the readiness waiters.
//! - [`run`]: the run's context and the matrix scenario.
//! - [`faults`], [`lifecycle`], [`safety`]: fault injection, lifecycle, the safety backup.
//! - [`redact`], [`report`]: one redactor for everything printed or written; results, JUnit,
//!   the manifest, artifacts.

pub mod battery;
pub mod catalog;
pub mod faults;
pub mod host;
pub mod lifecycle;
pub mod matrix;
pub mod reads;
pub mod redact;
pub mod report;
pub mod run;
pub mod safety;
pub mod ssh;
pub mod wait;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use matrix::{Inputs, Row};
use report::{junit_xml, Manifest, Progress, ScenarioResult, SkipClass, Summary};
use run::Live;
use ssh::{Remote, Target};

/// The flags of §8.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// The box, as ssh takes it: `user@host`.
    #[arg(long, required_unless_present = "list")]
    pub host: Option<String>,
    /// The ssh port (default: ssh's).
    #[arg(long)]
    pub port: Option<u16>,
    /// The stack directory on the box (relative to the login's home, or absolute).
    #[arg(long, default_value = "pithead")]
    pub dir: String,
    /// The `pithead` binary on the box (relative to --dir, or absolute).
    #[arg(long, default_value = "./pithead")]
    pub pithead: String,
    /// The ssh private key.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// The known-hosts file (default: ssh's own); a new host key is accepted and recorded.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Read-only: run the assertion battery on the box as it is and change nothing.
    #[arg(long, conflicts_with_all = ["scenario", "lifecycle", "fault_injection", "safety_backup", "inject_failure", "catalog"])]
    pub check: bool,
    /// Run only these matrix rows (repeat the flag), and any fault or lifecycle scenario named
    /// here; see --list. Without it every matrix row runs.
    #[arg(long, value_name = "NAME")]
    pub scenario: Vec<String>,
    /// Print the scenarios (the config matrix, the faults, the lifecycle) and exit.
    #[arg(long)]
    pub list: bool,
    /// Also run the lifecycle scenarios (restart, pool flip, backup round trip).
    #[arg(long)]
    pub lifecycle: bool,
    /// Also run fault injection (stop, SIGSTOP and rm monerod, then recovery).
    #[arg(long)]
    pub fault_injection: bool,
    /// Back the box up first; on any failure roll it back (down, restore, up) and prove it.
    #[arg(long)]
    pub safety_backup: bool,
    /// Run the catalog's `@live` scenarios (features/*.feature) on the box instead of the
    /// matrix rows; a step a box cannot perform is skipped with its class.
    #[arg(long)]
    pub catalog: bool,
    /// Leave the box on the last scenario's config instead of restoring the one found.
    #[arg(long)]
    pub keep: bool,
    /// Also run matrix rows that turn pruning off on a pruned node (the chain re-syncs from
    /// scratch: days on a real box); without it they are skipped by design.
    #[arg(long)]
    pub destructive: bool,
    /// Where results go (JUnit, manifest, artifacts); default target/live/<time>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The number of workers expected online on the box (0: not checked).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub workers: u32,
    /// A box input the matrix needs (`remote_monero_host=node.lan`); rows missing one skip.
    /// `share_wait_minutes=N` bounds the catalog's wait for a real share (60 by default).
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,
    /// Make the named scenario fail after its apply (proves the safety rollback).
    #[arg(long, value_name = "NAME", hide = true)]
    pub inject_failure: Option<String>,
}

/// Whether `row` turns pruning off on a pruned local node (pithead apply calls that change
/// DESTRUCTIVE: the chain re-syncs from scratch). Pruning is on unless config.json says off.
fn resyncs_chain(baseline: &serde_json::Value, row: &Row) -> bool {
    let pruned = baseline
        .pointer("/monero/prune")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    pruned && row.overrides.get("monero.prune") == Some(&serde_json::Value::Bool(false))
}

/// Every scenario name a run knows, in run order: the matrix rows, the faults, the lifecycle.
fn all_names(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|r| r.name.clone())
        .chain(faults::FAULTS.iter().map(|s| (*s).to_owned()))
        .chain(lifecycle::LIFECYCLE.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// What `--list` prints.
fn listing(rows: &[Row]) -> String {
    let mut out = format!(
        "config matrix ({} rows):\n{}",
        rows.len(),
        matrix::list(rows)
    );
    let uncovered = matrix::uncovered(rows);
    if !uncovered.is_empty() {
        out.push_str(&format!(
            "axis values no row sets (the self-test fails on these): {}\n",
            uncovered.join(", ")
        ));
    }
    out.push_str("\nfault injection (--fault-injection):\n");
    for name in faults::FAULTS {
        out.push_str(&format!("  {name}\n"));
    }
    out.push_str("\nlifecycle (--lifecycle):\n");
    for name in lifecycle::LIFECYCLE {
        out.push_str(&format!("  {name}\n"));
    }
    out
}

fn parse_inputs(pairs: &[String]) -> anyhow::Result<Inputs> {
    let mut inputs = std::collections::BTreeMap::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--input {pair:?}: expected KEY=VALUE");
        };
        inputs.insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(Inputs(inputs))
}

/// Runs `cargo xtask test-live`.
pub fn run(args: &LiveArgs) -> anyhow::Result<ExitCode> {
    let rows = matrix::rows()?;
    if args.list {
        print!("{}", listing(&rows));
        return Ok(ExitCode::SUCCESS);
    }
    for name in &args.scenario {
        if !all_names(&rows).contains(name) {
            bail!("no scenario is called {name:?}; `cargo xtask test-live --list` lists them");
        }
    }
    let inputs = parse_inputs(&args.inputs)?;
    let host = args.host.clone().context("--host is required")?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => crate::images::target_dir(&crate::images::workspace_root())
            .join("live")
            .join(format!("run-{}", std::process::id())),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let target = Target {
        host,
        port: args.port,
        identity: args.identity.clone(),
        known_hosts: args.known_hosts.clone(),
        dir: args.dir.clone(),
        pithead: args.pithead.clone(),
    };
    // Multi-threaded: the catalog's tier blocks on it from the runner's own executor, so its
    // I/O must be driven by threads of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = utc_now();
    let (live, version) = runtime.block_on(open(args, target, &rows, inputs, &out))?;
    let live = std::rc::Rc::new(live);
    let results = if args.check {
        vec![runtime.block_on(check_only(&live))]
    } else {
        let mut results = Vec::new();
        let safety = runtime.block_on(prepare(args, &live, &mut results))?;
        if results.iter().all(|r| r.failure().is_none()) {
            results.extend(runtime.block_on(scenarios(args, &live, &rows)));
            if args.catalog {
                results.extend(catalog::run(
                    &live,
                    runtime.handle(),
                    &out,
                    args.destructive,
                )?);
            }
            results.extend(runtime.block_on(finish(args, &live, safety.as_ref(), &results))?);
        }
        results
    };
    let manifest = Manifest {
        version: version.trim().to_owned(),
        git_rev: git_rev(),
        host: live.remote.host().to_owned(),
        started,
        finished: utc_now(),
        images: runtime
            .block_on(reads::images(&live.remote))
            .unwrap_or_default(),
        flags: std::env::args().skip(1).collect(),
    };
    report::write_atomic(
        &out.join("manifest.json"),
        manifest.to_json(&live.redactor)?.as_bytes(),
    )?;
    report::write_atomic(
        &out.join("junit.xml"),
        junit_xml("live", &results, &live.redactor)?.as_bytes(),
    )?;
    live.progress.finish();
    if let Ok(live) = std::rc::Rc::try_unwrap(live) {
        runtime.block_on(live.remote.close());
    }
    let summary = Summary::of(&results);
    println!("\n{summary}");
    println!("results: {}", out.display());
    Ok(if summary.is_green() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Connects, reads what the run starts from (the redactor's secrets, pithead's version, the
/// baseline config.json) and makes the run's context.
async fn open(
    args: &LiveArgs,
    target: Target,
    rows: &[Row],
    inputs: Inputs,
    out: &std::path::Path,
) -> anyhow::Result<(Live, String)> {
    let remote = Remote::connect(target).await?;
    let redactor = redact::Redactor::new(reads::known_secrets(&remote).await?);
    let version = remote
        .pithead(
            "pithead version",
            &["version"],
            None,
            std::time::Duration::from_secs(30),
        )
        .await?;
    if !version.ok() {
        return Err(remote.failed("pithead version", &version).into());
    }
    let baseline_text = remote.read("config.json").await?.with_context(|| {
        format!(
            "{}: no config.json in {} (run `pithead setup` there first)",
            remote.host(),
            remote.dir()
        )
    })?;
    let baseline = reads::config(&remote).await?;
    let total = if args.check {
        1
    } else {
        all_names(rows).len() as u64
    };
    let live = Live {
        remote,
        progress: Progress::new(total, redactor.clone()),
        redactor,
        out: out.to_owned(),
        baseline_text,
        baseline,
        inputs,
        inject_failure: args.inject_failure.clone(),
        workers: args.workers,
    };
    Ok((live, version.stdout))
}

/// `--check`: the battery on the box as it is; the box must be the same afterwards.
async fn check_only(live: &Live) -> ScenarioResult {
    live.scenario("check (read-only)", || async {
        let before = reads::snapshot(&live.remote).await?;
        let facts = reads::facts(&live.remote).await?;
        let mut checks = battery::battery(&facts);
        if live.workers > 0 {
            checks.push(run::workers_online(facts.state.as_ref(), live.workers));
        }
        let after = reads::snapshot(&live.remote).await?;
        let changed: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
        checks.push(report::Check {
            name: "--check changed nothing on the box".to_owned(),
            result: if changed.is_empty() {
                Ok(())
            } else {
                Err(format!("changed: {changed:?}"))
            },
        });
        anyhow::Ok(checks)
    })
    .await
}

/// Whether `--scenario` names `name`.
fn named(args: &LiveArgs, name: &str) -> bool {
    args.scenario.iter().any(|n| n == name)
}

/// Before anything changes: the box must be ready, and the safety backup (if asked) taken.
async fn prepare(
    args: &LiveArgs,
    live: &Live,
    results: &mut Vec<ScenarioResult>,
) -> anyhow::Result<Option<safety::Safety>> {
    let before = live
        .scenario("the box is ready before the run", || async {
            Ok(live.ready("the box is ready before the run").await)
        })
        .await;
    let ready = before.failure().is_none();
    results.push(before);
    // A box that is not healthy is not ours to experiment on: nothing is changed.
    if !ready || !args.safety_backup {
        return Ok(None);
    }
    let safety = safety::take(live).await?;
    live.progress.println(&format!(
        "safety backup taken: {} on the box",
        safety.archive
    ));
    Ok(Some(safety))
}

/// The matrix rows (unless `--catalog` replaces them), the faults and the lifecycle.
async fn scenarios(args: &LiveArgs, live: &Live, rows: &[Row]) -> Vec<ScenarioResult> {
    let mut results = Vec::new();
    let every_row = args.scenario.is_empty() && !args.catalog;
    for row in rows.iter().filter(|r| every_row || named(args, &r.name)) {
        if !args.destructive && resyncs_chain(&live.baseline, row) {
            results.push(
                live.skipped(
                    &row.name,
                    SkipClass::ByDesign,
                    "it turns pruning off on a pruned node, which re-syncs the chain from scratch \
                 (pass --destructive to run it)"
                        .to_owned(),
                ),
            );
            continue;
        }
        let missing = row.missing_inputs(&live.inputs);
        if !missing.is_empty() {
            results.push(live.skipped(
                &row.name,
                SkipClass::Missing,
                format!("needs --input {}", missing.join(", --input ")),
            ));
            continue;
        }
        results.push(live.scenario(&row.name, || live.matrix_row(row)).await);
    }
    // Faults and the lifecycle act on the box as it was found, not on the last row's config.
    let rows_ran = results
        .iter()
        .any(|r| r.failure().is_some() || matches!(r.status, report::Status::Passed));
    let more = args.fault_injection
        || args.lifecycle
        || args
            .scenario
            .iter()
            .any(|n| !rows.iter().any(|r| &r.name == n));
    if rows_ran && more {
        results.push(
            live.scenario("back to the config found on the box", || async {
                live.push_baseline().await?;
                live.apply().await?;
                Ok(live.ready("back to the config found on the box").await)
            })
            .await,
        );
    }
    let local_monero = live
        .baseline
        .pointer("/monero/mode")
        .and_then(serde_json::Value::as_str)
        .is_none_or(|mode| mode == "local");
    for name in faults::FAULTS {
        if !(args.fault_injection || named(args, name)) {
            continue;
        }
        if !local_monero {
            results.push(live.skipped(
                name,
                SkipClass::ByDesign,
                "the box's monerod is remote: there is no local node to break".to_owned(),
            ));
            continue;
        }
        results.push(live.scenario(name, || faults::run(live, name)).await);
    }
    for name in lifecycle::LIFECYCLE {
        if !(args.lifecycle || named(args, name)) {
            continue;
        }
        results.push(live.scenario(name, || lifecycle::run(live, name)).await);
    }
    results
}

/// After the scenarios: roll back on a failure (with the safety backup), else restore the
/// config found on the box; remove the safety backup after a clean run.
async fn finish(
    args: &LiveArgs,
    live: &Live,
    safety: Option<&safety::Safety>,
    so_far: &[ScenarioResult],
) -> anyhow::Result<Vec<ScenarioResult>> {
    let mut results = Vec::new();
    let failed = so_far.iter().any(|r| r.failure().is_some());
    if let Some(safety) = safety {
        if failed {
            results.push(
                live.scenario("safety backup: roll back", || {
                    safety::roll_back(live, safety)
                })
                .await,
            );
        }
    }
    // A rollback already put the box back as it was found.
    let rolled_back = failed && safety.is_some();
    if !args.keep && !rolled_back {
        results.push(
            live.scenario("restore the config found on the box", || async {
                live.push_baseline().await?;
                live.apply().await?;
                Ok(live.ready("restore the config found on the box").await)
            })
            .await,
        );
    }
    if let Some(safety) = safety {
        if !failed {
            results.push(
                live.scenario("safety backup: removed", || safety::remove(live, safety))
                    .await,
            );
        }
    }
    Ok(results)
}

/// Now, as RFC 3339 UTC (the manifest's times are the real ones).
fn utc_now() -> String {
    #[allow(clippy::disallowed_methods)] // a real run's wall time, for the manifest
    let now = std::time::SystemTime::now();
    humantime::format_rfc3339_seconds(now).to_string()
}

fn git_rev() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_parse_as_key_value_pairs() {
        let inputs = parse_inputs(&["remote_monero_host=node.lan".into()]).unwrap();
        assert_eq!(inputs.0.get("remote_monero_host").unwrap(), "node.lan");
        let err = parse_inputs(&["nonsense".into()]).unwrap_err();
        assert!(err.to_string().contains("expected KEY=VALUE"), "{err}");
    }

    #[test]
    fn only_turning_pruning_off_on_a_pruned_node_is_destructive() {
        let row = |prune: bool| Row {
            name: "r".into(),
            overrides: [("monero.prune".to_owned(), serde_json::Value::Bool(prune))].into(),
            needs: vec![],
        };
        let pruned = serde_json::json!({});
        let full = serde_json::json!({"monero": {"prune": false}});
        assert!(resyncs_chain(&pruned, &row(false)));
        assert!(!resyncs_chain(&pruned, &row(true)));
        assert!(!resyncs_chain(&full, &row(false)));
    }

    #[test]
    fn the_listing_names_every_scenario() {
        let rows = matrix::rows().unwrap();
        let text = listing(&rows);
        for name in all_names(&rows) {
            assert!(text.contains(&name), "{name} is not listed:\n{text}");
        }
    }
}
