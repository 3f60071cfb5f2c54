//! `pithead doctor`: read-only diagnostics, one line per check. The checks here are pure
//! (numbers and texts in, a verdict out); the binary gathers the numbers.

use super::validate::{MoneroMode, Settings, TariMode};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine.
    Ok,
    /// Worth a look; the stack can run.
    Warn,
    /// Critical: the stack cannot run like this (exit 1).
    Fail,
}

/// One check's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The verdict.
    pub level: Level,
    /// What was found.
    pub text: String,
}

impl Check {
    /// A check at `level`.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Self {
            level,
            text: text.into(),
        }
    }

    /// `✓ text`, `⚠ text` or `✗ text`.
    pub fn line(&self) -> String {
        let mark = match self.level {
            Level::Ok => '✓',
            Level::Warn => '⚠',
            Level::Fail => '✗',
        };
        format!("{mark} {}", self.text)
    }
}

const GIB: u64 = 1024 * 1024 * 1024;

/// Below this nothing can be written safely (an apply, a backup, the dashboard's history).
pub const CRITICAL_FREE: u64 = 2 * GIB;

/// Roughly what the local chains need on disk, for the warning.
pub fn disk_need(settings: &Settings) -> u64 {
    let monero = match (&settings.monero, settings.config.monero.prune) {
        (MoneroMode::Local, true) => 100 * GIB,
        (MoneroMode::Local, false) => 250 * GIB,
        (MoneroMode::Remote { .. }, _) => 0,
    };
    let tari = match settings.tari {
        TariMode::Local => 50 * GIB,
        _ => 0,
    };
    monero + tari + 10 * GIB
}

/// Free space where the stack lives.
pub fn disk(free: u64, need: u64, path: &str) -> Check {
    let gib = |b: u64| b / GIB;
    if free < CRITICAL_FREE {
        Check::new(
            Level::Fail,
            format!(
                "disk: {} GiB free at {path} (at least 2 GiB needed)",
                gib(free)
            ),
        )
    } else if free < need {
        Check::new(
            Level::Warn,
            format!(
                "disk: {} GiB free at {path}; the configured chains need about {} GiB",
                gib(free),
                gib(need)
            ),
        )
    } else {
        Check::new(Level::Ok, format!("disk: {} GiB free at {path}", gib(free)))
    }
}

/// HugePages from `/proc/meminfo` (RandomX hashes faster with them; never critical here).
pub fn hugepages(meminfo: &str) -> Check {
    let total = meminfo.lines().find_map(|l| {
        l.strip_prefix("HugePages_Total:")
            .and_then(|v| v.trim().parse::<u64>().ok())
    });
    match total {
        Some(0) => Check::new(
            Level::Warn,
            "hugepages: off (HugePages_Total is 0; RandomX runs slower without them)",
        ),
        Some(n) => Check::new(Level::Ok, format!("hugepages: {n} reserved")),
        None => Check::new(Level::Warn, "hugepages: cannot read HugePages_Total"),
    }
}

/// The host ports the stack publishes for these settings: (port, what).
pub fn ports(settings: &Settings) -> Vec<(u16, &'static str)> {
    let mut out = vec![(settings.config.p2pool.stratum_port, "stratum")];
    out.push(if settings.config.dashboard.secure {
        (443, "dashboard https")
    } else {
        (80, "dashboard http")
    });
    if settings.monero == MoneroMode::Local {
        out.push((18081, "monerod RPC"));
    }
    out
}

/// A published port: something listening there clashes unless it is the stack itself.
pub fn port(port: u16, what: &str, in_use: bool) -> Check {
    if in_use {
        Check::new(
            Level::Warn,
            format!("port {port} ({what}) is in use: fine if the stack is running, else `pithead up` will fail"),
        )
    } else {
        Check::new(Level::Ok, format!("port {port} ({what}) is free"))
    }
}

/// The last line and the exit code (1 when any check failed).
pub fn summary(checks: &[Check]) -> (String, u8) {
    let count = |level| checks.iter().filter(|c| c.level == level).count();
    let (ok, warn, fail) = (count(Level::Ok), count(Level::Warn), count(Level::Fail));
    (
        format!("Diagnostics summary: {ok} ok, {warn} warning(s), {fail} failure(s)"),
        u8::from(fail > 0),
    )
}
