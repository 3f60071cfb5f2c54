//! Fake p2pool `--data-api`: the four JSON documents the runtime reads, served over HTTP
//! (`GET /network/stats`, `/pool/stats`, `/local/stratum`, `/local/p2p`) or written into a
//! directory the way p2pool does (each file replaced atomically by rename).
//!
//! Key names and shapes are p2pool's (`p2pool.cpp` `api_update_network_stats` /
//! `api_update_pool_stats`, `stratum_server.cpp` and `p2p_server.cpp` `api_update_local_stats`):
//! - `network/stats`: `{"difficulty","hash","height","reward","timestamp"}`
//! - `pool/stats`: `{"pool_list":["pplns"],"pool_statistics":{"hashRate","miners","totalHashes",
//!   "lastBlockFoundTime","lastBlockFound","totalBlocksFound","pplnsWeight","pplnsWindowSize",
//!   "sidechainDifficulty","sidechainHeight"}}`
//! - `local/stratum`: `{"hashrate_15m","hashrate_1h","hashrate_24h","total_hashes",
//!   "total_stratum_shares","last_share_found_time","shares_found","shares_failed",
//!   "average_effort","current_effort","connections","incoming_connections",
//!   "block_reward_share_percent","wallet","workers":["ip:port,uptime_s,diff,hashrate,name",…]}`
//! - `local/p2p`: `{"connections","incoming_connections","peer_list_size",
//!   "peers":["O|I,uptime_s,ping_ms,software,height,ip:port",…],"uptime"}`
//!
//! The [`Behaviour`] applies to the HTTP routes; for the data directory `down` removes the
//! files (p2pool not running), `garbage` writes each document cut in half (a half-written file),
//! `oversized` writes [`crate::OVERSIZED_BODY_BYTES`]-byte documents, and `slow` writes normally.

use std::{
    io,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{routing::get, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    behaviour::{self, Behaviour, GARBAGE_BODY},
    control::{self, ControlSpec},
    sync::lock,
};

/// Everything the fake p2pool reports. Build one with struct-update syntax:
/// `P2poolState { network_height: 3_000_000, ..Default::default() }`.
///
/// As JSON (the `POST /control` body) any subset of the fields is a valid patch:
/// `{"network_height":3000000,"behaviour":{"mode":"down"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2poolState {
    /// Monero main chain height (`network/stats.height`); 0 is what a p2pool without a synced
    /// node (or the UI override) shows.
    pub network_height: u64,
    /// Main chain difficulty (`network/stats.difficulty`).
    pub network_difficulty: u64,
    /// Block reward in atomic units (`network/stats.reward`).
    pub network_reward: u64,
    /// Main chain tip timestamp, Unix seconds (`network/stats.timestamp`).
    pub network_timestamp: u64,
    /// Side chain height (`pool/stats.pool_statistics.sidechainHeight`).
    pub sidechain_height: u64,
    /// Side chain difficulty (`pool/stats.pool_statistics.sidechainDifficulty`).
    pub sidechain_difficulty: u64,
    /// Whole-pool hashrate, H/s (`pool/stats.pool_statistics.hashRate`).
    pub pool_hashrate: u64,
    /// Miners in the PPLNS window (`pool/stats.pool_statistics.miners`).
    pub miners: u64,
    /// Total hashes of the side chain (`pool/stats.pool_statistics.totalHashes`).
    pub total_hashes: u64,
    /// Blocks found by the pool (`pool/stats.pool_statistics.totalBlocksFound`).
    pub total_blocks_found: u64,
    /// Height of the last block the pool found (`lastBlockFound`).
    pub last_block_found: u64,
    /// Unix time of the last block the pool found (`lastBlockFoundTime`).
    pub last_block_found_time: u64,
    /// PPLNS window in side-chain blocks (`pool/stats.pool_statistics.pplnsWindowSize`).
    pub pplns_window_size: u64,
    /// Sum of share weights in the window (`pool/stats.pool_statistics.pplnsWeight`).
    pub pplns_weight: u64,
    /// Local 15-minute hashrate, H/s (`local/stratum.hashrate_15m`).
    pub hashrate_15m: u64,
    /// Local 1-hour hashrate, H/s (`local/stratum.hashrate_1h`).
    pub hashrate_1h: u64,
    /// Local 24-hour hashrate, H/s (`local/stratum.hashrate_24h`).
    pub hashrate_24h: u64,
    /// Side-chain shares found by this node (`local/stratum.shares_found`).
    pub shares_found: u64,
    /// Shares that failed (`local/stratum.shares_failed`).
    pub shares_failed: u64,
    /// Unix time of this node's last side-chain share, 0 = never
    /// (`local/stratum.last_share_found_time`).
    pub last_share_found_time: u64,
    /// Share of the next block reward, percent (`local/stratum.block_reward_share_percent`).
    pub block_reward_share_percent: u64,
    /// Wallet address p2pool pays (`local/stratum.wallet`).
    pub wallet: String,
    /// Stratum connections (`local/stratum.connections`; rows are generated for `workers`).
    pub stratum_connections: u64,
    /// Connected miners as p2pool prints them: `"ip:port,uptime_s,diff,hashrate,name"`.
    pub workers: Vec<String>,
    /// P2P connections (`local/p2p.connections`).
    pub p2p_connections: u64,
    /// Known peers (`local/p2p.peer_list_size`).
    pub peer_list_size: u64,
    /// Seconds since p2pool started (`local/p2p.uptime`).
    pub uptime: u64,
    /// How the HTTP routes (and the data directory writer) misbehave.
    pub behaviour: Behaviour,
}

impl Default for P2poolState {
    /// A synced mini-chain node with one miner: plausible mainnet numbers, no share yet.
    fn default() -> Self {
        Self {
            network_height: 3_300_000,
            network_difficulty: 412_345_678_901,
            network_reward: 600_000_000_000,
            network_timestamp: 1_735_689_600,
            sidechain_height: 9_000_000,
            sidechain_difficulty: 1_000_000,
            pool_hashrate: 100_000,
            miners: 600,
            total_hashes: 9_000_000_000_000,
            total_blocks_found: 0,
            last_block_found: 0,
            last_block_found_time: 0,
            pplns_window_size: 2_160,
            pplns_weight: 2_160_000_000,
            hashrate_15m: 0,
            hashrate_1h: 0,
            hashrate_24h: 0,
            shares_found: 0,
            shares_failed: 0,
            last_share_found_time: 0,
            block_reward_share_percent: 0,
            wallet: "4".to_owned() + &"A".repeat(94),
            stratum_connections: 1,
            workers: vec!["172.28.0.5:40522,3600,100000,0,xmrig-proxy".to_owned()],
            p2p_connections: 12,
            peer_list_size: 1_500,
            uptime: 3_600,
            behaviour: Behaviour::Normal,
        }
    }
}

impl P2poolState {
    /// `network/stats`.
    pub fn network_stats(&self) -> Value {
        json!({
            "difficulty": self.network_difficulty,
            "hash": hex64(self.network_height),
            "height": self.network_height,
            "reward": self.network_reward,
            "timestamp": self.network_timestamp,
        })
    }

    /// `pool/stats`.
    pub fn pool_stats(&self) -> Value {
        json!({
            "pool_list": ["pplns"],
            "pool_statistics": {
                "hashRate": self.pool_hashrate,
                "miners": self.miners,
                "totalHashes": self.total_hashes,
                "lastBlockFoundTime": self.last_block_found_time,
                "lastBlockFound": self.last_block_found,
                "totalBlocksFound": self.total_blocks_found,
                "pplnsWeight": self.pplns_weight,
                "pplnsWindowSize": self.pplns_window_size,
                "sidechainDifficulty": self.sidechain_difficulty,
                "sidechainHeight": self.sidechain_height,
            }
        })
    }

    /// `local/stratum`.
    pub fn local_stratum(&self) -> Value {
        json!({
            "hashrate_15m": self.hashrate_15m,
            "hashrate_1h": self.hashrate_1h,
            "hashrate_24h": self.hashrate_24h,
            "total_hashes": self.hashrate_24h.saturating_mul(86_400),
            "total_stratum_shares": self.shares_found.saturating_mul(40),
            "last_share_found_time": self.last_share_found_time,
            "shares_found": self.shares_found,
            "shares_failed": self.shares_failed,
            "average_effort": if self.shares_found > 0 { 100.0 } else { 0.0 },
            "current_effort": 0.0,
            "connections": self.stratum_connections,
            "incoming_connections": self.stratum_connections,
            // p2pool writes this `double` with "%.3f": always a JSON float, never an integer.
            "block_reward_share_percent": self.block_reward_share_percent as f64,
            "wallet": self.wallet,
            "workers": self.workers,
        })
    }

    /// `local/p2p`.
    pub fn local_p2p(&self) -> Value {
        let peers: Vec<String> = (0..self.p2p_connections.min(64))
            .map(|i| {
                format!(
                    "O,{},{},P2Pool v4.9,{},10.0.{}.{}:37889",
                    self.uptime,
                    40 + i,
                    self.sidechain_height,
                    i / 250,
                    i % 250 + 1
                )
            })
            .collect();
        json!({
            "connections": self.p2p_connections,
            "incoming_connections": 0,
            "peer_list_size": self.peer_list_size,
            "peers": peers,
            "uptime": self.uptime,
        })
    }

    /// The four documents as (path relative to the data directory, JSON).
    pub fn documents(&self) -> [(&'static str, Value); 4] {
        [
            ("network/stats", self.network_stats()),
            ("pool/stats", self.pool_stats()),
            ("local/stratum", self.local_stratum()),
            ("local/p2p", self.local_p2p()),
        ]
    }
}

/// A 64-hex-digit id derived from `n` (deterministic, not a real hash).
fn hex64(n: u64) -> String {
    let mut x = n ^ 0x7032_706f_6f6c_2121;
    (0..4)
        .map(|_| {
            x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23);
            format!("{x:016x}")
        })
        .collect()
}

/// Handle to a fake p2pool. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeP2pool {
    state: Arc<Mutex<P2poolState>>,
}

const SPEC: ControlSpec = ControlSpec {
    fake: "p2pool",
    example: r#"{"network_height":3300000,"hashrate_15m":12000,"behaviour":{"mode":"normal"}}"#,
};

impl FakeP2pool {
    /// A fake reporting `state`.
    pub fn new(state: P2poolState) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Change the state in place: `fake.update(|s| s.shares_found += 1)`.
    pub fn update(&self, f: impl FnOnce(&mut P2poolState)) {
        f(&mut lock(&self.state));
    }

    /// A copy of the current state.
    pub fn state(&self) -> P2poolState {
        lock(&self.state).clone()
    }

    /// `GET /network/stats`, `/pool/stats`, `/local/stratum`, `/local/p2p`, honouring the
    /// behaviour.
    pub fn wire_router(&self) -> Router {
        let doc = |fake: FakeP2pool, pick: fn(&P2poolState) -> Value| {
            get(move || {
                let fake = fake.clone();
                async move { Json(pick(&lock(&fake.state))) }
            })
        };
        let routes = Router::new()
            .route(
                "/network/stats",
                doc(self.clone(), P2poolState::network_stats),
            )
            .route("/pool/stats", doc(self.clone(), P2poolState::pool_stats))
            .route(
                "/local/stratum",
                doc(self.clone(), P2poolState::local_stratum),
            )
            .route("/local/p2p", doc(self.clone(), P2poolState::local_p2p));
        let fake = self.clone();
        behaviour::wrap(routes, move || lock(&fake.state).behaviour.clone())
    }

    /// `POST /control` (any subset of [`P2poolState`]'s fields as JSON) and `GET /control`
    /// (the whole state).
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let mut st = lock(&apply_fake.state);
                *st = SPEC.merge_patch(&*st, body)?;
                Ok(())
            },
            move || serde_json::to_value(view_fake.state()).unwrap_or_else(|_| json!({})),
        )
    }

    /// Wire routes plus the control API on one port.
    pub fn router(&self) -> Router {
        self.wire_router().merge(self.control_router())
    }

    /// Write the four documents under `dir` (creating `network/`, `pool/`, `local/`), each
    /// through a temporary file renamed over the old one, as `p2pool --data-api` does.
    /// See the module docs for what each behaviour writes.
    pub fn write_data_dir(&self, dir: &Path) -> io::Result<()> {
        let state = self.state();
        for (rel, doc) in state.documents() {
            let path = dir.join(rel);
            if state.behaviour == Behaviour::Down {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => continue,
                }
            }
            let bytes = match state.behaviour {
                Behaviour::Garbage => {
                    let full = doc.to_string().into_bytes();
                    let mut half = full[..full.len() / 2].to_vec();
                    half.extend_from_slice(&GARBAGE_BODY[..8]);
                    half
                }
                Behaviour::Oversized => {
                    let mut big = b"{\"padding\":\"".to_vec();
                    big.resize(crate::OVERSIZED_BODY_BYTES - 2, b'x');
                    big.extend_from_slice(b"\"}");
                    big
                }
                _ => doc.to_string().into_bytes(),
            };
            write_atomically(&path, &bytes)?;
        }
        Ok(())
    }

    /// Rewrite the data directory every `interval` (tokio time) until the task is dropped,
    /// logging write failures and carrying on.
    pub async fn run_data_dir_writer(&self, dir: &Path, interval: Duration) {
        loop {
            if let Err(err) = self.write_data_dir(dir) {
                tracing::warn!(%err, dir = %dir.display(), "p2pool fake: cannot write data dir");
            }
            tokio::time::sleep(interval).await;
        }
    }
}

/// Write `bytes` to `path` via `path` + `.tmp` and a rename, creating the parent directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_carry_the_state() {
        let s = P2poolState {
            network_height: 7,
            sidechain_height: 8,
            pplns_window_size: 9,
            hashrate_15m: 10,
            ..Default::default()
        };
        assert_eq!(s.network_stats()["height"], 7);
        assert_eq!(s.pool_stats()["pool_statistics"]["sidechainHeight"], 8);
        assert_eq!(s.pool_stats()["pool_statistics"]["pplnsWindowSize"], 9);
        assert_eq!(s.local_stratum()["hashrate_15m"], 10);
        assert_eq!(s.network_stats()["hash"].as_str().map(str::len), Some(64));
    }

    #[test]
    fn data_dir_behaviours() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeP2pool::new(P2poolState::default());
        fake.write_data_dir(dir.path()).unwrap();
        let read = |rel: &str| std::fs::read(dir.path().join(rel));
        let v: Value = serde_json::from_slice(&read("pool/stats").unwrap()).unwrap();
        assert_eq!(v["pool_statistics"]["pplnsWindowSize"], 2_160);
        assert!(read("pool/stats.tmp").is_err(), "temp file left behind");

        fake.update(|s| s.behaviour = Behaviour::Garbage);
        fake.write_data_dir(dir.path()).unwrap();
        assert!(serde_json::from_slice::<Value>(&read("local/stratum").unwrap()).is_err());

        fake.update(|s| s.behaviour = Behaviour::Down);
        fake.write_data_dir(dir.path()).unwrap();
        assert!(read("network/stats").is_err());
        fake.write_data_dir(dir.path()).unwrap();
    }
}
