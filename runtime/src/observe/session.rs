//! One HTTP/1.1 connection that carries more than one exchange.
//!
//! [`crate::io::http::send`] opens a connection per request, which is right for almost every
//! call. monerod's digest auth is the exception: epee keeps the digest nonce in the connection
//! handler, so an `Authorization` computed from one connection's challenge is refused on any
//! other connection (checked against monerod v0.18: the answer on a new connection is another
//! `401`). The authenticated retry must therefore travel on the connection that got the
//! challenge, which is what this session is for.
//!
//! Errors are [`HttpError`] so callers map one error type whichever path they took. Deadlines
//! are the caller's: wrap the whole conversation in one `tokio::time::timeout`.

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

use crate::io::http::HttpError;
use crate::io::Connector;

/// An open HTTP/1.1 connection to one `host:port`.
pub(crate) struct Session {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    target: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Session {
    /// Dials `host:port` through `connector` and performs the HTTP/1 handshake.
    pub(crate) async fn open(
        connector: &dyn Connector,
        host: &str,
        port: u16,
    ) -> Result<Self, HttpError> {
        let target = format!("{host}:{port}");
        let stream =
            connector
                .connect(host, port)
                .await
                .map_err(|source| HttpError::Unreachable {
                    target: target.clone(),
                    source,
                })?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| HttpError::Unreachable {
                target: target.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let driver = tokio::spawn(async move {
            // Ends when the peer closes or the session is dropped; the exchange reports errors.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            driver,
            target,
        })
    }

    /// Whether the connection can carry another request (the peer has not closed it).
    pub(crate) fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends `request` (origin-form path, `Host` added when missing) and reads the whole body,
    /// refusing more than `limit_bytes`.
    pub(crate) async fn exchange(
        &mut self,
        request: Request<Bytes>,
        limit_bytes: usize,
    ) -> Result<Response<Bytes>, HttpError> {
        let protocol = |target: &str, message: String| HttpError::Protocol {
            target: target.to_owned(),
            message,
        };
        self.sender
            .ready()
            .await
            .map_err(|e| protocol(&self.target, e.to_string()))?;
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        if !parts.headers.contains_key(http::header::HOST) {
            if let Ok(value) = http::HeaderValue::from_str(&self.target) {
                parts.headers.insert(http::header::HOST, value);
            }
        }
        parts.uri = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
        let response = self
            .sender
            .send_request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| protocol(&self.target, e.to_string()))?;
        let (parts, body) = response.into_parts();
        let bytes = match Limited::new(body, limit_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(HttpError::TooLarge {
                    target: self.target.clone(),
                    limit_bytes,
                })
            }
            Err(e) => return Err(protocol(&self.target, e.to_string())),
        };
        Ok(Response::from_parts(parts, bytes))
    }
}
