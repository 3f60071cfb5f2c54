//! The liveness heartbeat: when to ping `HEALTHCHECKS_PING_URL`, and what to log about it.
//!
//! Sans-IO, stepped after each cycle. A cycle is **healthy** when it recorded no error (no
//! docker call refused, the snapshot written, no switch failed): the heartbeat says "the
//! runtime is running and doing its job", so a failing cycle never pings and the monitor's
//! grace period runs out. At most one ping per [`HEARTBEAT_INTERVAL`]; the first goes out at
//! once; the interval restarts only after a 2xx, so a failed ping is retried the next cycle.
//! The operator hears once when pings start failing and once when they recover.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::alerts::SendError;

/// The least time between two successful pings.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);

/// A line the heartbeat asks to be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeartbeatLog {
    /// Pings started failing (warning), with the first failure's class.
    StartedFailing(String),
    /// Pings land again (info).
    Recovered,
}

/// The heartbeat's state as `/api/state` and `/metrics` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeartbeatStatus {
    /// A heartbeat is configured.
    pub enabled: bool,
    /// The last ping landed (`None` before the first).
    pub ok: Option<bool>,
    /// Pings that landed since start.
    pub sent: u64,
    /// Pings that failed since start.
    pub failed: u64,
    /// The last failure's class, while failing.
    pub last_error: Option<String>,
}

/// The heartbeat's state across cycles.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    last_ok: Option<Instant>,
    in_flight: bool,
    status: HeartbeatStatus,
}

impl Heartbeat {
    /// A heartbeat that has not pinged yet.
    pub fn new() -> Self {
        Self {
            status: HeartbeatStatus {
                enabled: true,
                ..HeartbeatStatus::default()
            },
            ..Self::default()
        }
    }

    /// Whether to ping now, after a cycle that was `healthy`; `true` marks a ping in flight
    /// until [`Heartbeat::on_result`].
    pub fn due(&mut self, healthy: bool, now: Instant) -> bool {
        let waited = self
            .last_ok
            .is_none_or(|at| now.saturating_duration_since(at) >= HEARTBEAT_INTERVAL);
        let due = healthy && !self.in_flight && waited;
        self.in_flight |= due;
        due
    }

    /// Records how the ping went at `now`; returns the line to log, if any.
    pub fn on_result(
        &mut self,
        result: Result<(), SendError>,
        now: Instant,
    ) -> Option<HeartbeatLog> {
        self.in_flight = false;
        let was_failing = self.status.ok == Some(false);
        match result {
            Ok(()) => {
                self.last_ok = Some(now);
                self.status.ok = Some(true);
                self.status.sent += 1;
                self.status.last_error = None;
                was_failing.then_some(HeartbeatLog::Recovered)
            }
            Err(e) => {
                self.status.ok = Some(false);
                self.status.failed += 1;
                self.status.last_error = Some(e.to_string());
                (!was_failing).then(|| HeartbeatLog::StartedFailing(e.to_string()))
            }
        }
    }

    /// The state to show.
    pub fn status(&self) -> &HeartbeatStatus {
        &self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn pings_at_once_then_at_most_once_a_minute_while_healthy() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new();
        // Cycles every 30 s, all healthy, every ping landing.
        let mut pinged = Vec::new();
        for s in (0..=300).step_by(30) {
            if hb.due(true, at(t0, s)) {
                pinged.push(s);
                assert_eq!(hb.on_result(Ok(()), at(t0, s)), None);
            }
        }
        assert_eq!(pinged, [0, 60, 120, 180, 240, 300]);
        assert_eq!(hb.status().sent, 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_cycle_never_pings() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new();
        for s in (0..=600).step_by(30) {
            assert!(!hb.due(false, at(t0, s)));
        }
        assert!(hb.due(true, at(t0, 630)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_ping_is_retried_next_cycle_with_one_warning_and_one_info() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new();
        assert!(hb.due(true, t0));
        hb.on_result(Ok(()), t0);
        let mut logs = Vec::new();
        let mut pinged = Vec::new();
        for s in (30..=300).step_by(30) {
            let now = at(t0, s);
            if hb.due(true, now) {
                pinged.push(s);
                // The endpoint answers 503 until 200 s.
                let result = if s < 200 {
                    Err(SendError::Status(503))
                } else {
                    Ok(())
                };
                logs.extend(hb.on_result(result, now));
            }
        }
        // 60 s after the last success, then every cycle while failing, then the minute again.
        assert_eq!(pinged, [60, 90, 120, 150, 180, 210, 270]);
        assert_eq!(
            logs,
            [
                HeartbeatLog::StartedFailing("HTTP 503".into()),
                HeartbeatLog::Recovered
            ]
        );
        assert_eq!(hb.status().failed, 5);
        assert_eq!(hb.status().ok, Some(true));
    }

    #[tokio::test(start_paused = true)]
    async fn one_ping_in_flight_at_a_time() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new();
        assert!(hb.due(true, t0));
        assert!(!hb.due(true, at(t0, 120)), "a second ping while one hangs");
        hb.on_result(Err(SendError::Timeout), at(t0, 130));
        assert!(hb.due(true, at(t0, 150)));
        assert_eq!(hb.status().last_error.as_deref(), Some("timeout"));
    }
}
