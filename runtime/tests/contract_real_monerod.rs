//! Tier 2 with a real daemon in the loop: the real `MoneroClient` against Debian's `monerod`
//! (v0.18) on regtest, on loopback.
//!
//! - get_info from a fresh offline regtest node parses (synchronized, target 0);
//! - `generateblocks` (raw JSON-RPC through the client's `post_json_rpc`) grows the chain;
//! - a real sync: a second node that only knows the first (`--add-exclusive-node`) catches up
//!   while the client observes it syncing, then synced (bounded wait);
//! - digest auth (`--rpc-login`): the client answers the challenge on the same connection (the
//!   real nonce is per connection), no credentials / wrong password is `Unauthorized`, and the
//!   password appears in no error message.
//!
//! `PITHEAD_RECORD_FIXTURES=1` rewrites `tests/fixtures/monerod/get_info.{synced,syncing}.json`
//! from the live replies. Without it, the live key set must equal the recorded one.
//!
//! monerod missing: in CI (`CI=true`) the test fails loudly; elsewhere it prints a SKIP line.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::monerod::{client, free_port, generate_blocks, monerod_available, wait_for, Monerod};
use pithead_runtime::control::chain;
use pithead_runtime::observe::monero::{MoneroClient, MoneroError, MoneroInfo};
use tokio::time::Instant;

/// Blocks the first node mines; the second node syncs them (about 80 ms each on this machine,
/// both to mine and to verify).
const BLOCKS: u64 = 100;
const READY_WITHIN: Duration = Duration::from_secs(60);
const SYNC_WITHIN: Duration = Duration::from_secs(120);
const PASSWORD: &str = "pithead-test-password-7731";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/monerod")
}

fn recording() -> bool {
    std::env::var("PITHEAD_RECORD_FIXTURES").is_ok_and(|v| v == "1")
}

async fn raw_get_info(client: &MoneroClient) -> serde_json::Value {
    let response = client
        .post_json_rpc(Bytes::from_static(
            pithead_runtime::observe::monero::GET_INFO_REQUEST.as_bytes(),
        ))
        .await
        .expect("raw get_info");
    serde_json::from_slice(response.body()).expect("get_info is JSON")
}

fn result_keys(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["result"]
        .as_object()
        .expect("result object")
        .keys()
        .cloned()
        .collect()
}

/// Writes the fixture when recording; otherwise checks the live key set against it.
fn record_or_compare(name: &str, live: &serde_json::Value) {
    let path = fixtures().join(name);
    if recording() {
        std::fs::create_dir_all(fixtures()).expect("fixtures dir");
        let text = serde_json::to_string_pretty(live).expect("pretty") + "\n";
        std::fs::write(&path, text).expect("write fixture");
        eprintln!("recorded {}", path.display());
        return;
    }
    let recorded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("fixture is JSON");
    assert_eq!(
        result_keys(&recorded),
        result_keys(live),
        "the live get_info key set differs from {} (re-record with PITHEAD_RECORD_FIXTURES=1)",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_monerod_regtest_get_info_generate_sync_and_digest() {
    if !monerod_available("contract_real_monerod") {
        return;
    }
    let started = Instant::now();
    let dir_a = tempfile::tempdir().expect("tempdir");
    let dir_b = tempfile::tempdir().expect("tempdir");
    let dir_c = tempfile::tempdir().expect("tempdir");
    let p2p_a = free_port();

    // 1. A fresh offline regtest node: synchronized, target 0, height 1 (genesis).
    let mut a = Monerod::start(dir_a.path(), p2p_a, &["--offline"]);
    let a_client = client(&a.url(), None);
    let info = wait_for(&mut a, &a_client, READY_WITHIN, "ready", |_| true).await;
    assert_eq!(info.height, 1, "{info:?}");
    assert_eq!(info.target_height, 0);
    assert!(
        info.synchronized && info.offline && !info.restricted,
        "{info:?}"
    );
    assert!(!chain::monero_is_syncing(&info));
    assert_eq!(chain::monero_percent(&info), 100);
    assert_eq!(info.nettype.as_deref(), Some("fakechain"));
    assert!(
        info.version
            .as_deref()
            .is_some_and(|v| v.starts_with("0.18")),
        "{info:?}"
    );
    assert!(info.database_size.is_some());
    let version = info.version.clone().unwrap_or_default();

    // 2. Mine on A, then record the synced reply.
    let mined = generate_blocks(&a.url(), BLOCKS).await;
    assert_eq!(mined["result"]["status"], "OK", "{mined}");
    assert_eq!(mined["result"]["height"], BLOCKS, "{mined}");
    let info = a_client.get_info().await.expect("get_info after mining");
    assert_eq!(info.height, BLOCKS + 1);
    let synced_doc = raw_get_info(&a_client).await;
    record_or_compare("get_info.synced.json", &synced_doc);
    let synced_cmd = a.command_line(PASSWORD);

    // 3. Restart A online (no outgoing peers) so B can sync from it.
    drop(a);
    let mut a = Monerod::start(dir_a.path(), p2p_a, &["--out-peers", "0"]);
    let a_client = client(&a.url(), None);
    wait_for(&mut a, &a_client, READY_WITHIN, "back up", |i| {
        i.height == BLOCKS + 1
    })
    .await;

    // 4. B knows only A. Observe it syncing, then synced.
    let exclusive = format!("127.0.0.1:{}", a.p2p_port);
    let mut b = Monerod::start(
        dir_b.path(),
        free_port(),
        &["--add-exclusive-node", &exclusive],
    );
    let b_client = client(&b.url(), None);
    let deadline = Instant::now() + SYNC_WITHIN;
    let mut syncing_seen: Vec<MoneroInfo> = Vec::new();
    let mut syncing_doc = None;
    let synced = loop {
        b.assert_alive();
        if let Ok(info) = b_client.get_info().await {
            if chain::monero_is_syncing(&info) && info.target_height == 0 {
                // Started, no peer yet: syncing towards an unknown target (0 %).
                assert_eq!(chain::monero_percent(&info), 0, "{info:?}");
            } else if chain::monero_is_syncing(&info) {
                if syncing_doc.is_none() {
                    syncing_doc = Some(raw_get_info(&b_client).await);
                }
                syncing_seen.push(info);
            } else if info.height == BLOCKS + 1 {
                break info;
            }
        }
        assert!(
            Instant::now() < deadline,
            "B did not sync {BLOCKS} blocks within {SYNC_WITHIN:?}; log tail:\n{}",
            b.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        !syncing_seen.is_empty(),
        "the client never observed B syncing (sync too fast to catch?)"
    );
    for info in &syncing_seen {
        assert!(chain::monero_percent(info) < 100, "{info:?}");
        assert!(info.target_height > info.height, "{info:?}");
    }
    assert!(!chain::monero_is_syncing(&synced));
    assert_eq!(chain::monero_percent(&synced), 100);
    let syncing_cmd = b.command_line(PASSWORD);
    if let Some(doc) = &syncing_doc {
        record_or_compare("get_info.syncing.json", doc);
        // The busy and idle replies share one key set.
        assert_eq!(result_keys(doc), result_keys(&synced_doc));
    }
    eprintln!(
        "observed B syncing in {} readings: {:?}",
        syncing_seen.len(),
        syncing_seen
            .iter()
            .map(|i| (i.height, i.target_height, chain::monero_percent(i)))
            .collect::<Vec<_>>()
    );
    drop(b);
    drop(a);

    // 5. Digest auth.
    let login = format!("user:{PASSWORD}");
    let mut c = Monerod::start(
        dir_c.path(),
        free_port(),
        &["--offline", "--rpc-login", &login],
    );
    let good = client(&c.url(), Some(("user", PASSWORD)));
    let info = wait_for(
        &mut c,
        &good,
        READY_WITHIN,
        "ready with --rpc-login",
        |_| true,
    )
    .await;
    assert_eq!(info.height, 1);
    for (who, c_client) in [
        ("no credentials", client(&c.url(), None)),
        (
            "wrong password",
            client(&c.url(), Some(("user", "not-the-password"))),
        ),
        ("wrong user", client(&c.url(), Some(("mallory", PASSWORD)))),
    ] {
        let err = c_client.get_info().await.expect_err(who);
        assert!(
            matches!(err, MoneroError::Unauthorized { .. }),
            "{who}: {err:?}"
        );
        for text in [err.to_string(), format!("{err:?}"), format!("{c_client:?}")] {
            assert!(
                !text.contains(PASSWORD),
                "{who}: the password leaked: {text}"
            );
        }
    }
    drop(c);

    if recording() {
        let provenance = format!(
            "# monerod fixtures\n\n\
             Recorded by `runtime/tests/contract_real_monerod.rs` with `PITHEAD_RECORD_FIXTURES=1`\n\
             (`cargo test -p pithead-runtime --test contract_real_monerod`).\n\n\
             - daemon: Debian's `/usr/bin/monerod`, version `{version}` (`monerod --version`: \
             Monero 'Fluorine Fermi' (v0.18.0.0-unknown))\n\
             - date (UTC, from the test host's clock): {date}\n\
             - `get_info.synced.json`: `POST /json_rpc` `get_info` to node A after mining {BLOCKS} \
             blocks with `generateblocks`:\n  `{synced_cmd}`\n\
             - `get_info.syncing.json`: a reply from node B while it reported syncing \
             (`height < target_height`, `synchronized` false), catching up from A (restarted \
             without `--offline`, with `--out-peers 0`):\n  `{syncing_cmd}`\n\n\
             Regtest runs the `fakechain` nettype, so `nettype`, `mainnet` and the difficulty fields \
             differ from a mainnet node; the key set is what the drift checks compare.\n",
            date = utc_date(),
        );
        std::fs::write(fixtures().join("PROVENANCE.md"), provenance).expect("write provenance");
    }
    eprintln!("real monerod contract: {:?}", started.elapsed());
}

/// Today's date (UTC) from `date -u`, for the provenance note (the test may not read the wall
/// clock itself).
fn utc_date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}
