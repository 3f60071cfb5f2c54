//! Sans-IO state machines: observations and `now` in, decisions out.
//!
//! Architecture invariant: nothing here awaits, reads a clock, or touches the network or disk.
//! The update cycle ([`crate::cycle`]) is the only driver.

pub mod alerts;
pub mod chain;
pub mod failover;
pub mod machines;
pub mod node_health;
pub mod plan;
pub mod sync_gate;
pub mod verdicts;
pub mod xvb;

pub use chain::{TariLastGood, TariStatus};
pub use failover::{Failover, FailoverDecision, FailoverEvent, FailoverObservation};
pub use machines::{Decision, Machines, Readings};
pub use node_health::{HealthEvent, NodeHealth};
pub use plan::{ContainerAction, ContainerPlan, Desired};
pub use sync_gate::{
    ChainProgress, ChainReading, GateObservation, GateView, Latch, ProgressState, SyncGate,
};
