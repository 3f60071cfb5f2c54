//! The recording sinks, driven through their router as a client would.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::wire::{classify, closing_hashtag, signature};
use super::*;

const TOKEN: &str = "123456:AAbbCCdd-secret-bot-token";
const CHAT: &str = "-100987654";
const SECRET: &str = "webhook-secret-xyz";
const NTFY_TOKEN: &str = "tk_ntfy_secret";

fn fake() -> FakeSinks {
    FakeSinks::new().with_expect(Expect {
        telegram_token: Some(TOKEN.to_owned()),
        telegram_chat_id: Some(CHAT.to_owned()),
        webhook_secret: Some(SECRET.to_owned()),
        ntfy_token: Some(NTFY_TOKEN.to_owned()),
    })
}

async fn send(fake: &FakeSinks, req: Request<Body>) -> (u16, String) {
    let resp = fake.router().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn telegram(token: &str, body: Value) -> Request<Body> {
    Request::post(format!("/bot{token}/sendMessage"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn webhook_body(event: &str) -> Vec<u8> {
    json!({
        "event": event, "text": format!("[box] monerod is down #{event}"), "ts": 1_735_689_700,
        "severity": "critical", "host": "box",
    })
    .to_string()
    .into_bytes()
}

fn webhook(body: Vec<u8>, sig: Option<String>) -> Request<Body> {
    let mut req = Request::post("/hook/ops").header("content-type", "application/json");
    if let Some(sig) = sig {
        req = req.header("x-pithead-signature", sig);
    }
    req.body(Body::from(body)).unwrap()
}

fn ntfy(text: &str, tags: &str, bearer: Option<&str>) -> Request<Body> {
    let mut req = Request::post("/pithead-alerts")
        .header("title", "Pithead: node down")
        .header("priority", "high")
        .header("tags", tags);
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.body(Body::from(text.to_owned())).unwrap()
}

#[test]
fn paths_are_classified_by_the_services_routes() {
    let post = http::Method::POST;
    let c = |m: &http::Method, p: &str| classify(m, p).map(|r| (r.class, r.name));
    assert_eq!(
        c(&post, "/bot1:ab/sendMessage"),
        Some((SinkClass::Telegram, "1:ab".into()))
    );
    assert_eq!(
        c(&post, "/hook/ops"),
        Some((SinkClass::Webhook, "ops".into()))
    );
    assert_eq!(
        c(&post, "/alerts"),
        Some((SinkClass::Ntfy, "alerts".into()))
    );
    assert_eq!(
        c(&http::Method::GET, "/ping/abc"),
        Some((SinkClass::Healthchecks, "abc".into()))
    );
    assert_eq!(
        c(&http::Method::HEAD, "/ping/abc"),
        Some((SinkClass::Healthchecks, "abc".into()))
    );
    assert_eq!(c(&http::Method::GET, "/alerts"), None);
    assert_eq!(c(&post, "/bot/sendMessage"), None);
    assert_eq!(c(&post, "/bot1/getMe"), None);
    assert_eq!(c(&post, "/ping/abc"), None);
    assert_eq!(c(&post, "/a/b/c"), None);
}

#[test]
fn the_closing_hashtag_is_the_event_key() {
    assert_eq!(
        closing_hashtag("[box] 🔴 monerod down #node_down"),
        Some("node_down")
    );
    assert_eq!(closing_hashtag("no tag here"), None);
    assert_eq!(closing_hashtag("#node_down"), None, "needs the space");
    assert_eq!(closing_hashtag("x #Node-Down"), None);
}

#[tokio::test]
async fn telegram_is_answered_like_the_bot_api_and_recorded() {
    let fake = fake();
    let (status, body) = send(
        &fake,
        telegram(
            TOKEN,
            json!({"chat_id": CHAT, "text": "[box] monerod down #node_down",
                   "disable_web_page_preview": true}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["ok"], true);
    assert_eq!(reply["result"]["text"], "[box] monerod down #node_down");
    assert_eq!(reply["result"]["chat"]["id"], json!(-100_987_654));
    let recs = fake.requests();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.class, SinkClass::Telegram);
    assert_eq!(r.event.as_deref(), Some("node_down"));
    assert_eq!(r.parsed.chat_id.as_deref(), Some(CHAT));
    assert_eq!(r.parsed.authorized, Some(true));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(r.delivered());
}

#[tokio::test]
async fn telegram_refuses_a_wrong_token_and_an_unknown_chat() {
    let fake = fake();
    let text = "x #node_down";
    let (status, body) = send(
        &fake,
        telegram("1:wrong", json!({"chat_id": CHAT, "text": text})),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"ok\":false"), "{body}");
    let (status, body) = send(
        &fake,
        telegram(TOKEN, json!({"chat_id": "42", "text": text})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("chat not found"), "{body}");
    let refused = fake.query(&RecordQuery {
        delivered: Some(false),
        ..RecordQuery::default()
    });
    assert_eq!(refused.len(), 2);
}

#[tokio::test]
async fn a_signed_webhook_is_accepted_and_parsed() {
    let fake = fake();
    let body = webhook_body("node_down");
    let sig = signature(SECRET, &body);
    let (status, _) = send(&fake, webhook(body, Some(sig))).await;
    assert_eq!(status, 200);
    let r = &fake.requests()[0];
    assert_eq!(r.class, SinkClass::Webhook);
    assert_eq!(r.event.as_deref(), Some("node_down"));
    assert_eq!(r.parsed.severity.as_deref(), Some("critical"));
    assert_eq!(r.parsed.host.as_deref(), Some("box"));
    assert_eq!(r.parsed.ts, Some(1_735_689_700));
    assert_eq!(r.parsed.signature_ok, Some(true));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

#[tokio::test]
async fn a_bad_or_missing_hmac_is_refused_as_bad() {
    let fake = fake();
    let body = webhook_body("node_down");
    let wrong = signature("another-secret", &body);
    let (status, _) = send(&fake, webhook(body.clone(), Some(wrong))).await;
    assert_eq!(status, 401);
    // The right signature over a different body is as bad as a wrong key.
    let tampered = signature(SECRET, &webhook_body("node_recovered"));
    let (status, _) = send(&fake, webhook(body.clone(), Some(tampered))).await;
    assert_eq!(status, 401);
    let (status, _) = send(&fake, webhook(body.clone(), None)).await;
    assert_eq!(status, 401);
    // The bare hex form of the right signature passes.
    let bare = signature(SECRET, &body).replace("sha256=", "");
    let (status, _) = send(&fake, webhook(body, Some(bare))).await;
    assert_eq!(status, 200);
    let recs = fake.requests();
    assert_eq!(
        recs.iter()
            .map(|r| r.parsed.signature_ok)
            .collect::<Vec<_>>(),
        [Some(false), Some(false), Some(false), Some(true)]
    );
    assert!(recs[0]
        .problems
        .iter()
        .any(|p| p.contains("X-Pithead-Signature")));
}

#[tokio::test]
async fn a_webhook_body_missing_fields_is_named() {
    let fake = FakeSinks::new();
    let (status, _) = send(&fake, webhook(br#"{"text":"hi"}"#.to_vec(), None)).await;
    assert_eq!(status, 400);
    let problems = &fake.requests()[0].problems;
    for want in [
        "`event` is missing",
        "`ts` is missing",
        "`severity` is missing",
    ] {
        assert!(problems.iter().any(|p| p == want), "{want}: {problems:?}");
    }
}

#[tokio::test]
async fn ntfy_reads_title_priority_tags_and_the_bearer_token() {
    let fake = fake();
    let (status, body) = send(
        &fake,
        ntfy(
            "[box] monerod down #node_down",
            "rotating_light,node_down",
            Some(NTFY_TOKEN),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r = &fake.requests()[0];
    assert_eq!(r.class, SinkClass::Ntfy);
    assert_eq!(r.event.as_deref(), Some("node_down"));
    assert_eq!(r.parsed.title.as_deref(), Some("Pithead: node down"));
    assert_eq!(r.parsed.priority.as_deref(), Some("high"));
    assert_eq!(r.parsed.tags, ["rotating_light", "node_down"]);
    assert_eq!(r.parsed.authorized, Some(true));
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    let (status, _) = send(&fake, ntfy("x #node_down", "node_down", None)).await;
    assert_eq!(status, 401);
    let (status, _) = send(&fake, ntfy("x #node_down", "node_down", Some("nope"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_heartbeat_is_a_bare_get_or_head() {
    let fake = FakeSinks::new();
    for method in ["GET", "HEAD"] {
        let req = Request::builder()
            .method(method)
            .uri("/ping/check-1")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&fake, req).await.0, 200);
    }
    let recs = fake.query(&RecordQuery {
        class: Some(SinkClass::Healthchecks),
        ..RecordQuery::default()
    });
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].method, "HEAD");
    assert!(recs
        .iter()
        .all(|r| r.event.is_none() && r.problems.is_empty()));
}

#[tokio::test]
async fn a_down_sink_answers_its_mode_and_still_records_the_attempt() {
    let fake = FakeSinks::new();
    fake.set_mode(SinkClass::Ntfy, SinkMode::UNAVAILABLE);
    let (status, _) = send(&fake, ntfy("x #node_down", "node_down", None)).await;
    assert_eq!(status, 503);
    // Other classes are unaffected.
    let req = Request::get("/ping/x").body(Body::empty()).unwrap();
    assert_eq!(send(&fake, req).await.0, 200);
    fake.set_mode(SinkClass::Ntfy, SinkMode::Up);
    let (status, _) = send(&fake, ntfy("x #node_down", "node_down", None)).await;
    assert_eq!(status, 200);
    let ntfy_recs = fake.query(&RecordQuery {
        class: Some(SinkClass::Ntfy),
        event: Some("node_down".into()),
        ..RecordQuery::default()
    });
    assert_eq!(
        ntfy_recs.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        [
            Outcome::Answered { status: 503 },
            Outcome::Answered { status: 200 }
        ]
    );
}

#[tokio::test]
async fn closed_mode_drops_the_connection_without_a_reply() {
    let fake = FakeSinks::new();
    fake.set_mode(SinkClass::Webhook, SinkMode::Closed);
    let (addr, _task) = crate::serve::spawn_local(fake.router()).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = webhook_body("node_down");
    let head = format!(
        "POST /hook/a HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &body)
        .await
        .unwrap();
    let mut reply = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut reply)
        .await
        .unwrap();
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(fake.requests()[0].outcome, Outcome::Closed);
}

#[tokio::test(start_paused = true)]
async fn hang_mode_never_answers() {
    let fake = FakeSinks::new();
    fake.set_mode(SinkClass::Telegram, SinkMode::Hang);
    let pending = fake.router().oneshot(telegram(
        TOKEN,
        json!({"chat_id": CHAT, "text": "x #node_down"}),
    ));
    let waited = tokio::time::timeout(std::time::Duration::from_secs(600), pending).await;
    assert!(waited.is_err(), "answered within 10 minutes");
    assert_eq!(fake.requests()[0].outcome, Outcome::Hang);
}

#[tokio::test]
async fn the_control_api_steers_queries_and_resets() {
    let fake = FakeSinks::new();
    let req = Request::post("/control")
        .body(Body::from(r#"{"ntfy":{"mode":"status","code":502}}"#))
        .unwrap();
    let (status, body) = send(&fake, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.state().ntfy, SinkMode::Status { code: 502 });
    let req = Request::post("/control")
        .body(Body::from(r#"{"ntfy":{"mode":"sideways"}}"#))
        .unwrap();
    assert_eq!(send(&fake, req).await.0, 400);

    send(&fake, ntfy("a #node_down", "node_down", None)).await;
    send(&fake, ntfy("b #node_recovered", "node_recovered", None)).await;
    let req = Request::get("/control/requests?class=ntfy&event=node_recovered")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&fake, req).await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<SinkRequest> = serde_json::from_str(&body).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].parsed.text.as_deref(), Some("b #node_recovered"));
    assert_eq!(listed[0].outcome, Outcome::Answered { status: 502 });

    let req = Request::post("/control/reset").body(Body::empty()).unwrap();
    assert_eq!(send(&fake, req).await.0, 204);
    assert!(fake.requests().is_empty());
    // Sequence numbers go on after a reset.
    send(&fake, ntfy("c #node_down", "node_down", None)).await;
    assert_eq!(fake.requests()[0].seq, 3);
}

#[tokio::test]
async fn over_tls_the_fake_hands_out_a_ca_that_verifies_it() {
    let fake = fake();
    let (addr, pem, _task) = tls::spawn_local_tls(&fake).await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    roots.add(der).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = Request::get("/control/ca")
        .header("host", "localhost")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let got = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(got, pem.as_bytes());

    // A client that trusts only the public roots refuses the fake.
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    assert!(connector.connect(name, tcp).await.is_err());
}

/// A fake built outside any runtime (as the simulation builds it) stamps arrivals on the
/// serving runtime's clock only: with a paused clock, the stamps are exactly the virtual time
/// between requests, with no real time mixed in.
#[test]
fn a_fake_built_outside_a_runtime_stamps_arrivals_on_the_serving_clock() {
    let fake = fake();
    // Real time that must not show in the stamps.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::advance(Duration::from_secs(5)).await;
        let sig = signature(SECRET, &webhook_body("node_down"));
        send(&fake, webhook(webhook_body("node_down"), Some(sig.clone()))).await;
        tokio::time::advance(Duration::from_millis(2_500)).await;
        send(&fake, webhook(webhook_body("node_down"), Some(sig))).await;
    });
    let stamps: Vec<u64> = fake.requests().iter().map(|r| r.at_ms).collect();
    assert_eq!(stamps, [0, 2_500], "the clock starts at the first request");
}

/// Built inside a runtime, the clock starts at creation.
#[tokio::test(start_paused = true)]
async fn a_fake_built_inside_a_runtime_stamps_arrivals_from_its_creation() {
    let fake = fake();
    tokio::time::advance(Duration::from_secs(3)).await;
    let sig = signature(SECRET, &webhook_body("node_down"));
    send(&fake, webhook(webhook_body("node_down"), Some(sig))).await;
    let stamps: Vec<u64> = fake.requests().iter().map(|r| r.at_ms).collect();
    assert_eq!(stamps, [3_000]);
}
