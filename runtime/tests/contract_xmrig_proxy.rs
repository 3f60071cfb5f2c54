//! Tier 2: the real `XmrigProxyClient` against the fake xmrig-proxy API: summary, positional
//! worker rows, config GET/PUT with the bearer token, 401/403, misbehaviour. The token never
//! appears in an error.

use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::xmrig_proxy::{FakeXmrigProxy, WorkerRow};
use pithead_fakes::Behaviour;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector};
use pithead_runtime::observe::xmrig_proxy::{XmrigProxyClient, XmrigProxyError};

const TOKEN: &str = "proxy-token-0d9f3c";

fn client(base: &str, token: Option<&str>) -> XmrigProxyClient {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint = pithead_runtime::io::Endpoint::parse(base).expect("endpoint");
    XmrigProxyClient::new(
        connector,
        &endpoint,
        token,
        Exchange {
            timeout: Duration::from_millis(500),
            limit_bytes: 1024 * 1024,
        },
    )
    .expect("client")
}

#[tokio::test]
async fn summary_workers_and_config_round_trip() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let mut offline = WorkerRow::new("rig-2", 0.0);
    offline.connections = 0;
    fake.set_workers(vec![WorkerRow::new("rig-1", 5.25), offline]);
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let c = client(&format!("http://{addr}"), Some(TOKEN));

    let s = c.summary().await.unwrap();
    assert_eq!(s.hashrate_total_khs.len(), 6);
    assert_eq!(s.hashrate_total_khs[0], Some(5.25));
    assert_eq!(s.hashrate_hs(0), Some(5_250.0));
    assert_eq!((s.miners_now, s.miners_max, s.workers), (1, 2, 2));
    assert_eq!(s.accepted, 200);

    fake.set_hashrate_total(Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    let s = c.summary().await.unwrap();
    let totals: Vec<f64> = s.hashrate_total_khs.iter().map(|v| v.unwrap()).collect();
    assert_eq!(totals, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    let w = c.workers().await.unwrap();
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].name, "rig-1");
    assert_eq!(w[0].ip, "192.168.1.50");
    assert_eq!(
        (w[0].connections, w[0].accepted, w[0].rejected, w[0].invalid),
        (1, 100, 0, 0)
    );
    assert_eq!(w[0].last_share_ms, 1_735_689_600_000);
    assert_eq!(w[0].hashrate_khs, vec![5.25; 5]);
    assert_eq!(w[1].connections, 0);

    // The switch: GET the whole config, change the pools, PUT it back (204).
    let mut config = c.get_config().await.unwrap();
    assert_eq!(config, fake.config());
    let pools = config["pools"].as_array_mut().expect("pools");
    for pool in pools.iter_mut() {
        let enabled = pool["enabled"].as_bool().unwrap_or(false);
        pool["enabled"] = serde_json::json!(!enabled);
    }
    c.put_config(&config).await.unwrap();
    assert_eq!(fake.config_puts(), 1);
    assert_eq!(fake.config(), config);

    // A config the proxy cannot reload is refused (400) and changes nothing.
    let err = c
        .put_config(&serde_json::json!({"pools": []}))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        XmrigProxyError::BadStatus {
            path: "/1/config",
            code: 400
        }
    ));
    assert_eq!(fake.config_puts(), 1);
}

#[tokio::test]
async fn auth_and_restriction_are_typed_and_the_token_never_shows() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let mut texts = Vec::new();

    let none = client(&base, None);
    let err = none.summary().await.unwrap_err();
    assert!(matches!(
        err,
        XmrigProxyError::Unauthorized { path: "/1/summary" }
    ));
    texts.push(format!("{err} {err:?}"));

    let wrong = client(&base, Some("not-the-token"));
    let err = wrong.workers().await.unwrap_err();
    assert!(matches!(
        err,
        XmrigProxyError::Forbidden { path: "/1/workers" }
    ));
    texts.push(format!("{err} {err:?}"));

    fake.set_restricted(true);
    let good = client(&base, Some(TOKEN));
    assert!(
        good.summary().await.is_ok(),
        "reads stay allowed when restricted"
    );
    let err = good.get_config().await.unwrap_err();
    assert!(matches!(
        err,
        XmrigProxyError::Forbidden { path: "/1/config" }
    ));
    texts.push(format!("{err} {err:?} {good:?}"));
    let err = good.put_config(&fake.config()).await.unwrap_err();
    assert!(matches!(
        err,
        XmrigProxyError::Forbidden { path: "/1/config" }
    ));
    assert_eq!(fake.config_puts(), 0);

    fake.set_restricted(false);
    for (behaviour, check) in [
        (Behaviour::Garbage, "malformed"),
        (Behaviour::Oversized, "larger than"),
        (Behaviour::slow_secs(3), "did not answer"),
        (Behaviour::Down, "unreachable"),
    ] {
        fake.set_behaviour(behaviour.clone());
        let err = good.summary().await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(check), "{behaviour:?}: {text}");
        texts.push(format!("{text} {err:?}"));
    }
    for text in texts {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}
