//! The soak: many simulated days of one runtime process tree under random outages, checking
//! that nothing grows without bound and nothing drifts.
//!
//! Each day: the faults of [`Schedule::soak_day`] (links, modes, refusals, crashes), then a
//! quiet tail after which the box must be settled (released, readmitted, everything running).
//! At each day's end the soak measures what could leak: the size of the serialized `/api/state`,
//! the trace events of the day, the files in the data directory.

use std::time::Duration;

use pithead_runtime::store::history;
use serde::Serialize;

use crate::schedule::{Knobs, Schedule};
use crate::world::{Failure, World, WorldBuilder};

/// One day's measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayStats {
    /// Day number (0-based).
    pub day: u64,
    /// Bytes of the serialized `/api/state` at the day's end.
    pub api_state_bytes: usize,
    /// Trace events recorded during the day.
    pub events: usize,
    /// Files in the runtime's data directory.
    pub data_files: usize,
    /// Bytes in the runtime's data directory.
    pub data_bytes: u64,
    /// Bytes of the history database: the file, its WAL and its shared-memory index.
    pub history_bytes: u64,
    /// Rows in the history's `samples` table.
    pub history_samples: u64,
    /// Fault actions applied during the day.
    pub faults: usize,
    /// Connections the runtime dialled that are still alive at the day's end.
    pub open_connections: usize,
}

/// The whole soak.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    /// The seed.
    pub seed: u64,
    /// The configuration drawn.
    #[serde(skip)]
    pub knobs: Knobs,
    /// Per day.
    pub days: Vec<DayStats>,
    /// Hash of the whole trace.
    pub trace_hash: u64,
}

/// The snapshot's 64 KiB plus the history's bound: 30 days (its retention) of samples at the
/// shortest interval a schedule picks (10 s: 259,200 rows, about 5 MB), the WAL's 1 MiB limit,
/// and margin. Retention keeps it flat after day 30.
const DATA_BUDGET_BYTES: u64 = 64 * 1024 + 16 * 1024 * 1024;

/// The history's bound at the soak's interval (30 s): 30 days (its retention) are 86,400
/// samples, about 3 MB of table and primary key, plus the WAL's 1 MiB limit and the
/// shared-memory index; 8 MiB leaves room for page slack, not for a missing retention (a
/// month past it would double the rows).
const HISTORY_BUDGET_BYTES: u64 = 8 * 1024 * 1024;

/// Most samples the history may hold: one per cycle over the retention, plus the rows written
/// between two retention passes (one every [`history::PRUNE_EVERY_MS`] of row time) and a cycle
/// of slack.
fn samples_bound(interval_secs: u64) -> u64 {
    let per_cycle_ms = interval_secs.max(1) * 1000;
    (history::RETENTION_MS + history::PRUNE_EVERY_MS) / per_cycle_ms + 2
}

fn history_usage(dir: &std::path::Path) -> (u64, u64) {
    let file = dir.join(history::FILE_NAME);
    let bytes = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            std::fs::metadata(std::path::PathBuf::from(name)).ok()
        })
        .map(|m| m.len())
        .sum();
    let samples = history::HistoryReader::at(dir)
        .count("samples")
        .unwrap_or(0);
    (bytes, samples)
}

fn dir_usage(dir: &std::path::Path) -> (usize, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let mut files = 0;
    let mut bytes = 0;
    for entry in entries.flatten() {
        files += 1;
        bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
    }
    (files, bytes)
}

/// Runs `days` simulated days for `seed` with every invariant checked after every step, and
/// the settled state checked at the end of every day.
pub fn soak(seed: u64, days: u64) -> Result<SoakReport, Failure> {
    soak_with_progress(seed, days, |_| {})
}

/// [`soak`], calling `progress(days_done)` after each day.
pub fn soak_with_progress(
    seed: u64,
    days: u64,
    progress: impl Fn(u64),
) -> Result<SoakReport, Failure> {
    let generated = Schedule::generate(seed, 1.0);
    let mut rng_knobs = generated.knobs;
    // Keep the soak's cycle at the production default: it is the long-run shape that matters.
    rng_knobs.interval = 30;
    let knobs = rng_knobs;
    // Whether the seed sends alerts (and its days take sinks down) is the seed's, as in the
    // swarm: the world must carry the sinks then.
    let mut builder =
        WorldBuilder::new(seed)
            .alerts(generated.alerts)
            .tari(if knobs.tari_present {
                Some(pithead_fakes::tari::TariMode::Synced {
                    height: crate::schedule::TARI_TIP,
                })
            } else {
                None
            });
    for (k, v) in knobs.env() {
        builder = builder.env(&k, &v);
    }
    let mut world = builder.build();
    let mut stats = Vec::new();
    for day in 0..days {
        let start = Duration::from_secs(day * 86_400);
        let events_before = world.trace().len();
        let schedule = Schedule::soak_day(seed, day, &knobs);
        run_day(&mut world, start, &schedule)?;
        world.assert_settled()?;
        let state = serde_json::to_vec(&world.state())
            .map(|v| v.len())
            .unwrap_or(0);
        let (data_files, data_bytes) = dir_usage(world.data_dir());
        // The writer thread drains its queue off the simulated clock: a few of the day's last
        // rows may not have landed yet; the bound below does not depend on them.
        let (history_bytes, history_samples) = history_usage(world.data_dir());
        stats.push(DayStats {
            day,
            api_state_bytes: state,
            events: world.trace().len() - events_before,
            data_files,
            data_bytes,
            history_bytes,
            history_samples,
            faults: schedule.fault_count(),
            open_connections: world.runtime_open_connections(),
        });
        progress(day + 1);
    }
    Ok(SoakReport {
        seed,
        knobs,
        days: stats,
        trace_hash: world.trace().hash(),
    })
}

impl SoakReport {
    /// What grew without bound, one line each (empty when the soak stayed bounded).
    pub fn unbounded(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(first) = self.days.first() else {
            return vec!["no day was simulated".to_owned()];
        };
        for d in &self.days {
            // The read model does not grow with time or with the number of outages seen.
            if d.api_state_bytes > 16 * 1024 {
                out.push(format!(
                    "day {}: /api/state is {} bytes",
                    d.day, d.api_state_bytes
                ));
            }
            if d.api_state_bytes > first.api_state_bytes + first.api_state_bytes / 4 {
                out.push(format!(
                    "day {}: /api/state grew from {} to {} bytes",
                    d.day, first.api_state_bytes, d.api_state_bytes
                ));
            }
            // The trace of a day is a function of that day's faults, not of the days before.
            if d.events > 400 + 20 * d.faults {
                out.push(format!(
                    "day {}: {} events for {} faults",
                    d.day, d.events, d.faults
                ));
            }
            // The data directory holds the snapshot and the history (database, WAL, shared
            // memory index) and nothing piles up beside them.
            if d.data_files > 4 {
                out.push(format!("day {}: {} files in DATA_DIR", d.day, d.data_files));
            }
            if d.data_bytes > DATA_BUDGET_BYTES {
                out.push(format!("day {}: {} bytes in DATA_DIR", d.day, d.data_bytes));
            }
            // The history: retention holds the rows to 30 days and the file to its budget.
            if d.history_bytes > HISTORY_BUDGET_BYTES {
                out.push(format!(
                    "day {}: the history database is {} bytes",
                    d.day, d.history_bytes
                ));
            }
            let bound = samples_bound(self.knobs.interval);
            if d.history_samples > bound {
                out.push(format!(
                    "day {}: {} samples in the history (at most {bound})",
                    d.day, d.history_samples
                ));
            }
            // A history that stops recording is no bound: every day adds its cycles.
            if d.history_samples == 0 {
                out.push(format!("day {}: the history has no samples", d.day));
            }
            // No connection leak: the runtime's host holds a handful of sockets at most.
            if d.open_connections > 8 {
                out.push(format!(
                    "day {}: {} connections still open",
                    d.day, d.open_connections
                ));
            }
        }
        out
    }
}

fn run_day(world: &mut World, start: Duration, schedule: &Schedule) -> Result<(), Failure> {
    for (at, action) in &schedule.actions {
        let at = start + *at;
        let now = world.elapsed();
        if at > now {
            world.run_for(at - now)?;
        }
        action.apply(world);
    }
    let end = start + schedule.end;
    let now = world.elapsed();
    world.run_for(end.saturating_sub(now))
}
