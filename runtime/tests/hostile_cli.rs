//! The `pithead` binary against a hand-edited `.env`: a value it would keep (a generated secret,
//! an onion address, the RPC login) that `.env` cannot carry back or the containers would
//! misread is refused by `render` and `apply`, naming the key and its line, never the value,
//! and nothing is written.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

fn pithead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pithead"))
        .args(args)
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file of the stack directory (recursively), by relative path.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A rendered stack in `dir/stack` from `dir/config.json` (a local node, so every kept key is
/// in play).
fn rendered(doc: &Value) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, doc.to_string()).unwrap();
    let stack = dir.path().join("stack");
    let (config, stack) = (config.display().to_string(), stack.display().to_string());
    let out = pithead(&["render", "--config", &config, "--stack-dir", &stack]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    (dir, config, stack)
}

/// Replaces `key`'s line in `stack/.env` with `line`; returns its 1-based line number.
fn hand_edit(stack: &Path, key: &str, line: &str) -> usize {
    let path = stack.join(".env");
    let env = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = env.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} is not in .env:\n{env}"));
    lines[at] = line.to_owned();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    at + 1
}

#[test]
fn a_hand_edited_value_pithead_would_keep_is_refused_naming_key_and_line_only() {
    // (key, the edited line, the part of it that must never be printed)
    let cases = [
        (
            "PROXY_AUTH_TOKEN",
            "PROXY_AUTH_TOKEN=ab'cSecretTok3n",
            "ab'cSecretTok3n",
        ),
        (
            "WALLET_RPC_PASSWORD",
            "WALLET_RPC_PASSWORD='xWalletPw9",
            "xWalletPw9",
        ),
        (
            "WALLET_RPC_PASSWORD",
            "WALLET_RPC_PASSWORD=\"QuoteWalletPw7",
            "QuoteWalletPw7",
        ),
        (
            "MONERO_LOCAL_RPC_PASSWORD",
            "MONERO_LOCAL_RPC_PASSWORD='local pw 5'",
            "local pw 5",
        ),
        (
            "MONERO_LOCAL_RPC_PASSWORD",
            "MONERO_LOCAL_RPC_PASSWORD=Local:Colon4",
            "Local:Colon4",
        ),
        (
            "P2POOL_ONION",
            "P2POOL_ONION=abc'defonion3",
            "abc'defonion3",
        ),
        (
            "MONERO_RPC_USER",
            "MONERO_RPC_USER=us'erName2",
            "us'erName2",
        ),
    ];
    let doc = json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } });
    for (key, line, secret) in cases {
        let (_dir, config, stack) = rendered(&doc);
        let stack_path = Path::new(&stack);
        let at = hand_edit(stack_path, key, line);
        let before = files(stack_path);
        for args in [
            vec!["render", "--config", &config, "--stack-dir", &stack],
            vec!["apply", "-y", "--config", &config, "--stack-dir", &stack],
            vec![
                "apply",
                "--dry-run",
                "--config",
                &config,
                "--stack-dir",
                &stack,
            ],
        ] {
            let out = pithead(&args);
            let (stdout, stderr) = text(&out);
            let what = format!("{key} via `{}`", args[..2].join(" "));
            assert!(
                !out.status.success(),
                "{what}: accepted\n{stdout}\n{stderr}"
            );
            assert!(
                stderr.contains(&format!(".env line {at}: {key} ")),
                "{what}: the key and line are not named:\n{stderr}"
            );
            assert!(
                stderr.contains("remove that line"),
                "{what}: no way forward:\n{stderr}"
            );
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{what}: the value leaked:\n{stdout}\n{stderr}"
            );
            assert!(
                files(stack_path) == before,
                "{what}: the stack directory changed"
            );
        }
    }
}

#[test]
fn removing_the_refused_line_renders_a_fresh_value_and_keeps_the_others() {
    let doc = json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } });
    let (_dir, config, stack) = rendered(&doc);
    let stack_path = Path::new(&stack);
    let env_of = |key: &str| {
        std::fs::read_to_string(stack_path.join(".env"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
    };
    let wallet = env_of("WALLET_RPC_PASSWORD").unwrap();
    hand_edit(stack_path, "PROXY_AUTH_TOKEN", "PROXY_AUTH_TOKEN=ab'c");
    assert!(
        !pithead(&["render", "--config", &config, "--stack-dir", &stack])
            .status
            .success()
    );
    hand_edit(stack_path, "PROXY_AUTH_TOKEN", "# removed by hand");
    let out = pithead(&["render", "--config", &config, "--stack-dir", &stack]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let token = env_of("PROXY_AUTH_TOKEN").unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    assert_eq!(env_of("WALLET_RPC_PASSWORD").unwrap(), wallet);
}
