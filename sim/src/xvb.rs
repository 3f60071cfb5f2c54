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
