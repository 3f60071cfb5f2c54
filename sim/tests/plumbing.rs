//! The edges on their own: the turmoil connector, listener and clock under the runtime's own
//! HTTP client.
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use axum::routing::get;
use bytes::Bytes;
use http::Method;
use pithead_runtime::io::http::{request, send, Exchange};
use pithead_runtime::io::Clock;
use pithead_sim::clock::SimClock;
use pithead_sim::net::{bind, TurmoilConnector, SERVER_IDLE_TIMEOUT};

const EPOCH: Duration = Duration::from_secs(1_735_689_600);

fn sim() -> turmoil::Sim<'static> {
    turmoil::Builder::new()
        .tick_duration(Duration::from_secs(1))
        .simulation_duration(Duration::from_secs(7200))
        .epoch(UNIX_EPOCH + EPOCH)
        .rng_seed(1)
        .build()
}

#[test]
fn the_runtime_http_client_talks_to_axum_over_turmoil_with_virtual_wall_time() {
    let mut sim = sim();
    sim.host("server", || async {
        let listener = bind(8000).await?;
        axum::serve(
            listener,
            axum::Router::new().route("/x", get(|| async { "hi" })),
        )
        .await?;
        Ok(())
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let open = Arc::new(AtomicUsize::new(0));
    let (seen2, open2) = (seen.clone(), open.clone());
    sim.client("client", async move {
        let connector = TurmoilConnector::counted(open2.clone());
        let clock = SimClock::new(EPOCH);
        for _ in 0..3 {
            let req = request(
                Method::GET,
                "http://server:8000/x",
                Default::default(),
                Bytes::new(),
            )?;
            let body = send(&connector, req, &Exchange::default())
                .await?
                .into_body();
            seen2
                .lock()
                .unwrap()
                .push((body, clock.wall_ms(), open2.load(Ordering::Relaxed)));
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        // A refused port is an error, not a hang.
        let req = request(
            Method::GET,
            "http://server:9/x",
            Default::default(),
            Bytes::new(),
        )?;
        assert!(send(&connector, req, &Exchange::default()).await.is_err());
        Ok(())
    });
    sim.run().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|(body, _, _)| body.as_ref() == b"hi"));
    // Wall time is the fixed epoch plus virtual time, 30 s (plus the exchange) apart.
    let epoch_ms = u64::try_from(EPOCH.as_millis()).unwrap();
    assert!(
        seen[0].1 > epoch_ms && seen[0].1 < epoch_ms + 10_000,
        "{}",
        seen[0].1
    );
    let gap = seen[1].1 - seen[0].1;
    assert!((30_000..35_000).contains(&gap), "{gap}");
    // Every connection the client made is closed once its exchange is done.
    assert_eq!(open.load(Ordering::Relaxed), 0);
}

#[test]
fn a_server_drops_a_connection_whose_client_vanished() {
    let mut sim = sim();
    let closed = Arc::new(AtomicUsize::new(0));
    let closed2 = closed.clone();
    sim.host("server", move || {
        let closed = closed2.clone();
        async move {
            let listener = bind(7000).await?;
            let mut incoming = Box::pin(listener.into_incoming());
            use futures::StreamExt;
            while let Some(conn) = incoming.next().await {
                let mut conn = conn?;
                let closed = closed.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 16];
                    // The client goes silent behind a partition: only the idle timeout ends this.
                    let _ = conn.read(&mut buf).await;
                    closed.fetch_add(1, Ordering::Relaxed);
                });
            }
            Ok(())
        }
    });
    sim.host("client", || async {
        let _stream = turmoil::net::TcpStream::connect("server:7000").await?;
        futures::future::pending::<()>().await;
        Ok(())
    });
    for _ in 0..10 {
        sim.step().unwrap();
    }
    sim.partition("server", "client");
    let steps = SERVER_IDLE_TIMEOUT.as_secs() - 20;
    for _ in 0..steps {
        sim.step().unwrap();
    }
    assert_eq!(
        closed.load(Ordering::Relaxed),
        0,
        "not before the idle timeout"
    );
    for _ in 0..60 {
        sim.step().unwrap();
    }
    assert_eq!(
        closed.load(Ordering::Relaxed),
        1,
        "the idle timeout ended the connection"
    );
}
