//! [`WorldBuilder`]: the knobs of a world, and how it is placed on turmoil hosts — the
//! runtime's environment, the fakes, the hosts, and the invariant checker's assumptions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::p2pool::FakeP2pool;
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use pithead_fakes::xvb::FakeXvb;
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::observe::system::{FixedSystem, HugePages, SystemReading};

use super::faults::{mode_name_monero, mode_name_tari};
use super::hosts::Hosts;
use super::monitor::Monitor;
use super::probe::Prober;
use super::sinks::SinkWatch;
use super::{
    lock, World, DASHBOARD_PORT, DEFAULT_EPOCH, DOCKER, MONEROD, P2POOL_PORT, RUNTIME, STACK, TARI,
    XMRIG_PROXY_PORT, XVB_PORT,
};
use crate::alerts::{self, AlertCheck};

/// The network's share of the invariants' observation lag: one HTTP exchange on a fresh
/// connection (dial, request, reply), in ticks. It was 8 ticks + 1 s until the alert check got
/// its own slack (the longest pass, [`crate::invariants::Timing::cycle_max`]); 1,000 seeds × 6 h
/// pass at 2 ticks (docs/testing.md, fifth round).
const NETWORK_MARGIN_TICKS: u32 = 3;
use crate::clock::SimClock;
use crate::docker_tap::DockerTap;
use crate::fakes;
use crate::invariants::{Checker, NodeTrack, Timing};
use crate::links::Links;
use crate::model::{
    monero_done, monero_reach, tari_done, tari_reach, Deadline, Link, ReachHistory,
};
use crate::net::{bind, TurmoilConnector};
use crate::panics;
use crate::trace::{Trace, What};

/// Builds a [`World`].
#[derive(Debug, Clone)]
pub struct WorldBuilder {
    seed: u64,
    env: BTreeMap<String, String>,
    monero: MoneroMode,
    tari: Option<TariMode>,
    tick: Duration,
    skip_idle_ticks: bool,
    epoch: Duration,
    probe_every: Option<Duration>,
    containers: Option<Vec<(String, bool)>>,
    monero_auth: Option<(String, String)>,
    expect: BTreeMap<String, String>,
    system: FixedSystem,
    alerts: bool,
}

/// The simulated host's figures unless a test sets others: a healthy box (no level high, disk
/// far from full, HugePages on), so the sim never reads the machine it runs on.
pub fn healthy_host() -> SystemReading {
    SystemReading {
        cpu_percent: Some(20.0),
        mem_percent: Some(40.0),
        disk_percent: Some(40.0),
        hugepages: Some(HugePages {
            total: 1_280,
            free: 256,
        }),
    }
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
            skip_idle_ticks: true,
            epoch: DEFAULT_EPOCH,
            probe_every: Some(Duration::from_secs(300)),
            containers: None,
            monero_auth: None,
            expect: BTreeMap::new(),
            system: FixedSystem::new(healthy_host()),
            alerts: false,
        }
    }

    /// Sends every alert to recording sinks on their own host (`sinks`): Telegram, a signed
    /// webhook, ntfy with a token, and the heartbeat (see [`crate::alerts`]). Checks
    /// [`crate::Invariant::AlertedOncePerSink`] after every step.
    pub fn alerts(mut self, on: bool) -> Self {
        self.alerts = on;
        self
    }

    /// The host's figures (CPU, memory, disk, HugePages) the runtime reads at boot; change
    /// them later through [`World::system`].
    pub fn system(self, reading: SystemReading) -> Self {
        self.system.set(reading);
        self
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

    /// Whether a host's step in which nothing would run only moves its clock (default: yes;
    /// the patched turmoil and tokio, `third_party/tokio/PITHEAD-PATCH.md`). The trace is the
    /// same either way: off is for checking that.
    pub fn skip_idle_ticks(mut self, skip: bool) -> Self {
        self.skip_idle_ticks = skip;
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
    ///
    /// The runtime's `DATA_DIR` (unless set) is a fresh directory under [`scratch_root`].
    pub fn build(self) -> World {
        panics::install_hook();
        let data_dir_guard = if self.env.contains_key("DATA_DIR") {
            None
        } else {
            tempfile::Builder::new()
                .prefix("pithead-sim-")
                .tempdir_in(scratch_root())
                .or_else(|_| tempfile::Builder::new().prefix("pithead-sim-").tempdir())
                .ok()
        };
        let mut env = self.runtime_env(data_dir_guard.as_ref());
        let data_dir = PathBuf::from(env.get("DATA_DIR").cloned().unwrap_or_default());
        let config = Config::from_lookup(|k| env.get(k).cloned());
        let config_error = config.as_ref().err().map(ToString::to_string);
        let config = config.unwrap_or_default();
        let hosts = Hosts::from_config(&config);
        let fakes = self.fakes(&config, &hosts);
        let tap = DockerTap::default();

        let mut sim = turmoil::Builder::new()
            .rng_seed(self.seed)
            .epoch(UNIX_EPOCH + self.epoch)
            .tick_duration(self.tick)
            .skip_idle_ticks(self.skip_idle_ticks)
            .simulation_duration(Duration::from_secs(400 * 86_400))
            // Long holds queue many SYNs (every cycle dials again); turmoil panics when a
            // listener's backlog exceeds this, where a real kernel would just drop them.
            .tcp_capacity(4096)
            // turmoil keeps the socket of a connect that never completed (a partition, a held
            // link) for the host's lifetime; a month of cycles needs more than the default
            // 16k ephemeral ports.
            .ephemeral_ports(1024..=65535)
            .build();
        let monitor = Monitor::default();
        let prober = Prober::default();
        let links = Links::default();
        // The servers first, then the runtime: a request sent in one step is answered in the
        // next.
        let probe_url = format!(
            "http://{RUNTIME}:{}/api/state",
            config.dashboard_bind.port()
        );
        let prober_connector = TurmoilConnector::default().routed(Hosts::prober_routes(&links));
        place_stack(
            &mut sim,
            &hosts,
            &fakes,
            &tap,
            &prober,
            (self.probe_every, prober_connector, probe_url),
        );
        let sinks = self.alerts.then(|| {
            let fake = alerts::fake();
            place_sinks(&mut sim, &fake);
            for (k, v) in alerts::env(sim.lookup(alerts::SINKS)) {
                env.entry(k).or_insert(v);
            }
            fake
        });
        let runtime_connector = TurmoilConnector::counted(monitor.open_connections.clone())
            .routed(hosts.runtime_routes(&links));
        place_runtime(
            &mut sim,
            &env,
            self.epoch,
            &monitor,
            runtime_connector,
            &self.system,
        );

        let checked = self.checked_config(&config, &env);
        let (checker, deadline) = self.checker(&config, &checked, &fakes);
        let sinks = sinks.map(|fake| {
            let t = checker.timing();
            SinkWatch::new(
                fake,
                // The alert leaves during the pass that publishes its edge, which the world sees
                // when the pass ends: at most the longest pass later.
                AlertCheck::new(alerts::RETRY_BOUND, t.cycle_max()),
            )
        });
        let trace = self.initial_trace(&config, &fakes, &checker, config_error);
        let monero_data = fakes.monerod.mode();
        let tari_data = fakes
            .tari
            .as_ref()
            .map_or(TariMode::Starting, FakeTari::mode);
        let tari_required = checked.tari_required && fakes.tari.is_some();
        World {
            sim,
            seed: self.seed,
            tick: self.tick,
            hosts,
            monerod: fakes.monerod,
            tari: fakes.tari,
            docker: fakes.docker,
            p2pool: fakes.p2pool,
            xmrig_proxy: fakes.xmrig_proxy,
            xvb: fakes.xvb,
            tap,
            monitor,
            prober,
            links,
            deadline,
            monero_data,
            tari_data,
            runtime_up: true,
            checker,
            trace,
            steps: 0,
            failed: None,
            data_dir,
            managed: fakes.managed,
            tari_required,
            _data_dir_guard: data_dir_guard,
            system: self.system.clone(),
            sinks,
        }
    }

    /// The runtime's environment: the builder's, with the fakes' addresses and a temporary data
    /// directory unless set.
    fn runtime_env(&self, data_dir: Option<&tempfile::TempDir>) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        env.entry("MONERO_RPC_URL".into())
            .or_insert_with(|| format!("http://{MONEROD}:18081"));
        env.entry("TARI_GRPC_ADDRESS".into()).or_insert_with(|| {
            if self.tari.is_some() {
                format!("{TARI}:18142")
            } else {
                String::new()
            }
        });
        env.entry("DOCKER_CONTROL_URL".into())
            .or_insert_with(|| format!("http://{DOCKER}:2375"));
        // The docker fake holds the managed containers only: the verdicts judge those unless a
        // world asks for the whole stack.
        env.entry("STACK_SERVICES".into())
            .or_insert_with(|| "p2pool,xmrig-proxy".to_owned());
        env.entry("DASHBOARD_BIND".into())
            .or_insert_with(|| format!("0.0.0.0:{DASHBOARD_PORT}"));
        if let Some(dir) = data_dir {
            env.insert("DATA_DIR".into(), dir.path().display().to_string());
        }
        env
    }

    fn fakes(&self, config: &Config, hosts: &Hosts) -> Fakes {
        let monerod = {
            let fake = FakeMonerod::new(self.monero.clone());
            match &self.monero_auth {
                Some((user, password)) => fake.with_digest_auth(user, password),
                None => fake,
            }
        };
        let tari = match (&hosts.tari, &self.tari) {
            (Some(_), Some(mode)) => Some(FakeTari::new(mode.clone())),
            (Some(_), None) => Some(FakeTari::new(TariMode::Synced { height: 90_000 })),
            (None, _) => None,
        };
        let mut managed: Vec<String> = config
            .sync_gate_containers
            .iter()
            .map(ToString::to_string)
            .collect();
        let reject = config.reject_workers_container.to_string();
        if !managed.contains(&reject) {
            managed.push(reject);
        }
        let containers = self
            .containers
            .clone()
            .unwrap_or_else(|| managed.iter().map(|n| (n.clone(), true)).collect());
        Fakes {
            monerod,
            tari,
            docker: fakes::docker(&containers),
            p2pool: fakes::p2pool(),
            xmrig_proxy: fakes::xmrig_proxy(),
            xvb: fakes::xvb(),
            managed,
        }
    }

    /// What the invariants assume: the runtime's configuration, unless a test of the tests
    /// overrides part of it.
    fn checked_config(&self, config: &Config, env: &BTreeMap<String, String>) -> Config {
        if self.expect.is_empty() {
            config.clone()
        } else {
            Config::from_lookup(|k| self.expect.get(k).or_else(|| env.get(k)).cloned())
                .unwrap_or_else(|_| config.clone())
        }
    }

    fn checker(&self, config: &Config, checked: &Config, fakes: &Fakes) -> (Checker, Deadline) {
        let t = Timing {
            update_interval: checked.update_interval,
            rpc_timeout: checked.rpc_timeout,
            down_after: checked.node_down_after,
            recovery_after: checked.node_recovery_after,
            margin: self.tick * NETWORK_MARGIN_TICKS,
            docker_timeout: checked.rpc_timeout
                + Duration::from_secs(u64::from(pithead_runtime::observe::docker::STOP_GRACE_SECS)),
            managed: u32::try_from(fakes.managed.len()).unwrap_or(u32::MAX),
        };
        let deadline = Deadline {
            timeout: config.rpc_timeout,
            margin: t.margin,
        };
        let monero_reach = monero_reach(&fakes.monerod.mode(), Link::Up, deadline);
        let mut nodes = vec![NodeTrack {
            name: "monero",
            required: true,
            history: ReachHistory::new(monero_reach),
        }];
        let monero_data = fakes.monerod.mode();
        let mut chains = vec![NodeTrack {
            name: "monero",
            required: true,
            history: ReachHistory::new(monero_done(&monero_data, &monero_data, monero_reach)),
        }];
        if let Some(fake) = &fakes.tari {
            let mode = fake.mode();
            let reach = tari_reach(&mode, Link::Up, deadline);
            nodes.push(NodeTrack {
                name: "tari",
                required: checked.tari_required,
                history: ReachHistory::new(reach),
            });
            if checked.tari_required {
                chains.push(NodeTrack {
                    name: "tari",
                    required: true,
                    history: ReachHistory::new(tari_done(&mode, &mode, reach)),
                });
            }
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
        (checker, deadline)
    }

    fn initial_trace(
        &self,
        config: &Config,
        fakes: &Fakes,
        checker: &Checker,
        config_error: Option<String>,
    ) -> Trace {
        let mut trace = Trace::new();
        trace.note(
            Duration::ZERO,
            "world",
            format!(
                "seed {} tick {:?} monerod {} tari {} interval {:?} down_after {:?} recovery_after {:?}",
                self.seed,
                self.tick,
                mode_name_monero(&fakes.monerod.mode()),
                fakes.tari.as_ref().map_or("none".to_owned(), |f| mode_name_tari(&f.mode())),
                config.update_interval,
                config.node_down_after,
                config.node_recovery_after
            ),
        );
        for node in &checker.nodes {
            trace.record(
                Duration::ZERO,
                What::Reach {
                    node: node.name,
                    reach: node.history.current(),
                },
            );
        }
        if let Some(error) = config_error {
            trace.note(Duration::ZERO, "config", error);
        }
        trace
    }
}

/// The fakes of one world, and the containers the runtime manages.
struct Fakes {
    monerod: FakeMonerod,
    tari: Option<FakeTari>,
    docker: FakeDocker,
    p2pool: FakeP2pool,
    xmrig_proxy: FakeXmrigProxy,
    xvb: FakeXvb,
    managed: Vec<String>,
}

/// Every server on the `stack` host, each on its port: monerod, Tari (when part of the stack),
/// the docker engine behind the tap, p2pool, xmrig-proxy and XvB; then the `/api/state` prober.
fn place_stack(
    sim: &mut turmoil::Sim<'static>,
    hosts: &Hosts,
    fakes: &Fakes,
    tap: &DockerTap,
    prober: &Prober,
    probe: (Option<Duration>, TurmoilConnector, String),
) {
    let monerod = fakes.monerod.clone();
    let monerod_port = hosts.monerod.1;
    let tari = fakes.tari.clone().zip(hosts.tari.as_ref().map(|t| t.1));
    let docker = tap.wrap(fakes::docker_router(&fakes.docker));
    let docker_port = hosts.docker.1;
    let aux = [
        (P2POOL_PORT, fakes::p2pool_router(&fakes.p2pool)),
        (
            XMRIG_PROXY_PORT,
            fakes::xmrig_proxy_router(&fakes.xmrig_proxy),
        ),
        (XVB_PORT, fakes::xvb_router(&fakes.xvb)),
    ];
    let prober = prober.clone();
    sim.host(STACK, move || {
        let monerod = monerod.clone();
        let tari = tari.clone();
        let docker = docker.clone();
        let aux = aux.clone();
        let prober = prober.clone();
        let (every, connector, url) = probe.clone();
        async move {
            let listener = bind(monerod_port).await?;
            tokio::spawn(pithead_fakes::serve::serve(listener, monerod.router()));
            if let Some((fake, port)) = tari {
                let listener = bind(port).await?;
                tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(fake.grpc_service())
                        .serve_with_incoming(listener.into_incoming()),
                );
            }
            let listener = bind(docker_port).await?;
            tokio::spawn(pithead_fakes::serve::serve(listener, docker));
            for (port, router) in aux {
                let listener = bind(port).await?;
                tokio::spawn(pithead_fakes::serve::serve(listener, router));
            }
            prober.run(every, connector, url).await;
            Ok(())
        }
    });
}

/// The recording sinks on their own host.
fn place_sinks(sim: &mut turmoil::Sim<'static>, fake: &pithead_fakes::sinks::FakeSinks) {
    let router = fake.router();
    sim.host(alerts::SINKS, move || {
        let router = router.clone();
        async move {
            let listener = bind(alerts::SINKS_PORT).await?;
            pithead_fakes::serve::serve(listener, router).await?;
            Ok(())
        }
    });
}

/// The runtime's process: a fresh one at every (re)start, knowing only its environment and its
/// data directory.
fn place_runtime(
    sim: &mut turmoil::Sim<'static>,
    env: &BTreeMap<String, String>,
    epoch: Duration,
    monitor: &Monitor,
    connector: TurmoilConnector,
    system: &FixedSystem,
) {
    let env = env.clone();
    let system = system.clone();
    let slot = monitor.runtime_state.clone();
    let starts = monitor.runtime_starts.clone();
    sim.host(RUNTIME, move || {
        let env = env.clone();
        let slot = slot.clone();
        let starts = starts.clone();
        let connector = connector.clone();
        let system = system.clone();
        async move {
            *lock(&starts) += 1;
            let config = Config::from_lookup(|k| env.get(k).cloned())?;
            let port = config.dashboard_bind.port();
            let edges = Edges {
                connector: Arc::new(connector),
                clock: Arc::new(SimClock::new(epoch)),
            };
            let app = App::build(config, edges)
                .map_err(Box::<dyn std::error::Error>::from)?
                .with_system(Arc::new(system));
            *lock(&slot) = Some(app.state());
            let listener = bind(port).await?;
            app.run(listener)
                .await
                .map_err(Box::<dyn std::error::Error>::from)?;
            Ok(())
        }
    });
}

/// Where a world's data directory goes: `PITHEAD_SIM_SCRATCH` when set, else `/dev/shm` when
/// it is a writable directory, else the system's temporary directory.
///
/// Why memory first: the runtime fsyncs its snapshot on every state change and SQLite its
/// checkpoints. On a disk each fsync blocks the simulation's thread for real milliseconds
/// while virtual time stands still (measured: `pithead-sim swarm --seeds 64 --hours 6` took
/// 14.4 s with its data directories on ext4 and 12.3 s on `/dev/shm`). The same code runs
/// either way; what a crash leaves on a real disk is proven by the store's own tests.
pub fn scratch_root() -> PathBuf {
    pick_scratch(
        std::env::var_os("PITHEAD_SIM_SCRATCH"),
        std::path::Path::new("/dev/shm"),
    )
}

fn pick_scratch(explicit: Option<std::ffi::OsString>, shm: &std::path::Path) -> PathBuf {
    if let Some(dir) = explicit.filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let writable = std::fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly());
    if writable {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::pick_scratch;

    #[test]
    fn the_scratch_root_is_the_override_then_shared_memory_then_the_temp_dir() {
        let shm = tempfile::tempdir().unwrap();
        assert_eq!(
            pick_scratch(Some("/somewhere".into()), shm.path()),
            std::path::PathBuf::from("/somewhere")
        );
        assert_eq!(pick_scratch(Some("".into()), shm.path()), shm.path());
        assert_eq!(pick_scratch(None, shm.path()), shm.path());
        let missing = shm.path().join("missing");
        assert_eq!(pick_scratch(None, &missing), std::env::temp_dir());
    }
}
