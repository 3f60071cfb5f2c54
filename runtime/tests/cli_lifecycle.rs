//! The `pithead` binary's lifecycle commands as an operator meets them: `backup`, `restore`,
//! `setup`, `doctor`, `reset-dashboard` and the compose verbs. Exit codes, exact stdout lines,
//! and no secret (generated or typed) in anything printed.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";
const PASS: &str = "a long backup passphrase 4711";

fn run(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pithead"));
    cmd.args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("PITHEAD_BACKUP_PASSPHRASE")
        .envs(envs.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        // The binary may finish (and close its stdin) before it has read every line offered:
        // what it printed and its exit code are what the tests judge.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn base() -> Value {
    json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } })
}

fn env_secrets(stack: &Path) -> Vec<String> {
    let env = std::fs::read_to_string(stack.join(".env")).unwrap();
    [
        "PROXY_AUTH_TOKEN",
        "MONERO_RPC_PASSWORD",
        "WALLET_RPC_PASSWORD",
    ]
    .iter()
    .map(|k| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_owned()
    })
    .collect()
}

fn assert_no_secret(out: &Output, secrets: &[String]) {
    let (stdout, stderr) = text(out);
    for s in secrets {
        assert!(
            !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
            "a secret leaked:\n{stdout}\n{stderr}"
        );
    }
}

/// A rendered stack in `dir/stack` from `dir/config.json`, with some runtime data.
struct Rig {
    _dir: tempfile::TempDir,
    config: String,
    stack: String,
}

impl Rig {
    fn new(doc: &Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, doc.to_string()).unwrap();
        let stack = dir.path().join("stack");
        let b = Self {
            config: config.display().to_string(),
            stack: stack.display().to_string(),
            _dir: dir,
        };
        let out = run(
            &["render", "--config", &b.config, "--stack-dir", &b.stack],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        std::fs::write(
            stack.join("data/dashboard/runtime-state.json"),
            br#"{"miner_released":true}"#,
        )
        .unwrap();
        b
    }

    fn path(&self) -> &Path {
        Path::new(&self.stack)
    }

    fn args<'a>(&'a self, cmd: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![cmd, "--config", &self.config, "--stack-dir", &self.stack];
        v.extend_from_slice(rest);
        v
    }
}

#[test]
fn backup_then_restore_brings_back_the_pool_and_every_secret_byte_for_byte() {
    let b = Rig::new(&base());
    let env_before = std::fs::read(b.path().join(".env")).unwrap();
    let config_before = std::fs::read(&b.config).unwrap();
    let mut secrets = env_secrets(b.path());
    secrets.push(PASS.to_owned());
    let archive = b.path().join("../b.tar.gz.age").display().to_string();

    let out = run(
        &b.args("backup", &["--output", &archive]),
        &[("PITHEAD_BACKUP_PASSPHRASE", PASS)],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        format!(
            "Backup written to: {archive}\n\
             The archive is useless without its passphrase: keep both, apart from this box.\n\
             Blockchains are not included: they re-sync.\n"
        )
    );
    assert_no_secret(&out, &secrets);
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // The operator moves to nano and applies (compose is the recording stand-in), then restores.
    let fake = FakeCompose::new();
    let (path, log) = (fake.path(), fake.log());
    let envs = [("PATH", path.as_str()), ("FAKE_COMPOSE_LOG", log.as_str())];
    let mut nano = base();
    nano["p2pool"] = json!({ "pool": "nano" });
    std::fs::write(&b.config, nano.to_string()).unwrap();
    let out = run(&b.args("apply", &["-y"]), &envs, None);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(std::fs::read_to_string(b.path().join(".env"))
        .unwrap()
        .contains("P2POOL_FLAGS=--nano"));

    // Without -y and without a terminal, restore refuses and writes nothing.
    let out = run(
        &b.args("restore", &["--passphrase-stdin", &archive]),
        &[],
        Some(&format!("{PASS}\n")),
    );
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(
        text(&out)
            .1
            .contains("stdin is not a terminal: re-run with -y to restore — nothing was written"),
        "{:?}",
        text(&out)
    );
    assert_ne!(std::fs::read(b.path().join(".env")).unwrap(), env_before);

    let out = run(
        &b.args("restore", &["-y", "--passphrase-stdin", &archive]),
        &[],
        Some(&format!("{PASS}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        format!(
            "Restored config.json, .env and data/dashboard from {archive}.\n\
             Run `pithead apply` to render the stack from it and recreate the containers.\n"
        )
    );
    assert_no_secret(&out, &secrets);
    assert_eq!(std::fs::read(b.path().join(".env")).unwrap(), env_before);
    assert_eq!(std::fs::read(&b.config).unwrap(), config_before);
    assert_eq!(
        std::fs::read(b.path().join("data/dashboard/runtime-state.json")).unwrap(),
        br#"{"miner_released":true}"#
    );
    assert!(b.path().join("apply-incomplete").exists());

    // The next apply recreates the stack from the restored files although .env already matches.
    let out = run(&b.args("apply", &["-y"]), &envs, None);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        "The last apply did not finish: recreating the stack again.\nConfiguration applied.\n"
    );
    assert_no_secret(&out, &secrets);
    assert_eq!(fake.calls().len(), 2, "{:?}", fake.calls());
    assert!(fake
        .calls()
        .iter()
        .all(|c| c.starts_with("compose up -d --remove-orphans")));
    assert!(std::fs::read_to_string(b.path().join(".env"))
        .unwrap()
        .contains("P2POOL_FLAGS=--mini"));
    assert_eq!(std::fs::read(b.path().join(".env")).unwrap(), env_before);
    assert!(!b.path().join("apply-incomplete").exists());
    let env_mode = std::fs::metadata(b.path().join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(env_mode & 0o777, 0o600);
}

#[test]
fn backup_without_a_passphrase_source_refuses_and_writes_nothing() {
    let b = Rig::new(&base());
    let out = run(&b.args("backup", &[]), &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        "pithead: no passphrase for the backup: set PITHEAD_BACKUP_PASSPHRASE, pass --passphrase-stdin, run it on a terminal, or choose --no-encrypt — nothing was written\n"
    );
    assert!(!b.path().join("backups").exists());

    // --no-encrypt writes a plaintext archive under backups/ with the documented name.
    let out = run(&b.args("backup", &["--no-encrypt"]), &[], None);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let (stdout, stderr) = text(&out);
    let first = stdout.lines().next().unwrap();
    let path = first.strip_prefix("Backup written to: ").unwrap();
    let name = Path::new(path).file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("pithead-backup-") && name.ends_with(".tar.gz") && name.len() == 37,
        "{name}"
    );
    assert!(stderr.contains("plaintext"), "{stderr}");
    assert_no_secret(&out, &env_secrets(b.path()));
}

#[test]
fn restore_refuses_a_wrong_passphrase_and_a_hostile_archive_with_nothing_written() {
    let b = Rig::new(&base());
    let archive = b.path().join("../b.age").display().to_string();
    let out = run(
        &b.args("backup", &["--output", &archive, "--passphrase-stdin"]),
        &[],
        Some(&format!("{PASS}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let env_before = std::fs::read(b.path().join(".env")).unwrap();
    std::fs::write(b.path().join("data/dashboard/mine"), "x").unwrap();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(b.path())
            .unwrap()
            .chain(std::fs::read_dir(b.path().join("data")).unwrap())
            .chain(std::fs::read_dir(b.path().join("data/dashboard")).unwrap())
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        names.sort();
        names
    };
    let before = listing();

    let out = run(
        &b.args("restore", &["-y", &archive]),
        &[("PITHEAD_BACKUP_PASSPHRASE", "not the passphrase")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        "pithead: wrong passphrase or corrupt archive — nothing was restored\n"
    );
    let out = run(&b.args("restore", &["-y", &archive]), &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("this archive is encrypted"),
        "{:?}",
        text(&out)
    );

    // A plaintext archive with config.json but no .env.
    let hostile = b.path().join("../hostile.tar.gz");
    let tar_gz = {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o600);
        builder
            .append_data(&mut header, "config.json", &b"{}"[..])
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    };
    std::fs::write(&hostile, tar_gz).unwrap();
    let out = run(
        &b.args("restore", &["-y", &hostile.display().to_string()]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        "pithead: refusing the archive: it has no .env, so it is not a complete pithead backup — nothing was restored\n"
    );
    assert_eq!(listing(), before);
    assert_eq!(std::fs::read(b.path().join(".env")).unwrap(), env_before);
}

/// A `docker` on PATH that records each compose call (and the engine it was pointed at) and
/// prints a log line for `compose logs`.
struct FakeCompose {
    dir: tempfile::TempDir,
}

impl FakeCompose {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("docker");
        std::fs::write(
            &script,
            "#!/bin/sh\n\
             [ \"$2\" = version ] && exit 0\n\
             echo \"$* @ $DOCKER_HOST\" >> \"$FAKE_COMPOSE_LOG\"\n\
             [ \"$2\" = logs ] && echo 'dashboard  | fake log line'\n\
             exit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn log(&self) -> String {
        self.dir.path().join("calls").display().to_string()
    }

    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

async fn fake_engine() -> String {
    let docker = pithead_fakes::docker::FakeDocker::new(&["dashboard"]);
    let (addr, _) = pithead_fakes::serve::spawn_local(docker.router())
        .await
        .unwrap();
    format!("tcp://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_verbs_drive_compose_against_the_named_engine() {
    let b = Rig::new(&base());
    let engine = fake_engine().await;
    let fake = FakeCompose::new();
    let (path, log) = (fake.path(), fake.log());
    let envs = [("PATH", path.as_str()), ("FAKE_COMPOSE_LOG", log.as_str())];
    let cases: [(&[&str], &str); 5] = [
        (
            &["up"],
            "The stack is up: `pithead status` shows each service's health.\n",
        ),
        (
            &["down"],
            "The stack is down (its volumes and data are kept).\n",
        ),
        (&["restart", "dashboard"], "Restarted dashboard.\n"),
        (&["restart"], "Restarted the stack.\n"),
        (
            &["logs", "--tail", "5", "dashboard"],
            "dashboard  | fake log line\n",
        ),
    ];
    for (args, stdout) in cases {
        let mut full = vec![args[0], "--stack-dir", &b.stack, "--docker", &engine];
        full.extend_from_slice(&args[1..]);
        let out = run(&full, &envs, None);
        assert_eq!(out.status.code(), Some(0), "{args:?} {:?}", text(&out));
        assert_eq!(text(&out).0, stdout, "{args:?}");
    }
    let at = format!(" @ {engine}");
    assert_eq!(
        fake.calls(),
        [
            format!("compose up -d --remove-orphans{at}"),
            format!("compose down{at}"),
            format!("compose restart dashboard{at}"),
            format!("compose restart{at}"),
            format!("compose logs --no-color --tail 5 dashboard{at}"),
        ]
    );

    // A service the stack does not have is refused before docker is asked.
    let out = run(
        &[
            "restart",
            "--stack-dir",
            &b.stack,
            "--docker",
            &engine,
            "monerodd",
        ],
        &envs,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.starts_with(
            "pithead: unknown service \"monerodd\": this stack's services are tor, monerod, tari,"
        ),
        "{:?}",
        text(&out)
    );
    assert_eq!(fake.calls().len(), 5);
}

#[test]
fn without_an_engine_every_docker_verb_exits_2_naming_the_address() {
    let b = Rig::new(&base());
    let fake = FakeCompose::new();
    let (path, log) = (fake.path(), fake.log());
    let envs = [("PATH", path.as_str()), ("FAKE_COMPOSE_LOG", log.as_str())];
    let gone = "unix:///nonexistent/docker.sock";
    for verb in [
        vec!["up"],
        vec!["down"],
        vec!["restart"],
        vec!["logs"],
        vec!["reset-dashboard", "-y"],
    ] {
        let mut args = vec![verb[0], "--stack-dir", &b.stack, "--docker", gone];
        args.extend_from_slice(&verb[1..]);
        let out = run(&args, &envs, None);
        assert_eq!(out.status.code(), Some(2), "{verb:?}");
        let (_, stderr) = text(&out);
        assert!(
            stderr.lines().last().unwrap().starts_with(&format!(
                "pithead: the docker engine at {gone} does not answer:"
            )),
            "{verb:?}: {stderr}"
        );
    }
    assert!(fake.calls().is_empty());
    assert!(b.path().join("data/dashboard/runtime-state.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_dashboard_keeps_the_latch_and_asks_first() {
    let b = Rig::new(&base());
    let data = b.path().join("data/dashboard");
    std::fs::write(data.join("history.db"), "rows").unwrap();
    let engine = fake_engine().await;
    let fake = FakeCompose::new();
    let (path, log) = (fake.path(), fake.log());
    let envs = [("PATH", path.as_str()), ("FAKE_COMPOSE_LOG", log.as_str())];
    let args = [
        "reset-dashboard",
        "--stack-dir",
        &b.stack,
        "--docker",
        &engine,
    ];
    let out = run(&args, &envs, None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        "pithead: reset-dashboard needs confirmation and stdin is not a terminal: re-run with -y\n"
    );
    assert!(data.join("history.db").exists());
    assert!(fake.calls().is_empty());

    let mut yes = args.to_vec();
    yes.push("-y");
    let out = run(&yes, &envs, None);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        format!(
            "This stops the dashboard, clears its history and starts it again.\n\
             Kept: the release latch (runtime-state.json), a pending re-arm, your CA files and every chain.\n\
             Cleared 1 item(s) from {}; the dashboard is starting again.\n",
            data.display()
        )
    );
    assert!(!data.join("history.db").exists());
    assert!(data.join("runtime-state.json").exists());
    let at = format!(" @ {engine}");
    assert_eq!(
        fake.calls(),
        [
            format!("compose stop dashboard{at}"),
            format!("compose up -d dashboard{at}")
        ]
    );
}

#[test]
fn setup_asks_validates_and_writes_a_private_config_without_echoing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let config_arg = config.display().to_string();
    let password = "Dashb0ard-Passw0rd";
    let answers = format!("{XMR}\n{TARI}\nnano\nlocal\n{password}\n");
    let out = run(&["setup", "--config", &config_arg], &[], Some(&answers));
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let (stdout, stderr) = text(&out);
    assert!(stdout.ends_with(&format!(
        "Wrote {config_arg} (valid).\nNext: `pithead apply` renders the stack and starts it.\n"
    )));
    assert!(!stdout.contains(password) && !stderr.contains(password));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(written["p2pool"]["pool"], "nano");
    assert_eq!(written["dashboard"]["auth"]["password"], password);
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let check = run(&["check", "--config", &config_arg], &[], None);
    assert_eq!(check.status.code(), Some(0));

    // An existing config is not replaced without -y; nothing changes.
    let before = std::fs::read(&config).unwrap();
    let out = run(&["setup", "--config", &config_arg], &[], Some(&answers));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        format!("pithead: {config_arg} exists: pass -y to replace it — nothing was written\n")
    );

    // A wrong answer: every problem, exit 1, the old file untouched.
    let bad = format!("{XMR}\n{TARI}\nhuge\nlocal\n\n");
    let out = run(&["setup", "-y", "--config", &config_arg], &[], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1,
        "p2pool.pool must be \"main\", \"mini\", or \"nano\" (got \"huge\").\n\
         pithead: the configuration is not valid — nothing was written\n"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);

    // The same from a file: the last line names the file that was read.
    let from = dir.path().join("answers.json");
    std::fs::write(&from, "{bad").unwrap();
    let from_arg = from.display().to_string();
    let out = run(
        &["setup", "-y", "--config", &config_arg, "--from", &from_arg],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out).1;
    assert!(
        stderr.ends_with(&format!(
            "pithead: {from_arg} is not a valid config.json — nothing was written\n"
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);

    // Closed stdin part-way: refused, nothing written.
    let out = run(
        &["setup", "-y", "--config", &config_arg],
        &[],
        Some(&format!("{XMR}\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out)
        .1
        .contains("stdin ended before every question was answered"));
    assert_eq!(std::fs::read(&config).unwrap(), before);
}

#[test]
fn setup_from_a_file_validates_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json").display().to_string();
    let source = dir.path().join("mine.json");
    let text_in = base().to_string();
    std::fs::write(&source, &text_in).unwrap();
    let src = source.display().to_string();
    let out = run(&["setup", "--config", &config, "--from", &src], &[], None);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text_in);

    let mut bad = base();
    bad["monero"]["mode"] = json!("cloud");
    std::fs::write(&source, bad.to_string()).unwrap();
    let out = run(
        &["setup", "-y", "--config", &config, "--from", &src],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out)
        .1
        .starts_with("monero.mode must be \"local\" or \"remote\" (got \"cloud\").\n"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text_in);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_prints_one_line_per_check_and_exits_1_on_a_critical_one() {
    let b = Rig::new(&base());
    let engine = fake_engine().await;
    let fake = FakeCompose::new();
    let (path, log) = (fake.path(), fake.log());
    let envs = [("PATH", path.as_str()), ("FAKE_COMPOSE_LOG", log.as_str())];
    let args = [
        "doctor",
        "--config",
        &b.config,
        "--stack-dir",
        &b.stack,
        "--docker",
        &engine,
    ];
    let out = run(&args, &envs, None);
    let (stdout, _) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..4],
        [
            format!("✓ config: {} is valid", b.config).as_str(),
            "✓ .env: present, mode 600",
            format!("✓ docker: the engine answers at {engine}").as_str(),
            "✓ compose: `docker compose`",
        ]
    );
    assert!(lines.iter().any(|l| l.contains("disk: ")), "{stdout}");
    assert!(lines.iter().any(|l| l.contains("hugepages: ")), "{stdout}");
    assert!(
        lines.iter().any(|l| l.contains("port 3333 (stratum)")),
        "{stdout}"
    );
    for line in &lines[..lines.len() - 1] {
        assert!(line.starts_with(['✓', '⚠', '✗']), "{line}");
    }
    let critical = lines.iter().any(|l| l.starts_with('✗'));
    assert_eq!(out.status.code(), Some(i32::from(critical)), "{stdout}");
    assert!(lines.last().unwrap().starts_with("Diagnostics summary: "));
    assert_no_secret(&out, &env_secrets(b.path()));

    // No engine and a broken config: both critical, exit 1, the engine's address named.
    let mut broken = base();
    broken["p2pool"] = json!({ "pool": "huge" });
    std::fs::write(&b.config, broken.to_string()).unwrap();
    let gone = "unix:///nonexistent/docker.sock";
    let doctor = |config: &str| {
        let args = [
            "doctor",
            "--config",
            config,
            "--stack-dir",
            &b.stack,
            "--docker",
            gone,
        ];
        run(&args, &envs, None)
    };
    let out = doctor(&b.config);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, _) = text(&out);
    let problem = stdout
        .lines()
        .find(|l| l.starts_with("✗ config: "))
        .unwrap_or_else(|| panic!("no config line: {stdout}"));
    let (head, tail) = (
        format!("✗ config: {} has 1 problem(s), the first: ", b.config),
        format!("; run `pithead check --config {}`", b.config),
    );
    assert!(
        problem.starts_with(&head) && problem.ends_with(&tail),
        "{problem}"
    );
    let first = &problem[head.len()..problem.len() - tail.len()];
    assert!(
        first.contains("p2pool.pool") && first.contains("huge"),
        "{problem}"
    );

    // No config at all: say so, and what writes one.
    let nowhere = format!("{}.absent", b.config);
    let out = doctor(&nowhere);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .lines()
            .any(|l| l == format!("✗ config: no {nowhere}: run `pithead setup` to write one")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with(&format!(
            "✗ docker: the docker engine at {gone} does not answer:"
        ))),
        "{stdout}"
    );
    // Doctor only reads: no compose call was made.
    assert!(fake.calls().is_empty());
}
