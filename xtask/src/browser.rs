//! `cargo xtask browser`: the dashboard in a real headless Chromium, driven over WebDriver
//! (Debian's `chromium` + `chromium-driver`), against the real runtime with in-process fakes on
//! loopback (as `cargo xtask demo`).
//!
//! States walked: `syncing` (both chains behind, miners held), `released`, `rejected` (monerod
//! down past the down window) and `outage-gap` (readmitted; the history seeded with a 12-minute
//! hole). In each: a fresh page load, no console error and no uncaught exception (Chromium's
//! browser log, read through chromedriver), the badges and the cards' texts equal to what
//! `/api/state` says at that moment, and a PNG under `target/screenshots/<state>.png`. In
//! `outage-gap` the chart's pixels are read back: no line is drawn across the hole, and the range
//! selector re-asks `/api/state` with `range`.
//!
//! Chromium or chromedriver missing: a loud SKIP, or a failure under `CI=true`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::p2pool::{FakeP2pool, P2poolState};
use pithead_fakes::tari::{FakeTari, TariMode};
use pithead_fakes::xmrig_proxy::{FakeXmrigProxy, WorkerRow};
use pithead_fakes::xvb::FakeXvb;
use pithead_runtime::app::{App, Edges};
use pithead_runtime::config::Config;
use pithead_runtime::io::{Clock, SystemClock, TokioConnector};
use pithead_runtime::observe::system::{FixedSystem, HugePages, SystemReading};
use pithead_runtime::view::{ApiState, Sample, StateReader};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const MONERO_TARGET: u64 = 3_000_000;
const TARI_TARGET: u64 = 60_000;
const PROXY_TOKEN: &str = "browser-test-token";
const DONOR: &str = "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge";
/// The seeded history's hole: no sample for 12 minutes, half an hour ago.
const HOLE_MS: u64 = 12 * 60_000;
/// Every wait on the runtime or the page is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

/// Runs the browser test (skips loudly without Chromium, fails so under `CI=true`).
pub fn run() -> anyhow::Result<()> {
    let started = tokio::time::Instant::now();
    if !tools_present()? {
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start tokio")?;
    runtime.block_on(walk())?;
    eprintln!(
        "browser: every state passed in {:.1} s (screenshots in target/screenshots/)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn tools_present() -> anyhow::Result<bool> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return Ok(true);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        bail!(
            "{} missing in CI: install Debian's chromium and chromium-driver (.ci/run does)",
            missing.join(" and ")
        );
    }
    eprintln!(
        "SKIP browser: {} not found (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    Ok(false)
}

/// The runtime and the fakes it talks to.
struct Stack {
    base: String,
    state: StateReader,
    monerod: FakeMonerod,
    tari: FakeTari,
    docker: FakeDocker,
    _data_dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<Result<(), pithead_runtime::app::AppError>>,
}

async fn stack() -> anyhow::Result<Stack> {
    let monerod = FakeMonerod::new(MoneroMode::Syncing {
        height: MONERO_TARGET * 87 / 100 + 1_234,
        target: MONERO_TARGET,
    });
    let tari = FakeTari::new(TariMode::Syncing {
        local: TARI_TARGET * 64 / 100 + 77,
        tip: TARI_TARGET,
    });
    // The shipped stack's services; the runtime starts p2pool and xmrig-proxy at the release.
    let docker = FakeDocker::with_state(&[
        ("tor", true),
        ("monerod", true),
        ("tari", true),
        ("p2pool", false),
        ("xmrig-proxy", false),
        ("dashboard", true),
        ("docker-proxy", true),
        ("docker-control", true),
        ("caddy", true),
    ]);
    let proxy = FakeXmrigProxy::new(PROXY_TOKEN);
    let mut laptop = WorkerRow::new("laptop", 0.0);
    laptop.connections = 0;
    laptop.hashrate_khs = [0.0, 0.0, 0.42, 0.9, 1.1];
    laptop.accepted = 311;
    let mut rig_a = WorkerRow::new("rig-a", 3.2);
    rig_a.hashrate_khs = [3.25, 3.2, 3.15, 3.1, 3.1];
    rig_a.accepted = 1_482;
    rig_a.rejected = 3;
    let mut rig_b = WorkerRow::new("rig-b", 2.1);
    rig_b.hashrate_khs = [2.05, 2.1, 2.08, 2.0, 2.0];
    rig_b.accepted = 951;
    proxy.set_workers(vec![rig_a, rig_b, laptop]);
    let p2pool = FakeP2pool::new(P2poolState::default());
    let xvb = FakeXvb::new();
    xvb.set_donor(1_450.0, 1_210.0, 0);
    // Alert sinks on loopback (http:// to a loopback IP is allowed): the delivery card shows
    // their counters once the outage's alerts reach them.
    let sinks = pithead_fakes::sinks::FakeSinks::new();

    let (monerod_addr, _) = pithead_fakes::serve::spawn_local(monerod.router()).await?;
    let (docker_addr, _) = pithead_fakes::serve::spawn_local(docker.router()).await?;
    let (proxy_addr, _) = pithead_fakes::serve::spawn_local(proxy.router()).await?;
    let (p2pool_addr, _) = pithead_fakes::serve::spawn_local(p2pool.router()).await?;
    let (xvb_addr, _) = pithead_fakes::serve::spawn_local(xvb.router()).await?;
    let (sinks_addr, _) = pithead_fakes::serve::spawn_local(sinks.router()).await?;
    let tari_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let tari_addr = tari_listener.local_addr()?;
    let tari_service = tari.grpc_service();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(tari_service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(tari_listener))
            .await
    });

    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let clock = Arc::new(SystemClock);
    seed_history(data_dir.path(), clock.wall_ms())?;
    let env = [
        ("UPDATE_INTERVAL", "1".to_owned()),
        ("NODE_DOWN_AFTER_SEC", "3".to_owned()),
        ("NODE_RECOVERY_AFTER_SEC", "2".to_owned()),
        ("RPC_TIMEOUT_SEC", "2".to_owned()),
        ("MONERO_RPC_URL", format!("http://{monerod_addr}")),
        ("TARI_GRPC_ADDRESS", tari_addr.to_string()),
        ("DOCKER_CONTROL_URL", format!("http://{docker_addr}")),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("DASHBOARD_BIND", "127.0.0.1:0".to_owned()),
        ("MONERO_NODE_HOST", "monerod".to_owned()),
        ("LOCAL_MONERO_HOST", "monerod".to_owned()),
        ("XMRIG_PROXY_API", format!("http://{proxy_addr}")),
        ("PROXY_AUTH_TOKEN", PROXY_TOKEN.to_owned()),
        ("XVB_ENABLED", "true".to_owned()),
        ("NTFY_URL", format!("http://{sinks_addr}/pithead")),
        (
            "NOTIFY_WEBHOOK_URLS",
            format!("http://{sinks_addr}/hook/ops"),
        ),
        ("P2POOL_API", format!("http://{p2pool_addr}")),
        ("XVB_API_URL", format!("http://{xvb_addr}")),
        ("XVB_DONOR_ID", DONOR.to_owned()),
    ];
    let config =
        Config::from_lookup(|key| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let host = FixedSystem::new(SystemReading {
        cpu_percent: Some(23.4),
        mem_percent: Some(61.8),
        disk_percent: Some(72.5),
        hugepages: Some(HugePages {
            total: 1_280,
            free: 320,
        }),
    });
    let app = App::build(
        config,
        Edges {
            connector: Arc::new(TokioConnector),
            clock,
        },
    )?
    .with_system(Arc::new(host));
    let state = app.state();
    let server = tokio::spawn(app.run(listener));
    Ok(Stack {
        base,
        state,
        monerod,
        tari,
        docker,
        _data_dir: data_dir,
        server,
    })
}

/// 58 minutes of history every 10 s, ending now, with no sample in a 12-minute stretch from 40
/// minutes ago: the chart must show one outage gap there.
fn seed_history(dir: &Path, now_ms: u64) -> anyhow::Result<()> {
    let (writer, reader) = pithead_runtime::store::history::open(dir);
    let first = now_ms - 58 * 60_000;
    let hole = (now_ms - 40 * 60_000)..(now_ms - 40 * 60_000 + HOLE_MS);
    for i in 0..=(58 * 6) {
        let x = first + i * 10_000;
        if hole.contains(&x) {
            continue;
        }
        // A plausible wobble, and XvB slices every few minutes.
        let t = f64::from(u32::try_from(i)?);
        let total = 5_300.0 + 180.0 * (t / 9.0).sin() + 60.0 * (t / 2.3).cos();
        let to_xvb = (i / 18) % 3 == 1;
        writer.sample(Sample {
            x,
            p2pool: if to_xvb { total * 0.25 } else { total },
            xvb: if to_xvb { total * 0.75 } else { 0.0 },
        });
        // The writer's queue is bounded (a full one drops rows): let it drain.
        if i % 128 == 127 {
            writer.flush();
        }
    }
    writer.flush();
    ensure!(reader.healthy(), "the history refused the seeded samples");
    Ok(())
}

/// chromedriver, killed and reaped on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn chromedriver(log: &Path) -> anyhow::Result<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let out =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(out.try_clone()?)
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
    let driver = Driver { child, port };
    // Ready when /status says so (bounded), not after a sleep.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(status) = get_json(&format!("http://127.0.0.1:{port}/status")).await {
            if status["value"]["ready"] == true {
                return Ok(driver);
            }
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not become ready within {WAIT:?} (see {})",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_json(url: &str) -> anyhow::Result<Value> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(HttpConnector::new());
    let response = tokio::time::timeout(Duration::from_secs(5), client.get(url.parse()?))
        .await
        .with_context(|| format!("GET {url}: no answer within 5 s"))??;
    ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    let body = response.into_body().collect().await?.to_bytes();
    serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))
}

/// Chromium's browser log since the last read (chromedriver's `se/log`; reading clears it).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The log's entries at level SEVERE: console errors, uncaught exceptions, CSP refusals,
/// failed loads.
async fn severe(client: &Client) -> anyhow::Result<Vec<String>> {
    let log = client.issue_cmd(BrowserLog).await?;
    Ok(log
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect())
}

async fn browser(driver: &Driver, profile: &Path) -> anyhow::Result<Client> {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--window-size=1360,1640",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .context("cannot open a Chromium session through chromedriver")
}

/// The log reader must see what it is meant to catch, or a clean log proves nothing.
async fn probe_log(client: &Client) -> anyhow::Result<()> {
    client
        .execute(
            "console.error('pithead-probe-console'); \
             setTimeout(() => { throw new Error('pithead-probe-uncaught'); }, 0);",
            vec![],
        )
        .await?;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        seen.extend(severe(client).await?);
        let both = ["pithead-probe-console", "pithead-probe-uncaught"]
            .iter()
            .all(|p| seen.iter().any(|m| m.contains(p)));
        if both {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the browser log missed a console error or an uncaught exception: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn walk() -> anyhow::Result<()> {
    let shots = PathBuf::from("target/screenshots");
    std::fs::create_dir_all(&shots).context("cannot create target/screenshots")?;
    let stack = stack().await?;
    let driver = chromedriver(&shots.join("chromedriver.log")).await?;
    let profile = tempfile::tempdir()?;
    let client = browser(&driver, profile.path()).await?;
    let result = states(&stack, &client, &shots).await;
    let _ = client.close().await;
    stack.server.abort();
    result
}

async fn states(stack: &Stack, client: &Client, shots: &Path) -> anyhow::Result<()> {
    client.goto("about:blank").await?;
    probe_log(client).await?;

    wait(&stack.state, "miners held while both chains sync", |s| {
        s.miner_held && s.syncing && s.sync.monero.target > 0 && !s.services.is_empty()
    })
    .await?;
    check_state(stack, client, shots, "syncing").await?;

    stack.monerod.set_mode(MoneroMode::Synced {
        height: MONERO_TARGET,
    });
    stack.tari.set_mode(TariMode::Synced {
        height: TARI_TARGET,
    });
    wait(&stack.state, "miners released", |s| {
        s.miner_released && !s.miner_held && stack.docker.is_running("xmrig-proxy") == Some(true)
    })
    .await?;
    check_state(stack, client, shots, "released").await?;

    stack.monerod.set_mode(MoneroMode::Down);
    wait(&stack.state, "workers rejected", |s| s.workers_rejected).await?;
    check_state(stack, client, shots, "rejected").await?;

    stack.monerod.set_mode(MoneroMode::Synced {
        height: MONERO_TARGET,
    });
    wait(&stack.state, "workers readmitted", |s| !s.workers_rejected).await?;
    check_state(stack, client, shots, "outage-gap").await?;
    check_chart(stack, client).await?;
    no_errors(client, "outage-gap (after the range switch)").await?;
    odd_documents(client).await
}

/// Documents with fields missing, null or of the wrong type: the page renders each without
/// throwing (a throw fails `execute`) and without logging an error.
async fn odd_documents(client: &Client) -> anyhow::Result<()> {
    client
        .execute(
            r#"
            for (const doc of [
              null, {}, [], "x",
              { sync: null, nodes: null, badges: [null, { text: 5 }], workers: [null, {}],
                system: { cpu: null, hugepages: 3 }, services: [{}], xvb: { enabled: true },
                chart: { p2pool: [{ x: 1, y: null }, null, { x: "a" }], xvb: null },
                cycle: { errors: null }, alerts: [{ severity: "critical", text: "disk" }, "plain"] },
              { sync: { monero: { state: "syncing", percent: null, current: 1, target: 0 } },
                workers_total: 5000, workers: [], alerts: { active: [] } },
            ]) render(doc);
            "#,
            vec![],
        )
        .await
        .context("the page threw on a document with odd fields")?;
    no_errors(client, "odd documents").await?;
    eprintln!("browser: documents with missing, null and mistyped fields render without an error");
    Ok(())
}

async fn wait(
    state: &StateReader,
    what: &str,
    done: impl Fn(&ApiState) -> bool,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if done(&state.get()) {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn no_errors(client: &Client, state: &str) -> anyhow::Result<()> {
    let errors = severe(client).await?;
    ensure!(
        errors.is_empty(),
        "{state}: the page logged errors: {errors:#?}"
    );
    Ok(())
}

/// Loads the page afresh, waits for its texts to equal `/api/state`'s, checks the log, and
/// writes the screenshot.
async fn check_state(
    stack: &Stack,
    client: &Client,
    shots: &Path,
    name: &str,
) -> anyhow::Result<()> {
    client.goto(&format!("{}/", stack.base)).await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("body[data-cycle]"))
        .await
        .with_context(|| format!("{name}: the page never rendered a state"))?;
    // The runtime moves on every second; the page polls every two: retry until one moment's
    // document and the page agree (bounded).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let doc = get_json(&format!("{}/api/state?range=1h", stack.base)).await?;
        let want = expected(&doc);
        let got = client.execute(PAGE_TEXTS, vec![]).await?;
        if got == want {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{name}: the page does not show /api/state\n  page: {got}\n  want: {want}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    no_errors(client, name).await?;
    let png = client.screenshot().await?;
    ensure!(
        png.starts_with(b"\x89PNG"),
        "{name}: the screenshot is not a PNG"
    );
    let path = shots.join(format!("{name}.png"));
    std::fs::write(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "browser: {name}: page matches /api/state, no console error → {}",
        path.display()
    );
    Ok(())
}

/// What the page shows, read back from the DOM (the keys of [`expected`]).
const PAGE_TEXTS: &str = r##"
const t = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
const chain = (c) => [t(c + "-pct"), t(c + "-state"), t(c + "-height"), t(c + "-remaining"), t(c + "-node")];
return {
  badges: [...document.querySelectorAll("#badges .badge")].map((b) => [b.textContent, b.className]),
  gate: t("gate"),
  failover: t("failover"),
  hashrate: t("hashrate"),
  db: t("db"),
  monero: chain("monero"),
  tari: chain("tari"),
  workers: [...document.querySelectorAll("#workers-body tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
  services: [...document.querySelectorAll("#services li")].map((li) => [li.querySelector(".svc").textContent, li.querySelector(".verdict").textContent]),
  system: ["sys-cpu", "sys-mem", "sys-disk"].map((id) => document.querySelector("#" + id + " .val").textContent),
  hugepages: t("sys-hugepages"),
  xvb: document.getElementById("card-xvb").hidden ? null : [t("xvb-pool"), ...[...document.querySelectorAll("#xvb dd")].slice(0, 4).map((d) => d.textContent)],
  breaks: Number(document.getElementById("chart").dataset.breaks),
  alerts: document.getElementById("card-alerts").hidden ? null : [...document.querySelectorAll("#alerts li")].map((li) => [li.querySelector(".svc").textContent, li.querySelector(".verdict").textContent]),
};
"##;

/// What the page must show for `doc`, by the dashboard's rules (docs/dashboard.md).
fn expected(doc: &Value) -> Value {
    let chain = |name: &str| {
        let p = &doc["sync"][name];
        let known = p["target"].as_u64().is_some_and(|t| t > 0);
        let state = match p["state"].as_str() {
            Some("loading") => "waiting for the node",
            Some("syncing") => "syncing",
            Some("done") => "synced",
            _ => "—",
        };
        json!([
            format!("{}%", p["percent"]),
            state,
            if known {
                format!("{} / {}", group(&p["current"]), group(&p["target"]))
            } else {
                "—".into()
            },
            if known {
                format!("{} blocks", group(&p["remaining"]))
            } else {
                "—".into()
            },
            node_health(&doc["nodes"][name]),
        ])
    };
    let badges: Vec<Value> = doc["badges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            json!([
                b["text"],
                format!("badge {}", b["variant"].as_str().unwrap_or("outline"))
            ])
        })
        .collect();
    let workers: Vec<Value> = doc["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            json!([
                w["name"],
                w["status"],
                w["pool"],
                hashrate(&w["h15"]),
                hashrate(&w["h60"]),
                group(&w["accepted"]),
                group(&w["rejected"]),
            ])
        })
        .collect();
    let services: Vec<Value> = doc["services"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| json!([v["name"], v["verdict"]]))
        .collect();
    let level = |k: &str| match doc["system"][k]["percent"].as_f64() {
        // JavaScript's toFixed(0) rounds half up, as round() does for a percentage.
        Some(p) => format!("{:.0}%", p.round()),
        None => "—".into(),
    };
    let hp = &doc["system"]["hugepages"];
    let xvb = &doc["xvb"];
    let xvb = if xvb["enabled"] == true {
        json!([
            format!("hashing to {}", xvb["pool"].as_str().unwrap_or("unknown")),
            xvb["mode"],
            xvb["guard"].as_str().unwrap_or("none"),
            format!(
                "{} → {}",
                xvb["current_tier"].as_str().unwrap_or("none"),
                xvb["target_tier"].as_str().unwrap_or("none")
            ),
            format!("{:.0}%", xvb["fraction"].as_f64().unwrap_or(0.0) * 100.0),
        ])
    } else {
        Value::Null
    };
    let breaks = doc["chart"]["p2pool"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["y"].is_null())
        .count();
    let sinks: Vec<Value> = doc["alerts"]["sinks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap_or(0);
            let mut line = format!(
                "sent {} · retried {} · dropped {} · queued {}",
                n("sent"),
                n("retried"),
                n("dropped"),
                n("queued")
            );
            if let Some(e) = c["last_error"].as_str() {
                line.push_str(&format!(" · last error {e}"));
            }
            json!([c["label"], line])
        })
        .collect();
    let alerts = if sinks.is_empty() {
        Value::Null
    } else {
        Value::Array(sinks)
    };
    json!({
        "alerts": alerts,
        "badges": badges,
        "gate": if doc["miner_held"] == false { "Released" } else { "Held" },
        "failover": if doc["workers_rejected"] == true { "Rejected" } else { "Accepted" },
        "hashrate": hashrate(&doc["hashrate"]),
        "db": if doc["db_healthy"] == false { "Failing" } else { "Healthy" },
        "monero": chain("monero"),
        "tari": chain("tari"),
        "workers": workers,
        "services": services,
        "system": [level("cpu"), level("mem"), level("disk")],
        "hugepages": format!("{} · {}", hp["status"].as_str().unwrap_or("—"), hp["value"].as_str().unwrap_or("—")),
        "xvb": xvb,
        "breaks": breaks,
    })
}

fn node_health(node: &Value) -> &'static str {
    if node.is_null() {
        "not in this stack"
    } else if node["down"] == true {
        "down"
    } else if node["ever_up"] != true {
        "not yet up"
    } else if node["reachable"] != true {
        "debouncing"
    } else {
        "reachable"
    }
}

/// 1234567 → "1,234,567".
fn group(v: &Value) -> String {
    let Some(n) = v.as_f64() else {
        return "—".into();
    };
    let digits = format!("{:.0}", n.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// H/s → "812 H/s", "5.50 kH/s", "1.20 MH/s".
fn hashrate(v: &Value) -> String {
    match v.as_f64() {
        None => "—".into(),
        Some(h) if h < 1_000.0 => format!("{:.0} H/s", h.round()),
        Some(h) if h < 1e6 => format!("{:.2} kH/s", h / 1_000.0),
        Some(h) => format!("{:.2} MH/s", h / 1e6),
    }
}

/// Reads the chart's canvas back: at every outage break no series colour is drawn, beside it the
/// series are; then the range selector re-asks with `range=24h` and the x axis spans a day.
const CHART_PIXELS: &str = r#"
const u = window.pithead && window.pithead.plot;
if (!u) return { error: "no chart" };
const ctx = u.ctx;
const top = Math.round(u.bbox.top), height = Math.round(u.bbox.height);
const isSeries = (r, g, b, a) => a > 200 && ((r > 200 && g > 80 && g < 170 && b < 90) || (b > 200 && r < 120 && g > 120));
const coloured = (xval) => {
  const px = Math.round(u.valToPos(xval, "x", true));
  let n = 0;
  for (let dx = -1; dx <= 1; dx++) {
    const d = ctx.getImageData(px + dx, top, 1, height).data;
    for (let k = 0; k < d.length; k += 4) if (isSeries(d[k], d[k + 1], d[k + 2], d[k + 3])) n++;
  }
  return n;
};
const [xs, p, v] = u.data;
const gaps = [], beside = [];
for (let i = 1; i + 1 < xs.length; i++) {
  if (p[i] === null && v[i] === null) {
    gaps.push(coloured(xs[i]));
    beside.push(coloured((xs[i - 2] + xs[i - 1]) / 2));
  }
}
return { gaps, beside, points: xs.length };
"#;

async fn check_chart(stack: &Stack, client: &Client) -> anyhow::Result<()> {
    let doc = get_json(&format!("{}/api/state?range=1h", stack.base)).await?;
    let breaks = doc["chart"]["p2pool"]
        .as_array()
        .map_or(0, |a| a.iter().filter(|p| p["y"].is_null()).count());
    ensure!(
        breaks >= 1,
        "outage-gap: /api/state has no outage break: {}",
        doc["chart"]
    );
    let pixels = client.execute(CHART_PIXELS, vec![]).await?;
    let gaps: Vec<u64> = serde_json::from_value(pixels["gaps"].clone())
        .with_context(|| format!("outage-gap: chart read-back failed: {pixels}"))?;
    let beside: Vec<u64> = serde_json::from_value(pixels["beside"].clone())?;
    ensure!(
        gaps.len() == breaks,
        "outage-gap: the chart has {} breaks, /api/state {breaks}",
        gaps.len()
    );
    ensure!(
        gaps.iter().all(|&n| n == 0),
        "outage-gap: a line is drawn across an outage (series pixels at the breaks: {gaps:?})"
    );
    ensure!(
        beside.iter().all(|&n| n > 0),
        "outage-gap: no series drawn beside the breaks ({beside:?}): the pixel check sees nothing"
    );
    eprintln!(
        "browser: outage-gap: {breaks} break(s), no line across them (series pixels beside: {beside:?})"
    );

    client
        .find(Locator::Css("#ranges button[data-range='24h']"))
        .await?
        .click()
        .await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let span = client
            .execute(
                "const u = window.pithead.plot; return u.scales.x.max - u.scales.x.min;",
                vec![],
            )
            .await?
            .as_f64()
            .unwrap_or_default();
        let url = client.current_url().await?;
        if (span - 86_400.0).abs() < 1.0 && url.query() == Some("range=24h") {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "range selector: the x axis spans {span} s after picking 24h (url {url})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("browser: range selector: 24h re-asked /api/state and the axis spans a day");
    Ok(())
}
