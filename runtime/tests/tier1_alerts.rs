//! Tier 1: the alerts through the real cycle, in tokio's paused (virtual) time. monerod is the
//! fake monerod over an in-memory pipe (or refuses), the docker engine is in memory, and the
//! sinks and the heartbeat are in-test: recording, failing until a given instant, or hanging.
//!
//! Measured here: a down edge reaches a healthy sink in the pass that sees it (0 s of virtual
//! time after the pass); a sink failing for 10 minutes gets the alert once, at its first retry
//! after recovering (retries at 0, 5, 15, 35, 75, 155, 315, 615 s).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_runtime::alerts::{Alert, Built, Pinger, SendError, Sink, SinkKind};
use pithead_runtime::config::Config;
use pithead_runtime::control::alerts::EventKey;
use pithead_runtime::cycle::{Clients, Cycle};
use pithead_runtime::io::{BoxedStream, Clock, Connector};
use pithead_runtime::observe::docker::{Applied, ContainerStatus, DockerApi, DockerError};
use pithead_runtime::observe::system::{FixedSystem, SystemReading};
use pithead_runtime::view::{read_model, StateReader};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::Instant;

const EPOCH_MS: u64 = 1_800_000_000_000;

/// Wall time that follows tokio's (virtual) clock from a fixed epoch, as the simulation's.
struct VirtualClock {
    t0: Instant,
}

impl Clock for VirtualClock {
    fn wall_ms(&self) -> u64 {
        EPOCH_MS + u64::try_from(self.t0.elapsed().as_millis()).expect("a virtual age in ms")
    }
}

/// Dials monerod (the fake, or a refusal); every other host refuses.
struct Dial {
    up: Arc<Mutex<bool>>,
    pipe: mpsc::UnboundedSender<DuplexStream>,
}

impl Connector for Dial {
    fn connect(
        &self,
        host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let up = *self.up.lock().unwrap_or_else(PoisonError::into_inner);
        if host != "monerod" || !up {
            return Box::pin(async { Err(io::ErrorKind::ConnectionRefused.into()) });
        }
        let (client, server) = tokio::io::duplex(64 * 1024);
        let sent = self.pipe.send(server);
        let client = Live {
            inner: client,
            up: self.up.clone(),
        };
        Box::pin(async move {
            sent.map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            Ok(Box::new(client) as BoxedStream)
        })
    }
}

/// A kept-alive connection to monerod: reset once monerod is gone, as a killed process's are.
struct Live {
    inner: DuplexStream,
    up: Arc<Mutex<bool>>,
}

impl Live {
    fn gone<T>(&self) -> Option<Poll<io::Result<T>>> {
        let up = *self.up.lock().unwrap_or_else(PoisonError::into_inner);
        (!up).then(|| Poll::Ready(Err(io::ErrorKind::ConnectionReset.into())))
    }
}

impl AsyncRead for Live {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.gone()
            .unwrap_or_else(|| Pin::new(&mut self.inner).poll_read(cx, buf))
    }
}

impl AsyncWrite for Live {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.gone()
            .unwrap_or_else(|| Pin::new(&mut self.inner).poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.gone()
            .unwrap_or_else(|| Pin::new(&mut self.inner).poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

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

/// A docker engine that does what it is told and reports it (every container runs at first),
/// or refuses every start and stop.
#[derive(Default)]
struct Docker(Mutex<BTreeMap<String, bool>>, AtomicBool);

impl Docker {
    fn set(&self, name: &str, running: bool) -> Result<Applied, DockerError> {
        if self.1.load(Ordering::SeqCst) {
            return Err(DockerError::InvalidName {
                name: name.to_owned(),
            });
        }
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), running);
        Ok(Applied::Changed)
    }
}

impl DockerApi for Docker {
    fn start<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async move { self.set(name, true) })
    }

    fn stop<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async move { self.set(name, false) })
    }

    fn inspect<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<ContainerStatus, DockerError>> {
        Box::pin(async move {
            let running = *self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(name)
                .unwrap_or(&true);
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

/// How an in-test sink answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Every attempt lands.
    Delivers,
    /// Every attempt fails (HTTP 503) until the instant, then lands.
    FailsUntil(Instant),
    /// No attempt ever answers.
    Hangs,
}

/// A sink that records every attempt (when, what, whether it landed).
struct TestSink {
    label: String,
    behaviour: Mutex<Behaviour>,
    attempts: Mutex<Vec<(Instant, Alert, bool)>>,
}

impl TestSink {
    fn new(label: &str, behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            label: label.to_owned(),
            behaviour: Mutex::new(behaviour),
            attempts: Mutex::default(),
        })
    }

    fn attempts(&self) -> Vec<(Instant, Alert, bool)> {
        self.attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The keys delivered, in order.
    fn delivered(&self) -> Vec<EventKey> {
        self.attempts()
            .into_iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(_, a, _)| a.key)
            .collect()
    }

    /// When `key` was delivered.
    fn delivered_at(&self, key: EventKey) -> Vec<Instant> {
        self.attempts()
            .into_iter()
            .filter(|(_, a, ok)| *ok && a.key == key)
            .map(|(at, _, _)| at)
            .collect()
    }
}

impl Sink for TestSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Webhook
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    fn carries(&self, _alert: &Alert) -> bool {
        true
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let behaviour = *self
                .behaviour
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let ok = match behaviour {
                Behaviour::Delivers => true,
                Behaviour::FailsUntil(until) => now >= until,
                Behaviour::Hangs => std::future::pending().await,
            };
            self.attempts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((now, alert.clone(), ok));
            if ok {
                Ok(())
            } else {
                Err(SendError::Status(503))
            }
        })
    }
}

/// A heartbeat endpoint that records when it was pinged.
#[derive(Default)]
struct TestPinger(Mutex<Vec<Instant>>);

impl Pinger for TestPinger {
    fn ping(&self) -> BoxFuture<'_, Result<(), SendError>> {
        Box::pin(async move {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Instant::now());
            Ok(())
        })
    }
}

struct Rig {
    up: Arc<Mutex<bool>>,
    docker: Arc<Docker>,
    cycle: Cycle,
    state: StateReader,
    t0: Instant,
    data: tempfile::TempDir,
}

impl Rig {
    fn new(sinks: &[Arc<TestSink>], pinger: Option<Arc<TestPinger>>) -> Self {
        Self::build(
            tempfile::tempdir().expect("a data dir"),
            Instant::now(),
            sinks,
            pinger,
        )
    }

    /// A new process on the same data directory, with `sinks`: only the disk survives.
    fn restart(self, sinks: &[Arc<TestSink>]) -> Self {
        let up = *self.up.lock().unwrap_or_else(PoisonError::into_inner);
        let Self {
            data, t0, cycle, ..
        } = self;
        drop(cycle);
        let rig = Self::build(data, t0, sinks, None);
        *rig.up.lock().unwrap_or_else(PoisonError::into_inner) = up;
        rig
    }

    fn build(
        data: tempfile::TempDir,
        t0: Instant,
        sinks: &[Arc<TestSink>],
        pinger: Option<Arc<TestPinger>>,
    ) -> Self {
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
        let router = FakeMonerod::new(MoneroMode::Synced { height: 3_000 }).router();
        tokio::spawn(async move { axum::serve(Pipe(incoming), router).await });
        let up = Arc::new(Mutex::new(true));
        let connector = Arc::new(Dial {
            up: up.clone(),
            pipe,
        });
        let mut clients = Clients::new(&config, connector).expect("clients");
        let docker = Arc::new(Docker::default());
        clients.docker = docker.clone();
        clients.docker_read = docker.clone();
        let (writer, state) = read_model();
        let mut cycle = Cycle::new(config, Arc::new(VirtualClock { t0 }), clients, writer);
        cycle.set_system(Arc::new(FixedSystem::new(SystemReading {
            disk_percent: Some(40.0),
            ..SystemReading::default()
        })));
        cycle.set_alerts(
            Built {
                sinks: sinks.iter().map(|s| s.clone() as Arc<dyn Sink>).collect(),
                pinger: pinger.map(|p| p as Arc<dyn Pinger>),
            },
            Some("rig".to_owned()),
        );
        Self {
            up,
            docker,
            cycle,
            state,
            t0,
            data,
        }
    }

    fn set_up(&self, up: bool) {
        *self.up.lock().unwrap_or_else(PoisonError::into_inner) = up;
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    /// Runs a pass every 30 s from `from` to `to` seconds (both included).
    async fn cycles(&mut self, from: u64, to: u64) {
        for s in (from..=to).step_by(30) {
            tokio::time::sleep_until(self.at(s)).await;
            self.cycle.run_once().await;
        }
    }

    fn monero_down(&self) -> bool {
        self.state.read().nodes["monero"].down
    }
}

fn count(keys: &[EventKey], key: EventKey) -> usize {
    keys.iter().filter(|k| **k == key).count()
}

#[tokio::test(start_paused = true)]
async fn a_monerod_outage_is_one_down_alert_and_one_recovery_per_sink_at_once() {
    let (a, b) = (
        TestSink::new("webhook#1", Behaviour::Delivers),
        TestSink::new("ntfy", Behaviour::Delivers),
    );
    let mut rig = Rig::new(&[a.clone(), b.clone()], None);
    rig.cycles(0, 60).await;
    rig.set_up(false);
    // Refused from 90 s: down at the pass of 120 s (30 s window).
    rig.cycles(90, 90).await;
    assert!(!rig.monero_down());
    rig.cycles(120, 120).await;
    assert!(rig.monero_down());
    let edge = rig.at(120);
    tokio::time::sleep(Duration::from_millis(1)).await;
    rig.cycles(150, 600).await;
    rig.set_up(true);
    rig.cycles(630, 900).await;
    assert!(!rig.monero_down());
    for sink in [&a, &b] {
        let keys = sink.delivered();
        assert_eq!(
            keys,
            [
                // A first boot on synced chains releases the miners.
                EventKey::SyncFinished,
                EventKey::NodeDown,
                EventKey::WorkersRejected,
                EventKey::NodeRecovered,
                EventKey::WorkersReadmitted
            ],
            "{}",
            sink.label
        );
        // The latency from the down edge: none beyond the pass itself.
        let at = sink.delivered_at(EventKey::NodeDown)[0];
        assert_eq!(at.duration_since(edge), Duration::ZERO, "{}", sink.label);
        let texts: Vec<_> = sink
            .attempts()
            .into_iter()
            .map(|(_, a, _)| a.text)
            .collect();
        assert_eq!(
            texts[1],
            "[rig] 🔴 Monero node (monerod) is down #node_down"
        );
    }
    // /api/state and /metrics count them.
    let state = rig.state.read().alerts.clone();
    assert_eq!(state.sinks.len(), 2);
    assert_eq!(state.sinks[0].label, "webhook#1");
    assert_eq!(state.sinks[0].counters.sent, 5);
    assert_eq!(state.sinks[0].counters.queued, 0);
    let metrics = rig.state.metrics().encode();
    assert!(
        metrics.contains(r#"pithead_alerts_sent_total{sink="ntfy"} 5"#),
        "{metrics}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sink_failing_for_ten_minutes_delivers_once_after_it_recovers() {
    let ok = TestSink::new("ntfy", Behaviour::Delivers);
    let failing = TestSink::new("webhook#1", Behaviour::Delivers);
    let mut rig = Rig::new(&[failing.clone(), ok.clone()], None);
    rig.cycles(0, 60).await;
    // Fails from now until 10 minutes after the down edge at 120 s.
    *failing.behaviour.lock().unwrap() = Behaviour::FailsUntil(rig.at(720));
    rig.set_up(false);
    rig.cycles(90, 1_500).await;
    assert!(rig.monero_down());
    assert_eq!(failing.delivered_at(EventKey::NodeDown).len(), 1);
    let tries: Vec<u64> = failing
        .attempts()
        .into_iter()
        .filter(|(_, a, _)| a.key == EventKey::NodeDown)
        .map(|(at, _, _)| at.duration_since(rig.at(120)).as_secs())
        .collect();
    assert_eq!(tries, [0, 5, 15, 35, 75, 155, 315, 615]);
    assert_eq!(
        failing.delivered(),
        [
            EventKey::SyncFinished,
            EventKey::NodeDown,
            EventKey::WorkersRejected
        ]
    );
    assert_eq!(
        ok.delivered(),
        [
            EventKey::SyncFinished,
            EventKey::NodeDown,
            EventKey::WorkersRejected
        ]
    );
    let row = rig.state.read().alerts.sinks[0].clone();
    assert_eq!(row.label, "webhook#1");
    assert_eq!(
        (
            row.counters.sent,
            row.counters.retried,
            row.counters.dropped
        ),
        (3, 7, 0)
    );
    assert_eq!(row.counters.last_error, None);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_sink_delays_neither_a_healthy_sink_nor_the_cycle() {
    let hanging = TestSink::new("telegram", Behaviour::Hangs);
    let ok = TestSink::new("ntfy", Behaviour::Delivers);
    let mut rig = Rig::new(&[hanging.clone(), ok.clone()], None);
    rig.cycles(0, 60).await;
    rig.set_up(false);
    rig.cycles(90, 90).await;
    let before = Instant::now();
    rig.cycles(120, 120).await;
    assert_eq!(
        Instant::now(),
        before + Duration::from_secs(30),
        "the pass waited"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(ok.delivered_at(EventKey::NodeDown), [rig.at(120)]);
    rig.cycles(150, 300).await;
    assert_eq!(
        ok.delivered(),
        [
            EventKey::SyncFinished,
            EventKey::NodeDown,
            EventKey::WorkersRejected
        ]
    );
    // The hanging one is cut at 30 s per attempt, counted, and retried.
    let row = rig.state.read().alerts.sinks[0].clone();
    assert_eq!(row.label, "telegram");
    assert!(row.counters.retried >= 3, "{row:?}");
    assert_eq!(row.counters.last_error.as_deref(), Some("timeout"));
    assert_eq!(row.counters.queued, 3);
}

#[tokio::test(start_paused = true)]
async fn a_restart_during_an_outage_sends_no_duplicate_and_redelivers_what_was_owed() {
    let ok = TestSink::new("ntfy", Behaviour::Delivers);
    let down = TestSink::new("webhook#1", Behaviour::Delivers);
    let mut rig = Rig::new(&[ok.clone(), down.clone()], None);
    rig.cycles(0, 60).await;
    *down.behaviour.lock().unwrap() = Behaviour::FailsUntil(rig.at(100_000));
    rig.set_up(false);
    rig.cycles(90, 300).await;
    assert!(rig.monero_down());
    assert_eq!(
        ok.delivered(),
        [
            EventKey::SyncFinished,
            EventKey::NodeDown,
            EventKey::WorkersRejected
        ]
    );
    assert_eq!(down.delivered(), [EventKey::SyncFinished]);
    let file = rig.data.path().join("alerts-outbox.json");
    let saved = std::fs::read_to_string(&file).expect("the outbox on disk");
    assert!(
        saved.contains("node_down") && saved.contains("webhook#1"),
        "{saved}"
    );

    // A new process (new sinks: the webhook answers now), monerod still down.
    let (ok2, webhook2) = (
        TestSink::new("ntfy", Behaviour::Delivers),
        TestSink::new("webhook#1", Behaviour::Delivers),
    );
    let mut rig = rig.restart(&[ok2.clone(), webhook2.clone()]);
    rig.cycles(330, 600).await;
    assert!(rig.monero_down());
    assert!(
        ok2.delivered().is_empty(),
        "a duplicate: {:?}",
        ok2.delivered()
    );
    assert_eq!(
        webhook2.delivered(),
        [EventKey::NodeDown, EventKey::WorkersRejected]
    );
    assert_eq!(
        webhook2.delivered_at(EventKey::NodeDown),
        [rig.at(330)],
        "not re-delivered at the first pass"
    );
    // Everything owed was delivered: the file is gone.
    assert!(!file.exists(), "delivered alerts stay on disk");
    // The recovery is alerted, once, to both.
    rig.set_up(true);
    rig.cycles(630, 900).await;
    assert_eq!(
        ok2.delivered(),
        [EventKey::NodeRecovered, EventKey::WorkersReadmitted]
    );
    assert_eq!(count(&webhook2.delivered(), EventKey::NodeRecovered), 1);
    // The old process's sinks heard nothing after it stopped.
    assert_eq!(ok.delivered().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_heartbeat_pings_once_a_minute_while_passes_are_healthy_and_never_when_they_fail() {
    let pinger = Arc::new(TestPinger::default());
    let mut rig = Rig::new(&[], Some(pinger.clone()));
    rig.cycles(0, 300).await;
    // Then every pass fails: the engine refuses the reject's stop once monerod is down (360 s).
    rig.docker.1.store(true, Ordering::SeqCst);
    rig.set_up(false);
    rig.cycles(330, 600).await;
    assert!(!rig.state.read().cycle.errors.is_empty());
    // And the engine takes calls again.
    rig.docker.1.store(false, Ordering::SeqCst);
    rig.cycles(630, 660).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    let pings: Vec<u64> = pinger
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|at| at.duration_since(rig.t0).as_secs())
        .collect();
    assert_eq!(pings, [0, 60, 120, 180, 240, 300, 630]);
    let heartbeat = rig.state.read().alerts.heartbeat.clone();
    assert!(heartbeat.enabled);
    assert_eq!(heartbeat.ok, Some(true));
}

/// The cycle persists the failover (a node down) in its snapshot right after the alert machine
/// steps; a crash in between must not leave the alert nowhere, because a restart that finds the
/// node already down keeps a silent baseline. So the alerts are in the outbox file the moment
/// `step` returns, before any sink task has run.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn alerts_are_owed_on_disk_before_the_step_returns() {
    use pithead_runtime::control::alerts::{OutboxLimits, Signals};
    use pithead_runtime::cycle::AlertsDriver;
    use pithead_runtime::store::OutboxStore;

    let data = tempfile::tempdir().expect("a data dir");
    let sinks = [
        TestSink::new("one", Behaviour::Delivers),
        TestSink::new("two", Behaviour::Hangs),
    ];
    let built = Built {
        sinks: sinks.iter().map(|s| s.clone() as Arc<dyn Sink>).collect(),
        pinger: None,
    };
    let clock = Arc::new(VirtualClock { t0: Instant::now() });
    let mut driver =
        AlertsDriver::with_sinks(built, None, data.path(), clock, OutboxLimits::default());
    let up = Signals {
        db_healthy: true,
        ..Signals::default()
    };
    assert!(
        driver.step(&up, 1_800_000_000).is_empty(),
        "the baseline is silent"
    );
    let down = Signals {
        monero_down: true,
        workers_rejected: true,
        ..up
    };
    let alerts = driver.step(&down, 1_800_000_030);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    // No await since: no sink task has polled its channel yet.
    let saved = OutboxStore::new(data.path())
        .load()
        .expect("the outbox file");
    for sink in &sinks {
        let keys: Vec<EventKey> = saved
            .get(&sink.label())
            .map(|o| o.entries.iter().map(|e| e.alert.key).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [EventKey::NodeDown, EventKey::WorkersRejected],
            "{} owes nothing on disk",
            sink.label()
        );
    }
    assert!(sinks.iter().all(|s| s.attempts().is_empty()));
}
