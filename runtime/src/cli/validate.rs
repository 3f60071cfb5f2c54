//! The rules beyond the schema's shape, and the typed [`Settings`] a valid document becomes.

use serde_json::Value;

use super::config::{is_secret, Config, SECRET_KEYS};
use super::config_error::{quoted, ConfigError};
use super::shape;
use crate::io::Endpoint;

/// Where monerod runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneroMode {
    /// The box's own node (the `local_node` profile).
    Local,
    /// Another node.
    Remote {
        /// Host name or address.
        host: String,
        /// RPC port.
        port: u16,
    },
}

/// Where the Tari base node runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TariMode {
    /// The box's own node (the `local_tari` profile).
    Local,
    /// Another node.
    Remote {
        /// Host name or address.
        host: String,
        /// gRPC port.
        port: u16,
    },
    /// No Tari merge mining.
    Off,
}

/// The p2pool sidechain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// The main sidechain (no flag).
    Main,
    /// `--mini`.
    Mini,
    /// `--nano`.
    Nano,
}

impl Pool {
    /// p2pool's command-line flag for this sidechain.
    pub fn flag(self) -> &'static str {
        match self {
            Pool::Main => "",
            Pool::Mini => "--mini",
            Pool::Nano => "--nano",
        }
    }
}

/// A validated `config.json`: the document plus its choice-valued keys, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The document (every value checked).
    pub config: Config,
    /// `monero.mode` (+ remote host).
    pub monero: MoneroMode,
    /// `tari.mode` (+ remote host).
    pub tari: TariMode,
    /// `p2pool.pool`.
    pub pool: Pool,
}

/// Parses and validates `config.json`'s text: every problem, or the settings.
pub fn load(text: &str) -> Result<Settings, Vec<ConfigError>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        vec![ConfigError::NotJson {
            reason: format!("line {} column {}", e.line(), e.column()),
        }]
    })?;
    let mut errors = shape::check(&doc);
    if !errors.is_empty() {
        return Err(errors);
    }
    let config: Config = match serde_path_to_error::deserialize(&doc) {
        Ok(config) => config,
        Err(e) => {
            let key = e.path().to_string();
            let got = if is_secret(&key) {
                super::config_error::HIDDEN.to_owned()
            } else {
                pointer(&doc, &key).map_or_else(|| "?".into(), Value::to_string)
            };
            return Err(vec![ConfigError::WrongType {
                key,
                expected: "a whole number in range",
                got,
            }]);
        }
    };
    let settings = validate(config, &mut errors);
    match settings {
        Some(s) if errors.is_empty() => Ok(s),
        _ => Err(errors),
    }
}

fn pointer<'a>(doc: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(doc, |v, k| v.get(k))
}

const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn is_placeholder(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    upper.contains("PASTE_") || upper.contains("YOUR_")
}

/// A host name, IPv4 or bare IPv6 address: it lands in the compose file and the Caddyfile, so
/// nothing that could start a new directive.
fn is_host(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && !text.starts_with('-')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

fn is_http_url(text: &str) -> bool {
    // A quote or a space would end the value in `.env`.
    !text.contains(['\'', '"', ' ', '\\'])
        && url::Url::parse(text)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false)
}

fn invalid(key: &str, expected: &'static str, got: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        expected,
        got: quoted(got),
    }
}

fn validate(config: Config, errors: &mut Vec<ConfigError>) -> Option<Settings> {
    let c = &config;
    let monero = match c.monero.mode.as_str() {
        "local" => Some(MoneroMode::Local),
        "remote" if c.monero.remote.host.trim().is_empty() => {
            errors.push(ConfigError::MoneroRemoteHostMissing);
            None
        }
        "remote" => Some(MoneroMode::Remote {
            host: c.monero.remote.host.clone(),
            port: c.monero.remote.rpc_port,
        }),
        other => {
            errors.push(ConfigError::MoneroMode { got: other.into() });
            None
        }
    };
    let pool = match c.p2pool.pool.as_str() {
        "main" => Some(Pool::Main),
        "mini" => Some(Pool::Mini),
        "nano" => Some(Pool::Nano),
        other => {
            errors.push(ConfigError::Pool { got: other.into() });
            None
        }
    };
    let tari = match c.tari.mode.as_str() {
        "local" => Some(TariMode::Local),
        "off" => Some(TariMode::Off),
        "remote" if c.tari.remote.host.trim().is_empty() => {
            errors.push(ConfigError::TariRemoteHostMissing);
            None
        }
        "remote" => Some(TariMode::Remote {
            host: c.tari.remote.host.clone(),
            port: c.tari.remote.grpc_port,
        }),
        other => {
            errors.push(ConfigError::TariMode { got: other.into() });
            None
        }
    };

    wallets(c, errors);
    hosts_and_ports(c, errors);
    xvb(c, errors);
    dashboard(c, errors);
    alerts(c, errors);
    secrets(c, errors);

    Some(Settings {
        monero: monero?,
        tari: tari?,
        pool: pool?,
        config,
    })
}

fn wallets(c: &Config, errors: &mut Vec<ConfigError>) {
    let xmr = c.monero.wallet_address.trim();
    let tari = c.tari.wallet_address.trim();
    let missing = |a: &str| a.is_empty() || is_placeholder(a);
    if missing(xmr) || (c.tari.mode != "off" && missing(tari)) {
        errors.push(ConfigError::MissingWallets);
    }
    if missing(xmr) {
        return;
    }
    if xmr.starts_with('8') {
        errors.push(ConfigError::Subaddress);
    } else if !(xmr.starts_with('4')
        && matches!(xmr.len(), 95 | 106)
        && xmr.chars().all(|ch| BASE58.contains(ch)))
    {
        errors.push(ConfigError::NotMoneroAddress { got: xmr.into() });
    }
    if !missing(tari) && !tari.chars().all(|ch| BASE58.contains(ch)) {
        errors.push(invalid(
            "tari.wallet_address",
            "a base58 Tari address",
            tari,
        ));
    }
}

fn hosts_and_ports(c: &Config, errors: &mut Vec<ConfigError>) {
    let host = |key: &str, value: &str, errors: &mut Vec<ConfigError>| {
        if !value.is_empty() && !is_host(value) {
            errors.push(invalid(key, "a host name or IP address", value));
        }
    };
    host("monero.remote.host", &c.monero.remote.host, errors);
    host("tari.remote.host", &c.tari.remote.host, errors);
    let ports = [
        ("p2pool.stratum_port", c.p2pool.stratum_port),
        ("monero.remote.rpc_port", c.monero.remote.rpc_port),
        ("tari.remote.grpc_port", c.tari.remote.grpc_port),
    ];
    for (key, port) in ports {
        if port == 0 {
            errors.push(ConfigError::Invalid {
                key: key.into(),
                expected: "a port from 1 to 65535",
                got: "0".into(),
            });
        }
    }
    let user = &c.monero.node_username;
    if !user.is_empty()
        && !user
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
    {
        errors.push(invalid(
            "monero.node_username",
            "letters, digits, '_', '-' or '.'",
            user,
        ));
    }
    let password = &c.monero.node_password;
    if password
        .chars()
        .any(|ch| ch.is_whitespace() || "'\"\\$:".contains(ch))
    {
        errors.push(ConfigError::InvalidSecret {
            key: "monero.node_password".into(),
            expected: "a password without spaces, quotes, '\\', '$' or ':'",
        });
    }
}

fn xvb(c: &Config, errors: &mut Vec<ConfigError>) {
    let level = c.xvb.donation_level.as_str();
    if !matches!(level, "auto" | "donor" | "vip" | "whale" | "mega") {
        errors.push(invalid(
            "xvb.donation_level",
            "\"auto\", \"donor\", \"vip\", \"whale\", or \"mega\"",
            level,
        ));
    }
    let url_ok = c
        .xvb
        .url
        .rsplit_once(':')
        .is_some_and(|(h, p)| is_host(h) && p.parse::<u16>().is_ok_and(|p| p > 0));
    if !url_ok {
        errors.push(invalid("xvb.url", "host:port", &c.xvb.url));
    }
    let donor = &c.xvb.donor_id;
    if donor.is_empty() || !donor.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        errors.push(invalid(
            "xvb.donor_id",
            "\"auto\" or letters and digits",
            donor,
        ));
    }
    // The runtime's own check, so a value the render accepts is one the runtime starts with.
    if !is_http_url(&c.xvb.api_url) || Endpoint::parse_web(&c.xvb.api_url).is_err() {
        errors.push(invalid(
            "xvb.api_url",
            "an https:// (or http://) URL without credentials or query",
            &c.xvb.api_url,
        ));
    }
    let ca = &c.xvb.ca_file;
    let ca_ok = ca.is_empty()
        || (ca.starts_with('/')
            && ca
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '/' | '.' | '_' | '-')));
    if !ca_ok {
        errors.push(invalid(
            "xvb.ca_file",
            "blank or an absolute path in the dashboard container (e.g. /data/xvb-ca.pem)",
            ca,
        ));
    }
}

fn dashboard(c: &Config, errors: &mut Vec<ConfigError>) {
    let d = &c.dashboard;
    if d.host != "auto" && !is_host(&d.host) {
        errors.push(invalid(
            "dashboard.host",
            "\"auto\" or a host name or IP address",
            &d.host,
        ));
    }
    let user = &d.auth.username;
    if user.is_empty()
        || !user
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
    {
        errors.push(invalid(
            "dashboard.auth.username",
            "letters, digits, '_', '-' or '.'",
            user,
        ));
    }
    if !(1..=100).contains(&d.hashrate_drop_threshold) {
        errors.push(ConfigError::Invalid {
            key: "dashboard.hashrate_drop_threshold".into(),
            expected: "a percentage from 1 to 100",
            got: d.hashrate_drop_threshold.to_string(),
        });
    }
    if !(1..=1440).contains(&d.hashrate_drop_minutes) {
        errors.push(ConfigError::Invalid {
            key: "dashboard.hashrate_drop_minutes".into(),
            expected: "minutes from 1 to 1440",
            got: d.hashrate_drop_minutes.to_string(),
        });
    }
}

fn alerts(c: &Config, errors: &mut Vec<ConfigError>) {
    let t = &c.telegram;
    let time_ok = t.daily_summary_time.split_once(':').is_some_and(|(h, m)| {
        h.len() == 2
            && m.len() == 2
            && h.parse::<u8>().is_ok_and(|h| h < 24)
            && m.parse::<u8>().is_ok_and(|m| m < 60)
    });
    if !time_ok {
        errors.push(invalid(
            "telegram.daily_summary_time",
            "a time of day as HH:MM",
            &t.daily_summary_time,
        ));
    }
    if t.enabled && (t.bot_token.trim().is_empty() || t.chat_id.trim().is_empty()) {
        errors.push(ConfigError::TelegramIncomplete);
    }
    let chat = t.chat_id.trim();
    let chat_ok = chat.is_empty()
        || chat
            .strip_prefix('-')
            .unwrap_or(chat)
            .chars()
            .all(|ch| ch.is_ascii_digit())
        || chat.strip_prefix('@').is_some_and(|n| {
            !n.is_empty() && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        });
    if !chat_ok {
        errors.push(invalid(
            "telegram.chat_id",
            "a numeric chat id or an @channel name",
            chat,
        ));
    }
    let token = t.bot_token.trim();
    if !token.is_empty()
        && !is_placeholder(token)
        && !token
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, ':' | '_' | '-'))
    {
        errors.push(ConfigError::InvalidSecret {
            key: "telegram.bot_token".into(),
            expected: "a bot token (digits, ':', then letters, digits, '_' or '-')",
        });
    }
    let mut urls: Vec<(String, &str)> = c
        .notifications
        .webhooks
        .iter()
        .enumerate()
        .map(|(i, u)| (format!("notifications.webhooks[{i}]"), u.as_str()))
        .collect();
    urls.push(("notifications.ntfy.url".into(), &c.notifications.ntfy.url));
    urls.push(("healthchecks.ping_url".into(), &c.healthchecks.ping_url));
    for (key, url) in urls {
        let url = url.trim();
        if !url.is_empty() && !is_placeholder(url) && !is_http_url(url) {
            errors.push(ConfigError::InvalidSecret {
                key,
                expected: "an http:// or https:// URL",
            });
        } else if !url.is_empty()
            && !is_placeholder(url)
            && crate::alerts::SinkUrl::parse(url).is_err()
        {
            // The runtime's own rule (`alerts::SinkUrl`): a URL it would refuse at start is
            // refused here, before it is rendered.
            errors.push(ConfigError::InvalidSecret {
                key,
                expected: "an https:// URL (http:// only to localhost or a private IP address, \
                           no user:password@, no #fragment)",
            });
        }
    }
}

/// Credentials still holding the template's placeholder.
fn secrets(c: &Config, errors: &mut Vec<ConfigError>) {
    let Ok(doc) = serde_json::to_value(c) else {
        return;
    };
    for key in SECRET_KEYS {
        let values: Vec<&str> = match pointer(&doc, key) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if values.iter().any(|v| is_placeholder(v)) {
            errors.push(ConfigError::Placeholder {
                key: (*key).to_owned(),
            });
        }
    }
}
