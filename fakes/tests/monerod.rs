//! The fake monerod's wire replies for each mode, its control API and digest auth.

mod common;

use std::time::Duration;

use common::{assert_control_rejects, get, oneshot, post_json, send, spawn, Conn};
use http::{Method, StatusCode};
use pithead_fakes::monerod::{get_info_result, FakeMonerod, MoneroMode};
use serde_json::Value;

const GET_INFO: &str = r#"{"jsonrpc":"2.0","id":"0","method":"get_info"}"#;

#[tokio::test]
async fn json_rpc_get_info_follows_the_mode() {
    let fake = FakeMonerod::new(MoneroMode::Syncing {
        height: 100,
        target: 200,
    });
    let addr = spawn(fake.router()).await;

    let r = post_json(addr, "/json_rpc", GET_INFO).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["id"], "0");
    assert_eq!(v["jsonrpc"], "2.0");
    let res = &v["result"];
    assert_eq!(res["status"], "OK");
    assert_eq!(res["height"], 100);
    assert_eq!(res["target_height"], 200);
    assert_eq!(res["synchronized"], false);
    assert_eq!(res["busy_syncing"], true);

    fake.set_mode(MoneroMode::Synced { height: 3000 });
    let res = post_json(addr, "/json_rpc", GET_INFO).await.json()["result"].clone();
    assert_eq!(res["height"], 3000);
    assert_eq!(res["target_height"], 0);
    assert_eq!(res["synchronized"], true);

    fake.set_mode(MoneroMode::Busy);
    let r = post_json(addr, "/json_rpc", GET_INFO).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["result"]["status"], "BUSY");

    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn plain_get_info_paths_answer_the_result_object() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 77 });
    let addr = spawn(fake.router()).await;
    for path in ["/get_info", "/getinfo"] {
        let v = get(addr, path).await.json();
        assert_eq!(v["height"], 77, "{path}");
        assert_eq!(v, get_info_result(&MoneroMode::Synced { height: 77 }));
    }
    let v = post_json(addr, "/get_info", "").await.json();
    assert_eq!(v["status"], "OK");
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn json_rpc_errors_are_json_rpc_errors() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 1 });
    let addr = spawn(fake.router()).await;
    let v = post_json(
        addr,
        "/json_rpc",
        r#"{"jsonrpc":"2.0","id":7,"method":"nope"}"#,
    )
    .await
    .json();
    assert_eq!(v["error"]["code"], -32601);
    assert_eq!(v["id"], 7);
    let v = post_json(addr, "/json_rpc", "{not json").await.json();
    assert_eq!(v["error"]["code"], -32700);
    // JSON that is not a call (an array, a method that is not a string): no such method.
    for body in ["[1,2]", r#"{"id":3,"method":5}"#] {
        let v = post_json(addr, "/json_rpc", body).await.json();
        assert_eq!(v["error"]["code"], -32601, "{body}");
    }
    assert_eq!(fake.requests(), 0, "none was a get_info");
}

#[tokio::test]
async fn json_rpc_echoes_any_id_around_the_whole_result() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 42 });
    let addr = spawn(fake.router()).await;
    let expected = get_info_result(&MoneroMode::Synced { height: 42 });
    for id in [r#"7"#, r#""a\"b""#, r#"{"n":[1]}"#, "null"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"get_info"}}"#);
        let r = post_json(addr, "/json_rpc", &body).await;
        assert_eq!(r.status, StatusCode::OK);
        let v = r.json();
        assert_eq!(v["id"], serde_json::from_str::<Value>(id).unwrap(), "{id}");
        assert_eq!(v["result"], expected, "{id}");
    }
    let v = post_json(addr, "/json_rpc", r#"{"method":"get_info"}"#)
        .await
        .json();
    assert_eq!(v["id"], Value::Null, "a call without an id");
}

#[tokio::test]
async fn down_drops_the_connection_and_garbage_is_not_json() {
    let fake = FakeMonerod::new(MoneroMode::Down);
    let addr = spawn(fake.router()).await;
    let err = send(addr, Method::POST, "/json_rpc", &[], GET_INFO)
        .await
        .expect_err("down must not reply");
    assert!(err.starts_with("send:"), "{err}");

    fake.set_mode(MoneroMode::Garbage);
    let r = post_json(addr, "/json_rpc", GET_INFO).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_eq!(
        fake.requests(),
        2,
        "dropped and garbled requests still count"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_answers_the_last_chain_after_the_delay() {
    let fake = FakeMonerod::new(MoneroMode::Syncing {
        height: 5,
        target: 9,
    });
    fake.set_mode(MoneroMode::Slow { secs: 20 });
    let start = tokio::time::Instant::now();
    let r = oneshot(fake.router(), Method::POST, "/json_rpc", GET_INFO).await;
    assert!(start.elapsed() >= Duration::from_secs(20));
    assert_eq!(r.json()["result"]["height"], 5);
    assert_eq!(r.json()["result"]["target_height"], 9);
}

#[tokio::test]
async fn control_sets_the_mode_and_refuses_bad_bodies() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 1 });
    let addr = spawn(fake.router()).await;

    let r = post_json(
        addr,
        "/control",
        r#"{"mode":"syncing","height":100,"target":200}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["mode"], "syncing");
    assert_eq!(
        fake.mode(),
        MoneroMode::Syncing {
            height: 100,
            target: 200
        }
    );
    for (body, mode) in [
        (r#"{"mode":"busy"}"#, MoneroMode::Busy),
        (r#"{"mode":"down"}"#, MoneroMode::Down),
        (r#"{"mode":"garbage"}"#, MoneroMode::Garbage),
        (
            r#"{"mode":"slow","secs":20}"#,
            MoneroMode::Slow { secs: 20 },
        ),
        (
            r#"{"mode":"synced","height":3000}"#,
            MoneroMode::Synced { height: 3000 },
        ),
    ] {
        assert_eq!(
            post_json(addr, "/control", body).await.status,
            StatusCode::OK
        );
        assert_eq!(fake.mode(), mode, "{body}");
    }
    let v = get(addr, "/control").await.json();
    assert_eq!(v["mode"], "synced");
    assert_eq!(v["height"], 3000);

    assert_control_rejects(
        addr,
        r#"{"mode":"sunk"}"#,
        &["monerod", "unknown variant `sunk`"],
    )
    .await;
    assert_control_rejects(addr, r#"{"mode":"synced"}"#, &["missing field `height`"]).await;
    assert_control_rejects(
        addr,
        r#"{"mode":"synced","heigth":5}"#,
        &["unknown field `heigth`"],
    )
    .await;
    assert_control_rejects(
        addr,
        r#"{"mode":"busy","height":5}"#,
        &["unknown field `height`"],
    )
    .await;
    assert_control_rejects(addr, r#"{"mode":"slow","secs":-1}"#, &["`-1`", "u64"]).await;
    assert_control_rejects(addr, "", &["empty"]).await;
    assert_control_rejects(addr, "{", &["EOF"]).await;
    assert_eq!(
        fake.mode(),
        MoneroMode::Synced { height: 3000 },
        "refusals change nothing"
    );
}

#[tokio::test]
async fn control_still_works_while_the_daemon_is_down() {
    let fake = FakeMonerod::new(MoneroMode::Down);
    let addr = spawn(fake.router()).await;
    let r = post_json(addr, "/control", r#"{"mode":"synced","height":9}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(get(addr, "/get_info").await.json()["height"], 9);
}

/// The two `WWW-Authenticate` values of a `401`.
fn challenges(r: &common::Reply) -> Vec<String> {
    r.headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The `nonce="…"` of a challenge.
fn nonce_of(challenge: &str) -> String {
    digest_auth::parse(challenge)
        .expect("parse challenge")
        .nonce
}

/// An `Authorization` answering `challenge` for `user`/`password` on `POST uri`.
fn answer(challenge: &str, user: &str, password: &str, uri: &str) -> String {
    let mut prompt = digest_auth::parse(challenge).expect("parse challenge");
    let ctx = digest_auth::AuthContext::new_post(
        user.to_owned(),
        password.to_owned(),
        uri.to_owned(),
        Option::<&[u8]>::None,
    );
    prompt.respond(&ctx).expect("respond").to_header_string()
}

#[tokio::test]
async fn digest_auth_challenges_then_accepts_the_right_password() {
    let fake =
        FakeMonerod::new(MoneroMode::Synced { height: 42 }).with_digest_auth("alice", "s3cret");
    let addr = spawn(fake.router()).await;
    let json = ("content-type", "application/json");

    // The answer travels on the connection that got the challenge, as monerod requires.
    let mut conn = Conn::open(addr).await.expect("connect");
    let r = conn
        .send(Method::POST, "/json_rpc", &[json], GET_INFO)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let offered = challenges(&r);
    assert_eq!(offered.len(), 2, "{offered:?}");
    assert!(offered[0].contains("realm=\"monero-rpc\"") && offered[0].contains("qop=\"auth\""));
    assert!(offered[1].contains("algorithm=MD5-sess"));
    assert_eq!(nonce_of(&offered[0]), nonce_of(&offered[1]));

    let good = answer(&offered[0], "alice", "s3cret", "/json_rpc");
    let r = conn
        .send(
            Method::POST,
            "/json_rpc",
            &[("authorization", &good), json],
            GET_INFO,
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["result"]["height"], 42);

    let r = conn
        .send(Method::POST, "/get_info", &[("authorization", &good)], "")
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a response signed for another uri"
    );
    assert_eq!(
        nonce_of(&challenges(&r)[0]),
        nonce_of(&offered[0]),
        "one nonce per connection: a re-challenge on it repeats it"
    );

    let bad = answer(&offered[0], "alice", "wrong", "/json_rpc");
    let r = conn
        .send(
            Method::POST,
            "/json_rpc",
            &[("authorization", &bad), json],
            GET_INFO,
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The control API is not behind the daemon's auth.
    assert_eq!(get(addr, "/control").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_digest_answer_replayed_on_a_new_connection_is_refused() {
    let fake =
        FakeMonerod::new(MoneroMode::Synced { height: 42 }).with_digest_auth("alice", "s3cret");
    let addr = spawn(fake.router()).await;
    let json = ("content-type", "application/json");

    let mut first = Conn::open(addr).await.expect("connect");
    let r = first
        .send(Method::POST, "/json_rpc", &[json], GET_INFO)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let first_challenge = challenges(&r).swap_remove(0);
    let good = answer(&first_challenge, "alice", "s3cret", "/json_rpc");
    let authorized = [("authorization", good.as_str()), json];

    // A new connection: the same (correct) answer gets another 401, with a different nonce.
    let mut second = Conn::open(addr).await.expect("connect");
    let r = second
        .send(Method::POST, "/json_rpc", &authorized, GET_INFO)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let second_challenge = challenges(&r).swap_remove(0);
    assert_ne!(nonce_of(&second_challenge), nonce_of(&first_challenge));
    // A one-request-per-connection client is refused the same way.
    let r = send(addr, Method::POST, "/json_rpc", &authorized, GET_INFO)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // On the connection that got the challenge it is accepted, and keeps being accepted.
    for _ in 0..2 {
        let r = first
            .send(Method::POST, "/json_rpc", &authorized, GET_INFO)
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["result"]["height"], 42);
    }
    // The second connection accepts an answer to its own challenge.
    let own = answer(&second_challenge, "alice", "s3cret", "/json_rpc");
    let r = second
        .send(
            Method::POST,
            "/json_rpc",
            &[("authorization", &own), json],
            GET_INFO,
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
