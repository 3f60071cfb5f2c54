//! The XvB engine on a virtual clock: the runtime's own [`XvbEngine`] stepped with observations
//! built from a scenario's facts, every `UPDATE_INTERVAL` or at chosen instants. The catalog's
//! section E runs on it; it is exact and costs microseconds, so a scenario can look at one
//! decision in isolation (the guard reported, the loop's step, the plan).

use std::time::Duration;

use pithead_runtime::control::xvb::{
    DonorReading, XvbDecision, XvbEngine, XvbObservation, XvbSettings,
};
use tokio::time::Instant;

/// One engine, its settings before the first step, and the decisions it made.
#[derive(Debug)]
pub struct XvbBench {
    /// Settings the engine is built with (at the first step).
    pub settings: XvbSettings,
    /// The fraction persisted by a previous run.
    pub persisted: Option<f64>,
    /// What the next step observes.
    pub observation: XvbObservation,
    engine: Option<XvbEngine>,
    origin: Instant,
    /// Every decision, with its offset from the first step.
    pub decisions: Vec<(Duration, XvbDecision)>,
}

impl Default for XvbBench {
    fn default() -> Self {
        Self::new()
    }
}

impl XvbBench {
    /// An enabled engine over a fleet that sustains VIP with room to spare: 40 kH/s current and
    /// stable, an own share a minute ago, no reserve needed, a clean donor at 10 kH/s.
    pub fn new() -> Self {
        Self {
            settings: XvbSettings {
                enabled: true,
                ..XvbSettings::default()
            },
            persisted: None,
            observation: XvbObservation {
                current_hs: 40_000.0,
                stable_hs: 40_000.0,
                last_share_age: Some(Duration::from_secs(60)),
                sidechain_difficulty: 0,
                pplns_window_blocks: None,
                donor: Some(DonorReading {
                    avg_1h_hs: 10_000.0,
                    avg_24h_hs: 10_000.0,
                    fail_count: 0,
                }),
                raffle_won: false,
            },
            engine: None,
            origin: Instant::now(),
            decisions: Vec::new(),
        }
    }

    /// Steps the engine at `at` after the first step with the current observation.
    pub fn step_at(&mut self, at: Duration) -> XvbDecision {
        let engine = self
            .engine
            .get_or_insert_with(|| XvbEngine::new(self.settings, self.persisted));
        let decision = engine.step(&self.observation, self.origin + at);
        self.decisions.push((at, decision));
        decision
    }

    /// `at` as an offset from the first step (zero before it).
    pub fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    /// The engine, once stepped.
    pub fn engine(&self) -> Option<&XvbEngine> {
        self.engine.as_ref()
    }

    /// The last decision.
    pub fn last(&self) -> Option<&XvbDecision> {
        self.decisions.last().map(|(_, d)| d)
    }

    /// The decision before the last.
    pub fn previous(&self) -> Option<&XvbDecision> {
        self.decisions.iter().rev().nth(1).map(|(_, d)| d)
    }
}

/// The runtime's engine module, for drivers that judge its decisions.
pub use pithead_runtime::control::xvb as engine;

/// What a long run of the engine against a modelled donor shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvergenceReport {
    /// Simulated days.
    pub days: u64,
    /// Update cycles after the warm-up day.
    pub cycles: u64,
    /// Share of those cycles where both of XvB's averages were at or above the target tier.
    pub held_share: f64,
    /// Share of those cycles where the 1 h average alone was at or above the tier.
    pub held_1h_share: f64,
    /// Share of those cycles where the 24 h average alone was at or above the tier.
    pub held_24h_share: f64,
    /// Mean of (1 h average − threshold) / threshold over those cycles.
    pub mean_excess: f64,
    /// The largest fraction the engine commanded.
    pub max_fraction: f64,
    /// Per day after the warm-up: the share of steps where both averages held the tier.
    pub held_by_day: Vec<f64>,
}

/// Runs the engine for `days` simulated days against a [`pithead_fakes::xvb::DonorModel`]
/// (credit 0.9, 120 s lag) fed what the engine actually sent: a fleet of `base_hs` with a daily
/// ±30 % cycle, a quarter of it dropping out for four hours on day 10, and XvB's stats stale for
/// an hour on day 20. Steps every 30 s, like the runtime's default update interval.
pub fn convergence_run(days: u64, base_hs: f64) -> ConvergenceReport {
    use pithead_fakes::xvb::DonorModel;
    use pithead_runtime::control::xvb::Tier;

    const STEP_S: u64 = 30;
    const DAY_S: u64 = 86_400;
    let mut bench = XvbBench::new();
    let mut donor = DonorModel::new(0.9, 120);
    let target = Tier::Vip;
    let (mut counted, mut held, mut excess, mut max_fraction) = (0u64, 0u64, 0.0, 0.0f64);
    let (mut held_1h, mut held_24h) = (0u64, 0u64);
    let mut by_day = vec![(0u64, 0u64); usize::try_from(days).unwrap_or(0)];
    let end = days * DAY_S;
    let mut t = 0;
    while t < end {
        let phase = (t % DAY_S) as f64 / DAY_S as f64 * std::f64::consts::TAU;
        let mut fleet = base_hs * (1.0 + 0.3 * phase.sin());
        if (10 * DAY_S..10 * DAY_S + 4 * 3_600).contains(&t) {
            fleet *= 0.75;
        }
        let stale = (20 * DAY_S..20 * DAY_S + 3_600).contains(&t);
        let (avg_1h, avg_24h) = donor.averages();
        bench.observation.current_hs = fleet;
        bench.observation.stable_hs = fleet;
        bench.observation.donor = (!stale).then_some(DonorReading {
            avg_1h_hs: avg_1h,
            avg_24h_hs: avg_24h,
            fail_count: 0,
        });
        let decision = bench.step_at(Duration::from_secs(t));
        // Keep the record bounded: a month of decisions is not needed, only the figures.
        bench.decisions.clear();
        // The runtime wakes at the next update tick or at the engine's deadline (a slice's
        // end), whichever comes first.
        let deadline = bench.offset(decision.next_deadline).as_secs();
        let next = (t + STEP_S).min(deadline.max(t + 1));
        donor.record(if decision.to_xvb { fleet } else { 0.0 }, next - t);
        max_fraction = max_fraction.max(decision.fraction);
        if t >= DAY_S {
            counted += 1;
            let threshold = target.threshold_hs();
            let both = avg_1h >= threshold && avg_24h >= threshold;
            held += u64::from(both);
            if let Some(day) = by_day.get_mut(usize::try_from(t / DAY_S).unwrap_or(usize::MAX)) {
                day.0 += u64::from(both);
                day.1 += 1;
            }
            held_1h += u64::from(avg_1h >= threshold);
            held_24h += u64::from(avg_24h >= threshold);
            excess += (avg_1h - threshold) / threshold;
        }
        t = next;
    }
    ConvergenceReport {
        days,
        cycles: counted,
        held_share: held as f64 / counted.max(1) as f64,
        held_1h_share: held_1h as f64 / counted.max(1) as f64,
        held_24h_share: held_24h as f64 / counted.max(1) as f64,
        mean_excess: excess / counted.max(1) as f64,
        max_fraction,
        held_by_day: by_day
            .iter()
            .skip(1)
            .map(|(held, all)| *held as f64 / (*all).max(1) as f64)
            .collect(),
    }
}
