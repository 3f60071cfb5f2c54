//! One update cycle: observe → decide → act → record.
//!
//! The only driver of the control machines ([`Machines`]): it reads the nodes through the
//! clients, hands the readings and `now` to [`Machines::decide`], executes the owed docker
//! calls, persists the latch, and records the pass in the read model ([`StateWriter`]).
//!
//! Architecture invariant: no decision here and no HTTP serving; the cycle knows the clients,
//! the control machines, the store and the read model's writer, nothing of `api`.

pub mod alerts;
mod services;
mod xvb;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use alerts::AlertsDriver;
pub use xvb::{XvbClients, XvbDriver, XvbReadings};

use crate::config::{Config, P2poolApi};
use crate::control::alerts::{OutboxLimits, Signals};
use crate::control::verdicts::{self, StackContext};
use crate::control::{
    chain, ChainReading, ContainerAction, Decision, Latch, Machines, Readings, TariLastGood,
    TariStatus,
};
use crate::io::{SharedClock, SharedConnector};
use crate::observe::docker::{DockerApi, DockerController};
use crate::observe::monero::{MoneroClient, MoneroInfo};
use crate::observe::p2pool::{P2poolClient, P2poolSource};
use crate::observe::system::{HostSystem, SharedSystem};
use crate::observe::tari::TariClient;
use crate::observe::xmrig_proxy::{ProxyWorker, XmrigProxyClient};
use crate::observe::SetupError;
use crate::store::{history, HistoryReader, HistoryWriter, Rearm, Snapshot, SnapshotStore};
use crate::view::{ApiState, CycleSection, DashboardInput, RenderInput, StateWriter};

/// What the clients returned this cycle, already reduced to what decisions need.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// monerod's `get_info` when it answered with `status: OK`.
    pub monero: Option<MoneroInfo>,
    /// Tari's status (`reachable: false` when it did not answer; then the last good reading,
    /// flagged stale, per [`TariLastGood`]).
    pub tari: Option<TariStatus>,
    /// p2pool's network height, when read.
    pub p2pool_network_height: Option<u64>,
}

impl Observations {
    /// The control machines' view of these observations: a reading per chain that answered
    /// (Tari only when reachable this cycle), nothing for one that did not.
    pub fn readings(&self) -> Readings {
        Readings {
            monero: self.monero.as_ref().map(monero_reading),
            tari: self.tari.as_ref().filter(|s| s.reachable).map(tari_reading),
            p2pool_network_height: self.p2pool_network_height,
        }
    }
}

fn monero_reading(info: &MoneroInfo) -> ChainReading {
    chain::monero_chain(info)
}

fn tari_reading(status: &TariStatus) -> ChainReading {
    chain::tari_chain(&status.reading)
}

/// The clients one runtime observes and acts through.
pub struct Clients {
    /// monerod.
    pub monero: MoneroClient,
    /// The Tari base node, when part of the stack.
    pub tari: Option<TariClient>,
    /// What a failed Tari read leaves on display (the control side's policy, applied as each
    /// read arrives).
    pub tari_last_good: TariLastGood,
    /// p2pool's data-api, when configured (`P2POOL_API`).
    pub p2pool: Option<P2poolClient>,
    /// The docker engine (start/stop).
    pub docker: Arc<dyn DockerApi>,
    /// The docker engine's read-only window (`DOCKER_PROXY_URL`, else the same engine as
    /// `docker`): the stack's container states for the health verdicts.
    pub docker_read: Arc<dyn DockerApi>,
    /// xmrig-proxy and XvB, when the XvB engine is enabled.
    pub xvb: Option<XvbClients>,
    /// xmrig-proxy's workers list for the dashboard (`None` when its token is unusable).
    pub workers: Option<XmrigProxyClient>,
}

impl Clients {
    /// Production clients for `config`, dialling through `connector`.
    pub fn new(config: &Config, connector: SharedConnector) -> Result<Self, SetupError> {
        let exchange = crate::io::http::Exchange {
            timeout: config.rpc_timeout,
            limit_bytes: 1024 * 1024,
        };
        let monero = MoneroClient::new(
            connector.clone(),
            &config.monero_rpc_url,
            config.monero_rpc_credentials.clone(),
            exchange.clone(),
        );
        let tari = config.tari_grpc_address.as_ref().map(|address| {
            TariClient::new(connector.clone(), address.target(), config.rpc_timeout)
        });
        let p2pool = config.p2pool_api.as_ref().map(|api| {
            let source = match api {
                P2poolApi::Http(endpoint) => P2poolSource::Http(endpoint.clone()),
                P2poolApi::Dir(dir) => P2poolSource::Dir(dir.clone()),
            };
            P2poolClient::new(connector.clone(), source, exchange.clone())
        });
        let xvb = if config.xvb_enabled {
            Some(XvbClients::new(
                &config.xvb,
                connector.clone(),
                exchange.clone(),
            )?)
        } else {
            None
        };
        let workers = XmrigProxyClient::new(
            connector.clone(),
            &config.xvb.proxy_api,
            config.xvb.proxy_token.as_deref(),
            exchange.clone(),
        )
        .map_err(|e| tracing::warn!(error = %e, "no workers list on the dashboard"))
        .ok();
        let docker: Arc<dyn DockerApi> = Arc::new(DockerController::new(
            connector.clone(),
            &config.docker_control_url,
            config.rpc_timeout,
        )?);
        let docker_read: Arc<dyn DockerApi> = match &config.docker_proxy_url {
            Some(proxy) => Arc::new(DockerController::new(connector, proxy, config.rpc_timeout)?),
            None => docker.clone(),
        };
        Ok(Self {
            monero,
            tari,
            tari_last_good: TariLastGood::default(),
            p2pool,
            docker,
            docker_read,
            xvb,
            workers,
        })
    }

    /// Reads every node, concurrently.
    pub async fn observe(&mut self) -> Observations {
        self.observe_all().await.0
    }

    /// Reads every node and, when the XvB engine is enabled, what it needs; concurrently.
    pub async fn observe_all(&mut self) -> (Observations, Option<XvbReadings>) {
        self.observe_nodes().await
    }

    /// [`Self::observe_all`] and, concurrently, xmrig-proxy's workers through `workers`
    /// (empty when it gave no reading).
    pub async fn observe_with_workers(
        &mut self,
        workers: Option<&XmrigProxyClient>,
    ) -> (Observations, Option<XvbReadings>, Vec<ProxyWorker>) {
        let rows = async {
            match workers {
                Some(client) => client
                    .workers()
                    .await
                    .map_err(|e| tracing::debug!(error = %e, "xmrig-proxy gave no workers"))
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        };
        // Boxed: `join!` moves each future it is given, and these carry whole client calls.
        let ((observations, xvb), rows) = tokio::join!(Box::pin(self.observe_nodes()), rows);
        (observations, xvb, rows)
    }

    async fn observe_nodes(&mut self) -> (Observations, Option<XvbReadings>) {
        let monero = self.monero.get_info();
        let tari = async {
            match self.tari.as_mut() {
                Some(client) => Some(client.read().await),
                None => None,
            }
        };
        let with_xvb = self.xvb.is_some();
        let p2pool = async {
            let client = self.p2pool.as_ref()?;
            // The engine needs all three documents; otherwise the height is enough.
            let full = if with_xvb {
                client.read().await.ok()
            } else {
                None
            };
            // The gate's height does not depend on the engine's documents being readable.
            let read = match full {
                Some(r) => Ok((r.network_height, Some(r))),
                None => client.network_stats().await.map(|s| (s.height, None)),
            };
            read.map_err(|e| tracing::debug!(error = %e, "p2pool gave no reading"))
                .ok()
        };
        let xvb = async {
            match self.xvb.as_ref() {
                Some(clients) => Some(clients.observe().await),
                None => None,
            }
        };
        // Boxed: `join!` moves each future it is given, and the client calls are large (copying
        // them was ~2% of a simulated cycle's CPU).
        let (monero, tari, p2pool, xvb) = tokio::join!(
            Box::pin(monero),
            Box::pin(tari),
            Box::pin(p2pool),
            Box::pin(xvb)
        );
        let p2pool_network_height = p2pool.as_ref().map(|(height, _)| *height);
        let xvb = xvb.map(|mut readings| {
            readings.p2pool = p2pool.and_then(|(_, reading)| reading);
            readings
        });
        let tari = tari.map(|read| {
            if let Err(e) = &read {
                tracing::debug!(error = %e, "Tari base node gave no reading");
            }
            self.tari_last_good.observe(&read)
        });
        let monero = match monero {
            Ok(info) => Some(info),
            Err(e) => {
                tracing::debug!(error = %e, "monerod gave no reading");
                None
            }
        };
        let observations = Observations {
            monero,
            tari,
            p2pool_network_height,
        };
        (observations, xvb)
    }
}

/// One runtime's cycle state.
pub struct Cycle {
    config: Config,
    clock: SharedClock,
    clients: Clients,
    machines: Machines,
    store: SnapshotStore,
    /// What the snapshot on disk holds (as far as this process knows).
    persisted: Snapshot,
    /// The operator's re-arm marker is still on disk although the gate honoured it: the
    /// re-armed latch could not be saved yet. Removed once the snapshot on disk matches.
    rearm_pending: bool,
    view: StateWriter,
    count: u64,
    xvb: XvbDriver,
    /// The services whose health is judged each cycle (`STACK_SERVICES` under
    /// `COMPOSE_PROFILES`).
    expected: Vec<String>,
    system: SharedSystem,
    history: HistoryWriter,
    history_reader: HistoryReader,
    last: ApiState,
    alerts: AlertsDriver,
}

impl Cycle {
    /// Loads the snapshot (and the operator's re-arm marker) and builds the machines; each pass
    /// is recorded through `view`.
    pub fn new(config: Config, clock: SharedClock, clients: Clients, view: StateWriter) -> Self {
        let store = SnapshotStore::new(&config.data_dir);
        let on_disk = match store.load() {
            Ok(snapshot) => snapshot.unwrap_or_default(),
            Err(e) => {
                tracing::error!(error = %e, "starting held: the snapshot could not be read");
                Snapshot::default()
            }
        };
        let mut machines = Machines::with_latch(&config, latch_of(&on_disk));
        machines
            .failover
            .restore(on_disk.monero_down, on_disk.tari_down);
        let (persisted, rearm_pending) = match store.pending_rearm() {
            Ok(Some(rearm)) => {
                tracing::info!(?rearm, "the operator re-armed the sync gate");
                match rearm {
                    Rearm::All => machines.gate.rearm_all(),
                    Rearm::Tari => machines.gate.rearm_tari(),
                }
                let rearmed = with_latch(on_disk, machines.gate.latch());
                take_rearm_durably(&store, on_disk, rearmed, |s| store.save(s))
            }
            Ok(None) => (on_disk, false),
            Err(e) => {
                tracing::error!(error = %e, "the re-arm marker could not be read");
                (on_disk, false)
            }
        };
        let xvb = XvbDriver::new(
            config.xvb_enabled,
            config.xvb.clone(),
            on_disk.xvb_fraction(),
        );
        let system: SharedSystem = Arc::new(HostSystem::new(&config.data_dir));
        let (history, history_reader) = history::open(&config.data_dir);
        let names: Vec<&str> = config.stack_services.iter().map(|n| n.as_str()).collect();
        let expected = verdicts::expected_services(&names, &config.compose_profiles);
        Self {
            config,
            clock,
            clients,
            machines,
            store,
            persisted,
            rearm_pending,
            view,
            count: 0,
            xvb,
            expected,
            system,
            history,
            history_reader,
            alerts: AlertsDriver::new(None),
            // Not held, so a boot that holds records a `held` event.
            last: ApiState {
                miner_held: false,
                ..ApiState::default()
            },
        }
    }

    /// Reads the host's figures from `system` instead of `/proc` (the simulation, tests).
    pub fn set_system(&mut self, system: SharedSystem) {
        self.system = system;
    }

    /// Delivers this runtime's alerts to `built`'s sinks and pings its heartbeat; alert texts
    /// name `host` when set. The outboxes left undelivered by a previous run on the same
    /// `DATA_DIR` are restored with the first pass.
    pub fn set_alerts(&mut self, built: crate::alerts::Built, host: Option<String>) {
        self.alerts = AlertsDriver::with_sinks(
            built,
            host,
            &self.config.data_dir,
            self.clock.clone(),
            OutboxLimits::default(),
        );
    }

    /// The history's reader (charts, `db_healthy`).
    pub fn history(&self) -> HistoryReader {
        self.history_reader.clone()
    }

    /// Runs one observe → decide → act → record pass.
    pub async fn run_once(&mut self) {
        // The observation instant is when the calls are sent, not when they return: a node
        // that hangs until the deadline has been unreachable since the call went out.
        let now = self.clock.now();
        let workers_client = self.clients.workers.take();
        let docker_read = self.clients.docker_read.clone();
        let (observations_all, services) = tokio::join!(
            Box::pin(self.clients.observe_with_workers(workers_client.as_ref())),
            Box::pin(services::observe(docker_read.as_ref(), &self.expected))
        );
        let (observations, xvb_readings, workers) = observations_all;
        self.clients.workers = workers_client;
        let mut decision = self.machines.decide(&observations.readings(), now);
        let mut errors = Vec::new();

        // Read back the containers that must stay stopped: one started behind our back (by
        // hand, a restart policy, an engine restart) is stopped again this cycle.
        for name in self.machines.plan.settled_stops() {
            match self.clients.docker.inspect(&name).await {
                Ok(status) if status.running => {
                    tracing::warn!(container = %name, "running although it must be stopped: stopping it again");
                    self.machines.plan.observe(&name, true);
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(container = %name, error = %e, "cannot read back"),
            }
        }
        decision.owed = self.machines.plan.owed();

        let wall_ms = self.clock.wall_ms();
        let donor_address = self
            .clients
            .xvb
            .as_ref()
            .and_then(XvbClients::donor_address);
        let xvb_observation = xvb_readings
            .as_ref()
            .map(|r| r.observation(wall_ms, donor_address))
            .unwrap_or_default();
        let xvb_decision = self.xvb.decide(&xvb_observation, now);

        // The same rules and context as `pithead status` (`workers_rejected`, `miner_held`).
        let context = StackContext {
            node_down: decision.failover.rejected,
            sync_hold: decision.gate.holding,
        };
        let services = services.map(|observed| verdicts::verdicts(&observed, context).verdicts);
        let system = self.system.read();
        let db_healthy = self.history_reader.healthy();
        let signals = Signals {
            monero_down: decision.failover.monero_down,
            tari_down: self
                .config
                .tari_grpc_address
                .is_some()
                .then_some(decision.failover.tari_down),
            workers_rejected: decision.failover.rejected,
            newly_released: decision.gate.newly_released,
            unhealthy: services.as_ref().map(|rows| {
                rows.iter()
                    .filter(|row| row.problem)
                    .map(|row| (row.service.clone(), row.verdict.to_owned()))
                    .collect()
            }),
            disk_percent: system.disk_percent,
            db_healthy,
            // The tier's verdict means nothing while the miners are stopped on purpose.
            hashrate_low: (self.config.xvb_enabled
                && !decision.failover.rejected
                && !decision.gate.holding)
                .then_some(xvb_decision.hashrate_low),
        };
        let at_unix = i64::try_from(self.clock.wall_ms() / 1_000).unwrap_or(i64::MAX);
        // Before the snapshot: a restart restores the failover from it, and one that finds a
        // node already down stays silent (a silent baseline), so the down alert must be owed
        // on disk first.
        self.alerts.step(&signals, at_unix);

        // Persist the latch before acting on it: a crash between the two then resumes
        // released and simply owes the starts again.
        let wanted = with_latch(
            Snapshot {
                monero_down: decision.failover.monero_down,
                tari_down: decision.failover.tari_down,
                xvb_fraction_ppm: self.xvb.engine().fraction().map(Snapshot::fraction_ppm),
                ..Snapshot::default()
            },
            self.machines.gate.latch(),
        );
        debug_assert_eq!(wanted.miner_released, decision.gate.released);
        if wanted != self.persisted {
            match self.store.save(&wanted) {
                Ok(()) => self.persisted = wanted,
                Err(e) => errors.push(format!("snapshot not written (retrying next cycle): {e}")),
            }
        }
        if self.rearm_pending && wanted == self.persisted {
            // The latch on disk now follows from the re-armed gate: the request is honoured.
            match self.store.clear_rearm() {
                Ok(()) => self.rearm_pending = false,
                Err(e) => errors.push(format!("re-arm marker not removed (retrying): {e}")),
            }
        }
        if decision.gate.newly_released {
            tracing::info!("chains synced: releasing the miners");
        }

        for action in &decision.owed {
            let result = match action {
                ContainerAction::Start(name) => self.clients.docker.start(name).await,
                ContainerAction::Stop(name) => self.clients.docker.stop(name).await,
            };
            self.view
                .metrics()
                .docker_call(verb(action), result.is_ok());
            match result {
                Ok(applied) => {
                    tracing::info!(?action, ?applied, "container action landed");
                    self.history.event(
                        wall_ms,
                        "container",
                        &format!("{} {}", verb(action), action.container()),
                    );
                    self.machines.plan.confirm(action);
                }
                Err(e) => {
                    // A timeout may hide a call that landed: forget what we knew, so the
                    // desired state is re-asserted next cycle even if it flips back meanwhile.
                    self.machines.plan.forget(action.container());
                    errors.push(format!(
                        "{} {} failed (retrying next cycle): {e}",
                        verb(action),
                        action.container()
                    ));
                }
            }
        }
        if let Some(clients) = &self.clients.xvb {
            // Switching while workers are rejected or the miners held would fight the failover.
            let allowed = !decision.failover.rejected && !decision.gate.holding;
            if let Err(e) = self
                .xvb
                .apply(&clients.proxy, &xvb_decision, allowed, wall_ms)
                .await
            {
                errors.push(e);
            }
        }
        for error in &errors {
            tracing::warn!("{error}");
        }
        let healthy = errors.is_empty();

        self.count += 1;
        let cycle = CycleSection {
            count: self.count,
            last_wall_ms: self.clock.wall_ms(),
            errors,
        };
        self.view.set_alerts(self.alerts.section());
        self.view.set_services(services.unwrap_or_default());
        let dashboard = DashboardInput {
            system,
            workers: &workers,
            db_healthy,
        };
        let state = self.record(&observations, &decision, cycle, &dashboard);
        let wall_ms = state.cycle.last_wall_ms;
        for (kind, detail) in crate::view::events(&self.last, &state) {
            self.history.event(wall_ms, kind, &detail);
        }
        self.history.sample(crate::view::sample(&state, wall_ms));
        self.last = state;
        self.alerts.cycle_done(healthy);
        let took = self.clock.now().saturating_duration_since(now);
        self.view.metrics().cycle_duration(took.as_secs_f64());
    }

    fn record(
        &self,
        observations: &Observations,
        decision: &Decision,
        cycle: CycleSection,
        dashboard: &DashboardInput<'_>,
    ) -> ApiState {
        let containers: BTreeMap<_, _> = self.machines.plan.desired().clone();
        let tari = observations.tari.as_ref();
        let (xvb, hashrate_low) = self.xvb.section();
        self.view.record_all(
            &RenderInput {
                gate: &decision.gate,
                failover: &decision.failover,
                monero_reachable: observations.monero.is_some(),
                monero_ever_up: self.machines.failover.monero().ever_up(),
                tari_enabled: self.config.tari_grpc_address.is_some(),
                tari_reachable: tari.is_some_and(|t| t.reachable),
                tari_ever_up: self.machines.failover.tari().ever_up(),
                monero_local: self.config.monero_node_local,
                monero_prune: self.config.monero_prune,
                monero_db_bytes: observations.monero.as_ref().and_then(|m| m.database_size),
                containers: &containers,
                xvb: Some((&xvb, hashrate_low)),
                cycle,
            },
            dashboard,
        )
    }

    /// When the next pass is due before the next update tick (the end of an XvB slice).
    pub fn wake_at(&self) -> Option<tokio::time::Instant> {
        self.xvb.wake_at()
    }

    /// The XvB driver (for inspection in tests and the simulation).
    pub fn xvb(&self) -> &XvbDriver {
        &self.xvb
    }

    /// The machines (for inspection in tests and the simulation's invariants).
    pub fn machines(&self) -> &Machines {
        &self.machines
    }
}

/// The gate's latch as the snapshot `s` stores it.
fn latch_of(s: &Snapshot) -> Latch {
    if s.miner_released {
        Latch::Released
    } else if s.tari_part_held {
        Latch::TariArmed
    } else {
        Latch::Armed
    }
}

/// `s` with the gate's latch `latch`.
fn with_latch(s: Snapshot, latch: Latch) -> Snapshot {
    Snapshot {
        miner_released: latch == Latch::Released,
        tari_part_held: latch == Latch::TariArmed,
        ..s
    }
}

/// Makes an honoured re-arm durable: the re-armed snapshot is saved (atomically, by `save`)
/// before the operator's marker is removed, so a restart at any point either finds the marker
/// (and re-arms again) or the re-armed latch. Returns what is on disk and whether the marker
/// is still owed a removal (the save failed: the cycle retries it).
fn take_rearm_durably(
    store: &SnapshotStore,
    on_disk: Snapshot,
    rearmed: Snapshot,
    save: impl FnOnce(&Snapshot) -> Result<(), crate::store::StoreError>,
) -> (Snapshot, bool) {
    if rearmed != on_disk {
        if let Err(e) = save(&rearmed) {
            tracing::error!(
                error = %e,
                "the re-armed latch could not be saved: the re-arm marker stays until it is"
            );
            return (on_disk, true);
        }
    }
    match store.clear_rearm() {
        Ok(()) => (rearmed, false),
        Err(e) => {
            tracing::error!(error = %e, "the re-arm marker could not be removed");
            (rearmed, true)
        }
    }
}

fn verb(action: &ContainerAction) -> &'static str {
    match action {
        ContainerAction::Start(_) => "start",
        ContainerAction::Stop(_) => "stop",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::observe::tari::TariNodeState;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_lookup(|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    fn synced_monero() -> MoneroInfo {
        MoneroInfo {
            height: 3_000,
            target_height: 0,
            synchronized: true,
            busy_syncing: false,
            offline: false,
            database_size: Some(85_000_000_000),
            nettype: Some("mainnet".into()),
            version: None,
            restricted: false,
        }
    }

    fn tari(state: TariNodeState, reachable: bool) -> TariStatus {
        TariStatus {
            reachable,
            stale: !reachable,
            reading: crate::observe::tari::TariReading {
                state,
                local_height: 10,
                tip_height: 100,
                initial_sync_achieved: state == TariNodeState::Listening,
                migration_percent: None,
            },
        }
    }

    fn run(machines: &mut Machines, obs: &Observations, from_secs: u64, to_secs: u64) -> Decision {
        let t0 = Instant::now();
        let mut last = None;
        for s in (from_secs..=to_secs).step_by(10) {
            last = Some(machines.decide(&obs.readings(), t0 + Duration::from_secs(s)));
        }
        last.unwrap()
    }

    #[test]
    fn no_monero_reading_counts_as_unreachable_and_rejects_after_the_window() {
        let cfg = config(&[("TARI_GRPC_ADDRESS", "")]);
        let mut machines = Machines::new(&cfg, true);
        let up = Observations {
            monero: Some(synced_monero()),
            ..Observations::default()
        };
        run(&mut machines, &up, 0, 0);
        // A BUSY monerod reaches the cycle as "no reading" (the client maps it to an error).
        let busy = Observations::default();
        let before = run(&mut machines, &busy, 10, 90);
        assert!(!before.failover.rejected, "rejected before the window");
        let after = run(&mut machines, &busy, 100, 100);
        assert!(after.failover.rejected);
        assert!(after
            .owed
            .contains(&ContainerAction::Stop("xmrig-proxy".into())));
        assert!(!after.owed.contains(&ContainerAction::Stop("p2pool".into())));
    }

    #[test]
    fn a_starting_or_migrating_tari_is_reachable_and_never_rejects() {
        let cfg = config(&[("TARI_REQUIRED", "true")]);
        for state in [
            TariNodeState::Starting,
            TariNodeState::Migrating,
            TariNodeState::Syncing,
        ] {
            let mut machines = Machines::new(&cfg, true);
            let obs = Observations {
                monero: Some(synced_monero()),
                tari: Some(tari(state, true)),
                p2pool_network_height: None,
            };
            let decision = run(&mut machines, &obs, 0, 3_600);
            assert!(!decision.failover.rejected, "{state:?} rejected workers");
            assert!(!decision.failover.tari_down);
        }
    }

    #[test]
    fn a_cached_tari_reading_flagged_unreachable_counts_as_unreachable() {
        let cfg = config(&[("TARI_REQUIRED", "true")]);
        let mut machines = Machines::new(&cfg, true);
        let good = Observations {
            monero: Some(synced_monero()),
            tari: Some(tari(TariNodeState::Listening, true)),
            p2pool_network_height: None,
        };
        run(&mut machines, &good, 0, 0);
        let stale = Observations {
            tari: Some(tari(TariNodeState::Listening, false)),
            ..good
        };
        let decision = run(&mut machines, &stale, 10, 200);
        assert!(decision.failover.tari_down);
        assert!(decision.failover.rejected);
    }

    #[test]
    fn a_fresh_monerod_without_peers_is_loading_not_synced() {
        // What a real monerod answers in its first seconds (see contract_real_monerod_runtime).
        let fresh = MoneroInfo {
            height: 1,
            target_height: 0,
            synchronized: false,
            ..synced_monero()
        };
        let reading = monero_reading(&fresh);
        assert!(reading.syncing);
        assert_eq!(reading.target, 0);
        let cfg = config(&[("TARI_GRPC_ADDRESS", "")]);
        let mut machines = Machines::new(&cfg, false);
        let obs = Observations {
            monero: Some(fresh),
            ..Observations::default()
        };
        let decision = run(&mut machines, &obs, 0, 600);
        assert!(decision.gate.holding, "released on a node without peers");
        assert_eq!(
            decision.gate.monero.state,
            crate::control::ProgressState::Loading
        );
    }

    #[test]
    fn a_synced_monerod_with_target_zero_is_shown_at_its_own_height() {
        let reading = monero_reading(&synced_monero());
        assert_eq!(reading.target, 3_000);
        assert!(!reading.syncing);
    }

    #[test]
    fn the_rearm_marker_stays_until_the_rearmed_latch_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        let on_disk = Snapshot {
            miner_released: true,
            ..Snapshot::default()
        };
        store.save(&on_disk).unwrap();
        let marker = dir.path().join("rearm-sync-gate");
        std::fs::write(&marker, "tari\n").unwrap();
        let rearmed = with_latch(on_disk, Latch::TariArmed);
        assert_eq!(latch_of(&rearmed), Latch::TariArmed);

        // The save fails (a full disk, say): the request stays for the next try or start.
        let (persisted, pending) = take_rearm_durably(&store, on_disk, rearmed, |_| {
            Err(crate::store::StoreError::Io {
                path: store.path(),
                action: "write",
                source: std::io::ErrorKind::StorageFull.into(),
            })
        });
        assert!(pending);
        assert_eq!(persisted, on_disk, "an unsaved latch counted as on disk");
        assert!(
            marker.exists(),
            "the marker went although nothing was saved"
        );
        assert_eq!(store.pending_rearm().unwrap(), Some(Rearm::Tari));

        // The save lands: the re-armed latch is on disk, then the marker goes.
        let (persisted, pending) = take_rearm_durably(&store, on_disk, rearmed, |s| store.save(s));
        assert!(!pending);
        assert_eq!(persisted, rearmed);
        assert_eq!(store.load().unwrap(), Some(rearmed));
        assert!(!marker.exists());

        // A request that changes nothing (the gate is already held) just goes.
        std::fs::write(&marker, "all\n").unwrap();
        let held = Snapshot::default();
        let (persisted, pending) =
            take_rearm_durably(&store, held, held, |_| panic!("nothing to save"));
        assert!(!pending && persisted == held && !marker.exists());
    }

    /// Dials nothing: every node is unreachable.
    struct Refusing;

    impl crate::io::Connector for Refusing {
        fn connect(
            &self,
            _host: &str,
            _port: u16,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = std::io::Result<crate::io::BoxedStream>>
                    + Send
                    + 'static,
            >,
        > {
            Box::pin(async { Err(std::io::ErrorKind::ConnectionRefused.into()) })
        }
    }

    #[tokio::test]
    async fn api_state_never_carries_a_secret_and_shows_the_hosts_figures() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().display().to_string();
        let secrets = [
            "Rpc-Pa55word-9f8e7d6c",
            "proxy-token-0a1b2c3d4e5f",
            "donor-48abcdefghijklmnopqrstuvwxyz",
        ];
        let cfg = config(&[
            ("DATA_DIR", data.as_str()),
            ("MONERO_RPC_USER", "monero"),
            ("MONERO_RPC_PASSWORD", secrets[0]),
            ("PROXY_AUTH_TOKEN", secrets[1]),
            ("XVB_ENABLED", "true"),
            ("XVB_DONOR_ID", secrets[2]),
            ("TARI_GRPC_ADDRESS", ""),
        ]);
        let clients = Clients::new(&cfg, Arc::new(Refusing)).unwrap();
        let (writer, reader) = crate::view::read_model();
        let mut cycle = Cycle::new(cfg, Arc::new(crate::io::SystemClock), clients, writer);
        cycle.set_system(Arc::new(crate::observe::system::FixedSystem::new(
            crate::observe::system::SystemReading {
                disk_percent: Some(91.0),
                ..Default::default()
            },
        )));
        cycle.run_once().await;
        let api = crate::api::Api {
            state: reader.clone(),
            history: Some(cycle.history()),
            update_interval: Duration::from_secs(30),
        };
        let json = serde_json::to_string(&reader.get()).unwrap();
        assert!(json.contains("Disk 91% full"), "{json}");
        assert!(json.contains(r#""enabled":true"#), "no XvB section: {json}");
        let metrics = reader.metrics().encode();
        for secret in secrets {
            assert!(!json.contains(secret), "/api/state carries {secret}");
            assert!(!metrics.contains(secret), "/metrics carries {secret}");
        }
        // The served document (with its chart) too.
        use tower::ServiceExt;
        let response = crate::api::router_with(api)
            .oneshot(
                axum::http::Request::get("/api/state?range=all")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let served = String::from_utf8_lossy(&body);
        assert!(served.contains("db_healthy"));
        for secret in secrets {
            assert!(
                !served.contains(secret),
                "served /api/state carries {secret}"
            );
        }
    }
}
