//! The one request every sink and the heartbeat make: over the runtime's [`HttpSession`], TLS
//! for `https://` ([`TlsTrust`]: Mozilla's roots plus `ALERTS_CA_FILE`), optionally through
//! `ALERTS_PROXY`, bounded by [`SEND_TIMEOUT`], no redirect followed.
//!
//! The status line decides: 2xx is delivered, anything else (3xx included) is
//! [`SendError::Status`]. The response body is never read: it is dropped with its connection,
//! so a reply of any size costs at most what hyper buffers with the head (well under the
//! [`BODY_LIMIT_BYTES`] every client of the runtime is held to). Reading it to a limit first
//! would turn a delivered message with a large reply into a failure, and the outbox would then
//! send it again.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request};

use super::{SendError, SinkUrl};
use crate::io::{HttpSession, SharedConnector, Socks5Proxy, TlsTrust, TransportError};

/// The deadline of one attempt: connect, proxy, TLS, request and the response's head.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The body limit of the runtime's clients; a sink never reads past the head, so never near it.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// How sinks reach the network: the injected connector, the optional proxy, the TLS roots.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) connector: SharedConnector,
    pub(crate) proxy: Option<Socks5Proxy>,
    pub(crate) trust: TlsTrust,
}

impl Route {
    /// The connector `url` needs: the proxy when there is one, then TLS inside the tunnel for
    /// `https://` (the proxy never sees the plaintext).
    fn connector_for(&self, url: &SinkUrl) -> SharedConnector {
        let connector = match &self.proxy {
            Some(proxy) => proxy.connector(self.connector.clone()),
            None => self.connector.clone(),
        };
        if url.is_tls() {
            self.trust.connector(connector)
        } else {
            connector
        }
    }
}

/// One sink's endpoint: a session with its host, and the headers every request carries.
pub(crate) struct Client {
    session: HttpSession,
    host: HeaderValue,
}

impl Client {
    /// A client for `url`'s host, reached by `route`. Dials nothing yet.
    pub(crate) fn new(route: &Route, url: &SinkUrl) -> Self {
        Self {
            session: HttpSession::new(route.connector_for(url), url.target().clone()),
            // `SinkUrl` holds a parsed host and a port: always a valid header value.
            host: HeaderValue::from_str(&url.authority())
                .unwrap_or_else(|_| HeaderValue::from_static("localhost")),
        }
    }

    /// One attempt: `method` to `path_and_query` with `headers` and `body`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        headers: HeaderMap,
        body: Bytes,
        content_type: Option<&'static str>,
    ) -> Result<(), SendError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(body)
            // The path came from a parsed URL; a sink's own suffix is plain ASCII.
            .map_err(|_| SendError::Connection)?;
        let h = request.headers_mut();
        h.insert(HOST, self.host.clone());
        h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(content_type) = content_type {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        h.extend(headers);
        let exchange = async {
            let response = self.session.dispatch(request).await?;
            Ok::<_, TransportError>(response.status())
        };
        let status = match tokio::time::timeout(SEND_TIMEOUT, exchange).await {
            Err(_) => return Err(SendError::Timeout),
            Ok(Err(e)) => return Err(class(&e)),
            Ok(Ok(status)) => status,
        };
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError::Status(status.as_u16()))
        }
    }
}

/// `User-Agent` of every sink request.
const USER_AGENT_VALUE: &str = concat!("pithead/", env!("CARGO_PKG_VERSION"));

/// A transport failure's class: the message of a `SendError` never names the URL.
fn class(error: &TransportError) -> SendError {
    match error {
        TransportError::Timeout { .. } => SendError::Timeout,
        _ => SendError::Connection,
    }
}
