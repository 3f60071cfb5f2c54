//! Tier 2 drift check for the docker engine: the fake's replies (`pithead_fakes::docker`) against
//! replies recorded from Debian's dockerd (`tests/fixtures/docker/`, see its PROVENANCE.md), and,
//! when a dockerd is reachable on `/var/run/docker.sock`, against that live engine.
//!
//! What must match exactly is what the runtime reads (`observe/docker.rs`):
//! - start / stop: the HTTP status alone (`204` changed, `304` already in that state, `404` no
//!   such container), and on an error the body's `$.message` string (bollard and
//!   `refusal_message` read it);
//! - inspect (`parse_inspect`): `$` an object, `$.State` an object, `$.State.Status` a string,
//!   `$.State.Running` a bool, `$.State.Health` an object when the container has a health check
//!   and absent when it has none, `$.State.Health.Status` a string.
//!
//! The real inspect document has many more keys (`GraphDriver`, `Mounts`, `HostConfig.*`, …)
//! that nothing in Pithead reads; the fake leaves most out on purpose, so a key the real engine
//! has and the fake lacks is tolerated (and listed when the test runs with `--nocapture`). The
//! reverse is not: every key the fake does send must exist in the real reply with the same type,
//! so the fake never teaches a client a shape the engine does not have.

mod common;

use std::path::Path;

use common::rawhttp::{self, Reply};
use common::shape::{compare, fixture, Drift, Rules, Shape};
use pithead_fakes::docker::{ContainerStatus, FakeDocker, Health};
use serde_json::{json, Value};

/// The inspect paths `parse_inspect` reads.
const READ_PATHS: &[&str] = &[
    "$",
    "$.State",
    "$.State.Status",
    "$.State.Running",
    "$.State.Health",
    "$.State.Health.Status",
];

/// Objects whose keys are data (labels, network names, port specs).
fn inspect_rules() -> Rules {
    Rules::exact()
        .map("$.Config.Labels")
        .map("$.NetworkSettings.Networks")
        .map("$.NetworkSettings.Ports")
        .map("$.Config.ExposedPorts")
        .map("$.HostConfig.PortBindings")
}

/// A recorded or live exchange: `{"status": …, "body": <JSON or null>}`.
fn exchange(status: u16, body: Value) -> Value {
    json!({"status": status, "body": body})
}

fn as_exchange(reply: &Reply) -> Value {
    exchange(reply.status, reply.json())
}

/// Asserts `fake` matches `real` on the read paths exactly, and that every other path the fake
/// sends exists in `real` with the same type. Returns the real paths the fake leaves out.
fn check_inspect(what: &str, real: &Value, fake: &Value) -> Vec<String> {
    let read = Rules::exact().only(READ_PATHS);
    let drifts = compare(&Shape::of(real, &read), &Shape::of(fake, &read), &read);
    assert!(
        drifts.is_empty(),
        "{what}: the paths the runtime reads drifted:\n  {}",
        lines(&drifts)
    );
    let rules = inspect_rules();
    let all = compare(&Shape::of(real, &rules), &Shape::of(fake, &rules), &rules);
    let (tolerated, wrong): (Vec<Drift>, Vec<Drift>) = all
        .into_iter()
        .partition(|d| matches!(d, Drift::Missing { .. }));
    assert!(
        wrong.is_empty(),
        "{what}: the fake sends keys the real engine does not, or of another type:\n  {}",
        lines(&wrong)
    );
    tolerated.iter().map(|d| d.path().to_owned()).collect()
}

fn lines(drifts: &[Drift]) -> String {
    drifts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// The fake's replies to the exchanges the recorder makes, keyed like the fixture files.
async fn fake_exchanges() -> Vec<(&'static str, Value)> {
    let fake = FakeDocker::with_state(&[("rec", false), ("plain", true)]);
    let r = fake.router();
    let call = |method: &'static str, path: String| {
        let r = r.clone();
        async move { as_exchange(&rawhttp::router(r, method, &path, None).await) }
    };
    let mut out = Vec::new();
    // The recorder's container has a health check (healthy once up).
    fake.set_health("rec", Some(Health::Healthy));
    fake.set_status("rec", ContainerStatus::Exited);
    out.push((
        "start.changed.json",
        call("POST", "/v1.41/containers/rec/start".into()).await,
    ));
    out.push((
        "start.already.json",
        call("POST", "/v1.41/containers/rec/start".into()).await,
    ));
    out.push((
        "inspect.running.json",
        call("GET", "/v1.41/containers/rec/json".into()).await,
    ));
    out.push((
        "stop.changed.json",
        call("POST", "/v1.41/containers/rec/stop?t=10".into()).await,
    ));
    out.push((
        "stop.already.json",
        call("POST", "/v1.41/containers/rec/stop?t=10".into()).await,
    ));
    // A stopped container keeps its last health record (dockerd reports "unhealthy").
    fake.set_health("rec", Some(Health::Unhealthy));
    out.push((
        "inspect.exited.json",
        call("GET", "/v1.41/containers/rec/json".into()).await,
    ));
    out.push((
        "inspect.running.no_healthcheck.json",
        call("GET", "/v1.41/containers/plain/json".into()).await,
    ));
    let ghost = "pithead-drift-no-such-container";
    for (file, method, verb) in [
        ("inspect.not_found.json", "GET", "json"),
        ("start.not_found.json", "POST", "start"),
        ("stop.not_found.json", "POST", "stop?t=10"),
    ] {
        out.push((
            file,
            call(method, format!("/v1.41/containers/{ghost}/{verb}")).await,
        ));
    }
    out
}

/// Checks every fake exchange against `real(file)`; prints the tolerated missing paths.
fn check_all(source: &str, fake: &[(&'static str, Value)], real: impl Fn(&str) -> Value) {
    for (file, got) in fake {
        let want = real(file);
        assert_eq!(
            got["status"], want["status"],
            "{file}: the fake's status differs from {source}"
        );
        let (want_body, got_body) = (&want["body"], &got["body"]);
        if file.starts_with("inspect.") && want["status"] == 200 {
            let left_out = check_inspect(&format!("{file} vs {source}"), want_body, got_body);
            eprintln!(
                "{file}: {} real path(s) the fake leaves out (nothing reads them)",
                left_out.len()
            );
        } else {
            // 204/304 have no body; a 404 is `{"message": string}` on both sides, exactly.
            let rules = Rules::exact();
            let drifts = compare(
                &Shape::of(want_body, &rules),
                &Shape::of(got_body, &rules),
                &rules,
            );
            assert!(
                drifts.is_empty(),
                "{file} vs {source}:\n  {}",
                lines(&drifts)
            );
        }
    }
}

#[tokio::test]
async fn the_fake_engine_has_the_recorded_shapes() {
    let fake = fake_exchanges().await;
    check_all("the recording", &fake, |file| {
        fixture(&format!("docker/{file}"))
    });
    // And the 404 message names the container as the engine's does.
    let (_, not_found) = fake
        .iter()
        .find(|(f, _)| *f == "inspect.not_found.json")
        .expect("404");
    assert_eq!(
        not_found["body"]["message"],
        fixture("docker/inspect.not_found.json")["body"]["message"]
    );

    // The fake's refusal (500) uses the engine's one error body, `{"message": string}`, which
    // the 404 recording shows.
    let refusing = FakeDocker::new(&["rec"]);
    refusing.refuse_next(1);
    let reply = rawhttp::router(
        refusing.router(),
        "POST",
        "/v1.41/containers/rec/stop",
        None,
    )
    .await;
    assert_eq!(reply.status, 500);
    let rules = Rules::exact();
    let drifts = compare(
        &Shape::of(&fixture("docker/stop.not_found.json")["body"], &rules),
        &Shape::of(&reply.json(), &rules),
        &rules,
    );
    assert!(
        drifts.is_empty(),
        "the fake's 500 body:\n  {}",
        lines(&drifts)
    );
}

#[test]
fn the_read_paths_catch_a_drift_in_what_the_runtime_reads() {
    // The check is not vacuous: a Running that turned into a string, or a Health without
    // Status, fails it.
    let real = fixture("docker/inspect.running.json")["body"].clone();
    let mut fake = real.clone();
    fake["State"]["Running"] = json!("true");
    let read = Rules::exact().only(READ_PATHS);
    assert!(!compare(&Shape::of(&real, &read), &Shape::of(&fake, &read), &read).is_empty());
    let mut fake = real.clone();
    fake["State"]["Health"] = json!({"FailingStreak": 0});
    assert!(!compare(&Shape::of(&real, &read), &Shape::of(&fake, &read), &read).is_empty());
}

/// The live engine, when one answers `/_ping` on the default socket.
fn live_engine() -> Option<&'static Path> {
    let socket = Path::new("/var/run/docker.sock");
    match rawhttp::unix(socket, "GET", "/_ping", None) {
        Ok(reply) if reply.status == 200 => Some(socket),
        other => {
            let why = match other {
                Ok(r) => format!("HTTP {}", r.status),
                Err(e) => e.to_string(),
            };
            // CI starts dockerd (`.ci/run`): there a missing engine is a broken setup, not a skip.
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "no docker engine on {} under CI=true ({why}): .ci/run must start dockerd",
                socket.display()
            );
            eprintln!(
                "SKIP contract_drift_docker live check: no docker engine on {} ({why})",
                socket.display()
            );
            None
        }
    }
}

/// Re-records every exchange from the live engine (with the same script as the fixtures) into a
/// temp dir and checks the recordings and the fake against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_docker_engine_has_the_recorded_and_the_fake_shapes() {
    let Some(_socket) = live_engine() else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docker/record.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(out.path())
        .status()
        .expect("run record.sh");
    assert!(status.success(), "{} failed: {status}", script.display());
    let live = |file: &str| -> Value {
        let path = out.path().join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).expect("live exchange")).expect("JSON")
    };
    let fake = fake_exchanges().await;
    // The recordings still describe this engine (read paths exact, nothing else relied on).
    for (file, _) in &fake {
        let (recorded, now) = (fixture(&format!("docker/{file}")), live(file));
        assert_eq!(
            recorded["status"], now["status"],
            "{file}: the engine's status changed"
        );
        if file.starts_with("inspect.") && now["status"] == 200 {
            let read = Rules::exact().only(READ_PATHS);
            let drifts = compare(
                &Shape::of(&recorded["body"], &read),
                &Shape::of(&now["body"], &read),
                &read,
            );
            assert!(
                drifts.is_empty(),
                "{file}: live vs recording:\n  {}",
                lines(&drifts)
            );
        }
    }
    check_all("the live engine", &fake, live);
}
