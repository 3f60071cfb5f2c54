//! Clients that fetch and parse, deciding nothing.
//!
//! Each client speaks through an [`crate::io::HttpSession`] (or, for Tari, tonic over the same
//! injected [`crate::io::Connector`]; never `tokio::net`), bounds every call with a deadline and
//! a body-size limit, and returns a typed reading or a typed error: the transport's
//! [`crate::io::TransportError`] wrapped with its source, a bad status, or a malformed body whose
//! [`wire::WireError`] names the field. Wire formats are `#[derive(Deserialize)]` structs. What
//! an error *means* — down, busy, hold the miners — is decided in [`crate::control`], never here.
//!
//! Parsers are pure functions over bytes (`parse_get_info`, `parse_summary`, …) so the wire
//! formats are tested without a network, including arbitrary and hostile input. Free text a
//! daemon sends (an error message, a container state) passes through [`daemon_text::clean`]
//! where it enters an error or a reading: one printable line, bounded.
//!
//! | module | speaks to | wire |
//! |---|---|---|
//! | [`monero`] | monerod | JSON-RPC `get_info`, HTTP digest auth |
//! | [`tari`] | minotari base node | gRPC `GetNetworkState`, `GetTipInfo`, `GetSyncProgress` |
//! | [`p2pool`] | p2pool `--data-api` | JSON files in a directory, or the same documents over HTTP |
//! | [`xmrig_proxy`] | xmrig-proxy | `/1/summary`, `/1/workers`, `/1/config` with a bearer token |
//! | [`xvb`] | XMRvsBeast | public round stats (JSON) and the donor's bonus history page |
//! | [`docker`] | docker engine via the socket proxy | inspect, start, stop (bollard) |
//! | [`system`] | the host | `/proc/stat`, `/proc/meminfo`, `statvfs` |

pub mod daemon_text;
pub mod docker;
pub mod monero;
pub mod p2pool;
pub mod system;
pub mod tari;
pub mod wire;
pub mod xmrig_proxy;
pub mod xvb;

/// Why a client could not be set up from the configuration. URLs and addresses were checked
/// when the configuration was read ([`crate::io::Endpoint`], [`crate::config::HostPort`]);
/// what is left is what a client library itself refuses.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `DOCKER_CONTROL_URL`, refused by bollard.
    #[error(transparent)]
    Docker(#[from] docker::DockerError),
    /// `PROXY_AUTH_TOKEN`, refused as a header value.
    #[error(transparent)]
    XmrigProxy(#[from] xmrig_proxy::XmrigProxyError),
    /// `XVB_CA_FILE`, unreadable or not a PEM certificate.
    #[error("XVB_CA_FILE: {0}")]
    XvbTrust(#[from] crate::io::TrustError),
    /// The alert sinks (`ALERTS_CA_FILE`).
    #[error(transparent)]
    Alerts(#[from] crate::alerts::AlertsSetupError),
}
