//! One cycle's split between XvB and P2Pool.

use std::fmt;
use std::time::Duration;

/// The length of one engine cycle.
pub const CYCLE: Duration = Duration::from_secs(600);
/// A slice sent to XvB is at least this long; a shorter one is not worth two switches.
pub const MIN_XVB_SLICE: Duration = Duration::from_secs(15);
/// A P2Pool remainder shorter than this sends the whole cycle to XvB.
pub const MIN_P2POOL_REMAINDER: Duration = Duration::from_secs(30);
/// Hashrate lost to one switch (miners reconnecting); added to the XvB slice so XvB is credited
/// for the time asked.
pub const SWITCH_COST: Duration = Duration::from_secs(5);

/// Where a cycle's hashrate goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole cycle to P2Pool.
    P2pool,
    /// The whole cycle to XvB.
    Xvb,
    /// XvB first, then P2Pool.
    Split,
}

impl Mode {
    /// `P2POOL`, `XVB` or `SPLIT`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::P2pool => "P2POOL",
            Mode::Xvb => "XVB",
            Mode::Split => "SPLIT",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cycle's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclePlan {
    /// The mode.
    pub mode: Mode,
    /// Time sent to XvB, first.
    pub xvb: Duration,
    /// Time left to P2Pool, after.
    pub p2pool: Duration,
}

/// Splits a `cycle` for a donated `fraction` (clamped to `[0, 1]`).
pub fn plan(fraction: f64, cycle: Duration) -> CyclePlan {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Whole seconds: sub-second slices mean nothing against a 5 s switch.
    let asked = Duration::from_secs((cycle.as_secs_f64() * fraction).round() as u64);
    if asked < MIN_XVB_SLICE {
        return CyclePlan {
            mode: Mode::P2pool,
            xvb: Duration::ZERO,
            p2pool: cycle,
        };
    }
    let xvb = (asked + SWITCH_COST).min(cycle);
    let p2pool = cycle - xvb;
    if p2pool < MIN_P2POOL_REMAINDER {
        return CyclePlan {
            mode: Mode::Xvb,
            xvb: cycle,
            p2pool: Duration::ZERO,
        };
    }
    CyclePlan {
        mode: Mode::Split,
        xvb,
        p2pool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn modes_and_boundaries() {
        let table = [
            (0.0, Mode::P2pool, 0, 600),
            (0.01, Mode::P2pool, 0, 600),
            // 14.4 s asked: under the minimum slice.
            (0.024, Mode::P2pool, 0, 600),
            // 15 s asked: the minimum slice, plus the switch cost.
            (0.025, Mode::Split, 20, 580),
            (0.5, Mode::Split, 305, 295),
            // 565 s + 5 s leaves exactly 30 s: still a split.
            (565.0 / 600.0, Mode::Split, 570, 30),
            // 566 s + 5 s leaves 29 s: the whole cycle goes to XvB.
            (566.0 / 600.0, Mode::Xvb, 600, 0),
            (0.96, Mode::Xvb, 600, 0),
            (1.0, Mode::Xvb, 600, 0),
            (f64::NAN, Mode::P2pool, 0, 600),
        ];
        for (fraction, mode, xvb, p2pool) in table {
            let plan = plan(fraction, CYCLE);
            assert_eq!(plan.mode, mode, "{fraction}");
            assert_eq!(plan.xvb.as_secs(), xvb, "{fraction}");
            assert_eq!(plan.p2pool.as_secs(), p2pool, "{fraction}");
            assert_eq!(plan.xvb + plan.p2pool, secs(600), "{fraction}");
        }
    }
}
