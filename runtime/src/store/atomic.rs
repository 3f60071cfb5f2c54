//! The JSON files of the data directory (the snapshot and the alert outbox): durable, atomic
//! writes, so a reader (or a restart after a crash) sees the old file or the new one, never half
//! of one; and reads that move a corrupt file aside instead of failing forever on it.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::StoreError;

/// Reads the JSON document at `path`: `Ok(None)` when there is no file. A file that does not
/// parse is moved aside (`<name>.json.corrupt`, kept as evidence) and reported as
/// [`StoreError::Corrupt`], so the next start begins afresh instead of failing on it again.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_owned(),
                action: "read",
                source,
            })
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            let moved_to = path.with_extension("json.corrupt");
            fs::rename(path, &moved_to).map_err(|source| StoreError::Io {
                path: path.to_owned(),
                action: "move aside",
                source,
            })?;
            Err(StoreError::Corrupt {
                path: path.to_owned(),
                moved_to,
                reason: e.to_string(),
            })
        }
    }
}

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
