//! The fake Tari node over real gRPC (tonic client, tokio TCP) for each mode, and its control API.

mod common;

use common::{assert_control_rejects, get, post_json, spawn, WAIT};
use http::StatusCode;
use pithead_fakes::tari::{
    proto::{
        base_node_client::BaseNodeClient, readiness_status, BaseNodeState, Empty,
        GetNetworkStateRequest, GetNetworkStateResponse, SyncState,
    },
    FakeTari, Migration, TariMode,
};
use tonic::transport::Channel;

async fn grpc(fake: &FakeTari) -> BaseNodeClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let svc = fake.grpc_service();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
    });
    tokio::time::timeout(WAIT, BaseNodeClient::connect(format!("http://{addr}")))
        .await
        .expect("connect in time")
        .expect("connect")
}

async fn network_state(client: &mut BaseNodeClient<Channel>) -> GetNetworkStateResponse {
    client
        .get_network_state(GetNetworkStateRequest {})
        .await
        .expect("GetNetworkState")
        .into_inner()
}

/// The readiness oneof of a `GetNetworkState` reply.
fn readiness(reply: &GetNetworkStateResponse) -> readiness_status::Status {
    reply
        .readiness_status
        .and_then(|r| r.status)
        .expect("readiness_status.status set")
}

#[tokio::test]
async fn get_network_state_readiness_per_mode() {
    let fake = FakeTari::new(TariMode::Starting);
    let mut client = grpc(&fake).await;
    let ready = readiness_status::Status::State(readiness_status::State::Ready as i32);

    let r = network_state(&mut client).await;
    assert_eq!(
        readiness(&r),
        readiness_status::Status::State(readiness_status::State::StartingUp as i32)
    );
    assert_eq!(r.base_node_state(), BaseNodeState::StartUp);
    assert!(!r.initial_sync_achieved);

    fake.set_mode(TariMode::Migrating);
    fake.set_migration_progress(Migration {
        current_block: 250,
        total_blocks: 1_000,
    });
    let readiness_status::Status::Migration(m) = readiness(&network_state(&mut client).await)
    else {
        panic!("migrating must report migration progress");
    };
    assert_eq!((m.current_block, m.total_blocks), (250, 1_000));
    assert!((m.progress_percentage - 25.0).abs() < 1e-9, "{m:?}");
    assert!(m.target_db_version > m.current_db_version, "{m:?}");

    fake.set_mode(TariMode::Syncing {
        local: 10,
        tip: 5000,
    });
    let r = network_state(&mut client).await;
    assert_eq!(readiness(&r), ready);
    assert_eq!(r.base_node_state(), BaseNodeState::BlockSync);
    assert_eq!(r.metadata.expect("metadata").best_block_height, 10);

    fake.set_mode(TariMode::Synced { height: 5000 });
    let r = network_state(&mut client).await;
    assert_eq!(readiness(&r), ready);
    assert!(r.initial_sync_achieved);
    assert_eq!(r.base_node_state(), BaseNodeState::Listening);
    assert_eq!(r.metadata.expect("metadata").best_block_height, 5000);

    fake.set_mode(TariMode::Down);
    let err = client
        .get_network_state(GetNetworkStateRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert_eq!(fake.requests(), 5);
}

#[tokio::test(start_paused = true)]
async fn get_network_state_is_delayed_when_slow() {
    let fake = FakeTari::new(TariMode::Migrating);
    fake.set_mode(TariMode::Slow { secs: 20 });
    let start = tokio::time::Instant::now();
    let reply = {
        use pithead_fakes::tari::proto::base_node_server::BaseNode;
        fake.get_network_state(tonic::Request::new(GetNetworkStateRequest {}))
            .await
            .expect("slow still answers")
            .into_inner()
    };
    let reply = (start.elapsed(), reply);
    assert!(
        reply.0 >= std::time::Duration::from_secs(20),
        "{:?}",
        reply.0
    );
    assert!(
        matches!(readiness(&reply.1), readiness_status::Status::Migration(_)),
        "slow answers from the last data mode"
    );
}

#[tokio::test]
async fn without_network_state_is_unimplemented_like_an_older_node() {
    let fake = FakeTari::new(TariMode::Synced { height: 9 }).without_network_state();
    let mut client = grpc(&fake).await;
    let err = client
        .get_network_state(GetNetworkStateRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    let tip = client.get_tip_info(Empty {}).await.unwrap().into_inner();
    assert_eq!(tip.metadata.unwrap().best_block_height, 9);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn each_mode_on_the_wire() {
    let fake = FakeTari::new(TariMode::Starting);
    let mut client = grpc(&fake).await;

    let tip = client.get_tip_info(Empty {}).await.unwrap().into_inner();
    assert_eq!(tip.base_node_state(), BaseNodeState::StartUp);
    assert!(!tip.initial_sync_achieved);
    assert_eq!(tip.metadata.unwrap().best_block_height, 0);
    let sp = client
        .get_sync_progress(Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sp.state(), SyncState::Startup);

    fake.set_mode(TariMode::Syncing {
        local: 10,
        tip: 5000,
    });
    let tip = client.get_tip_info(Empty {}).await.unwrap().into_inner();
    assert_eq!(tip.base_node_state(), BaseNodeState::BlockSync);
    assert!(!tip.initial_sync_achieved);
    assert_eq!(tip.metadata.unwrap().best_block_height, 10);
    let sp = client
        .get_sync_progress(Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((sp.local_height, sp.tip_height), (10, 5000));
    assert_eq!(sp.state(), SyncState::Block);

    fake.set_mode(TariMode::Synced { height: 5000 });
    let tip = client.get_tip_info(Empty {}).await.unwrap().into_inner();
    assert_eq!(tip.base_node_state(), BaseNodeState::Listening);
    assert!(tip.initial_sync_achieved);
    let meta = tip.metadata.unwrap();
    assert_eq!(meta.best_block_height, 5000);
    assert_eq!(meta.best_block_hash.len(), 32);
    let sp = client
        .get_sync_progress(Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((sp.local_height, sp.tip_height), (5000, 5000));
    assert_eq!(sp.state(), SyncState::Done);

    fake.set_mode(TariMode::Migrating);
    let tip = client.get_tip_info(Empty {}).await.unwrap().into_inner();
    assert_eq!(tip.base_node_state(), BaseNodeState::StartUp);
    assert!(!tip.initial_sync_achieved);

    fake.set_mode(TariMode::Down);
    let err = client.get_tip_info(Empty {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    let err = client.get_sync_progress(Empty {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);

    assert_eq!(fake.requests(), 9);
}

#[tokio::test]
async fn control_api_sets_modes_and_refuses_bad_bodies() {
    let fake = FakeTari::new(TariMode::Starting);
    let addr = spawn(fake.control_router()).await;
    for (body, mode) in [
        (
            r#"{"mode":"synced","height":5}"#,
            TariMode::Synced { height: 5 },
        ),
        (
            r#"{"mode":"syncing","local":1,"tip":9}"#,
            TariMode::Syncing { local: 1, tip: 9 },
        ),
        (r#"{"mode":"migrating"}"#, TariMode::Migrating),
        (r#"{"mode":"down"}"#, TariMode::Down),
        (r#"{"mode":"slow","secs":3}"#, TariMode::Slow { secs: 3 }),
        (r#"{"mode":"starting"}"#, TariMode::Starting),
    ] {
        let r = post_json(addr, "/control", body).await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text());
        assert_eq!(fake.mode(), mode);
    }
    assert_eq!(get(addr, "/control").await.json()["mode"], "starting");
    assert_control_rejects(
        addr,
        r#"{"mode":"syncing","local":1}"#,
        &["tari", "missing field `tip`"],
    )
    .await;
    assert_control_rejects(
        addr,
        r#"{"mode":"starting","height":1}"#,
        &["unknown field `height`"],
    )
    .await;
    assert_control_rejects(addr, r#"{"mode":"synced","height":"x"}"#, &["invalid type"]).await;
    assert_eq!(fake.mode(), TariMode::Starting);
}
