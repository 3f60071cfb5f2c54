//! The alert machine: one cycle's debounced signals in, the alerts their changes call for out.
//!
//! Every monitor's first reading is a silent baseline, so a restart replays nothing: a runtime
//! restarted during an outage (the failover restored from the snapshot as down) reads "down"
//! first, stays silent, and alerts the recovery when it comes. A monitor without a reading this
//! cycle (`None`) keeps its state and says nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::event::{Alert, EventKey, Severity};

/// The data disk's warn level, percent used (as the dashboard's badge: whole percents).
pub const DISK_WARN_PERCENT: u64 = 85;
/// The data disk's critical level.
pub const DISK_CRITICAL_PERCENT: u64 = 95;
/// How far below a level the disk must fall before it counts as having left it. Disk use
/// drifts by a fraction of a percent as monerod writes and logs rotate; without this margin
/// a disk sitting at 85 % would alert on every wobble.
pub const DISK_HYSTERESIS_PERCENT: u64 = 2;

/// Readings in a row a container's health, the history database and the XvB hashrate verdict
/// must agree on before they count. These arrive undebounced (one poll of docker, one write,
/// one engine step), and a single blip would otherwise cost the operator two messages.
pub const CONFIRM_READINGS: u32 = 2;

/// What one cycle knows, already debounced where the control machines debounce it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// monerod counts as down (the failover's debounced verdict).
    pub monero_down: bool,
    /// The Tari base node counts as down; `None` when Tari is not part of the stack.
    pub tari_down: Option<bool>,
    /// Workers are rejected.
    pub workers_rejected: bool,
    /// The sync gate released the miners this cycle (once per release: a re-armed gate that
    /// releases again says so again; a restart with the latch set does not).
    pub newly_released: bool,
    /// The stack's containers whose health verdict is a problem; `None` when the docker engine
    /// gave no reading this cycle.
    pub unhealthy: Option<BTreeMap<String, String>>,
    /// The data disk's used percent, when read.
    pub disk_percent: Option<f64>,
    /// The history database takes writes.
    pub db_healthy: bool,
    /// The XvB engine's "the fleet cannot sustain the tier asked for"; `None` when the engine
    /// is off or its verdict means nothing this cycle (workers rejected, miners held).
    pub hashrate_low: Option<bool>,
}

/// The data disk's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiskLevel {
    /// Below the warn level.
    Ok,
    /// At or above [`DISK_WARN_PERCENT`].
    Warn,
    /// At or above [`DISK_CRITICAL_PERCENT`].
    Critical,
}

impl DiskLevel {
    /// The level `whole` percent means, coming from `from` (rising at the levels, falling
    /// [`DISK_HYSTERESIS_PERCENT`] below them).
    pub fn next(from: Option<Self>, whole: u64) -> Self {
        let raw = Self::of(whole);
        match from {
            Some(from) if raw < from => {
                // Falling: each level is left only once the disk is clearly below it.
                let lowered = Self::of(whole + DISK_HYSTERESIS_PERCENT);
                lowered.min(from)
            }
            _ => raw,
        }
    }

    fn of(whole: u64) -> Self {
        if whole >= DISK_CRITICAL_PERCENT {
            Self::Critical
        } else if whole >= DISK_WARN_PERCENT {
            Self::Warn
        } else {
            Self::Ok
        }
    }
}

/// A level that counts once `confirm` readings in a row agree; the first reading is the
/// silent baseline.
#[derive(Debug, Clone)]
struct Confirmed<T> {
    confirm: u32,
    value: Option<T>,
    candidate: Option<(T, u32)>,
}

impl<T: Clone + PartialEq> Confirmed<T> {
    fn new(confirm: u32) -> Self {
        Self {
            confirm: confirm.max(1),
            value: None,
            candidate: None,
        }
    }

    /// Feeds a reading; returns `(from, to)` when the confirmed value changes after the
    /// baseline.
    fn step(&mut self, reading: T) -> Option<(T, T)> {
        if self.value.is_none() {
            // The baseline needs no confirmation: it is silent anyway.
            self.value = Some(reading);
            return None;
        }
        if self.value.as_ref() == Some(&reading) {
            self.candidate = None;
            return None;
        }
        let seen = match &self.candidate {
            Some((c, n)) if *c == reading => n + 1,
            _ => 1,
        };
        if seen < self.confirm {
            self.candidate = Some((reading, seen));
            return None;
        }
        self.candidate = None;
        let before = self.value.replace(reading.clone());
        before.map(|b| (b, reading))
    }
}

/// The alert machine's state across cycles.
#[derive(Debug, Clone)]
pub struct AlertMachine {
    host: Option<String>,
    monero: Confirmed<bool>,
    tari: Confirmed<bool>,
    rejected: Confirmed<bool>,
    containers: BTreeMap<String, Confirmed<bool>>,
    containers_seen: bool,
    disk: Option<DiskLevel>,
    db: Confirmed<bool>,
    hashrate_low: Confirmed<bool>,
}

impl AlertMachine {
    /// A machine whose alerts name `host` (trimmed; blank means none).
    pub fn new(host: Option<String>) -> Self {
        Self {
            host: host.map(|h| one_line(h.trim())).filter(|h| !h.is_empty()),
            monero: Confirmed::new(1),
            tari: Confirmed::new(1),
            rejected: Confirmed::new(1),
            containers: BTreeMap::new(),
            containers_seen: false,
            disk: None,
            db: Confirmed::new(CONFIRM_READINGS),
            hashrate_low: Confirmed::new(CONFIRM_READINGS),
        }
    }

    /// The alerts one cycle's `signals` call for, stamped `at_unix`. Pure.
    pub fn step(&mut self, signals: &Signals, at_unix: i64) -> Vec<Alert> {
        let mut raw: Vec<(EventKey, Severity, String)> = Vec::new();
        let mut emit = |key, severity, text: String| raw.push((key, severity, text));
        if let Some((_, down)) = self.monero.step(signals.monero_down) {
            node(&mut emit, "Monero node (monerod)", down);
        }
        if let Some(tari_down) = signals.tari_down {
            if let Some((_, down)) = self.tari.step(tari_down) {
                node(&mut emit, "Tari base node", down);
            }
        }
        if let Some((_, rejected)) = self.rejected.step(signals.workers_rejected) {
            if rejected {
                emit(
                    EventKey::WorkersRejected,
                    Severity::Critical,
                    "⛔ Workers rejected: xmrig-proxy stopped, miners fail over to their backup pools"
                        .into(),
                );
            } else {
                emit(
                    EventKey::WorkersReadmitted,
                    Severity::Info,
                    "✅ Workers readmitted: xmrig-proxy started again".into(),
                );
            }
        }
        if signals.newly_released {
            emit(
                EventKey::SyncFinished,
                Severity::Info,
                "✅ Chains synced: miners released".into(),
            );
        }
        if let Some(unhealthy) = &signals.unhealthy {
            self.step_containers(unhealthy, &mut emit);
        }
        if let Some(percent) = signals.disk_percent {
            // Whole percents, as the dashboard's badge and `df` show them.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = percent.clamp(0.0, 100.0).floor() as u64;
            let level = DiskLevel::next(self.disk, whole);
            if let Some(before) = self.disk.replace(level) {
                if before != level {
                    let (severity, text) = match level {
                        DiskLevel::Critical => (
                            Severity::Critical,
                            format!("🛑 Data disk {whole}% full (critical)"),
                        ),
                        DiskLevel::Warn => {
                            (Severity::Warning, format!("⚠️ Data disk {whole}% full"))
                        }
                        DiskLevel::Ok => (
                            Severity::Info,
                            format!("✅ Data disk back to {whole}% full"),
                        ),
                    };
                    emit(EventKey::DiskSpace, severity, text);
                }
            }
        }
        if let Some((_, healthy)) = self.db.step(signals.db_healthy) {
            if healthy {
                emit(
                    EventKey::DbUnhealthy,
                    Severity::Info,
                    "✅ History database takes writes again".into(),
                );
            } else {
                emit(
                    EventKey::DbUnhealthy,
                    Severity::Warning,
                    "⚠️ History database does not take writes".into(),
                );
            }
        }
        if let Some(low) = signals.hashrate_low {
            if let Some((_, low)) = self.hashrate_low.step(low) {
                if low {
                    emit(
                        EventKey::HashrateLow,
                        Severity::Warning,
                        "⚠️ Hashrate too low for the XvB tier asked for".into(),
                    );
                } else {
                    emit(
                        EventKey::HashrateLow,
                        Severity::Info,
                        "✅ Hashrate sustains the XvB tier again".into(),
                    );
                }
            }
        }
        raw.into_iter()
            .map(|(key, severity, text)| self.alert(key, severity, &text, at_unix))
            .collect()
    }

    fn step_containers(
        &mut self,
        unhealthy: &BTreeMap<String, String>,
        emit: &mut impl FnMut(EventKey, Severity, String),
    ) {
        // The first reading is the baseline: every container in it starts confirmed.
        let first = !self.containers_seen;
        self.containers_seen = true;
        let names: BTreeSet<String> = self
            .containers
            .keys()
            .chain(unhealthy.keys())
            .cloned()
            .collect();
        for name in names {
            let bad = unhealthy.get(&name);
            let monitor = self.containers.entry(name.clone()).or_insert_with(|| {
                let mut m = Confirmed::new(CONFIRM_READINGS);
                if !first {
                    // Seen healthy (absent from the set) until now.
                    m.value = Some(false);
                }
                m
            });
            if first {
                monitor.value = Some(bad.is_some());
                continue;
            }
            match monitor.step(bad.is_some()) {
                Some((_, true)) => {
                    let verdict = bad.map_or("unhealthy", String::as_str);
                    emit(
                        EventKey::ContainerUnhealthy,
                        Severity::Warning,
                        format!("⚠️ Container {name} is {verdict}"),
                    );
                }
                Some((_, false)) => emit(
                    EventKey::ContainerUnhealthy,
                    Severity::Info,
                    format!("✅ Container {name} recovered"),
                ),
                None => {}
            }
        }
        // Forget containers healthy and confirmed so: the map stays as small as the problems.
        self.containers
            .retain(|_, m| m.value == Some(true) || m.candidate.is_some());
    }

    fn alert(&self, key: EventKey, severity: Severity, text: &str, at_unix: i64) -> Alert {
        Alert {
            key,
            severity,
            text: compose(self.host.as_deref(), text, key),
            host: self.host.clone(),
            at_unix,
        }
    }
}

fn node(emit: &mut impl FnMut(EventKey, Severity, String), name: &str, down: bool) {
    if down {
        emit(
            EventKey::NodeDown,
            Severity::Critical,
            format!("🔴 {name} is down"),
        );
    } else {
        emit(
            EventKey::NodeRecovered,
            Severity::Info,
            format!("✅ {name} recovered"),
        );
    }
}

/// An alert's text per the wire contract: one line, `[HOST] ` first when a host is set,
/// ` #<key>` last.
pub fn compose(host: Option<&str>, body: &str, key: EventKey) -> String {
    let body = one_line(body);
    match host {
        Some(host) => format!("[{host}] {body} #{key}"),
        None => format!("{body} #{key}"),
    }
}

/// `text` with every control character (newlines included) turned into a space.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;
