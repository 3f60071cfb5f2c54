//! Tier 2: the real clients against hostile daemons (on loopback) and a hostile p2pool data-api
//! directory: nothing a daemon does can hang the cycle, grow memory without bound, or put
//! a forged line or a terminal escape into our errors, logs and alerts.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{Endpoint, SharedConnector, TokioConnector, TransportError};
use pithead_runtime::observe::daemon_text::MAX_CHARS;
use pithead_runtime::observe::docker::{Applied, DockerController, DockerError, MAX_BODY_BYTES};
use pithead_runtime::observe::monero::{MoneroClient, MoneroError};
use pithead_runtime::observe::p2pool::{
    Document, P2poolClient, P2poolError, P2poolSource, MAX_DOCUMENT_BYTES,
};
use tokio::time::Instant;

/// Generous bound on anything that must not hang: a hang fails the test instead of stalling it.
const NO_HANG: Duration = Duration::from_secs(20);

/// A message built to forge a log line, recolour a terminal and overflow an alert.
fn hostile_text() -> String {
    format!(
        "first line\nFORGED pithead_runtime: all good\r\n\x1b[31mred\x1b[0m\u{202E}{}",
        "A".repeat(10_000)
    )
}

/// `text` is one printable, bounded line that came from [`hostile_text`].
fn assert_clean(text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "control characters left in {text:?}"
    );
    assert!(
        !text.contains('\u{202E}'),
        "a bidi override left in {text:?}"
    );
    assert!(
        text.chars().count() <= MAX_CHARS,
        "{} characters",
        text.chars().count()
    );
    assert!(text.starts_with("first line FORGED"), "{text:?}");
    assert!(text.ends_with('…'), "a cut text ends with an ellipsis");
}

fn connector() -> SharedConnector {
    Arc::new(TokioConnector)
}

async fn serve(router: Router) -> std::net::SocketAddr {
    let (addr, _task) = pithead_fakes::serve::spawn_local(router)
        .await
        .expect("serve");
    addr
}

fn docker(addr: std::net::SocketAddr, timeout: Duration) -> DockerController {
    let endpoint = Endpoint::parse(&format!("http://{addr}")).expect("endpoint");
    DockerController::new(connector(), &endpoint, timeout).expect("controller")
}

fn p2pool_dir_client(dir: &Path, timeout: Duration) -> P2poolClient {
    P2poolClient::new(
        connector(),
        P2poolSource::Dir(dir.to_owned()),
        Exchange {
            timeout,
            limit_bytes: MAX_DOCUMENT_BYTES,
        },
    )
}

/// Runs `client.fetch(document)` on a thread and runtime of its own and waits for it at most
/// [`NO_HANG`]: a read that blocks its thread (a synchronous `open` of a FIFO) fails the test
/// rather than hanging it.
fn fetch_or_hang(client: P2poolClient, document: Document) -> Result<Bytes, P2poolError> {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _ = done.send(runtime.block_on(client.fetch(document)));
    });
    result
        .recv_timeout(NO_HANG)
        .unwrap_or_else(|_| panic!("reading {document} hung for {NO_HANG:?}"))
}

/// A FIFO where p2pool's `network/stats` belongs: reading it is refused at once, never waited
/// on (`open` of a FIFO blocks until a writer comes, and nothing covered it with a deadline).
#[test]
fn p2pool_fifo_at_a_document_path_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("network")).expect("mkdir");
    let fifo = dir.path().join("network/stats");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .expect("mkfifo");
    let client = p2pool_dir_client(dir.path(), Duration::from_secs(2));
    let started = Instant::now();
    let err = fetch_or_hang(client, Document::NetworkStats).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not refused at once"
    );
    assert!(
        matches!(&err, P2poolError::NotAFile { document: Document::NetworkStats, path } if *path == fifo),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("network/stats is not a regular file"),
        "{err}"
    );
}

/// A directory where a document belongs is refused the same way.
#[tokio::test]
async fn p2pool_directory_at_a_document_path_is_not_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("pool/stats")).expect("mkdir");
    let client = p2pool_dir_client(dir.path(), Duration::from_secs(2));
    let err = tokio::time::timeout(NO_HANG, client.fetch(Document::PoolStats))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(
        matches!(
            err,
            P2poolError::NotAFile {
                document: Document::PoolStats,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A (sparse) 1 GiB `local/stratum` is too large after reading just over the 1 MiB limit: the
/// read is bounded, not the file.
#[tokio::test]
async fn p2pool_oversized_file_is_too_large_after_a_bounded_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("local")).expect("mkdir");
    let file = std::fs::File::create(dir.path().join("local/stratum")).expect("create");
    file.set_len(1 << 30).expect("sparse 1 GiB");
    let client = p2pool_dir_client(dir.path(), Duration::from_secs(10));
    let started = Instant::now();
    let err = tokio::time::timeout(NO_HANG, client.fetch(Document::LocalStratum))
        .await
        .expect("no hang")
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            P2poolError::TooLarge {
                document: Document::LocalStratum,
                limit_bytes: MAX_DOCUMENT_BYTES
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// Bytes of the endless body's prefix the engine sends before it stalls (a bound for the
/// test's own memory should the client fail to stop reading).
const ENDLESS_PREFIX_BYTES: u64 = 64 * 1024 * 1024;

/// A docker-control that answers a stop with `500` and a chunked body that never ends: the stop
/// fails as too large once the body passes the limit, long before the deadline, rather than
/// collecting the body until the deadline.
#[tokio::test]
async fn docker_endless_error_body_is_too_large_not_collected() {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let router = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let body = futures::stream::unfold(0u64, move |sent_so_far| {
                let chunk = chunk.clone();
                let counter = counter.clone();
                async move {
                    if sent_so_far >= ENDLESS_PREFIX_BYTES {
                        // Never ends: the rest of the body is always on its way.
                        futures::future::pending::<()>().await;
                    }
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    Some((
                        Ok::<_, std::io::Error>(chunk.clone()),
                        sent_so_far + chunk.len() as u64,
                    ))
                }
            });
            (StatusCode::INTERNAL_SERVER_ERROR, Body::from_stream(body)).into_response()
        }
    });
    let timeout = Duration::from_secs(5);
    let d = docker(serve(router).await, timeout);
    let started = Instant::now();
    let err = tokio::time::timeout(NO_HANG, d.stop("xmrig-proxy"))
        .await
        .expect("no hang")
        .unwrap_err();
    let took = started.elapsed();
    eprintln!(
        "endless 500: {err} after {took:?}, {} bytes streamed by the engine (socket buffers included)",
        sent.load(Ordering::Relaxed)
    );
    assert!(
        matches!(
            err,
            DockerError::Transport(TransportError::TooLarge { limit_bytes, .. })
                if limit_bytes == MAX_BODY_BYTES
        ),
        "{err:?}"
    );
    assert!(took < timeout, "took {took:?}, the deadline is {timeout:?}");
    assert!(
        sent.load(Ordering::Relaxed) < ENDLESS_PREFIX_BYTES,
        "the engine streamed its whole prefix: the client kept reading past the limit"
    );
}

/// An engine error message with newlines, escapes and 10,000 characters is one printable line
/// of at most [`MAX_CHARS`] characters in the stop's error.
#[tokio::test]
async fn docker_refusal_message_is_one_bounded_printable_line() {
    let router = Router::new().fallback(|| async {
        (
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "message": hostile_text() })),
        )
    });
    let d = docker(serve(router).await, Duration::from_secs(5));
    for result in [d.stop("p2pool").await, d.start("p2pool").await] {
        let err = result.unwrap_err();
        let DockerError::Refused { status, message } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*status, 409);
        assert_clean(message);
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
    }
}

/// A container's `State.Status` and health from the engine are cleaned too: they reach the
/// verdict lines and alert text.
#[tokio::test]
async fn docker_inspect_state_is_one_bounded_printable_line() {
    let router = Router::new().route(
        "/containers/{name}/json",
        get(|| async {
            Json(serde_json::json!({
                "State": {
                    "Status": hostile_text(),
                    "Running": true,
                    "Health": { "Status": hostile_text() }
                }
            }))
        }),
    );
    let d = docker(serve(router).await, Duration::from_secs(5));
    let status = d.inspect("p2pool").await.expect("inspect");
    assert_clean(&status.status);
    assert_clean(status.health.as_deref().expect("health"));
    assert!(status.running);
}

/// monerod's JSON-RPC error message is one printable line of at most [`MAX_CHARS`] characters
/// (it was carried whole, up to the 1 MiB body limit).
#[tokio::test]
async fn monero_rpc_error_message_is_one_bounded_printable_line() {
    let router = Router::new().route(
        "/json_rpc",
        post(|| async {
            Json(serde_json::json!({
                "id": "0",
                "jsonrpc": "2.0",
                "error": { "code": -13, "message": hostile_text() }
            }))
        }),
    );
    let addr = serve(router).await;
    let endpoint = Endpoint::parse(&format!("http://{addr}")).expect("endpoint");
    let client = MoneroClient::new(connector(), &endpoint, None, Exchange::default());
    let err = client.get_info().await.unwrap_err();
    let MoneroError::Rpc { code, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*code, -13);
    assert_clean(message);
    assert!(!err.to_string().chars().any(char::is_control), "{err}");
}

/// `pithead status --timeout` with an absurd value: the docker client's deadlines saturate
/// instead of overflowing (a panic in a debug build, a wrapped tiny deadline in release).
#[tokio::test]
async fn docker_huge_timeout_saturates() {
    let router = Router::new().fallback(|| async { StatusCode::NO_CONTENT });
    let d = docker(serve(router).await, Duration::MAX);
    assert_eq!(d.stop("xmrig-proxy").await.expect("stop"), Applied::Changed);
    assert_eq!(
        d.start("xmrig-proxy").await.expect("start"),
        Applied::Changed
    );
}
