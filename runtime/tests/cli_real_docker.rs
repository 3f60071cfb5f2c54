//! The `pithead` binary against the machine's real docker engine and real compose: `up` starts
//! stand-in services from the locally built `pithead/fake:dev` image, `status` says 0, a
//! `docker stop` makes it 1 with `✗ <name> exited`, a start makes it 0 again, then `restart`,
//! `logs` and `down` (after which every service is `missing`).
//!
//! The services carry a per-run prefix so the test never touches a real stack's containers or a
//! parallel run's. Outside CI, a machine without an engine, compose or the image skips loudly;
//! under `CI=true` that is a failure. `cargo xtask images` builds the image.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const IMAGE: &str = "pithead/fake:dev";

fn pithead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pithead"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn docker(args: &[&str]) -> Option<Output> {
    // `timeout` bounds every docker CLI call the test itself makes.
    Command::new("timeout")
        .arg("30")
        .arg("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Why this machine cannot run the test, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let address =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Err(e) = runtime.block_on(pithead_runtime::cli::status::ping(
        &address,
        Duration::from_secs(3),
    )) {
        return Some(e.to_string());
    }
    let compose = pithead_runtime::cli::compose::SystemCompose::detect(
        std::env::temp_dir(),
        Duration::from_secs(10),
    );
    if let Err(e) = compose {
        return Some(e.to_string());
    }
    match docker(&["image", "inspect", IMAGE]) {
        Some(out) if out.status.success() => None,
        _ => Some(format!("no {IMAGE} image (run `cargo xtask images`)")),
    }
}

/// Removes the run's containers whatever happens to the test.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f"];
        args.extend(self.0.iter().map(String::as_str));
        let _ = docker(&args);
    }
}

fn write_stack(dir: &Path, project: &str, names: &[String]) {
    let mut yaml = String::from("services:\n");
    for name in names {
        yaml.push_str(&format!(
            "  {name}:\n    image: {IMAGE}\n    container_name: {name}\n    \
             command: [\"xvb\", \"--listen\", \"127.0.0.1:8088\"]\n    \
             network_mode: none\n    stop_grace_period: 5s\n"
        ));
    }
    std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
    std::fs::write(
        dir.join(".env"),
        format!("COMPOSE_PROJECT_NAME={project}\nCOMPOSE_PROFILES=\n"),
    )
    .unwrap();
}

fn status(stack: &str) -> Output {
    // Port 9 answers nothing: status runs without the runtime's sync lines.
    pithead(&[
        "status",
        "--stack-dir",
        stack,
        "--url",
        "http://127.0.0.1:9",
        "--timeout",
        "10",
    ])
}

#[test]
fn status_follows_real_containers_through_stop_and_start() {
    if let Some(why) = missing_prerequisite() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the real-dockerd test cannot run under CI: {why}"
        );
        eprintln!("SKIPPED cli_real_docker: {why}");
        return;
    }
    let project = format!("pithead-cli-test-{}", std::process::id());
    let names: Vec<String> = ["node", "miner"]
        .iter()
        .map(|s| format!("{project}-{s}"))
        .collect();
    let _cleanup = Cleanup(names.clone());
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().display().to_string();
    write_stack(dir.path(), &project, &names);

    let out = pithead(&["up", "--stack-dir", &stack]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    let out = status(&stack);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for name in &names {
        assert!(
            stdout.contains(&format!("  ✓ {name} running\n")),
            "{stdout}"
        );
    }
    assert!(
        stdout.ends_with("All expected services are up.\n"),
        "{stdout}"
    );

    let stopped = &names[0];
    assert!(docker(&["stop", "-t", "5", stopped])
        .unwrap()
        .status
        .success());
    let out = status(&stack);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("  ✗ {stopped} exited\n")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 service(s) need attention\n"),
        "{stdout}"
    );

    assert!(docker(&["start", stopped]).unwrap().status.success());
    let out = status(&stack);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    let service = names[1].as_str();
    let out = pithead(&["restart", "--stack-dir", &stack, service]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(text(&out).0, format!("Restarted {service}.\n"));
    let out = pithead(&["logs", "--stack-dir", &stack, "--tail", "5", service]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    let out = pithead(&["down", "--stack-dir", &stack]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let out = status(&stack);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for name in &names {
        assert!(
            stdout.contains(&format!("  ✗ {name} missing\n")),
            "{stdout}"
        );
    }
}
