//! The guards that send a whole cycle to P2Pool, checked in a fixed order.

use std::fmt;
use std::time::Duration;

use super::tiers::Tier;

/// XvB's fail counter at or above this sends the cycle to P2Pool.
pub const FAIL_COUNT_LIMIT: u64 = 3;

/// The default PPLNS window, side-chain blocks.
pub const DEFAULT_PPLNS_WINDOW_BLOCKS: u64 = 2_160;

/// The side chain p2pool mines on; it sets the block time and so the PPLNS window's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SideChain {
    /// The main side chain (10 s blocks).
    #[default]
    Main,
    /// p2pool-mini (10 s blocks).
    Mini,
    /// p2pool-nano (30 s blocks).
    Nano,
}

impl SideChain {
    /// The side chain's target block time.
    pub fn block_time(self) -> Duration {
        match self {
            SideChain::Main | SideChain::Mini => Duration::from_secs(10),
            SideChain::Nano => Duration::from_secs(30),
        }
    }

    /// How long `blocks` side-chain blocks last: the PPLNS window in time.
    pub fn window(self, blocks: u64) -> Duration {
        self.block_time()
            .saturating_mul(u32::try_from(blocks).unwrap_or(u32::MAX))
    }
}

/// A guard that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// `XVB_ENABLED` is false.
    Disabled,
    /// No own P2Pool share inside the PPLNS window: donating would lose the P2Pool payout.
    NoShares,
    /// XvB's fail counter for this donor is at or above [`FAIL_COUNT_LIMIT`].
    FailCount,
    /// No tier is reachable (the target is 0).
    NoTier,
}

impl Guard {
    /// The guard's name as the dashboard and the catalog say it.
    pub fn reason(self) -> &'static str {
        match self {
            Guard::Disabled => "disabled",
            Guard::NoShares => "no shares",
            Guard::FailCount => "fail count",
            Guard::NoTier => "no tier",
        }
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// What the guards look at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardInputs {
    /// The engine is enabled.
    pub enabled: bool,
    /// Age of the last own P2Pool share (`None`: none known).
    pub last_share_age: Option<Duration>,
    /// The PPLNS window in time.
    pub window: Duration,
    /// XvB's fail counter for the donor (last read).
    pub fail_count: u64,
    /// The tier chosen this cycle.
    pub target: Option<Tier>,
}

/// The first guard that fires, in the order disabled, no shares, fail count, no tier.
pub fn first_guard(inputs: &GuardInputs) -> Option<Guard> {
    if !inputs.enabled {
        return Some(Guard::Disabled);
    }
    // A share exactly `window` old is still inside the window.
    if inputs.last_share_age.is_none_or(|age| age > inputs.window) {
        return Some(Guard::NoShares);
    }
    if inputs.fail_count >= FAIL_COUNT_LIMIT {
        return Some(Guard::FailCount);
    }
    if inputs.target.is_none() {
        return Some(Guard::NoTier);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clear() -> GuardInputs {
        GuardInputs {
            enabled: true,
            last_share_age: Some(Duration::from_secs(60)),
            window: SideChain::Main.window(DEFAULT_PPLNS_WINDOW_BLOCKS),
            fail_count: 0,
            target: Some(Tier::Vip),
        }
    }

    #[test]
    fn each_guard_fires_alone() {
        type Change = fn(&mut GuardInputs);
        let cases: [(Change, Guard); 5] = [
            (|i| i.enabled = false, Guard::Disabled),
            (|i| i.last_share_age = None, Guard::NoShares),
            (
                |i| i.last_share_age = Some(Duration::from_secs(21_601)),
                Guard::NoShares,
            ),
            (|i| i.fail_count = 3, Guard::FailCount),
            (|i| i.target = None, Guard::NoTier),
        ];
        assert_eq!(first_guard(&clear()), None);
        for (change, guard) in cases {
            let mut inputs = clear();
            change(&mut inputs);
            assert_eq!(first_guard(&inputs), Some(guard));
        }
    }

    #[test]
    fn boundaries() {
        let mut inputs = clear();
        inputs.fail_count = 2;
        inputs.last_share_age = Some(Duration::from_secs(21_600));
        assert_eq!(first_guard(&inputs), None);
    }

    #[test]
    fn the_first_guard_in_order_is_reported() {
        let all = GuardInputs {
            enabled: false,
            last_share_age: None,
            window: Duration::from_secs(1),
            fail_count: 9,
            target: None,
        };
        assert_eq!(first_guard(&all), Some(Guard::Disabled));
        let all = GuardInputs {
            enabled: true,
            ..all
        };
        assert_eq!(first_guard(&all), Some(Guard::NoShares));
        let all = GuardInputs {
            last_share_age: Some(Duration::ZERO),
            ..all
        };
        assert_eq!(first_guard(&all), Some(Guard::FailCount));
        let all = GuardInputs {
            fail_count: 0,
            ..all
        };
        assert_eq!(first_guard(&all), Some(Guard::NoTier));
    }

    #[test]
    fn windows_per_side_chain() {
        let table = [
            (SideChain::Main, 21_600),
            (SideChain::Mini, 21_600),
            (SideChain::Nano, 64_800),
        ];
        for (chain, secs) in table {
            assert_eq!(chain.window(2_160), Duration::from_secs(secs), "{chain:?}");
        }
    }
}
