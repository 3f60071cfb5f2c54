//! The alert outboxes' undelivered alerts (`DATA_DIR/alerts-outbox.json`), so a restart
//! re-delivers what was owed. Written atomically (temp file, fsync, rename, directory fsync),
//! mode 600: the file holds alert texts (host name, container names), never a secret.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::StoreError;
use crate::control::alerts::SavedOutbox;

const FILE: &str = "alerts-outbox.json";

/// Every sink's undelivered alerts, by the sink's label.
pub type SavedOutboxes = BTreeMap<String, SavedOutbox>;

/// The outbox file in `DATA_DIR`.
#[derive(Debug, Clone)]
pub struct OutboxStore {
    dir: PathBuf,
}

impl OutboxStore {
    /// A store in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Reads the outboxes; empty on a first start. A corrupt file is moved aside
    /// (`alerts-outbox.json.corrupt`) and reported: its alerts are lost, the runtime is not.
    pub fn load(&self) -> Result<SavedOutboxes, StoreError> {
        Ok(super::atomic::read_json(&self.path())?.unwrap_or_default())
    }

    /// Writes `outboxes` atomically, mode 600; with nothing owed, removes the file (so a data
    /// directory holds it only while an alert waits).
    pub fn save(&self, outboxes: &SavedOutboxes) -> Result<(), StoreError> {
        if outboxes.is_empty() {
            return self.remove();
        }
        let body = serde_json::to_vec(outboxes).map_err(|e| StoreError::Io {
            path: self.path(),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        super::atomic::write_atomic(&self.dir, &self.path(), &body)
    }

    fn remove(&self) -> Result<(), StoreError> {
        let path = self.path();
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(StoreError::Io {
                    path,
                    action: "remove",
                    source,
                })
            }
        }
        if let Ok(handle) = fs::File::open(&self.dir) {
            handle.sync_all().map_err(|source| StoreError::Io {
                path: self.dir.clone(),
                action: "fsync dir",
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::alerts::{Alert, EventKey, SavedEntry, Severity};

    fn saved() -> SavedOutboxes {
        BTreeMap::from([(
            "ntfy".to_owned(),
            SavedOutbox {
                entries: vec![SavedEntry {
                    alert: Alert {
                        key: EventKey::NodeDown,
                        severity: Severity::Critical,
                        text: "🔴 Monero node (monerod) is down #node_down".into(),
                        host: None,
                        at_unix: 1_700_000_000,
                    },
                    queued_at_unix_ms: 1_700_000_000_000,
                }],
            },
        )])
    }

    #[test]
    fn saved_outboxes_read_back_and_the_file_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = OutboxStore::new(dir.path().join("data"));
        assert_eq!(store.load().unwrap(), SavedOutboxes::new(), "a first start");
        store.save(&saved()).unwrap();
        assert_eq!(store.load().unwrap(), saved());
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        // Nothing owed any more: no file, and a start reads nothing.
        store.save(&SavedOutboxes::new()).unwrap();
        assert!(!store.path().exists());
        assert_eq!(store.load().unwrap(), SavedOutboxes::new());
        store.save(&SavedOutboxes::new()).unwrap();
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = OutboxStore::new(dir.path());
        fs::write(store.path(), b"{\"ntfy\": [garbage").unwrap();
        let err = store.load().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("alerts-outbox.json"), "{err}");
        assert!(!store.path().exists());
        assert!(dir.path().join("alerts-outbox.json.corrupt").exists());
        // And the next start begins empty.
        assert_eq!(store.load().unwrap(), SavedOutboxes::new());
    }
}
