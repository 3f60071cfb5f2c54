//! Command-line entry points (`cargo xtask swarm`, `cargo xtask sim-bench`, or the
//! `pithead-sim` binary): argument structs to flatten into a clap command and the functions that
//! run them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::{bench_day, bench_swarm};
use crate::swarm::{run_seed_with_tick, swarm_from};
use crate::timeline::timeline_html;

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
}

fn write(path: &PathBuf, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `swarm`. `Ok(false)` when a seed failed (the caller exits non-zero).
pub fn run_swarm(args: &SwarmArgs) -> anyhow::Result<bool> {
    if let Some(seed) = args.replay {
        eprintln!("replaying seed {seed} for {} simulated hours", args.hours);
        let tick = Duration::from_millis(args.tick_ms.max(1));
        let (ok, trace) = match run_seed_with_tick(seed, args.hours, tick) {
            Ok((summary, trace)) => {
                println!(
                    "seed {seed}: passed — {} steps, {} faults, {} docker calls, {} rejects, trace hash {:016x}",
                    summary.steps, summary.faults, summary.docker_calls, summary.rejects, summary.trace_hash
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

    let bar = ProgressBar::new(args.seeds);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
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
pub fn run_bench(args: &BenchArgs) -> anyhow::Result<()> {
    for tick in &args.tick_ms {
        let r = bench_day(args.interval, Duration::from_millis(*tick));
        println!(
            "one simulated day, UPDATE_INTERVAL={}s, tick {} ms, {} hosts: {:.2} s wall, {:.0}× real time, {} steps, {} cycles{}",
            r.update_interval_secs,
            r.tick_ms,
            r.hosts,
            r.wall_secs,
            r.speedup,
            r.steps,
            r.cycles,
            r.failure.as_deref().map(|f| format!("\nFAILED: {f}")).unwrap_or_default()
        );
    }
    if args.swarm_seeds > 0 {
        let s = bench_swarm(args.swarm_seeds, args.swarm_hours, 0);
        println!(
            "swarm: {} seeds × {} h on {} thread(s): {:.1} s wall, {:.1} seeds/minute, {} failed",
            s.seeds, s.hours, s.threads, s.wall_secs, s.seeds_per_minute, s.failed
        );
    }
    Ok(())
}
