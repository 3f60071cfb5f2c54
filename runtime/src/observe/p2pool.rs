//! p2pool client: the `--data-api` documents, read from the directory p2pool writes or over HTTP.
//!
//! Wire facts (p2pool `src/p2pool_api.cpp`, `src/stratum_server.cpp`, `src/p2pool.cpp`):
//! - `network/stats`: `{"difficulty","hash","height","reward","timestamp"}` — the Monero chain as
//!   p2pool's node sees it (`height` 0 while p2pool has no node data).
//! - `pool/stats`: `{"pool_list":[…],"pool_statistics":{"hashRate","miners","totalHashes",
//!   "lastBlockFoundTime","lastBlockFound","totalBlocksFound","pplnsWeight","pplnsWindowSize",
//!   "sidechainDifficulty","sidechainHeight"}}`.
//! - `local/stratum`: `{"hashrate_15m","hashrate_1h","hashrate_24h","total_hashes",
//!   "total_stratum_shares","last_share_found_time","shares_found","shares_failed",
//!   "average_effort","current_effort","connections","incoming_connections",
//!   "block_reward_share_percent","wallet","workers":[…]}` (older versions lack some keys).
//! - p2pool replaces each file atomically (write to a temp name, rename). A file that is missing
//!   or does not parse (half-written by something else, truncated) is no reading: a typed error,
//!   never a guess.
//!
//! From a directory, a file read is blocking I/O that no socket deadline covers: a FIFO put where
//! a document belongs blocks `open` until a writer comes, a stalled mount blocks `stat` and
//! `read` for as long as it stalls. So only regular files are read (checked before opening, and
//! again on the opened file, which is opened non-blocking so a FIFO swapped in between cannot
//! block), at most `limit_bytes + 1` bytes of them, on tokio's blocking pool under the same
//! deadline as an HTTP exchange. A read that missed its deadline may still be stuck in the
//! kernel; while it is, that document is not read again (one stuck thread per document at most,
//! never one more per cycle). Over HTTP nothing touches the blocking pool.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::wire::{self, WireError};
use crate::io::http::Exchange;
use crate::io::{Endpoint, HttpSession, SharedConnector, TransportError};

/// Largest data-api document accepted (`local/stratum` lists workers; 1 MiB is far above any
/// real rig farm).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// One of the data-api documents, by its relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Document {
    /// `network/stats`.
    NetworkStats,
    /// `pool/stats`.
    PoolStats,
    /// `local/stratum`.
    LocalStratum,
}

impl Document {
    /// This document's slot in per-document tables.
    fn index(self) -> usize {
        match self {
            Document::NetworkStats => 0,
            Document::PoolStats => 1,
            Document::LocalStratum => 2,
        }
    }

    /// The path relative to the data-api directory (and the HTTP base URL).
    pub fn path(self) -> &'static str {
        match self {
            Document::NetworkStats => "network/stats",
            Document::PoolStats => "pool/stats",
            Document::LocalStratum => "local/stratum",
        }
    }
}

impl std::fmt::Display for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path())
    }
}

/// Where the documents come from (as configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum P2poolSource {
    /// The `--data-api` directory (mounted read-only into the runtime).
    Dir(PathBuf),
    /// An `http://host:port[/prefix]` serving the same tree.
    Http(Endpoint),
}

/// Why p2pool gave no reading.
#[derive(Debug, thiserror::Error)]
pub enum P2poolError {
    /// The document does not exist (p2pool not started yet, or not writing the data api).
    #[error("p2pool data-api: {document} is missing")]
    Missing {
        /// Which document.
        document: Document,
    },
    /// The file exists but cannot be read.
    #[error("p2pool data-api: cannot read {document}: {source}")]
    Unreadable {
        /// Which document.
        document: Document,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document is not what p2pool writes (half-written, truncated, wrong types).
    #[error("p2pool data-api: malformed {document}: {source}")]
    Malformed {
        /// Which document.
        document: Document,
        /// What is wrong, naming the field.
        #[source]
        source: WireError,
    },
    /// Directory: the path is not a regular file (a FIFO, a socket, a device, a directory).
    /// Never opened for reading (a FIFO would block until a writer came).
    #[error("p2pool data-api: {} is not a regular file", path.display())]
    NotAFile {
        /// Which document.
        document: Document,
        /// The path that was checked.
        path: PathBuf,
    },
    /// Directory: the read did not finish within the deadline (a stalled mount, a file system
    /// that does not answer).
    #[error("p2pool data-api: reading {} did not finish within {timeout:?}", path.display())]
    TimedOut {
        /// Which document.
        document: Document,
        /// The file being read.
        path: PathBuf,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// Directory: an earlier read of this file missed its deadline and is still blocked, so no
    /// other one is started.
    #[error("p2pool data-api: an earlier read of {} is still blocked", path.display())]
    StillBlocked {
        /// Which document.
        document: Document,
        /// The file whose read is stuck.
        path: PathBuf,
    },
    /// The file exceeded the limit ([`MAX_DOCUMENT_BYTES`] by default).
    #[error("p2pool data-api: {document} is larger than {limit_bytes} bytes")]
    TooLarge {
        /// Which document.
        document: Document,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// HTTP: no complete answer (connect failed, the connection broke, the deadline passed, or
    /// the body was too large).
    #[error("p2pool data-api at {0}")]
    Transport(#[from] TransportError),
    /// HTTP: a status other than 200 (404 is [`Self::Missing`]).
    #[error("p2pool data-api: {document} answered HTTP {code}")]
    BadStatus {
        /// Which document.
        document: Document,
        /// The HTTP status code.
        code: u16,
    },
}

/// `network/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStats {
    /// Monero network difficulty.
    #[serde(deserialize_with = "wire::count")]
    pub difficulty: u64,
    /// Monero chain height (0 while p2pool has no data from its node).
    #[serde(deserialize_with = "wire::count")]
    pub height: u64,
    /// Block reward in atomic units.
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub reward: u64,
    /// Timestamp of the top block (Unix seconds).
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub timestamp: u64,
}

/// `pool/stats`: the document around `pool_statistics`.
#[derive(Deserialize)]
struct PoolStatsDocument {
    #[serde(deserialize_with = "wire::object")]
    pool_statistics: PoolStats,
}

/// `pool/stats` → `pool_statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Side-chain hashrate (H/s).
    #[serde(rename(deserialize = "hashRate"), deserialize_with = "wire::count")]
    pub hashrate: u64,
    /// Miners on the side chain.
    #[serde(deserialize_with = "wire::count")]
    pub miners: u64,
    /// Side-chain height.
    #[serde(
        rename(deserialize = "sidechainHeight"),
        deserialize_with = "wire::count"
    )]
    pub sidechain_height: u64,
    /// Side-chain difficulty.
    #[serde(
        rename(deserialize = "sidechainDifficulty"),
        deserialize_with = "wire::count"
    )]
    pub sidechain_difficulty: u64,
    /// PPLNS window in side-chain blocks (absent in old p2pool versions).
    #[serde(
        rename(deserialize = "pplnsWindowSize"),
        default,
        deserialize_with = "wire::opt_count"
    )]
    pub pplns_window_size: Option<u64>,
    /// PPLNS weight.
    #[serde(
        rename(deserialize = "pplnsWeight"),
        default,
        deserialize_with = "wire::opt_count"
    )]
    pub pplns_weight: Option<u64>,
    /// Monero blocks found by the pool.
    #[serde(
        rename(deserialize = "totalBlocksFound"),
        default,
        deserialize_with = "wire::opt_count"
    )]
    pub total_blocks_found: Option<u64>,
    /// Unix seconds of the last block the pool found (0 = none).
    #[serde(
        rename(deserialize = "lastBlockFoundTime"),
        default,
        deserialize_with = "wire::opt_count"
    )]
    pub last_block_found_time: Option<u64>,
}

/// `local/stratum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalStratum {
    /// Own hashrate, 15-minute average (H/s).
    #[serde(deserialize_with = "wire::count")]
    pub hashrate_15m: u64,
    /// Own hashrate, 1-hour average (H/s).
    #[serde(deserialize_with = "wire::count")]
    pub hashrate_1h: u64,
    /// Own hashrate, 24-hour average (H/s).
    #[serde(deserialize_with = "wire::count")]
    pub hashrate_24h: u64,
    /// Side-chain shares found.
    #[serde(deserialize_with = "wire::count")]
    pub shares_found: u64,
    /// Shares that failed.
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub shares_failed: Option<u64>,
    /// Unix seconds of the last own share (0 = none; absent in old versions).
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub last_share_found_time: Option<u64>,
    /// Stratum connections.
    #[serde(default, deserialize_with = "wire::opt_count")]
    pub connections: Option<u64>,
    /// Connected workers (length of `workers`; absent or `null` is none).
    #[serde(default, deserialize_with = "wire::length")]
    pub workers: usize,
}

/// One p2pool reading: the three documents, flattened to what Pithead uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct P2poolReading {
    /// Monero chain height as p2pool sees it.
    pub network_height: u64,
    /// Monero network difficulty.
    pub network_difficulty: u64,
    /// Side-chain height.
    pub sidechain_height: u64,
    /// Side-chain difficulty.
    pub sidechain_difficulty: u64,
    /// PPLNS window in side-chain blocks, when reported.
    pub pplns_window_size: Option<u64>,
    /// Side-chain hashrate (H/s).
    pub pool_hashrate: u64,
    /// Miners on the side chain.
    pub pool_miners: u64,
    /// Own hashrate, 15-minute average (H/s).
    pub hashrate_15m: u64,
    /// Own hashrate, 1-hour average (H/s).
    pub hashrate_1h: u64,
    /// Own hashrate, 24-hour average (H/s).
    pub hashrate_24h: u64,
    /// Own side-chain shares found.
    pub shares_found: u64,
    /// Unix seconds of the last own share, when reported (0 = none).
    pub last_share_found_time: Option<u64>,
    /// Connected stratum workers.
    pub workers: usize,
}

impl P2poolReading {
    /// Combines the three documents.
    pub fn new(network: &NetworkStats, pool: &PoolStats, local: &LocalStratum) -> Self {
        Self {
            network_height: network.height,
            network_difficulty: network.difficulty,
            sidechain_height: pool.sidechain_height,
            sidechain_difficulty: pool.sidechain_difficulty,
            pplns_window_size: pool.pplns_window_size,
            pool_hashrate: pool.hashrate,
            pool_miners: pool.miners,
            hashrate_15m: local.hashrate_15m,
            hashrate_1h: local.hashrate_1h,
            hashrate_24h: local.hashrate_24h,
            shares_found: local.shares_found,
            last_share_found_time: local.last_share_found_time,
            workers: local.workers,
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    document: Document,
) -> Result<T, P2poolError> {
    wire::parse(bytes).map_err(|source| P2poolError::Malformed { document, source })
}

/// Parses `network/stats`. Pure, never panics.
pub fn parse_network_stats(bytes: &[u8]) -> Result<NetworkStats, P2poolError> {
    parse(bytes, Document::NetworkStats)
}

/// Parses `pool/stats`. Pure, never panics.
pub fn parse_pool_stats(bytes: &[u8]) -> Result<PoolStats, P2poolError> {
    parse::<PoolStatsDocument>(bytes, Document::PoolStats).map(|d| d.pool_statistics)
}

/// Parses `local/stratum`. Pure, never panics.
pub fn parse_local_stratum(bytes: &[u8]) -> Result<LocalStratum, P2poolError> {
    parse(bytes, Document::LocalStratum)
}

/// Reads `document` from the data-api directory `dir`, refusing more than `limit_bytes` and
/// anything but a regular file. Blocking I/O: [`P2poolClient`] runs it on the blocking pool under
/// its deadline.
pub fn read_document(
    dir: &Path,
    document: Document,
    limit_bytes: usize,
) -> Result<Bytes, P2poolError> {
    let path = dir.join(document.path());
    let unreadable = |source| P2poolError::Unreadable { document, source };
    let not_a_file = |path: &Path| P2poolError::NotAFile {
        document,
        path: path.to_owned(),
    };
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(not_a_file(&path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(P2poolError::Missing { document })
        }
        Err(source) => return Err(unreadable(source)),
    }
    // Non-blocking, so a FIFO renamed in after the check cannot block the open; the opened
    // file is checked again below (a regular file reads the same either way).
    let file = match rustix::fs::open(
        &path,
        rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::NONBLOCK
            | rustix::fs::OFlags::NOCTTY
            | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) {
        Ok(fd) => std::fs::File::from(fd),
        Err(rustix::io::Errno::NOENT) => return Err(P2poolError::Missing { document }),
        Err(errno) => return Err(unreadable(errno.into())),
    };
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(not_a_file(&path));
    }
    let mut buf = Vec::new();
    let cap = u64::try_from(limit_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(cap).read_to_end(&mut buf).map_err(unreadable)?;
    if buf.len() > limit_bytes {
        return Err(P2poolError::TooLarge {
            document,
            limit_bytes,
        });
    }
    Ok(Bytes::from(buf))
}

/// Which documents have a blocking read running (one flag per document, by its index). Shared by
/// a client's clones.
#[derive(Clone, Default)]
struct InFlight(Arc<[AtomicBool; 3]>);

impl InFlight {
    /// Marks `document` as being read, or `None` when a read of it is still running.
    fn claim(&self, document: Document) -> Option<Claim> {
        let index = document.index();
        self.0[index]
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(Claim {
            flags: self.0.clone(),
            index,
        })
    }
}

/// A running read; dropping it (when the read returns, however late) frees the document.
struct Claim {
    flags: Arc<[AtomicBool; 3]>,
    index: usize,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.flags[self.index].store(false, Ordering::Release);
    }
}

/// A p2pool data-api client. Cheap to clone (clones share the kept-alive connections).
#[derive(Clone)]
pub struct P2poolClient {
    source: Source,
    exchange: Exchange,
    /// Directory mode: the documents whose read is still running on the blocking pool.
    in_flight: InFlight,
}

/// Where the documents come from, ready to read.
#[derive(Clone)]
enum Source {
    Dir(PathBuf),
    Http {
        session: HttpSession,
        base: Endpoint,
    },
}

impl std::fmt::Debug for P2poolClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Dir(dir) => P2poolSource::Dir(dir.clone()),
            Source::Http { base, .. } => P2poolSource::Http(base.clone()),
        };
        f.debug_struct("P2poolClient")
            .field("source", &source)
            .field("exchange", &self.exchange)
            .finish()
    }
}

impl P2poolClient {
    /// A client reading from `source`. Over HTTP each document is one bounded exchange; from a
    /// directory each file read is bounded by the exchange's `limit_bytes` and, on the blocking
    /// pool, by its `timeout`.
    pub fn new(connector: SharedConnector, source: P2poolSource, exchange: Exchange) -> Self {
        let source = match source {
            P2poolSource::Dir(dir) => Source::Dir(dir),
            P2poolSource::Http(base) => Source::Http {
                session: HttpSession::new(connector, base.target().clone()),
                base,
            },
        };
        Self {
            source,
            exchange,
            in_flight: InFlight::default(),
        }
    }

    /// The raw bytes of one document.
    pub async fn fetch(&self, document: Document) -> Result<Bytes, P2poolError> {
        match &self.source {
            Source::Dir(dir) => {
                let (dir, limit_bytes) = (dir.clone(), self.exchange.limit_bytes);
                let path = dir.join(document.path());
                self.read_blocking(document, path, move || {
                    read_document(&dir, document, limit_bytes)
                })
                .await
            }
            Source::Http { session, base } => {
                let url = base.url(&format!("/{}", document.path()));
                let request =
                    crate::io::http::request(Method::GET, &url, HeaderMap::new(), Bytes::new())?;
                let response = session
                    .send(request, self.exchange.timeout, self.exchange.limit_bytes)
                    .await?;
                match response.status() {
                    StatusCode::OK => Ok(response.into_body()),
                    StatusCode::NOT_FOUND => Err(P2poolError::Missing { document }),
                    status => Err(P2poolError::BadStatus {
                        document,
                        code: status.as_u16(),
                    }),
                }
            }
        }
    }

    /// Runs the blocking `read` of `document` (at `path`) on the blocking pool within the
    /// exchange's timeout. A read that misses it keeps its claim on `document` until it returns,
    /// and until then `document` is [`P2poolError::StillBlocked`] without starting another.
    async fn read_blocking<F>(
        &self,
        document: Document,
        path: PathBuf,
        read: F,
    ) -> Result<Bytes, P2poolError>
    where
        F: FnOnce() -> Result<Bytes, P2poolError> + Send + 'static,
    {
        let Some(claim) = self.in_flight.claim(document) else {
            return Err(P2poolError::StillBlocked { document, path });
        };
        let task = tokio::task::spawn_blocking(move || {
            let result = read();
            drop(claim);
            result
        });
        let timeout = self.exchange.timeout;
        match tokio::time::timeout(timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(P2poolError::Unreadable {
                document,
                source: std::io::Error::other(join),
            }),
            Err(_) => Err(P2poolError::TimedOut {
                document,
                path,
                timeout,
            }),
        }
    }

    /// `network/stats`.
    pub async fn network_stats(&self) -> Result<NetworkStats, P2poolError> {
        parse_network_stats(&self.fetch(Document::NetworkStats).await?)
    }

    /// `pool/stats`.
    pub async fn pool_stats(&self) -> Result<PoolStats, P2poolError> {
        parse_pool_stats(&self.fetch(Document::PoolStats).await?)
    }

    /// `local/stratum`.
    pub async fn local_stratum(&self) -> Result<LocalStratum, P2poolError> {
        parse_local_stratum(&self.fetch(Document::LocalStratum).await?)
    }

    /// All three documents (concurrently over HTTP). Any one failing is no reading.
    pub async fn read(&self) -> Result<P2poolReading, P2poolError> {
        let (network, pool, local) = tokio::join!(
            self.network_stats(),
            self.pool_stats(),
            self.local_stratum()
        );
        Ok(P2poolReading::new(&network?, &pool?, &local?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK: &[u8] = br#"{"difficulty":412345678901,"hash":"ab","height":3012345,"reward":600000000000,"timestamp":1716000000}"#;
    const POOL: &[u8] = br#"{"pool_list":["pplns"],"pool_statistics":{"hashRate":12345678,"miners":9000,"totalHashes":1,"lastBlockFoundTime":1715999000,"lastBlockFound":3012000,"totalBlocksFound":4000,"pplnsWeight":123,"pplnsWindowSize":2160,"sidechainDifficulty":120000000,"sidechainHeight":8000000}}"#;
    const LOCAL: &[u8] = br#"{"hashrate_15m":15000,"hashrate_1h":14000,"hashrate_24h":13000.0,"total_hashes":1,"total_stratum_shares":3,"last_share_found_time":1715999500,"shares_found":3,"shares_failed":0,"average_effort":95.5,"current_effort":12.25,"connections":2,"incoming_connections":0,"block_reward_share_percent":0.01,"wallet":"4...","workers":["10.0.0.2:4000,15000,1,rig1","10.0.0.3:4001,0,1,rig2"]}"#;

    #[test]
    fn parses_the_three_documents() {
        let n = parse_network_stats(NETWORK).unwrap();
        let p = parse_pool_stats(POOL).unwrap();
        let l = parse_local_stratum(LOCAL).unwrap();
        let r = P2poolReading::new(&n, &p, &l);
        assert_eq!(r.network_height, 3_012_345);
        assert_eq!(r.sidechain_height, 8_000_000);
        assert_eq!(r.pplns_window_size, Some(2160));
        assert_eq!(r.sidechain_difficulty, 120_000_000);
        assert_eq!(
            (r.hashrate_15m, r.hashrate_1h, r.hashrate_24h),
            (15000, 14000, 13000)
        );
        assert_eq!(r.shares_found, 3);
        assert_eq!(r.workers, 2);
        assert_eq!(r.last_share_found_time, Some(1_715_999_500));
    }

    #[test]
    fn half_written_and_wrong_shapes_are_typed_errors() {
        let half = &NETWORK[..NETWORK.len() / 2];
        assert!(matches!(
            parse_network_stats(half),
            Err(P2poolError::Malformed {
                document: Document::NetworkStats,
                ..
            })
        ));
        assert!(matches!(
            parse_network_stats(b""),
            Err(P2poolError::Malformed { .. })
        ));
        for (error, needle) in [
            (
                parse_pool_stats(br#"{"pool_list":[]}"#).unwrap_err(),
                "missing field `pool_statistics`",
            ),
            (
                parse_pool_stats(br#"{"pool_statistics":{"hashRate":1,"miners":-2}}"#).unwrap_err(),
                "pool_statistics.miners: invalid value: integer `-2`",
            ),
            (
                parse_local_stratum(br#"{"hashrate_15m":"fast"}"#).unwrap_err(),
                "hashrate_15m: invalid type: string \"fast\"",
            ),
            (
                parse_local_stratum(
                    br#"{"hashrate_15m":1,"hashrate_1h":1,"hashrate_24h":1,"shares_found":1,"workers":{}}"#,
                )
                .unwrap_err(),
                "workers: invalid type: map",
            ),
        ] {
            let e = error.to_string();
            assert!(e.contains(needle), "{e:?} lacks {needle:?}");
        }
        let nulls = parse_local_stratum(
            br#"{"hashrate_15m":1.5,"hashrate_1h":1,"hashrate_24h":1,"shares_found":1,"workers":null,"connections":null}"#,
        )
        .unwrap();
        assert_eq!(
            (nulls.hashrate_15m, nulls.workers, nulls.connections),
            (1, 0, None)
        );
    }

    fn dir_client(dir: &Path, timeout: Duration) -> P2poolClient {
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        P2poolClient::new(
            c,
            P2poolSource::Dir(dir.to_owned()),
            Exchange {
                timeout,
                limit_bytes: 4096,
            },
        )
    }

    /// A read stuck in the kernel (a stalled mount) is the deadline's error, naming the file and
    /// the deadline; while it stays stuck no second read of that document is started, the other
    /// documents are read as usual, and once it returns the document is read again.
    #[tokio::test]
    async fn a_blocked_read_times_out_and_is_not_stacked() {
        let client = dir_client(Path::new("/p2pool-data"), Duration::from_millis(200));
        let path = PathBuf::from("/p2pool-data/network/stats");
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let started = tokio::time::Instant::now();
        let err = client
            .read_blocking(Document::NetworkStats, path.clone(), move || {
                let _ = stuck.recv();
                Ok(Bytes::new())
            })
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "not bounded");
        assert!(
            matches!(&err, P2poolError::TimedOut { document: Document::NetworkStats, path: p, timeout }
                if *p == path && *timeout == Duration::from_millis(200)),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "p2pool data-api: reading /p2pool-data/network/stats did not finish within 200ms"
        );

        let never_run = client
            .read_blocking(Document::NetworkStats, path.clone(), || {
                panic!("a second read was started while the first is stuck")
            })
            .await
            .unwrap_err();
        assert!(
            matches!(
                never_run,
                P2poolError::StillBlocked {
                    document: Document::NetworkStats,
                    ..
                }
            ),
            "{never_run:?}"
        );
        let other = client
            .read_blocking(Document::PoolStats, path.clone(), || {
                Ok(Bytes::from_static(b"{}"))
            })
            .await;
        assert_eq!(other.unwrap(), Bytes::from_static(b"{}"));

        release.send(()).unwrap();
        let again = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match client
                    .read_blocking(Document::NetworkStats, path.clone(), || {
                        Ok(Bytes::from_static(b"ok"))
                    })
                    .await
                {
                    Err(P2poolError::StillBlocked { .. }) => tokio::task::yield_now().await,
                    other => break other,
                }
            }
        })
        .await
        .expect("the claim is freed when the stuck read returns");
        assert_eq!(again.unwrap(), Bytes::from_static(b"ok"));
    }

    #[tokio::test]
    async fn directory_source_reads_and_reports_missing_and_oversized() {
        let dir = tempfile::tempdir().unwrap();
        let c: SharedConnector = std::sync::Arc::new(crate::io::TokioConnector);
        let client = P2poolClient::new(
            c,
            P2poolSource::Dir(dir.path().to_owned()),
            Exchange {
                timeout: std::time::Duration::from_secs(1),
                limit_bytes: 4096,
            },
        );
        assert!(matches!(
            client.read().await.unwrap_err(),
            P2poolError::Missing {
                document: Document::NetworkStats
            }
        ));
        for (doc, body) in [("network", NETWORK), ("pool", POOL), ("local", LOCAL)] {
            std::fs::create_dir_all(dir.path().join(doc)).unwrap();
            let name = if doc == "local" { "stratum" } else { "stats" };
            std::fs::write(dir.path().join(doc).join(name), body).unwrap();
        }
        assert_eq!(client.read().await.unwrap().network_height, 3_012_345);
        std::fs::write(dir.path().join("pool/stats"), vec![b' '; 5000]).unwrap();
        assert!(matches!(
            client.read().await.unwrap_err(),
            P2poolError::TooLarge {
                document: Document::PoolStats,
                limit_bytes: 4096
            }
        ));
    }
}
