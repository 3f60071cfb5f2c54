//! Tier 1: the pure parts of `setup`, `doctor` and `reset-dashboard`, with a recording compose
//! in place of docker.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::fs;

use pithead_runtime::cli::compose::{ComposeError, ComposeRunner};
use pithead_runtime::cli::doctor::{self, Check, Level};
use pithead_runtime::cli::reset::{self, ResetError};
use pithead_runtime::cli::setup::{self, Answers, SetupError};
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::validate::load;

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";
const GIB: u64 = 1024 * 1024 * 1024;

#[derive(Default)]
struct Compose {
    calls: RefCell<Vec<String>>,
    fail_on: Option<&'static str>,
}

impl ComposeRunner for Compose {
    fn run(&self, args: &[&str]) -> Result<(), ComposeError> {
        let command = args.join(" ");
        self.calls.borrow_mut().push(command.clone());
        if self.fail_on == Some(args[0]) {
            return Err(ComposeError::Failed {
                command,
                code: Some(1),
            });
        }
        Ok(())
    }
}

fn data_stack() -> (tempfile::TempDir, StackDir) {
    let dir = tempfile::tempdir().unwrap();
    let stack = StackDir::new(dir.path());
    let data = stack.dashboard_data();
    fs::create_dir_all(data.join("charts")).unwrap();
    fs::write(stack.env_path(), "A=1\n").unwrap();
    for name in [
        "runtime-state.json",
        "rearm-sync-gate",
        "history.db",
        "history.db-wal",
    ] {
        fs::write(data.join(name), name).unwrap();
    }
    fs::write(data.join("charts").join("x"), "x").unwrap();
    (dir, stack)
}

fn names(stack: &StackDir) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(stack.dashboard_data())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn reset_keeps_the_latch_and_a_pending_rearm_and_clears_everything_else() {
    let (_dir, stack) = data_stack();
    let compose = Compose::default();
    let removed = reset::reset_dashboard(&stack, &compose).unwrap();
    assert_eq!(removed, ["charts", "history.db", "history.db-wal"]);
    assert_eq!(names(&stack), ["rearm-sync-gate", "runtime-state.json"]);
    assert_eq!(
        fs::read_to_string(stack.dashboard_data().join("runtime-state.json")).unwrap(),
        "runtime-state.json"
    );
    assert_eq!(
        *compose.calls.borrow(),
        ["stop dashboard", "up -d dashboard"]
    );
}

#[test]
fn reset_removes_nothing_when_the_dashboard_does_not_stop() {
    let (_dir, stack) = data_stack();
    let before = names(&stack);
    let compose = Compose {
        fail_on: Some("stop"),
        ..Compose::default()
    };
    let err = reset::reset_dashboard(&stack, &compose).unwrap_err();
    assert!(matches!(err, ResetError::Stop(_)), "{err}");
    assert_eq!(names(&stack), before);
    assert_eq!(*compose.calls.borrow(), ["stop dashboard"]);

    let compose = Compose {
        fail_on: Some("up"),
        ..Compose::default()
    };
    let err = reset::reset_dashboard(&stack, &compose).unwrap_err();
    assert!(err.to_string().ends_with("; run `pithead up`"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let err =
        reset::reset_dashboard(&StackDir::new(empty.path()), &Compose::default()).unwrap_err();
    assert!(matches!(err, ResetError::NoStack(_)), "{err}");
    assert_eq!(
        reset::plan(&["b".into(), "runtime-state.json".into(), "a".into()], &[]),
        ["a", "b"]
    );
}

/// docs/cli.md says to put `xvb.ca_file` (and `ALERTS_CA_FILE`) in `data/dashboard/` as
/// `/data/NAME`: a reset that removed it would leave a runtime that refuses to start.
#[test]
fn reset_keeps_the_operators_ca_files_and_clears_the_history() {
    let (_dir, stack) = data_stack();
    let data = stack.dashboard_data();
    fs::write(
        stack.env_path(),
        "XVB_CA_FILE=/data/xvb-authority\nALERTS_CA_FILE=/data/certs/alerts-ca\n",
    )
    .unwrap();
    fs::write(data.join("xvb-authority"), "-----BEGIN CERTIFICATE-----").unwrap();
    fs::create_dir(data.join("certs")).unwrap();
    fs::write(data.join("certs").join("alerts-ca"), "ca").unwrap();
    fs::write(data.join("other-ca.pem"), "ca").unwrap();
    fs::write(data.join("history.sqlite"), "rows").unwrap();
    fs::write(data.join("history.sqlite-wal"), "rows").unwrap();
    fs::write(data.join("alerts-outbox.json"), "[]").unwrap();

    let removed = reset::reset_dashboard(&stack, &Compose::default()).unwrap();
    assert_eq!(
        removed,
        [
            "alerts-outbox.json",
            "charts",
            "history.db",
            "history.db-wal",
            "history.sqlite",
            "history.sqlite-wal"
        ]
    );
    assert_eq!(
        names(&stack),
        [
            "certs",
            "other-ca.pem",
            "rearm-sync-gate",
            "runtime-state.json",
            "xvb-authority"
        ]
    );
    assert_eq!(
        fs::read_to_string(data.join("xvb-authority")).unwrap(),
        "-----BEGIN CERTIFICATE-----"
    );
    assert!(data.join("certs").join("alerts-ca").exists());
}

#[test]
fn reset_removes_nothing_when_env_cannot_tell_the_operators_files() {
    let (_dir, stack) = data_stack();
    let before = names(&stack);
    fs::write(stack.env_path(), "not a .env line\n").unwrap();
    let compose = Compose::default();
    let err = reset::reset_dashboard(&stack, &compose).unwrap_err();
    assert!(matches!(err, ResetError::Env(_)), "{err}");
    assert!(err.to_string().contains("nothing was removed"), "{err}");
    assert_eq!(names(&stack), before);
    assert!(
        compose.calls.borrow().is_empty(),
        "the dashboard was stopped"
    );
}

fn answers(pool: &str, tari: &str, mode: &str) -> Answers {
    Answers {
        monero_wallet: format!(" {XMR} "),
        tari_wallet: tari.into(),
        pool: pool.into(),
        monero_mode: mode.into(),
        remote_host: "node.example.org".into(),
        remote_port: "18089".into(),
        dashboard_password: String::new(),
    }
}

#[test]
fn setup_answers_become_a_minimal_valid_document() {
    let doc = setup::document(&answers("", TARI, ""));
    assert_eq!(
        doc,
        serde_json::json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } })
    );
    let s = load(&doc.to_string()).unwrap();
    assert_eq!(s.config.p2pool.stratum_port, 3333);

    let doc = setup::document(&answers("nano", "", "remote"));
    assert_eq!(doc["tari"]["mode"], "off");
    assert_eq!(doc["dashboard"]["tari_required"], false);
    assert_eq!(doc["p2pool"]["pool"], "nano");
    assert_eq!(doc["monero"]["remote"]["host"], "node.example.org");
    assert_eq!(doc["monero"]["remote"]["rpc_port"], 18089);
    load(&doc.to_string()).unwrap();

    let mut a = answers("", TARI, "");
    a.dashboard_password = "S3cret-Passw0rd!".into();
    assert!(!format!("{a:?}").contains("S3cret"));
    assert_eq!(
        setup::document(&a)["dashboard"]["auth"]["password"],
        "S3cret-Passw0rd!"
    );
}

#[test]
fn setup_writes_nothing_when_the_document_does_not_validate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let doc = setup::document(&answers("huge", TARI, "cloud"));
    let err = setup::write_config(&path, &doc.to_string()).unwrap_err();
    let SetupError::Invalid(errors) = &err else {
        panic!("{err}")
    };
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        lines
            .contains(&r#"p2pool.pool must be "main", "mini", or "nano" (got "huge")."#.to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&r#"monero.mode must be "local" or "remote" (got "cloud")."#.to_owned()),
        "{lines:?}"
    );
    assert!(!path.exists());

    let good = setup::document(&answers("", TARI, "")).to_string();
    setup::write_config(&path, &good).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), good);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn doctor_checks_mark_each_line_and_only_a_failure_exits_1() {
    assert_eq!(
        doctor::disk(GIB, 0, "/srv").line(),
        "✗ disk: 1 GiB free at /srv (at least 2 GiB needed)"
    );
    assert_eq!(
        doctor::disk(50 * GIB, 110 * GIB, "/srv").line(),
        "⚠ disk: 50 GiB free at /srv; the configured chains need about 110 GiB"
    );
    assert_eq!(
        doctor::disk(500 * GIB, 110 * GIB, "/srv").line(),
        "✓ disk: 500 GiB free at /srv"
    );
    assert_eq!(
        doctor::hugepages("MemTotal: 1 kB\nHugePages_Total:    1280\n").line(),
        "✓ hugepages: 1280 reserved"
    );
    assert_eq!(doctor::hugepages("HugePages_Total: 0\n").level, Level::Warn);
    assert_eq!(doctor::hugepages("").level, Level::Warn);
    assert_eq!(
        doctor::port(3333, "stratum", false).line(),
        "✓ port 3333 (stratum) is free"
    );
    assert_eq!(doctor::port(3333, "stratum", true).level, Level::Warn);

    let local = load(&serde_json::json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } }).to_string()).unwrap();
    assert_eq!(doctor::disk_need(&local), 160 * GIB);
    assert_eq!(
        doctor::ports(&local),
        [
            (3333, "stratum"),
            (443, "dashboard https"),
            (18081, "monerod RPC")
        ]
    );
    let remote = load(
        &serde_json::json!({
            "monero": { "wallet_address": XMR, "mode": "remote", "remote": { "host": "n.example" } },
            "tari": { "mode": "off" },
            "dashboard": { "secure": false, "tari_required": false },
            "p2pool": { "stratum_port": 4444 }
        })
        .to_string(),
    )
    .unwrap();
    assert_eq!(doctor::disk_need(&remote), 10 * GIB);
    assert_eq!(
        doctor::ports(&remote),
        [(4444, "stratum"), (80, "dashboard http")]
    );

    let ok = Check::new(Level::Ok, "a");
    let warn = Check::new(Level::Warn, "b");
    let fail = Check::new(Level::Fail, "c");
    assert_eq!(
        doctor::summary(&[ok.clone(), warn.clone()]),
        (
            "Diagnostics summary: 1 ok, 1 warning(s), 0 failure(s)".into(),
            0
        )
    );
    assert_eq!(doctor::summary(&[ok, warn, fail]).1, 1);
}
