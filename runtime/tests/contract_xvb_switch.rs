//! Tier 2: the XvB engine's switch through the real `XmrigProxyClient` against the fake
//! xmrig-proxy: GET `/1/config`, replace `pools`, PUT it back with the bearer token (204); a
//! refused switch changes nothing, is counted, and lands on a later try; no switch while the
//! workers are rejected or the miners held. The token never appears in an error.

use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use pithead_runtime::config::Config;
use pithead_runtime::control::xvb::{DonorReading, XvbObservation};
use pithead_runtime::cycle::{XvbClients, XvbDriver};
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector};
use tokio::time::Instant;

const TOKEN: &str = "proxy-token-7be21a";
const XVB_POOL: &str = "eu.xmrvsbeast.com:4247";
const P2POOL: &str = "p2pool:3333";

fn config(api: &str) -> Config {
    let env = [
        ("XVB_ENABLED", "true".to_owned()),
        ("XMRIG_PROXY_API", api.to_owned()),
        ("PROXY_AUTH_TOKEN", TOKEN.to_owned()),
        ("XVB_POOL_URL", XVB_POOL.to_owned()),
        ("P2POOL_POOL_URL", P2POOL.to_owned()),
    ];
    Config::from_lookup(|k| {
        env.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
    .expect("config")
}

fn fleet() -> XvbObservation {
    XvbObservation {
        current_hs: 40_000.0,
        stable_hs: 40_000.0,
        last_share_age: Some(Duration::from_secs(60)),
        sidechain_difficulty: 0,
        pplns_window_blocks: None,
        donor: Some(DonorReading {
            avg_1h_hs: 10_000.0,
            avg_24h_hs: 10_000.0,
            fail_count: 0,
        }),
        raffle_won: false,
    }
}

fn first_pool(fake: &FakeXmrigProxy) -> (String, bool, bool) {
    let config = fake.config();
    let pools = config["pools"].as_array().expect("pools").clone();
    (
        pools[0]["url"].as_str().unwrap_or_default().to_owned(),
        pools[0]["enabled"].as_bool().unwrap_or(false),
        pools[1]["enabled"].as_bool().unwrap_or(true),
    )
}

#[tokio::test]
async fn the_switch_rewrites_pools_and_a_refused_switch_changes_nothing() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let config = config(&format!("http://{addr}"));
    let connector: SharedConnector = Arc::new(TokioConnector);
    let exchange = Exchange {
        timeout: Duration::from_millis(500),
        limit_bytes: 1024 * 1024,
    };
    let clients = XvbClients::new(&config.xvb, connector, exchange).unwrap();
    let mut driver = XvbDriver::new(true, config.xvb.clone(), Some(0.5));
    let t0 = Instant::now();

    // Held miners or rejected workers: no call reaches the proxy.
    let to_xvb = driver.decide(&fleet(), t0);
    assert!(to_xvb.to_xvb);
    // 0.5 of 600 s plus the 5 s switch: the runtime wakes at the slice's end.
    assert_eq!(driver.wake_at(), Some(t0 + Duration::from_secs(305)));
    driver
        .apply(&clients.proxy, &to_xvb, false, 1)
        .await
        .unwrap();
    assert_eq!(fake.config_puts(), 0);
    assert_eq!(driver.section().0.pool, "unknown");

    // The switch: XvB first and enabled, P2Pool kept and disabled, other keys untouched.
    driver
        .apply(&clients.proxy, &to_xvb, true, 2)
        .await
        .unwrap();
    assert_eq!(fake.config_puts(), 1);
    assert_eq!(first_pool(&fake), (XVB_POOL.to_owned(), true, false));
    assert_eq!(fake.config()["mode"], "nicehash");
    let (section, _) = driver.section();
    assert_eq!(section.pool, "xvb");
    assert!(section
        .last_switch
        .as_ref()
        .is_some_and(|s| s.ok && s.to == "xvb"));

    // The same decision again: nothing to do.
    driver
        .apply(&clients.proxy, &to_xvb, true, 3)
        .await
        .unwrap();
    assert_eq!(fake.config_puts(), 1);

    // After the slice, back to P2Pool — refused by a read-only API: nothing changes.
    let to_p2pool = driver.decide(&fleet(), t0 + Duration::from_secs(305));
    assert!(!to_p2pool.to_xvb);
    assert_eq!(driver.wake_at(), None);
    fake.set_restricted(true);
    let err = driver
        .apply(&clients.proxy, &to_p2pool, true, 4)
        .await
        .unwrap_err();
    assert!(!err.contains(TOKEN), "{err}");
    assert_eq!(first_pool(&fake).0, XVB_POOL);
    let (section, _) = driver.section();
    assert_eq!((section.pool, section.switch_failures), ("xvb", 1));
    assert!(section.last_switch.as_ref().is_some_and(|s| !s.ok));

    // Retried next cycle, it lands.
    fake.set_restricted(false);
    driver
        .apply(&clients.proxy, &to_p2pool, true, 5)
        .await
        .unwrap();
    assert_eq!(first_pool(&fake), (P2POOL.to_owned(), true, false));
    assert_eq!(driver.section().0.pool, "p2pool");
}
