//! The `pithead-fake` binary: starts, honours `--initial` and `--control-listen`, refuses a bad
//! `--initial` with the control API's message, and stops on SIGTERM.

mod common;

use std::{net::SocketAddr, process::Stdio};

use common::{get, post_json, WAIT};
use http::StatusCode;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const BIN: &str = env!("CARGO_BIN_EXE_pithead-fake");

/// Start the binary and wait (bounded) until it has logged `n` bound addresses; returns them in
/// log order.
async fn start(args: &[&str], n: usize) -> (Child, Vec<SocketAddr>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn pithead-fake");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut addrs = Vec::new();
    let wait = async {
        while addrs.len() < n {
            let Some(line) = lines.next_line().await.expect("read stderr") else {
                panic!("pithead-fake exited before listening");
            };
            if let Some(rest) = line.split("addr=").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                addrs.push(addr.parse().expect("bound address"));
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .expect("pithead-fake did not start in time");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addrs)
}

#[tokio::test]
async fn monerod_with_initial_state_and_a_separate_control_port() {
    let (mut child, addrs) = start(
        &[
            "monerod",
            "--listen",
            "127.0.0.1:0",
            "--control-listen",
            "127.0.0.1:0",
            "--initial",
            r#"{"mode":"syncing","height":100,"target":200}"#,
        ],
        2,
    )
    .await;
    let (rpc, control) = (addrs[0], addrs[1]);
    let v = get(rpc, "/get_info").await.json();
    assert_eq!(
        (v["height"].as_u64(), v["target_height"].as_u64()),
        (Some(100), Some(200))
    );
    assert_eq!(get(rpc, "/control").await.status, StatusCode::NOT_FOUND);

    let r = post_json(control, "/control", r#"{"mode":"synced","height":3000}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(get(rpc, "/get_info").await.json()["synchronized"], true);
    let r = post_json(control, "/control", r#"{"mode":"nope"}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    #[cfg(unix)]
    {
        let pid = child.id().expect("pid");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let exit = tokio::time::timeout(WAIT, child.wait())
            .await
            .expect("stops on SIGTERM in time")
            .expect("wait");
        assert!(exit.success(), "{exit:?}");
    }
    #[cfg(not(unix))]
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn docker_serves_the_listed_containers() {
    let (_child, addrs) = start(
        &[
            "docker",
            "--listen",
            "127.0.0.1:0",
            "--containers",
            "itest-p2pool,itest-xmrig-proxy=exited",
        ],
        1,
    )
    .await;
    let v = get(addrs[0], "/v1.47/containers/itest-xmrig-proxy/json")
        .await
        .json();
    assert_eq!(v["State"]["Status"], "exited");
    let v = get(addrs[0], "/control").await.json();
    assert_eq!(v["containers"]["itest-p2pool"]["running"], true);
}

#[tokio::test]
async fn a_bad_initial_state_is_refused_with_the_control_message() {
    let out = tokio::time::timeout(
        WAIT,
        Command::new(BIN)
            .args([
                "tari",
                "--listen",
                "127.0.0.1:0",
                "--control-listen",
                "127.0.0.1:0",
            ])
            .args(["--initial", r#"{"mode":"syncing","local":1}"#])
            .output(),
    )
    .await
    .expect("exits in time")
    .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing field `tip`"), "{stderr}");

    let out = Command::new(BIN)
        .args(["tari", "--listen", "127.0.0.1:0"])
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--control-listen"));
}

/// `probe` is the images' health check (they have no shell): exit 0 on a 2xx, 1 otherwise.
#[tokio::test]
async fn probe_exits_0_on_a_2xx_and_1_on_anything_else() {
    let (_child, addrs) = start(&["p2pool", "--listen", "127.0.0.1:0"], 1).await;
    let probe = |url: String| async move {
        Command::new(BIN)
            .args(["probe", &url])
            .output()
            .await
            .expect("run probe")
    };
    let ok = probe(format!("http://{}/control", addrs[0])).await;
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let missing = probe(format!("http://{}/no-such-path", addrs[0])).await;
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("404"),
        "{missing:?}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = probe(format!("http://{closed}/control")).await;
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let https = probe("https://127.0.0.1:1/".to_owned()).await;
    assert_eq!(https.status.code(), Some(1), "{https:?}");
}
