//! What survives a restart: the latch snapshot, the dashboard's history, and the alerts still
//! owed to their sinks.

pub(crate) mod atomic;
pub mod history;
pub mod outbox;
pub mod snapshot;

pub use history::{HistoryError, HistoryReader, HistoryWriter};
pub use outbox::{OutboxStore, SavedOutboxes};
pub use snapshot::{Rearm, Snapshot, SnapshotStore, StoreError};
