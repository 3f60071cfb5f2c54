//! Tier 2: every alert sink's exact request, against a recording HTTPS server with a test CA
//! (rcgen, trusted through `ALERTS_CA_FILE`), directly and through a `socks5h://` proxy
//! (`ALERTS_PROXY`); and how each failure is classed: a 3xx (not followed), a 500, a hang, a
//! refused connection, an untrusted certificate, a reply larger than 1 MiB.
//!
//! The host `alerts.test` exists only in this file's connector, which maps every name to
//! 127.0.0.1 and logs the names it was asked to dial. The webhook's signature is checked with
//! `ring`'s HMAC, not the `hmac` crate the sink signs with.

// The helpers build certificates and servers: a failure there is a broken test, said loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use pithead_runtime::alerts::{self, Alert, AlertsConfig, Built, SendError, SinkKind};
use pithead_runtime::control::alerts::{EventKey, Severity};
use pithead_runtime::io::{BoxedStream, Connector, SharedConnector};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const HOST: &str = "alerts.test";
const TOKEN: &str = "4711:AAtestTOKEN_s3cret-value";
const CHAT: &str = "-1009876543210";
const HOOK_SECRET: &str = "whsec-S3cretForHmac";
const NTFY_TOKEN: &str = "tk_ntfyS3cretToken";

// ---------------------------------------------------------------------------------------------
// The network of this file: a loopback connector, a test CA, a recording server, a SOCKS5 proxy.

/// Dials every name through 127.0.0.1 and remembers which names it was asked for.
#[derive(Default)]
struct Loopback {
    asked: Mutex<Vec<String>>,
}

impl Connector for Loopback {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        self.asked.lock().unwrap().push(host.to_owned());
        Box::pin(async move {
            let stream = TcpStream::connect(("127.0.0.1", port)).await?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}

/// A CA of the test's own and its PEM file.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    file: tempfile::NamedTempFile,
}

fn test_ca() -> TestCa {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Pithead alerts test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    io::Write::write_all(&mut file, issuer.pem().as_bytes()).unwrap();
    TestCa { issuer, file }
}

impl TestCa {
    fn path(&self) -> String {
        self.file.path().display().to_string()
    }

    /// A rustls server config with a leaf for `alerts.test` and `localhost`.
    fn server(&self) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec![HOST.to_owned(), "localhost".to_owned()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), self.issuer.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// One request as the recorder received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Lower-case names, in arrival order.
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names
    }
}

/// A recording HTTP(S) server. The path decides the answer: `/redirect` 302, `/status401`
/// 401, `/status500` 500, `/huge500` 500 with a 2 MiB body, `/endless` 200 with a body that
/// never ends, `/hang` nothing for a minute; anything else 200 `{"ok":true}`.
struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
    /// Body bytes the `/endless` answer has produced so far.
    streamed: Arc<AtomicU64>,
    _task: JoinHandle<()>,
}

impl Recorder {
    fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn recorder(tls: Option<Arc<rustls::ServerConfig>>) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let streamed = Arc::new(AtomicU64::new(0));
    let (log, counter) = (seen.clone(), streamed.clone());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (log, counter, acceptor) = (log.clone(), counter.clone(), acceptor.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    answer(request, log.clone(), counter.clone())
                });
                let http = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    Some(acceptor) => {
                        // A refused handshake is the client's doing: nothing to serve.
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            let _ = http.serve_connection(TokioIo::new(tls), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    Recorder {
        addr,
        seen,
        streamed,
        _task: task,
    }
}

async fn answer(
    request: Request<Incoming>,
    log: Arc<Mutex<Vec<Recorded>>>,
    streamed: Arc<AtomicU64>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    log.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect(),
        body,
    });
    let full = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body)).boxed())
            .unwrap()
    };
    Ok(if path.contains("/redirect") {
        let mut r = full(302, Vec::new());
        r.headers_mut()
            .insert("location", "/elsewhere".parse().unwrap());
        r
    } else if path.contains("/status401") {
        full(401, br#"{"ok":false}"#.to_vec())
    } else if path.contains("/status500") {
        full(500, b"oops".to_vec())
    } else if path.contains("/huge500") {
        full(500, vec![b'x'; 2 * 1024 * 1024])
    } else if path.contains("/endless") {
        let chunks = futures::stream::repeat_with(move || {
            streamed.fetch_add(64 * 1024, Ordering::Relaxed);
            Ok::<_, Infallible>(Frame::data(Bytes::from(vec![b'y'; 64 * 1024])))
        });
        Response::new(StreamBody::new(chunks).boxed())
    } else if path.contains("/hang") {
        tokio::time::sleep(Duration::from_secs(60)).await;
        full(200, Vec::new())
    } else {
        full(200, br#"{"ok":true}"#.to_vec())
    })
}

/// What the SOCKS5 proxy was asked to connect to: `(name, port)` or `(address, port)`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    Name(String, u16),
    Address(String, u16),
}

/// A minimal SOCKS5 server (no authentication, CONNECT only) that records each request,
/// connects to 127.0.0.1 at the requested port and pipes.
async fn socks5_server() -> (SocketAddr, Arc<Mutex<Vec<Asked>>>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let _ = socks5_session(client, log).await;
            });
        }
    });
    (addr, asked, task)
}

async fn socks5_session(mut client: TcpStream, log: Arc<Mutex<Vec<Asked>>>) -> io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        3 => {
            let len = client.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            client.read_exact(&mut name).await?;
            Ok(String::from_utf8_lossy(&name).into_owned())
        }
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            Err(std::net::Ipv4Addr::from(ip).to_string())
        }
        _ => return Ok(()),
    };
    let port = client.read_u16().await?;
    log.lock().unwrap().push(match host {
        Ok(name) => Asked::Name(name, port),
        Err(ip) => Asked::Address(ip, port),
    });
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).await?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The sinks under test.

fn config(pairs: &[(&str, String)]) -> AlertsConfig {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
        .collect();
    AlertsConfig::from_lookup(&|k: &str| map.get(k).cloned()).unwrap()
}

/// Every sink and the heartbeat at the recorder on `port` (`https://alerts.test:port`).
fn every_sink(port: u16, ca: &TestCa) -> Vec<(&'static str, String)> {
    let base = format!("https://{HOST}:{port}");
    vec![
        ("TELEGRAM_ENABLED", "true".into()),
        ("TELEGRAM_BOT_TOKEN", TOKEN.into()),
        ("TELEGRAM_CHAT_ID", CHAT.into()),
        ("TELEGRAM_API_BASE", format!("{base}/tg/")),
        (
            "NOTIFY_WEBHOOK_URLS",
            format!("{base}/hook/one {base}/hook/two?key=q1"),
        ),
        ("NOTIFY_WEBHOOK_SECRET", HOOK_SECRET.into()),
        ("NTFY_URL", format!("{base}/pithead-topic")),
        ("NTFY_TOKEN", NTFY_TOKEN.into()),
        ("HEALTHCHECKS_PING_URL", format!("{base}/ping/uuid-1/")),
        ("ALERTS_CA_FILE", ca.path()),
        ("ALERTS_HOST", "rig-1".into()),
    ]
}

fn node_down() -> Alert {
    Alert {
        key: EventKey::NodeDown,
        severity: Severity::Critical,
        text: "[rig-1] ⛔ monerod is down: workers fail over to the backup pools #node_down".into(),
        host: Some("rig-1".into()),
        at_unix: 1_700_000_000,
    }
}

fn built(config: &AlertsConfig, connector: SharedConnector) -> Built {
    alerts::build(config, connector).unwrap()
}

/// Sends `alert` through every sink carrying it, in order; the labels and results.
async fn send_all(built: &Built, alert: &Alert) -> Vec<(String, Result<(), SendError>)> {
    let mut out = Vec::new();
    for sink in &built.sinks {
        if sink.carries(alert) {
            out.push((sink.label(), sink.send(alert).await));
        }
    }
    out
}

fn verify_signature(secret: &str, body: &[u8], header: &str) {
    let hex = header.strip_prefix("sha256=").unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(hex.len(), 64, "{header}");
    ring::hmac::verify(&key, body, &tag).expect("the signature verifies");
}

// ---------------------------------------------------------------------------------------------
// The exact requests.

#[tokio::test]
async fn every_sinks_exact_request_over_tls_with_the_test_ca() {
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let config = config(&every_sink(server.port(), &ca));
    let connector = Arc::new(Loopback::default());
    let built = built(&config, connector.clone());
    let labels: Vec<String> = built.sinks.iter().map(|s| s.label()).collect();
    assert_eq!(labels, ["telegram", "webhook#1", "webhook#2", "ntfy"]);
    let kinds: Vec<SinkKind> = built.sinks.iter().map(|s| s.kind()).collect();
    assert_eq!(
        kinds,
        [
            SinkKind::Telegram,
            SinkKind::Webhook,
            SinkKind::Webhook,
            SinkKind::Ntfy
        ]
    );

    let alert = node_down();
    let results = send_all(&built, &alert).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    built.pinger.as_ref().unwrap().ping().await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    let authority = format!("{HOST}:{}", server.port());
    let agent = format!("pithead/{}", env!("CARGO_PKG_VERSION"));
    for r in &seen {
        assert_eq!(r.header("host"), Some(authority.as_str()), "{r:?}");
        assert_eq!(r.header("user-agent"), Some(agent.as_str()), "{r:?}");
    }

    // Telegram.
    let tg = &seen[0];
    assert_eq!(tg.method, "POST");
    assert_eq!(tg.path, format!("/tg/bot{TOKEN}/sendMessage"));
    assert_eq!(
        tg.header_names(),
        ["content-length", "content-type", "host", "user-agent"]
    );
    assert_eq!(tg.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&tg.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "chat_id": CHAT,
            "text": alert.text,
            "disable_web_page_preview": true,
        })
    );

    // The webhooks: the same body, each signed, the second with its query.
    for (r, path) in [(&seen[1], "/hook/one"), (&seen[2], "/hook/two?key=q1")] {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", path));
        assert_eq!(
            r.header_names(),
            [
                "content-length",
                "content-type",
                "host",
                "user-agent",
                "x-pithead-signature"
            ]
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "node_down",
                "text": alert.text,
                "ts": 1_700_000_000,
                "severity": "critical",
                "host": "rig-1",
            })
        );
        verify_signature(
            HOOK_SECRET,
            &r.body,
            r.header("x-pithead-signature").unwrap(),
        );
    }

    // ntfy.
    let n = &seen[3];
    assert_eq!(
        (n.method.as_str(), n.path.as_str()),
        ("POST", "/pithead-topic")
    );
    assert_eq!(
        n.header_names(),
        [
            "authorization",
            "content-length",
            "content-type",
            "host",
            "priority",
            "tags",
            "title",
            "user-agent"
        ]
    );
    assert_eq!(n.body, alert.text.as_bytes());
    assert_eq!(n.header("title"), Some("Pithead: node_down"));
    assert_eq!(n.header("priority"), Some("high"));
    assert_eq!(n.header("tags"), Some("node_down,critical"));
    assert_eq!(
        n.header("authorization"),
        Some(format!("Bearer {NTFY_TOKEN}").as_str())
    );
    assert_eq!(n.header("content-type"), Some("text/plain; charset=utf-8"));

    // The heartbeat: a bare GET, the trailing slash removed.
    let p = &seen[4];
    assert_eq!(
        (p.method.as_str(), p.path.as_str()),
        ("GET", "/ping/uuid-1")
    );
    assert_eq!(p.header_names(), ["host", "user-agent"]);
    assert!(p.body.is_empty());

    // Direct: the connector dialled the sinks' own name.
    assert!(connector.asked.lock().unwrap().iter().all(|h| h == HOST));
}

#[tokio::test]
async fn a_recovery_is_default_priority_no_token_no_bearer_no_secret_no_signature() {
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let base = format!("https://{HOST}:{}", server.port());
    let config = config(&[
        ("NOTIFY_WEBHOOK_URLS", format!("{base}/hook")),
        ("NTFY_URL", format!("{base}/topic")),
        ("ALERTS_CA_FILE", ca.path()),
    ]);
    let built = built(&config, Arc::new(Loopback::default()));
    let alert = Alert {
        key: EventKey::NodeRecovered,
        severity: Severity::Info,
        text: "✅ monerod is back #node_recovered".into(),
        host: None,
        at_unix: 1_700_000_090,
    };
    let results = send_all(&built, &alert).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].header("x-pithead-signature"), None);
    let json: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(json["host"], serde_json::Value::Null);
    assert_eq!(json["severity"], "info");
    assert_eq!(seen[1].header("authorization"), None);
    assert_eq!(seen[1].header("priority"), Some("default"));
    assert_eq!(seen[1].header("tags"), Some("node_recovered,info"));
}

#[tokio::test]
async fn telegram_toggles_silence_telegram_only_and_never_the_test_message() {
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let mut pairs = every_sink(server.port(), &ca);
    pairs.push(("TELEGRAM_EVENT_NODE_DOWN", "false".into()));
    let built = built(&config(&pairs), Arc::new(Loopback::default()));
    let carrying: Vec<String> = built
        .sinks
        .iter()
        .filter(|s| s.carries(&node_down()))
        .map(|s| s.label())
        .collect();
    assert_eq!(carrying, ["webhook#1", "webhook#2", "ntfy"]);
    let test = Alert {
        key: EventKey::Test,
        ..node_down()
    };
    assert!(built.sinks.iter().all(|s| s.carries(&test)));
    let recovered = Alert {
        key: EventKey::NodeRecovered,
        ..node_down()
    };
    assert!(built.sinks.iter().all(|s| s.carries(&recovered)));
}

#[tokio::test]
async fn through_the_socks5h_proxy_the_proxy_resolves_the_name() {
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let (proxy, asked, _proxy_task) = socks5_server().await;
    let mut pairs = every_sink(server.port(), &ca);
    pairs.push((
        "ALERTS_PROXY",
        format!("socks5h://socks.test:{}", proxy.port()),
    ));
    let connector = Arc::new(Loopback::default());
    let built = built(&config(&pairs), connector.clone());
    let results = send_all(&built, &node_down()).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    built.pinger.as_ref().unwrap().ping().await.unwrap();
    assert_eq!(server.seen().len(), 5);
    // This side only ever dialled the proxy; the proxy was asked for the name, never an address.
    let dialled = connector.asked.lock().unwrap().clone();
    assert!(
        !dialled.is_empty() && dialled.iter().all(|h| h == "socks.test"),
        "{dialled:?}"
    );
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 5, "{asked:?}");
    assert!(
        asked
            .iter()
            .all(|a| *a == Asked::Name(HOST.into(), server.port())),
        "{asked:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Failures and their classes.

/// A webhook sink at `path` on the recorder (TLS with the test CA).
async fn webhook_at(path: &str) -> (Recorder, Built, TestCa) {
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let config = config(&[
        (
            "NOTIFY_WEBHOOK_URLS",
            format!("https://{HOST}:{}{path}", server.port()),
        ),
        ("ALERTS_CA_FILE", ca.path()),
    ]);
    let built = built(&config, Arc::new(Loopback::default()));
    (server, built, ca)
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let (server, built, _ca) = webhook_at("/redirect").await;
    let result = built.sinks[0].send(&node_down()).await;
    assert_eq!(result, Err(SendError::Status(302)));
    assert_eq!(result.unwrap_err().to_string(), "HTTP 302");
    let paths: Vec<String> = server.seen().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/redirect"], "the Location was followed");
}

#[tokio::test]
async fn a_500_and_a_401_are_their_status() {
    let (_s, built, _ca) = webhook_at("/status500").await;
    assert_eq!(
        built.sinks[0].send(&node_down()).await,
        Err(SendError::Status(500))
    );
    let (_s, built, _ca) = webhook_at("/status401").await;
    assert_eq!(
        built.sinks[0].send(&node_down()).await,
        Err(SendError::Status(401))
    );
}

#[tokio::test]
async fn a_hang_is_a_timeout_after_ten_seconds() {
    let (server, built, _ca) = webhook_at("/hang").await;
    let started = tokio::time::Instant::now();
    let result = built.sinks[0].send(&node_down()).await;
    let took = started.elapsed();
    assert_eq!(result, Err(SendError::Timeout));
    assert_eq!(result.unwrap_err().to_string(), "timeout");
    assert!(
        took >= alerts::SEND_TIMEOUT && took < alerts::SEND_TIMEOUT + Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_and_an_untrusted_certificate_are_connection_errors() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = config(&[("NTFY_URL", format!("https://{HOST}:{port}/topic"))]);
    let sinks = built(&refused, Arc::new(Loopback::default()));
    let result = sinks.sinks[0].send(&node_down()).await;
    assert_eq!(result, Err(SendError::Connection));
    assert_eq!(result.unwrap_err().to_string(), "connection error");

    // Served by a CA the sink was not told to trust.
    let ca = test_ca();
    let server = recorder(Some(ca.server())).await;
    let untrusted = config(&[(
        "NTFY_URL",
        format!("https://{HOST}:{}/topic", server.port()),
    )]);
    let sinks = built(&untrusted, Arc::new(Loopback::default()));
    assert_eq!(
        sinks.sinks[0].send(&node_down()).await,
        Err(SendError::Connection)
    );
    assert!(
        server.seen().is_empty(),
        "a request went past the handshake"
    );
}

#[tokio::test]
async fn a_reply_over_one_mib_is_never_read_the_status_decides() {
    // An endless 200: delivered, promptly, and the body stops being pulled.
    let (server, built, _ca) = webhook_at("/endless").await;
    let started = tokio::time::Instant::now();
    assert_eq!(built.sinks[0].send(&node_down()).await, Ok(()));
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.streamed.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.streamed.load(Ordering::Relaxed);
    assert_eq!(before, after, "the body is still being read");
    assert!(after < 64 * 1024 * 1024, "{after} bytes streamed");

    // A 2 MiB 500: its status, not a read past the limit.
    let (_s, built, _ca) = webhook_at("/huge500").await;
    assert_eq!(
        built.sinks[0].send(&node_down()).await,
        Err(SendError::Status(500))
    );
}

#[tokio::test]
async fn plain_http_to_a_private_address_works_without_tls() {
    let server = recorder(None).await;
    let config = config(&[(
        "HEALTHCHECKS_PING_URL",
        format!("http://127.0.0.1:{}/ping/abc", server.port()),
    )]);
    let built = built(&config, Arc::new(Loopback::default()));
    assert!(built.sinks.is_empty());
    built.pinger.as_ref().unwrap().ping().await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/ping/abc");
    assert_eq!(
        seen[0].header("host"),
        Some(format!("127.0.0.1:{}", server.port()).as_str())
    );
}

#[tokio::test]
async fn an_unreadable_ca_file_is_a_setup_error_naming_the_variable() {
    let config = config(&[
        ("NTFY_URL", "https://ntfy.example/topicS3cret".to_owned()),
        ("ALERTS_CA_FILE", "/nonexistent/alerts-ca.pem".to_owned()),
    ]);
    let err = alerts::build(&config, Arc::new(Loopback::default()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.starts_with("ALERTS_CA_FILE: "), "{err}");
    assert!(!err.contains("S3cret"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// `pithead test-alert`, the binary, against the recorder.

/// Runs `pithead test-alert --stack-dir <dir>` off the runtime (the recorder keeps serving).
async fn test_alert(dir: &std::path::Path) -> (Option<i32>, String, String) {
    let dir = dir.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pithead"))
            .arg("test-alert")
            .arg("--stack-dir")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write_env(dir: &std::path::Path, pairs: &[(&str, String)]) {
    let text: String = pairs.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect();
    std::fs::write(dir.join(".env"), text).unwrap();
}

fn assert_no_secret(texts: &[&str]) {
    for text in texts {
        for secret in [
            TOKEN,
            CHAT,
            "9876543210",
            HOOK_SECRET,
            NTFY_TOKEN,
            "uuid-1",
            "/hook",
            "topic",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {text:?}");
        }
    }
}

#[tokio::test]
async fn test_alert_prints_one_line_per_sink_and_exits_1_on_a_failure() {
    let ca = test_ca();
    let tls = recorder(Some(ca.server())).await;
    let plain = recorder(None).await;
    let dir = tempfile::tempdir().unwrap();
    let hooks = format!(
        "http://127.0.0.1:{p}/hook/ok http://127.0.0.1:{p}/hook/status401",
        p = plain.port()
    );
    let mut env = vec![
        ("TELEGRAM_ENABLED", "true".to_owned()),
        ("TELEGRAM_BOT_TOKEN", TOKEN.into()),
        ("TELEGRAM_CHAT_ID", CHAT.into()),
        (
            "TELEGRAM_API_BASE",
            format!("https://localhost:{}", tls.port()),
        ),
        ("NOTIFY_WEBHOOK_URLS", hooks),
        ("NOTIFY_WEBHOOK_SECRET", HOOK_SECRET.into()),
        (
            "HEALTHCHECKS_PING_URL",
            format!("http://127.0.0.1:{}/ping/uuid-1", plain.port()),
        ),
        ("ALERTS_CA_FILE", ca.path()),
        ("ALERTS_HOST", "rig-1".into()),
    ];
    write_env(dir.path(), &env);
    let (code, stdout, stderr) = test_alert(dir.path()).await;
    assert_eq!(
        stdout,
        "telegram: PASS\nwebhook#1: PASS\nwebhook#2: FAIL (HTTP 401)\nntfy: not configured\n",
        "stderr: {stderr}"
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_no_secret(&[&stdout, &stderr]);

    // Telegram got the test message; the heartbeat was not pinged.
    let tg = tls.seen();
    assert_eq!(tg.len(), 1, "{tg:#?}");
    assert_eq!(tg[0].path, format!("/bot{TOKEN}/sendMessage"));
    let json: serde_json::Value = serde_json::from_slice(&tg[0].body).unwrap();
    let text = json["text"].as_str().unwrap();
    assert!(
        text.starts_with("[rig-1] ") && text.ends_with(" #test"),
        "{text}"
    );
    let paths: Vec<String> = plain.seen().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/hook/ok", "/hook/status401"]);
    let hook = &plain.seen()[0];
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["event"], "test");
    verify_signature(
        HOOK_SECRET,
        &hook.body,
        hook.header("x-pithead-signature").unwrap(),
    );

    // Every sink passing: exit 0; ntfy configured shows its line.
    env[4].1 = format!("http://127.0.0.1:{}/hook/ok", plain.port());
    env.push((
        "NTFY_URL",
        format!("https://localhost:{}/topic", tls.port()),
    ));
    env.push(("NTFY_TOKEN", NTFY_TOKEN.into()));
    write_env(dir.path(), &env);
    let (code, stdout, stderr) = test_alert(dir.path()).await;
    assert_eq!(
        stdout, "telegram: PASS\nwebhook#1: PASS\nntfy: PASS\n",
        "stderr: {stderr}"
    );
    assert_eq!(code, Some(0));
    assert_no_secret(&[&stdout, &stderr]);
    assert!(!plain.seen().iter().any(|r| r.path.contains("ping")));
}

#[tokio::test]
async fn test_alert_a_refused_connection_is_its_class_and_nothing_configured_passes() {
    let dir = tempfile::tempdir().unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    write_env(
        dir.path(),
        &[("NTFY_URL", format!("http://127.0.0.1:{port}/topic"))],
    );
    let (code, stdout, stderr) = test_alert(dir.path()).await;
    assert_eq!(
        stdout,
        "telegram: not configured\nwebhook: not configured\nntfy: FAIL (connection error)\n"
    );
    assert_eq!(code, Some(1), "{stderr}");

    write_env(dir.path(), &[("TELEGRAM_ENABLED", "false".into())]);
    let (code, stdout, _) = test_alert(dir.path()).await;
    assert_eq!(
        stdout,
        "telegram: not configured\nwebhook: not configured\nntfy: not configured\n"
    );
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn test_alert_exits_2_on_a_refused_env_without_echoing_it_and_without_an_env() {
    let dir = tempfile::tempdir().unwrap();
    write_env(
        dir.path(),
        &[
            ("NTFY_URL", "http://ntfy.sh/topicS3cret".into()),
            ("TELEGRAM_BOT_TOKEN", TOKEN.into()),
        ],
    );
    let (code, stdout, stderr) = test_alert(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("pithead: .env: NTFY_URL: invalid value \"http://ntfy.sh\""),
        "{stderr}"
    );
    assert_no_secret(&[&stderr]);

    write_env(
        dir.path(),
        &[
            ("TELEGRAM_ENABLED", "true".into()),
            ("TELEGRAM_BOT_TOKEN", TOKEN.into()),
            ("TELEGRAM_CHAT_ID", "chat 9876543210".into()),
        ],
    );
    let (code, _, stderr) = test_alert(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("TELEGRAM_CHAT_ID"), "{stderr}");
    assert_no_secret(&[&stderr]);

    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = test_alert(empty.path()).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no .env"), "{stderr}");
}
