//! Fake docker engine: the subset Pithead calls through the socket proxies (bollard), with every
//! start/stop recorded.
//!
//! Paths are accepted with or without bollard's `/v1.NN` prefix:
//! - `GET /_ping` (and `HEAD`) → `200 OK` with `Api-Version`; `GET /version` → engine version.
//! - `GET /containers/json[?all=1]` → the list (running only unless `all`).
//! - `GET /containers/{name}/json` → inspect: `Id`, `Name` (`"/name"`), `State{Status, Running,
//!   Paused, Restarting, …, Health?{Status}}`, `Config`, `HostConfig`.
//! - `POST /containers/{name}/start` | `/stop` → `204` done, `304` already in that state,
//!   `404 {"message":"No such container: name"}`; a refusal set with
//!   [`FakeDocker::refuse_next`] → `500 {"message":…}`.
//! - Anything else → `404 {"message":"page not found"}`.
//!
//! A container is found by name, `/name` or full id. Timestamps are fixed strings: the fake never
//! reads the wall clock.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::State,
    http::{header, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    behaviour::{self, Behaviour},
    control::{self, ControlSpec},
    sync::lock,
};

/// Docker API version the fake reports (docker 27.x).
pub const API_VERSION: &str = "1.47";

/// Start or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// `POST /containers/{name}/start`.
    Start,
    /// `POST /containers/{name}/stop`.
    Stop,
}

/// What a start/stop call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `204`: the container changed state.
    Changed,
    /// `304`: it already was in that state.
    AlreadyInState,
    /// `500`: refused on purpose ([`FakeDocker::refuse_next`]).
    Refused,
    /// `404`: no such container.
    NotFound,
}

/// One start/stop call and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerAction {
    /// The name the call used (as given, without a leading `/`).
    pub container: String,
    /// Start or stop.
    pub verb: Verb,
    /// What happened.
    pub outcome: Outcome,
}

/// A container's `State.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerStatus {
    /// Created, never started.
    Created,
    /// Running.
    Running,
    /// Restarting (a crash loop): counts as running.
    Restarting,
    /// Paused: counts as running.
    Paused,
    /// Stopped.
    Exited,
    /// Dead.
    Dead,
}

impl ContainerStatus {
    /// Whether docker reports `State.Running: true` (running, restarting or paused).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ContainerStatus::Running | ContainerStatus::Restarting | ContainerStatus::Paused
        )
    }
}

/// A container's `State.Health.Status` (absent when the image has no health check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Health check not passed yet.
    Starting,
    /// Passing.
    Healthy,
    /// Failing.
    Unhealthy,
}

#[derive(Debug, Clone)]
struct Container {
    id: String,
    status: ContainerStatus,
    health: Option<Health>,
}

#[derive(Debug, Default)]
struct DockerState {
    containers: BTreeMap<String, Container>,
    actions: Vec<DockerAction>,
    calls: Vec<DockerAction>,
    refuse_next: u32,
    behaviour: Behaviour,
}

/// One `POST /control` action (tagged by `action`); the body may also be an array of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum DockerControl {
    /// Create or change a container: `{"action":"set","container":"x","running":false}`,
    /// or with `"status":"restarting"`, and/or `"health":"unhealthy"` (`null` = no health check).
    Set {
        /// Container name.
        container: String,
        /// Shorthand for `status` running/exited.
        #[serde(default)]
        running: Option<bool>,
        /// Exact status (wins over `running`).
        #[serde(default)]
        status: Option<ContainerStatus>,
        /// Health; omit to keep the current one.
        #[serde(default, with = "double_option")]
        health: Option<Option<Health>>,
    },
    /// Remove a container: later calls get `404`.
    Remove {
        /// Container name.
        container: String,
    },
    /// The next `n` start/stop calls get `500`.
    RefuseNext {
        /// How many calls to refuse.
        n: u32,
    },
    /// Change how every engine route misbehaves.
    Behaviour {
        /// The new behaviour.
        behaviour: Behaviour,
    },
    /// Forget the recorded actions and calls.
    ClearLog,
}

/// Serde for `Option<Option<T>>`: absent = `None`, `null` = `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

const SPEC: ControlSpec = ControlSpec {
    fake: "docker",
    example: r#"{"action":"set","container":"itest-p2pool","running":false} or {"action":"refuse_next","n":2}"#,
};

/// Handle to a fake docker engine. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeDocker {
    state: Arc<Mutex<DockerState>>,
}

/// A 64-hex-digit container id derived from the name (deterministic).
fn container_id(name: &str) -> String {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..4)
        .map(|i| {
            x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(13 + i);
            format!("{x:016x}")
        })
        .collect()
}

impl FakeDocker {
    /// A fake engine with these containers, all running, no health check.
    pub fn new(containers: &[&str]) -> Self {
        let pairs: Vec<(&str, bool)> = containers.iter().map(|n| (*n, true)).collect();
        Self::with_state(&pairs)
    }

    /// A fake engine with these containers, running or exited.
    pub fn with_state(names_and_running: &[(&str, bool)]) -> Self {
        let fake = Self {
            state: Arc::new(Mutex::new(DockerState::default())),
        };
        for (name, running) in names_and_running {
            fake.set_status(
                name,
                if *running {
                    ContainerStatus::Running
                } else {
                    ContainerStatus::Exited
                },
            );
        }
        fake
    }

    /// Whether `name` is running; `None` when there is no such container.
    pub fn is_running(&self, name: &str) -> Option<bool> {
        let st = lock(&self.state);
        st.containers.get(name).map(|c| c.status.is_running())
    }

    /// `name`'s status; `None` when there is no such container.
    pub fn status(&self, name: &str) -> Option<ContainerStatus> {
        lock(&self.state).containers.get(name).map(|c| c.status)
    }

    /// Create `name` or change its status (no action is recorded: this is the test's hand, not
    /// the runtime's).
    pub fn set_status(&self, name: &str, status: ContainerStatus) {
        let mut st = lock(&self.state);
        st.containers
            .entry(name.to_owned())
            .and_modify(|c| c.status = status)
            .or_insert_with(|| Container {
                id: container_id(name),
                status,
                health: None,
            });
    }

    /// Set `name`'s health (`None` = no health check). Creates a running container if needed.
    pub fn set_health(&self, name: &str, health: Option<Health>) {
        if self.status(name).is_none() {
            self.set_status(name, ContainerStatus::Running);
        }
        if let Some(c) = lock(&self.state).containers.get_mut(name) {
            c.health = health;
        }
    }

    /// Remove `name`: later calls about it get `404`.
    pub fn remove(&self, name: &str) {
        lock(&self.state).containers.remove(name);
    }

    /// Every start/stop that changed a container's state, in order.
    pub fn actions(&self) -> Vec<DockerAction> {
        lock(&self.state).actions.clone()
    }

    /// Every start/stop call, including `304`s, refusals and `404`s, in order.
    pub fn calls(&self) -> Vec<DockerAction> {
        lock(&self.state).calls.clone()
    }

    /// The next `n` start/stop calls get `500 {"message": …}` and change nothing.
    pub fn refuse_next(&self, n: u32) {
        lock(&self.state).refuse_next = n;
    }

    /// Change how every engine route misbehaves.
    pub fn set_behaviour(&self, b: Behaviour) {
        lock(&self.state).behaviour = b;
    }

    /// Apply one control action.
    pub fn control(&self, action: DockerControl) {
        match action {
            DockerControl::Set {
                container,
                running,
                status,
                health,
            } => {
                let status = status.or(running.map(|r| {
                    if r {
                        ContainerStatus::Running
                    } else {
                        ContainerStatus::Exited
                    }
                }));
                match status {
                    Some(s) => self.set_status(&container, s),
                    None if self.status(&container).is_none() => {
                        self.set_status(&container, ContainerStatus::Running);
                    }
                    None => {}
                }
                if let Some(h) = health {
                    self.set_health(&container, h);
                }
            }
            DockerControl::Remove { container } => self.remove(&container),
            DockerControl::RefuseNext { n } => self.refuse_next(n),
            DockerControl::Behaviour { behaviour } => self.set_behaviour(behaviour),
            DockerControl::ClearLog => {
                let mut st = lock(&self.state);
                st.actions.clear();
                st.calls.clear();
            }
        }
    }

    /// The engine routes, honouring the behaviour.
    pub fn wire_router(&self) -> Router {
        let routes = Router::new().fallback(engine).with_state(self.clone());
        let fake = self.clone();
        behaviour::wrap(routes, move || lock(&fake.state).behaviour.clone())
    }

    /// `POST /control` (one [`DockerControl`] or an array of them) and `GET /control`
    /// (`{"containers":{name:{"status","running","health"}},"refuse_next","behaviour",
    /// "actions","calls"}`).
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let actions: Vec<DockerControl> = match SPEC.parse_value(body)? {
                    Value::Array(items) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            SPEC.from_value(v)
                                .map_err(|e| SPEC.error(format!("action [{i}]: {}", e.reason)))
                        })
                        .collect::<Result<_, _>>()?,
                    one => vec![SPEC.from_value(one)?],
                };
                actions.into_iter().for_each(|a| apply_fake.control(a));
                Ok(())
            },
            move || view_fake.view(),
        )
    }

    /// Engine routes plus the control API on one port.
    pub fn router(&self) -> Router {
        self.wire_router().merge(self.control_router())
    }

    fn view(&self) -> Value {
        let st = lock(&self.state);
        let containers: serde_json::Map<String, Value> = st
            .containers
            .iter()
            .map(|(n, c)| {
                (
                    n.clone(),
                    json!({"status": c.status, "running": c.status.is_running(), "health": c.health}),
                )
            })
            .collect();
        json!({
            "containers": containers,
            "refuse_next": st.refuse_next,
            "behaviour": st.behaviour,
            "actions": st.actions,
            "calls": st.calls,
        })
    }

    /// Look a container up by name, `/name` or full id; returns its name.
    fn find(st: &DockerState, key: &str) -> Option<String> {
        let key = key.strip_prefix('/').unwrap_or(key);
        if st.containers.contains_key(key) {
            return Some(key.to_owned());
        }
        st.containers
            .iter()
            .find(|(_, c)| c.id == key)
            .map(|(n, _)| n.clone())
    }

    fn start_stop(&self, key: &str, verb: Verb) -> Response {
        let mut st = lock(&self.state);
        let container = key.strip_prefix('/').unwrap_or(key).to_owned();
        let (outcome, resp) = if st.refuse_next > 0 {
            st.refuse_next -= 1;
            let verb_word = match verb {
                Verb::Start => "start",
                Verb::Stop => "stop",
            };
            (
                Outcome::Refused,
                docker_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("Cannot {verb_word} container {container}: refused by the test (fake docker)"),
                ),
            )
        } else if let Some(name) = Self::find(&st, key) {
            let c = st.containers.get_mut(&name);
            match (c, verb) {
                (Some(c), Verb::Start) if !c.status.is_running() => {
                    c.status = ContainerStatus::Running;
                    (Outcome::Changed, StatusCode::NO_CONTENT.into_response())
                }
                (Some(c), Verb::Stop) if c.status.is_running() => {
                    c.status = ContainerStatus::Exited;
                    (Outcome::Changed, StatusCode::NO_CONTENT.into_response())
                }
                _ => (
                    Outcome::AlreadyInState,
                    StatusCode::NOT_MODIFIED.into_response(),
                ),
            }
        } else {
            (
                Outcome::NotFound,
                docker_error(
                    StatusCode::NOT_FOUND,
                    &format!("No such container: {container}"),
                ),
            )
        };
        let action = DockerAction {
            container,
            verb,
            outcome,
        };
        if outcome == Outcome::Changed {
            st.actions.push(action.clone());
        }
        st.calls.push(action);
        resp
    }

    fn inspect(&self, key: &str) -> Response {
        let st = lock(&self.state);
        let Some(name) = Self::find(&st, key) else {
            let name = key.strip_prefix('/').unwrap_or(key);
            return docker_error(StatusCode::NOT_FOUND, &format!("No such container: {name}"));
        };
        let Some(c) = st.containers.get(&name) else {
            return docker_error(StatusCode::NOT_FOUND, &format!("No such container: {name}"));
        };
        // Written into one buffer of the document's size: `Json` starts at 128 bytes and
        // grows through a `BufMut` writer, which was most of this call's cost in the swarm.
        let mut body = Vec::with_capacity(INSPECT_DOC_BYTES);
        match serde_json::to_writer(&mut body, &inspect_doc(&name, c)) {
            Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => docker_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    }

    fn list(&self, all: bool) -> Response {
        let st = lock(&self.state);
        let rows: Vec<Value> = st
            .containers
            .iter()
            .filter(|(_, c)| all || c.status.is_running())
            .map(|(name, c)| {
                json!({
                    "Id": c.id,
                    "Names": [format!("/{name}")],
                    "Image": "pithead/fake:latest",
                    "ImageID": format!("sha256:{}", container_id("image")),
                    "Command": "/pithead-fake",
                    "Created": 1_735_689_600,
                    "State": c.status,
                    "Status": status_text(c),
                    "Labels": {"com.docker.compose.service": name},
                })
            })
            .collect();
        Json(Value::Array(rows)).into_response()
    }
}

fn status_text(c: &Container) -> String {
    let health = match c.health {
        Some(Health::Starting) => " (health: starting)",
        Some(Health::Healthy) => " (healthy)",
        Some(Health::Unhealthy) => " (unhealthy)",
        None => "",
    };
    match c.status {
        ContainerStatus::Running => format!("Up 1 hour{health}"),
        ContainerStatus::Paused => "Up 1 hour (Paused)".to_owned(),
        ContainerStatus::Restarting => "Restarting (1) 5 seconds ago".to_owned(),
        ContainerStatus::Created => "Created".to_owned(),
        ContainerStatus::Exited => "Exited (0) 1 minute ago".to_owned(),
        ContainerStatus::Dead => "Dead".to_owned(),
    }
}

/// About the size of one [`InspectDoc`] (a health check adds ~60 bytes).
const INSPECT_DOC_BYTES: usize = 1024;

/// `GET /containers/{id}/json`'s document (the fields the engine always sends that a client may
/// read). Typed rather than a `json!` tree: the runtime inspects every container every cycle,
/// and building a map per field was the fake engine's largest cost in the simulation.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectDoc<'a> {
    id: &'a str,
    created: &'static str,
    path: &'static str,
    args: [&'static str; 0],
    state: InspectState,
    image: String,
    name: String,
    restart_count: u32,
    driver: &'static str,
    platform: &'static str,
    config: InspectConfig<'a>,
    host_config: InspectHostConfig,
    network_settings: InspectNetworks,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectState {
    status: ContainerStatus,
    running: bool,
    paused: bool,
    restarting: bool,
    #[serde(rename = "OOMKilled")]
    oom_killed: bool,
    dead: bool,
    pid: u32,
    exit_code: i32,
    error: &'static str,
    started_at: &'static str,
    finished_at: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<InspectHealth>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectHealth {
    status: Health,
    failing_streak: u32,
    log: [u8; 0],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectConfig<'a> {
    hostname: &'a str,
    image: &'static str,
    labels: BTreeMap<&'static str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectHostConfig {
    restart_policy: InspectRestartPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectRestartPolicy {
    name: &'static str,
    maximum_retry_count: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectNetworks {
    networks: BTreeMap<String, Value>,
}

fn inspect_doc<'a>(name: &'a str, c: &'a Container) -> InspectDoc<'a> {
    let running = c.status.is_running();
    InspectDoc {
        id: &c.id,
        created: "2025-01-01T00:00:00.000000000Z",
        path: "/pithead-fake",
        args: [],
        state: InspectState {
            status: c.status,
            running,
            paused: c.status == ContainerStatus::Paused,
            restarting: c.status == ContainerStatus::Restarting,
            oom_killed: false,
            dead: c.status == ContainerStatus::Dead,
            pid: if running { 4242 } else { 0 },
            exit_code: 0,
            error: "",
            started_at: "2025-01-01T00:00:00.000000000Z",
            finished_at: if running {
                "0001-01-01T00:00:00Z"
            } else {
                "2025-01-01T01:00:00.000000000Z"
            },
            health: c.health.map(|h| InspectHealth {
                status: h,
                failing_streak: if h == Health::Unhealthy { 3 } else { 0 },
                log: [],
            }),
        },
        image: format!("sha256:{}", container_id("image")),
        name: format!("/{name}"),
        restart_count: 0,
        driver: "overlay2",
        platform: "linux",
        config: InspectConfig {
            hostname: &c.id[..12],
            image: "pithead/fake:latest",
            labels: BTreeMap::from([("com.docker.compose.service", name)]),
        },
        host_config: InspectHostConfig {
            restart_policy: InspectRestartPolicy {
                name: "unless-stopped",
                maximum_retry_count: 0,
            },
        },
        network_settings: InspectNetworks {
            networks: BTreeMap::new(),
        },
    }
}

/// Docker's error body.
fn docker_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

/// Strip bollard's `/v1.NN` prefix, if any.
fn unversioned(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v") else {
        return path;
    };
    match rest.find('/') {
        Some(i) if rest[..i].chars().all(|ch| ch.is_ascii_digit() || ch == '.') && i > 0 => {
            &rest[i..]
        }
        _ => path,
    }
}

async fn engine(State(fake): State<FakeDocker>, method: Method, uri: Uri) -> Response {
    let path = unversioned(uri.path());
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
                (header::PRAGMA, "no-cache"),
                (header::HeaderName::from_static("api-version"), API_VERSION),
                (
                    header::HeaderName::from_static("docker-experimental"),
                    "false",
                ),
                (header::HeaderName::from_static("ostype"), "linux"),
            ],
            "OK",
        )
            .into_response(),
        (&Method::GET, ["version"]) => Json(json!({
            "Platform": {"Name": "Docker Engine - Community"},
            "Version": "27.5.1",
            "ApiVersion": API_VERSION,
            "MinAPIVersion": "1.24",
            "GitCommit": "4c9b3b0",
            "GoVersion": "go1.22.11",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": "6.8.0",
        }))
        .into_response(),
        (&Method::GET, ["containers", "json"]) => {
            let all = uri.query().is_some_and(|q| {
                q.split('&')
                    .any(|kv| kv == "all=1" || kv == "all=true" || kv == "all=True")
            });
            fake.list(all)
        }
        (&Method::GET, ["containers", name, "json"]) => fake.inspect(name),
        (&Method::POST, ["containers", name, "start"]) => fake.start_stop(name, Verb::Start),
        (&Method::POST, ["containers", name, "stop"]) => fake.start_stop(name, Verb::Stop),
        _ => docker_error(StatusCode::NOT_FOUND, "page not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inspect_document_is_the_engines_shape() {
        let c = Container {
            id: container_id("p2pool"),
            status: ContainerStatus::Exited,
            health: Some(Health::Unhealthy),
        };
        let doc = serde_json::to_value(inspect_doc("p2pool", &c)).unwrap();
        assert_eq!(
            doc,
            json!({
                "Id": c.id,
                "Created": "2025-01-01T00:00:00.000000000Z",
                "Path": "/pithead-fake",
                "Args": [],
                "State": {
                    "Status": "exited", "Running": false, "Paused": false, "Restarting": false,
                    "OOMKilled": false, "Dead": false, "Pid": 0, "ExitCode": 0, "Error": "",
                    "StartedAt": "2025-01-01T00:00:00.000000000Z",
                    "FinishedAt": "2025-01-01T01:00:00.000000000Z",
                    "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": []},
                },
                "Image": format!("sha256:{}", container_id("image")),
                "Name": "/p2pool",
                "RestartCount": 0,
                "Driver": "overlay2",
                "Platform": "linux",
                "Config": {
                    "Hostname": &c.id[..12],
                    "Image": "pithead/fake:latest",
                    "Labels": {"com.docker.compose.service": "p2pool"},
                },
                "HostConfig": {"RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}},
                "NetworkSettings": {"Networks": {}},
            })
        );
        let running = Container {
            status: ContainerStatus::Running,
            health: None,
            ..c
        };
        let doc = serde_json::to_value(inspect_doc("p2pool", &running)).unwrap();
        assert_eq!(doc["State"]["Running"], true);
        assert_eq!(doc["State"]["Pid"], 4242);
        assert_eq!(doc["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
        assert!(doc["State"].get("Health").is_none());
    }

    #[test]
    fn version_prefix_is_stripped() {
        assert_eq!(
            unversioned("/v1.47/containers/x/json"),
            "/containers/x/json"
        );
        assert_eq!(unversioned("/containers/x/json"), "/containers/x/json");
        assert_eq!(unversioned("/version"), "/version");
        assert_eq!(unversioned("/v/x"), "/v/x");
    }

    #[test]
    fn start_stop_records_changes_and_calls() {
        let d = FakeDocker::with_state(&[("a", true), ("b", false)]);
        d.start_stop("a", Verb::Stop);
        d.start_stop("a", Verb::Stop);
        d.start_stop("/b", Verb::Start);
        d.start_stop("zzz", Verb::Start);
        d.refuse_next(1);
        d.start_stop("a", Verb::Start);
        assert_eq!(d.is_running("a"), Some(false));
        assert_eq!(d.is_running("b"), Some(true));
        let outcomes: Vec<Outcome> = d.calls().iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                Outcome::Changed,
                Outcome::AlreadyInState,
                Outcome::Changed,
                Outcome::NotFound,
                Outcome::Refused
            ]
        );
        assert_eq!(d.actions().len(), 2);
        assert_eq!(d.actions()[1].container, "b");
    }

    #[test]
    fn control_set_keeps_or_clears_health() {
        let d = FakeDocker::new(&["a"]);
        d.control(DockerControl::Set {
            container: "a".into(),
            running: None,
            status: None,
            health: Some(Some(Health::Unhealthy)),
        });
        let st = lock(&d.state);
        assert_eq!(st.containers["a"].health, Some(Health::Unhealthy));
        assert_eq!(st.containers["a"].status, ContainerStatus::Running);
    }
}
