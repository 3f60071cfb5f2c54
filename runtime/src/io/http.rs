//! One HTTP/1.1 exchange over an injected [`Connector`], with a deadline and a body-size limit.
//!
//! hyper's pooled `legacy::Client` wants a `tower::Service<Uri>` connector and keeps idle
//! connections alive between 30-second cycles for no gain; a fresh `http1::handshake` per request
//! keeps the code short, works unchanged over turmoil streams, and means a daemon restart never
//! leaves us holding a dead pooled socket.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;

use super::Connector;

pub use ::http::Method;

/// Why an HTTP exchange produced no usable response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be dialled (no host, unsupported scheme).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (never contains credentials: callers strip userinfo).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// TCP connect or the HTTP handshake failed.
    #[error("cannot reach {target}: {source}")]
    Unreachable {
        /// `host:port`.
        target: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No complete response within the deadline.
    #[error("{target} did not answer within {timeout:?}")]
    Timeout {
        /// `host:port`.
        target: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The response body exceeded the limit.
    #[error("{target} sent a body larger than {limit_bytes} bytes")]
    TooLarge {
        /// `host:port`.
        target: String,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// The connection broke mid-exchange.
    #[error("{target}: HTTP exchange failed: {message}")]
    Protocol {
        /// `host:port`.
        target: String,
        /// hyper's description.
        message: String,
    },
}

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

/// `host:port` of an `http://` URI (default port 80).
pub fn authority(uri: &Uri) -> Result<(String, u16), HttpError> {
    let invalid = |reason| HttpError::InvalidUrl {
        url: redact_userinfo(uri),
        reason,
    };
    match uri.scheme_str() {
        Some("http") | None => {}
        Some(_) => return Err(invalid("only http:// is supported")),
    }
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

fn redact_userinfo(uri: &Uri) -> String {
    let text = uri.to_string();
    match (text.find("://"), text.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &text[..scheme_end + 3], &text[at..])
        }
        _ => text,
    }
}

/// Sends `request` and reads the whole body (bounded). Adds `Host` when missing.
pub async fn send(
    connector: &dyn Connector,
    request: Request<Bytes>,
    exchange: &Exchange,
) -> Result<Response<Bytes>, HttpError> {
    let (host, port) = authority(request.uri())?;
    let target = format!("{host}:{port}");
    let timeout = exchange.timeout;
    let work = send_inner(
        connector,
        request,
        host,
        port,
        target.clone(),
        exchange.limit_bytes,
    );
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::Timeout { target, timeout }),
    }
}

async fn send_inner(
    connector: &dyn Connector,
    request: Request<Bytes>,
    host: String,
    port: u16,
    target: String,
    limit_bytes: usize,
) -> Result<Response<Bytes>, HttpError> {
    let stream = connector
        .connect(&host, port)
        .await
        .map_err(|source| HttpError::Unreachable {
            target: target.clone(),
            source,
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::Unreachable {
            target: target.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let driver = tokio::spawn(async move {
        // The connection ends when the exchange is done or the peer goes away; either way the
        // request future below reports the outcome.
        let _ = connection.await;
    });
    let (mut parts, body) = request.into_parts();
    // Origin-form path for HTTP/1.1.
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    if !parts.headers.contains_key(http::header::HOST) {
        if let Ok(value) = http::HeaderValue::from_str(&target) {
            parts.headers.insert(http::header::HOST, value);
        }
    }
    parts.uri = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
    let request = Request::from_parts(parts, Full::new(body));
    let protocol = |e: hyper::Error| HttpError::Protocol {
        target: target.clone(),
        message: e.to_string(),
    };
    let response = sender.send_request(request).await.map_err(protocol)?;
    let (parts, body) = response.into_parts();
    let collected = Limited::new(body, limit_bytes).collect().await;
    driver.abort();
    let bytes = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(HttpError::TooLarge {
                target,
                limit_bytes,
            })
        }
        Err(e) => {
            return Err(HttpError::Protocol {
                target,
                message: e.to_string(),
            })
        }
    };
    Ok(Response::from_parts(parts, bytes))
}

/// Builds a request with an empty or JSON body.
pub fn request(
    method: Method,
    uri: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Request<Bytes>, HttpError> {
    let parsed: Uri = uri.parse().map_err(|_| HttpError::InvalidUrl {
        url: uri.split('@').next_back().unwrap_or_default().to_owned(),
        reason: "not a URI",
    })?;
    let mut builder = Request::builder().method(method).uri(parsed);
    if let Some(h) = builder.headers_mut() {
        h.extend(headers);
    }
    builder.body(body).map_err(|_| HttpError::InvalidUrl {
        url: uri.split('@').next_back().unwrap_or_default().to_owned(),
        reason: "cannot build a request",
    })
}

/// True for 2xx.
pub fn is_success(status: StatusCode) -> bool {
    status.is_success()
}
