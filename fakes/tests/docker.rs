//! The fake docker engine: raw HTTP replies (204/304/404/500, version prefix) and the bollard
//! client the runtime uses, over a custom transport.

mod common;

use bollard::{
    models::{ContainerStateStatusEnum, HealthStatusEnum},
    BollardRequest, ClientVersion, Docker,
};
use common::{assert_control_rejects, get, post_json, send, spawn};
use http::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use pithead_fakes::{
    docker::{ContainerStatus, DockerAction, FakeDocker, Health, Outcome, Verb},
    Behaviour,
};

async fn post(addr: std::net::SocketAddr, path: &str) -> (StatusCode, String) {
    let r = send(addr, Method::POST, path, &[], "")
        .await
        .expect("reply");
    (r.status, r.text())
}

#[tokio::test]
async fn start_stop_status_codes() {
    let fake = FakeDocker::with_state(&[("itest-p2pool", true), ("itest-xmrig-proxy", false)]);
    let addr = spawn(fake.router()).await;

    assert_eq!(
        post(addr, "/v1.47/containers/itest-p2pool/stop").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(addr, "/containers/itest-p2pool/stop").await.0,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        post(addr, "/containers/itest-xmrig-proxy/start").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(addr, "/v1.41/containers/itest-xmrig-proxy/start")
            .await
            .0,
        StatusCode::NOT_MODIFIED
    );
    let (status, body) = post(addr, "/containers/ghost/start").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, r#"{"message":"No such container: ghost"}"#);

    fake.refuse_next(2);
    let (status, body) = post(addr, "/containers/itest-p2pool/start").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("\"message\""), "{body}");
    assert_eq!(
        post(addr, "/containers/itest-p2pool/start").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        post(addr, "/containers/itest-p2pool/start").await.0,
        StatusCode::NO_CONTENT
    );

    assert_eq!(fake.is_running("itest-p2pool"), Some(true));
    assert_eq!(fake.is_running("itest-xmrig-proxy"), Some(true));
    assert_eq!(fake.is_running("ghost"), None);
    let a = |c: &str, verb, outcome| DockerAction {
        container: c.into(),
        verb,
        outcome,
    };
    assert_eq!(
        fake.actions(),
        vec![
            a("itest-p2pool", Verb::Stop, Outcome::Changed),
            a("itest-xmrig-proxy", Verb::Start, Outcome::Changed),
            a("itest-p2pool", Verb::Start, Outcome::Changed),
        ]
    );
    let outcomes: Vec<Outcome> = fake.calls().iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Changed,
            Outcome::AlreadyInState,
            Outcome::Changed,
            Outcome::AlreadyInState,
            Outcome::NotFound,
            Outcome::Refused,
            Outcome::Refused,
            Outcome::Changed,
        ]
    );
}

#[tokio::test]
async fn inspect_ping_version_and_unknown_paths() {
    let fake = FakeDocker::new(&["itest-tari"]);
    fake.set_health("itest-tari", Some(Health::Starting));
    let addr = spawn(fake.router()).await;
    let v = get(addr, "/v1.47/containers/itest-tari/json").await.json();
    assert_eq!(v["Name"], "/itest-tari");
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Running"], true);
    assert_eq!(v["State"]["Health"]["Status"], "starting");
    assert_eq!(v["Id"].as_str().map(str::len), Some(64));
    let by_id = get(
        addr,
        &format!("/containers/{}/json", v["Id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(by_id.json()["Name"], "/itest-tari");

    let r = get(addr, "/containers/ghost/json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = get(addr, "/_ping").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "OK"));
    assert!(r.headers.contains_key("api-version"));
    assert_eq!(get(addr, "/version").await.json()["ApiVersion"], "1.47");
    let r = get(addr, "/v1.47/images/json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    fake.set_status("itest-tari", ContainerStatus::Exited);
    assert_eq!(
        get(addr, "/containers/json")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(addr, "/containers/json?all=1")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// bollard over a custom transport: one hyper HTTP/1 connection per request to the fake.
fn bollard_client(addr: std::net::SocketAddr) -> Docker {
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            Ok(sender.send_request(req).await?)
        },
        Some(format!("http://{addr}")),
        10,
        &ClientVersion {
            major_version: 1,
            minor_version: 44,
        },
    )
    .expect("bollard client")
}

#[tokio::test]
async fn bollard_reads_and_drives_the_fake() {
    let fake = FakeDocker::with_state(&[("itest-p2pool", true)]);
    fake.set_health("itest-p2pool", Some(Health::Unhealthy));
    let addr = spawn(fake.router()).await;
    let docker = bollard_client(addr);

    let info = docker
        .inspect_container("itest-p2pool", None)
        .await
        .unwrap();
    let state = info.state.unwrap();
    assert_eq!(state.status, Some(ContainerStateStatusEnum::RUNNING));
    assert_eq!(state.running, Some(true));
    assert_eq!(
        state.health.unwrap().status,
        Some(HealthStatusEnum::UNHEALTHY)
    );
    assert_eq!(info.name.as_deref(), Some("/itest-p2pool"));

    docker.stop_container("itest-p2pool", None).await.unwrap();
    docker
        .stop_container("itest-p2pool", None)
        .await
        .expect("304 is success for bollard");
    let state = docker
        .inspect_container("itest-p2pool", None)
        .await
        .unwrap()
        .state
        .unwrap();
    assert_eq!(state.status, Some(ContainerStateStatusEnum::EXITED));
    docker.start_container("itest-p2pool", None).await.unwrap();
    assert_eq!(fake.is_running("itest-p2pool"), Some(true));

    let err = docker.start_container("ghost", None).await.unwrap_err();
    assert!(
        matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 404, ref message } if message == "No such container: ghost"),
        "{err:?}"
    );
    fake.refuse_next(1);
    let err = docker
        .stop_container("itest-p2pool", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            bollard::errors::Error::DockerResponseServerError {
                status_code: 500,
                ..
            }
        ),
        "{err:?}"
    );
    docker.ping().await.unwrap();
    assert_eq!(fake.actions().len(), 2);

    fake.set_behaviour(Behaviour::Down);
    assert!(docker
        .inspect_container("itest-p2pool", None)
        .await
        .is_err());
}

#[tokio::test]
async fn control_actions_and_refusals() {
    let fake = FakeDocker::new(&["a"]);
    let addr = spawn(fake.router()).await;
    let r = post_json(
        addr,
        "/control",
        r#"[{"action":"set","container":"b","status":"restarting","health":"unhealthy"},
            {"action":"set","container":"a","running":false},
            {"action":"refuse_next","n":1}]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["containers"]["b"]["status"], "restarting");
    assert_eq!(v["containers"]["b"]["running"], true);
    assert_eq!(v["containers"]["b"]["health"], "unhealthy");
    assert_eq!(v["refuse_next"], 1);
    assert_eq!(fake.is_running("a"), Some(false));

    let r = post_json(addr, "/control", r#"{"action":"remove","container":"b"}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fake.is_running("b"), None);

    assert_control_rejects(
        addr,
        r#"{"action":"explode"}"#,
        &["docker", "unknown variant `explode`"],
    )
    .await;
    assert_control_rejects(addr, r#"{"action":"refuse_next"}"#, &["missing field `n`"]).await;
    assert_control_rejects(
        addr,
        r#"[{"action":"clear_log"},{"action":"set","container":"a","runing":true}]"#,
        &["action [1]", "runing"],
    )
    .await;
    assert_control_rejects(
        addr,
        r#"{"action":"clear_log","x":1}"#,
        &["unknown field `x`"],
    )
    .await;
    assert_eq!(
        fake.is_running("a"),
        Some(false),
        "a refused batch applies nothing"
    );
}
