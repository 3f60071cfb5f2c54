//! A tiny HTTP/1.1 client for the fakes' own tests: one connection per request over tokio TCP
//! ([`send`]), or several requests on one kept-alive connection ([`Conn`]), every wait bounded by
//! a timeout (no sleep-and-hope).
#![allow(dead_code)]

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tower::ServiceExt;

/// Bound on every network wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A complete reply.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Serve `router` on 127.0.0.1:0 with the crate's own `serve`; returns the address.
pub async fn spawn(router: Router) -> SocketAddr {
    let (addr, _task) = pithead_fakes::serve::spawn_local(router)
        .await
        .expect("bind 127.0.0.1:0");
    addr
}

/// One kept-alive HTTP/1.1 connection to a fake: every [`Conn::send`] travels on it.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
}

impl Conn {
    /// Connect and handshake; `Err` carries the failure's text.
    pub async fn open(addr: SocketAddr) -> Result<Self, String> {
        let open = async {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(conn);
            Ok(Self { sender, addr })
        };
        tokio::time::timeout(WAIT, open)
            .await
            .map_err(|_| format!("no connection within {WAIT:?}"))?
    }

    /// One exchange on this connection; `Err` carries hyper's error text.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Reply, String> {
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|e| format!("connection not ready: {e}"))?;
            let mut req = Request::builder()
                .method(method)
                .uri(path)
                .header("host", self.addr.to_string());
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let req = req
                .body(Full::new(Bytes::from(body.to_owned())))
                .map_err(|e| format!("request: {e}"))?;
            let resp = self
                .sender
                .send_request(req)
                .await
                .map_err(|e| format!("send: {e}"))?;
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| format!("body: {e}"))?
                .to_bytes();
            Ok(Reply {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(WAIT, exchange)
            .await
            .map_err(|_| format!("no reply within {WAIT:?}"))?
    }
}

/// One exchange on a fresh connection; `Err` carries hyper's error text (e.g. the connection
/// closed without a reply).
pub async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, String> {
    Conn::open(addr)
        .await?
        .send(method, path, headers, body)
        .await
}

/// `GET path`, expecting a reply.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(addr, Method::GET, path, &[], "")
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `POST path` with a JSON body, expecting a reply.
pub async fn post_json(addr: SocketAddr, path: &str, body: &str) -> Reply {
    send(
        addr,
        Method::POST,
        path,
        &[("content-type", "application/json")],
        body,
    )
    .await
    .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// One exchange with `router` in-process (no network), for tests on virtual time.
pub async fn oneshot(router: Router, method: Method, path: &str, body: &str) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_owned()))
        .expect("request");
    let resp = router.oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Assert a `400` from `POST /control` whose message contains every one of `needles`.
pub async fn assert_control_rejects(addr: SocketAddr, body: &str, needles: &[&str]) {
    let r = post_json(addr, "/control", body).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "body {body}: {}",
        r.text()
    );
    let text = r.text();
    for n in needles {
        assert!(text.contains(n), "message for {body} lacks {n:?}: {text}");
    }
}
