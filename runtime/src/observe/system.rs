//! The host's own figures for the dashboard: CPU, memory and disk use, HugePages.
//!
//! Read through [`SystemSource`] so the simulation and tests set the figures
//! ([`FixedSystem`]) and production reads `/proc` and `statvfs` ([`HostSystem`]). The parsers
//! are pure functions over the files' text. What a figure *means* (`high`, a disk badge) is
//! decided in the read model ([`crate::view`]), never here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// One reading of the host. `None` = the figure could not be read (shown as unknown).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SystemReading {
    /// CPU busy since the previous reading, percent.
    pub cpu_percent: Option<f64>,
    /// Memory in use (total − available), percent.
    pub mem_percent: Option<f64>,
    /// The data directory's filesystem in use, percent.
    pub disk_percent: Option<f64>,
    /// HugePages as `/proc/meminfo` reports them.
    pub hugepages: Option<HugePages>,
}

/// `HugePages_Total` / `HugePages_Free` of `/proc/meminfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HugePages {
    /// Pages reserved (0 = off).
    pub total: u64,
    /// Pages not in use.
    pub free: u64,
}

/// Where the host's figures come from.
pub trait SystemSource: Send + Sync {
    /// The figures now (each read independently; a failed one is `None`).
    fn read(&self) -> SystemReading;
}

/// A shared source.
pub type SharedSystem = Arc<dyn SystemSource>;

/// Figures set by hand: the simulation's and the tests' host.
#[derive(Debug, Clone, Default)]
pub struct FixedSystem {
    reading: Arc<Mutex<SystemReading>>,
}

impl FixedSystem {
    /// A host that reports `reading` until told otherwise.
    pub fn new(reading: SystemReading) -> Self {
        Self {
            reading: Arc::new(Mutex::new(reading)),
        }
    }

    /// Changes what the host reports from the next read on (every clone sees it).
    pub fn set(&self, reading: SystemReading) {
        *self.reading.lock().unwrap_or_else(PoisonError::into_inner) = reading;
    }
}

impl SystemSource for FixedSystem {
    fn read(&self) -> SystemReading {
        *self.reading.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The real host: `/proc/stat`, `/proc/meminfo` and `statvfs` of the data directory.
#[derive(Debug)]
pub struct HostSystem {
    proc_dir: PathBuf,
    disk_path: PathBuf,
    // CPU use is a difference between two readings of the cumulative counters.
    last_cpu: Mutex<Option<CpuTimes>>,
}

impl HostSystem {
    /// Reads `/proc` and the filesystem holding `disk_path`.
    pub fn new(disk_path: impl Into<PathBuf>) -> Self {
        Self {
            proc_dir: PathBuf::from("/proc"),
            disk_path: disk_path.into(),
            last_cpu: Mutex::new(None),
        }
    }
}

impl SystemSource for HostSystem {
    fn read(&self) -> SystemReading {
        let meminfo = std::fs::read_to_string(self.proc_dir.join("meminfo")).ok();
        let cpu = std::fs::read_to_string(self.proc_dir.join("stat"))
            .ok()
            .and_then(|s| parse_cpu_times(&s))
            .and_then(|now| {
                let mut last = self.last_cpu.lock().unwrap_or_else(PoisonError::into_inner);
                let before = last.replace(now);
                before.and_then(|b| now.busy_percent_since(b))
            });
        let disk = rustix::fs::statvfs(&self.disk_path).ok().and_then(|s| {
            disk_percent(
                s.f_blocks.saturating_mul(s.f_frsize),
                s.f_bavail.saturating_mul(s.f_frsize),
            )
        });
        SystemReading {
            cpu_percent: cpu,
            mem_percent: meminfo.as_deref().and_then(parse_mem_percent),
            disk_percent: disk,
            hugepages: meminfo.as_deref().and_then(parse_hugepages),
        }
    }
}

/// Cumulative CPU jiffies of the `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// All jiffies.
    pub total: u64,
    /// Idle + iowait jiffies.
    pub idle: u64,
}

impl CpuTimes {
    /// Busy percent between `before` and `self`; `None` when no time passed.
    pub fn busy_percent_since(self, before: CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(before.total)?;
        let idle = self.idle.checked_sub(before.idle)?;
        if total == 0 {
            return None;
        }
        Some(percent(total.saturating_sub(idle), total))
    }
}

/// The aggregate `cpu` line of `/proc/stat`. Pure.
pub fn parse_cpu_times(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest columns are already in user).
    // Checked: a line whose counters overflow a u64 together is no reading, not a panic.
    let total = fields
        .iter()
        .take(8)
        .try_fold(0_u64, |sum, f| sum.checked_add(*f))?;
    let idle = fields
        .get(3)?
        .checked_add(fields.get(4).copied().unwrap_or(0))?;
    Some(CpuTimes { total, idle })
}

fn meminfo_kb(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Memory in use, percent: `(MemTotal − MemAvailable) / MemTotal`. Pure.
pub fn parse_mem_percent(meminfo: &str) -> Option<f64> {
    let total = meminfo_kb(meminfo, "MemTotal")?;
    let available = meminfo_kb(meminfo, "MemAvailable")?;
    if total == 0 {
        return None;
    }
    Some(percent(total.saturating_sub(available), total))
}

/// `HugePages_Total` and `HugePages_Free`. Pure.
pub fn parse_hugepages(meminfo: &str) -> Option<HugePages> {
    Some(HugePages {
        total: meminfo_kb(meminfo, "HugePages_Total")?,
        free: meminfo_kb(meminfo, "HugePages_Free")?,
    })
}

/// Used share of a filesystem of `total_bytes` with `available_bytes` free to users. Pure.
pub fn disk_percent(total_bytes: u64, available_bytes: u64) -> Option<f64> {
    if total_bytes == 0 {
        return None;
    }
    Some(percent(
        total_bytes.saturating_sub(available_bytes),
        total_bytes,
    ))
}

fn percent(part: u64, whole: u64) -> f64 {
    // Display figures: f64 precision is ample.
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 * 100.0 / whole as f64;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n\
        MemAvailable:    4000000 kB\nHugePages_Total:    1280\nHugePages_Free:      256\n";

    #[test]
    fn memory_is_total_minus_available() {
        assert_eq!(parse_mem_percent(MEMINFO), Some(75.0));
        assert_eq!(
            parse_mem_percent("MemTotal: 0 kB\nMemAvailable: 0 kB\n"),
            None
        );
    }

    #[test]
    fn hugepages_are_read_and_absent_lines_are_no_reading() {
        assert_eq!(
            parse_hugepages(MEMINFO),
            Some(HugePages {
                total: 1280,
                free: 256
            })
        );
        assert_eq!(parse_hugepages("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn cpu_use_is_the_busy_share_between_two_readings() {
        let a = parse_cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        let b = parse_cpu_times("cpu  200 0 200 1250 150 0 0 0 0 0\n").unwrap();
        assert_eq!(
            a,
            CpuTimes {
                total: 1000,
                idle: 800
            }
        );
        assert_eq!(b.busy_percent_since(a), Some(25.0));
        assert_eq!(a.busy_percent_since(a), None);
        assert_eq!(parse_cpu_times("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn counters_that_overflow_together_are_no_reading() {
        let max = u64::MAX;
        assert_eq!(parse_cpu_times(&format!("cpu {max} 1 0 0 0 0 0 0\n")), None);
        assert_eq!(parse_cpu_times(&format!("cpu 0 0 0 {max} 1\n")), None);
        // u64::MAX alone still adds up.
        assert_eq!(
            parse_cpu_times(&format!("cpu {max} 0 0 0 0 0 0 0 5 5\n")),
            Some(CpuTimes {
                total: max,
                idle: 0
            })
        );
    }

    #[test]
    fn disk_is_the_used_share() {
        assert_eq!(disk_percent(1000, 150), Some(85.0));
        assert_eq!(disk_percent(0, 0), None);
    }

    #[test]
    fn the_fixed_host_reports_what_it_was_set_to() {
        let host = FixedSystem::default();
        let other = host.clone();
        other.set(SystemReading {
            disk_percent: Some(90.0),
            ..SystemReading::default()
        });
        assert_eq!(host.read().disk_percent, Some(90.0));
    }

    #[test]
    fn the_real_host_reads_its_own_proc() {
        let host = HostSystem::new(std::env::temp_dir());
        let first = host.read();
        assert!(first
            .mem_percent
            .is_some_and(|p| (0.0..=100.0).contains(&p)));
        assert!(first.disk_percent.is_some());
        assert_eq!(first.cpu_percent, None, "one reading has no difference");
    }
}
