//! The stack's generated credentials: made once from the OS CSPRNG, then carried over
//! byte-for-byte from the previous `.env` on every later render.
//!
//! A carried-over value is checked first: a hand-edited `.env` may hold one that `.env` cannot
//! carry back (a quote) or that the containers would misread (a space, a `:` in an RPC login).
//! Such a value is refused, naming the key and its line, never the value.
//!
//! Onion addresses are not generated here: Tor derives each from the key it creates for the
//! hidden service, so the CLI only carries the address it was given (`placeholder` until then).

use super::env_file::EnvFile;
use super::validate::{MoneroMode, Settings};

/// Length of every generated password and token.
pub const SECRET_LEN: usize = 32;

/// bcrypt cost for the dashboard's basic-auth hash.
pub const BCRYPT_COST: u32 = 10;

/// Why a credential could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The OS CSPRNG failed.
    #[error("cannot read the OS random generator: {0}")]
    Entropy(String),
    /// bcrypt failed.
    #[error("cannot hash the dashboard password: {0}")]
    Hash(String),
    /// A value of the previous `.env` that would be kept is not one pithead can keep (a
    /// hand edit). The value is never shown.
    #[error(
        ".env{} {key} holds a value pithead cannot keep ({expected}); remove that line from \
         .env and run the command again: pithead writes a new value (nothing was written)",
        line.map(|n| format!(" line {n}:")).unwrap_or_else(|| ":".into())
    )]
    Kept {
        /// The `.env` key.
        key: &'static str,
        /// Its 1-based line in `.env`, when read from a file.
        line: Option<usize>,
        /// What a keepable value is made of.
        expected: &'static str,
    },
}

/// What a kept value of one key may hold.
#[derive(Debug, Clone, Copy)]
enum Keepable {
    /// A password or token: no whitespace, quotes, `\`, `$`, `:` or control characters (the
    /// rule config.json's passwords follow; a `:` would split an RPC login).
    Secret,
    /// An RPC login name.
    Login,
    /// An onion address (or `placeholder`).
    Onion,
}

impl Keepable {
    fn of(key: &str) -> Self {
        match key {
            "MONERO_RPC_USER" => Self::Login,
            k if k.ends_with("_ONION") => Self::Onion,
            _ => Self::Secret,
        }
    }

    fn allows(self, value: &str) -> bool {
        match self {
            Self::Secret => value
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"'\"\\$:".contains(c)),
            Self::Login => value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
            Self::Onion => value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Self::Secret => "no spaces, quotes, '\\', '$', ':' or control characters",
            Self::Login => "letters, digits, '_', '-' or '.'",
            Self::Onion => "an onion address: letters, digits and '.'",
        }
    }
}

/// The previous `.env`'s non-empty value of `key`, when pithead can keep it.
fn kept(old: Option<&EnvFile>, key: &'static str) -> Result<Option<String>, SecretError> {
    let Some(value) = old.and_then(|o| o.get(key)).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let rule = Keepable::of(key);
    if !rule.allows(value) {
        return Err(SecretError::Kept {
            key,
            line: old.and_then(|o| o.line(key)),
            expected: rule.expected(),
        });
    }
    Ok(Some(value.to_owned()))
}

/// Where fresh credentials come from: the OS in production, a counter in tests.
pub trait Entropy {
    /// `len` characters from `[A-Za-z0-9]`, uniformly.
    fn alphanumeric(&mut self, len: usize) -> Result<String, SecretError>;
    /// A bcrypt hash of `password` (salted, so a new call gives a new hash).
    fn bcrypt(&mut self, password: &str) -> Result<String, SecretError>;
}

/// The OS CSPRNG (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Entropy for OsEntropy {
    fn alphanumeric(&mut self, len: usize) -> Result<String, SecretError> {
        let mut out = String::with_capacity(len);
        let mut buf = [0u8; 64];
        while out.len() < len {
            getrandom::fill(&mut buf).map_err(|e| SecretError::Entropy(e.to_string()))?;
            // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
            for b in buf.iter().filter(|b| **b < 248) {
                if out.len() == len {
                    break;
                }
                out.push(ALPHANUMERIC[usize::from(*b % 62)] as char);
            }
        }
        Ok(out)
    }

    fn bcrypt(&mut self, password: &str) -> Result<String, SecretError> {
        bcrypt::hash(password, BCRYPT_COST).map_err(|e| SecretError::Hash(e.to_string()))
    }
}

/// Every credential the `.env` carries.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secrets {
    /// monerod's RPC login (empty on a remote node without one).
    pub monero_rpc_user: String,
    /// monerod's RPC password.
    pub monero_rpc_password: String,
    /// The local node's generated RPC password, kept while a remote node is configured so a
    /// switch back to the local node finds it again.
    pub monero_local_rpc_password: String,
    /// xmrig-proxy's API bearer token.
    pub proxy_auth_token: String,
    /// monero-wallet-rpc's password.
    pub wallet_rpc_password: String,
    /// bcrypt hash of the dashboard password (empty: no basic auth).
    pub dashboard_auth_hash: String,
    /// Onion addresses (`placeholder` until Tor has published them).
    pub p2pool_onion: String,
    /// See `p2pool_onion`.
    pub monero_onion: String,
    /// See `p2pool_onion`.
    pub tari_onion: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// The `.env` keys of the secrets `pithead` generates (or Tor publishes) once and keeps across
/// every apply; the other secret keys are copied from config.json and change with it.
pub const GENERATED_ENV_KEYS: &[&str] = &[
    "PROXY_AUTH_TOKEN",
    "WALLET_RPC_PASSWORD",
    "MONERO_LOCAL_RPC_PASSWORD",
    "P2POOL_ONION",
    "MONERO_ONION",
    "TARI_ONION",
];

/// The login a generated local-node RPC credential uses.
pub const DEFAULT_RPC_USER: &str = "pithead";

/// The credentials for `settings`: the previous `.env`'s where it has them, else fresh ones.
pub fn resolve(
    settings: &Settings,
    old: Option<&EnvFile>,
    entropy: &mut dyn Entropy,
) -> Result<Secrets, SecretError> {
    let mut keep_or_make = |key: &'static str| match kept(old, key)? {
        Some(v) => Ok(v),
        None => entropy.alphanumeric(SECRET_LEN),
    };
    let monero = &settings.config.monero;
    // The local node's password: kept under its own key; before that key existed, a local
    // stack's MONERO_RPC_PASSWORD was it.
    let was_local = old
        .and_then(|o| o.get("COMPOSE_PROFILES"))
        .is_some_and(|p| p.split(',').any(|p| p.trim() == "local_node"));
    let legacy_local = || {
        if was_local {
            kept(old, "MONERO_RPC_PASSWORD")
        } else {
            Ok(None)
        }
    };
    let monero_local_rpc_password = match kept(old, "MONERO_LOCAL_RPC_PASSWORD")? {
        Some(v) => v,
        None => match legacy_local()? {
            Some(v) => v,
            None => keep_or_make("MONERO_LOCAL_RPC_PASSWORD")?,
        },
    };
    let (monero_rpc_user, monero_rpc_password) = match settings.monero {
        MoneroMode::Local => (
            if monero.node_username.is_empty() {
                kept(old, "MONERO_RPC_USER")?.unwrap_or_else(|| DEFAULT_RPC_USER.into())
            } else {
                monero.node_username.clone()
            },
            if monero.node_password.is_empty() {
                monero_local_rpc_password.clone()
            } else {
                monero.node_password.clone()
            },
        ),
        // A remote node's login is the operator's, or none.
        MoneroMode::Remote { .. } => (monero.node_username.clone(), monero.node_password.clone()),
    };
    let proxy_auth_token = keep_or_make("PROXY_AUTH_TOKEN")?;
    let wallet_rpc_password = keep_or_make("WALLET_RPC_PASSWORD")?;
    let onion = |key: &'static str| {
        Ok::<_, SecretError>(kept(old, key)?.unwrap_or_else(|| "placeholder".into()))
    };
    let password = &settings.config.dashboard.auth.password;
    let dashboard_auth_hash = if password.is_empty() {
        String::new()
    } else {
        match old.and_then(|o| o.get("DASHBOARD_AUTH_HASH")) {
            // The same password keeps the same hash, so an unchanged config renders unchanged;
            // anything else (a hand-edited hash too) is hashed anew.
            Some(hash) if bcrypt::verify(password, hash).unwrap_or(false) => hash.to_owned(),
            _ => entropy.bcrypt(password)?,
        }
    };
    Ok(Secrets {
        monero_rpc_user,
        monero_rpc_password,
        monero_local_rpc_password,
        proxy_auth_token,
        wallet_rpc_password,
        dashboard_auth_hash,
        p2pool_onion: onion("P2POOL_ONION")?,
        monero_onion: onion("MONERO_ONION")?,
        tari_onion: onion("TARI_ONION")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_secrets_are_32_alphanumerics_and_differ() {
        let a = OsEntropy.alphanumeric(SECRET_LEN).unwrap();
        let b = OsEntropy.alphanumeric(SECRET_LEN).unwrap();
        assert_eq!(a.len(), SECRET_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }
}
