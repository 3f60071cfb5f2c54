//! Recording alert sinks: one server standing in for the Telegram Bot API, webhook receivers,
//! an ntfy server and healthchecks.io, which records every request it receives.
//!
//! | class | request | reply (up) |
//! |---|---|---|
//! | `telegram` | `POST /bot<token>/sendMessage`, JSON `chat_id`, `text` | `{"ok":true,"result":{…message…}}` |
//! | `webhook` | `POST /hook/<name>`, JSON `event`, `text`, `ts`, `severity`, `host`; `X-Pithead-Signature` | `200` |
//! | `ntfy` | `POST /<topic>`, the text as body; `Title`, `Priority`, `Tags`, `Authorization: Bearer` | ntfy's message JSON |
//! | `healthchecks` | `GET`/`HEAD /ping/<id>` | `200 OK` |
//!
//! Written from the services' wire formats, not from the runtime's clients: each request is
//! parsed as the real service would read it ([`wire`]) and kept as a [`SinkRequest`] with what
//! it carried (the event key, the text, the headers), what is wrong with it, and how it was
//! answered. With an [`Expect`]ation set, it refuses what the real service refuses: an unknown
//! bot token (`401`), an unknown chat (`400`), a webhook whose HMAC does not match (`401`), an
//! ntfy request without the bearer token (`401`).
//!
//! Each class can be taken down on its own ([`SinkMode`]): a status (`503`), a closed
//! connection, or a hang. Requests that reach a down sink are recorded too, with their outcome,
//! so a test tells an attempt from a delivery.
//!
//! Control API (besides the sinks' own routes, on the same router):
//! - `POST /control` (any subset of [`SinksState`], e.g. `{"ntfy":{"mode":"status","code":503}}`)
//!   and `GET /control`;
//! - `GET /control/requests[?class=ntfy&event=node_down&delivered=true]`: the records, oldest
//!   first;
//! - `POST /control/reset`: forget every record;
//! - `GET /control/ca`: the test CA's PEM when served over TLS ([`tls`]).

mod records;
pub mod tls;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{Query, Request, State},
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use self::records::{Outcome, RecordQuery, SinkRequest};
pub use self::wire::{Expect, Parsed, SinkClass};

use crate::control::{self, ControlSpec};
use crate::sync::lock;

/// How one class of sink answers.
///
/// As JSON, tagged by `mode`: `{"mode":"up"}`, `{"mode":"status","code":503}`,
/// `{"mode":"closed"}`, `{"mode":"hang"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkMode {
    /// Answer as the real service does.
    #[default]
    Up,
    /// Answer every request with this status and no useful body.
    Status {
        /// The HTTP status (e.g. 503).
        code: u16,
    },
    /// Read the request, then close the connection without a reply.
    Closed,
    /// Read the request and never answer (the client's deadline decides).
    Hang,
}

impl SinkMode {
    /// Shorthand for `Status { code: 503 }`.
    pub const UNAVAILABLE: SinkMode = SinkMode::Status { code: 503 };
}

/// Everything steerable: each class's mode and the expectations. The `POST /control` body is
/// any subset of these fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksState {
    /// How Telegram answers.
    pub telegram: SinkMode,
    /// How every webhook receiver answers.
    pub webhook: SinkMode,
    /// How ntfy answers.
    pub ntfy: SinkMode,
    /// How healthchecks answers.
    pub healthchecks: SinkMode,
    /// What the sinks check (tokens, chat id, webhook secret).
    pub expect: Expect,
}

impl SinksState {
    /// The mode of `class`.
    pub fn mode(&self, class: SinkClass) -> SinkMode {
        match class {
            SinkClass::Telegram => self.telegram,
            SinkClass::Webhook => self.webhook,
            SinkClass::Ntfy => self.ntfy,
            SinkClass::Healthchecks => self.healthchecks,
        }
    }

    /// Set the mode of `class`.
    pub fn set_mode(&mut self, class: SinkClass, mode: SinkMode) {
        match class {
            SinkClass::Telegram => self.telegram = mode,
            SinkClass::Webhook => self.webhook = mode,
            SinkClass::Ntfy => self.ntfy = mode,
            SinkClass::Healthchecks => self.healthchecks = mode,
        }
    }
}

const SPEC: ControlSpec = ControlSpec {
    fake: "sinks",
    example: r#"{"ntfy":{"mode":"status","code":503},"expect":{"ntfy_token":"tk"}}"#,
};

/// At most this many records are kept; older ones are dropped (and counted) first.
pub const MAX_RECORDS: usize = 10_000;

#[derive(Debug)]
struct Inner {
    state: SinksState,
    records: records::Records,
    ca_pem: Option<String>,
}

/// Handle to the recording sinks. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeSinks {
    inner: Arc<Mutex<Inner>>,
    started: Arc<OnceLock<tokio::time::Instant>>,
}

impl Default for FakeSinks {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSinks {
    /// Every sink up, nothing expected, nothing recorded.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                state: SinksState::default(),
                records: records::Records::new(MAX_RECORDS),
                ca_pem: None,
            })),
            started: Arc::new(Self::clock_start_now()),
        }
    }

    /// The fake's clock starts now when a runtime is current. Otherwise (the simulation builds
    /// it before its host's runtime runs) it starts at the first request, so that the clock is
    /// the serving runtime's (virtual under turmoil), never the real one mixed with it.
    fn clock_start_now() -> OnceLock<tokio::time::Instant> {
        let start = OnceLock::new();
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = start.set(tokio::time::Instant::now());
        }
        start
    }

    /// Time on the fake's clock (see [`Self::clock_start_now`]).
    fn elapsed(&self) -> Duration {
        self.started
            .get_or_init(tokio::time::Instant::now)
            .elapsed()
    }

    /// A fake that checks requests against `expect`.
    pub fn with_expect(self, expect: Expect) -> Self {
        lock(&self.inner).state.expect = expect;
        self
    }

    /// Take `class` down (or bring it back with [`SinkMode::Up`]).
    pub fn set_mode(&self, class: SinkClass, mode: SinkMode) {
        lock(&self.inner).state.set_mode(class, mode);
    }

    /// A copy of the steerable state.
    pub fn state(&self) -> SinksState {
        lock(&self.inner).state.clone()
    }

    /// Every record kept, oldest first.
    pub fn requests(&self) -> Vec<SinkRequest> {
        lock(&self.inner).records.all()
    }

    /// The records `query` selects, oldest first.
    pub fn query(&self, query: &RecordQuery) -> Vec<SinkRequest> {
        lock(&self.inner).records.select(query)
    }

    /// Records with a sequence number above `seq` (for a poller), oldest first.
    pub fn requests_after(&self, seq: u64) -> Vec<SinkRequest> {
        lock(&self.inner).records.after(seq)
    }

    /// Forget every record (sequence numbers keep counting).
    pub fn reset(&self) {
        lock(&self.inner).records.clear();
    }

    /// Records dropped because more than [`MAX_RECORDS`] arrived.
    pub fn dropped_records(&self) -> u64 {
        lock(&self.inner).records.dropped()
    }

    /// Serve `pem` (a TLS front's CA) at `GET /control/ca`.
    pub fn serve_ca(&self, pem: String) {
        lock(&self.inner).ca_pem = Some(pem);
    }

    /// The sinks' routes (every path not taken by the control API).
    pub fn wire_router(&self) -> Router {
        Router::new().fallback(receive).with_state(self.clone())
    }

    /// `POST`/`GET /control`, `GET /control/requests`, `POST /control/reset`, `GET /control/ca`.
    pub fn control_router(&self) -> Router {
        let apply = self.clone();
        let view = self.clone();
        let state = control::router(
            move |body| {
                let mut inner = lock(&apply.inner);
                inner.state = SPEC.merge_patch(&inner.state, body)?;
                Ok(())
            },
            move || {
                let inner = lock(&view.inner);
                let mut v = serde_json::to_value(&inner.state).unwrap_or_else(|_| json!({}));
                if let serde_json::Value::Object(m) = &mut v {
                    m.insert("recorded".into(), json!(inner.records.len()));
                    m.insert("dropped_records".into(), json!(inner.records.dropped()));
                }
                v
            },
        );
        let extra = Router::new()
            .route("/control/requests", get(list_requests))
            .route("/control/reset", post(reset))
            .route("/control/ca", get(ca))
            .with_state(self.clone());
        state.merge(extra)
    }

    /// Sinks and control API on one port.
    pub fn router(&self) -> Router {
        self.control_router().merge(self.wire_router())
    }
}

async fn list_requests(
    State(fake): State<FakeSinks>,
    Query(query): Query<RecordQuery>,
) -> Json<Vec<SinkRequest>> {
    Json(fake.query(&query))
}

async fn reset(State(fake): State<FakeSinks>) -> StatusCode {
    fake.reset();
    StatusCode::NO_CONTENT
}

async fn ca(State(fake): State<FakeSinks>) -> Response {
    match lock(&fake.inner).ca_pem.clone() {
        Some(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        None => (StatusCode::NOT_FOUND, "not serving TLS\n").into_response(),
    }
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// Every request that is not for the control API.
async fn receive(State(fake): State<FakeSinks>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB\n").into_response(),
    };
    let method: Method = parts.method;
    let uri: Uri = parts.uri;
    let Some(route) = wire::classify(&method, uri.path()) else {
        return (StatusCode::NOT_FOUND, "no sink here\n").into_response();
    };
    let headers = header_map(&parts.headers);
    let (mode, expect) = {
        let inner = lock(&fake.inner);
        (inner.state.mode(route.class), inner.state.expect.clone())
    };
    let (parsed, problems) = wire::parse(&route, &headers, &body, &expect);
    let (outcome, response) = match mode {
        SinkMode::Up => {
            let (status, response) = answer(&route, &parsed, &problems, &fake);
            (Outcome::Answered { status }, response)
        }
        SinkMode::Status { code } => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (
                Outcome::Answered {
                    status: status.as_u16(),
                },
                (status, "sink down (fake)\n").into_response(),
            )
        }
        SinkMode::Closed => (Outcome::Closed, crate::serve::drop_connection_response()),
        SinkMode::Hang => (Outcome::Hang, StatusCode::GATEWAY_TIMEOUT.into_response()),
    };
    let at = fake.elapsed();
    let record = SinkRequest {
        seq: 0,
        class: route.class,
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
        event: parsed.event.clone(),
        parsed,
        problems,
        outcome,
    };
    tracing::debug!(class = %route.class, ?outcome, "sink request");
    lock(&fake.inner).records.push(record);
    if mode == SinkMode::Hang {
        // Long past every client's deadline; the client gives up and closes first.
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    response
}

/// The real service's answer to a request its sink is up for: `(status, response)`.
fn answer(
    route: &wire::Route,
    parsed: &Parsed,
    problems: &[String],
    fake: &FakeSinks,
) -> (u16, Response) {
    let secs = fake.elapsed().as_secs();
    match route.class {
        SinkClass::Telegram => {
            let refusal = |code: u16, description: &str| {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                (
                    code,
                    (
                        status,
                        Json(json!({"ok": false, "error_code": code, "description": description})),
                    )
                        .into_response(),
                )
            };
            if parsed.authorized == Some(false) {
                return refusal(401, "Unauthorized");
            }
            if problems.iter().any(|p| p == "unknown chat_id") {
                return refusal(400, "Bad Request: chat not found");
            }
            let (Some(chat_id), Some(text)) = (&parsed.chat_id, &parsed.text) else {
                return refusal(400, "Bad Request: message text is empty");
            };
            let message_id = lock(&fake.inner).records.next_seq();
            let chat: serde_json::Value = chat_id
                .parse::<i64>()
                .map_or_else(|_| json!(chat_id), |n| json!(n));
            (
                200,
                Json(json!({
                    "ok": true,
                    "result": {
                        "message_id": message_id,
                        "from": {"id": 1, "is_bot": true, "first_name": "Pithead", "username": "pithead_fake_bot"},
                        "chat": {"id": chat, "type": "private"},
                        "date": 1_735_689_600 + secs,
                        "text": text,
                    }
                }))
                .into_response(),
            )
        }
        SinkClass::Webhook => {
            if parsed.signature_ok == Some(false) {
                return (
                    401,
                    (StatusCode::UNAUTHORIZED, "bad signature\n").into_response(),
                );
            }
            if parsed.event.is_none() || parsed.text.is_none() {
                return (
                    400,
                    (StatusCode::BAD_REQUEST, "event and text required\n").into_response(),
                );
            }
            (200, (StatusCode::OK, "ok\n").into_response())
        }
        SinkClass::Ntfy => {
            if parsed.authorized == Some(false) {
                return (
                    401,
                    (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({"code": 40101, "http": 401, "error": "unauthorized"})),
                    )
                        .into_response(),
                );
            }
            (
                200,
                Json(json!({
                    "id": format!("fake{}", lock(&fake.inner).records.next_seq()),
                    "time": 1_735_689_600 + secs,
                    "event": "message",
                    "topic": route.name,
                    "title": parsed.title,
                    "message": parsed.text,
                    "tags": parsed.tags,
                }))
                .into_response(),
            )
        }
        SinkClass::Healthchecks => (200, (StatusCode::OK, "OK").into_response()),
    }
}

#[cfg(test)]
mod tests;
