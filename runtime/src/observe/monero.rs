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
//! count it as unreachable; whether the node is still syncing is
//! [`crate::control::chain::monero_is_syncing`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::daemon_text;
use super::wire::{self, WireError};
use crate::io::http::Exchange;
use crate::io::{Endpoint, HttpSession, SharedConnector, Target, TransportError};

/// The JSON-RPC request body for `get_info`.
pub const GET_INFO_REQUEST: &str = r#"{"jsonrpc":"2.0","id":"0","method":"get_info"}"#;

/// Why monerod gave no reading.
///
/// No message ever contains the RPC password (or the username's password half of a URL).
#[derive(Debug, thiserror::Error)]
pub enum MoneroError {
    /// No complete HTTP answer: connect failed, the connection broke, the deadline passed, or
    /// the body was too large.
    #[error("monerod at {0}")]
    Transport(#[from] TransportError),
    /// An HTTP status other than `200` (and other than `401`, which is [`Self::Unauthorized`]).
    #[error("monerod answered HTTP {code}")]
    BadStatus {
        /// The HTTP status code.
        code: u16,
    },
    /// The body is not a `get_info` reply.
    #[error("monerod sent a malformed get_info reply: {source}")]
    Malformed {
        /// What is wrong, naming the field.
        #[from]
        source: WireError,
    },
    /// `status: "BUSY"`: the core is not ready to answer.
    #[error("monerod is busy (status \"BUSY\")")]
    Busy,
    /// A JSON-RPC error object.
    #[error("monerod JSON-RPC error {code}: {message}")]
    Rpc {
        /// `error.code`.
        code: i64,
        /// `error.message`, one printable line of at most [`daemon_text::MAX_CHARS`]
        /// characters ([`daemon_text::clean`]).
        message: String,
    },
    /// `401`: no credentials configured, no digest challenge, or the credentials were refused.
    #[error("monerod at {target} refused the RPC credentials (HTTP 401): {reason}")]
    Unauthorized {
        /// What was dialled.
        target: Target,
        /// Which of the three it was.
        reason: &'static str,
    },
}

/// One `get_info` reading. Only what Pithead uses; see the module docs for the semantics. The
/// daemon's free text (`nettype`, `version`) is [`daemon_text::clean`]ed.
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

/// The JSON-RPC envelope.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "wire::opt_object")]
    error: Option<RpcErrorWire>,
    #[serde(default, deserialize_with = "wire::opt_object")]
    result: Option<GetInfoWire>,
}

/// A JSON-RPC error object. Its fields are shown, never decided on, so any type is taken.
#[derive(Deserialize)]
struct RpcErrorWire {
    #[serde(default)]
    code: serde_json::Value,
    #[serde(default)]
    message: serde_json::Value,
}

/// The `result` of `get_info`, the fields Pithead uses. `status` comes first and the heights
/// are checked only after it: a `BUSY` core's other fields mean nothing.
#[derive(Deserialize)]
struct GetInfoWire {
    status: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_count")]
    height: Option<u64>,
    #[serde(default, deserialize_with = "wire::opt_count")]
    target_height: Option<u64>,
    #[serde(default, deserialize_with = "wire::flag")]
    synchronized: bool,
    #[serde(default, deserialize_with = "wire::flag")]
    busy_syncing: bool,
    #[serde(default, deserialize_with = "wire::flag")]
    offline: bool,
    #[serde(default, deserialize_with = "wire::opt_count")]
    database_size: Option<u64>,
    #[serde(default, deserialize_with = "wire::opt_text")]
    nettype: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_text")]
    version: Option<String>,
    #[serde(default, deserialize_with = "wire::flag")]
    restricted: bool,
}

/// Parses a `/json_rpc` `get_info` reply body. Pure: no I/O, never panics.
pub fn parse_get_info(body: &[u8]) -> Result<MoneroInfo, MoneroError> {
    let envelope: Envelope = wire::parse(body)?;
    if let Some(error) = envelope.error {
        return Err(MoneroError::Rpc {
            code: error.code.as_i64().unwrap_or(0),
            message: daemon_text::clean(error.message.as_str().unwrap_or_default()),
        });
    }
    let r = envelope
        .result
        .ok_or(WireError::Missing { field: "result" })?;
    match r.status.as_deref() {
        Some("OK") => {}
        Some("BUSY") => return Err(MoneroError::Busy),
        Some(other) => {
            return Err(WireError::refused("result.status", other, "expected \"OK\"").into())
        }
        None => {
            return Err(WireError::Missing {
                field: "result.status",
            }
            .into())
        }
    }
    Ok(MoneroInfo {
        height: r.height.ok_or(WireError::Missing {
            field: "result.height",
        })?,
        target_height: r.target_height.ok_or(WireError::Missing {
            field: "result.target_height",
        })?,
        synchronized: r.synchronized,
        busy_syncing: r.busy_syncing,
        offline: r.offline,
        database_size: r.database_size,
        nettype: r.nettype.as_deref().map(daemon_text::clean),
        version: r.version.as_deref().map(daemon_text::clean),
        restricted: r.restricted,
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

/// A monerod RPC client. Cheap to clone (clones share the kept-alive connections).
#[derive(Clone)]
pub struct MoneroClient {
    session: HttpSession,
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

impl MoneroClient {
    /// A client for the monerod RPC at `endpoint` (`MONERO_RPC_URL`, e.g. `http://monerod:18081`),
    /// answering digest challenges with `credentials` (`MONERO_RPC_USER`/`MONERO_RPC_PASSWORD`)
    /// when given. (The endpoint itself refuses credentials in the URL: they would end up in logs.)
    pub fn new(
        connector: SharedConnector,
        endpoint: &Endpoint,
        credentials: Option<(String, String)>,
        exchange: Exchange,
    ) -> Self {
        let json_rpc_path = format!("{}/json_rpc", endpoint.path());
        Self {
            session: HttpSession::new(connector, endpoint.target().clone()),
            json_rpc_url: endpoint.url("/json_rpc"),
            json_rpc_path,
            credentials: credentials
                .map(|(user, password)| Arc::new(Credentials { user, password })),
            exchange,
        }
    }

    /// What this client dials.
    pub fn target(&self) -> &Target {
        self.session.target()
    }

    /// Reads `get_info`. A digest challenge is answered once, on the connection that got it.
    /// The whole conversation is bounded by the exchange's timeout and every body by its limit.
    pub async fn get_info(&self) -> Result<MoneroInfo, MoneroError> {
        let body = Bytes::from_static(GET_INFO_REQUEST.as_bytes());
        let response = self.post_json_rpc(body).await?;
        match response.status() {
            StatusCode::OK => parse_get_info(response.body()),
            StatusCode::UNAUTHORIZED => Err(MoneroError::Unauthorized {
                target: self.target().clone(),
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
        self.target()
            .within(self.exchange.timeout, self.converse(body))
            .await
    }

    async fn converse(&self, body: Bytes) -> Result<Response<Bytes>, MoneroError> {
        let limit = self.exchange.limit_bytes;
        let mut conversation = self.session.conversation();
        let first = conversation
            .exchange(self.request(body.clone(), None)?, limit)
            .await?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let Some(credentials) = self.credentials.as_deref() else {
            return Ok(first);
        };
        let Some(authorization) = self.answer_challenge(first.headers(), credentials, &body) else {
            return Err(MoneroError::Unauthorized {
                target: self.target().clone(),
                reason: "HTTP 401 without a usable digest challenge",
            });
        };
        // On the challenged connection while the peer keeps it open. A node that closed it and
        // keys nonces by connection refuses the answer on a new one (and we report that).
        Ok(conversation
            .exchange(self.request(body, Some(authorization))?, limit)
            .await?)
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
        Ok(crate::io::http::request(
            Method::POST,
            &self.json_rpc_url,
            headers,
            body,
        )?)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::TokioConnector;

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
        assert!(matches!(parse_get_info(busy), Err(MoneroError::Busy)));
        let busy = br#"{"result":{"status":"BUSY"}}"#;
        assert!(matches!(parse_get_info(busy), Err(MoneroError::Busy)));

        let rpc = br#"{"error":{"code":-32601,"message":"Method not found"}}"#;
        assert!(matches!(
            parse_get_info(rpc),
            Err(MoneroError::Rpc { code: -32601, message }) if message == "Method not found"
        ));
        // Fields of the error object are shown, whatever their type.
        let odd = br#"{"error":{"code":"x","message":7},"result":null}"#;
        assert!(matches!(
            parse_get_info(odd),
            Err(MoneroError::Rpc { code: 0, message }) if message.is_empty()
        ));
        // A float where monerod prints an integer is taken, truncated.
        let float = br#"{"result":{"status":"OK","height":10.0,"target_height":20.5}}"#;
        let parsed = parse_get_info(float).unwrap();
        assert_eq!((parsed.height, parsed.target_height), (10, 20));

        for (body, needle) in [
            (&b"<html>"[..], "not JSON"),
            (br#"[]"#, "invalid type: sequence, expected an object"),
            (
                br#"{"result":["OK",1,1]}"#,
                "result: invalid type: sequence, expected an object",
            ),
            (
                br#"{"result":{"status":"OK","target_height":1}}"#,
                "result.height is missing",
            ),
            (
                br#"{"result":{"status":"OK","height":"1","target_height":1}}"#,
                "result.height: invalid type: string",
            ),
            (
                br#"{"result":{"status":"OK","height":-5,"target_height":1}}"#,
                "result.height: invalid value: integer `-5`",
            ),
            (
                br#"{"result":{"status":"OK","height":1,"target_height":1,"synchronized":1}}"#,
                "result.synchronized: invalid type: integer",
            ),
            (br#"{"result":{"height":1}}"#, "result.status is missing"),
            (
                br#"{"result":{"status":"NOPE","height":1,"target_height":0}}"#,
                "result.status is \"NOPE\"",
            ),
            (br#"{"id":"0"}"#, "result is missing"),
        ] {
            match parse_get_info(body) {
                Err(MoneroError::Malformed { source }) => {
                    let reason = source.to_string();
                    assert!(reason.contains(needle), "{reason:?} lacks {needle:?}")
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn the_json_rpc_url_is_under_the_endpoint() {
        let c: SharedConnector = Arc::new(TokioConnector);
        let endpoint = Endpoint::parse("http://monerod:18081/").unwrap();
        let client = MoneroClient::new(c.clone(), &endpoint, None, Exchange::default());
        assert_eq!(client.target().to_string(), "monerod:18081");
        assert_eq!(client.json_rpc_url, "http://monerod:18081/json_rpc");
        assert_eq!(client.json_rpc_path, "/json_rpc");
        let prefixed = Endpoint::parse("http://node:80/monero").unwrap();
        let client = MoneroClient::new(c, &prefixed, None, Exchange::default());
        assert_eq!(client.json_rpc_url, "http://node/monero/json_rpc");
        assert_eq!(client.json_rpc_path, "/monero/json_rpc");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c: SharedConnector = Arc::new(TokioConnector);
        let endpoint = Endpoint::parse("http://monerod:18081").unwrap();
        let client = MoneroClient::new(
            c,
            &endpoint,
            Some(("user".into(), "hunter2".into())),
            Exchange::default(),
        );
        assert!(!format!("{client:?}").contains("hunter2"));
    }
}
