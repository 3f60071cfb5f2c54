//! [`World`]: the runtime and its fake daemons on turmoil hosts, with faults, invariants checked
//! after every step, and a [`Trace`] of what happened.
//!
//! Hosts (few on purpose: turmoil steps every host on every tick):
//!
//! | host | serves | port |
//! |---|---|---|
//! | `runtime` | the runtime's HTTP API (`/api/state`) | 8000 |
//! | `monerod` | [`FakeMonerod`] | 18081 |
//! | `tari` | [`FakeTari`] gRPC (only when Tari is part of the stack) | 18142 |
//! | `docker-control` | the docker fake behind a [`DockerTap`] | 2375 |
//! | `aux` | p2pool data-api 3380, xmrig-proxy API 3344, XvB 8088, and the `/api/state` prober | |
//!
//! Host names follow the runtime's URLs: overriding `MONERO_RPC_URL`, `TARI_GRPC_ADDRESS` or
//! `DOCKER_CONTROL_URL` moves the fake to that host and port. Fault calls accept either the
//! role names above or the host names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::Method;
use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::p2pool::FakeP2pool;
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use pithead_fakes::xvb::FakeXvb;
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::control::Desired;
use pithead_runtime::io::http::{request, send, Exchange};
use pithead_runtime::view::{ApiState, StateReader};
use tokio::sync::Notify;

use crate::clock::SimClock;
use crate::docker_tap::DockerTap;
use crate::fakes;
use crate::invariants::{Checker, NodeTrack, RuntimeView, Timing, Violation};
use crate::model::{
    monero_done, monero_reach, tari_done, tari_reach, Deadline, Link, Reach, ReachHistory,
};
use crate::net::{bind, TurmoilConnector};
use crate::panics;
use crate::trace::{format_time, EventKind, Trace};

/// The runtime's host.
pub const RUNTIME: &str = "runtime";
/// monerod's role name.
pub const MONEROD: &str = "monerod";
/// The Tari node's role name.
pub const TARI: &str = "tari";
/// The docker engine's role name.
pub const DOCKER: &str = "docker-control";
/// The host of p2pool, xmrig-proxy, XvB and the `/api/state` prober.
pub const AUX: &str = "aux";
/// Port of the runtime's HTTP API.
pub const DASHBOARD_PORT: u16 = 8000;
/// Port of p2pool's data-api on `aux`.
pub const P2POOL_PORT: u16 = 3380;
/// Port of xmrig-proxy's HTTP API on `aux`.
pub const XMRIG_PROXY_PORT: u16 = 3344;
/// Port of the XvB fake on `aux`.
pub const XVB_PORT: u16 = 8088;

/// Default fixed epoch: 2025-01-01T00:00:00Z.
pub const DEFAULT_EPOCH: Duration = Duration::from_secs(1_735_689_600);

/// An invariant that failed (or a wait that timed out), with where and when, and the trace.
///
/// `Debug` prints the same as `Display` (what failed, then the trace's tail), so a test's
/// `unwrap()` shows a readable report.
#[derive(Clone)]
pub struct Failure {
    /// The world's seed.
    pub seed: u64,
    /// Simulation step at which it was detected.
    pub step: u64,
    /// Virtual time at which it was detected.
    pub at: Duration,
    /// Short name of the invariant (or `readiness` for a timed-out wait).
    pub invariant: &'static str,
    /// What was seen.
    pub message: String,
    /// The trace up to the failure.
    pub trace: Trace,
    /// The command that replays this run, when known (set by the seed runner).
    pub replay: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "invariant `{}` failed at step {} (virtual time {}), seed {}:",
            self.invariant,
            self.step,
            format_time(self.at),
            self.seed
        )?;
        writeln!(f, "  {}", self.message)?;
        writeln!(f, "last events of the trace:")?;
        write!(f, "{}", self.trace.tail(40))?;
        if let Some(replay) = &self.replay {
            writeln!(f, "replay: {replay}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}

/// Builds a [`World`].
#[derive(Debug, Clone)]
pub struct WorldBuilder {
    seed: u64,
    env: BTreeMap<String, String>,
    monero: MoneroMode,
    tari: Option<TariMode>,
    tick: Duration,
    epoch: Duration,
    probe_every: Option<Duration>,
    containers: Option<Vec<(String, bool)>>,
    monero_auth: Option<(String, String)>,
    expect: BTreeMap<String, String>,
}

impl WorldBuilder {
    /// A world for `seed`: monerod and Tari synced, the runtime's defaults, a 1 s tick.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            env: BTreeMap::new(),
            monero: MoneroMode::Synced { height: 3_300_000 },
            tari: Some(TariMode::Synced { height: 90_000 }),
            tick: Duration::from_secs(1),
            epoch: DEFAULT_EPOCH,
            probe_every: Some(Duration::from_secs(300)),
            containers: None,
            monero_auth: None,
            expect: BTreeMap::new(),
        }
    }

    /// Makes the invariant checker assume `key = value` while the runtime keeps its own
    /// environment: a test of the tests (a checker that expects a 600 s down window must flag a
    /// runtime that rejects after 90 s). Never needed by scenarios.
    pub fn expect_env(mut self, key: &str, value: &str) -> Self {
        self.expect.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets a runtime environment variable (domain.md §2).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// monerod's initial mode.
    pub fn monero(mut self, mode: MoneroMode) -> Self {
        self.monero = mode;
        self
    }

    /// Tari's initial mode; `None` = no Tari in the stack (`TARI_GRPC_ADDRESS=""`).
    pub fn tari(mut self, mode: Option<TariMode>) -> Self {
        self.tari = mode;
        self
    }

    /// Virtual time per simulation step (default 1 s).
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Wall-clock epoch the world starts at (since the Unix epoch).
    pub fn epoch(mut self, since_unix_epoch: Duration) -> Self {
        self.epoch = since_unix_epoch;
        self
    }

    /// How often the prober fetches `/api/state` (default every 300 virtual seconds; `None`
    /// disables periodic probes, [`World::fetch_state_json`] still works).
    pub fn probe_every(mut self, every: Option<Duration>) -> Self {
        self.probe_every = every;
        self
    }

    /// The docker fake's containers and whether each runs at boot (default: every managed
    /// container, running, as after `docker compose up`).
    pub fn containers(mut self, containers: &[(&str, bool)]) -> Self {
        self.containers = Some(
            containers
                .iter()
                .map(|(name, running)| ((*name).to_owned(), *running))
                .collect(),
        );
        self
    }

    /// Makes the fake monerod require digest auth (and sets `MONERO_RPC_USER`/`PASSWORD`).
    pub fn monero_digest_auth(mut self, user: &str, password: &str) -> Self {
        self.monero_auth = Some((user.to_owned(), password.to_owned()));
        self.env("MONERO_RPC_USER", user)
            .env("MONERO_RPC_PASSWORD", password)
    }

    /// Places every host and returns the world, not yet stepped.
    pub fn build(self) -> World {
        World::new(self)
    }
}

/// Which turmoil host plays which role.
#[derive(Debug, Clone)]
struct Hosts {
    monerod: (String, u16),
    tari: Option<(String, u16)>,
    docker: (String, u16),
}

impl Hosts {
    fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        match name {
            MONEROD => &self.monerod.0,
            TARI => self.tari.as_ref().map_or(TARI, |t| t.0.as_str()),
            DOCKER => &self.docker.0,
            other => other,
        }
    }

    fn role_of(&self, host: &str) -> Option<&'static str> {
        if host == self.monerod.0 {
            Some(MONEROD)
        } else if self.tari.as_ref().is_some_and(|t| t.0 == host) {
            Some(TARI)
        } else if host == self.docker.0 {
            Some(DOCKER)
        } else if host == AUX {
            Some(AUX)
        } else {
            None
        }
    }
}

#[derive(Debug, Default)]
struct ProbeLog {
    /// Periodic probes: (started, ended, error).
    outcomes: Vec<(Duration, Duration, Option<String>)>,
    /// On-demand fetches waiting for the prober.
    pending: Vec<u64>,
    /// Their answers.
    answers: BTreeMap<u64, Result<serde_json::Value, String>>,
    next_id: u64,
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A simulated Pithead box: the runtime, its fakes, the faults applied and the invariants.
pub struct World {
    sim: turmoil::Sim<'static>,
    seed: u64,
    tick: Duration,
    hosts: Hosts,
    monerod: FakeMonerod,
    tari: Option<FakeTari>,
    docker: FakeDocker,
    p2pool: FakeP2pool,
    xmrig_proxy: FakeXmrigProxy,
    xvb: FakeXvb,
    tap: DockerTap,
    runtime_state: Shared<Option<StateReader>>,
    runtime_starts: Shared<u64>,
    open_connections: Arc<AtomicUsize>,
    probe: Shared<ProbeLog>,
    probe_wake: Arc<Notify>,
    links: BTreeMap<&'static str, Link>,
    deadline: Deadline,
    monero_data: MoneroMode,
    tari_data: TariMode,
    runtime_up: bool,
    starts_seen: u64,
    last_count: u64,
    last_view: Option<RuntimeView>,
    last_disruption: Duration,
    checker: Checker,
    trace: Trace,
    steps: u64,
    panics_at_start: usize,
    failed: Option<Failure>,
    data_dir: PathBuf,
    managed: Vec<String>,
    tari_required: bool,
    _data_dir_guard: Option<tempfile::TempDir>,
}

fn url_host_port(url: &str, default_port: u16) -> Option<(String, u16)> {
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_owned(), uri.port_u16().unwrap_or(default_port)))
}

fn address_host_port(address: &str) -> Option<(String, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}

impl World {
    fn new(b: WorldBuilder) -> Self {
        panics::install_hook();
        let data_dir_guard = if b.env.contains_key("DATA_DIR") {
            None
        } else {
            tempfile::Builder::new()
                .prefix("pithead-sim-")
                .tempdir()
                .ok()
        };
        let mut env = b.env.clone();
        env.entry("MONERO_RPC_URL".into())
            .or_insert_with(|| format!("http://{MONEROD}:18081"));
        env.entry("TARI_GRPC_ADDRESS".into()).or_insert_with(|| {
            if b.tari.is_some() {
                format!("{TARI}:18142")
            } else {
                String::new()
            }
        });
        env.entry("DOCKER_CONTROL_URL".into())
            .or_insert_with(|| format!("http://{DOCKER}:2375"));
        env.entry("DASHBOARD_BIND".into())
            .or_insert_with(|| format!("0.0.0.0:{DASHBOARD_PORT}"));
        if let Some(dir) = &data_dir_guard {
            env.insert("DATA_DIR".into(), dir.path().display().to_string());
        }
        let data_dir = PathBuf::from(env.get("DATA_DIR").cloned().unwrap_or_default());

        let config = Config::from_lookup(|k| env.get(k).cloned());
        let config_error = config.as_ref().err().map(ToString::to_string);
        let config = config.unwrap_or_default();

        let hosts = Hosts {
            monerod: url_host_port(config.monero_rpc_url.as_str(), 80)
                .unwrap_or_else(|| (MONEROD.to_owned(), 18081)),
            tari: config
                .tari_grpc_address
                .as_ref()
                .and_then(|a| address_host_port(a.as_str())),
            docker: url_host_port(config.docker_control_url.as_str(), 80)
                .unwrap_or_else(|| (DOCKER.to_owned(), 2375)),
        };
        let dashboard_port = config.dashboard_bind.port();

        let monerod = {
            let fake = FakeMonerod::new(b.monero.clone());
            match &b.monero_auth {
                Some((user, password)) => fake.with_digest_auth(user, password),
                None => fake,
            }
        };
        let tari = match (&hosts.tari, &b.tari) {
            (Some(_), Some(mode)) => Some(FakeTari::new(mode.clone())),
            (Some(_), None) => Some(FakeTari::new(TariMode::Synced { height: 90_000 })),
            (None, _) => None,
        };
        let mut managed: Vec<String> = config
            .sync_gate_containers
            .iter()
            .map(ToString::to_string)
            .collect();
        if !managed.contains(&config.reject_workers_container.to_string()) {
            managed.push(config.reject_workers_container.to_string());
        }
        let containers = b
            .containers
            .clone()
            .unwrap_or_else(|| managed.iter().map(|n| (n.clone(), true)).collect());
        let docker = fakes::docker(&containers);
        let p2pool = fakes::p2pool();
        let xmrig_proxy = fakes::xmrig_proxy();
        let xvb = fakes::xvb();
        let tap = DockerTap::default();

        let mut sim = turmoil::Builder::new()
            .rng_seed(b.seed)
            .epoch(UNIX_EPOCH + b.epoch)
            .tick_duration(b.tick)
            .simulation_duration(Duration::from_secs(400 * 86_400))
            // Long holds queue many SYNs (every cycle dials again); turmoil panics when a
            // listener's backlog exceeds this, where a real kernel would just drop them.
            .tcp_capacity(4096)
            // turmoil keeps the socket of a connect that never completed (a partition, a held
            // link) for the host's lifetime; a month of cycles needs more than the default
            // 16k ephemeral ports.
            .ephemeral_ports(1024..=65535)
            .build();

        // Servers first, then the runtime, then the prober: a request sent in one step is
        // answered in the next.
        {
            let fake = monerod.clone();
            let port = hosts.monerod.1;
            sim.host(hosts.monerod.0.as_str(), move || {
                let fake = fake.clone();
                async move {
                    let listener = bind(port).await?;
                    pithead_fakes::serve::serve(listener, fake.router()).await?;
                    Ok(())
                }
            });
        }
        if let (Some(fake), Some((host, port))) = (&tari, &hosts.tari) {
            let fake = fake.clone();
            let port = *port;
            sim.host(host.as_str(), move || {
                let fake = fake.clone();
                async move {
                    let listener = bind(port).await?;
                    tonic::transport::Server::builder()
                        .add_service(fake.grpc_service())
                        .serve_with_incoming(listener.into_incoming())
                        .await?;
                    Ok(())
                }
            });
        }
        {
            let router = tap.wrap(fakes::docker_router(&docker));
            let port = hosts.docker.1;
            sim.host(hosts.docker.0.as_str(), move || {
                let router = router.clone();
                async move {
                    let listener = bind(port).await?;
                    pithead_fakes::serve::serve(listener, router).await?;
                    Ok(())
                }
            });
        }

        let runtime_state: Shared<Option<StateReader>> = Arc::default();
        let runtime_starts: Shared<u64> = Arc::default();
        let open_connections: Arc<AtomicUsize> = Arc::default();
        {
            let env = env.clone();
            let slot = runtime_state.clone();
            let starts = runtime_starts.clone();
            let open = open_connections.clone();
            let epoch = b.epoch;
            sim.host(RUNTIME, move || {
                let env = env.clone();
                let slot = slot.clone();
                let starts = starts.clone();
                let open = open.clone();
                async move {
                    *lock(&starts) += 1;
                    let config = Config::from_lookup(|k| env.get(k).cloned())?;
                    let port = config.dashboard_bind.port();
                    let edges = Edges {
                        connector: Arc::new(TurmoilConnector::counted(open.clone())),
                        clock: Arc::new(SimClock::new(epoch)),
                    };
                    let app =
                        App::build(config, edges).map_err(Box::<dyn std::error::Error>::from)?;
                    *lock(&slot) = Some(app.state());
                    let listener = bind(port).await?;
                    app.run(listener)
                        .await
                        .map_err(Box::<dyn std::error::Error>::from)?;
                    Ok(())
                }
            });
        }

        let probe: Shared<ProbeLog> = Arc::default();
        let probe_wake = Arc::new(Notify::new());
        {
            let p2pool = p2pool.clone();
            let xmrig_proxy = xmrig_proxy.clone();
            let xvb = xvb.clone();
            let probe = probe.clone();
            let wake = probe_wake.clone();
            let every = b.probe_every;
            let url = format!("http://{RUNTIME}:{dashboard_port}/api/state");
            sim.host(AUX, move || {
                let routers = [
                    (P2POOL_PORT, fakes::p2pool_router(&p2pool)),
                    (XMRIG_PROXY_PORT, fakes::xmrig_proxy_router(&xmrig_proxy)),
                    (XVB_PORT, fakes::xvb_router(&xvb)),
                ];
                let probe = probe.clone();
                let wake = wake.clone();
                let url = url.clone();
                async move {
                    for (port, router) in routers {
                        let listener = bind(port).await?;
                        tokio::spawn(pithead_fakes::serve::serve(listener, router));
                    }
                    probe_loop(probe, wake, every, url).await;
                    Ok(())
                }
            });
        }

        // What the invariants assume: the runtime's configuration, unless a test of the tests
        // overrides part of it.
        let checked = if b.expect.is_empty() {
            config.clone()
        } else {
            Config::from_lookup(|k| b.expect.get(k).or_else(|| env.get(k)).cloned())
                .unwrap_or_else(|_| config.clone())
        };
        let t = Timing {
            update_interval: checked.update_interval,
            rpc_timeout: checked.rpc_timeout,
            down_after: checked.node_down_after,
            recovery_after: checked.node_recovery_after,
            margin: b.tick * 8 + Duration::from_secs(1),
            docker_timeout: checked.rpc_timeout
                + Duration::from_secs(u64::from(pithead_runtime::observe::docker::STOP_GRACE_SECS)),
            managed: u32::try_from(managed.len()).unwrap_or(u32::MAX),
        };
        let deadline = Deadline {
            timeout: config.rpc_timeout,
            margin: t.margin,
        };
        let mut nodes = vec![NodeTrack {
            name: "monero",
            required: true,
            history: ReachHistory::new(monero_reach(&monerod.mode(), Link::Up, deadline)),
        }];
        if let Some(fake) = &tari {
            nodes.push(NodeTrack {
                name: "tari",
                required: checked.tari_required,
                history: ReachHistory::new(tari_reach(&fake.mode(), Link::Up, deadline)),
            });
        }
        let monero_data = monerod.mode();
        let tari_data = tari.as_ref().map_or(TariMode::Starting, FakeTari::mode);
        let mut chains = vec![NodeTrack {
            name: "monero",
            required: true,
            history: ReachHistory::new(monero_done(
                &monero_data,
                &monero_data,
                nodes[0].history.current(),
            )),
        }];
        if let (Some(fake), true) = (&tari, checked.tari_required) {
            chains.push(NodeTrack {
                name: "tari",
                required: true,
                history: ReachHistory::new(tari_done(
                    &fake.mode(),
                    &tari_data,
                    nodes[1].history.current(),
                )),
            });
        }
        let checker = Checker::new(
            t,
            checked
                .sync_gate_containers
                .iter()
                .map(ToString::to_string)
                .collect(),
            checked.reject_workers_container.to_string(),
            nodes,
            chains,
        );

        let mut trace = Trace::new();
        trace.push(
            Duration::ZERO,
            EventKind::Note,
            "world",
            format!(
                "seed {} tick {:?} monerod {} tari {} interval {:?} down_after {:?} recovery_after {:?}",
                b.seed,
                b.tick,
                mode_name_monero(&monerod.mode()),
                tari.as_ref().map_or("none".to_owned(), |f| mode_name_tari(&f.mode())),
                config.update_interval,
                config.node_down_after,
                config.node_recovery_after
            ),
        );
        for node in &checker.nodes {
            trace.push(
                Duration::ZERO,
                EventKind::Reach,
                node.name,
                node.history.current().name(),
            );
        }
        if let Some(error) = &config_error {
            trace.push(Duration::ZERO, EventKind::Note, "config", error.clone());
        }

        let tari_required = checked.tari_required && tari.is_some();
        Self {
            sim,
            seed: b.seed,
            tick: b.tick,
            hosts,
            monerod,
            tari,
            docker,
            p2pool,
            xmrig_proxy,
            xvb,
            tap,
            runtime_state,
            runtime_starts,
            open_connections,
            probe,
            probe_wake,
            links: BTreeMap::new(),
            deadline,
            monero_data,
            tari_data,
            runtime_up: true,
            starts_seen: 0,
            last_count: 0,
            last_view: None,
            last_disruption: Duration::ZERO,
            checker,
            trace,
            steps: 0,
            panics_at_start: panics::count(),
            failed: None,
            data_dir,
            managed,
            tari_required,
            _data_dir_guard: data_dir_guard,
        }
    }

    // ----- time -----

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// Simulation steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Virtual time per step.
    pub fn tick(&self) -> Duration {
        self.tick
    }

    /// One simulation step, then every invariant.
    pub fn step(&mut self) -> Result<(), Failure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        let result = self.sim.step();
        self.steps += 1;
        let now = self.sim.elapsed();
        if let Err(e) = result {
            return Err(self.fail(
                now,
                "runtime-keeps-running",
                format!("a host's software ended: {e}"),
            ));
        }
        match self.observe(now) {
            Ok(()) => Ok(()),
            Err(v) => Err(self.fail(now, v.invariant, v.message)),
        }
    }

    /// Advances virtual time by `d`, checking invariants after every step.
    pub fn run_for(&mut self, d: Duration) -> Result<(), Failure> {
        let end = self.elapsed() + d;
        while self.elapsed() < end {
            self.step()?;
        }
        Ok(())
    }

    /// Steps until `pred` holds (checked before every step), at most `timeout` of virtual time.
    /// Returns how long it took.
    pub fn run_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&World) -> bool,
    ) -> Result<Duration, Failure> {
        let start = self.elapsed();
        loop {
            if let Some(failure) = &self.failed {
                return Err(failure.clone());
            }
            if pred(self) {
                return Ok(self.elapsed() - start);
            }
            if self.elapsed() - start >= timeout {
                let now = self.elapsed();
                return Err(self.failure(
                    now,
                    "readiness",
                    format!("timed out after {timeout:?} waiting for {what}"),
                ));
            }
            self.step()?;
        }
    }

    /// A failed invariant: recorded, and returned by every later step (the world is broken).
    fn fail(&mut self, now: Duration, invariant: &'static str, message: String) -> Failure {
        self.trace.push(
            now,
            EventKind::Note,
            "FAILED",
            format!("{invariant}: {message}"),
        );
        let failure = self.failure(now, invariant, message);
        self.failed = Some(failure.clone());
        failure
    }

    /// A failed wait or fetch: returned once, the world goes on.
    fn failure(&self, now: Duration, invariant: &'static str, message: String) -> Failure {
        Failure {
            seed: self.seed,
            step: self.steps,
            at: now,
            invariant,
            message,
            trace: self.trace.clone(),
            replay: None,
        }
    }

    /// Checks the settled end state after a quiet period: the latch released, workers
    /// admitted, every managed container running in the docker fake.
    pub fn assert_settled(&mut self) -> Result<(), Failure> {
        let now = self.elapsed();
        let mut problems = Vec::new();
        match self.checker.view() {
            None => problems.push("the runtime published no cycle".to_owned()),
            Some(view) => {
                if !view.released {
                    problems.push("the latch is not released".to_owned());
                }
                if view.rejected {
                    problems.push("workers are still rejected".to_owned());
                }
            }
        }
        for name in self.managed.clone() {
            if !self.container_running(&name) {
                problems.push(format!("{name} is not running"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(self.fail(now, "settles-when-quiet", problems.join("; ")))
        }
    }

    // ----- reading the world -----

    /// The runtime's read model (`ApiState::default()` before its first cycle or while it is
    /// crashed).
    pub fn state(&self) -> ApiState {
        match lock(&self.runtime_state).as_ref() {
            Some(state) => state.get(),
            None => ApiState::default(),
        }
    }

    /// Connections the runtime dialled that are still alive (a leak shows as growth).
    pub fn runtime_open_connections(&self) -> usize {
        self.open_connections.load(Ordering::Relaxed)
    }

    /// Cycles completed by the current runtime process.
    pub fn cycles(&self) -> u64 {
        match lock(&self.runtime_state).as_ref() {
            Some(state) => state.read().cycle.count,
            None => 0,
        }
    }

    /// `GET /api/state` over the simulated network (from the `aux` host), parsed as JSON.
    pub fn fetch_state_json(&mut self) -> Result<serde_json::Value, Failure> {
        let id = {
            let mut log = lock(&self.probe);
            log.next_id += 1;
            let id = log.next_id;
            log.pending.push(id);
            id
        };
        self.probe_wake.notify_one();
        let limit = self.elapsed() + Duration::from_secs(120);
        loop {
            let answer = lock(&self.probe).answers.remove(&id);
            if let Some(answer) = answer {
                let now = self.elapsed();
                return answer.map_err(|e| {
                    self.failure(
                        now,
                        "api-state-answers",
                        format!("GET /api/state failed: {e}"),
                    )
                });
            }
            if self.elapsed() >= limit {
                let now = self.elapsed();
                return Err(self.failure(
                    now,
                    "api-state-answers",
                    "GET /api/state got no answer within 120 s".to_owned(),
                ));
            }
            self.step()?;
        }
    }

    /// The fake monerod.
    pub fn monerod(&self) -> &FakeMonerod {
        &self.monerod
    }

    /// The fake Tari node (`None` when Tari is not part of the stack).
    pub fn tari(&self) -> Option<&FakeTari> {
        self.tari.as_ref()
    }

    /// The docker fake.
    pub fn docker(&self) -> &FakeDocker {
        &self.docker
    }

    /// The p2pool fake.
    pub fn p2pool(&self) -> &FakeP2pool {
        &self.p2pool
    }

    /// The xmrig-proxy fake.
    pub fn xmrig_proxy(&self) -> &FakeXmrigProxy {
        &self.xmrig_proxy
    }

    /// The XvB fake.
    pub fn xvb(&self) -> &FakeXvb {
        &self.xvb
    }

    /// The docker tap: every start/stop the runtime made, and pending refusals.
    pub fn docker_tap(&self) -> &DockerTap {
        &self.tap
    }

    /// True when the docker fake runs `name`.
    pub fn container_running(&self, name: &str) -> bool {
        fakes::is_running(&self.docker, name).unwrap_or(false)
    }

    /// Containers the runtime manages (gate containers and the reject container).
    pub fn managed_containers(&self) -> &[String] {
        &self.managed
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The runtime's data directory (snapshot).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Modelled reachability of `monero` or `tari` right now.
    pub fn reach(&self, node: &str) -> Option<Reach> {
        self.checker
            .nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.history.current())
    }

    /// The invariant checker's timing (tolerances derive from it).
    pub fn timing(&self) -> &Timing {
        self.checker.timing()
    }

    /// Whether Tari's outage rejects workers in this world.
    pub fn tari_required(&self) -> bool {
        self.tari_required
    }

    /// Whether the runtime host is running.
    pub fn runtime_up(&self) -> bool {
        self.runtime_up
    }

    // ----- faults -----

    fn fault(&mut self, subject: &str, detail: String) {
        let now = self.elapsed();
        self.trace.push(now, EventKind::Fault, subject, detail);
    }

    /// Brings the reachability model up to date with the fakes' modes and the links (called
    /// after every fault, so the model changes at the fault's time, and after every step, so
    /// direct changes to a fake are noticed too).
    fn refresh_model(&mut self, now: Duration) {
        let monero_link = self.links.get(MONEROD).copied().unwrap_or_default();
        let mode = self.monerod.mode();
        if matches!(mode, MoneroMode::Synced { .. } | MoneroMode::Syncing { .. }) {
            self.monero_data = mode.clone();
        }
        let reach = monero_reach(&mode, monero_link, self.deadline);
        if self.checker.nodes[0].history.set(now, reach) {
            self.trace
                .push(now, EventKind::Reach, "monero", reach.name());
        }
        let done = monero_done(&mode, &self.monero_data, reach);
        self.checker.chains[0].history.set(now, done);
        if let Some(fake) = &self.tari {
            let link = self.links.get(TARI).copied().unwrap_or_default();
            let mode = fake.mode();
            if !matches!(mode, TariMode::Down | TariMode::Slow { .. }) {
                self.tari_data = mode.clone();
            }
            let reach = tari_reach(&mode, link, self.deadline);
            if self.checker.nodes[1].history.set(now, reach) {
                self.trace.push(now, EventKind::Reach, "tari", reach.name());
            }
            let done = tari_done(&mode, &self.tari_data, reach);
            if let Some(chain) = self.checker.chains.get_mut(1) {
                chain.history.set(now, done);
            }
        }
        let docker_link = self.links.get(DOCKER).copied().unwrap_or_default();
        self.checker
            .docker_health(now, docker_link, self.tap.pending_refusals() > 0);
    }

    /// Records a note in the trace (scenario steps, schedule markers).
    pub fn note(&mut self, subject: &str, detail: &str) {
        let now = self.elapsed();
        self.trace.push(now, EventKind::Note, subject, detail);
    }

    /// Both hosts of a link fault, resolved; `None` (and a note in the trace) when one is not
    /// part of this world (e.g. `tari` in a world without Tari).
    fn link_hosts(&mut self, a: &str, b: &str, verb: &str) -> Option<(String, String)> {
        let ha = self.hosts.resolve(a).to_owned();
        let hb = self.hosts.resolve(b).to_owned();
        let known = |h: &str| h == RUNTIME || self.hosts.role_of(h).is_some();
        if known(&ha) && known(&hb) && ha != hb {
            Some((ha, hb))
        } else {
            self.note(
                "link",
                &format!("{verb} {a}<->{b} ignored: not two hosts of this world"),
            );
            None
        }
    }

    fn set_link(&mut self, a: &str, b: &str, link: Link, verb: &str) {
        let ha = self.hosts.resolve(a).to_owned();
        let hb = self.hosts.resolve(b).to_owned();
        let other = if ha == RUNTIME {
            Some(hb.clone())
        } else if hb == RUNTIME {
            Some(ha.clone())
        } else {
            None
        };
        if let Some(role) = other.as_deref().and_then(|h| self.hosts.role_of(h)) {
            if link == Link::Up {
                self.links.remove(role);
            } else {
                self.links.insert(role, link);
            }
            if role == AUX {
                self.last_disruption = self.elapsed();
            }
        }
        self.fault("link", format!("{verb} {ha}<->{hb}"));
        let now = self.elapsed();
        self.refresh_model(now);
    }

    /// Drops every message between hosts `a` and `b` (role or host names).
    pub fn partition(&mut self, a: &str, b: &str) {
        if let Some((ha, hb)) = self.link_hosts(a, b, "partition") {
            self.sim.partition(ha.as_str(), hb.as_str());
            self.set_link(a, b, Link::Partitioned, "partition");
        }
    }

    /// Undoes [`Self::partition`]. After a [`Self::hold`] use [`Self::release`]: a repair lets
    /// new messages flow but leaves the held ones queued.
    pub fn repair(&mut self, a: &str, b: &str) {
        if let Some((ha, hb)) = self.link_hosts(a, b, "repair") {
            self.sim.repair(ha.as_str(), hb.as_str());
            self.set_link(a, b, Link::Up, "repair");
        }
    }

    /// Queues every message between `a` and `b` until [`Self::release`].
    pub fn hold(&mut self, a: &str, b: &str) {
        if let Some((ha, hb)) = self.link_hosts(a, b, "hold") {
            self.sim.hold(ha.as_str(), hb.as_str());
            self.set_link(a, b, Link::Held, "hold");
        }
    }

    /// Delivers what [`Self::hold`] queued and lets messages flow again.
    pub fn release(&mut self, a: &str, b: &str) {
        if let Some((ha, hb)) = self.link_hosts(a, b, "release") {
            self.sim.release(ha.as_str(), hb.as_str());
            self.set_link(a, b, Link::Up, "release");
        }
    }

    /// Sets monerod's mode (`down`, `busy`, `slow`, `garbage`, `syncing`, `synced`).
    pub fn set_monero(&mut self, mode: MoneroMode) {
        self.fault(MONEROD, mode_name_monero(&mode));
        self.monerod.set_mode(mode);
        let now = self.elapsed();
        self.refresh_model(now);
    }

    /// Sets Tari's mode (`starting`, `migrating`, `syncing`, `synced`, `down`, `slow`); ignored
    /// when Tari is not part of the stack.
    pub fn set_tari(&mut self, mode: TariMode) {
        if let Some(fake) = &self.tari {
            let detail = mode_name_tari(&mode);
            fake.set_mode(mode);
            self.fault(TARI, detail);
            let now = self.elapsed();
            self.refresh_model(now);
        }
    }

    /// The docker engine refuses the next `n` start/stop calls (HTTP 500).
    pub fn refuse_docker(&mut self, n: u32) {
        self.tap.refuse_next(n);
        self.fault(DOCKER, format!("refuse next {n}"));
        let now = self.elapsed();
        self.refresh_model(now);
    }

    /// Someone (an operator, a restart policy) starts or stops a container behind the
    /// runtime's back.
    pub fn set_container(&mut self, name: &str, running: bool) {
        let status = if running {
            pithead_fakes::docker::ContainerStatus::Running
        } else {
            pithead_fakes::docker::ContainerStatus::Exited
        };
        self.docker.set_status(name, status);
        self.fault(
            DOCKER,
            format!(
                "{name} {} by hand",
                if running { "started" } else { "stopped" }
            ),
        );
    }

    /// Kills the runtime's process (turmoil `crash`): its tasks and sockets vanish; its data
    /// directory stays.
    pub fn crash_runtime(&mut self) {
        self.sim.crash(RUNTIME);
        self.runtime_up = false;
        *lock(&self.runtime_state) = None;
        self.checker.runtime_stopped();
        self.last_view = None;
        self.last_count = 0;
        self.last_disruption = self.elapsed();
        let now = self.elapsed();
        self.trace.push(now, EventKind::Host, RUNTIME, "crashed");
    }

    /// Starts the runtime's process again (turmoil `bounce`): it reloads only its snapshot.
    pub fn restart_runtime(&mut self) {
        self.sim.bounce(RUNTIME);
        self.runtime_up = true;
        *lock(&self.runtime_state) = None;
        let now = self.elapsed();
        self.checker.runtime_started(now);
        self.checker.restored_down(snapshot_down(&self.data_dir));
        self.last_view = None;
        self.last_count = 0;
        self.last_disruption = now;
        self.trace.push(now, EventKind::Host, RUNTIME, "restarted");
    }

    // ----- per-step observation -----

    fn observe(&mut self, now: Duration) -> Result<(), Violation> {
        if let Some(message) = panics::since(self.panics_at_start) {
            return Err(Violation {
                invariant: "no-panics",
                message,
            });
        }

        // Model: what the runtime should be able to see.
        self.refresh_model(now);

        // Runtime (re)starts.
        let starts = *lock(&self.runtime_starts);
        if starts != self.starts_seen {
            self.starts_seen = starts;
            self.trace.push(
                now,
                EventKind::Host,
                RUNTIME,
                format!("process start #{starts}"),
            );
        }

        // Docker calls.
        for call in self.tap.drain() {
            self.trace.push(
                call.at,
                EventKind::Docker,
                call.container.clone(),
                format!("{} {}", call.verb, call.status),
            );
            let dir = self.data_dir.clone();
            self.checker.on_docker(&call, || snapshot_released(&dir))?;
        }

        // The runtime's read model, when a cycle completed.
        if self.runtime_up {
            if let Some(view) = self.read_view() {
                self.record_view(now, &view);
                self.checker.on_view(now, view.clone())?;
                self.last_view = Some(view);
            }
        }
        let docker = &self.docker;
        self.checker
            .on_step(now, |name| fakes::is_running(docker, name))?;

        // Probes of /api/state.
        let outcomes = {
            let mut log = lock(&self.probe);
            if log.outcomes.is_empty() {
                Vec::new()
            } else {
                std::mem::take(&mut log.outcomes)
            }
        };
        for (started, ended, error) in outcomes {
            let Some(error) = error else { continue };
            let excused = !self.runtime_up
                || self.links.contains_key(AUX)
                || started <= self.last_disruption + self.tick * 2
                || self.starts_seen == 0;
            self.trace.push(
                ended,
                EventKind::Probe,
                "api/state",
                format!("failed{}: {error}", if excused { " (excused)" } else { "" }),
            );
            if !excused {
                return Err(Violation {
                    invariant: "api-state-answers",
                    message: format!(
                        "GET /api/state started at {} failed at {}: {error}",
                        format_time(started),
                        format_time(ended)
                    ),
                });
            }
        }
        Ok(())
    }

    fn read_view(&mut self) -> Option<RuntimeView> {
        let slot = lock(&self.runtime_state);
        let state = slot.as_ref()?;
        let s = state.read();
        if s.cycle.count == self.last_count {
            return None;
        }
        self.last_count = s.cycle.count;
        Some(RuntimeView {
            count: s.cycle.count,
            released: s.miner_released,
            rejected: s.workers_rejected,
            held: s.miner_held,
            down: s
                .nodes
                .iter()
                .map(|(name, node)| ((*name).to_owned(), node.down))
                .collect(),
            desired: s
                .containers
                .iter()
                .map(|(name, d)| (name.clone(), *d == Desired::Running))
                .collect(),
            percent: [
                ("monero", s.sync.monero.percent),
                ("tari", s.sync.tari.percent),
            ]
            .into_iter()
            .collect(),
            errors: s.cycle.errors.len(),
        })
    }

    fn record_view(&mut self, now: Duration, view: &RuntimeView) {
        let prev = self.last_view.clone();
        let flag = |get: fn(&RuntimeView) -> bool| prev.as_ref().map(get);
        let mut push = |subject: &str, detail: String| {
            self.trace.push(now, EventKind::Runtime, subject, detail);
        };
        if prev.is_none() {
            push(
                "cycle",
                format!(
                    "first cycle: released={} held={} rejected={}",
                    view.released, view.held, view.rejected
                ),
            );
        }
        if flag(|v| v.released).is_some_and(|was| was != view.released) {
            push(
                "latch",
                if view.released { "released" } else { "RE-HELD" }.into(),
            );
        }
        if flag(|v| v.held).is_some_and(|was| was != view.held) {
            push("gate", if view.held { "holding" } else { "open" }.into());
        }
        if flag(|v| v.rejected).is_some_and(|was| was != view.rejected) {
            push(
                "workers",
                if view.rejected {
                    "rejected"
                } else {
                    "readmitted"
                }
                .into(),
            );
        }
        for (node, down) in &view.down {
            let was = prev.as_ref().and_then(|p| p.down.get(node).copied());
            if was.is_some_and(|w| w != *down) {
                push(node, if *down { "down" } else { "recovered" }.into());
            }
        }
        if prev.as_ref().is_some_and(|p| p.errors == 0) && view.errors > 0 {
            push("cycle", format!("{} error(s)", view.errors));
        }
        for (chain, percent) in &view.percent {
            let was = prev.as_ref().and_then(|p| p.percent.get(chain).copied());
            if was != Some(*percent) {
                self.trace
                    .push(now, EventKind::Sync, *chain, format!("{percent}%"));
            }
        }
    }
}

/// Reads the runtime's latch snapshot in `dir` (false when missing or unreadable).
fn snapshot_released(dir: &std::path::Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("runtime-state.json")) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("miner_released").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

/// The nodes the snapshot records as down (what a restarted runtime restores).
fn snapshot_down(dir: &std::path::Path) -> Vec<&'static str> {
    let Ok(bytes) = std::fs::read(dir.join("runtime-state.json")) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    [("monero_down", "monero"), ("tari_down", "tari")]
        .into_iter()
        .filter(|(key, _)| value.get(*key).and_then(serde_json::Value::as_bool) == Some(true))
        .map(|(_, node)| node)
        .collect()
}

/// monerod's mode as the trace shows it.
pub fn mode_name_monero(mode: &MoneroMode) -> String {
    match mode {
        MoneroMode::Synced { height } => format!("synced {height}"),
        MoneroMode::Syncing { height, target } => format!("syncing {height}/{target}"),
        MoneroMode::Busy => "busy".into(),
        MoneroMode::Down => "down".into(),
        MoneroMode::Garbage => "garbage".into(),
        MoneroMode::Slow { secs } => format!("slow {secs}s"),
    }
}

/// Tari's mode as the trace shows it.
pub fn mode_name_tari(mode: &TariMode) -> String {
    match mode {
        TariMode::Synced { height } => format!("synced {height}"),
        TariMode::Syncing { local, tip } => format!("syncing {local}/{tip}"),
        TariMode::Starting => "starting".into(),
        TariMode::Migrating => "migrating".into(),
        TariMode::Down => "down".into(),
        TariMode::Slow { secs } => format!("slow {secs}s"),
    }
}

/// The prober on the `aux` host: periodic `GET /api/state`, and on-demand fetches for
/// [`World::fetch_state_json`].
async fn probe_loop(
    log: Shared<ProbeLog>,
    wake: Arc<Notify>,
    every: Option<Duration>,
    url: String,
) {
    let mut next = every.map(|e| tokio::time::Instant::now() + e);
    loop {
        match next {
            Some(at) => {
                let _ = tokio::time::timeout_at(at, wake.notified()).await;
            }
            None => wake.notified().await,
        }
        let pending = std::mem::take(&mut lock(&log).pending);
        for id in pending {
            let answer = fetch_state(&url).await;
            lock(&log).answers.insert(id, answer);
        }
        if let (Some(at), Some(every)) = (next, every) {
            if tokio::time::Instant::now() >= at {
                let started = turmoil::sim_elapsed().unwrap_or_default();
                let error = fetch_state(&url).await.err();
                let ended = turmoil::sim_elapsed().unwrap_or_default();
                lock(&log).outcomes.push((started, ended, error));
                next = Some(tokio::time::Instant::now() + every);
            }
        }
    }
}

async fn fetch_state(url: &str) -> Result<serde_json::Value, String> {
    let req = request(Method::GET, url, http::HeaderMap::new(), Bytes::new())
        .map_err(|e| e.to_string())?;
    let exchange = Exchange {
        timeout: Duration::from_secs(20),
        limit_bytes: 1024 * 1024,
    };
    let resp = send(&TurmoilConnector::default(), req, &exchange)
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("status {}", resp.status()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(resp.body()).map_err(|e| format!("not JSON: {e}"))?;
    for key in [
        "syncing",
        "miner_released",
        "workers_rejected",
        "sync",
        "badges",
    ] {
        if value.get(key).is_none() {
            return Err(format!("the reply lacks `{key}`"));
        }
    }
    Ok(value)
}
