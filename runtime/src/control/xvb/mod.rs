//! The XvB engine: each cycle, where the miners' hashrate goes (P2Pool, XvB, or XvB then
//! P2Pool) so the donor keeps its tier while P2Pool loses as little as possible.
//!
//! [`XvbEngine::step`] is called every update cycle with what was read and `now`. On a cycle
//! boundary it checks the guards, advances the closed loop and plans the split; between
//! boundaries it only re-reads ("smart sleep"): the loop does not advance, but a guard that
//! fires ends an XvB slice early. See `docs/xvb.md`.

pub mod closed_loop;
pub mod guards;
pub mod split;
pub mod switch;
pub mod tiers;

use std::time::Duration;

use tokio::time::Instant;

pub use closed_loop::LoopMove;
pub use guards::{Guard, GuardInputs, SideChain};
pub use split::{CyclePlan, Mode};
pub use tiers::{DonationLevel, Tier};

/// The engine's settings, read once from the environment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XvbSettings {
    /// `XVB_ENABLED`.
    pub enabled: bool,
    /// `XVB_DONATION_LEVEL`.
    pub donation_level: DonationLevel,
    /// The side chain p2pool mines on.
    pub side_chain: SideChain,
    /// The PPLNS window in blocks, when p2pool does not report it.
    pub pplns_window_blocks: u64,
    /// The cycle length.
    pub cycle: Duration,
    /// A standby fraction to seed from when none was persisted.
    pub standby_fraction: Option<f64>,
}

impl Default for XvbSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            donation_level: DonationLevel::Auto,
            side_chain: SideChain::Main,
            pplns_window_blocks: guards::DEFAULT_PPLNS_WINDOW_BLOCKS,
            cycle: split::CYCLE,
            standby_fraction: None,
        }
    }
}

/// XvB's stats for the donor, from one fresh read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DonorReading {
    /// 1 h average of the donated hashrate, H/s.
    pub avg_1h_hs: f64,
    /// 24 h average, H/s.
    pub avg_24h_hs: f64,
    /// XvB's fail counter.
    pub fail_count: u64,
}

/// What one update cycle read for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct XvbObservation {
    /// The fleet's current hashrate, H/s (xmrig-proxy's shortest average).
    pub current_hs: f64,
    /// The 15-minute "stable" hashrate, H/s.
    pub stable_hs: f64,
    /// Age of the last own P2Pool share (`None`: none, or p2pool not read).
    pub last_share_age: Option<Duration>,
    /// Side-chain difficulty.
    pub sidechain_difficulty: u64,
    /// PPLNS window in blocks, when p2pool reports it.
    pub pplns_window_blocks: Option<u64>,
    /// XvB's donor stats when read fresh this cycle.
    pub donor: Option<DonorReading>,
    /// XvB shows this donor as a raffle winner this read.
    pub raffle_won: bool,
}

/// One decision of the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XvbDecision {
    /// This cycle's mode.
    pub mode: Mode,
    /// The guard that forced P2Pool this cycle (or ended the XvB slice early).
    pub guard: Option<Guard>,
    /// Where the hashrate should go right now: `true` = XvB.
    pub to_xvb: bool,
    /// The target tier.
    pub target: Option<Tier>,
    /// The tier XvB's averages currently meet.
    pub current_tier: Option<Tier>,
    /// The fraction in force.
    pub fraction: f64,
    /// The cap on it.
    pub max_fraction: f64,
    /// The plan of the cycle in force.
    pub plan: CyclePlan,
    /// This step began a cycle (and so advanced the loop, unless a guard held).
    pub new_cycle: bool,
    /// How the loop moved, when it did.
    pub loop_move: Option<LoopMove>,
    /// XvB's stats are stale (no fresh read for the hold window).
    pub stale: bool,
    /// The engine is enabled and the fleet's stable hashrate cannot sustain the tier asked
    /// for (a fixed level above what it carries, or no tier at all).
    pub hashrate_low: bool,
    /// When the engine next needs a step (the slice's end or the cycle's end).
    pub next_deadline: Instant,
}

/// The engine's state across cycles.
#[derive(Debug, Clone)]
pub struct XvbEngine {
    settings: XvbSettings,
    started: Option<Instant>,
    persisted: Option<f64>,
    fraction: Option<f64>,
    cycle_start: Option<Instant>,
    plan: CyclePlan,
    xvb_until: Option<Instant>,
    mode: Mode,
    guard: Option<Guard>,
    donor: Option<DonorReading>,
    last_fresh: Option<(Instant, f64)>,
    slope_hs_per_s: f64,
    raffle_won_at: Option<Instant>,
    deadline: Option<Instant>,
    last_current_hs: Option<f64>,
    cycle_read: Option<(Instant, f64)>,
    before_decay: Option<f64>,
}

impl XvbEngine {
    /// An engine seeded with the fraction it last commanded (from the snapshot), if any.
    pub fn new(settings: XvbSettings, persisted_fraction: Option<f64>) -> Self {
        Self {
            settings,
            started: None,
            persisted: persisted_fraction
                .filter(|f| f.is_finite())
                .map(|f| f.clamp(0.0, closed_loop::FRACTION_CEILING)),
            fraction: None,
            cycle_start: None,
            plan: split::plan(0.0, settings.cycle),
            xvb_until: None,
            mode: Mode::P2pool,
            guard: None,
            donor: None,
            last_fresh: None,
            slope_hs_per_s: 0.0,
            raffle_won_at: None,
            deadline: None,
            last_current_hs: None,
            cycle_read: None,
            before_decay: None,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &XvbSettings {
        &self.settings
    }

    /// The fraction to persist with the latch snapshot (the last commanded, or the seed it
    /// was given).
    pub fn fraction(&self) -> Option<f64> {
        self.fraction.or(self.persisted)
    }

    /// The last donor stats read.
    pub fn donor(&self) -> Option<DonorReading> {
        self.donor
    }

    /// When the engine next needs a step (the XvB slice's end, else the cycle's end), once it
    /// has stepped.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Feeds one observation taken at `now`. Pure.
    pub fn step(&mut self, obs: &XvbObservation, now: Instant) -> XvbDecision {
        let started = *self.started.get_or_insert(now);
        self.absorb(obs, now);

        let window = self.settings.side_chain.window(
            obs.pplns_window_blocks
                .filter(|b| *b > 0)
                .unwrap_or(self.settings.pplns_window_blocks),
        );
        let reserve = closed_loop::reserve_hs(obs.sidechain_difficulty, window);
        let max_fraction = closed_loop::max_fraction(reserve, obs.current_hs);
        let stable_cap = closed_loop::max_fraction(reserve, obs.stable_hs);
        let target = tiers::target_tier(self.settings.donation_level, obs.stable_hs, stable_cap);
        let guard = guards::first_guard(&GuardInputs {
            enabled: self.settings.enabled,
            last_share_age: obs.last_share_age,
            window,
            fail_count: self.donor.map_or(0, |d| d.fail_count),
            target,
        });
        let stats_age =
            now.saturating_duration_since(self.last_fresh.map_or(started, |(at, _)| at));

        let new_cycle = self
            .cycle_start
            .is_none_or(|start| now >= start + self.settings.cycle);
        let mut loop_move = None;
        if new_cycle {
            // The trend is taken from one cycle's fresh read to the next: inside a cycle the
            // 1 h average saw-tooths with the split, which is not a trend.
            if let Some(donor) = obs.donor {
                if let Some((at, previous)) = self.cycle_read {
                    let dt = now.saturating_duration_since(at).as_secs_f64();
                    if dt > 0.0 {
                        self.slope_hs_per_s = (donor.avg_1h_hs - previous) / dt;
                    }
                }
                self.cycle_read = Some((now, donor.avg_1h_hs));
            }
            self.cycle_start = Some(now);
            self.guard = guard;
            match (guard, target) {
                (None, Some(tier)) => {
                    let (fraction, moved) = self.advance(obs, tier, max_fraction, stats_age, now);
                    loop_move = moved;
                    self.plan = split::plan(fraction, self.settings.cycle);
                }
                _ => self.plan = split::plan(0.0, self.settings.cycle),
            }
            self.mode = self.plan.mode;
            self.xvb_until = Some(now + self.plan.xvb);
        } else if let Some(fired) = guard {
            // Smart sleep: a guard mid-slice ends the slice now; the loop does not advance.
            if self.xvb_until.is_some_and(|until| now < until) {
                self.xvb_until = Some(now);
                self.guard = Some(fired);
            }
        }

        debug_assert!(guard.is_none() || self.xvb_until.is_none_or(|u| now >= u));
        let to_xvb = self.xvb_until.is_some_and(|until| now < until);
        let cycle_end = self.cycle_start.unwrap_or(now) + self.settings.cycle;
        let deadline = match self.xvb_until {
            Some(until) if to_xvb && until < cycle_end => until,
            _ => cycle_end,
        };
        self.deadline = Some(deadline);
        XvbDecision {
            mode: self.mode,
            guard: self.guard,
            to_xvb,
            target,
            current_tier: self
                .donor
                .and_then(|d| Tier::met_by(d.avg_1h_hs, d.avg_24h_hs)),
            fraction: self.fraction().unwrap_or(0.0),
            max_fraction,
            plan: self.plan,
            new_cycle,
            loop_move,
            stale: stats_age >= closed_loop::STALE_HOLD_AFTER,
            hashrate_low: self.settings.enabled
                && target.is_none_or(|t| obs.stable_hs * stable_cap < t.reference_hs()),
            next_deadline: deadline,
        }
    }

    fn absorb(&mut self, obs: &XvbObservation, now: Instant) {
        if obs.raffle_won {
            self.raffle_won_at = Some(now);
        }
        let Some(donor) = obs.donor else { return };
        self.last_fresh = Some((now, donor.avg_1h_hs));
        self.donor = Some(donor);
    }

    fn advance(
        &mut self,
        obs: &XvbObservation,
        tier: Tier,
        max_fraction: f64,
        stats_age: Duration,
        now: Instant,
    ) -> (f64, Option<LoopMove>) {
        let reference = tier.reference_hs();
        let (next, moved) = match self.fraction {
            None => {
                let seed = closed_loop::seed(
                    self.persisted,
                    self.settings.standby_fraction,
                    reference,
                    obs.current_hs,
                );
                (seed.clamp(0.0, max_fraction), None)
            }
            Some(fraction) => {
                // Fresh stats after a stale-stats decay: resume where the loop stood when it was
                // last informed. The decay is a safety state, not something XvB reported.
                let fraction = if stats_age < closed_loop::STALE_HOLD_AFTER {
                    self.before_decay
                        .take()
                        .map_or(fraction, |f| f.max(fraction))
                } else {
                    fraction
                };
                // The loop's state is the donated hashrate it asked for: when the fleet's
                // hashrate moves, the fraction moves with it so the donation does not.
                let fraction = match self.last_current_hs {
                    // An unchanged fleet leaves the fraction exactly as it was (no rounding).
                    Some(before)
                        if before > 0.0
                            && obs.current_hs > 0.0
                            && (before / obs.current_hs - 1.0).abs() > 1e-9 =>
                    {
                        fraction * before / obs.current_hs
                    }
                    _ => fraction,
                };
                let (next, how) = closed_loop::step(&closed_loop::LoopInputs {
                    fraction,
                    reference_hs: reference,
                    avg_1h_hs: self.donor.map_or(0.0, |d| d.avg_1h_hs),
                    slope_hs_per_s: self.slope_hs_per_s,
                    current_hs: obs.current_hs,
                    max_fraction,
                    stats_age,
                    raffle_live: self.raffle_won_at.is_some_and(|at| {
                        now.saturating_duration_since(at) < closed_loop::RAFFLE_HOLD
                    }),
                });
                if how == LoopMove::StaleDecay && self.before_decay.is_none() {
                    self.before_decay = Some(fraction);
                }
                (next, Some(how))
            }
        };
        self.fraction = Some(next);
        self.last_current_hs = Some(obs.current_hs);
        (next, moved)
    }
}

#[cfg(test)]
mod tests;
