//! Section F on the simulation: the host's figures ([`World::system`]), xmrig-proxy's workers
//! (the fake behind `XMRIG_PROXY_API`), and the history in the world's data directory.
//!
//! The chart is drawn the way `/api/state` draws it ([`HistoryReader::chart`]) over the
//! stretch of history the scenario recorded (`from`/`to`), so the runtime's own samples around
//! it do not blur what the scenario checks.

use pithead_fakes::xmrig_proxy::WorkerRow;
use pithead_runtime::observe::system::SystemSource;
use pithead_runtime::store::history::{self, HistoryReader};
use pithead_runtime::view::{ChartQuery, ChartSection, Sample};

use super::{failure, SimTier, TIER};
use crate::dashboard::{DashboardEvent, DashboardFact, DashboardOutcome, Resource};
use crate::driver::TierError;

/// The history's rows are this far apart.
const SAMPLE_EVERY_MS: u64 = 30_000;
/// The outage in the recorded history.
const GAP_MS: u64 = 600_000;
/// Samples before and after the gap.
const SAMPLES_EACH_SIDE: u64 = 20;
/// What the corrupt database file holds.
const GARBAGE: &[u8] = b"not a SQLite database: a half-copied backup";

/// What section F set up and saw.
#[derive(Debug, Default)]
pub(super) struct DashboardScenario {
    /// The recorded history: first sample, the gap's start and end (epoch ms).
    history: Option<(u64, u64, u64)>,
    /// The chart drawn by `When the dashboard draws the chart`.
    chart: Option<ChartSection>,
    /// A data directory prepared before boot (the corrupt history).
    data_dir: Option<tempfile::TempDir>,
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), TierError> {
    if ok {
        Ok(())
    } else {
        Err(TierError::Check(what()))
    }
}

fn not_booted(what: &str) -> TierError {
    TierError::Unsupported {
        tier: TIER,
        what: format!("{what} after the world booted"),
    }
}

impl SimTier {
    pub(super) fn set_env(&mut self, pairs: &[(&'static str, String)]) -> Result<(), TierError> {
        if self.world.is_some() {
            return Err(not_booted("changing the runtime's environment"));
        }
        self.setup.env.extend(pairs.iter().cloned());
        Ok(())
    }

    pub(super) fn dashboard_given_sim(&mut self, fact: DashboardFact) -> Result<(), TierError> {
        match fact {
            DashboardFact::MoneroNode { local, prune } => {
                let node = if local { "monerod" } else { "node.example.org" };
                self.set_env(&[
                    ("MONERO_NODE_HOST", node.to_owned()),
                    ("LOCAL_MONERO_HOST", "monerod".to_owned()),
                    ("MONERO_PRUNE", prune.to_string()),
                ])
            }
            DashboardFact::DatabaseSize(bytes) => {
                self.set_env(&[
                    ("MONERO_NODE_HOST", "monerod".to_owned()),
                    ("LOCAL_MONERO_HOST", "monerod".to_owned()),
                ])?;
                let world = self.booted()?;
                let _ = world.monerod().clone().with_database_size(bytes);
                Ok(())
            }
            DashboardFact::Usage(resource, percent) => {
                let world = self.booted()?;
                let mut reading = SystemSource::read(world.system());
                let value = Some(f64::from(percent));
                match resource {
                    Resource::Cpu => reading.cpu_percent = value,
                    Resource::Mem => reading.mem_percent = value,
                    Resource::Disk => reading.disk_percent = value,
                }
                world.system().set(reading);
                Ok(())
            }
            DashboardFact::HugePagesOff => {
                let world = self.booted()?;
                let mut reading = SystemSource::read(world.system());
                reading.hugepages =
                    Some(pithead_runtime::observe::system::HugePages { total: 0, free: 0 });
                world.system().set(reading);
                Ok(())
            }
            DashboardFact::TwoWorkers => {
                self.set_env(&[
                    ("XMRIG_PROXY_API", "http://aux:3344".to_owned()),
                    (
                        "PROXY_AUTH_TOKEN",
                        pithead_sim::fakes::XMRIG_PROXY_TOKEN.to_owned(),
                    ),
                ])?;
                let world = self.booted()?;
                let mut quiet = WorkerRow::new("rig-quiet", 0.0);
                quiet.connections = 0;
                world
                    .xmrig_proxy()
                    .set_workers(vec![WorkerRow::new("rig-hashing", 5.0), quiet]);
                Ok(())
            }
            DashboardFact::HistoryWithGap => {
                let seed = self.seed;
                let world = self.booted()?;
                let now = world.state().cycle.last_wall_ms;
                // Well before the runtime's own samples, which start at boot.
                let first = now.saturating_sub(3 * 3_600_000);
                let before_gap = first + (SAMPLES_EACH_SIDE - 1) * SAMPLE_EVERY_MS;
                let after_gap = before_gap + GAP_MS;
                let (writer, reader) = history::open(world.data_dir());
                let xs = (0..SAMPLES_EACH_SIDE)
                    .map(|i| first + i * SAMPLE_EVERY_MS)
                    .chain((0..SAMPLES_EACH_SIDE).map(|i| after_gap + i * SAMPLE_EVERY_MS));
                for x in xs {
                    writer.sample(Sample {
                        x,
                        p2pool: 4_000.0,
                        xvb: 1_000.0,
                    });
                }
                writer.flush();
                check(reader.healthy(), || {
                    format!("the history database refused the rows (seed {seed})")
                })?;
                self.dashboard.history = Some((first, before_gap, after_gap));
                Ok(())
            }
            DashboardFact::XvbFixedTier(tier) => {
                self.xvb_runtime_setup()?;
                self.set_env(&[("XVB_DONATION_LEVEL", tier.to_owned())])
            }
            DashboardFact::StableHashrateBelow(bound) => {
                let world = self.booted()?;
                // Two rigs whose sum sits a fifth under the bound: the summary's totals are
                // theirs, so the engine's stable reading is too.
                #[allow(clippy::cast_precision_loss)]
                let each_khs = bound as f64 * 0.8 / 2.0 / 1_000.0;
                world.xmrig_proxy().set_hashrate_total(None);
                world.xmrig_proxy().set_workers(vec![
                    WorkerRow::new("rig-a", each_khs),
                    WorkerRow::new("rig-b", each_khs),
                ]);
                Ok(())
            }
            DashboardFact::CorruptHistory => {
                let dir = tempfile::Builder::new()
                    .prefix("pithead-sim-data-")
                    .tempdir()
                    .map_err(|e| TierError::Check(format!("no temporary data directory: {e}")))?;
                std::fs::write(dir.path().join(history::FILE_NAME), GARBAGE)
                    .map_err(|e| TierError::Check(format!("writing the corrupt file: {e}")))?;
                self.set_env(&[("DATA_DIR", dir.path().display().to_string())])?;
                self.dashboard.data_dir = Some(dir);
                Ok(())
            }
        }
    }

    pub(super) fn dashboard_when_sim(&mut self, event: DashboardEvent) -> Result<(), TierError> {
        let seed = self.seed;
        match event {
            DashboardEvent::Refresh => {
                let world = self.booted()?;
                let cycle = Self::one_cycle(world);
                world
                    .run_for(cycle)
                    .map_err(|err| failure(seed, "the dashboard refreshed", &err))
            }
            DashboardEvent::RuntimeStarts => self.booted().map(|_| ()),
            DashboardEvent::DrawChart => {
                let (first, _, after_gap) = self.dashboard.history.ok_or_else(|| {
                    TierError::Check("no history was recorded before drawing the chart".into())
                })?;
                let world = self.booted()?;
                let interval_ms =
                    u64::try_from(world.timing().update_interval.as_millis()).unwrap_or(u64::MAX);
                let last = after_gap + (SAMPLES_EACH_SIDE - 1) * SAMPLE_EVERY_MS;
                let query = ChartQuery {
                    from: Some(first.to_string()),
                    to: Some(last.to_string()),
                    ..ChartQuery::default()
                };
                let reader = HistoryReader::at(world.data_dir());
                let chart = reader
                    .chart(&query, last, interval_ms)
                    .map_err(|e| TierError::Check(format!("drawing the chart: {e}")))?;
                self.dashboard.chart = Some(chart);
                Ok(())
            }
        }
    }

    pub(super) fn dashboard_expect_sim(
        &mut self,
        outcome: &DashboardOutcome,
    ) -> Result<(), TierError> {
        match outcome {
            DashboardOutcome::Badge { text, variant } => {
                let world = self.booted()?;
                let state = world.state();
                let seen = state.badges.iter().find(|b| &b.text == text);
                let seen_variant = seen.map(|b| {
                    serde_json::to_value(b.variant)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                });
                check(seen_variant.as_ref() == variant.as_ref(), || {
                    format!(
                        "badge {text:?} with variant {variant:?}; badges shown: {:?}",
                        state.badges
                    )
                })
            }
            DashboardOutcome::PruneBadge(expected) => {
                let world = self.booted()?;
                let state = world.state();
                let seen: Vec<_> = state
                    .badges
                    .iter()
                    .filter(|b| b.text.starts_with("XMR "))
                    .map(|b| b.text.clone())
                    .collect();
                let wanted: Vec<_> = expected.iter().cloned().collect();
                check(seen == wanted, || {
                    format!("prune badge {expected:?}, shown {seen:?}")
                })
            }
            DashboardOutcome::BothWorkersListed => {
                let world = self.booted()?;
                let state = world.state();
                let names: Vec<_> = state.workers.iter().map(|w| w.name.as_str()).collect();
                let hashing = state.workers.iter().find(|w| w.name == "rig-hashing");
                check(
                    names.len() == 2
                        && names.contains(&"rig-quiet")
                        && hashing.is_some_and(|w| w.h15 == 5_000.0 && w.h60 == 5_000.0),
                    || format!("both workers at 5 kH/s and 0; listed {:?}", state.workers),
                )
            }
            DashboardOutcome::HashingOnlineQuietOffline { pool } => {
                let world = self.booted()?;
                let state = world.state();
                let row = |name: &str| state.workers.iter().find(|w| w.name == name);
                check(
                    row("rig-hashing").is_some_and(|w| w.status == "online" && w.pool == pool)
                        && row("rig-quiet").is_some_and(|w| w.status == "offline"),
                    || {
                        format!(
                            "rig-hashing online on {pool}, rig-quiet offline; listed {:?}",
                            state.workers
                        )
                    },
                )
            }
            DashboardOutcome::ChartBreaksAtTheGapOnly => {
                let (_, before_gap, after_gap) = self
                    .dashboard
                    .history
                    .ok_or_else(|| TierError::Check("no history was recorded".into()))?;
                let chart = self
                    .dashboard
                    .chart
                    .as_ref()
                    .ok_or_else(|| TierError::Check("the chart was not drawn".into()))?;
                let middle = before_gap + (after_gap - before_gap) / 2;
                for (name, series) in [("p2pool", &chart.p2pool), ("xvb", &chart.xvb)] {
                    let breaks: Vec<u64> = series
                        .iter()
                        .filter(|p| p.y.is_none())
                        .map(|p| p.x)
                        .collect();
                    check(breaks == [middle], || {
                        format!("{name}: one break at {middle}, drawn at {breaks:?}")
                    })?;
                    check(series.len() as u64 == 2 * SAMPLES_EACH_SIDE + 1, || {
                        format!(
                            "{name}: every sample and one break, got {} points",
                            series.len()
                        )
                    })?;
                }
                Ok(())
            }
            DashboardOutcome::HistoryRecreated => {
                let world = self.booted()?;
                let dir = world.data_dir().to_owned();
                let aside = dir.join(format!("{}.corrupt.1", history::FILE_NAME));
                let moved = std::fs::read(&aside).ok();
                check(moved.as_deref() == Some(GARBAGE), || {
                    format!("the corrupt file at {}, found {moved:?}", aside.display())
                })?;
                let fresh = HistoryReader::at(&dir).count("samples");
                check(fresh.is_ok(), || {
                    format!("a fresh database in {}: {fresh:?}", dir.display())
                })
            }
        }
    }
}
