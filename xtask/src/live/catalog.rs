//! The catalog's `@live` scenarios on a real box (`test-live --catalog`): the same feature files
//! and step words as every other tier, through a [`Tier`] whose world is the box.
//!
//! The runner ([`pithead_scenarios::runner`]) drives the steps synchronously; each method here
//! blocks on the run's tokio runtime for its ssh work. A step a box cannot perform (steering a
//! chain) is [`TierError::Unsupported`] with its skip class in the reason; the live report counts
//! it under that class. A scenario that changed the box (its config, a stopped or frozen
//! monerod) puts it back when its driver is dropped, before the next scenario starts.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use pithead_scenarios::driver::{
    Chain, CliAction, CliFact, CliOutcome, Condition, ContainerState, HostCapability, LiveAction,
    LiveFact, LiveOutcome, Node, Reachability, Setting, SkipClass, Tier, TierError, TierFuture,
};
use pithead_scenarios::runner::{self, Options};
use pithead_scenarios::tags::TierTag;
use pithead_scenarios::tiers::Registry;
use serde_json::Value;

use super::battery::{second_apply_is_noop, BoxFacts};
use super::host;
use super::matrix::{apply_overrides, Row};
use super::reads;
use super::report::{ScenarioResult, Status};
use super::run::Live;
use super::wait;

const TIER: &str = "live";
/// How long a status verdict may take to show (a real health check: interval × retries).
const VERDICT: Duration = Duration::from_secs(240);

fn unsupported(class: SkipClass, what: impl Into<String>) -> TierError {
    TierError::Unsupported {
        tier: TIER,
        what: format!("{} {}", class.tag(), what.into()),
    }
}

fn failed(message: impl Into<String>) -> TierError {
    TierError::Check(message.into())
}

fn tier_error(e: impl std::fmt::Display) -> TierError {
    TierError::Tier {
        tier: TIER,
        message: e.to_string(),
    }
}

/// A `.env` value of `facts` (empty when absent).
fn env_of(facts: &BoxFacts, key: &str) -> String {
    facts.env.get(key).cloned().unwrap_or_default()
}

/// A string of `/api/state` at a JSON pointer (`absent` when missing).
fn state_text(facts: &BoxFacts, pointer: &str) -> String {
    facts
        .state
        .as_ref()
        .and_then(|s| s.pointer(pointer))
        .and_then(Value::as_str)
        .unwrap_or("absent")
        .to_owned()
}

/// A string of config.json at a JSON pointer (empty when missing).
fn config_text(facts: &BoxFacts, pointer: &str) -> String {
    facts
        .config
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `Ok` when `ok`, else a failed check saying `why`.
fn ensure(ok: bool, why: String) -> Result<(), TierError> {
    if ok {
        Ok(())
    } else {
        Err(failed(why))
    }
}

fn done<'a>(result: Result<(), TierError>) -> TierFuture<'a> {
    Box::pin(async move { result })
}

/// One scenario's driver on the box.
pub struct LiveTier {
    live: Rc<Live>,
    handle: tokio::runtime::Handle,
    scenario: String,
    overrides: BTreeMap<String, Value>,
    applied: bool,
    monerod_stopped: bool,
    monerod_frozen: bool,
    /// A container of the stack was removed: `pithead up` brings it back.
    removed: bool,
    destructive: bool,
    /// The last `pithead status` a `When I run pithead status` step ran (cleared by any action).
    last_status: Option<super::ssh::Reply>,
    /// What the scenario's `pithead upgrade` printed.
    last_upgrade: Option<super::ssh::Reply>,
    /// The generated secrets' fingerprints when the scenario started (`a fresh real box`).
    fingerprints: Option<BTreeMap<String, String>>,
    /// Each step of the lifecycle sequence and how it went.
    sequence: Vec<(String, Result<(), String>)>,
    /// The scenario took the stack down: `pithead up` brings it back.
    stack_down: bool,
    /// The `/api/state` a `When the live matrix reads /api/state` step read.
    read: Option<Value>,
    /// p2pool's `shares_found` when the worker started hashing.
    shares_before: Option<u64>,
}

impl LiveTier {
    fn block<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.handle.block_on(future)
    }

    fn local_monerod(&self) -> Result<(), TierError> {
        let mode = self
            .live
            .baseline
            .pointer("/monero/mode")
            .and_then(Value::as_str)
            .unwrap_or("local");
        if mode == "local" {
            Ok(())
        } else {
            Err(unsupported(
                SkipClass::ByDesign,
                "the box's monerod is remote: there is no local node to act on",
            ))
        }
    }

    /// The image a service of the box runs, to tell a stand-in (a test box's fake) from the
    /// real program.
    fn stand_in(&self, service: &str) -> Result<(), TierError> {
        let reply = self
            .block(self.live.remote.run(
                "docker inspect",
                &[
                    "docker",
                    "inspect",
                    "--format",
                    "{{.Config.Image}}",
                    service,
                ],
                None,
                Duration::from_secs(60),
            ))
            .map_err(tier_error)?;
        let image = reply.stdout.trim();
        if image.starts_with("pithead/fake") {
            return Err(unsupported(
                SkipClass::Missing,
                format!("the box's {service} is a stand-in ({image}): a real {service} proves it"),
            ));
        }
        Ok(())
    }

    fn override_given(&mut self, path: String, value: Value) -> Result<(), TierError> {
        let remote_input = match (path.as_str(), value.as_str()) {
            ("monero.mode", Some("remote")) => Some(("monero", "remote_monero_host")),
            ("tari.mode", Some("remote")) => Some(("tari", "remote_tari_host")),
            _ => None,
        };
        if let Some((section, input)) = remote_input {
            let pointer = format!("/{section}/remote/host");
            let on_box = self
                .live
                .baseline
                .pointer(&pointer)
                .and_then(Value::as_str)
                .is_some_and(|h| !h.is_empty());
            if !on_box {
                let host = self.live.inputs.get(input).ok_or_else(|| {
                    unsupported(
                        SkipClass::Missing,
                        format!("{section} remote mode needs --input {input}=HOST"),
                    )
                })?;
                self.overrides.insert(
                    format!("{section}.remote.host"),
                    Value::String(host.to_owned()),
                );
            }
        }
        let pruned = self
            .live
            .baseline
            .pointer("/monero/prune")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if path == "monero.prune" && value == Value::Bool(false) && pruned && !self.destructive {
            return Err(unsupported(
                SkipClass::ByDesign,
                "turning pruning off re-syncs the chain from scratch (pass --destructive)",
            ));
        }
        self.overrides.insert(path, value);
        Ok(())
    }

    fn apply(&mut self) -> Result<(), TierError> {
        let row = Row {
            name: self.scenario.clone(),
            overrides: self.overrides.clone(),
            needs: Vec::new(),
        };
        let config = apply_overrides(&self.live.baseline, &row, &self.live.inputs)
            .map_err(|e| TierError::Scenario(e.to_string()))?;
        self.applied = true;
        self.block(async {
            self.live.push_config(&config).await?;
            self.live.apply().await
        })
        .map(drop)
        .map_err(tier_error)
    }

    fn docker(&self, step: &str, args: &[&str]) -> Result<(), TierError> {
        let mut argv = vec!["docker"];
        argv.extend_from_slice(args);
        self.block(
            self.live
                .remote
                .must(step, &argv, None, Duration::from_secs(120)),
        )
        .map(drop)
        .map_err(tier_error)
    }

    fn act(&mut self, action: LiveAction) -> Result<(), TierError> {
        match action {
            LiveAction::Apply => self.apply(),
            LiveAction::StopMonerod => {
                self.local_monerod()?;
                self.monerod_stopped = true;
                self.docker("docker stop monerod", &["stop", "monerod"])
            }
            LiveAction::StartMonerod => {
                self.local_monerod()?;
                self.docker("docker start monerod", &["start", "monerod"])?;
                self.monerod_stopped = false;
                Ok(())
            }
            LiveAction::FreezeMonerod => {
                self.local_monerod()?;
                self.monerod_frozen = true;
                self.docker(
                    "docker kill -s STOP monerod",
                    &["kill", "-s", "STOP", "monerod"],
                )?;
                self.wait_status(1, &["⚠ monerod running but UNHEALTHY"])
            }
            LiveAction::ResumeMonerod => {
                self.local_monerod()?;
                self.docker(
                    "docker kill -s CONT monerod",
                    &["kill", "-s", "CONT", "monerod"],
                )?;
                self.monerod_frozen = false;
                Ok(())
            }
            LiveAction::Check(_) => Ok(()),
            LiveAction::EngineCycle => self.whole_cycle(),
            LiveAction::LifecycleSequence => {
                self.lifecycle_sequence();
                Ok(())
            }
            LiveAction::ReadState => {
                self.read = Some(self.state()?);
                Ok(())
            }
            LiveAction::WorkerHashes => self.worker_hashes(),
        }
    }

    /// `pithead setup` (from the box's own config.json, as a first setup would write it), `up`,
    /// `status`, `apply -y`, `restart`, `down`: each step's outcome is recorded for the Then.
    fn lifecycle_sequence(&mut self) {
        const FROM: &str = ".live-setup-from.json";
        // setup may rewrite config.json (only what differs from the defaults): the driver
        // puts the found one back at the end.
        self.applied = true;
        let remote = &self.live.remote;
        let long = Duration::from_secs(600);
        let run = |step: &'static str, args: &'static [&'static str]| async move {
            match remote.pithead(step, args, None, long).await {
                Ok(reply) if reply.ok() => Ok(()),
                Ok(reply) => Err(reply.describe()),
                Err(e) => Err(e.to_string()),
            }
        };
        let status_ok = || async {
            wait::status_says(remote, 0, &[], VERDICT)
                .await
                .map_err(|e| e.to_string())
        };
        let steps = self.block(async {
            let mut steps: Vec<(String, Result<(), String>)> = Vec::new();
            let copied = remote
                .must(
                    "copying config.json",
                    &["cp", "--", "config.json", FROM],
                    None,
                    long,
                )
                .await
                .map(drop)
                .map_err(|e| e.to_string());
            let setup = match copied {
                Ok(()) => run("pithead setup", &["setup", "--from", FROM, "-y"]).await,
                Err(e) => Err(e),
            };
            let _ = remote
                .run("removing the copy", &["rm", "-f", "--", FROM], None, long)
                .await;
            steps.push(("pithead setup --from config.json -y".into(), setup));
            steps.push(("pithead up".into(), run("pithead up", &["up"]).await));
            steps.push(("pithead status exits 0 (up)".into(), status_ok().await));
            steps.push((
                "pithead apply -y".into(),
                run("pithead apply -y", &["apply", "-y"]).await,
            ));
            steps.push((
                "pithead restart".into(),
                run("pithead restart", &["restart"]).await,
            ));
            steps.push((
                "pithead status exits 0 (restarted)".into(),
                status_ok().await,
            ));
            steps.push(("pithead down".into(), run("pithead down", &["down"]).await));
            steps
        });
        self.stack_down = true;
        self.sequence = steps;
    }

    fn xvb_enabled(&mut self) -> Result<(), TierError> {
        let enabled = self
            .live
            .baseline
            .pointer("/xvb/enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !enabled {
            return Err(unsupported(
                SkipClass::Missing,
                "the box's config.json has xvb.enabled false",
            ));
        }
        self.judge(LiveOutcome::StackReady)
    }

    /// Waits until the runtime has finished a cycle that started after now.
    fn whole_cycle(&self) -> Result<(), TierError> {
        let count = |state: &Value| state.pointer("/cycle/count").and_then(Value::as_u64);
        let start = count(&self.state()?).unwrap_or(0);
        // A real box's cycle is UPDATE_INTERVAL (30 s by default) plus its reads.
        self.block(wait::until(
            "the runtime finishes a whole cycle",
            Duration::from_secs(180),
            || async {
                let state = reads::state(&self.live.remote).await?;
                let now = state.as_ref().and_then(count);
                Ok(match now {
                    Some(n) if n >= start + 2 => Ok(()),
                    other => Err(format!("cycle.count {other:?}, started at {start}")),
                })
            },
        ))
        .map_err(|e| failed(e.to_string()))
    }

    fn wait_status(&self, code: i32, lines: &[&str]) -> Result<(), TierError> {
        self.block(wait::status_says(&self.live.remote, code, lines, VERDICT))
            .map_err(|e| failed(e.to_string()))
    }

    fn facts(&self) -> Result<super::battery::BoxFacts, TierError> {
        self.block(reads::facts(&self.live.remote))
            .map_err(tier_error)
    }

    fn state(&self) -> Result<Value, TierError> {
        self.block(reads::state(&self.live.remote))
            .map_err(tier_error)?
            .ok_or_else(|| failed("the runtime's /api/state does not answer"))
    }

    /// The service lines of `pithead status` (`✓ name running`, ...).
    fn lists(status_out: &str, service: &str) -> bool {
        status_out.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.get(1) == Some(&service)
        })
    }

    fn judge(&mut self, outcome: LiveOutcome) -> Result<(), TierError> {
        match outcome {
            LiveOutcome::StackReady => {
                let checks = self.block(self.live.ready(&self.scenario));
                match checks.into_iter().find_map(|c| c.result.err()) {
                    None => Ok(()),
                    Some(why) => Err(failed(why)),
                }
            }
            LiveOutcome::SecondApplyNoop => {
                let reply = self.block(self.live.apply()).map_err(tier_error)?;
                second_apply_is_noop(&reply.stdout).result.map_err(failed)
            }
            LiveOutcome::EnvSets { key, value } => {
                let facts = self.facts()?;
                let seen = facts.env.get(&key).cloned().unwrap_or_default();
                let secret = pithead_runtime::cli::env_file::is_secret_env(&key);
                ensure(
                    seen == value,
                    if secret {
                        format!(".env's {key} is not the expected value (a secret: not shown)")
                    } else {
                        format!(".env sets {key} to {seen:?}, expected {value:?}")
                    },
                )
            }
            LiveOutcome::MonerodLocal => {
                let facts = self.facts()?;
                let profiles = env_of(&facts, "COMPOSE_PROFILES");
                let mode = state_text(&facts, "/monero/mode");
                ensure(
                    profiles.split(',').any(|p| p == "local_node")
                        && facts.status_out.contains("✓ monerod running")
                        && (mode == "Pruned" || mode == "Full"),
                    format!(
                        "COMPOSE_PROFILES={profiles:?}, monero.mode {mode:?}, status:\n{}",
                        facts.status_out
                    ),
                )
            }
            LiveOutcome::MonerodRemote => {
                let facts = self.facts()?;
                let host = config_text(&facts, "/monero/remote/host");
                let node_host = env_of(&facts, "MONERO_NODE_HOST");
                let mode = state_text(&facts, "/monero/mode");
                ensure(
                    !Self::lists(&facts.status_out, "monerod")
                        && node_host == host
                        && mode == "Unknown",
                    format!(
                        "monerod listed: {}, MONERO_NODE_HOST is the remote host: {}, monero.mode {mode:?}",
                        Self::lists(&facts.status_out, "monerod"),
                        node_host == host
                    ),
                )
            }
            LiveOutcome::TariLocal => {
                let facts = self.facts()?;
                let profiles = env_of(&facts, "COMPOSE_PROFILES");
                ensure(
                    profiles.split(',').any(|p| p == "local_tari")
                        && facts.status_out.contains("✓ tari running"),
                    format!(
                        "COMPOSE_PROFILES={profiles:?}, status:\n{}",
                        facts.status_out
                    ),
                )
            }
            LiveOutcome::TariRemote | LiveOutcome::TariOff => {
                let facts = self.facts()?;
                let listed = Self::lists(&facts.status_out, "tari");
                let watched = facts
                    .state
                    .as_ref()
                    .and_then(|s| s.pointer("/nodes/tari"))
                    .is_some();
                let address = env_of(&facts, "TARI_GRPC_ADDRESS");
                if outcome == LiveOutcome::TariRemote {
                    let host = config_text(&facts, "/tari/remote/host");
                    ensure(
                        !listed && !host.is_empty() && address.starts_with(&host) && watched,
                        format!("tari listed: {listed}, TARI_GRPC_ADDRESS names the remote host: {}, the runtime watches Tari: {watched}", address.starts_with(&host)),
                    )
                } else {
                    let released = facts.state.as_ref().and_then(|s| s.get("miner_released"))
                        == Some(&Value::Bool(true));
                    ensure(
                        !listed && !watched && released,
                        format!("tari listed: {listed}, the runtime watches Tari: {watched}, miners released: {released}"),
                    )
                }
            }
            LiveOutcome::RpcFromLan { reachable } => {
                self.local_monerod()?;
                let reply = self
                    .block(self.live.remote.must(
                        "docker port monerod",
                        &["docker", "port", "monerod", "18081/tcp"],
                        None,
                        Duration::from_secs(60),
                    ))
                    .map_err(tier_error)?;
                let bindings: Vec<&str> = reply.stdout.lines().map(str::trim).collect();
                let beyond_loopback = bindings
                    .iter()
                    .any(|b| !b.starts_with("127.") && !b.starts_with("[::1]"));
                ensure(
                    !bindings.is_empty() && beyond_loopback == reachable,
                    format!("the engine publishes monerod's RPC on {bindings:?}"),
                )
            }
            LiveOutcome::CaddyfileServes { https } => {
                let facts = self.facts()?;
                let site = facts
                    .caddyfile
                    .lines()
                    .find(|l| l.starts_with("http"))
                    .unwrap_or_default()
                    .to_owned();
                let tls = facts
                    .caddyfile
                    .lines()
                    .any(|l| l.trim().starts_with("tls internal"));
                let scheme_ok = site.starts_with(if https { "https://" } else { "http://" });
                ensure(
                    scheme_ok && tls == https,
                    format!("the Caddyfile's site is {site:?}, tls internal: {tls}"),
                )
            }
            LiveOutcome::DashboardAnswers { https } => self.dashboard_answers(https),
            LiveOutcome::XvbEngine { on } => {
                let state = self.state()?;
                let enabled = state.pointer("/xvb/enabled").and_then(Value::as_bool);
                ensure(
                    enabled.unwrap_or(false) == on,
                    format!("/api/state has xvb.enabled = {enabled:?}"),
                )
            }
            LiveOutcome::SyncingTari { .. } => Err(unsupported(
                SkipClass::Covered,
                "a real Tari cannot be made to sync on demand; the simulation proves how a \
                 syncing Tari gates the release (sections B and C)",
            )),
            LiveOutcome::P2poolSideChain(chain) => {
                self.stand_in("p2pool")?;
                let reply = self
                    .block(self.live.remote.must(
                        "docker inspect p2pool",
                        &["docker", "inspect", "--format", "{{json .Args}}", "p2pool"],
                        None,
                        Duration::from_secs(60),
                    ))
                    .map_err(tier_error)?;
                let args = reply.stdout;
                let flag = match chain.as_str() {
                    "mini" => Some("--mini"),
                    "nano" => Some("--nano"),
                    _ => None,
                };
                let ok = match flag {
                    Some(flag) => args.contains(&format!("\"{flag}\"")),
                    None => !args.contains("\"--mini\"") && !args.contains("\"--nano\""),
                };
                ensure(ok, format!("p2pool runs with {args}"))
            }
            LiveOutcome::StatusExits(code) => self.wait_status(code, &[]),
            LiveOutcome::StatusPrints(line) => self.wait_status_line(&line),
            LiveOutcome::ReportedAs { service, verdict } => {
                self.wait_status_line(&format!("{service} {verdict}"))
            }
            LiveOutcome::Capability(capability) => self.capability(capability),
            LiveOutcome::SequenceSucceeded => {
                let failed: Vec<String> = self
                    .sequence
                    .iter()
                    .filter_map(|(step, result)| {
                        result.as_ref().err().map(|e| format!("{step}: {e}"))
                    })
                    .collect();
                ensure(
                    !self.sequence.is_empty() && failed.is_empty(),
                    format!("the lifecycle sequence: {failed:?}"),
                )
            }
            LiveOutcome::FingerprintsKept => {
                let before = self.fingerprints.clone().ok_or_else(|| {
                    TierError::Scenario("no fingerprints were noted (a fresh real box)".into())
                })?;
                let check = self
                    .block(self.live.secrets_kept(&before))
                    .map_err(tier_error)?;
                check.result.map_err(failed)
            }
            LiveOutcome::MonerodPruning { enabled } => self.monerod_pruning(enabled),
            LiveOutcome::DbSizeInRange { pruned } => {
                let state = self.state()?;
                let size = state
                    .pointer("/monero/db_size")
                    .and_then(Value::as_str)
                    .unwrap_or("absent");
                pithead_scenarios::driver::db_size_fits(size, pruned).map_err(failed)
            }
            LiveOutcome::MoneroMode(mode) => {
                let state = self.state()?;
                let seen = state.pointer("/monero/mode").and_then(Value::as_str);
                let badges: Vec<String> = host::badge_texts(&state)
                    .into_iter()
                    .filter(|t| t.starts_with("XMR "))
                    .collect();
                ensure(
                    seen == Some(mode.as_str()) && badges == [format!("XMR {mode}")],
                    format!("/api/state has monero.mode {seen:?} with the badges {badges:?}"),
                )
            }
            LiveOutcome::StateMatchesDaemons => self.state_matches_daemons(),
            LiveOutcome::ShareFound => {
                let before = self.shares_before.ok_or_else(|| {
                    TierError::Scenario("no share count was noted (a worker connected)".into())
                })?;
                let now = self.shares_found()?;
                ensure(
                    now > before,
                    format!("p2pool's shares_found is {now}, {before} when the worker started"),
                )
            }
            LiveOutcome::WorkerHashrate => {
                let state = self.state()?;
                let hashing = state
                    .get("workers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|w| {
                        w.get("status").and_then(Value::as_str) == Some("online")
                            && w.get("h15")
                                .and_then(Value::as_f64)
                                .is_some_and(|h| h > 0.0)
                    });
                let total = state.get("hashrate").and_then(Value::as_f64).unwrap_or(0.0);
                ensure(
                    hashing && total > 0.0,
                    format!(
                        "/api/state's workers {} with hashrate {total}",
                        state.get("workers").cloned().unwrap_or(Value::Null)
                    ),
                )
            }
            LiveOutcome::XvbStats { stale } => {
                let state = self.state()?;
                let xvb = state.get("xvb").cloned().unwrap_or(Value::Null);
                let seen_stale = xvb.get("stale").and_then(Value::as_bool);
                let averages = ["avg_1h", "avg_24h"]
                    .iter()
                    .all(|k| xvb.get(*k).is_some_and(Value::is_number));
                ensure(
                    seen_stale == Some(stale) && (stale || averages),
                    format!("/api/state has xvb {xvb}"),
                )
            }
        }
    }

    /// Waits until every row of `pithead status` is `✓ … running` (a restarted service's
    /// health check may still be pending: it is up, but not yet healthy).
    fn wait_all_healthy(&self) -> Result<(), TierError> {
        self.block(wait::until(
            "every service is running and healthy",
            VERDICT,
            || async {
                let status = reads::status(&self.live.remote).await?;
                let rows: Vec<&str> = status
                    .stdout
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with(['✓', '…', '⚠', '✗']))
                    .collect();
                Ok(
                    if !rows.is_empty() && rows.iter().all(|l| l.starts_with('✓')) {
                        Ok(())
                    } else {
                        Err(status.stdout.trim_end().to_owned())
                    },
                )
            },
        ))
        .map_err(|e| failed(e.to_string()))
    }

    fn wait_status_line(&self, line: &str) -> Result<(), TierError> {
        let what = format!("pithead status prints {line:?}");
        self.block(wait::until(&what, VERDICT, || async {
            let status = reads::status(&self.live.remote).await?;
            Ok(if status.stdout.contains(line) {
                Ok(())
            } else {
                Err(status.stdout.trim_end().to_owned())
            })
        }))
        .map_err(|e| failed(e.to_string()))
    }

    fn dashboard_answers(&self, https: bool) -> Result<(), TierError> {
        self.stand_in("caddy")?;
        let facts = self.facts()?;
        let port = facts
            .env
            .get("DASHBOARD_PORT")
            .cloned()
            .unwrap_or_else(|| "443".to_owned());
        let scheme = if https { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}/");
        // -k: Caddy's internal CA is not in the box's trust store; the scheme is what counts.
        let reply = self
            .block(self.live.remote.run(
                "curl the dashboard",
                &["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", &url],
                None,
                Duration::from_secs(30),
            ))
            .map_err(tier_error)?;
        if reply.code == Some(127) {
            return Err(unsupported(SkipClass::Missing, "the box has no curl"));
        }
        let code = reply.stdout.trim();
        if matches!(code, "200" | "401") {
            Ok(())
        } else {
            Err(failed(format!(
                "{url} answered {code:?} ({})",
                reply.describe()
            )))
        }
    }

    fn capability(&self, capability: HostCapability) -> Result<(), TierError> {
        match capability {
            HostCapability::CaddyTls => {
                let secure = self
                    .live
                    .baseline
                    .pointer("/dashboard/secure")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                self.dashboard_answers(secure)
            }
            HostCapability::TorOnions => {
                let facts = self.facts()?;
                let onions: Vec<(&String, &String)> = facts
                    .env
                    .iter()
                    .filter(|(k, v)| k.ends_with("_ONION") && !v.is_empty() && *v != "placeholder")
                    .collect();
                if onions.is_empty() {
                    return Err(unsupported(
                        SkipClass::Missing,
                        "Tor has published no onion address on this box",
                    ));
                }
                let bad: Vec<&String> = onions
                    .iter()
                    .filter(|(_, v)| !v.ends_with(".onion"))
                    .map(|(k, _)| *k)
                    .collect();
                if !bad.is_empty() {
                    return Err(failed(format!("not an onion address: {bad:?}")));
                }
                let before = reads::secret_fingerprints(&facts.env);
                let kept = self
                    .block(async {
                        self.live.apply().await?;
                        self.live.secrets_kept(&before).await
                    })
                    .map_err(tier_error)?;
                kept.result.map_err(failed)
            }
            HostCapability::HugePagesAvx2 => self.hugepages_avx2(),
            HostCapability::DiskPressure => self.disk_pressure(),
            HostCapability::PruneDbSize => {
                let facts = self.facts()?;
                let pruned = facts
                    .env
                    .get("MONERO_PRUNE")
                    .is_some_and(|v| v == "1" || v == "true");
                let size = facts
                    .state
                    .as_ref()
                    .and_then(|s| s.pointer("/monero/db_size"))
                    .and_then(Value::as_str)
                    .unwrap_or("—")
                    .to_owned();
                pithead_scenarios::driver::db_size_fits(&size, pruned).map_err(failed)
            }
        }
    }
}

/// How long a real worker may take to find a p2pool share by default (mini's share time at a
/// few kH/s); `--input share_wait_minutes=N` sets it for a slower fleet.
const SHARE_WAIT: Duration = Duration::from_secs(3_600);
/// How far the box's monerod may move between its read and the runtime's (blocks).
const HEIGHT_SLACK: u64 = 2;
/// How far the runtime's disk reading may lag `df` (percent points).
const DISK_SLACK: f64 = 1.0;

/// Sections F and H: what `/api/state` shows against what the box's daemons and host report.
impl LiveTier {
    /// A command on the box whose output is read (not a change), bounded.
    fn read_remote(
        &self,
        step: &str,
        argv: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<String, TierError> {
        self.block(
            self.live
                .remote
                .must(step, argv, stdin, Duration::from_secs(60)),
        )
        .map(|reply| reply.stdout)
        .map_err(tier_error)
    }

    fn shares_found(&self) -> Result<u64, TierError> {
        let text = self.read_remote(
            "p2pool's local stratum stats",
            &[
                "docker",
                "exec",
                "p2pool",
                "cat",
                "/p2pool-data/local/stratum",
            ],
            None,
        )?;
        host::shares_found(&text).ok_or_else(|| {
            failed(format!(
                "p2pool's local/stratum has no shares_found: {text}"
            ))
        })
    }

    fn worker_connected(&mut self) -> Result<(), TierError> {
        self.stand_in("p2pool")?;
        self.stand_in("xmrig-proxy")?;
        self.judge(LiveOutcome::StackReady)?;
        let state = self.state()?;
        let online = state
            .get("proxy_workers")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if online == 0 {
            return Err(unsupported(
                SkipClass::Missing,
                "no worker is connected to the box's xmrig-proxy (connect a real miner)",
            ));
        }
        self.shares_before = Some(self.shares_found()?);
        Ok(())
    }

    /// Waits (bounded by [`SHARE_WAIT`] or `share_wait_minutes`) until p2pool counts a share
    /// the worker found.
    fn worker_hashes(&mut self) -> Result<(), TierError> {
        let before = self.shares_before.ok_or_else(|| {
            TierError::Scenario("no share count was noted (a worker connected)".into())
        })?;
        let wait = match self.live.inputs.get("share_wait_minutes") {
            None => SHARE_WAIT,
            Some(text) => text
                .parse::<u64>()
                .map(|m| Duration::from_secs(m.saturating_mul(60)))
                .map_err(|_| {
                    TierError::Scenario(format!("share_wait_minutes is {text:?}, not minutes"))
                })?,
        };
        self.block(wait::until(
            "p2pool records a share found",
            wait,
            || async {
                let reply = self
                    .live
                    .remote
                    .run(
                        "p2pool's local stratum stats",
                        &[
                            "docker",
                            "exec",
                            "p2pool",
                            "cat",
                            "/p2pool-data/local/stratum",
                        ],
                        None,
                        Duration::from_secs(60),
                    )
                    .await?;
                let now = host::shares_found(&reply.stdout);
                Ok(match now {
                    Some(n) if n > before => Ok(()),
                    other => Err(format!("shares_found {other:?}, {before} at the start")),
                })
            },
        ))
        .map_err(|e| failed(e.to_string()))
    }

    /// `MONERO_PRUNE` as monerod's container has it (what its entrypoint reads) and, on a real
    /// monerod, its command line.
    fn monerod_pruning(&self, enabled: bool) -> Result<(), TierError> {
        self.local_monerod()?;
        let env = self.read_remote(
            "monerod's environment",
            &[
                "docker",
                "inspect",
                "--format",
                "{{range .Config.Env}}{{println .}}{{end}}",
                "monerod",
            ],
            None,
        )?;
        let prune = env
            .lines()
            .find_map(|l| l.strip_prefix("MONERO_PRUNE="))
            .unwrap_or("absent")
            .to_owned();
        let wanted = if enabled { "1" } else { "0" };
        ensure(
            prune == wanted,
            format!("monerod's container has MONERO_PRUNE={prune:?}, expected {wanted:?}"),
        )?;
        self.stand_in("monerod")?;
        let cmdline = self.read_remote(
            "monerod's command line",
            &["docker", "exec", "monerod", "cat", "/proc/1/cmdline"],
            None,
        )?;
        let pruning = cmdline.split('\0').any(|a| a == "--prune-blockchain");
        ensure(
            pruning == enabled,
            format!("monerod runs with --prune-blockchain: {pruning}"),
        )
    }

    /// monerod's height from its RPC on the box's loopback; the RPC login (when set) goes to
    /// curl on its standard input, never in argv.
    fn monerod_height(&self, facts: &BoxFacts) -> Result<u64, TierError> {
        let config = host::curl_login(
            &env_of(facts, "MONERO_RPC_USER"),
            &env_of(facts, "MONERO_RPC_PASSWORD"),
        );
        let reply = self
            .block(self.live.remote.run(
                "monerod's get_info",
                &["curl", "-s", "-K", "-", "http://127.0.0.1:18081/get_info"],
                Some(config.as_bytes()),
                Duration::from_secs(30),
            ))
            .map_err(tier_error)?;
        if reply.code == Some(127) {
            return Err(unsupported(SkipClass::Missing, "the box has no curl"));
        }
        host::monerod_height(&reply.stdout).ok_or_else(|| {
            failed(format!(
                "monerod's get_info on the box's loopback did not answer a height (curl exit {:?})",
                reply.code
            ))
        })
    }

    fn state_matches_daemons(&mut self) -> Result<(), TierError> {
        let facts = self.facts()?;
        let state = match self.read.take() {
            Some(state) => state,
            None => self.state()?,
        };
        let mut wrong = Vec::new();
        let local = env_of(&facts, "COMPOSE_PROFILES")
            .split(',')
            .any(|p| p == "local_node");
        let mode = host::expected_mode(local, &env_of(&facts, "MONERO_PRUNE"));
        let seen_mode = state.pointer("/monero/mode").and_then(Value::as_str);
        if seen_mode != Some(mode) {
            wrong.push(format!(
                "monero.mode {seen_mode:?}, the box runs a {mode:?} node"
            ));
        }
        let badges = host::badge_texts(&state);
        let mode_badges: Vec<&String> = badges.iter().filter(|t| t.starts_with("XMR ")).collect();
        let wanted: Vec<String> = (mode != "Unknown")
            .then(|| format!("XMR {mode}"))
            .into_iter()
            .collect();
        if mode_badges
            .iter()
            .map(|t| t.as_str())
            .ne(wanted.iter().map(String::as_str))
        {
            wrong.push(format!("mode badges {mode_badges:?}, expected {wanted:?}"));
        }
        let syncing = state
            .get("syncing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if badges.iter().any(|t| t == "Syncing...") != syncing {
            wrong.push(format!("syncing {syncing} with the badges {badges:?}"));
        }
        if local {
            let height = self.monerod_height(&facts)?;
            let current = state
                .pointer("/sync/monero/current")
                .and_then(Value::as_u64);
            if current.is_none_or(|c| c.abs_diff(height) > HEIGHT_SLACK) {
                wrong.push(format!(
                    "sync.monero.current {current:?}, monerod's height {height}"
                ));
            }
            if badges.iter().any(|t| t == "monerod DOWN") {
                wrong.push("the badge \"monerod DOWN\" while monerod answers".to_owned());
            }
        }
        if let Some(why) = host::workers_disagree(&state) {
            wrong.push(why);
        }
        ensure(wrong.is_empty(), wrong.join("; "))
    }

    fn hugepages_avx2(&self) -> Result<(), TierError> {
        let meminfo = self.read_remote("the box's meminfo", &["cat", "/proc/meminfo"], None)?;
        let cpuinfo = self.read_remote("the box's cpuinfo", &["cat", "/proc/cpuinfo"], None)?;
        let state = self.state()?;
        let pages = pithead_runtime::observe::system::parse_hugepages(&meminfo);
        let status = state
            .pointer("/system/hugepages/status")
            .and_then(Value::as_str)
            .unwrap_or("absent");
        let wanted = match pages {
            Some(p) if p.total > 0 => "on",
            Some(_) => "off",
            None => "unknown",
        };
        ensure(
            status == wanted,
            format!("/api/state shows HugePages {status:?}, the box's meminfo says {wanted:?}"),
        )?;
        let off_badge = host::badge_texts(&state)
            .iter()
            .any(|t| t == "HugePages off");
        ensure(
            off_badge == (wanted == "off"),
            format!("the \"HugePages off\" badge shown: {off_badge}, HugePages {wanted}"),
        )?;
        if wanted != "on" {
            return Err(unsupported(
                SkipClass::Missing,
                "the box has no HugePages (vm.nr_hugepages is 0); the dashboard says so",
            ));
        }
        match host::cpu_has(&cpuinfo, "avx2") {
            Some(true) => Ok(()),
            Some(false) => Err(unsupported(
                SkipClass::Missing,
                "the box's CPU has no AVX2 (RandomX runs slower, mining still works)",
            )),
            None => Err(unsupported(
                SkipClass::ByDesign,
                "the box's CPU lists no x86 flags (not an x86 CPU)",
            )),
        }
    }

    /// `df` on the data directory the runtime measures (`./data/dashboard` of the stack).
    fn disk_pressure(&self) -> Result<(), TierError> {
        let df = self.read_remote(
            "df on the data disk",
            &["df", "-P", "--", "data/dashboard"],
            None,
        )?;
        let real =
            host::df_percent(&df).ok_or_else(|| failed(format!("df printed no usage: {df}")))?;
        let state = self.state()?;
        let shown = state
            .pointer("/system/disk/percent")
            .and_then(Value::as_f64);
        let Some(shown) = shown else {
            return Err(failed("/api/state has no system.disk.percent"));
        };
        ensure(
            (shown - real).abs() <= DISK_SLACK,
            format!("/api/state's disk is {shown:.1} %, df says {real:.1} %"),
        )?;
        let level = state.pointer("/system/disk/level").and_then(Value::as_str);
        // The level judges the unrounded figure: a tenth either side of the line allows both.
        let high = pithead_runtime::view::system::HIGH_ABOVE_PERCENT;
        let allowed: &[&str] = if (shown - high).abs() <= 0.05 {
            &["ok", "high"]
        } else if shown > high {
            &["high"]
        } else {
            &["ok"]
        };
        ensure(
            level.is_some_and(|l| allowed.contains(&l)),
            format!("/api/state's disk level {level:?} at {shown:.1} %"),
        )?;
        let badges = state
            .get("badges")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let seen: Vec<(String, String)> = badges
            .iter()
            .filter_map(|b| {
                let text = b.get("text").and_then(Value::as_str)?;
                let variant = b.get("variant").and_then(Value::as_str)?;
                text.starts_with("Disk ")
                    .then(|| (text.to_owned(), variant.to_owned()))
            })
            .collect();
        let allowed: Vec<Vec<(String, String)>> = host::disk_badges_for(shown)
            .into_iter()
            .map(|badge| badge.map(|(t, v)| (t, v.to_owned())).into_iter().collect())
            .collect();
        ensure(
            allowed.contains(&seen),
            format!("disk badges {seen:?} at {shown:.1} %, expected one of {allowed:?}"),
        )
    }
}

/// What the CLI's section-G world needs that a box's lifecycle already proves.
fn covered_by_lifecycle(what: String) -> TierError {
    unsupported(
        SkipClass::Covered,
        format!(
            "{what}: on a box, `test-live --lifecycle` and `--safety-backup` run it (and the \
             simulation runs the scenario)"
        ),
    )
}

impl LiveTier {
    fn cli_fact(&mut self, fact: CliFact) -> Result<(), TierError> {
        match fact {
            CliFact::AllHealthy => {
                self.judge(LiveOutcome::StackReady)?;
                self.wait_all_healthy()
            }
            CliFact::HealthyLocalNode => {
                self.local_monerod()?;
                self.judge(LiveOutcome::StackReady)
            }
            CliFact::NodeDownRejected => Err(unsupported(
                SkipClass::Covered,
                "on a box, a monerod that is down is itself a problem in pithead status (its \
                 container exited or unhealthy), so the failover's verdict alone cannot be \
                 shown there; the simulation proves it (the node answers nothing while its \
                 container runs), and --fault-injection proves the real failover",
            )),
            CliFact::SyncHold => Err(unsupported(
                SkipClass::Covered,
                "a real box's chains cannot be made to sync on demand; the simulation proves \
                 the sync hold's verdicts",
            )),
            CliFact::ProfileOff(profile) => {
                let (path, value) = match profile.as_str() {
                    "local_node" => ("monero.mode", "remote"),
                    "local_tari" => ("tari.mode", "off"),
                    other => return Err(TierError::Scenario(format!("no such profile {other:?}"))),
                };
                self.override_given(path.to_owned(), Value::String(value.to_owned()))?;
                self.apply()
            }
            CliFact::Container { service, state } => match state {
                // What the runtime did on its own (a rejection): wait until it shows.
                ContainerState::Exited => self.wait_status_line(&format!("{service} exited")),
                ContainerState::Missing => {
                    // A service its profile turned off may keep its old container: it is no
                    // longer the stack's, so it goes (the restore brings the stack back).
                    self.removed = true;
                    self.docker(&format!("docker rm -f {service}"), &["rm", "-f", &service])
                }
                other => Err(unsupported(
                    SkipClass::ByDesign,
                    format!("putting a real {service} in the state {other:?}"),
                )),
            },
            other => Err(covered_by_lifecycle(format!("{other:?}"))),
        }
    }

    fn cli_act(&mut self, action: CliAction) -> Result<(), TierError> {
        match action {
            CliAction::Status => {
                let reply = self
                    .block(reads::status(&self.live.remote))
                    .map_err(tier_error)?;
                self.last_status = Some(reply);
                Ok(())
            }
            CliAction::NodeContainer { service, removed } => {
                if service == "monerod" {
                    self.local_monerod()?;
                }
                self.last_status = None;
                if removed {
                    self.removed = true;
                    self.docker(&format!("docker rm -f {service}"), &["rm", "-f", &service])
                } else {
                    if service == "monerod" {
                        self.monerod_stopped = true;
                    } else {
                        self.removed = true;
                    }
                    self.docker(&format!("docker stop {service}"), &["stop", &service])
                }
            }
            CliAction::Upgrade => {
                self.last_status = None;
                let reply = self
                    .block(self.live.remote.pithead(
                        "pithead upgrade",
                        &["upgrade", "--wait", "600"],
                        None,
                        Duration::from_secs(40 * 60),
                    ))
                    .map_err(tier_error)?;
                self.last_upgrade = Some(reply);
                Ok(())
            }
            other => Err(covered_by_lifecycle(format!("{other:?}"))),
        }
    }

    /// `pithead upgrade` exited 0, gave every service's image a line (new, created or the
    /// same: a box whose images are all current has nothing newer to pull) and said the stack
    /// is healthy again; and `pithead status` agrees.
    fn judge_upgrade(&mut self) -> Result<(), TierError> {
        let Some(reply) = self.last_upgrade.clone() else {
            return Err(TierError::Scenario("no `pithead upgrade` ran".into()));
        };
        let out = reply.stdout.as_str();
        ensure(
            reply.ok(),
            format!("pithead upgrade {}; output:\n{out}", reply.describe()),
        )?;
        // The services `pithead status` expects, from its rows (`✓ monerod running`).
        let status = self
            .block(super::reads::status(&self.live.remote))
            .map_err(tier_error)?;
        let services: Vec<String> = status
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(['✓', '…', '⚠', '✗']))
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
            .collect();
        ensure(
            !services.is_empty(),
            format!("pithead status listed no service:\n{}", status.stdout),
        )?;
        for service in &services {
            let reported = out.lines().any(|l| {
                let mut words = l.split_whitespace();
                matches!(words.next(), Some("↑" | "+" | "="))
                    && words.next() == Some(&format!("{service}:"))
            });
            ensure(
                reported,
                format!("pithead upgrade gave {service} no image line:\n{out}"),
            )?;
        }
        ensure(
            out.lines()
                .any(|l| l.starts_with("The stack is healthy again")),
            format!("pithead upgrade did not report a healthy stack:\n{out}"),
        )?;
        ensure(
            status.code == Some(0),
            format!(
                "after the upgrade pithead status {}:\n{}",
                status.describe(),
                status.stdout
            ),
        )
    }

    /// The service's line of the last `pithead status`.
    fn status_line<'a>(status: &'a str, service: &str) -> Option<&'a str> {
        status
            .lines()
            .map(str::trim)
            .find(|l| l.split_whitespace().nth(1) == Some(service))
    }

    fn cli_judge(&mut self, outcome: CliOutcome) -> Result<(), TierError> {
        if outcome == CliOutcome::Upgraded {
            return self.judge_upgrade();
        }
        let Some(status) = self.last_status.clone() else {
            // No `pithead status` of the scenario's own: the verdict is awaited (the runtime
            // acts on its next cycle, a health check on its next probe).
            return match outcome {
                CliOutcome::Exits(code) => self.judge(LiveOutcome::StatusExits(code)),
                CliOutcome::ReportedAs { service, verdict } => {
                    self.judge(LiveOutcome::ReportedAs { service, verdict })
                }
                CliOutcome::Prints(line) => self.judge(LiveOutcome::StatusPrints(line)),
                other => Err(covered_by_lifecycle(format!("{other:?}"))),
            };
        };
        let out = status.stdout.as_str();
        match outcome {
            CliOutcome::EachRunning => {
                let rows: Vec<&str> = out
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with(['✓', '…', '⚠', '✗']))
                    .collect();
                ensure(
                    !rows.is_empty()
                        && rows
                            .iter()
                            .all(|l| l.starts_with('✓') && l.ends_with(" running")),
                    format!("pithead status printed:\n{out}"),
                )
            }
            CliOutcome::Prints(line) => ensure(
                out.lines().any(|l| l.trim() == line),
                format!("pithead status printed no line {line:?}:\n{out}"),
            ),
            CliOutcome::Exits(code) => ensure(
                status.code == Some(code),
                format!("pithead status {}; output:\n{out}", status.describe()),
            ),
            CliOutcome::ReportedAs { service, verdict } => {
                let line = Self::status_line(out, &service).unwrap_or("(no line)");
                ensure(
                    line.contains(&format!("{service} {verdict}")),
                    format!("pithead status says {line:?}"),
                )
            }
            CliOutcome::NotExpected(service) => ensure(
                Self::status_line(out, &service).is_none(),
                format!("pithead status lists {service}:\n{out}"),
            ),
            CliOutcome::Attention { service, needs } => {
                let line = Self::status_line(out, &service).unwrap_or("(no line)");
                let counted = line.starts_with('✗') || line.contains("UNHEALTHY");
                ensure(counted == needs, format!("pithead status says {line:?}"))
            }
            other => Err(covered_by_lifecycle(format!("{other:?}"))),
        }
    }
}

impl Drop for LiveTier {
    fn drop(&mut self) {
        let live = Rc::clone(&self.live);
        let frozen = self.monerod_frozen;
        let stopped = self.monerod_stopped;
        let applied = self.applied;
        let removed = self.removed || self.stack_down;
        let restored = self.handle.block_on(async move {
            let remote = &live.remote;
            let long = Duration::from_secs(120);
            if frozen {
                remote
                    .must(
                        "docker kill -s CONT monerod",
                        &["docker", "kill", "-s", "CONT", "monerod"],
                        None,
                        long,
                    )
                    .await?;
            }
            if stopped {
                remote
                    .must(
                        "docker start monerod",
                        &["docker", "start", "monerod"],
                        None,
                        long,
                    )
                    .await?;
            }
            if applied {
                live.push_baseline().await?;
                live.apply().await?;
            }
            if removed {
                live.up("putting the box back").await?;
            }
            if frozen || stopped || applied || removed {
                if let Some(why) = live
                    .ready("putting the box back")
                    .await
                    .into_iter()
                    .find_map(|c| c.result.err())
                {
                    anyhow::bail!("the box is not ready again: {why}");
                }
            }
            anyhow::Ok(())
        });
        if let Err(e) = restored {
            eprintln!(
                "live: after {:?}, putting the box back failed: {e:#}",
                self.scenario
            );
        }
    }
}

fn by_design<'a>(what: &str) -> TierFuture<'a> {
    done(Err(unsupported(
        SkipClass::ByDesign,
        format!("{what} (a real box's daemons are not steered)"),
    )))
}

impl Tier for LiveTier {
    fn name(&self) -> &'static str {
        TIER
    }

    fn configure(&mut self, setting: Setting) -> TierFuture<'_> {
        by_design(&format!("a runtime setting ({setting:?})"))
    }

    fn set_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        by_design(&format!("{node}'s chain ({chain:?})"))
    }

    fn set_reachability(&mut self, node: Node, r: Reachability) -> TierFuture<'_> {
        by_design(&format!("{node}'s reachability ({r:?})"))
    }

    fn change_chain(&mut self, node: Node, chain: Chain) -> TierFuture<'_> {
        by_design(&format!("{node}'s chain ({chain:?})"))
    }

    fn change_reachability(&mut self, node: Node, r: Reachability) -> TierFuture<'_> {
        by_design(&format!("{node}'s reachability ({r:?})"))
    }

    fn set_p2pool_network_height(&mut self, height: u64) -> TierFuture<'_> {
        by_design(&format!("p2pool's network height ({height})"))
    }

    fn refuse_docker_calls(&mut self, count: u32) -> TierFuture<'_> {
        by_design(&format!("a docker engine refusing {count} calls"))
    }

    fn release_miners(&mut self) -> TierFuture<'_> {
        by_design("a release on demand")
    }

    fn restart_runtime(&mut self) -> TierFuture<'_> {
        by_design("a runtime restart inside a scenario")
    }

    fn advance(&mut self, span: Duration) -> TierFuture<'_> {
        by_design(&format!("letting {span:?} pass"))
    }

    fn expect(&mut self, condition: Condition) -> TierFuture<'_> {
        by_design(&format!("{condition}"))
    }

    fn expect_for(&mut self, condition: Condition, span: Duration) -> TierFuture<'_> {
        by_design(&format!("{condition} for {span:?}"))
    }

    fn expect_started_once(&mut self, container: &str) -> TierFuture<'_> {
        by_design(&format!("counting {container}'s starts"))
    }

    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_> {
        by_design("the engine's stop calls since the release")
    }

    fn start_by_hand(&mut self, container: &str) -> TierFuture<'_> {
        by_design(&format!("starting {container} by hand"))
    }

    fn live_given(&mut self, fact: LiveFact) -> TierFuture<'_> {
        let result = match fact {
            LiveFact::Override { path, value } => self.override_given(path, value),
            LiveFact::Ready => self.judge(LiveOutcome::StackReady),
            LiveFact::XvbEnabled => self.xvb_enabled(),
            LiveFact::FreshBox => self.judge(LiveOutcome::StackReady).and_then(|()| {
                let prints = self
                    .block(reads::fingerprints(&self.live.remote))
                    .map_err(tier_error)?;
                self.fingerprints = Some(prints);
                Ok(())
            }),
            LiveFact::XvbEndpoint { reachable: true } => Ok(()),
            LiveFact::WorkerConnected => self.worker_connected(),
            LiveFact::XvbEndpoint { reachable: false } => Err(unsupported(
                SkipClass::Covered,
                "a real XvB endpoint is not made to fail from here; the simulation proves the \
                 stale hold (section E)",
            )),
        };
        done(result)
    }

    fn live_when(&mut self, action: LiveAction) -> TierFuture<'_> {
        self.last_status = None;
        let result = self.act(action);
        done(result)
    }

    fn cli_given(&mut self, fact: CliFact) -> TierFuture<'_> {
        let result = self.cli_fact(fact);
        done(result)
    }

    fn cli_when(&mut self, action: CliAction) -> TierFuture<'_> {
        let result = self.cli_act(action);
        done(result)
    }

    fn cli_expect(&mut self, outcome: CliOutcome) -> TierFuture<'_> {
        let result = self.cli_judge(outcome);
        done(result)
    }

    fn live_expect(&mut self, outcome: LiveOutcome) -> TierFuture<'_> {
        let result = self.judge(outcome);
        done(result)
    }
}

/// Runs the catalog's `@live` scenarios on the box; their results in the live report's terms
/// (the runner's own JUnit goes to `out/catalog.xml`).
pub fn run(
    live: &Rc<Live>,
    handle: &tokio::runtime::Handle,
    out: &Path,
    destructive: bool,
) -> anyhow::Result<Vec<ScenarioResult>> {
    let features = crate::images::workspace_root().join("features");
    let junit = std::fs::File::create(out.join("catalog.xml"))?;
    let (tier_live, tier_handle) = (Rc::clone(live), handle.clone());
    let tiers = Registry::empty().with(TierTag::Live, move |cx| {
        Ok(Box::new(LiveTier {
            live: Rc::clone(&tier_live),
            handle: tier_handle.clone(),
            scenario: cx.scenario.to_owned(),
            overrides: BTreeMap::new(),
            applied: false,
            monerod_stopped: false,
            monerod_frozen: false,
            removed: false,
            destructive,
            last_status: None,
            last_upgrade: None,
            fingerprints: None,
            sequence: Vec::new(),
            stack_down: false,
            read: None,
            shares_before: None,
        }))
    });
    let report = runner::run(Options {
        features,
        only: None,
        seed: None,
        pretty: Box::new(std::io::sink()),
        junit: Box::new(junit),
        show_record: false,
        tiers,
    });
    let mut results = Vec::new();
    let scenario = |name: &str, status: Status| ScenarioResult {
        name: format!("catalog: {name}"),
        status,
        checks: Vec::new(),
        duration: Duration::ZERO,
    };
    for name in &report.passed {
        results.push(scenario(name, Status::Passed));
    }
    for (name, why) in &report.failed {
        results.push(scenario(name, Status::Failed(why.clone())));
    }
    for (name, reason) in &report.unsupported {
        let class = SkipClass::of_reason(reason);
        results.push(scenario(
            name,
            Status::Skipped {
                class,
                reason: reason.clone(),
            },
        ));
    }
    for result in &results {
        live.progress.finish_scenario(result);
    }
    if !report.parse_errors.is_empty() || !report.invalid.is_empty() {
        anyhow::bail!(
            "the catalog did not load: {:?} {:?}",
            report.parse_errors,
            report.invalid
        );
    }
    Ok(results)
}
