//! Requests and the per-call bounds the clients share; the exchange itself is
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

/// The target of an `http://` URI (default port 80).
pub fn target_of(uri: &Uri) -> Result<Target, TransportError> {
    let invalid = |reason| TransportError::InvalidUrl {
        url: super::redact_url(&uri.to_string()),
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
        url: super::redact_url(uri),
        reason: "not a URI",
    })?;
    let mut builder = Request::builder().method(method).uri(parsed);
    if let Some(h) = builder.headers_mut() {
        h.extend(headers);
    }
    builder.body(body).map_err(|_| TransportError::InvalidUrl {
        url: super::redact_url(uri),
        reason: "cannot build a request",
    })
}
