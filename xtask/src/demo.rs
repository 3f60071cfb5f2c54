//! `cargo xtask demo`: the real runtime (real clients, real sockets, real HTTP server) against
//! in-process fake daemons on loopback, walked through a sync, a release, an outage and a
//! recovery, with `/api/state` served on localhost the whole time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::io::{SystemClock, TokioConnector};
use pithead_runtime::view::{ApiState, StateReader};

/// Options of `cargo xtask demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where the runtime's HTTP server listens.
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: SocketAddr,
    /// Walk the script once and exit (non-zero if a state was not reached in time) instead of
    /// serving until Ctrl-C.
    #[arg(long)]
    once: bool,
}

const MONERO_TARGET: u64 = 3_000_000;
const TARI_TARGET: u64 = 60_000;

/// The demo as a smoke test: on an ephemeral port, walked once.
pub fn smoke() -> anyhow::Result<()> {
    run(&DemoArgs {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        once: true,
    })
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start tokio")?;
    runtime.block_on(demo(args))
}

async fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    let monerod = FakeMonerod::new(MoneroMode::Syncing {
        height: MONERO_TARGET - 2_000,
        target: MONERO_TARGET,
    });
    let tari = FakeTari::new(TariMode::Syncing {
        local: TARI_TARGET - 800,
        tip: TARI_TARGET,
    });
    let docker = FakeDocker::new(&["p2pool", "xmrig-proxy"]);

    let (monerod_addr, _m) = pithead_fakes::serve::spawn_local(monerod.router()).await?;
    let (docker_addr, _d) = pithead_fakes::serve::spawn_local(docker.router()).await?;
    let tari_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let tari_addr = tari_listener.local_addr()?;
    let tari_service = tari.grpc_service();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(tari_service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(tari_listener))
            .await
    });

    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let env = [
        ("UPDATE_INTERVAL", "1".to_owned()),
        ("NODE_DOWN_AFTER_SEC", "4".to_owned()),
        ("NODE_RECOVERY_AFTER_SEC", "3".to_owned()),
        ("RPC_TIMEOUT_SEC", "2".to_owned()),
        ("MONERO_RPC_URL", format!("http://{monerod_addr}")),
        ("TARI_GRPC_ADDRESS", tari_addr.to_string()),
        ("DOCKER_CONTROL_URL", format!("http://{docker_addr}")),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("DASHBOARD_BIND", args.bind.to_string()),
        ("MONERO_NODE_HOST", "monerod".to_owned()),
        ("LOCAL_MONERO_HOST", "monerod".to_owned()),
    ];
    let config =
        Config::from_lookup(|key| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (use --bind to pick another)",
                args.bind
            )
        })?;
    let bound = listener.local_addr()?;
    let app = App::build(
        config,
        Edges {
            connector: Arc::new(TokioConnector),
            clock: Arc::new(SystemClock),
        },
    )?;
    let state = app.state();
    let server = tokio::spawn(app.run(listener));
    println!("pithead demo: dashboard at http://{bound}/ (state: http://{bound}/api/state)");
    println!(
        "              (fakes: monerod {monerod_addr}, tari {tari_addr}, docker {docker_addr})\n"
    );

    // 1. Chains sync; the miners are held.
    step("both chains syncing: the miners must be held");
    wait(&state, Duration::from_secs(10), "miners held", |s| {
        s.miner_held && !docker.is_running("p2pool").unwrap_or(true)
    })
    .await?;
    let sync = tokio::spawn(advance_sync(monerod.clone(), tari.clone()));

    // 2. Both synced: released, once.
    step("chains catching up: waiting for the release");
    wait(&state, Duration::from_secs(60), "miners released", |s| {
        s.miner_released && docker.is_running("xmrig-proxy") == Some(true)
    })
    .await?;
    sync.abort();

    // 3. monerod goes down: workers rejected after the down window.
    step("monerod goes down: workers must be rejected after the 4 s down window");
    monerod.set_mode(MoneroMode::Down);
    wait(&state, Duration::from_secs(20), "workers rejected", |s| {
        s.workers_rejected && docker.is_running("xmrig-proxy") == Some(false)
    })
    .await?;
    if docker.is_running("p2pool") != Some(true) {
        bail!("p2pool must keep running while workers are rejected");
    }

    // 4. monerod comes back: readmitted after the recovery window.
    step("monerod is back: workers readmitted after the 3 s recovery window");
    monerod.set_mode(MoneroMode::Synced {
        height: MONERO_TARGET,
    });
    wait(&state, Duration::from_secs(20), "workers readmitted", |s| {
        !s.workers_rejected && docker.is_running("xmrig-proxy") == Some(true)
    })
    .await?;
    let actions = docker.actions();
    println!("\ndocker saw {} state changes:", actions.len());
    for action in &actions {
        println!("  {action:?}");
    }
    if args.once {
        println!("\ndemo: every state reached");
        server.abort();
        return Ok(());
    }
    println!("\ndemo: done; still serving http://{bound}/ — Ctrl-C to stop");
    tokio::select! {
        result = server => Ok(result.context("runtime task")??),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

async fn advance_sync(monerod: FakeMonerod, tari: FakeTari) {
    let mut monero_height = MONERO_TARGET - 2_000;
    let mut tari_height = TARI_TARGET - 800;
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticks.tick().await;
        monero_height = (monero_height + 250).min(MONERO_TARGET);
        tari_height = (tari_height + 50).min(TARI_TARGET);
        monerod.set_mode(if monero_height >= MONERO_TARGET {
            MoneroMode::Synced {
                height: MONERO_TARGET,
            }
        } else {
            MoneroMode::Syncing {
                height: monero_height,
                target: MONERO_TARGET,
            }
        });
        tari.set_mode(if tari_height >= TARI_TARGET {
            TariMode::Synced {
                height: TARI_TARGET,
            }
        } else {
            TariMode::Syncing {
                local: tari_height,
                tip: TARI_TARGET,
            }
        });
    }
}

fn step(text: &str) {
    println!("▶ {text}");
}

fn read(state: &StateReader) -> ApiState {
    state.get()
}

/// Polls the runtime's read model every 250 ms until `done` holds, printing progress lines.
async fn wait(
    state: &StateReader,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&ApiState) -> bool,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_line = String::new();
    loop {
        let s = read(state);
        let line = format!(
            "  monero {:>3}% · tari {:>3}% · {} · {} · badges: {}",
            s.sync.monero.percent,
            s.sync.tari.percent,
            if s.miner_held { "held" } else { "released" },
            if s.workers_rejected {
                "REJECTED"
            } else {
                "accepted"
            },
            s.badges
                .iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if line != last_line {
            println!("{line}");
            last_line = line;
        }
        if done(&s) {
            println!("  ✓ {what}");
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{what}: not reached within {timeout:?}; last state: {last_line}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
