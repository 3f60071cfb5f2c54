//! Section G on the simulation tier: the `pithead` CLI's own library (validation, render,
//! apply with its guards, secrets, backup / restore, reset-dashboard, doctor) against a
//! temporary stack directory, with a compose runner that records instead of calling docker and
//! a terminal that answers as the scenario says. What a real engine or box adds is the live
//! tier's.

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use pithead_runtime::cli::apply::{
    self, ApplyError, ApplyOptions, ApplyOutcome, Prompt, NO_CHANGES, QUESTION,
};
use pithead_runtime::cli::backup::{self, Sealing};
use pithead_runtime::cli::compose::{ComposeError, ComposeRunner};
use pithead_runtime::cli::doctor::{self, Check, Level};
use pithead_runtime::cli::restore;
use pithead_runtime::cli::secrets::OsEntropy;
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::validate::load;
use pithead_runtime::cli::{self as cli, reset};
use serde_json::{json, Value};

use crate::driver::{CliAction, CliOutcome, ConfigProblem, TierError};

const TIER: &str = "sim";

/// A Monero primary address (95 base58 characters starting with 4).
const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
/// A Tari address.
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

/// The `.env` keys holding the secrets a stack keeps across applies.
pub const SECRET_KEYS: &[&str] = &[
    "PROXY_AUTH_TOKEN",
    "P2POOL_ONION",
    "MONERO_ONION",
    "TARI_ONION",
    "MONERO_RPC_PASSWORD",
    "WALLET_RPC_PASSWORD",
];

/// Records every compose command; fails while `fail` is set.
#[derive(Default)]
struct Compose {
    calls: RefCell<Vec<String>>,
    fail: RefCell<bool>,
}

impl ComposeRunner for Compose {
    fn run(&self, args: &[&str]) -> Result<(), ComposeError> {
        let command = args.join(" ");
        self.calls.borrow_mut().push(command.clone());
        if *self.fail.borrow() {
            return Err(ComposeError::Failed {
                command,
                code: Some(1),
            });
        }
        Ok(())
    }
}

/// A terminal that is there (or not) and answers (or not).
struct Terminal {
    present: bool,
    answer: bool,
    asked: Vec<String>,
}

impl Prompt for Terminal {
    fn is_terminal(&self) -> bool {
        self.present
    }
    fn confirm(&mut self, question: &str) -> bool {
        self.asked.push(question.to_owned());
        self.answer
    }
}

/// What the last command printed and how it ended.
#[derive(Debug, Clone, Default)]
struct Run {
    out: String,
    refused: Option<String>,
    asked: Vec<String>,
    outcome: Option<ApplyOutcome>,
    compose_before: usize,
}

/// One scenario's stack directory and what the CLI did to it.
pub struct CliStack {
    dir: tempfile::TempDir,
    config: Value,
    compose: Compose,
    last: Run,
    /// The `.env` secrets after the first apply.
    first_secrets: Option<Vec<(String, String)>>,
    /// config.json's bytes when the backup was taken, and the archive.
    backup: Option<(Vec<u8>, PathBuf)>,
}

fn scenario(message: impl Into<String>) -> TierError {
    TierError::Scenario(message.into())
}

fn failed(message: impl Into<String>) -> TierError {
    TierError::Check(message.into())
}

fn io(what: &str, e: impl std::fmt::Display) -> TierError {
    TierError::Tier {
        tier: TIER,
        message: format!("{what}: {e}"),
    }
}

impl CliStack {
    /// An empty stack directory and a valid local-node config.json (not yet written).
    pub fn new() -> Result<Self, TierError> {
        let dir = tempfile::tempdir().map_err(|e| io("a temporary stack directory", e))?;
        fs::create_dir(dir.path().join("stack")).map_err(|e| io("the stack directory", e))?;
        Ok(Self {
            dir,
            config: json!({
                "monero": { "mode": "local", "prune": true, "wallet_address": XMR },
                "tari": { "mode": "remote", "wallet_address": TARI, "remote": { "host": "tari.lan" } },
                "p2pool": { "pool": "mini" },
            }),
            compose: Compose::default(),
            last: Run::default(),
            first_secrets: None,
            backup: None,
        })
    }

    fn stack(&self) -> StackDir {
        StackDir::new(self.dir.path().join("stack"))
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    /// The stack's dashboard data directory (the runtime's `DATA_DIR` on a box).
    pub fn dashboard_data(&self) -> PathBuf {
        self.stack().dashboard_data()
    }

    /// Sets the dotted `key` of config.json to `value` and runs `pithead apply -y`.
    pub fn set_and_apply(&mut self, key: &str, value: &str) -> Result<(), TierError> {
        self.set(key, json!(value));
        if key == "monero.mode" && value == "remote" {
            self.set("monero.remote.host", json!("node2.lan"));
        }
        self.apply_yes()
    }

    /// Given: config.json's dotted `path` is `value` (the next apply writes it).
    pub fn set_value(&mut self, path: &str, value: Value) {
        self.set(path, value);
    }

    /// When: `pithead apply -y` applies config.json (an error when it did not apply).
    pub fn apply_now(&mut self) -> Result<(), TierError> {
        self.apply_yes()
    }

    /// A key of the `.env` the last apply rendered (`None` when absent).
    pub fn env_value(&self, key: &str) -> Result<Option<String>, TierError> {
        let env = self
            .stack()
            .read_env()
            .map_err(|e| io(".env", e))?
            .ok_or_else(|| failed("no .env in the stack directory"))?;
        Ok(env.get(key).map(str::to_owned))
    }

    fn set(&mut self, path: &str, value: Value) {
        let mut node = &mut self.config;
        for key in path.split('.') {
            node = &mut node[key];
        }
        *node = value;
    }

    fn write_config(&self) -> Result<(), TierError> {
        let text = serde_json::to_string_pretty(&self.config).map_err(|e| io("config.json", e))?;
        fs::write(self.config_path(), text).map_err(|e| io("writing config.json", e))
    }

    /// Given: config.json has `problem`.
    pub fn bad_config(&mut self, problem: ConfigProblem) {
        match problem {
            ConfigProblem::MoneroModeCloud => self.set("monero.mode", json!("cloud")),
            ConfigProblem::PoolHuge => self.set("p2pool.pool", json!("huge")),
            ConfigProblem::RemoteWithoutHost => self.set("monero.mode", json!("remote")),
            ConfigProblem::NoWallets => {
                self.set("monero.wallet_address", json!(""));
                self.set("tari.wallet_address", json!(""));
            }
            ConfigProblem::Subaddress => {
                self.set("monero.wallet_address", json!(format!("8{}", &XMR[1..])));
            }
            ConfigProblem::ControlCharacter => self.set("p2pool.pool", json!("mi\nni")),
        }
    }

    /// `pithead apply` as the binary runs it: the config validated first (refused: nothing
    /// else happens), then the apply with `options` and `terminal`.
    fn apply(&mut self, options: ApplyOptions, mut terminal: Terminal) -> Result<(), TierError> {
        self.write_config()?;
        let text = fs::read_to_string(self.config_path()).map_err(|e| io("config.json", e))?;
        let compose_before = self.compose.calls.borrow().len();
        let settings = match load(&text) {
            Ok(settings) => settings,
            Err(errors) => {
                let refused = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n");
                self.last = Run {
                    refused: Some(refused),
                    compose_before,
                    ..Run::default()
                };
                return Ok(());
            }
        };
        let mut out = Vec::new();
        let result = apply::apply(
            &settings,
            &self.stack(),
            &mut OsEntropy,
            &self.compose,
            &mut terminal,
            &mut out,
            options,
        );
        let out = String::from_utf8_lossy(&out).into_owned();
        let (outcome, refused) = match result {
            Ok(outcome) => (Some(outcome), None),
            Err(e @ (ApplyError::NeedsConsent | ApplyError::Recreate(_))) => {
                (None, Some(e.to_string()))
            }
            Err(e) => return Err(io("pithead apply", e)),
        };
        self.last = Run {
            out,
            refused,
            asked: terminal.asked,
            outcome,
            compose_before,
        };
        Ok(())
    }

    fn apply_yes(&mut self) -> Result<(), TierError> {
        self.apply(
            ApplyOptions {
                yes: true,
                dry_run: false,
            },
            no_terminal(),
        )?;
        match (&self.last.refused, self.last.outcome) {
            (None, Some(_)) => Ok(()),
            _ => Err(failed(format!(
                "pithead apply -y did not apply: {:?}\n{}",
                self.last.refused, self.last.out
            ))),
        }
    }

    fn secrets(&self) -> Result<Vec<(String, String)>, TierError> {
        let env = self
            .stack()
            .read_env()
            .map_err(|e| io(".env", e))?
            .ok_or_else(|| failed("no .env in the stack directory"))?;
        Ok(SECRET_KEYS
            .iter()
            .map(|key| {
                (
                    (*key).to_owned(),
                    env.get(key).unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Given: a first apply (`pithead setup` + apply) generated the stack and its secrets.
    pub fn applied(&mut self) -> Result<(), TierError> {
        self.apply_yes()?;
        self.first_secrets = Some(self.secrets()?);
        Ok(())
    }

    /// Given: the next recreate fails (an apply of a change whose `compose up` fails).
    pub fn failing_recreate(&mut self) -> Result<(), TierError> {
        self.applied()?;
        self.set("p2pool.pool", json!("nano"));
        *self.compose.fail.borrow_mut() = true;
        self.apply(
            ApplyOptions {
                yes: true,
                dry_run: false,
            },
            no_terminal(),
        )?;
        *self.compose.fail.borrow_mut() = false;
        if !self.stack().apply_incomplete() {
            return Err(failed(format!(
                "a failed recreate left no apply-incomplete marker: {:?}",
                self.last.refused
            )));
        }
        Ok(())
    }

    /// When: the operator acts.
    pub fn when(&mut self, action: &CliAction) -> Result<(), TierError> {
        match action {
            CliAction::Apply { yes } => self.apply(
                ApplyOptions {
                    yes: *yes,
                    dry_run: false,
                },
                no_terminal(),
            ),
            CliAction::ChangeAndApply(key) => {
                match key.as_str() {
                    "dashboard.secure" => self.set("dashboard.secure", json!(false)),
                    "p2pool.pool" => self.set("p2pool.pool", json!("nano")),
                    "monero.prune from true to false" => self.set("monero.prune", json!(false)),
                    other => return Err(scenario(format!("no change is known for {other:?}"))),
                }
                // A terminal that declines: what was asked shows, nothing is applied.
                self.apply(
                    ApplyOptions::default(),
                    Terminal {
                        present: true,
                        answer: false,
                        asked: Vec::new(),
                    },
                )
            }
            CliAction::ChangePoolApplyTwice => {
                self.set("p2pool.pool", json!("nano"));
                self.apply_yes()?;
                self.set("p2pool.pool", json!("main"));
                self.apply_yes()
            }
            CliAction::Backup => self.take_backup(),
            CliAction::ChangePoolAndRestore => {
                self.set("p2pool.pool", json!("nano"));
                self.apply_yes()?;
                self.restore()
            }
            CliAction::DestructiveRunFails => self.safety_rollback(),
            CliAction::Command(command) => self.command(command),
            other => Err(scenario(format!(
                "{other:?} is not a stack-directory action"
            ))),
        }
    }

    fn take_backup(&mut self) -> Result<(), TierError> {
        let archive = self.dir.path().join("pithead-backup.tar.gz");
        let config = self.config_path();
        backup::backup(&config, &self.stack(), &archive, Sealing::Plain, true)
            .map_err(|e| io("pithead backup", e))?;
        let bytes = fs::read(&config).map_err(|e| io("config.json", e))?;
        self.backup = Some((bytes, archive));
        Ok(())
    }

    fn restore(&mut self) -> Result<(), TierError> {
        let (_, archive) = self
            .backup
            .clone()
            .ok_or_else(|| scenario("no backup was taken"))?;
        let bytes = restore::read_archive(&archive).map_err(|e| io("reading the archive", e))?;
        let tar_gz = restore::unseal(&archive, bytes, None).map_err(|e| io("the archive", e))?;
        let contents = restore::audit(&tar_gz).map_err(|e| io("the archive's audit", e))?;
        restore::write(&contents, &self.config_path(), &self.stack())
            .map_err(|e| io("pithead restore", e))
    }

    /// The live matrix's safety backup, with this stack: backup, a destructive apply whose
    /// recreate fails, then down → restore → up.
    fn safety_rollback(&mut self) -> Result<(), TierError> {
        self.take_backup()?;
        self.set("monero.prune", json!(false));
        *self.compose.fail.borrow_mut() = true;
        self.apply(
            ApplyOptions {
                yes: true,
                dry_run: false,
            },
            no_terminal(),
        )?;
        *self.compose.fail.borrow_mut() = false;
        if self.last.refused.is_none() {
            return Err(failed("the destructive apply did not fail"));
        }
        self.compose
            .run(&["down"])
            .map_err(|e| io("pithead down", e))?;
        self.restore()?;
        self.compose
            .run(&["up", "-d"])
            .map_err(|e| io("pithead up", e))
    }

    fn command(&mut self, command: &str) -> Result<(), TierError> {
        let compose_before = self.compose.calls.borrow().len();
        let out = match command {
            "reset-dashboard" => {
                let data = self.dashboard_data();
                fs::create_dir_all(&data).map_err(|e| io("the data directory", e))?;
                for name in ["history.sqlite", "history.sqlite-wal", reset::KEEP[0]] {
                    fs::write(data.join(name), b"x").map_err(|e| io("the data directory", e))?;
                }
                let removed = reset::reset_dashboard(&self.stack(), &self.compose)
                    .map_err(|e| io("pithead reset-dashboard", e))?;
                removed.join("\n")
            }
            "doctor" => self.doctor()?,
            _ => cli::version_line(),
        };
        self.last = Run {
            out,
            compose_before,
            ..Run::default()
        };
        Ok(())
    }

    /// `pithead doctor`'s checks on this stack's config, with the host's readings fixed.
    fn doctor(&self) -> Result<String, TierError> {
        let text = fs::read_to_string(self.config_path()).map_err(|e| io("config.json", e))?;
        let settings = load(&text).map_err(|e| failed(format!("{e:?}")))?;
        let mut checks = vec![Check::new(Level::Ok, "config.json is valid")];
        let need = doctor::disk_need(&settings);
        checks.push(doctor::disk(need * 2, need, "/var/lib/docker"));
        checks.push(doctor::hugepages(
            "HugePages_Total:    1280\nHugepagesize:       2048 kB\n",
        ));
        for (port, what) in doctor::ports(&settings) {
            checks.push(doctor::port(port, what, false));
        }
        let (summary, _) = doctor::summary(&checks);
        let mut lines: Vec<String> = checks.iter().map(Check::line).collect();
        lines.push(summary);
        Ok(lines.join("\n"))
    }

    /// Then: what the last command printed or left behind.
    pub fn expect(&mut self, outcome: &CliOutcome) -> Result<(), TierError> {
        if *outcome == CliOutcome::AskedUnlessYes {
            self.expect_asked()?;
            // With -y the same change applies without a question.
            self.apply(
                ApplyOptions {
                    yes: true,
                    dry_run: false,
                },
                Terminal {
                    present: true,
                    answer: false,
                    asked: Vec::new(),
                },
            )?;
            let last = &self.last;
            return if last.asked.is_empty() && last.outcome == Some(ApplyOutcome::Applied) {
                Ok(())
            } else {
                Err(failed(format!(
                    "with -y: asked {:?}, outcome {:?}",
                    last.asked, last.outcome
                )))
            };
        }
        self.expect_now(outcome)
    }

    fn expect_asked(&self) -> Result<(), TierError> {
        let last = &self.last;
        if last.asked == [QUESTION]
            && last.outcome == Some(ApplyOutcome::Cancelled)
            && last.out.contains("[CONFIRM]")
        {
            Ok(())
        } else {
            Err(failed(format!(
                "asked {:?}, outcome {:?}, printed {:?}",
                last.asked, last.outcome, last.out
            )))
        }
    }

    fn expect_now(&self, outcome: &CliOutcome) -> Result<(), TierError> {
        let last = &self.last;
        let ensure = |ok: bool, why: String| if ok { Ok(()) } else { Err(failed(why)) };
        let seen = || format!("printed {:?}, refused {:?}", last.out, last.refused);
        match outcome {
            CliOutcome::RefusedWith(message) => ensure(
                last.refused
                    .as_deref()
                    .is_some_and(|r| r.lines().any(|l| l == message)),
                format!("expected the refusal {message:?}; {}", seen()),
            ),
            CliOutcome::RefusedSubaddress => ensure(
                last.refused
                    .as_deref()
                    .is_some_and(|r| r.contains("p2pool cannot pay subaddresses")),
                seen(),
            ),
            CliOutcome::RefusedNamingKey => ensure(
                last.refused
                    .as_deref()
                    .is_some_and(|r| r.contains("p2pool.pool") && r.contains("control character")),
                seen(),
            ),
            CliOutcome::NothingWritten => {
                let written: Vec<String> = fs::read_dir(self.stack().root())
                    .map(|d| {
                        d.filter_map(Result::ok)
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                ensure(
                    written.is_empty() && self.compose.calls.borrow().is_empty(),
                    format!(
                        "the stack directory holds {written:?}; compose ran {:?}",
                        self.compose.calls.borrow()
                    ),
                )
            }
            CliOutcome::SecretsUnchanged => {
                let first = self
                    .first_secrets
                    .clone()
                    .ok_or_else(|| scenario("no first apply"))?;
                let now = self.secrets()?;
                let changed: Vec<&str> = first
                    .iter()
                    .zip(&now)
                    .filter(|(a, b)| a != b)
                    .map(|(a, _)| a.0.as_str())
                    .collect();
                let empty: Vec<&str> = now
                    .iter()
                    .filter(|(_, v)| v.is_empty())
                    .map(|(k, _)| k.as_str())
                    .collect();
                ensure(
                    changed.is_empty() && empty.is_empty(),
                    format!("secrets changed: {changed:?}; empty: {empty:?}"),
                )
            }
            CliOutcome::RpcPassword32 => {
                let env = self.secrets()?;
                let password = env
                    .iter()
                    .find(|(k, _)| k == "MONERO_RPC_PASSWORD")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                ensure(
                    password.len() == 32 && password.chars().all(|c| c.is_ascii_alphanumeric()),
                    format!(
                        "the node RPC password has {} characters, alphanumeric: {}",
                        password.len(),
                        password.chars().all(|c| c.is_ascii_alphanumeric())
                    ),
                )
            }
            CliOutcome::EnvMode600 => {
                let mode = fs::metadata(self.stack().env_path())
                    .map_err(|e| io(".env", e))?
                    .permissions()
                    .mode()
                    & 0o777;
                ensure(mode == 0o600, format!(".env has mode {mode:o}"))
            }
            CliOutcome::Prints(line) => ensure(
                last.out.lines().any(|l| l.trim() == line),
                format!("expected the line {line:?}; {}", seen()),
            ),
            CliOutcome::NothingRecreated => ensure(
                self.compose.calls.borrow().len() == last.compose_before
                    && last.out.trim() == NO_CHANGES,
                format!("compose ran {:?}; {}", self.compose.calls.borrow(), seen()),
            ),
            CliOutcome::AppliedWithoutQuestion => ensure(
                last.asked.is_empty() && last.outcome == Some(ApplyOutcome::Applied),
                format!(
                    "asked {:?}, outcome {:?}; {}",
                    last.asked,
                    last.outcome,
                    seen()
                ),
            ),
            CliOutcome::WarnedResync => {
                let warned = last
                    .out
                    .lines()
                    .any(|l| l.contains("[DESTRUCTIVE]") && l.contains("re-syncs from scratch"));
                ensure(
                    warned && last.asked == [QUESTION],
                    format!("asked {:?}; {}", last.asked, seen()),
                )
            }
            CliOutcome::RetriedRecreate => ensure(
                last.out
                    .contains("The last apply did not finish: recreating the stack again.")
                    && self.compose.calls.borrow()[last.compose_before..]
                        == ["up -d --remove-orphans"],
                format!("compose ran {:?}; {}", self.compose.calls.borrow(), seen()),
            ),
            CliOutcome::MarkerRemoved => ensure(
                !self.stack().apply_incomplete() && last.outcome == Some(ApplyOutcome::Applied),
                format!(
                    "marker present: {}; {}",
                    self.stack().apply_incomplete(),
                    seen()
                ),
            ),
            CliOutcome::ArchiveLists => {
                let (_, archive) = self.backup.clone().ok_or_else(|| scenario("no backup"))?;
                let bytes = restore::read_archive(&archive).map_err(|e| io("the archive", e))?;
                let tar_gz =
                    restore::unseal(&archive, bytes, None).map_err(|e| io("the archive", e))?;
                let contents = restore::audit(&tar_gz).map_err(|e| io("the archive", e))?;
                let env = fs::read(self.stack().env_path()).map_err(|e| io(".env", e))?;
                ensure(
                    !contents.config.is_empty() && contents.env == env,
                    "the archive's config.json or .env is not the stack's".to_owned(),
                )
            }
            CliOutcome::ConfigIdentical => {
                let (bytes, _) = self.backup.clone().ok_or_else(|| scenario("no backup"))?;
                let now = fs::read(self.config_path()).map_err(|e| io("config.json", e))?;
                ensure(
                    now == bytes,
                    "config.json differs from the backed-up one".to_owned(),
                )
            }
            CliOutcome::FingerprintsEqual => self.expect_now(&CliOutcome::SecretsUnchanged),
            CliOutcome::RolledBack => {
                let calls = self.compose.calls.borrow();
                let tail: Vec<&str> = calls
                    .iter()
                    .rev()
                    .take(2)
                    .rev()
                    .map(String::as_str)
                    .collect();
                ensure(tail == ["down", "up -d"], format!("compose ran {calls:?}"))
            }
            CliOutcome::CommandWorked(command) => self.command_worked(command),
            other => Err(scenario(format!(
                "{other:?} is not about the stack directory"
            ))),
        }
    }

    fn command_worked(&self, command: &str) -> Result<(), TierError> {
        let out = &self.last.out;
        let secrets = self.secrets()?;
        if let Some((key, _)) = secrets
            .iter()
            .find(|(_, v)| !v.is_empty() && v != "placeholder" && out.contains(v.as_str()))
        {
            return Err(failed(format!("pithead {command} printed {key}'s value")));
        }
        let ok = match command {
            "reset-dashboard" => {
                let data = self.dashboard_data();
                let left: Vec<String> = fs::read_dir(&data)
                    .map_err(|e| io("the data directory", e))?
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                let config_kept = self.config_path().exists() && self.stack().env_path().exists();
                let calls = self.compose.calls.borrow();
                left.iter().all(|n| reset::KEEP.contains(&n.as_str()))
                    && out.contains("history.sqlite")
                    && config_kept
                    && calls[self.last.compose_before..] == ["stop dashboard", "up -d dashboard"]
            }
            "doctor" => {
                let marks = ["✓", "⚠", "✗"];
                out.lines().count() > 2
                    && out
                        .lines()
                        .take(out.lines().count() - 1)
                        .all(|l| marks.iter().any(|m| l.trim_start().starts_with(m)))
            }
            _ => {
                let version = out.strip_prefix("pithead ").unwrap_or_default();
                version.split('.').count() == 3
                    && version.split('.').all(|p| p.parse::<u32>().is_ok())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(failed(format!("pithead {command} printed {out:?}")))
        }
    }
}

fn no_terminal() -> Terminal {
    Terminal {
        present: false,
        answer: false,
        asked: Vec::new(),
    }
}
