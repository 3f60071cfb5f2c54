//! The daemon binary with every secret configured (every alert sink, the heartbeat, monerod's
//! RPC password, xmrig-proxy's token), logging at `trace`, through a release, a failing sink and
//! a monerod outage: no raw secret appears in any line it printed, in `/api/state` or in
//! `/metrics`. The fakes are in this process on loopback; the daemon is the real process.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use pithead_fakes::docker::FakeDocker;
use pithead_fakes::monerod::{FakeMonerod, MoneroMode};
use pithead_fakes::serve::spawn_local;
use pithead_fakes::sinks::{Expect, FakeSinks, SinkClass, SinkMode};
use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOT_TOKEN: &str = "7700111222:BINbotTOKEN-never-printed";
const CHAT_ID: &str = "-1004433221100";
const WEBHOOK_SECRET: &str = "bin-webhook-secret-never-printed";
const NTFY_TOKEN: &str = "tk_binntfytokenneverprinted";
const CHECK_ID: &str = "9a8b7c6d-bin-check";
const HOOK_NAME: &str = "hookNAMEnever-printed";
const TOPIC: &str = "topicNEVERprinted";
const RPC_PASSWORD: &str = "rpc-pw-never-printed-4713";
const PROXY_TOKEN: &str = "proxy-token-never-printed-4714";

/// Every value that must never be printed or served.
const SECRETS: [&str; 9] = [
    BOT_TOKEN,
    CHAT_ID,
    WEBHOOK_SECRET,
    NTFY_TOKEN,
    CHECK_ID,
    HOOK_NAME,
    TOPIC,
    RPC_PASSWORD,
    PROXY_TOKEN,
];

/// A piped stream read to its end on a thread (so a chatty `trace` log never fills the pipe).
fn drain(stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut stream = stream;
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `GET path` on the dashboard: the whole reply, head and body.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("dashboard");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.expect("reply read");
    String::from_utf8_lossy(&reply).into_owned()
}

/// Waits (bounded) until `done` holds of what reached the sinks.
async fn wait_for(
    sinks: &FakeSinks,
    what: &str,
    child: &mut Child,
    done: impl Fn(&FakeSinks) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done(sinks) {
        if let Some(status) = child.try_wait().expect("the daemon's status") {
            panic!("the daemon exited ({status}) before {what}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 60 s; the sinks saw {:#?}",
            sinks.requests()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn delivered(sinks: &FakeSinks, class: SinkClass, event: &str) -> bool {
    sinks
        .requests()
        .iter()
        .any(|r| r.class == class && r.event.as_deref() == Some(event) && r.delivered())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_an_error_the_state_or_the_metrics() {
    let monerod = FakeMonerod::new(MoneroMode::Synced { height: 3_000 })
        .with_digest_auth("operator", RPC_PASSWORD);
    let docker = FakeDocker::new(&["p2pool", "xmrig-proxy"]);
    let proxy = FakeXmrigProxy::new(PROXY_TOKEN);
    let sinks = FakeSinks::new().with_expect(Expect {
        telegram_token: Some(BOT_TOKEN.to_owned()),
        telegram_chat_id: Some(CHAT_ID.to_owned()),
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ntfy_token: Some(NTFY_TOKEN.to_owned()),
    });
    // ntfy fails throughout: its errors are logged (and must not carry its URL or token).
    sinks.set_mode(SinkClass::Ntfy, SinkMode::UNAVAILABLE);
    let (monerod_addr, _m) = spawn_local(monerod.router()).await.unwrap();
    let (docker_addr, _d) = spawn_local(docker.router()).await.unwrap();
    let (proxy_addr, _p) = spawn_local(proxy.router()).await.unwrap();
    let (sinks_addr, _s) = spawn_local(sinks.router()).await.unwrap();
    let dashboard = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let base = format!("http://{sinks_addr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_pithead-runtime"))
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("UPDATE_INTERVAL", "1")
        .env("NODE_DOWN_AFTER_SEC", "3")
        .env("NODE_RECOVERY_AFTER_SEC", "2")
        .env("RPC_TIMEOUT_SEC", "1")
        .env("MONERO_RPC_URL", format!("http://{monerod_addr}"))
        .env("MONERO_RPC_USER", "operator")
        .env("MONERO_RPC_PASSWORD", RPC_PASSWORD)
        .env("TARI_GRPC_ADDRESS", "")
        .env("DOCKER_CONTROL_URL", format!("http://{docker_addr}"))
        .env("XMRIG_PROXY_API", format!("http://{proxy_addr}"))
        .env("PROXY_AUTH_TOKEN", PROXY_TOKEN)
        .env("DASHBOARD_BIND", dashboard.to_string())
        .env("DATA_DIR", data.path())
        .env("TELEGRAM_ENABLED", "true")
        .env("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        .env("TELEGRAM_CHAT_ID", CHAT_ID)
        .env("TELEGRAM_API_BASE", &base)
        .env("NOTIFY_WEBHOOK_URLS", format!("{base}/hook/{HOOK_NAME}"))
        .env("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("NTFY_URL", format!("{base}/{TOPIC}"))
        .env("NTFY_TOKEN", NTFY_TOKEN)
        .env("HEALTHCHECKS_PING_URL", format!("{base}/ping/{CHECK_ID}"))
        .env("ALERTS_HOST", "bin-box")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the daemon starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());

    // Released on synced chains: the alert reaches Telegram and the webhook, ntfy refuses it;
    // the heartbeat pings after a healthy pass.
    wait_for(
        &sinks,
        "the release alert and a heartbeat",
        &mut child,
        |s| {
            delivered(s, SinkClass::Telegram, "sync_finished")
                && delivered(s, SinkClass::Webhook, "sync_finished")
                && s.requests()
                    .iter()
                    .any(|r| r.class == SinkClass::Healthchecks)
                && s.requests().iter().any(|r| r.class == SinkClass::Ntfy)
        },
    )
    .await;
    monerod.set_mode(MoneroMode::Down);
    wait_for(&sinks, "the node_down alert", &mut child, |s| {
        delivered(s, SinkClass::Telegram, "node_down")
            && delivered(s, SinkClass::Webhook, "node_down")
    })
    .await;
    let state = get(dashboard, "/api/state").await;
    let metrics = get(dashboard, "/metrics").await;

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let printed = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(0), "{printed}");

    // The run did what the check relies on: every path that handles a secret ran and logged.
    for class in [SinkClass::Telegram, SinkClass::Webhook, SinkClass::Ntfy] {
        let requests: Vec<_> = sinks
            .requests()
            .into_iter()
            .filter(|r| r.class == class)
            .collect();
        assert!(!requests.is_empty(), "{class:?} was never asked");
        for r in &requests {
            assert!(r.problems.is_empty(), "{class:?}: {:?}", r.problems);
        }
    }
    assert!(monerod.requests() > 0);
    // Every alert text names the box (`ALERTS_HOST`).
    let down = sinks
        .requests()
        .into_iter()
        .find(|r| r.class == SinkClass::Telegram && r.event.as_deref() == Some("node_down"))
        .unwrap();
    assert!(down.body.contains("[bin-box] "), "{}", down.body);
    assert!(
        printed.contains("alert sink failing"),
        "ntfy's failure was not logged:\n{printed}"
    );
    assert!(printed.contains("HTTP 503"), "{printed}");
    assert!(
        printed.contains("TRACE") || printed.contains("DEBUG"),
        "not logging at trace:\n{printed}"
    );
    assert!(state.starts_with("HTTP/1.1 200"), "{state}");
    assert!(state.contains("\"last_error\":\"HTTP 503\""), "{state}");
    assert!(metrics.contains("pithead_alerts_sent_total"), "{metrics}");

    for (what, text) in [
        ("output", &printed),
        ("/api/state", &state),
        ("/metrics", &metrics),
    ] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret:?} in the {what}:\n{text}");
        }
    }
}
