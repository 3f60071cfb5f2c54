//! Tier 1: the cycle's timing, in tokio's paused (virtual) time, with the network scripted by a
//! connector: monerod answers (the fake monerod over an in-memory pipe), hangs, or refuses.
//!
//! A hanging node counts as unreachable from the moment its unanswered call was sent, not from
//! when the call's deadline expired: the cycle takes its observation instant before the calls.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_runtime::config::Config;
use pithead_runtime::cycle::{Clients, Cycle};
use pithead_runtime::io::{BoxedStream, Connector, SystemClock};
use pithead_runtime::view::{read_model, StateReader};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What monerod does with the next connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// Served by the fake monerod.
    Answers,
    /// Accepts nothing and never fails: the call waits for its deadline.
    Hangs,
    /// Refuses at once (the process is gone).
    Refuses,
}

/// Dials monerod as scripted; every other host (the docker engine) refuses.
struct Scripted {
    monerod: Arc<Mutex<Node>>,
    pipe: mpsc::UnboundedSender<DuplexStream>,
}

impl Connector for Scripted {
    fn connect(
        &self,
        host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let node = *self.monerod.lock().unwrap_or_else(PoisonError::into_inner);
        let refused = || Err(io::Error::from(io::ErrorKind::ConnectionRefused));
        if host != "monerod" {
            return Box::pin(async move { refused() });
        }
        match node {
            Node::Answers => {
                let (client, server) = tokio::io::duplex(64 * 1024);
                let sent = self.pipe.send(server);
                let client = ScriptedStream {
                    inner: client,
                    node: self.monerod.clone(),
                };
                Box::pin(async move {
                    sent.map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
                    Ok(Box::new(client) as BoxedStream)
                })
            }
            Node::Hangs => Box::pin(std::future::pending()),
            Node::Refuses => Box::pin(async move { refused() }),
        }
    }
}

/// The client's end of a connection that was dialled while monerod answered. The script applies
/// to it too: the clients keep connections alive, so a node that hangs or dies must stop
/// answering on the open connections as well, as a real one does (a hung process never
/// answers; a killed one resets its connections).
struct ScriptedStream {
    inner: DuplexStream,
    node: Arc<Mutex<Node>>,
}

impl ScriptedStream {
    fn node(&self) -> Node {
        *self.node.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn reset<T>() -> Poll<io::Result<T>> {
    Poll::Ready(Err(io::Error::from(io::ErrorKind::ConnectionReset)))
}

impl AsyncRead for ScriptedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.node() {
            Node::Answers => Pin::new(&mut self.inner).poll_read(cx, buf),
            Node::Hangs => Poll::Pending,
            Node::Refuses => reset(),
        }
    }
}

impl AsyncWrite for ScriptedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.node() {
            Node::Answers => Pin::new(&mut self.inner).poll_write(cx, buf),
            Node::Hangs => Poll::Pending,
            Node::Refuses => reset(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.node() {
            Node::Answers => Pin::new(&mut self.inner).poll_flush(cx),
            Node::Hangs => Poll::Pending,
            Node::Refuses => reset(),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The fake monerod's end of the in-memory pipes.
struct Pipe(mpsc::UnboundedReceiver<DuplexStream>);

impl axum::serve::Listener for Pipe {
    type Io = DuplexStream;
    type Addr = ();

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.0.recv().await {
            Some(stream) => (stream, ()),
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(())
    }
}

struct Rig {
    monerod: Arc<Mutex<Node>>,
    cycle: Cycle,
    state: StateReader,
    start: Instant,
    _data: tempfile::TempDir,
}

impl Rig {
    /// A runtime without Tari: down after 30 s, calls bounded by 10 s.
    fn new() -> Self {
        let data = tempfile::tempdir().expect("a temporary data dir");
        let env = [
            ("TARI_GRPC_ADDRESS", String::new()),
            ("NODE_DOWN_AFTER_SEC", "30".to_owned()),
            ("NODE_RECOVERY_AFTER_SEC", "30".to_owned()),
            ("RPC_TIMEOUT_SEC", "10".to_owned()),
            ("DATA_DIR", data.path().display().to_string()),
        ];
        let config =
            Config::from_lookup(|key| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
                .expect("a valid configuration");
        let (pipe, incoming) = mpsc::unbounded_channel();
        let fake = FakeMonerod::new(MoneroMode::Synced { height: 3_000 });
        let router = fake.router();
        tokio::spawn(async move { axum::serve(Pipe(incoming), router).await });
        let monerod = Arc::new(Mutex::new(Node::Answers));
        let connector = Arc::new(Scripted {
            monerod: monerod.clone(),
            pipe,
        });
        let clients = Clients::new(&config, connector).expect("clients for a valid configuration");
        let (writer, state) = read_model();
        let cycle = Cycle::new(config, Arc::new(SystemClock), clients, writer);
        Self {
            monerod,
            cycle,
            state,
            start: Instant::now(),
            _data: data,
        }
    }

    fn set(&self, node: Node) {
        *self.monerod.lock().unwrap_or_else(PoisonError::into_inner) = node;
    }

    /// Runs one cycle that starts `at` seconds after the rig was built.
    async fn cycle_at(&mut self, at: u64) {
        tokio::time::sleep_until(self.start + Duration::from_secs(at)).await;
        self.cycle.run_once().await;
    }

    fn monero_down(&self) -> bool {
        self.state.read().nodes["monero"].down
    }

    fn rejected(&self) -> bool {
        self.state.read().workers_rejected
    }
}

#[tokio::test(start_paused = true)]
async fn a_hanging_node_is_unreachable_from_when_the_unanswered_call_was_sent() {
    let mut rig = Rig::new();
    rig.cycle_at(0).await;
    assert!(rig.state.read().nodes["monero"].reachable);

    // Sent at 10 s, unanswered until its deadline at 20 s.
    rig.set(Node::Hangs);
    rig.cycle_at(10).await;
    assert_eq!(
        rig.start.elapsed(),
        Duration::from_secs(20),
        "the call waits for its deadline"
    );
    assert!(!rig.monero_down());

    // At 40 s the node refuses at once: unreachable since 10 s, i.e. for the 30 s window.
    // (Counting from the deadline at 20 s would make it 20 s, and not down yet.)
    rig.set(Node::Refuses);
    rig.cycle_at(39).await;
    assert!(!rig.monero_down(), "down before the window");
    rig.cycle_at(40).await;
    assert!(rig.monero_down(), "not down 30 s after the unanswered call");
    assert!(rig.rejected());
}

#[tokio::test(start_paused = true)]
async fn a_node_that_hangs_throughout_is_down_one_window_after_the_first_unanswered_call() {
    let mut rig = Rig::new();
    rig.cycle_at(0).await;
    rig.set(Node::Hangs);
    // Calls sent at 10, 25 and 40 s, each answered by its deadline only.
    rig.cycle_at(10).await;
    rig.cycle_at(25).await;
    assert!(!rig.monero_down());
    rig.cycle_at(40).await;
    assert!(rig.monero_down());
    assert!(rig.rejected());
}

#[tokio::test(start_paused = true)]
async fn recovery_is_measured_between_the_sendings_of_answered_calls() {
    let mut rig = Rig::new();
    rig.cycle_at(0).await;
    rig.set(Node::Refuses);
    rig.cycle_at(10).await;
    rig.cycle_at(40).await;
    assert!(rig.monero_down());
    rig.set(Node::Answers);
    rig.cycle_at(50).await;
    rig.cycle_at(79).await;
    assert!(rig.monero_down(), "recovered before the window");
    rig.cycle_at(80).await;
    assert!(!rig.monero_down());
    assert!(!rig.rejected());
}
