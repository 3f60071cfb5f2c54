//! The `pithead` CLI's library: `config.json` → validated settings → the rendered stack
//! (`.env`, Caddyfile, compose file) → apply guards → status verdicts, and the stack's
//! lifecycle around them (backup and restore, compose up / down, doctor).
//!
//! Architecture invariant: the decisions (validation, rendering, the `.env` diff and its
//! classification, the verdicts in [`crate::control::verdicts`]) are pure functions over values;
//! the disk ([`stack_dir`]), docker ([`compose`], [`status`]) and the terminal stay at the edges
//! so tier-1 tests cover every branch without docker.

pub mod apply;
pub mod backup;
pub mod compose;
pub mod compose_file;
pub mod config;
pub mod config_error;
pub mod diff;
pub mod doctor;
pub mod env_file;
pub mod hardening;
pub mod render;
pub mod reset;
pub mod restore;
pub mod secrets;
pub mod setup;
pub mod shape;
pub mod stack_dir;
pub mod status;
pub mod test_alert;
pub mod upgrade;
pub mod validate;

use std::path::Path;

pub use config_error::ConfigError;
pub use validate::{load, Settings};

/// Every problem with a `config.json`, one per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// Reads and validates the `config.json` at `path`.
pub fn load_file(path: &Path) -> Result<Settings, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        }])
    })?;
    load(&text).map_err(ConfigErrors)
}

/// What `pithead version` prints: `pithead X.Y.Z`.
pub fn version_line() -> String {
    format!("pithead {}", env!("CARGO_PKG_VERSION"))
}
