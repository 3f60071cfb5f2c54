//! The alerts' own vocabulary (sections C and F): which sinks are configured, a sink going down
//! and coming back, what reached each sink, the counters, and that no secret leaks. A tier
//! without a driver for them says so ([`crate::driver::Tier`]'s defaults).

/// An alert sink (or the heartbeat's endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SinkClass {
    /// Telegram's `sendMessage`.
    Telegram,
    /// The webhook.
    Webhook,
    /// ntfy.
    Ntfy,
    /// healthchecks (the heartbeat).
    Healthchecks,
}

impl SinkClass {
    /// The alert sinks (not the heartbeat).
    pub const ALERTS: [SinkClass; 3] = [Self::Telegram, Self::Webhook, Self::Ntfy];

    /// The name `/api/state` and the fakes use (`telegram`, `webhook`, `ntfy`, `healthchecks`).
    pub fn wire(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
            Self::Healthchecks => "healthchecks",
        }
    }
}

/// An alert sink as the catalog names it (`Telegram`, `the webhook`, `ntfy`).
pub fn sink_named(word: &str) -> Result<SinkClass, String> {
    match word {
        "Telegram" => Ok(SinkClass::Telegram),
        "webhook" | "the webhook" => Ok(SinkClass::Webhook),
        "ntfy" => Ok(SinkClass::Ntfy),
        "healthchecks" => Ok(SinkClass::Healthchecks),
        other => Err(format!(
            "unknown sink {other:?} (expected Telegram, the webhook, ntfy or healthchecks)"
        )),
    }
}

/// A fact an alerts `Given` step sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFact {
    /// Alerts go to Telegram, a signed webhook and ntfy with a token, and the heartbeat pings
    /// healthchecks; every log line from here on is watched for their secrets.
    EverySink,
    /// The sink answers `503` from now on.
    SinkDown(SinkClass),
}

/// Something an alerts `When` step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertEvent {
    /// The sink answers again.
    SinkBack(SinkClass),
}

/// What an alerts `Then` step checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    /// Exactly `count` alerts with this event key were acknowledged by the sink (every alert
    /// sink when `None`).
    Reached {
        /// The event key (`node_down`, …).
        event: String,
        /// The sink, or every alert sink.
        sink: Option<SinkClass>,
        /// How many.
        count: usize,
    },
    /// Nothing reached the sink (not even an attempt), checked over a whole update cycle.
    NoneReached(SinkClass),
    /// `/api/state` counts `count` alerts `sent` / `retried` / `dropped` for the sink.
    Counted {
        /// The sink.
        sink: SinkClass,
        /// `sent`, `retried` or `dropped`.
        counter: String,
        /// The value.
        count: u64,
        /// At least `count` rather than exactly.
        at_least: bool,
    },
    /// `/api/state`'s `sent` counter for the sink equals the alerts the sink acknowledged.
    SentMatches(SinkClass),
    /// No configured secret appears in any log line, error, trace or `/api/state`.
    NoSecretLeaked,
}
