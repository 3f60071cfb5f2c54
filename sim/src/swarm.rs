//! Seeds: one random run per seed ([`run_seed`]) and many on every core ([`swarm`]).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::failure::{Failure, Invariant};
use crate::schedule::{Action, Schedule};
use crate::trace::{EventKind, Trace, What};

/// What a passing run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The seed.
    pub seed: u64,
    /// Virtual time simulated.
    #[serde(rename = "virtual_secs", serialize_with = "as_secs")]
    pub simulated: Duration,
    /// Simulation steps.
    pub steps: u64,
    /// Fault actions applied.
    pub faults: usize,
    /// Docker start/stop calls the fake answered.
    pub docker_calls: usize,
    /// Times workers were rejected.
    pub rejects: usize,
    /// Runtime restarts.
    pub restarts: usize,
    /// Events in the trace.
    pub events: usize,
    /// Hash of the trace (equal for every run of the seed).
    pub trace_hash: u64,
    /// Host ticks that only moved a clock (the same trace either way: [`run_seed_stepped`]).
    pub idle_ticks_skipped: u64,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The default virtual time per step of seeded runs.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);

/// The command that replays `seed`.
pub fn replay_command(seed: u64, hours: f64) -> String {
    format!("cargo xtask swarm --replay {seed} --hours {hours}")
}

fn replay_command_tick(seed: u64, hours: f64, tick: Duration) -> String {
    if tick == DEFAULT_TICK {
        replay_command(seed, hours)
    } else {
        format!(
            "{} --tick-ms {}",
            replay_command(seed, hours),
            tick.as_millis()
        )
    }
}

/// Builds the seed's random schedule, runs it with every invariant checked after every step,
/// and checks the quiet end: released, readmitted, every managed container running.
pub fn run_seed(seed: u64, hours: f64) -> Result<RunSummary, Failure> {
    run_seed_traced(seed, hours).map(|(summary, _)| summary)
}

/// [`run_seed`], also returning the trace (for `--timeline`).
pub fn run_seed_traced(seed: u64, hours: f64) -> Result<(RunSummary, Trace), Failure> {
    run_seed_with_tick(seed, hours, DEFAULT_TICK)
}

/// [`run_seed_traced`] with another virtual time per step (a finer tick interleaves the hosts
/// more finely; the invariants' tolerances scale with it).
pub fn run_seed_with_tick(
    seed: u64,
    hours: f64,
    tick: Duration,
) -> Result<(RunSummary, Trace), Failure> {
    run_seed_stepped(seed, hours, tick, true)
}

/// [`run_seed_with_tick`], choosing whether hosts' idle ticks only move their clocks
/// ([`WorldBuilder::skip_idle_ticks`](crate::world::WorldBuilder::skip_idle_ticks)): the trace
/// must be the same either way.
pub fn run_seed_stepped(
    seed: u64,
    hours: f64,
    tick: Duration,
    skip_idle_ticks: bool,
) -> Result<(RunSummary, Trace), Failure> {
    let schedule = Schedule::generate(seed, hours);
    let attempt = catch_unwind(AssertUnwindSafe(|| {
        run_schedule(&schedule, tick, skip_idle_ticks)
    }));
    let result = match attempt {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Failure {
                seed,
                step: 0,
                at: Duration::ZERO,
                invariant: Invariant::NoPanics,
                message: format!("the simulation panicked: {message}"),
                trace: Trace::new(),
                replay: None,
            })
        }
    };
    result.map_err(|mut failure| {
        failure.replay = Some(replay_command_tick(seed, hours, tick));
        failure
    })
}

fn run_schedule(
    schedule: &Schedule,
    tick: Duration,
    skip_idle_ticks: bool,
) -> Result<(RunSummary, Trace), Failure> {
    let mut world = schedule
        .builder()
        .tick(tick)
        .skip_idle_ticks(skip_idle_ticks)
        .build();
    for (at, action) in &schedule.actions {
        let now = world.elapsed();
        if *at > now {
            world.run_for(*at - now)?;
        }
        action.apply(&mut world);
    }
    let now = world.elapsed();
    world.run_for(schedule.end.saturating_sub(now))?;
    world.assert_settled()?;
    let trace = world.trace().clone();
    let summary = RunSummary {
        seed: schedule.seed,
        simulated: world.elapsed(),
        steps: world.steps(),
        faults: schedule.fault_count(),
        docker_calls: trace.of_kind(EventKind::Docker).count(),
        rejects: trace
            .events()
            .iter()
            .filter(|e| e.what == What::Workers { rejected: true })
            .count(),
        restarts: schedule
            .actions
            .iter()
            .filter(|(_, a)| *a == Action::Restart)
            .count(),
        events: trace.len(),
        trace_hash: trace.hash(),
        idle_ticks_skipped: world.idle_ticks_skipped(),
    };
    Ok((summary, trace))
}

/// What a swarm found.
#[derive(Debug, Clone)]
pub struct SwarmReport {
    /// Seeds run.
    pub seeds: u64,
    /// Simulated hours per seed.
    pub hours: f64,
    /// Virtual time per step.
    pub tick: Duration,
    /// Summaries of the passing seeds, by seed.
    pub passed: Vec<RunSummary>,
    /// Failures, by seed.
    pub failures: Vec<Failure>,
}

impl SwarmReport {
    /// True when every seed passed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The human summary: counts, and for each failure its seed, what failed and the one command
    /// that replays it.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "swarm: {} seed(s) × {} h simulated: {} passed, {} failed\n",
            self.seeds,
            self.hours,
            self.passed.len(),
            self.failures.len()
        );
        for f in &self.failures {
            out.push_str(&format!(
                "  seed {}: `{}` at {}: {}\n    replay: {}\n",
                f.seed,
                f.invariant,
                crate::trace::format_time(f.at),
                f.message.lines().next().unwrap_or_default(),
                replay_command_tick(f.seed, self.hours, self.tick)
            ));
        }
        out
    }

    /// Machine-readable result.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seeds": self.seeds,
            "hours": self.hours,
            "passed": self.passed,
            "failures": self.failures.iter().map(|f| serde_json::json!({
                "seed": f.seed,
                "invariant": f.invariant,
                "step": f.step,
                "at_ms": u64::try_from(f.at.as_millis()).unwrap_or(u64::MAX),
                "message": f.message,
                "replay": replay_command_tick(f.seed, self.hours, self.tick),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Runs seeds `0..seeds` ([`swarm_from`] with `first_seed = 0` and the default tick).
pub fn swarm(
    seeds: u64,
    hours: f64,
    parallelism: usize,
    progress: impl Fn(u64, u64) + Sync,
) -> SwarmReport {
    swarm_from(0, seeds, hours, DEFAULT_TICK, parallelism, progress)
}

/// Runs seeds `first_seed..first_seed + seeds`, `hours` simulated hours each at `tick` per
/// step, on `parallelism` threads (0 = every core). `progress(done, total)` is called after
/// each seed.
pub fn swarm_from(
    first_seed: u64,
    seeds: u64,
    hours: f64,
    tick: Duration,
    parallelism: usize,
    progress: impl Fn(u64, u64) + Sync,
) -> SwarmReport {
    let threads = if parallelism == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        parallelism
    };
    let threads = threads
        .min(usize::try_from(seeds).unwrap_or(usize::MAX))
        .max(1);
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let results: Mutex<Vec<Result<RunSummary, Failure>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= seeds {
                    break;
                }
                let result =
                    run_seed_with_tick(first_seed + i, hours, tick).map(|(summary, _)| summary);
                results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(result);
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(finished, seeds);
            });
        }
    });
    let mut passed = Vec::new();
    let mut failures = Vec::new();
    for result in results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        match result {
            Ok(summary) => passed.push(summary),
            Err(failure) => failures.push(failure),
        }
    }
    passed.sort_by_key(|s| s.seed);
    failures.sort_by_key(|f| f.seed);
    SwarmReport {
        seeds,
        hours,
        tick,
        passed,
        failures,
    }
}
