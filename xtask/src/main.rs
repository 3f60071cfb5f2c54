//! `cargo xtask`: the project's automation, in Rust (no shell with logic).
//!
//! `cargo xtask test` is exactly what CI runs (`.ci/run` calls it).

use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

mod bench_dashboard;
mod browser;
mod catalog;
mod demo;
mod images;
mod inventory;
mod live;
mod live_loopback;
mod mini_stack;
mod mutants;
mod pgo;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Pithead's automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Runs the runtime against in-process fake daemons that go through a sync and an outage;
    /// the dashboard's /api/state is served on localhost.
    Demo(demo::DemoArgs),
    /// The dashboard in a real headless Chromium (Debian's chromium + chromium-driver) against
    /// the runtime with in-process fakes: syncing, released, rejected and an outage gap; writes
    /// target/screenshots/<state>.png.
    Browser,
    /// Runs every test tier (the mini-stack in the background, on the local docker engine), then
    /// the drift checks (what CI runs).
    Test,
    /// Runs random fault schedules on many seeds in the simulation (profile-guided release
    /// build, every core; `PITHEAD_SIM_PGO=0` for the plain release build), or replays one:
    /// `cargo xtask swarm --seeds 64 --hours 6`, `--replay SEED --timeline out.html`.
    #[command(disable_help_flag = true)]
    Swarm {
        /// Passed to `pithead-sim swarm` (see `cargo xtask swarm --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Measures one simulated day (virtual seconds per wall second) and swarm seeds per minute,
    /// on the profile-guided build (`PITHEAD_SIM_PGO=0` for the plain release build).
    #[command(name = "bench-sim", disable_help_flag = true)]
    BenchSim {
        /// Passed to `pithead-sim bench`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The 30-simulated-day soak (release build); `--days 35` runs past the history's 30-day
    /// retention, where its size must stay flat.
    Soak {
        /// Simulated days.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Loads `/api/state` and `/metrics` of the release runtime (30 days of history, 10,000
    /// workers) with `oha`: throughput, p50 / p99 latency, resident memory; writes
    /// target/bench-dashboard.json (see docs/benchmarks.md).
    #[command(name = "bench-dashboard")]
    BenchDashboard(bench_dashboard::BenchArgs),
    /// Builds the mini-stack's images locally (static musl binaries, FROM scratch): the runtime
    /// and the fakes; prints each image's size.
    Images,
    /// Runs the mini-stack tier alone (builds the images first): every @mini-stack scenario on
    /// real containers on the local docker engine.
    MiniStack(mini_stack::MiniStackArgs),
    /// The live matrix (tier 4) on a real box over SSH: the config matrix, `--check`,
    /// `--fault-injection`, `--lifecycle`, `--safety-backup` (see docs/live-matrix.md).
    #[command(name = "test-live")]
    TestLive(live::LiveArgs),
    /// Proves `test-live` end to end on this machine: a loopback sshd in front of a box whose
    /// stack runs on the local docker engine with the locally built images.
    LiveLoopback(live_loopback::LoopbackArgs),
    /// Mutation testing of runtime/src/control, runtime/src/store and the cycle with
    /// cargo-mutants (installed on first use); prints caught / missed / unviable per file.
    Mutants(mutants::MutantsArgs),
    /// Regenerates docs/scenario-catalog.md from features/ (or checks it with --check).
    Catalog {
        /// Fail when the file on disk is stale instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Regenerates docs/test-inventory.md from the test code (or checks it with --check).
    Inventory {
        /// Fail when the file on disk is stale or a count is below its floor.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::TestLive(args) => {
            return live::run(&args).unwrap_or_else(|e| {
                eprintln!(
                    "xtask test-live: {}",
                    pithead_runtime::error_chain::joined(e.as_ref())
                );
                ExitCode::from(2)
            })
        }
        Task::LiveLoopback(args) => live_loopback::run(&args),
        Task::Demo(args) => demo::run(&args),
        Task::Test => test(),
        Task::Browser => browser::run(),
        Task::Swarm { args } => optimized_sim("swarm", &args),
        Task::BenchSim { args } => optimized_sim("bench", &args),
        Task::Soak { days } => soak(days),
        Task::BenchDashboard(args) => bench_dashboard::run(&args),
        Task::Images => images::build(),
        Task::MiniStack(args) => mini_stack::run(&args),
        Task::Mutants(args) => mutants::run(&args),
        Task::Catalog { check } => catalog::run_catalog(check),
        Task::Inventory { check } => inventory::run_inventory(check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "xtask: {}",
                pithead_runtime::error_chain::joined(e.as_ref())
            );
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("+ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The simulation is CPU-bound: run its own binary in release, whatever profile xtask has.
fn sim_binary(command: &str, args: &[String]) -> anyhow::Result<()> {
    // The release build's arguments (`pgo::SIM_BUILD`), run instead of only built.
    let mut all = vec!["run"];
    all.extend_from_slice(&pgo::SIM_BUILD[1..]);
    all.extend(["--", command]);
    all.extend(args.iter().map(String::as_str));
    cargo(&all)
}

/// Runs the profile-guided build of the simulation (`pgo.rs`): the long runs a developer starts.
/// CI's swarm and soak stay on [`sim_binary`]: the two extra builds would cost CI minutes that
/// the faster runs do not win back.
fn optimized_sim(command: &str, args: &[String]) -> anyhow::Result<()> {
    let binary = pgo::sim_binary()?;
    let status = Command::new(&binary)
        .arg(command)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !status.success() {
        bail!("pithead-sim {command} failed ({status})");
    }
    Ok(())
}

/// The soak (30 simulated days in CI), in release, with a progress bar on a terminal.
fn soak(days: u64) -> anyhow::Result<()> {
    sim_binary(
        "soak",
        &[
            "--seed".into(),
            "30".into(),
            "--days".into(),
            days.to_string(),
        ],
    )
}

fn test() -> anyhow::Result<()> {
    ensure_monerod();
    // The mini-stack tier waits out real (scaled) windows: it runs beside everything else.
    let mini_stack = mini_stack::start_in_background()?;
    let tiers = foreground_tiers();
    // Whatever the foreground found, the background tier runs to its end: it removes its own
    // containers as it goes, and its verdict is reported too (an early return would orphan it,
    // leaving a scenario's stack on the engine).
    let background = match mini_stack {
        Some(background) => background.finish(),
        None => Ok(()),
    };
    tiers?;
    background?;
    eprintln!("xtask test: every tier and drift check passed");
    Ok(())
}

/// Every tier of `cargo xtask test` but the mini-stack, in order; the first failure stops them.
fn foreground_tiers() -> anyhow::Result<()> {
    cargo(&["test", "--workspace", "--all-targets", "--no-fail-fast"])?;
    eprintln!("+ cargo xtask demo --once (the README's first command, as a smoke test)");
    demo::smoke()?;
    eprintln!("+ cargo xtask browser (the dashboard in headless Chromium)");
    browser::run()?;
    // Tier 4's harness, end to end over a loopback sshd in front of a box on the local engine.
    live_loopback::run(&live_loopback::LoopbackArgs::default())?;
    // The simulation's long runs, in release: a swarm of random fault schedules and the
    // 30-simulated-day soak.
    sim_binary(
        "swarm",
        &["--seeds".into(), "64".into(), "--hours".into(), "6".into()],
    )?;
    soak(30)?;
    catalog::run_catalog(true)?;
    inventory::run_inventory(true)
}

/// The contract tier runs Debian's real monerod. Install it when missing and we may (root with
/// apt); otherwise the tier itself says loudly that it skipped (and fails under CI=true).
fn ensure_monerod() {
    let present = Command::new("monerod")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        eprintln!("xtask: monerod is not installed and we are not root: `sudo apt-get install monero` enables the real-daemon contract test");
        return;
    }
    eprintln!("xtask: installing Debian's monero package for the real-daemon contract test");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "--no-install-recommends", "monero"][..],
    ] {
        let ok = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "xtask: apt-get {} failed; the real-daemon test will report it",
                args.join(" ")
            );
            return;
        }
    }
}
