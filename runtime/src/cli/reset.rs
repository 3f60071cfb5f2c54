//! `pithead reset-dashboard`: clears the dashboard's history and state with the dashboard
//! stopped, then starts it again.
//!
//! The reference wipes the dashboard's whole data directory (and p2pool's). Here some files
//! survive: `runtime-state.json`, whose release latch must never revert except on an operator's
//! endpoint change (domain §3: clearing a chart is not one, and losing the latch would hold the
//! miners again whenever a node is a block behind at start); a pending `rearm-sync-gate`
//! marker, an apply's request the runtime has not taken yet; and the operator's own files the
//! docs say to put there: the CA files `XVB_CA_FILE` / `ALERTS_CA_FILE` name (`/data/NAME`),
//! and any certificate (`*.pem`, `*.crt`). Without its CA file the runtime refuses to start.
//! p2pool's volume is left alone: it is p2pool's sidechain state, not the dashboard's.

use std::fs;
use std::io;
use std::path::PathBuf;

use super::compose::{ComposeError, ComposeRunner};
use super::env_file::EnvFile;
use super::stack_dir::{StackDir, StackError, REARM_MARKER};

/// The runtime's snapshot (the release latch), kept across a reset.
pub const SNAPSHOT: &str = "runtime-state.json";

/// Names in the data directory a reset always keeps.
pub const KEEP: &[&str] = &[SNAPSHOT, REARM_MARKER];

/// The `.env` keys that name an operator's file, by its path in the dashboard container.
pub const OPERATOR_FILE_KEYS: &[&str] = &["XVB_CA_FILE", "ALERTS_CA_FILE"];

/// Where `data/dashboard` is mounted in the dashboard container.
const DATA_MOUNT: &str = "/data/";

/// Endings of the operator's certificate files, kept whether or not a key names them.
const CERTIFICATE_ENDINGS: &[&str] = &[".pem", ".crt"];

/// The exact question reset-dashboard asks.
pub const QUESTION: &str = "Clear the dashboard's history? (y/N): ";

/// Why a reset stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// The stack was never rendered here.
    #[error("no .env in {0}: nothing to reset (run `pithead apply` first)")]
    NoStack(PathBuf),
    /// `.env` (which names the operator's files to keep) cannot be read.
    #[error("cannot tell which files are the operator's, so nothing was removed: {0}")]
    Env(#[source] StackError),
    /// The dashboard could not be stopped, so nothing was removed.
    #[error("cannot stop the dashboard, so nothing was removed: {0}")]
    Stop(#[source] ComposeError),
    /// Removing a file failed part-way.
    #[error("cannot remove {path}: {source}")]
    Remove {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The history is cleared but the dashboard did not start.
    #[error(
        "the history was cleared but the dashboard did not start again: {0}; run `pithead up`"
    )]
    Start(#[source] ComposeError),
}

/// The names in the data directory of the operator's files `env` points the runtime at (the
/// first component under `/data/`, so a file in a subdirectory keeps its directory).
pub fn operator_files(env: &EnvFile) -> Vec<String> {
    OPERATOR_FILE_KEYS
        .iter()
        .filter_map(|key| env.get(key))
        .filter_map(|path| path.trim().strip_prefix(DATA_MOUNT))
        .filter_map(|rest| rest.split('/').find(|part| !part.is_empty()))
        .filter(|name| !matches!(*name, "." | ".."))
        .map(str::to_owned)
        .collect()
}

fn is_certificate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CERTIFICATE_ENDINGS.iter().any(|end| lower.ends_with(end))
}

/// What a reset removes from a data directory holding `names` (sorted): everything but
/// [`KEEP`], the operator's certificate files and `operator` (see [`operator_files`]).
pub fn plan(names: &[String], operator: &[String]) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .filter(|n| !KEEP.contains(&n.as_str()) && !is_certificate(n) && !operator.contains(n))
        .cloned()
        .collect();
    out.sort();
    out
}

/// Stops the dashboard, clears its data except what [`plan`] keeps, starts it again; returns
/// what went.
pub fn reset_dashboard(
    stack: &StackDir,
    compose: &dyn ComposeRunner,
) -> Result<Vec<String>, ResetError> {
    let env = match stack.read_env() {
        Ok(Some(env)) => env,
        Ok(None) => return Err(ResetError::NoStack(stack.root().to_owned())),
        Err(e) => return Err(ResetError::Env(e)),
    };
    let operator = operator_files(&env);
    compose
        .run(&["stop", "dashboard"])
        .map_err(ResetError::Stop)?;
    let data = stack.dashboard_data();
    let remove = |path: PathBuf| -> Result<(), ResetError> {
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(ResetError::Remove { path, source }),
        };
        let result = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        result.map_err(|source| ResetError::Remove { path, source })
    };
    let names: Vec<String> = match fs::read_dir(&data) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(ResetError::Remove { path: data, source }),
    };
    let removed = plan(&names, &operator);
    for name in &removed {
        remove(data.join(name))?;
    }
    fs::create_dir_all(&data).map_err(|source| ResetError::Remove {
        path: data.clone(),
        source,
    })?;
    compose
        .run(&["up", "-d", "dashboard"])
        .map_err(ResetError::Start)?;
    Ok(removed)
}
