//! xmrig-proxy HTTP API client: `/1/summary`, `/1/workers`, `/1/config`.
//!
//! Wire facts (xmrig-proxy `src/api/v1/ApiRouter.cpp`):
//! - `GET /1/summary`: `hashrate.total` is an array of averages in kH/s, shortest window first
//!   (six of them), each floored to two decimals; `miners.{now,max}`, `workers` (a count),
//!   `upstreams.{active,sleep,error,total}`, `results.{accepted,rejected,invalid,expired}`.
//! - `GET /1/workers`: `workers` is an array of *positional* rows:
//!   `[name, ip, connections, accepted, rejected, invalid, hashes, last_share_ms,
//!   hashrate_1m, hashrate_10m, hashrate_1h, hashrate_12h, hashrate_24h]` (kH/s).
//! - `GET /1/config` returns the whole config; `PUT /1/config` takes the whole config back and
//!   answers `204` (`400` when the proxy refuses to reload it).
//! - Auth (xmrig `base/api/Httpd.cpp`): no `Authorization` header when a token is required →
//!   `401`; a header that is not exactly `Bearer <token>` → `403`; a restricted (read-only) API
//!   answers `403` to `GET /1/config` and to every write. A write whose `Content-Type` is not
//!   exactly `application/json` → `415`.
//!
//! The token is never part of an error message or of `Debug` output.

use std::fmt;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::daemon_text;
use super::wire::{self, Count, Finite, WireError};
use crate::io::http::Exchange;
use crate::io::{Endpoint, HttpSession, SharedConnector, TransportError};

/// Why xmrig-proxy gave no reading (or refused a change).
#[derive(Debug, thiserror::Error)]
pub enum XmrigProxyError {
    /// The access token cannot travel in an HTTP header (a control character, say). The
    /// message never shows the token.
    #[error("xmrig-proxy API: the access token is not a valid header value")]
    InvalidToken,
    /// No complete answer (connect failed, the connection broke, the deadline passed, or the
    /// body was too large).
    #[error("xmrig-proxy API at {0}")]
    Transport(#[from] TransportError),
    /// `401`: the API wants an access token and none was sent.
    #[error("xmrig-proxy API wants an access token (HTTP 401) for {path}")]
    Unauthorized {
        /// The API path.
        path: &'static str,
    },
    /// `403`: the access token is wrong, or the API is read-only (`restricted`).
    #[error("xmrig-proxy API refused {path} (HTTP 403: wrong access token, or a read-only API)")]
    Forbidden {
        /// The API path.
        path: &'static str,
    },
    /// Any other unexpected status (e.g. `400` when a config is refused).
    #[error("xmrig-proxy API answered HTTP {code} for {path}")]
    BadStatus {
        /// The API path.
        path: &'static str,
        /// The HTTP status code.
        code: u16,
    },
    /// A config to send that is not a JSON object (the proxy would refuse it).
    #[error("refusing to send an xmrig-proxy config that is not a JSON object")]
    NotAnObject,
    /// The body is not what the proxy sends.
    #[error("xmrig-proxy API sent a malformed {path} reply: {source}")]
    Malformed {
        /// The API path.
        path: &'static str,
        /// What is wrong, naming the field.
        #[source]
        source: WireError,
    },
}

/// `/1/summary`, what Pithead uses of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxySummary {
    /// `hashrate.total` in kH/s, shortest window first (`None` where the proxy sent `null`).
    pub hashrate_total_khs: Vec<Option<f64>>,
    /// Miners connected now.
    pub miners_now: u64,
    /// Most miners seen.
    pub miners_max: u64,
    /// Distinct workers.
    pub workers: u64,
    /// Upstream pool connections that are active.
    pub upstreams_active: u64,
    /// Upstream pool connections in error.
    pub upstreams_error: u64,
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares.
    pub rejected: u64,
}

impl ProxySummary {
    /// The `index`-th average in H/s (0 = shortest window), when present.
    pub fn hashrate_hs(&self, index: usize) -> Option<f64> {
        self.hashrate_total_khs
            .get(index)
            .copied()
            .flatten()
            .map(|khs| khs * 1000.0)
    }
}

/// One `/1/workers` row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyWorker {
    /// Worker name (the miner's login or rig id, per the proxy's workers mode).
    pub name: String,
    /// Last IP address.
    pub ip: String,
    /// Open connections.
    pub connections: u64,
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares.
    pub rejected: u64,
    /// Invalid shares.
    pub invalid: u64,
    /// Total hashes.
    pub hashes: u64,
    /// Unix milliseconds of the last share (0 = never).
    pub last_share_ms: u64,
    /// Hashrate averages in kH/s: 1 min, 10 min, 1 h, 12 h, 24 h (as many as sent).
    pub hashrate_khs: Vec<f64>,
}

fn parse<T: serde::de::DeserializeOwned>(
    body: &[u8],
    path: &'static str,
) -> Result<T, XmrigProxyError> {
    wire::parse(body).map_err(|source| XmrigProxyError::Malformed { path, source })
}

/// `/1/summary` on the wire.
#[derive(Deserialize)]
struct SummaryWire {
    #[serde(deserialize_with = "wire::object")]
    hashrate: HashrateWire,
    #[serde(default, deserialize_with = "wire::opt_object")]
    miners: Option<MinersWire>,
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    workers: u64,
    #[serde(default, deserialize_with = "wire::opt_object")]
    upstreams: Option<UpstreamsWire>,
    #[serde(default, deserialize_with = "wire::opt_object")]
    results: Option<ResultsWire>,
}

#[derive(Deserialize)]
struct HashrateWire {
    total: Vec<Option<Finite>>,
}

#[derive(Default, Deserialize)]
struct MinersWire {
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    now: u64,
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    max: u64,
}

#[derive(Default, Deserialize)]
struct UpstreamsWire {
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    active: u64,
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    error: u64,
}

#[derive(Default, Deserialize)]
struct ResultsWire {
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    accepted: u64,
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    rejected: u64,
}

/// Parses `/1/summary`. Pure, never panics.
pub fn parse_summary(body: &[u8]) -> Result<ProxySummary, XmrigProxyError> {
    let w: SummaryWire = parse(body, "/1/summary")?;
    let miners = w.miners.unwrap_or_default();
    let upstreams = w.upstreams.unwrap_or_default();
    let results = w.results.unwrap_or_default();
    Ok(ProxySummary {
        hashrate_total_khs: w
            .hashrate
            .total
            .into_iter()
            .map(|v| v.map(|f| f.0))
            .collect(),
        miners_now: miners.now,
        miners_max: miners.max,
        workers: w.workers,
        upstreams_active: upstreams.active,
        upstreams_error: upstreams.error,
        accepted: results.accepted,
        rejected: results.rejected,
    })
}

/// `/1/workers` on the wire.
#[derive(Deserialize)]
struct WorkersWire {
    workers: Vec<ProxyWorker>,
}

/// Parses `/1/workers`. Pure, never panics.
pub fn parse_workers(body: &[u8]) -> Result<Vec<ProxyWorker>, XmrigProxyError> {
    parse::<WorkersWire>(body, "/1/workers").map(|w| w.workers)
}

/// A worker row is positional: `[name, ip, connections, accepted, rejected, invalid, hashes,
/// last_share_ms, hashrate…]`.
impl<'de> Deserialize<'de> for ProxyWorker {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(RowVisitor)
    }
}

struct RowVisitor;

/// The cells before the hashrates, which every row must have.
const ROW_CELLS: [&str; 8] = [
    "name",
    "ip",
    "connections",
    "accepted",
    "rejected",
    "invalid",
    "hashes",
    "last_share",
];

impl<'de> Visitor<'de> for RowVisitor {
    type Value = ProxyWorker;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a worker row of at least 8 cells")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProxyWorker, A::Error> {
        let mut index = 0;
        let text = |seq: &mut A, index: &mut usize| -> Result<String, A::Error> {
            let name = ROW_CELLS[*index];
            let cell: Option<Option<String>> = seq
                .next_element()
                .map_err(|e| de::Error::custom(format_args!("{name}: {e}")))?;
            let cell = cell.ok_or_else(|| de::Error::invalid_length(*index, &self))?;
            *index += 1;
            Ok(cell.unwrap_or_default())
        };
        let name = text(&mut seq, &mut index)?;
        let ip = text(&mut seq, &mut index)?;
        let mut counts = [0u64; 6];
        for count in &mut counts {
            let name = ROW_CELLS[index];
            let cell: Option<Count> = seq
                .next_element()
                .map_err(|e| de::Error::custom(format_args!("{name}: {e}")))?;
            *count = cell
                .ok_or_else(|| de::Error::invalid_length(index, &self))?
                .0;
            index += 1;
        }
        let mut hashrate_khs = Vec::new();
        while let Some(Finite(khs)) = seq
            .next_element()
            .map_err(|e| de::Error::custom(format_args!("hashrate[{}]: {e}", hashrate_khs.len())))?
        {
            hashrate_khs.push(khs);
        }
        let [connections, accepted, rejected, invalid, hashes, last_share_ms] = counts;
        // A worker names itself (the miner's login or rig id): it reaches the dashboard, the
        // logs and `pithead` output as one clean line, whatever a miner on the LAN sent.
        Ok(ProxyWorker {
            name: daemon_text::clean(&name),
            ip: daemon_text::clean(&ip),
            connections,
            accepted,
            rejected,
            invalid,
            hashes,
            last_share_ms,
            hashrate_khs,
        })
    }
}

/// Parses `/1/config`: any JSON object (the proxy's whole config). Pure, never panics.
pub fn parse_config(body: &[u8]) -> Result<serde_json::Value, XmrigProxyError> {
    parse::<serde_json::Map<String, serde_json::Value>>(body, "/1/config")
        .map(serde_json::Value::Object)
}

/// An xmrig-proxy API client.
#[derive(Clone)]
pub struct XmrigProxyClient {
    session: HttpSession,
    base_url: String,
    authorization: Option<HeaderValue>,
    exchange: Exchange,
}

impl fmt::Debug for XmrigProxyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XmrigProxyClient")
            .field("base_url", &self.base_url)
            .field("token", &self.authorization.as_ref().map(|_| "<redacted>"))
            .field("exchange", &self.exchange)
            .finish()
    }
}

impl XmrigProxyClient {
    /// A client for the API at `endpoint` (`http://xmrig-proxy:3344`), sending `token` as a
    /// bearer token when given.
    pub fn new(
        connector: SharedConnector,
        endpoint: &Endpoint,
        token: Option<&str>,
        exchange: Exchange,
    ) -> Result<Self, XmrigProxyError> {
        let authorization = match token.filter(|t| !t.is_empty()) {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| XmrigProxyError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            session: HttpSession::new(connector, endpoint.target().clone()),
            base_url: endpoint.to_string(),
            authorization,
            exchange,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &'static str,
        body: Bytes,
    ) -> Result<http::Response<Bytes>, XmrigProxyError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = &self.authorization {
            headers.insert(header::AUTHORIZATION, value.clone());
        }
        if !body.is_empty() {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let url = format!("{}{path}", self.base_url);
        let request = crate::io::http::request(method, &url, headers, body)?;
        let response = self
            .session
            .send(request, self.exchange.timeout, self.exchange.limit_bytes)
            .await?;
        match response.status() {
            StatusCode::UNAUTHORIZED => Err(XmrigProxyError::Unauthorized { path }),
            StatusCode::FORBIDDEN => Err(XmrigProxyError::Forbidden { path }),
            _ => Ok(response),
        }
    }

    async fn get(&self, path: &'static str) -> Result<Bytes, XmrigProxyError> {
        let response = self.call(Method::GET, path, Bytes::new()).await?;
        if response.status() != StatusCode::OK {
            return Err(XmrigProxyError::BadStatus {
                path,
                code: response.status().as_u16(),
            });
        }
        Ok(response.into_body())
    }

    /// `GET /1/summary`.
    pub async fn summary(&self) -> Result<ProxySummary, XmrigProxyError> {
        parse_summary(&self.get("/1/summary").await?)
    }

    /// `GET /1/workers`.
    pub async fn workers(&self) -> Result<Vec<ProxyWorker>, XmrigProxyError> {
        parse_workers(&self.get("/1/workers").await?)
    }

    /// `GET /1/config`: the whole config document.
    pub async fn get_config(&self) -> Result<serde_json::Value, XmrigProxyError> {
        parse_config(&self.get("/1/config").await?)
    }

    /// `PUT /1/config` with the whole config document. Success is `204` (or `200`).
    pub async fn put_config(&self, config: &serde_json::Value) -> Result<(), XmrigProxyError> {
        if !config.is_object() {
            return Err(XmrigProxyError::NotAnObject);
        }
        // A `Value` always serializes (its map keys are strings).
        let body = serde_json::to_vec(config).unwrap_or_default();
        let response = self
            .call(Method::PUT, "/1/config", Bytes::from(body))
            .await?;
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
            status => Err(XmrigProxyError::BadStatus {
                path: "/1/config",
                code: status.as_u16(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_six_averages_and_counters() {
        let body = br#"{"version":"6.22.0","kind":"proxy","hashrate":{"total":[12.34,12.0,11.5,11.0,10.9,0.0]},
            "miners":{"now":3,"max":5},"workers":2,"upstreams":{"active":1,"sleep":0,"error":0,"total":1,"ratio":3.0},
            "results":{"accepted":100,"rejected":2,"invalid":0,"expired":0}}"#;
        let s = parse_summary(body).unwrap();
        assert_eq!(s.hashrate_total_khs.len(), 6);
        assert_eq!(s.hashrate_hs(0), Some(12_340.0));
        assert_eq!(s.hashrate_hs(6), None);
        assert_eq!(
            (s.miners_now, s.workers, s.accepted, s.rejected),
            (3, 2, 100, 2)
        );
        let nulls = parse_summary(br#"{"hashrate":{"total":[null,1]}}"#).unwrap();
        assert_eq!(nulls.hashrate_total_khs, vec![None, Some(1.0)]);
        assert!(parse_summary(br#"{"hashrate":{"total":"x"}}"#).is_err());
        assert!(parse_summary(br#"{"hashrate":{"total":[]},"miners":1}"#).is_err());
        assert!(parse_summary(br#"{"hashrate":[[1.0]]}"#).is_err());
        assert!(parse_summary(br#"{"hashrate":{"total":[]},"miners":{"now":-1}}"#).is_err());
        assert!(parse_summary(br#"{}"#).is_err());
    }

    #[test]
    fn workers_are_positional_rows() {
        let body = br#"{"mode":"rig_id","workers":[
            ["rig1","10.0.0.2",1,50,1,0,123456,1716000000000,5.5,5.4,5.3,5.2,5.1],
            ["rig2","10.0.0.3",0,0,0,0,0,0,0.0,0.0,0.0,0.0,0.0]]}"#;
        let w = parse_workers(body).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].name, "rig1");
        assert_eq!(w[0].accepted, 50);
        assert_eq!(w[0].last_share_ms, 1_716_000_000_000);
        assert_eq!(w[0].hashrate_khs, vec![5.5, 5.4, 5.3, 5.2, 5.1]);
        for (body, needle) in [
            (
                &br#"{"workers":[["x","y",1]]}"#[..],
                "workers[0]: invalid length 3, expected a worker row of at least 8",
            ),
            (
                br#"{"workers":[[1,"y",1,1,1,1,1,1]]}"#,
                "workers[0][0]: name: invalid type: integer `1`",
            ),
            (
                br#"{"workers":[["x",null,1,1,-1,1,1,1]]}"#,
                "workers[0][4]: rejected: invalid value",
            ),
            (
                br#"{"workers":[["x",null,1,1,1,1,1,1.5,null]]}"#,
                "workers[0][8]: hashrate[0]: invalid type: null",
            ),
        ] {
            let e = parse_workers(body).unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} lacks {needle:?}");
        }
        let w = parse_workers(br#"{"workers":[[null,null,1,1,1,1,1,1.5]]}"#).unwrap();
        assert_eq!((w[0].name.as_str(), w[0].last_share_ms), ("", 1));
    }

    #[test]
    fn a_worker_name_is_one_clean_line() {
        let long = "r".repeat(5_000);
        let body = format!(
            r#"{{"workers":[["rig\n\u001b[31mred\u202e","10.0.0.2\r\nX-Forged: 1",1,1,0,0,1,1],
                ["{long}","ip",1,1,0,0,1,1]]}}"#
        );
        let w = parse_workers(body.as_bytes()).unwrap();
        assert_eq!(w[0].name, "rig  [31mred ");
        assert_eq!(w[0].ip, "10.0.0.2  X-Forged: 1");
        assert_eq!(w[1].name.chars().count(), daemon_text::MAX_CHARS);
        assert!(w[1].name.ends_with('…'));
    }

    #[test]
    fn token_never_shows() {
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        let endpoint = Endpoint::parse("http://xmrig-proxy:3344").unwrap();
        let client = XmrigProxyClient::new(
            c.clone(),
            &endpoint,
            Some("s3cr3t-token"),
            Exchange::default(),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t-token"));
        let refused =
            XmrigProxyClient::new(c, &endpoint, Some("s3cr3t\ntoken"), Exchange::default())
                .unwrap_err();
        assert!(matches!(refused, XmrigProxyError::InvalidToken));
        assert!(!refused.to_string().contains("s3cr3t"), "{refused}");
        assert_eq!(
            parse_config(b"[1]").unwrap_err().to_string(),
            "xmrig-proxy API sent a malformed /1/config reply: invalid type: sequence, expected an object at line 1 column 0"
        );
    }
}
