//! XvB tiers, the reference the loop steers to, and the choice of the target tier.

use std::fmt;
use std::str::FromStr;

/// A donor tier of XMRvsBeast, met while both of XvB's 1 h and 24 h averages are at or above
/// its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// 1,000 H/s.
    Donor,
    /// 10,000 H/s.
    Vip,
    /// 100,000 H/s.
    Whale,
    /// 1,000,000 H/s.
    Mega,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 4] = [Tier::Donor, Tier::Vip, Tier::Whale, Tier::Mega];

    /// The donated hashrate the tier needs, H/s.
    pub fn threshold_hs(self) -> f64 {
        match self {
            Tier::Donor => 1_000.0,
            Tier::Vip => 10_000.0,
            Tier::Whale => 100_000.0,
            Tier::Mega => 1_000_000.0,
        }
    }

    /// What the loop steers the 1 h average to: the threshold plus a cushion of
    /// `min(5 % of it, 5,000 H/s)`, so noise in XvB's averages does not drop the tier.
    pub fn reference_hs(self) -> f64 {
        let threshold = self.threshold_hs();
        threshold + (0.05 * threshold).min(5_000.0)
    }

    /// The tier's lowercase name (`donor`, `vip`, `whale`, `mega`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Donor => "donor",
            Tier::Vip => "vip",
            Tier::Whale => "whale",
            Tier::Mega => "mega",
        }
    }

    /// The highest tier both averages meet, if any.
    pub fn met_by(avg_1h_hs: f64, avg_24h_hs: f64) -> Option<Tier> {
        let floor = avg_1h_hs.min(avg_24h_hs);
        Tier::ALL
            .into_iter()
            .rev()
            .find(|tier| floor >= tier.threshold_hs())
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which tier the operator asks for (`XVB_DONATION_LEVEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DonationLevel {
    /// The highest tier the fleet can sustain.
    #[default]
    Auto,
    /// This tier, honoured as asked and never downgraded.
    Fixed(Tier),
}

/// A donation level that is not one of `auto`, `donor`, `vip`, `whale`, `mega`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XVB_DONATION_LEVEL must be auto, donor, vip, whale or mega (got {0:?})")]
pub struct DonationLevelError(pub String);

impl FromStr for DonationLevel {
    type Err = DonationLevelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(DonationLevel::Auto),
            "donor" => Ok(DonationLevel::Fixed(Tier::Donor)),
            "vip" => Ok(DonationLevel::Fixed(Tier::Vip)),
            "whale" => Ok(DonationLevel::Fixed(Tier::Whale)),
            "mega" => Ok(DonationLevel::Fixed(Tier::Mega)),
            _ => Err(DonationLevelError(text.to_string())),
        }
    }
}

/// The tier to steer to. `auto` picks the highest tier whose reference fits in the share of the
/// 15-minute stable hashrate the engine may donate (`stable × max_fraction`); a fixed level is
/// returned as asked.
pub fn target_tier(level: DonationLevel, stable_hs: f64, max_fraction: f64) -> Option<Tier> {
    match level {
        DonationLevel::Fixed(tier) => Some(tier),
        DonationLevel::Auto => {
            let spare = stable_hs.max(0.0) * max_fraction.clamp(0.0, 1.0);
            Tier::ALL
                .into_iter()
                .rev()
                .find(|tier| spare >= tier.reference_hs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_references() {
        let table = [
            (Tier::Donor, 1_000.0, 1_050.0),
            (Tier::Vip, 10_000.0, 10_500.0),
            (Tier::Whale, 100_000.0, 105_000.0),
            (Tier::Mega, 1_000_000.0, 1_005_000.0),
        ];
        for (tier, threshold, reference) in table {
            assert_eq!(tier.threshold_hs(), threshold, "{tier}");
            assert_eq!(tier.reference_hs(), reference, "{tier}");
        }
    }

    #[test]
    fn met_needs_both_averages() {
        assert_eq!(Tier::met_by(10_000.0, 10_000.0), Some(Tier::Vip));
        assert_eq!(Tier::met_by(10_000.0, 9_999.0), Some(Tier::Donor));
        assert_eq!(Tier::met_by(999.0, 50_000.0), None);
    }

    #[test]
    fn auto_picks_the_highest_sustainable_tier() {
        let table = [
            (5_000.0, Some(Tier::Donor)),
            (40_000.0, Some(Tier::Vip)),
            (400.0, None),
            // 1,050 / 0.85 = 1,235.3: the boundary of the donor tier.
            (1_235.0, None),
            (1_236.0, Some(Tier::Donor)),
        ];
        for (stable, tier) in table {
            assert_eq!(
                target_tier(DonationLevel::Auto, stable, 0.85),
                tier,
                "{stable}"
            );
        }
    }

    #[test]
    fn fixed_is_honoured_even_when_unsustainable() {
        let level: DonationLevel = "whale".parse().unwrap();
        assert_eq!(target_tier(level, 40_000.0, 0.85), Some(Tier::Whale));
        assert_eq!(target_tier(level, 0.0, 0.0), Some(Tier::Whale));
    }

    #[test]
    fn donation_level_parses() {
        assert_eq!("AUTO".parse(), Ok(DonationLevel::Auto));
        assert_eq!(" vip ".parse(), Ok(DonationLevel::Fixed(Tier::Vip)));
        let err = "gold".parse::<DonationLevel>().unwrap_err().to_string();
        assert!(err.contains("\"gold\""), "{err}");
    }
}
