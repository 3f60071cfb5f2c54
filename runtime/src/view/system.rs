//! The host's figures as the dashboard shows them: levels, HugePages, the disk and HugePages
//! badges. Pure.

use super::document::{Badge, BadgeVariant, HugePagesSection, LevelSection, SystemSection};
use crate::observe::system::SystemReading;

/// Above this percent a figure reads `high`.
pub const HIGH_ABOVE_PERCENT: f64 = 80.0;
/// From this disk use on, the `Disk N% full` badge warns.
pub const DISK_WARN_PERCENT: u64 = 85;
/// From this disk use on, the badge is bad.
pub const DISK_BAD_PERCENT: u64 = 95;

fn level(percent: Option<f64>) -> LevelSection {
    LevelSection {
        percent: percent.map(|p| (p * 10.0).round() / 10.0),
        level: match percent {
            None => "unknown",
            Some(p) if p > HIGH_ABOVE_PERCENT => "high",
            Some(_) => "ok",
        },
    }
}

/// The `system` section of a reading.
pub fn section(reading: &SystemReading) -> SystemSection {
    let hugepages = match reading.hugepages {
        None => HugePagesSection {
            status: "unknown",
            value: "—".to_owned(),
            variant: "outline",
        },
        Some(h) if h.total == 0 => HugePagesSection {
            status: "off",
            value: "0".to_owned(),
            variant: "warn",
        },
        Some(h) => HugePagesSection {
            status: "on",
            value: format!("{}/{} free", h.free, h.total),
            variant: "ok",
        },
    };
    SystemSection {
        cpu: level(reading.cpu_percent),
        mem: level(reading.mem_percent),
        disk: level(reading.disk_percent),
        hugepages,
    }
}

/// `Disk N% full` (from 85 %, bad from 95 %), in display order before `HugePages off`.
pub fn badges(reading: &SystemReading) -> Vec<Badge> {
    let mut out = Vec::new();
    if let Some(disk) = reading.disk_percent {
        // The badge names whole percents, as an operator reads `df`.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = disk.clamp(0.0, 100.0).floor() as u64;
        let variant = if whole >= DISK_BAD_PERCENT {
            Some(BadgeVariant::Bad)
        } else if whole >= DISK_WARN_PERCENT {
            Some(BadgeVariant::Warn)
        } else {
            None
        };
        if let Some(variant) = variant {
            out.push(Badge::new(
                format!("Disk {whole}% full"),
                variant,
                Some("the data disk (chains, history) is filling up"),
            ));
        }
    }
    if reading.hugepages.is_some_and(|h| h.total == 0) {
        out.push(Badge::new(
            "HugePages off",
            BadgeVariant::Warn,
            Some("RandomX hashes slower without HugePages (vm.nr_hugepages)"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::system::HugePages;

    fn disk(percent: f64) -> SystemReading {
        SystemReading {
            disk_percent: Some(percent),
            ..SystemReading::default()
        }
    }

    #[test]
    fn a_level_is_high_only_above_80_percent() {
        assert_eq!(level(Some(80.0)).level, "ok");
        assert_eq!(level(Some(80.1)).level, "high");
        assert_eq!(level(None).level, "unknown");
    }

    #[test]
    fn the_disk_badge_warns_at_85_and_is_bad_at_95() {
        assert!(badges(&disk(84.9)).is_empty());
        let warn = &badges(&disk(85.0))[0];
        assert_eq!(
            (warn.text.as_str(), warn.variant),
            ("Disk 85% full", BadgeVariant::Warn)
        );
        let bad = &badges(&disk(95.2))[0];
        assert_eq!(
            (bad.text.as_str(), bad.variant),
            ("Disk 95% full", BadgeVariant::Bad)
        );
    }

    #[test]
    fn hugepages_off_warns_and_comes_after_the_disk_badge() {
        let reading = SystemReading {
            disk_percent: Some(90.0),
            hugepages: Some(HugePages { total: 0, free: 0 }),
            ..SystemReading::default()
        };
        let texts: Vec<_> = badges(&reading).into_iter().map(|b| b.text).collect();
        assert_eq!(texts, ["Disk 90% full", "HugePages off"]);
        assert_eq!(section(&reading).hugepages.variant, "warn");
        let on = SystemReading {
            hugepages: Some(HugePages { total: 8, free: 2 }),
            ..SystemReading::default()
        };
        assert_eq!(section(&on).hugepages.value, "2/8 free");
        assert!(badges(&on).is_empty());
    }
}
