//! [`Tier`] on the mini-stack: the runtime's deployed image against fake-daemon images on a real
//! docker engine, one fresh stack per scenario.
//!
//! What it proves that the simulation cannot: that hold / release and reject / readmit really
//! stop and start containers, through the least-privilege socket proxy, with the runtime in its
//! `FROM scratch` image. A node "goes down" by `docker stop` of its container and "comes back" by
//! `docker start`; a chain's state and monerod's `BUSY` are steered over the fakes' `/control`;
//! the truth is read from the engine (container states, and its events for start / stop counts)
//! and from the runtime's served `/api/state`.
//!
//! **Time.** The runtime runs with `UPDATE_INTERVAL=2` and `NODE_DOWN_AFTER_SEC=4`; a scenario's
//! spans are scaled by the ratio of that down window to the scenario's (`k = 4 / window`, 90 s
//! unless the scenario sets it), so "stays accepted for 80 s of a 90 s window" keeps its meaning
//! in 3.6 real seconds. The recovery window is scaled the same way (60 s → 3 s). Waiting is
//! polling with a deadline: [`Tier::expect`] allows one update cycle plus the slowest a cycle may
//! take; "stays" steps check every poll of their (scaled) span.
//!
//! Steps it cannot perform (a docker engine that refuses calls, p2pool's network height) are
//! declared [`TierError::Unsupported`], which the runner reports as skipped with the reason.

mod stack;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use futures::FutureExt as _;
use serde_json::Value;
use testcontainers::bollard::Docker;

use crate::driver::{
    Chain, Condition, Node, Observed, Reachability, Setting, Tier, TierError, TierFuture, XvbEvent,
    XvbFact, XvbOutcome, P2POOL, XMRIG_PROXY,
};
use crate::model::{Change, NodeModel, MONERO_TIP, TARI_TIP};

pub use stack::{engine_socket, leftovers, sweep, Images, Service, Spec, Stack, StackError};

const TIER: &str = "mini-stack";

/// The runtime's cycle on the mini-stack.
const UPDATE_INTERVAL: Duration = Duration::from_secs(2);
/// The runtime's down window on the mini-stack; scenario spans scale to it.
const NODE_DOWN_AFTER: Duration = Duration::from_secs(4);
/// One RPC's deadline (below the down window, as the runtime requires).
const RPC_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a wait looks at the stack.
const POLL: Duration = Duration::from_millis(200);
/// How long a boot may take until the runtime's first cycle.
const BOOT_BUDGET: Duration = Duration::from_secs(60);
/// Engine and runtime log lines kept as evidence of a failure.
const LOG_LINES: usize = 200;

/// The dashboard port inside the runtime's container.
const DASHBOARD_PORT: u16 = 8000;
const MONEROD_PORT: u16 = 18081;
const TARI_GRPC_PORT: u16 = 18142;
const TARI_CONTROL_PORT: u16 = 9000;
const DOCKER_CONTROL_PORT: u16 = 2375;

/// What every scenario of one run shares: the engine, the images, where failures leave their
/// evidence, and the counter that makes names unique.
///
/// Every scenario's I/O runs on the one multi-threaded tokio runtime whose `handle` is given
/// here: the engine client's connections are tasks on it, so it must keep running between
/// steps (the cucumber runner is not a tokio runtime).
#[derive(Clone)]
pub struct Run {
    rt: tokio::runtime::Handle,
    docker: Docker,
    images: Images,
    artifacts: PathBuf,
    counter: std::rc::Rc<std::cell::Cell<u32>>,
    floor: std::rc::Rc<std::cell::Cell<Duration>>,
    keep: bool,
}

impl Run {
    /// A run on `docker` (a client made on `rt`) with `images`, writing failure evidence under
    /// `artifacts`.
    pub fn new(
        rt: tokio::runtime::Handle,
        docker: Docker,
        images: Images,
        artifacts: PathBuf,
    ) -> Self {
        Self {
            rt,
            docker,
            images,
            artifacts,
            counter: Default::default(),
            floor: Default::default(),
            keep: false,
        }
    }

    /// Leave each scenario's stack running at its end (`cargo xtask mini-stack --keep`).
    pub fn keep(mut self, keep: bool) -> Self {
        self.keep = keep;
        self
    }

    /// The tier's floor so far: the (scaled) spans the scenarios deliberately wait out ("N
    /// seconds pass", "stays ... for N seconds"), which no implementation can beat.
    pub fn floor(&self) -> Duration {
        self.floor.get()
    }

    fn add_to_floor(&self, span: Duration) {
        self.floor.set(self.floor.get() + span);
    }

    /// The prefix every resource of this run's scenarios starts with.
    pub fn prefix() -> String {
        format!("pms-{}", std::process::id())
    }

    /// A fresh tier for one scenario.
    pub fn tier(&self, scenario: &str) -> Result<MiniStackTier, TierError> {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        Ok(MiniStackTier {
            rt: self.rt.clone(),
            run: self.clone(),
            scenario: scenario.to_owned(),
            prefix: format!("{}-{n}", Self::prefix()),
            settings: BTreeMap::new(),
            monero: NodeModel::new(MONERO_TIP),
            tari: NodeModel::new(TARI_TIP),
            stack: None,
            booted_at: None,
            released_at: None,
            scale: 1.0,
        })
    }
}

fn tier_failure(message: String) -> TierError {
    TierError::Tier {
        tier: TIER,
        message,
    }
}

impl From<StackError> for TierError {
    fn from(e: StackError) -> Self {
        tier_failure(e.to_string())
    }
}

/// One scenario's mini-stack, booted on the first `When`/`Then`.
pub struct MiniStackTier {
    rt: tokio::runtime::Handle,
    run: Run,
    scenario: String,
    prefix: String,
    settings: BTreeMap<&'static str, String>,
    monero: NodeModel,
    tari: NodeModel,
    stack: Option<Stack>,
    /// Just before the runtime's container started: "since boot" counts from here.
    booted_at: Option<SystemTime>,
    /// When the miners were seen released.
    released_at: Option<SystemTime>,
    /// Real seconds per scenario second.
    scale: f64,
}

#[allow(clippy::disallowed_methods)] // a real engine: real time
fn now() -> SystemTime {
    SystemTime::now()
}

fn ready<'a>(result: Result<(), TierError>) -> TierFuture<'a> {
    async move { result }.boxed_local()
}

impl MiniStackTier {
    fn setting_secs(&self, var: &str, default: u64) -> u64 {
        self.settings
            .get(var)
            .and_then(|v| v.parse().ok())
            .filter(|v| *v > 0)
            .unwrap_or(default)
    }

    /// The runtime's environment: the mini-stack's timing (the scenario's windows scaled), the
    /// scenario's other settings, and the stack's names.
    fn runtime_env(&mut self, stack: &Stack) -> Vec<(String, String)> {
        let down = self.setting_secs("NODE_DOWN_AFTER_SEC", 90) as f64;
        let recovery = self.setting_secs("NODE_RECOVERY_AFTER_SEC", 60) as f64;
        self.scale = NODE_DOWN_AFTER.as_secs_f64() / down;
        let recovery = (recovery * self.scale).round().max(1.0) as u64;
        let mut env: BTreeMap<String, String> = self
            .settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let gate = format!(
            "{},{}",
            stack.name(Service::P2pool),
            stack.name(Service::XmrigProxy)
        );
        for (key, value) in [
            ("UPDATE_INTERVAL", UPDATE_INTERVAL.as_secs().to_string()),
            ("NODE_DOWN_AFTER_SEC", NODE_DOWN_AFTER.as_secs().to_string()),
            ("NODE_RECOVERY_AFTER_SEC", recovery.to_string()),
            ("RPC_TIMEOUT_SEC", RPC_TIMEOUT.as_secs().to_string()),
            (
                "MONERO_RPC_URL",
                format!("http://{}:{MONEROD_PORT}", stack.name(Service::Monerod)),
            ),
            (
                "TARI_GRPC_ADDRESS",
                format!("{}:{TARI_GRPC_PORT}", stack.name(Service::Tari)),
            ),
            (
                "DOCKER_CONTROL_URL",
                format!(
                    "http://{}:{DOCKER_CONTROL_PORT}",
                    stack.name(Service::DockerControl)
                ),
            ),
            ("SYNC_GATE_CONTAINERS", gate),
            ("REJECT_WORKERS_CONTAINER", stack.name(Service::XmrigProxy)),
            ("DASHBOARD_BIND", format!("0.0.0.0:{DASHBOARD_PORT}")),
            ("DATA_DIR", "/data".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ] {
            env.insert(key.to_owned(), value);
        }
        env.into_iter().collect()
    }

    /// How long the runtime may take to act on what it can see: the rest of the current
    /// interval, then one whole cycle at its slowest (both nodes' reads at their deadline, the
    /// docker calls) and the engine stopping a container.
    fn one_cycle() -> Duration {
        UPDATE_INTERVAL * 2 + RPC_TIMEOUT * 2 + Duration::from_secs(2)
    }

    fn scaled(&self, span: Duration) -> Duration {
        span.mul_f64(self.scale)
    }

    /// The running stack, booted on first use.
    fn booted(&mut self) -> Result<&Stack, TierError> {
        if self.stack.is_none() {
            let stack = self.boot()?;
            self.stack = Some(stack);
        }
        self.stack()
    }

    fn stack(&self) -> Result<&Stack, TierError> {
        self.stack
            .as_ref()
            .ok_or_else(|| tier_failure("the stack did not boot".into()))
    }

    fn boot(&mut self) -> Result<Stack, TierError> {
        let docker = self.run.docker.clone();
        let prefix = self.prefix.clone();
        let images = self.run.images.clone();
        let token = format!("mini-stack-token-{}", std::process::id());
        let monero_mode = json(&self.monero.monero_mode_up());
        let tari_mode = json(&self.tari.tari_mode_up());
        let rt = self.rt.clone();
        let mut stack = rt.block_on(Stack::new(docker, &prefix))?;
        let spec = |service, cmd: &[&str], env: Vec<(String, String)>| Spec {
            service,
            image: images.fake.clone(),
            cmd: args(cmd),
            env,
        };
        let fakes = vec![
            spec(
                Service::Monerod,
                &[
                    "monerod",
                    "--listen",
                    "0.0.0.0:18081",
                    "--initial",
                    &monero_mode,
                ],
                vec![],
            ),
            spec(
                Service::Tari,
                &[
                    "tari",
                    "--listen",
                    "0.0.0.0:18142",
                    "--control-listen",
                    "0.0.0.0:9000",
                    "--initial",
                    &tari_mode,
                ],
                vec![],
            ),
            spec(
                Service::P2pool,
                &["p2pool", "--listen", "0.0.0.0:3380"],
                vec![],
            ),
            // A secret travels in the environment, never in argv.
            spec(
                Service::XmrigProxy,
                &["xmrig-proxy", "--listen", "0.0.0.0:3344"],
                vec![("FAKE_XMRIG_PROXY_TOKEN".to_owned(), token)],
            ),
            spec(
                Service::DockerControl,
                &[
                    "socket-proxy",
                    "--listen",
                    "0.0.0.0:2375",
                    "--access",
                    "start-stop",
                ],
                vec![],
            ),
        ];
        if let Err(e) = rt.block_on(stack.start(fakes)) {
            let left = rt.block_on(stack.remove());
            return Err(with_left(e.into(), &left));
        }
        // A node that is down at boot never answers the runtime.
        for (node, model) in [(Node::Monerod, self.monero), (Node::Tari, self.tari)] {
            if model.reach == Reachability::Down {
                rt.block_on(stack.stop(service_of(node), Duration::from_secs(5)))?;
            }
        }
        let env = self.runtime_env(&stack);
        self.booted_at = Some(now());
        let runtime = Spec {
            service: Service::Runtime,
            image: images.runtime.clone(),
            cmd: vec![],
            env,
        };
        let started = rt.block_on(stack.start(vec![runtime]));
        if let Err(e) = started {
            let left = rt.block_on(stack.remove());
            return Err(with_left(e.into(), &left));
        }
        let first = rt.block_on(first_cycle(&stack, "boot"));
        if let Err(e) = first {
            self.stack = Some(stack);
            return Err(self.with_evidence(e));
        }
        Ok(stack)
    }

    fn model(&mut self, node: Node) -> &mut NodeModel {
        match node {
            Node::Monerod => &mut self.monero,
            Node::Tari => &mut self.tari,
        }
    }

    /// Changes the model of `node` and, on a running stack, makes the node so: its container
    /// stopped or started, its fake's mode set.
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
        let before = *self.model(node);
        let model = self.model(node);
        match change {
            Change::Chain(chain) => model.set_chain(chain),
            Change::Reach(reach) => model.reach = reach,
        }
        let after = *model;
        let Some(stack) = self.stack.as_ref() else {
            return Ok(());
        };
        let service = service_of(node);
        let rt = self.rt.clone();
        rt.block_on(async {
            let was_down = before.reach == Reachability::Down;
            match (was_down, after.reach) {
                (false, Reachability::Down) => {
                    stack.stop(service, Duration::from_secs(5)).await?;
                    return Ok(());
                }
                (true, Reachability::Down) => return Ok(()),
                (true, _) => {
                    stack.start_again(service).await?;
                }
                (false, _) => {}
            }
            set_mode(stack, node, &after).await
        })
    }

    fn observe_now(&self, stack: &Stack) -> Result<Observed, TierError> {
        self.rt.block_on(observe(stack))
    }

    /// Polls until `condition` holds, at most `budget`.
    fn wait_until(&mut self, condition: &Condition, budget: Duration) -> Result<(), TierError> {
        self.booted()?;
        let stack = self.stack()?;
        let start = now();
        let mut last;
        loop {
            match self.observe_now(stack) {
                Ok(seen) => match condition.check(&seen) {
                    Ok(()) => return Ok(()),
                    Err(summary) => last = summary,
                },
                Err(e) => last = e.to_string(),
            }
            let waited = start.elapsed().unwrap_or_default();
            if waited >= budget {
                return Err(TierError::Timeout {
                    what: condition.to_string(),
                    waited,
                    at: self.elapsed(),
                    seen: last,
                });
            }
            self.rt.block_on(async { tokio::time::sleep(POLL).await });
        }
    }

    /// Checks `condition` at every poll of `span` (real time).
    ///
    /// An observation takes time (an HTTP call and two inspects; longer on a loaded machine), so
    /// only one that ended inside the span is judged: one that ended after it may show what the
    /// runtime rightly did once the span was over. The span's end is always covered by the last
    /// observation that did end inside it, taken at most one poll (plus one observation) earlier.
    fn hold_for(&mut self, condition: &Condition, span: Duration) -> Result<(), TierError> {
        self.booted()?;
        let stack = self.stack()?;
        let start = now();
        let mut judged = 0u32;
        loop {
            let seen = self.observe_now(stack)?;
            let into = start.elapsed().unwrap_or_default();
            if into > span && judged > 0 {
                return Ok(());
            }
            judged += 1;
            if let Err(seen) = condition.check(&seen) {
                return Err(TierError::Broken {
                    what: condition.to_string(),
                    at: self.elapsed(),
                    into,
                    span,
                    seen,
                });
            }
            if into >= span {
                return Ok(());
            }
            self.rt
                .block_on(async { tokio::time::sleep(POLL.min(span - into)).await });
        }
    }

    /// Real time since the runtime's container started.
    fn elapsed(&self) -> Duration {
        self.booted_at
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default()
    }

    /// Gate-container events (`start`/`stop`) since `since`, as `(name, action)`.
    fn gate_events(&mut self, since: SystemTime, action: &str) -> Result<Vec<String>, TierError> {
        self.booted()?;
        let stack = self.stack()?;
        let gate = [stack.name(Service::P2pool), stack.name(Service::XmrigProxy)];
        let events = self.rt.block_on(stack.events(since))?;
        Ok(events
            .into_iter()
            .filter(|(_, name, act)| act == action && gate.contains(name))
            .map(|(at, name, act)| format!("{at:.3} {name} {act}"))
            .collect())
    }

    /// Writes what a person needs to understand a failure under the run's artifacts directory
    /// and names it in the error.
    fn with_evidence(&self, error: TierError) -> TierError {
        if matches!(error, TierError::Unsupported { .. }) {
            return error;
        }
        let Some(stack) = self.stack.as_ref() else {
            return error;
        };
        let dir = self.run.artifacts.join(sanitize(&self.scenario));
        let written = self
            .rt
            .block_on(write_evidence(stack, &dir, self.booted_at));
        let evidence = match written {
            Ok(()) => format!(
                "evidence (container states, the runtime's last {LOG_LINES} log lines, the \
                 engine's events, /api/state) in {}",
                dir.display()
            ),
            Err(e) => format!(
                "the evidence could not be written to {}: {e}",
                dir.display()
            ),
        };
        TierError::WithEvidence {
            error: Box::new(error),
            evidence,
        }
    }

    fn checked(&self, result: Result<(), TierError>) -> TierFuture<'static> {
        ready(result.map_err(|e| self.with_evidence(e)))
    }
}

impl Drop for MiniStackTier {
    fn drop(&mut self) {
        if self.run.keep {
            if let Some(stack) = self.stack.as_ref() {
                let dashboard = self
                    .rt
                    .block_on(stack.address(Service::Runtime, DASHBOARD_PORT))
                    .map_or_else(|e| e.to_string(), |addr| format!("http://{addr}/"));
                eprintln!(
                    "mini-stack: kept the stack of {:?} (containers {}-*): dashboard {dashboard}",
                    self.scenario, self.prefix
                );
                // testcontainers keeps them too (TESTCONTAINERS_COMMAND=keep).
                std::mem::forget(self.stack.take());
            }
            return;
        }
        if let Some(stack) = self.stack.take() {
            let left = self.rt.block_on(stack.remove());
            if !left.is_empty() {
                eprintln!("mini-stack: could not remove {left:?}");
            }
        }
    }
}

fn with_left(error: TierError, left: &[String]) -> TierError {
    if left.is_empty() {
        error
    } else {
        tier_failure(format!("{error}; and could not remove {left:?}"))
    }
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn service_of(node: Node) -> Service {
    match node {
        Node::Monerod => Service::Monerod,
        Node::Tari => Service::Tari,
    }
}

fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    cleaned.trim_matches('-').chars().take(100).collect()
}

impl NodeModel {
    /// The fake's mode for this model while its container runs (down is the container's
    /// state, not a mode).
    fn monero_mode_up(&self) -> pithead_fakes::monerod::MoneroMode {
        let up = NodeModel {
            reach: match self.reach {
                Reachability::Down => Reachability::Up,
                other => other,
            },
            ..*self
        };
        up.monero_mode()
    }

    fn tari_mode_up(&self) -> pithead_fakes::tari::TariMode {
        let up = NodeModel {
            reach: Reachability::Up,
            ..*self
        };
        up.tari_mode()
    }
}

/// Sets `node`'s fake to `model`'s mode over its control API, waiting (bounded) for the fake
/// to listen again after a start.
async fn set_mode(stack: &Stack, node: Node, model: &NodeModel) -> Result<(), TierError> {
    let (service, port, body) = match node {
        Node::Monerod => (
            Service::Monerod,
            MONEROD_PORT,
            json(&model.monero_mode_up()),
        ),
        Node::Tari => (
            Service::Tari,
            TARI_CONTROL_PORT,
            json(&model.tari_mode_up()),
        ),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = async {
            let addr = stack
                .address(service, port)
                .await
                .map_err(|e| e.to_string())?;
            stack::http(
                addr,
                "POST",
                "/control",
                Some(body.clone()),
                RPC_TIMEOUT * 2,
            )
            .await
        };
        let last = match attempt.await {
            Ok((200, _)) => return Ok(()),
            Ok((status, text)) => {
                return Err(tier_failure(format!(
                    "{node}'s fake refused {body}: {status} {text}"
                )))
            }
            Err(e) => e,
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(tier_failure(format!(
                "{node}'s control API did not answer within 20 s: {last}"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `/api/state` as served, and which gate containers run, as the engine says.
async fn observe(stack: &Stack) -> Result<Observed, TierError> {
    let api = api_state(stack).await?;
    let mut running = BTreeMap::new();
    for (service, name) in [
        (Service::P2pool, P2POOL),
        (Service::XmrigProxy, XMRIG_PROXY),
    ] {
        running.insert(name.to_owned(), stack.running(service).await?);
    }
    Ok(Observed { api, running })
}

async fn api_state(stack: &Stack) -> Result<Value, TierError> {
    let addr = stack.address(Service::Runtime, DASHBOARD_PORT).await?;
    let (status, body) = stack::http(addr, "GET", "/api/state", None, Duration::from_secs(3))
        .await
        .map_err(|e| tier_failure(format!("GET /api/state: {e}")))?;
    if status != 200 {
        return Err(tier_failure(format!(
            "GET /api/state answered {status}: {body}"
        )));
    }
    serde_json::from_str(&body)
        .map_err(|e| tier_failure(format!("GET /api/state is not JSON ({e}): {body}")))
}

/// Waits until the runtime served a document of a finished cycle.
async fn first_cycle(stack: &Stack, why: &str) -> Result<(), TierError> {
    let deadline = tokio::time::Instant::now() + BOOT_BUDGET;
    let mut last;
    loop {
        match api_state(stack).await {
            Ok(api) => {
                let cycles = crate::driver::lookup(&api, "cycle.count").and_then(Value::as_u64);
                if cycles.unwrap_or(0) >= 1 {
                    return Ok(());
                }
                last = format!("cycle.count = {cycles:?}");
            }
            Err(e) => last = e.to_string(),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(TierError::Timeout {
                what: format!("the runtime's first cycle after {why}"),
                waited: BOOT_BUDGET,
                at: Duration::ZERO,
                seen: last,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn write_evidence(
    stack: &Stack,
    dir: &std::path::Path,
    since: Option<SystemTime>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("containers.txt"), stack.states().await)?;
    let logs = match stack.logs(Service::Runtime, LOG_LINES).await {
        Ok(logs) => logs,
        Err(e) => format!("the logs could not be read: {e}"),
    };
    std::fs::write(dir.join("runtime.log"), logs)?;
    let events = match stack.events(since.unwrap_or(SystemTime::UNIX_EPOCH)).await {
        Ok(events) => events
            .into_iter()
            .map(|(at, name, action)| format!("{at:.3} {name} {action}\n"))
            .collect(),
        Err(e) => format!("the events could not be read: {e}"),
    };
    std::fs::write(dir.join("events.txt"), events)?;
    let api = match api_state(stack).await {
        Ok(api) => serde_json::to_string_pretty(&api).unwrap_or_default(),
        Err(e) => format!("not served: {e}"),
    };
    std::fs::write(dir.join("api-state.json"), api)?;
    Ok(())
}

impl Tier for MiniStackTier {
    fn name(&self) -> &'static str {
        TIER
    }

    fn configure(&mut self, setting: Setting) -> TierFuture<'_> {
        ready(if self.stack.is_some() {
            Err(TierError::Scenario(format!(
                "{setting:?} after the stack booted (settings are read at start: put it before \
                 the first When or Then)"
            )))
        } else {
            let (var, value) = setting.env();
            self.settings.insert(var, value);
            Ok(())
        })
    }

    fn set_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        let result = self.steer(node, false, Change::Chain(chain));
        self.checked(result)
    }

    fn set_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_> {
        let result = self.steer(node, false, Change::Reach(reachability));
        self.checked(result)
    }

    fn change_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        let result = self.steer(node, true, Change::Chain(chain));
        self.checked(result)
    }

    fn change_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_> {
        let result = self.steer(node, true, Change::Reach(reachability));
        self.checked(result)
    }

    fn set_p2pool_network_height(&mut self, _height: u64) -> TierFuture<'_> {
        ready(Err(TierError::Unsupported {
            tier: TIER,
            what: "p2pool's network height: the runtime reads no p2pool data API here".into(),
        }))
    }

    fn refuse_docker_calls(&mut self, _count: u32) -> TierFuture<'_> {
        ready(Err(TierError::Unsupported {
            tier: TIER,
            what: "a docker engine that refuses calls: this tier's engine is real".into(),
        }))
    }

    fn release_miners(&mut self) -> TierFuture<'_> {
        let budget = BOOT_BUDGET;
        let result = self
            .wait_until(&Condition::MinersReleased, budget)
            .and_then(|()| self.wait_until(&Condition::WorkersAccepted, budget));
        if result.is_ok() {
            self.released_at = Some(now());
        }
        self.checked(result)
    }

    fn restart_runtime(&mut self) -> TierFuture<'_> {
        let result = self.booted().map(|_| ()).and_then(|()| {
            let stack = self.stack()?;
            self.rt.block_on(async {
                stack
                    .restart(Service::Runtime, Duration::from_secs(10))
                    .await?;
                first_cycle(stack, "the restart").await
            })
        });
        self.checked(result)
    }

    fn advance(&mut self, span: Duration) -> TierFuture<'_> {
        let result = self.booted().map(|_| ());
        if result.is_ok() {
            // A deliberate passage of (scaled) time: the scenario says "N seconds pass".
            let real = self.scaled(span);
            self.run.add_to_floor(real);
            self.rt.block_on(async { tokio::time::sleep(real).await });
        }
        self.checked(result)
    }

    fn expect(&mut self, condition: Condition) -> TierFuture<'_> {
        let result = if condition.is_absence() {
            self.hold_for(&condition, Self::one_cycle())
        } else {
            self.wait_until(&condition, Self::one_cycle())
        };
        self.checked(result)
    }

    fn expect_for(&mut self, condition: Condition, span: Duration) -> TierFuture<'_> {
        let real = self.scaled(span);
        self.run.add_to_floor(real);
        let result = self.hold_for(&condition, real);
        self.checked(result)
    }

    fn expect_started_once(&mut self, container: &str) -> TierFuture<'_> {
        let result = self.booted().map(|_| ()).and_then(|()| {
            let since = self.booted_at.unwrap_or(SystemTime::UNIX_EPOCH);
            let name = format!("{}-{container}", self.prefix);
            let starts: Vec<String> = self
                .gate_events(since, "start")?
                .into_iter()
                .filter(|e| e.contains(&format!(" {name} ")))
                .collect();
            if starts.len() == 1 {
                Ok(())
            } else {
                Err(TierError::Check(format!(
                    "{container} was started {} times since boot, expected exactly once; the \
                     engine's start events: {starts:?}",
                    starts.len()
                )))
            }
        });
        self.checked(result)
    }

    fn xvb_given(&mut self, fact: XvbFact) -> TierFuture<'_> {
        ready(Err(xvb_unsupported(format!("{fact:?}"))))
    }

    fn xvb_when(&mut self, event: XvbEvent) -> TierFuture<'_> {
        ready(Err(xvb_unsupported(format!("{event:?}"))))
    }

    fn xvb_expect(&mut self, outcome: XvbOutcome) -> TierFuture<'_> {
        ready(Err(xvb_unsupported(format!("{outcome:?}"))))
    }

    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_> {
        let result = match self.released_at {
            None => Err(TierError::Check(
                "no release to count from: this scenario never saw the miners released".into(),
            )),
            Some(since) => self.gate_events(since, "stop").and_then(|stops| {
                if stops.is_empty() {
                    Ok(())
                } else {
                    Err(TierError::Check(format!(
                        "the engine stopped gate containers after the release: {stops:?}"
                    )))
                }
            }),
        };
        self.checked(result)
    }

    fn start_by_hand(&mut self, container: &str) -> TierFuture<'_> {
        let service = match container {
            P2POOL => Service::P2pool,
            XMRIG_PROXY => Service::XmrigProxy,
            other => {
                return ready(Err(TierError::Unsupported {
                    tier: TIER,
                    what: format!("starting {other:?} by hand: not a container of this stack"),
                }))
            }
        };
        let result = self.booted().map(|_| ()).and_then(|()| {
            let stack = self.stack()?;
            self.rt.block_on(stack.start_again(service))?;
            if self.rt.block_on(stack.running(service))? {
                Ok(())
            } else {
                Err(TierError::Check(format!(
                    "{container} does not run after `docker start`"
                )))
            }
        });
        self.checked(result)
    }
}

/// Section E on the mini-stack needs fake XvB and xmrig-proxy images steered per scenario and
/// an engine cycle of minutes; the simulation proves it in virtual time instead.
fn xvb_unsupported(what: String) -> TierError {
    TierError::Unsupported {
        tier: TIER,
        what: format!(
            "the XvB engine ({what}): the mini-stack has no steerable XvB site and its 600 s \
             cycle would take real minutes; section E runs on the simulation"
        ),
    }
}
