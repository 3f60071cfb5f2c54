//! Failover: reject workers while a required node is down, readmit when every required node
//! has recovered.

use std::time::Duration;

use tokio::time::Instant;

use super::node_health::NodeHealth;

/// What the cycle saw of the nodes this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverObservation {
    /// monerod answered `get_info` with `status: OK` (BUSY counts as unreachable).
    pub monero_reachable: bool,
    /// The Tari base node answered gRPC at all (starting, migrating and syncing are reachable).
    /// Ignored when Tari is not part of the stack.
    pub tari_reachable: bool,
}

/// A change of the reject state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverEvent {
    /// Workers are now rejected (stop the reject container).
    Reject,
    /// Workers are now readmitted (start the reject container).
    Readmit,
}

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverDecision {
    /// Whether workers are rejected after this step.
    pub rejected: bool,
    /// The transition this step made, if any.
    pub event: Option<FailoverEvent>,
    /// monerod counts as down.
    pub monero_down: bool,
    /// Tari counts as down (shown even when Tari is not required).
    pub tari_down: bool,
}

/// Node health for monerod and Tari, combined into the reject decision.
#[derive(Debug, Clone)]
pub struct Failover {
    down_after: Duration,
    recovery_after: Duration,
    monero: NodeHealth,
    tari: NodeHealth,
    tari_enabled: bool,
    tari_required: bool,
    rejected: bool,
}

impl Failover {
    /// `tari_enabled`: a Tari node is part of the stack; `tari_required`: its outage rejects workers.
    pub fn new(
        down_after: Duration,
        recovery_after: Duration,
        tari_enabled: bool,
        tari_required: bool,
    ) -> Self {
        Self {
            down_after,
            recovery_after,
            monero: NodeHealth::new(down_after, recovery_after),
            tari: NodeHealth::new(down_after, recovery_after),
            tari_enabled,
            tari_required,
            rejected: false,
        }
    }

    /// Restores which nodes were down when the previous process stopped, so a restart during
    /// an outage does not readmit workers until the nodes have recovered.
    pub fn restore(&mut self, monero_down: bool, tari_down: bool) {
        if monero_down {
            self.monero = NodeHealth::restored_down(self.down_after, self.recovery_after);
        }
        if tari_down && self.tari_enabled {
            self.tari = NodeHealth::restored_down(self.down_after, self.recovery_after);
        }
        self.rejected = self.any_required_down();
    }

    /// monerod, or a required Tari, counts as down.
    fn any_required_down(&self) -> bool {
        let tari_counts = self.tari_enabled && self.tari_required;
        self.monero.is_down() || (tari_counts && self.tari.is_down())
    }

    /// Feeds one observation taken at `now`.
    pub fn step(&mut self, observation: FailoverObservation, now: Instant) -> FailoverDecision {
        self.monero.step(observation.monero_reachable, now);
        if self.tari_enabled {
            self.tari.step(observation.tari_reachable, now);
        }
        let any_required_down = self.any_required_down();
        let event = match (self.rejected, any_required_down) {
            (false, true) => Some(FailoverEvent::Reject),
            (true, false) => Some(FailoverEvent::Readmit),
            _ => None,
        };
        self.rejected = any_required_down;
        FailoverDecision {
            rejected: self.rejected,
            event,
            monero_down: self.monero.is_down(),
            tari_down: self.tari_enabled && self.tari.is_down(),
        }
    }

    /// Whether workers are rejected.
    pub fn rejected(&self) -> bool {
        self.rejected
    }

    /// monerod's health tracker.
    pub fn monero(&self) -> &NodeHealth {
        &self.monero
    }

    /// Tari's health tracker.
    pub fn tari(&self) -> &NodeHealth {
        &self.tari
    }
}
