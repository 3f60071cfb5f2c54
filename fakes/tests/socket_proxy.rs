//! The docker socket proxy in front of an engine on a unix socket: what it lets through reaches
//! the engine, everything else is answered 403 and never reaches it.

mod common;

use std::time::Duration;

use common::{send, spawn};
use http::{Method, StatusCode};
use pithead_fakes::docker::{FakeDocker, Verb};
use pithead_fakes::serve::serve;
use pithead_fakes::socket_proxy::{Access, SocketProxy};

/// A fake engine on a unix socket in a fresh directory, and the proxy in front of it.
async fn proxy_before_engine(
    access: Access,
) -> (std::net::SocketAddr, FakeDocker, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("docker.sock");
    let engine = FakeDocker::with_state(&[("itest-p2pool", true), ("itest-xmrig-proxy", false)]);
    let listener = tokio::net::UnixListener::bind(&socket).expect("bind the unix socket");
    tokio::spawn(serve(listener, engine.router()));
    let proxy = SocketProxy {
        access,
        socket,
        timeout: Duration::from_secs(5),
    };
    (spawn(proxy.router()).await, engine, dir)
}

#[tokio::test]
async fn the_control_proxy_forwards_inspect_start_and_stop_and_refuses_the_rest() {
    let (addr, engine, _dir) = proxy_before_engine(Access::StartStop).await;

    let ok = |method: Method, path: &'static str, status: StatusCode| {
        let method = method.clone();
        async move {
            let reply = send(addr, method.clone(), path, &[], "")
                .await
                .expect("reply");
            assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
            reply
        }
    };
    let inspect = ok(
        Method::GET,
        "/v1.41/containers/itest-p2pool/json",
        StatusCode::OK,
    )
    .await;
    assert_eq!(inspect.json()["State"]["Status"], "running");
    ok(
        Method::POST,
        "/v1.41/containers/itest-p2pool/stop?t=1",
        StatusCode::NO_CONTENT,
    )
    .await;
    ok(
        Method::POST,
        "/containers/itest-xmrig-proxy/start",
        StatusCode::NO_CONTENT,
    )
    .await;
    ok(
        Method::POST,
        "/containers/itest-xmrig-proxy/start",
        StatusCode::NOT_MODIFIED,
    )
    .await;
    ok(
        Method::GET,
        "/containers/nosuch/json",
        StatusCode::NOT_FOUND,
    )
    .await;
    let calls: Vec<(String, Verb)> = engine
        .calls()
        .into_iter()
        .map(|a| (a.container, a.verb))
        .collect();
    assert_eq!(
        calls,
        [
            ("itest-p2pool".to_owned(), Verb::Stop),
            ("itest-xmrig-proxy".to_owned(), Verb::Start),
            ("itest-xmrig-proxy".to_owned(), Verb::Start),
        ]
    );

    let refused: &[(Method, &str, &str)] = &[
        (Method::POST, "/containers/itest-p2pool/kill", ""),
        (Method::POST, "/containers/itest-p2pool/restart", ""),
        (Method::POST, "/containers/create", "{}"),
        (Method::POST, "/containers/itest-p2pool/exec", "{}"),
        (Method::DELETE, "/containers/itest-p2pool", ""),
        (Method::GET, "/containers/json", ""),
        (Method::GET, "/images/json", ""),
        (
            Method::POST,
            "/containers/itest-p2pool/start?detachKeys=a",
            "",
        ),
        (Method::POST, "/containers/..%2Fimages/start", ""),
        // A body on an allowed path: the engine never sees it.
        (
            Method::POST,
            "/containers/itest-p2pool/start",
            "{\"HostConfig\":{}}",
        ),
    ];
    for (method, path, body) in refused {
        let reply = send(addr, method.clone(), path, &[], body)
            .await
            .expect("reply");
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(reply.text().contains("403 Forbidden"), "{}", reply.text());
    }
    assert_eq!(
        engine.calls().len(),
        3,
        "a refused call reached the engine: {:?}",
        engine.calls()
    );
}

#[tokio::test]
async fn the_read_only_proxy_refuses_every_post() {
    let (addr, engine, _dir) = proxy_before_engine(Access::ReadOnly).await;
    let reply = send(addr, Method::GET, "/containers/itest-p2pool/json", &[], "")
        .await
        .expect("reply");
    assert_eq!(reply.status, StatusCode::OK);
    for path in [
        "/containers/itest-p2pool/stop",
        "/containers/itest-xmrig-proxy/start",
    ] {
        let reply = send(addr, Method::POST, path, &[], "")
            .await
            .expect("reply");
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(engine.calls().is_empty(), "{:?}", engine.calls());
}

#[tokio::test]
async fn an_absent_engine_is_a_bad_gateway_that_names_the_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("absent.sock");
    let proxy = SocketProxy {
        access: Access::StartStop,
        socket: socket.clone(),
        timeout: Duration::from_secs(5),
    };
    let addr = spawn(proxy.router()).await;
    let reply = send(addr, Method::GET, "/_ping", &[], "")
        .await
        .expect("reply");
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(
        reply.text().contains(&socket.display().to_string()),
        "{}",
        reply.text()
    );
}
