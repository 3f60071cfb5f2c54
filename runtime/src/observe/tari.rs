//! Tari (minotari) base node client: gRPC `tari.rpc.BaseNode` over the injected connector.
//!
//! One [`TariClient::read`] combines, in order:
//! 1. `GetNetworkState` — its `readiness_status` (field 11: a oneof of a readiness `State` or a
//!    database `MigrationProgress`) tells a node that is still starting up or migrating. A node
//!    that predates the RPC answers `UNIMPLEMENTED`; the client then stops asking until a read
//!    fails (the node may come back upgraded).
//!    Its reply also carries the chain metadata (local height), `initial_sync_achieved` and
//!    `base_node_state`, which minotari reads from the same places as for `GetTipInfo`.
//! 2. `GetTipInfo` — the same three fields, asked only when `GetNetworkState` did not give them
//!    (`UNIMPLEMENTED`, another failure, or a reply without metadata). minotari's default
//!    `grpc_server_allow_methods` denies `GetTipInfo` and not `GetNetworkState`, so a node left
//!    at its defaults is read with `GetNetworkState` alone.
//! 3. `GetSyncProgress` — the tip height the node is syncing toward (only while not synced).
//!    Until a read finds the node synced it is asked together with `GetNetworkState` (one round
//!    trip per read, two streams on the one HTTP/2 connection); once synced, only if a read finds
//!    the node behind again.
//!
//! A read returns a [`TariReading`] or a typed [`TariError`], nothing else: whether the node is
//! syncing, its percentage, and what a failed read leaves on display are decided in
//! [`crate::control::chain`]. A node that restarted is read again on the next call: a failed call
//! drops the channel, and a call that fails on a reused channel is retried once on a fresh one.
//!
//! The proto subset lives in `proto/base_node.proto` (names and numbers from minotari's
//! `applications/minotari_app_grpc/proto/base_node.proto`).

use std::fmt;
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

use super::daemon_text;
use crate::io::{BoxError, SharedConnector, Target, TransportError};

/// Code generated from `proto/base_node.proto` (package `tari.rpc`, client side).
pub mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("tari.rpc");
}

use proto::base_node_client::BaseNodeClient;
use proto::{
    readiness_status, BaseNodeState, Empty, GetNetworkStateRequest, GetNetworkStateResponse,
    SyncProgressResponse, TipInfoResponse,
};

/// Largest gRPC message accepted from the node. The three replies are a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What the node is doing, as far as Pithead cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TariNodeState {
    /// Starting up: readiness not yet `READY`, or the state machine in `START_UP`.
    Starting,
    /// Migrating its database (readiness reports migration progress).
    Migrating,
    /// Connecting or syncing headers/blocks; initial sync not achieved.
    Syncing,
    /// Initial sync achieved: following the tip.
    Listening,
    /// The last sync attempt failed (`SYNC_FAILED`); the node retries on its own.
    Failed,
}

/// What the node said in one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariReading {
    /// What the node is doing.
    pub state: TariNodeState,
    /// The node's own best block height.
    pub local_height: u64,
    /// The height it is syncing toward (its own height once synced; 0 when unknown).
    pub tip_height: u64,
    /// The node's "initial sync done" flag.
    pub initial_sync_achieved: bool,
    /// Database migration progress in percent (only while migrating, when reported).
    pub migration_percent: Option<u8>,
}

/// Why the node gave no reading.
#[derive(Debug, thiserror::Error)]
pub enum TariError {
    /// No complete answer within the deadline.
    #[error("Tari base node at {0}")]
    Transport(#[from] TransportError),
    /// Connect failed, the connection broke, or the node answered `UNAVAILABLE`.
    #[error("Tari base node at {target} is unreachable: {}", crate::error_chain::joined(.source.as_ref()))]
    Unreachable {
        /// What was dialled.
        target: Target,
        /// tonic's error or status.
        #[source]
        source: BoxError,
    },
    /// A reply larger than [`MAX_MESSAGE_BYTES`].
    #[error("Tari base node at {target} sent a message larger than {limit_bytes} bytes")]
    TooLarge {
        /// What was dialled.
        target: Target,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// A reply that does not decode as the expected message.
    #[error("Tari base node at {target} sent a malformed reply: {}", daemon_text::clean(.status.message()))]
    Malformed {
        /// What was dialled.
        target: Target,
        /// The decoder's status.
        #[source]
        status: tonic::Status,
    },
    /// Any other gRPC status.
    #[error("Tari base node at {target} answered gRPC {:?}: {}", .status.code(), daemon_text::clean(.status.message()))]
    Status {
        /// What was dialled.
        target: Target,
        /// The status.
        #[source]
        status: tonic::Status,
    },
}

/// Whether a `GetNetworkState` reply says the node is not ready yet, and how.
/// `None` when ready, or when the node did not fill `readiness_status` (older nodes).
pub fn readiness(network: &GetNetworkStateResponse) -> Option<(TariNodeState, Option<u8>)> {
    let status = network.readiness_status.as_ref()?.status.as_ref()?;
    match status {
        readiness_status::Status::Migration(progress) => {
            let percent = if progress.progress_percentage.is_finite() {
                // Clamped to 0..=100 before the cast, so it cannot wrap.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let p = progress.progress_percentage.clamp(0.0, 100.0).floor() as u8;
                Some(p)
            } else {
                None
            };
            Some((TariNodeState::Migrating, percent))
        }
        readiness_status::Status::State(state) => {
            if *state == proto::readiness_status::State::Ready as i32 {
                None
            } else {
                Some((TariNodeState::Starting, None))
            }
        }
    }
}

/// Combines one call's replies into a reading. Pure: the derivation the contract tests and the
/// property tests pin down.
///
/// - Not ready per `network` → `Starting`/`Migrating` with whatever heights it carries.
/// - `initial_sync_achieved` → `Listening`, `tip_height` = max(progress tip, local).
/// - Otherwise `SYNC_FAILED` → `Failed`, `START_UP` → `Starting`, anything else → `Syncing`;
///   local height from the progress reply when it has one, else from the tip info.
pub fn derive_reading(
    network: Option<&GetNetworkStateResponse>,
    tip: Option<&TipInfoResponse>,
    progress: Option<&SyncProgressResponse>,
) -> TariReading {
    let tip_local = tip
        .and_then(|t| t.metadata.as_ref())
        .or_else(|| network.and_then(|n| n.metadata.as_ref()))
        .map_or(0, |m| m.best_block_height);
    if let Some((state, migration_percent)) = network.and_then(readiness) {
        return TariReading {
            state,
            local_height: tip_local,
            tip_height: progress.map_or(0, |p| p.tip_height),
            initial_sync_achieved: false,
            migration_percent,
        };
    }
    let initial_sync_achieved = tip
        .map(|t| t.initial_sync_achieved)
        .or_else(|| network.map(|n| n.initial_sync_achieved))
        .unwrap_or(false);
    let node_state = tip
        .map(|t| t.base_node_state)
        .or_else(|| network.map(|n| n.base_node_state))
        .unwrap_or(BaseNodeState::StartUp as i32);
    let local_height = match progress {
        Some(p) if p.local_height > 0 => p.local_height,
        _ => tip_local,
    };
    let progress_tip = progress.map_or(0, |p| p.tip_height);
    if initial_sync_achieved {
        return TariReading {
            state: TariNodeState::Listening,
            local_height,
            tip_height: progress_tip.max(local_height),
            initial_sync_achieved: true,
            migration_percent: None,
        };
    }
    let state = match BaseNodeState::try_from(node_state) {
        Ok(BaseNodeState::SyncFailed) => TariNodeState::Failed,
        Ok(BaseNodeState::StartUp) => TariNodeState::Starting,
        _ => TariNodeState::Syncing,
    };
    TariReading {
        state,
        local_height,
        tip_height: progress_tip,
        initial_sync_achieved: false,
        migration_percent: None,
    }
}

/// `call`'s answer when `ask`; otherwise `None`, and the call is never sent (a future does
/// nothing until polled).
async fn asked_if<T>(ask: bool, call: impl std::future::Future<Output = T>) -> Option<T> {
    if ask {
        Some(call.await)
    } else {
        None
    }
}

/// A Tari base node client. Holds the channel between calls.
pub struct TariClient {
    connector: SharedConnector,
    target: Target,
    timeout: Duration,
    channel: Option<Channel>,
    /// `None` until the node answered `GetNetworkState` once; `Some(false)` after `UNIMPLEMENTED`.
    network_state_supported: Option<bool>,
    /// The last good read found the node synced: its sync progress is not asked up front.
    synced_last_read: bool,
}

impl fmt::Debug for TariClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TariClient")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("connected", &self.channel.is_some())
            .field("network_state_supported", &self.network_state_supported)
            .field("synced_last_read", &self.synced_last_read)
            .finish()
    }
}

impl TariClient {
    /// A client for the node at `target` (`TARI_GRPC_ADDRESS`, parsed by the configuration).
    /// Each [`Self::read`] is bounded by `timeout`. Does not connect until the first read.
    pub fn new(connector: SharedConnector, target: Target, timeout: Duration) -> Self {
        Self {
            connector,
            target,
            timeout,
            channel: None,
            network_state_supported: None,
            synced_last_read: false,
        }
    }

    /// What this client dials.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// One read, bounded by the client's timeout. A failure on a reused channel is retried once
    /// on a fresh one (the node may have restarted since).
    pub async fn read(&mut self) -> Result<TariReading, TariError> {
        let timeout = self.timeout;
        let target = self.target.clone();
        let work = async {
            let reused = self.channel.is_some();
            match self.fetch_once().await {
                Err(e) if reused && matches!(e, TariError::Unreachable { .. }) => {
                    self.fetch_once().await
                }
                other => other,
            }
        };
        let result = target.within(timeout, work).await;
        if result.is_err() {
            self.channel = None;
            // The node may come back as a different version: ask for GetNetworkState again.
            self.network_state_supported = None;
            // ... and behind (a restarted node syncs again): its next read, on a fresh
            // connection, asks for the progress up front, as one round trip.
            self.synced_last_read = false;
        }
        result
    }

    async fn fetch_once(&mut self) -> Result<TariReading, TariError> {
        let channel = match &self.channel {
            Some(channel) => channel.clone(),
            None => {
                let channel = self.connect().await?;
                self.channel = Some(channel.clone());
                channel
            }
        };
        let result = self.call(channel).await;
        if result.is_err() {
            self.channel = None;
        }
        result
    }

    async fn connect(&self) -> Result<Channel, TariError> {
        let unreachable = |source: BoxError| TariError::Unreachable {
            target: self.target.clone(),
            source,
        };
        // The authority with an explicit port (`Target::authority` leaves out port 80).
        let host = if self.target.host().contains(':') {
            format!("[{}]", self.target.host())
        } else {
            self.target.host().to_owned()
        };
        let endpoint = Endpoint::from_shared(format!("http://{host}:{}", self.target.port()))
            .map_err(|e| unreachable(e.into()))?
            .connect_timeout(self.timeout)
            .timeout(self.timeout);
        let connector = self.connector.clone();
        let target = self.target.clone();
        let dial = tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let target = target.clone();
            async move {
                let stream = target
                    .dial(connector.as_ref())
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        endpoint
            .connect_with_connector(dial)
            .await
            .map_err(|e| unreachable(e.into()))
    }

    async fn call(&mut self, channel: Channel) -> Result<TariReading, TariError> {
        let client = BaseNodeClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
        let ask_network_state = self.network_state_supported != Some(false);
        // Until a read finds the node synced, its sync progress is asked in the same round trip
        // as its state rather than after it: one exchange per read, where two in a row would
        // double the read's latency and miss a node that answers only briefly.
        let ask_progress_now = !self.synced_last_read;
        let mut state_client = client.clone();
        let state = asked_if(ask_network_state, async move {
            state_client
                .get_network_state(GetNetworkStateRequest {})
                .await
                .map(tonic::Response::into_inner)
        });
        let mut progress_client = client.clone();
        let early_progress = asked_if(ask_progress_now, async move {
            progress_client
                .get_sync_progress(Empty {})
                .await
                .map(tonic::Response::into_inner)
        });
        let (state, early_progress) = tokio::join!(state, early_progress);

        let mut network = None;
        match state {
            None => {}
            Some(Ok(reply)) => {
                self.network_state_supported = Some(true);
                if readiness(&reply).is_some() {
                    // Not ready: the other RPCs may not answer yet, and need not.
                    self.synced_last_read = false;
                    return Ok(derive_reading(Some(&reply), None, None));
                }
                network = Some(reply);
            }
            Some(Err(status)) if status.code() == tonic::Code::Unimplemented => {
                self.network_state_supported = Some(false);
            }
            Some(Err(status)) => match self.map_status(status) {
                // Connection-level failures end the read; anything else (a node whose
                // GetNetworkState errors while the rest works) falls back to the others.
                e @ (TariError::Unreachable { .. }
                | TariError::Transport(_)
                | TariError::TooLarge { .. }) => return Err(e),
                other => {
                    tracing::debug!(error = %other, "GetNetworkState failed; using GetTipInfo")
                }
            },
        }
        // minotari's GetNetworkState carries GetTipInfo's three fields, read from the same
        // places (the chain metadata and the state machine's status); a node whose allow-list
        // leaves out GetTipInfo (its default) still answers it. GetTipInfo is asked only when
        // GetNetworkState did not give them: a node older than the RPC, or a reply without
        // chain metadata.
        let tip = match &network {
            Some(reply) if reply.metadata.is_some() => None,
            _ => Some(
                client
                    .clone()
                    .get_tip_info(Empty {})
                    .await
                    .map_err(|s| self.map_status(s))?
                    .into_inner(),
            ),
        };
        let initial_sync_achieved = match (&tip, &network) {
            (Some(tip), _) => tip.initial_sync_achieved,
            (None, Some(reply)) => reply.initial_sync_achieved,
            (None, None) => false,
        };
        let progress = if initial_sync_achieved {
            None
        } else {
            let answer = match early_progress {
                Some(answer) => answer,
                // Synced at the last read, syncing now (a node that fell behind): ask now.
                None => client
                    .clone()
                    .get_sync_progress(Empty {})
                    .await
                    .map(tonic::Response::into_inner),
            };
            match answer {
                Ok(reply) => Some(reply),
                Err(status) => match self.map_status(status) {
                    e @ (TariError::Unreachable { .. } | TariError::Transport(_)) => return Err(e),
                    // Syncing with an unknown target reads as 0 %, never a false 100 %.
                    other => {
                        tracing::debug!(error = %other, "GetSyncProgress failed");
                        None
                    }
                },
            }
        };
        self.synced_last_read = initial_sync_achieved;
        Ok(derive_reading(
            network.as_ref(),
            tip.as_ref(),
            progress.as_ref(),
        ))
    }

    fn map_status(&self, status: tonic::Status) -> TariError {
        let target = self.target.clone();
        match status.code() {
            tonic::Code::Unavailable | tonic::Code::Unknown => TariError::Unreachable {
                target,
                source: status.into(),
            },
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => TransportError::Timeout {
                target,
                timeout: self.timeout,
            }
            .into(),
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
                if status.message().contains("too large") =>
            {
                TariError::TooLarge {
                    target,
                    limit_bytes: MAX_MESSAGE_BYTES,
                }
            }
            tonic::Code::Internal if status.message().contains("decode") => {
                TariError::Malformed { target, status }
            }
            _ => TariError::Status { target, status },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::proto::{MetaData, MigrationProgress, ReadinessStatus, SyncState};
    use super::*;

    #[test]
    fn a_nodes_status_message_is_one_clean_line_in_an_error() {
        let target = Target::new("tari", 18142);
        let message = "denied\nFAKE LOG LINE \u{1b}[31mred";
        for e in [
            TariError::Status {
                target: target.clone(),
                status: tonic::Status::permission_denied(message),
            },
            TariError::Malformed {
                target: target.clone(),
                status: tonic::Status::internal(message),
            },
        ] {
            let text = e.to_string();
            assert!(text.ends_with("denied FAKE LOG LINE  [31mred"), "{text:?}");
        }
    }

    fn tip(height: u64, synced: bool, state: BaseNodeState) -> TipInfoResponse {
        TipInfoResponse {
            metadata: Some(MetaData {
                best_block_height: height,
                ..Default::default()
            }),
            initial_sync_achieved: synced,
            base_node_state: state as i32,
        }
    }

    fn progress(local: u64, tip: u64) -> SyncProgressResponse {
        SyncProgressResponse {
            tip_height: tip,
            local_height: local,
            state: SyncState::Block as i32,
        }
    }

    #[test]
    fn synced_node_is_listening_at_100() {
        let s = derive_reading(None, Some(&tip(500, true, BaseNodeState::Listening)), None);
        assert_eq!(s.state, TariNodeState::Listening);
        assert_eq!((s.local_height, s.tip_height), (500, 500));
        assert!(s.initial_sync_achieved);
    }

    #[test]
    fn syncing_never_shows_100_even_at_the_tip() {
        let s = derive_reading(
            None,
            Some(&tip(5000, false, BaseNodeState::BlockSync)),
            Some(&progress(5000, 5000)),
        );
        assert_eq!(s.state, TariNodeState::Syncing);
        assert_eq!((s.local_height, s.tip_height), (5000, 5000));
        let half = derive_reading(
            None,
            Some(&tip(10, false, BaseNodeState::BlockSync)),
            Some(&progress(2500, 5000)),
        );
        assert_eq!((half.local_height, half.tip_height), (2500, 5000));
        let unknown = derive_reading(None, Some(&tip(10, false, BaseNodeState::HeaderSync)), None);
        assert_eq!(
            (unknown.state, unknown.tip_height),
            (TariNodeState::Syncing, 0)
        );
    }

    #[test]
    fn start_up_and_failed_states() {
        let s = derive_reading(None, Some(&tip(0, false, BaseNodeState::StartUp)), None);
        assert_eq!(s.state, TariNodeState::Starting);
        let f = derive_reading(None, Some(&tip(7, false, BaseNodeState::SyncFailed)), None);
        assert_eq!(f.state, TariNodeState::Failed);
        let odd = derive_reading(
            None,
            Some(&TipInfoResponse {
                base_node_state: 99,
                ..Default::default()
            }),
            None,
        );
        assert_eq!(odd.state, TariNodeState::Syncing);
    }

    #[test]
    fn readiness_tells_starting_and_migrating() {
        let starting = GetNetworkStateResponse {
            readiness_status: Some(ReadinessStatus {
                status: Some(readiness_status::Status::State(
                    proto::readiness_status::State::DatabaseInitializing as i32,
                )),
                timestamp: 0,
            }),
            ..Default::default()
        };
        let s = derive_reading(Some(&starting), None, None);
        assert_eq!(s.state, TariNodeState::Starting);

        let migrating = GetNetworkStateResponse {
            readiness_status: Some(ReadinessStatus {
                status: Some(readiness_status::Status::Migration(MigrationProgress {
                    current_block: 10,
                    total_blocks: 40,
                    progress_percentage: 25.7,
                    ..Default::default()
                })),
                timestamp: 0,
            }),
            ..Default::default()
        };
        let m = derive_reading(Some(&migrating), None, None);
        assert_eq!(m.state, TariNodeState::Migrating);
        assert_eq!(m.migration_percent, Some(25));

        let ready = GetNetworkStateResponse {
            readiness_status: Some(ReadinessStatus {
                status: Some(readiness_status::Status::State(
                    proto::readiness_status::State::Ready as i32,
                )),
                timestamp: 0,
            }),
            ..Default::default()
        };
        assert_eq!(readiness(&ready), None);
        let r = derive_reading(
            Some(&ready),
            Some(&tip(9, true, BaseNodeState::Listening)),
            None,
        );
        assert_eq!(r.state, TariNodeState::Listening);
        // An older node leaves readiness_status empty: treated as ready.
        assert_eq!(readiness(&GetNetworkStateResponse::default()), None);
    }

    #[test]
    fn new_dials_nothing_until_the_first_read() {
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        let client = TariClient::new(c, Target::new("tari", 18142), Duration::from_secs(1));
        assert_eq!(client.target().to_string(), "tari:18142");
        assert!(client.channel.is_none());
    }
}
