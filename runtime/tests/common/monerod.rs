//! A real Debian `monerod` (v0.18) on regtest, on loopback: start, mine, poll, kill on drop.
//!
//! Shared by `contract_real_monerod.rs` (the client against the daemon) and
//! `contract_real_monerod_runtime.rs` (the whole runtime against the daemon).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{SharedConnector, TokioConnector};
use pithead_runtime::observe::monero::{MoneroClient, MoneroInfo};
use tokio::time::Instant;

/// Debian's monerod.
pub const MONEROD: &str = "/usr/bin/monerod";
/// A valid regtest/mainnet address (monero's functional tests use it for generateblocks).
pub const MINER_ADDRESS: &str =
    "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWDm";

/// The skip policy of every real-daemon test: `true` when monerod is installed. When it is
/// missing, CI (`CI=true`) fails loudly and anywhere else a SKIP line naming `test` is printed.
pub fn monerod_available(test: &str) -> bool {
    if Path::new(MONEROD).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{MONEROD} is missing in CI: install the monero package (apt-get install monero)");
    }
    eprintln!("SKIP {test}: {MONEROD} not found (install Debian's monero package)");
    false
}

/// An ephemeral loopback port, free when this returns.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A monerod child process, killed (and reaped) on drop. The data dir outlives it so a node can
/// be restarted on the same chain.
pub struct Monerod {
    child: Child,
    /// The RPC port (loopback).
    pub rpc_port: u16,
    /// The P2P port (loopback).
    pub p2p_port: u16,
    log: PathBuf,
    args: Vec<String>,
}

impl Monerod {
    /// Starts a regtest node on `data_dir` with a fresh RPC port.
    pub fn start(data_dir: &Path, p2p_port: u16, extra: &[&str]) -> Self {
        Self::start_on(data_dir, free_port(), p2p_port, extra)
    }

    /// Starts a regtest node on `data_dir` with the given ports (a restart on the same ports).
    pub fn start_on(data_dir: &Path, rpc_port: u16, p2p_port: u16, extra: &[&str]) -> Self {
        let log = data_dir.join("monerod-test.log");
        let mut args: Vec<String> = [
            "--regtest",
            "--keep-fakechain",
            "--non-interactive",
            "--no-igd",
            "--no-zmq",
            "--fixed-difficulty",
            "1",
            "--disable-rpc-ban",
            "--rpc-bind-ip",
            "127.0.0.1",
            "--p2p-bind-ip",
            "127.0.0.1",
            "--log-level",
            "0",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend([
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--rpc-bind-port".to_owned(),
            rpc_port.to_string(),
            "--p2p-bind-port".to_owned(),
            p2p_port.to_string(),
            "--log-file".to_owned(),
            log.display().to_string(),
        ]);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let child = Command::new(MONEROD)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn monerod");
        Self {
            child,
            rpc_port,
            p2p_port,
            log,
            args,
        }
    }

    /// `http://127.0.0.1:<rpc port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    /// The command line for PROVENANCE.md: temp paths and ephemeral ports as placeholders,
    /// any argument containing `secret` masked.
    pub fn command_line(&self, secret: &str) -> String {
        let mut out = vec!["monerod".to_owned()];
        let mut previous = "";
        for a in &self.args {
            out.push(match previous {
                "--data-dir" => "<tempdir>".to_owned(),
                "--log-file" => "<tempdir>/monerod-test.log".to_owned(),
                "--rpc-bind-port" | "--p2p-bind-port" => "<free port>".to_owned(),
                "--add-exclusive-node" => "127.0.0.1:<p2p port of node A>".to_owned(),
                _ if !secret.is_empty() && a.contains(secret) => "user:***".to_owned(),
                _ => a.clone(),
            });
            previous = a;
        }
        out.join(" ")
    }

    /// The last 30 lines of the node's log file.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Panics (with the log tail) when the process has exited.
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "monerod exited early ({status}); log tail:\n{}",
                self.log_tail()
            );
        }
    }

    /// Kills the process (SIGKILL) and reaps it. The data dir stays.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Monerod {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client for `url` with a 10 s deadline.
pub fn client(url: &str, credentials: Option<(&str, &str)>) -> MoneroClient {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint = pithead_runtime::io::Endpoint::parse(url).expect("endpoint");
    MoneroClient::new(
        connector,
        &endpoint,
        credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        Exchange {
            timeout: Duration::from_secs(10),
            limit_bytes: 256 * 1024,
        },
    )
}

/// Polls get_info until it answers OK (and `accept` holds), or panics after `within`.
pub async fn wait_for(
    node: &mut Monerod,
    client: &MoneroClient,
    within: Duration,
    what: &str,
    accept: impl Fn(&MoneroInfo) -> bool,
) -> MoneroInfo {
    let deadline = Instant::now() + within;
    loop {
        node.assert_alive();
        let last = match client.get_info().await {
            Ok(info) if accept(&info) => return info,
            Ok(info) => format!("{info:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            Instant::now() < deadline,
            "monerod never became {what} within {within:?}; last: {last}\nlog tail:\n{}",
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Mines `amount` blocks in batches (each batch is one bounded RPC; mining takes about 80 ms a
/// block here, more on a loaded machine). Returns the last batch's reply.
pub async fn generate_blocks(url: &str, amount: u64) -> serde_json::Value {
    let connector: SharedConnector = Arc::new(TokioConnector);
    let endpoint = pithead_runtime::io::Endpoint::parse(url).expect("endpoint");
    let miner = MoneroClient::new(
        connector,
        &endpoint,
        None,
        Exchange {
            timeout: Duration::from_secs(60),
            limit_bytes: 256 * 1024,
        },
    );
    let mut left = amount;
    let mut reply = serde_json::Value::Null;
    while left > 0 {
        let batch = left.min(25);
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": "0", "method": "generateblocks",
            "params": {"amount_of_blocks": batch, "wallet_address": MINER_ADDRESS},
        });
        let response = miner
            .post_json_rpc(Bytes::from(serde_json::to_vec(&body).expect("json")))
            .await
            .expect("generateblocks");
        reply = serde_json::from_slice(response.body()).expect("generateblocks reply is JSON");
        assert_eq!(reply["result"]["status"], "OK", "{reply}");
        left -= batch;
    }
    reply
}

/// Starts node A on `dir` offline, mines `blocks` blocks, then restarts it online (no outgoing
/// peers, same ports) so another node can sync from it. Returns the online node.
pub async fn mined_source_node(dir: &Path, blocks: u64, ready_within: Duration) -> Monerod {
    let p2p = free_port();
    let mut a = Monerod::start(dir, p2p, &["--offline"]);
    let a_client = client(&a.url(), None);
    wait_for(&mut a, &a_client, ready_within, "ready", |_| true).await;
    let mined = generate_blocks(&a.url(), blocks).await;
    assert_eq!(mined["result"]["height"], blocks, "{mined}");
    drop(a);
    let mut a = Monerod::start(dir, p2p, &["--out-peers", "0"]);
    let a_client = client(&a.url(), None);
    wait_for(&mut a, &a_client, ready_within, "back up", |i| {
        i.height == blocks + 1
    })
    .await;
    a
}
