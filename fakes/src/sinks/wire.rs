//! What arrived, read from the wire specification of each sink (never from the runtime's code):
//! which sink class a request is for, what it carries, and what is wrong with it.

use std::collections::BTreeMap;

use ring::hmac;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The four kinds of endpoint the fake stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkClass {
    /// Telegram Bot API: `POST /bot<token>/sendMessage`.
    Telegram,
    /// A webhook receiver: `POST /hook/<name>`.
    Webhook,
    /// An ntfy topic: `POST /<topic>`.
    Ntfy,
    /// healthchecks.io: `GET` or `HEAD /ping/<id>`.
    Healthchecks,
}

impl SinkClass {
    /// Every class, in a stable order.
    pub const ALL: [SinkClass; 4] = [
        Self::Telegram,
        Self::Webhook,
        Self::Ntfy,
        Self::Healthchecks,
    ];

    /// The wire name (`telegram`, `webhook`, `ntfy`, `healthchecks`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
            Self::Healthchecks => "healthchecks",
        }
    }

    /// The class whose wire name is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for SinkClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The route a request matched: its class and the path's variable part (the bot token, the
/// webhook's name, the ntfy topic, the check's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Which sink.
    pub class: SinkClass,
    /// The path's variable part.
    pub name: String,
}

/// The class of `method path`, or `None` when no sink serves it. `path` is without the query.
pub fn classify(method: &http::Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let route = |class, name: &str| {
        Some(Route {
            class,
            name: name.to_owned(),
        })
    };
    match (method.as_str(), segments.as_slice()) {
        ("POST", [bot, "sendMessage"]) if bot.len() > 3 && bot.starts_with("bot") => {
            route(SinkClass::Telegram, &bot[3..])
        }
        ("POST", ["hook", name]) if !name.is_empty() => route(SinkClass::Webhook, name),
        ("GET" | "HEAD", ["ping", id]) if !id.is_empty() => route(SinkClass::Healthchecks, id),
        ("POST", [topic])
            if !topic.is_empty() && !matches!(*topic, "control" | "hook" | "ping") =>
        {
            route(SinkClass::Ntfy, topic)
        }
        _ => None,
    }
}

/// What the fake expects of the requests, so it can refuse what the real service would.
/// Unset fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// The bot token Telegram accepts (another one is answered `401`).
    pub telegram_token: Option<String>,
    /// The chat id Telegram knows (another one is answered `400 chat not found`).
    pub telegram_chat_id: Option<String>,
    /// The webhook secret: a request whose `X-Pithead-Signature` is not the HMAC-SHA256 of its
    /// body under this secret is answered `401`.
    pub webhook_secret: Option<String>,
    /// The ntfy access token: a request without `Authorization: Bearer <token>` is answered `401`.
    pub ntfy_token: Option<String>,
}

/// What one request carried, by class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    /// The alert's event key: the webhook's `event`; the ntfy tag that the text's closing
    /// hashtag names (else the first tag); the Telegram text's closing `#key`.
    pub event: Option<String>,
    /// The message text (Telegram `text`, webhook `text`, the ntfy body).
    pub text: Option<String>,
    /// Telegram's `chat_id`, as a string.
    pub chat_id: Option<String>,
    /// The webhook's `severity`.
    pub severity: Option<String>,
    /// The webhook's `host`.
    pub host: Option<String>,
    /// The webhook's `ts` (unix seconds).
    pub ts: Option<i64>,
    /// ntfy's `Title`.
    pub title: Option<String>,
    /// ntfy's `Priority`.
    pub priority: Option<String>,
    /// ntfy's `Tags`, split on commas.
    pub tags: Vec<String>,
    /// The webhook signature's verdict: `None` when no secret is expected.
    pub signature_ok: Option<bool>,
    /// Whether the request carried the expected credential (bot token, ntfy bearer token);
    /// `None` when none is expected.
    pub authorized: Option<bool>,
}

/// A request that breaks its sink's wire format, in words (recorded; the reply follows the
/// real service's answer to such a request).
pub type Problems = Vec<String>;

/// The closing `#key` of an alert text (the wire contract: one line that ends with ` #<key>`).
pub fn closing_hashtag(text: &str) -> Option<&str> {
    let (_, tag) = text.trim_end().rsplit_once(" #")?;
    let ok = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(tag)
}

fn text_problems(text: &str, problems: &mut Problems) {
    if text.contains('\n') || text.contains('\r') {
        problems.push("text is more than one line".to_owned());
    }
    if closing_hashtag(text).is_none() {
        problems.push("text does not end with ` #<key>`".to_owned());
    }
}

/// Parse a request's body and headers (lower-case names) as `route`'s class reads them.
pub fn parse(
    route: &Route,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    expect: &Expect,
) -> (Parsed, Problems) {
    let mut problems = Problems::new();
    let parsed = match route.class {
        SinkClass::Telegram => telegram(route, body, expect, &mut problems),
        SinkClass::Webhook => webhook(headers, body, expect, &mut problems),
        SinkClass::Ntfy => ntfy(headers, body, expect, &mut problems),
        SinkClass::Healthchecks => {
            if !body.is_empty() {
                problems.push("a heartbeat carries no body".to_owned());
            }
            Parsed::default()
        }
    };
    (parsed, problems)
}

fn json_object(body: &[u8], problems: &mut Problems) -> serde_json::Map<String, Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            problems.push("body is JSON but not an object".to_owned());
            serde_json::Map::new()
        }
        Err(err) => {
            problems.push(format!("body is not JSON: {err}"));
            serde_json::Map::new()
        }
    }
}

fn string_field(
    map: &serde_json::Map<String, Value>,
    key: &str,
    problems: &mut Problems,
) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!("`{key}` is not a string: {other}"));
            None
        }
        None => {
            problems.push(format!("`{key}` is missing"));
            None
        }
    }
}

fn telegram(route: &Route, body: &[u8], expect: &Expect, problems: &mut Problems) -> Parsed {
    let map = json_object(body, problems);
    // The Bot API takes an integer or a string; both name the same chat.
    let chat_id = match map.get("chat_id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            problems.push(format!(
                "`chat_id` is neither a string nor a number: {other}"
            ));
            None
        }
        None => {
            problems.push("`chat_id` is missing".to_owned());
            None
        }
    };
    let text = string_field(&map, "text", problems);
    if let Some(text) = &text {
        text_problems(text, problems);
    }
    let authorized = expect
        .telegram_token
        .as_ref()
        .map(|token| *token == route.name);
    if authorized == Some(false) {
        problems.push("unknown bot token".to_owned());
    }
    if let (Some(want), Some(got)) = (&expect.telegram_chat_id, &chat_id) {
        if want != got {
            problems.push("unknown chat_id".to_owned());
        }
    }
    Parsed {
        event: text.as_deref().and_then(closing_hashtag).map(str::to_owned),
        text,
        chat_id,
        authorized,
        ..Parsed::default()
    }
}

/// `X-Pithead-Signature`'s value for `body` under `secret`: lower-case hex, `sha256=` prefixed
/// (the fake also accepts the bare hex).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn verify_signature(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(value) = header else {
        return false;
    };
    let hex = value.trim();
    let hex = hex.strip_prefix("sha256=").unwrap_or(hex);
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::verify(&key, body, &tag).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn webhook(
    headers: &BTreeMap<String, String>,
    body: &[u8],
    expect: &Expect,
    problems: &mut Problems,
) -> Parsed {
    let map = json_object(body, problems);
    let event = string_field(&map, "event", problems);
    let text = string_field(&map, "text", problems);
    let ts = match map.get("ts") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(other) => {
            problems.push(format!("`ts` is not an integer: {other}"));
            None
        }
        None => {
            problems.push("`ts` is missing".to_owned());
            None
        }
    };
    let severity = string_field(&map, "severity", problems);
    if let Some(s) = &severity {
        if !matches!(s.as_str(), "info" | "warning" | "critical") {
            problems.push(format!("unknown severity {s:?}"));
        }
    }
    // `host` is null when no host is configured.
    let host = match map.get("host") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => None,
        Some(other) => {
            problems.push(format!("`host` is neither a string nor null: {other}"));
            None
        }
        None => {
            problems.push("`host` is missing".to_owned());
            None
        }
    };
    if let Some(text) = &text {
        text_problems(text, problems);
        if let (Some(tag), Some(event)) = (closing_hashtag(text), &event) {
            if tag != event {
                problems.push(format!("text closes with #{tag} but event is {event:?}"));
            }
        }
    }
    let signature_ok = expect.webhook_secret.as_ref().map(|secret| {
        verify_signature(
            secret,
            body,
            headers.get("x-pithead-signature").map(String::as_str),
        )
    });
    if signature_ok == Some(false) {
        problems.push("X-Pithead-Signature missing or wrong".to_owned());
    }
    Parsed {
        event,
        text,
        severity,
        host,
        ts,
        signature_ok,
        ..Parsed::default()
    }
}

fn ntfy(
    headers: &BTreeMap<String, String>,
    body: &[u8],
    expect: &Expect,
    problems: &mut Problems,
) -> Parsed {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            problems.push("body is not UTF-8".to_owned());
            String::from_utf8_lossy(body).into_owned()
        }
    };
    text_problems(&text, problems);
    let header = |name: &str| headers.get(name).cloned();
    let title = header("title");
    let priority = header("priority");
    let tags: Vec<String> = header("tags")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for (name, value) in [("Title", &title), ("Priority", &priority)] {
        if value.is_none() {
            problems.push(format!("`{name}` header is missing"));
        }
    }
    if let Some(p) = &priority {
        let known = matches!(
            p.as_str(),
            "1" | "2" | "3" | "4" | "5" | "min" | "low" | "default" | "high" | "max" | "urgent"
        );
        if !known {
            problems.push(format!("unknown Priority {p:?}"));
        }
    }
    if tags.is_empty() {
        problems.push("`Tags` header is missing or empty".to_owned());
    }
    let hashtag = closing_hashtag(&text);
    let event = match hashtag {
        Some(tag) if tags.iter().any(|t| t == tag) => Some(tag.to_owned()),
        Some(tag) => {
            problems.push(format!("text closes with #{tag} but Tags lack it"));
            tags.first().cloned()
        }
        None => tags.first().cloned(),
    };
    let authorized = expect.ntfy_token.as_ref().map(|token| {
        headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|got| got == token)
    });
    if authorized == Some(false) {
        problems.push("Authorization: Bearer missing or wrong".to_owned());
    }
    Parsed {
        event,
        text: Some(text),
        title,
        priority,
        tags,
        authorized,
        ..Parsed::default()
    }
}
