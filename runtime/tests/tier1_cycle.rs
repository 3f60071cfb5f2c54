//! Tier 1: the cycle's timing, in tokio's paused (virtual) time, with the network scripted by a
//! connector: monerod answers (the fake monerod over an in-memory pipe), hangs, or refuses.
//!
//! A hanging node counts as unreachable from the moment its unanswered call was sent, not from
//! when the call's deadline expired: the cycle takes its observation instant before the calls.
//!
//! The docker engine either refuses every call (the connector dials no host but monerod) or is a
//! scripted engine in memory that keeps each container's state and records every call; the data
//! directory survives a restart of the cycle, as on a real box.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_runtime::config::Config;
use pithead_runtime::cycle::{Clients, Cycle};
use pithead_runtime::io::{BoxedStream, Connector, SystemClock};
use pithead_runtime::observe::docker::{Applied, ContainerStatus, DockerApi, DockerError};
use pithead_runtime::store::{Snapshot, SnapshotStore};
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

/// A docker engine in memory: each container's state, and every call made, in order.
#[derive(Default)]
struct Engine {
    running: BTreeMap<String, bool>,
    calls: Vec<String>,
}

/// The scripted engine, shared between the cycle and the test.
#[derive(Clone, Default)]
struct ScriptedDocker(Arc<Mutex<Engine>>);

impl ScriptedDocker {
    fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_state(&self, name: &str, running: bool) -> Result<Applied, DockerError> {
        let mut engine = self.engine();
        engine
            .calls
            .push(format!("{} {name}", if running { "start" } else { "stop" }));
        let was = engine.running.insert(name.to_owned(), running);
        Ok(if was == Some(running) {
            Applied::AlreadyInState
        } else {
            Applied::Changed
        })
    }

    /// Starts `name` as an operator or a restart policy would, behind the runtime's back.
    fn start_behind_the_back(&self, name: &str) {
        self.engine().running.insert(name.to_owned(), true);
    }

    /// The calls made so far whose text starts with `verb`.
    fn calls(&self, verb: &str) -> Vec<String> {
        let engine = self.engine();
        engine
            .calls
            .iter()
            .filter(|c| c.starts_with(verb))
            .cloned()
            .collect()
    }

    fn running(&self, name: &str) -> bool {
        self.engine().running.get(name) == Some(&true)
    }
}

impl DockerApi for ScriptedDocker {
    fn start<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async move { self.set_state(name, true) })
    }

    fn stop<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async move { self.set_state(name, false) })
    }

    fn inspect<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<ContainerStatus, DockerError>> {
        Box::pin(async move {
            let mut engine = self.engine();
            engine.calls.push(format!("inspect {name}"));
            let running = engine.running.get(name) == Some(&true);
            Ok(ContainerStatus {
                name: name.to_owned(),
                status: if running { "running" } else { "exited" }.to_owned(),
                running,
                health: None,
                image: None,
            })
        })
    }
}

struct Rig {
    monerod: Arc<Mutex<Node>>,
    cycle: Cycle,
    state: StateReader,
    start: Instant,
    data: tempfile::TempDir,
}

impl Rig {
    /// A runtime without Tari: down after 30 s, calls bounded by 10 s; the docker engine
    /// refuses every call.
    fn new() -> Self {
        Self::build(tempfile::tempdir().expect("a temporary data dir"), None)
    }

    /// The same runtime with the scripted docker engine.
    fn with_docker(docker: &ScriptedDocker) -> Self {
        Self::build(
            tempfile::tempdir().expect("a temporary data dir"),
            Some(Arc::new(docker.clone())),
        )
    }

    /// A new process on the same data directory and docker engine: only the disk survives.
    fn restart(self, docker: Option<&ScriptedDocker>) -> Self {
        let node = *self.monerod.lock().unwrap_or_else(PoisonError::into_inner);
        let rig = Self::build(
            self.data,
            docker.map(|d| Arc::new(d.clone()) as Arc<dyn DockerApi>),
        );
        rig.set(node);
        rig
    }

    fn build(data: tempfile::TempDir, docker: Option<Arc<dyn DockerApi>>) -> Self {
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
        let mut clients =
            Clients::new(&config, connector).expect("clients for a valid configuration");
        if let Some(docker) = docker {
            clients.docker = docker;
        }
        let (writer, state) = read_model();
        let cycle = Cycle::new(config, Arc::new(SystemClock), clients, writer);
        Self {
            monerod,
            cycle,
            state,
            start: Instant::now(),
            data,
        }
    }

    /// The snapshot on disk.
    fn snapshot(&self) -> Option<Snapshot> {
        SnapshotStore::new(self.data.path())
            .load()
            .expect("a readable snapshot")
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

    /// The cycle count and the last cycle's errors, one a line.
    fn cycle_section(&self) -> (u64, String) {
        let state = self.state.read();
        (state.cycle.count, state.cycle.errors.join("\n"))
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

#[tokio::test(start_paused = true)]
async fn the_latch_and_an_outage_are_on_disk_before_a_restart_and_honoured_after_it() {
    let docker = ScriptedDocker::default();
    let mut rig = Rig::with_docker(&docker);
    assert_eq!(rig.snapshot(), None, "a first start");
    rig.cycle_at(0).await;
    assert!(rig.state.read().miner_released);
    assert_eq!(
        rig.snapshot(),
        Some(Snapshot {
            miner_released: true,
            tari_part_held: false,
            monero_down: false,
            tari_down: false,
            // XvB is off: no fraction to keep.
            xvb_fraction_ppm: None,
        }),
        "the release was not persisted"
    );
    rig.set(Node::Refuses);
    rig.cycle_at(10).await;
    rig.cycle_at(40).await;
    assert!(rig.rejected());
    assert_eq!(
        rig.snapshot().map(|s| s.monero_down),
        Some(true),
        "the outage was not persisted"
    );

    // A new process while monerod is still refusing: rejected from its first cycle (not after
    // another 30 s), shown down, not "not yet up", and still released.
    let mut rig = rig.restart(Some(&docker));
    rig.cycle_at(0).await;
    assert!(rig.rejected(), "a restart readmitted during an outage");
    assert!(rig.monero_down() && rig.state.read().nodes["monero"].ever_up);
    assert!(rig.state.read().miner_released);
    assert!(!docker.running("xmrig-proxy"));

    // Back: readmitted after the full recovery window, and the recovery is persisted.
    rig.set(Node::Answers);
    rig.cycle_at(10).await;
    rig.cycle_at(39).await;
    assert!(rig.rejected(), "readmitted before the recovery window");
    rig.cycle_at(40).await;
    assert!(!rig.rejected());
    assert!(docker.running("xmrig-proxy"));
    assert_eq!(rig.snapshot().map(|s| s.monero_down), Some(false));
}

#[tokio::test(start_paused = true)]
async fn a_miner_started_behind_the_runtimes_back_while_rejected_is_stopped_again() {
    let docker = ScriptedDocker::default();
    let mut rig = Rig::with_docker(&docker);
    rig.cycle_at(0).await;
    assert!(docker.running("p2pool") && docker.running("xmrig-proxy"));
    rig.set(Node::Refuses);
    rig.cycle_at(10).await;
    rig.cycle_at(40).await;
    assert!(rig.rejected());
    assert_eq!(docker.calls("stop"), ["stop xmrig-proxy"]);

    // Stopped and staying stopped: read back every cycle, never stopped a second time.
    rig.cycle_at(50).await;
    rig.cycle_at(60).await;
    assert_eq!(docker.calls("inspect"), ["inspect xmrig-proxy"; 2]);
    assert_eq!(
        docker.calls("stop"),
        ["stop xmrig-proxy"],
        "a stopped miner stopped again"
    );

    // Started by hand (or a restart policy) while monerod is still down: stopped again.
    docker.start_behind_the_back("xmrig-proxy");
    rig.cycle_at(70).await;
    assert_eq!(docker.calls("stop"), ["stop xmrig-proxy"; 2]);
    assert!(
        !docker.running("xmrig-proxy"),
        "a miner mines on a down node"
    );
    assert!(docker.running("p2pool"));
}

#[tokio::test(start_paused = true)]
async fn every_cycle_is_counted_and_a_refused_docker_call_is_named_in_its_errors() {
    // The engine refuses everything: released at once (monerod is synced), so both starts are
    // owed and fail; once monerod is down, the reject's stop fails too.
    let mut rig = Rig::new();
    rig.cycle_at(0).await;
    let (count, errors) = rig.cycle_section();
    assert_eq!(count, 1);
    for call in ["start p2pool failed", "start xmrig-proxy failed"] {
        assert!(errors.contains(call), "{call:?} not in {errors:?}");
    }
    rig.set(Node::Refuses);
    rig.cycle_at(10).await;
    rig.cycle_at(40).await;
    let (count, errors) = rig.cycle_section();
    assert_eq!(count, 3);
    assert!(
        errors.contains("stop xmrig-proxy failed (retrying next cycle)"),
        "{errors:?}"
    );
}

/// The operator's re-arm marker (`pithead apply` of a new Monero node) is honoured across a
/// crash in the first cycle's observe phase: the re-armed latch is on disk before the marker
/// goes, so the next process still holds instead of resuming released.
#[tokio::test(start_paused = true)]
async fn a_rearm_survives_a_crash_before_the_first_cycle_saved_the_latch() {
    let docker = ScriptedDocker::default();
    let mut rig = Rig::with_docker(&docker);
    rig.cycle_at(0).await;
    assert!(rig.state.read().miner_released);
    let marker = rig.data.path().join("rearm-sync-gate");
    std::fs::write(&marker, "all\n").expect("marker written");

    // The dashboard is recreated; the new node hangs, so the first cycle is still observing
    // when the process dies.
    rig.set(Node::Hangs);
    let mut rig = rig.restart(Some(&docker));
    assert!(
        !rig.cycle.machines().gate.released(),
        "the marker was ignored"
    );
    let first = tokio::time::timeout(Duration::from_secs(5), rig.cycle.run_once()).await;
    assert!(first.is_err(), "the first cycle ended before the crash");
    let on_disk = rig.snapshot().expect("a snapshot");
    assert!(
        !on_disk.miner_released || marker.exists(),
        "neither the re-armed latch nor the marker is on disk: the re-arm is lost"
    );

    // The next process holds, and releases once the node answers synced.
    let mut rig = rig.restart(Some(&docker));
    assert!(
        !rig.cycle.machines().gate.released(),
        "a restart in the first cycle lost the operator's re-arm"
    );
    rig.set(Node::Answers);
    rig.cycle_at(0).await;
    assert!(rig.state.read().miner_released);
    assert!(rig.snapshot().expect("a snapshot").miner_released);
    assert!(!marker.exists(), "the honoured marker is still there");
}
