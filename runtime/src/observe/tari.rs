//! Tari (minotari) base node client: gRPC `tari.rpc.BaseNode` over the injected connector.
//!
//! One [`TariClient::read`] combines, in order:
//! 1. `GetNetworkState` — its `readiness_status` (field 11: a oneof of a readiness `State` or a
//!    database `MigrationProgress`) tells a node that is still starting up or migrating. A node
//!    that predates the RPC answers `UNIMPLEMENTED`; the client then stops asking until a read
//!    fails (the node may come back upgraded).
//! 2. `GetTipInfo` — local height, `initial_sync_achieved`, `base_node_state`.
//! 3. `GetSyncProgress` — the tip height the node is syncing toward (only asked while not synced).
//!
//! Rules the reading keeps (the control code relies on them):
//! - the percentage never shows 100 while syncing (capped at 99 until the node says it is done);
//! - after one good reading, a failed read returns that cached reading flagged
//!   `reachable: false, stale: true` (the dashboard keeps showing progress through a blip; node
//!   health decides from `reachable`);
//! - before any good reading, a failed read is `reachable: false` with zero heights;
//! - a node that restarted is read again on the next call: a failed call drops the channel, and a
//!   call that fails on a reused channel is retried once on a fresh one.
//!
//! The proto subset lives in `runtime/proto/base_node.proto` (names and numbers from minotari's
//! `applications/minotari_app_grpc/proto/base_node.proto`).

use std::fmt;
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

use crate::io::SharedConnector;

/// Code generated from `runtime/proto/base_node.proto` (package `tari.rpc`, client side).
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

/// One Tari reading (live or cached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariStatus {
    /// The node answered this call.
    pub reachable: bool,
    /// What the node is doing.
    pub state: TariNodeState,
    /// The node's own best block height.
    pub local_height: u64,
    /// The height it is syncing toward (its own height once synced; 0 when unknown).
    pub tip_height: u64,
    /// The node's "initial sync done" flag.
    pub initial_sync_achieved: bool,
    /// This is the last good reading repeated, not a live one.
    pub stale: bool,
    /// Database migration progress in percent (only while migrating, when reported).
    pub migration_percent: Option<u8>,
}

/// What [`TariClient::read`] returns.
pub type TariReading = TariStatus;

impl TariStatus {
    /// The reading before any good one: unreachable, zero heights.
    pub fn unreachable() -> Self {
        Self {
            reachable: false,
            state: TariNodeState::Starting,
            local_height: 0,
            tip_height: 0,
            initial_sync_achieved: false,
            stale: false,
            migration_percent: None,
        }
    }

    /// Still catching up (anything but [`TariNodeState::Listening`]).
    pub fn is_syncing(&self) -> bool {
        self.state != TariNodeState::Listening
    }

    /// Sync progress: 100 when listening; otherwise `floor(local / tip × 100)` capped at 99, and
    /// 0 when the tip is unknown.
    pub fn percent(&self) -> u8 {
        if !self.is_syncing() {
            return 100;
        }
        if self.tip_height == 0 {
            return 0;
        }
        let percent = u128::from(self.local_height) * 100 / u128::from(self.tip_height);
        u8::try_from(percent.min(99)).unwrap_or(99)
    }
}

/// Why the node gave no live reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariError {
    /// `TARI_GRPC_ADDRESS` is not `host:port`.
    #[error("TARI_GRPC_ADDRESS: invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connect failed, the connection broke, or the node answered `UNAVAILABLE`.
    #[error("Tari base node at {target} is unreachable: {reason}")]
    Unreachable {
        /// `host:port`.
        target: String,
        /// The underlying error.
        reason: String,
    },
    /// No complete answer within the deadline.
    #[error("Tari base node at {target} did not answer within {timeout:?}")]
    Timeout {
        /// `host:port`.
        target: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// A reply larger than [`MAX_MESSAGE_BYTES`].
    #[error("Tari base node at {target} sent a message larger than {limit_bytes} bytes")]
    TooLarge {
        /// `host:port`.
        target: String,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// A reply that does not decode as the expected message.
    #[error("Tari base node at {target} sent a malformed reply: {reason}")]
    Malformed {
        /// `host:port`.
        target: String,
        /// The decoder's description.
        reason: String,
    },
    /// Any other gRPC status.
    #[error("Tari base node at {target} answered gRPC {code:?}: {message}")]
    Status {
        /// `host:port`.
        target: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// The status message.
        message: String,
    },
}

/// Parses `TARI_GRPC_ADDRESS` (`host:port`, optionally `http://host:port`) into host and port.
pub fn parse_address(address: &str) -> Result<(String, u16), TariError> {
    let invalid = |reason| TariError::InvalidAddress {
        address: address.to_owned(),
        reason,
    };
    let trimmed = address.trim();
    let rest = trimmed.strip_prefix("http://").unwrap_or(trimmed);
    let rest = rest.trim_end_matches('/');
    if rest.contains("://") {
        return Err(invalid("only host:port or http://host:port is supported"));
    }
    if rest.contains('/') || rest.contains('@') {
        return Err(invalid("expected host:port"));
    }
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| invalid("no port (expected host:port)"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| invalid("the port is not a number 1-65535"))?;
    if port == 0 {
        return Err(invalid("the port is not a number 1-65535"));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    Ok((host.to_owned(), port))
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
pub fn derive_status(
    network: Option<&GetNetworkStateResponse>,
    tip: Option<&TipInfoResponse>,
    progress: Option<&SyncProgressResponse>,
) -> TariStatus {
    let tip_local = tip
        .and_then(|t| t.metadata.as_ref())
        .or_else(|| network.and_then(|n| n.metadata.as_ref()))
        .map_or(0, |m| m.best_block_height);
    if let Some((state, migration_percent)) = network.and_then(readiness) {
        return TariStatus {
            reachable: true,
            state,
            local_height: tip_local,
            tip_height: progress.map_or(0, |p| p.tip_height),
            initial_sync_achieved: false,
            stale: false,
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
        return TariStatus {
            reachable: true,
            state: TariNodeState::Listening,
            local_height,
            tip_height: progress_tip.max(local_height),
            initial_sync_achieved: true,
            stale: false,
            migration_percent: None,
        };
    }
    let state = match BaseNodeState::try_from(node_state) {
        Ok(BaseNodeState::SyncFailed) => TariNodeState::Failed,
        Ok(BaseNodeState::StartUp) => TariNodeState::Starting,
        _ => TariNodeState::Syncing,
    };
    TariStatus {
        reachable: true,
        state,
        local_height,
        tip_height: progress_tip,
        initial_sync_achieved: false,
        stale: false,
        migration_percent: None,
    }
}

/// A Tari base node client. Holds the channel between calls and the last good reading.
pub struct TariClient {
    connector: SharedConnector,
    host: String,
    port: u16,
    target: String,
    timeout: Duration,
    channel: Option<Channel>,
    /// `None` until the node answered `GetNetworkState` once; `Some(false)` after `UNIMPLEMENTED`.
    network_state_supported: Option<bool>,
    last_good: Option<TariStatus>,
    last_error: Option<TariError>,
}

impl fmt::Debug for TariClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TariClient")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("connected", &self.channel.is_some())
            .field("network_state_supported", &self.network_state_supported)
            .finish()
    }
}

impl TariClient {
    /// A client for the node at `grpc_address` (`TARI_GRPC_ADDRESS`, `host:port`). Each
    /// [`Self::read`] is bounded by `timeout`. Does not connect until the first read.
    pub fn new(
        connector: SharedConnector,
        grpc_address: &str,
        timeout: Duration,
    ) -> Result<Self, TariError> {
        let (host, port) = parse_address(grpc_address)?;
        Ok(Self {
            connector,
            target: format!("{host}:{port}"),
            host,
            port,
            timeout,
            channel: None,
            network_state_supported: None,
            last_good: None,
            last_error: None,
        })
    }

    /// `host:port` this client dials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Why the last read was not live (`None` after a good one).
    pub fn last_error(&self) -> Option<&TariError> {
        self.last_error.as_ref()
    }

    /// Reads the node. Never fails: a failed read is the cached reading flagged unreachable and
    /// stale, or [`TariStatus::unreachable`] before any good one (see [`Self::last_error`]).
    pub async fn read(&mut self) -> TariReading {
        match self.fetch().await {
            Ok(status) => {
                self.last_good = Some(status.clone());
                self.last_error = None;
                status
            }
            Err(error) => {
                tracing::debug!(%error, "Tari base node gave no reading");
                self.last_error = Some(error);
                match &self.last_good {
                    Some(cached) => TariStatus {
                        reachable: false,
                        stale: true,
                        ..cached.clone()
                    },
                    None => TariStatus::unreachable(),
                }
            }
        }
    }

    /// One live read (no cache), bounded by the client's timeout. A failure on a reused
    /// channel is retried once on a fresh one (the node may have restarted since).
    pub async fn fetch(&mut self) -> Result<TariStatus, TariError> {
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
        let result = match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(TariError::Timeout { target, timeout }),
        };
        if result.is_err() {
            self.channel = None;
            // The node may come back as a different version: ask for GetNetworkState again.
            self.network_state_supported = None;
        }
        result
    }

    async fn fetch_once(&mut self) -> Result<TariStatus, TariError> {
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
        let unreachable = |reason: String| TariError::Unreachable {
            target: self.target.clone(),
            reason,
        };
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let endpoint = Endpoint::from_shared(format!("http://{authority}"))
            .map_err(|e| unreachable(e.to_string()))?
            .connect_timeout(self.timeout)
            .timeout(self.timeout);
        let connector = self.connector.clone();
        let host = self.host.clone();
        let port = self.port;
        let dial = tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let host = host.clone();
            async move {
                let stream = connector.connect(&host, port).await?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        endpoint
            .connect_with_connector(dial)
            .await
            .map_err(|e| unreachable(error_chain(&e)))
    }

    async fn call(&mut self, channel: Channel) -> Result<TariStatus, TariError> {
        let mut client = BaseNodeClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
        let mut network = None;
        if self.network_state_supported != Some(false) {
            match client
                .get_network_state(GetNetworkStateRequest {})
                .await
                .map(tonic::Response::into_inner)
            {
                Ok(reply) => {
                    self.network_state_supported = Some(true);
                    if readiness(&reply).is_some() {
                        // Not ready: the other RPCs may not answer yet, and need not.
                        return Ok(derive_status(Some(&reply), None, None));
                    }
                    network = Some(reply);
                }
                Err(status) if status.code() == tonic::Code::Unimplemented => {
                    self.network_state_supported = Some(false);
                }
                Err(status) => match self.map_status(&status) {
                    // Connection-level failures end the read; anything else (a node whose
                    // GetNetworkState errors while the rest works) falls back to the others.
                    e @ (TariError::Unreachable { .. }
                    | TariError::Timeout { .. }
                    | TariError::TooLarge { .. }) => return Err(e),
                    other => {
                        tracing::debug!(error = %other, "GetNetworkState failed; using GetTipInfo")
                    }
                },
            }
        }
        let tip = client
            .get_tip_info(Empty {})
            .await
            .map_err(|s| self.map_status(&s))?
            .into_inner();
        let progress = if tip.initial_sync_achieved {
            None
        } else {
            match client.get_sync_progress(Empty {}).await {
                Ok(reply) => Some(reply.into_inner()),
                Err(status) => match self.map_status(&status) {
                    e @ (TariError::Unreachable { .. } | TariError::Timeout { .. }) => {
                        return Err(e)
                    }
                    // Syncing with an unknown target reads as 0 %, never a false 100 %.
                    other => {
                        tracing::debug!(error = %other, "GetSyncProgress failed");
                        None
                    }
                },
            }
        };
        Ok(derive_status(
            network.as_ref(),
            Some(&tip),
            progress.as_ref(),
        ))
    }

    fn map_status(&self, status: &tonic::Status) -> TariError {
        let target = self.target.clone();
        let message = status.message().to_owned();
        match status.code() {
            tonic::Code::Unavailable | tonic::Code::Unknown => TariError::Unreachable {
                target,
                reason: if message.is_empty() {
                    format!("{:?}", status.code())
                } else {
                    message
                },
            },
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => TariError::Timeout {
                target,
                timeout: self.timeout,
            },
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
                if message.contains("too large") =>
            {
                TariError::TooLarge {
                    target,
                    limit_bytes: MAX_MESSAGE_BYTES,
                }
            }
            tonic::Code::Internal if message.contains("decode") => TariError::Malformed {
                target,
                reason: message,
            },
            code => TariError::Status {
                target,
                code,
                message,
            },
        }
    }
}

/// An error and its sources, joined (tonic's transport error hides the cause in `source`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::proto::{MetaData, MigrationProgress, ReadinessStatus, SyncState};
    use super::*;

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
    fn addresses() {
        assert_eq!(parse_address("tari:18142").unwrap(), ("tari".into(), 18142));
        assert_eq!(
            parse_address("http://tari:18142/").unwrap(),
            ("tari".into(), 18142)
        );
        assert_eq!(parse_address("[::1]:18142").unwrap(), ("::1".into(), 18142));
        for bad in [
            "tari",
            "tari:",
            "tari:0",
            "tari:99999",
            ":18142",
            "https://tari:1",
            "a/b:1",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn synced_node_is_listening_at_100() {
        let s = derive_status(None, Some(&tip(500, true, BaseNodeState::Listening)), None);
        assert_eq!(s.state, TariNodeState::Listening);
        assert_eq!((s.local_height, s.tip_height), (500, 500));
        assert!(!s.is_syncing());
        assert_eq!(s.percent(), 100);
    }

    #[test]
    fn syncing_never_shows_100_even_at_the_tip() {
        let s = derive_status(
            None,
            Some(&tip(5000, false, BaseNodeState::BlockSync)),
            Some(&progress(5000, 5000)),
        );
        assert_eq!(s.state, TariNodeState::Syncing);
        assert!(s.is_syncing());
        assert_eq!(s.percent(), 99);
        let half = derive_status(
            None,
            Some(&tip(10, false, BaseNodeState::BlockSync)),
            Some(&progress(2500, 5000)),
        );
        assert_eq!(half.local_height, 2500);
        assert_eq!(half.percent(), 50);
        let unknown = derive_status(None, Some(&tip(10, false, BaseNodeState::HeaderSync)), None);
        assert_eq!(unknown.percent(), 0);
    }

    #[test]
    fn start_up_and_failed_states() {
        let s = derive_status(None, Some(&tip(0, false, BaseNodeState::StartUp)), None);
        assert_eq!(s.state, TariNodeState::Starting);
        let f = derive_status(None, Some(&tip(7, false, BaseNodeState::SyncFailed)), None);
        assert_eq!(f.state, TariNodeState::Failed);
        assert!(f.is_syncing());
        let odd = derive_status(
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
        let s = derive_status(Some(&starting), None, None);
        assert_eq!(s.state, TariNodeState::Starting);
        assert!(s.reachable);

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
        let m = derive_status(Some(&migrating), None, None);
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
        let r = derive_status(
            Some(&ready),
            Some(&tip(9, true, BaseNodeState::Listening)),
            None,
        );
        assert_eq!(r.state, TariNodeState::Listening);
        // An older node leaves readiness_status empty: treated as ready.
        assert_eq!(readiness(&GetNetworkStateResponse::default()), None);
    }

    #[test]
    fn new_parses_the_address_lazily_and_unreachable_is_zero() {
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        let client = TariClient::new(c.clone(), "tari:18142", Duration::from_secs(1)).unwrap();
        assert_eq!(client.target(), "tari:18142");
        assert!(TariClient::new(c, "nope", Duration::from_secs(1)).is_err());
        let u = TariStatus::unreachable();
        assert!(!u.reachable);
        assert_eq!((u.local_height, u.tip_height, u.percent()), (0, 0, 0));
    }
}
