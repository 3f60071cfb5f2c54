//! Tier 2: the real `XvbClient` against the fake XvB site: the donor's bonus history page and
//! the public round stats, in every behaviour. The wallet address never appears in an error.

use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::xvb::FakeXvb;
use pithead_fakes::Behaviour;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector};
use pithead_runtime::observe::xvb::{XvbClient, XvbError, XvbRoute};

fn address() -> String {
    format!("4{}", "B".repeat(94))
}

fn client(base: &str) -> XvbClient {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint = pithead_runtime::io::Endpoint::parse(base).expect("endpoint");
    XvbClient::new(
        connector,
        &endpoint,
        &XvbRoute::direct().expect("webpki roots"),
        Exchange {
            timeout: Duration::from_millis(500),
            limit_bytes: 1024 * 1024,
        },
    )
}

#[tokio::test]
async fn donor_page_and_public_stats() {
    let fake = FakeXvb::new();
    fake.set_donor(12_345.0, 11_000.0, 2);
    fake.set_winner("4ABC...WXYZ");
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let c = client(&format!("http://{addr}"));

    let d = c.donor_stats(&address()).await.unwrap();
    assert_eq!(d.fail_count, 2);
    assert_eq!(d.avg_1h_hs, 12_345.0);
    assert_eq!(d.avg_24h_hs, 11_000.0);

    let p = c.public_stats().await.unwrap();
    assert_eq!(p.winner, "4ABC...WXYZ");
    assert_eq!(p.round_type, "donor");
    assert_eq!(p.time_remain_min, 60);
    assert_eq!(p.players_round, 120);
    assert_eq!(p.bonus_hr_khs, 250.0);
    assert_eq!(p.block_height, Some(3_300_000));

    fake.set_registered(false);
    assert!(matches!(
        c.donor_stats(&address()).await,
        Err(XvbError::NotRegistered)
    ));
    assert!(matches!(
        c.donor_stats("4abc&x=1").await,
        Err(XvbError::InvalidAddress)
    ));
}

#[tokio::test]
async fn misbehaving_site_is_typed_and_never_shows_the_address() {
    let fake = FakeXvb::new();
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let c = client(&format!("http://{addr}"));
    for (behaviour, expect) in [
        (Behaviour::Garbage, "malformed"),
        (Behaviour::Oversized, "larger than"),
        (Behaviour::slow_secs(3), "did not answer"),
        (Behaviour::Down, "unreachable"),
    ] {
        fake.set_behaviour(behaviour.clone());
        for err in [
            c.donor_stats(&address()).await.unwrap_err(),
            c.public_stats().await.unwrap_err(),
        ] {
            let text = format!("{err} {err:?}");
            assert!(text.contains(expect), "{behaviour:?}: {text}");
            assert!(!text.contains(&address()), "the address leaked: {text}");
        }
    }
}
