//! The closed loop on XvB's reported 1 h average: seed, projection, step, clamp, holds.

use std::time::Duration;

/// Loop gain per cycle.
pub const GAIN: f64 = 0.03;
/// The donated fraction never exceeds this, whatever the reserve allows.
pub const FRACTION_CEILING: f64 = 0.85;
/// How far ahead a falling 1 h average is projected.
pub const PROJECTION_HORIZON: Duration = Duration::from_secs(1_200);
/// A projection is never below this share of the measured average.
pub const PROJECTION_FLOOR: f64 = 0.75;
/// The reserve P2Pool keeps, in shares' worth of hashrate per PPLNS window.
pub const RESERVE_FACTOR: f64 = 2.0;
/// A won raffle round may still be live this long: no downward step meanwhile.
pub const RAFFLE_HOLD: Duration = Duration::from_secs(5_400);
/// Stats older than this are not steered on: the fraction holds.
pub const STALE_HOLD_AFTER: Duration = Duration::from_secs(900);
/// Stats older than this make the fraction halve every cycle.
pub const STALE_DECAY_AFTER: Duration = Duration::from_secs(1_800);
/// A decaying fraction under this snaps to 0.
pub const SNAP_TO_ZERO_BELOW: f64 = 0.005;

/// The hashrate P2Pool keeps so it still finds shares: `sidechain_difficulty / window_s × 2`.
pub fn reserve_hs(sidechain_difficulty: u64, window: Duration) -> f64 {
    let window_s = window.as_secs_f64();
    if window_s <= 0.0 {
        return 0.0;
    }
    sidechain_difficulty as f64 / window_s * RESERVE_FACTOR
}

/// `min(0.85, 1 − reserve / current)`, never below 0 (0 when nothing is mining).
pub fn max_fraction(reserve_hs: f64, current_hs: f64) -> f64 {
    if !(current_hs.is_finite() && current_hs > 0.0) {
        return 0.0;
    }
    (1.0 - reserve_hs.max(0.0) / current_hs).clamp(0.0, FRACTION_CEILING)
}

/// The measured 1 h average lowered by its own falling trend (`slope_hs_per_s`, from the last
/// two fresh reads) projected [`PROJECTION_HORIZON`] ahead; never raised, never below
/// [`PROJECTION_FLOOR`] × measured.
pub fn project_1h(measured_hs: f64, slope_hs_per_s: f64) -> f64 {
    let measured = measured_hs.max(0.0);
    if !(slope_hs_per_s.is_finite() && slope_hs_per_s < 0.0) {
        return measured;
    }
    let ahead = measured + slope_hs_per_s * PROJECTION_HORIZON.as_secs_f64();
    ahead.clamp(PROJECTION_FLOOR * measured, measured)
}

/// Where the first cycle's fraction comes from, in order.
pub fn seed(
    persisted: Option<f64>,
    standby: Option<f64>,
    reference_hs: f64,
    current_hs: f64,
) -> f64 {
    persisted
        .or(standby)
        .filter(|f| f.is_finite())
        .unwrap_or_else(|| {
            if current_hs > 0.0 {
                reference_hs / current_hs
            } else {
                0.0
            }
        })
}

/// What one loop step sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopInputs {
    /// The fraction in force.
    pub fraction: f64,
    /// The reference, H/s.
    pub reference_hs: f64,
    /// XvB's last reported 1 h average, H/s.
    pub avg_1h_hs: f64,
    /// Its trend from the last two fresh reads, H/s per second.
    pub slope_hs_per_s: f64,
    /// Current hashrate of the fleet, H/s.
    pub current_hs: f64,
    /// The cap.
    pub max_fraction: f64,
    /// Time since the last fresh XvB read.
    pub stats_age: Duration,
    /// A won raffle round may still be live.
    pub raffle_live: bool,
}

/// How the step was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopMove {
    /// Stepped on fresh stats.
    Steered,
    /// Held: the stats are stale.
    StaleHold,
    /// Halved: the stats are stale for long.
    StaleDecay,
}

/// One step of the loop: the next fraction, in `[0, max_fraction]`.
pub fn step(inputs: &LoopInputs) -> (f64, LoopMove) {
    let fraction = if inputs.fraction.is_finite() {
        inputs.fraction
    } else {
        0.0
    };
    let (next, how) = if inputs.stats_age > STALE_DECAY_AFTER {
        let half = fraction / 2.0;
        let next = if half < SNAP_TO_ZERO_BELOW { 0.0 } else { half };
        (next, LoopMove::StaleDecay)
    } else if inputs.stats_age >= STALE_HOLD_AFTER {
        (fraction, LoopMove::StaleHold)
    } else if inputs.current_hs > 0.0 {
        let projected = project_1h(inputs.avg_1h_hs, inputs.slope_hs_per_s);
        let mut delta = GAIN * (inputs.reference_hs - projected) / inputs.current_hs;
        if inputs.raffle_live {
            delta = delta.max(0.0);
        }
        (fraction + delta, LoopMove::Steered)
    } else {
        (fraction, LoopMove::Steered)
    };
    (next.clamp(0.0, inputs.max_fraction.max(0.0)), how)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(fraction: f64, avg_1h: f64) -> LoopInputs {
        LoopInputs {
            fraction,
            reference_hs: 10_500.0,
            avg_1h_hs: avg_1h,
            slope_hs_per_s: 0.0,
            current_hs: 20_000.0,
            max_fraction: 0.85,
            stats_age: Duration::from_secs(60),
            raffle_live: false,
        }
    }

    #[test]
    fn ramps_up_below_and_backs_off_above_the_reference() {
        let (up, how) = step(&fresh(0.5, 9_000.0));
        assert_eq!(how, LoopMove::Steered);
        assert!(
            (up - (0.5 + 0.03 * 1_500.0 / 20_000.0)).abs() < 1e-12,
            "{up}"
        );
        let (down, _) = step(&fresh(0.5, 14_000.0));
        assert!(
            (down - (0.5 - 0.03 * 3_500.0 / 20_000.0)).abs() < 1e-12,
            "{down}"
        );
        let (floor, _) = step(&fresh(0.001, 1_000_000.0));
        assert_eq!(floor, 0.0);
    }

    #[test]
    fn the_cap_clamps() {
        let mut inputs = fresh(0.69, 0.0);
        inputs.max_fraction = max_fraction(6_000.0, 20_000.0);
        assert!((inputs.max_fraction - 0.70).abs() < 1e-12);
        inputs.fraction = 0.9;
        assert!((step(&inputs).0 - 0.70).abs() < 1e-12);
        assert_eq!(max_fraction(0.0, 1e9), FRACTION_CEILING);
        assert_eq!(max_fraction(30_000.0, 20_000.0), 0.0);
        assert_eq!(max_fraction(0.0, 0.0), 0.0);
    }

    #[test]
    fn reserve_from_difficulty_and_window() {
        // 64,800,000 difficulty over a 21,600 s window: 3,000 H/s × 2.
        assert_eq!(reserve_hs(64_800_000, Duration::from_secs(21_600)), 6_000.0);
        assert_eq!(reserve_hs(1, Duration::ZERO), 0.0);
    }

    #[test]
    fn projection_is_lowered_never_raised_and_floored() {
        assert_eq!(project_1h(10_000.0, 1.0), 10_000.0);
        assert_eq!(project_1h(10_000.0, -1.0), 8_800.0);
        assert_eq!(project_1h(10_000.0, -10.0), 7_500.0);
        assert_eq!(project_1h(10_000.0, f64::NAN), 10_000.0);
    }

    #[test]
    fn raffle_blocks_downward_steps_only() {
        let mut inputs = fresh(0.5, 14_000.0);
        inputs.raffle_live = true;
        assert_eq!(step(&inputs).0, 0.5);
        inputs.avg_1h_hs = 9_000.0;
        assert!(step(&inputs).0 > 0.5);
    }

    #[test]
    fn stale_stats_hold_then_decay() {
        let table = [
            (600, 0.40, None, LoopMove::Steered),
            (899, 0.40, None, LoopMove::Steered),
            (900, 0.40, Some(0.40), LoopMove::StaleHold),
            (1_000, 0.40, Some(0.40), LoopMove::StaleHold),
            (1_800, 0.40, Some(0.40), LoopMove::StaleHold),
            (1_801, 0.40, Some(0.20), LoopMove::StaleDecay),
            (2_000, 0.006, Some(0.0), LoopMove::StaleDecay),
            (2_000, 0.01, Some(0.005), LoopMove::StaleDecay),
        ];
        for (age, fraction, expected, how) in table {
            let mut inputs = fresh(fraction, 9_000.0);
            inputs.stats_age = Duration::from_secs(age);
            let (next, moved) = step(&inputs);
            assert_eq!(moved, how, "{age}");
            match expected {
                Some(value) => assert!((next - value).abs() < 1e-12, "{age}: {next}"),
                None => assert!(next > fraction, "{age}: {next}"),
            }
        }
    }

    #[test]
    fn seed_order() {
        assert_eq!(seed(Some(0.42), Some(0.3), 10_500.0, 20_000.0), 0.42);
        assert_eq!(seed(None, Some(0.3), 10_500.0, 20_000.0), 0.3);
        assert_eq!(seed(None, None, 10_500.0, 20_000.0), 0.525);
        assert_eq!(seed(None, None, 10_500.0, 0.0), 0.0);
    }
}
