//! How fast the simulation runs: one simulated day of a full world, and swarm seeds per minute.
//!
//! Wall-clock timing is the point here, so this module (only) reads `std::time::Instant`.

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use serde::Serialize;

use crate::schedule::MONERO_TIP;
use crate::swarm::swarm_from;
use crate::world::WorldBuilder;

/// One simulated day, measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// `UPDATE_INTERVAL` used.
    pub update_interval_secs: u64,
    /// Virtual time per step, in milliseconds.
    pub tick_ms: u64,
    /// Hosts in the world.
    pub hosts: usize,
    /// Virtual seconds simulated.
    pub simulated_secs: f64,
    /// Wall seconds it took.
    pub wall_secs: f64,
    /// Virtual seconds per wall second.
    pub speedup: f64,
    /// Steps taken.
    pub steps: u64,
    /// Cycles the runtime completed.
    pub cycles: u64,
    /// An invariant failure, if the day did not pass.
    pub failure: Option<String>,
}

#[allow(clippy::disallowed_methods)] // wall-clock timing is what a benchmark measures
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Simulates one day of a full world (runtime, monerod, Tari, docker, aux with the prober) at
/// `UPDATE_INTERVAL = update_interval_secs`, with one monerod outage and one runtime restart,
/// every invariant checked after every step.
pub fn bench_day(update_interval_secs: u64, tick: Duration) -> BenchReport {
    let mut world = WorldBuilder::new(1)
        .env("UPDATE_INTERVAL", &update_interval_secs.to_string())
        .tick(tick)
        .build();
    let start = wall_now();
    let hour = Duration::from_secs(3600);
    let result = (|| {
        world.run_for(hour * 6)?;
        world.set_monero(MoneroMode::Down);
        world.run_for(Duration::from_secs(600))?;
        world.set_monero(MoneroMode::Synced { height: MONERO_TIP });
        world.run_for(hour * 6 - Duration::from_secs(600))?;
        world.crash_runtime();
        world.run_for(Duration::from_secs(60))?;
        world.restart_runtime();
        world.run_for(hour * 12 - Duration::from_secs(60))
    })();
    let wall = start.elapsed();
    let simulated = world.elapsed();
    BenchReport {
        update_interval_secs,
        tick_ms: u64::try_from(tick.as_millis()).unwrap_or(u64::MAX),
        hosts: 2,
        simulated_secs: simulated.as_secs_f64(),
        wall_secs: wall.as_secs_f64(),
        speedup: simulated.as_secs_f64() / wall.as_secs_f64().max(1e-9),
        steps: world.steps(),
        cycles: world.cycles(),
        failure: result.err().map(|f| f.to_string()),
    }
}

/// turmoil's fixed cost, measured: a day of steps at `tick` with two hosts whose software only
/// waits (no task, no message, no timer of their own), as many hosts as a [`World`]
/// (`runtime` and `stack`). Every step still enters, parks and advances three tokio runtimes
/// (each host's and the network's); what a full day costs beyond this is the runtime's and the
/// fakes' work and the world's checks.
///
/// [`World`]: crate::world::World
pub fn bench_floor(tick: Duration) -> Duration {
    let mut sim = turmoil::Builder::new()
        .tick_duration(tick)
        .simulation_duration(Duration::from_secs(400 * 86_400))
        .build();
    for host in [crate::world::RUNTIME, crate::world::STACK] {
        sim.host(host, || async {
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    let steps = Duration::from_secs(86_400).as_nanos() / tick.as_nanos().max(1);
    let start = wall_now();
    for _ in 0..steps {
        if sim.step().is_err() {
            break;
        }
    }
    start.elapsed()
}

/// What an HTTP exchange costs in virtual time, and the tolerance the invariants grant.
#[derive(Debug, Clone, Serialize)]
pub struct Granularity {
    /// Virtual time per step, in milliseconds.
    pub tick_ms: u64,
    /// Virtual milliseconds of one `GET` on a fresh connection, the server's host stepped
    /// before the client's (as the `stack` host is before the runtime's).
    pub exchange_ms: u64,
    /// Virtual milliseconds of one Tari read on a fresh connection (the runtime's
    /// `TariClient` against the fake base node, syncing: the read that needs the most calls).
    pub tari_read_ms: u64,
    /// The network margin per exchange the invariants allow, in milliseconds.
    pub margin_ms: u64,
    /// The invariants' observation lag (interval + RPC timeout + margin), in milliseconds.
    pub tolerance_ms: u64,
}

/// Measures [`Granularity`] at `tick` with the runtime's defaults.
pub fn granularity(tick: Duration) -> Granularity {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let world = WorldBuilder::new(1).tick(tick).build();
    Granularity {
        tick_ms: ms(tick),
        exchange_ms: exchange(tick).map_or(u64::MAX, ms),
        tari_read_ms: tari_read(tick).map_or(u64::MAX, ms),
        margin_ms: ms(world.timing().margin),
        tolerance_ms: ms(world.timing().lag()),
    }
}

/// One `GET` between two turmoil hosts over the runtime's own HTTP client.
fn exchange(tick: Duration) -> Option<Duration> {
    let mut sim = turmoil::Builder::new().tick_duration(tick).build();
    sim.host("server", || async {
        let listener = crate::net::bind(80).await?;
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        pithead_fakes::serve::serve(listener, router).await?;
        Ok(())
    });
    virtual_time_of(sim, async move {
        let request = pithead_runtime::io::http::request(
            http::Method::GET,
            "http://server:80/",
            http::HeaderMap::new(),
            bytes::Bytes::new(),
        )?;
        let exchange = pithead_runtime::io::http::Exchange {
            timeout: Duration::from_secs(60),
            limit_bytes: 1024,
        };
        pithead_runtime::io::http::send(
            &crate::net::TurmoilConnector::default(),
            request,
            &exchange,
        )
        .await?;
        Ok(())
    })
}

/// One read by the runtime's Tari client of a syncing fake base node, on a fresh connection.
fn tari_read(tick: Duration) -> Option<Duration> {
    let mut sim = turmoil::Builder::new().tick_duration(tick).build();
    sim.host("tari", || async {
        let fake = pithead_fakes::tari::FakeTari::new(pithead_fakes::tari::TariMode::Syncing {
            local: 10,
            tip: 100,
        });
        let listener = crate::net::bind(18142).await?;
        tonic::transport::Server::builder()
            .add_service(fake.grpc_service())
            .serve_with_incoming(listener.into_incoming())
            .await?;
        Ok(())
    });
    virtual_time_of(sim, async move {
        let mut client = pithead_runtime::observe::tari::TariClient::new(
            std::sync::Arc::new(crate::net::TurmoilConnector::default()),
            pithead_runtime::io::Target::new("tari", 18142),
            Duration::from_secs(60),
        );
        let reading = client.read().await?;
        if reading.tip_height != 100 {
            return Err(format!("the read did not reach the node: {reading:?}").into());
        }
        Ok(())
    })
}

/// Runs `sim` with one client host that awaits `call` (which must not wait before its first
/// network call), and returns the virtual time the call took; `None` if it failed.
fn virtual_time_of(
    mut sim: turmoil::Sim<'_>,
    call: impl std::future::Future<Output = turmoil::Result> + 'static,
) -> Option<Duration> {
    let took: std::sync::Arc<std::sync::Mutex<Option<Duration>>> = std::sync::Arc::default();
    let out = took.clone();
    sim.client("client", async move {
        let start = turmoil::sim_elapsed().unwrap_or_default();
        call.await?;
        let end = turmoil::sim_elapsed().unwrap_or_default();
        *out.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(end - start);
        Ok(())
    });
    sim.run().ok()?;
    let measured = *took
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    measured
}

/// A swarm sample, measured.
#[derive(Debug, Clone, Serialize)]
pub struct SwarmBench {
    /// Seeds run.
    pub seeds: u64,
    /// Simulated hours per seed.
    pub hours: f64,
    /// Threads used.
    pub threads: usize,
    /// Wall seconds it took.
    pub wall_secs: f64,
    /// Seeds per wall minute.
    pub seeds_per_minute: f64,
    /// Seeds that failed.
    pub failed: usize,
}

/// Runs `seeds` seeds of `hours` each on `parallelism` threads (0 = every core) and reports
/// seeds per minute.
pub fn bench_swarm(seeds: u64, hours: f64, parallelism: usize) -> SwarmBench {
    let threads = if parallelism == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        parallelism
    };
    let start = wall_now();
    let report = swarm_from(
        1_000_000,
        seeds,
        hours,
        crate::swarm::DEFAULT_TICK,
        threads,
        |_, _| {},
    );
    let wall = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // seed counts are small
    let per_minute = seeds as f64 / wall.max(1e-9) * 60.0;
    SwarmBench {
        seeds,
        hours,
        threads,
        wall_secs: wall,
        seeds_per_minute: per_minute,
        failed: report.failures.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::granularity;
    use std::time::Duration;

    /// The invariants' network margin is one exchange on a fresh connection, as measured over
    /// the runtime's own client; the tolerance is interval + RPC timeout + that (43 s with the
    /// defaults at the 1 s tick, 49 s before the alert check got its own slack).
    #[test]
    fn the_margin_is_one_measured_exchange() {
        for tick in [Duration::from_secs(1), Duration::from_millis(100)] {
            let g = granularity(tick);
            // The margin covers a measured exchange (what the invariants need), with no more
            // than one tick to spare: on a loaded machine the 100 ms measurement was once one
            // tick short (200 against 300 ms; CI of 2026-12-01): a real-time input still reaches
            // turmoil's step count, not yet identified (docs/testing.md, "Seventh round").
            assert!(g.margin_ms >= g.exchange_ms, "{g:?}");
            assert!(g.margin_ms <= g.exchange_ms + g.tick_ms, "{g:?}");
            // A Tari read is one exchange too, syncing node included: its sync progress is
            // asked in the state's round trip. Asked after it (as before 2026-12-01), the
            // read took two more ticks than the margin, and the swarm's seed 899 saw Tari
            // counted down although it had answered for 24 s in the window.
            assert!(g.margin_ms >= g.tari_read_ms, "{g:?}");
        }
        assert_eq!(granularity(Duration::from_secs(1)).tolerance_ms, 43_000);
    }
}
