//! `pithead setup`: the first `config.json`, from a few answers or from a file, validated
//! before it is written (atomically, mode 600: it may hold credentials).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::config_error::ConfigError;
use super::stack_dir::{write_atomic, StackError};
use super::validate;

/// The operator's answers to the interactive questions.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// `monero.wallet_address`.
    pub monero_wallet: String,
    /// `tari.wallet_address`; blank turns Tari off.
    pub tari_wallet: String,
    /// `p2pool.pool`; blank keeps the default.
    pub pool: String,
    /// `monero.mode`; blank keeps the default (local).
    pub monero_mode: String,
    /// `monero.remote.host` when remote.
    pub remote_host: String,
    /// `monero.remote.rpc_port` when remote; blank keeps the default.
    pub remote_port: String,
    /// `dashboard.auth.password`; blank means no login.
    pub dashboard_password: String,
}

impl std::fmt::Debug for Answers {
    /// The password never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("monero_wallet", &self.monero_wallet)
            .field("tari_wallet", &self.tari_wallet)
            .field("pool", &self.pool)
            .field("monero_mode", &self.monero_mode)
            .field("remote_host", &self.remote_host)
            .field("remote_port", &self.remote_port)
            .field("dashboard_password", &"***")
            .finish()
    }
}

/// Why setup wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The source file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration does not validate (one problem per line).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigError>),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] StackError),
}

/// The minimal document for `answers`: only what differs from the defaults is written, so
/// later defaults still reach the operator.
pub fn document(answers: &Answers) -> Value {
    let trim = |s: &str| s.trim().to_owned();
    let mut doc = json!({ "monero": { "wallet_address": trim(&answers.monero_wallet) } });
    if answers.tari_wallet.trim().is_empty() {
        doc["tari"] = json!({ "mode": "off" });
        doc["dashboard"] = json!({ "tari_required": false });
    } else {
        doc["tari"] = json!({ "wallet_address": trim(&answers.tari_wallet) });
    }
    if !answers.pool.trim().is_empty() {
        doc["p2pool"] = json!({ "pool": trim(&answers.pool) });
    }
    if !answers.monero_mode.trim().is_empty() {
        doc["monero"]["mode"] = json!(trim(&answers.monero_mode));
    }
    if answers.monero_mode.trim() == "remote" {
        doc["monero"]["remote"] = json!({ "host": trim(&answers.remote_host) });
        if let Ok(port) = answers.remote_port.trim().parse::<u16>() {
            doc["monero"]["remote"]["rpc_port"] = json!(port);
        } else if !answers.remote_port.trim().is_empty() {
            // Kept as text so validation names the key and the value.
            doc["monero"]["remote"]["rpc_port"] = json!(trim(&answers.remote_port));
        }
    }
    if !answers.dashboard_password.is_empty() {
        doc["dashboard"]["auth"] = json!({ "password": answers.dashboard_password });
    }
    doc
}

/// Validates `text` and writes it to `path` atomically, mode 600.
pub fn write_config(path: &Path, text: &str) -> Result<(), SetupError> {
    validate::load(text).map_err(SetupError::Invalid)?;
    write_atomic(path, text.as_bytes(), 0o600)?;
    Ok(())
}

/// `setup --from FILE`: the file's text, validated, written to `path`.
pub fn from_file(source: &Path, path: &Path) -> Result<(), SetupError> {
    let text = std::fs::read_to_string(source).map_err(|e| SetupError::Read {
        path: source.to_owned(),
        source: e,
    })?;
    write_config(path, &text)
}
