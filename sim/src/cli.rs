//! Command-line entry points (`cargo xtask swarm`, `cargo xtask bench-sim`, `cargo xtask soak`,
//! or the `pithead-sim` binary): argument structs to flatten into a clap command and the
//! functions that run them.
//!
//! Long runs show a progress bar on a terminal and nothing when stderr is not one or under
//! `CI=true` (a CI log is no place for redraws).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::bench::{bench_day, bench_floor, bench_swarm, granularity};
use crate::soak::soak_with_progress;
use crate::swarm::{run_seed_stepped, swarm_from};
use crate::timeline::timeline_html;

/// Why a command could not do its job (a failing seed is not an error: it is the result).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An output file or its directory could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `--log` could not be set up.
    #[error(transparent)]
    Log(#[from] crate::replay_log::LogError),
}

/// A progress bar of `len` units, drawn only on a terminal outside CI.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), progress_target());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {unit}  {{elapsed}} (eta {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn progress_target() -> ProgressDrawTarget {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if ci || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// `swarm`: run many seeds, or replay one.
#[derive(Debug, Clone, clap::Args)]
pub struct SwarmArgs {
    /// Number of seeds to run.
    #[arg(long, default_value_t = 64)]
    pub seeds: u64,
    /// First seed (seeds run are `first-seed .. first-seed + seeds`).
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Simulated hours per seed.
    #[arg(long, default_value_t = 6.0)]
    pub hours: f64,
    /// Threads (0 = every core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Virtual milliseconds per simulation step.
    #[arg(long = "tick-ms", default_value_t = 1000)]
    pub tick_ms: u64,
    /// Replay one seed (prints its trace tail on failure).
    #[arg(long)]
    pub replay: Option<u64>,
    /// Write the timeline (HTML/SVG) of the replayed seed, or of the first failing seed.
    #[arg(long)]
    pub timeline: Option<PathBuf>,
    /// Machine-readable result (JSON).
    #[arg(long, default_value = "target/sim/swarm-report.json")]
    pub out: PathBuf,
    /// With `--replay`: write every log line of the replayed world to this file, stamped with
    /// virtual time (diff two replays' logs to see where they part).
    #[arg(long, requires = "replay")]
    pub log: Option<PathBuf>,
    /// Which log lines `--log` keeps (a `RUST_LOG`-style filter).
    #[arg(long, default_value = crate::replay_log::DEFAULT_FILTER, requires = "log")]
    pub log_filter: String,
    /// With `--replay`: tick every host on every step, even when nothing would run on it (the
    /// trace hash must be the same as without: a check of the idle-tick skip).
    #[arg(long, requires = "replay")]
    pub no_idle_skip: bool,
}

fn write(path: &Path, contents: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Runs `swarm`. `Ok(false)` when a seed failed (the caller exits non-zero).
pub fn run_swarm(args: &SwarmArgs) -> Result<bool, CliError> {
    if let Some(seed) = args.replay {
        eprintln!("replaying seed {seed} for {} simulated hours", args.hours);
        if let Some(path) = &args.log {
            crate::replay_log::install(path, &args.log_filter)?;
        }
        let tick = Duration::from_millis(args.tick_ms.max(1));
        let (ok, trace) = match run_seed_stepped(seed, args.hours, tick, !args.no_idle_skip) {
            Ok((summary, trace)) => {
                println!(
                    "seed {seed}: passed — {} steps, {} faults, {} docker calls, {} rejects, trace hash {:016x} ({} idle host ticks skipped)",
                    summary.steps, summary.faults, summary.docker_calls, summary.rejects, summary.trace_hash, summary.idle_ticks_skipped
                );
                (true, trace)
            }
            Err(failure) => {
                println!("{failure}");
                (false, failure.trace.clone())
            }
        };
        if let Some(path) = &args.timeline {
            write(path, &timeline_html(&trace))?;
            println!("timeline: {}", path.display());
        }
        return Ok(ok);
    }

    let bar = progress_bar(args.seeds, "seeds");
    let tick = Duration::from_millis(args.tick_ms.max(1));
    let report = swarm_from(
        args.first_seed,
        args.seeds,
        args.hours,
        tick,
        args.jobs,
        |done, _| {
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    print!("{}", report.summary());
    write(
        &args.out,
        &serde_json::to_string_pretty(&report.to_json()).unwrap_or_default(),
    )?;
    println!("result: {}", args.out.display());
    if let (Some(path), Some(first)) = (&args.timeline, report.failures.first()) {
        write(path, &timeline_html(&first.trace))?;
        println!(
            "timeline of seed {}: {} (replay: {})",
            first.seed,
            path.display(),
            first.replay.as_deref().unwrap_or_default()
        );
    }
    Ok(report.ok())
}

/// `bench`: one simulated day, and swarm seeds per minute.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// `UPDATE_INTERVAL` of the simulated day.
    #[arg(long, default_value_t = 30)]
    pub interval: u64,
    /// Virtual milliseconds per step (repeatable).
    #[arg(long = "tick-ms", default_values_t = [1000u64, 100])]
    pub tick_ms: Vec<u64>,
    /// Seeds for the swarm sample (0 skips it).
    #[arg(long, default_value_t = 8)]
    pub swarm_seeds: u64,
    /// Simulated hours per swarm seed.
    #[arg(long, default_value_t = 6.0)]
    pub swarm_hours: f64,
}

/// Runs `bench` and prints the figures.
pub fn run_bench(args: &BenchArgs) -> Result<(), CliError> {
    let bar = progress_bar(
        u64::try_from(args.tick_ms.len()).unwrap_or(u64::MAX) + u64::from(args.swarm_seeds > 0),
        "measurements",
    );
    for tick in &args.tick_ms {
        let g = granularity(Duration::from_millis(*tick));
        bar.suspend(|| println!(
            "tick {} ms: one HTTP exchange (fresh connection) takes {} virtual ms, a Tari read (fresh connection, syncing) {} ms; invariant margin {} ms, tolerance (interval + RPC timeout + margin) {} ms",
            g.tick_ms, g.exchange_ms, g.tari_read_ms, g.margin_ms, g.tolerance_ms
        ));
        let r = bench_day(args.interval, Duration::from_millis(*tick));
        let floor = bench_floor(Duration::from_millis(*tick));
        bar.inc(1);
        bar.suspend(|| println!(
            "one simulated day, UPDATE_INTERVAL={}s, tick {} ms, {} hosts: {:.2} s wall, {:.0}× real time, {} steps, {} cycles (turmoil alone, idle hosts: {:.2} s){}",
            r.update_interval_secs,
            r.tick_ms,
            r.hosts,
            r.wall_secs,
            r.speedup,
            r.steps,
            r.cycles,
            floor.as_secs_f64(),
            r.failure.as_deref().map(|f| format!("\nFAILED: {f}")).unwrap_or_default()
        ));
    }
    if args.swarm_seeds > 0 {
        let s = bench_swarm(args.swarm_seeds, args.swarm_hours, 0);
        bar.inc(1);
        bar.suspend(|| {
            println!(
            "swarm: {} seeds × {} h on {} thread(s): {:.1} s wall, {:.1} seeds/minute, {} failed",
            s.seeds, s.hours, s.threads, s.wall_secs, s.seeds_per_minute, s.failed
        )
        });
    }
    bar.finish_and_clear();
    Ok(())
}

/// `soak`: many simulated days of one runtime under random outages.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// The seed.
    #[arg(long, default_value_t = 30)]
    pub seed: u64,
    /// Simulated days.
    #[arg(long, default_value_t = 30)]
    pub days: u64,
}

/// Runs `soak`: `Ok(false)` when a day failed or something grew without bound.
pub fn run_soak(args: &SoakArgs) -> Result<bool, CliError> {
    let bar = progress_bar(args.days, "days");
    let result = soak_with_progress(args.seed, args.days, |day| bar.set_position(day));
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report.days).unwrap_or_default()
            );
            if let Some(last) = report.days.last() {
                println!(
                    "soak: history after {} days: {} bytes (database, WAL, index), {} samples",
                    last.day + 1,
                    last.history_bytes,
                    last.history_samples
                );
            }
            let problems = report.unbounded();
            for problem in &problems {
                println!("soak: {problem}");
            }
            println!(
                "soak: seed {}, {} simulated days: {}",
                args.seed,
                report.days.len(),
                if problems.is_empty() {
                    "passed"
                } else {
                    "FAILED"
                }
            );
            Ok(problems.is_empty())
        }
        Err(failure) => {
            println!("{failure}");
            Ok(false)
        }
    }
}
