//! The stack's `.env`: an ordered list of `KEY=value` lines that compose reads, parsed back by
//! the next render and apply (to preserve secrets and to diff).

use std::collections::BTreeMap;

/// `.env` keys whose values are credentials (or, for the onions, private addresses): shown as
/// changed, never printed.
pub const SECRET_ENV_KEYS: &[&str] = &[
    "MONERO_RPC_PASSWORD",
    "MONERO_LOCAL_RPC_PASSWORD",
    "PROXY_AUTH_TOKEN",
    "WALLET_RPC_PASSWORD",
    "DASHBOARD_AUTH_HASH",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHAT_ID",
    "NTFY_URL",
    "NTFY_TOKEN",
    "NOTIFY_WEBHOOK_URLS",
    "NOTIFY_WEBHOOK_SECRET",
    "HEALTHCHECKS_PING_URL",
    "P2POOL_ONION",
    "MONERO_ONION",
    "TARI_ONION",
];

/// Whether `.env` key `key` holds a credential.
pub fn is_secret_env(key: &str) -> bool {
    SECRET_ENV_KEYS.contains(&key)
}

/// A `.env` document, in write order.
#[derive(Clone, Default)]
pub struct EnvFile {
    entries: Vec<(String, String)>,
    /// The 1-based line each key was read from (parsed files only), for messages that must
    /// point at a line without showing it.
    lines: BTreeMap<String, usize>,
}

impl PartialEq for EnvFile {
    /// The same entries in the same order (where they were read from does not count).
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for EnvFile {}

impl std::fmt::Debug for EnvFile {
    /// Secret values print as `***`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| {
                let shown = if is_secret_env(k) { "***" } else { v.as_str() };
                (k, shown)
            }))
            .finish()
    }
}

/// Why a `.env` cannot be read or written. Never shows a value: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A line that is not `KEY=value`.
    #[error(".env line {line}: expected KEY=value")]
    Syntax {
        /// 1-based line number (the line itself may hold a secret: never shown).
        line: usize,
    },
    /// A value `.env` cannot carry: a single quote would end the quoted value early (compose
    /// would read a different value, or none), a control character would end the line.
    #[error(
        "{key} holds a single quote or a control character, which a .env value cannot carry; \
         nothing was written"
    )]
    Unwritable {
        /// The key (its value is not shown).
        key: String,
    },
}

/// Whether `value` can be written to a `.env` line and read back unchanged by compose.
pub fn is_writable(value: &str) -> bool {
    !value.chars().any(|c| c == '\'' || c.is_control())
}

fn needs_quotes(value: &str) -> bool {
    !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.,:/@+%-".contains(c))
}

impl EnvFile {
    /// Sets `key` (replacing an earlier value, keeping its position).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The 1-based line `key` was read from, when this file was parsed.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The entries as a map (for compose interpolation).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries.iter().cloned().collect()
    }

    /// The secret values present (non-empty), for leak checks.
    pub fn secret_values(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(k, v)| is_secret_env(k) && !v.is_empty() && v != "placeholder")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The file's text. A value outside `[A-Za-z0-9_.,:/@+%-]` is single-quoted, which compose
    /// takes literally (no `$` substitution). A value with a single quote or a control
    /// character cannot be written so that compose reads it back: refused, naming the key.
    pub fn to_text(&self) -> Result<String, EnvError> {
        let mut out = String::from(
            "# Written by `pithead render` from config.json. Edit config.json, not this file.\n",
        );
        for (k, v) in &self.entries {
            if !is_writable(v) {
                return Err(EnvError::Unwritable { key: k.clone() });
            }
            if needs_quotes(v) {
                out.push_str(&format!("{k}='{v}'\n"));
            } else {
                out.push_str(&format!("{k}={v}\n"));
            }
        }
        Ok(out)
    }

    /// Parses a `.env` (what [`Self::to_text`] writes, plus `"double"` quotes and comments).
    /// Values are taken as they stand (an unbalanced quote stays in the value): what is kept
    /// from them is checked where it is kept.
    pub fn parse(text: &str) -> Result<Self, EnvError> {
        let mut file = EnvFile::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or(EnvError::Syntax { line: i + 1 })?;
            let key = key.trim().trim_start_matches("export ").trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(EnvError::Syntax { line: i + 1 });
            }
            let value = value.trim();
            let value = if let Some(v) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
            {
                v.to_owned()
            } else if let Some(v) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                v.replace("\\\"", "\"").replace("\\\\", "\\")
            } else {
                value.to_owned()
            };
            file.set(key, value);
            file.lines.insert(key.to_owned(), i + 1);
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_including_quoted_values() {
        let mut env = EnvFile::default();
        env.set("A", "plain-1.2:3");
        env.set("B", "");
        env.set("C", "$2b$10$abc/def");
        env.set("D", "two words");
        let text = env.to_text().unwrap();
        assert!(text.contains("C='$2b$10$abc/def'\n"), "{text}");
        assert_eq!(EnvFile::parse(&text).unwrap(), env);
    }

    #[test]
    fn debug_output_hides_secret_values() {
        let mut env = EnvFile::default();
        env.set("PROXY_AUTH_TOKEN", "tok-4711");
        env.set("P2POOL_FLAGS", "--mini");
        let shown = format!("{env:?}");
        assert!(
            !shown.contains("tok-4711") && shown.contains("--mini"),
            "{shown}"
        );
    }

    #[test]
    fn a_value_env_cannot_carry_is_refused_naming_the_key_only() {
        for bad in ["ab'c", "'x", "two\nlines", "tab\there"] {
            let mut env = EnvFile::default();
            env.set("A", "fine");
            env.set("PROXY_AUTH_TOKEN", bad);
            let err = env.to_text().unwrap_err();
            assert_eq!(
                err,
                EnvError::Unwritable {
                    key: "PROXY_AUTH_TOKEN".into()
                }
            );
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn parsed_keys_know_their_line() {
        let env = EnvFile::parse("# head\nA=1\n\nB='x\nA=2\n").unwrap();
        assert_eq!(env.line("A"), Some(5), "the line whose value counts");
        assert_eq!(env.line("B"), Some(4));
        assert_eq!(
            env.get("B"),
            Some("'x"),
            "an unbalanced quote stays in the value"
        );
        assert_eq!(env.line("C"), None);
    }

    #[test]
    fn a_bad_line_names_its_number_not_its_content() {
        let err = EnvFile::parse("A=1\nsecret-without-equals\n").unwrap_err();
        assert_eq!(err.to_string(), ".env line 2: expected KEY=value");
    }
}
