//! The release latch snapshot, written atomically (temp file + fsync + rename + directory fsync)
//! so a crash leaves either the old or the new file, never half of one.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why the snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory cannot be used.
    #[error("{path}: {action} failed: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The snapshot exists but is not ours (it was moved aside).
    #[error("{path}: unreadable snapshot moved to {moved_to}: {reason}")]
    Corrupt {
        /// The snapshot file.
        path: PathBuf,
        /// Where it went.
        moved_to: PathBuf,
        /// Parser message.
        reason: String,
    },
}

/// The persisted runtime state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The sync gate's latch: every part released.
    pub miner_released: bool,
    /// While not released: only the Tari part of the gate is held (a Tari-only re-arm), so
    /// Monero's part stays released. Absent (false) in older snapshots; an older runtime that
    /// ignores it holds the whole gate, the safe side.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tari_part_held: bool,
    /// monerod counted as down (workers rejected for it).
    #[serde(default)]
    pub monero_down: bool,
    /// Tari counted as down.
    #[serde(default)]
    pub tari_down: bool,
    /// The XvB fraction last commanded, in parts per million (an integer so the snapshot
    /// compares exactly and a rewrite happens only on a real change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xvb_fraction_ppm: Option<u32>,
}

impl Snapshot {
    /// The persisted XvB fraction.
    pub fn xvb_fraction(&self) -> Option<f64> {
        self.xvb_fraction_ppm.map(|ppm| f64::from(ppm) / 1e6)
    }

    /// `fraction` (in `[0, 1]`) as stored.
    pub fn fraction_ppm(fraction: f64) -> u32 {
        // Clamped to [0, 1e6] first, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ppm = (fraction.clamp(0.0, 1.0) * 1e6).round() as u32;
        ppm
    }
}

/// An operator's request to re-arm the gate, left by `pithead apply` as a marker file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rearm {
    /// The Monero node endpoint changed: hold again until both chains are synced.
    All,
    /// Only the Tari endpoint changed.
    Tari,
}

/// The snapshot file in `DATA_DIR`.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

const FILE: &str = "runtime-state.json";
const REARM_MARKER: &str = "rearm-sync-gate";

impl SnapshotStore {
    /// A store in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The snapshot's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Reads the snapshot; `Ok(None)` on a first start. A corrupt file is moved aside and
    /// reported, so the caller starts held (the safe side) without losing the evidence.
    pub fn load(&self) -> Result<Option<Snapshot>, StoreError> {
        super::atomic::read_json(&self.path())
    }

    /// Writes the snapshot atomically.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let body = serde_json::to_vec_pretty(snapshot).map_err(|e| StoreError::Io {
            path: self.path(),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        super::atomic::write_atomic(&self.dir, &self.path(), &body)
    }

    /// The operator's pending re-arm, if any, left in place: the caller removes it with
    /// [`Self::clear_rearm`] only once the re-armed latch is saved, so a restart in between
    /// re-arms again instead of losing the request.
    pub fn pending_rearm(&self) -> Result<Option<Rearm>, StoreError> {
        let path = self.dir.join(REARM_MARKER);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Io {
                    path,
                    action: "read",
                    source,
                })
            }
        };
        Ok(Some(if text.trim() == "tari" {
            Rearm::Tari
        } else {
            Rearm::All
        }))
    }

    /// Removes the re-arm marker (none is fine), durably: the directory is synced, so a crash
    /// cannot bring back a request already honoured.
    pub fn clear_rearm(&self) -> Result<(), StoreError> {
        let path = self.dir.join(REARM_MARKER);
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
        if let Ok(dir) = fs::File::open(&self.dir) {
            dir.sync_all().map_err(|source| StoreError::Io {
                path: self.dir.clone(),
                action: "fsync",
                source,
            })?;
        }
        Ok(())
    }

    /// Takes (reads and removes) the operator's re-arm marker, if any. The runtime does not use
    /// this (see [`Self::pending_rearm`]); it is what the CLI's tests check a marker with.
    pub fn take_rearm(&self) -> Result<Option<Rearm>, StoreError> {
        let rearm = self.pending_rearm()?;
        if rearm.is_some() {
            self.clear_rearm()?;
        }
        Ok(rearm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_has_no_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SnapshotStore::new(dir.path()).load().unwrap(), None);
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().join("nested"));
        store
            .save(&Snapshot {
                miner_released: true,
                monero_down: true,
                tari_down: false,
                xvb_fraction_ppm: Some(420_000),
                ..Snapshot::default()
            })
            .unwrap();
        assert_eq!(
            store.load().unwrap(),
            Some(Snapshot {
                miner_released: true,
                monero_down: true,
                tari_down: false,
                xvb_fraction_ppm: Some(420_000),
                ..Snapshot::default()
            })
        );
        assert_eq!(store.load().unwrap().unwrap().xvb_fraction(), Some(0.42));
        let names: Vec<_> = fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE]);
    }

    #[test]
    fn corrupt_snapshot_is_moved_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        fs::write(store.path(), b"{\"miner_rel").unwrap();
        let err = store.load().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(dir.path().join("runtime-state.json.corrupt").exists());
        assert_eq!(store.load().unwrap(), None);
    }

    #[test]
    fn a_snapshot_from_an_older_version_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        fs::write(store.path(), br#"{"miner_released": true}"#).unwrap();
        let snapshot = store.load().unwrap().unwrap();
        assert!(snapshot.miner_released);
        assert!(!snapshot.monero_down);
        assert_eq!(snapshot.xvb_fraction(), None);
    }

    #[test]
    fn an_unreadable_snapshot_is_an_error_not_a_first_start() {
        // A first start may release as soon as the chains are synced; a snapshot that exists but
        // cannot be read must not pass for one (the cycle starts held and says why). A directory
        // in its place is unreadable whoever runs the test (root ignores file permissions).
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        fs::create_dir(store.path()).unwrap();
        let err = store.load().unwrap_err();
        assert!(
            matches!(err, StoreError::Io { action: "read", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(FILE), "{err}");
        assert!(store.path().is_dir(), "the evidence was moved or removed");
    }

    #[test]
    fn a_missing_rearm_marker_is_no_request_and_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        assert_eq!(store.take_rearm().unwrap(), None);
        fs::create_dir(dir.path().join(REARM_MARKER)).unwrap();
        let err = store.take_rearm().unwrap_err();
        assert!(
            matches!(err, StoreError::Io { action: "read", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(REARM_MARKER), "{err}");
        // Left in place, so the operator's request is not lost with the error.
        assert!(dir.path().join(REARM_MARKER).exists());
    }

    #[test]
    fn a_pending_rearm_stays_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        fs::write(dir.path().join(REARM_MARKER), "tari\n").unwrap();
        assert_eq!(store.pending_rearm().unwrap(), Some(Rearm::Tari));
        assert_eq!(
            store.pending_rearm().unwrap(),
            Some(Rearm::Tari),
            "reading the request removed it"
        );
        store.clear_rearm().unwrap();
        assert_eq!(store.pending_rearm().unwrap(), None);
        store.clear_rearm().unwrap();
    }

    #[test]
    fn a_tari_only_hold_round_trips_and_is_absent_from_a_plain_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        store.save(&Snapshot::default()).unwrap();
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains("tari_part_held"), "{text}");
        let held = Snapshot {
            tari_part_held: true,
            ..Snapshot::default()
        };
        store.save(&held).unwrap();
        assert_eq!(store.load().unwrap(), Some(held));
    }

    #[test]
    fn rearm_marker_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        assert_eq!(store.take_rearm().unwrap(), None);
        fs::write(dir.path().join(REARM_MARKER), "tari\n").unwrap();
        assert_eq!(store.take_rearm().unwrap(), Some(Rearm::Tari));
        assert_eq!(store.take_rearm().unwrap(), None);
        fs::write(dir.path().join(REARM_MARKER), "").unwrap();
        assert_eq!(store.take_rearm().unwrap(), Some(Rearm::All));
    }
}
