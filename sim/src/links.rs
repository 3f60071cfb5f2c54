//! The links between the runtime and each server role, cut or held one role at a time.
//!
//! The servers (monerod, Tari, docker, and the `aux` services) share one turmoil host, because
//! turmoil steps every host on every tick and that stepping was most of a simulated day's wall
//! time (see docs/testing.md). turmoil's own partitions and holds act on a pair of hosts, so a
//! partition of monerod alone would cut Tari and docker too; the links are therefore kept per
//! role here and applied where the runtime (or the prober) dials:
//!
//! - a dial while the link is partitioned never completes (turmoil drops the SYN); while held it
//!   completes after the release (the SYN waits in the link);
//! - on an open connection, a partition drops what either side sends, and the connection stays
//!   broken after the repair (no retransmission: as in turmoil, the client's timeout ends it);
//!   a hold delays both directions until the release, and what the client wrote during the hold
//!   is delivered at the release even if the client gave up meanwhile (a held docker call can
//!   land late).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};

use crate::model::Link;

/// The state of every role's link to the runtime, shared by the world (which sets it) and the
/// connectors (which obey it).
#[derive(Debug, Clone, Default)]
pub struct Links {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Whether any link is not up: read on every poll of every gated connection and every step,
    /// so the common case (every link up) skips the lock.
    faulted: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Roles whose link is not up.
    state: BTreeMap<&'static str, Link>,
    /// Tasks waiting for a link to change.
    waiting: Vec<Waker>,
}

impl Links {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The link of `role`.
    pub fn get(&self, role: &str) -> Link {
        if !self.shared.faulted.load(Ordering::Acquire) {
            return Link::Up;
        }
        self.lock().state.get(role).copied().unwrap_or_default()
    }

    /// Sets the link of `role` and wakes whoever waits on a link.
    pub fn set(&self, role: &'static str, link: Link) {
        let waiting = {
            let mut inner = self.lock();
            if link == Link::Up {
                inner.state.remove(role);
            } else {
                inner.state.insert(role, link);
            }
            self.shared
                .faulted
                .store(!inner.state.is_empty(), Ordering::Release);
            std::mem::take(&mut inner.waiting)
        };
        for waker in waiting {
            waker.wake();
        }
    }

    /// The link of `role`, registering the task to be woken at the next change.
    fn watch(&self, role: &str, cx: &Context<'_>) -> Link {
        let mut inner = self.lock();
        let link = inner.state.get(role).copied().unwrap_or_default();
        if !inner.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            inner.waiting.push(cx.waker().clone());
        }
        link
    }

    /// Resolves once the link of `role` is no longer held.
    pub async fn unheld(&self, role: &'static str) -> Link {
        std::future::poll_fn(|cx| match self.get(role) {
            Link::Held => {
                let _ = self.watch(role, cx);
                // Re-check: the release may have landed between the two looks.
                match self.get(role) {
                    Link::Held => Poll::Pending,
                    other => Poll::Ready(other),
                }
            }
            other => Poll::Ready(other),
        })
        .await
    }

    /// Waits at a dial: forever when partitioned, until the release when held.
    pub async fn dial(&self, role: &'static str) {
        if self.unheld(role).await == Link::Partitioned {
            std::future::pending::<()>().await;
        }
    }
}

/// A client's connection across one role's link.
pub struct Gated<S: AsyncWrite + Unpin + Send + 'static> {
    inner: Option<S>,
    role: &'static str,
    links: Links,
    /// What the client wrote during a hold, delivered at the release.
    held: Vec<u8>,
    /// A partition dropped bytes of this connection: it never delivers again.
    broken: bool,
}

impl<S: AsyncWrite + Unpin + Send + 'static> Gated<S> {
    /// `inner` across the link of `role`.
    pub fn new(inner: S, role: &'static str, links: Links) -> Self {
        Self {
            inner: Some(inner),
            role,
            links,
            held: Vec::new(),
            broken: false,
        }
    }

    fn inner(&mut self) -> io::Result<&mut S> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "connection closed"))
    }

    /// Delivers what a hold kept back.
    fn poll_deliver_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Self { inner, held, .. } = self;
        while !held.is_empty() {
            let inner = inner
                .as_mut()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "connection closed"))?;
            let n = match Pin::new(inner).poll_write(cx, held) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            held.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Gated<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let link = match this.links.get(this.role) {
            Link::Up => Link::Up,
            _ => this.links.watch(this.role, cx),
        };
        match link {
            Link::Up if this.broken => Poll::Pending,
            Link::Up => {
                if let Poll::Ready(Err(e)) = this.poll_deliver_held(cx) {
                    return Poll::Ready(Err(e));
                }
                Pin::new(this.inner()?).poll_read(cx, buf)
            }
            Link::Held => Poll::Pending,
            Link::Partitioned => {
                // What arrives now was sent across the partition: dropped.
                let mut scratch = [0u8; 2048];
                loop {
                    let mut rb = ReadBuf::new(&mut scratch);
                    match Pin::new(this.inner()?).poll_read(cx, &mut rb) {
                        Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                            this.broken = true;
                            return Poll::Pending;
                        }
                        Poll::Ready(Ok(())) => this.broken = true,
                        Poll::Ready(Err(_)) => {
                            this.broken = true;
                            return Poll::Pending;
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Gated<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match this.links.get(this.role) {
            Link::Up => {
                match this.poll_deliver_held(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
                Pin::new(this.inner()?).poll_write(cx, buf)
            }
            Link::Held => {
                this.held.extend_from_slice(buf);
                Poll::Ready(Ok(buf.len()))
            }
            Link::Partitioned => {
                this.broken = true;
                Poll::Ready(Ok(buf.len()))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.links.get(this.role) {
            Link::Up => {
                match this.poll_deliver_held(cx) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                }
                Pin::new(this.inner()?).poll_flush(cx)
            }
            Link::Held | Link::Partitioned => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let link = match this.links.get(this.role) {
            Link::Up => Link::Up,
            _ => this.links.watch(this.role, cx),
        };
        match link {
            Link::Up => {
                match this.poll_deliver_held(cx) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                }
                Pin::new(this.inner()?).poll_shutdown(cx)
            }
            // The FIN waits in the held link.
            Link::Held => Poll::Pending,
            Link::Partitioned => Poll::Ready(Ok(())),
        }
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> Drop for Gated<S> {
    fn drop(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let (Some(mut inner), Ok(handle)) =
            (self.inner.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let held = std::mem::take(&mut self.held);
        let links = self.links.clone();
        let role = self.role;
        // The bytes are in the held link: they arrive at the release, whoever waits for them.
        let deliver: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            if links.unheld(role).await == Link::Up {
                let _ = inner.write_all(&held).await;
            }
        });
        drop(handle.spawn(deliver));
    }
}
