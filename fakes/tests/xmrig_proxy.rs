//! The fake xmrig-proxy API: auth (401/403), restriction (403), config writes (204/400/415),
//! summary and workers shapes, and its control API.

mod common;

use common::{assert_control_rejects, get, post_json, send, spawn, Reply};
use http::{Method, StatusCode};
use pithead_fakes::{
    xmrig_proxy::{FakeXmrigProxy, WorkerRow},
    Behaviour,
};
use serde_json::json;

const TOKEN: &str = "t0ken";

async fn api(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    send(addr, method, path, &headers, body)
        .await
        .expect("reply")
}

#[tokio::test]
async fn auth_is_401_without_a_header_and_403_with_a_wrong_token() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let addr = spawn(fake.router()).await;
    let r = get(addr, "/1/summary").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), json!({"status": 401, "error": "Unauthorized"}));
    let r = api(addr, Method::GET, "/1/summary", Some("wrong"), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        addr,
        Method::GET,
        "/1/summary",
        &[("authorization", TOKEN)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a token without `Bearer ` is refused"
    );
    let r = api(addr, Method::GET, "/1/summary", Some(TOKEN), "").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api(addr, Method::GET, "/1/nope", Some(TOKEN), "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn summary_and_workers_have_the_real_shapes() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let mut offline = WorkerRow::new("rig2", 0.0);
    offline.connections = 0;
    fake.set_workers(vec![WorkerRow::new("rig1", 5.5), offline]);
    let addr = spawn(fake.router()).await;

    let s = api(addr, Method::GET, "/1/summary", Some(TOKEN), "")
        .await
        .json();
    let total = s["hashrate"]["total"].as_array().unwrap();
    assert_eq!(total.len(), 6);
    assert_eq!(total[0], 5.5);
    assert_eq!(s["miners"]["now"], 1);
    assert_eq!(s["workers"], 2);
    assert_eq!(s["kind"], "proxy");

    let w = api(addr, Method::GET, "/1/workers", Some(TOKEN), "")
        .await
        .json();
    let rows = w["workers"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows[0].as_array().unwrap();
    assert_eq!(row.len(), 13);
    assert_eq!(row[0], "rig1");
    assert_eq!(row[2], 1);
    assert_eq!(row[8], 5.5);
    assert_eq!(rows[1][2], 0);

    fake.set_hashrate_total(Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    let s = api(addr, Method::GET, "/1/summary", Some(TOKEN), "")
        .await
        .json();
    assert_eq!(
        s["hashrate"]["total"],
        json!([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );
}

#[tokio::test]
async fn config_round_trip_and_refusals() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let addr = spawn(fake.router()).await;
    let mut config = api(addr, Method::GET, "/1/config", Some(TOKEN), "")
        .await
        .json();
    assert_eq!(config["pools"].as_array().unwrap().len(), 2);
    config["pools"][0]["enabled"] = json!(false);
    config["pools"][1]["enabled"] = json!(true);
    let body = config.to_string();

    let r = api(addr, Method::PUT, "/1/config", Some(TOKEN), &body).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(fake.config()["pools"][1]["enabled"], true);
    assert_eq!(fake.config_puts(), 1);

    let r = api(addr, Method::PUT, "/1/config", Some(TOKEN), "not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api(
        addr,
        Method::PUT,
        "/1/config",
        Some(TOKEN),
        r#"{"pools":[]}"#,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a config without pools is unusable"
    );
    let auth = format!("Bearer {TOKEN}");
    let r = send(
        addr,
        Method::PUT,
        "/1/config",
        &[("authorization", &auth)],
        &body,
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = api(addr, Method::PUT, "/1/config", None, &body).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(fake.config_puts(), 1, "refused writes change nothing");

    fake.set_restricted(true);
    let r = api(addr, Method::GET, "/1/config", Some(TOKEN), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(addr, Method::PUT, "/1/config", Some(TOKEN), &body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(addr, Method::GET, "/1/summary", Some(TOKEN), "").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "reads stay allowed when restricted"
    );
}

#[tokio::test]
async fn behaviour_and_control() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let addr = spawn(fake.router()).await;
    fake.set_behaviour(Behaviour::Down);
    let err = send(addr, Method::GET, "/1/summary", &[], "")
        .await
        .unwrap_err();
    assert!(err.starts_with("send:"), "{err}");

    let r = post_json(
        addr,
        "/control",
        r#"{"behaviour":{"mode":"normal"},"restricted":true,"workers":[{"name":"a","ip":"1.2.3.4","connections":1,"accepted":1,"rejected":0,"invalid":0,"hashes":5,"last_share_ms":0,"hashrate_khs":[1,1,1,1,1]}]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let view = r.json();
    assert_eq!(view["config"]["http"]["access-token"], "<redacted>");
    assert_eq!(view["config"]["http"]["restricted"], true);
    assert!(
        !r.text().contains(TOKEN),
        "the token never shows in the control view"
    );
    let st = fake.state();
    assert!(st.restricted);
    assert_eq!(st.workers.len(), 1);

    assert_control_rejects(
        addr,
        r#"{"workers":[{"name":"a"}]}"#,
        &["xmrig-proxy", "missing field"],
    )
    .await;
    assert_control_rejects(addr, r#"{"config_puts":5}"#, &["read-only"]).await;
    assert_control_rejects(
        addr,
        r#"{"restriced":true}"#,
        &["unknown field `restriced`"],
    )
    .await;
}
