//! Why a `config.json` is refused: one variant per cause, each message naming the key and,
//! unless the key holds a credential, the value.

/// One problem in `config.json`. [`super::load`] reports every problem it finds, not only the
/// first, so an operator fixes the file in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The path.
        path: String,
        /// The OS's reason.
        reason: String,
    },
    /// Not JSON at all (serde_json's position, never the content).
    #[error("config.json is not valid JSON: {reason}")]
    NotJson {
        /// Where the parser stopped.
        reason: String,
    },
    /// The top level is not an object.
    #[error("config.json must hold a JSON object at the top level.")]
    NotObject,
    /// A key the schema does not know.
    #[error("unknown key \"{key}\" in config.json (nearest known key: \"{nearest}\").")]
    UnknownKey {
        /// The dotted path as written.
        key: String,
        /// The known key closest to it.
        nearest: String,
    },
    /// A value of the wrong JSON type, or out of the type's range.
    #[error("{key} must be {expected} (got {got}).")]
    WrongType {
        /// The dotted path.
        key: String,
        /// What the schema takes.
        expected: &'static str,
        /// The value as written (JSON), or `a hidden value` for a credential.
        got: String,
    },
    /// A string with a control character (newline, tab, escape ...).
    #[error("{key} contains a control character (got {got}).")]
    ControlCharacter {
        /// The dotted path.
        key: String,
        /// The escaped value, or `a hidden value`.
        got: String,
    },
    /// `monero.mode` is neither `local` nor `remote`.
    #[error("monero.mode must be \"local\" or \"remote\" (got \"{got}\").")]
    MoneroMode {
        /// The value as written.
        got: String,
    },
    /// `p2pool.pool` is not a sidechain.
    #[error("p2pool.pool must be \"main\", \"mini\", or \"nano\" (got \"{got}\").")]
    Pool {
        /// The value as written.
        got: String,
    },
    /// `tari.mode` is not one of its three values.
    #[error("tari.mode must be \"local\", \"remote\", or \"off\" (got \"{got}\").")]
    TariMode {
        /// The value as written.
        got: String,
    },
    /// Remote Monero without a host.
    #[error("monero.mode is \"remote\" but monero.remote.host is not set in config.json.")]
    MoneroRemoteHostMissing,
    /// Remote Tari without a host.
    #[error("tari.mode is \"remote\" but tari.remote.host is not set in config.json.")]
    TariRemoteHostMissing,
    /// A payout address is blank or still the template's placeholder.
    #[error("Missing required wallet addresses in config.json.")]
    MissingWallets,
    /// A Monero subaddress, which p2pool cannot pay.
    #[error(
        "monero.wallet_address is a subaddress (starts with 8): p2pool cannot pay subaddresses; \
         use the wallet's primary address (starts with 4)."
    )]
    Subaddress,
    /// Not the shape of a Monero primary or integrated address.
    #[error(
        "monero.wallet_address must be a Monero primary address: 95 base58 characters starting \
         with 4 (got \"{got}\")."
    )]
    NotMoneroAddress {
        /// The value as written.
        got: String,
    },
    /// Any other value outside what the key takes.
    #[error("{key} must be {expected} (got {got}).")]
    Invalid {
        /// The dotted path.
        key: String,
        /// What the key takes.
        expected: &'static str,
        /// The value as written (JSON).
        got: String,
    },
    /// A credential outside what the key takes; the value is never shown.
    #[error("{key} must be {expected} (value hidden).")]
    InvalidSecret {
        /// The dotted path.
        key: String,
        /// What the key takes.
        expected: &'static str,
    },
    /// A credential still holding the template's `PASTE_`/`YOUR_` placeholder.
    #[error("{key} still holds a placeholder (PASTE_/YOUR_); put the real value there.")]
    Placeholder {
        /// The dotted path.
        key: String,
    },
    /// Telegram switched on without the token and chat id.
    #[error(
        "telegram.enabled is true but telegram.bot_token and telegram.chat_id are not both set."
    )]
    TelegramIncomplete,
}

/// `"text"` for display in a message: JSON-escaped, so a control character shows as `\n`.
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"?\"".into())
}

/// The placeholder every secret reads as in messages.
pub(crate) const HIDDEN: &str = "a hidden value";
