//! The alert sinks' configuration, read once from the environment.
//!
//! Blank means off: a sink whose URL is blank (or Telegram with `TELEGRAM_ENABLED` false) is
//! not built. Everything that is set is checked here, at start, and a bad value is a
//! [`ConfigError::Invalid`] naming the variable; the value it shows is `scheme://host` for a
//! URL and `***` for a token, a chat id or a secret, never the raw value.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::url::{shown, SinkUrl};
use crate::config::ConfigError;
use crate::control::alerts::EventKey;
use crate::io::Socks5Proxy;

/// What an error shows instead of a secret.
const HIDDEN: &str = "***";

/// Telegram's public API, when `TELEGRAM_API_BASE` is unset or blank.
pub const TELEGRAM_DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// Longest `ALERTS_HOST` / `HOST_IP` accepted (it prefixes every message).
pub const HOST_MAX_LEN: usize = 64;

/// Telegram's `sendMessage`, configured.
#[derive(Clone, PartialEq, Eq)]
pub struct TelegramConfig {
    /// `TELEGRAM_API_BASE` (default [`TELEGRAM_DEFAULT_API_BASE`]).
    pub api_base: SinkUrl,
    /// `TELEGRAM_BOT_TOKEN` (a secret: it is part of the request path).
    pub bot_token: String,
    /// `TELEGRAM_CHAT_ID` (never shown).
    pub chat_id: String,
    /// The events a `TELEGRAM_EVENT_<KEY>=false` turned off (Telegram only).
    pub muted: BTreeSet<EventKey>,
}

/// An ntfy topic, configured.
#[derive(Clone, PartialEq, Eq)]
pub struct NtfyConfig {
    /// `NTFY_URL`: the topic's URL (the topic name is a secret of sorts: never shown).
    pub url: SinkUrl,
    /// `NTFY_TOKEN`: sent as `Authorization: Bearer`, when set.
    pub token: Option<String>,
}

/// Every alert sink and the heartbeat, as configured. The default has every sink off.
///
/// Its `Debug` never shows a token, a chat id, a secret or a URL's path (URLs carry tokens).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Telegram, when `TELEGRAM_ENABLED` (with a token and a chat id).
    pub telegram: Option<TelegramConfig>,
    /// `NOTIFY_WEBHOOK_URLS`, in order, duplicates dropped.
    pub webhooks: Vec<SinkUrl>,
    /// `NOTIFY_WEBHOOK_SECRET`: the HMAC-SHA256 key of `X-Pithead-Signature`, when set.
    pub webhook_secret: Option<String>,
    /// ntfy, when `NTFY_URL` is set.
    pub ntfy: Option<NtfyConfig>,
    /// `HEALTHCHECKS_PING_URL` (its trailing `/` removed), when set.
    pub healthchecks: Option<SinkUrl>,
    /// `ALERTS_PROXY`: a `socks5h://host:port` proxy for every sink and the heartbeat.
    pub proxy: Option<Socks5Proxy>,
    /// `ALERTS_CA_FILE`: a PEM file of extra CAs trusted for `https://` sinks, on top of the
    /// compiled-in Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// `ALERTS_HOST`, else `HOST_IP`: the `[HOST] ` prefix of every message.
    pub host: Option<String>,
}

impl std::fmt::Debug for AlertsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |on: bool| if on { "<set>" } else { "<unset>" };
        f.debug_struct("AlertsConfig")
            .field(
                "telegram",
                &self.telegram.as_ref().map(|t| {
                    format!(
                        "{} (token <set>, chat id <set>, muted {:?})",
                        t.api_base, t.muted
                    )
                }),
            )
            .field("webhooks", &self.webhooks)
            .field("webhook_secret", &set(self.webhook_secret.is_some()))
            .field(
                "ntfy",
                &self
                    .ntfy
                    .as_ref()
                    .map(|n| format!("{} (token {})", n.url, set(n.token.is_some()))),
            )
            .field("healthchecks", &self.healthchecks)
            .field("proxy", &self.proxy.as_ref().map(ToString::to_string))
            .field("ca_file", &self.ca_file)
            .field("host", &self.host)
            .finish()
    }
}

impl AlertsConfig {
    /// Reads the alert variables through `get` (trimmed values, `None` when unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.is_empty());
        let telegram = telegram(get)?;
        let mut webhooks: Vec<SinkUrl> = Vec::new();
        if let Some(list) = set("NOTIFY_WEBHOOK_URLS") {
            for (i, text) in list.split_whitespace().enumerate() {
                let url = SinkUrl::parse(text).map_err(|why| {
                    invalid(
                        "NOTIFY_WEBHOOK_URLS",
                        shown(text),
                        format!("URL #{}: {why}", i + 1),
                    )
                })?;
                if !webhooks.contains(&url) {
                    webhooks.push(url);
                }
            }
        }
        let ntfy = match set("NTFY_URL") {
            Some(text) => Some(NtfyConfig {
                url: SinkUrl::parse(&text)
                    .map_err(|why| invalid("NTFY_URL", shown(&text), why.to_string()))?,
                token: secret(get, "NTFY_TOKEN", "a token (printable ASCII, no spaces)")?,
            }),
            None => None,
        };
        let healthchecks = match set("HEALTHCHECKS_PING_URL") {
            Some(text) => Some(
                SinkUrl::parse(&text)
                    .map_err(|why| invalid("HEALTHCHECKS_PING_URL", shown(&text), why.to_string()))?
                    .without_trailing_slash(),
            ),
            None => None,
        };
        let proxy = match set("ALERTS_PROXY") {
            Some(text) => Some(
                Socks5Proxy::parse(&text)
                    .map_err(|why| invalid("ALERTS_PROXY", shown(&text), why.to_string()))?,
            ),
            None => None,
        };
        let host = match set("ALERTS_HOST") {
            Some(host) => Some(host_name("ALERTS_HOST", host)?),
            None => set("HOST_IP")
                .map(|h| host_name("HOST_IP", h))
                .transpose()?,
        };
        Ok(Self {
            telegram,
            webhooks,
            webhook_secret: secret(
                get,
                "NOTIFY_WEBHOOK_SECRET",
                "a secret (printable ASCII, no spaces)",
            )?,
            ntfy,
            healthchecks,
            proxy,
            ca_file: set("ALERTS_CA_FILE").map(PathBuf::from),
            host,
        })
    }

    /// Whether any sink is configured (the heartbeat aside).
    pub fn any_sink(&self) -> bool {
        self.telegram.is_some() || !self.webhooks.is_empty() || self.ntfy.is_some()
    }

    /// Every secret value held, for leak checks in tests and harnesses.
    pub fn secret_values(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(t) = &self.telegram {
            out.extend([t.bot_token.as_str(), t.chat_id.as_str()]);
        }
        if let Some(s) = &self.webhook_secret {
            out.push(s);
        }
        if let Some(token) = self.ntfy.as_ref().and_then(|n| n.token.as_deref()) {
            out.push(token);
        }
        out
    }
}

fn telegram(get: &impl Fn(&str) -> Option<String>) -> Result<Option<TelegramConfig>, ConfigError> {
    let enabled = match get("TELEGRAM_ENABLED")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "false" | "0" | "no" | "off" => false,
        "true" | "1" | "yes" | "on" => true,
        other => {
            return Err(invalid(
                "TELEGRAM_ENABLED",
                other.to_owned(),
                "true/false (also 1/0, yes/no, on/off)".into(),
            ))
        }
    };
    if !enabled {
        return Ok(None);
    }
    let token = get("TELEGRAM_BOT_TOKEN").filter(|v| !v.is_empty());
    let chat = get("TELEGRAM_CHAT_ID").filter(|v| !v.is_empty());
    let (Some(bot_token), Some(chat_id)) = (token, chat) else {
        let missing = match (
            get("TELEGRAM_BOT_TOKEN").filter(|v| !v.is_empty()),
            get("TELEGRAM_CHAT_ID").filter(|v| !v.is_empty()),
        ) {
            (None, None) => "TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are",
            (None, Some(_)) => "TELEGRAM_BOT_TOKEN is",
            _ => "TELEGRAM_CHAT_ID is",
        };
        return Err(invalid(
            "TELEGRAM_ENABLED",
            "true".into(),
            format!("{missing} not set (set both, or TELEGRAM_ENABLED=false)"),
        ));
    };
    let token_ok = bot_token.split_once(':').is_some_and(|(id, key)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
            && !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    });
    if !token_ok {
        return Err(invalid(
            "TELEGRAM_BOT_TOKEN",
            HIDDEN.into(),
            "a bot token: digits, ':', then letters, digits, '_' or '-'".into(),
        ));
    }
    let chat_ok = match chat_id.strip_prefix('@') {
        Some(name) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => {
            let digits = chat_id.strip_prefix('-').unwrap_or(&chat_id);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }
    };
    if !chat_ok {
        return Err(invalid(
            "TELEGRAM_CHAT_ID",
            HIDDEN.into(),
            "a numeric chat id (negative for a group) or an @channel name".into(),
        ));
    }
    let base = get("TELEGRAM_API_BASE")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| TELEGRAM_DEFAULT_API_BASE.to_owned());
    let api_base = SinkUrl::parse_base(&base)
        .map_err(|why| invalid("TELEGRAM_API_BASE", shown(&base), why.to_string()))?;
    let mut muted = BTreeSet::new();
    for key in EventKey::ALL {
        let Some(var) = toggle_var(key) else { continue };
        match get(var).unwrap_or_default().to_ascii_lowercase().as_str() {
            "" | "true" | "1" | "yes" | "on" => {}
            "false" | "0" | "no" | "off" => {
                muted.insert(key);
            }
            other => {
                return Err(invalid(
                    var,
                    other.to_owned(),
                    "true/false (also 1/0, yes/no, on/off); blank means on".into(),
                ))
            }
        }
    }
    Ok(Some(TelegramConfig {
        api_base,
        bot_token,
        chat_id,
        muted,
    }))
}

/// `TELEGRAM_EVENT_<KEY>` for `key`; `None` for the test message and the rate limit's summary,
/// which are always carried.
pub fn toggle_var(key: EventKey) -> Option<&'static str> {
    Some(match key {
        EventKey::NodeDown => "TELEGRAM_EVENT_NODE_DOWN",
        EventKey::NodeRecovered => "TELEGRAM_EVENT_NODE_RECOVERED",
        EventKey::WorkersRejected => "TELEGRAM_EVENT_WORKERS_REJECTED",
        EventKey::WorkersReadmitted => "TELEGRAM_EVENT_WORKERS_READMITTED",
        EventKey::SyncFinished => "TELEGRAM_EVENT_SYNC_FINISHED",
        EventKey::ContainerUnhealthy => "TELEGRAM_EVENT_CONTAINER_UNHEALTHY",
        EventKey::DiskSpace => "TELEGRAM_EVENT_DISK_SPACE",
        EventKey::DbUnhealthy => "TELEGRAM_EVENT_DB_UNHEALTHY",
        EventKey::HashrateLow => "TELEGRAM_EVENT_HASHRATE_LOW",
        // The fold of what the rate limit held back: no toggle of its own, like the test.
        EventKey::Test | EventKey::Summary => return None,
    })
}

/// An optional secret: blank is unset; it goes into a header (or an HMAC key read back by
/// another program), so printable ASCII without spaces.
fn secret(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    expected: &str,
) -> Result<Option<String>, ConfigError> {
    match get(var).filter(|v| !v.is_empty()) {
        Some(value) if !value.chars().all(|c| c.is_ascii_graphic()) => {
            Err(invalid(var, HIDDEN.into(), expected.to_owned()))
        }
        other => Ok(other),
    }
}

fn host_name(var: &'static str, host: String) -> Result<String, ConfigError> {
    if host.chars().any(char::is_control) || host.chars().count() > HOST_MAX_LEN {
        return Err(invalid(
            var,
            host.chars()
                .filter(|c| !c.is_control())
                .take(HOST_MAX_LEN)
                .collect(),
            format!("one line of at most {HOST_MAX_LEN} characters"),
        ));
    }
    Ok(host)
}

fn invalid(var: &'static str, value: String, reason: String) -> ConfigError {
    ConfigError::Invalid { var, value, reason }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const TOKEN: &str = "123456:AAsecretTOKENvalue_x-y";
    const CHAT: &str = "-100987654321";
    const SECRET: &str = "hmac-s3cret-VALUE";
    const NTFY_TOKEN: &str = "tk_ntfyS3cretToken";

    fn with(pairs: &[(&str, &str)]) -> Result<AlertsConfig, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
            .collect();
        AlertsConfig::from_lookup(&|k: &str| map.get(k).cloned())
    }

    fn full() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TELEGRAM_ENABLED", "true"),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_CHAT_ID", CHAT),
            (
                "NOTIFY_WEBHOOK_URLS",
                "https://hooks.example/a/s3cretpath  http://192.168.1.5:9000/h?k=querysecret",
            ),
            ("NOTIFY_WEBHOOK_SECRET", SECRET),
            ("NTFY_URL", "https://ntfy.example/topicS3cret"),
            ("NTFY_TOKEN", NTFY_TOKEN),
            ("HEALTHCHECKS_PING_URL", "https://hc-ping.com/uuid-s3cret/"),
            ("ALERTS_PROXY", "socks5h://tor:9050"),
            ("ALERTS_CA_FILE", "/data/alerts-ca.pem"),
            ("HOST_IP", "192.168.1.10"),
        ]
    }

    #[test]
    fn every_sink_off_by_default_and_when_blank() {
        assert_eq!(with(&[]).unwrap(), AlertsConfig::default());
        let blank = with(&[
            ("TELEGRAM_ENABLED", "false"),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("NOTIFY_WEBHOOK_URLS", "  "),
            ("NTFY_URL", ""),
            ("NTFY_TOKEN", NTFY_TOKEN),
            ("HEALTHCHECKS_PING_URL", ""),
            ("ALERTS_PROXY", ""),
        ])
        .unwrap();
        assert_eq!(blank, AlertsConfig::default());
        assert!(!blank.any_sink());
    }

    #[test]
    fn a_full_configuration_is_read() {
        let c = with(&full()).unwrap();
        let t = c.telegram.as_ref().unwrap();
        assert_eq!(t.api_base.to_string(), "https://api.telegram.org");
        assert_eq!((t.bot_token.as_str(), t.chat_id.as_str()), (TOKEN, CHAT));
        assert!(t.muted.is_empty());
        assert_eq!(c.webhooks.len(), 2);
        assert_eq!(c.webhooks[1].path_and_query(), "/h?k=querysecret");
        assert_eq!(c.webhook_secret.as_deref(), Some(SECRET));
        let n = c.ntfy.as_ref().unwrap();
        assert_eq!(n.token.as_deref(), Some(NTFY_TOKEN));
        assert_eq!(
            c.healthchecks.as_ref().unwrap().path_and_query(),
            "/uuid-s3cret"
        );
        assert_eq!(c.proxy.as_ref().unwrap().to_string(), "socks5h://tor:9050");
        assert_eq!(c.ca_file, Some(PathBuf::from("/data/alerts-ca.pem")));
        assert_eq!(c.host.as_deref(), Some("192.168.1.10"));
        assert!(c.any_sink());
        assert_eq!(c.secret_values().len(), 4);
        let mut named = full();
        named.push(("ALERTS_HOST", "rig-1"));
        assert_eq!(with(&named).unwrap().host.as_deref(), Some("rig-1"));
    }

    #[test]
    fn toggles_mute_telegram_events_blank_means_on() {
        let mut pairs = full();
        pairs.extend([
            ("TELEGRAM_EVENT_NODE_DOWN", "false"),
            ("TELEGRAM_EVENT_DISK_SPACE", "0"),
            ("TELEGRAM_EVENT_DB_UNHEALTHY", "no"),
            ("TELEGRAM_EVENT_NODE_RECOVERED", ""),
            ("TELEGRAM_EVENT_SYNC_FINISHED", "true"),
            ("TELEGRAM_EVENT_TEST", "false"),
        ]);
        let c = with(&pairs).unwrap();
        assert_eq!(
            c.telegram.unwrap().muted.into_iter().collect::<Vec<_>>(),
            [
                EventKey::DiskSpace,
                EventKey::DbUnhealthy,
                EventKey::NodeDown
            ]
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
        for key in EventKey::ALL {
            if let Some(var) = toggle_var(key) {
                assert_eq!(
                    var,
                    format!("TELEGRAM_EVENT_{}", key.as_str().to_ascii_uppercase())
                );
            }
        }
    }

    /// The variables, the variable named, a piece of the reason.
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);

    #[test]
    fn refusals_name_the_variable_and_never_a_secret() {
        let long_host = "h".repeat(65);
        let cases: Vec<Case> = vec![
            (
                vec![("TELEGRAM_ENABLED", "maybe")],
                "TELEGRAM_ENABLED",
                "true/false",
            ),
            (
                vec![("TELEGRAM_ENABLED", "true"), ("TELEGRAM_CHAT_ID", CHAT)],
                "TELEGRAM_ENABLED",
                "TELEGRAM_BOT_TOKEN is not set",
            ),
            (
                vec![("TELEGRAM_ENABLED", "1"), ("TELEGRAM_BOT_TOKEN", TOKEN)],
                "TELEGRAM_ENABLED",
                "TELEGRAM_CHAT_ID is not set",
            ),
            (
                vec![("TELEGRAM_ENABLED", "yes")],
                "TELEGRAM_ENABLED",
                "TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are not set",
            ),
            (
                vec![
                    ("TELEGRAM_ENABLED", "true"),
                    ("TELEGRAM_BOT_TOKEN", "123:has space s3cret"),
                    ("TELEGRAM_CHAT_ID", CHAT),
                ],
                "TELEGRAM_BOT_TOKEN",
                "a bot token",
            ),
            (
                vec![
                    ("TELEGRAM_ENABLED", "true"),
                    ("TELEGRAM_BOT_TOKEN", "nocolonS3cret"),
                    ("TELEGRAM_CHAT_ID", CHAT),
                ],
                "TELEGRAM_BOT_TOKEN",
                "a bot token",
            ),
            (
                vec![
                    ("TELEGRAM_ENABLED", "true"),
                    ("TELEGRAM_BOT_TOKEN", TOKEN),
                    ("TELEGRAM_CHAT_ID", "chat-100987654321"),
                ],
                "TELEGRAM_CHAT_ID",
                "numeric chat id",
            ),
            (
                vec![
                    ("TELEGRAM_ENABLED", "true"),
                    ("TELEGRAM_BOT_TOKEN", TOKEN),
                    ("TELEGRAM_CHAT_ID", CHAT),
                    ("TELEGRAM_API_BASE", "http://tg.example/bot"),
                ],
                "TELEGRAM_API_BASE",
                "http:// is accepted only",
            ),
            (
                vec![
                    ("TELEGRAM_ENABLED", "true"),
                    ("TELEGRAM_BOT_TOKEN", TOKEN),
                    ("TELEGRAM_CHAT_ID", CHAT),
                    ("TELEGRAM_EVENT_NODE_DOWN", "nope"),
                ],
                "TELEGRAM_EVENT_NODE_DOWN",
                "blank means on",
            ),
            (
                vec![(
                    "NOTIFY_WEBHOOK_URLS",
                    "https://ok.example/x http://hooks.example/s3cretpath?k=querysecret",
                )],
                "NOTIFY_WEBHOOK_URLS",
                "URL #2: http:// is accepted only",
            ),
            (
                vec![("NOTIFY_WEBHOOK_URLS", "https://u:pwS3cret@hooks.example/x")],
                "NOTIFY_WEBHOOK_URLS",
                "credentials",
            ),
            (
                vec![("NOTIFY_WEBHOOK_URLS", "hooks.example/s3cretpath")],
                "NOTIFY_WEBHOOK_URLS",
                "not a URL",
            ),
            (
                vec![("NOTIFY_WEBHOOK_SECRET", "two words s3cret")],
                "NOTIFY_WEBHOOK_SECRET",
                "no spaces",
            ),
            (
                vec![("NTFY_URL", "http://ntfy.sh/topicS3cret")],
                "NTFY_URL",
                "use https://",
            ),
            (
                vec![
                    ("NTFY_URL", "https://ntfy.sh/topicS3cret"),
                    ("NTFY_TOKEN", "tk s3cret"),
                ],
                "NTFY_TOKEN",
                "no spaces",
            ),
            (
                vec![("HEALTHCHECKS_PING_URL", "ftp://hc-ping.com/uuid-s3cret")],
                "HEALTHCHECKS_PING_URL",
                "only https://",
            ),
            (
                vec![("ALERTS_PROXY", "socks5://tor:9050")],
                "ALERTS_PROXY",
                "socks5h",
            ),
            (
                vec![("ALERTS_PROXY", "socks5h://user:pwS3cret@tor:9050")],
                "ALERTS_PROXY",
                "credentials",
            ),
            (
                vec![("ALERTS_HOST", &long_host)],
                "ALERTS_HOST",
                "at most 64",
            ),
        ];
        let raw = [
            TOKEN,
            CHAT,
            SECRET,
            NTFY_TOKEN,
            "S3cret",
            "s3cret",
            "querysecret",
            "100987654321",
        ];
        for (pairs, var, reason) in cases {
            let err = with(&pairs).unwrap_err();
            let ConfigError::Invalid {
                var: got,
                reason: why,
                ..
            } = &err
            else {
                panic!("{err:?}");
            };
            assert_eq!(*got, var, "{pairs:?}");
            assert!(why.contains(reason), "{var}: {why:?} lacks {reason:?}");
            let text = format!("{err} {err:?}");
            assert!(text.starts_with(var), "{text}");
            for secret in raw {
                assert!(!text.contains(secret), "{var} leaks {secret:?}: {text}");
            }
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = with(&full()).unwrap();
        let text = format!("{c:?}");
        for secret in [
            TOKEN,
            CHAT,
            SECRET,
            NTFY_TOKEN,
            "s3cret",
            "S3cret",
            "querysecret",
            "uuid",
        ] {
            assert!(!text.contains(secret), "Debug leaks {secret:?}: {text}");
        }
        assert!(text.contains("https://hooks.example"), "{text}");
        assert!(text.contains("socks5h://tor:9050"), "{text}");
    }
}
