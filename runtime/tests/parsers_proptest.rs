//! Bad wire input, per parser: arbitrary bytes, arbitrary JSON trees (wrong types, huge numbers,
//! odd keys), mutated valid documents, deep nesting and oversized bodies. Every parser must
//! return a typed error or a reading that keeps its invariants — never panic.
//!
//! The parsers are pure functions over bytes, so none of this needs a network.

use pithead_runtime::control::chain;
use pithead_runtime::observe::{docker, monero, p2pool, tari, xmrig_proxy, xvb};
use proptest::prelude::*;
use prost::Message;
use serde_json::{json, Value};

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

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinities", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
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

/// Runs every JSON/HTML parser on `bytes`; each must return (Ok or a typed Err) without
/// panicking, and readings must keep their invariants.
fn every_parser(bytes: &[u8]) {
    if let Ok(info) = monero::parse_get_info(bytes) {
        assert_eq!(
            chain::monero_percent(&info) == 100,
            !chain::monero_is_syncing(&info),
            "{info:?}"
        );
    }
    let _ = p2pool::parse_network_stats(bytes);
    let _ = p2pool::parse_pool_stats(bytes);
    let _ = p2pool::parse_local_stratum(bytes);
    if let Ok(summary) = xmrig_proxy::parse_summary(bytes) {
        for i in 0..summary.hashrate_total_khs.len() {
            if let Some(hs) = summary.hashrate_hs(i) {
                assert!(
                    hs.is_finite() || hs.is_infinite(),
                    "NaN from a finite input"
                );
            }
        }
    }
    let _ = xmrig_proxy::parse_workers(bytes);
    if let Ok(config) = xmrig_proxy::parse_config(bytes) {
        assert!(config.is_object());
    }
    let _ = xvb::parse_public_stats(bytes);
    if let Ok(donor) = xvb::parse_donor_stats(bytes) {
        assert!(donor.avg_1h_hs >= 0.0 && donor.avg_24h_hs >= 0.0);
    }
    let _ = docker::parse_inspect("x", bytes);
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

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
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
        height in any::<u64>(),
        target in any::<u64>(),
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
    }

    #[test]
    fn get_info_syncing_rule_holds(height in any::<u64>(), target in any::<u64>(), synchronized in any::<bool>()) {
        let info = monero::parse_get_info(&serde_json::to_vec(&valid_get_info(height, target, synchronized)).unwrap()).unwrap();
        let expected_syncing = !(synchronized || target == 0 || height >= target);
        let percent = chain::monero_percent(&info);
        prop_assert_eq!(chain::monero_is_syncing(&info), expected_syncing);
        if expected_syncing {
            prop_assert!(percent < 100);
            prop_assert_eq!(u128::from(percent), u128::from(height) * 100 / u128::from(target));
        } else {
            prop_assert_eq!(percent, 100);
        }
    }

    #[test]
    fn tari_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let tip = tari::proto::TipInfoResponse::decode(bytes.as_slice()).ok();
        let progress = tari::proto::SyncProgressResponse::decode(bytes.as_slice()).ok();
        let network = tari::proto::GetNetworkStateResponse::decode(bytes.as_slice()).ok();
        let reading = tari::derive_reading(network.as_ref(), tip.as_ref(), progress.as_ref());
        let percent = chain::tari_percent(&reading);
        prop_assert!(percent <= 100);
        prop_assert_eq!(percent == 100, tari_done(&reading));
    }

    #[test]
    fn tari_percent_shows_100_only_when_done(
        local in any::<u64>(),
        progress_local in any::<u64>(),
        tip in any::<u64>(),
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
        if s.state == tari::TariNodeState::Listening {
            let ready = network.as_ref().is_none_or(|n| tari::readiness(n).is_none());
            prop_assert!(synced && ready);
        }
        if let Some(p) = s.migration_percent { prop_assert!(p <= 100); }
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
