//! Tier 2: the real `DockerController` (bollard over the connector) against the fake docker
//! engine on loopback: start/stop outcomes (204 changed, 304 already, 404, refusals), inspect
//! shapes, misbehaving engines, and the socket proxy's 403 page.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{http::StatusCode, response::IntoResponse, Router};
use pithead_fakes::docker::{ContainerStatus as FakeStatus, FakeDocker, Health, Outcome, Verb};
use pithead_fakes::Behaviour;
use pithead_runtime::io::{SharedConnector, TokioConnector, TransportError};
use pithead_runtime::observe::docker::{
    Applied, DockerApi, DockerController, DockerError, MAX_BODY_BYTES,
};

async fn serve(router: Router) -> SocketAddr {
    let (addr, _task) = pithead_fakes::serve::spawn_local(router)
        .await
        .expect("serve");
    addr
}

fn controller(addr: SocketAddr, timeout: Duration) -> DockerController {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint =
        pithead_runtime::io::Endpoint::parse(&format!("http://{addr}")).expect("endpoint");
    DockerController::new(connector, &endpoint, timeout).expect("controller")
}

#[tokio::test]
async fn start_stop_outcomes_are_recorded_by_the_engine() {
    let fake = FakeDocker::with_state(&[("p2pool", false), ("xmrig-proxy", true)]);
    let d = controller(serve(fake.router()).await, Duration::from_secs(5));

    assert_eq!(d.start("p2pool").await.expect("applied"), Applied::Changed);
    assert_eq!(
        d.start("p2pool").await.expect("applied"),
        Applied::AlreadyInState
    );
    assert_eq!(
        d.stop("xmrig-proxy").await.expect("applied"),
        Applied::Changed
    );
    assert_eq!(
        d.stop("xmrig-proxy").await.expect("applied"),
        Applied::AlreadyInState
    );
    assert_eq!(fake.is_running("p2pool"), Some(true));
    assert_eq!(fake.is_running("xmrig-proxy"), Some(false));

    let actions: Vec<(String, Verb)> = fake
        .actions()
        .into_iter()
        .map(|a| (a.container, a.verb))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("p2pool".into(), Verb::Start),
            ("xmrig-proxy".into(), Verb::Stop)
        ]
    );
    let outcomes: Vec<Outcome> = fake.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Changed,
            Outcome::AlreadyInState,
            Outcome::Changed,
            Outcome::AlreadyInState
        ]
    );

    // Through the trait object the cycle holds.
    let api: Arc<dyn DockerApi> = Arc::new(d);
    assert_eq!(
        api.start("xmrig-proxy").await.expect("applied"),
        Applied::Changed
    );
    assert_eq!(fake.is_running("xmrig-proxy"), Some(true));
}

#[tokio::test]
async fn missing_refused_and_invalid_names() {
    let fake = FakeDocker::new(&["p2pool"]);
    let d = controller(serve(fake.router()).await, Duration::from_secs(5));
    assert!(matches!(
        d.start("ghost").await,
        Err(DockerError::NotFound(name)) if name == "ghost"
    ));
    assert!(matches!(
        d.stop("ghost").await,
        Err(DockerError::NotFound(name)) if name == "ghost"
    ));
    assert!(matches!(
        d.inspect("ghost").await,
        Err(DockerError::NotFound(name)) if name == "ghost"
    ));

    fake.refuse_next(1);
    match d.stop("p2pool").await {
        Err(DockerError::Refused { status, message }) => {
            assert_eq!(status, 500);
            assert!(message.contains("refused by the test"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A refusal changes nothing; the retry lands.
    assert_eq!(fake.is_running("p2pool"), Some(true));
    assert_eq!(d.stop("p2pool").await.expect("applied"), Applied::Changed);

    let calls_before = fake.calls().len();
    assert!(matches!(
        d.start("../etc").await,
        Err(DockerError::InvalidName { .. })
    ));
    assert_eq!(
        fake.calls().len(),
        calls_before,
        "an invalid name never reaches the engine"
    );
}

#[tokio::test]
async fn inspect_reads_status_running_and_health() {
    let fake = FakeDocker::with_state(&[("monerod", true), ("p2pool", false), ("tari", true)]);
    fake.set_health("monerod", Some(Health::Healthy));
    fake.set_health("tari", Some(Health::Unhealthy));
    fake.set_status("xmrig-proxy", FakeStatus::Restarting);
    let d = controller(serve(fake.router()).await, Duration::from_secs(5));

    let m = d.inspect("monerod").await.unwrap();
    assert_eq!(
        (m.status.as_str(), m.running, m.health.as_deref()),
        ("running", true, Some("healthy"))
    );
    let p = d.inspect("p2pool").await.unwrap();
    assert_eq!(
        (p.status.as_str(), p.running, p.health),
        ("exited", false, None)
    );
    let t = d.inspect("tari").await.unwrap();
    assert_eq!(t.health.as_deref(), Some("unhealthy"));
    let x = d.inspect("xmrig-proxy").await.unwrap();
    assert_eq!((x.status.as_str(), x.running), ("restarting", true));
}

#[tokio::test]
async fn misbehaving_engine_is_typed() {
    let fake = FakeDocker::new(&["p2pool"]);
    let addr = serve(fake.router()).await;
    let d = controller(addr, Duration::from_millis(400));

    fake.set_behaviour(Behaviour::Down);
    let err = d.start("p2pool").await.unwrap_err();
    assert!(
        matches!(
            err,
            DockerError::Transport(
                TransportError::Protocol { .. } | TransportError::Unreachable { .. }
            )
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert!(matches!(
        d.inspect("p2pool").await,
        Err(DockerError::Transport(TransportError::Protocol { .. }))
    ));

    fake.set_behaviour(Behaviour::Garbage);
    assert!(matches!(
        d.inspect("p2pool").await,
        Err(DockerError::Malformed { .. })
    ));

    fake.set_behaviour(Behaviour::Oversized);
    assert!(
        matches!(d.inspect("p2pool").await, Err(DockerError::Transport(TransportError::TooLarge { limit_bytes, .. })) if limit_bytes == MAX_BODY_BYTES)
    );

    fake.set_behaviour(Behaviour::slow_secs(3));
    assert!(matches!(
        d.start("p2pool").await,
        Err(DockerError::Transport(TransportError::Timeout { .. }))
    ));
    assert!(matches!(
        d.inspect("p2pool").await,
        Err(DockerError::Transport(TransportError::Timeout { .. }))
    ));

    // Nothing listening at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let gone = controller(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    );
    assert!(matches!(
        gone.stop("p2pool").await,
        Err(DockerError::Transport(TransportError::Unreachable { .. }))
    ));
}

/// What the socket proxy (haproxy) answers for a call it does not allow.
const PROXY_403: &str = "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";

#[tokio::test]
async fn the_socket_proxy_403_page_is_a_refusal() {
    let router = Router::new().fallback(|| async {
        (
            StatusCode::FORBIDDEN,
            [("content-type", "text/html")],
            PROXY_403,
        )
            .into_response()
    });
    let d = controller(serve(router).await, Duration::from_secs(5));
    for result in [d.start("p2pool").await, d.stop("p2pool").await] {
        match result {
            Err(DockerError::Refused { status, message }) => {
                assert_eq!(status, 403);
                assert_eq!(
                    message,
                    "403 Forbidden Request forbidden by administrative rules."
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        d.inspect("p2pool").await,
        Err(DockerError::Refused { status: 403, .. })
    ));
}

#[tokio::test]
async fn wire_paths_are_unversioned_and_stop_waits_ten_seconds() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let router = Router::new().fallback(move |method: axum::http::Method, uri: axum::http::Uri| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(format!("{method} {uri}"));
            StatusCode::NO_CONTENT
        }
    });
    let d = controller(serve(router).await, Duration::from_secs(5));
    assert_eq!(
        d.stop("xmrig-proxy").await.expect("applied"),
        Applied::Changed
    );
    assert_eq!(
        d.start("xmrig-proxy").await.expect("applied"),
        Applied::Changed
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "POST /containers/xmrig-proxy/stop?t=10".to_owned(),
            "POST /containers/xmrig-proxy/start".to_owned(),
        ]
    );
}
