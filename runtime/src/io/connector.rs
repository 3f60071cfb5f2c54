use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream a client can speak HTTP/1 or HTTP/2 over.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A connected stream, boxed so that tokio and turmoil streams share one type.
pub type BoxedStream = Box<dyn Stream>;

/// Opens TCP connections. Every client in `observe` dials through one of these, never through
/// `tokio::net` directly, so the simulation can hand in turmoil's network.
pub trait Connector: Send + Sync + 'static {
    /// Connects to `host:port`.
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>>;
}

/// A connector shared by every client of one runtime.
pub type SharedConnector = Arc<dyn Connector>;

/// Production connector: real TCP through tokio, with `TCP_NODELAY` (small RPC requests).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioConnector;

impl Connector for TokioConnector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let target = format!("{host}:{port}");
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(target).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}
