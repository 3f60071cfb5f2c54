//! Fake xmrig-proxy HTTP API: `GET /1/summary`, `GET /1/workers`, `GET`/`PUT /1/config`.
//!
//! Behaviour copied from xmrig's `base/api/Httpd.cpp` and xmrig-proxy's `api/v1/ApiRouter.cpp`:
//! - A token is configured, so every request needs `Authorization: Bearer <token>`: no header →
//!   `401`; a header that is not exactly `Bearer <token>` → `403`.
//! - When the API is restricted, `GET /1/config` and every non-`GET` request → `403`.
//! - A `PUT`/`POST` whose `Content-Type` is not exactly `application/json` → `415`.
//! - `PUT /1/config` (or `POST`) replaces the whole config: `204` on success, `400` when the body
//!   is not JSON or the config is unusable (not an object, or no non-empty `pools` array of
//!   objects with a `url`, which is what makes the real reload fail).
//! - Errors carry xmrig's JSON body `{"status":<code>,"error":"<reason phrase>"}`; an unknown
//!   path is `404` with the same shape.
//! - `/1/summary` `hashrate.total` has six averages in kH/s (1 m, 10 m, 1 h, 12 h, 24 h, since
//!   start); `/1/workers` rows are positional arrays: name, ip, connections, accepted, rejected,
//!   invalid, hashes, last share (ms since epoch), then five averages in kH/s (1 m, 10 m, 1 h,
//!   12 h, 24 h).

use std::sync::{Arc, Mutex};

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    behaviour::{self, Behaviour},
    control::{self, ControlSpec},
    sync::lock,
};

/// One row of `/1/workers`, named here, positional on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerRow {
    /// Worker name (the miner's login / rig id as the proxy groups it).
    pub name: String,
    /// Last IP the worker connected from.
    pub ip: String,
    /// Open connections (0 = offline).
    pub connections: u64,
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares.
    pub rejected: u64,
    /// Invalid shares.
    pub invalid: u64,
    /// Total hashes.
    pub hashes: u64,
    /// Time of the last share, milliseconds since the Unix epoch.
    pub last_share_ms: u64,
    /// Averages in kH/s over 1 min, 10 min, 1 h, 12 h, 24 h.
    pub hashrate_khs: [f64; 5],
}

impl WorkerRow {
    /// An online worker (one connection) hashing `khs` kH/s on every average.
    pub fn new(name: &str, khs: f64) -> Self {
        Self {
            name: name.to_owned(),
            ip: "192.168.1.50".to_owned(),
            connections: 1,
            accepted: 100,
            rejected: 0,
            invalid: 0,
            hashes: 1_000_000_000,
            last_share_ms: 1_735_689_600_000,
            hashrate_khs: [khs; 5],
        }
    }

    /// The positional array xmrig-proxy sends for this row.
    pub fn to_wire(&self) -> Value {
        let h = &self.hashrate_khs;
        json!([
            self.name,
            self.ip,
            self.connections,
            self.accepted,
            self.rejected,
            self.invalid,
            self.hashes,
            self.last_share_ms,
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
        ])
    }
}

/// The config a fresh fake serves: xmrig-proxy's config layout with a P2Pool pool (enabled) and
/// an XvB pool (disabled). `http.access-token` is the fake's token.
pub fn default_config(token: &str) -> Value {
    json!({
        "access-log-file": null,
        "access-password": null,
        "algo-ext": true,
        "api": {"id": null, "worker-id": null},
        "http": {
            "enabled": true, "host": "0.0.0.0", "port": 3344,
            "access-token": token, "restricted": false
        },
        "background": false,
        "bind": [{"host": "0.0.0.0", "port": 3333, "tls": false}],
        "colors": true,
        "title": true,
        "custom-diff": 0,
        "custom-diff-stats": false,
        "donate-level": 0,
        "log-file": null,
        "mode": "nicehash",
        "pools": [
            {
                "algo": null, "coin": null, "url": "p2pool:3333", "user": "pithead",
                "pass": "x", "rig-id": null, "keepalive": true, "enabled": true, "tls": false,
                "tls-fingerprint": null, "daemon": false, "socks5": null
            },
            {
                "algo": null, "coin": null, "url": "eu.xmrvsbeast.com:4247", "user": "pithead",
                "pass": "x", "rig-id": null, "keepalive": true, "enabled": false, "tls": false,
                "tls-fingerprint": null, "daemon": false, "socks5": null
            }
        ],
        "retries": 2,
        "retry-pause": 1,
        "reuse-timeout": 0,
        "syslog": false,
        "tls": {"enabled": false},
        "dns": {"ipv6": false, "ttl": 30},
        "user-agent": null,
        "verbose": 0,
        "workers": true
    })
}

/// Everything the fake proxy reports; the `POST /control` body is any subset of these fields,
/// e.g. `{"workers":[…],"behaviour":{"mode":"down"},"restricted":true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyState {
    /// Rows of `/1/workers`.
    pub workers: Vec<WorkerRow>,
    /// `hashrate.total` of `/1/summary` in kH/s; `None` = the sum of the workers' averages
    /// (the sixth, since start, repeats the 24 h one).
    pub hashrate_total_khs: Option<[f64; 6]>,
    /// Whether the API is read-only (`http.restricted`).
    pub restricted: bool,
    /// How every API route misbehaves.
    pub behaviour: Behaviour,
    /// The config `GET /1/config` serves and `PUT /1/config` replaces.
    pub config: Value,
    /// Successful config writes so far (read-only: a patch may not change it).
    pub config_puts: u64,
}

/// Handle to a fake xmrig-proxy. Clones share the same state.
#[derive(Clone)]
pub struct FakeXmrigProxy {
    token: Arc<str>,
    state: Arc<Mutex<ProxyState>>,
}

impl std::fmt::Debug for FakeXmrigProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeXmrigProxy")
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

const SPEC: ControlSpec = ControlSpec {
    fake: "xmrig-proxy",
    example: r#"{"workers":[{"name":"rig1","ip":"192.168.1.50","connections":1,"accepted":10,"rejected":0,"invalid":0,"hashes":1000,"last_share_ms":0,"hashrate_khs":[5.0,5.0,5.0,5.0,5.0]}],"restricted":false}"#,
};

impl FakeXmrigProxy {
    /// A fake whose API wants `Authorization: Bearer <token>`, with no workers, unrestricted,
    /// serving [`default_config`].
    pub fn new(token: &str) -> Self {
        Self {
            token: Arc::from(token),
            state: Arc::new(Mutex::new(ProxyState {
                workers: Vec::new(),
                hashrate_total_khs: None,
                restricted: false,
                behaviour: Behaviour::Normal,
                config: default_config(token),
                config_puts: 0,
            })),
        }
    }

    /// Replace the rows of `/1/workers`.
    pub fn set_workers(&self, rows: Vec<WorkerRow>) {
        lock(&self.state).workers = rows;
    }

    /// Change how the API misbehaves.
    pub fn set_behaviour(&self, b: Behaviour) {
        lock(&self.state).behaviour = b;
    }

    /// Make the API read-only (`403` on `/1/config` and on every write) or writable. The
    /// served config's `http.restricted` follows.
    pub fn set_restricted(&self, r: bool) {
        let mut st = lock(&self.state);
        st.restricted = r;
        if let Some(http) = st.config.get_mut("http").and_then(Value::as_object_mut) {
            http.insert("restricted".into(), json!(r));
        }
    }

    /// Override `/1/summary`'s `hashrate.total` (kH/s); `None` goes back to the workers' sums.
    pub fn set_hashrate_total(&self, khs: Option<[f64; 6]>) {
        lock(&self.state).hashrate_total_khs = khs;
    }

    /// The config as last written (or the default).
    pub fn config(&self) -> Value {
        lock(&self.state).config.clone()
    }

    /// Replace the config without going through the API.
    pub fn set_config(&self, config: Value) {
        lock(&self.state).config = config;
    }

    /// How many `PUT`/`POST /1/config` succeeded (`204`).
    pub fn config_puts(&self) -> u64 {
        lock(&self.state).config_puts
    }

    /// A copy of the whole state.
    pub fn state(&self) -> ProxyState {
        lock(&self.state).clone()
    }

    /// The API routes, honouring token, restriction and behaviour.
    pub fn wire_router(&self) -> Router {
        let routes = Router::new().fallback(api).with_state(self.clone());
        let fake = self.clone();
        behaviour::wrap(routes, move || lock(&fake.state).behaviour.clone())
    }

    /// `POST /control` (any subset of [`ProxyState`]'s fields) and `GET /control` (the state;
    /// the config's `http.access-token` is shown as `"<redacted>"`).
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let mut st = lock(&apply_fake.state);
                let puts = st.config_puts;
                let mut next: ProxyState = SPEC.merge_patch(&*st, body)?;
                if next.config_puts != puts {
                    return Err(SPEC.error("config_puts is read-only"));
                }
                if next.restricted != st.restricted {
                    if let Some(http) = next.config.get_mut("http").and_then(Value::as_object_mut) {
                        http.insert("restricted".into(), json!(next.restricted));
                    }
                }
                *st = next;
                Ok(())
            },
            move || {
                let mut v = serde_json::to_value(view_fake.state()).unwrap_or_else(|_| json!({}));
                if let Some(http) = v
                    .get_mut("config")
                    .and_then(|c| c.get_mut("http"))
                    .and_then(Value::as_object_mut)
                {
                    if http.contains_key("access-token") {
                        http.insert("access-token".into(), json!("<redacted>"));
                    }
                }
                v
            },
        )
    }

    /// API routes plus the control API on one port.
    pub fn router(&self) -> Router {
        self.wire_router().merge(self.control_router())
    }

    /// xmrig's `Httpd::auth`: 200 when the header is exactly `Bearer <token>`.
    fn auth_status(&self, headers: &HeaderMap) -> StatusCode {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return StatusCode::UNAUTHORIZED;
        };
        match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(t) if t == &*self.token => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn summary(&self) -> Value {
        let st = lock(&self.state);
        let total = st.hashrate_total_khs.unwrap_or_else(|| {
            let mut t = [0.0; 6];
            for w in &st.workers {
                for (slot, h) in t.iter_mut().zip(w.hashrate_khs) {
                    *slot += h;
                }
            }
            t[5] = t[4];
            t
        });
        let online = st.workers.iter().filter(|w| w.connections > 0).count();
        let accepted: u64 = st.workers.iter().map(|w| w.accepted).sum();
        let rejected: u64 = st.workers.iter().map(|w| w.rejected).sum();
        let invalid: u64 = st.workers.iter().map(|w| w.invalid).sum();
        let hashes: u64 = st.workers.iter().map(|w| w.hashes).sum();
        json!({
            "id": "0123456789abcdef",
            "worker_id": "pithead-fake",
            "version": "6.22.0",
            "kind": "proxy",
            "algo": "rx/0",
            "mode": "nicehash",
            "ua": "xmrig-proxy/6.22.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.1",
            "uptime": 3600,
            "donate_level": 0,
            "donated": 0.0,
            "restricted": st.restricted,
            "hashrate": {"total": total},
            "resources": {
                "memory": {"total": 16_000_000_000u64, "resident_set_memory": 12_000_000},
                "load_average": [0.1, 0.1, 0.1],
                "hardware_concurrency": 4
            },
            "miners": {"now": online, "max": st.workers.len()},
            "workers": st.workers.len(),
            "upstreams": {"active": 1, "sleep": 0, "error": 0, "total": 1, "ratio": online as f64},
            "results": {
                "accepted": accepted, "rejected": rejected, "invalid": invalid, "expired": 0,
                "avg_time": 30, "latency": 25, "hashes_total": hashes, "hashes_donate": 0,
                "best": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            }
        })
    }

    fn workers(&self) -> Value {
        let st = lock(&self.state);
        let rows: Vec<Value> = st.workers.iter().map(WorkerRow::to_wire).collect();
        let total = st
            .hashrate_total_khs
            .map(|t| t.to_vec())
            .unwrap_or_else(|| {
                let mut t = vec![0.0; 6];
                for w in &st.workers {
                    for (slot, h) in t.iter_mut().zip(w.hashrate_khs) {
                        *slot += h;
                    }
                }
                t[5] = t[4];
                t
            });
        json!({
            "id": "0123456789abcdef",
            "worker_id": "pithead-fake",
            "hashrate": {"total": total},
            "mode": "rig_id",
            "workers": rows,
        })
    }

    /// Validate and store a config written through the API.
    fn put_config(&self, body: &[u8]) -> StatusCode {
        let Ok(config) = serde_json::from_slice::<Value>(body) else {
            return StatusCode::BAD_REQUEST;
        };
        let pools_ok = config
            .get("pools")
            .and_then(Value::as_array)
            .is_some_and(|pools| {
                !pools.is_empty()
                    && pools
                        .iter()
                        .all(|p| p.get("url").and_then(Value::as_str).is_some())
            });
        if !config.is_object() || !pools_ok {
            return StatusCode::BAD_REQUEST;
        }
        let mut st = lock(&self.state);
        st.config = config;
        st.config_puts += 1;
        StatusCode::NO_CONTENT
    }
}

/// xmrig's error body.
fn api_error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    (
        status,
        Json(json!({"status": status.as_u16(), "error": reason})),
    )
        .into_response()
}

async fn api(
    State(fake): State<FakeXmrigProxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = fake.auth_status(&headers);
    if auth != StatusCode::OK {
        return api_error(auth);
    }
    let restricted = lock(&fake.state).restricted;
    if method != Method::GET {
        if restricted {
            return api_error(StatusCode::FORBIDDEN);
        }
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == b"application/json");
        if !json_type {
            return api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
    }
    match (method, uri.path()) {
        (Method::GET, "/1/summary") => Json(fake.summary()).into_response(),
        (Method::GET, "/1/workers") => Json(fake.workers()).into_response(),
        (Method::GET, "/1/config") => {
            if restricted {
                api_error(StatusCode::FORBIDDEN)
            } else {
                Json(fake.config()).into_response()
            }
        }
        (Method::PUT | Method::POST, "/1/config") => match fake.put_config(&body) {
            StatusCode::NO_CONTENT => StatusCode::NO_CONTENT.into_response(),
            status => api_error(status),
        },
        _ => api_error(StatusCode::NOT_FOUND),
    }
}
