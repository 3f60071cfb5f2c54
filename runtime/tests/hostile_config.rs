//! Hostile values at the edges an operator types into: the environment the daemon reads, the
//! `pithead` command line, `DOCKER_HOST`, and `/api/state`'s query. Each is refused with a message
//! that names the thing and says what to give instead, never echoes a credential, and never
//! panics.
// Test code: a panic is how the helpers report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pithead_runtime::api::{router_with, Api};
use pithead_runtime::config::{Config, P2poolApi};
use pithead_runtime::view::{ApiState, Sample};
use tower::ServiceExt;

fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).map_err(|e| e.to_string())
}

/// The password's two halves and the user: none may appear in the message.
const PARTS: [&str; 3] = ["s3cr", "etpw", "alice"];

/// Every variable holding a URL or an address, with a password that holds a `/`, a `?`, a `#`
/// or an `@` (the value then usually does not parse, and used to be echoed as written).
#[test]
fn a_password_in_a_url_never_reaches_the_configuration_error() {
    let vars = [
        "MONERO_RPC_URL",
        "XVB_API_URL",
        "XMRIG_PROXY_API",
        "DOCKER_CONTROL_URL",
        "DOCKER_PROXY_URL",
        "P2POOL_API",
        "XVB_PROXY",
    ];
    let values = [
        "http://alice:s3cr/etpw@node:18081",
        "http://alice:s3cr?etpw@node:18081",
        "http://alice:s3cr#etpw@node:18081",
        "http://alice:s3cr@etpw@node:18081",
        "http://alice:1234/s3cr/etpw@node:18081",
        "https://alice:s3cr/etpw@node",
        "socks5h://alice:s3cr/etpw@tor:9050",
        "http://alice:s3cretpw@node:18081",
    ];
    for var in vars {
        for value in values {
            let err = config(&[(var, value)]).expect_err(&format!("{var}={value} accepted"));
            assert!(err.starts_with(&format!("{var}: ")), "{err}");
            for part in PARTS {
                assert!(!err.contains(part), "{var}={value}: {part:?} leaked: {err}");
            }
        }
    }
}

#[test]
fn a_password_in_the_tari_address_never_reaches_the_configuration_error() {
    for value in [
        "alice:s3cr/etpw@tari:1",
        "alice:s3cr?etpw@tari:1",
        "alice:s3cretpw@tari:18142",
        "http://alice:s3cr/etpw@tari:18142",
    ] {
        let err = config(&[("TARI_GRPC_ADDRESS", value)]).expect_err(value);
        assert!(err.starts_with("TARI_GRPC_ADDRESS: "), "{err}");
        for part in PARTS {
            assert!(!err.contains(part), "{value}: {part:?} leaked: {err}");
        }
    }
}

/// The daemon itself, as it starts: the message on stderr holds no part of the password.
#[test]
fn the_daemon_stops_without_echoing_a_password_with_a_slash() {
    let out = Command::new(env!("CARGO_BIN_EXE_pithead-runtime"))
        .env_clear()
        .env("MONERO_RPC_URL", "http://alice:s3cr/etpw@node:18081")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("MONERO_RPC_URL: invalid value \"http://***@node:18081\""),
        "{all}"
    );
    for part in PARTS {
        assert!(!all.contains(part), "{part:?} leaked: {all}");
    }
}

#[test]
fn an_empty_sync_gate_list_is_refused_not_a_silent_end_of_the_hold() {
    for value in ["", "  ", ",", " , ,"] {
        let err = config(&[("SYNC_GATE_CONTAINERS", value)]).expect_err(value);
        assert!(err.starts_with("SYNC_GATE_CONTAINERS: "), "{err}");
        assert!(
            err.contains("unset SYNC_GATE_CONTAINERS for the default (p2pool,xmrig-proxy)"),
            "{err}"
        );
    }
    let unset = config(&[]).unwrap();
    assert_eq!(unset.sync_gate_containers, ["p2pool", "xmrig-proxy"]);
}

#[test]
fn an_empty_data_dir_is_refused_naming_the_default() {
    let err = config(&[("DATA_DIR", "")]).unwrap_err();
    assert_eq!(
        err,
        "DATA_DIR: invalid value \"\": empty; unset DATA_DIR for the default (/data) or give a value"
    );
    assert_eq!(config(&[("DATA_DIR", " ")]).unwrap_err(), err);
}

/// The module's rule: empty is refused where a value is needed, and is unset where unset means
/// "off" or compose passes `${VAR:-}`; `TARI_GRPC_ADDRESS` empty means no Tari.
#[test]
fn empty_values_follow_one_rule() {
    for (var, default) in [
        ("MONERO_RPC_URL", "http://monerod:18081"),
        ("DOCKER_CONTROL_URL", "http://docker-control:2375"),
        ("REJECT_WORKERS_CONTAINER", "xmrig-proxy"),
        ("DASHBOARD_BIND", "127.0.0.1:8000"),
        ("STACK_SERVICES", ""),
        ("UPDATE_INTERVAL", "30 s"),
        ("NODE_DOWN_AFTER_SEC", "90 s"),
        ("RPC_TIMEOUT_SEC", "10 s"),
    ] {
        let err = config(&[(var, "")]).expect_err(var);
        assert!(
            err.starts_with(&format!("{var}: invalid value \"\": empty; unset {var}")),
            "{err}"
        );
        assert!(err.contains(&format!("({default}")), "{err}");
    }
    let c = config(&[
        ("P2POOL_API", ""),
        ("DOCKER_PROXY_URL", ""),
        ("XVB_API_URL", ""),
        ("XVB_PROXY", ""),
        ("XMRIG_PROXY_API", ""),
        ("XVB_POOL_URL", ""),
        ("XVB_ENABLED", ""),
        ("TARI_REQUIRED", ""),
        ("TARI_GRPC_ADDRESS", ""),
    ])
    .unwrap();
    assert_eq!(c.p2pool_api, None);
    assert_eq!(c.docker_proxy_url, None);
    assert_eq!(c.xvb.proxy_api.to_string(), "http://xmrig-proxy:3344");
    assert_eq!(c.xvb.pool_url, "na.xmrvsbeast.com:4247");
    assert!(!c.xvb_enabled);
    assert!(c.tari_required);
    assert_eq!(c.tari_grpc_address, None);
}

#[test]
fn p2pool_api_with_a_scheme_is_a_url_in_any_case() {
    let upper = config(&[("P2POOL_API", "HTTP://p2pool:3380")]).unwrap();
    assert!(
        matches!(&upper.p2pool_api, Some(P2poolApi::Http(url)) if url.to_string() == "http://p2pool:3380"),
        "{:?}",
        upper.p2pool_api
    );
    for value in [
        "https://p2pool:3380",
        "HTTPS://p2pool:3380",
        "file:///p2pool-data",
    ] {
        let err = config(&[("P2POOL_API", value)]).expect_err(value);
        assert_eq!(
            err,
            format!(
                "P2POOL_API: invalid value {value:?}: only http:// is supported \
                 (or give p2pool's data-api directory)"
            )
        );
    }
    // Neither a URL nor an absolute directory: `host:port` without its scheme, a relative path.
    for value in ["p2pool:3380", "p2pool-data"] {
        let err = config(&[("P2POOL_API", value)]).expect_err(value);
        assert_eq!(
            err,
            format!(
                "P2POOL_API: invalid value {value:?}: an http://host:port URL or an absolute \
                 directory path"
            )
        );
    }
    let dir = config(&[("P2POOL_API", "/p2pool-data")]).unwrap();
    assert_eq!(dir.p2pool_api, Some(P2poolApi::Dir("/p2pool-data".into())));
}

/// `/api/state?avg=<huge>` through the router, with a history to chart: a chart, never a panic.
#[tokio::test]
async fn a_huge_avg_on_api_state_is_a_chart_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (history, reader) = pithead_runtime::store::history::open(dir.path());
    let start = 1_700_000_000_000_u64;
    for i in 0..20 {
        history.sample(Sample {
            x: start + i * 30_000,
            p2pool: 1_000.0,
            xvb: 0.0,
        });
    }
    history.flush();
    let (writer, state) = pithead_runtime::view::read_model();
    let mut doc = ApiState::default();
    doc.cycle.last_wall_ms = start + 19 * 30_000;
    writer.publish(doc);
    let router = router_with(Api {
        state,
        history: Some(reader),
        update_interval: Duration::from_secs(30),
    });
    for query in [
        "avg=18446744073709551615",
        "avg=18446744073709551",
        "avg=9223372036854775807&range=all",
        "avg=18446744073709551615&from=0&to=18446744073709551615",
        "avg=99999999999999999999999",
    ] {
        let response = router
            .clone()
            .oneshot(
                Request::get(format!("/api/state?{query}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let points = json["chart"]["p2pool"].as_array().unwrap();
        assert!(!points.is_empty(), "{query}: {json}");
        assert!(points.iter().all(|p| p["y"].is_number()), "{query}: {json}");
    }
}

fn pithead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pithead"))
        .args(args)
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A rendered stack, so a command that got past its arguments would go on to the engine.
fn rendered_stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "monero": { "wallet_address": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A" },
            "tari": { "wallet_address": "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT" },
        })
        .to_string(),
    )
    .unwrap();
    let out = pithead(&[
        "render",
        "--config",
        &config.display().to_string(),
        "--stack-dir",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    dir
}

/// A docker "engine" that records whether anything dialled it.
fn engine() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    (listener, address)
}

fn dialled(listener: &TcpListener) -> bool {
    listener.accept().is_ok()
}

/// `--wait` and `--timeout` beyond their bound: exit 2 with clap's message naming the flag,
/// before the engine is asked anything (the upgrade used to panic after the recreate).
#[test]
fn an_absurd_duration_flag_is_refused_before_anything_runs() {
    let stack = rendered_stack();
    let stack_dir = stack.path().display().to_string();
    for (command, flag, max) in [
        ("upgrade", "--wait", 86_400_u64),
        ("status", "--timeout", 3_600),
    ] {
        for value in ["18446744073709551615", &(max + 1).to_string()] {
            let (listener, docker) = engine();
            let out = pithead(&[
                command,
                "--stack-dir",
                &stack_dir,
                "--docker",
                &docker,
                flag,
                value,
            ]);
            let err = stderr(&out);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {flag} {value}: {err}"
            );
            assert!(
                err.contains(&format!(
                    "invalid value '{value}' for '{flag} <SECS>': too long: give at most {max} seconds"
                )),
                "{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                !dialled(&listener),
                "{command} {flag} {value} reached the engine"
            );
        }
        let out = pithead(&[command, flag, "soon"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("expected a whole number of seconds"),
            "{}",
            stderr(&out)
        );
    }
}

/// `DOCKER_HOST` with credentials (`status`, `doctor` and `up` all read it): the password is
/// never printed, whether or not the value parses as a URL.
#[test]
fn a_docker_host_with_a_password_is_refused_without_printing_it() {
    let stack = rendered_stack();
    let stack_dir = stack.path().display().to_string();
    for host in [
        "tcp://alice:s3cretpw@127.0.0.1:2376",
        "tcp://alice:s3cr/etpw@127.0.0.1:2376",
        "tcp://alice:s3cr?etpw@127.0.0.1:2376",
    ] {
        for args in [
            vec!["status", "--stack-dir", &stack_dir],
            vec!["doctor", "--stack-dir", &stack_dir],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_pithead"))
                .args(&args)
                .env("DOCKER_HOST", host)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
            assert!(
                all.contains("invalid docker address \"tcp://***"),
                "{args:?}: {all}"
            );
            for part in PARTS {
                assert!(
                    !all.contains(part),
                    "{args:?} {host}: {part:?} leaked: {all}"
                );
            }
        }
    }
}
