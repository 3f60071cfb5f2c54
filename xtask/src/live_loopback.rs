//! `cargo xtask live-loopback [--keep]`: `test-live` proven end to end on this machine.
//!
//! A loopback `sshd` (Debian's openssh-server: its own port, host key and authorized key,
//! started and stopped here) stands in front of a box directory where the shipped compose file
//! runs on the local docker engine. The box's own `compose.override.yaml` swaps every service's
//! image for the locally built ones (`pithead/fake:dev` stand-ins, `pithead/runtime:dev`) and
//! shortens health checks and the runtime's windows: the box is the test's, the harness is not.
//! `test-live` is then run as an operator runs it, over ssh, and judged from the outside:
//!
//! 1. `--check` passes and the box's files and containers are identical before and after;
//! 2. one matrix row, `--fault-injection` and `--lifecycle` pass, and config.json is back
//!    byte for byte with every secret kept;
//! 3. `--safety-backup` with a failure injected on purpose exits 1, the rollback passes, and
//!    config.json and the secrets are as before;
//! 4. no raw secret is in anything the runs wrote.
//!
//! Outside CI a machine without docker, compose or sshd skips loudly; under `CI=true` that fails.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;

// The shipped compose file's services, each its own `container_name`: a stack of someone else's
// with these names on this engine would collide with the box.
use pithead_runtime::control::verdicts::STACK_SERVICES as STACK_CONTAINERS;

use crate::live::battery::parse_env;
use crate::live::matrix;

/// `cargo xtask live-loopback` options.
#[derive(Debug, Default, Args)]
pub struct LoopbackArgs {
    /// Leave the box's stack and sshd running afterwards (prints how to reach them).
    #[arg(long)]
    keep: bool,
}

/// The wallet addresses of the loopback box's config.json (valid shapes, no real funds).
const XMR_WALLET: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI_WALLET: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

/// The box's stand-ins for remote nodes (services of its compose override).
const REMOTE_MONERO: &str = "remote_monero_host=monero-remote";
const REMOTE_TARI: &str = "remote_tari_host=tari-remote";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn output(program: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("timeout")
        .arg("120")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program}"))
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    output(program, args).is_ok_and(|o| o.status.success())
}

/// Why this machine cannot run the loopback box, if it cannot.
fn missing_prerequisite() -> Option<String> {
    if !succeeds("docker", &["version", "--format", "{{.Server.Version}}"]) {
        return Some("no docker engine answers".into());
    }
    if !succeeds("docker-compose", &["version"]) && !succeeds("docker", &["compose", "version"]) {
        return Some("no docker compose".into());
    }
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some("no /usr/sbin/sshd (Debian: apt-get install openssh-server)".into());
    }
    if !Path::new("/usr/bin/ssh-keygen").exists() {
        return Some("no ssh-keygen".into());
    }
    None
}

/// Runs the loopback proof.
pub fn run(args: &LoopbackArgs) -> anyhow::Result<()> {
    if let Some(why) = missing_prerequisite() {
        if in_ci() {
            bail!("the live loopback cannot run under CI: {why}");
        }
        eprintln!("\n*** xtask: the live loopback is SKIPPED: {why}\n");
        return Ok(());
    }
    #[allow(clippy::disallowed_methods)] // a real run's wall time
    let start = std::time::Instant::now();
    crate::images::build()?;
    let pithead = crate::images::static_pithead();
    anyhow::ensure!(pithead.exists(), "no {} after the build", pithead.display());
    let root = crate::images::workspace_root()
        .join("target")
        .join("live-loopback");
    sweep(&root)?;
    let work = root.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let sshd = Sshd::start(&work)?;
    let stack = Box_::create(&work, &pithead)?;
    let guard = Teardown {
        stack: stack.dir.clone(),
        keep: args.keep,
    };
    let result = prove(&work, &sshd, &stack, start);
    if args.keep {
        eprintln!(
            "kept: the box in {} (ssh -p {} -i {} {}@127.0.0.1)",
            stack.dir.display(),
            sshd.port,
            sshd.identity.display(),
            sshd.user
        );
        std::mem::forget(sshd);
    }
    drop(guard);
    result
}

/// Removes what earlier loopback runs left: their containers (found by compose's working-dir
/// label under `root`) and their directories. Refuses when a container with one of the shipped
/// names belongs to anything else.
fn sweep(root: &Path) -> anyhow::Result<()> {
    let root_text = root.display().to_string();
    let out = output(
        "docker",
        &[
            "ps",
            "-a",
            "--format",
            "{{.Names}}\t{{.Label \"com.docker.compose.project.working_dir\"}}",
        ],
    )?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (name, dir) = line.split_once('\t').unwrap_or((line, ""));
        if dir.starts_with(&root_text) {
            output("docker", &["rm", "-f", name])?;
        } else if STACK_CONTAINERS.contains(&name) {
            bail!(
                "a container named {name} that is not a loopback box's runs on this engine \
                 (compose dir {dir:?}); the loopback box would collide with it"
            );
        }
    }
    if root.exists() {
        for entry in std::fs::read_dir(root)? {
            std::fs::remove_dir_all(entry?.path()).ok();
        }
    }
    Ok(())
}

/// A free loopback port (the OS picks it; a race with another process is possible and would
/// show as sshd failing to bind, with its message).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The loopback sshd and the client's key and known-hosts file.
struct Sshd {
    child: Child,
    port: u16,
    user: String,
    identity: PathBuf,
    known_hosts: PathBuf,
}

impl Sshd {
    fn start(work: &Path) -> anyhow::Result<Self> {
        let dir = work.join("ssh");
        std::fs::create_dir_all(&dir)?;
        let host_key = dir.join("host_ed25519");
        let identity = dir.join("client_ed25519");
        for key in [&host_key, &identity] {
            let out = output(
                "ssh-keygen",
                &[
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-f",
                    &key.display().to_string(),
                ],
            )?;
            anyhow::ensure!(
                out.status.success(),
                "ssh-keygen failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::copy(identity.with_extension("pub"), dir.join("authorized_keys"))?;
        let user = String::from_utf8_lossy(&output("id", &["-un"])?.stdout)
            .trim()
            .to_owned();
        let port = free_port()?;
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
                 AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                 AllowUsers {user}\nLogLevel ERROR\n",
                host_key.display(),
                dir.join("sshd.pid").display(),
                dir.join("authorized_keys").display(),
            ),
        )?;
        // sshd's privilege separation directory (Debian creates it at boot, not at install).
        std::fs::create_dir_all("/run/sshd").ok();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sshd.log"))?)
            .spawn()
            .context("starting /usr/sbin/sshd")?;
        let mut sshd = Self {
            child,
            port,
            user,
            identity,
            known_hosts: dir.join("known_hosts"),
        };
        sshd.wait_listening(&dir)?;
        Ok(sshd)
    }

    fn wait_listening(&mut self, dir: &Path) -> anyhow::Result<()> {
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default();
                bail!("sshd exited ({status}): {log}");
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("sshd did not listen on 127.0.0.1:{} within 10 s", self.port)
    }

    /// The `test-live` arguments that reach the box through it.
    fn args(&self, stack: &Box_) -> Vec<String> {
        vec![
            "--host".into(),
            format!("{}@127.0.0.1", self.user),
            "--port".into(),
            self.port.to_string(),
            "--identity".into(),
            self.identity.display().to_string(),
            "--known-hosts".into(),
            self.known_hosts.display().to_string(),
            "--dir".into(),
            stack.dir.display().to_string(),
        ]
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The box directory and its stack.
struct Box_ {
    dir: PathBuf,
}

/// Takes the box's stack down (volumes too) unless kept.
struct Teardown {
    stack: PathBuf,
    keep: bool,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        if !self.keep {
            let _ = Command::new(self.stack.join("pithead"))
                .args(["down"])
                .current_dir(&self.stack)
                .status();
            let _ = output(
                "docker",
                &[
                    "volume",
                    "rm",
                    "-f",
                    "pithead_monero-data",
                    "pithead_tari-data",
                    "pithead_p2pool-data",
                    "pithead_caddy-data",
                ],
            );
        }
    }
}

/// The loopback box's override: every service on the local images, health checks every 2 s
/// (the stand-ins and socket proxies probe their own endpoints: the images have no shell), and
/// the runtime's windows shortened. A real box keeps the shipped file alone.
const OVERRIDE: &str = r#"# The loopback box (cargo xtask live-loopback): the shipped stack on locally built images.
services:
  tor:
    image: pithead/fake:dev
    command: ["p2pool", "--listen", "0.0.0.0:3380"]
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:3380/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  monerod:
    image: pithead/fake:dev
    stop_grace_period: 5s
    command: ["monerod", "--listen", "0.0.0.0:18081", "--initial", '{"mode":"synced","height":3000000}']
    environment:
      FAKE_MONEROD_RPC_LOGIN: "${MONERO_RPC_USER}:${MONERO_RPC_PASSWORD}"
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:18081/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  tari:
    image: pithead/fake:dev
    stop_grace_period: 5s
    command: ["tari", "--listen", "0.0.0.0:18142", "--control-listen", "0.0.0.0:9000", "--initial", '{"mode":"synced","height":50000}']
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:9000/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  p2pool:
    image: pithead/fake:dev
    stop_grace_period: 5s
    command: ["p2pool", "--listen", "0.0.0.0:3380"]
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:3380/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  xmrig-proxy:
    image: pithead/fake:dev
    stop_grace_period: 5s
    command: ["xmrig-proxy", "--listen", "0.0.0.0:3344"]
    environment:
      FAKE_XMRIG_PROXY_TOKEN: "${PROXY_AUTH_TOKEN}"
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:3344/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  dashboard:
    environment:
      XVB_API_URL: "http://xvb:8088"
      XVB_PROXY: ""
      UPDATE_INTERVAL: "2"
      NODE_DOWN_AFTER_SEC: "4"
      NODE_RECOVERY_AFTER_SEC: "2"
      RPC_TIMEOUT_SEC: "1"
    healthcheck: {test: ["CMD", "/pithead-runtime", "healthcheck"], interval: 2s, timeout: 2s, retries: 3, start_period: 1s}
  docker-proxy:
    image: pithead/fake:dev
    user: "0:0"
    command: ["socket-proxy", "--listen", "0.0.0.0:2375", "--access", "read-only"]
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:2375/_ping"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  docker-control:
    image: pithead/fake:dev
    user: "0:0"
    command: ["socket-proxy", "--listen", "0.0.0.0:2375", "--access", "start-stop"]
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:2375/_ping"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
  # XvB's stats API (the real one is https://xmrvsbeast.com through Tor).
  xvb:
    image: pithead/fake:dev
    command: ["xvb", "--listen", "0.0.0.0:8088"]
    networks: [mining_net]
  # The "remote" nodes the matrix's remote rows point at (--input remote_monero_host=...).
  monero-remote:
    image: pithead/fake:dev
    command: ["monerod", "--listen", "0.0.0.0:18081", "--initial", '{"mode":"synced","height":3000000}']
    networks: [mining_net]
  tari-remote:
    image: pithead/fake:dev
    command: ["tari", "--listen", "0.0.0.0:18142", "--control-listen", "0.0.0.0:9000", "--initial", '{"mode":"synced","height":50000}']
    networks: [mining_net]
  caddy:
    image: pithead/fake:dev
    command: ["p2pool", "--listen", "0.0.0.0:3380"]
    healthcheck: {test: ["CMD", "/pithead-fake", "probe", "http://127.0.0.1:3380/control"], interval: 2s, timeout: 2s, retries: 2, start_period: 1s}
"#;

impl Box_ {
    /// Lays the box out (the static pithead, a config.json, the override), applies it as an
    /// operator would, and waits until it is ready.
    fn create(work: &Path, pithead: &Path) -> anyhow::Result<Self> {
        let dir = work.join("box");
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(pithead, dir.join("pithead"))?;
        let config = serde_json::json!({
            "monero": { "wallet_address": XMR_WALLET },
            "tari": { "wallet_address": TARI_WALLET },
        });
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&config)? + "\n",
        )?;
        std::fs::write(dir.join("compose.override.yaml"), OVERRIDE)?;
        let stack = Self { dir };
        eprintln!("+ ./pithead apply -y (in {})", stack.dir.display());
        let out = stack.pithead(&["apply", "-y"])?;
        anyhow::ensure!(
            out.status.success(),
            "setting the loopback box up failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        stack.wait_ready(Duration::from_secs(180))?;
        Ok(stack)
    }

    fn pithead(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Command::new(self.dir.join("pithead"))
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .context("running the box's pithead")
    }

    /// Waits until `pithead status` exits 0 and the runtime released the miners.
    fn wait_ready(&self, deadline: Duration) -> anyhow::Result<()> {
        let polls = deadline.as_secs() / 2;
        let mut last = String::new();
        for _ in 0..polls {
            let status = self.pithead(&["status"])?;
            let state = self.pithead(&["state", "--json"])?;
            let released = serde_json::from_slice::<serde_json::Value>(&state.stdout)
                .ok()
                .and_then(|s| s.get("miner_released").and_then(serde_json::Value::as_bool))
                == Some(true);
            if status.status.success() && released {
                return Ok(());
            }
            last = String::from_utf8_lossy(&status.stdout).into_owned();
            std::thread::sleep(Duration::from_secs(2));
        }
        bail!("the loopback box was not ready within {deadline:?}; last status:\n{last}")
    }

    /// What `--check` must not change: the files' bytes and the containers' identity, state,
    /// start time and restart count, read here (not through the harness under test).
    fn fingerprint(&self) -> anyhow::Result<Vec<String>> {
        let mut lines = Vec::new();
        for file in [
            "config.json",
            ".env",
            "Caddyfile",
            "compose.yaml",
            "compose.override.yaml",
        ] {
            let bytes = std::fs::read(self.dir.join(file)).unwrap_or_default();
            lines.push(format!(
                "{file} {}",
                crate::live::redact::fingerprint(&String::from_utf8_lossy(&bytes))
            ));
        }
        let mut args = vec![
            "inspect",
            "--format",
            "{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}",
        ];
        args.extend(STACK_CONTAINERS);
        let out = output("docker", &args)?;
        lines.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned),
        );
        Ok(lines)
    }

    fn env(&self) -> anyhow::Result<BTreeMap<String, String>> {
        Ok(parse_env(&std::fs::read_to_string(self.dir.join(".env"))?))
    }

    fn secrets(&self) -> anyhow::Result<Vec<String>> {
        let env = self.env()?;
        let mut secrets: Vec<String> = pithead_runtime::cli::env_file::SECRET_ENV_KEYS
            .iter()
            .filter_map(|k| env.get(*k).cloned())
            .filter(|v| v.len() >= 8)
            .collect();
        secrets.push(XMR_WALLET.to_owned());
        secrets.push(TARI_WALLET.to_owned());
        Ok(secrets)
    }
}

/// A copy of this xtask binary in the run's directory (beside `out`): a rebuild of xtask while
/// the loopback runs must not change the program it tests.
fn work_xtask(out: &Path) -> anyhow::Result<PathBuf> {
    let work = out.parent().context("the output directory has no parent")?;
    let copy = work.join("xtask");
    if !copy.exists() {
        std::fs::copy(std::env::current_exe()?, &copy)?;
    }
    Ok(copy)
}

/// One `test-live` run: its exit code, its output, and its wall time.
struct LiveRun {
    code: Option<i32>,
    stdout: String,
    secs: f64,
}

fn test_live(sshd: &Sshd, stack: &Box_, out: &Path, extra: &[&str]) -> anyhow::Result<LiveRun> {
    let mut args: Vec<String> = vec!["test-live".into()];
    args.extend(sshd.args(stack));
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    eprintln!("+ cargo xtask {}", args.join(" "));
    #[allow(clippy::disallowed_methods)] // a real run's wall time
    let start = std::time::Instant::now();
    // Its output is shown as it comes (a live run waits minutes on a real box) and kept.
    let mut child = Command::new(work_xtask(out)?)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdout = String::new();
    if let Some(pipe) = child.stdout.take() {
        for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)) {
            let line = line?;
            eprintln!("{line}");
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child.wait()?;
    Ok(LiveRun {
        code: status.code(),
        stdout,
        secs: start.elapsed().as_secs_f64(),
    })
}

fn expect_code(what: &str, run: &LiveRun, code: i32) -> anyhow::Result<()> {
    if run.code != Some(code) {
        bail!("{what}: test-live exited {:?}, expected {code}", run.code);
    }
    Ok(())
}

/// The summary line `test-live` printed (`N passed, M failed, K skipped (...)`).
fn summary_line(run: &LiveRun) -> String {
    run.stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .unwrap_or("(no summary)")
        .to_owned()
}

fn prove(work: &Path, sshd: &Sshd, stack: &Box_, start: std::time::Instant) -> anyhow::Result<()> {
    let setup = start.elapsed().as_secs_f64();
    let config_before = std::fs::read(stack.dir.join("config.json"))?;
    let secrets_before = stack.env()?;
    let secret_keys = pithead_runtime::cli::env_file::SECRET_ENV_KEYS;
    let secrets_equal = |after: &BTreeMap<String, String>| {
        secret_keys
            .iter()
            .all(|k| secrets_before.get(*k) == after.get(*k))
    };
    let rows = matrix::rows()?;
    // Rows that run on any box: no input needed, no re-sync of the chain.
    let plain: Vec<&matrix::Row> = rows
        .iter()
        .filter(|r| {
            r.needs.is_empty()
                && r.overrides.get("monero.prune") != Some(&serde_json::Value::Bool(false))
        })
        .collect();
    anyhow::ensure!(
        plain.len() >= 2,
        "the matrix has fewer than two rows that run on any box"
    );

    // 1. --check changes nothing.
    let before = stack.fingerprint()?;
    let check = test_live(sshd, stack, &work.join("out-check"), &["--check"])?;
    expect_code("--check", &check, 0)?;
    let after = stack.fingerprint()?;
    anyhow::ensure!(
        before == after,
        "--check changed the box:\nbefore {before:#?}\nafter {after:#?}"
    );

    // 2. One matrix row, fault injection and the lifecycle; a row that needs an input the
    //    box was not given and one that would re-sync the chain are skipped, each in its class.
    let row = &plain[0].name;
    let remote = |input: &str| {
        rows.iter()
            .find(|r| r.needs.iter().any(|n| n == input))
            .map(|r| r.name.clone())
            .with_context(|| format!("the matrix has no row that needs {input}"))
    };
    let (remote_monero, remote_tari) = (remote("remote_monero_host")?, remote("remote_tari_host")?);
    let resyncs = rows
        .iter()
        .find(|r| r.overrides.get("monero.prune") == Some(&serde_json::Value::Bool(false)))
        .context("the matrix has no row that turns pruning off")?;
    // The remote Monero row runs against the box's "remote" node; the remote Tari row is not
    // given its input (skipped: missing), the destructive row is not allowed (by-design).
    let full = test_live(
        sshd,
        stack,
        &work.join("out-matrix"),
        &[
            "--input",
            REMOTE_MONERO,
            "--scenario",
            row,
            "--scenario",
            &remote_monero,
            "--scenario",
            &remote_tari,
            "--scenario",
            &resyncs.name,
            "--fault-injection",
            "--lifecycle",
        ],
    )?;
    expect_code("matrix + faults + lifecycle", &full, 0)?;
    let summary = summary_line(&full);
    anyhow::ensure!(
        summary.starts_with("11 passed, 0 failed, 2 skipped (missing 1, by-design 1,"),
        "the matrix run's summary is {summary:?}"
    );
    anyhow::ensure!(
        std::fs::read(stack.dir.join("config.json"))? == config_before,
        "after the matrix run config.json is not the one found on the box"
    );
    anyhow::ensure!(
        secrets_equal(&stack.env()?),
        "the matrix run changed a secret"
    );

    // 3. The catalog's @live scenarios, on the same box through the same ssh: none fails;
    //    what a test box cannot prove (its p2pool and caddy are stand-ins, its Tor publishes no
    //    onion, a syncing Tari is the simulation's) is skipped in its class.
    let catalog = test_live(
        sshd,
        stack,
        &work.join("out-catalog"),
        &[
            "--catalog",
            "--input",
            REMOTE_MONERO,
            "--input",
            REMOTE_TARI,
        ],
    )?;
    expect_code("--catalog", &catalog, 0)?;
    let counts = Counts::of(&summary_line(&catalog))?;
    anyhow::ensure!(
        counts.failed == 0 && counts.passed >= 10 && counts.missing >= 3 && counts.covered >= 1,
        "the catalog run's summary is {:?}",
        summary_line(&catalog)
    );
    anyhow::ensure!(
        std::fs::read(stack.dir.join("config.json"))? == config_before,
        "after the catalog run config.json is not the one found on the box"
    );
    anyhow::ensure!(
        secrets_equal(&stack.env()?),
        "the catalog run changed a secret"
    );

    // 4. The safety backup rolls an injected failure back.
    let row = &plain[1].name;
    let safety = test_live(
        sshd,
        stack,
        &work.join("out-safety"),
        &[
            "--safety-backup",
            "--scenario",
            row,
            "--inject-failure",
            row,
        ],
    )?;
    expect_code("--safety-backup with an injected failure", &safety, 1)?;
    let junit = std::fs::read_to_string(work.join("out-safety").join("junit.xml"))?;
    anyhow::ensure!(
        junit.contains("safety backup: roll back"),
        "the rollback did not run:\n{junit}"
    );
    let rolled_back = safety
        .stdout
        .lines()
        .any(|l| l.starts_with("✓ safety backup: roll back"));
    anyhow::ensure!(rolled_back, "the rollback did not pass");
    anyhow::ensure!(
        std::fs::read(stack.dir.join("config.json"))? == config_before,
        "after the rollback config.json is not byte-identical"
    );
    anyhow::ensure!(secrets_equal(&stack.env()?), "the rollback lost a secret");
    let artifacts = work.join("out-safety").join("artifacts");
    anyhow::ensure!(
        artifacts.is_dir(),
        "the failed scenario left no artifacts in {}",
        artifacts.display()
    );

    // 5. No raw secret in anything the runs wrote or printed.
    let secrets = stack.secrets()?;
    for run in [&check, &full, &catalog, &safety] {
        for secret in &secrets {
            anyhow::ensure!(
                !run.stdout.contains(secret.as_str()),
                "test-live printed a raw secret"
            );
        }
    }
    for dir in ["out-check", "out-matrix", "out-catalog", "out-safety"] {
        leak_free(&work.join(dir), &secrets)?;
    }
    eprintln!(
        "live loopback: passed\n  setup (images, pithead, sshd, box up) {setup:.0} s\n  \
         --check {:.0} s: {}\n  matrix row + --fault-injection + --lifecycle {:.0} s: {}\n  \
         --catalog {:.0} s: {}\n  \
         --safety-backup with an injected failure {:.0} s: {}\n  wall time {:.0} s",
        check.secs,
        summary_line(&check),
        full.secs,
        summary_line(&full),
        catalog.secs,
        summary_line(&catalog),
        safety.secs,
        summary_line(&safety),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The counts of a `test-live` summary line.
#[derive(Debug, Default)]
struct Counts {
    passed: usize,
    failed: usize,
    missing: usize,
    covered: usize,
}

impl Counts {
    /// Parses `9 passed, 0 failed, 2 skipped (missing 1, by-design 1, covered 0)`.
    fn of(line: &str) -> anyhow::Result<Self> {
        let number = |word: &str| -> usize {
            line.split([',', '(', ')'])
                .map(str::trim)
                .find_map(|part| {
                    let (a, b) = part.split_once(' ')?;
                    match (a.parse::<usize>(), b.parse::<usize>()) {
                        (Ok(n), _) if b == word => Some(n),
                        (_, Ok(n)) if a == word => Some(n),
                        _ => None,
                    }
                })
                .unwrap_or(0)
        };
        anyhow::ensure!(line.contains(" passed, "), "not a summary line: {line:?}");
        Ok(Self {
            passed: number("passed"),
            failed: number("failed"),
            missing: number("missing"),
            covered: number("covered"),
        })
    }
}

/// Every file under `dir` is free of every raw secret.
fn leak_free(dir: &Path, secrets: &[String]) -> anyhow::Result<()> {
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
            continue;
        }
        files += 1;
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        for secret in secrets {
            anyhow::ensure!(
                !text.contains(secret.as_str()),
                "{} holds a raw secret",
                path.display()
            );
        }
    }
    anyhow::ensure!(files > 0, "{} holds no file", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_line_gives_its_counts() {
        let counts =
            Counts::of("9 passed, 1 failed, 4 skipped (missing 2, by-design 1, covered 1)")
                .unwrap();
        assert_eq!(
            (counts.passed, counts.failed, counts.missing, counts.covered),
            (9, 1, 2, 1)
        );
        let plain = Counts::of("3 passed, 0 failed, 0 skipped").unwrap();
        assert_eq!((plain.passed, plain.missing), (3, 0));
        assert!(Counts::of("no summary here").is_err());
    }
}
