//! monerod client: `get_info` over JSON-RPC, with HTTP digest auth when `--rpc-login` is set.
//!
//! Wire facts (checked against monerod v0.18 on regtest, see
//! `runtime/tests/fixtures/monerod/PROVENANCE.md`):
//! - `POST /json_rpc` `{"jsonrpc":"2.0","id":"0","method":"get_info"}` answers `200` with
//!   `{"id":"0","jsonrpc":"2.0","result":{…,"status":"OK",…}}`. A core that is not ready answers
//!   `status: "BUSY"`; a JSON-RPC failure is `{"error":{"code":…,"message":…}}`.
//! - `target_height` is `0` once the node considers itself synchronized (and also before it has
//!   seen any peer); mid-sync it is the best height peers reported. A node may flip
//!   `synchronized` to true a batch before `height` reaches `target_height`.
//! - With `--rpc-login`, a request without valid credentials gets `401` with two
//!   `WWW-Authenticate: Digest` challenges (MD5, MD5-sess). The nonce belongs to the
//!   *connection*: the answer must be sent on the connection that got the challenge.
//!
//! The client never decides: `BUSY` is [`MoneroError::Busy`], and the control code chooses to
//! count it as unreachable.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde::Serialize;

use super::json;
use super::session::Session;
use crate::io::http::{Exchange, HttpError};
use crate::io::SharedConnector;

/// The JSON-RPC request body for `get_info`.
pub const GET_INFO_REQUEST: &str = r#"{"jsonrpc":"2.0","id":"0","method":"get_info"}"#;

/// Why monerod gave no reading.
///
/// No message ever contains the RPC password (or the username's password half of a URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneroError {
    /// The URL cannot be used (`MONERO_RPC_URL`).
    #[error("MONERO_RPC_URL: invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with any userinfo replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// TCP connect, the HTTP handshake, or the connection failed.
    #[error("monerod at {target} is unreachable: {reason}")]
    Unreachable {
        /// `host:port`.
        target: String,
        /// The underlying error.
        reason: String,
    },
    /// No complete answer within the deadline.
    #[error("monerod at {target} did not answer within {timeout:?}")]
    Timeout {
        /// `host:port`.
        target: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// An HTTP status other than `200` (and other than `401`, which is [`Self::Unauthorized`]).
    #[error("monerod answered HTTP {code}")]
    BadStatus {
        /// The HTTP status code.
        code: u16,
    },
    /// The body is not a `get_info` reply.
    #[error("monerod sent a malformed get_info reply: {reason}")]
    Malformed {
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The body exceeded the limit.
    #[error("monerod sent a reply larger than {limit_bytes} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// `status: "BUSY"`: the core is not ready to answer.
    #[error("monerod is busy (status \"BUSY\")")]
    Busy,
    /// A JSON-RPC error object.
    #[error("monerod JSON-RPC error {code}: {message}")]
    Rpc {
        /// `error.code`.
        code: i64,
        /// `error.message`.
        message: String,
    },
    /// `401`: no credentials configured, no digest challenge, or the credentials were refused.
    #[error("monerod at {target} refused the RPC credentials (HTTP 401): {reason}")]
    Unauthorized {
        /// `host:port`.
        target: String,
        /// Which of the three it was.
        reason: &'static str,
    },
}

/// One `get_info` reading. Only what Pithead uses; see the module docs for the semantics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneroInfo {
    /// Chain length (top block height + 1).
    pub height: u64,
    /// Best height seen from peers while syncing; `0` when synchronized or before any peer.
    pub target_height: u64,
    /// The node considers itself synchronized.
    pub synchronized: bool,
    /// Blocks are being downloaded right now.
    pub busy_syncing: bool,
    /// The node runs with `--offline`.
    pub offline: bool,
    /// Database size in bytes (a restricted node rounds it up to a multiple of 5 GiB).
    pub database_size: Option<u64>,
    /// `mainnet`, `testnet`, `stagenet`, `fakechain`.
    pub nettype: Option<String>,
    /// Daemon version (empty, hence `None`, on a restricted RPC).
    pub version: Option<String>,
    /// The RPC is restricted (a public node).
    pub restricted: bool,
}

impl MoneroInfo {
    /// Whether the node is still catching up: *not* syncing ⇔ `synchronized`, or a known
    /// target (`target_height > 0`) that the height has reached.
    ///
    /// Deliberately stricter than the reference's "`target_height == 0` ⇒ synced": a real
    /// monerod that has just started and has no peer yet answers `synchronized: false,
    /// target_height: 0, height: 1` for a few seconds, which that rule reads as synced — the
    /// gate would release the miners on an empty chain (caught by
    /// `runtime/tests/contract_real_monerod_runtime.rs`). A synced node reports `synchronized:
    /// true`, so it needs no help from the target.
    pub fn is_syncing(&self) -> bool {
        let reached_target = self.target_height > 0 && self.height >= self.target_height;
        !(self.synchronized || reached_target)
    }

    /// Sync progress: `floor(height / target_height × 100)` while syncing, `100` otherwise.
    /// While syncing `height < target_height`, so this never shows 100 early; 0 while the
    /// target is unknown.
    pub fn percent(&self) -> u8 {
        if !self.is_syncing() {
            return 100;
        }
        if self.target_height == 0 {
            // No peer has told it the network height yet.
            return 0;
        }
        let percent = u128::from(self.height) * 100 / u128::from(self.target_height);
        u8::try_from(percent.min(99)).unwrap_or(99)
    }
}

/// Parses a `/json_rpc` `get_info` reply body. Pure: no I/O, never panics.
pub fn parse_get_info(body: &[u8]) -> Result<MoneroInfo, MoneroError> {
    let malformed = |reason: String| MoneroError::Malformed { reason };
    let doc = json::parse(body).map_err(malformed)?;
    let top = json::object(&doc, "the reply").map_err(malformed)?;
    if let Some(error) = top.get("error").filter(|e| !e.is_null()) {
        let error = json::object(error, "error").map_err(malformed)?;
        let code = error
            .get("code")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        let message = match error.get("message") {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        return Err(MoneroError::Rpc { code, message });
    }
    let result = top
        .get("result")
        .ok_or_else(|| malformed("result is missing".to_owned()))?;
    parse_get_info_result(result)
}

/// Parses the `result` object of `get_info` (also what the plain `/get_info` path answers).
pub fn parse_get_info_result(result: &serde_json::Value) -> Result<MoneroInfo, MoneroError> {
    let malformed = |reason: String| MoneroError::Malformed { reason };
    let r = json::object(result, "result").map_err(malformed)?;
    match r.get("status") {
        Some(serde_json::Value::String(s)) if s == "OK" => {}
        Some(serde_json::Value::String(s)) if s == "BUSY" => return Err(MoneroError::Busy),
        Some(serde_json::Value::String(s)) => {
            let shown: String = s.chars().take(64).collect();
            return Err(malformed(format!("status is {shown:?} (expected \"OK\")")));
        }
        Some(other) => {
            return Err(malformed(format!(
                "status is {} (expected a string)",
                json::kind(other)
            )))
        }
        None => return Err(malformed("status is missing".to_owned())),
    }
    Ok(MoneroInfo {
        height: json::req_u64(r, "height").map_err(malformed)?,
        target_height: json::req_u64(r, "target_height").map_err(malformed)?,
        synchronized: json::bool_or(r, "synchronized", false).map_err(malformed)?,
        busy_syncing: json::bool_or(r, "busy_syncing", false).map_err(malformed)?,
        offline: json::bool_or(r, "offline", false).map_err(malformed)?,
        database_size: json::opt_u64(r, "database_size").map_err(malformed)?,
        nettype: json::opt_string(r, "nettype").map_err(malformed)?,
        version: json::opt_string(r, "version").map_err(malformed)?,
        restricted: json::bool_or(r, "restricted", false).map_err(malformed)?,
    })
}

/// RPC credentials; `Debug` never shows the password.
#[derive(Clone)]
struct Credentials {
    user: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A monerod RPC client. Cheap to clone.
#[derive(Clone)]
pub struct MoneroClient {
    connector: SharedConnector,
    host: String,
    port: u16,
    target: String,
    /// `http://host:port/…/json_rpc`.
    json_rpc_url: String,
    /// Origin-form path of `json_rpc_url` (the digest `uri`).
    json_rpc_path: String,
    credentials: Option<Arc<Credentials>>,
    exchange: Exchange,
}

impl fmt::Debug for MoneroClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoneroClient")
            .field("json_rpc_url", &self.json_rpc_url)
            .field("credentials", &self.credentials)
            .field("exchange", &self.exchange)
            .finish()
    }
}

/// `url` with any userinfo replaced by `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        (None, Some(at)) => format!("***{}", &url[at..]),
        _ => url.to_owned(),
    }
}

impl MoneroClient {
    /// A client for the monerod RPC at `url` (`MONERO_RPC_URL`, e.g. `http://monerod:18081`),
    /// answering digest challenges with `credentials` (`MONERO_RPC_USER`/`MONERO_RPC_PASSWORD`)
    /// when given. Credentials embedded in the URL are refused: they would end up in logs.
    pub fn new(
        connector: SharedConnector,
        url: &str,
        credentials: Option<(String, String)>,
        exchange: Exchange,
    ) -> Result<Self, MoneroError> {
        let invalid = |reason| MoneroError::InvalidUrl {
            url: redact(url),
            reason,
        };
        let base = crate::io::http::parse_base_url(url).map_err(|reason| {
            if reason == crate::io::http::CREDENTIALS_IN_URL {
                invalid("credentials in the URL are not accepted (use MONERO_RPC_USER/MONERO_RPC_PASSWORD)")
            } else {
                invalid(reason)
            }
        })?;
        if base.has_query {
            return Err(invalid("a query string is not expected"));
        }
        let (host, port, base_path) = (base.host.as_str(), base.port, base.path.as_str());
        let json_rpc_path = format!("{base_path}/json_rpc");
        let json_rpc_url = format!("http://{}{json_rpc_path}", base.authority);
        Ok(Self {
            connector,
            host: host.to_owned(),
            port,
            target: format!("{host}:{port}"),
            json_rpc_url,
            json_rpc_path,
            credentials: credentials
                .map(|(user, password)| Arc::new(Credentials { user, password })),
            exchange,
        })
    }

    /// `host:port` this client dials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Reads `get_info`. One connection per call; a digest challenge is answered once, on the
    /// same connection. The whole conversation is bounded by the exchange's timeout and every
    /// body by its limit.
    pub async fn get_info(&self) -> Result<MoneroInfo, MoneroError> {
        let body = Bytes::from_static(GET_INFO_REQUEST.as_bytes());
        let response = self.post_json_rpc(body).await?;
        match response.status() {
            StatusCode::OK => parse_get_info(response.body()),
            StatusCode::UNAUTHORIZED => Err(MoneroError::Unauthorized {
                target: self.target.clone(),
                reason: if self.credentials.is_some() {
                    "the credentials were refused"
                } else {
                    "the node requires credentials and none are configured"
                },
            }),
            status => Err(MoneroError::BadStatus {
                code: status.as_u16(),
            }),
        }
    }

    /// `POST /json_rpc` with `body`, answering one digest challenge. Returns the final response
    /// whatever its status (the caller maps it).
    pub async fn post_json_rpc(&self, body: Bytes) -> Result<Response<Bytes>, MoneroError> {
        let timeout = self.exchange.timeout;
        match tokio::time::timeout(timeout, self.converse(body)).await {
            Ok(result) => result,
            Err(_) => Err(MoneroError::Timeout {
                target: self.target.clone(),
                timeout,
            }),
        }
    }

    async fn converse(&self, body: Bytes) -> Result<Response<Bytes>, MoneroError> {
        let limit = self.exchange.limit_bytes;
        let mut session = Session::open(self.connector.as_ref(), &self.host, self.port)
            .await
            .map_err(|e| self.http_error(e))?;
        let first = session
            .exchange(self.request(body.clone(), None)?, limit)
            .await
            .map_err(|e| self.http_error(e))?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let Some(credentials) = self.credentials.as_deref() else {
            return Ok(first);
        };
        let Some(authorization) = self.answer_challenge(first.headers(), credentials, &body) else {
            return Err(MoneroError::Unauthorized {
                target: self.target.clone(),
                reason: "HTTP 401 without a usable digest challenge",
            });
        };
        if !session.is_open() {
            // The peer closed after the challenge. A node that keys nonces by connection will
            // refuse the answer on a new one (and we report that), others accept it.
            session = Session::open(self.connector.as_ref(), &self.host, self.port)
                .await
                .map_err(|e| self.http_error(e))?;
        }
        session
            .exchange(self.request(body, Some(authorization))?, limit)
            .await
            .map_err(|e| self.http_error(e))
    }

    fn request(
        &self,
        body: Bytes,
        authorization: Option<HeaderValue>,
    ) -> Result<Request<Bytes>, MoneroError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, value);
        }
        crate::io::http::request(Method::POST, &self.json_rpc_url, headers, body)
            .map_err(|e| self.http_error(e))
    }

    /// The `Authorization` value answering the first usable digest challenge (plain MD5
    /// preferred over MD5-sess), or `None` when there is none.
    fn answer_challenge(
        &self,
        headers: &HeaderMap,
        credentials: &Credentials,
        body: &Bytes,
    ) -> Option<HeaderValue> {
        let mut challenges: Vec<digest_auth::WwwAuthenticateHeader> = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| {
                v.trim_start()
                    .get(..6)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("digest"))
            })
            .filter_map(|v| digest_auth::parse(v).ok())
            .collect();
        challenges.sort_by_key(|c| c.algorithm.sess);
        let mut challenge = challenges.into_iter().next()?;
        let context = digest_auth::AuthContext::new_post(
            credentials.user.as_str(),
            credentials.password.as_str(),
            self.json_rpc_path.as_str(),
            Some(body.as_ref()),
        );
        let answer = challenge.respond(&context).ok()?;
        HeaderValue::from_str(&answer.to_header_string()).ok()
    }

    fn http_error(&self, error: HttpError) -> MoneroError {
        match error {
            HttpError::InvalidUrl { reason, .. } => MoneroError::InvalidUrl {
                url: redact(&self.json_rpc_url),
                reason,
            },
            HttpError::Unreachable { source, .. } => MoneroError::Unreachable {
                target: self.target.clone(),
                reason: source.to_string(),
            },
            HttpError::Timeout { timeout, .. } => MoneroError::Timeout {
                target: self.target.clone(),
                timeout,
            },
            HttpError::TooLarge { limit_bytes, .. } => MoneroError::TooLarge { limit_bytes },
            HttpError::Protocol { message, .. } => MoneroError::Unreachable {
                target: self.target.clone(),
                reason: message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::TokioConnector;

    fn info(height: u64, target_height: u64, synchronized: bool) -> MoneroInfo {
        MoneroInfo {
            height,
            target_height,
            synchronized,
            busy_syncing: false,
            offline: false,
            database_size: None,
            nettype: None,
            version: None,
            restricted: false,
        }
    }

    #[test]
    fn syncing_rule_and_its_edges() {
        assert!(info(100, 200, false).is_syncing());
        assert_eq!(info(100, 200, false).percent(), 50);
        assert_eq!(info(199, 200, false).percent(), 99);
        // height == target with synchronized=false is NOT syncing.
        assert!(!info(200, 200, false).is_syncing());
        assert_eq!(info(200, 200, false).percent(), 100);
        // target 0 without synchronized is a node with no peer yet: still syncing, 0 %.
        assert!(info(1, 0, false).is_syncing());
        assert_eq!(info(1, 0, false).percent(), 0);
        // target 0 with synchronized is a synced node.
        assert!(!info(3_000, 0, true).is_syncing());
        // synchronized wins even when height lags target (real monerod does this for a batch).
        assert!(!info(281, 301, true).is_syncing());
        assert_eq!(info(281, 301, true).percent(), 100);
        assert_eq!(info(0, 1, false).percent(), 0);
        assert_eq!(info(u64::MAX - 1, u64::MAX, false).percent(), 99);
    }

    #[test]
    fn parses_ok_busy_rpc_error_and_refuses_bad_shapes() {
        let ok =
            br#"{"id":"0","jsonrpc":"2.0","result":{"status":"OK","height":10,"target_height":20,
            "synchronized":false,"busy_syncing":true,"offline":false,"database_size":81920,
            "nettype":"fakechain","version":"","restricted":false}}"#;
        let parsed = parse_get_info(ok).unwrap();
        assert_eq!(parsed.height, 10);
        assert_eq!(parsed.target_height, 20);
        assert!(parsed.busy_syncing);
        assert_eq!(parsed.database_size, Some(81920));
        assert_eq!(parsed.nettype.as_deref(), Some("fakechain"));
        assert_eq!(parsed.version, None);

        let busy = br#"{"result":{"status":"BUSY","height":0,"target_height":0}}"#;
        assert_eq!(parse_get_info(busy), Err(MoneroError::Busy));

        let rpc = br#"{"error":{"code":-32601,"message":"Method not found"}}"#;
        assert_eq!(
            parse_get_info(rpc),
            Err(MoneroError::Rpc {
                code: -32601,
                message: "Method not found".into()
            })
        );

        for (body, needle) in [
            (&b"<html>"[..], "not JSON"),
            (br#"[]"#, "an array"),
            (
                br#"{"result":{"status":"OK","target_height":1}}"#,
                "height is missing",
            ),
            (
                br#"{"result":{"status":"OK","height":"1","target_height":1}}"#,
                "height is a string",
            ),
            (
                br#"{"result":{"status":"OK","height":-5,"target_height":1}}"#,
                "height is -5",
            ),
            (br#"{"result":{"height":1}}"#, "status is missing"),
            (
                br#"{"result":{"status":"NOPE","height":1,"target_height":0}}"#,
                "NOPE",
            ),
            (br#"{"id":"0"}"#, "result is missing"),
        ] {
            match parse_get_info(body) {
                Err(MoneroError::Malformed { reason }) => {
                    assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn url_validation_never_echoes_credentials() {
        let c: SharedConnector = Arc::new(TokioConnector);
        let e = MoneroClient::new(
            c.clone(),
            "http://bob:hunter2@monerod:18081",
            None,
            Exchange::default(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(matches!(e, MoneroError::InvalidUrl { .. }));
        for bad in ["https://monerod:18081", "monerod:18081", "", "http://"] {
            assert!(
                MoneroClient::new(c.clone(), bad, None, Exchange::default()).is_err(),
                "{bad:?} accepted"
            );
        }
        let ok = MoneroClient::new(c, "http://monerod:18081/", None, Exchange::default()).unwrap();
        assert_eq!(ok.target(), "monerod:18081");
        assert_eq!(ok.json_rpc_url, "http://monerod:18081/json_rpc");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c: SharedConnector = Arc::new(TokioConnector);
        let client = MoneroClient::new(
            c,
            "http://monerod:18081",
            Some(("user".into(), "hunter2".into())),
            Exchange::default(),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("hunter2"));
    }
}
