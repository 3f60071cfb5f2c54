//! Alerts: which changes of debounced state are worth telling the operator about, and how
//! each sink's deliveries are paced.
//!
//! The event vocabulary ([`Alert`], [`EventKey`], [`Severity`]) is shared by the sans-IO
//! machines here and by the sinks at the edge (`crate::alerts`), which only deliver.
//! [`AlertMachine`] turns a cycle's signals into alerts.

mod event;
pub mod heartbeat;
pub mod machine;
pub mod outbox;

pub use event::{Alert, EventKey, Severity};
pub use heartbeat::{Heartbeat, HeartbeatLog, HeartbeatStatus, HEARTBEAT_INTERVAL};
pub use machine::{AlertMachine, DiskLevel, Signals};
pub use outbox::{Attempt, Outbox, OutboxCounters, OutboxLimits, SavedEntry, SavedOutbox};
