//! Fake monerod: `get_info` over JSON-RPC and the plain `/get_info` path, steered by a
//! [`MoneroMode`].
//!
//! Wire facts (monerod v0.18, `core_rpc_server.cpp` and `core_rpc_server_commands_defs.h`):
//! - `POST /json_rpc` `{"jsonrpc":"2.0","id":"0","method":"get_info"}` answers
//!   `{"id":"0","jsonrpc":"2.0","result":{...}}`; an unknown method is JSON-RPC error `-32601`,
//!   a body that is not JSON is error `-32700`. `GET`/`POST /get_info` (and the old `/getinfo`)
//!   answer the `result` object alone.
//! - `height` is the chain length (top block + 1). `target_height` is `0` once the node considers
//!   itself synchronized, else the best height seen from peers; `synchronized` is true when the
//!   core is ready, `busy_syncing` while blocks are being downloaded.
//! - A busy core answers `200` with `status: "BUSY"` and the other fields zeroed (the response
//!   struct is zero-initialised and every key is always serialised).
//! - A restricted RPC (`--restricted-rpc`, public nodes) zeroes `start_time`, reports
//!   `free_space` as `u64::MAX`, empties `version` and `bootstrap_daemon_address`, and rounds
//!   `database_size` up to a multiple of 5 GiB.
//! - With `--rpc-login` every path needs HTTP digest auth: a missing or wrong `Authorization`
//!   gets `401` with two `WWW-Authenticate: Digest qop="auth", algorithm=MD5[-sess],
//!   realm="monero-rpc", nonce="…", stale=false` challenges.
//! - The digest nonce belongs to the TCP connection (epee keeps it in the connection handler):
//!   each connection gets its own, and an answer computed from one connection's challenge is
//!   refused (`401` with that connection's own challenge) on any other. The fake tells
//!   connections apart by the [`crate::serve::ConnectionId`] that [`crate::serve::serve`]
//!   attaches; under any other server there is no connection to bind to and one nonce serves
//!   every request.
//!
//! [`get_info_result`] holds the full key set in one place so a drift check can compare it with a
//! reply recorded from a real monerod.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{any, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, value::RawValue, Value};

use crate::{
    behaviour::{self, Behaviour},
    control::{self, ControlSpec},
    serve::ConnectionId,
    sync::lock,
};

/// What the fake monerod answers. As JSON it is the control schema (tagged by `mode`):
/// `{"mode":"syncing","height":100,"target":200}`, `{"mode":"synced","height":3000}`,
/// `{"mode":"busy"}`, `{"mode":"down"}`, `{"mode":"garbage"}`, `{"mode":"slow","secs":20}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum MoneroMode {
    /// Synchronized at chain length `height`: `target_height` 0, `synchronized` true.
    Synced {
        /// Chain length.
        height: u64,
    },
    /// Downloading blocks: `height` of `target`, `synchronized` false, `busy_syncing` true.
    /// `target` 0 is what a node with no peers yet reports.
    Syncing {
        /// Chain length so far.
        height: u64,
        /// Best height seen from peers.
        target: u64,
    },
    /// `200` with `status: "BUSY"` and every other field zeroed.
    Busy,
    /// Accept, read the request, drop the connection without a reply.
    Down,
    /// `200` with a body that is not JSON.
    Garbage,
    /// Answer as the last `synced`/`syncing` mode did, after `secs` seconds (tokio time).
    Slow {
        /// Delay in seconds.
        secs: u64,
    },
}

impl MoneroMode {
    fn behaviour(&self) -> Behaviour {
        match self {
            MoneroMode::Down => Behaviour::Down,
            MoneroMode::Garbage => Behaviour::Garbage,
            MoneroMode::Slow { secs } => Behaviour::slow_secs(*secs),
            MoneroMode::Synced { .. } | MoneroMode::Syncing { .. } | MoneroMode::Busy => {
                Behaviour::Normal
            }
        }
    }
}

/// Realm monerod's HTTP server uses in its digest challenges.
pub const DIGEST_REALM: &str = "monero-rpc";
/// `version` a non-restricted fake reports (the format of `MONERO_VERSION_FULL`).
pub const VERSION: &str = "0.18.3.4-release";
/// Default `database_size`: 85 GiB, about a pruned mainnet node.
pub const DEFAULT_DATABASE_SIZE: u64 = 85 * 1024 * 1024 * 1024;

const FIVE_GIB: u64 = 5 * 1024 * 1024 * 1024;
/// Seconds per Monero block (difficulty target).
const BLOCK_TARGET_SECS: u64 = 120;
/// Adjusted time of height 0 in the fake's made-up chain (any fixed value: no wall clock here).
const CHAIN_EPOCH: u64 = 1_397_818_193;
const DIFFICULTY: u64 = 412_345_678_901;

/// The chain data behind a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Synced { height: u64 },
    Syncing { height: u64, target: u64 },
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    restricted: bool,
    database_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            restricted: false,
            database_size: DEFAULT_DATABASE_SIZE,
        }
    }
}

/// The `result` object of `get_info` for `mode`, with every key a real monerod v0.18 sends
/// (unrestricted RPC, default database size). Modes without chain data (`down`, `garbage`,
/// `slow`) give the synced-at-0 document.
pub fn get_info_result(mode: &MoneroMode) -> Value {
    let chain = match *mode {
        MoneroMode::Synced { height } => Chain::Synced { height },
        MoneroMode::Syncing { height, target } => Chain::Syncing { height, target },
        MoneroMode::Busy => Chain::Busy,
        MoneroMode::Down | MoneroMode::Garbage | MoneroMode::Slow { .. } => {
            Chain::Synced { height: 0 }
        }
    };
    result_for(chain, &Options::default())
}

/// A 64-hex-digit block id derived from `height` (deterministic, not a real hash).
fn block_hash(height: u64) -> String {
    let mut x = height.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = String::with_capacity(64);
    for _ in 0..4 {
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        out.push_str(&format!("{x:016x}"));
    }
    out
}

fn result_for(chain: Chain, opts: &Options) -> Value {
    let (height, target_height, synchronized, busy_syncing) = match chain {
        Chain::Synced { height } => (height, 0, true, false),
        Chain::Syncing { height, target } => (height, target, false, true),
        Chain::Busy => return zeroed_busy(),
    };
    let cumulative = u128::from(DIFFICULTY) * u128::from(height);
    let (cum_lo, cum_hi) = (cumulative as u64, (cumulative >> 64) as u64);
    let r = opts.restricted;
    let database_size = if r {
        opts.database_size
            .div_ceil(FIVE_GIB)
            .saturating_mul(FIVE_GIB)
    } else {
        opts.database_size
    };
    json!({
        "adjusted_time": CHAIN_EPOCH + height.saturating_sub(1) * BLOCK_TARGET_SECS,
        "alt_blocks_count": 0,
        "block_size_limit": 600_000,
        "block_size_median": 300_000,
        "block_weight_limit": 600_000,
        "block_weight_median": 300_000,
        "bootstrap_daemon_address": "",
        "busy_syncing": busy_syncing,
        "credits": 0,
        "cumulative_difficulty": cum_lo,
        "cumulative_difficulty_top64": cum_hi,
        "database_size": database_size,
        "difficulty": DIFFICULTY,
        "difficulty_top64": 0,
        "free_space": if r { u64::MAX } else { 512_000_000_000u64 },
        "grey_peerlist_size": 4_812,
        "height": height,
        "height_without_bootstrap": if r { 0 } else { height },
        "incoming_connections_count": if synchronized { 14 } else { 0 },
        "mainnet": true,
        "nettype": "mainnet",
        "offline": false,
        "outgoing_connections_count": 12,
        "restricted": r,
        "rpc_connections_count": 1,
        "stagenet": false,
        "start_time": if r { 0 } else { CHAIN_EPOCH },
        "status": "OK",
        "synchronized": synchronized,
        "target": BLOCK_TARGET_SECS,
        "target_height": target_height,
        "testnet": false,
        "top_block_hash": block_hash(height.saturating_sub(1)),
        "top_hash": "",
        "tx_count": height.saturating_mul(9),
        "tx_pool_size": if synchronized { 23 } else { 0 },
        "untrusted": false,
        "update_available": false,
        "version": if r { "" } else { VERSION },
        "was_bootstrap_ever_used": false,
        "white_peerlist_size": 1_000,
        "wide_cumulative_difficulty": format!("0x{cumulative:x}"),
        "wide_difficulty": format!("0x{DIFFICULTY:x}"),
    })
}

/// The BUSY document: the zero-initialised response with `status: "BUSY"`.
fn zeroed_busy() -> Value {
    json!({
        "adjusted_time": 0, "alt_blocks_count": 0, "block_size_limit": 0, "block_size_median": 0,
        "block_weight_limit": 0, "block_weight_median": 0, "bootstrap_daemon_address": "",
        "busy_syncing": false, "credits": 0, "cumulative_difficulty": 0,
        "cumulative_difficulty_top64": 0, "database_size": 0, "difficulty": 0,
        "difficulty_top64": 0, "free_space": 0, "grey_peerlist_size": 0, "height": 0,
        "height_without_bootstrap": 0, "incoming_connections_count": 0, "mainnet": false,
        "nettype": "", "offline": false, "outgoing_connections_count": 0, "restricted": false,
        "rpc_connections_count": 0, "stagenet": false, "start_time": 0, "status": "BUSY",
        "synchronized": false, "target": 0, "target_height": 0, "testnet": false,
        "top_block_hash": "", "top_hash": "", "tx_count": 0, "tx_pool_size": 0,
        "untrusted": false, "update_available": false, "version": "",
        "was_bootstrap_ever_used": false, "white_peerlist_size": 0,
        "wide_cumulative_difficulty": "", "wide_difficulty": "",
    })
}

/// Digest credentials; `Debug` never shows the password.
#[derive(Clone)]
struct Credentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How many connections' nonces the fake remembers; the oldest is forgotten first (a client
/// answers a challenge right away, so only a connection idle through this many newer ones is
/// challenged again).
const REMEMBERED_CONNECTIONS: usize = 256;

/// Digest nonces: one per connection, issued at its first challenge.
#[derive(Debug)]
struct Nonces {
    /// Distinguishes this fake's nonces from another instance's.
    instance: u64,
    /// Nonces issued so far (each new one is numbered; no randomness: runs replay).
    issued: u64,
    /// The nonce of each recent connection, oldest first.
    by_connection: VecDeque<(ConnectionId, String)>,
    /// The nonce for requests that carry no [`ConnectionId`] (served outside `serve`).
    unbound: String,
}

impl Nonces {
    fn new(instance: u64) -> Self {
        let mut nonces = Self {
            instance,
            issued: 0,
            by_connection: VecDeque::new(),
            unbound: String::new(),
        };
        nonces.unbound = nonces.fresh();
        nonces
    }

    fn fresh(&mut self) -> String {
        self.issued += 1;
        format!(
            "{:016x}{:016x}",
            0x7069_7468_6561_6400_u64 ^ self.instance,
            self.issued
        )
    }

    /// The nonce a request on `connection` must answer, if that connection was challenged.
    fn expected(&self, connection: Option<ConnectionId>) -> Option<&str> {
        match connection {
            None => Some(&self.unbound),
            Some(id) => self
                .by_connection
                .iter()
                .find(|(c, _)| *c == id)
                .map(|(_, n)| n.as_str()),
        }
    }

    /// The nonce to challenge `connection` with: its own, issued now if it has none yet.
    fn challenge(&mut self, connection: Option<ConnectionId>) -> String {
        let Some(id) = connection else {
            return self.unbound.clone();
        };
        if let Some(nonce) = self.expected(Some(id)) {
            return nonce.to_owned();
        }
        let nonce = self.fresh();
        if self.by_connection.len() >= REMEMBERED_CONNECTIONS {
            self.by_connection.pop_front();
        }
        self.by_connection.push_back((id, nonce.clone()));
        nonce
    }
}

/// Digest auth: who may call, and the nonces handed out.
#[derive(Debug)]
struct Auth {
    credentials: Credentials,
    nonces: Nonces,
}

#[derive(Debug)]
struct MoneroState {
    mode: MoneroMode,
    /// The chain the last `synced`/`syncing` mode described (what `slow` answers with).
    last_chain: Chain,
    options: Options,
    auth: Option<Auth>,
    /// The last `result` document served, serialized, with what it was drawn from: it changes
    /// only when the chain or the options do, and clients ask for it every cycle.
    rendered: Option<(Chain, Options, Arc<RawValue>)>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<MoneroState>,
    requests: AtomicU64,
}

/// Handle to a fake monerod. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeMonerod {
    shared: Arc<Shared>,
}

/// Counts instances so each gets its own digest nonces (no randomness: runs replay).
static INSTANCES: AtomicU64 = AtomicU64::new(0);

const SPEC: ControlSpec = ControlSpec {
    fake: "monerod",
    example: r#"{"mode":"syncing","height":100,"target":200}"#,
};

impl FakeMonerod {
    /// A fake answering as `mode` says.
    pub fn new(mode: MoneroMode) -> Self {
        let last_chain = match mode {
            MoneroMode::Synced { height } => Chain::Synced { height },
            MoneroMode::Syncing { height, target } => Chain::Syncing { height, target },
            _ => Chain::Synced { height: 0 },
        };
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(MoneroState {
                    mode,
                    last_chain,
                    options: Options::default(),
                    auth: None,
                    rendered: None,
                }),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// Require HTTP digest auth (as `monerod --rpc-login user:password`): a missing or wrong
    /// `Authorization` gets `401` with the digest challenge. Each connection gets its own nonce,
    /// valid only on that connection (see the module docs).
    pub fn with_digest_auth(self, user: &str, password: &str) -> Self {
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.state).auth = Some(Auth {
            credentials: Credentials {
                user: user.to_owned(),
                password: password.to_owned(),
            },
            nonces: Nonces::new(n),
        });
        self
    }

    /// Answer as a restricted (public) RPC does: see the module docs for what changes.
    pub fn with_restricted(self, restricted: bool) -> Self {
        lock(&self.shared.state).options.restricted = restricted;
        self
    }

    /// Report `bytes` as `database_size` (default [`DEFAULT_DATABASE_SIZE`]).
    pub fn with_database_size(self, bytes: u64) -> Self {
        lock(&self.shared.state).options.database_size = bytes;
        self
    }

    /// Change what the fake answers from the next request on.
    pub fn set_mode(&self, mode: MoneroMode) {
        let mut st = lock(&self.shared.state);
        match mode {
            MoneroMode::Synced { height } => st.last_chain = Chain::Synced { height },
            MoneroMode::Syncing { height, target } => {
                st.last_chain = Chain::Syncing { height, target };
            }
            _ => {}
        }
        st.mode = mode;
    }

    /// The current mode.
    pub fn mode(&self) -> MoneroMode {
        lock(&self.shared.state).mode.clone()
    }

    /// How many `get_info` requests reached the fake (any path, any mode, authenticated or not,
    /// including those it then dropped, garbled or delayed).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The monerod wire routes only (`/json_rpc`, `/get_info`, `/getinfo`), honouring the mode.
    pub fn wire_router(&self) -> Router {
        let routes = Router::new()
            .route("/json_rpc", post(json_rpc))
            .route("/get_info", any(get_info_plain))
            .route("/getinfo", any(get_info_plain))
            .with_state(self.clone());
        let auth_fake = self.clone();
        let routes = routes.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let fake = auth_fake.clone();
                async move { fake.check_auth(req, next).await }
            },
        ));
        let behaviour_fake = self.clone();
        let routes = behaviour::wrap(routes, move || {
            lock(&behaviour_fake.shared.state).mode.behaviour()
        });
        let count_fake = self.clone();
        routes.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let fake = count_fake.clone();
                async move { fake.count(req, next).await }
            },
        ))
    }

    /// `POST /control` (a [`MoneroMode`] as JSON) and `GET /control`
    /// (`{"mode":…, …, "requests": n, "digest_auth": bool}`).
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let mode: MoneroMode = SPEC.parse(body)?;
                apply_fake.set_mode(mode);
                Ok(())
            },
            move || view_fake.view(),
        )
    }

    /// Wire routes plus the control API on one port.
    pub fn router(&self) -> Router {
        self.wire_router().merge(self.control_router())
    }

    fn view(&self) -> Value {
        let st = lock(&self.shared.state);
        let mut v = serde_json::to_value(&st.mode).unwrap_or_else(|_| json!({}));
        if let Value::Object(m) = &mut v {
            m.insert("requests".into(), json!(self.requests()));
            m.insert("digest_auth".into(), json!(st.auth.is_some()));
            m.insert("restricted".into(), json!(st.options.restricted));
        }
        v
    }

    /// The `result` document for the current state, serialized once per chain and options.
    fn current_result(&self) -> Arc<RawValue> {
        let mut st = lock(&self.shared.state);
        let chain = match st.mode {
            MoneroMode::Busy => Chain::Busy,
            _ => st.last_chain,
        };
        if let Some((c, o, result)) = &st.rendered {
            if *c == chain && *o == st.options {
                return result.clone();
            }
        }
        let result: Arc<RawValue> =
            match serde_json::value::to_raw_value(&result_for(chain, &st.options)) {
                Ok(raw) => raw.into(),
                // A `Value` always serializes; keep the type honest without a panic path.
                Err(_) => return RawValue::NULL.to_owned().into(),
            };
        st.rendered = Some((chain, st.options.clone(), result.clone()));
        result
    }

    /// Count `get_info` requests before any behaviour or auth decides their fate.
    async fn count(&self, req: Request, next: Next) -> Response {
        let path = req.uri().path();
        if path == "/get_info" || path == "/getinfo" {
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            return next.run(req).await;
        }
        if path != "/json_rpc" {
            return next.run(req).await;
        }
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        // Only the method is read (not a whole `Value` tree: this runs on every request).
        #[derive(serde::Deserialize)]
        struct Method<'a> {
            #[serde(borrow)]
            method: Option<std::borrow::Cow<'a, str>>,
        }
        let is_get_info = serde_json::from_slice::<Method<'_>>(&bytes)
            .ok()
            .and_then(|m| m.method)
            .is_some_and(|m| m == "get_info");
        if is_get_info {
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
        }
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    }

    async fn check_auth(&self, req: Request, next: Next) -> Response {
        let connection = req.extensions().get::<ConnectionId>().copied();
        let verdict = {
            let mut st = lock(&self.shared.state);
            match st.auth.as_mut() {
                None => Ok(()),
                Some(auth) => {
                    let ok = req
                        .headers()
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .zip(auth.nonces.expected(connection))
                        .is_some_and(|(v, nonce)| {
                            let uri = req.uri().path_and_query().map_or("/", |p| p.as_str());
                            digest_matches(&auth.credentials, nonce, req.method(), uri, v)
                        });
                    if ok {
                        Ok(())
                    } else {
                        Err(auth.nonces.challenge(connection))
                    }
                }
            }
        };
        match verdict {
            Ok(()) => next.run(req).await,
            Err(nonce) => unauthorized(&nonce),
        }
    }
}

/// Whether `authorization` is a valid digest response for `creds`, the connection's `nonce`,
/// `method` and the request's `uri` (the `uri` the client signed must be the one it requested).
fn digest_matches(
    creds: &Credentials,
    nonce: &str,
    method: &Method,
    uri: &str,
    authorization: &str,
) -> bool {
    let Ok(given) = digest_auth::AuthorizationHeader::parse(authorization) else {
        return false;
    };
    if given.username != creds.user
        || given.realm != DIGEST_REALM
        || given.nonce != nonce
        || given.uri != uri
    {
        return false;
    }
    let mut expected = given.clone();
    let ctx = digest_auth::AuthContext::new_with_method(
        creds.user.as_str(),
        creds.password.as_str(),
        given.uri.as_str(),
        Option::<&[u8]>::None,
        digest_auth::HttpMethod::from(method.as_str()),
    );
    expected.digest(&ctx);
    expected.response == given.response
}

/// epee's 401: an HTML body and one challenge per algorithm (MD5, then MD5-sess).
fn unauthorized(nonce: &str) -> Response {
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>Unauthorized Access</title></head><body><h1>401 Unauthorized</h1></body></html>",
    )
        .into_response();
    for algorithm in ["MD5", "MD5-sess"] {
        let challenge = format!(
            "Digest qop=\"auth\", algorithm={algorithm}, realm=\"{DIGEST_REALM}\", nonce=\"{nonce}\", stale=false"
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            resp.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

async fn json_rpc(State(fake): State<FakeMonerod>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Call<'a> {
        #[serde(default)]
        id: Value,
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    let call = match serde_json::from_slice::<Call<'_>>(&body) {
        Ok(call) => call,
        // JSON, but not an object with a string method: no such method.
        Err(_) => match serde_json::from_slice::<Value>(&body) {
            Ok(other) => Call {
                id: other.get("id").cloned().unwrap_or(Value::Null),
                method: None,
            },
            Err(_) => {
                return Json(json!({
                    "id": 0, "jsonrpc": "2.0",
                    "error": {"code": -32700, "message": "Parse error"},
                }))
                .into_response()
            }
        },
    };
    match call.method.as_deref() {
        Some("get_info") => {
            #[derive(serde::Serialize)]
            struct Envelope<'a> {
                id: &'a Value,
                jsonrpc: &'static str,
                result: &'a RawValue,
            }
            let result = fake.current_result();
            let envelope = Envelope {
                id: &call.id,
                jsonrpc: "2.0",
                result: &result,
            };
            match serde_json::to_vec(&envelope) {
                Ok(out) => json_response(out),
                Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            }
        }
        _ => Json(json!({
            "id": call.id, "jsonrpc": "2.0",
            "error": {"code": -32601, "message": "Method not found"},
        }))
        .into_response(),
    }
}

async fn get_info_plain(State(fake): State<FakeMonerod>) -> Response {
    json_response(Bytes::copy_from_slice(
        fake.current_result().get().as_bytes(),
    ))
}

fn json_response(body: impl Into<Body>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_per_connection_and_the_oldest_is_forgotten() {
        let mut nonces = Nonces::new(7);
        let (a, b) = (ConnectionId::next(), ConnectionId::next());
        assert_eq!(nonces.expected(Some(a)), None, "not challenged yet");
        let na = nonces.challenge(Some(a));
        let nb = nonces.challenge(Some(b));
        assert_ne!(na, nb);
        assert_eq!(nonces.challenge(Some(a)), na, "a re-challenge repeats it");
        assert_eq!(nonces.expected(Some(a)), Some(na.as_str()));
        // Without a connection id: one nonce for everything, always expected.
        let unbound = nonces.challenge(None);
        assert_eq!(nonces.expected(None), Some(unbound.as_str()));
        assert!(unbound != na && unbound != nb);
        for _ in 0..REMEMBERED_CONNECTIONS {
            nonces.challenge(Some(ConnectionId::next()));
        }
        assert_eq!(nonces.by_connection.len(), REMEMBERED_CONNECTIONS);
        assert_eq!(nonces.expected(Some(a)), None, "forgotten");
        assert_ne!(
            nonces.challenge(Some(a)),
            na,
            "a forgotten connection gets a fresh one"
        );
    }

    #[test]
    fn synced_reports_target_zero_and_synchronized() {
        let r = get_info_result(&MoneroMode::Synced { height: 3_000_000 });
        assert_eq!(r["height"], 3_000_000);
        assert_eq!(r["target_height"], 0);
        assert_eq!(r["synchronized"], true);
        assert_eq!(r["busy_syncing"], false);
        assert_eq!(r["status"], "OK");
    }

    #[test]
    fn syncing_reports_target_above_height() {
        let r = get_info_result(&MoneroMode::Syncing {
            height: 100,
            target: 200,
        });
        assert_eq!(r["height"], 100);
        assert_eq!(r["target_height"], 200);
        assert_eq!(r["synchronized"], false);
        assert_eq!(r["busy_syncing"], true);
    }

    #[test]
    fn busy_has_the_same_key_set_as_ok() {
        let ok = get_info_result(&MoneroMode::Synced { height: 1 });
        let busy = get_info_result(&MoneroMode::Busy);
        assert_eq!(busy["status"], "BUSY");
        let keys = |v: &Value| {
            v.as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(keys(&ok), keys(&busy));
        assert_eq!(keys(&ok).len(), 43);
    }

    #[test]
    fn restricted_rounds_database_size_to_5_gib() {
        let opts = Options {
            restricted: true,
            database_size: 6 * 1024 * 1024 * 1024,
        };
        let r = result_for(Chain::Synced { height: 5 }, &opts);
        assert_eq!(r["database_size"], 10u64 * 1024 * 1024 * 1024);
        assert_eq!(r["version"], "");
        assert_eq!(r["restricted"], true);
    }

    #[test]
    fn cumulative_difficulty_splits_into_low_and_top64() {
        let r = get_info_result(&MoneroMode::Synced { height: 3_000_000 });
        let cum = u128::from(DIFFICULTY) * 3_000_000;
        assert_eq!(r["cumulative_difficulty"], cum as u64);
        assert_eq!(r["cumulative_difficulty_top64"], (cum >> 64) as u64);
        assert_eq!(r["wide_cumulative_difficulty"], format!("0x{cum:x}"));
    }

    #[test]
    fn mode_json_is_the_control_schema() {
        let m: MoneroMode =
            serde_json::from_str(r#"{"mode":"syncing","height":100,"target":200}"#).unwrap();
        assert_eq!(
            m,
            MoneroMode::Syncing {
                height: 100,
                target: 200
            }
        );
        let e = serde_json::from_str::<MoneroMode>(r#"{"mode":"synced","heigth":1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("heigth"), "{e}");
        let e = serde_json::from_str::<MoneroMode>(r#"{"mode":"sunk"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `sunk`"), "{e}");
    }
}
