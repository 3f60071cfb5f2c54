//! The control-plane daemon: reads its configuration from the environment and runs forever.

use std::sync::Arc;

use anyhow::Context;
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::io::{SystemClock, TokioConnector};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::from_env().context("invalid configuration")?;
    tracing::info!(?config, "starting");
    let listener = tokio::net::TcpListener::bind(config.dashboard_bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.dashboard_bind))?;
    let edges = Edges {
        connector: Arc::new(TokioConnector),
        clock: Arc::new(SystemClock),
    };
    let app = App::build(config, edges)?;
    tokio::select! {
        result = app.run(listener) => result,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("interrupted: stopping");
            Ok(())
        }
    }
}
