//! The daemon binary as an operator meets it: a bad value stops the start with a message naming
//! the variable and the value, and a credential never reaches its output.

use std::process::Command;

fn daemon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pithead-runtime"));
    cmd.env_clear().env("RUST_LOG", "info");
    cmd
}

#[test]
fn a_bad_value_stops_the_start_naming_the_variable_and_the_value() {
    let out = daemon()
        .env("NODE_DOWN_AFTER_SEC", "ninety")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NODE_DOWN_AFTER_SEC"), "{stderr}");
    assert!(stderr.contains("\"ninety\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn credentials_never_reach_the_output() {
    // Occupy the dashboard port so the daemon stops right after logging its configuration.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let secret = "s3cret-rpc-pw-4711";
    let out = daemon()
        .env("MONERO_RPC_URL", "http://127.0.0.1:1")
        .env("MONERO_RPC_USER", "alice")
        .env("MONERO_RPC_PASSWORD", secret)
        .env("DASHBOARD_BIND", &bind)
        .env("DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = everything_printed(&out);
    assert!(all.contains("cannot listen on"), "{all}");
    assert!(
        all.contains("starting"),
        "the configuration was not logged: {all}"
    );
    assert!(!all.contains(secret), "the password leaked: {all}");
}

#[test]
fn credentials_in_the_url_stop_the_start_without_echoing_them() {
    let secret = "s3cret-rpc-pw-4712";
    let out = daemon()
        .env(
            "MONERO_RPC_URL",
            format!("http://alice:{secret}@127.0.0.1:1"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = everything_printed(&out);
    assert!(all.contains("MONERO_RPC_URL"), "{all}");
    assert!(all.contains("MONERO_RPC_USER"), "{all}");
    assert!(!all.contains(secret), "the password leaked: {all}");
}

#[test]
fn a_timeout_not_below_the_down_window_stops_the_start_naming_both() {
    let out = daemon()
        .env("RPC_TIMEOUT_SEC", "60")
        .env("NODE_DOWN_AFTER_SEC", "45")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RPC_TIMEOUT_SEC (60)"), "{stderr}");
    assert!(stderr.contains("NODE_DOWN_AFTER_SEC (45)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// What the process printed, stdout then stderr (a secret must be absent from both).
fn everything_printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `docker stop` sends SIGTERM to the runtime, PID 1 of its container: it must stop at once
/// and cleanly, not be killed when docker's timeout runs out.
#[test]
fn sigterm_stops_the_daemon_cleanly_and_promptly() {
    use std::time::{Duration, Instant};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = daemon()
        .env("MONERO_RPC_URL", "http://127.0.0.1:1")
        .env("DOCKER_CONTROL_URL", "http://127.0.0.1:1")
        .env("TARI_GRPC_ADDRESS", "127.0.0.1:1")
        .env("DASHBOARD_BIND", port.to_string())
        .env("DATA_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    #[allow(clippy::disallowed_methods)] // a real process: real time
    let started = Instant::now();
    while std::net::TcpStream::connect(port).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the dashboard never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    #[allow(clippy::disallowed_methods)]
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still running 5 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let all = everything_printed(&out);
    assert_eq!(status.code(), Some(0), "{all}");
    assert!(all.contains("terminated: stopping"), "{all}");
}
