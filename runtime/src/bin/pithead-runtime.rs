//! The control-plane daemon: reads its configuration from the environment and runs forever.

use std::sync::Arc;

use anyhow::Context;
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::io::{SystemClock, TokioConnector};
use tokio::signal::unix::{signal, Signal, SignalKind};

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pithead-runtime: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The container's health check: the image is FROM scratch, so the binary probes itself.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return runtime.block_on(healthcheck());
    }
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line chain, no backtrace: this is an operator's error message.
            eprintln!(
                "pithead-runtime: {}",
                pithead_runtime::error_chain::joined(e.as_ref())
            );
            std::process::ExitCode::FAILURE
        }
    }
}

/// `GET /healthz` on the port of `DASHBOARD_BIND` (loopback): exit 0 on a 2xx within 3 s.
async fn healthcheck() -> std::process::ExitCode {
    use pithead_runtime::io::http::{self, Exchange};
    let port = std::env::var("DASHBOARD_BIND")
        .ok()
        .and_then(|b| b.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()))
        .unwrap_or(8000);
    let uri = format!("http://127.0.0.1:{port}/healthz");
    let exchange = Exchange {
        timeout: std::time::Duration::from_secs(3),
        limit_bytes: 4096,
    };
    let ok = match http::request(
        http::Method::GET,
        &uri,
        Default::default(),
        Default::default(),
    ) {
        Ok(request) => http::send(&TokioConnector, request, &exchange)
            .await
            .is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    };
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::from_env().context("invalid configuration")?;
    tracing::info!(?config, "starting");
    // Watched before the dashboard listens: a SIGTERM that follows the first answer on the port
    // must stop the daemon cleanly, not kill it with the default action.
    let shutdown = Shutdown::watch();
    let listener = tokio::net::TcpListener::bind(config.dashboard_bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.dashboard_bind))?;
    let edges = Edges {
        connector: Arc::new(TokioConnector),
        clock: Arc::new(SystemClock),
    };
    let app = App::build(config, edges)?;
    tokio::select! {
        result = app.run(listener) => Ok(result?),
        signal = shutdown.received() => {
            tracing::info!("{signal}: stopping");
            Ok(())
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C). In a container the runtime is PID 1, which the kernel does not
/// stop on an unhandled SIGTERM: without this, `docker stop` would wait out its timeout and kill.
struct Shutdown {
    term: Option<Signal>,
    interrupt: Option<Signal>,
}

impl Shutdown {
    /// Starts watching both signals now (from here on they no longer take their default action).
    fn watch() -> Self {
        let watch = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(err) => {
                tracing::warn!(%err, "cannot watch {name}");
                None
            }
        };
        Self {
            term: watch(SignalKind::terminate(), "SIGTERM"),
            interrupt: watch(SignalKind::interrupt(), "SIGINT"),
        }
    }

    /// Resolves with the first signal's name.
    async fn received(self) -> &'static str {
        async fn next(stream: Option<Signal>) {
            match stream {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(self.interrupt) => "interrupted",
            () = next(self.term) => "terminated",
        }
    }
}
