//! Durable, atomic file writes shared by the snapshot and the alert outbox: a reader (or a
//! restart after a crash) sees the old file or the new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::StoreError;

/// Writes `body` to `path` in `dir` atomically; the temp file (and so the result) is mode 600.
pub(crate) fn write_atomic(dir: &Path, path: &Path, body: &[u8]) -> Result<(), StoreError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io {
            path,
            action,
            source,
        }
    };
    fs::create_dir_all(dir).map_err(io("create", dir))?;
    // `tempfile` creates the file owner-only (0600) on unix; the rename keeps the mode.
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io("create temp", dir))?;
    temp.write_all(body).map_err(io("write", temp.path()))?;
    temp.as_file()
        .sync_all()
        .map_err(io("fsync", temp.path()))?;
    temp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        action: "rename",
        source: e.error,
    })?;
    // The rename is durable only once the directory entry is.
    if let Ok(handle) = fs::File::open(dir) {
        handle.sync_all().map_err(io("fsync dir", dir))?;
    }
    Ok(())
}
