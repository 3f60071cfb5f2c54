use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use bytes::Bytes;
use http::Method;
use pithead_runtime::io::http::{request, send, Exchange};
use pithead_sim::net::{bind, TurmoilConnector};

#[test]
fn http_over_turmoil() {
    let mut sim = turmoil::Builder::new()
        .tick_duration(Duration::from_secs(1))
        .simulation_duration(Duration::from_secs(86_400 * 2))
        .rng_seed(1)
        .build();
    sim.host("server", || async {
        let listener = bind(8000).await?;
        axum::serve(
            listener,
            axum::Router::new().route("/x", get(|| async { "hi" })),
        )
        .await?;
        Ok(())
    });
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    sim.client("client", async move {
        for _ in 0..2880 {
            let req = request(
                Method::GET,
                "http://server:8000/x",
                Default::default(),
                Bytes::new(),
            )
            .unwrap();
            let t0 = tokio::time::Instant::now();
            let r = send(&TurmoilConnector::default(), req, &Exchange::default()).await;
            g.lock().unwrap().push((
                r.map(|r| r.into_body()).map_err(|e| e.to_string()),
                t0.elapsed(),
            ));
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Ok(())
    });
    #[allow(clippy::disallowed_methods)]
    let t = std::time::Instant::now();
    sim.run().unwrap();
    let got = got.lock().unwrap();
    eprintln!("{:?} wall for 1 day; first {:?}", t.elapsed(), got[0]);
    assert_eq!(got.len(), 2880);
    assert!(got
        .iter()
        .all(|(r, _)| r.as_deref().ok() == Some(&b"hi"[..])));
}
