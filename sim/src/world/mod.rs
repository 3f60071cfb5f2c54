//! [`World`]: the runtime and its fake daemons on turmoil hosts, with faults, invariants checked
//! after every step, and a [`Trace`] of what happened.
//!
//! Two hosts, on purpose: turmoil steps every host on every tick, and that stepping was most of
//! the wall time (docs/testing.md). The servers share the `stack` host, each on its port, and
//! each role keeps its own link to the runtime ([`Links`]), so a partition of monerod alone
//! still cuts monerod alone.
//!
//! | host | role | serves | port |
//! |---|---|---|---|
//! | `runtime` | | the runtime's HTTP API (`/api/state`) | 8000 |
//! | `stack` | `monerod` | [`FakeMonerod`] | 18081 |
//! | `stack` | `tari` | [`FakeTari`] gRPC (only when Tari is part of the stack) | 18142 |
//! | `stack` | `docker-control` | the docker fake behind a [`DockerTap`] | 2375 |
//! | `stack` | `aux` | p2pool data-api 3380, xmrig-proxy API 3344, XvB 8088, and the `/api/state` prober | |
//!
//! The runtime dials the names of its URLs (`monerod`, `tari`, `docker-control`, or whatever
//! `MONERO_RPC_URL`, `TARI_GRPC_ADDRESS` or `DOCKER_CONTROL_URL` say, at their ports); the
//! world routes each name to the `stack` host across its role's link. Fault calls accept either
//! the role names or those names.
//!
//! One concept per module: [`builder`] places the hosts, [`faults`] applies faults, `monitor`
//! observes every step and feeds the invariant checker, `probe` fetches `/api/state` over the
//! simulated network; this module keeps time and reads the world.

mod builder;
mod faults;
mod hosts;
mod monitor;
mod probe;
mod sinks;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::p2pool::FakeP2pool;
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use pithead_fakes::xvb::FakeXvb;
use pithead_runtime::view::ApiState;

pub use self::builder::{healthy_host, scratch_root, WorldBuilder};
pub use self::faults::{mode_name_monero, mode_name_tari};
pub use self::sinks::mode_name as sink_mode_name;
pub use crate::failure::{Failure, Invariant};

use self::hosts::Hosts;
use self::monitor::Monitor;
use self::probe::Prober;
use crate::docker_tap::DockerTap;
use crate::fakes;
use crate::invariants::{Checker, Timing};
use crate::links::Links;
use crate::model::{Deadline, Reach};
use crate::trace::{Trace, What};

/// The runtime's host.
pub const RUNTIME: &str = "runtime";
/// monerod's role name.
pub const MONEROD: &str = "monerod";
/// The Tari node's role name.
pub const TARI: &str = "tari";
/// The docker engine's role name.
pub const DOCKER: &str = "docker-control";
/// The role of p2pool, xmrig-proxy, XvB and the `/api/state` prober.
pub const AUX: &str = "aux";
/// The host every server (and the prober) runs on.
pub const STACK: &str = "stack";
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
    monitor: Monitor,
    prober: Prober,
    /// Each role's link to the runtime.
    links: Links,
    deadline: Deadline,
    /// monerod's last synced/syncing mode (what a slow fake answers with).
    monero_data: MoneroMode,
    /// Tari's last answering mode.
    tari_data: TariMode,
    runtime_up: bool,
    checker: Checker,
    trace: Trace,
    steps: u64,
    failed: Option<Failure>,
    data_dir: PathBuf,
    managed: Vec<String>,
    tari_required: bool,
    _data_dir_guard: Option<tempfile::TempDir>,
    /// The host's figures the runtime reads (shared with it).
    system: pithead_runtime::observe::system::FixedSystem,
    /// The recording alert sinks and their invariant, when alerts are configured.
    sinks: Option<sinks::SinkWatch>,
}

impl World {
    // ----- time -----

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// Host ticks that only moved a clock ([`WorldBuilder::skip_idle_ticks`]), of
    /// [`World::steps`] × the hosts running.
    pub fn idle_ticks_skipped(&self) -> u64 {
        self.sim.idle_ticks_skipped()
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
                Invariant::RuntimeKeepsRunning,
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
                    Invariant::Readiness,
                    format!("timed out after {timeout:?} waiting for {what}"),
                ));
            }
            self.step()?;
        }
    }

    /// A failed invariant: recorded, and returned by every later step (the world is broken).
    fn fail(&mut self, now: Duration, invariant: Invariant, message: String) -> Failure {
        self.trace.record(
            now,
            What::Failed {
                invariant,
                message: message.clone(),
            },
        );
        let failure = self.failure(now, invariant, message);
        self.failed = Some(failure.clone());
        failure
    }

    /// A failed wait or fetch: returned once, the world goes on.
    fn failure(&self, now: Duration, invariant: Invariant, message: String) -> Failure {
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
            Err(self.fail(now, Invariant::SettlesWhenQuiet, problems.join("; ")))
        }
    }

    // ----- reading the world -----

    /// The runtime's read model (`ApiState::default()` before its first cycle or while it is
    /// crashed).
    pub fn state(&self) -> ApiState {
        match lock(&self.monitor.runtime_state).as_ref() {
            Some(state) => state.get(),
            None => ApiState::default(),
        }
    }

    /// Connections the runtime dialled that are still alive (a leak shows as growth).
    pub fn runtime_open_connections(&self) -> usize {
        self.monitor.open_connections.load(Ordering::Relaxed)
    }

    /// Cycles completed by the current runtime process.
    pub fn cycles(&self) -> u64 {
        match lock(&self.monitor.runtime_state).as_ref() {
            Some(state) => state.read().cycle.count,
            None => 0,
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

    /// The host's figures the runtime reads: set them to steer the dashboard's system section.
    pub fn system(&self) -> &pithead_runtime::observe::system::FixedSystem {
        &self.system
    }

    /// The runtime's data directory (snapshot, history).
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

    /// Records a note in the trace (scenario steps, schedule markers).
    pub fn note(&mut self, subject: &str, detail: &str) {
        let now = self.elapsed();
        self.trace.note(now, subject, detail);
    }
}
