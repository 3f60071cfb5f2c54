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

use crate::failure::Invariant;
use crate::model::Reach;

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
    /// A request reached an alert sink or the heartbeat endpoint.
    Alert,
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
            Self::Alert => "alert",
            Self::Note => "note",
        }
    }
}

/// What happened, typed: the timeline and the summaries match on this, never on text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A fault or steering action on `target` (a role or host name), e.g. `down`,
    /// `partition runtime<->monerod`.
    Fault {
        /// What the fault was applied to.
        target: String,
        /// The fault, as shown.
        action: String,
    },
    /// The modelled reachability of `node` (`monero`, `tari`) changed.
    Reach {
        /// The node.
        node: &'static str,
        /// Its new reachability.
        reach: Reach,
    },
    /// The runtime's first published cycle (of this process).
    FirstCycle {
        /// The latch.
        released: bool,
        /// The gate holds.
        held: bool,
        /// Workers rejected.
        rejected: bool,
    },
    /// The release latch changed (`false` = re-held, which an invariant forbids).
    Latch {
        /// Released now.
        released: bool,
    },
    /// The gate started or stopped holding.
    Gate {
        /// Holding now.
        held: bool,
    },
    /// Workers were rejected or readmitted.
    Workers {
        /// Rejected now.
        rejected: bool,
    },
    /// The runtime counts `node` as down or recovered.
    NodeDown {
        /// The node (`monero`, `tari`).
        node: String,
        /// Down now.
        down: bool,
    },
    /// A cycle reported errors after a clean one.
    CycleErrors {
        /// How many.
        count: usize,
    },
    /// The runtime's sync progress for `chain` changed.
    Sync {
        /// `monero` or `tari`.
        chain: &'static str,
        /// Percent.
        percent: u8,
    },
    /// The docker fake answered a call.
    Docker {
        /// The container.
        container: String,
        /// `start`, `stop`, …
        verb: String,
        /// HTTP status answered.
        status: u16,
    },
    /// A periodic `GET /api/state` failed.
    ProbeFailed {
        /// Why.
        error: String,
        /// The failure was expected (the runtime was down or cut off).
        excused: bool,
    },
    /// The runtime's process started (`number` counts every start of the world).
    ProcessStart {
        /// 1 for the first start.
        number: u64,
    },
    /// A request reached a recording sink.
    Sink {
        /// Which sink.
        sink: pithead_fakes::sinks::SinkClass,
        /// The alert's event key (`None`: a heartbeat, or a request the fake could not read).
        event: Option<String>,
        /// How it was answered: `200`, `503`, `closed`, `hang`.
        answer: String,
        /// Whether the sink acknowledged it (2xx).
        delivered: bool,
    },
    /// The runtime's process was killed.
    Crashed,
    /// The runtime's process was started again.
    Restarted,
    /// A note from the world, a scenario or the schedule.
    Note {
        /// Short subject.
        subject: String,
        /// Text.
        detail: String,
    },
    /// An invariant failed here.
    Failed {
        /// Which.
        invariant: Invariant,
        /// What was seen.
        message: String,
    },
}

impl What {
    /// The kind of event.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Fault { .. } => EventKind::Fault,
            Self::Reach { .. } => EventKind::Reach,
            Self::FirstCycle { .. }
            | Self::Latch { .. }
            | Self::Gate { .. }
            | Self::Workers { .. }
            | Self::NodeDown { .. }
            | Self::CycleErrors { .. } => EventKind::Runtime,
            Self::Sync { .. } => EventKind::Sync,
            Self::Docker { .. } => EventKind::Docker,
            Self::ProbeFailed { .. } => EventKind::Probe,
            Self::ProcessStart { .. } | Self::Crashed | Self::Restarted => EventKind::Host,
            Self::Sink { .. } => EventKind::Alert,
            Self::Note { .. } | Self::Failed { .. } => EventKind::Note,
        }
    }

    /// The subject as traces show it (`monerod`, `latch`, `xmrig-proxy`, …).
    pub fn subject(&self) -> &str {
        match self {
            Self::Fault { target, .. } => target,
            Self::Reach { node, .. } | Self::Sync { chain: node, .. } => node,
            Self::FirstCycle { .. } | Self::CycleErrors { .. } => "cycle",
            Self::Latch { .. } => "latch",
            Self::Gate { .. } => "gate",
            Self::Workers { .. } => "workers",
            Self::NodeDown { node, .. } => node,
            Self::Docker { container, .. } => container,
            Self::Sink { sink, .. } => sink.as_str(),
            Self::ProbeFailed { .. } => "api/state",
            Self::ProcessStart { .. } | Self::Crashed | Self::Restarted => "runtime",
            Self::Note { subject, .. } => subject,
            Self::Failed { .. } => "FAILED",
        }
    }

    /// The details as traces show them (`down`, `start 204`, `released`, …).
    pub fn detail(&self) -> String {
        match self {
            Self::Fault { action, .. } => action.clone(),
            Self::Reach { reach, .. } => reach.name().to_owned(),
            Self::FirstCycle {
                released,
                held,
                rejected,
            } => format!("first cycle: released={released} held={held} rejected={rejected}"),
            Self::Latch { released } => if *released { "released" } else { "RE-HELD" }.to_owned(),
            Self::Gate { held } => if *held { "holding" } else { "open" }.to_owned(),
            Self::Workers { rejected } => {
                if *rejected { "rejected" } else { "readmitted" }.to_owned()
            }
            Self::NodeDown { down, .. } => if *down { "down" } else { "recovered" }.to_owned(),
            Self::CycleErrors { count } => format!("{count} error(s)"),
            Self::Sync { percent, .. } => format!("{percent}%"),
            Self::Docker { verb, status, .. } => format!("{verb} {status}"),
            Self::ProbeFailed { error, excused } => {
                format!(
                    "failed{}: {error}",
                    if *excused { " (excused)" } else { "" }
                )
            }
            Self::ProcessStart { number } => format!("process start #{number}"),
            Self::Crashed => "crashed".to_owned(),
            Self::Restarted => "restarted".to_owned(),
            Self::Sink { event, answer, .. } => {
                format!("{} {answer}", event.as_deref().unwrap_or("(no event)"))
            }
            Self::Note { detail, .. } => detail.clone(),
            Self::Failed { invariant, message } => format!("{invariant}: {message}"),
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Virtual time since the start of the simulation.
    pub at: Duration,
    /// What happened.
    pub what: What,
}

impl Event {
    /// What kind of event.
    pub fn kind(&self) -> EventKind {
        self.what.kind()
    }

    /// Short subject, e.g. `monerod`, `xmrig-proxy`, `latch`.
    pub fn subject(&self) -> &str {
        self.what.subject()
    }

    /// Details, e.g. `down`, `start 204`, `partition runtime<->monerod`.
    pub fn detail(&self) -> String {
        self.what.detail()
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = s.serialize_struct("Event", 4)?;
        out.serialize_field(
            "at_ms",
            &u64::try_from(self.at.as_millis()).unwrap_or(u64::MAX),
        )?;
        out.serialize_field("kind", &self.kind())?;
        out.serialize_field("subject", self.subject())?;
        out.serialize_field("detail", &self.detail())?;
        out.end()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>12} {:<7} {:<14} {}",
            format_time(self.at),
            self.kind().name(),
            self.subject(),
            self.detail()
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
    pub fn record(&mut self, at: Duration, what: What) {
        self.events.push(Event { at, what });
    }

    /// Appends a note.
    pub fn note(&mut self, at: Duration, subject: impl Into<String>, detail: impl Into<String>) {
        self.record(
            at,
            What::Note {
                subject: subject.into(),
                detail: detail.into(),
            },
        );
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
        self.events.iter().filter(move |e| e.kind() == kind)
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
            h.write(e.kind().name().as_bytes());
            h.write(&[0]);
            h.write(e.subject().as_bytes());
            h.write(&[0]);
            h.write(e.detail().as_bytes());
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

    fn fault(t: &mut Trace, secs: u64, target: &str, action: &str) {
        t.record(
            Duration::from_secs(secs),
            What::Fault {
                target: target.into(),
                action: action.into(),
            },
        );
    }

    #[test]
    fn hash_depends_on_every_field_and_the_order() {
        let mut a = Trace::new();
        fault(&mut a, 1, "monerod", "down");
        fault(&mut a, 2, "monerod", "synced");
        let mut b = a.clone();
        assert_eq!(a.hash(), b.hash());
        b.note(Duration::from_secs(3), "x", "");
        assert_ne!(a.hash(), b.hash());
        let mut c = Trace::new();
        fault(&mut c, 2, "monerod", "synced");
        fault(&mut c, 1, "monerod", "down");
        assert_ne!(a.hash(), c.hash());
        let mut d = Trace::new();
        fault(&mut d, 1, "monero", "ddown");
        fault(&mut d, 2, "monerod", "synced");
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
