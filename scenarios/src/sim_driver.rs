//! [`Tier`] on the deterministic simulation: a `pithead_sim::World` built lazily.
//!
//! `Given` steps collect a setup (the runtime's environment and the fakes' initial modes);
//! the first `When`/`Then` boots the world from it and runs until the runtime finished its first
//! cycle. Time is virtual, so every wait is exact and the whole catalog runs in seconds:
//! - [`Tier::expect`] waits at most one update cycle for the condition (`UPDATE_INTERVAL` plus
//!   the slowest a cycle may take): the runtime acts on the cycle after it sees a change; an
//!   absence (a badge not shown) is checked after every simulation step of that same window
//!   instead, since it would hold at once, before the runtime acted;
//! - [`Tier::expect_for`] checks the condition after every simulation step of the span.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::FutureExt as _;
use pithead_fakes::docker::Verb;
use pithead_sim::trace::{format_time, EventKind};
use pithead_sim::{Failure, World, WorldBuilder};

use crate::alerts::{AlertEvent, AlertFact, AlertOutcome};
use crate::dashboard::{DashboardEvent, DashboardFact, DashboardOutcome};
use crate::driver::{live_unsupported, LiveAction, LiveFact, LiveOutcome};
use crate::driver::{
    Chain, CliAction, CliFact, CliOutcome, Condition, ContainerState, Node, Observed, Reachability,
    Setting, Tier, TierError, TierFuture, XvbEvent, XvbFact, XvbOutcome, P2POOL, XMRIG_PROXY,
};
use crate::model::{Change, NodeModel, MONERO_TIP, TARI_TIP};
use crate::sim_cli::CliStack;
use crate::sim_status::StatusScenario;
use crate::sim_xvb::XvbScenario;

mod alerts;
mod dashboard;
mod prune;

const TIER: &str = "sim";

/// What the `Given` steps chose before boot.
#[derive(Debug, Clone, Default)]
struct Setup {
    env: BTreeMap<&'static str, String>,
    p2pool_network_height: Option<u64>,
    refuse_docker_calls: u32,
    /// The docker fake's containers at boot (default: the managed ones, running).
    containers: Option<Vec<(String, bool)>>,
    /// Alerts go to the world's recording sinks.
    alerts: bool,
}

/// The simulation tier. Cheap until the first `When`/`Then` boots the world.
pub struct SimTier {
    seed: u64,
    setup: Setup,
    monero: NodeModel,
    tari: NodeModel,
    world: Option<World>,
    /// Docker events in the trace when the miners were seen released.
    release_mark: Option<usize>,
    /// Section E: the XvB engine on its own virtual clock.
    xvb: XvbScenario,
    /// Section D: the whole stack's containers and `pithead status`.
    status: StatusScenario,
    /// Section G: a stack directory the CLI's library drives (made on first use).
    cli: Option<CliStack>,
    /// The last `pithead` command was `status` (its output answers "it prints").
    status_ran: bool,
    /// The re-arm marker the last apply left for the runtime (`all`, `tari`).
    rearm: Option<String>,
    /// Section F: what the dashboard's steps set up and saw.
    dashboard: dashboard::DashboardScenario,
    /// Section A's prune outline: config.json's `monero.prune` was set for the next apply.
    prune_scenario: bool,
}

impl SimTier {
    /// A tier that will boot a world on `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            setup: Setup::default(),
            monero: NodeModel::new(MONERO_TIP),
            tari: NodeModel::new(TARI_TIP),
            world: None,
            release_mark: None,
            xvb: XvbScenario::default(),
            status: StatusScenario::default(),
            cli: None,
            status_ran: false,
            rearm: None,
            dashboard: dashboard::DashboardScenario::default(),
            prune_scenario: false,
        }
    }

    /// The booted world, for inspection after a scenario (`None` before the first
    /// `When`/`Then`).
    pub fn world(&self) -> Option<&World> {
        self.world.as_ref()
    }

    /// How long the runtime may take to act on what it can see: the rest of the current
    /// interval, then one whole cycle at its slowest (reads and every docker call running into
    /// their deadlines, plus the network margin), as the world's invariants bound it.
    fn one_cycle(world: &World) -> Duration {
        let timing = world.timing();
        timing.update_interval + timing.cycle_max()
    }

    /// How long a boot may take to release synced miners: generous (ten cycles and both
    /// windows); virtual time, so it costs nothing when the release is prompt.
    fn release_budget(world: &World) -> Duration {
        let timing = world.timing();
        Self::one_cycle(world) * 10 + timing.down_after + timing.recovery_after
    }

    /// The running world, booted on first use.
    fn booted(&mut self) -> Result<&mut World, TierError> {
        if self.world.is_none() {
            let world = self.boot()?;
            self.world = Some(world);
        }
        self.world.as_mut().ok_or_else(|| TierError::Tier {
            tier: TIER,
            message: "the world did not boot".to_owned(),
        })
    }

    fn boot(&self) -> Result<World, TierError> {
        let mut builder = WorldBuilder::new(self.seed)
            .monero(self.monero.monero_mode())
            .tari(Some(self.tari.tari_mode()))
            .alerts(self.setup.alerts);
        for (var, value) in &self.setup.env {
            builder = builder.env(var, value);
        }
        if let Some(containers) = &self.setup.containers {
            let borrowed: Vec<(&str, bool)> =
                containers.iter().map(|(n, r)| (n.as_str(), *r)).collect();
            builder = builder.containers(&borrowed);
        }
        let mut world = builder.build();
        self.status.apply(&world);
        if let Some(height) = self.setup.p2pool_network_height {
            world.p2pool().update(|s| s.network_height = height);
        }
        if self.setup.refuse_docker_calls > 0 {
            world.refuse_docker(self.setup.refuse_docker_calls);
        }
        let budget = Self::one_cycle(&world);
        first_cycle(&mut world, self.seed, budget, "boot")?;
        Ok(world)
    }

    fn model(&mut self, node: Node) -> &mut NodeModel {
        match node {
            Node::Monerod => &mut self.monero,
            Node::Tari => &mut self.tari,
        }
    }

    /// Changes the model of `node` and pushes it to its fake when the world runs (before boot
    /// the model is the boot's initial mode). `boot`: boot first, so the runtime sees the state
    /// before the change.
    fn steer(&mut self, node: Node, boot: bool, change: Change) -> Result<(), TierError> {
        if !change.exists_for(node) {
            return Err(TierError::Unsupported {
                tier: TIER,
                what: format!("{node} {change:?}: no such state for this node"),
            });
        }
        if boot {
            self.booted()?;
        }
        let model = self.model(node);
        match change {
            Change::Chain(chain) => model.set_chain(chain),
            Change::Reach(reach) => model.reach = reach,
        }
        let (monero, tari) = (self.monero.monero_mode(), self.tari.tari_mode());
        if let Some(world) = self.world.as_mut() {
            match node {
                Node::Monerod => world.set_monero(monero),
                Node::Tari => world.set_tari(tari),
            }
        }
        Ok(())
    }

    fn expect_now(&mut self, condition: &Condition) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        let budget = Self::one_cycle(world);
        world.note("scenario", &format!("then {condition}"));
        wait_until(world, seed, &condition.to_string(), budget, |seen| {
            condition.check(seen)
        })?;
        if let Condition::Api { .. } = condition {
            // Held in memory; the served document must say the same.
            let served = world
                .fetch_state_json()
                .map_err(|err| failure(seed, "GET /api/state", &err))?;
            let mut seen = observe(world);
            seen.api = served;
            condition.check(&seen).map_err(|seen| {
                TierError::Check(format!(
                    "{condition}: true in the runtime's memory, but the served /api/state \
                     disagrees at t={}: {seen}",
                    format_time(world.elapsed())
                ))
            })?;
        }
        Ok(())
    }

    fn expect_throughout(
        &mut self,
        condition: &Condition,
        span: Duration,
    ) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        world.note("scenario", &format!("then {condition} for {span:?}"));
        let start = world.elapsed();
        let end = start + span;
        loop {
            if let Err(seen) = condition.check(&observe(world)) {
                let at = world.elapsed();
                return Err(TierError::Broken {
                    what: format!("{condition} (seed {seed})"),
                    at,
                    into: at.saturating_sub(start),
                    span,
                    seen,
                });
            }
            if world.elapsed() >= end {
                return Ok(());
            }
            world
                .step()
                .map_err(|err| failure(seed, &format!("{condition} for {span:?}"), &err))?;
        }
    }

    /// Docker start/stop calls the engine answered, from the trace: `(at, container, verb+status)`.
    fn docker_calls(&mut self) -> Result<Vec<(Duration, String, String)>, TierError> {
        let world = self.booted()?;
        Ok(world
            .trace()
            .of_kind(EventKind::Docker)
            .map(|e| (e.at, e.subject().to_owned(), e.detail()))
            .collect())
    }
}

/// The XvB pool the simulated runtime switches to.
const XVB_POOL: &str = "eu.xmrvsbeast.com:4247";
/// p2pool's stratum as xmrig-proxy's config names it.
const P2POOL_POOL: &str = "p2pool:3333";

/// Section E on the whole simulated runtime: the switch through the fake xmrig-proxy.
impl SimTier {
    fn xvb_runtime_setup(&mut self) -> Result<(), TierError> {
        if self.world.is_some() {
            return Err(TierError::Unsupported {
                tier: TIER,
                what: "enabling the XvB engine after the world booted".into(),
            });
        }
        let env = [
            ("XVB_ENABLED", "true".to_owned()),
            ("P2POOL_API", "http://aux:3380".to_owned()),
            ("XMRIG_PROXY_API", "http://aux:3344".to_owned()),
            (
                "PROXY_AUTH_TOKEN",
                pithead_sim::fakes::XMRIG_PROXY_TOKEN.to_owned(),
            ),
            ("XVB_API_URL", "http://aux:8088".to_owned()),
            ("XVB_POOL_URL", XVB_POOL.to_owned()),
            ("P2POOL_POOL_URL", P2POOL_POOL.to_owned()),
        ];
        self.setup.env.extend(env);
        Ok(())
    }

    fn xvb_proxy_pools(&self) -> Result<(String, bool, bool), TierError> {
        let world = self
            .world
            .as_ref()
            .ok_or_else(|| TierError::Check("no world".into()))?;
        let config = world.xmrig_proxy().config();
        let pool = |i: usize| config["pools"].get(i).cloned().unwrap_or_default();
        Ok((
            pool(0)["url"].as_str().unwrap_or_default().to_owned(),
            pool(0)["enabled"].as_bool().unwrap_or(false),
            pool(1)["enabled"].as_bool().unwrap_or(true),
        ))
    }

    fn xvb_switch_to_xvb(&mut self) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        // A fleet that sustains VIP, an own share just now, a clean donor below its reference.
        let wall_s = world.state().cycle.last_wall_ms / 1_000;
        world.p2pool().update(|s| {
            s.last_share_found_time = wall_s;
            s.sidechain_difficulty = 0;
        });
        world
            .xmrig_proxy()
            .set_hashrate_total(Some([40.0, 40.0, 40.0, 40.0, 40.0, 40.0]));
        world.xvb().set_donor(9_000.0, 9_000.0, 0);
        let budget = Duration::from_secs(900);
        world
            .run_until("the engine switches to XvB", budget, |w| {
                w.xmrig_proxy().config_puts() >= 1
            })
            .map_err(|e| failure(seed, "waiting for the switch to XvB", &e))?;
        // The cycle that switched records its pass right after.
        world
            .run_for(Duration::from_secs(2))
            .map_err(|e| failure(seed, "recording the switch", &e))?;
        Ok(())
    }

    fn xvb_expect_xvb_first(&mut self) -> Result<(), TierError> {
        let seen = self.xvb_proxy_pools()?;
        if seen == (XVB_POOL.to_owned(), true, false) {
            Ok(())
        } else {
            Err(TierError::Check(format!(
                "xmrig-proxy's pools after the switch: first {:?} (enabled {}), second enabled {}",
                seen.0, seen.1, seen.2
            )))
        }
    }

    fn xvb_expect_put_accepted(&mut self) -> Result<(), TierError> {
        let world = self
            .world
            .as_ref()
            .ok_or_else(|| TierError::Check("no world".into()))?;
        let xvb = world.state().xvb;
        match xvb.as_ref().and_then(|x| x.last_switch.clone()) {
            Some(switch)
                if switch.ok && switch.to == "xvb" && world.xmrig_proxy().config_puts() >= 1 =>
            {
                Ok(())
            }
            other => Err(TierError::Check(format!("the last switch is {other:?}"))),
        }
    }

    fn xvb_refuse_next_switch(&mut self) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        world.xmrig_proxy().set_restricted(true);
        let budget = Duration::from_secs(900);
        world
            .run_until("a switch is refused", budget, |w| {
                w.state().xvb.is_some_and(|x| x.switch_failures >= 1)
            })
            .map_err(|e| failure(seed, "waiting for a refused switch", &e))?;
        Ok(())
    }

    fn xvb_expect_retried(&mut self) -> Result<(), TierError> {
        let seed = self.seed;
        let (pool, _, _) = self.xvb_proxy_pools()?;
        let world = self.booted()?;
        let recorded = world.state().xvb.map(|x| x.pool);
        if pool != XVB_POOL || recorded != Some("xvb") {
            return Err(TierError::Check(format!(
                "after the refusal xmrig-proxy's first pool is {pool:?} and the engine records {recorded:?}"
            )));
        }
        let puts = world.xmrig_proxy().config_puts();
        world.xmrig_proxy().set_restricted(false);
        world
            .run_until("the retried switch lands", Duration::from_secs(120), |w| {
                w.xmrig_proxy().config_puts() > puts
            })
            .map_err(|e| failure(seed, "waiting for the retried switch", &e))?;
        world
            .run_for(Duration::from_secs(2))
            .map_err(|e| failure(seed, "recording the retry", &e))?;
        let (pool, _, _) = self.xvb_proxy_pools()?;
        if pool == P2POOL_POOL {
            Ok(())
        } else {
            Err(TierError::Check(format!(
                "after the retry xmrig-proxy's first pool is {pool:?}"
            )))
        }
    }
}

/// Sections D and G: the stack `pithead` drives.
impl SimTier {
    /// Puts the whole stack in the docker fake and tells the runtime about it (before boot).
    fn whole_stack(&mut self) {
        if self.world.is_some() || self.status.whole_stack {
            return;
        }
        self.status.whole_stack = true;
        let (env, containers) = self.status.boot_setup();
        self.setup.env.extend(env);
        self.setup.containers = Some(containers);
    }

    fn cli_stack(&mut self) -> Result<&mut CliStack, TierError> {
        if self.cli.is_none() {
            self.cli = Some(CliStack::new()?);
        }
        self.cli.as_mut().ok_or_else(|| TierError::Tier {
            tier: TIER,
            message: "no stack directory".to_owned(),
        })
    }

    /// Waits until `condition` holds (a situation a `Given` sets up).
    fn settle(&mut self, condition: &Condition) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        let budget = Self::release_budget(world);
        wait_until(world, seed, &condition.to_string(), budget, |seen| {
            condition.check(seen)
        })
    }

    fn set_container(&mut self, service: &str, state: ContainerState) -> Result<(), TierError> {
        self.whole_stack();
        self.status.set(service, state, self.world.as_ref());
        // A node whose container does not run does not answer either (a remote node, whose
        // profile is off, is not this container).
        let node = match service {
            "monerod" if self.status.has_profile("local_node") => Some(Node::Monerod),
            "tari" if self.status.has_profile("local_tari") => Some(Node::Tari),
            _ => None,
        };
        let stopped = matches!(
            state,
            ContainerState::Exited | ContainerState::Missing | ContainerState::Restarting
        );
        match node {
            Some(node) if stopped => {
                let boot = false;
                self.steer(node, boot, Change::Reach(Reachability::Down))
            }
            _ => Ok(()),
        }
    }

    fn cli_fact(&mut self, fact: CliFact) -> Result<(), TierError> {
        match fact {
            CliFact::AllHealthy => {
                self.whole_stack();
                for service in pithead_runtime::control::verdicts::STACK_SERVICES {
                    self.status
                        .set(service, ContainerState::Healthy, self.world.as_ref());
                }
                Ok(())
            }
            CliFact::HealthyLocalNode => {
                self.cli_fact(CliFact::AllHealthy)?;
                self.release_now()
            }
            CliFact::Container { service, state } => self.set_container(&service, state),
            CliFact::SyncHold => {
                self.whole_stack();
                let chain = Chain::Syncing {
                    height: MONERO_TIP / 2,
                    target: MONERO_TIP,
                };
                self.steer(Node::Monerod, false, Change::Chain(chain))?;
                self.settle(&Condition::MinersHeld)
            }
            CliFact::NodeDownRejected => {
                // The node that is down is a remote one: its container is not this stack's.
                self.status.profile_off("local_node");
                self.whole_stack();
                self.release_now()?;
                self.steer(Node::Monerod, true, Change::Reach(Reachability::Down))?;
                self.settle(&Condition::WorkersRejected)
            }
            CliFact::ProfileOff(profile) => {
                if self.world.is_some() {
                    return Err(TierError::Scenario(format!(
                        "COMPOSE_PROFILES without {profile} after the stack booted"
                    )));
                }
                self.status.profile_off(&profile);
                self.whole_stack();
                Ok(())
            }
            CliFact::BadConfig(problem) => {
                self.cli_stack()?.bad_config(problem);
                Ok(())
            }
            CliFact::Applied | CliFact::SafetyBackup => self.cli_stack()?.applied(),
            CliFact::FailingRecreate => self.cli_stack()?.failing_recreate(),
        }
    }

    fn release_now(&mut self) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.booted()?;
        let budget = Self::release_budget(world);
        wait_until(world, seed, "the miners are released", budget, |seen| {
            Condition::MinersReleased.check(seen)?;
            Condition::WorkersAccepted.check(seen)
        })?;
        self.release_mark = Some(self.docker_calls()?.len());
        Ok(())
    }

    fn cli_action(&mut self, action: CliAction) -> Result<(), TierError> {
        self.status_ran = matches!(action, CliAction::Status);
        match action {
            CliAction::Status => {
                self.booted()?;
                let (status, world) = (&mut self.status, self.world.as_mut());
                let world = world.ok_or_else(|| TierError::Tier {
                    tier: TIER,
                    message: "the world did not boot".to_owned(),
                })?;
                let budget = Self::one_cycle(world) * 3;
                status.run(world, budget)
            }
            CliAction::NodeContainer { service, removed } => {
                self.booted()?;
                let state = if removed {
                    ContainerState::Missing
                } else {
                    ContainerState::Exited
                };
                self.set_container(&service, state)
            }
            CliAction::PointNodeElsewhere { monero } => self.point_elsewhere(monero),
            other => self.cli_stack()?.when(&other),
        }
    }

    /// `pithead apply -y` of a new node endpoint, then the dashboard recreated on the stack's
    /// data directory: the marker it left reaches the runtime's `DATA_DIR` (the bind mount of
    /// `./data/dashboard`). The simulated runtime keeps dialling the same fake, which plays the
    /// new node: one that is not synced yet.
    fn point_elsewhere(&mut self, monero: bool) -> Result<(), TierError> {
        self.booted()?;
        let stack = self.cli_stack()?;
        stack.applied()?;
        let (key, value) = if monero {
            ("monero.mode", "remote")
        } else {
            ("tari.remote.host", "tari2.lan")
        };
        stack.set_and_apply(key, value)?;
        let marker = stack.dashboard_data().join("rearm-sync-gate");
        let text = std::fs::read_to_string(&marker)
            .map_err(|e| TierError::Check(format!("no re-arm marker after the apply: {e}")))?;
        self.rearm = Some(text.trim().to_owned());
        let node = if monero { Node::Monerod } else { Node::Tari };
        let tip = if monero { MONERO_TIP } else { TARI_TIP };
        self.steer(
            node,
            true,
            Change::Chain(Chain::Syncing {
                height: tip / 2,
                target: tip,
            }),
        )?;
        let seed = self.seed;
        let world = self.booted()?;
        world.operator_rearm(&text).map_err(|e| TierError::Tier {
            tier: TIER,
            message: format!("the dashboard's data directory: {e}"),
        })?;
        let budget = Self::one_cycle(world);
        world.restart_runtime();
        first_cycle(world, seed, budget, "the apply recreated the dashboard")
    }

    fn cli_outcome(&mut self, outcome: CliOutcome) -> Result<(), TierError> {
        match &outcome {
            CliOutcome::Rearmed { monero } => {
                let want = if *monero { "all" } else { "tari" };
                if self.rearm.as_deref() != Some(want) {
                    return Err(TierError::Check(format!(
                        "the apply left the re-arm marker {:?}, expected {want:?}",
                        self.rearm
                    )));
                }
                let world = self.booted()?;
                if world.data_dir().join("rearm-sync-gate").exists() {
                    return Err(TierError::Check(
                        "the runtime did not take the re-arm marker".to_owned(),
                    ));
                }
                self.expect_now(&Condition::MinersHeld)
            }
            CliOutcome::HeldUntilSynced => {
                let span = Self::one_cycle(self.booted()?) * 2;
                self.expect_throughout(&Condition::MinersHeld, span)?;
                let node = if self.rearm.as_deref() == Some("tari") {
                    Node::Tari
                } else {
                    Node::Monerod
                };
                self.steer(node, true, Change::Chain(Chain::Synced))?;
                self.settle(&Condition::MinersReleased)
            }
            CliOutcome::Prints(_) if !self.status_ran => match self.cli.as_mut() {
                Some(stack) => stack.expect(&outcome),
                None => self.status.expect(&outcome),
            },
            CliOutcome::EachRunning
            | CliOutcome::Prints(_)
            | CliOutcome::Attention { .. }
            | CliOutcome::NotExpected(_)
            | CliOutcome::Exits(_)
            | CliOutcome::ReportedAs { .. } => self.status.expect(&outcome),
            _ => self.cli_stack()?.expect(&outcome),
        }
    }
}

fn failure(seed: u64, what: &str, err: &Failure) -> TierError {
    TierError::Tier {
        tier: TIER,
        message: format!("while {what} (seed {seed}): {err}"),
    }
}

/// What the world shows now: `/api/state` in memory and the managed containers.
fn observe(world: &World) -> Observed {
    let api = serde_json::to_value(world.state()).unwrap_or_default();
    let running = [P2POOL, XMRIG_PROXY]
        .into_iter()
        .map(|name| (name.to_owned(), world.container_running(name)))
        .collect();
    Observed { api, running }
}

/// Steps until `check` passes, at most `budget` of virtual time.
fn wait_until(
    world: &mut World,
    seed: u64,
    what: &str,
    budget: Duration,
    check: impl Fn(&Observed) -> Result<(), String>,
) -> Result<(), TierError> {
    let start = world.elapsed();
    loop {
        let seen = match check(&observe(world)) {
            Ok(()) => return Ok(()),
            Err(seen) => seen,
        };
        if world.elapsed() >= start + budget {
            return Err(TierError::Timeout {
                what: format!("{what} (seed {seed})"),
                waited: budget,
                at: world.elapsed(),
                seen,
            });
        }
        world
            .step()
            .map_err(|err| failure(seed, &format!("waiting until {what}"), &err))?;
    }
}

/// Steps until the runtime process finished its first cycle (after boot or a restart).
fn first_cycle(world: &mut World, seed: u64, budget: Duration, why: &str) -> Result<(), TierError> {
    let start = world.elapsed();
    while world.cycles() == 0 {
        if world.elapsed() >= start + budget {
            return Err(TierError::Timeout {
                what: format!("the runtime's first cycle after {why} (seed {seed})"),
                waited: budget,
                at: world.elapsed(),
                seen: observe(world).summary(),
            });
        }
        world.step().map_err(|err| {
            failure(
                seed,
                &format!("waiting for the first cycle after {why}"),
                &err,
            )
        })?;
    }
    Ok(())
}

fn ready<'a>(result: Result<(), TierError>) -> TierFuture<'a> {
    async move { result }.boxed_local()
}

/// Trace events attached to a failed step.
const EVIDENCE_EVENTS: usize = 30;

impl SimTier {
    /// Attaches the tail of the world's trace to a failed check (a simulation failure already
    /// carries its own).
    fn evidence(&self, result: Result<(), TierError>) -> TierFuture<'static> {
        let result = match (result, self.world.as_ref()) {
            (Err(err @ TierError::Tier { .. }), _) | (Err(err), None) => Err(err),
            (Err(err), Some(world)) => Err(TierError::WithEvidence {
                error: Box::new(err),
                evidence: format!(
                    "last events of the trace (seed {}):\n{}",
                    self.seed,
                    world.trace().tail(EVIDENCE_EVENTS)
                ),
            }),
            (Ok(()), _) => Ok(()),
        };
        ready(result)
    }
}

impl Tier for SimTier {
    fn name(&self) -> &'static str {
        TIER
    }

    fn record(&self) -> Option<String> {
        let world = self.world.as_ref()?;
        let events = world.trace().len();
        Some(format!(
            "trace of seed {} ({events} events):\n{}",
            self.seed,
            world.trace().tail(events)
        ))
    }

    fn configure(&mut self, setting: Setting) -> TierFuture<'_> {
        ready(if self.world.is_some() {
            Err(TierError::Scenario(format!(
                "{setting:?} after the stack booted (settings are read at start: put it before \
                 the first When or Then)"
            )))
        } else {
            let (var, value) = setting.env();
            self.setup.env.insert(var, value);
            Ok(())
        })
    }

    fn set_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        ready(self.steer(node, false, Change::Chain(chain)))
    }

    fn set_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_> {
        ready(self.steer(node, false, Change::Reach(reachability)))
    }

    fn change_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        ready(self.steer(node, true, Change::Chain(chain)))
    }

    fn change_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_> {
        ready(self.steer(node, true, Change::Reach(reachability)))
    }

    fn set_p2pool_network_height(&mut self, height: u64) -> TierFuture<'_> {
        match self.world.as_mut() {
            Some(world) => world.p2pool().update(|s| s.network_height = height),
            None => self.setup.p2pool_network_height = Some(height),
        }
        ready(Ok(()))
    }

    fn refuse_docker_calls(&mut self, count: u32) -> TierFuture<'_> {
        match self.world.as_mut() {
            Some(world) => world.refuse_docker(count),
            None => self.setup.refuse_docker_calls += count,
        }
        ready(Ok(()))
    }

    fn release_miners(&mut self) -> TierFuture<'_> {
        let seed = self.seed;
        let result = self.booted().and_then(|world| {
            let budget = Self::release_budget(world);
            let what = "the miners are released and workers accepted";
            wait_until(world, seed, what, budget, |seen| {
                Condition::MinersReleased.check(seen)?;
                Condition::WorkersAccepted.check(seen)
            })
        });
        let result = result.and_then(|()| {
            self.release_mark = Some(self.docker_calls()?.len());
            Ok(())
        });
        self.evidence(result)
    }

    fn restart_runtime(&mut self) -> TierFuture<'_> {
        let seed = self.seed;
        ready(self.booted().and_then(|world| {
            let budget = Self::one_cycle(world);
            world.restart_runtime();
            first_cycle(world, seed, budget, "the restart")
        }))
    }

    fn advance(&mut self, span: Duration) -> TierFuture<'_> {
        let seed = self.seed;
        ready(self.booted().and_then(|world| {
            world
                .run_for(span)
                .map_err(|err| failure(seed, &format!("{span:?} passed"), &err))
        }))
    }

    fn expect(&mut self, condition: Condition) -> TierFuture<'_> {
        let result = if condition.is_absence() {
            self.booted()
                .map(|world| Self::one_cycle(world))
                .and_then(|cycle| self.expect_throughout(&condition, cycle))
        } else {
            self.expect_now(&condition)
        };
        self.evidence(result)
    }

    fn expect_for(&mut self, condition: Condition, span: Duration) -> TierFuture<'_> {
        let result = self.expect_throughout(&condition, span);
        self.evidence(result)
    }

    fn expect_started_once(&mut self, container: &str) -> TierFuture<'_> {
        let seed = self.seed;
        let result = self.booted().and_then(|world| {
            let starts = world
                .docker()
                .actions()
                .into_iter()
                .filter(|a| a.verb == Verb::Start && a.container == container)
                .count();
            if starts == 1 {
                return Ok(());
            }
            let calls: Vec<String> = world
                .trace()
                .of_kind(EventKind::Docker)
                .map(|e| format!("{} {} {}", format_time(e.at), e.subject(), e.detail()))
                .collect();
            Err(TierError::Check(format!(
                "{container} was started {starts} times, expected exactly once (seed {seed}); \
                 docker calls: {calls:?}"
            )))
        });
        ready(result)
    }

    fn alerts_given(&mut self, fact: AlertFact) -> TierFuture<'_> {
        let result = self.alerts_given_sim(fact);
        self.evidence(result)
    }

    fn alerts_when(&mut self, event: AlertEvent) -> TierFuture<'_> {
        let result = self.alerts_when_sim(event);
        self.evidence(result)
    }

    fn alerts_expect(&mut self, outcome: AlertOutcome) -> TierFuture<'_> {
        let result = self.alerts_expect_sim(&outcome);
        self.evidence(result)
    }

    fn live_given(&mut self, fact: LiveFact) -> TierFuture<'_> {
        if !prune::handles_fact(&fact) {
            return live_unsupported(TIER, format!("{fact:?}"));
        }
        let result = self.prune_given(fact);
        self.evidence(result)
    }

    fn live_when(&mut self, action: LiveAction) -> TierFuture<'_> {
        if action != LiveAction::Apply || !self.prune_scenario {
            return live_unsupported(TIER, format!("{action:?}"));
        }
        let result = self.prune_apply();
        self.evidence(result)
    }

    fn live_expect(&mut self, outcome: LiveOutcome) -> TierFuture<'_> {
        if !prune::handles_outcome(&outcome) || !self.prune_scenario {
            return live_unsupported(TIER, format!("{outcome:?}"));
        }
        let result = self.prune_expect(&outcome);
        self.evidence(result)
    }

    fn dashboard_given(&mut self, fact: DashboardFact) -> TierFuture<'_> {
        let result = self.dashboard_given_sim(fact);
        self.evidence(result)
    }

    fn dashboard_when(&mut self, event: DashboardEvent) -> TierFuture<'_> {
        let result = self.dashboard_when_sim(event);
        self.evidence(result)
    }

    fn dashboard_expect(&mut self, outcome: DashboardOutcome) -> TierFuture<'_> {
        let result = self.dashboard_expect_sim(&outcome);
        self.evidence(result)
    }

    fn xvb_given(&mut self, fact: XvbFact) -> TierFuture<'_> {
        if fact == XvbFact::ProxyPools {
            return ready(self.xvb_runtime_setup());
        }
        ready(self.xvb.given(fact))
    }

    fn xvb_when(&mut self, event: XvbEvent) -> TierFuture<'_> {
        let result = match event {
            XvbEvent::SwitchToXvb => self.xvb_switch_to_xvb(),
            XvbEvent::NextSwitchRefused => self.xvb_refuse_next_switch(),
            _ => return ready(self.xvb.when(event)),
        };
        self.evidence(result)
    }

    fn xvb_expect(&mut self, outcome: XvbOutcome) -> TierFuture<'_> {
        let result = match outcome {
            XvbOutcome::XvbFirstInConfig => self.xvb_expect_xvb_first(),
            XvbOutcome::PutAccepted => self.xvb_expect_put_accepted(),
            XvbOutcome::RefusedThenRetried => self.xvb_expect_retried(),
            _ => return ready(self.xvb.expect(outcome)),
        };
        self.evidence(result)
    }

    fn cli_given(&mut self, fact: CliFact) -> TierFuture<'_> {
        let result = self.cli_fact(fact);
        self.evidence(result)
    }

    fn cli_when(&mut self, action: CliAction) -> TierFuture<'_> {
        let result = self.cli_action(action);
        self.evidence(result)
    }

    fn cli_expect(&mut self, outcome: CliOutcome) -> TierFuture<'_> {
        let result = self.cli_outcome(outcome);
        self.evidence(result)
    }

    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_> {
        let seed = self.seed;
        let result = match self.release_mark {
            None => Err(TierError::Check(
                "no release to count from: this scenario never saw the miners released".into(),
            )),
            Some(mark) => self.docker_calls().and_then(|calls| {
                let stops: Vec<String> = calls
                    .iter()
                    .skip(mark)
                    .filter(|(_, _, detail)| detail.starts_with("stop"))
                    .map(|(at, name, detail)| format!("{} {name} {detail}", format_time(*at)))
                    .collect();
                if stops.is_empty() {
                    Ok(())
                } else {
                    Err(TierError::Check(format!(
                        "stop calls reached the docker engine after the release (seed {seed}): \
                         {stops:?}"
                    )))
                }
            }),
        };
        ready(result)
    }

    fn start_by_hand(&mut self, container: &str) -> TierFuture<'_> {
        let result = self.booted().map(|world| {
            world.note("scenario", &format!("someone starts {container} by hand"));
            // The engine's own state changes; no call of the runtime's is involved.
            world
                .docker()
                .set_status(container, pithead_fakes::docker::ContainerStatus::Running);
            world.container_running(container)
        });
        ready(result.and_then(|running| {
            if running {
                Ok(())
            } else {
                Err(TierError::Check(format!(
                    "{container} does not run after being started by hand"
                )))
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    /// A badge that the runtime is about to show is not "not shown": the check covers the next
    /// cycle, where an instant's look would pass.
    #[test]
    fn a_badge_about_to_show_fails_not_shown() {
        let mut tier = SimTier::new(7);
        let secs = Duration::from_secs;
        block_on(tier.configure(Setting::UpdateInterval(secs(5)))).unwrap();
        block_on(tier.configure(Setting::NodeDownAfter(secs(30)))).unwrap();
        block_on(tier.release_miners()).unwrap();
        block_on(tier.change_reachability(Node::Monerod, Reachability::Down)).unwrap();
        block_on(tier.advance(secs(28))).unwrap();
        let badge = Condition::Badge {
            text: "monerod DOWN".to_owned(),
            shown: false,
        };
        let world = tier.world().unwrap();
        assert_eq!(badge.check(&observe(world)), Ok(()), "shown already");
        let err = block_on(tier.expect(badge.clone())).unwrap_err();
        match err {
            TierError::WithEvidence { error, .. } => {
                assert!(matches!(*error, TierError::Broken { .. }), "{error}");
            }
            other => panic!("{other}"),
        }
        // Once shown and then gone for good, the same step passes.
        block_on(tier.change_reachability(Node::Monerod, Reachability::Up)).unwrap();
        block_on(tier.advance(secs(120))).unwrap();
        block_on(tier.expect(badge)).unwrap();
    }
}
