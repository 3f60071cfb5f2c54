//! One sink's outbox: what is owed to it, when to try next, and what was lost.
//!
//! Sans-IO, driven by the sink's task: [`Outbox::push`] each alert the sink carries,
//! [`Outbox::next`] for the attempt due now, [`Outbox::on_result`] with how it went, and
//! [`Outbox::wake_at`] for when to ask again. Deliveries go in order, one at a time: a
//! recovery never overtakes its outage, and while the sink fails, the whole queue waits on one
//! capped exponential backoff.
//!
//! Bounds ([`OutboxLimits::default`]): at most 200 alerts queued (a new one beyond that drops
//! the oldest, counted); retries after 5 s, doubling to at most 5 min; an alert still
//! undelivered 1 h after it was queued is given up (counted); at most 10 messages per rolling
//! minute, the 10th folding everything still queued into one summary (`… and K more: …
//! #summary`). Every alert pushed ends up sent, dropped, or still queued.
//!
//! Time is `tokio::time::Instant` (virtual under turmoil and in paused tests). What survives a
//! restart is [`SavedOutbox`]: each undelivered alert with the wall time it was queued at, so
//! its age, and so its give-up, carry over; the backoff and the rate window start afresh.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::event::{Alert, EventKey};
use super::machine::compose;
use crate::alerts::SendError;

/// An outbox's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Alerts queued at most; a push beyond drops the oldest.
    pub capacity: usize,
    /// Messages per [`OutboxLimits::window`] at most.
    pub per_window: usize,
    /// The rate limit's rolling window.
    pub window: Duration,
    /// The first retry's delay; each failure in a row doubles it.
    pub first_backoff: Duration,
    /// The retry delay's cap.
    pub max_backoff: Duration,
    /// An alert's age at which it is given up.
    pub give_up_after: Duration,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            capacity: 200,
            per_window: 10,
            window: Duration::from_secs(60),
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
            give_up_after: Duration::from_secs(3_600),
        }
    }
}

impl OutboxLimits {
    /// The delay after the `failures`-th failure in a row (1-based): 5 s, 10 s, … 300 s.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// What an outbox has done since start, and what it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounters {
    /// Alerts delivered (each alert a summary carried counts).
    pub sent: u64,
    /// Failed attempts (each is retried unless its alerts age out).
    pub retried: u64,
    /// Alerts lost: pushed out by the bound or given up by age.
    pub dropped: u64,
    /// Alerts waiting now.
    pub queued: u64,
    /// The last failed attempt's class (`HTTP 502`, `timeout`, `connection error`), cleared
    /// by a delivery.
    pub last_error: Option<String>,
}

/// One message to hand to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// What to send.
    pub alert: Alert,
    /// The queued alerts it carries (one, or every one a summary folds).
    ids: Vec<u64>,
}

impl Attempt {
    /// How many queued alerts this message carries.
    pub fn carries(&self) -> usize {
        self.ids.len()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    alert: Alert,
    since: Instant,
    /// Age already accumulated before `since` (in an earlier process).
    carried: Duration,
}

impl Entry {
    fn age(&self, now: Instant) -> Duration {
        self.carried + now.saturating_duration_since(self.since)
    }
}

/// One sink's outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    limits: OutboxLimits,
    entries: VecDeque<Entry>,
    next_id: u64,
    in_flight: Option<Vec<u64>>,
    failures: u32,
    retry_at: Option<Instant>,
    /// When the messages of the rolling window were sent.
    window: VecDeque<Instant>,
    counters: OutboxCounters,
}

impl Outbox {
    /// An empty outbox.
    pub fn new(limits: OutboxLimits) -> Self {
        Self {
            limits,
            entries: VecDeque::new(),
            next_id: 0,
            in_flight: None,
            failures: 0,
            retry_at: None,
            window: VecDeque::new(),
            counters: OutboxCounters::default(),
        }
    }

    /// The bounds.
    pub fn limits(&self) -> &OutboxLimits {
        &self.limits
    }

    /// Queues `alert` at `now`; beyond the bound the oldest alert not being sent is dropped.
    pub fn push(&mut self, alert: Alert, now: Instant) {
        self.enqueue(alert, now, Duration::ZERO);
        self.bound();
    }

    fn enqueue(&mut self, alert: Alert, since: Instant, carried: Duration) {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push_back(Entry {
            id,
            alert,
            since,
            carried,
        });
    }

    fn bound(&mut self) {
        while self.entries.len() > self.limits.capacity {
            let victim = self
                .entries
                .iter()
                .position(|e| !self.is_in_flight(e.id))
                .unwrap_or(0);
            self.entries.remove(victim);
            self.counters.dropped += 1;
        }
        self.counters.queued = self.entries.len() as u64;
    }

    fn is_in_flight(&self, id: u64) -> bool {
        self.in_flight.as_ref().is_some_and(|ids| ids.contains(&id))
    }

    /// Gives up alerts that have reached the give-up age at `now` (not while being sent).
    fn expire(&mut self, now: Instant) {
        let give_up = self.limits.give_up_after;
        let before = self.entries.len();
        let in_flight = self.in_flight.clone().unwrap_or_default();
        self.entries
            .retain(|e| in_flight.contains(&e.id) || e.age(now) < give_up);
        self.counters.dropped += (before - self.entries.len()) as u64;
        self.counters.queued = self.entries.len() as u64;
    }

    fn prune_window(&mut self, now: Instant) {
        while self
            .window
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.limits.window)
        {
            self.window.pop_front();
        }
    }

    /// The attempt due at `now`, if any: none while one is in flight, during a backoff, or
    /// while the rate window is full. The window's last message folds every queued alert into
    /// one summary when more than one waits.
    pub fn next(&mut self, now: Instant) -> Option<Attempt> {
        if self.in_flight.is_some() {
            return None;
        }
        self.expire(now);
        if self.entries.is_empty() || self.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        self.prune_window(now);
        if self.window.len() >= self.limits.per_window {
            return None;
        }
        let last_slot = self.window.len() + 1 >= self.limits.per_window;
        let attempt = if last_slot && self.entries.len() > 1 {
            let alerts: Vec<&Alert> = self.entries.iter().map(|e| &e.alert).collect();
            Attempt {
                alert: summary(&alerts),
                ids: self.entries.iter().map(|e| e.id).collect(),
            }
        } else {
            let head = self.entries.front()?;
            Attempt {
                alert: head.alert.clone(),
                ids: vec![head.id],
            }
        };
        self.window.push_back(now);
        self.in_flight = Some(attempt.ids.clone());
        Some(attempt)
    }

    /// Records how `attempt` went at `now`.
    pub fn on_result(&mut self, attempt: &Attempt, result: Result<(), SendError>, now: Instant) {
        self.in_flight = None;
        match result {
            Ok(()) => {
                let before = self.entries.len();
                self.entries.retain(|e| !attempt.ids.contains(&e.id));
                self.counters.sent += (before - self.entries.len()) as u64;
                self.failures = 0;
                self.retry_at = None;
                self.counters.last_error = None;
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                self.counters.retried += 1;
                self.retry_at = Some(now + self.limits.backoff(self.failures));
                self.counters.last_error = Some(e.to_string());
            }
        }
        self.counters.queued = self.entries.len() as u64;
    }

    /// When to call [`Outbox::next`] again (`None`: nothing queued, or an attempt in flight;
    /// a push or a result is the next event then).
    pub fn wake_at(&self, now: Instant) -> Option<Instant> {
        if self.in_flight.is_some() || self.entries.is_empty() {
            return None;
        }
        let mut ready = now;
        if let Some(at) = self.retry_at {
            ready = ready.max(at);
        }
        let live: Vec<&Instant> = self
            .window
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < self.limits.window)
            .collect();
        if live.len() >= self.limits.per_window {
            let frees = *live[live.len() - self.limits.per_window] + self.limits.window;
            ready = ready.max(frees);
        }
        // Wake for the oldest alert's give-up too, so the counters tell the truth on time.
        let give_up = self
            .entries
            .iter()
            .map(|e| now + self.limits.give_up_after.saturating_sub(e.age(now)))
            .min();
        Some(give_up.map_or(ready, |g| g.min(ready)))
    }

    /// The counters.
    pub fn counters(&self) -> &OutboxCounters {
        &self.counters
    }

    /// The alerts queued, oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &Alert> {
        self.entries.iter().map(|e| &e.alert)
    }

    /// What must survive a restart: every undelivered alert (in flight too) with the wall
    /// time it was queued at, given the wall time `wall_ms` of `now`.
    pub fn saved(&self, now: Instant, wall_ms: u64) -> SavedOutbox {
        SavedOutbox {
            entries: self
                .entries
                .iter()
                .map(|e| SavedEntry {
                    alert: e.alert.clone(),
                    queued_at_unix_ms: wall_ms
                        .saturating_sub(u64::try_from(e.age(now).as_millis()).unwrap_or(u64::MAX)),
                })
                .collect(),
        }
    }

    /// An outbox holding `saved`'s alerts at `now` (wall time `wall_ms`): each keeps the age
    /// it had (a wall clock set back gives age zero, never a negative one), within the bound.
    pub fn restore(limits: OutboxLimits, saved: SavedOutbox, now: Instant, wall_ms: u64) -> Self {
        let mut outbox = Self::new(limits);
        for entry in saved.entries {
            let carried = Duration::from_millis(wall_ms.saturating_sub(entry.queued_at_unix_ms));
            outbox.enqueue(entry.alert, now, carried);
        }
        outbox.bound();
        outbox
    }
}

/// An outbox as it survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedOutbox {
    /// The undelivered alerts, oldest first.
    pub entries: Vec<SavedEntry>,
}

/// One undelivered alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedEntry {
    /// The alert.
    pub alert: Alert,
    /// When it was first queued, epoch ms.
    pub queued_at_unix_ms: u64,
}

/// One message for `alerts` (at least two, oldest first): the first one's words, then how
/// many more and of which kinds, keeping the wire contract (`[HOST] `, ` #summary`).
fn summary(alerts: &[&Alert]) -> Alert {
    let first = alerts[0];
    let host = first.host.clone();
    let mut body = first.text.as_str();
    if let Some(h) = &host {
        body = body.strip_prefix(&format!("[{h}] ")).unwrap_or(body);
    }
    let tag = format!(" #{}", first.key);
    let body = body.strip_suffix(&tag).unwrap_or(body);
    let mut kinds: Vec<EventKey> = Vec::new();
    for alert in &alerts[1..] {
        if !kinds.contains(&alert.key) {
            kinds.push(alert.key);
        }
    }
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let text = format!(
        "{body} … and {} more: {}",
        alerts.len() - 1,
        kinds.join(", ")
    );
    Alert {
        key: EventKey::Summary,
        severity: alerts
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(first.severity),
        text: compose(host.as_deref(), &text, EventKey::Summary),
        host,
        at_unix: alerts
            .iter()
            .map(|a| a.at_unix)
            .max()
            .unwrap_or(first.at_unix),
    }
}

#[cfg(test)]
mod tests;
