//! The network edges of a simulated world: turmoil's TCP behind the runtime's [`Connector`], an
//! [`axum::serve::Listener`] over a turmoil listener, and an incoming-connection stream for
//! tonic's `serve_with_incoming`.
//!
//! Everything here must be called from inside a turmoil host (turmoil's sockets look up the
//! current host in a thread-local).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pithead_runtime::io::{BoxedStream, Connector};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::links::{Gated, Links};

/// Dials over turmoil's simulated network. The runtime's clients get this instead of
/// [`pithead_runtime::io::TokioConnector`]; nothing else in the runtime changes.
///
/// [`TurmoilConnector::counted`] also counts the connections it handed out that are still
/// alive (dropped streams are subtracted), which is how the soak sees a connection leak.
///
/// [`TurmoilConnector::routed`] dials names through [`Routes`]: each name the runtime knows
/// (`monerod`, `tari`, …) is a turmoil host and a role whose [`Links`] state the dial and the
/// connection obey.
#[derive(Debug, Clone, Default)]
pub struct TurmoilConnector {
    open: Option<Arc<AtomicUsize>>,
    routes: Option<Routes>,
}

/// Where each dialled name lives: the turmoil host and the role whose link it crosses.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_name: Arc<BTreeMap<String, (String, &'static str)>>,
    links: Links,
}

impl Routes {
    /// `names` maps a dialled name to its turmoil host and role; `links` holds the roles' links.
    pub fn new(names: BTreeMap<String, (String, &'static str)>, links: Links) -> Self {
        Self {
            by_name: Arc::new(names),
            links,
        }
    }
}

impl TurmoilConnector {
    /// A connector that keeps `open` equal to the number of live connections it made.
    pub fn counted(open: Arc<AtomicUsize>) -> Self {
        Self {
            open: Some(open),
            routes: None,
        }
    }

    /// This connector, dialling through `routes`.
    pub fn routed(mut self, routes: Routes) -> Self {
        self.routes = Some(routes);
        self
    }
}

impl Connector for TurmoilConnector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let route = self.routes.as_ref().and_then(|routes| {
            let (target, role) = routes.by_name.get(host)?;
            Some((target.clone(), *role, routes.links.clone()))
        });
        let host = host.to_owned();
        let open = self.open.clone();
        Box::pin(async move {
            let (target, gate) = match route {
                Some((target, role, links)) => (target, Some((role, links))),
                None => (host, None),
            };
            if let Some((role, links)) = &gate {
                links.dial(role).await;
            }
            let stream = turmoil::net::TcpStream::connect((target.as_str(), port)).await?;
            let stream: BoxedStream = match open {
                Some(open) => {
                    open.fetch_add(1, Ordering::Relaxed);
                    Box::new(CountedStream { stream, open })
                }
                None => Box::new(stream),
            };
            Ok(match gate {
                Some((role, links)) => Box::new(Gated::new(stream, role, links)) as BoxedStream,
                None => stream,
            })
        })
    }
}

/// Implements `AsyncRead` and `AsyncWrite` for a wrapper by forwarding to its (`Unpin`) stream
/// field: the wrappers add a drop hook or connection info, not I/O behaviour.
macro_rules! forward_async_io {
    ($wrapper:ty, $field:ident) => {
        impl AsyncRead for $wrapper {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.$field).poll_read(cx, buf)
            }
        }

        impl AsyncWrite for $wrapper {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.$field).poll_write(cx, buf)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.$field).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.$field).poll_shutdown(cx)
            }
        }
    };
}

/// A connection that decrements its connector's live count when dropped.
struct CountedStream {
    stream: turmoil::net::TcpStream,
    open: Arc<AtomicUsize>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

forward_async_io!(CountedStream, stream);

/// Binds `0.0.0.0:port` on the current turmoil host.
pub async fn bind(port: u16) -> io::Result<TurmoilListener> {
    let inner = turmoil::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await?;
    Ok(TurmoilListener { inner })
}

/// A turmoil listener that axum (and [`pithead_fakes::serve::serve`]) can serve on.
pub struct TurmoilListener {
    inner: turmoil::net::TcpListener,
}

impl TurmoilListener {
    /// The port this listener is bound to.
    pub fn port(&self) -> u16 {
        self.inner.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Turns the listener into a stream of accepted connections for tonic's
    /// `Server::serve_with_incoming`.
    pub fn into_incoming(
        self,
    ) -> impl futures::Stream<Item = io::Result<TonicStream>> + Send + 'static {
        futures::stream::unfold(self.inner, |listener| async move {
            let accepted = listener.accept().await.map(|(stream, peer)| TonicStream {
                stream: IdleTimeout::new(stream),
                peer,
            });
            Some((accepted, listener))
        })
    }
}

impl axum::serve::Listener for TurmoilListener {
    type Io = IdleTimeout<turmoil::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => return (IdleTimeout::new(stream), peer),
                Err(e) => {
                    // turmoil only fails an accept when the host is being torn down; back off
                    // (virtual time) rather than spin.
                    tracing::debug!(error = %e, "simulated accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted turmoil connection that tonic can serve (it needs [`tonic::transport::server::Connected`]).
#[derive(Debug)]
pub struct TonicStream {
    stream: IdleTimeout<turmoil::net::TcpStream>,
    peer: SocketAddr,
}

impl tonic::transport::server::Connected for TonicStream {
    type ConnectInfo = SocketAddr;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.peer
    }
}

forward_async_io!(TonicStream, stream);

/// How long a server-side connection may sit without reading or writing a byte before the
/// server gives up on it.
pub const SERVER_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// A server-side stream that fails (read, write or flush) once it has made no progress for
/// [`SERVER_IDLE_TIMEOUT`], so the server closes it.
///
/// turmoil has no retransmission and no keepalive: when a partition eats a client's FIN, the
/// server's end of the connection would wait for the next request forever, and weeks later a
/// client reusing the same ephemeral port would collide with it (turmoil panics "already
/// connected"). A real server's idle timeout is what ends such connections.
#[derive(Debug)]
pub struct IdleTimeout<S> {
    inner: S,
    last_progress: tokio::time::Instant,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl<S> IdleTimeout<S> {
    /// Wraps an accepted stream (call inside a turmoil host: it starts a tokio timer).
    pub fn new(inner: S) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            inner,
            last_progress: now,
            timer: Box::pin(tokio::time::sleep_until(now + SERVER_IDLE_TIMEOUT)),
        }
    }

    fn progress(&mut self) {
        self.last_progress = tokio::time::Instant::now();
    }

    /// The inner stream is not ready: fail once the connection has been idle too long.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let deadline = self.last_progress + SERVER_IDLE_TIMEOUT;
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.progress();
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.pending(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                if matches!(result, Ok(n) if n > 0) {
                    self.progress();
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.pending(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.pending(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.pending(cx),
            ready => ready,
        }
    }
}
