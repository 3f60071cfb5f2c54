//! Run any fake's router on any listener.
//!
//! Binaries pass a tokio `TcpListener`; the simulation passes its own newtype over turmoil's
//! listener (anything implementing [`axum::serve::Listener`]). Unlike `axum::serve`, this server
//! can honour [`crate::Behaviour::Down`]: a handler marks its response with a private extension
//! and the connection is closed without writing a byte of reply. It also tells handlers which
//! connection a request came on ([`ConnectionId`]), for state a real daemon keeps per connection
//! (monerod's digest nonce).

use std::{
    io,
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    serve::Listener,
    Router,
};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request};
use hyper_util::rt::TokioIo;
use tower::ServiceExt;

/// Which accepted connection a request arrived on. [`serve`] inserts one into the extensions of
/// every request it hands to the router (`req.extensions().get::<ConnectionId>()`); requests that
/// reach a router any other way (`axum::serve`, `oneshot`) carry none.
///
/// Unique within the process (one counter shared by every [`serve`]), so a connection to a
/// restarted server never shares an id with one to its predecessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// The id as a number (for logs; only equality means anything).
    pub fn get(self) -> u64 {
        self.0
    }

    /// A new id, never handed out before in this process.
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Marker extension: "drop this connection instead of answering".
#[derive(Debug, Clone, Copy)]
struct DropConnection;

/// The error our hyper service returns to make hyper close the connection without a reply.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose (behaviour: down)")]
struct ConnectionDropped;

/// A response that [`serve`] turns into a dropped connection. Any other server sends it as a
/// `503` with an empty body.
pub(crate) fn drop_connection_response() -> Response {
    let mut resp = StatusCode::SERVICE_UNAVAILABLE.into_response();
    resp.extensions_mut().insert(DropConnection);
    resp
}

/// Serve `router` on `listener` forever (HTTP/1.1, keep-alive), one task per connection.
///
/// A response produced by [`crate::Behaviour::Down`] closes its connection without a reply.
/// Every request carries its connection's [`ConnectionId`] as an extension.
/// The future only ends if the surrounding task is dropped; the `io::Result` mirrors
/// `axum::serve` so callers can `?` it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
/// let fake = FakeMonerod::new(MoneroMode::Synced { height: 3_000_000 });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// pithead_fakes::serve::serve(listener, fake.router()).await
/// # }
/// ```
pub async fn serve<L: Listener>(mut listener: L, router: Router) -> io::Result<()> {
    loop {
        let (io, _peer) = listener.accept().await;
        let router = router.clone();
        tokio::spawn(serve_one(io, router));
    }
}

/// Serve `router` on one accepted connection (plain, or already through a TLS handshake) until
/// it closes, honouring [`crate::Behaviour::Down`] as [`serve`] does.
pub(crate) async fn serve_one<IO>(io: IO, router: Router)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = ConnectionId::next();
    let service = service_fn(move |mut req: Request<Incoming>| {
        let router = router.clone();
        req.extensions_mut().insert(connection);
        async move {
            let resp = match router.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                Err(ConnectionDropped)
            } else {
                Ok::<_, ConnectionDropped>(resp)
            }
        }
    });
    if let Err(err) = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await
    {
        tracing::debug!(%err, "fake connection ended");
    }
}

/// Bind `127.0.0.1:0` with tokio, serve `router` there in a background task and return the
/// bound address. For tests outside the simulation (contract tests, this crate's own tests).
pub async fn spawn_local(
    router: Router,
) -> io::Result<(SocketAddr, tokio::task::JoinHandle<io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, router));
    Ok((addr, task))
}
