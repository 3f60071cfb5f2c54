//! The dashboard's history in SQLite: hashrate samples and events, 30 days.
//!
//! One writer: a dedicated thread owns the writing connection and drains a bounded queue, so
//! the cycle never waits on the disk (a full queue drops the row and says so). Readers open
//! their own connection (WAL lets them read while the writer writes). The sync gate's latch is
//! never only here: it lives in the atomic [`super::Snapshot`].
//!
//! - Batches: woken by the first queued row, the writer lets more join for up to [`LINGER`] (or
//!   until [`BATCH`] are queued) and commits them in one transaction. On a box, rows come once per
//!   `UPDATE_INTERVAL`, so a row lands [`LINGER`] later; in the simulation, where a day of cycles
//!   takes a second, waking a thread and committing for every row was about 15 % of a swarm's
//!   CPU. A read never misses a queued row: every read first waits until what was queued before
//!   it was tried ([`HistoryReader`]'s reads, [`HistoryWriter::flush`]).
//!
//! - Retention: rows older than [`RETENTION_MS`] are deleted at most [`PRUNE_BATCH`] at a time,
//!   in the write that first finds [`PRUNE_EVERY_MS`] of the rows' time gone since the last
//!   pass, so no single write stalls on a big delete and the file stays bounded. (A pass on
//!   every write was half of the writer's work while deleting nothing almost every time.)
//! - A database SQLite calls corrupt or not a database is moved aside (`history.sqlite.corrupt.N`)
//!   and recreated; any other failure to open or write (a read-only directory, a full disk)
//!   leaves the file alone, flips [`HistoryReader::healthy`] to false, and the next write
//!   reopens and retries; the flag turns true again with the first write that lands.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ErrorCode, OpenFlags};

use crate::view::{chart, ChartQuery, ChartSection, Sample, Window};

/// The database file in `DATA_DIR`.
pub const FILE_NAME: &str = "history.sqlite";
/// How long rows are kept: 30 days.
pub const RETENTION_MS: u64 = 30 * 24 * 3_600_000;
/// Most rows one retention pass deletes per table.
pub const PRUNE_BATCH: u32 = 500;
/// How much of the rows' time passes between two retention passes: 5 minutes, in which even a
/// 1-second `UPDATE_INTERVAL` writes fewer rows than one pass deletes.
pub const PRUNE_EVERY_MS: u64 = 5 * 60_000;
/// Writes queued before new ones are dropped.
pub const QUEUE_BOUND: usize = 256;
/// How long the writer, woken by a row, waits for more to commit with it.
pub const LINGER: Duration = Duration::from_secs(1);
/// Rows queued that wake the writer at once (a batch's usual size under load).
pub const BATCH: usize = 64;
/// The longest a read waits for queued rows to be tried before it reads without them.
const READ_WAIT: Duration = Duration::from_secs(2);
/// Most rows a chart query returns.
pub const MAX_ROWS: u32 = 2_000;
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite refused.
    #[error("history database {path}: {action} failed: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A corrupt database could not be moved aside.
    #[error("history database {path}: moving the corrupt file aside failed: {source}")]
    MoveAside {
        /// The database file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

enum Op {
    Sample(Sample),
    Event {
        wall_ms: u64,
        kind: String,
        detail: String,
    },
}

impl Op {
    /// The row's time (the retention pass runs on the rows' clock).
    fn time_ms(&self) -> u64 {
        match self {
            Op::Sample(s) => s.x,
            Op::Event { wall_ms, .. } => *wall_ms,
        }
    }
}

/// What the cycle's end, the readers and the writer thread share.
#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signals the writer: a first row, a full batch, a reader waiting, or the end.
    wake: Condvar,
    /// Signals waiting readers: a batch was tried.
    tried: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    ops: Vec<OpSlot>,
    /// The writer waits for a first row (and needs waking for it).
    parked: bool,
    /// A reader waits: commit what is queued now.
    urgent: bool,
    /// The cycle's end was dropped: write what is left and stop.
    closed: bool,
    /// The writer thread is gone (or never started): nobody will try what is queued.
    finished: bool,
    /// Rows queued since open, and rows tried (landed or failed).
    queued: u64,
    tried: u64,
}

/// A queued row (a newtype so `Queue` can derive `Debug` without showing rows).
struct OpSlot(Op);

impl std::fmt::Debug for OpSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpSlot")
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits (at most `limit`) until every row queued before the call was tried.
    fn wait_tried(&self, limit: Duration) {
        let mut queue = self.lock();
        let target = queue.queued;
        if queue.tried >= target {
            return;
        }
        queue.urgent = true;
        self.wake.notify_one();
        let _ = self
            .tried
            .wait_timeout_while(queue, limit, |q| q.tried < target && !q.finished)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// The cycle's end of the history (not `Clone`: one writer).
#[derive(Debug)]
pub struct HistoryWriter {
    shared: Arc<Shared>,
    /// Rows queued so far (the readers' [`HistoryReader::writes`]).
    writes: Arc<AtomicU64>,
}

/// A reader of the history, and the writer's health.
#[derive(Debug, Clone)]
pub struct HistoryReader {
    path: PathBuf,
    healthy: Arc<AtomicBool>,
    /// Rows queued so far: a chart drawn at one count is current until it changes (reads wait
    /// for queued rows, so a chart drawn after the count was read holds at least those rows).
    writes: Arc<AtomicU64>,
    conn: Arc<Mutex<Option<Connection>>>,
    /// The writer's queue, when this reader came with one.
    shared: Option<Arc<Shared>>,
}

/// Opens (or creates) the history in `dir` and starts its writer thread.
pub fn open(dir: &Path) -> (HistoryWriter, HistoryReader) {
    open_capped(dir, None)
}

/// [`open`], the database capped at `max_pages` pages (SQLite then fails writes with
/// `SQLITE_FULL`, exactly as on a full filesystem; tests use it to fill the "disk").
fn open_capped(dir: &Path, max_pages: Option<u32>) -> (HistoryWriter, HistoryReader) {
    let path = dir.join(FILE_NAME);
    let healthy = Arc::new(AtomicBool::new(true));
    let writes = Arc::new(AtomicU64::new(0));
    let shared = Arc::new(Shared::default());
    let mut writer = Writer {
        path: path.clone(),
        conn: None,
        healthy: healthy.clone(),
        max_pages,
        pruned_at_ms: None,
    };
    // Open now so a corrupt file is moved aside before the first reader looks.
    writer.connection();
    let thread_shared = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("history-writer".into())
        .spawn(move || writer.run(&thread_shared));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "the history writer could not start: no history");
        healthy.store(false, Ordering::Relaxed);
        // Nobody will try the rows: readers must not wait for them.
        let mut queue = shared.lock();
        queue.closed = true;
        queue.finished = true;
    }
    (
        HistoryWriter {
            shared: shared.clone(),
            writes: writes.clone(),
        },
        HistoryReader {
            path,
            healthy,
            writes,
            conn: Arc::new(Mutex::new(None)),
            shared: Some(shared),
        },
    )
}

impl HistoryWriter {
    fn send(&self, op: Op) {
        let mut queue = self.shared.lock();
        if queue.closed {
            tracing::debug!("history writer gone: a row was dropped");
            return;
        }
        if queue.ops.len() >= QUEUE_BOUND {
            tracing::warn!("history writer behind: a row was dropped");
            return;
        }
        queue.ops.push(OpSlot(op));
        queue.queued += 1;
        self.writes.fetch_add(1, Ordering::Release);
        let wake = queue.parked || queue.ops.len() >= BATCH;
        if wake {
            queue.parked = false;
        }
        drop(queue);
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// Queues a hashrate sample.
    pub fn sample(&self, sample: Sample) {
        self.send(Op::Sample(sample));
    }

    /// Queues an event (`released`, `rejected`, `container start p2pool`, …).
    pub fn event(&self, wall_ms: u64, kind: &str, detail: &str) {
        self.send(Op::Event {
            wall_ms,
            kind: kind.to_owned(),
            detail: detail.to_owned(),
        });
    }

    /// Waits until every queued write was tried (tests, shutdown).
    pub fn flush(&self) {
        // A day stands for "until done": the writer tries every batch it takes.
        self.shared.wait_tried(Duration::from_secs(86_400));
    }
}

impl Drop for HistoryWriter {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

struct Writer {
    path: PathBuf,
    conn: Option<Connection>,
    healthy: Arc<AtomicBool>,
    max_pages: Option<u32>,
    /// The row time of the last retention pass that landed.
    pruned_at_ms: Option<u64>,
}

impl Writer {
    fn connection(&mut self) -> Option<&Connection> {
        if self.conn.is_none() {
            let opened = open_or_recreate(&self.path).and_then(|conn| {
                if let Some(pages) = self.max_pages {
                    conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))
                        .map_err(|source| HistoryError::Sqlite {
                            path: self.path.clone(),
                            action: "cap the size",
                            source,
                        })?;
                }
                Ok(conn)
            });
            match opened {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "history unavailable");
                    self.healthy.store(false, Ordering::Relaxed);
                }
            }
        }
        self.conn.as_ref()
    }

    fn run(mut self, shared: &Shared) {
        loop {
            let batch = {
                let mut queue = shared.lock();
                while queue.ops.is_empty() && !queue.closed {
                    queue.parked = true;
                    queue = shared
                        .wake
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                queue.parked = false;
                if !queue.closed && !queue.urgent {
                    queue = shared
                        .wake
                        .wait_timeout_while(queue, LINGER, |q| {
                            q.ops.len() < BATCH && !q.urgent && !q.closed
                        })
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                queue.urgent = false;
                if queue.ops.is_empty() && queue.closed {
                    queue.finished = true;
                    drop(queue);
                    shared.tried.notify_all();
                    return;
                }
                std::mem::take(&mut queue.ops)
            };
            let rows = batch.len();
            match self.write(&batch) {
                Ok(()) => self.healthy.store(true, Ordering::Relaxed),
                Err(e) => {
                    tracing::warn!(error = %e, rows, "history write failed: its rows are lost");
                    self.healthy.store(false, Ordering::Relaxed);
                    // Reopen next time: the directory or the file may have been repaired.
                    self.conn = None;
                }
            }
            shared.lock().tried += rows as u64;
            shared.tried.notify_all();
        }
    }

    /// Writes `batch` and, when due, the retention pass, in one transaction: one commit (one WAL
    /// append, one round of file locks) for all of them; a failure rolls all of them back.
    fn write(&mut self, batch: &[OpSlot]) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |action| {
            let path = path.clone();
            move |source| HistoryError::Sqlite {
                path,
                action,
                source,
            }
        };
        let now_ms = batch
            .iter()
            .map(|OpSlot(op)| op.time_ms())
            .max()
            .unwrap_or(0);
        let prune_due = self
            .pruned_at_ms
            .is_none_or(|last| now_ms.abs_diff(last) >= PRUNE_EVERY_MS);
        let Some(conn) = self.connection() else {
            return Err(HistoryError::Sqlite {
                path: self.path.clone(),
                action: "open",
                source: rusqlite::Error::InvalidPath(self.path.clone()),
            });
        };
        let tx = conn.unchecked_transaction().map_err(err("begin a write"))?;
        for OpSlot(op) in batch {
            match op {
                Op::Sample(s) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO samples (ts, p2pool, xvb) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut insert| insert.execute(params![ms(s.x), s.p2pool, s.xvb]))
                    .map_err(err("insert a sample"))?,
                Op::Event {
                    wall_ms,
                    kind,
                    detail,
                } => tx
                    .prepare_cached("INSERT INTO events (ts, kind, detail) VALUES (?1, ?2, ?3)")
                    .and_then(|mut insert| insert.execute(params![ms(*wall_ms), kind, detail]))
                    .map_err(err("insert an event"))?,
            };
        }
        if prune_due {
            prune(&tx, now_ms).map_err(err("delete old rows"))?;
        }
        tx.commit().map_err(err("commit a write"))?;
        if prune_due {
            self.pruned_at_ms = Some(now_ms);
        }
        Ok(())
    }
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The chart's rows as SQL: the bucket means, ordered by their mean time. SQLite groups by the
/// expression in a temporary b-tree and sorts the groups in another (drawing charts was about
/// 8 % of a swarm's CPU, most of it here); [`bucket_means`] gives the same answer from a plain
/// range scan and is tried first.
const GROUPED: &str = "SELECT CAST(AVG(ts) AS INTEGER), AVG(p2pool), AVG(xvb) FROM samples \
                       WHERE ts BETWEEN ?1 AND ?2 GROUP BY ts / ?3 ORDER BY 1 LIMIT ?4";

/// The rows of a window in time order (`ts` is the rowid: a range of the table's own b-tree).
const SCAN: &str = "SELECT ts, p2pool, xvb FROM samples WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts";

/// [`GROUPED`]'s answer, bit for bit, from one pass over [`SCAN`]: `None` when the rows hold what
/// the pass does not mirror (a value stored as text or blob, a mean SQLite answers as NULL, two
/// groups whose mean times do not strictly increase), and the caller asks SQLite instead.
///
/// - `GROUP BY ts / width`: `ts` and `width` (≥ 1) are integers, so SQLite divides as integers,
///   truncating like Rust's `/`; that is monotone in `ts`, so in time order every group is one
///   run of rows, in the order of its key.
/// - `AVG`: [`SqlSum`], SQLite's own accumulator.
/// - `ORDER BY 1 LIMIT n`: the groups come in time order; when their `CAST(AVG(ts) AS INTEGER)`
///   strictly increase along it (always, for real times: a mean lies within its group's times,
///   and the groups' times do not overlap; only rounding of times past about 2^51 ms, tens of
///   millennia away, could break that), the sort is that order and the limit its first `n`.
///   Every group is checked, kept or not.
fn bucket_means(
    conn: &Connection,
    from: i64,
    to: i64,
    width: i64,
) -> rusqlite::Result<Option<Vec<Sample>>> {
    let mut stmt = conn.prepare_cached(SCAN)?;
    let mut rows = stmt.query(params![from, to])?;
    let mut means = Groups::default();
    let mut open: Option<(i64, [SqlSum; 3])> = None;
    while let Some(row) = rows.next()? {
        let ValueRef::Integer(ts) = row.get_ref(0)? else {
            return Ok(None);
        };
        let key = ts / width;
        if let Some((_, sums)) = open.take_if(|(k, _)| *k != key) {
            if !means.push(&sums) {
                return Ok(None);
            }
        }
        let (_, sums) = open.get_or_insert_with(|| (key, [SqlSum::default(); 3]));
        sums[0].add_integer(ts);
        for (i, sum) in sums.iter_mut().enumerate().skip(1) {
            match row.get_ref(i)? {
                ValueRef::Null => {}
                ValueRef::Integer(v) => sum.add_integer(v),
                ValueRef::Real(v) => sum.add_real(v),
                ValueRef::Text(_) | ValueRef::Blob(_) => return Ok(None),
            }
        }
    }
    if let Some((_, sums)) = open {
        if !means.push(&sums) {
            return Ok(None);
        }
    }
    Ok(Some(means.kept))
}

/// The groups' means as they close, in time order.
#[derive(Default)]
struct Groups {
    /// The first [`MAX_ROWS`].
    kept: Vec<Sample>,
    /// The last group's `CAST(AVG(ts) AS INTEGER)`.
    last: Option<i64>,
}

impl Groups {
    /// Adds a closed group; false when SQLite's answer would differ from the pass's (a NULL
    /// mean, or the sort by mean time not keeping time order).
    fn push(&mut self, [ts, p2pool, xvb]: &[SqlSum; 3]) -> bool {
        let (Some(ts), Some(p2pool), Some(xvb)) = (ts.avg(), p2pool.avg(), xvb.avg()) else {
            return false;
        };
        let x = real_to_i64(ts);
        if self.last.is_some_and(|last| x <= last) {
            return false;
        }
        self.last = Some(x);
        if self.kept.len() < MAX_ROWS as usize {
            self.kept.push(Sample {
                x: u64::try_from(x).unwrap_or(0),
                p2pool,
                xvb,
            });
        }
        true
    }
}

/// SQLite's `sum()`/`avg()` accumulator (`SumCtx`, `sumStep`, `avgFinalize` in the bundled
/// sqlite3.c, 3.54), step for step: integers summed exactly until the sum overflows, any real
/// value (or the overflow) switching to Kahan-Babuska-Neumaier summation in doubles.
#[derive(Debug, Clone, Copy, Default)]
struct SqlSum {
    r_sum: f64,
    r_err: f64,
    i_sum: i64,
    cnt: i64,
    approx: bool,
}

/// 2^52: integers from here on are added as two doubles (`kahanBabuskaNeumaierStepInt64`).
const KBN_BIG: i64 = 4_503_599_627_370_496;

// Conversions between i64 and f64 below are SQLite's C casts, rounding included.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
impl SqlSum {
    /// `kahanBabuskaNeumaierStep`.
    fn step(&mut self, r: f64) {
        let s = self.r_sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.r_err += (s - t) + r;
        } else {
            self.r_err += (r - t) + s;
        }
        self.r_sum = t;
    }

    /// `kahanBabuskaNeumaierStepInt64`.
    fn step_integer(&mut self, v: i64) {
        if v <= -KBN_BIG || v >= KBN_BIG {
            let small = v % 16_384;
            self.step((v - small) as f64);
            self.step(small as f64);
        } else {
            self.step(v as f64);
        }
    }

    /// `kahanBabuskaNeumaierInit`, from the exact sum so far.
    fn start_approx(&mut self) {
        let v = self.i_sum;
        if v <= -KBN_BIG || v >= KBN_BIG {
            let small = v % 16_384;
            self.r_sum = (v - small) as f64;
            self.r_err = small as f64;
        } else {
            self.r_sum = v as f64;
            self.r_err = 0.0;
        }
        self.approx = true;
    }

    /// `sumStep` for an INTEGER value.
    fn add_integer(&mut self, v: i64) {
        self.cnt += 1;
        if self.approx {
            self.step_integer(v);
        } else if let Some(sum) = self.i_sum.checked_add(v) {
            self.i_sum = sum;
        } else {
            self.start_approx();
            self.step_integer(v);
        }
    }

    /// `sumStep` for a REAL value.
    fn add_real(&mut self, v: f64) {
        self.cnt += 1;
        if !self.approx {
            self.start_approx();
        }
        self.step(v);
    }

    /// `avgFinalize`: `None` for NULL (no values, or a NaN mean, which SQLite stores as NULL).
    fn avg(&self) -> Option<f64> {
        if self.cnt == 0 {
            return None;
        }
        let sum = if self.approx {
            // `sqlite3IsOverflow`: an infinite or NaN error term is left out.
            if self.r_err.is_finite() {
                self.r_sum + self.r_err
            } else {
                self.r_sum
            }
        } else {
            self.i_sum as f64
        };
        Some(sum / self.cnt as f64).filter(|m| !m.is_nan())
    }
}

/// `CAST(r AS INTEGER)` (`sqlite3RealToI64`): truncated toward zero, saturated at the ends.
#[allow(clippy::cast_possible_truncation)]
fn real_to_i64(r: f64) -> i64 {
    if r < -9_223_372_036_854_774_784.0 {
        i64::MIN
    } else if r > 9_223_372_036_854_774_784.0 {
        i64::MAX
    } else {
        r as i64
    }
}

/// Deletes at most [`PRUNE_BATCH`] rows older than the retention, per table.
fn prune(conn: &Connection, now_ms: u64) -> rusqlite::Result<()> {
    // Statements cached on the connection: parsing and planning them was most of a write.
    const PRUNE: [&str; 2] = [
        "DELETE FROM samples WHERE rowid IN \
         (SELECT rowid FROM samples WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
        "DELETE FROM events WHERE rowid IN \
         (SELECT rowid FROM events WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
    ];
    let cutoff = ms(now_ms.saturating_sub(RETENTION_MS));
    for sql in PRUNE {
        conn.prepare_cached(sql)?
            .execute(params![cutoff, PRUNE_BATCH])?;
    }
    Ok(())
}

fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

fn init(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(check),
        ));
    }
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        // Checkpoint every 256 pages (1 MiB) and truncate the WAL back to 1 MiB after: the
        // history's footprint is the database plus at most that.
        "PRAGMA synchronous=NORMAL;
         PRAGMA wal_autocheckpoint=256;
         PRAGMA journal_size_limit=1048576;
         CREATE TABLE IF NOT EXISTS samples (ts INTEGER PRIMARY KEY, p2pool REAL NOT NULL, xvb REAL NOT NULL);
         CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS events_ts ON events (ts);",
    )?;
    Ok(conn)
}

/// Opens the database at `path`, moving a corrupt one aside and starting afresh.
pub fn open_or_recreate(path: &Path) -> Result<Connection, HistoryError> {
    match init(path) {
        Ok(conn) => Ok(conn),
        Err(e) if is_corrupt(&e) => {
            let moved = move_aside(path)?;
            tracing::error!(path = %path.display(), moved_to = %moved.display(), error = %e,
                "corrupt history database moved aside; starting a new one");
            init(path).map_err(|source| HistoryError::Sqlite {
                path: path.to_owned(),
                action: "recreate",
                source,
            })
        }
        Err(source) => Err(HistoryError::Sqlite {
            path: path.to_owned(),
            action: "open",
            source,
        }),
    }
}

fn move_aside(path: &Path) -> Result<PathBuf, HistoryError> {
    let fail = |source| HistoryError::MoveAside {
        path: path.to_owned(),
        source,
    };
    let target = (1..)
        .map(|n| path.with_extension(format!("sqlite.corrupt.{n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.with_extension("sqlite.corrupt"));
    std::fs::rename(path, &target).map_err(fail)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(side)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(target)
}

impl HistoryReader {
    /// A reader of the history in `dir` with no writer of its own (tools, the simulation's
    /// checks); it reports healthy.
    pub fn at(dir: &Path) -> Self {
        Self {
            path: dir.join(FILE_NAME),
            healthy: Arc::new(AtomicBool::new(true)),
            writes: Arc::new(AtomicU64::new(0)),
            conn: Arc::new(Mutex::new(None)),
            shared: None,
        }
    }

    /// The last write landed (or none failed since start).
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Rows queued since this history was opened (0 for a reader made with
    /// [`HistoryReader::at`]): what was read at one count is current until it changes, since
    /// every read first waits for the rows queued before it.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HistoryError> {
        let err = |source| HistoryError::Sqlite {
            path: self.path.clone(),
            action,
            source,
        };
        // Rows still lingering in the writer's batch are part of what is read.
        if let Some(shared) = &self.shared {
            shared.wait_tried(READ_WAIT);
        }
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let conn = match slot.take() {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(err)?;
                conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
                conn
            }
        };
        let result = f(&conn).map_err(err);
        // After a failure the file may have been replaced (moved aside and recreated):
        // reopen next time.
        if result.is_ok() {
            *slot = Some(conn);
        }
        result
    }

    /// The oldest sample's time, epoch ms (`None` for an empty history).
    pub fn oldest_ms(&self) -> Result<Option<u64>, HistoryError> {
        self.with("read the oldest sample", |c| {
            // Cached: parsing the statement on every chart was about 2 % of a swarm's CPU.
            c.prepare_cached("SELECT MIN(ts) FROM samples")?
                .query_row([], |r| r.get::<_, Option<i64>>(0))
        })
        .map(|v| v.and_then(|v| u64::try_from(v).ok()))
    }

    /// The bucket means of the samples in `window`, oldest first, at most [`MAX_ROWS`]: what
    /// [`GROUPED`] answers, to the bit, computed in one ordered pass over the rows
    /// ([`bucket_means`]); the rare rows that pass does not mirror are left to [`GROUPED`].
    pub fn samples(&self, window: &Window) -> Result<Vec<Sample>, HistoryError> {
        self.with("read samples", |c| {
            let (from, to, width) = (
                ms(window.from_ms),
                ms(window.to_ms),
                ms(window.bucket_ms.max(1)),
            );
            match bucket_means(c, from, to, width)? {
                Some(means) => Ok(means),
                None => {
                    let mut stmt = c.prepare_cached(GROUPED)?;
                    let rows = stmt.query_map(params![from, to, width, MAX_ROWS], |r| {
                        Ok(Sample {
                            x: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                            p2pool: r.get(1)?,
                            xvb: r.get(2)?,
                        })
                    })?;
                    rows.collect()
                }
            }
        })
    }

    /// The chart `query` asks for, the last cycle having ended at `now_ms` (drawn by
    /// [`chart::chart`]; the history only supplies the rows).
    pub fn chart(
        &self,
        query: &ChartQuery,
        now_ms: u64,
        interval_ms: u64,
    ) -> Result<ChartSection, HistoryError> {
        let oldest = self.oldest_ms()?.unwrap_or(now_ms);
        let window = query.window(now_ms, oldest, interval_ms);
        let samples = self.samples(&window)?;
        Ok(chart::chart(&samples, interval_ms, window.bucket_ms))
    }

    /// Rows in a table (`samples` or `events`), for tests and the soak.
    pub fn count(&self, table: &'static str) -> Result<u64, HistoryError> {
        let sql = match table {
            "events" => "SELECT COUNT(*) FROM events",
            _ => "SELECT COUNT(*) FROM samples",
        };
        self.with("count rows", |c| {
            c.query_row(sql, [], |r| r.get::<_, i64>(0))
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// The kinds of the latest `limit` events, newest first.
    pub fn recent_events(&self, limit: u32) -> Result<Vec<(u64, String, String)>, HistoryError> {
        self.with("read events", |c| {
            let mut stmt =
                c.prepare_cached("SELECT ts, kind, detail FROM events ORDER BY id DESC LIMIT ?1")?;
            let rows = stmt.query_map(params![limit], |r| {
                Ok((
                    u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    r.get(1)?,
                    r.get(2)?,
                ))
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample(x: u64) -> Sample {
        Sample {
            x,
            p2pool: 1_000.0,
            xvb: 0.0,
        }
    }

    const DAY_MS: u64 = 24 * 3_600_000;

    #[test]
    fn samples_and_events_are_written_in_wal_mode_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        writer.sample(sample(1_000));
        writer.sample(sample(31_000));
        writer.event(31_000, "released", "chains synced");
        writer.flush();
        assert!(reader.healthy());
        let all = Window {
            from_ms: 0,
            to_ms: 100_000,
            bucket_ms: 1,
        };
        assert_eq!(
            reader.samples(&all).unwrap(),
            [sample(1_000), sample(31_000)]
        );
        assert_eq!(reader.recent_events(5).unwrap()[0].1, "released");
        let conn = Connection::open(reader.path()).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_read_sees_the_rows_still_waiting_for_their_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        writer.sample(sample(1_000));
        writer.event(1_000, "released", "chains synced");
        // No flush: the writer lingers for more rows, and the read must not miss these.
        assert_eq!(reader.count("samples").unwrap(), 1);
        assert_eq!(reader.recent_events(1).unwrap()[0].1, "released");
        assert_eq!(reader.writes(), 2);
    }

    #[test]
    fn rows_queued_when_the_writer_is_dropped_still_land() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        for i in 0..10 {
            writer.sample(sample(i * 30_000));
        }
        drop(writer);
        assert_eq!(reader.count("samples").unwrap(), 10);
        assert!(reader.healthy());
    }

    #[test]
    fn a_batch_is_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        writer.sample(sample(0));
        writer.flush();
        // A read transaction held open keeps the WAL from being checkpointed and restarted:
        // what a batch appends stays there to be measured. One commit per row would append at
        // least one page per row.
        let probe = Connection::open(reader.path()).unwrap();
        probe.execute_batch("BEGIN").unwrap();
        let _: i64 = probe
            .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
            .unwrap();
        let wal = dir.path().join(format!("{FILE_NAME}-wal"));
        let page: i64 = probe
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        let page = u64::try_from(page).unwrap();
        let before = std::fs::metadata(&wal).unwrap().len();
        // Fewer than a batch: they wait for the flush and go in one commit.
        let rows = 63;
        for i in 1..=rows {
            writer.sample(sample(i * 30_000));
        }
        writer.flush();
        let frames = (std::fs::metadata(&wal).unwrap().len() - before) / (page + 24);
        assert!(frames < rows / 4, "{frames} WAL frames for {rows} rows");
        probe.execute_batch("COMMIT").unwrap();
        assert_eq!(reader.count("samples").unwrap(), rows + 1);
    }

    #[test]
    fn retention_deletes_old_rows_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        let old = u64::from(PRUNE_BATCH) * 3;
        for i in 0..old {
            writer.sample(sample(i));
            if i % 200 == 0 {
                writer.flush();
            }
        }
        writer.flush();
        assert_eq!(reader.count("samples").unwrap(), old);
        // One write 31 days later deletes one batch, not everything at once.
        writer.sample(sample(31 * DAY_MS));
        writer.flush();
        assert_eq!(
            reader.count("samples").unwrap(),
            old - u64::from(PRUNE_BATCH) + 1
        );
        // Within PRUNE_EVERY_MS of row time no pass runs again ...
        writer.sample(sample(31 * DAY_MS + 1));
        writer.flush();
        assert_eq!(
            reader.count("samples").unwrap(),
            old - u64::from(PRUNE_BATCH) + 2
        );
        // ... and each write that comes PRUNE_EVERY_MS later deletes the next batch ...
        writer.sample(sample(31 * DAY_MS + PRUNE_EVERY_MS));
        writer.flush();
        writer.sample(sample(31 * DAY_MS + 2 * PRUNE_EVERY_MS));
        writer.flush();
        assert_eq!(reader.count("samples").unwrap(), 4);
    }

    #[test]
    fn a_corrupt_database_is_moved_aside_and_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let garbage = b"this is not a SQLite database, it is a text file".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let (writer, reader) = open(dir.path());
        writer.sample(sample(5));
        writer.flush();
        assert!(reader.healthy());
        let aside = dir.path().join("history.sqlite.corrupt.1");
        assert_eq!(std::fs::read(&aside).unwrap(), garbage);
        assert_eq!(reader.count("samples").unwrap(), 1);
    }

    #[test]
    fn a_failed_write_flips_health_false_and_the_next_landed_write_back() {
        // A path under a regular file cannot be created, even by root (ENOTDIR).
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("data");
        std::fs::write(&blocked, b"a file where the directory should be").unwrap();
        let (writer, reader) = open(&blocked);
        writer.sample(sample(1));
        writer.flush();
        assert!(
            !reader.healthy(),
            "a write to an impossible path counted as healthy"
        );
        std::fs::remove_file(&blocked).unwrap();
        std::fs::create_dir(&blocked).unwrap();
        writer.sample(sample(2));
        writer.flush();
        assert!(reader.healthy(), "healthy again once a write lands");
        assert_eq!(reader.count("samples").unwrap(), 1);
    }

    #[test]
    fn a_read_only_directory_makes_the_history_unhealthy() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        // Root ignores directory permissions: find out whether this process is bound by them.
        let probe = dir.path().join("probe");
        let bound = std::fs::write(&probe, b"").is_err();
        let _ = std::fs::remove_file(&probe);
        let (writer, reader) = open(dir.path());
        writer.sample(sample(1));
        writer.flush();
        assert_eq!(reader.healthy(), !bound);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        writer.sample(sample(2));
        writer.flush();
        assert!(reader.healthy());
    }

    #[test]
    fn forty_days_of_cycles_keep_thirty_days_and_a_bounded_file() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = open(dir.path());
        let every_ms = 30_000;
        let cycles = 40 * DAY_MS / every_ms;
        for i in 0..cycles {
            writer.sample(sample(i * every_ms));
            if i % 100 == 0 {
                writer.event(i * every_ms, "container", "start p2pool");
            }
            if i % (u64::try_from(QUEUE_BOUND).unwrap() / 2) == 0 {
                writer.flush();
            }
        }
        writer.flush();
        let kept = reader.count("samples").unwrap();
        let thirty_days = RETENTION_MS / every_ms;
        // Retention runs once per PRUNE_EVERY_MS of row time: at most that much beyond 30 days.
        let slack = PRUNE_EVERY_MS / every_ms;
        assert!(
            (thirty_days..=thirty_days + 1 + slack).contains(&kept),
            "{kept} samples kept, {thirty_days} expected"
        );
        assert!(reader.count("events").unwrap() <= thirty_days / 100 + 1);
        let bytes: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        // 86,400 samples of three numbers: a few MB with SQLite's overhead, never growing.
        assert!(
            bytes < 8 * 1024 * 1024,
            "history is {bytes} bytes after 40 days"
        );
        eprintln!("history after 40 simulated days: {kept} samples, {bytes} bytes on disk");
    }

    #[test]
    fn a_full_disk_flips_health_false_and_freed_space_back() {
        let dir = tempfile::tempdir().unwrap();
        // A few pages: the schema and a handful of rows fit, then SQLite answers SQLITE_FULL.
        let (writer, reader) = open_capped(dir.path(), Some(8));
        let mut x = 0;
        while reader.healthy() && x < 100_000 {
            writer.sample(sample(x));
            writer.flush();
            x += 1;
        }
        assert!(!reader.healthy(), "never filled the capped database");
        let kept = reader.count("samples").unwrap();
        assert!(kept > 0);
        // The operator frees space: rows go, their pages return to SQLite's free list.
        let conn = Connection::open(reader.path()).unwrap();
        conn.execute("DELETE FROM samples WHERE ts < ?1", params![ms(x / 2)])
            .unwrap();
        drop(conn);
        writer.sample(sample(x + 1));
        writer.flush();
        assert!(reader.healthy(), "healthy again once a write lands");
    }

    /// The chart's query before the one-pass [`bucket_means`]: what `samples` must still answer,
    /// to the bit (a copy, so a change to [`GROUPED`] cannot change the reference).
    const GROUPED_BEFORE: &str = "SELECT CAST(AVG(ts) AS INTEGER), AVG(p2pool), AVG(xvb) \
         FROM samples WHERE ts BETWEEN ?1 AND ?2 GROUP BY ts / ?3 ORDER BY 1 LIMIT ?4";

    fn grouped_before(conn: &Connection, window: &Window) -> rusqlite::Result<Vec<Sample>> {
        let mut stmt = conn.prepare(GROUPED_BEFORE)?;
        let rows = stmt.query_map(
            params![
                ms(window.from_ms),
                ms(window.to_ms),
                ms(window.bucket_ms.max(1)),
                MAX_ROWS
            ],
            |r| {
                Ok(Sample {
                    x: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    p2pool: r.get(1)?,
                    xvb: r.get(2)?,
                })
            },
        )?;
        rows.collect()
    }

    /// Samples as bits: `-0.0` is not `0.0`, and NaN would equal itself.
    fn bits(rows: &[Sample]) -> Vec<(u64, u64, u64)> {
        rows.iter()
            .map(|s| (s.x, s.p2pool.to_bits(), s.xvb.to_bits()))
            .collect()
    }

    /// A value for a REAL column, as it may be bound: the writer binds `f64`; integers and text
    /// stand for a database written by other hands (REAL affinity turns `7` and `"12.5"` into
    /// reals, `"abc"` stays text).
    #[derive(Debug, Clone)]
    enum Cell {
        Real(f64),
        Integer(i64),
        Text(&'static str),
    }

    impl rusqlite::ToSql for Cell {
        fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
            match self {
                Cell::Real(v) => v.to_sql(),
                Cell::Integer(v) => v.to_sql(),
                Cell::Text(v) => v.to_sql(),
            }
        }
    }

    /// Hashrates and cancelling magnitudes, finite (no mean SQLite would answer as NULL).
    fn ordinary_cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            4 => (0.0..1e7f64).prop_map(Cell::Real),
            2 => (-1e7..1e7f64).prop_map(Cell::Real),
            2 => prop::sample::select(vec![
                0.0, -0.0, 0.1, 1.0, 3.0e-300, 1e16, -1e16, 1e300, -1e300, 4_503_599_627_370_497.0
            ])
            .prop_map(Cell::Real),
            1 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(Cell::Real),
            2 => (-1_000_000i64..1_000_000).prop_map(Cell::Integer),
        ]
    }

    /// Anything SQLite stores in a REAL column (NaN is bound as NULL, which NOT NULL refuses).
    fn any_cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            6 => ordinary_cell(),
            1 => any::<f64>().prop_filter("NaN is NULL", |v| !v.is_nan()).prop_map(Cell::Real),
            1 => prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN])
                .prop_map(Cell::Real),
            1 => any::<i64>().prop_map(Cell::Integer),
            1 => prop::sample::select(vec!["12.5", "7", "abc", ""]).prop_map(Cell::Text),
        ]
    }

    /// One history and one window to draw.
    #[derive(Debug, Clone)]
    struct Case {
        /// Row times are `base` plus these (duplicates replace, as the writer's insert does).
        base: i64,
        rows: Vec<(i64, Cell, Cell)>,
        /// A dense run of rows: (first offset, rows, step), enough for [`MAX_ROWS`] buckets.
        run: Option<(i64, i64, i64)>,
        /// Offsets from `base` (clamped at 0), and the bucket width.
        from: i64,
        to: i64,
        bucket_ms: u64,
        /// Only rows a real history holds: the pass must answer without SQLite's help.
        ordinary: bool,
    }

    fn case() -> impl Strategy<Value = Case> {
        let bucket = prop_oneof![
            3 => 1u64..4,
            3 => 1u64..5_000,
            1 => 1u64 << 40..1u64 << 62,
            1 => Just(u64::MAX),
        ];
        let ordinary = (
            prop::sample::select(vec![0i64, 1_700_000_000_000, 1 << 50]),
            prop::collection::vec((0i64..5_000, ordinary_cell(), ordinary_cell()), 0..200),
            prop::option::weighted(0.3, (0i64..100, 0i64..2_600, 1i64..3)),
            -100i64..5_500,
            -100i64..5_500,
            bucket.clone(),
        )
            .prop_map(|(base, rows, run, from, to, bucket_ms)| Case {
                base,
                rows,
                run,
                from,
                to,
                bucket_ms,
                ordinary: true,
            });
        // Times up to i64::MAX (sums that overflow, means that round together) and any value.
        let extreme = (
            prop::sample::select(vec![0i64, 1 << 53, i64::MAX - 6_000]),
            prop::collection::vec((0i64..6_000, any_cell(), any_cell()), 0..200),
            prop::option::weighted(0.2, (0i64..100, 0i64..2_600, 1i64..3)),
            -100i64..6_500,
            prop_oneof![-100i64..6_500, Just(i64::MAX)],
            bucket,
        )
            .prop_map(|(base, rows, run, from, to, bucket_ms)| Case {
                base,
                rows,
                run,
                from,
                to,
                bucket_ms,
                ordinary: false,
            });
        // More buckets than [`MAX_ROWS`] in the window: the limit cuts.
        let past_the_limit = (
            prop::sample::select(vec![0i64, 1_700_000_000_000, 1 << 50]),
            prop::collection::vec((0i64..5_000, ordinary_cell(), ordinary_cell()), 0..50),
            (0i64..100, 2_001i64..2_600, 1i64..3),
            1u64..3,
        )
            .prop_map(|(base, rows, run, bucket_ms)| Case {
                base,
                rows,
                run: Some(run),
                from: -100,
                to: 5_500,
                bucket_ms,
                ordinary: true,
            });
        prop_oneof![3 => ordinary, 1 => past_the_limit, 1 => extreme]
    }

    fn offset(base: i64, by: i64) -> u64 {
        u64::try_from(base.saturating_add(by).max(0)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The one-pass bucket means equal the GROUP BY query they replace, to the bit: ties,
        /// `-0.0`, integers in a REAL column, sums that need compensation or overflow, windows
        /// past [`MAX_ROWS`] buckets; and the pass itself (not the fall-back to SQL) answers
        /// whenever the rows are what a real history holds.
        #[test]
        fn the_bucket_means_equal_sqlites_group_by_to_the_bit(case in case()) {
            let dir = tempfile::tempdir().unwrap();
            let mut conn = init(&dir.path().join(FILE_NAME)).unwrap();
            let tx = conn.transaction().unwrap();
            {
                let mut insert = tx
                    .prepare("INSERT OR REPLACE INTO samples (ts, p2pool, xvb) VALUES (?1, ?2, ?3)")
                    .unwrap();
                for (at, p2pool, xvb) in &case.rows {
                    insert.execute(params![case.base.saturating_add(*at), p2pool, xvb]).unwrap();
                }
                if let Some((first, n, step)) = case.run {
                    for i in 0..n {
                        // Hashrates with fractions, and some whole.
                        #[allow(clippy::cast_precision_loss)]
                        let (p2pool, xvb) = ((i * 7_919 % 10_007) as f64 / 3.0, (i % 5) as f64);
                        insert
                            .execute(params![case.base.saturating_add(first + i * step), p2pool, xvb])
                            .unwrap();
                    }
                }
            }
            tx.commit().unwrap();
            let window = Window {
                from_ms: offset(case.base, case.from),
                to_ms: if case.to == i64::MAX { u64::MAX } else { offset(case.base, case.to) },
                bucket_ms: case.bucket_ms,
            };
            let expected = grouped_before(&conn, &window);
            let pass = bucket_means(
                &conn,
                ms(window.from_ms),
                ms(window.to_ms),
                ms(window.bucket_ms.max(1)),
            )
            .unwrap();
            match (&pass, &expected) {
                (Some(pass), Ok(expected)) => prop_assert_eq!(bits(pass), bits(expected)),
                (Some(_), Err(e)) => prop_assert!(false, "the pass answered where SQL failed: {e}"),
                (None, _) => prop_assert!(!case.ordinary, "a real history fell back to SQL"),
            }
            let read = HistoryReader::at(dir.path()).samples(&window);
            match (read, expected) {
                (Ok(read), Ok(expected)) => prop_assert_eq!(bits(&read), bits(&expected)),
                (Err(HistoryError::Sqlite { source, .. }), Err(e)) => {
                    prop_assert_eq!(source.to_string(), e.to_string());
                }
                (read, expected) => prop_assert!(false, "{read:?} against {expected:?}"),
            }
        }
    }

    #[test]
    fn the_chart_reads_a_range_of_the_table_with_no_temporary_tree() {
        let dir = tempfile::tempdir().unwrap();
        let conn = init(&dir.path().join(FILE_NAME)).unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt
                .query_map(params![0, 1, 1, 1], |r| r.get::<_, String>(3))
                .unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let scan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {SCAN}"))
            .unwrap()
            .query_map(params![0, 1], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
            .join("; ");
        assert!(scan.contains("INTEGER PRIMARY KEY"), "{scan}");
        assert!(!scan.contains("TEMP B-TREE"), "{scan}");
        // What the pass saves: the query it replaces builds two.
        let grouped = plan(GROUPED);
        assert!(grouped.contains("TEMP B-TREE FOR GROUP BY"), "{grouped}");
        assert!(grouped.contains("TEMP B-TREE FOR ORDER BY"), "{grouped}");
    }
}
