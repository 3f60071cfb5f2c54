//! Clients that fetch and parse, deciding nothing.
//!
//! Each client dials through the injected [`crate::io::Connector`] (never `tokio::net`), bounds
//! every call with a deadline and a body-size limit, and returns a typed reading or a typed error
//! (unreachable, timeout, bad status, malformed body, too large). What an error *means* — down,
//! busy, hold the miners — is decided in [`crate::control`], never here.
//!
//! Parsers are pure functions over bytes (`parse_get_info`, `parse_summary`, …) so the wire
//! formats are tested without a network, including arbitrary and hostile input.
//!
//! | module | speaks to | wire |
//! |---|---|---|
//! | [`monero`] | monerod | JSON-RPC `get_info`, HTTP digest auth |
//! | [`tari`] | minotari base node | gRPC `GetNetworkState`, `GetTipInfo`, `GetSyncProgress` |
//! | [`p2pool`] | p2pool `--data-api` | JSON files in a directory, or the same documents over HTTP |
//! | [`xmrig_proxy`] | xmrig-proxy | `/1/summary`, `/1/workers`, `/1/config` with a bearer token |
//! | [`xvb`] | XMRvsBeast | public round stats (JSON) and the donor's bonus history page |
//! | [`docker`] | docker engine via the socket proxy | inspect, start, stop (bollard) |

pub mod docker;
mod json;
pub mod monero;
pub mod p2pool;
mod session;
pub mod tari;
pub mod xmrig_proxy;
pub mod xvb;
