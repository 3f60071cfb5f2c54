//! Requests, base URLs and the per-call bounds the clients share; the exchange itself is
//! [`super::HttpSession`]'s.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, Uri};

use super::transport::{Target, TransportError};
use super::Connector;

pub use ::http::Method;

/// A request's knobs.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Deadline for connect + request + whole body.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub limit_bytes: usize,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            limit_bytes: 1024 * 1024,
        }
    }
}

/// A parsed `http://host[:port][/path]` base URL of a daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// `host[:port]` as written.
    pub authority: String,
    /// Path prefix without a trailing slash (empty for the root).
    pub path: String,
    /// Whether a query string was present.
    pub has_query: bool,
}

/// Why a daemon's base URL is refused.
pub const CREDENTIALS_IN_URL: &str = "credentials in the URL are not accepted";

/// Parses a daemon's base URL: `http://` only, a host, no credentials. The error is a short
/// reason for the caller's own typed error (which also names the variable).
pub fn parse_base_url(url: &str) -> Result<BaseUrl, &'static str> {
    let uri: Uri = url.trim().parse().map_err(|_| "not a URL")?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err("only http:// is supported"),
        None => return Err("no scheme (expected http://host:port)"),
    }
    let authority = uri.authority().ok_or("no host")?;
    if authority.as_str().contains('@') {
        return Err(CREDENTIALS_IN_URL);
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err("no host");
    }
    Ok(BaseUrl {
        host: host.to_owned(),
        port: authority.port_u16().unwrap_or(80),
        authority: authority.as_str().to_owned(),
        path: uri.path().trim_end_matches('/').to_owned(),
        has_query: uri.query().is_some(),
    })
}

/// The target of an `http://` URI (default port 80).
pub fn target_of(uri: &Uri) -> Result<Target, TransportError> {
    let invalid = |reason| TransportError::InvalidUrl {
        url: shown(uri),
        reason,
    };
    match uri.scheme_str() {
        Some("http") | None => {}
        Some(_) => return Err(invalid("only http:// is supported")),
    }
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(Target::new(host, uri.port_u16().unwrap_or(80)))
}

/// `uri` as errors show it: no userinfo, no query (it may carry a wallet address).
fn shown(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri.port().map(|p| format!(":{p}")).unwrap_or_default();
    match uri.scheme_str() {
        Some(scheme) => format!("{scheme}://{host}{port}{}", uri.path()),
        None => format!("{host}{port}{}", uri.path()),
    }
}

/// Sends `request` on a connection of its own (no session to keep it in) and reads the whole
/// body, bounded by `exchange`. For one-off calls; clients hold a [`super::HttpSession`].
pub async fn send(
    connector: &dyn Connector,
    request: Request<Bytes>,
    exchange: &Exchange,
) -> Result<Response<Bytes>, TransportError> {
    super::session::exchange_once(connector, request, exchange.timeout, exchange.limit_bytes).await
}

/// Builds a request with an empty or JSON body.
pub fn request(
    method: Method,
    uri: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Request<Bytes>, TransportError> {
    let parsed: Uri = uri.parse().map_err(|_| TransportError::InvalidUrl {
        url: uri
            .split('@')
            .next_back()
            .and_then(|rest| rest.split('?').next())
            .unwrap_or_default()
            .to_owned(),
        reason: "not a URI",
    })?;
    let mut builder = Request::builder().method(method).uri(parsed.clone());
    if let Some(h) = builder.headers_mut() {
        h.extend(headers);
    }
    builder.body(body).map_err(|_| TransportError::InvalidUrl {
        url: shown(&parsed),
        reason: "cannot build a request",
    })
}
