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
#[derive(Clone, PartialEq, Eq, Default)]
pub struct EnvFile {
    entries: Vec<(String, String)>,
}

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

/// A line of a `.env` that is not `KEY=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".env line {line}: expected KEY=value")]
pub struct EnvParseError {
    /// 1-based line number (the line itself may hold a secret: never shown).
    pub line: usize,
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
    /// takes literally (no `$` substitution); validation keeps `'` out of every value.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Written by `pithead render` from config.json. Edit config.json, not this file.\n",
        );
        for (k, v) in &self.entries {
            // Validation keeps quotes out of every value; one here would end the value early.
            debug_assert!(!v.contains('\''), "{k} holds a single quote");
            if needs_quotes(v) {
                out.push_str(&format!("{k}='{v}'\n"));
            } else {
                out.push_str(&format!("{k}={v}\n"));
            }
        }
        out
    }

    /// Parses a `.env` (what [`Self::to_text`] writes, plus `"double"` quotes and comments).
    pub fn parse(text: &str) -> Result<Self, EnvParseError> {
        let mut file = EnvFile::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or(EnvParseError { line: i + 1 })?;
            let key = key.trim().trim_start_matches("export ").trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(EnvParseError { line: i + 1 });
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
        let text = env.to_text();
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
    fn a_bad_line_names_its_number_not_its_content() {
        let err = EnvFile::parse("A=1\nsecret-without-equals\n").unwrap_err();
        assert_eq!(err.to_string(), ".env line 2: expected KEY=value");
    }
}
