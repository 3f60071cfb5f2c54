//! The one redactor every artifact, log line and report of the live matrix passes through: a
//! secret of the box must never reach the terminal, the JUnit file or an artifact directory.
//!
//! In order, [`Redactor::redact`] masks: the box's known raw secret values (also when a log
//! breaks one across lines); the value of every `KEY=value`, `"key": "value"` and line-start
//! `key: value` whose key name is secret-like, and every value of a flat JSON object under such
//! a key (the key stays, so the output still reads); credentials in URLs, bearer tokens and
//! Telegram bot tokens; onion names; long base58 runs (wallet addresses); public IPv4 and IPv6
//! addresses. Private addresses, ports, words, hex digests and container names survive.
//! Redacting twice changes nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};

/// What a masked value becomes.
pub const REDACTED: &str = "[redacted]";

/// Substrings (case-insensitive) that make a key name secret-like.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "token",
    "secret",
    "key",
    "passphrase",
    "auth",
    "login",
    "wallet",
    "onion",
    "chat_id",
    "chatid",
    "ping_url",
    "webhook",
    "ntfy",
    "credential",
];

/// `.env` keys that hold no secret and help read a failure; every other key is dropped.
const ENV_ALLOWED: &[&str] = &[
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "MONERO_NODE_HOST",
    "MONERO_RPC_PORT",
    "MONERO_RPC_BIND",
    "MONERO_PRUNE",
    "TARI_GRPC_ADDRESS",
    "TARI_REQUIRED",
    "P2POOL_FLAGS",
    "STRATUM_PORT",
    "XVB_ENABLED",
    "XVB_DONATION_LEVEL",
    "DASHBOARD_SECURE",
    "DASHBOARD_PORT",
    "HASHRATE_DROP_THRESHOLD_PCT",
    "HASHRATE_DROP_MINUTES",
    "TELEGRAM_ENABLED",
    "TELEGRAM_DAILY_SUMMARY_TIME",
    "NOTIFY_TOR",
    "PITHEAD_UID",
    "PITHEAD_GID",
];

/// The per-event switches (`TELEGRAM_EVENT_NODE_DOWN=true`, ...) are allowed too.
const ENV_ALLOWED_PREFIX: &str = "TELEGRAM_EVENT_";

fn words() -> String {
    SECRET_WORDS.join("|")
}

/// Compiles a pattern built from constants (a known value is escaped first): a typo fails every
/// test, so it cannot fail at run time.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a pattern built from constants compiles")
}

static KEY_NAME: LazyLock<Regex> = LazyLock::new(|| re(&format!("(?i)(?:{})", words())));

/// `KEY=value` (or `KEY: value`) at the start of a line: the whole rest of the line is the value.
static LINE_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?im)^(?P<pre>[ \t]*(?:export[ \t]+|-[ \t]+)?[A-Za-z0-9_.\-]*(?:{})[A-Za-z0-9_.\-]*[ \t]*(?:=|:[ \t]))(?P<val>[^\r\n]*[^\s])",
        words()
    ))
});

/// `key=value` inside a line (argv, URL query): the value ends at a blank, quote or separator.
static INLINE_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r#"(?i)(?P<pre>[A-Za-z0-9_.\-]*(?:{})[A-Za-z0-9_.\-]*=)(?P<val>"[^"\n]*"|'[^'\n]*'|[^\s"'&,;]+)"#,
        words()
    ))
});

/// A JSON value worth masking: a non-empty string, a number or an array of strings.
const JSON_VALUE: &str =
    r#"(?P<val>"(?:[^"\\\n]|\\.)+"|-?[0-9][0-9.eE+\-]*|\[\s*(?:"(?:[^"\\\n]|\\.)*"\s*,?\s*)+\])"#;

/// `"key": value` in JSON, whatever the key.
static JSON_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r#"(?P<pre>"(?P<key>[^"\n]*)"[ \t]*:[ \t]*){JSON_VALUE}"#
    ))
});

/// A flat JSON object under a secret-named key (`"ntfy": {"url": .., "token": ..}`): every
/// value in it is masked, user names aside.
static JSON_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r#"(?i)(?P<pre>"[^"\n]*(?:{})[^"\n]*"\s*:\s*)(?P<obj>\{{[^{{}}]*\}})"#,
        words()
    ))
});

static JSON_STRING: LazyLock<Regex> = LazyLock::new(|| re(r#""(?:[^"\\\n]|\\.)*""#));

/// `val` (a [`JSON_VALUE`]) masked, still JSON: a string, or an array of as many strings.
fn masked_json(val: &str) -> String {
    if val.starts_with('[') {
        let n = JSON_STRING.find_iter(val).count();
        format!("[{}]", vec![format!("\"{REDACTED}\""); n].join(", "))
    } else {
        format!("\"{REDACTED}\"")
    }
}

/// Masks the JSON pairs of `text` whose key `mask` accepts.
fn mask_json_pairs(text: &str, mask: impl Fn(&str) -> bool) -> String {
    JSON_PAIR
        .replace_all(text, |c: &Captures| {
            if mask(&c["key"]) {
                format!("{}{}", &c["pre"], masked_json(&c["val"]))
            } else {
                c[0].to_owned()
            }
        })
        .into_owned()
}

static URL_USERINFO: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?P<scheme>\b[a-z][a-z0-9+.\-]*://)[^/\s:@\[\]]+:[^/\s@\[\]]+@"));

static BEARER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?P<scheme>bearer)[ \t]+[A-Za-z0-9._~+/\-]+=*"));

static BOT_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"\bbot[0-9]{6,}:[A-Za-z0-9_\-]{30,}"));

static ONION: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b[a-z2-7]{16,56}\.onion\b"));

static BASE58: LazyLock<Regex> = LazyLock::new(|| re(r"[1-9A-HJ-NP-Za-km-z]{40,}"));

static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?")
});

static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"));

/// Whether a key name (of a `.env`, JSON, YAML or argv pair) names a secret.
pub fn is_secret_key(name: &str) -> bool {
    KEY_NAME.is_match(name)
}

/// Masks secrets in text. Cheap to clone (the compiled patterns are shared).
#[derive(Clone)]
pub struct Redactor {
    /// The known values, each allowed to be broken by a line break anywhere; `None` when no
    /// value was worth masking.
    known: Option<Regex>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

/// Whether a known value is too common to mask everywhere: short, a flag, an address (public
/// ones are masked by their own rule), or a number with fewer than 9 digits (a port, a count, a
/// date); a Telegram chat id is longer, and no other text holds that exact number.
fn too_common(value: &str) -> bool {
    let numeric = value
        .chars()
        .all(|c| c.is_ascii_digit() || "._-:+/ ".contains(c));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    value.chars().count() < 6
        || (numeric && digits < 9)
        || value.parse::<IpAddr>().is_ok()
        || value.parse::<SocketAddr>().is_ok()
        // An onion not yet published by Tor is `placeholder` in the `.env`.
        || ["true", "false", "yes", "no", "null", "none", "placeholder"]
            .contains(&value.to_lowercase().as_str())
}

impl Redactor {
    /// A redactor that also masks each of `known` (the box's raw secret values, see
    /// [`env_secrets`] and [`json_secrets`]) wherever it appears; values too common to mask
    /// everywhere (shorter than 6 characters, flags, numbers, addresses) are ignored.
    pub fn new(known: impl IntoIterator<Item = String>) -> Redactor {
        let mut values: Vec<String> = known
            .into_iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !too_common(v))
            .collect();
        // Longest first: a secret that contains another is masked whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let alternatives: Vec<String> = values
            .iter()
            .map(|v| {
                v.chars()
                    .map(|c| regex::escape(&c.to_string()))
                    .collect::<Vec<_>>()
                    .join(r"(?:\r?\n)?")
            })
            .collect();
        let known = (!alternatives.is_empty()).then(|| re(&alternatives.join("|")));
        Redactor { known }
    }

    /// `text` with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = match &self.known {
            // Keep the line breaks a wrapped secret spanned, so line numbers still match.
            Some(known) => known
                .replace_all(text, |c: &Captures| {
                    let breaks: String = c[0].chars().filter(|ch| *ch == '\n').collect();
                    format!("{REDACTED}{breaks}")
                })
                .into_owned(),
            None => text.to_owned(),
        };
        out = JSON_OBJECT
            .replace_all(&out, |c: &Captures| {
                let obj = mask_json_pairs(&c["obj"], |key| !is_user_name(key));
                format!("{}{obj}", &c["pre"])
            })
            .into_owned();
        out = mask_json_pairs(&out, is_secret_key);
        out = LINE_PAIR
            .replace_all(&out, format!("${{pre}}{REDACTED}").as_str())
            .into_owned();
        out = INLINE_PAIR
            .replace_all(&out, |c: &Captures| {
                let val = &c["val"];
                let masked = match val.chars().next() {
                    Some(q @ ('"' | '\'')) if val.len() > 2 => format!("{q}{REDACTED}{q}"),
                    Some('"' | '\'') => val.to_owned(),
                    _ => REDACTED.to_owned(),
                };
                format!("{}{masked}", &c["pre"])
            })
            .into_owned();
        out = URL_USERINFO
            .replace_all(&out, format!("${{scheme}}{REDACTED}@").as_str())
            .into_owned();
        out = BEARER
            .replace_all(&out, format!("${{scheme}} {REDACTED}").as_str())
            .into_owned();
        out = BOT_TOKEN
            .replace_all(&out, format!("bot{REDACTED}").as_str())
            .into_owned();
        out = ONION
            .replace_all(&out, format!("{REDACTED}.onion").as_str())
            .into_owned();
        out = BASE58
            .replace_all(&out, |c: &Captures| {
                // Digests and git revisions are lowercase hex: keep them, they identify images.
                if c[0]
                    .chars()
                    .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
                {
                    c[0].to_owned()
                } else {
                    "[redacted-base58]".to_owned()
                }
            })
            .into_owned();
        out = mask_ips(&out, &IPV6, |s| {
            s.parse::<Ipv6Addr>().is_ok_and(is_public_v6)
        });
        mask_ips(&out, &IPV4, |s| {
            s.parse::<Ipv4Addr>().is_ok_and(is_public_v4)
        })
    }
}

/// Replaces each match of `candidates` that stands alone (not inside a word, a version number or
/// a longer address) and that `public` accepts with `[public-ip]`.
fn mask_ips(text: &str, candidates: &Regex, public: impl Fn(&str) -> bool) -> String {
    candidates
        .replace_all(text, |c: &Captures| {
            let Some(m) = c.get(0) else {
                return String::new();
            };
            let before = text[..m.start()].chars().next_back();
            let mut rest = text[m.end()..].chars();
            let after = rest.next();
            let glued = |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
            // A dot before, or a dot then a digit after: part of a version or a longer number.
            let dotted = before == Some('.')
                || (after == Some('.') && rest.next().is_some_and(|ch| ch.is_ascii_digit()));
            let alone = !(glued(before) || glued(after) || dotted);
            if alone && public(m.as_str()) {
                "[public-ip]".to_owned()
            } else {
                m.as_str().to_owned()
            }
        })
        .into_owned()
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    !(a == 0
        || ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || shared
        || ip.is_broadcast()
        || ip.is_multicast())
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || first & 0xffc0 == 0xfe80
        || first & 0xfe00 == 0xfc00)
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// A user name is not a secret, and masking it everywhere would mask container names.
fn is_user_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("user") || k.ends_with("username")
}

/// The raw values of a `.env`'s secret-named keys (each whitespace-separated part too: a list
/// of webhook URLs), for [`Redactor::new`].
pub fn env_secrets(env_text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in env_text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_start_matches("export ").trim();
        if !is_secret_key(key) || is_user_name(key) {
            continue;
        }
        let value = unquote(value);
        out.push(value.to_owned());
        out.extend(value.split_whitespace().map(str::to_owned));
    }
    out
}

/// The raw string values found under the secret-named keys of a `config.json` (wallet
/// addresses, passwords, tokens, URLs), for [`Redactor::new`]. Text that is not JSON yields
/// nothing: the key rules of [`Redactor::redact`] still apply to it.
pub fn json_secrets(json_text: &str) -> Vec<String> {
    fn walk(value: &serde_json::Value, secret: bool, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) if secret => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, secret, out)),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if !is_user_name(k) {
                        walk(v, secret || is_secret_key(k), out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(json_text) {
        walk(&value, false, &mut out);
    }
    out
}

/// A `.env` reduced to its allow-listed keys (no secret among them), in file order, then
/// `# dropped: N keys` for the rest (neither their names nor their values). Comments and blank
/// lines are left out. Pass the result through [`Redactor::redact`] too: `MONERO_NODE_HOST` may
/// be a public address.
pub fn env_allow_list(env_text: &str) -> String {
    let mut kept = String::new();
    let mut dropped = 0usize;
    for line in env_text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let key = trimmed.split_once('=').map(|(k, _)| k.trim());
        match key {
            Some(k) if ENV_ALLOWED.contains(&k) || k.starts_with(ENV_ALLOWED_PREFIX) => {
                kept.push_str(trimmed);
                kept.push('\n');
            }
            _ => dropped += 1,
        }
    }
    kept.push_str(&format!("# dropped: {dropped} keys\n"));
    kept
}

/// The first 12 hex digits of the SHA-256 of `secret`: two runs compare a secret (was it
/// preserved across `apply`?) without printing it.
pub fn fingerprint(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "Xq7Lm2Pz9Rt4Vw8Kb3Nc6Hd1Fg5Js0Ya";
    const TOKEN: &str = "tkn-9f8e7d6c5b4a3210";
    const BOT: &str = "bot1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
    const TARI: &str = "12Jx8bUHJ4ujnMJQ7GQZqYQkXvhrc3Rgkg1jvyDLcVPKm8Wr9zRsFbq5pMSUgbJ9WzHRgTQtJEi4r1N8wuWq4rDxhDM";
    const ONION: &str = "p2pooltestabcdefghijklmnopqrstuvwxyz234567abcdefghijkl.onion";

    fn redactor() -> Redactor {
        Redactor::new(
            [
                PASSWORD,
                TOKEN,
                XMR,
                "true",
                "18081",
                "admin",
                "0.0.0.0",
                "2026-11-30",
                "-1009876543210",
            ]
            .map(String::from),
        )
    }

    fn assert_absent(out: &str, raws: &[&str]) {
        for raw in raws {
            assert!(!out.contains(raw), "{raw:?} survived in {out:?}");
        }
    }

    #[test]
    fn known_values_are_masked_anywhere_and_common_ones_are_not() {
        let r = redactor();
        let out = r.redact(&format!(
            "connect with pw{PASSWORD}x and {TOKEN}; true 18081 admin"
        ));
        assert_absent(&out, &[PASSWORD, TOKEN]);
        assert!(out.contains("true 18081 admin"), "{out}");
        assert!(out.contains("pw[redacted]x"), "{out}");
    }

    #[test]
    fn a_secret_in_json_is_masked_and_the_json_stays_valid() {
        let json = format!(
            "{{\n  \"monero\": {{ \"wallet_address\": \"{XMR}\", \"prune\": true, \"node_password\": \"hunter2hunter2\" }},\n  \"telegram\": {{ \"bot_token\": \"{BOT}\", \"chat_id\": -1001234567, \"enabled\": true }},\n  \"notifications\": {{ \"webhooks\": [\"https://hooks.example/a\", \"https://hooks.example/b\"] }},\n  \"dashboard\": {{ \"auth\": {{ \"username\": \"admin\", \"password\": \"\" }}, \"secure\": false }}\n}}"
        );
        let out = Redactor::new([]).redact(&json);
        assert_absent(
            &out,
            &[XMR, "hunter2hunter2", BOT, "1001234567", "hooks.example"],
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v["monero"]["node_password"], REDACTED);
        assert_eq!(v["monero"]["prune"], true);
        assert_eq!(v["telegram"]["enabled"], true);
        assert_eq!(
            v["notifications"]["webhooks"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(v["dashboard"]["auth"]["username"], "admin");
        assert_eq!(
            v["dashboard"]["auth"]["password"], "",
            "an empty value shows it is unset"
        );
    }

    #[test]
    fn a_secret_in_a_dotenv_keeps_its_key() {
        let env = format!(
            "COMPOSE_PROJECT_NAME=pithead\nMONERO_RPC_PASSWORD={PASSWORD}\nPROXY_AUTH_TOKEN=\"a b&c;d\"\nexport NTFY_URL=https://ntfy.sh/mytopic\nMONERO_RPC_BIND=0.0.0.0\nTARI_REQUIRED=true\nTELEGRAM_CHAT_ID=\n"
        );
        let out = Redactor::new([]).redact(&env);
        assert_absent(&out, &[PASSWORD, "a b", "c;d", "mytopic"]);
        assert!(out.contains("MONERO_RPC_PASSWORD=[redacted]\n"), "{out}");
        assert!(out.contains("COMPOSE_PROJECT_NAME=pithead\n"), "{out}");
        assert!(out.contains("MONERO_RPC_BIND=0.0.0.0\n"), "{out}");
        assert!(out.contains("TARI_REQUIRED=true\n"), "{out}");
        assert!(
            out.contains("TELEGRAM_CHAT_ID=\n"),
            "an empty value stays: {out}"
        );
    }

    #[test]
    fn a_compose_ps_table_keeps_names_ports_and_private_addresses() {
        let table = format!(
            "NAME                IMAGE            COMMAND                  SERVICE   STATUS          PORTS\n\
             pithead-monerod-1   monerod:0.18.4   \"monerod --rpc-login=pithead:{PASSWORD}\"   monerod   Up 2 hours (healthy)   0.0.0.0:18081->18081/tcp, [::]:18081->18081/tcp\n\
             pithead-caddy-1     caddy:2          \"caddy run\"              caddy     Up 2 hours      203.0.113.7:443->443/tcp, 192.168.1.20:80->80/tcp\n"
        );
        let out = Redactor::new([]).redact(&table);
        assert_absent(&out, &[PASSWORD, "203.0.113.7"]);
        for kept in [
            "pithead-monerod-1",
            "pithead-caddy-1",
            "0.0.0.0:18081->18081/tcp",
            "[::]:18081->18081/tcp",
            "[public-ip]:443->443/tcp",
            "192.168.1.20:80->80/tcp",
            "Up 2 hours (healthy)",
            "--rpc-login=[redacted]",
        ] {
            assert!(out.contains(kept), "{kept:?} lost in {out}");
        }
    }

    #[test]
    fn a_secret_a_log_breaks_across_lines_is_masked_and_lines_are_kept() {
        let (head, tail) = PASSWORD.split_at(20);
        let log = format!("2026-11-30T12:00:00Z INFO login ok\nWARN retrying with {head}\n{tail} now\nINFO done\n");
        let out = redactor().redact(&log);
        assert_absent(&out, &[head, tail]);
        assert_eq!(out.lines().count(), log.lines().count(), "{out}");
        assert!(out.contains("2026-11-30T12:00:00Z INFO login ok"), "{out}");
        let whole = redactor().redact(&format!("{PASSWORD}\n"));
        assert_eq!(whole, "[redacted]\n");
    }

    #[test]
    fn base58_onions_and_bot_tokens_are_masked_but_hex_digests_are_not() {
        let digest = "sha256:9a3f1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";
        let text = format!(
            "paying {XMR} and {TARI}\nhidden service {ONION}\nGET https://api.telegram.org/{BOT}/sendMessage\nimage {digest}\n"
        );
        let out = Redactor::new([]).redact(&text);
        assert_absent(&out, &[XMR, TARI, &ONION[..40], &BOT[3..]]);
        assert!(
            out.contains("[redacted-base58] and [redacted-base58]"),
            "{out}"
        );
        assert!(out.contains("hidden service [redacted].onion"), "{out}");
        assert!(
            out.contains("https://api.telegram.org/bot[redacted]/sendMessage"),
            "{out}"
        );
        assert!(out.contains(digest), "{out}");
    }

    #[test]
    fn public_addresses_are_masked_and_private_ones_survive() {
        let public = [
            "8.8.8.8",
            "203.0.113.7",
            "2001:4860:4860::8888",
            "::ffff:1.1.1.1",
        ];
        let private = [
            "10.1.2.3",
            "172.16.5.4",
            "172.31.255.1",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd12:3456::1",
        ];
        let text = format!("public {} private {}", public.join(" "), private.join(" "));
        let out = Redactor::new([]).redact(&text);
        assert_absent(&out, &public);
        assert_eq!(out.matches("[public-ip]").count(), public.len(), "{out}");
        for ip in private {
            assert!(out.split(' ').any(|t| t == ip), "{ip} lost in {out}");
        }
        let other = "v0.18.3.4 1.2.3.4.5 12:34:56 std::net::Ipv6Addr aa:bb:cc:dd:ee:ff";
        assert_eq!(Redactor::new([]).redact(other), other);
        assert_eq!(
            Redactor::new([]).redact("at 8.8.8.8:18089."),
            "at [public-ip]:18089."
        );
    }

    #[test]
    fn urls_with_credentials_and_query_tokens_are_masked() {
        let out = Redactor::new([]).redact(
            "> Authorization: Bearer eyJhbGciOi.J9x-y_z==\nGET https://bob:s3cr3tpw@ntfy.example/x?token=abcdef123&x=1",
        );
        assert_absent(&out, &["bob", "s3cr3tpw", "abcdef123", "eyJhbGciOi", "J9x"]);
        assert!(
            out.starts_with("> Authorization: Bearer [redacted]\n"),
            "{out}"
        );
        assert!(out.ends_with("?token=[redacted]&x=1"), "{out}");
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let r = redactor();
        let text = format!(
            "{{\"wallet\": \"{XMR}\", \"hooks_webhook\": [\"a\", \"b\"], \"chat_id\": 42}}\nMONERO_RPC_PASSWORD={PASSWORD}\n--rpc-login=u:{TOKEN} Bearer abcdefgh {ONION} 8.8.8.8 2001:4860::1 https://a:b@c.example/ {BOT}\n"
        );
        let once = r.redact(&text);
        assert_eq!(r.redact(&once), once);
    }

    #[test]
    fn secrets_are_read_from_a_dotenv_and_a_config() {
        let env = format!("MONERO_RPC_PASSWORD={PASSWORD}\nDASHBOARD_AUTH_USER=pithead\nNOTIFY_WEBHOOK_URLS=\"https://a.example/1 https://b.example/2\"\nSTRATUM_PORT=3333\n");
        let found = env_secrets(&env);
        assert!(found.contains(&PASSWORD.to_owned()));
        assert!(
            found.contains(&"https://b.example/2".to_owned()),
            "{found:?}"
        );
        assert!(
            !found.contains(&"pithead".to_owned()),
            "a user name is no secret: {found:?}"
        );
        assert!(!found.contains(&"3333".to_owned()));
        let json = format!("{{\"monero\": {{\"wallet_address\": \"{XMR}\", \"node_username\": \"me\", \"mode\": \"local\"}}, \"dashboard\": {{\"auth\": {{\"username\": \"admin\", \"password\": \"{TOKEN}\"}}}}}}");
        let found = json_secrets(&json);
        assert_eq!(found, vec![TOKEN.to_owned(), XMR.to_owned()]);
        let r = Redactor::new(found);
        assert_absent(&r.redact(&format!("log: {TOKEN} local")), &[TOKEN]);
        assert!(json_secrets("not json").is_empty());
    }

    #[test]
    fn the_env_allow_list_keeps_only_harmless_keys() {
        let env = format!(
            "# generated\nCOMPOSE_PROJECT_NAME=pithead\nMONERO_RPC_PASSWORD={PASSWORD}\nMONERO_WALLET_ADDRESS={XMR}\nP2POOL_FLAGS=--mini\nTELEGRAM_EVENT_NODE_DOWN=true\nDASHBOARD_AUTH_USER=alice\n\ngarbage line\n"
        );
        let out = env_allow_list(&env);
        assert_absent(
            &out,
            &[PASSWORD, XMR, "MONERO_RPC_PASSWORD", "alice", "garbage"],
        );
        assert_eq!(
            out,
            "COMPOSE_PROJECT_NAME=pithead\nP2POOL_FLAGS=--mini\nTELEGRAM_EVENT_NODE_DOWN=true\n# dropped: 4 keys\n"
        );
    }

    /// A `.env` and a `config.json` as `pithead render` writes them, every secret set.
    fn rendered_stack() -> (String, String, Vec<String>) {
        use pithead_runtime::cli::{render, secrets::Secrets, validate};
        let raws = [
            "NodePass1234567890",
            "DashPass1234567890",
            "123456789:AAbotTokenAAbotTokenAAbotTokenAA",
            "-1009876543210",
            "https://ntfy.example/topic-9f8e7d",
            "ntfyTokenABCDEF123",
            "https://hooks.example/services/T000/B000/XXXX",
            "https://hc-ping.com/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
        ];
        let config = format!(
            r#"{{"monero": {{"wallet_address": "{XMR}", "node_password": "{}"}},
  "tari": {{"wallet_address": "{TARI}"}},
  "dashboard": {{"auth": {{"username": "admin", "password": "{}"}}}},
  "telegram": {{"enabled": true, "bot_token": "{}", "chat_id": "{}"}},
  "notifications": {{"ntfy": {{"url": "{}", "token": "{}"}}, "webhooks": ["{}"]}},
  "healthchecks": {{"ping_url": "{}"}}}}"#,
            raws[0], raws[1], raws[2], raws[3], raws[4], raws[5], raws[6], raws[7]
        );
        let settings = validate::load(&config).expect("a valid config");
        let secrets = Secrets {
            monero_rpc_user: "pithead".into(),
            monero_rpc_password: "RpcPassRpcPassRpcPassRpcPass1234".into(),
            monero_local_rpc_password: "LocalPassLocalPassLocalPass12345".into(),
            proxy_auth_token: "ProxyTokenProxyTokenProxyToken12".into(),
            wallet_rpc_password: "WalletPassWalletPassWalletPass12".into(),
            dashboard_auth_hash: "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
                .into(),
            p2pool_onion: ONION.into(),
            monero_onion: "placeholder".into(),
            tari_onion: "placeholder".into(),
        };
        let owner = render::Owner {
            uid: 1000,
            gid: 1000,
        };
        let env = render::env(&settings, &secrets, owner).to_text().unwrap();
        let mut all: Vec<String> = raws.iter().map(|r| (*r).to_owned()).collect();
        all.extend([XMR, TARI, ONION].map(String::from));
        all.extend([
            secrets.monero_rpc_password,
            secrets.monero_local_rpc_password,
            secrets.proxy_auth_token,
            secrets.wallet_rpc_password,
            secrets.dashboard_auth_hash,
        ]);
        (env, config, all)
    }

    #[test]
    fn a_rendered_stack_leaks_no_secret() {
        let (env, config, raws) = rendered_stack();
        let raw_refs: Vec<&str> = raws.iter().map(String::as_str).collect();
        // Known values alone, then the key rules alone, must each mask everything.
        let known = Redactor::new(env_secrets(&env).into_iter().chain(json_secrets(&config)));
        for r in [&known, &Redactor::new([])] {
            assert_absent(&r.redact(&env), &raw_refs);
            assert_absent(&r.redact(&config), &raw_refs);
        }
        let log = raws.join(" in a log line\n");
        assert_absent(&known.redact(&log), &raw_refs);
        assert_absent(&env_allow_list(&env), &raw_refs);
        assert!(known.redact(&env).contains("COMPOSE_PROJECT_NAME=pithead"));
    }

    #[test]
    fn the_allow_list_names_real_keys_and_no_secret_one() {
        use pithead_runtime::cli::env_file::SECRET_ENV_KEYS;
        let (env, _, _) = rendered_stack();
        let keys: Vec<&str> = env
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k)
            .collect();
        for key in ENV_ALLOWED {
            assert!(
                keys.contains(key),
                "{key} is not in a rendered .env: renamed?"
            );
            assert!(!is_secret_key(key), "{key} looks secret");
        }
        for key in SECRET_ENV_KEYS {
            assert!(is_secret_key(key), "{key} is a secret the key rule misses");
            assert!(!env_allow_list(&env).contains(key), "{key} is allowed");
        }
    }

    #[test]
    fn fingerprints_are_short_stable_and_differ() {
        let a = fingerprint(PASSWORD);
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, fingerprint(PASSWORD));
        assert_ne!(a, fingerprint(TOKEN));
        // SHA-256("abc") = ba7816bf8f01cfea...
        assert_eq!(fingerprint("abc"), "ba7816bf8f01");
        assert!(!a.contains(&PASSWORD[..6]));
    }
}
