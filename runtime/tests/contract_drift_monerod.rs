//! Tier 2 drift check for monerod: the shape (every key path and JSON type, envelope included)
//! of (a) the replies recorded from a real monerod (`tests/fixtures/monerod/`), (b) the fake's
//! replies in every mode that claims to answer like the real one, and (c) a live regtest monerod.
//!
//! The client calls one method, `get_info`, over `POST /json_rpc` (`observe/monero.rs`; the
//! plain `/get_info` path and `generateblocks` are used by the fake and the tests only). It reads
//! the envelope (`result`, or `error.code` / `error.message`), so the JSON-RPC error replies are
//! recorded and checked too.
//!
//! Which fake modes claim the real shape: `synced`, `syncing`, `busy`, `slow` (it answers as the
//! last synced/syncing mode did, late) and the restricted-RPC option. `down` (no reply) and
//! `garbage` (not JSON) are failure modes with no shape to compare; digest auth gates the same
//! handler and its `401` is an HTML page, not JSON.
//!
//! BUSY: monerod v0.18's `core_rpc_server::on_get_info` sets `status: "OK"` unconditionally
//! once past the bootstrap-daemon and payment checks, so a v0.18 `get_info` never answers BUSY
//! (no recording can exist). Older versions answered BUSY through `CHECK_CORE_READY`, which sets
//! only `status` on the value-initialised response; epee serialises every field of it anyway, so
//! a real BUSY has exactly the OK shape, and the fake's BUSY is checked against the OK recording.
//!
//! Types: every `get_info` field is a fixed C++ type (`uint64_t`, `bool`, `std::string`), so no
//! tolerance is needed here: the rules are exact. The JSON-RPC `id` echoes the request's, so it is
//! a string because the client sends `"id":"0"`.
//!
//! Recording: `PITHEAD_RECORD_FIXTURES=1 cargo test -p pithead-runtime --test
//! contract_drift_monerod` rewrites the `json_rpc.*` and `get_info.restricted.json` fixtures
//! from the live node; `contract_real_monerod` records `get_info.{synced,syncing}.json`.

mod common;

use std::time::Duration;

use common::monerod::{free_port, monerod_available, Monerod};
use common::rawhttp::{self, Reply};
use common::shape::{assert_same_shape, diff, fixture, Rules};
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use serde_json::Value;

/// The request body the client sends (`observe::monero::GET_INFO_REQUEST`), spelled out so this
/// check does not depend on the client's API.
const GET_INFO: &[u8] = br#"{"jsonrpc":"2.0","id":"0","method":"get_info"}"#;
const UNKNOWN_METHOD: &[u8] = br#"{"jsonrpc":"2.0","id":"0","method":"no_such_method"}"#;
const NOT_JSON: &[u8] = b"this is not json";

async fn fake_reply(fake: &FakeMonerod, body: &[u8]) -> Reply {
    rawhttp::router(fake.wire_router(), "POST", "/json_rpc", Some(body)).await
}

async fn fake_json(fake: &FakeMonerod, body: &[u8]) -> Value {
    let reply = fake_reply(fake, body).await;
    assert_eq!(reply.status, 200, "the fake's JSON-RPC status");
    reply.json()
}

/// The fake's `get_info` reply in every mode that claims the real shape, each named.
async fn fake_get_info_replies() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for mode in [
        MoneroMode::Synced { height: 3_000_000 },
        MoneroMode::Synced { height: 0 },
        MoneroMode::Syncing {
            height: 100,
            target: 200,
        },
        MoneroMode::Syncing {
            height: 7,
            target: 0,
        },
        MoneroMode::Busy,
    ] {
        let fake = FakeMonerod::new(mode.clone());
        out.push((format!("{mode:?}"), fake_json(&fake, GET_INFO).await));
    }
    let restricted = FakeMonerod::new(MoneroMode::Synced { height: 10 }).with_restricted(true);
    out.push((
        "Synced, restricted".into(),
        fake_json(&restricted, GET_INFO).await,
    ));
    out
}

#[tokio::test]
async fn the_fake_get_info_has_the_recorded_shape_in_every_real_mode() {
    let recorded = [
        fixture("monerod/get_info.synced.json"),
        fixture("monerod/get_info.syncing.json"),
        fixture("monerod/get_info.restricted.json"),
    ];
    // The recordings agree with each other (synced, syncing and restricted are one shape).
    for other in &recorded[1..] {
        assert_same_shape("recordings", &recorded[0], other, &Rules::exact());
    }
    for (mode, reply) in fake_get_info_replies().await {
        assert_same_shape(
            &format!("fake get_info in mode {mode}"),
            &recorded[0],
            &reply,
            &Rules::exact(),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_slow_mode_answers_late_with_the_same_shape() {
    let fake = FakeMonerod::new(MoneroMode::Syncing {
        height: 5,
        target: 9,
    });
    fake.set_mode(MoneroMode::Slow { secs: 20 });
    let reply = fake_json(&fake, GET_INFO).await;
    assert_same_shape(
        "fake get_info in mode slow",
        &fixture("monerod/get_info.syncing.json"),
        &reply,
        &Rules::exact(),
    );
}

#[tokio::test]
async fn the_fake_json_rpc_errors_have_the_recorded_shape() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 1 });
    for (name, body) in [
        ("json_rpc.method_not_found.json", UNKNOWN_METHOD),
        ("json_rpc.parse_error.json", NOT_JSON),
    ] {
        let recorded = fixture(&format!("monerod/{name}"));
        let reply = fake_json(&fake, body).await;
        assert_same_shape(
            &format!("fake reply for {name}"),
            &recorded,
            &reply,
            &Rules::exact(),
        );
        // The code is what a client branches on: it must be the real one, not just a number.
        assert_eq!(reply["error"]["code"], recorded["error"]["code"], "{name}");
    }
}

/// The live node's replies: get_info (synced, restricted port) and the two JSON-RPC errors.
struct Live {
    get_info: Value,
    restricted: Value,
    method_not_found: Value,
    parse_error: Value,
}

fn post(port: u16, body: &[u8]) -> Value {
    let reply = rawhttp::tcp(
        &format!("127.0.0.1:{port}"),
        "POST",
        "/json_rpc",
        Some(body),
    )
    .expect("monerod answers");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn live_replies(node: &mut Monerod, restricted_port: u16) -> Live {
    // Wait until the node answers get_info at all (the RPC server starts after the core):
    // 600 tries 100 ms apart, about a minute (counted, not timed: the wall clock is banned here).
    let addr = format!("127.0.0.1:{}", node.rpc_port);
    let mut tries = 0;
    loop {
        node.assert_alive();
        if let Ok(reply) = rawhttp::tcp(&addr, "POST", "/json_rpc", Some(GET_INFO)) {
            if reply.status == 200 && reply.json()["result"]["status"] == "OK" {
                break;
            }
        }
        tries += 1;
        assert!(
            tries < 600,
            "monerod never answered get_info; log tail:\n{}",
            node.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Live {
        get_info: post(node.rpc_port, GET_INFO),
        restricted: post(restricted_port, GET_INFO),
        method_not_found: post(node.rpc_port, UNKNOWN_METHOD),
        parse_error: post(node.rpc_port, NOT_JSON),
    }
}

fn record(name: &str, doc: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monerod")
        .join(name);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(doc).expect("pretty") + "\n",
    )
    .expect("write fixture");
    eprintln!("recorded {}", path.display());
}

/// (c): a live regtest monerod's replies have the shape of the recordings and of the fake's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_regtest_monerod_has_the_recorded_and_the_fake_shape() {
    if !monerod_available("contract_drift_monerod") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let restricted_port = free_port();
    let restricted_arg = restricted_port.to_string();
    let mut node = Monerod::start(
        dir.path(),
        free_port(),
        &[
            "--offline",
            "--rpc-restricted-bind-ip",
            "127.0.0.1",
            "--rpc-restricted-bind-port",
            &restricted_arg,
        ],
    );
    let live = tokio::task::spawn_blocking(move || {
        let live = live_replies(&mut node, restricted_port);
        drop(node);
        live
    })
    .await
    .expect("live exchange");
    assert_eq!(
        live.restricted["result"]["restricted"], true,
        "{}",
        live.restricted
    );

    if std::env::var("PITHEAD_RECORD_FIXTURES").is_ok_and(|v| v == "1") {
        record("get_info.restricted.json", &live.restricted);
        record("json_rpc.method_not_found.json", &live.method_not_found);
        record("json_rpc.parse_error.json", &live.parse_error);
        return;
    }

    for (what, recorded, got) in [
        ("get_info", "get_info.synced.json", &live.get_info),
        (
            "restricted get_info",
            "get_info.restricted.json",
            &live.restricted,
        ),
        (
            "unknown method",
            "json_rpc.method_not_found.json",
            &live.method_not_found,
        ),
        ("not JSON", "json_rpc.parse_error.json", &live.parse_error),
    ] {
        let drifts = diff(
            &fixture(&format!("monerod/{recorded}")),
            got,
            &Rules::exact(),
        );
        assert!(
            drifts.is_empty(),
            "live monerod {what} no longer has the shape of {recorded} (re-record with \
             PITHEAD_RECORD_FIXTURES=1, then fix the fake):\n  {}",
            drifts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    for (mode, reply) in fake_get_info_replies().await {
        assert_same_shape(
            &format!("fake get_info in mode {mode} against the live node"),
            &live.get_info,
            &reply,
            &Rules::exact(),
        );
    }
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 1 });
    assert_same_shape(
        "fake unknown-method reply against the live node",
        &live.method_not_found,
        &fake_json(&fake, UNKNOWN_METHOD).await,
        &Rules::exact(),
    );
    assert_same_shape(
        "fake parse-error reply against the live node",
        &live.parse_error,
        &fake_json(&fake, NOT_JSON).await,
        &Rules::exact(),
    );
}
