//! The tier driver: the one trait every step calls.
//!
//! A step parses the operator's words into the small vocabulary below and calls one method of
//! [`Tier`]. Waiting lives here, never in a step: on the simulation a wait is virtual time, on a
//! container or live tier it is bounded real time. So a scenario is the same text on every tier,
//! and a new tier is one more `impl Tier`.
//!
//! Architecture invariant: nothing in this module knows which tier runs; [`Condition::check`] is a
//! pure function of an [`Observed`] snapshot, so every tier judges a condition the same way.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use serde_json::Value;

/// The future every driver method returns: `Ok` when the step holds, `Err` with what was seen.
pub type TierFuture<'a> = LocalBoxFuture<'a, Result<(), TierError>>;

/// A node whose state a scenario steers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    /// The Monero daemon.
    Monerod,
    /// The Tari base node.
    Tari,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Node::Monerod => "monerod",
            Node::Tari => "Tari",
        })
    }
}

/// What a node's chain is doing (independent of whether the node answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// Downloading blocks: `height` of `target`.
    Syncing {
        /// The node's own height.
        height: u64,
        /// The network height it syncs towards.
        target: u64,
    },
    /// Caught up (at the target it was syncing towards, or the tier's default height).
    Synced,
    /// Fell behind its tip and syncs again; the tier picks the heights.
    Resyncing,
    /// Tari only: answering, but still starting up.
    Starting,
    /// Tari only: answering, but migrating its database.
    Migrating,
}

/// Whether a node answers health probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability {
    /// Answers with its chain state.
    Up,
    /// Does not answer (stopped, crashed, cut off).
    Down,
    /// monerod only: answers `status: "BUSY"`, which counts as no reading.
    Busy,
}

/// A runtime setting a scenario chooses before the stack boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `TARI_REQUIRED`.
    TariRequired(bool),
    /// `UPDATE_INTERVAL`.
    UpdateInterval(Duration),
    /// `NODE_DOWN_AFTER_SEC`.
    NodeDownAfter(Duration),
    /// `NODE_RECOVERY_AFTER_SEC`.
    NodeRecoveryAfter(Duration),
}

impl Setting {
    /// The environment variable and value the runtime reads for this setting.
    pub fn env(&self) -> (&'static str, String) {
        match self {
            Setting::TariRequired(required) => ("TARI_REQUIRED", required.to_string()),
            Setting::UpdateInterval(d) => ("UPDATE_INTERVAL", d.as_secs().to_string()),
            Setting::NodeDownAfter(d) => ("NODE_DOWN_AFTER_SEC", d.as_secs().to_string()),
            Setting::NodeRecoveryAfter(d) => ("NODE_RECOVERY_AFTER_SEC", d.as_secs().to_string()),
        }
    }
}

/// p2pool's container name (`SYNC_GATE_CONTAINERS` default).
pub const P2POOL: &str = "p2pool";
/// xmrig-proxy's container name (`SYNC_GATE_CONTAINERS` and `REJECT_WORKERS_CONTAINER` default).
pub const XMRIG_PROXY: &str = "xmrig-proxy";

/// A fact about the XvB engine's world a section-E `Given` step sets (before the decision).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XvbFact {
    /// The engine is enabled over a fleet that sustains VIP with room to spare.
    SustainableVip,
    /// `XVB_ENABLED=false`.
    Disabled,
    /// No own P2Pool share inside the PPLNS window.
    NoShare,
    /// XvB reports this fail counter for the donor.
    FailCount(u64),
    /// The stable hashrate reaches no tier.
    NoTierReachable,
    /// p2pool's side chain (`main`, `mini`, `nano`) and PPLNS window in blocks.
    SideChain(&'static str, u64),
    /// The last own share is this many seconds old.
    LastShareAge(u64),
    /// A VIP target with XvB's 1 h average and the current hashrate, H/s.
    VipAt {
        /// XvB's 1 h average.
        avg_1h_hs: f64,
        /// The fleet's current hashrate.
        current_hs: f64,
    },
    /// XvB's 1 h average has been falling.
    Falling,
    /// The fraction the engine last commanded (persisted), or `None`: nothing persisted.
    Persisted(Option<f64>),
    /// A standby fraction exists.
    Standby,
    /// The reserve P2Pool needs, H/s.
    Reserve(f64),
    /// The fleet's current (and stable) hashrate, H/s.
    Current(f64),
    /// A raffle round was won this many seconds ago.
    RaffleWon(u64),
    /// XvB's 1 h average is above the reference.
    AboveReference,
    /// The last fresh XvB read is this many seconds old.
    StatsAge(u64),
    /// The fraction a cycle is planned for.
    Fraction(f64),
    /// `XVB_DONATION_LEVEL` (`auto` or a tier).
    Level(&'static str),
    /// The 15-minute stable hashrate, H/s.
    Stable(f64),
    /// The engine is inside the XvB slice of a SPLIT cycle.
    InsideXvbSlice,
    /// The whole runtime runs the engine, and xmrig-proxy's config lists both pools.
    ProxyPools,
}

/// What happens to the XvB engine in a section-E `When` step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XvbEvent {
    /// One cycle is decided (the first one after the facts).
    Decide,
    /// A cycle closes: the loop steps once on the facts.
    CloseCycle,
    /// The loop asks for more than the cap.
    AskAboveCap,
    /// The cycle is planned for the fact's fraction.
    Plan,
    /// A re-read inside the cycle finds this fail counter.
    ReRead {
        /// XvB's fail counter at the re-read.
        fail_count: u64,
    },
    /// The running engine switches xmrig-proxy to XvB.
    SwitchToXvb,
    /// xmrig-proxy refuses the next switch.
    NextSwitchRefused,
}

/// What a section-E `Then` step asserts about the engine's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum XvbOutcome {
    /// The mode (`P2POOL`, `XVB`, `SPLIT`); `whole`: and no XvB slice all cycle.
    Mode {
        /// The mode's name.
        mode: String,
        /// Checked for the whole cycle.
        whole: bool,
    },
    /// The decision names this guard.
    Guard(String),
    /// The no-shares guard fires (or not).
    NoSharesGuard(bool),
    /// The fraction rose by exactly the loop's step.
    RoseByLoopStep,
    /// The fraction fell, and is not below 0.
    Fell,
    /// The fraction did not fall.
    DidNotFall,
    /// The loop steered on the projected average, not the measured one.
    SteeredOnProjection,
    /// The projection lies in `[0.75 × measured, measured]`.
    ProjectionBounded,
    /// The starting fraction: a number, `standby`, or `feed-forward`.
    StartingFraction(String),
    /// The fraction equals this value.
    FractionIs(f64),
    /// The fraction moved as the closed loop says on fresh stats.
    FollowsLoop,
    /// The cycle's plan: `all-p2pool`, `no-short-slice`, `xvb-first`, `whole-to-xvb`.
    Plan(&'static str),
    /// The target tier (`donor`, `vip`, `whale`, `mega`, or `none`).
    Target(String),
    /// The re-read ended the XvB slice early.
    SliceEndedEarly,
    /// The re-read did not advance the loop.
    LoopHeld,
    /// xmrig-proxy's config now has XvB first and enabled, P2Pool kept and disabled.
    XvbFirstInConfig,
    /// xmrig-proxy accepted the PUT (204).
    PutAccepted,
    /// A refused switch left the recorded pool as it was, was counted, and landed on a retry.
    RefusedThenRetried,
}

/// A real box's capability the live matrix checks (section H).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCapability {
    /// Caddy serves the dashboard on the scheme `dashboard.secure` asks for.
    CaddyTls,
    /// Tor published the onion addresses, and `apply` keeps them.
    TorOnions,
    /// The chain database's size fits the configured prune mode.
    PruneDbSize,
    /// The dashboard's HugePages match the host's, and the host's CPU has AVX2.
    HugePagesAvx2,
    /// The dashboard's disk level and badge match the data disk's real usage.
    DiskPressure,
}

/// A fact about a real box a live `Given` step names (the live tier; sections A, D, H).
#[derive(Debug, Clone, PartialEq)]
pub enum LiveFact {
    /// The box's config.json with `path` (dotted) set to `value`; the next
    /// [`LiveAction::Apply`] pushes it.
    Override {
        /// Dotted path into config.json.
        path: String,
        /// The value, typed as JSON.
        value: Value,
    },
    /// The box is synced and mining: §8's readiness waiters pass.
    Ready,
    /// A box the lifecycle starts on from `pithead setup` (its secrets' fingerprints noted).
    FreshBox,
    /// The box's config.json enables the XvB engine.
    XvbEnabled,
    /// XvB's stats endpoint answers (`reachable`) or fails.
    XvbEndpoint {
        /// It answers.
        reachable: bool,
    },
    /// A real miner is connected to xmrig-proxy (on a synced box).
    WorkerConnected,
}

/// What the live matrix does to a real box in a `When` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveAction {
    /// Push the scenario's config.json and run `pithead apply -y`.
    Apply,
    /// `docker stop monerod`.
    StopMonerod,
    /// `docker start monerod`.
    StartMonerod,
    /// SIGSTOP monerod until its health check fails.
    FreezeMonerod,
    /// SIGCONT monerod.
    ResumeMonerod,
    /// Check a host capability.
    Check(HostCapability),
    /// Let the runtime run one whole update cycle.
    EngineCycle,
    /// `pithead setup`, `up`, `status`, `apply -y`, `restart` and `down`, in turn.
    LifecycleSequence,
    /// Read the runtime's `/api/state` (and what the daemons report) once.
    ReadState,
    /// Let the connected worker hash long enough for a share.
    WorkerHashes,
}

/// What a live `Then` step asserts about a real box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveOutcome {
    /// §8's readiness waiters pass.
    StackReady,
    /// A second `pithead apply -y` changes nothing.
    SecondApplyNoop,
    /// `.env` sets `key` to `value`.
    EnvSets {
        /// The key.
        key: String,
        /// The value, as written.
        value: String,
    },
    /// monerod runs under `local_node` and the runtime reads it as the local node.
    MonerodLocal,
    /// No monerod is expected and the runtime talks to `monero.remote.host`.
    MonerodRemote,
    /// The tari container runs under `local_tari`.
    TariLocal,
    /// No tari is expected and the runtime dials the remote node.
    TariRemote,
    /// No tari is expected and Tari never gates the release.
    TariOff,
    /// The Monero RPC port is (or is not) published beyond the box's loopback.
    RpcFromLan {
        /// Whether the LAN reaches it.
        reachable: bool,
    },
    /// The rendered Caddyfile serves https (with Caddy's internal CA) or plain http.
    CaddyfileServes {
        /// https with `tls internal`.
        https: bool,
    },
    /// The dashboard answers over https or plain http.
    DashboardAnswers {
        /// Over https.
        https: bool,
    },
    /// `/api/state` shows the XvB engine on or off.
    XvbEngine {
        /// On.
        on: bool,
    },
    /// A syncing Tari holds the miners (`blocks`) or only shows the passive badge.
    SyncingTari {
        /// Tari blocks the release.
        blocks: bool,
    },
    /// p2pool runs this side chain (`main`, `mini`, `nano`) once the pool is ready.
    P2poolSideChain(String),
    /// `pithead status` exits with this code (waiting for the runtime to act, bounded).
    StatusExits(i32),
    /// `pithead status` prints this line.
    StatusPrints(String),
    /// `pithead status` reports the service with this verdict word (`exited`, `missing`).
    ReportedAs {
        /// The service.
        service: String,
        /// The verdict word.
        verdict: String,
    },
    /// The proof of a host capability holds.
    Capability(HostCapability),
    /// Every step of the lifecycle sequence succeeded, and `pithead status` exited 0 while the
    /// stack was up.
    SequenceSucceeded,
    /// The generated secrets' fingerprints are the ones noted at the start.
    FingerprintsKept,
    /// The engine read fresh 1-hour and 24-hour averages from XvB (`stale`: it holds the
    /// fraction and the dashboard says the stats are stale).
    XvbStats {
        /// Stale rather than fresh.
        stale: bool,
    },
    /// monerod is handed `MONERO_PRUNE` on (`enabled`) or off, and runs that way.
    MonerodPruning {
        /// Pruning on.
        enabled: bool,
    },
    /// `/api/state`'s `monero.db_size` is in the pruned (or full) range ([`db_size_fits`]).
    DbSizeInRange {
        /// The pruned range.
        pruned: bool,
    },
    /// `/api/state` reports `monero.mode` as `mode` and shows the badge `XMR <mode>`.
    MoneroMode(String),
    /// `/api/state`'s sync block, Monero mode, workers and badges match what the daemons
    /// report.
    StateMatchesDaemons,
    /// p2pool recorded a share found.
    ShareFound,
    /// `/api/state` shows a worker online with a non-zero hashrate.
    WorkerHashrate,
}

/// The most a synced pruned chain's database holds, in the dashboard's GB: a pruned mainnet
/// node is about a third of a full one (~95 GB against ~250 GB in 2026), so this parts them
/// with room on both sides.
pub const PRUNED_DB_MAX_GB: f64 = 150.0;

/// Whether the dashboard's `monero.db_size` (`"85.0 GB"`) is in the pruned (or full) range;
/// the error says what was seen.
pub fn db_size_fits(db_size: &str, pruned: bool) -> Result<(), String> {
    let gb = db_size
        .strip_suffix(" GB")
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("monero.db_size is {db_size:?}, not a size in GB"))?;
    let mode = if pruned { "pruned" } else { "full" };
    if (gb <= PRUNED_DB_MAX_GB) == pruned {
        Ok(())
    } else {
        Err(format!(
            "the chain database is {db_size} on a {mode} node (the parting line is \
             {PRUNED_DB_MAX_GB} GB)"
        ))
    }
}

/// A container's state as a section-D step names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Running, health check passing.
    Healthy,
    /// Running, no health check.
    NoCheck,
    /// Running, health check not passed yet.
    Starting,
    /// Running, health check failing.
    Unhealthy,
    /// Restarting (a crash loop).
    Restarting,
    /// Exited.
    Exited,
    /// No such container.
    Missing,
}

/// A section-G config.json problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigProblem {
    /// `monero.mode` set to "cloud".
    MoneroModeCloud,
    /// `p2pool.pool` set to "huge".
    PoolHuge,
    /// Remote mode without `monero.remote.host`.
    RemoteWithoutHost,
    /// No wallet addresses.
    NoWallets,
    /// A Monero subaddress (starts with 8).
    Subaddress,
    /// A newline inside `p2pool.pool`.
    ControlCharacter,
}

/// A fact a section-D/G `Given` step sets about the stack `pithead` drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliFact {
    /// Every expected service runs and is healthy.
    AllHealthy,
    /// A local-node box whose services all run healthy, miners released.
    HealthyLocalNode,
    /// A container is in this state.
    Container {
        /// The service.
        service: String,
        /// Its state.
        state: ContainerState,
    },
    /// The sync hold is on (a chain is syncing).
    SyncHold,
    /// monerod is down and the runtime rejected workers.
    NodeDownRejected,
    /// `COMPOSE_PROFILES` leaves this profile out.
    ProfileOff(String),
    /// The stack's config.json has this problem.
    BadConfig(ConfigProblem),
    /// A config.json applied once (a first `pithead setup` + apply).
    Applied,
    /// An apply whose `docker compose up` fails.
    FailingRecreate,
    /// The live matrix runs with `--safety-backup`.
    SafetyBackup,
}

/// What the operator runs in a section-D/G `When` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliAction {
    /// `pithead status`.
    Status,
    /// `docker stop` (`removed`: `docker rm`) of a node's container.
    NodeContainer {
        /// The service.
        service: String,
        /// Removed rather than stopped.
        removed: bool,
    },
    /// `pithead apply` (`-y` when `yes`), the config as it is.
    Apply {
        /// `-y`.
        yes: bool,
    },
    /// Change a config.json key, then `pithead apply` (without `-y`, no terminal answer).
    ChangeAndApply(String),
    /// Change `p2pool.pool`, then `pithead apply -y` twice.
    ChangePoolApplyTwice,
    /// Point the Monero node (`monero: true`) or the Tari node elsewhere, `pithead apply -y`.
    PointNodeElsewhere {
        /// Monero rather than Tari.
        monero: bool,
    },
    /// `pithead backup -y --no-encrypt`.
    Backup,
    /// Change the pool, apply, then `pithead restore -y ARCHIVE`.
    ChangePoolAndRestore,
    /// A destructive live scenario fails.
    DestructiveRunFails,
    /// `pithead <command>` (`reset-dashboard`, `doctor`, `version`).
    Command(String),
    /// `pithead upgrade`.
    Upgrade,
}

/// What a section-D/G `Then` step asserts about what `pithead` printed or left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliOutcome {
    /// A `✓ <name> running` line for each expected service.
    EachRunning,
    /// A line of the output is exactly this (trimmed).
    Prints(String),
    /// The service's row counts (or not) toward "need attention".
    Attention {
        /// The service.
        service: String,
        /// It needs attention.
        needs: bool,
    },
    /// The service has no row.
    NotExpected(String),
    /// The exit code.
    Exits(i32),
    /// The service's verdict word (`exited`, `missing`, `running`).
    ReportedAs {
        /// The service.
        service: String,
        /// The verdict word.
        verdict: String,
    },
    /// The command refused with exactly this message.
    RefusedWith(String),
    /// It refused saying p2pool cannot pay subaddresses.
    RefusedSubaddress,
    /// It refused naming the key with the control character.
    RefusedNamingKey,
    /// Nothing was written into the stack directory.
    NothingWritten,
    /// The secrets are the first setup's.
    SecretsUnchanged,
    /// The node RPC password is 32 alphanumerics.
    RpcPassword32,
    /// `.env` has mode 600.
    EnvMode600,
    /// No container was recreated.
    NothingRecreated,
    /// The change was applied without a question.
    AppliedWithoutQuestion,
    /// It asked "Proceed with applying these changes? (y/N):" (and applies with `-y`).
    AskedUnlessYes,
    /// It warned that the chain re-syncs from scratch, before asking.
    WarnedResync,
    /// The `apply-incomplete` marker made the apply retry the recreate.
    RetriedRecreate,
    /// The marker is gone after a recreate that succeeded.
    MarkerRemoved,
    /// The runtime re-armed the whole gate (`monero`) or the Tari part.
    Rearmed {
        /// The whole gate rather than Tari's part.
        monero: bool,
    },
    /// The miners are held again until the node is synced.
    HeldUntilSynced,
    /// The archive lists config.json and .env.
    ArchiveLists,
    /// config.json is byte-identical to the backed-up one.
    ConfigIdentical,
    /// The secrets' fingerprints are equal.
    FingerprintsEqual,
    /// The box was taken down, restored and brought up again.
    RolledBack,
    /// The named command's outcome held (`reset-dashboard`, `doctor`, `version`).
    CommandWorked(String),
    /// `pithead upgrade` reported each service's image (new or the same) and the stack came
    /// back healthy.
    Upgraded,
}

/// A state of the box a `Then` step asserts, now or over a span.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The gate holds the miners: `/api/state` says held and not released, and both gate
    /// containers are stopped.
    MinersHeld,
    /// The latch is released: `/api/state` says released and not held, and p2pool runs.
    MinersReleased,
    /// The named container runs.
    Running(String),
    /// The named container does not run.
    Stopped(String),
    /// The failover rejects workers: `/api/state` says so and xmrig-proxy is stopped.
    WorkersRejected,
    /// Workers are accepted: `/api/state` says not rejected and xmrig-proxy runs.
    WorkersAccepted,
    /// A badge with exactly this text is (`shown`) or is not (`!shown`) in `/api/state`.
    Badge {
        /// The badge's text.
        text: String,
        /// Whether it must be there.
        shown: bool,
    },
    /// `/api/state` holds `value` at the dotted `path` (numbers compare by value: `40` = `40.0`).
    Api {
        /// Dotted path, e.g. `sync.monero.state`.
        path: String,
        /// Expected JSON value.
        value: Value,
    },
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::MinersHeld => f.write_str("the miners are held"),
            Condition::MinersReleased => f.write_str("the miners are released"),
            Condition::Running(name) => write!(f, "{name} is running"),
            Condition::Stopped(name) => write!(f, "{name} is stopped"),
            Condition::WorkersRejected => f.write_str("workers are rejected"),
            Condition::WorkersAccepted => f.write_str("workers are accepted"),
            Condition::Badge { text, shown: true } => write!(f, "the badge {text:?} is shown"),
            Condition::Badge { text, shown: false } => {
                write!(f, "the badge {text:?} is not shown")
            }
            Condition::Api { path, value } => write!(f, "the api reports {path} as {value}"),
        }
    }
}

/// What a tier sees at one instant: the `/api/state` document and which containers run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `/api/state` as JSON.
    pub api: Value,
    /// Container name → running.
    pub running: BTreeMap<String, bool>,
}

impl Observed {
    fn flag(&self, key: &str) -> Option<bool> {
        self.api.get(key).and_then(Value::as_bool)
    }

    fn is_running(&self, name: &str) -> bool {
        self.running.get(name).copied().unwrap_or(false)
    }

    fn badges(&self) -> Vec<&str> {
        self.api
            .get("badges")
            .and_then(Value::as_array)
            .map(|badges| {
                badges
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A one-line summary for failure messages: the flags, the badges, the containers.
    pub fn summary(&self) -> String {
        let flag = |key: &str| match self.flag(key) {
            Some(v) => v.to_string(),
            None => "absent".to_owned(),
        };
        let running: Vec<String> = self
            .running
            .iter()
            .map(|(name, up)| format!("{name} {}", if *up { "running" } else { "stopped" }))
            .collect();
        format!(
            "miner_held={} miner_released={} workers_rejected={} syncing={}; badges {:?}; containers: {}",
            flag("miner_held"),
            flag("miner_released"),
            flag("workers_rejected"),
            flag("syncing"),
            self.badges(),
            running.join(", "),
        )
    }
}

impl Condition {
    /// Whether the condition says something is absent (a badge not shown). An absence holds
    /// trivially before the runtime has acted on a change, so a tier never checks it at one
    /// instant: see [`Tier::expect`].
    pub fn is_absence(&self) -> bool {
        matches!(self, Condition::Badge { shown: false, .. })
    }

    /// `Ok` when the condition holds in `seen`, else what was seen instead (for the message).
    pub fn check(&self, seen: &Observed) -> Result<(), String> {
        let ok = match self {
            Condition::MinersHeld => {
                seen.flag("miner_held") == Some(true)
                    && seen.flag("miner_released") == Some(false)
                    && !seen.is_running(P2POOL)
                    && !seen.is_running(XMRIG_PROXY)
            }
            Condition::MinersReleased => {
                seen.flag("miner_released") == Some(true)
                    && seen.flag("miner_held") == Some(false)
                    && seen.is_running(P2POOL)
            }
            Condition::Running(name) => seen.is_running(name),
            Condition::Stopped(name) => !seen.is_running(name),
            Condition::WorkersRejected => {
                seen.flag("workers_rejected") == Some(true) && !seen.is_running(XMRIG_PROXY)
            }
            Condition::WorkersAccepted => {
                seen.flag("workers_rejected") == Some(false) && seen.is_running(XMRIG_PROXY)
            }
            Condition::Badge { text, shown } => seen.badges().contains(&text.as_str()) == *shown,
            Condition::Api { path, value } => {
                return match lookup(&seen.api, path) {
                    Some(found) if json_equal(found, value) => Ok(()),
                    Some(found) => Err(format!("/api/state has {path} = {found}")),
                    None => Err(format!("/api/state has no field {path}")),
                };
            }
        };
        if ok {
            Ok(())
        } else {
            Err(seen.summary())
        }
    }
}

/// The value at a dotted `path` (`sync.monero.state`, `badges.0.text`) of `doc`.
pub fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// JSON equality where numbers compare by value (`40` equals `40.0`).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// A scenario's bare value word as JSON: `true`, `40`, `null` parse as JSON; anything else
/// (`done`, `syncing`) is a string.
pub fn bare_value(word: &str) -> Value {
    let word = word.trim();
    serde_json::from_str(word).unwrap_or_else(|_| Value::String(word.to_owned()))
}

/// Why a step did not hold. The message says what was expected, what was seen and when
/// (elapsed time is virtual on the simulation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// A wait ran out before the condition held.
    #[error("timed out after {waited:?} (at t={at:?}) waiting until {what}; last seen: {seen}")]
    Timeout {
        /// The awaited condition, in the catalog's words.
        what: String,
        /// How long the step waited.
        waited: Duration,
        /// The tier's clock when it gave up.
        at: Duration,
        /// The last observation.
        seen: String,
    },
    /// A condition that had to hold for a span stopped holding.
    #[error("{what} stopped holding at t={at:?}, {into:?} into the {span:?} span; seen: {seen}")]
    Broken {
        /// The condition, in the catalog's words.
        what: String,
        /// The tier's clock at the violation.
        at: Duration,
        /// How far into the span.
        into: Duration,
        /// The span it had to hold for.
        span: Duration,
        /// What was seen instead.
        seen: String,
    },
    /// A check of the record (docker calls, the served JSON) failed.
    #[error("{0}")]
    Check(String),
    /// The scenario asks for something no tier can do, e.g. a setting after boot: an authoring
    /// error, so it fails (unlike [`TierError::Unsupported`], which skips).
    #[error("the scenario cannot be run as written: {0}")]
    Scenario(String),
    /// The step cannot run on this tier (a real engine cannot be told to refuse calls): the
    /// runner reports the scenario as skipped with this reason, never as passed.
    #[error("unsupported on the {tier} tier: {what}")]
    Unsupported {
        /// The tier's name.
        tier: &'static str,
        /// What was asked.
        what: String,
    },
    /// A failure with the tier's evidence attached (e.g. the tail of the simulation's trace).
    #[error("{error}\n{evidence}")]
    WithEvidence {
        /// The failure.
        error: Box<TierError>,
        /// What the tier recorded around it.
        evidence: String,
    },
    /// The tier itself failed (the simulation broke an invariant, a fake refused a command).
    #[error("{tier} tier failure: {message}")]
    Tier {
        /// The tier's name.
        tier: &'static str,
        /// The failure, as the tier reported it.
        message: String,
    },
}

impl TierError {
    /// The words every [`TierError::Unsupported`] message starts with: the runner finds them in
    /// a failed step's message and reports the scenario as skipped with the reason, not failed.
    pub const UNSUPPORTED: &'static str = "unsupported on the ";

    /// The reason of an unsupported step, when `message` (a failed step's, as cucumber reports
    /// it) carries one.
    pub fn unsupported_reason(message: &str) -> Option<&str> {
        message
            .find(Self::UNSUPPORTED)
            .map(|at| message[at..].trim_end())
    }
}

/// One tier of the catalog: a world the steps steer and observe.
///
/// `Given` methods called before the first `When`/`Then` configure the world it will boot;
/// called after, they apply to the running world (e.g. the docker engine refusing calls later).
/// Every method returns a future so a real-time tier can await I/O; the simulation answers at
/// once (its time is virtual).
pub trait Tier {
    /// The tier's name, for messages (`sim`, `mini-stack`, `live`).
    fn name(&self) -> &'static str;

    /// Given: a runtime setting (before boot only).
    fn configure(&mut self, setting: Setting) -> TierFuture<'_>;

    /// Given: what a node's chain is doing when the stack boots (on a running stack: now).
    fn set_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_>;

    /// Given: whether a node answers when the stack boots (on a running stack: now). `Down`
    /// before boot means the node never answered.
    fn set_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_>;

    /// When: a node's chain changes on the running stack (booting it first if needed, so the
    /// runtime sees the state before the change).
    fn change_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_>;

    /// When: a node stops or starts answering on the running stack (booting it first if needed).
    fn change_reachability(&mut self, node: Node, reachability: Reachability) -> TierFuture<'_>;

    /// Given: the network height p2pool's data API reports.
    fn set_p2pool_network_height(&mut self, height: u64) -> TierFuture<'_>;

    /// Given: the docker engine refuses the next `count` calls.
    fn refuse_docker_calls(&mut self, count: u32) -> TierFuture<'_>;

    /// Given: boot with both chains synced (unless a scenario set them) and wait until the
    /// miners are released; later checks of "after the release" count from here.
    fn release_miners(&mut self) -> TierFuture<'_>;

    /// When: the runtime process restarts (its snapshot survives).
    fn restart_runtime(&mut self) -> TierFuture<'_>;

    /// When: let `span` of time pass.
    fn advance(&mut self, span: Duration) -> TierFuture<'_>;

    /// Then: `condition` holds within one update cycle (the runtime acts on its next cycle).
    ///
    /// An absence ([`Condition::is_absence`]) instead holds at every instant of one whole
    /// update cycle plus the longest a cycle may take (the window a "stays" step checks), so
    /// it cannot pass by being checked before the runtime acted on what it can see.
    fn expect(&mut self, condition: Condition) -> TierFuture<'_>;

    /// Then: `condition` holds at every instant of the next `span`.
    fn expect_for(&mut self, condition: Condition, span: Duration) -> TierFuture<'_>;

    /// Then: the named container was started exactly once since boot (calls that changed it
    /// from stopped to running).
    fn expect_started_once(&mut self, container: &str) -> TierFuture<'_>;

    /// Then: no stop call reached the docker engine since the miners were released.
    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_>;

    /// When: someone starts the named container by hand (`docker start`, not the runtime).
    fn start_by_hand(&mut self, container: &str) -> TierFuture<'_>;

    /// Given: a fact of the XvB engine's world (section E). A tier without the engine's
    /// world says so (the default).
    fn xvb_given(&mut self, fact: XvbFact) -> TierFuture<'_> {
        xvb_unsupported(self.name(), format!("{fact:?}"))
    }

    /// When: something happens to the XvB engine (section E).
    fn xvb_when(&mut self, event: XvbEvent) -> TierFuture<'_> {
        xvb_unsupported(self.name(), format!("{event:?}"))
    }

    /// Then: the XvB engine's decision shows `outcome` (section E).
    fn xvb_expect(&mut self, outcome: XvbOutcome) -> TierFuture<'_> {
        xvb_unsupported(self.name(), format!("{outcome:?}"))
    }

    /// Given: a fact of the dashboard's world (section F: the host, workers, history). A tier
    /// without a driver for it says so (the default).
    fn dashboard_given(&mut self, fact: crate::dashboard::DashboardFact) -> TierFuture<'_> {
        dashboard_unsupported(self.name(), format!("{fact:?}"))
    }

    /// When: something happens to the dashboard (section F).
    fn dashboard_when(&mut self, event: crate::dashboard::DashboardEvent) -> TierFuture<'_> {
        dashboard_unsupported(self.name(), format!("{event:?}"))
    }

    /// Then: the dashboard shows `outcome` (section F).
    fn dashboard_expect(&mut self, outcome: crate::dashboard::DashboardOutcome) -> TierFuture<'_> {
        dashboard_unsupported(self.name(), format!("{outcome:?}"))
    }

    /// Given: the alert sinks (sections C and F). A tier without a driver for them says so.
    fn alerts_given(&mut self, fact: crate::alerts::AlertFact) -> TierFuture<'_> {
        alerts_unsupported(self.name(), format!("{fact:?}"))
    }

    /// When: something happens to an alert sink.
    fn alerts_when(&mut self, event: crate::alerts::AlertEvent) -> TierFuture<'_> {
        alerts_unsupported(self.name(), format!("{event:?}"))
    }

    /// Then: what reached the sinks, what the runtime counted, what never leaked.
    fn alerts_expect(&mut self, outcome: crate::alerts::AlertOutcome) -> TierFuture<'_> {
        alerts_unsupported(self.name(), format!("{outcome:?}"))
    }

    /// Given: a fact about a real box (the live tier). Other tiers have no real box.
    fn live_given(&mut self, fact: LiveFact) -> TierFuture<'_> {
        live_unsupported(self.name(), format!("{fact:?}"))
    }

    /// When: the live matrix acts on a real box.
    fn live_when(&mut self, action: LiveAction) -> TierFuture<'_> {
        live_unsupported(self.name(), format!("{action:?}"))
    }

    /// Then: a real box shows `outcome`.
    fn live_expect(&mut self, outcome: LiveOutcome) -> TierFuture<'_> {
        live_unsupported(self.name(), format!("{outcome:?}"))
    }

    /// Given: a fact about the stack `pithead` drives (sections D and G).
    fn cli_given(&mut self, fact: CliFact) -> TierFuture<'_> {
        cli_unsupported(self.name(), format!("{fact:?}"))
    }

    /// When: the operator runs `pithead` (sections D and G).
    fn cli_when(&mut self, action: CliAction) -> TierFuture<'_> {
        cli_unsupported(self.name(), format!("{action:?}"))
    }

    /// Then: what `pithead` printed or left behind. A tier without the CLI's world hands the
    /// outcomes a real box also proves to [`Tier::live_expect`].
    fn cli_expect(&mut self, outcome: CliOutcome) -> TierFuture<'_> {
        match outcome {
            CliOutcome::Exits(code) => self.live_expect(LiveOutcome::StatusExits(code)),
            CliOutcome::ReportedAs { service, verdict } => {
                self.live_expect(LiveOutcome::ReportedAs { service, verdict })
            }
            CliOutcome::Prints(line) => self.live_expect(LiveOutcome::StatusPrints(line)),
            other => cli_unsupported(self.name(), format!("{other:?}")),
        }
    }

    /// The tier's record of the scenario so far (the simulation's trace), for people reading a
    /// run; `None` when the tier keeps none or nothing ran yet.
    fn record(&self) -> Option<String> {
        None
    }
}

/// The step of a real box on a tier without one (by design).
pub(crate) fn live_unsupported<'a>(tier: &'static str, what: String) -> TierFuture<'a> {
    let error = TierError::Unsupported {
        tier,
        what: format!(
            "{} a real box ({what}) is the live tier's",
            SkipClass::ByDesign.tag()
        ),
    };
    Box::pin(async move { Err(error) })
}

/// Why a step does not run on a tier, in the three classes a live run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipClass {
    /// An input (a flag, a credential, a capability of the box) would have run it.
    Missing,
    /// It does not apply to this tier or box.
    ByDesign,
    /// Another tier already proves it.
    Covered,
}

impl fmt::Display for SkipClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipClass::Missing => "missing",
            SkipClass::ByDesign => "by-design",
            SkipClass::Covered => "covered",
        })
    }
}

impl SkipClass {
    /// The tag an [`TierError::Unsupported`] reason starts with (`[missing]`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            SkipClass::Missing => "[missing]",
            SkipClass::ByDesign => "[by-design]",
            SkipClass::Covered => "[covered]",
        }
    }

    /// The class an unsupported reason names (by-design when it names none).
    pub fn of_reason(reason: &str) -> SkipClass {
        [SkipClass::Missing, SkipClass::Covered]
            .into_iter()
            .find(|class| reason.contains(class.tag()))
            .unwrap_or(SkipClass::ByDesign)
    }
}

fn cli_unsupported<'a>(tier: &'static str, what: String) -> TierFuture<'a> {
    let error = TierError::Unsupported {
        tier,
        what: format!("pithead's stack ({what}) has no driver on this tier"),
    };
    Box::pin(async move { Err(error) })
}

fn alerts_unsupported<'a>(tier: &'static str, what: String) -> TierFuture<'a> {
    let error = TierError::Unsupported {
        tier,
        what: format!("the alert sinks ({what}) have no driver on this tier"),
    };
    Box::pin(async move { Err(error) })
}

fn dashboard_unsupported<'a>(tier: &'static str, what: String) -> TierFuture<'a> {
    let error = TierError::Unsupported {
        tier,
        what: format!("the dashboard's world ({what}) has no driver on this tier"),
    };
    Box::pin(async move { Err(error) })
}

fn xvb_unsupported<'a>(tier: &'static str, what: String) -> TierFuture<'a> {
    let error = TierError::Unsupported {
        tier,
        what: format!("the XvB engine ({what}) has no driver on this tier"),
    };
    Box::pin(async move { Err(error) })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_db_size_fits_its_prune_mode_only() {
        for (size, pruned, fits) in [
            ("85.0 GB", true, true),
            ("150.0 GB", true, true),
            ("150.1 GB", true, false),
            ("230.0 GB", false, true),
            ("85.0 GB", false, false),
        ] {
            assert_eq!(
                db_size_fits(size, pruned).is_ok(),
                fits,
                "{size} pruned {pruned}"
            );
        }
        for shown in ["—", "85 GiB", ""] {
            let err = db_size_fits(shown, true).unwrap_err();
            assert!(err.contains("not a size"), "{err}");
        }
    }

    fn observed(api: Value, running: &[(&str, bool)]) -> Observed {
        Observed {
            api,
            running: running
                .iter()
                .map(|(name, up)| ((*name).to_owned(), *up))
                .collect(),
        }
    }

    #[test]
    fn an_unsupported_step_is_recognised_in_a_step_failure_message() {
        let err = TierError::Unsupported {
            tier: "mini-stack",
            what: "a docker engine that refuses calls".into(),
        };
        let message = format!("Step panicked. Captured output: {err}");
        assert_eq!(
            TierError::unsupported_reason(&message),
            Some("unsupported on the mini-stack tier: a docker engine that refuses calls")
        );
        let failed = TierError::Check("p2pool was started 2 times".into());
        assert_eq!(TierError::unsupported_reason(&failed.to_string()), None);
    }

    #[test]
    fn an_unsupported_reason_carries_its_skip_class() {
        for class in [SkipClass::Missing, SkipClass::ByDesign, SkipClass::Covered] {
            let reason = format!("unsupported on the live tier: {} why", class.tag());
            assert_eq!(SkipClass::of_reason(&reason), class);
        }
        assert_eq!(SkipClass::of_reason("no class at all"), SkipClass::ByDesign);
    }

    #[test]
    fn bare_values_parse_as_json_or_strings() {
        assert_eq!(bare_value("true"), json!(true));
        assert_eq!(bare_value("40"), json!(40));
        assert_eq!(bare_value("done"), json!("done"));
        assert_eq!(bare_value(" syncing "), json!("syncing"));
    }

    #[test]
    fn api_condition_follows_dotted_paths_and_compares_numbers_by_value() {
        let seen = observed(json!({"sync": {"monero": {"percent": 40.0}}}), &[]);
        let at = |path: &str, value| Condition::Api {
            path: path.to_owned(),
            value,
        };
        assert_eq!(at("sync.monero.percent", json!(40)).check(&seen), Ok(()));
        let err = at("sync.monero.percent", json!(41))
            .check(&seen)
            .unwrap_err();
        assert!(err.contains("40"), "{err}");
        let err = at("sync.tari.percent", json!(1)).check(&seen).unwrap_err();
        assert!(err.contains("no field sync.tari.percent"), "{err}");
    }

    #[test]
    fn held_needs_the_flags_and_both_gate_containers_stopped() {
        let api = json!({"miner_held": true, "miner_released": false, "badges": []});
        let held = observed(api.clone(), &[(P2POOL, false), (XMRIG_PROXY, false)]);
        assert_eq!(Condition::MinersHeld.check(&held), Ok(()));
        let leaking = observed(api, &[(P2POOL, false), (XMRIG_PROXY, true)]);
        let err = Condition::MinersHeld.check(&leaking).unwrap_err();
        assert!(err.contains("xmrig-proxy running"), "{err}");
        assert!(Condition::MinersReleased.check(&held).is_err());
    }

    #[test]
    fn workers_and_badges_read_the_state() {
        let api = json!({"workers_rejected": true, "badges": [{"text": "Workers rejected"}]});
        let seen = observed(api, &[(XMRIG_PROXY, false)]);
        assert_eq!(Condition::WorkersRejected.check(&seen), Ok(()));
        assert!(Condition::WorkersAccepted.check(&seen).is_err());
        let badge = |text: &str, shown| Condition::Badge {
            text: text.to_owned(),
            shown,
        };
        assert_eq!(badge("Workers rejected", true).check(&seen), Ok(()));
        assert!(badge("Workers rejected", false).check(&seen).is_err());
        assert_eq!(badge("Tari DOWN", false).check(&seen), Ok(()));
        assert!(badge("Tari DOWN", false).is_absence());
        assert!(!badge("Tari DOWN", true).is_absence());
        assert!(!Condition::WorkersAccepted.is_absence());
    }

    #[test]
    fn settings_name_the_runtime_variables() {
        assert_eq!(
            Setting::NodeDownAfter(Duration::from_secs(90)).env(),
            ("NODE_DOWN_AFTER_SEC", "90".to_owned())
        );
        assert_eq!(
            Setting::TariRequired(false).env(),
            ("TARI_REQUIRED", "false".to_owned())
        );
    }
}
