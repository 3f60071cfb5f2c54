//! The `pithead` binary as an operator meets it: exit codes, exact output lines, and no
//! generated secret in anything it prints. `status` runs against the fake docker engine and a
//! fake `/api/state` on loopback.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use axum::routing::get;
use axum::{Json, Router};
use pithead_fakes::docker::{ContainerStatus, FakeDocker, Health};
use pithead_fakes::serve::spawn_local;
use serde_json::{json, Value};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";
const SERVICES: &[&str] = &[
    "tor",
    "monerod",
    "tari",
    "p2pool",
    "xmrig-proxy",
    "dashboard",
    "docker-proxy",
    "docker-control",
    "caddy",
];

fn pithead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pithead"))
        .args(args)
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_config(dir: &Path, doc: &Value) -> String {
    let path = dir.join("config.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

fn base() -> Value {
    json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } })
}

fn secrets_of(stack: &Path) -> Vec<String> {
    let env = std::fs::read_to_string(stack.join(".env")).unwrap();
    [
        "PROXY_AUTH_TOKEN",
        "MONERO_RPC_PASSWORD",
        "WALLET_RPC_PASSWORD",
    ]
    .iter()
    .map(|k| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_owned()
    })
    .collect()
}

fn assert_no_secret(out: &Output, secrets: &[String]) {
    let (stdout, stderr) = text(out);
    for s in secrets {
        assert!(
            !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
            "a secret leaked"
        );
    }
}

#[test]
fn help_lists_the_commands_and_explains_the_exit_codes() {
    let out = pithead(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let (stdout, _) = text(&out);
    for cmd in [
        "render",
        "apply",
        "status",
        "check",
        "state",
        "version",
        "completions",
        "setup",
        "up",
        "down",
        "restart",
        "logs",
        "doctor",
        "backup",
        "restore",
        "reset-dashboard",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("Exit codes: 0 ok, 1"), "{stdout}");
    let bash = pithead(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(text(&bash).0.contains("_pithead()"), "{:?}", text(&bash));
    let (apply_help, _) = text(&pithead(&["apply", "--help"]));
    assert!(
        apply_help.contains("--dry-run") && apply_help.contains("-y, --yes"),
        "{apply_help}"
    );
}

#[test]
fn an_invalid_config_exits_1_with_every_exact_message_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Sup3rSecretBotToken-4711";
    let mut doc = base();
    doc["monero"]["mode"] = json!("cloud");
    doc["telegram"] = json!({ "bot_token": format!("{secret} !") });
    let config = write_config(dir.path(), &doc);
    for args in [
        vec!["check", "--config", &config],
        vec!["render", "--config", &config],
    ] {
        let out = pithead(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let (stdout, stderr) = text(&out);
        assert_eq!(stdout, "");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines,
            [
                r#"monero.mode must be "local" or "remote" (got "cloud")."#,
                "telegram.bot_token must be a bot token (digits, ':', then letters, digits, '_' or '-') (value hidden).",
            ],
            "{args:?}"
        );
        assert!(!stderr.contains(secret));
    }
}

#[test]
fn render_then_apply_is_a_no_op_and_a_confirm_change_needs_a_terminal_or_yes() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack");
    let stack_arg = stack.display().to_string();
    let config = write_config(dir.path(), &base());
    let out = pithead(&["render", "--config", &config, "--stack-dir", &stack_arg]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        format!("Rendered .env, Caddyfile and compose.yaml into {stack_arg}\n")
    );
    let mode = std::fs::metadata(stack.join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = std::fs::read(stack.join(".env")).unwrap();
    let secrets = secrets_of(&stack);
    assert_no_secret(&out, &secrets);

    let out = pithead(&["render", "--config", &config, "--stack-dir", &stack_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(stack.join(".env")).unwrap(),
        first,
        "secrets changed"
    );

    let out = pithead(&["apply", "--config", &config, "--stack-dir", &stack_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out).0,
        "No configuration changes detected. Nothing to apply.\n"
    );

    let mut nano = base();
    nano["p2pool"] = json!({ "pool": "nano" });
    nano["monero"]["node_password"] = json!("OperatorChosenPassw0rd");
    let config = write_config(dir.path(), &nano);
    let out = pithead(&["apply", "--config", &config, "--stack-dir", &stack_arg]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = text(&out);
    assert_eq!(
        stdout,
        "Changes to apply:\n\
         \x20 [INFO] MONERO_RPC_PASSWORD: changed (value hidden) — an internal credential changes; its containers are recreated\n\
         \x20 [CONFIRM] P2POOL_FLAGS: \"--mini\" → \"--nano\" — p2pool moves to another sidechain: shares on the current one stop counting\n"
    );
    assert_eq!(
        stderr,
        "pithead: these changes need confirmation and stdin is not a terminal: re-run with -y to apply them\n"
    );
    assert!(!stdout.contains("OperatorChosenPassw0rd"));
    assert_no_secret(&out, &secrets);
    assert_eq!(
        std::fs::read(stack.join(".env")).unwrap(),
        first,
        "a refused apply wrote"
    );

    let out = pithead(&[
        "apply",
        "--dry-run",
        "--config",
        &config,
        "--stack-dir",
        &stack_arg,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).0.ends_with("Dry run: nothing was written.\n"));
}

struct Fakes {
    docker: FakeDocker,
    docker_addr: SocketAddr,
    api_addr: SocketAddr,
}

async fn fakes(state: Value) -> Fakes {
    let docker = FakeDocker::new(SERVICES);
    let (docker_addr, _) = spawn_local(docker.router()).await.unwrap();
    let api = Router::new().route(
        "/api/state",
        get(move || async move { Json(state.clone()) }),
    );
    let (api_addr, _) = spawn_local(api).await.unwrap();
    Fakes {
        docker,
        docker_addr,
        api_addr,
    }
}

fn rendered_stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &base());
    let out = pithead(&[
        "render",
        "--config",
        &config,
        "--stack-dir",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    dir
}

async fn status(stack: &Path, f: &Fakes) -> Output {
    let args: Vec<String> = vec![
        "status".into(),
        "--stack-dir".into(),
        stack.display().to_string(),
        "--docker".into(),
        format!("tcp://{}", f.docker_addr),
        "--url".into(),
        format!("http://{}", f.api_addr),
        "--timeout".into(),
        "3".into(),
    ];
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pithead(&args)
    })
    .await
    .unwrap()
}

fn released() -> Value {
    json!({
        "miner_held": false, "workers_rejected": false,
        "sync": {
            "monero": { "state": "done", "percent": 100, "current": 10, "target": 10, "remaining": 0 },
            "tari": { "state": "done", "percent": 100, "current": 10, "target": 10, "remaining": 0 }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_all_up_exits_0_with_one_line_per_service() {
    let stack = rendered_stack();
    let f = fakes(released()).await;
    f.docker.set_health("monerod", Some(Health::Healthy));
    f.docker.set_health("tari", Some(Health::Starting));
    let out = status(stack.path(), &f).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "Service health check:\n\
         \x20 ✓ tor running\n\
         \x20 ✓ monerod running\n\
         \x20 … tari starting (health check pending)\n\
         \x20 ✓ p2pool running\n\
         \x20 ✓ xmrig-proxy running\n\
         \x20 ✓ dashboard running\n\
         \x20 ✓ docker-proxy running\n\
         \x20 ✓ docker-control running\n\
         \x20 ✓ caddy running\n\
         All expected services are up.\n"
    );
    assert_no_secret(&out, &secrets_of(stack.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_faults_exit_1_and_a_held_miner_is_likely_intentional() {
    let stack = rendered_stack();
    let mut state = released();
    state["miner_held"] = json!(true);
    state["sync"]["monero"] = json!({ "state": "syncing", "percent": 42, "current": 420, "target": 1000, "remaining": 580 });
    state["sync"]["tari"] =
        json!({ "state": "loading", "percent": 0, "current": 0, "target": 0, "remaining": 0 });
    let f = fakes(state).await;
    f.docker.set_status("p2pool", ContainerStatus::Exited);
    f.docker.set_status("xmrig-proxy", ContainerStatus::Exited);
    f.docker.set_health("caddy", Some(Health::Unhealthy));
    f.docker.set_status("tor", ContainerStatus::Restarting);
    f.docker.remove("dashboard");
    let out = status(stack.path(), &f).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for line in [
        "  ✗ tor restarting (possible crash loop — check logs)",
        "  ⚠ p2pool exited — likely intentional: held until the required chains finish syncing",
        "  ⚠ xmrig-proxy exited — likely intentional: held until the required chains finish syncing",
        "  ✗ dashboard missing",
        "  ⚠ caddy running but UNHEALTHY",
        "Chain sync in progress — the miners are held until it completes:",
        "  … monero  42% (420 / 1000 blocks, 580 to go)",
        "  … tari    discovering the target height…",
        "3 service(s) need attention",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in\n{stdout}");
    }
    assert_eq!(stdout.lines().last(), Some("3 service(s) need attention"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_excuses_the_rejected_proxy_but_not_itself() {
    let stack = rendered_stack();
    let f = fakes(released()).await;
    f.docker.set_status("monerod", ContainerStatus::Exited);
    f.docker.set_status("xmrig-proxy", ContainerStatus::Exited);
    let out = status(stack.path(), &f).await;
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("  ✗ monerod exited\n"), "{stdout}");
    assert!(
        stdout.contains("  ⚠ xmrig-proxy exited — likely intentional: a node is down"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 service(s) need attention\n"),
        "{stdout}"
    );
}

#[test]
fn status_without_an_engine_says_so_and_exits_2() {
    let stack = rendered_stack();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = pithead(&[
        "status",
        "--stack-dir",
        &stack.path().display().to_string(),
        "--docker",
        &format!("tcp://{free}"),
        "--timeout",
        "2",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read container states from the docker engine at http://127.0.0.1:"),
        "{stderr}"
    );
    let out = pithead(&[
        "status",
        "--stack-dir",
        &stack.path().display().to_string(),
        "--docker",
        "unix:///nonexistent/docker.sock",
        "--timeout",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("unix:///nonexistent/docker.sock"),
        "{:?}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_the_engine_over_a_unix_socket_named_by_docker_host() {
    let stack = rendered_stack();
    let socket = stack.path().join("docker.sock");
    let docker = FakeDocker::new(SERVICES);
    docker.remove("caddy");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    tokio::spawn(pithead_fakes::serve::serve(listener, docker.router()));
    let stack_arg = stack.path().display().to_string();
    let host = format!("unix://{}", socket.display());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pithead"))
            .args([
                "status",
                "--stack-dir",
                &stack_arg,
                "--url",
                "http://127.0.0.1:9",
                "--timeout",
                "3",
            ])
            .env("DOCKER_HOST", host)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("  ✓ monerod running\n  ✓ tari running\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("  ✗ caddy missing\n1 service(s) need attention\n"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_image_health_check_probes_healthz() {
    let healthy = Router::new().route("/healthz", get(|| async { "ok" }));
    let (addr, _) = spawn_local(healthy).await.unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for (bind, want) in [
        (format!("0.0.0.0:{}", addr.port()), 0),
        (free.to_string(), 1),
    ] {
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_pithead-runtime"))
                .arg("healthcheck")
                .env_clear()
                .env("DASHBOARD_BIND", bind)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(want), "{:?}", text(&out));
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An unreachable runtime is one line that names the URL and says the cause once (the chain
/// printer used to repeat every cause the message already carried).
#[test]
fn an_unreachable_runtime_is_one_line_saying_the_cause_once() {
    let closed = closed_port();
    let url = format!("http://127.0.0.1:{closed}");
    let out = pithead(&["state", "--url", &url]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "pithead: cannot read the runtime's state at {url}/api/state: 127.0.0.1:{closed} is unreachable: "
        )),
        "{stderr}"
    );
    let refused = std::io::Error::from_raw_os_error(111).to_string();
    assert_eq!(stderr.matches(&refused).count(), 1, "{stderr}");
}

/// A server that is not the runtime (its `/api/state` is a 404) is named with its status, not
/// reported as "did not answer JSON".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_is_not_the_runtime_is_named_with_its_status() {
    let (addr, _task) = spawn_local(Router::new().route("/healthz", get(|| async { "ok" })))
        .await
        .unwrap();
    let url = format!("http://{addr}");
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || pithead(&["state", "--url", &url])
    })
    .await
    .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "pithead: {url}/api/state answered 404 Not Found: is --url the runtime's dashboard \
             address?"
        )
    );
}

/// Credentials or a token in `--url` never reach the message.
#[test]
fn a_url_with_credentials_is_shown_redacted() {
    let closed = closed_port();
    let url = format!("http://operator:hunter2-secret@127.0.0.1:{closed}?token=tk-secret");
    let out = pithead(&["state", "--url", &url]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "pithead: cannot read the runtime's state at http://***@127.0.0.1:{closed}"
        )),
        "{stderr}"
    );
    for secret in ["hunter2-secret", "tk-secret", "operator"] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }
}

/// Runs `pithead args` with its stdout a pipe whose reader has gone away, and checks that it
/// exits 0 without a panic.
fn exits_cleanly_into_a_closed_stdout(args: &[&str]) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_pithead"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
}

/// Output into a reader that has gone away (`pithead status | head -1`): exit 0, no panic, for
/// the commands that print lines as for the bulk ones.
#[test]
fn a_closed_stdout_is_no_panic_for_printed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &base());
    exits_cleanly_into_a_closed_stdout(&["version"]);
    exits_cleanly_into_a_closed_stdout(&["check", "--config", &config]);
}

/// Bulk output into a reader that has gone away (`pithead completions bash | head -1`): exit 0,
/// no panic (clap_complete and `println!` panic on a broken pipe).
#[test]
fn a_closed_stdout_is_no_panic() {
    for shell in ["bash", "zsh", "fish"] {
        exits_cleanly_into_a_closed_stdout(&["completions", shell]);
    }
}
