//! What survives a restart: the latch snapshot and the dashboard's history.

pub mod history;
pub mod snapshot;

pub use history::{HistoryError, HistoryReader, HistoryWriter};
pub use snapshot::{Rearm, Snapshot, SnapshotStore, StoreError};
