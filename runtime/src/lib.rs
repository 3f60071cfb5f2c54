//! Pithead's runtime: the control plane of a home Monero + Tari merge-mining box.
//!
//! - [`control`]: sans-IO state machines (observations and `now` in, actions out).
//! - [`observe`]: clients that fetch and parse, deciding nothing.
//! - [`io`]: the injectable edges (network connector, clock).
//! - [`store`]: what survives a restart.
//! - [`cycle`]: one observe → decide → act → record pass.
//! - [`view`]: the read model (the `/api/state` document) the cycle writes and the rest reads.
//! - [`alerts`]: the alert sinks (Telegram, webhook, ntfy) and the heartbeat, delivering only.
//! - [`api`]: the HTTP server (`/healthz`, `/api/state`), serving the read model.
//! - [`app`]: the entry point shared by the daemon and the simulation.
//! - [`config`]: the environment, read once.
//! - [`cli`]: the `pithead` CLI's library (config.json, render, apply, status).
//! - [`error_chain`]: an error and its causes on one line, each said once.
#![warn(missing_docs)]

pub mod alerts;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod control;
pub mod cycle;
pub mod error_chain;
pub mod io;
pub mod observe;
pub mod store;
pub mod view;
