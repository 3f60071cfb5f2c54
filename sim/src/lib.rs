//! Deterministic simulation of the whole Pithead runtime under turmoil.
//!
//! The runtime runs unchanged — its real clients, its real axum server, its snapshot store —
//! with two edges swapped: a [`net::TurmoilConnector`] for the network and a [`clock::SimClock`]
//! for the wall clock. The daemons are `pithead_fakes` servers on simulated hosts. Time is
//! virtual: a simulated day takes about a second.
//!
//! - [`world`]: [`WorldBuilder`] / [`World`]: hosts, faults, readiness waits, the read model.
//! - [`failure`]: the [`Invariant`]s and the [`Failure`] report.
//! - [`invariants`]: what must hold after every step (latch, gate, failover windows, owed docker
//!   calls land, the cycle keeps running, `/api/state` answers, no panics).
//! - [`model`]: what the runtime should see of each node, from the faults applied.
//! - [`trace`]: the record of a run and its hash (determinism).
//! - [`schedule`], [`swarm`]: random fault schedules per seed, many seeds on every core.
//! - [`timeline`]: a run drawn as HTML/SVG.
//! - [`bench`], [`soak`]: speed, and 30-day stability.
//!
//! ```no_run
//! use std::time::Duration;
//! use pithead_fakes::monerod::MoneroMode;
//! use pithead_sim::WorldBuilder;
//!
//! let mut world = WorldBuilder::new(7)
//!     .env("TARI_GRPC_ADDRESS", "")
//!     .tari(None)
//!     .monero(MoneroMode::Syncing { height: 10, target: 100 })
//!     .build();
//! world.run_for(Duration::from_secs(120)).unwrap();
//! world.set_monero(MoneroMode::Synced { height: 100 });
//! world.run_until("the release", Duration::from_secs(300), |w| w.state().miner_released).unwrap();
//! ```
#![warn(missing_docs)]

pub mod alerts;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod docker_tap;
pub mod failure;
pub mod fakes;
pub mod invariants;
pub mod links;
pub mod model;
pub mod net;
mod panics;
pub mod replay_log;
pub mod schedule;
pub mod soak;
pub mod swarm;
pub mod timeline;
pub mod trace;
pub mod world;
pub mod xvb;

pub use bench::{
    bench_day, bench_floor, bench_swarm, granularity, BenchReport, Granularity, SwarmBench,
};
pub use failure::{Failure, Invariant};
pub use model::Reach;
pub use swarm::{run_seed, swarm, swarm_from, RunSummary, SwarmReport};
pub use timeline::timeline_html;
pub use trace::{Event, EventKind, Trace, What};
pub use world::{World, WorldBuilder};
