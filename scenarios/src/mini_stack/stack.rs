//! One scenario's containers on the real engine: started with `testcontainers`, read back
//! through the engine's own API (states, events, logs), removed at the end.
//!
//! Every name carries the run's prefix (`pms-<pid>-<n>`) and every container and network the
//! labels [`LABEL`] and [`LABEL_RUN`], so two runs on one machine never collide and a sweep can
//! find what a killed run left behind.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use futures::StreamExt as _;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::{
    EventsOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
};
use testcontainers::bollard::Docker;
use testcontainers::core::{AccessMode, Healthcheck, Mount, WaitFor};
use testcontainers::runners::AsyncRunner as _;
use testcontainers::{ContainerAsync, GenericImage, ImageExt as _};

/// Label on everything a mini-stack run creates.
pub const LABEL: &str = "pithead.mini-stack";
/// Label naming the run (the prefix) that created it.
pub const LABEL_RUN: &str = "pithead.mini-stack.run";
/// Label naming the process that created it (a sweep removes what dead processes left).
pub const LABEL_PID: &str = "pithead.mini-stack.pid";

/// The images a stack is made of.
#[derive(Debug, Clone)]
pub struct Images {
    /// The runtime's image (`pithead/runtime:dev`).
    pub runtime: (String, String),
    /// The fakes' image (`pithead/fake:dev`): every fake, the stand-ins and the socket proxy.
    pub fake: (String, String),
}

impl Default for Images {
    fn default() -> Self {
        Self {
            runtime: ("pithead/runtime".into(), "dev".into()),
            fake: ("pithead/fake".into(), "dev".into()),
        }
    }
}

/// A service of the stack, by its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// The fake monerod (RPC and control on 18081).
    Monerod,
    /// The fake Tari base node (gRPC 18142, control 9000).
    Tari,
    /// The p2pool stand-in the sync gate stops and starts.
    P2pool,
    /// The xmrig-proxy stand-in the gate and the failover stop and start.
    XmrigProxy,
    /// The start/stop socket proxy in front of the engine.
    DockerControl,
    /// The runtime, in its deployed image.
    Runtime,
}

impl Service {
    /// Every service, in start order.
    pub const ALL: [Service; 6] = [
        Service::Monerod,
        Service::Tari,
        Service::P2pool,
        Service::XmrigProxy,
        Service::DockerControl,
        Service::Runtime,
    ];

    /// The port of its fake's control API (its health check probes it); `None` for the proxy
    /// and the runtime.
    pub fn control_port(self) -> Option<u16> {
        match self {
            Service::Monerod => Some(18081),
            Service::Tari => Some(9000),
            Service::P2pool => Some(3380),
            Service::XmrigProxy => Some(3344),
            Service::DockerControl | Service::Runtime => None,
        }
    }

    /// The stack's own name for it (the container name after the prefix).
    pub fn role(self) -> &'static str {
        match self {
            Service::Monerod => "monerod",
            Service::Tari => "tari",
            Service::P2pool => crate::driver::P2POOL,
            Service::XmrigProxy => crate::driver::XMRIG_PROXY,
            Service::DockerControl => "docker-control",
            Service::Runtime => "runtime",
        }
    }
}

/// What went wrong talking to the engine or a container.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A docker engine call failed.
    #[error("docker engine: {what}: {source}")]
    Engine {
        /// The call.
        what: String,
        /// The engine's error.
        source: testcontainers::bollard::errors::Error,
    },
    /// testcontainers could not start a container.
    #[error("starting {name}: {message}")]
    Start {
        /// The container.
        name: String,
        /// What testcontainers said.
        message: String,
    },
    /// An HTTP call to a container failed.
    #[error("{what}: {message}")]
    Http {
        /// The call.
        what: String,
        /// Why.
        message: String,
    },
}

fn engine(
    what: impl Into<String>,
) -> impl FnOnce(testcontainers::bollard::errors::Error) -> StackError {
    let what = what.into();
    move |source| StackError::Engine { what, source }
}

/// The running containers of one scenario.
pub struct Stack {
    docker: Docker,
    prefix: String,
    network: String,
    containers: Vec<(Service, ContainerAsync<GenericImage>)>,
}

/// One container to start: its role, image, command and environment.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its role in the stack.
    pub service: Service,
    /// `(name, tag)`.
    pub image: (String, String),
    /// Arguments to the image's entrypoint.
    pub cmd: Vec<String>,
    /// Environment variables (secrets travel here, never in `cmd`).
    pub env: Vec<(String, String)>,
}

impl Stack {
    /// Creates the stack's network. Containers are added with [`Stack::start`].
    pub async fn new(docker: Docker, prefix: &str) -> Result<Self, StackError> {
        let network = prefix.to_owned();
        let labels = HashMap::from([
            (LABEL.to_owned(), "1".to_owned()),
            (LABEL_RUN.to_owned(), prefix.to_owned()),
            (LABEL_PID.to_owned(), std::process::id().to_string()),
        ]);
        docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(engine(format!("creating network {network}")))?;
        Ok(Self {
            docker,
            prefix: prefix.to_owned(),
            network,
            containers: Vec::new(),
        })
    }

    /// The container name of `service`.
    pub fn name(&self, service: Service) -> String {
        format!("{}-{}", self.prefix, service.role())
    }

    /// The engine client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Starts every container of `specs` at once from their images, hardened as the deployed
    /// stack is (no capabilities, no new privileges), each waiting for its readiness line (the
    /// fakes) or for nothing (the runtime: its readiness is `/api/state`, which the caller polls).
    pub async fn start(&mut self, specs: Vec<Spec>) -> Result<(), StackError> {
        let starts = specs.into_iter().map(|spec| {
            let service = spec.service;
            let name = self.name(service);
            let request = self.request(spec);
            async move {
                request
                    .start()
                    .await
                    .map(|container| (service, container))
                    .map_err(|e| StackError::Start {
                        name,
                        message: e.to_string(),
                    })
            }
        });
        let mut first_error = None;
        for result in futures::future::join_all(starts).await {
            match result {
                Ok(started) => self.containers.push(started),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn request(&self, spec: Spec) -> testcontainers::ContainerRequest<GenericImage> {
        let Spec {
            service,
            image,
            cmd,
            env,
        } = spec;
        let mut generic = GenericImage::new(image.0, image.1);
        if service != Service::Runtime {
            generic = generic.with_wait_for(WaitFor::message_on_stderr("listening"));
        }
        let mut request = generic
            .with_container_name(self.name(service))
            .with_network(self.network.clone())
            .with_label(LABEL, "1")
            .with_label(LABEL_RUN, self.prefix.clone())
            .with_label(LABEL_PID, std::process::id().to_string())
            .with_cap_drop("ALL")
            .with_security_opt("no-new-privileges:true")
            .with_startup_timeout(Duration::from_secs(60))
            .with_cmd(cmd);
        for (key, value) in env {
            request = request.with_env_var(key, value);
        }
        if let Some(port) = service.control_port() {
            // The images have no shell: the fake probes its own control API.
            request = request.with_health_check(
                Healthcheck::cmd([
                    "/pithead-fake".to_owned(),
                    "probe".to_owned(),
                    format!("http://127.0.0.1:{port}/control"),
                ])
                .with_interval(Duration::from_secs(2))
                .with_timeout(Duration::from_secs(3))
                .with_retries(3),
            );
        }
        if service == Service::DockerControl {
            let socket = engine_socket();
            let group = socket_group(&socket);
            request = request
                .with_mount(
                    Mount::bind_mount(socket.clone(), "/var/run/docker.sock")
                        .with_access_mode(AccessMode::ReadOnly),
                )
                .with_user(format!("65534:{group}"));
        }
        request
    }

    /// Whether `service`'s container runs, as the engine says.
    pub async fn running(&self, service: Service) -> Result<bool, StackError> {
        let name = self.name(service);
        let inspect = self
            .docker
            .inspect_container(&name, None::<InspectContainerOptions>)
            .await
            .map_err(engine(format!("inspecting {name}")))?;
        Ok(inspect
            .state
            .and_then(|state| state.running)
            .unwrap_or(false))
    }

    /// The container's address on the stack's network (it changes across restarts).
    pub async fn address(&self, service: Service, port: u16) -> Result<SocketAddr, StackError> {
        let name = self.name(service);
        let inspect = self
            .docker
            .inspect_container(&name, None::<InspectContainerOptions>)
            .await
            .map_err(engine(format!("inspecting {name}")))?;
        let ip = inspect
            .network_settings
            .and_then(|settings| settings.networks)
            .and_then(|networks| networks.get(&self.network).cloned())
            .and_then(|endpoint| endpoint.ip_address)
            .filter(|ip| !ip.is_empty())
            .ok_or_else(|| StackError::Http {
                what: format!("the address of {name}"),
                message: format!(
                    "it has no address on network {} (not running?)",
                    self.network
                ),
            })?;
        let ip: IpAddr = ip.parse().map_err(|e| StackError::Http {
            what: format!("the address of {name}"),
            message: format!("{ip:?}: {e}"),
        })?;
        Ok(SocketAddr::new(ip, port))
    }

    /// `docker stop` (SIGTERM, then SIGKILL after `grace`).
    pub async fn stop(&self, service: Service, grace: Duration) -> Result<(), StackError> {
        let name = self.name(service);
        let options = StopContainerOptionsBuilder::new()
            .t(i32::try_from(grace.as_secs()).unwrap_or(10))
            .build();
        self.docker
            .stop_container(&name, Some(options))
            .await
            .map_err(engine(format!("stopping {name}")))
    }

    /// `docker start`.
    pub async fn start_again(&self, service: Service) -> Result<(), StackError> {
        let name = self.name(service);
        self.docker
            .start_container(&name, None::<StartContainerOptions>)
            .await
            .map_err(engine(format!("starting {name}")))
    }

    /// `docker restart`.
    pub async fn restart(&self, service: Service, grace: Duration) -> Result<(), StackError> {
        let name = self.name(service);
        let options = RestartContainerOptionsBuilder::new()
            .t(i32::try_from(grace.as_secs()).unwrap_or(10))
            .build();
        self.docker
            .restart_container(&name, Some(options))
            .await
            .map_err(engine(format!("restarting {name}")))
    }

    /// The engine's container events of this stack between `since` and now:
    /// `(unix seconds, container name, action)`.
    pub async fn events(
        &self,
        since: SystemTime,
    ) -> Result<Vec<(f64, String, String)>, StackError> {
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
        };
        #[allow(clippy::disallowed_methods)] // the real engine's clock: real time
        let until = SystemTime::now() + Duration::from_secs(1);
        let filters: HashMap<String, Vec<String>> = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            (
                "label".to_owned(),
                vec![format!("{LABEL_RUN}={}", self.prefix)],
            ),
        ]);
        let options = EventsOptionsBuilder::new()
            .since(&format!("{:.6}", secs(since)))
            .until(&format!("{:.6}", secs(until)))
            .filters(&filters)
            .build();
        let mut stream = self.docker.events(Some(options));
        let mut out = Vec::new();
        while let Some(event) = stream.next().await {
            let event = event.map_err(engine("reading events"))?;
            let at = event.time_nano.map_or(0.0, |ns| ns as f64 / 1e9);
            let name = event
                .actor
                .and_then(|actor| actor.attributes)
                .and_then(|attrs| attrs.get("name").cloned())
                .unwrap_or_default();
            let action = event.action.unwrap_or_default();
            out.push((at, name, action));
        }
        Ok(out)
    }

    /// The last `lines` lines the container wrote (stdout and stderr).
    pub async fn logs(&self, service: Service, lines: usize) -> Result<String, StackError> {
        let name = self.name(service);
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(&name, Some(options));
        let mut out = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(engine(format!("reading the logs of {name}")))?;
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        Ok(out)
    }

    /// Every container of the stack with its engine state, one per line.
    pub async fn states(&self) -> String {
        let mut out = String::new();
        for service in Service::ALL {
            let name = self.name(service);
            let state = match self
                .docker
                .inspect_container(&name, None::<InspectContainerOptions>)
                .await
            {
                Ok(inspect) => inspect
                    .state
                    .map(|s| {
                        format!(
                            "{} (exit code {}, started {}, finished {})",
                            s.status.map(|s| s.to_string()).unwrap_or_default(),
                            s.exit_code.unwrap_or_default(),
                            s.started_at.unwrap_or_default(),
                            s.finished_at.unwrap_or_default()
                        )
                    })
                    .unwrap_or_default(),
                Err(e) => format!("not inspectable: {e}"),
            };
            out.push_str(&format!("{name}: {state}\n"));
        }
        out
    }

    /// Removes every container and the network; what could not be removed is returned.
    pub async fn remove(mut self) -> Vec<String> {
        let removals = self
            .containers
            .drain(..)
            .map(|(service, container)| async move {
                container
                    .rm()
                    .await
                    .map_err(|e| format!("{}: {e}", service.role()))
            });
        let mut left: Vec<String> = futures::future::join_all(removals)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if let Err(e) = self.docker.remove_network(&self.network).await {
            left.push(format!("network {}: {e}", self.network));
        }
        left
    }
}

/// The engine's unix socket on this host (`DOCKER_HOST=unix://…` or the default).
pub fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// The group that owns the socket: the proxy joins it instead of running as root.
fn socket_group(socket: &str) -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(socket).map_or(0, |m| m.gid())
}

/// What mini-stack runs left on the engine: containers and networks carrying [`LABEL`] whose
/// creating process is gone, removed (a run in progress keeps its own); their names returned.
pub async fn sweep(docker: &Docker) -> Result<Vec<String>, StackError> {
    // Only what a run created carries its process id; anything else (a container of another
    // test made from the same images) is never ours to remove.
    let alive = |labels: &HashMap<String, String>| {
        labels
            .get(LABEL_PID)
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_none_or(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
    };
    let filters: HashMap<String, Vec<String>> =
        HashMap::from([("label".to_owned(), vec![LABEL.to_owned()])]);
    let mut removed = Vec::new();
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(engine("listing containers"))?;
    for container in containers {
        if alive(&container.labels.clone().unwrap_or_default()) {
            continue;
        }
        let id = container.id.unwrap_or_default();
        let name = container
            .names
            .and_then(|names| names.first().cloned())
            .unwrap_or_else(|| id.clone());
        docker
            .remove_container(
                &id,
                Some(RemoveContainerOptionsBuilder::new().force(true).build()),
            )
            .await
            .map_err(engine(format!("removing {name}")))?;
        removed.push(name);
    }
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(engine("listing networks"))?;
    for network in networks {
        if alive(&network.labels.clone().unwrap_or_default()) {
            continue;
        }
        let name = network.name.unwrap_or_default();
        match docker.remove_network(&name).await {
            Ok(()) => removed.push(format!("network {name}")),
            Err(e) if gone_or_going(&e) => {}
            Err(e) => return Err(engine(format!("removing network {name}"))(e)),
        }
    }
    Ok(removed)
}

/// 404 (no such object) or 409 (its removal is already in progress).
fn gone_or_going(e: &testcontainers::bollard::errors::Error) -> bool {
    matches!(
        e,
        testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }
    )
}

/// Containers and networks this process created that are still on the engine.
pub async fn leftovers(docker: &Docker) -> Result<Vec<String>, StackError> {
    let filters: HashMap<String, Vec<String>> = HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_PID}={}", std::process::id())],
    )]);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(engine("listing containers"))?;
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(engine("listing networks"))?;
    Ok(containers
        .into_iter()
        .filter_map(|c| c.names.and_then(|n| n.first().cloned()))
        .chain(
            networks
                .into_iter()
                .filter_map(|n| n.name.map(|n| format!("network {n}"))),
        )
        .collect())
}

/// One HTTP/1 request to `addr` through the runtime's own exchange (connect, `Host`, bounded
/// body, one deadline), the reply read whole within `timeout`.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<String>,
    timeout: Duration,
) -> Result<(u16, String), String> {
    use pithead_runtime::io::{http as exchange, TokioConnector};
    let method = exchange::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let request = exchange::request(
        method,
        &format!("http://{addr}{path}"),
        Default::default(),
        bytes::Bytes::from(body.unwrap_or_default()),
    )
    .map_err(|e| e.to_string())?;
    let bounds = exchange::Exchange {
        timeout,
        limit_bytes: 4 * 1024 * 1024,
    };
    let reply = exchange::send(&TokioConnector, request, &bounds)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        reply.status().as_u16(),
        String::from_utf8_lossy(reply.body()).into_owned(),
    ))
}
