//! One node's health: debounce before "down", hysteresis before "recovered".

use std::time::Duration;

use tokio::time::Instant;

/// A transition of a node's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthEvent {
    /// Continuously unreachable for the down window, after having been up.
    WentDown,
    /// Continuously reachable for the recovery window, after having been down.
    Recovered,
}

/// Tracks one node's reachability over time.
///
/// A node is **down** once it has been unreachable for `down_after` without a break, and only if
/// it was ever reachable since start: a node that never answered is "not yet up", not down. It is
/// **recovered** once reachable for `recovery_after` without a break.
#[derive(Debug, Clone)]
pub struct NodeHealth {
    down_after: Duration,
    recovery_after: Duration,
    ever_up: bool,
    down: bool,
    unreachable_since: Option<Instant>,
    reachable_since: Option<Instant>,
}

impl NodeHealth {
    /// A node not yet seen.
    pub fn new(down_after: Duration, recovery_after: Duration) -> Self {
        Self {
            down_after,
            recovery_after,
            ever_up: false,
            down: false,
            unreachable_since: None,
            reachable_since: None,
        }
    }

    /// A node that was down when the previous process stopped (from the snapshot): it must
    /// recover for the full window again before it counts as healthy.
    pub fn restored_down(down_after: Duration, recovery_after: Duration) -> Self {
        Self {
            ever_up: true,
            down: true,
            ..Self::new(down_after, recovery_after)
        }
    }

    /// Feeds one observation taken at `now`.
    pub fn step(&mut self, reachable: bool, now: Instant) -> Option<HealthEvent> {
        if reachable {
            self.ever_up = true;
            self.unreachable_since = None;
            let since = *self.reachable_since.get_or_insert(now);
            if self.down && now.saturating_duration_since(since) >= self.recovery_after {
                self.down = false;
                return Some(HealthEvent::Recovered);
            }
            None
        } else {
            self.reachable_since = None;
            let since = *self.unreachable_since.get_or_insert(now);
            if self.ever_up && !self.down && now.saturating_duration_since(since) >= self.down_after
            {
                debug_assert!(now.saturating_duration_since(since) >= self.down_after);
                self.down = true;
                return Some(HealthEvent::WentDown);
            }
            None
        }
    }

    /// True while the node counts as down.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// True once the node has answered at least once since start.
    pub fn ever_up(&self) -> bool {
        self.ever_up
    }

    /// When the current unbroken run of failed observations began.
    pub fn unreachable_since(&self) -> Option<Instant> {
        self.unreachable_since
    }

    /// When the current unbroken run of good observations began.
    pub fn reachable_since(&self) -> Option<Instant> {
        self.reachable_since
    }
}
