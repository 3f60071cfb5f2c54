//! The fake XvB site: the HTML page the reference scrapes, the JSON API, the public stats.

mod common;

use common::{assert_control_rejects, get, post_json, spawn};
use http::StatusCode;
use pithead_fakes::{xvb::FakeXvb, Behaviour};

const PAGE: &str = "/cgi-bin/p2pool_bonus_history.cgi?address=4AbC";
const API: &str = "/cgi-bin/p2pool_bonus_history_api.cgi?address=4AbC";

#[tokio::test]
async fn donor_numbers_in_every_view() {
    let fake = FakeXvb::new();
    fake.set_donor(1_234.0, 1_100.0, 2);
    let addr = spawn(fake.router()).await;

    let page = get(addr, PAGE).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Fail Count: 2"), "{html}");
    assert!(html.contains("1hr avg: 1.234 kH/s"), "{html}");
    assert!(html.contains("24hr avg: 1.100 kH/s"), "{html}");

    let v = get(addr, API).await.json();
    assert_eq!(v["fails"], 2);
    assert_eq!(v["donor_1hr_avg"], 1.234);
    assert_eq!(v["donor_24hr_avg"], 1.1);

    fake.set_winner("4AbC...xyz");
    let v = get(addr, "/p2pool/stats").await.json();
    assert_eq!(v["winner"], "4AbC...xyz");
    assert_eq!(v["round_type"], "donor");

    fake.set_registered(false);
    assert_eq!(
        get(addr, API).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(!get(addr, PAGE).await.text().contains("Fail Count"));
    assert_eq!(fake.requests(), 5);
}

#[tokio::test]
async fn behaviour_and_control() {
    let fake = FakeXvb::new();
    let addr = spawn(fake.router()).await;
    fake.set_behaviour(Behaviour::Garbage);
    assert!(serde_json::from_slice::<serde_json::Value>(&get(addr, API).await.body).is_err());

    let r = post_json(
        addr,
        "/control",
        r#"{"avg_1h_hs":10500,"fail_count":3,"behaviour":{"mode":"normal"}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(get(addr, API).await.json()["donor_1hr_avg"], 10.5);
    assert_eq!(fake.state().fail_count, 3);

    assert_control_rejects(addr, r#"{"avg_1h":1}"#, &["xvb", "unknown field `avg_1h`"]).await;
    assert_control_rejects(addr, r#"{"fail_count":"many"}"#, &["invalid type"]).await;
}
