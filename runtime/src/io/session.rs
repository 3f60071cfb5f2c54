//! The one HTTP/1.1 client every daemon client speaks through: connect, handshake, origin-form
//! path, `Host` header, bounded body, deadline, in one place.
//!
//! An [`HttpSession`] belongs to one target and keeps its connections alive between calls (at
//! most [`MAX_IDLE`] idle ones): under the simulation a fresh connection costs a round trip of
//! virtual ticks before the request can even be sent, and on a real box it costs a handshake per
//! 30-second cycle for nothing.
//!
//! A kept-alive connection can be dead without our knowing (the daemon restarted, an idle
//! timeout closed it while the request was on its way). So a request sent on a *reused*
//! connection that fails before any byte of a response arrived is retried once on a fresh
//! connection, inside the same deadline: a restart never reads as "unreachable", and since no
//! response byte was read, nothing stale can be returned. Any other failure drops the connection
//! (a timed-out exchange may still deliver its late reply on that socket).
//!
//! A [`Conversation`] carries several exchanges on one connection, for monerod's digest auth:
//! its nonce belongs to the connection that got the challenge.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;

use super::transport::{BoxError, Target, TransportError};
use super::{BoxedStream, Connector, SharedConnector};

/// Idle connections kept per target (p2pool's three concurrent documents need three).
pub const MAX_IDLE: usize = 4;

/// Kept-alive HTTP/1.1 connections to one target. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct HttpSession {
    inner: Arc<Inner>,
}

struct Inner {
    connector: SharedConnector,
    target: Target,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for HttpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSession")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

impl HttpSession {
    /// A session with `target`, dialling through `connector`. Dials nothing yet.
    pub fn new(connector: SharedConnector, target: Target) -> Self {
        Self {
            inner: Arc::new(Inner {
                connector,
                target,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// What this session dials.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// One exchange: `request`'s whole response, the body bounded by `limit_bytes`, all within
    /// `timeout`.
    pub async fn send(
        &self,
        request: Request<Bytes>,
        timeout: std::time::Duration,
        limit_bytes: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        self.target()
            .within(timeout, async {
                self.conversation().exchange(request, limit_bytes).await
            })
            .await
    }

    /// Starts a conversation: exchanges that travel on one connection while it stays open.
    /// Bound it with [`Target::within`].
    pub fn conversation(&self) -> Conversation<'_> {
        Conversation {
            session: self,
            connection: None,
        }
    }

    /// Sends `request` and hands back the response with its body unread, for callers that
    /// stream (bollard). The connection is not reused: its body is read elsewhere, so this
    /// session cannot know when it is idle again. The caller bounds the time and the body.
    pub async fn dispatch(
        &self,
        request: Request<Bytes>,
    ) -> Result<Response<Incoming>, TransportError> {
        let request = Prepared::new(request, self.target());
        let mut connection = self.dial().await?;
        // Detach the driver: it must outlive this call to stream the body, and it ends on its
        // own once the body is read (or dropped) since the sender is dropped here.
        drop(connection.driver.take());
        connection
            .sender
            .send_request(request.build())
            .await
            .map_err(|e| protocol(self.target(), e))
    }

    /// An idle connection, or `None` when there is none left open.
    fn checkout(&self) -> Option<Connection> {
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(connection) = idle.pop() {
            if !connection.sender.is_closed() {
                return Some(connection);
            }
        }
        None
    }

    fn checkin(&self, connection: Connection) {
        if connection.sender.is_closed() {
            return;
        }
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    async fn dial(&self) -> Result<Connection, TransportError> {
        dial(self.inner.connector.as_ref(), self.target()).await
    }
}

/// `source` as a broken exchange with `target`.
fn protocol(target: &Target, source: impl Into<BoxError>) -> TransportError {
    TransportError::Protocol {
        target: target.clone(),
        source: source.into(),
    }
}

/// Dials `target` and performs the HTTP/1 handshake.
async fn dial(connector: &dyn Connector, target: &Target) -> Result<Connection, TransportError> {
    let stream = target.dial(connector).await?;
    let received = Arc::new(AtomicU64::new(0));
    let stream = Counted {
        inner: stream,
        received: received.clone(),
    };
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| protocol(target, e))?;
    let driver = tokio::spawn(async move {
        // Ends when the peer closes or the connection is dropped; exchanges report errors.
        let _ = connection.await;
    });
    Ok(Connection {
        sender,
        driver: Some(driver),
        received,
    })
}

/// One exchange on a connection of its own, within `timeout`, the body bounded by
/// `limit_bytes`: for one-off calls that have no session to keep a connection in.
pub async fn exchange_once(
    connector: &dyn Connector,
    request: Request<Bytes>,
    timeout: std::time::Duration,
    limit_bytes: usize,
) -> Result<Response<Bytes>, TransportError> {
    let target = super::http::target_of(request.uri())?;
    let request = Prepared::new(request, &target);
    target
        .within(timeout, async {
            let mut connection = dial(connector, &target).await?;
            connection
                .exchange(&target, &request, limit_bytes)
                .await
                .map_err(|failure| failure.error)
        })
        .await
}

/// Exchanges on one connection (see the module docs). Dropping it returns an open connection to
/// its session.
pub struct Conversation<'a> {
    session: &'a HttpSession,
    connection: Option<Connection>,
}

impl Conversation<'_> {
    /// Sends `request` and reads the whole response, the body bounded by `limit_bytes`. Adds the
    /// `Host` header and sends the path in origin form. On a reused connection, a failure before
    /// any response byte is retried once on a fresh one.
    pub async fn exchange(
        &mut self,
        request: Request<Bytes>,
        limit_bytes: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        let session = self.session;
        let request = Prepared::new(request, session.target());
        let (mut connection, reused) = match self.connection.take().or_else(|| session.checkout()) {
            Some(connection) => (connection, true),
            None => (session.dial().await?, false),
        };
        let result = match connection
            .exchange(session.target(), &request, limit_bytes)
            .await
        {
            Err(failure) if reused && !failure.response_started => {
                tracing::debug!(target = %session.target(), error = %failure.error,
                    "a kept-alive connection failed before answering; retrying on a fresh one");
                connection = session.dial().await?;
                connection
                    .exchange(session.target(), &request, limit_bytes)
                    .await
            }
            other => other,
        };
        match result {
            Ok(response) => {
                if !connection.sender.is_closed() {
                    self.connection = Some(connection);
                }
                Ok(response)
            }
            Err(failure) => Err(failure.error),
        }
    }
}

impl Drop for Conversation<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            self.session.checkin(connection);
        }
    }
}

/// One open connection.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// Drives the connection; aborted when the connection is dropped.
    driver: Option<JoinHandle<()>>,
    /// Bytes read from the peer so far (tells "no answer at all" from "a broken answer").
    received: Arc<AtomicU64>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(driver) = &self.driver {
            driver.abort();
        }
    }
}

/// A failed exchange, and whether any response byte had arrived.
struct Failure {
    error: TransportError,
    response_started: bool,
}

impl Connection {
    async fn exchange(
        &mut self,
        target: &Target,
        request: &Prepared,
        limit_bytes: usize,
    ) -> Result<Response<Bytes>, Failure> {
        let before = self.received.load(Ordering::Relaxed);
        let received = self.received.clone();
        let fail = |error: TransportError| Failure {
            error,
            response_started: received.load(Ordering::Relaxed) != before,
        };
        self.sender
            .ready()
            .await
            .map_err(|e| fail(protocol(target, e)))?;
        let response = self
            .sender
            .send_request(request.build())
            .await
            .map_err(|e| fail(protocol(target, e)))?;
        let (parts, body) = response.into_parts();
        let bytes = match Limited::new(body, limit_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(fail(TransportError::TooLarge {
                    target: target.clone(),
                    limit_bytes,
                }))
            }
            Err(e) => return Err(fail(protocol(target, e))),
        };
        Ok(Response::from_parts(parts, bytes))
    }
}

/// A request in the form sent on the wire, kept so that it can be sent twice.
struct Prepared {
    method: Method,
    path: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Prepared {
    /// Origin-form path (HTTP/1.1 sends no scheme or authority in the request line) and a
    /// `Host` header when the caller set none.
    fn new(request: Request<Bytes>, target: &Target) -> Self {
        let (parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str)
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let mut headers = parts.headers;
        if !headers.contains_key(http::header::HOST) {
            if let Ok(value) = HeaderValue::from_str(&target.authority()) {
                headers.insert(http::header::HOST, value);
            }
        }
        Self {
            method: parts.method,
            path,
            headers,
            body,
        }
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.path.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// A stream that counts the bytes it reads.
struct Counted {
    inner: BoxedStream,
    received: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        if read > 0 {
            self.received.fetch_add(read as u64, Ordering::Relaxed);
        }
        poll
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
