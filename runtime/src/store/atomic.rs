//! Durable, atomic file writes, so a reader (or a restart after a crash) sees the old file or the
//! new one, never half of one: the one implementation behind the data directory's JSON files
//! (the snapshot and the alert outbox) and the CLI's stack files. Also the JSON files' reads,
//! which move a corrupt file aside instead of failing forever on it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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

/// The step of [`write_file_atomic`] that failed: what was being done, to which path.
#[derive(Debug)]
pub(crate) struct AtomicWriteError {
    pub(crate) action: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) source: std::io::Error,
}

/// Writes `body` to `path` atomically: a temp file in the same directory, its permission `mode`
/// set before any byte is written, fsync, rename onto `path`, fsync of the directory (the
/// rename is durable only once the directory entry is).
pub(crate) fn write_file_atomic(
    path: &Path,
    body: &[u8],
    mode: u32,
) -> Result<(), AtomicWriteError> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let failed = |action: &'static str, at: &Path| {
        let path = at.to_owned();
        move |source| AtomicWriteError {
            action,
            path,
            source,
        }
    };
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).map_err(failed("create a temp file in", dir))?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(failed("set the mode of", temp.path()))?;
    temp.write_all(body).map_err(failed("write", temp.path()))?;
    temp.as_file()
        .sync_all()
        .map_err(failed("fsync", temp.path()))?;
    temp.persist(path).map_err(|e| AtomicWriteError {
        action: "rename a temp file onto",
        path: path.to_owned(),
        source: e.error,
    })?;
    if let Ok(handle) = fs::File::open(dir) {
        handle.sync_all().map_err(failed("fsync", dir))?;
    }
    Ok(())
}

/// Writes `body` to `path` in `dir` (created when missing) atomically, mode 600.
pub(crate) fn write_atomic(dir: &Path, path: &Path, body: &[u8]) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        path: dir.to_owned(),
        action: "create",
        source,
    })?;
    write_file_atomic(path, body, 0o600).map_err(|e| StoreError::Io {
        path: e.path,
        action: e.action,
        source: e.source,
    })
}
