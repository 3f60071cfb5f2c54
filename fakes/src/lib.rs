//! Controllable fake daemons for every test tier.
//!
//! Each fake speaks the wire format of the real daemon it stands in for, holds a steerable state,
//! and is usable three ways:
//! - in-process from Rust through a cheap-to-clone handle (`FakeMonerod`, `FakeTari`, …);
//! - over HTTP: `POST /control` with a JSON body (a bad body is answered `400` with a message that
//!   names what is wrong) and `GET /control` for the current state;
//! - as the standalone binary `pithead-fake` (container images for the mini-stack).
//!
//! | module | stands in for | wire |
//! |---|---|---|
//! | [`monerod`] | monerod | `POST /json_rpc` `get_info`, `GET`/`POST /get_info`, optional digest auth |
//! | [`tari`] | minotari base node | gRPC `tari.rpc.BaseNode` `GetNetworkState`, `GetTipInfo`, `GetSyncProgress` |
//! | [`p2pool`] | p2pool `--data-api` | `network/stats`, `pool/stats`, `local/stratum`, `local/p2p` |
//! | [`xmrig_proxy`] | xmrig-proxy HTTP API | `/1/summary`, `/1/workers`, `/1/config` with a bearer token |
//! | [`docker`] | docker engine (through the socket proxies) | inspect, start, stop, `_ping`, `version` |
//! | [`xvb`] | XMRvsBeast bonus pages | the HTML history page and the JSON APIs |
//! | [`sinks`] | Telegram Bot API, webhook receivers, ntfy, healthchecks.io (recording) | `sendMessage`, `POST /hook/<name>`, `POST /<topic>`, `GET /ping/<id>` |
//! | [`socket_proxy`] | (not a fake) the least-privilege docker socket proxy | allow-listed engine calls over a unix socket |
//!
//! Every HTTP fake also carries a [`Behaviour`] (normal, down, garbage, slow, oversized) so a test can
//! make the daemon misbehave without changing its domain state. `Down` needs [`serve::serve`] to
//! drop the connection; the other behaviours work with any server.
//!
//! The crate never reads the wall clock and never uses randomness: under turmoil every reply is a
//! function of the state and of (virtual) tokio time, so runs replay.
#![warn(missing_docs)]
// `json!` documents with every monerod `get_info` key nest deeper than the default 128.
#![recursion_limit = "256"]

mod behaviour;
mod sync;

pub mod control;
pub mod docker;
pub mod monerod;
pub mod p2pool;
pub mod serve;
pub mod sinks;
pub mod socket_proxy;
pub mod tari;
pub mod xmrig_proxy;
pub mod xvb;

pub use behaviour::{Behaviour, OVERSIZED_BODY_BYTES};
