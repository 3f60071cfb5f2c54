//! Tier 2: the real `P2poolClient` against the fake p2pool, from the data-api directory (files
//! replaced atomically, the way p2pool writes them) and over HTTP, in every behaviour.

use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::p2pool::{FakeP2pool, P2poolState};
use pithead_fakes::Behaviour;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector, TransportError};
use pithead_runtime::observe::p2pool::{
    Document, P2poolClient, P2poolError, P2poolReading, P2poolSource, MAX_DOCUMENT_BYTES,
};

fn exchange(timeout: Duration) -> Exchange {
    Exchange {
        timeout,
        limit_bytes: MAX_DOCUMENT_BYTES,
    }
}

fn client(source: P2poolSource, timeout: Duration) -> P2poolClient {
    let connector: SharedConnector = Arc::new(TokioConnector);
    P2poolClient::new(connector, source, exchange(timeout))
}

fn state() -> P2poolState {
    P2poolState {
        network_height: 3_301_234,
        sidechain_height: 9_123_456,
        sidechain_difficulty: 1_234_567,
        pplns_window_size: 2_160,
        pool_hashrate: 98_765,
        miners: 611,
        hashrate_15m: 15_500,
        hashrate_1h: 15_000,
        hashrate_24h: 14_000,
        shares_found: 7,
        last_share_found_time: 1_735_689_000,
        ..Default::default()
    }
}

fn assert_reading_matches(r: &P2poolReading, s: &P2poolState) {
    assert_eq!(r.network_height, s.network_height);
    assert_eq!(r.network_difficulty, s.network_difficulty);
    assert_eq!(r.sidechain_height, s.sidechain_height);
    assert_eq!(r.sidechain_difficulty, s.sidechain_difficulty);
    assert_eq!(r.pplns_window_size, Some(s.pplns_window_size));
    assert_eq!(r.pool_hashrate, s.pool_hashrate);
    assert_eq!(r.pool_miners, s.miners);
    assert_eq!(
        (r.hashrate_15m, r.hashrate_1h, r.hashrate_24h),
        (s.hashrate_15m, s.hashrate_1h, s.hashrate_24h)
    );
    assert_eq!(r.shares_found, s.shares_found);
    assert_eq!(r.last_share_found_time, Some(s.last_share_found_time));
    assert_eq!(r.workers, s.workers.len());
}

#[tokio::test]
async fn data_dir_every_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeP2pool::new(state());
    let c = client(
        P2poolSource::Dir(dir.path().to_owned()),
        Duration::from_secs(2),
    );

    // Before p2pool wrote anything: missing, typed.
    assert!(matches!(c.read().await, Err(P2poolError::Missing { .. })));

    fake.write_data_dir(dir.path()).unwrap();
    assert_reading_matches(&c.read().await.unwrap(), &fake.state());

    // Network height 0 (p2pool held / UI override) is a reading, not an error.
    fake.update(|s| s.network_height = 0);
    fake.write_data_dir(dir.path()).unwrap();
    assert_eq!(c.read().await.unwrap().network_height, 0);

    fake.update(|s| s.behaviour = Behaviour::Garbage);
    fake.write_data_dir(dir.path()).unwrap();
    assert!(matches!(c.read().await, Err(P2poolError::Malformed { .. })));

    fake.update(|s| s.behaviour = Behaviour::Oversized);
    fake.write_data_dir(dir.path()).unwrap();
    assert!(matches!(
        c.read().await,
        Err(P2poolError::TooLarge {
            limit_bytes: MAX_DOCUMENT_BYTES,
            ..
        })
    ));

    fake.update(|s| s.behaviour = Behaviour::Down);
    fake.write_data_dir(dir.path()).unwrap();
    assert!(matches!(
        c.read().await.unwrap_err(),
        P2poolError::Missing {
            document: Document::NetworkStats
        }
    ));
}

#[tokio::test]
async fn http_every_behaviour() {
    let fake = FakeP2pool::new(state());
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let c = client(
        P2poolSource::Http(
            pithead_runtime::io::Endpoint::parse(&format!("http://{addr}")).expect("endpoint"),
        ),
        Duration::from_millis(500),
    );
    assert_reading_matches(&c.read().await.unwrap(), &fake.state());

    fake.update(|s| s.shares_found = 8);
    assert_eq!(c.local_stratum().await.unwrap().shares_found, 8);

    fake.update(|s| s.behaviour = Behaviour::Garbage);
    assert!(matches!(
        c.network_stats().await,
        Err(P2poolError::Malformed { .. })
    ));
    fake.update(|s| s.behaviour = Behaviour::Oversized);
    assert!(matches!(
        c.pool_stats().await,
        Err(P2poolError::Transport(TransportError::TooLarge { .. }))
    ));
    fake.update(|s| s.behaviour = Behaviour::slow_secs(3));
    assert!(matches!(
        c.read().await,
        Err(P2poolError::Transport(TransportError::Timeout { .. }))
    ));
    fake.update(|s| s.behaviour = Behaviour::Down);
    assert!(matches!(
        c.read().await,
        Err(P2poolError::Transport(
            TransportError::Unreachable { .. } | TransportError::Protocol { .. }
        ))
    ));

    // A path the server does not have is "missing".
    let wrong = client(
        P2poolSource::Http(
            pithead_runtime::io::Endpoint::parse(&format!("http://{addr}/nope")).expect("endpoint"),
        ),
        Duration::from_secs(2),
    );
    fake.update(|s| s.behaviour = Behaviour::Normal);
    assert!(matches!(
        wrong.read().await,
        Err(P2poolError::Missing { .. })
    ));
}
