//! The accept loop: axum's router on hyper's HTTP/1 server, with the two limits `axum::serve`
//! leaves out. A client must send a request's headers within [`HEADER_READ_TIMEOUT`] of the
//! server starting to wait for them (a fresh connection, or a kept-alive one between
//! requests), and at most [`MAX_CONNECTIONS`] connections are served at once; more wait in the
//! listen backlog until one closes. A client on the LAN that opens connections and sends
//! nothing, or trickles a header a byte at a time, cannot hold the dashboard.
//!
//! Written here rather than taken from `axum::serve` because that has neither setting (axum
//! 0.8); the connection itself is hyper's, with its own timer.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

/// How long a connection may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 128;

/// The server's limits (the runtime serves with [`Limits::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a connection may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` on `listener` with the default [`Limits`].
pub async fn serve<L>(listener: L, router: Router) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: Debug,
{
    serve_with(listener, router, Limits::default()).await
}

/// Serves `router` on `listener` until the task is dropped. Accept errors are the listener's
/// business (axum's `Listener` retries them), so this never returns on its own.
pub async fn serve_with<L>(mut listener: L, router: Router, limits: Limits) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: Debug,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Closed never: the semaphore lives in this loop.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let (io, peer) = listener.accept().await;
        tracing::trace!(?peer, "connection accepted");
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(io), service);
            if let Err(e) = connection.await {
                tracing::debug!(?peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
}
