//! Tier 2: the real `MoneroClient` against the fake monerod on real loopback sockets, every mode.
//! The drift check that keeps the fake's replies in the shape recorded from a real monerod
//! (`tests/fixtures/monerod/`: every key path and JSON type, envelope included, in every mode
//! that claims the real shape) is `contract_drift_monerod.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_runtime::control::chain;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector, TransportError};
use pithead_runtime::observe::monero::{MoneroClient, MoneroError};

const PASSWORD: &str = "fake-monerod-password-5521";

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monerod")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

async fn serve(fake: &FakeMonerod) -> SocketAddr {
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .expect("serve the fake");
    addr
}

fn client_with(
    addr: SocketAddr,
    credentials: Option<(&str, &str)>,
    exchange: Exchange,
) -> MoneroClient {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint =
        pithead_runtime::io::Endpoint::parse(&format!("http://{addr}")).expect("endpoint");
    MoneroClient::new(
        connector,
        &endpoint,
        credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        exchange,
    )
}

fn client(addr: SocketAddr) -> MoneroClient {
    client_with(
        addr,
        None,
        Exchange {
            timeout: Duration::from_secs(5),
            limit_bytes: 256 * 1024,
        },
    )
}

#[test]
fn the_recorded_replies_parse() {
    let synced = pithead_runtime::observe::monero::parse_get_info(
        &serde_json::to_vec(&fixture("get_info.synced.json")).unwrap(),
    )
    .unwrap();
    assert!(!chain::monero_is_syncing(&synced));
    assert_eq!(synced.nettype.as_deref(), Some("fakechain"));
    let syncing = pithead_runtime::observe::monero::parse_get_info(
        &serde_json::to_vec(&fixture("get_info.syncing.json")).unwrap(),
    )
    .unwrap();
    assert!(chain::monero_is_syncing(&syncing), "{syncing:?}");
    assert!(chain::monero_percent(&syncing) < 100);
}

#[tokio::test]
async fn synced_and_syncing_readings() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 3_000_000 });
    let c = client(serve(&fake).await);

    let info = c.get_info().await.expect("synced");
    assert_eq!((info.height, info.target_height), (3_000_000, 0));
    assert!(info.synchronized && !chain::monero_is_syncing(&info));
    assert_eq!(chain::monero_percent(&info), 100);
    assert_eq!(info.nettype.as_deref(), Some("mainnet"));
    assert_eq!(
        info.version.as_deref(),
        Some(pithead_fakes::monerod::VERSION)
    );
    assert_eq!(
        info.database_size,
        Some(pithead_fakes::monerod::DEFAULT_DATABASE_SIZE)
    );

    fake.set_mode(MoneroMode::Syncing {
        height: 1_234,
        target: 5_000,
    });
    let info = c.get_info().await.expect("syncing");
    assert!(chain::monero_is_syncing(&info) && info.busy_syncing && !info.synchronized);
    assert_eq!(chain::monero_percent(&info), 24); // floor(1234 / 5000 × 100)

    // Edge rows: height == target with synchronized=false is NOT syncing; target 0 without
    // synchronized (a fresh node with no peer, as the real monerod answers) still is.
    fake.set_mode(MoneroMode::Syncing {
        height: 5_000,
        target: 5_000,
    });
    let info = c.get_info().await.expect("at target");
    assert!(!info.synchronized);
    assert!(!chain::monero_is_syncing(&info), "{info:?}");
    assert_eq!(chain::monero_percent(&info), 100);
    fake.set_mode(MoneroMode::Syncing {
        height: 7,
        target: 0,
    });
    let fresh = c.get_info().await.expect("no peers yet");
    assert!(chain::monero_is_syncing(&fresh), "{fresh:?}");
    assert_eq!(chain::monero_percent(&fresh), 0);
    fake.set_mode(MoneroMode::Syncing {
        height: 4_999,
        target: 5_000,
    });
    assert_eq!(
        chain::monero_percent(&c.get_info().await.expect("one short")),
        99
    );
    assert!(fake.requests() >= 5);
}

#[tokio::test]
async fn restricted_node_hides_version_and_rounds_the_database() {
    let fake = FakeMonerod::new(MoneroMode::Synced { height: 10 })
        .with_restricted(true)
        .with_database_size(6 * 1024 * 1024 * 1024);
    let info = client(serve(&fake).await)
        .get_info()
        .await
        .expect("restricted");
    assert!(info.restricted);
    assert_eq!(info.version, None);
    assert_eq!(info.database_size, Some(10 * 1024 * 1024 * 1024));
}

#[tokio::test]
async fn busy_down_garbage_slow_and_oversized_are_typed() {
    let fake = FakeMonerod::new(MoneroMode::Busy);
    let addr = serve(&fake).await;
    let c = client(addr);
    assert!(matches!(c.get_info().await, Err(MoneroError::Busy)));

    fake.set_mode(MoneroMode::Down);
    let err = c.get_info().await.expect_err("down");
    assert!(
        matches!(
            err,
            MoneroError::Transport(
                TransportError::Protocol { .. } | TransportError::Unreachable { .. }
            )
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("unreachable"), "{err}");

    fake.set_mode(MoneroMode::Garbage);
    let err = c.get_info().await.expect_err("garbage");
    assert!(
        matches!(&err, MoneroError::Malformed { source } if source.to_string().contains("not JSON")),
        "{err:?}"
    );

    fake.set_mode(MoneroMode::Slow { secs: 5 });
    let quick = client_with(
        addr,
        None,
        Exchange {
            timeout: Duration::from_millis(300),
            limit_bytes: 256 * 1024,
        },
    );
    let err = quick.get_info().await.expect_err("slow");
    assert!(
        matches!(err, MoneroError::Transport(TransportError::Timeout { timeout, .. }) if timeout == Duration::from_millis(300)),
        "{err:?}"
    );

    // Oversized: the real reply (about 1.5 KB) against a 512-byte limit.
    fake.set_mode(MoneroMode::Synced { height: 1 });
    let small = client_with(
        addr,
        None,
        Exchange {
            timeout: Duration::from_secs(5),
            limit_bytes: 512,
        },
    );
    assert!(matches!(
        small.get_info().await,
        Err(MoneroError::Transport(TransportError::TooLarge {
            limit_bytes: 512,
            ..
        }))
    ));
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(SocketAddr::from(([127, 0, 0, 1], port)));
    let err = c.get_info().await.expect_err("closed port");
    assert!(
        matches!(&err, MoneroError::Transport(TransportError::Unreachable { target, .. }) if target.port() == port),
        "{err:?}"
    );
}

#[tokio::test]
async fn digest_auth_answered_and_password_never_shown() {
    let fake =
        FakeMonerod::new(MoneroMode::Synced { height: 42 }).with_digest_auth("user", PASSWORD);
    let addr = serve(&fake).await;
    let exchange = Exchange {
        timeout: Duration::from_secs(5),
        limit_bytes: 256 * 1024,
    };
    let good = client_with(addr, Some(("user", PASSWORD)), exchange.clone());
    assert_eq!(good.get_info().await.expect("authenticated").height, 42);

    let mut errors = Vec::new();
    for creds in [None, Some(("user", "wrong")), Some(("eve", PASSWORD))] {
        let c = client_with(addr, creds, exchange.clone());
        let err = c.get_info().await.expect_err("refused");
        assert!(matches!(err, MoneroError::Unauthorized { .. }), "{err:?}");
        errors.push(format!("{err} {err:?} {c:?}"));
    }
    // Every other error, formatted with the password configured, too.
    fake.set_mode(MoneroMode::Garbage);
    errors.push(good.get_info().await.expect_err("garbage").to_string());
    fake.set_mode(MoneroMode::Down);
    errors.push(good.get_info().await.expect_err("down").to_string());
    for text in errors {
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    }
}
