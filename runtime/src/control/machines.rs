//! The control machines of one runtime, stepped together once per cycle.
//!
//! [`Machines::decide`] is the one decision of a cycle: the readings and `now` in, the gate's
//! and the failover's verdicts and the owed docker calls out. The cycle reduces the clients'
//! replies to [`Readings`] before calling it, so nothing here knows a wire format.

use tokio::time::Instant;

use super::{
    ChainReading, ContainerAction, ContainerPlan, Failover, FailoverDecision, FailoverObservation,
    GateObservation, GateView, Latch, SyncGate,
};
use crate::config::Config;

/// What one cycle read from the nodes. A `None` chain reading means the node gave no fresh
/// reading this cycle, and so counts as unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readings {
    /// monerod's reading.
    pub monero: Option<ChainReading>,
    /// Tari's reading (ignored when Tari is not part of the stack).
    pub tari: Option<ChainReading>,
    /// p2pool's network height, when read.
    pub p2pool_network_height: Option<u64>,
}

/// Everything one decision produced.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The gate's verdict.
    pub gate: GateView,
    /// The failover's verdict.
    pub failover: FailoverDecision,
    /// Docker calls owed.
    pub owed: Vec<ContainerAction>,
}

/// The control machines of one runtime.
#[derive(Debug, Clone)]
pub struct Machines {
    /// The sync gate.
    pub gate: SyncGate,
    /// Node health + failover.
    pub failover: Failover,
    /// Desired container states.
    pub plan: ContainerPlan,
    tari_enabled: bool,
}

impl Machines {
    /// Machines for `config`, with the latch from the snapshot.
    pub fn new(config: &Config, released: bool) -> Self {
        let latch = if released {
            Latch::Released
        } else {
            Latch::Armed
        };
        Self::with_latch(config, latch)
    }

    /// Machines for `config`, with the latch, part by part, from the snapshot.
    pub fn with_latch(config: &Config, latch: Latch) -> Self {
        let tari_enabled = config.tari_grpc_address.is_some();
        Self {
            gate: SyncGate::with_latch(tari_enabled, config.tari_required, latch),
            failover: Failover::new(
                config.node_down_after,
                config.node_recovery_after,
                tari_enabled,
                config.tari_required,
            ),
            plan: ContainerPlan::new(
                config
                    .sync_gate_containers
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                config.reject_workers_container.to_string(),
            ),
            tari_enabled,
        }
    }

    /// Decides from one cycle's readings, taken at `now`. Pure.
    pub fn decide(&mut self, readings: &Readings, now: Instant) -> Decision {
        let gate = self.gate.step(&GateObservation {
            monero: readings.monero,
            tari: readings.tari,
            p2pool_network_height: readings.p2pool_network_height,
        });
        let failover = self.failover.step(
            FailoverObservation {
                monero_reachable: readings.monero.is_some(),
                tari_reachable: self.tari_enabled && readings.tari.is_some(),
            },
            now,
        );
        let owed = self.plan.step(gate.holding, failover.rejected);
        Decision {
            gate,
            failover,
            owed,
        }
    }
}
