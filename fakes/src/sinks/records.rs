//! What the sinks received: a bounded log of [`SinkRequest`]s and the queries over it.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::wire::{Parsed, SinkClass};

/// How a recorded request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// With this HTTP status.
    Answered {
        /// The status sent.
        status: u16,
    },
    /// The connection was closed without a reply.
    Closed,
    /// No reply was ever sent.
    Hang,
}

impl Outcome {
    /// Whether the sender was told the message arrived (a 2xx reply).
    pub fn delivered(self) -> bool {
        matches!(self, Outcome::Answered { status } if (200..300).contains(&status))
    }
}

/// One request that reached a sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkRequest {
    /// Arrival order, from 1, never reused (not even after a reset).
    pub seq: u64,
    /// Which sink.
    pub class: SinkClass,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query (the Telegram path carries the bot token).
    pub path: String,
    /// Every header, lower-case names (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The body (lossy UTF-8).
    pub body: String,
    /// Arrival, milliseconds on the fake's clock (tokio time: virtual under turmoil). The clock
    /// starts when the fake is created inside a runtime, else at its first request.
    pub at_ms: u64,
    /// The alert's event key, as its class carries it (see [`Parsed::event`]).
    pub event: Option<String>,
    /// Everything parsed from the request.
    pub parsed: Parsed,
    /// How the request breaks its sink's wire format (empty: it does not).
    pub problems: Vec<String>,
    /// How it was answered.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl SinkRequest {
    /// Whether the sender was told the message arrived.
    pub fn delivered(&self) -> bool {
        self.outcome.delivered()
    }
}

/// Which records to list (`GET /control/requests?class=ntfy&event=node_down&delivered=true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordQuery {
    /// Only this class.
    pub class: Option<SinkClass>,
    /// Only this event key.
    pub event: Option<String>,
    /// Only delivered (`true`) or only refused (`false`) requests.
    pub delivered: Option<bool>,
}

impl RecordQuery {
    /// Whether `r` is selected.
    pub fn matches(&self, r: &SinkRequest) -> bool {
        self.class.is_none_or(|c| c == r.class)
            && self
                .event
                .as_ref()
                .is_none_or(|e| r.event.as_ref() == Some(e))
            && self.delivered.is_none_or(|d| d == r.delivered())
    }
}

/// The log, bounded: past `cap`, the oldest record is dropped and counted.
#[derive(Debug)]
pub(super) struct Records {
    kept: VecDeque<SinkRequest>,
    cap: usize,
    dropped: u64,
    last_seq: u64,
}

impl Records {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            kept: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
            last_seq: 0,
        }
    }

    /// A fresh sequence number (also used for the ids the sinks hand out).
    pub(super) fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    pub(super) fn push(&mut self, mut r: SinkRequest) {
        r.seq = self.next_seq();
        if self.kept.len() == self.cap {
            self.kept.pop_front();
            self.dropped += 1;
        }
        self.kept.push_back(r);
    }

    pub(super) fn all(&self) -> Vec<SinkRequest> {
        self.kept.iter().cloned().collect()
    }

    pub(super) fn select(&self, q: &RecordQuery) -> Vec<SinkRequest> {
        self.kept.iter().filter(|r| q.matches(r)).cloned().collect()
    }

    pub(super) fn after(&self, seq: u64) -> Vec<SinkRequest> {
        // Kept in sequence order: the simulation asks on every step, usually for nothing new,
        // so find the first newer record instead of walking all of them.
        let first = self.kept.partition_point(|r| r.seq <= seq);
        self.kept.range(first..).cloned().collect()
    }

    pub(super) fn clear(&mut self) {
        self.kept.clear();
    }

    pub(super) fn len(&self) -> usize {
        self.kept.len()
    }

    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }
}
