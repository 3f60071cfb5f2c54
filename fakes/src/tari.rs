//! Fake Tari (minotari) base node: the gRPC `tari.rpc.BaseNode` subset the runtime calls
//! (`GetNetworkState`, `GetTipInfo`, `GetSyncProgress`), steered by a [`TariMode`], plus an HTTP
//! control API on a separate port.
//!
//! What each mode answers:
//!
//! | mode | `GetNetworkState.readiness_status` | `GetTipInfo` | `GetSyncProgress` |
//! |---|---|---|---|
//! | `synced {height}` | `state: READY` | height, `initial_sync_achieved` true, `LISTENING` | tip = local = height, `DONE` |
//! | `syncing {local, tip}` | `state: READY` | local, false, `BLOCK_SYNC` | tip, local, `BLOCK` |
//! | `starting` | `state: STARTING_UP` | 0, false, `START_UP` | 0, 0, `STARTUP` |
//! | `migrating` | `migration: {…, progress_percentage}` | 0, false, `START_UP` | 0, 0, `STARTUP` |
//! | `down` | status `UNAVAILABLE` | status `UNAVAILABLE` | status `UNAVAILABLE` |
//! | `slow {secs}` | the last data mode's answer, after `secs` (tokio time) | same | same |
//!
//! `GetNetworkState` also carries the `GetTipInfo` fields (metadata, `initial_sync_achieved`,
//! `base_node_state`), as the real RPC does. `migrating` answers exactly like `starting` on
//! `GetTipInfo`/`GetSyncProgress`, on purpose: a real node running a database migration has not
//! started its state machine yet, so it reports the initial `START_UP` state and no sync
//! progress; only `readiness_status` tells a migration apart. The migration's progress is set
//! with [`FakeTari::set_migration_progress`] (it is not part of the mode, so the control schema
//! stays `{"mode":"migrating"}`).
//!
//! [`FakeTari::without_network_state`] makes the fake answer `GetNetworkState` with
//! `UNIMPLEMENTED`, like a node that predates the RPC (clients must fall back to `GetTipInfo`);
//! [`FakeTari::without_network_metadata`] leaves the metadata out of a ready `GetNetworkState`;
//! [`FakeTari::deny_tip_info`] answers `GetTipInfo` with `PERMISSION_DENIED`, as a minotari node
//! left at its default allow-list does.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tonic::{Request, Response, Status};

use crate::{
    control::{self, ControlSpec},
    sync::lock,
};

/// Code generated from `proto/base_node.proto` (package `tari.rpc`).
pub mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("tari.rpc");
}

use proto::{
    base_node_server::{BaseNode, BaseNodeServer},
    readiness_status, BaseNodeState, Empty, GetNetworkStateRequest, GetNetworkStateResponse,
    MetaData, MigrationProgress, ReadinessStatus, SyncProgressResponse, SyncState, TipInfoResponse,
};

/// What the fake Tari node answers. As JSON it is the control schema (tagged by `mode`):
/// `{"mode":"synced","height":5000}`, `{"mode":"syncing","local":10,"tip":5000}`,
/// `{"mode":"starting"}`, `{"mode":"migrating"}`, `{"mode":"down"}`, `{"mode":"slow","secs":20}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum TariMode {
    /// Initial sync done, listening at `height`.
    Synced {
        /// Best block height.
        height: u64,
    },
    /// Block sync in progress: `local` of `tip`.
    Syncing {
        /// Local best block height.
        local: u64,
        /// Network tip height.
        tip: u64,
    },
    /// Just started: state machine in `START_UP`, heights 0.
    Starting,
    /// Migrating its database: `GetNetworkState` reports the migration's progress (see
    /// [`FakeTari::set_migration_progress`]); the other calls answer like `starting`.
    Migrating,
    /// Every call fails with `UNAVAILABLE`.
    Down,
    /// Answer as the last data mode did, after `secs` seconds (tokio time).
    Slow {
        /// Delay in seconds.
        secs: u64,
    },
}

/// Database migration progress a `migrating` fake reports in `GetNetworkState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Blocks migrated so far.
    pub current_block: u64,
    /// Blocks to migrate in total (0: unknown, reported as 0 %).
    pub total_blocks: u64,
}

impl Migration {
    /// `current_block / total_blocks` in percent (0 when the total is 0), as minotari's
    /// `progress_percentage` reports it.
    pub fn percent(&self) -> f64 {
        if self.total_blocks == 0 {
            return 0.0;
        }
        // Block counts are far below 2^52: the conversions are exact.
        #[allow(clippy::cast_precision_loss)]
        let p = self.current_block as f64 / self.total_blocks as f64 * 100.0;
        p
    }
}

impl Default for Migration {
    /// 0 of 1000 blocks.
    fn default() -> Self {
        Self {
            current_block: 0,
            total_blocks: 1_000,
        }
    }
}

/// Database versions a migrating fake reports (`current_db_version` → `target_db_version`).
const MIGRATION_DB_VERSIONS: (u64, u64) = (3, 4);

#[derive(Debug)]
struct TariState {
    mode: TariMode,
    /// The last `synced`/`syncing`/`starting`/`migrating` mode (what `slow` answers with).
    last_data: TariMode,
    migration: Migration,
    /// `false`: answer `GetNetworkState` with `UNIMPLEMENTED` (a node older than the RPC).
    network_state: bool,
    /// `false`: `GetNetworkState` leaves out the chain metadata even when ready.
    network_metadata: bool,
    /// `false`: answer `GetTipInfo` with `PERMISSION_DENIED`, as minotari does for a method
    /// its `grpc_server_allow_methods` leaves out (its default list does).
    tip_info_allowed: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<TariState>,
    requests: AtomicU64,
}

/// Handle to a fake Tari base node; also the gRPC service itself. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeTari {
    shared: Arc<Shared>,
}

const SPEC: ControlSpec = ControlSpec {
    fake: "tari",
    example: r#"{"mode":"syncing","local":10,"tip":5000}"#,
};

fn is_data(mode: &TariMode) -> bool {
    matches!(
        mode,
        TariMode::Synced { .. }
            | TariMode::Syncing { .. }
            | TariMode::Starting
            | TariMode::Migrating
    )
}

/// A 32-byte block hash derived from `height` (deterministic, not a real hash).
fn block_hash(height: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    let mut x = height ^ 0x7461_7269_5f66_616b;
    for _ in 0..4 {
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        out.extend_from_slice(&x.to_be_bytes());
    }
    out
}

impl FakeTari {
    /// A fake answering as `mode` says.
    pub fn new(mode: TariMode) -> Self {
        let last_data = if is_data(&mode) {
            mode.clone()
        } else {
            TariMode::Starting
        };
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(TariState {
                    mode,
                    last_data,
                    migration: Migration::default(),
                    network_state: true,
                    network_metadata: true,
                    tip_info_allowed: true,
                }),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// Change what the fake answers from the next call on.
    pub fn set_mode(&self, m: TariMode) {
        let mut st = lock(&self.shared.state);
        if is_data(&m) {
            st.last_data = m.clone();
        }
        st.mode = m;
    }

    /// Answer `GetNetworkState` with `UNIMPLEMENTED`, like a minotari node that predates the
    /// RPC. The other calls are unchanged.
    pub fn without_network_state(self) -> Self {
        lock(&self.shared.state).network_state = false;
        self
    }

    /// Answer `GetNetworkState` without its chain metadata (readiness and the other fields
    /// unchanged). minotari always sends it once ready; a client must still not take a missing
    /// height for 0.
    pub fn without_network_metadata(self) -> Self {
        lock(&self.shared.state).network_metadata = false;
        self
    }

    /// Answer `GetTipInfo` with `PERMISSION_DENIED`, like a minotari node left at its default
    /// `grpc_server_allow_methods` (which has `GetNetworkState` served and `GetTipInfo` not).
    pub fn deny_tip_info(self) -> Self {
        lock(&self.shared.state).tip_info_allowed = false;
        self
    }

    /// The migration progress `migrating` reports from the next call on (default: 0 of 1000
    /// blocks).
    pub fn set_migration_progress(&self, migration: Migration) {
        lock(&self.shared.state).migration = migration;
    }

    /// The current mode.
    pub fn mode(&self) -> TariMode {
        lock(&self.shared.state).mode.clone()
    }

    /// How many gRPC calls reached the fake (every method, any mode, including
    /// `GetNetworkState` answered `UNIMPLEMENTED`).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The tonic service to add to a `tonic::transport::Server` (tokio listener in the binary,
    /// `serve_with_incoming` over turmoil in the simulation).
    pub fn grpc_service(&self) -> BaseNodeServer<FakeTari> {
        BaseNodeServer::new(self.clone())
    }

    /// `POST /control` (a [`TariMode`] as JSON) and `GET /control` (`{"mode":…, "requests": n}`),
    /// for a separate HTTP port.
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let mode: TariMode = SPEC.parse(body)?;
                apply_fake.set_mode(mode);
                Ok(())
            },
            move || {
                let mut v = serde_json::to_value(view_fake.mode()).unwrap_or_else(|_| json!({}));
                if let Value::Object(m) = &mut v {
                    m.insert("requests".into(), json!(view_fake.requests()));
                }
                v
            },
        )
    }

    /// Count the call, honour `down`/`slow`, and return the data mode to answer from.
    async fn begin_call(&self) -> Result<TariMode, Status> {
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
        let (mode, last_data) = {
            let st = lock(&self.shared.state);
            (st.mode.clone(), st.last_data.clone())
        };
        match mode {
            TariMode::Down => Err(Status::unavailable("fake tari base node is down")),
            TariMode::Slow { secs } => {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                Ok(last_data)
            }
            data => Ok(data),
        }
    }
}

/// `GetTipInfo` for a data mode.
pub fn tip_info(mode: &TariMode) -> TipInfoResponse {
    let (height, synced, state) = match *mode {
        TariMode::Synced { height } => (height, true, BaseNodeState::Listening),
        TariMode::Syncing { local, .. } => (local, false, BaseNodeState::BlockSync),
        TariMode::Starting | TariMode::Migrating | TariMode::Down | TariMode::Slow { .. } => {
            (0, false, BaseNodeState::StartUp)
        }
    };
    let accumulated = u128::from(height) * 1_000_003;
    TipInfoResponse {
        metadata: Some(MetaData {
            best_block_height: height,
            best_block_hash: block_hash(height),
            accumulated_difficulty: accumulated.to_be_bytes().to_vec(),
            pruned_height: 0,
        }),
        initial_sync_achieved: synced,
        base_node_state: state as i32,
    }
}

/// `GetNetworkState` for a data mode: the tip info's fields plus `readiness_status`
/// (`READY`, `STARTING_UP`, or `migration` with `migration`'s progress), and fixed, plausible
/// network figures.
pub fn network_state(mode: &TariMode, migration: Migration) -> GetNetworkStateResponse {
    let tip = tip_info(mode);
    let status = match mode {
        TariMode::Synced { .. } | TariMode::Syncing { .. } => {
            readiness_status::Status::State(readiness_status::State::Ready as i32)
        }
        TariMode::Migrating => readiness_status::Status::Migration(MigrationProgress {
            current_block: migration.current_block,
            total_blocks: migration.total_blocks,
            progress_percentage: migration.percent(),
            current_db_version: MIGRATION_DB_VERSIONS.0,
            target_db_version: MIGRATION_DB_VERSIONS.1,
        }),
        TariMode::Starting | TariMode::Down | TariMode::Slow { .. } => {
            readiness_status::Status::State(readiness_status::State::StartingUp as i32)
        }
    };
    let ready = matches!(mode, TariMode::Synced { .. } | TariMode::Syncing { .. });
    GetNetworkStateResponse {
        metadata: tip.metadata,
        initial_sync_achieved: tip.initial_sync_achieved,
        base_node_state: tip.base_node_state,
        failed_checkpoints: false,
        reward: if ready { 13_900_000_000 } else { 0 },
        sha3x_estimated_hash_rate: if ready { 2_400_000_000_000 } else { 0 },
        monero_randomx_estimated_hash_rate: if ready { 1_100_000_000 } else { 0 },
        num_connections: if ready { 8 } else { 0 },
        tari_randomx_estimated_hash_rate: if ready { 45_000_000 } else { 0 },
        readiness_status: Some(ReadinessStatus {
            status: Some(status),
            // No wall clock in the fake: 0 is proto3's "unset".
            timestamp: 0,
        }),
    }
}

/// `GetSyncProgress` for a data mode.
pub fn sync_progress(mode: &TariMode) -> SyncProgressResponse {
    let (tip, local, state) = match *mode {
        TariMode::Synced { height } => (height, height, SyncState::Done),
        TariMode::Syncing { local, tip } => (tip, local, SyncState::Block),
        TariMode::Starting | TariMode::Migrating | TariMode::Down | TariMode::Slow { .. } => {
            (0, 0, SyncState::Startup)
        }
    };
    SyncProgressResponse {
        tip_height: tip,
        local_height: local,
        state: state as i32,
    }
}

#[tonic::async_trait]
impl BaseNode for FakeTari {
    async fn get_network_state(
        &self,
        _request: Request<GetNetworkStateRequest>,
    ) -> Result<Response<GetNetworkStateResponse>, Status> {
        let (supported, migration, with_metadata) = {
            let st = lock(&self.shared.state);
            (st.network_state, st.migration, st.network_metadata)
        };
        if !supported {
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            return Err(Status::unimplemented(
                "GetNetworkState is not implemented by this (older) fake base node",
            ));
        }
        let mode = self.begin_call().await?;
        let mut reply = network_state(&mode, migration);
        if !with_metadata {
            reply.metadata = None;
        }
        Ok(Response::new(reply))
    }

    async fn get_sync_progress(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<SyncProgressResponse>, Status> {
        let mode = self.begin_call().await?;
        Ok(Response::new(sync_progress(&mode)))
    }

    async fn get_tip_info(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<TipInfoResponse>, Status> {
        if !lock(&self.shared.state).tip_info_allowed {
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            return Err(Status::permission_denied(
                "`GetTipInfo` method not made available",
            ));
        }
        let mode = self.begin_call().await?;
        Ok(Response::new(tip_info(&mode)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_is_listening_and_done() {
        let t = tip_info(&TariMode::Synced { height: 42 });
        assert_eq!(t.base_node_state, BaseNodeState::Listening as i32);
        assert!(t.initial_sync_achieved);
        assert_eq!(t.metadata.map(|m| m.best_block_height), Some(42));
        let s = sync_progress(&TariMode::Synced { height: 42 });
        assert_eq!((s.tip_height, s.local_height), (42, 42));
        assert_eq!(s.state, SyncState::Done as i32);
    }

    #[tokio::test(start_paused = true)]
    async fn slow_answers_from_the_last_data_mode_after_the_delay() {
        let fake = FakeTari::new(TariMode::Syncing { local: 5, tip: 9 });
        fake.set_mode(TariMode::Slow { secs: 20 });
        let start = tokio::time::Instant::now();
        let mode = fake.begin_call().await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(20));
        assert_eq!(mode, TariMode::Syncing { local: 5, tip: 9 });
        assert_eq!(fake.requests(), 1);
    }

    #[tokio::test]
    async fn down_is_unavailable() {
        let fake = FakeTari::new(TariMode::Down);
        let err = fake.begin_call().await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unavailable);
    }
}
