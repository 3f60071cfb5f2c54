//! The API server's limits over real loopback sockets: a connection that sends no request, or
//! trickles its headers, is closed at the header-read deadline; connections beyond the cap
//! wait until one closes; a kept-alive client is served request after request, and closed once
//! idle past the deadline.
// Test code: a panic is how it reports.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::time::Instant;

use pithead_runtime::api::serve::{serve_with, Limits};
use pithead_runtime::api::{router_with, Api};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEADLINE: Duration = Duration::from_millis(400);

async fn server(max_connections: usize) -> std::net::SocketAddr {
    let (_writer, state) = pithead_runtime::view::read_model();
    let router = router_with(Api {
        state,
        history: None,
        update_interval: Duration::from_secs(30),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        header_read_timeout: DEADLINE,
        max_connections,
    };
    tokio::spawn(serve_with(listener, router, limits));
    addr
}

/// Reads until the server closes the connection; panics if it has not within `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut got))
        .await
        .expect("the server closed the connection in time")
        .ok();
    got
}

async fn get_healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 4096];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("ok\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_deadline() {
    let addr = server(8).await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    read_until_closed(&mut silent, Duration::from_secs(10)).await;
    assert!(start.elapsed() >= DEADLINE - Duration::from_millis(50));
}

#[tokio::test]
async fn a_header_trickled_a_byte_at_a_time_is_cut_at_the_deadline() {
    let addr = server(8).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let start = Instant::now();
    let closed = async {
        let mut buf = [0u8; 256];
        loop {
            // One byte every 50 ms: each arrives well within the deadline, the header never ends.
            if slow.write_all(b"X").await.is_err() {
                return;
            }
            let read = tokio::time::timeout(Duration::from_millis(50), slow.read(&mut buf));
            if let Ok(Ok(0) | Err(_)) = read.await {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the server cut the trickling client");
    let took = start.elapsed();
    assert!(took >= DEADLINE - Duration::from_millis(50), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let addr = server(2).await;
    let mut silent: Vec<TcpStream> = Vec::new();
    for _ in 0..2 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    // The listen backlog is first in, first out: the server takes the two silent connections
    // first, so the third is past the cap, whenever the server gets to it.
    let start = Instant::now();
    let mut third = TcpStream::connect(addr).await.unwrap();
    let reply = get_healthz(&mut third).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // Served only once a silent one was closed at its deadline.
    assert!(
        start.elapsed() >= DEADLINE - Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_kept_alive_client_is_served_request_after_request() {
    let addr = server(2).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    for _ in 0..3 {
        let reply = get_healthz(&mut client).await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains("x-content-type-options"), "{reply}");
    }
    // Idle between requests past the deadline: closed, its slot freed.
    let start = Instant::now();
    read_until_closed(&mut client, Duration::from_secs(10)).await;
    assert!(start.elapsed() >= DEADLINE - Duration::from_millis(50));
}
