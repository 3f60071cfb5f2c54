//! `cargo xtask bench-dashboard`: `/api/state` and `/metrics` of the real runtime binary under
//! load, with 30 days of history and 10,000 workers in xmrig-proxy's list.
//!
//! A benchmark, not a test: it prints figures and writes `target/bench-dashboard.json`, and
//! fails only when the stack cannot be brought up (a missed target is printed, not fatal; the
//! figures depend on the machine). The runtime is its own process (`cargo build --release`),
//! the fakes are served by this process on loopback, and the load comes from `oha` (a third
//! process, installed under `target/tools` on first use).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_fakes::xmrig_proxy::{FakeXmrigProxy, WorkerRow};
use pithead_runtime::io::http::{self, Exchange};
use pithead_runtime::io::{Clock, SystemClock, TokioConnector};
use pithead_runtime::store::history;
use serde::Serialize;
use serde_json::Value;

use crate::images::{target_dir, workspace_root};

/// Options of `cargo xtask bench-dashboard`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Seconds of load per run.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Requests per second of the fixed-rate runs.
    #[arg(long, default_value_t = 1_000)]
    rate: u32,
    /// Concurrent connections `oha` opens.
    #[arg(long, default_value_t = 50)]
    connections: u32,
    /// Workers in the fake xmrig-proxy's list.
    #[arg(long, default_value_t = 10_000)]
    workers: usize,
    /// Days of history seeded into the runtime's database.
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// Load this runtime binary instead of building the workspace's (before / after figures).
    #[arg(long)]
    runtime: Option<PathBuf>,
}

/// The runtime's default `UPDATE_INTERVAL`: the history is seeded at it, and the runtime runs
/// with it (the variable is left unset).
const UPDATE_INTERVAL_MS: u64 = 30_000;
const MONERO_HEIGHT: u64 = 3_000_000;
const TARI_HEIGHT: u64 = 60_000;
/// The token the fake xmrig-proxy wants; a benchmark-only value, never a secret.
const PROXY_TOKEN: &str = "bench-dashboard-token";
/// Targets of issue #17 on the 2-core machine.
const TARGET_P99_MS: f64 = 10.0;
const TARGET_IDLE_RSS_KB: u64 = 30 * 1024;

/// One `oha` run's figures.
#[derive(Debug, Serialize)]
struct Run {
    path: &'static str,
    /// `None` = as fast as it goes.
    rate: Option<u32>,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Replies that were not 200, plus connection errors (not the requests `oha` cut when
    /// its duration ended).
    failed: u64,
    /// Peak resident memory of the runtime during the run, KiB.
    peak_rss_kb: u64,
}

/// What `target/bench-dashboard.json` holds.
#[derive(Debug, Serialize)]
struct Report {
    oha_version: String,
    cpus: usize,
    workers: usize,
    history_days: u64,
    history_samples: u64,
    history_events: u64,
    db_bytes: u64,
    api_state_bytes: usize,
    metrics_bytes: usize,
    idle_rss_kb: u64,
    runs: Vec<Run>,
    targets_met: bool,
}

/// Runs the benchmark.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let root = workspace_root();
    let target = target_dir(&root);
    let binary = match &args.runtime {
        Some(binary) => binary.clone(),
        None => {
            crate::cargo(&["build", "--release", "-p", "pithead-runtime"])?;
            target.join("release").join("pithead-runtime")
        }
    };
    let oha = ensure_oha(&target)?;
    let oha_version = output(Command::new(&oha).arg("--version"))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start tokio")?;
    let report = runtime.block_on(bench(args, &binary, &oha, oha_version.trim()))?;
    print_report(&report);
    let json = target.join("bench-dashboard.json");
    let text = serde_json::to_string_pretty(&report)?;
    let tmp = json.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &json).with_context(|| format!("cannot write {}", json.display()))?;
    println!("\nwritten: {}", json.display());
    Ok(())
}

/// `oha` under `target/tools` (installed there on first use, `--locked`).
fn ensure_oha(target: &Path) -> anyhow::Result<PathBuf> {
    let root = target.join("tools");
    let bin = root.join("bin").join("oha");
    if !bin.exists() {
        let root = root.display().to_string();
        crate::cargo(&["install", "oha", "--locked", "--root", &root])?;
    }
    Ok(bin)
}

fn output(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The runtime child, killed when dropped (also on an early error).
struct Runtime(Child);

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn bench(
    args: &BenchArgs,
    binary: &Path,
    oha: &Path,
    oha_version: &str,
) -> anyhow::Result<Report> {
    let fakes = Fakes::start(args.workers).await?;
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let now_ms = wall_ms();
    let (samples, events) = seed_history(data_dir.path(), now_ms, args.days)?;
    let bind = free_port()?;
    let env = [
        ("MONERO_RPC_URL", format!("http://{}", fakes.monerod)),
        ("TARI_GRPC_ADDRESS", fakes.tari.to_string()),
        ("DOCKER_CONTROL_URL", format!("http://{}", fakes.docker)),
        ("XMRIG_PROXY_API", format!("http://{}", fakes.proxy)),
        ("PROXY_AUTH_TOKEN", PROXY_TOKEN.to_owned()),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("DASHBOARD_BIND", bind.to_string()),
        ("MONERO_NODE_HOST", "monerod".to_owned()),
        ("LOCAL_MONERO_HOST", "monerod".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let child = Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let runtime = Runtime(child);
    let pid = runtime.0.id();
    let base = format!("http://{bind}");
    let state = wait_ready(&base, args.workers).await?;
    let api_state_bytes = get(&format!("{base}/api/state")).await?.len();
    let metrics_bytes = get(&format!("{base}/metrics")).await?.len();
    let db_bytes = dir_bytes(data_dir.path());
    let idle_rss_kb = rss_kb(pid)?;
    println!(
        "runtime ready: cycle {}, {} workers listed of {}, /api/state {api_state_bytes} B, \
         /metrics {metrics_bytes} B, idle RSS {idle_rss_kb} KiB",
        state["cycle"]["count"],
        state["workers"].as_array().map_or(0, Vec::len),
        state["workers_total"],
    );
    let mut runs = Vec::new();
    for path in ["/api/state", "/metrics"] {
        for rate in [Some(args.rate), None] {
            let url = format!("{base}{path}");
            let run = load(oha, &url, path, rate, args, pid).await?;
            println!(
                "  {path} {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, peak RSS {} KiB",
                rate.map_or("max".to_owned(), |r| format!("at {r}/s")),
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                run.peak_rss_kb
            );
            runs.push(run);
        }
    }
    drop(runtime);
    let targets_met = idle_rss_kb < TARGET_IDLE_RSS_KB
        && runs
            .iter()
            .filter(|r| r.rate.is_some())
            .all(|r| r.p99_ms < TARGET_P99_MS && r.failed == 0);
    Ok(Report {
        oha_version: oha_version.to_owned(),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        workers: args.workers,
        history_days: args.days,
        history_samples: samples,
        history_events: events,
        db_bytes,
        api_state_bytes,
        metrics_bytes,
        idle_rss_kb,
        runs,
        targets_met,
    })
}

/// The fake daemons, served on loopback for as long as this process runs.
struct Fakes {
    monerod: SocketAddr,
    tari: SocketAddr,
    docker: SocketAddr,
    proxy: SocketAddr,
}

impl Fakes {
    async fn start(workers: usize) -> anyhow::Result<Self> {
        let monerod = FakeMonerod::new(MoneroMode::Synced {
            height: MONERO_HEIGHT,
        });
        let tari = FakeTari::new(TariMode::Synced {
            height: TARI_HEIGHT,
        });
        let docker = FakeDocker::new(&["monerod", "tari", "p2pool", "xmrig-proxy"]);
        let proxy = FakeXmrigProxy::new(PROXY_TOKEN);
        proxy.set_workers(fleet(workers));
        let (monerod, _) = pithead_fakes::serve::spawn_local(monerod.router()).await?;
        let (docker, _) = pithead_fakes::serve::spawn_local(docker.router()).await?;
        let (proxy, _) = pithead_fakes::serve::spawn_local(proxy.router()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let tari_addr = listener.local_addr()?;
        let service = tari.grpc_service();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
        });
        Ok(Self {
            monerod,
            tari: tari_addr,
            docker,
            proxy,
        })
    }
}

/// `n` workers as a big farm looks: names `rig00000…`, nine in ten online, varied hashrates.
fn fleet(n: usize) -> Vec<WorkerRow> {
    (0..n)
        .map(|i| {
            let khs = 1.0 + (i % 97) as f64 / 10.0;
            let mut row = WorkerRow::new(&format!("rig{i:05}"), khs);
            row.ip = format!("10.{}.{}.{}", i / 65_536 % 256, i / 256 % 256, i % 256);
            if i % 10 == 9 {
                row.connections = 0;
                row.hashrate_khs = [0.0; 5];
            }
            row
        })
        .collect()
}

/// Writes `days` of history ending at `now_ms` at the default interval with the store's own
/// schema: samples with three outage gaps (no rows), and the events an outage leaves.
fn seed_history(dir: &Path, now_ms: u64, days: u64) -> anyhow::Result<(u64, u64)> {
    let path = dir.join(history::FILE_NAME);
    let mut conn = history::open_or_recreate(&path)?;
    let day_ms = 86_400_000;
    let start = now_ms - days * day_ms;
    // (start, length) of each outage, ms after `start`: 20 min, 2 h, 6 h.
    let outages: Vec<(u64, u64)> = [(3, 1_200_000), (11, 7_200_000), (23, 21_600_000)]
        .into_iter()
        .filter(|(day, _)| *day < days)
        .map(|(day, len)| (day * day_ms + 13 * 3_600_000, len))
        .collect();
    let tx = conn.transaction()?;
    let mut samples = 0;
    let mut events = 0;
    {
        let mut sample = tx.prepare("INSERT INTO samples (ts, p2pool, xvb) VALUES (?1, ?2, ?3)")?;
        let mut event = tx.prepare("INSERT INTO events (ts, kind, detail) VALUES (?1, ?2, ?3)")?;
        let mut at = 0;
        while at < days * day_ms {
            if let Some((_, end)) = outages
                .iter()
                .map(|(s, l)| (*s, s + l))
                .find(|(s, e)| (*s..*e).contains(&at))
            {
                at = end;
                continue;
            }
            let ts = i64::try_from(start + at)?;
            // A day-long wave around 40 kH/s, so averaged buckets differ.
            let wave = ((at % day_ms) as f64 / day_ms as f64 * std::f64::consts::TAU).sin();
            sample.execute((ts, 40_000.0 + 5_000.0 * wave, 0.0))?;
            samples += 1;
            at += UPDATE_INTERVAL_MS;
        }
        for (s, len) in &outages {
            for (offset, kind, detail) in [
                (0, "node down", "monero"),
                (0, "rejected", "monerod down"),
                (*len, "node up", "monero"),
                (*len, "readmitted", "monerod back"),
                (*len, "container start xmrig-proxy", ""),
            ] {
                event.execute((i64::try_from(start + s + offset)?, kind, detail))?;
                events += 1;
            }
        }
        // The first start: held while syncing, then released.
        for (kind, offset) in [("held", 0), ("released", 3_600_000)] {
            event.execute((i64::try_from(start + offset)?, kind, "sync"))?;
            events += 1;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok((samples, events))
}

/// The wall clock the runtime reads: the seeded history ends now.
fn wall_ms() -> u64 {
    SystemClock.wall_ms()
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

async fn get(url: &str) -> anyhow::Result<Vec<u8>> {
    let request = http::request(
        http::Method::GET,
        url,
        Default::default(),
        Default::default(),
    )?;
    let exchange = Exchange {
        timeout: Duration::from_secs(5),
        limit_bytes: 16 * 1024 * 1024,
    };
    let response = http::send(&TokioConnector, request, &exchange).await?;
    if !response.status().is_success() {
        bail!("GET {url}: {}", response.status());
    }
    Ok(response.into_body().to_vec())
}

/// Waits for `/healthz`, then for a cycle that listed every worker in `/api/state`.
async fn wait_ready(base: &str, workers: usize) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last = String::from("no answer");
    loop {
        if tokio::time::Instant::now() >= deadline {
            bail!("the runtime at {base} was not ready within 60 s: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Err(e) = get(&format!("{base}/healthz")).await {
            last = format!("/healthz: {e:#}");
            continue;
        }
        let state: Value = match get(&format!("{base}/api/state")).await {
            Ok(body) => serde_json::from_slice(&body)?,
            Err(e) => {
                last = format!("/api/state: {e:#}");
                continue;
            }
        };
        let cycles = state["cycle"]["count"].as_u64().unwrap_or(0);
        if cycles == 0 {
            last = "no cycle recorded yet".to_owned();
            continue;
        }
        if state["workers_total"].as_u64() != Some(workers as u64) {
            bail!(
                "after cycle {cycles} /api/state lists {} workers, the proxy has {workers} \
                 (cycle errors: {})",
                state["workers_total"],
                state["cycle"]["errors"]
            );
        }
        return Ok(state);
    }
}

fn rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// One `oha` run against `url`, sampling the runtime's RSS every 50 ms meanwhile.
async fn load(
    oha: &Path,
    url: &str,
    path: &'static str,
    rate: Option<u32>,
    args: &BenchArgs,
    pid: u32,
) -> anyhow::Result<Run> {
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(kb) = rss_kb(pid) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut command = tokio::process::Command::new(oha);
    command
        .args(["--no-tui", "--output-format", "json", "-z"])
        .arg(format!("{}s", args.duration))
        .args(["-c", &args.connections.to_string()])
        .arg(url);
    if let Some(rate) = rate {
        command.args(["-q", &rate.to_string()]);
    }
    let out = command
        .output()
        .await
        .with_context(|| format!("cannot run {}", oha.display()))?;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    if !out.status.success() {
        bail!(
            "oha failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: Value = serde_json::from_slice(&out.stdout).context("oha's JSON")?;
    let seconds = |key: &str| json["latencyPercentiles"][key].as_f64().unwrap_or(f64::NAN);
    let ok = json["statusCodeDistribution"]["200"].as_u64().unwrap_or(0);
    let total: u64 = json["statusCodeDistribution"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    // Requests still in flight when `-z` ends are cut by oha, not failed by the runtime.
    let errors: u64 = json["errorDistribution"].as_object().map_or(0, |m| {
        m.iter()
            .filter(|(kind, _)| kind.as_str() != "aborted due to deadline")
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    });
    Ok(Run {
        path,
        rate,
        requests_per_sec: json["summary"]["requestsPerSec"]
            .as_f64()
            .unwrap_or(f64::NAN),
        p50_ms: seconds("p50") * 1000.0,
        p99_ms: seconds("p99") * 1000.0,
        failed: total - ok + errors,
        peak_rss_kb: peak.load(Ordering::Relaxed),
    })
}

fn print_report(report: &Report) {
    println!(
        "\nbench-dashboard: {} workers, {} days of history ({} samples, {} events, DB {:.1} MB), \
         {} CPUs, {}",
        report.workers,
        report.history_days,
        report.history_samples,
        report.history_events,
        report.db_bytes as f64 / 1e6,
        report.cpus,
        report.oha_version
    );
    println!(
        "/api/state {} B, /metrics {} B; idle RSS {:.1} MB (target < {} MB)\n",
        report.api_state_bytes,
        report.metrics_bytes,
        report.idle_rss_kb as f64 / 1024.0,
        TARGET_IDLE_RSS_KB / 1024
    );
    println!(
        "{:<11} {:>8} {:>10} {:>9} {:>9} {:>7} {:>13}",
        "path", "rate", "req/s", "p50 ms", "p99 ms", "failed", "peak RSS MB"
    );
    for r in &report.runs {
        println!(
            "{:<11} {:>8} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>13.1}",
            r.path,
            r.rate.map_or("max".to_owned(), |q| q.to_string()),
            r.requests_per_sec,
            r.p50_ms,
            r.p99_ms,
            r.failed,
            r.peak_rss_kb as f64 / 1024.0
        );
    }
    println!(
        "\ntargets (p99 < {TARGET_P99_MS} ms at the fixed rate, idle RSS < {} MB): {}",
        TARGET_IDLE_RSS_KB / 1024,
        if report.targets_met { "met" } else { "MISSED" }
    );
}
