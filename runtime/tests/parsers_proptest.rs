//! Bad wire input, per parser: arbitrary bytes, arbitrary JSON trees (wrong types, huge numbers,
//! odd keys), mutated valid documents, deep nesting and oversized bodies. Every parser must
//! return a typed error or a reading that keeps its invariants — never panic.
//!
//! The parsers are pure functions over bytes, so none of this needs a network.

use pithead_runtime::control::chain;
use pithead_runtime::observe::wire::WireError;
use pithead_runtime::observe::{daemon_text, docker, monero, p2pool, tari, xmrig_proxy, xvb};
use proptest::prelude::*;
use prost::Message;
use serde_json::{json, Map, Value};

/// Field names the parsers look for, mixed into generated objects so that generated documents
/// reach past the first "missing field" check.
const KEYS: &[&str] = &[
    "result",
    "status",
    "height",
    "target_height",
    "synchronized",
    "busy_syncing",
    "offline",
    "database_size",
    "nettype",
    "version",
    "restricted",
    "error",
    "code",
    "message",
    "difficulty",
    "reward",
    "timestamp",
    "pool_statistics",
    "hashRate",
    "miners",
    "sidechainHeight",
    "sidechainDifficulty",
    "pplnsWindowSize",
    "hashrate_15m",
    "hashrate_1h",
    "hashrate_24h",
    "shares_found",
    "workers",
    "hashrate",
    "total",
    "now",
    "max",
    "results",
    "accepted",
    "time_remain",
    "bonus_hr",
    "players",
    "block_height",
    "winner",
    "State",
    "Status",
    "Running",
    "Health",
];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
    ]
}

/// Edge values every numeric generator lands on on purpose: `any::<u64>()` alone practically
/// never yields them, and they are where the rules change (0 = unknown target, `u64::MAX`).
const EDGES: &[u64] = &[0, 1, 2, u64::MAX - 1, u64::MAX];

/// A `u64`: half the time one of [`EDGES`], else anything.
fn edge_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => any::<u64>(),
        1 => prop::sample::select(EDGES),
    ]
}

/// A height around `target`: the target itself, one either side, an edge, or anything.
fn height_near(target: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(target),
        Just(target.saturating_sub(1)),
        Just(target.saturating_add(1)),
        edge_u64(),
    ]
}

/// `(height, target)`: the target from [`edge_u64`], the height around it.
fn height_and_target() -> impl Strategy<Value = (u64, u64)> {
    edge_u64().prop_flat_map(|target| (height_near(target), Just(target)))
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        edge_u64().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinities", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        // Around the ends of a count: -1, -0.5, and 2^64 (the first float that does not fit).
        Just(json!(-1)),
        Just(json!(-0.5)),
        Just(json!(18_446_744_073_709_551_616.0_f64)),
        Just(json!(1e300)),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number(),
        prop_oneof![Just("OK".to_owned()), Just("BUSY".to_owned()), ".{0,16}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid reply of one of the parsers, its numbers on the edges.
fn valid_document() -> impl Strategy<Value = Value> {
    prop_oneof![
        (height_and_target(), any::<bool>()).prop_map(|((h, t), s)| valid_get_info(h, t, s)),
        (edge_u64(), edge_u64()).prop_map(|(difficulty, height)| json!({
            "difficulty": difficulty, "hash": "ab", "height": height, "reward": 0, "timestamp": 1})),
        (edge_u64(), edge_u64(), edge_u64()).prop_map(|(rate, height, window)| json!({
            "pool_list": ["main"], "pool_statistics": {"hashRate": rate, "miners": 1,
            "sidechainHeight": height, "sidechainDifficulty": rate, "pplnsWindowSize": window}})),
        (edge_u64(), edge_u64()).prop_map(|(rate, shares)| json!({
            "hashrate_15m": rate, "hashrate_1h": rate, "hashrate_24h": rate,
            "shares_found": shares, "workers": ["a"]})),
        edge_u64().prop_map(|n| json!({
            "time_remain": n, "bonus_hr": 1.5, "players": n, "winner": "4abc...wxyz",
            "block_height": n.to_string()})),
        edge_u64().prop_map(|n| json!({"workers": [["rig", "10.0.0.1", n, n, 0, 0, n, n, 1.0]]})),
        any::<bool>().prop_map(|running| json!({"State": {
            "Status": if running { "running" } else { "exited" }, "Running": running,
            "Health": {"Status": "healthy"}}})),
    ]
}

/// Bytes near a valid document: cut at an edge (nothing, one byte, all but one, all) or
/// anywhere, then perhaps one byte replaced.
fn near_valid_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        valid_document(),
        0u8..5,
        any::<prop::sample::Index>(),
        prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    )
        .prop_map(|(doc, cut, at, flip)| {
            let mut bytes = serde_json::to_vec(&doc).expect("a Value serializes");
            let len = bytes.len();
            let keep = match cut {
                0 => 0,
                1 => 1,
                2 => len - 1,
                3 => len,
                _ => at.index(len + 1),
            };
            bytes.truncate(keep);
            if let (Some((i, b)), false) = (flip, bytes.is_empty()) {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            bytes
        })
}

/// The body as a JSON object, when it is one.
fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A count as `observe/wire.rs` states it: a JSON integer >= 0, or a finite float in
/// `[0, 2^64)`, truncated. Anything else is no count.
fn count(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let f = v.as_f64()?;
    (0.0..18_446_744_073_709_551_616.0)
        .contains(&f)
        .then_some(f as u64)
}

/// The field `key` of `object` as a count; absent or `null` is `None`.
fn opt_count(object: &Map<String, Value>, key: &str) -> Option<u64> {
    object.get(key).filter(|v| !v.is_null()).and_then(count)
}

/// `docs/decisions.md`: "not syncing ⇔ `synchronized`, or `target_height > 0` and
/// `height >= target_height`". Written as a table, not as the code's expression.
fn documented_monero_syncing(height: u64, target: u64, synchronized: bool) -> bool {
    match (synchronized, target) {
        (true, _) => false,
        // No peer yet: the target is unknown, the node is still loading.
        (false, 0) => true,
        (false, target) => height < target,
    }
}

/// The percentage the spec documents (domain §3): 100 when done — not syncing, or a known
/// target reached; otherwise 0 for an unknown target, else floor(height / target × 100), which
/// is then below 100.
fn documented_percent(height: u64, target: u64, syncing: bool) -> u8 {
    if !syncing || (target > 0 && height >= target) {
        100
    } else if target == 0 {
        0
    } else {
        u8::try_from(u128::from(height) * 100 / u128::from(target)).expect("below 100")
    }
}

/// Whether `message` names one of `fields` (a wire error must say which field it refused).
fn names_a_field(message: &str, fields: &[&str]) -> bool {
    fields.iter().any(|field| message.contains(field))
}

/// When the body is a JSON object, a refusal is a field error (never "not JSON") naming one
/// of the document's fields.
fn assert_field_error(doc: Option<&Map<String, Value>>, source: &WireError, fields: &[&str]) {
    if doc.is_some() {
        assert!(!matches!(source, WireError::Syntax(_)), "{source}");
        let message = source.to_string();
        assert!(
            names_a_field(&message, fields),
            "{message} names none of {fields:?}"
        );
    }
}

fn check_get_info(bytes: &[u8], doc: Option<&Map<String, Value>>) {
    let result = doc.and_then(|d| d.get("result")).and_then(Value::as_object);
    match monero::parse_get_info(bytes) {
        Ok(info) => {
            if let Some(result) = result {
                assert_eq!(result.get("status"), Some(&json!("OK")));
                assert_eq!(Some(info.height), opt_count(result, "height"));
                assert_eq!(Some(info.target_height), opt_count(result, "target_height"));
                let synchronized = result.get("synchronized") == Some(&Value::Bool(true));
                assert_eq!(info.synchronized, synchronized);
            }
            let syncing =
                documented_monero_syncing(info.height, info.target_height, info.synchronized);
            assert_eq!(chain::monero_is_syncing(&info), syncing, "{info:?}");
            assert_eq!(
                chain::monero_percent(&info),
                documented_percent(info.height, info.target_height, syncing),
                "{info:?}"
            );
        }
        Err(monero::MoneroError::Busy) => {
            if let Some(result) = result {
                assert_eq!(result.get("status"), Some(&json!("BUSY")));
            }
        }
        Err(monero::MoneroError::Rpc { .. }) => {
            if let Some(doc) = doc {
                assert!(doc.get("error").is_some_and(Value::is_object), "{doc:?}");
            }
        }
        Err(monero::MoneroError::Malformed { source }) => {
            assert_field_error(doc, &source, &["result", "error"]);
        }
        Err(other) => panic!("a parse cannot give {other:?}"),
    }
}

const NETWORK_STATS_FIELDS: &[&str] = &["difficulty", "height", "reward", "timestamp"];
const POOL_STATS_FIELDS: &[&str] = &["pool_statistics"];
const LOCAL_STRATUM_FIELDS: &[&str] = &[
    "hashrate_15m",
    "hashrate_1h",
    "hashrate_24h",
    "shares_found",
    "shares_failed",
    "last_share_found_time",
    "connections",
    "workers",
];

/// A p2pool refusal is `Malformed` for the document asked, naming a field when the body is an
/// object.
fn assert_p2pool_refusal(
    error: &p2pool::P2poolError,
    asked: p2pool::Document,
    doc: Option<&Map<String, Value>>,
    fields: &[&str],
) {
    match error {
        p2pool::P2poolError::Malformed { document, source } => {
            assert_eq!(*document, asked);
            assert!(error.to_string().contains(asked.path()), "{error}");
            assert_field_error(doc, source, fields);
        }
        other => panic!("a parse of {asked} cannot give {other:?}"),
    }
}

fn check_p2pool(bytes: &[u8], doc: Option<&Map<String, Value>>) {
    use p2pool::Document;
    match p2pool::parse_network_stats(bytes) {
        Ok(stats) => {
            if let Some(doc) = doc {
                assert_eq!(Some(stats.difficulty), opt_count(doc, "difficulty"));
                assert_eq!(Some(stats.height), opt_count(doc, "height"));
                assert_eq!(stats.reward, opt_count(doc, "reward").unwrap_or(0));
                assert_eq!(stats.timestamp, opt_count(doc, "timestamp").unwrap_or(0));
            }
        }
        Err(e) => assert_p2pool_refusal(&e, Document::NetworkStats, doc, NETWORK_STATS_FIELDS),
    }
    match p2pool::parse_pool_stats(bytes) {
        Ok(stats) => {
            if let Some(doc) = doc {
                let pool = doc
                    .get("pool_statistics")
                    .and_then(Value::as_object)
                    .expect("a pool/stats reading without pool_statistics");
                assert_eq!(Some(stats.hashrate), opt_count(pool, "hashRate"));
                assert_eq!(Some(stats.miners), opt_count(pool, "miners"));
                assert_eq!(
                    Some(stats.sidechain_height),
                    opt_count(pool, "sidechainHeight")
                );
                assert_eq!(
                    Some(stats.sidechain_difficulty),
                    opt_count(pool, "sidechainDifficulty")
                );
                assert_eq!(stats.pplns_window_size, opt_count(pool, "pplnsWindowSize"));
            }
        }
        Err(e) => assert_p2pool_refusal(&e, Document::PoolStats, doc, POOL_STATS_FIELDS),
    }
    match p2pool::parse_local_stratum(bytes) {
        Ok(local) => {
            if let Some(doc) = doc {
                assert_eq!(Some(local.hashrate_15m), opt_count(doc, "hashrate_15m"));
                assert_eq!(Some(local.hashrate_1h), opt_count(doc, "hashrate_1h"));
                assert_eq!(Some(local.hashrate_24h), opt_count(doc, "hashrate_24h"));
                assert_eq!(Some(local.shares_found), opt_count(doc, "shares_found"));
                let workers = doc
                    .get("workers")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                assert_eq!(local.workers, workers);
            }
        }
        Err(e) => assert_p2pool_refusal(&e, Document::LocalStratum, doc, LOCAL_STRATUM_FIELDS),
    }
}

const XVB_STATS_FIELDS: &[&str] = &[
    "time_remain",
    "bonus_hr",
    "donate_hr",
    "donate_miners",
    "donate_workers",
    "players",
    "players_round",
    "winner",
    "round_type",
    "block_height",
];

fn check_xvb(bytes: &[u8]) {
    // XvB wraps its JSON in stray backticks; the parser drops them, so does the oracle.
    let cleaned: Vec<u8> = bytes.iter().copied().filter(|b| *b != b'`').collect();
    let doc = json_object(&cleaned);
    match xvb::parse_public_stats(bytes) {
        Ok(stats) => {
            // Stated bounds: finite hashrates, minutes within ±10^12 when sent as a float.
            assert!(stats.bonus_hr_khs.is_finite() && stats.donate_hr_khs.is_finite());
            if let Some(doc) = &doc {
                let number = |key: &str| doc.get(key).and_then(Value::as_f64).unwrap_or(0.0);
                assert_eq!(stats.bonus_hr_khs, number("bonus_hr"));
                assert_eq!(stats.donate_hr_khs, number("donate_hr"));
                assert_eq!(stats.players, opt_count(doc, "players").unwrap_or(0));
                match doc.get("time_remain") {
                    None | Some(Value::Null) => assert_eq!(stats.time_remain_min, 0),
                    Some(v) => match v.as_i64() {
                        Some(n) => assert_eq!(stats.time_remain_min, n),
                        None => assert!(v.as_f64().is_some_and(|f| f.abs() <= 1e12), "{v}"),
                    },
                }
                let height = match doc.get("block_height") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.trim().is_empty() => None,
                    Some(Value::String(s)) => Some(
                        s.trim()
                            .parse::<u64>()
                            .expect("a height that is not digits"),
                    ),
                    Some(v) => Some(count(v).expect("a height that is not a count")),
                };
                assert_eq!(stats.block_height, height);
            }
        }
        Err(xvb::XvbError::MalformedStats(source)) => {
            assert_field_error(doc.as_ref(), &source, XVB_STATS_FIELDS);
        }
        Err(other) => panic!("a parse of the public stats cannot give {other:?}"),
    }
    let page = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    match xvb::parse_donor_stats(bytes) {
        Ok(donor) => {
            assert!(
                page.contains("fail count:") || page.contains("1hr avg:"),
                "{page}"
            );
            for hs in [donor.avg_1h_hs, donor.avg_24h_hs] {
                assert!(hs.is_finite() && hs >= 0.0, "{donor:?}");
            }
        }
        Err(xvb::XvbError::NotRegistered) => assert!(page.contains("not registered"), "{page}"),
        Err(xvb::XvbError::MalformedDonorPage) => {}
        Err(other) => panic!("a parse of the donor page cannot give {other:?}"),
    }
}

fn check_docker(bytes: &[u8], doc: Option<&Map<String, Value>>) {
    match docker::parse_inspect("x", bytes) {
        Ok(status) => {
            assert_eq!(status.name, "x");
            assert!(!status.status.is_empty());
            if let Some(doc) = doc {
                let state = doc
                    .get("State")
                    .and_then(Value::as_object)
                    .expect("an inspect reading without State");
                // The engine's text comes through `daemon_text::clean` (one bounded line).
                let raw = state.get("Status").and_then(Value::as_str);
                assert_eq!(raw.map(daemon_text::clean), Some(status.status.clone()));
                let running = state.get("Running").and_then(Value::as_bool);
                assert_eq!(status.running, running.unwrap_or(false));
                let health = state
                    .get("Health")
                    .and_then(|h| h.get("Status"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                assert_eq!(status.health, health.map(daemon_text::clean));
            }
        }
        Err(docker::DockerError::Malformed { source }) => {
            assert_field_error(doc, &source, &["State"]);
        }
        Err(other) => panic!("a parse of an inspect reply cannot give {other:?}"),
    }
}

fn check_xmrig_proxy(bytes: &[u8], doc: Option<&Map<String, Value>>) {
    let malformed = |e: &xmrig_proxy::XmrigProxyError, asked: &str| {
        assert!(
            matches!(e, xmrig_proxy::XmrigProxyError::Malformed { path, .. } if *path == asked),
            "{e:?}"
        );
    };
    match xmrig_proxy::parse_summary(bytes) {
        Ok(summary) => {
            for i in 0..summary.hashrate_total_khs.len() {
                if let Some(hs) = summary.hashrate_hs(i) {
                    assert!(!hs.is_nan(), "NaN from a finite input");
                }
            }
        }
        Err(e) => malformed(&e, "/1/summary"),
    }
    match xmrig_proxy::parse_workers(bytes) {
        Ok(workers) => {
            if let Some(doc) = doc {
                let rows = doc.get("workers").and_then(Value::as_array).map(Vec::len);
                assert_eq!(Some(workers.len()), rows);
            }
        }
        Err(e) => malformed(&e, "/1/workers"),
    }
    match xmrig_proxy::parse_config(bytes) {
        Ok(config) => assert_eq!(config.as_object(), doc),
        Err(e) => {
            assert!(doc.is_none(), "an object refused as a config");
            malformed(&e, "/1/config");
        }
    }
}

/// Runs every JSON/HTML parser on `bytes`: each returns a reading that says what the body says
/// (within the bounds its module states), or the typed error its module names for garbage —
/// never a panic.
fn every_parser(bytes: &[u8]) {
    let doc = json_object(bytes);
    check_get_info(bytes, doc.as_ref());
    check_p2pool(bytes, doc.as_ref());
    check_xmrig_proxy(bytes, doc.as_ref());
    check_xvb(bytes);
    check_docker(bytes, doc.as_ref());
}

fn valid_get_info(height: u64, target: u64, synchronized: bool) -> Value {
    json!({"id":"0","jsonrpc":"2.0","result":{
        "status":"OK","height":height,"target_height":target,"synchronized":synchronized,
        "busy_syncing":!synchronized,"offline":false,"database_size":1u64 << 33,
        "nettype":"mainnet","version":"0.18.3.4-release","restricted":false}})
}

/// The spec's "done" (domain §3), written here independently of the code: not syncing, or a
/// known tip that the local height has reached.
fn tari_done(reading: &tari::TariReading) -> bool {
    reading.state == tari::TariNodeState::Listening
        || (reading.tip_height > 0 && reading.local_height >= reading.tip_height)
}

/// The Tari replies' bytes: anything, or a valid message with edge heights, cut anywhere.
fn tari_bytes() -> impl Strategy<Value = Vec<u8>> {
    let message = prop_oneof![
        (edge_u64(), any::<bool>(), -1i32..8).prop_map(|(height, synced, state)| {
            tari::proto::TipInfoResponse {
                metadata: Some(tari::proto::MetaData {
                    best_block_height: height,
                    ..Default::default()
                }),
                initial_sync_achieved: synced,
                base_node_state: state,
            }
            .encode_to_vec()
        }),
        height_and_target().prop_map(|(local, tip)| {
            tari::proto::SyncProgressResponse {
                tip_height: tip,
                local_height: local,
                state: 4,
            }
            .encode_to_vec()
        }),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (message, any::<prop::sample::Index>(), any::<bool>()).prop_map(|(mut bytes, at, cut)| {
            if cut {
                bytes.truncate(at.index(bytes.len() + 1));
            }
            bytes
        }),
    ]
}

/// Tari's tip, the tip info's local height and the progress reply's local height, around each
/// other.
fn tari_heights() -> impl Strategy<Value = (u64, u64, u64)> {
    edge_u64().prop_flat_map(|tip| (Just(tip), height_near(tip), height_near(tip)))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), near_valid_bytes()],
    ) {
        every_parser(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(doc in arb_json()) {
        let bytes = serde_json::to_vec(&doc).unwrap();
        every_parser(&bytes);
        // The same tree under the envelopes the parsers expect.
        every_parser(&serde_json::to_vec(&json!({"result": doc.clone()})).unwrap());
        every_parser(&serde_json::to_vec(&json!({"pool_statistics": doc.clone()})).unwrap());
        every_parser(&serde_json::to_vec(&json!({"hashrate": {"total": doc.clone()}, "workers": doc.clone()})).unwrap());
        every_parser(&serde_json::to_vec(&json!({"State": doc})).unwrap());
    }

    #[test]
    fn mutated_get_info_is_typed(
        (height, target) in height_and_target(),
        synchronized in any::<bool>(),
        field in prop::sample::select(&["status","height","target_height","synchronized","database_size","nettype","restricted"][..]),
        replacement in arb_json(),
    ) {
        let mut doc = valid_get_info(height, target, synchronized);
        doc["result"][field] = replacement.clone();
        let bytes = serde_json::to_vec(&doc).unwrap();
        match monero::parse_get_info(&bytes) {
            Ok(info) => {
                if field != "height" { prop_assert_eq!(info.height, height); }
                if field != "target_height" { prop_assert_eq!(info.target_height, target); }
            }
            Err(monero::MoneroError::Malformed { source }) => {
                // The message names the field that was replaced (or the status it refused).
                let reason = source.to_string();
                prop_assert!(reason.contains(field), "{} lacks {}", reason, field);
            }
            Err(monero::MoneroError::Busy) => prop_assert_eq!(replacement, json!("BUSY")),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
        every_parser(&bytes);
    }

    #[test]
    fn get_info_syncing_rule_holds((height, target) in height_and_target(), synchronized in any::<bool>()) {
        let info = monero::parse_get_info(&serde_json::to_vec(&valid_get_info(height, target, synchronized)).unwrap()).unwrap();
        prop_assert_eq!((info.height, info.target_height, info.synchronized), (height, target, synchronized));
        let expected_syncing = documented_monero_syncing(height, target, synchronized);
        prop_assert_eq!(chain::monero_is_syncing(&info), expected_syncing);
        let percent = chain::monero_percent(&info);
        prop_assert_eq!(percent, documented_percent(height, target, expected_syncing));
        prop_assert_eq!(percent == 100, !expected_syncing);
        // What the gate takes: a synced node with target 0 shows its own height as the target;
        // a node with no peer yet keeps the unknown target 0 (loading).
        let reading = chain::monero_chain(&info);
        prop_assert_eq!(reading.syncing, expected_syncing);
        prop_assert_eq!(reading.height, height);
        let shown_target = if target == 0 && !expected_syncing { height } else { target };
        prop_assert_eq!(reading.target, shown_target);
    }

    #[test]
    fn tari_bytes_never_panic(bytes in tari_bytes()) {
        let tip = tari::proto::TipInfoResponse::decode(bytes.as_slice()).ok();
        let progress = tari::proto::SyncProgressResponse::decode(bytes.as_slice()).ok();
        let network = tari::proto::GetNetworkStateResponse::decode(bytes.as_slice()).ok();
        let reading = tari::derive_reading(network.as_ref(), tip.as_ref(), progress.as_ref());
        let percent = chain::tari_percent(&reading);
        prop_assert!(percent <= 100);
        prop_assert_eq!(percent == 100, tari_done(&reading));
        let syncing = reading.state != tari::TariNodeState::Listening;
        prop_assert_eq!(percent, documented_percent(reading.local_height, reading.tip_height, syncing));
    }

    #[test]
    fn tari_percent_shows_100_only_when_done(
        (tip, local, progress_local) in tari_heights(),
        synced in any::<bool>(),
        node_state in -3i32..10,
        readiness in prop::option::of(prop_oneof![
            (-1i32..120).prop_map(tari::proto::readiness_status::Status::State),
            any::<f64>().prop_map(|p| tari::proto::readiness_status::Status::Migration(
                tari::proto::MigrationProgress { progress_percentage: p, ..Default::default() })),
        ]),
    ) {
        let tip_info = tari::proto::TipInfoResponse {
            metadata: Some(tari::proto::MetaData { best_block_height: local, ..Default::default() }),
            initial_sync_achieved: synced,
            base_node_state: node_state,
        };
        let progress = tari::proto::SyncProgressResponse { tip_height: tip, local_height: progress_local, state: 4 };
        let network = readiness.map(|status| tari::proto::GetNetworkStateResponse {
            readiness_status: Some(tari::proto::ReadinessStatus { status: Some(status), timestamp: 0 }),
            ..Default::default()
        });
        let s = tari::derive_reading(network.as_ref(), Some(&tip_info), Some(&progress));
        prop_assert_eq!(chain::tari_percent(&s) == 100, tari_done(&s));
        let syncing = s.state != tari::TariNodeState::Listening;
        prop_assert_eq!(chain::tari_percent(&s), documented_percent(s.local_height, s.tip_height, syncing));
        if s.state == tari::TariNodeState::Listening {
            let ready = network.as_ref().is_none_or(|n| tari::readiness(n).is_none());
            prop_assert!(synced && ready);
        }
        if let Some(p) = s.migration_percent { prop_assert!(p <= 100); }
    }
}

/// The generators reach the edges the rules turn on, on purpose (a property that passes only
/// because `any::<u64>()` never yields 0 is what this file used to have).
#[test]
fn the_generators_hit_the_edges() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = height_and_target();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..2_000 {
        let (height, target) = strategy.new_tree(&mut runner).unwrap().current();
        let relation = match height.cmp(&target) {
            std::cmp::Ordering::Equal => "height = target",
            _ if height == target.wrapping_add(1) => "height = target + 1",
            _ if height.wrapping_add(1) == target => "height = target - 1",
            _ => "other",
        };
        seen.insert(relation);
        for (name, value) in [("target", target), ("height", height)] {
            if value == 0 || value == 1 || value == u64::MAX {
                seen.insert(match (name, value) {
                    ("target", 0) => "target 0",
                    ("target", 1) => "target 1",
                    ("target", _) => "target max",
                    ("height", 0) => "height 0",
                    ("height", 1) => "height 1",
                    _ => "height max",
                });
            }
        }
    }
    for edge in [
        "height = target",
        "height = target + 1",
        "height = target - 1",
        "target 0",
        "target 1",
        "target max",
        "height 0",
        "height 1",
        "height max",
    ] {
        assert!(seen.contains(edge), "never generated: {edge}");
    }
}

#[test]
fn deep_nesting_is_a_typed_error() {
    for depth in [200usize, 100_000] {
        let mut doc = "[".repeat(depth);
        doc.push_str(&"]".repeat(depth));
        every_parser(doc.as_bytes());
        let mut obj = r#"{"result":"#.repeat(depth);
        obj.push('1');
        obj.push_str(&"}".repeat(depth));
        assert!(matches!(
            monero::parse_get_info(obj.as_bytes()),
            Err(monero::MoneroError::Malformed { .. })
        ));
        every_parser(obj.as_bytes());
    }
}

#[test]
fn huge_numbers_are_refused_not_wrapped() {
    let huge = format!("1{}", "0".repeat(400));
    let body = format!(r#"{{"result":{{"status":"OK","height":{huge},"target_height":0}}}}"#);
    assert!(matches!(
        monero::parse_get_info(body.as_bytes()),
        Err(monero::MoneroError::Malformed { .. })
    ));
    let body = br#"{"result":{"status":"OK","height":18446744073709551616,"target_height":0}}"#;
    assert!(monero::parse_get_info(body).is_err());
    let body = format!(r#"{{"difficulty":{huge},"height":1}}"#);
    assert!(p2pool::parse_network_stats(body.as_bytes()).is_err());
    every_parser(body.as_bytes());
}

#[test]
fn oversized_documents_parse_or_fail_without_panicking() {
    // 4 MiB of a long string and of a long array: bounded work, typed results.
    let long_string = format!(r#"{{"result":{{"status":"{}"}}}}"#, "A".repeat(4 << 20));
    assert!(matches!(
        monero::parse_get_info(long_string.as_bytes()),
        Err(monero::MoneroError::Malformed { source }) if source.to_string().len() < 200
    ));
    let many_rows = format!(r#"{{"workers":[{}]}}"#, vec!["[1]"; 500_000].join(","));
    assert!(xmrig_proxy::parse_workers(many_rows.as_bytes()).is_err());
    every_parser(long_string.as_bytes());
}

/// The host's `/proc/stat` and `/proc/meminfo` lines (observe/system.rs), hostile text included.
mod proc_files {
    use super::edge_u64;
    use pithead_runtime::observe::system;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_proc_text_never_panics(text in "(cpu |MemTotal: |HugePages_Free: )?[ -~\n]{0,200}") {
            let _ = system::parse_cpu_times(&text);
            let _ = system::parse_mem_percent(&text);
            let _ = system::parse_hugepages(&text);
        }

        /// The aggregate `cpu` line with counters at the `u64` edges: a reading exactly when
        /// the first eight add up within a `u64`, then the sums as written; never a panic.
        #[test]
        fn cpu_counters_add_up_or_are_no_reading(fields in prop::collection::vec(edge_u64(), 0..12)) {
            let line: Vec<String> = fields.iter().map(ToString::to_string).collect();
            let stat = format!("cpu  {}\ncpu0 1 2 3 4\n", line.join(" "));
            let total: u128 = fields.iter().take(8).map(|f| u128::from(*f)).sum();
            let reading = system::parse_cpu_times(&stat);
            if fields.len() < 4 || total > u128::from(u64::MAX) {
                prop_assert_eq!(reading, None);
            } else {
                let reading = reading.unwrap();
                prop_assert_eq!(u128::from(reading.total), total);
                let idle = u128::from(fields[3]) + u128::from(fields.get(4).copied().unwrap_or(0));
                prop_assert_eq!(u128::from(reading.idle), idle);
                prop_assert!(reading.idle <= reading.total);
            }
        }
    }
}
