//! The stack directory on disk: where render writes, apply leaves its markers, and the
//! dashboard keeps its data (`data/dashboard`, mounted as the runtime's `DATA_DIR`).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::env_file::{EnvError, EnvFile};
use super::render::{Owner, Rendered};

/// The runtime's re-arm marker, as `store::snapshot` reads it from `DATA_DIR`.
pub const REARM_MARKER: &str = "rearm-sync-gate";

/// Left by an apply whose recreate did not finish; the next apply retries.
pub const APPLY_INCOMPLETE: &str = "apply-incomplete";

/// A file operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// An I/O error, naming the path and what was being done.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The existing `.env` is not a `.env`, or a value cannot be written to one.
    #[error("{path}: {source}")]
    Env {
        /// The path.
        path: PathBuf,
        /// The line or the key.
        #[source]
        source: EnvError,
    },
}

/// Which way the gate re-arms (the marker's content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RearmScope {
    /// The Monero endpoint changed: hold until both chains are synced again.
    All,
    /// Only the Tari endpoint changed.
    Tari,
}

/// A stack directory.
#[derive(Debug, Clone)]
pub struct StackDir {
    root: PathBuf,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StackError {
    let path = path.to_owned();
    move |source| StackError::Io {
        path,
        action,
        source,
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename, fsync
/// the directory) with permission `mode` set before the data is written.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StackError> {
    crate::store::atomic::write_file_atomic(path, bytes, mode).map_err(|e| StackError::Io {
        path: e.path,
        action: e.action,
        source: e.source,
    })
}

impl StackDir {
    /// The stack at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `.env`.
    pub fn env_path(&self) -> PathBuf {
        self.root.join(".env")
    }

    /// The runtime's `DATA_DIR` as seen from the host.
    pub fn dashboard_data(&self) -> PathBuf {
        self.root.join("data").join("dashboard")
    }

    /// The owner of the stack directory (the dashboard runs as it).
    pub fn owner(&self) -> Result<Owner, StackError> {
        let meta = fs::metadata(&self.root).map_err(io("read", &self.root))?;
        Ok(Owner {
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }

    /// The current `.env`, if there is one.
    pub fn read_env(&self) -> Result<Option<EnvFile>, StackError> {
        let path = self.env_path();
        match fs::read_to_string(&path) {
            Ok(text) => EnvFile::parse(&text)
                .map(Some)
                .map_err(|source| StackError::Env { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// Writes the rendered files: `.env` mode 600, the others 644; the data directories are
    /// created so the bind mounts exist.
    pub fn write(&self, rendered: &Rendered) -> Result<(), StackError> {
        // Checked before anything is touched: a value `.env` cannot carry writes nothing.
        let env = rendered.env.to_text().map_err(|source| StackError::Env {
            path: self.env_path(),
            source,
        })?;
        fs::create_dir_all(&self.root).map_err(io("create", &self.root))?;
        for dir in [self.dashboard_data(), self.root.join("data").join("tor")] {
            fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        }
        write_atomic(&self.env_path(), env.as_bytes(), 0o600)?;
        write_atomic(
            &self.root.join("Caddyfile"),
            rendered.caddyfile.as_bytes(),
            0o644,
        )?;
        write_atomic(
            &self.root.join("compose.yaml"),
            rendered.compose.as_bytes(),
            0o644,
        )?;
        Ok(())
    }

    /// Leaves the runtime's re-arm marker (taken at the runtime's next start).
    pub fn write_rearm(&self, scope: RearmScope) -> Result<(), StackError> {
        let dir = self.dashboard_data();
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let text = match scope {
            RearmScope::All => "all\n",
            RearmScope::Tari => "tari\n",
        };
        write_atomic(&dir.join(REARM_MARKER), text.as_bytes(), 0o644)
    }

    fn incomplete_path(&self) -> PathBuf {
        self.root.join(APPLY_INCOMPLETE)
    }

    /// Whether an earlier apply left its recreate unfinished.
    pub fn apply_incomplete(&self) -> bool {
        self.incomplete_path().exists()
    }

    /// Marks an apply as in progress (removed by [`Self::clear_apply_incomplete`] on success).
    pub fn mark_apply_incomplete(&self) -> Result<(), StackError> {
        write_atomic(
            &self.incomplete_path(),
            b"the last apply did not finish\n",
            0o644,
        )
    }

    /// Clears the marker after a finished recreate.
    pub fn clear_apply_incomplete(&self) -> Result<(), StackError> {
        match fs::remove_file(self.incomplete_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &self.incomplete_path())(e)),
        }
    }
}
