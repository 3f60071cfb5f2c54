//! What survives a restart.

pub mod snapshot;

pub use snapshot::{Rearm, Snapshot, SnapshotStore, StoreError};
