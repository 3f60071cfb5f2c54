//! `pithead apply` at tier 1, with a recording compose and a scripted terminal: the exact no-op
//! message, classification, consent, dry run, the re-arm marker, and the retry after a failed
//! recreate. Secret values never reach the output.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;

use pithead_runtime::cli::apply::{
    self, ApplyError, ApplyOptions, ApplyOutcome, Prompt, NO_CHANGES, QUESTION,
};
use pithead_runtime::cli::compose::{ComposeError, ComposeRunner};
use pithead_runtime::cli::diff::{classify, Class};
use pithead_runtime::cli::secrets::OsEntropy;
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::validate::load;
use pithead_runtime::store::{Rearm, SnapshotStore};
use serde_json::{json, Value};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

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

fn no_tty() -> Terminal {
    Terminal {
        present: false,
        answer: false,
        asked: vec![],
    }
}

struct Stack {
    dir: tempfile::TempDir,
    compose: Compose,
}

impl Stack {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            compose: Compose::default(),
        }
    }
    fn stack(&self) -> StackDir {
        StackDir::new(self.dir.path())
    }
    fn apply(
        &self,
        cfg: &Value,
        prompt: &mut Terminal,
        options: ApplyOptions,
    ) -> (Result<ApplyOutcome, ApplyError>, String) {
        let settings = load(&cfg.to_string()).unwrap();
        let mut out = Vec::new();
        let result = apply::apply(
            &settings,
            &self.stack(),
            &mut OsEntropy,
            &self.compose,
            prompt,
            &mut out,
            options,
        );
        (result, String::from_utf8(out).unwrap())
    }
    fn env_text(&self) -> String {
        std::fs::read_to_string(self.stack().env_path()).unwrap()
    }
}

fn config(overrides: &[(&str, Value)]) -> Value {
    let mut doc = json!({
        "monero": { "wallet_address": XMR, "remote": { "host": "node.lan" } },
        "tari": { "wallet_address": TARI, "remote": { "host": "tari.lan" } },
    });
    for (path, value) in overrides {
        let (section, key) = path.split_once('.').unwrap();
        doc[section][key] = value.clone();
    }
    doc
}

const YES: ApplyOptions = ApplyOptions {
    yes: true,
    dry_run: false,
};
const ASK: ApplyOptions = ApplyOptions {
    yes: false,
    dry_run: false,
};

#[test]
fn a_second_apply_of_the_same_config_is_the_exact_no_op() {
    let b = Stack::new();
    let cfg = config(&[]);
    let (r, out) = b.apply(&cfg, &mut no_tty(), ASK);
    assert_eq!(r.unwrap(), ApplyOutcome::Applied, "{out}");
    assert_eq!(
        b.compose.calls.borrow().as_slice(),
        ["up -d --remove-orphans"]
    );
    let (r, out) = b.apply(&cfg, &mut no_tty(), ASK);
    assert_eq!(r.unwrap(), ApplyOutcome::NoChanges);
    assert_eq!(out, format!("{NO_CHANGES}\n"));
    assert_eq!(
        b.compose.calls.borrow().len(),
        1,
        "a no-op recreated the stack"
    );
}

#[test]
fn a_confirm_change_asks_and_is_refused_without_a_terminal() {
    let b = Stack::new();
    b.apply(&config(&[]), &mut no_tty(), YES).0.unwrap();
    let before = b.env_text();
    let nano = config(&[("p2pool.pool", json!("nano"))]);

    let (r, out) = b.apply(&nano, &mut no_tty(), ASK);
    assert!(matches!(r, Err(ApplyError::NeedsConsent)), "{r:?}");
    assert!(
        out.contains(
            "  [CONFIRM] P2POOL_FLAGS: \"--mini\" → \"--nano\" — p2pool moves to another sidechain"
        ),
        "{out}"
    );
    assert_eq!(b.env_text(), before, "a refused apply wrote .env");

    let mut declines = Terminal {
        present: true,
        answer: false,
        asked: vec![],
    };
    let (r, _) = b.apply(&nano, &mut declines, ASK);
    assert_eq!(r.unwrap(), ApplyOutcome::Cancelled);
    assert_eq!(declines.asked, [QUESTION]);
    assert_eq!(b.env_text(), before);

    let mut accepts = Terminal {
        present: true,
        answer: true,
        asked: vec![],
    };
    assert_eq!(
        b.apply(&nano, &mut accepts, ASK).0.unwrap(),
        ApplyOutcome::Applied
    );
    assert!(b.env_text().contains("P2POOL_FLAGS=--nano"));
}

#[test]
fn info_changes_apply_without_asking_and_a_dry_run_writes_nothing() {
    let b = Stack::new();
    b.apply(&config(&[]), &mut no_tty(), YES).0.unwrap();
    let before = b.env_text();
    let off = config(&[("xvb.enabled", json!(false))]);
    let (r, out) = b.apply(
        &off,
        &mut no_tty(),
        ApplyOptions {
            yes: false,
            dry_run: true,
        },
    );
    assert_eq!(r.unwrap(), ApplyOutcome::DryRun);
    assert!(
        out.contains("[INFO] XVB_ENABLED: \"true\" → \"false\""),
        "{out}"
    );
    assert!(out.ends_with("Dry run: nothing was written.\n"), "{out}");
    assert_eq!(b.env_text(), before);
    let mut never = no_tty();
    assert_eq!(
        b.apply(&off, &mut never, ASK).0.unwrap(),
        ApplyOutcome::Applied
    );
    assert!(never.asked.is_empty());
}

#[test]
fn pruned_to_full_is_destructive_and_secrets_show_only_as_changed() {
    let b = Stack::new();
    b.apply(&config(&[]), &mut no_tty(), YES).0.unwrap();
    let secret = "N3wRpcPassw0rdOfTheOperator";
    let cfg = config(&[
        ("monero.prune", json!(false)),
        ("monero.node_password", json!(secret)),
    ]);
    let (r, out) = b.apply(
        &cfg,
        &mut no_tty(),
        ApplyOptions {
            yes: false,
            dry_run: true,
        },
    );
    r.unwrap();
    assert!(out.contains("[DESTRUCTIVE] MONERO_PRUNE: \"1\" → \"0\" — monerod switches from pruned to full: the chain re-syncs from scratch"), "{out}");
    assert!(
        out.contains("[INFO] MONERO_RPC_PASSWORD: changed (value hidden)"),
        "{out}"
    );
    assert!(!out.contains(secret), "{out}");
    let env = b.stack().read_env().unwrap().unwrap();
    for value in env.secret_values() {
        assert!(!out.contains(value), "a secret reached the output");
    }
    // A remote node has no local chain: its prune flag is not destructive.
    let remote = config(&[
        ("monero.prune", json!(false)),
        ("monero.mode", json!("remote")),
    ]);
    let (r, out) = b.apply(
        &remote,
        &mut no_tty(),
        ApplyOptions {
            yes: false,
            dry_run: true,
        },
    );
    r.unwrap();
    assert!(
        out.contains("[INFO] MONERO_PRUNE: \"1\" → \"0\" — pruning applies to a local node only"),
        "{out}"
    );
    assert!(!out.contains("DESTRUCTIVE"), "{out}");
}

#[test]
fn a_node_endpoint_change_leaves_the_marker_the_runtime_takes() {
    let b = Stack::new();
    b.apply(&config(&[]), &mut no_tty(), YES).0.unwrap();
    let store = SnapshotStore::new(b.stack().dashboard_data());
    assert_eq!(
        store.take_rearm().unwrap(),
        None,
        "a first apply re-armed the gate"
    );

    let remote_tari = config(&[("tari.mode", json!("remote"))]);
    let (r, out) = b.apply(&remote_tari, &mut no_tty(), YES);
    r.unwrap();
    assert!(
        out.contains("The Tari node changed: the miners are held again until Tari is synced."),
        "{out}"
    );
    assert_eq!(store.take_rearm().unwrap(), Some(Rearm::Tari));

    let remote_both = config(&[
        ("tari.mode", json!("remote")),
        ("monero.mode", json!("remote")),
    ]);
    b.apply(&remote_both, &mut no_tty(), YES).0.unwrap();
    assert_eq!(store.take_rearm().unwrap(), Some(Rearm::All));

    b.apply(
        &config(&[
            ("tari.mode", json!("remote")),
            ("monero.mode", json!("remote")),
            ("xvb.enabled", json!(false)),
        ]),
        &mut no_tty(),
        YES,
    )
    .0
    .unwrap();
    assert_eq!(
        store.take_rearm().unwrap(),
        None,
        "an XvB change re-armed the gate"
    );
}

#[test]
fn a_tari_change_where_tari_does_not_gate_mining_says_the_miners_are_not_held() {
    let b = Stack::new();
    let optional = |tari_mode: &str| {
        let mut cfg = config(&[("tari.mode", json!(tari_mode))]);
        cfg["dashboard"] = json!({ "tari_required": false });
        cfg
    };
    b.apply(&optional("local"), &mut no_tty(), YES).0.unwrap();
    let (r, out) = b.apply(&optional("remote"), &mut no_tty(), YES);
    r.unwrap();
    assert!(
        out.contains("The Tari node changed: Tari does not gate mining (TARI_REQUIRED is false), so the miners are not held."),
        "{out}"
    );
    assert!(
        !out.contains("The Tari node changed: the miners are held"),
        "{out}"
    );
}

#[test]
fn a_failed_recreate_leaves_the_marker_and_the_next_apply_retries() {
    let b = Stack::new();
    *b.compose.fail.borrow_mut() = true;
    let cfg = config(&[]);
    let (r, _) = b.apply(&cfg, &mut no_tty(), YES);
    let err = r.unwrap_err();
    assert!(matches!(err, ApplyError::Recreate(_)), "{err}");
    assert!(
        err.to_string().contains("run `pithead apply` again"),
        "{err}"
    );
    assert!(b.stack().apply_incomplete());

    *b.compose.fail.borrow_mut() = false;
    let (r, out) = b.apply(&cfg, &mut no_tty(), ASK);
    assert_eq!(r.unwrap(), ApplyOutcome::Applied, "{out}");
    assert!(out.contains("The last apply did not finish"), "{out}");
    assert!(!b.stack().apply_incomplete());
    assert_eq!(b.compose.calls.borrow().len(), 2);
    assert_eq!(
        b.apply(&cfg, &mut no_tty(), ASK).1,
        format!("{NO_CHANGES}\n")
    );
}

#[test]
fn classification_table() {
    let rows = [
        ("MONERO_PRUNE", Some("1"), Some("0"), Class::Destructive),
        ("MONERO_PRUNE", Some("0"), Some("1"), Class::Confirm),
        (
            "MONERO_NODE_HOST",
            Some("monerod"),
            Some("node.lan"),
            Class::Confirm,
        ),
        (
            "TARI_GRPC_ADDRESS",
            Some("tari:18142"),
            Some(""),
            Class::Confirm,
        ),
        ("P2POOL_FLAGS", Some("--mini"), Some(""), Class::Confirm),
        (
            "MONERO_WALLET_ADDRESS",
            Some("4a"),
            Some("4b"),
            Class::Confirm,
        ),
        (
            "MONERO_RPC_BIND",
            Some("127.0.0.1"),
            Some("0.0.0.0"),
            Class::Confirm,
        ),
        (
            "MONERO_RPC_BIND",
            Some("0.0.0.0"),
            Some("127.0.0.1"),
            Class::Info,
        ),
        ("XVB_ENABLED", Some("true"), Some("false"), Class::Info),
        ("DASHBOARD_SECURE", Some("true"), Some("false"), Class::Info),
        ("TELEGRAM_ENABLED", Some("false"), Some("true"), Class::Info),
    ];
    for (key, old, new, class) in rows {
        assert_eq!(classify(key, old, new).0, class, "{key} {old:?} → {new:?}");
    }
}
