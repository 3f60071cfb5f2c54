//! [`Trace`]: what happened in a simulated world, in virtual time, in a replayable order.
//!
//! The trace is the evidence of a run: the invariant checker's failures print its tail, the
//! timeline draws it, and its hash proves determinism (a seed run twice must hash the same).
//! Only facts that are a function of the seed go in: virtual time, fault names, the runtime's
//! published decisions, the docker calls the fake saw. Never wall time, never addresses of
//! objects, never anything iterated from a randomly seeded hash map.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A fault or steering action applied by the world (partition, mode change, crash, …).
    Fault,
    /// The modelled reachability of a node changed (the runtime's point of view).
    Reach,
    /// The runtime published a decision change (released, rejected, held, node down/up).
    Runtime,
    /// The runtime's sync progress for a chain changed.
    Sync,
    /// The docker fake answered a start/stop call.
    Docker,
    /// A probe of `/api/state` (only failures and the first success are recorded).
    Probe,
    /// The runtime host started (first start or restart) or stopped.
    Host,
    /// A note from a scenario or the schedule.
    Note,
}

impl EventKind {
    /// The kind's name as shown in traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fault => "fault",
            Self::Reach => "reach",
            Self::Runtime => "runtime",
            Self::Sync => "sync",
            Self::Docker => "docker",
            Self::Probe => "probe",
            Self::Host => "host",
            Self::Note => "note",
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Virtual time since the start of the simulation.
    #[serde(rename = "at_ms", serialize_with = "as_millis")]
    pub at: Duration,
    /// What kind of event.
    pub kind: EventKind,
    /// Short subject, e.g. `monerod`, `xmrig-proxy`, `released`.
    pub subject: String,
    /// Details, e.g. `down`, `start 204`, `partition runtime<->monerod`.
    pub detail: String,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>12} {:<7} {:<14} {}",
            format_time(self.at),
            self.kind.name(),
            self.subject,
            self.detail
        )
    }
}

/// `1d02:03:04.500` style virtual time.
pub fn format_time(at: Duration) -> String {
    let ms = at.as_millis();
    let (secs, ms) = (ms / 1000, ms % 1000);
    let (mins, secs) = (secs / 60, secs % 60);
    let (hours, mins) = (mins / 60, mins % 60);
    let (days, hours) = (hours / 24, hours % 24);
    if days > 0 {
        format!("{days}d{hours:02}:{mins:02}:{secs:02}.{ms:03}")
    } else {
        format!("{hours:02}:{mins:02}:{secs:02}.{ms:03}")
    }
}

/// The ordered record of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    events: Vec<Event>,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an event.
    pub fn push(
        &mut self,
        at: Duration,
        kind: EventKind,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.events.push(Event {
            at,
            kind,
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    /// Every event, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Events of one kind.
    pub fn of_kind(&self, kind: EventKind) -> impl Iterator<Item = &Event> + '_ {
        self.events.iter().filter(move |e| e.kind == kind)
    }

    /// The last `n` events rendered one per line.
    pub fn tail(&self, n: usize) -> String {
        let start = self.events.len().saturating_sub(n);
        let mut out = String::new();
        for event in &self.events[start..] {
            out.push_str(&event.to_string());
            out.push('\n');
        }
        out
    }

    /// A stable 64-bit hash of every event (FNV-1a over a canonical encoding): equal for two
    /// runs of the same seed, on any machine, with any std version.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv::default();
        for e in &self.events {
            h.write(
                &u64::try_from(e.at.as_nanos())
                    .unwrap_or(u64::MAX)
                    .to_le_bytes(),
            );
            h.write(e.kind.name().as_bytes());
            h.write(&[0]);
            h.write(e.subject.as_bytes());
            h.write(&[0]);
            h.write(e.detail.as_bytes());
            h.write(&[0xff]);
        }
        h.0
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for event in &self.events {
            writeln!(f, "{event}")?;
        }
        Ok(())
    }
}

/// FNV-1a, 64 bit: tiny, fixed, and independent of std's (randomly keyed) hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_field_and_the_order() {
        let mut a = Trace::new();
        a.push(Duration::from_secs(1), EventKind::Fault, "monerod", "down");
        a.push(
            Duration::from_secs(2),
            EventKind::Fault,
            "monerod",
            "synced",
        );
        let mut b = a.clone();
        assert_eq!(a.hash(), b.hash());
        b.push(Duration::from_secs(3), EventKind::Note, "x", "");
        assert_ne!(a.hash(), b.hash());
        let mut c = Trace::new();
        c.push(
            Duration::from_secs(2),
            EventKind::Fault,
            "monerod",
            "synced",
        );
        c.push(Duration::from_secs(1), EventKind::Fault, "monerod", "down");
        assert_ne!(a.hash(), c.hash());
        let mut d = Trace::new();
        d.push(Duration::from_secs(1), EventKind::Fault, "monero", "ddown");
        d.push(
            Duration::from_secs(2),
            EventKind::Fault,
            "monerod",
            "synced",
        );
        assert_ne!(a.hash(), d.hash());
    }

    #[test]
    fn times_render_with_days() {
        assert_eq!(
            format_time(Duration::from_millis(3_723_500)),
            "01:02:03.500"
        );
        assert_eq!(
            format_time(Duration::from_secs(86_400 + 61)),
            "1d00:01:01.000"
        );
    }
}
