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
use serde::Serialize;

use super::json;
use crate::io::http::{Exchange, HttpError};
use crate::io::SharedConnector;

/// Why xmrig-proxy gave no reading (or refused a change).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmrigProxyError {
    /// The base URL cannot be used.
    #[error("xmrig-proxy API: invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connect failed or the connection broke.
    #[error("xmrig-proxy API at {target} is unreachable: {reason}")]
    Unreachable {
        /// `host:port`.
        target: String,
        /// The underlying error.
        reason: String,
    },
    /// No complete answer within the deadline.
    #[error("xmrig-proxy API at {target} did not answer within {timeout:?}")]
    Timeout {
        /// `host:port`.
        target: String,
        /// The deadline that passed.
        timeout: std::time::Duration,
    },
    /// The body exceeded the limit.
    #[error("xmrig-proxy API sent a body larger than {limit_bytes} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit_bytes: usize,
    },
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
    /// The body is not what the proxy sends.
    #[error("xmrig-proxy API sent a malformed {path} reply: {reason}")]
    Malformed {
        /// The API path.
        path: &'static str,
        /// What is wrong, naming the field.
        reason: String,
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

fn malformed(path: &'static str) -> impl Fn(String) -> XmrigProxyError {
    move |reason| XmrigProxyError::Malformed { path, reason }
}

fn u64_at(obj: &json::Object, outer: &str, inner: &str) -> Result<u64, String> {
    match obj.get(outer) {
        None | Some(serde_json::Value::Null) => Ok(0),
        Some(v) => {
            let o = json::object(v, outer)?;
            Ok(json::opt_u64(o, inner)
                .map_err(|e| format!("{outer}.{e}"))?
                .unwrap_or(0))
        }
    }
}

/// Parses `/1/summary`. Pure, never panics.
pub fn parse_summary(body: &[u8]) -> Result<ProxySummary, XmrigProxyError> {
    let bad = malformed("/1/summary");
    let doc = json::parse(body).map_err(&bad)?;
    let o = json::object(&doc, "the reply").map_err(&bad)?;
    let hashrate = o
        .get("hashrate")
        .ok_or_else(|| bad("hashrate is missing".to_owned()))?;
    let hashrate = json::object(hashrate, "hashrate").map_err(&bad)?;
    let total = match hashrate.get("total") {
        Some(serde_json::Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(format!(
                "hashrate.total is {} (expected an array)",
                json::kind(other)
            )))
        }
        None => return Err(bad("hashrate.total is missing".to_owned())),
    };
    let hashrate_total_khs = total
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::Null => Ok(None),
            v => json::as_f64(v, &format!("hashrate.total[{i}]")).map(Some),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(&bad)?;
    let workers = match o.get("workers") {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => json::as_u64(v, "workers").map_err(&bad)?,
    };
    Ok(ProxySummary {
        hashrate_total_khs,
        miners_now: u64_at(o, "miners", "now").map_err(&bad)?,
        miners_max: u64_at(o, "miners", "max").map_err(&bad)?,
        workers,
        upstreams_active: u64_at(o, "upstreams", "active").map_err(&bad)?,
        upstreams_error: u64_at(o, "upstreams", "error").map_err(&bad)?,
        accepted: u64_at(o, "results", "accepted").map_err(&bad)?,
        rejected: u64_at(o, "results", "rejected").map_err(&bad)?,
    })
}

/// Parses `/1/workers`. Pure, never panics.
pub fn parse_workers(body: &[u8]) -> Result<Vec<ProxyWorker>, XmrigProxyError> {
    let bad = malformed("/1/workers");
    let doc = json::parse(body).map_err(&bad)?;
    let o = json::object(&doc, "the reply").map_err(&bad)?;
    let rows = match o.get("workers") {
        Some(serde_json::Value::Array(rows)) => rows,
        Some(other) => {
            return Err(bad(format!(
                "workers is {} (expected an array)",
                json::kind(other)
            )))
        }
        None => return Err(bad("workers is missing".to_owned())),
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| parse_worker_row(i, row).map_err(&bad))
        .collect()
}

fn parse_worker_row(i: usize, row: &serde_json::Value) -> Result<ProxyWorker, String> {
    let cells = row
        .as_array()
        .ok_or_else(|| format!("workers[{i}] is {} (expected an array)", json::kind(row)))?;
    if cells.len() < 8 {
        return Err(format!(
            "workers[{i}] has {} cells (expected at least 8)",
            cells.len()
        ));
    }
    let text = |j: usize, name: &str| -> Result<String, String> {
        match &cells[j] {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Null => Ok(String::new()),
            other => Err(format!(
                "workers[{i}].{name} is {} (expected a string)",
                json::kind(other)
            )),
        }
    };
    let num = |j: usize, name: &str| json::as_u64(&cells[j], &format!("workers[{i}].{name}"));
    Ok(ProxyWorker {
        name: text(0, "name")?,
        ip: text(1, "ip")?,
        connections: num(2, "connections")?,
        accepted: num(3, "accepted")?,
        rejected: num(4, "rejected")?,
        invalid: num(5, "invalid")?,
        hashes: num(6, "hashes")?,
        last_share_ms: num(7, "last_share")?,
        hashrate_khs: cells[8..]
            .iter()
            .enumerate()
            .map(|(k, v)| json::as_f64(v, &format!("workers[{i}].hashrate[{k}]")))
            .collect::<Result<_, _>>()?,
    })
}

/// Parses `/1/config`: any JSON object (the proxy's whole config). Pure, never panics.
pub fn parse_config(body: &[u8]) -> Result<serde_json::Value, XmrigProxyError> {
    let bad = malformed("/1/config");
    let doc = json::parse(body).map_err(&bad)?;
    json::object(&doc, "the config").map_err(&bad)?;
    Ok(doc)
}

/// An xmrig-proxy API client.
#[derive(Clone)]
pub struct XmrigProxyClient {
    connector: SharedConnector,
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
    /// A client for the API at `base_url` (`http://xmrig-proxy:3344`), sending `token` as a
    /// bearer token when given.
    pub fn new(
        connector: SharedConnector,
        base_url: &str,
        token: Option<&str>,
        exchange: Exchange,
    ) -> Result<Self, XmrigProxyError> {
        let invalid = |reason| XmrigProxyError::InvalidUrl {
            url: base_url.to_owned(),
            reason,
        };
        let uri: http::Uri = base_url.parse().map_err(|_| invalid("not a URL"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(invalid("expected http://host:port"));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(invalid("credentials in the URL are not accepted"));
        }
        let authorization = match token.filter(|t| !t.is_empty()) {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| invalid("the access token is not a valid header value"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            connector,
            base_url: base_url.trim_end_matches('/').to_owned(),
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
        let request = crate::io::http::request(method, &url, headers, body).map_err(http_error)?;
        let response = crate::io::http::send(self.connector.as_ref(), request, &self.exchange)
            .await
            .map_err(http_error)?;
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
            return Err(XmrigProxyError::Malformed {
                path: "/1/config",
                reason: "refusing to send a config that is not a JSON object".to_owned(),
            });
        }
        let body = serde_json::to_vec(config).map_err(|e| XmrigProxyError::Malformed {
            path: "/1/config",
            reason: e.to_string(),
        })?;
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

fn http_error(error: HttpError) -> XmrigProxyError {
    match error {
        HttpError::InvalidUrl { url, reason } => XmrigProxyError::InvalidUrl { url, reason },
        HttpError::Unreachable { target, source } => XmrigProxyError::Unreachable {
            target,
            reason: source.to_string(),
        },
        HttpError::Protocol { target, message } => XmrigProxyError::Unreachable {
            target,
            reason: message,
        },
        HttpError::Timeout { target, timeout } => XmrigProxyError::Timeout { target, timeout },
        HttpError::TooLarge { limit_bytes, .. } => XmrigProxyError::TooLarge { limit_bytes },
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
        let e = parse_workers(br#"{"workers":[["x","y",1]]}"#).unwrap_err();
        assert!(e.to_string().contains("workers[0] has 3 cells"), "{e}");
        let e = parse_workers(br#"{"workers":[[1,"y",1,1,1,1,1,1]]}"#).unwrap_err();
        assert!(e.to_string().contains("workers[0].name is a number"), "{e}");
    }

    #[test]
    fn token_never_shows() {
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        let client = XmrigProxyClient::new(
            c,
            "http://xmrig-proxy:3344",
            Some("s3cr3t-token"),
            Exchange::default(),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t-token"));
        assert_eq!(
            parse_config(b"[1]").unwrap_err().to_string(),
            "xmrig-proxy API sent a malformed /1/config reply: the config is an array (expected an object)"
        );
    }
}
