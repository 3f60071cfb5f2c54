//! Tier 2: the one HTTP client every daemon client speaks through (`io::HttpSession`), against
//! a scripted HTTP/1.1 server on loopback: connections are kept alive between calls, a reused
//! connection that dies before answering is replaced within the same call (a daemon restart is
//! never a false "unreachable"), and a reply that broke off after its first byte is an error, not
//! a retry (nothing half-read is ever returned).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use pithead_runtime::io::http::request;
use pithead_runtime::io::{HttpSession, SharedConnector, Target, TokioConnector, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server does with the `n`-th request (0-based) on the `c`-th connection.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    /// Close without a byte of response (a restarted daemon's dead socket).
    Vanish,
    /// Send the status line, then close.
    BreakOff,
}

struct Server {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

async fn serve(script: fn(usize, usize) -> Answer) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            let connection = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(stream, connection, script));
        }
    });
    Server { port, accepted }
}

async fn answer(mut stream: TcpStream, connection: usize, script: fn(usize, usize) -> Answer) {
    let mut buf = Vec::new();
    for n in 0.. {
        // Read one request head (the client sends no body on GET).
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
        let end = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head")
            + 4;
        buf.drain(..end);
        match script(connection, n) {
            Answer::Ok => {
                let body = format!("{connection}/{n}");
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(reply.as_bytes()).await.expect("reply");
            }
            Answer::Vanish => return,
            Answer::BreakOff => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n").await;
                return;
            }
        }
    }
}

fn session(port: u16) -> HttpSession {
    let connector: SharedConnector = Arc::new(TokioConnector);
    HttpSession::new(connector, Target::new("127.0.0.1", port))
}

async fn get(session: &HttpSession) -> Result<String, TransportError> {
    let url = format!("http://{}/x", session.target());
    let req = request(Method::GET, &url, HeaderMap::new(), Bytes::new())?;
    let resp = session.send(req, Duration::from_secs(5), 1024).await?;
    Ok(String::from_utf8_lossy(resp.body()).into_owned())
}

#[tokio::test]
async fn calls_to_one_target_share_a_kept_alive_connection() {
    let server = serve(|_, _| Answer::Ok).await;
    let s = session(server.port);
    assert_eq!(get(&s).await.unwrap(), "0/0");
    assert_eq!(get(&s).await.unwrap(), "0/1");
    assert_eq!(get(&s.clone()).await.unwrap(), "0/2", "clones share it");
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reused_connection_that_dies_unanswered_is_replaced_within_the_call() {
    // The first connection answers once, then vanishes on the next request.
    let server = serve(|c, n| {
        if c == 0 && n == 1 {
            Answer::Vanish
        } else {
            Answer::Ok
        }
    })
    .await;
    let s = session(server.port);
    assert_eq!(get(&s).await.unwrap(), "0/0");
    assert_eq!(
        get(&s).await.unwrap(),
        "1/0",
        "retried on a fresh connection"
    );
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_fresh_connection_is_not_retried_and_a_broken_reply_is_an_error() {
    let vanish = serve(|_, _| Answer::Vanish).await;
    let err = get(&session(vanish.port)).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol { .. }), "{err:?}");
    assert_eq!(vanish.accepted.load(Ordering::SeqCst), 1, "no retry");

    // On a reused connection, a reply that started and broke off is not sent again.
    let broken = serve(|c, n| {
        if c == 0 && n == 1 {
            Answer::BreakOff
        } else {
            Answer::Ok
        }
    })
    .await;
    let s = session(broken.port);
    assert_eq!(get(&s).await.unwrap(), "0/0");
    let err = get(&s).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol { .. }), "{err:?}");
    assert_eq!(broken.accepted.load(Ordering::SeqCst), 1, "no retry");
    assert_eq!(
        get(&s).await.unwrap(),
        "1/0",
        "the broken connection is dropped"
    );
}
