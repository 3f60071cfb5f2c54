//! Tier 1: the runtime's container verdicts (`/api/state`'s `services`) are `pithead status`'s,
//! line for line, for the same container states: one cycle of the real runtime against a
//! scripted engine, then the CLI's own functions over the served document.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use futures::future::BoxFuture;
use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::status;
use pithead_runtime::config::Config;
use pithead_runtime::control::verdicts::{self, Observed, STACK_SERVICES};
use pithead_runtime::cycle::{Clients, Cycle};
use pithead_runtime::io::{BoxedStream, Connector, SystemClock};
use pithead_runtime::observe::docker::{Applied, ContainerStatus, DockerApi, DockerError};
use pithead_runtime::view::read_model;
use serde_json::Value;

/// No node answers: the gate holds, as on a box that just booted.
struct Nowhere;

impl Connector for Nowhere {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let what = format!("{host}:{port} refused");
        Box::pin(async move { Err(io::Error::new(io::ErrorKind::ConnectionRefused, what)) })
    }
}

/// An engine whose containers are fixed (name → status, health); absent ones are missing.
struct Engine(BTreeMap<&'static str, (&'static str, Option<&'static str>)>);

impl Engine {
    fn observed(&self, name: &str) -> Observed {
        match self.0.get(name) {
            Some((status, health)) => Observed::Present {
                status: (*status).to_owned(),
                health: health.map(str::to_owned),
            },
            None => Observed::Missing,
        }
    }
}

impl DockerApi for Engine {
    fn start<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async { Ok(Applied::AlreadyInState) })
    }

    fn stop<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(async { Ok(Applied::AlreadyInState) })
    }

    fn inspect<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<ContainerStatus, DockerError>> {
        let read = match self.observed(name) {
            Observed::Missing => Err(DockerError::NotFound(name.to_owned())),
            Observed::Present { status, health } => Ok(ContainerStatus {
                name: name.to_owned(),
                running: status == "running",
                status,
                health,
                image: None,
            }),
        };
        Box::pin(async move { read })
    }
}

/// One cycle of the runtime under `COMPOSE_PROFILES` = `profiles` against `engine`: the
/// `/api/state` document it serves.
async fn runtime_state(profiles: &str, engine: Engine) -> Value {
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("TARI_GRPC_ADDRESS", String::new()),
        ("COMPOSE_PROFILES", profiles.to_owned()),
        ("DATA_DIR", data.path().display().to_string()),
    ];
    let config =
        Config::from_lookup(|key| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
            .unwrap();
    let mut clients = Clients::new(&config, Arc::new(Nowhere)).unwrap();
    let engine = Arc::new(engine);
    clients.docker = engine.clone();
    clients.docker_read = engine;
    let (writer, reader) = read_model();
    let mut cycle = Cycle::new(config, Arc::new(SystemClock), clients, writer);
    cycle.run_once().await;
    serde_json::to_value(reader.get()).unwrap()
}

/// What `pithead status` prints for the same engine and that document.
fn cli_output(profiles: &str, engine: &Engine, state: &Value) -> (Vec<String>, u8) {
    let env = BTreeMap::from([("COMPOSE_PROFILES".to_owned(), profiles.to_owned())]);
    let expected =
        compose_file::expected_services(COMPOSE_YAML, &compose_file::profiles(&env)).unwrap();
    let observed: Vec<(String, Observed)> = expected
        .iter()
        .map(|name| (name.clone(), engine.observed(name)))
        .collect();
    let report = verdicts::verdicts(&observed, status::context(Some(state)));
    status::output(&report, Some(state))
}

fn served_lines(state: &Value) -> Vec<String> {
    state["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| format!("  {}", row["line"].as_str().unwrap()))
        .collect()
}

#[test]
fn the_runtime_expects_what_the_compose_file_expects_under_every_profile_set() {
    for profiles in ["", "local_node", "local_tari", "local_node,local_tari"] {
        let env = BTreeMap::from([("COMPOSE_PROFILES".to_owned(), profiles.to_owned())]);
        let cli =
            compose_file::expected_services(COMPOSE_YAML, &compose_file::profiles(&env)).unwrap();
        let runtime = verdicts::expected_services(STACK_SERVICES, &verdicts::profiles(profiles));
        assert_eq!(runtime, cli, "COMPOSE_PROFILES={profiles:?}");
    }
}

#[tokio::test]
async fn the_served_verdicts_are_the_lines_pithead_status_prints() {
    let cases: [(&str, Engine); 3] = [
        (
            "local_node,local_tari",
            Engine(BTreeMap::from([
                ("tor", ("restarting", None)),
                ("monerod", ("running", Some("unhealthy"))),
                ("tari", ("running", Some("starting"))),
                ("p2pool", ("exited", None)),
                ("xmrig-proxy", ("exited", None)),
                ("dashboard", ("running", Some("healthy"))),
                ("docker-proxy", ("running", None)),
                ("caddy", ("paused", None)),
            ])),
        ),
        (
            "local_node",
            Engine(
                STACK_SERVICES
                    .iter()
                    .map(|name| (*name, ("running", Some("healthy"))))
                    .collect(),
            ),
        ),
        ("", Engine(BTreeMap::new())),
    ];
    for (profiles, engine) in cases {
        let state = runtime_state(profiles, engine_clone(&engine)).await;
        let (lines, code) = cli_output(profiles, &engine, &state);
        let served = served_lines(&state);
        // The CLI's rows sit between its header and the summary (no sync lines: the runtime
        // saw no chain, so both chains are still loading and print a line each).
        assert_eq!(
            lines[1..=served.len()],
            served[..],
            "{profiles:?}: {lines:#?}"
        );
        let problems = state["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["problem"] == true)
            .count();
        assert_eq!(u8::from(problems > 0), code, "{profiles:?}");
        assert_eq!(lines.last().unwrap(), &summary(problems), "{profiles:?}");
        assert_eq!(served.len(), expected_rows(profiles), "{profiles:?}");
    }
}

fn expected_rows(profiles: &str) -> usize {
    STACK_SERVICES.len() - 2 + profiles.split(',').filter(|p| !p.is_empty()).count()
}

#[tokio::test]
async fn a_held_miner_is_intentional_in_the_served_rows_too() {
    let engine = Engine(BTreeMap::from([("p2pool", ("exited", None))]));
    let state = runtime_state("", engine).await;
    assert_eq!(state["miner_held"], true);
    let p2pool = state["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == "p2pool")
        .unwrap();
    assert_eq!(p2pool["verdict"], "intentional");
    assert_eq!(p2pool["state"], "exited");
    assert_eq!(p2pool["problem"], false);
}

fn summary(problems: usize) -> String {
    match problems {
        0 => "All expected services are up.".to_owned(),
        n => format!("{n} service(s) need attention"),
    }
}

fn engine_clone(engine: &Engine) -> Engine {
    Engine(engine.0.clone())
}
