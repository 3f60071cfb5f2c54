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
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
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

    // The operator moves to nano: .env changes (the pool), then restores.
    let mut nano = base();
    nano["p2pool"] = json!({ "pool": "nano" });
    std::fs::write(&b.config, nano.to_string()).unwrap();
    let out = run(&b.args("render", &[]), &[], None);
    assert_eq!(out.status.code(), Some(0));
    assert_ne!(std::fs::read(b.path().join(".env")).unwrap(), env_before);

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
