//! The runtime's entry point: wires the edges, the cycle and the HTTP server.
//!
//! Production (`bin/pithead-runtime.rs`) and the simulation both call [`App::build`] and
//! [`App::run`]; they differ only in the [`Edges`] and the listener they pass.

use std::sync::{Arc, RwLock};

use crate::api::{self, ApiState, SharedState};
use crate::config::Config;
use crate::cycle::{Clients, Cycle};
use crate::io::{SharedClock, SharedConnector};

/// The injectable edges of one runtime.
#[derive(Clone)]
pub struct Edges {
    /// How clients dial.
    pub connector: SharedConnector,
    /// What time it is.
    pub clock: SharedClock,
}

/// A built runtime, ready to run.
pub struct App {
    config: Config,
    cycle: Cycle,
    state: SharedState,
}

impl App {
    /// Builds the clients and loads the snapshot. Fails only on unusable configuration.
    pub fn build(config: Config, edges: Edges) -> anyhow::Result<Self> {
        let state: SharedState = Arc::new(RwLock::new(ApiState::default()));
        let clients = Clients::new(&config, edges.connector.clone())?;
        let cycle = Cycle::new(config.clone(), edges.clock, clients, state.clone());
        Ok(Self {
            config,
            cycle,
            state,
        })
    }

    /// The read model the server answers from (the simulation's invariants read it too).
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// Serves the API on `listener` and runs a cycle every `UPDATE_INTERVAL`, forever.
    pub async fn run<L>(self, listener: L) -> anyhow::Result<()>
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let Self {
            config,
            mut cycle,
            state,
        } = self;
        let server = tokio::spawn(async move { axum::serve(listener, api::router(state)).await });
        let mut ticks = tokio::time::interval(config.update_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            cycle.run_once().await;
            if server.is_finished() {
                anyhow::bail!("the HTTP server stopped");
            }
        }
    }
}
