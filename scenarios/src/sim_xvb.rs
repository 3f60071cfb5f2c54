//! Section E on the simulation: the runtime's XvB engine on a virtual clock
//! ([`pithead_sim::xvb::XvbBench`]), its facts set from the scenario's words and its decisions
//! judged against the domain's rules.

use std::time::Duration;

use pithead_sim::xvb::engine::{
    closed_loop, split, CyclePlan, DonationLevel, Guard, LoopMove, SideChain, Tier, XvbDecision,
};
use pithead_sim::xvb::XvbBench;

use crate::driver::{TierError, XvbEvent, XvbFact, XvbOutcome};

/// The standby fraction a scenario's "a standby exists" means.
const STANDBY: f64 = 0.3;
/// Where a falling 1 h average starts and ends over one cycle.
const FALLING_FROM: f64 = 11_000.0;
const FALLING_TO: f64 = 10_700.0;

/// One scenario's engine and what the steps asked of it.
#[derive(Debug, Default)]
pub struct XvbScenario {
    bench: XvbBench,
    falling: bool,
    raffle_age: Option<u64>,
    stats_age: Option<u64>,
    planned_fraction: Option<f64>,
    plan: Option<CyclePlan>,
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), TierError> {
    if ok {
        Ok(())
    } else {
        Err(TierError::Check(what()))
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

impl XvbScenario {
    /// Applies a `Given` fact.
    pub fn given(&mut self, fact: XvbFact) -> Result<(), TierError> {
        let bench = &mut self.bench;
        let obs = &mut bench.observation;
        match fact {
            XvbFact::SustainableVip => {}
            XvbFact::Disabled => bench.settings.enabled = false,
            XvbFact::NoShare => obs.last_share_age = None,
            XvbFact::FailCount(n) => {
                if let Some(d) = obs.donor.as_mut() {
                    d.fail_count = n;
                }
            }
            XvbFact::NoTierReachable => {
                obs.current_hs = 400.0;
                obs.stable_hs = 400.0;
            }
            XvbFact::SideChain(chain, blocks) => {
                bench.settings.side_chain = match chain {
                    "mini" => SideChain::Mini,
                    "nano" => SideChain::Nano,
                    _ => SideChain::Main,
                };
                obs.pplns_window_blocks = Some(blocks);
            }
            XvbFact::LastShareAge(age) => obs.last_share_age = Some(Duration::from_secs(age)),
            XvbFact::VipAt {
                avg_1h_hs,
                current_hs,
            } => {
                bench.settings.donation_level = DonationLevel::Fixed(Tier::Vip);
                obs.current_hs = current_hs;
                obs.stable_hs = current_hs;
                if let Some(d) = obs.donor.as_mut() {
                    d.avg_1h_hs = avg_1h_hs;
                    d.avg_24h_hs = avg_1h_hs;
                }
            }
            XvbFact::Falling => self.falling = true,
            XvbFact::Persisted(fraction) => bench.persisted = fraction,
            XvbFact::Standby => bench.settings.standby_fraction = Some(STANDBY),
            XvbFact::Reserve(reserve_hs) => {
                // reserve = difficulty / window_s × 2, on the default 21,600 s main window.
                let window_s = SideChain::Main.window(2_160).as_secs_f64();
                obs.sidechain_difficulty = (reserve_hs / 2.0 * window_s).round() as u64;
            }
            XvbFact::Current(hs) | XvbFact::Stable(hs) => {
                obs.current_hs = hs;
                obs.stable_hs = hs;
            }
            XvbFact::RaffleWon(age) => self.raffle_age = Some(age),
            XvbFact::AboveReference => {
                bench.settings.donation_level = DonationLevel::Fixed(Tier::Vip);
                if let Some(d) = obs.donor.as_mut() {
                    d.avg_1h_hs = Tier::Vip.reference_hs() + 3_500.0;
                }
            }
            XvbFact::StatsAge(age) => self.stats_age = Some(age),
            XvbFact::Fraction(f) => self.planned_fraction = Some(f),
            XvbFact::Level(level) => {
                bench.settings.donation_level = level
                    .parse()
                    .map_err(|e| TierError::Check(format!("donation level {level:?}: {e}")))?;
            }
            XvbFact::InsideXvbSlice => bench.persisted = Some(0.5),
            XvbFact::ProxyPools => {}
        }
        Ok(())
    }

    /// Applies a `When` event.
    pub fn when(&mut self, event: XvbEvent) -> Result<(), TierError> {
        match event {
            XvbEvent::Decide => {
                self.bench.step_at(Duration::ZERO);
            }
            XvbEvent::CloseCycle => self.close_cycle(),
            XvbEvent::AskAboveCap => {
                self.bench.persisted = Some(closed_loop::FRACTION_CEILING);
                if let Some(d) = self.bench.observation.donor.as_mut() {
                    d.avg_1h_hs = 0.0;
                }
                self.close_cycle();
            }
            XvbEvent::Plan => {
                let fraction = self.planned_fraction.ok_or_else(|| {
                    TierError::Check("no decided fraction was given to plan".into())
                })?;
                self.plan = Some(split::plan(fraction, split::CYCLE));
            }
            XvbEvent::ReRead { fail_count } => {
                if self.bench.decisions.is_empty() {
                    self.bench.step_at(Duration::ZERO);
                }
                if let Some(d) = self.bench.observation.donor.as_mut() {
                    d.fail_count = fail_count;
                }
                self.bench.step_at(Duration::from_secs(60));
            }
            XvbEvent::SwitchToXvb | XvbEvent::NextSwitchRefused => {
                return Err(TierError::Check(format!(
                    "{event:?} needs the whole simulated runtime"
                )));
            }
        }
        Ok(())
    }

    /// The first cycle on fresh stats, then the cycle that closes (after the facts' ages).
    fn close_cycle(&mut self) {
        let bench = &mut self.bench;
        bench.observation.raffle_won = self.raffle_age.is_some();
        if self.falling {
            if let Some(d) = bench.observation.donor.as_mut() {
                d.avg_1h_hs = FALLING_FROM;
            }
        }
        bench.step_at(Duration::ZERO);
        bench.observation.raffle_won = false;
        if self.falling {
            if let Some(d) = bench.observation.donor.as_mut() {
                d.avg_1h_hs = FALLING_TO;
            }
        }
        if self.stats_age.is_some() {
            bench.observation.donor = None;
        }
        let at = self
            .stats_age
            .or(self.raffle_age)
            .unwrap_or(0)
            .max(split::CYCLE.as_secs());
        bench.step_at(Duration::from_secs(at));
    }

    fn last(&self) -> Result<&XvbDecision, TierError> {
        self.bench
            .last()
            .ok_or_else(|| TierError::Check("no decision was made".into()))
    }

    fn pair(&self) -> Result<(&XvbDecision, &XvbDecision), TierError> {
        let last = self.last()?;
        let previous = self
            .bench
            .previous()
            .ok_or_else(|| TierError::Check("only one decision was made".into()))?;
        Ok((previous, last))
    }

    /// The loop's expected step from `before` on the bench's numbers and `projected` 1 h avg.
    fn loop_step(&self, before: f64, last: &XvbDecision, projected: f64) -> Result<f64, TierError> {
        let tier = last
            .target
            .ok_or_else(|| TierError::Check("the decision has no target tier".into()))?;
        let current = self.bench.observation.current_hs;
        let next = before + closed_loop::GAIN * (tier.reference_hs() - projected) / current;
        Ok(next.clamp(0.0, last.max_fraction))
    }

    fn measured_1h(&self) -> f64 {
        self.bench
            .engine()
            .and_then(|e| e.donor())
            .map_or(0.0, |d| d.avg_1h_hs)
    }

    /// Judges a `Then` outcome.
    pub fn expect(&mut self, outcome: XvbOutcome) -> Result<(), TierError> {
        match outcome {
            XvbOutcome::Mode { mode, whole } => {
                let (seen, xvb) = match self.plan {
                    Some(plan) => (plan.mode.name(), plan.xvb),
                    None => {
                        let last = self.last()?;
                        (last.mode.name(), last.plan.xvb)
                    }
                };
                check(seen == mode, || format!("the mode is {seen}, not {mode}"))?;
                if whole {
                    let later = self.bench.step_at(Duration::from_secs(300));
                    check(xvb.is_zero() && !later.to_xvb, || {
                        format!("{xvb:?} of the cycle went to XvB")
                    })?;
                }
                Ok(())
            }
            XvbOutcome::Guard(reason) => {
                let seen = self.last()?.guard.map(Guard::reason);
                check(seen == Some(reason.as_str()), || {
                    format!("the decision names {seen:?}, not {reason:?}")
                })
            }
            XvbOutcome::NoSharesGuard(fires) => {
                let seen = self.last()?.guard;
                check((seen == Some(Guard::NoShares)) == fires, || {
                    format!("the guard that fired is {seen:?}")
                })
            }
            XvbOutcome::RoseByLoopStep => {
                let (before, last) = self.pair()?;
                let expected = self.loop_step(before.fraction, last, self.measured_1h())?;
                check(
                    last.fraction > before.fraction && close(last.fraction, expected),
                    || {
                        format!(
                            "{} → {}, expected {expected}",
                            before.fraction, last.fraction
                        )
                    },
                )
            }
            XvbOutcome::Fell => {
                let (before, last) = self.pair()?;
                check(
                    last.fraction < before.fraction && last.fraction >= 0.0,
                    || format!("{} → {}", before.fraction, last.fraction),
                )
            }
            XvbOutcome::DidNotFall => {
                let (before, last) = self.pair()?;
                check(last.fraction >= before.fraction, || {
                    format!("{} → {}", before.fraction, last.fraction)
                })
            }
            XvbOutcome::SteeredOnProjection => {
                let (before, last) = self.pair()?;
                let slope = (FALLING_TO - FALLING_FROM) / split::CYCLE.as_secs_f64();
                let projected = closed_loop::project_1h(FALLING_TO, slope);
                let expected = self.loop_step(before.fraction, last, projected)?;
                let naive = self.loop_step(before.fraction, last, FALLING_TO)?;
                check(
                    close(last.fraction, expected) && !close(expected, naive),
                    || {
                        format!("stepped to {}, expected {expected} (the measured average would give {naive})", last.fraction)
                    },
                )
            }
            XvbOutcome::ProjectionBounded => {
                let measured = self.measured_1h();
                let slope = (FALLING_TO - FALLING_FROM) / split::CYCLE.as_secs_f64();
                let steep = closed_loop::project_1h(measured, slope * 100.0);
                let gentle = closed_loop::project_1h(measured, slope);
                let rising = closed_loop::project_1h(measured, -slope);
                check(
                    close(steep, 0.75 * measured) && gentle < measured && close(rising, measured),
                    || {
                        format!("projections of {measured}: steep {steep}, gentle {gentle}, rising {rising}")
                    },
                )
            }
            XvbOutcome::StartingFraction(seed) => {
                let last = self.last()?;
                let expected = match seed.as_str() {
                    "the standby value" => STANDBY,
                    "reference / current hashrate" => {
                        let tier = last.target.ok_or_else(|| {
                            TierError::Check("the decision has no target tier".into())
                        })?;
                        tier.reference_hs() / self.bench.observation.current_hs
                    }
                    number => number
                        .parse()
                        .map_err(|_| TierError::Check(format!("{number:?} is not a fraction")))?,
                };
                check(
                    close(last.fraction, expected) && last.loop_move.is_none(),
                    || format!("started at {}, expected {expected}", last.fraction),
                )
            }
            XvbOutcome::FractionIs(expected) => {
                let last = self.last()?;
                check(close(last.fraction, expected), || {
                    format!("the fraction is {}, expected {expected}", last.fraction)
                })
            }
            XvbOutcome::FollowsLoop => {
                let (before, last) = self.pair()?;
                let expected = self.loop_step(before.fraction, last, self.measured_1h())?;
                check(
                    last.loop_move == Some(LoopMove::Steered)
                        && close(last.fraction, expected)
                        && !close(last.fraction, before.fraction),
                    || {
                        format!(
                            "{:?}: {} → {}, expected {expected}",
                            last.loop_move, before.fraction, last.fraction
                        )
                    },
                )
            }
            XvbOutcome::Plan(kind) => {
                let plan = self
                    .plan
                    .ok_or_else(|| TierError::Check("no cycle was planned".into()))?;
                let fraction = self.planned_fraction.unwrap_or(0.0);
                let cycle = split::CYCLE;
                let asked = Duration::from_secs((cycle.as_secs_f64() * fraction).round() as u64);
                let ok = match kind {
                    "all-p2pool" => plan.xvb.is_zero() && plan.p2pool == cycle,
                    "no-short-slice" => {
                        !asked.is_zero() && asked < split::MIN_XVB_SLICE && plan.xvb.is_zero()
                    }
                    "xvb-first" => {
                        plan.xvb == asked + split::SWITCH_COST && plan.xvb + plan.p2pool == cycle
                    }
                    _ => {
                        cycle.saturating_sub(asked + split::SWITCH_COST)
                            < split::MIN_P2POOL_REMAINDER
                            && plan.xvb == cycle
                    }
                };
                check(ok, || format!("the plan for {fraction} is {plan:?}"))
            }
            XvbOutcome::Target(tier) => {
                let seen = self.last()?.target.map_or("none", Tier::name);
                check(seen == tier, || {
                    format!("the engine targets {seen}, not {tier}")
                })
            }
            XvbOutcome::SliceEndedEarly => {
                let (before, last) = self.pair()?;
                check(
                    before.to_xvb
                        && !last.to_xvb
                        && !last.new_cycle
                        && last.guard == Some(Guard::FailCount),
                    || {
                        format!(
                            "before: to_xvb {}; after: to_xvb {}, new cycle {}, guard {:?}",
                            before.to_xvb, last.to_xvb, last.new_cycle, last.guard
                        )
                    },
                )
            }
            XvbOutcome::XvbFirstInConfig
            | XvbOutcome::PutAccepted
            | XvbOutcome::RefusedThenRetried => Err(TierError::Check(format!(
                "{outcome:?} needs the whole simulated runtime"
            ))),
            XvbOutcome::LoopHeld => {
                let (before, last) = self.pair()?;
                check(
                    last.loop_move.is_none() && close(last.fraction, before.fraction),
                    || {
                        format!(
                            "{:?}: {} → {}",
                            last.loop_move, before.fraction, last.fraction
                        )
                    },
                )
            }
        }
    }
}
