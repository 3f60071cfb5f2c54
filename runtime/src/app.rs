//! The runtime's entry point: wires the edges, the cycle, the read model and the HTTP server.
//!
//! Production (`bin/pithead-runtime.rs`) and the simulation both call [`App::build`] and
//! [`App::run`]; they differ only in the [`Edges`] and the listener they pass.

use crate::api;
use crate::config::Config;
use crate::cycle::{Clients, Cycle};
use crate::io::{SharedClock, SharedConnector};
use crate::observe::system::SharedSystem;
use crate::observe::SetupError;
use crate::view::{self, StateReader};

/// The injectable edges of one runtime.
#[derive(Clone)]
pub struct Edges {
    /// How clients dial.
    pub connector: SharedConnector,
    /// What time it is.
    pub clock: SharedClock,
}

/// Why the runtime cannot be built or stopped running.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A client cannot be built from the configuration (the message names the variable).
    #[error(transparent)]
    Clients(#[from] SetupError),
    /// The HTTP server failed: `/api/state` would no longer answer.
    #[error("the HTTP server stopped: {0}")]
    ServerFailed(#[source] std::io::Error),
    /// The HTTP server's task ended without an error (or panicked).
    #[error("the HTTP server stopped")]
    ServerStopped,
}

/// A built runtime, ready to run.
pub struct App {
    config: Config,
    cycle: Cycle,
    state: StateReader,
}

impl App {
    /// Builds the clients and loads the snapshot. Fails only on unusable configuration.
    pub fn build(config: Config, edges: Edges) -> Result<Self, AppError> {
        let (writer, state) = view::read_model();
        let clients = Clients::new(&config, edges.connector.clone())?;
        let alerts = crate::alerts::build(&config.alerts, edges.connector.clone())?;
        let mut cycle = Cycle::new(config.clone(), edges.clock, clients, writer);
        cycle.set_alerts(alerts, config.alerts.host.clone());
        Ok(Self {
            config,
            cycle,
            state,
        })
    }

    /// Reads the host's figures from `system` instead of `/proc` and `statvfs` (the simulation
    /// and tests set them).
    #[must_use]
    pub fn with_system(mut self, system: SharedSystem) -> Self {
        self.cycle.set_system(system);
        self
    }

    /// The read model the server answers from (the simulation's invariants read it too).
    pub fn state(&self) -> StateReader {
        self.state.clone()
    }

    /// Serves the API on `listener` and runs a cycle every `UPDATE_INTERVAL`, forever.
    pub async fn run<L>(self, listener: L) -> Result<(), AppError>
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let Self {
            config,
            mut cycle,
            state,
        } = self;
        let history = cycle.history();
        let api = api::Api {
            state,
            history: Some(history),
            update_interval: config.update_interval,
        };
        let server =
            tokio::spawn(async move { api::serve::serve(listener, api::router_with(api)).await });
        let mut ticks = tokio::time::interval(config.update_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // An XvB slice ends between ticks: wake for it, so the switch back is on time.
            // `biased`: when the tick and the slice's end fall on the same instant the tick is
            // taken (one pass, not a second one at once for the tick left pending), and the
            // choice never depends on tokio's unseeded random branch order (the simulation
            // replays a seed to the same trace).
            match cycle.wake_at() {
                Some(at) => tokio::select! {
                    biased;
                    _ = ticks.tick() => {}
                    () = tokio::time::sleep_until(at) => {}
                },
                None => {
                    ticks.tick().await;
                }
            }
            cycle.run_once().await;
            if server.is_finished() {
                return Err(match server.await {
                    Ok(Err(e)) => AppError::ServerFailed(e),
                    Ok(Ok(())) | Err(_) => AppError::ServerStopped,
                });
            }
        }
    }
}
