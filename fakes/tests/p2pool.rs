//! The fake p2pool data API over HTTP, its behaviours and its control API.

mod common;

use common::{assert_control_rejects, get, post_json, send, spawn};
use http::{Method, StatusCode};
use pithead_fakes::{
    p2pool::{FakeP2pool, P2poolState},
    Behaviour, OVERSIZED_BODY_BYTES,
};

#[tokio::test]
async fn the_four_documents_carry_the_real_key_names() {
    let fake = FakeP2pool::new(P2poolState {
        network_height: 3_300_123,
        sidechain_height: 9_100_000,
        hashrate_15m: 12_000,
        hashrate_1h: 11_000,
        hashrate_24h: 10_000,
        shares_found: 3,
        pplns_window_size: 2_160,
        sidechain_difficulty: 1_234_567,
        ..Default::default()
    });
    let addr = spawn(fake.router()).await;

    let net = get(addr, "/network/stats").await.json();
    for key in ["difficulty", "hash", "height", "reward", "timestamp"] {
        assert!(net.get(key).is_some(), "network/stats lacks {key}: {net}");
    }
    assert_eq!(net["height"], 3_300_123);

    let pool = get(addr, "/pool/stats").await.json();
    assert_eq!(pool["pool_list"][0], "pplns");
    let ps = &pool["pool_statistics"];
    for key in [
        "hashRate",
        "miners",
        "totalHashes",
        "lastBlockFoundTime",
        "lastBlockFound",
        "totalBlocksFound",
        "pplnsWeight",
        "pplnsWindowSize",
        "sidechainDifficulty",
        "sidechainHeight",
    ] {
        assert!(ps.get(key).is_some(), "pool/stats lacks {key}: {pool}");
    }
    assert_eq!(ps["sidechainHeight"], 9_100_000);
    assert_eq!(ps["sidechainDifficulty"], 1_234_567);
    assert_eq!(ps["pplnsWindowSize"], 2_160);

    let st = get(addr, "/local/stratum").await.json();
    for key in [
        "hashrate_15m",
        "hashrate_1h",
        "hashrate_24h",
        "shares_found",
        "shares_failed",
        "connections",
        "workers",
        "last_share_found_time",
    ] {
        assert!(st.get(key).is_some(), "local/stratum lacks {key}: {st}");
    }
    assert_eq!(
        (st["hashrate_15m"].as_u64(), st["shares_found"].as_u64()),
        (Some(12_000), Some(3))
    );
    let worker = st["workers"][0].as_str().unwrap();
    assert_eq!(worker.split(',').count(), 5, "{worker}");

    let p2p = get(addr, "/local/p2p").await.json();
    for key in [
        "connections",
        "incoming_connections",
        "peer_list_size",
        "peers",
        "uptime",
    ] {
        assert!(p2p.get(key).is_some(), "local/p2p lacks {key}: {p2p}");
    }
}

#[tokio::test]
async fn update_and_behaviours_show_on_the_wire() {
    let fake = FakeP2pool::new(P2poolState::default());
    let addr = spawn(fake.router()).await;
    fake.update(|s| s.network_height = 0);
    assert_eq!(get(addr, "/network/stats").await.json()["height"], 0);

    fake.update(|s| s.behaviour = Behaviour::Oversized);
    let r = get(addr, "/pool/stats").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), OVERSIZED_BODY_BYTES);

    fake.update(|s| s.behaviour = Behaviour::Garbage);
    let r = get(addr, "/pool/stats").await;
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    fake.update(|s| s.behaviour = Behaviour::Down);
    let err = send(addr, Method::GET, "/local/stratum", &[], "")
        .await
        .unwrap_err();
    assert!(err.starts_with("send:"), "{err}");
}

#[tokio::test]
async fn control_patches_fields_and_refuses_bad_bodies() {
    let fake = FakeP2pool::new(P2poolState::default());
    let addr = spawn(fake.router()).await;
    let r = post_json(
        addr,
        "/control",
        r#"{"network_height":123,"shares_found":2,"behaviour":{"mode":"slow","secs":1.5}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = fake.state();
    assert_eq!((s.network_height, s.shares_found), (123, 2));
    assert_eq!(
        s.behaviour,
        Behaviour::Slow {
            delay: std::time::Duration::from_millis(1500)
        }
    );
    assert_eq!(get(addr, "/control").await.json()["network_height"], 123);

    assert_control_rejects(
        addr,
        r#"{"netwrok_height":1}"#,
        &["p2pool", "unknown field `netwrok_height`", "network_height"],
    )
    .await;
    assert_control_rejects(
        addr,
        r#"{"network_height":-1}"#,
        &["network_height: invalid value"],
    )
    .await;
    assert_control_rejects(
        addr,
        r#"{"behaviour":{"mode":"sideways"}}"#,
        &["unknown variant `sideways`"],
    )
    .await;
    assert_control_rejects(addr, r#"[1,2]"#, &["expected a JSON object"]).await;
    assert_eq!(fake.state().network_height, 123);
}

#[tokio::test(start_paused = true)]
async fn slow_answers_after_the_delay_in_virtual_time() {
    let fake = FakeP2pool::new(P2poolState::default());
    fake.update(|s| s.behaviour = Behaviour::slow_secs(45));
    let start = tokio::time::Instant::now();
    let r = common::oneshot(fake.router(), Method::GET, "/pool/stats", "").await;
    assert!(start.elapsed() >= std::time::Duration::from_secs(45));
    assert_eq!(r.json()["pool_statistics"]["pplnsWindowSize"], 2_160);
    let start = tokio::time::Instant::now();
    let r = common::oneshot(fake.router(), Method::GET, "/control", "").await;
    assert!(
        start.elapsed() < std::time::Duration::from_secs(1),
        "control is never slowed"
    );
    assert_eq!(r.status, StatusCode::OK);
}
