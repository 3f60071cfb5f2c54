//! Docker engine client (through the `docker-control` socket proxy): start, stop, inspect.
//!
//! Start and stop go through bollard over a custom transport that hands each request to the
//! client's [`HttpSession`] (so it dials through the injected connector, and the simulation can
//! hand in turmoil's network). The transport also drops bollard's `/v1.NN` path prefix: an
//! unversioned path is served at the engine's own API version, which keeps the client working
//! across engines that no longer accept old versions or do not know new ones yet (and the
//! socket proxies accept both forms).
//!
//! Inspect, every cycle, is one bounded exchange on the same session's kept-alive connections
//! rather than a bollard call, because bollard collects response bodies without a size limit;
//! the reply is parsed by the pure [`parse_inspect`].
//!
//! Wire facts: `POST /containers/{name}/start|stop` → `204` done, `304` already in that state
//! (success for us: [`Applied::AlreadyInState`]), `404` no such container. The socket proxy
//! answers `403` with an HTML page for anything it does not allow. `GET /containers/{name}/json`
//! → `State.Status`, `State.Running`, `State.Health.Status`.

use std::fmt;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::StopContainerOptionsBuilder;
use bollard::{BollardRequest, Docker};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::{Deserialize, Serialize};

use super::daemon_text;
use super::wire::{self, WireError};
use crate::config::ContainerName;
use crate::io::{Endpoint, HttpSession, SharedConnector, Target, TransportError};

/// Seconds the engine waits for a container to stop before killing it.
pub const STOP_GRACE_SECS: u16 = 10;

/// Largest inspect reply (or error body) accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a start or stop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Applied {
    /// `204`: the container changed state.
    Changed,
    /// `304`: it already was in that state.
    AlreadyInState,
}

/// Why a docker call failed.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// `DOCKER_CONTROL_URL` cannot be used by the docker client library.
    #[error("DOCKER_CONTROL_URL: invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL (an [`Endpoint`]: never carries credentials).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The container name is not a docker name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
    #[error("invalid container name {name:?}")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// No complete answer: connect failed, the connection broke, the deadline passed, or the
    /// body was too large.
    #[error("docker engine at {0}")]
    Transport(#[from] TransportError),
    /// bollard could not make sense of the exchange.
    #[error("docker engine at {target} is unreachable: {source}")]
    Client {
        /// What was dialled.
        target: Target,
        /// bollard's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// `404`: no such container.
    #[error("no such container: {0}")]
    NotFound(String),
    /// Any other refusal: the socket proxy's `403` page, a `409` conflict, a `500`.
    #[error("docker engine refused (HTTP {status}): {message}")]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The engine's message, or the text of the proxy's page: one printable line of at most
        /// [`daemon_text::MAX_CHARS`] characters ([`daemon_text::clean`]).
        message: String,
    },
    /// An inspect reply that is not what the engine sends.
    #[error("docker engine sent a malformed reply: {source}")]
    Malformed {
        /// What is wrong, naming the field.
        #[from]
        source: WireError,
    },
}

/// A container's state, from inspect. The engine's strings are [`daemon_text::clean`]ed: they
/// reach verdict lines, logs and alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    /// The container's name as asked.
    pub name: String,
    /// `State.Status`: created, running, paused, restarting, removing, exited, dead.
    pub status: String,
    /// `State.Running`.
    pub running: bool,
    /// `State.Health.Status` (starting, healthy, unhealthy) when the container has a
    /// health check.
    pub health: Option<String>,
    /// `Image`: the id of the image the container was created from (`sha256:…`), when the
    /// engine says.
    pub image: Option<String>,
}

/// Start/stop as the cycle needs them, so it can hold an `Arc<dyn DockerApi>` (a fake in unit
/// tests, [`DockerController`] in production and the simulation).
pub trait DockerApi: Send + Sync {
    /// Starts `name`; already running is success.
    fn start<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>>;
    /// Stops `name` (SIGTERM, then SIGKILL after [`STOP_GRACE_SECS`]); already stopped is
    /// success.
    fn stop<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>>;
    /// Reads `name`'s state.
    fn inspect<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<ContainerStatus, DockerError>>;
}

/// The part of an inspect reply Pithead reads.
#[derive(Deserialize)]
struct InspectWire {
    #[serde(rename = "State", deserialize_with = "wire::object")]
    state: StateWire,
    #[serde(rename = "Image", default, deserialize_with = "wire::opt_text")]
    image: Option<String>,
}

#[derive(Deserialize)]
struct StateWire {
    #[serde(rename = "Status", default, deserialize_with = "wire::opt_text")]
    status: Option<String>,
    #[serde(rename = "Running", default, deserialize_with = "wire::flag")]
    running: bool,
    #[serde(rename = "Health", default, deserialize_with = "wire::opt_object")]
    health: Option<HealthWire>,
}

#[derive(Deserialize)]
struct HealthWire {
    #[serde(rename = "Status", default, deserialize_with = "wire::opt_text")]
    status: Option<String>,
}

/// Parses a `GET /containers/{name}/json` reply. Pure, never panics.
pub fn parse_inspect(name: &str, body: &[u8]) -> Result<ContainerStatus, DockerError> {
    let InspectWire { state, image } = wire::parse(body)?;
    let status = state.status.ok_or(WireError::Missing {
        field: "State.Status",
    })?;
    Ok(ContainerStatus {
        name: name.to_owned(),
        status: daemon_text::clean(&status),
        running: state.running,
        health: state
            .health
            .and_then(|h| h.status)
            .map(|h| daemon_text::clean(&h)),
        image: image.map(|i| daemon_text::clean(&i)),
    })
}

/// A short, printable message from an error body: the engine's `{"message":…}`, else the
/// body's text with tags stripped; [`daemon_text::clean`]ed either way (one line, no escapes,
/// at most [`daemon_text::MAX_CHARS`] characters).
fn refusal_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct EngineError {
        message: String,
    }
    if let Ok(EngineError { message }) = serde_json::from_slice(body) {
        return daemon_text::clean(&message);
    }
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if !in_tag && !c.is_control() => out.push(c),
            _ => {}
        }
    }
    daemon_text::clean(&out.split_whitespace().collect::<Vec<_>>().join(" "))
}

tokio::task_local! {
    /// The HTTP status of the last response the transport saw in this task (bollard maps 204
    /// and 304 to the same `Ok(())`; this tells them apart).
    static LAST_STATUS: Arc<AtomicU16>;
}

/// The docker engine client.
#[derive(Clone)]
pub struct DockerController {
    docker: Docker,
    session: HttpSession,
    base_url: String,
    timeout: Duration,
}

impl fmt::Debug for DockerController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerController")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Removes a leading `/v1.NN` API version segment from `path`.
fn strip_version(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v") else {
        return path;
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let version = &rest[..end];
    let is_version = version.split('.').count() == 2
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if is_version {
        &rest[end..]
    } else {
        path
    }
}

impl DockerController {
    /// A client for the engine at `endpoint` (`DOCKER_CONTROL_URL`, e.g.
    /// `http://docker-control:2375`). Every call is bounded by `timeout` (a stop additionally
    /// by the engine's grace period).
    pub fn new(
        connector: SharedConnector,
        endpoint: &Endpoint,
        timeout: Duration,
    ) -> Result<Self, DockerError> {
        let invalid = |reason| DockerError::InvalidUrl {
            url: endpoint.to_string(),
            reason,
        };
        let session = HttpSession::new(connector, endpoint.target().clone());
        // The engine's API lives at the root: bollard prefixes its own versioned paths.
        let base_url = format!("http://{}", endpoint.target().authority());
        let transport = {
            let session = session.clone();
            move |request: BollardRequest| {
                let session = session.clone();
                async move { transport(&session, request).await }
            }
        };
        // Saturating: `pithead status --timeout` hands in what the operator typed.
        let secs = timeout
            .as_secs()
            .max(1)
            .saturating_add(u64::from(STOP_GRACE_SECS));
        let docker = Docker::connect_with_custom_transport(
            transport,
            Some(base_url.clone()),
            secs,
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(|_| invalid("bollard refused the address"))?;
        Ok(Self {
            docker,
            session,
            base_url,
            timeout,
        })
    }

    /// What this client dials.
    pub fn target(&self) -> &Target {
        self.session.target()
    }

    /// Starts `name`.
    pub async fn start(&self, name: &str) -> Result<Applied, DockerError> {
        self.check_name(name)?;
        let docker = self.docker.clone();
        self.applied(name, self.timeout, async move {
            docker.start_container(name, None).await
        })
        .await
    }

    /// Stops `name` with a [`STOP_GRACE_SECS`] grace period.
    pub async fn stop(&self, name: &str) -> Result<Applied, DockerError> {
        self.check_name(name)?;
        let docker = self.docker.clone();
        let options = StopContainerOptionsBuilder::default()
            .t(i32::from(STOP_GRACE_SECS))
            .build();
        let deadline = self
            .timeout
            .saturating_add(Duration::from_secs(u64::from(STOP_GRACE_SECS)));
        self.applied(name, deadline, async move {
            docker.stop_container(name, Some(options)).await
        })
        .await
    }

    /// Inspects `name` (one bounded exchange).
    pub async fn inspect(&self, name: &str) -> Result<ContainerStatus, DockerError> {
        self.check_name(name)?;
        let url = format!("{}/containers/{name}/json", self.base_url);
        let request = crate::io::http::request(Method::GET, &url, HeaderMap::new(), Bytes::new())?;
        let response = self
            .session
            .send(request, self.timeout, MAX_BODY_BYTES)
            .await?;
        match response.status() {
            StatusCode::OK => parse_inspect(name, response.body()),
            StatusCode::NOT_FOUND => Err(DockerError::NotFound(name.to_owned())),
            status => Err(DockerError::Refused {
                status: status.as_u16(),
                message: refusal_message(response.body()),
            }),
        }
    }

    fn check_name(&self, name: &str) -> Result<(), DockerError> {
        // The one container-name rule, the configuration's.
        if ContainerName::is_valid(name) {
            Ok(())
        } else {
            Err(DockerError::InvalidName {
                name: name.chars().take(64).collect(),
            })
        }
    }

    async fn applied<F>(
        &self,
        name: &str,
        deadline: Duration,
        call: F,
    ) -> Result<Applied, DockerError>
    where
        F: std::future::Future<Output = Result<(), bollard::errors::Error>>,
    {
        let status = Arc::new(AtomicU16::new(0));
        let scoped = async {
            LAST_STATUS
                .scope(status.clone(), call)
                .await
                .map_err(|e| self.bollard_error(name, e, deadline))
        };
        self.target().within(deadline, scoped).await?;
        Ok(if status.load(Ordering::Relaxed) == 304 {
            Applied::AlreadyInState
        } else {
            Applied::Changed
        })
    }

    fn bollard_error(
        &self,
        name: &str,
        error: bollard::errors::Error,
        deadline: Duration,
    ) -> DockerError {
        use bollard::errors::Error as B;
        match error {
            B::DockerResponseServerError {
                status_code: 404, ..
            } => DockerError::NotFound(name.to_owned()),
            B::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::Refused {
                status: status_code,
                message: refusal_message(message.as_bytes()),
            },
            B::RequestTimeoutError => TransportError::Timeout {
                target: self.target().clone(),
                timeout: deadline,
            }
            .into(),
            B::IOError { err } => match into_transport_error(err) {
                Ok(transport) => transport.into(),
                Err(err) => DockerError::Client {
                    target: self.target().clone(),
                    source: B::IOError { err },
                },
            },
            source => DockerError::Client {
                target: self.target().clone(),
                source,
            },
        }
    }
}

/// The [`TransportError`] that [`transport`] put inside an `io::Error` for bollard, or the
/// `io::Error` back when it holds something else.
fn into_transport_error(err: std::io::Error) -> Result<TransportError, std::io::Error> {
    if !err.get_ref().is_some_and(|e| e.is::<TransportError>()) {
        return Err(err);
    }
    let kind = err.kind();
    match err
        .into_inner()
        .map(|inner| inner.downcast::<TransportError>())
    {
        Some(Ok(transport)) => Ok(*transport),
        Some(Err(other)) => Err(std::io::Error::new(kind, other)),
        None => Err(std::io::Error::from(kind)),
    }
}

/// bollard's transport: the request (path unversioned) through the client's session. Request
/// and response bodies are bounded by [`MAX_BODY_BYTES`]; the caller bounds the time.
///
/// bollard's custom transport must hand back hyper's own `Incoming` body, which cannot be
/// wrapped in a limit, and bollard collects an error reply's body without one. So this reads
/// every reply bollard would collect (any status but 2xx, `304` and `101`) itself, through
/// [`Limited`], and hands bollard the finished refusal; a body over the limit, declared or
/// streamed (an endless chunked `500`), is [`TransportError::TooLarge`] as soon as it passes the
/// limit. A success reply goes back unread: start and stop never read it (bollard drops it).
async fn transport(
    session: &HttpSession,
    request: BollardRequest,
) -> Result<http::Response<hyper::body::Incoming>, bollard::errors::Error> {
    let io_error =
        |err: Box<dyn std::error::Error + Send + Sync>| bollard::errors::Error::IOError {
            err: std::io::Error::other(err),
        };
    let too_large = || {
        io_error(
            TransportError::TooLarge {
                target: session.target().clone(),
                limit_bytes: MAX_BODY_BYTES,
            }
            .into(),
        )
    };
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    parts.uri = strip_version(path)
        .parse()
        .map_err(|e: http::uri::InvalidUri| io_error(e.into()))?;
    let body = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(io_error)?
        .to_bytes();
    let response = session
        .dispatch(http::Request::from_parts(parts, body))
        .await
        .map_err(|e| io_error(e.into()))?;
    let status = response.status();
    let _ = LAST_STATUS.try_with(|last| last.store(status.as_u16(), Ordering::Relaxed));
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let bollard_reads_body = !(status.is_success()
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::SWITCHING_PROTOCOLS);
    if !bollard_reads_body {
        return Ok(response);
    }
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                io_error(
                    TransportError::Protocol {
                        target: session.target().clone(),
                        source: e,
                    }
                    .into(),
                )
            }
        })?
        .to_bytes();
    // The raw text: [`refusal_message`] takes the engine's `message` out of it and cleans it.
    Err(bollard::errors::Error::DockerResponseServerError {
        status_code: status.as_u16(),
        message: String::from_utf8_lossy(&body).into_owned(),
    })
}

impl DockerApi for DockerController {
    fn start<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(DockerController::start(self, name))
    }

    fn stop<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Applied, DockerError>> {
        Box::pin(DockerController::stop(self, name))
    }

    fn inspect<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<ContainerStatus, DockerError>> {
        Box::pin(DockerController::inspect(self, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert!(ContainerName::is_valid("xmrig-proxy"));
        assert!(ContainerName::is_valid("itest-p2pool_1.x"));
        for bad in ["", "-x", "a/b", "a b", "../etc", "x?y"] {
            assert!(!ContainerName::is_valid(bad), "{bad:?}");
        }
        assert_eq!(
            strip_version("/v1.53/containers/x/start?t=1"),
            "/containers/x/start?t=1"
        );
        assert_eq!(strip_version("/containers/x/json"), "/containers/x/json");
        assert_eq!(strip_version("/vx/containers"), "/vx/containers");
        assert_eq!(strip_version("/v1.53"), "");
    }

    #[test]
    fn inspect_shapes() {
        let running = br#"{"Id":"abc","Name":"/p2pool","State":{"Status":"running","Running":true,"Health":{"Status":"healthy","FailingStreak":0}}}"#;
        let s = parse_inspect("p2pool", running).unwrap();
        assert_eq!(s.status, "running");
        assert!(s.running);
        assert_eq!(s.health.as_deref(), Some("healthy"));
        let exited = br#"{"State":{"Status":"exited","Running":false}}"#;
        assert_eq!(parse_inspect("x", exited).unwrap().health, None);
        assert!(parse_inspect("x", br#"{"State":{}}"#).is_err());
        assert!(parse_inspect("x", br#"{"State":["running",true]}"#).is_err());
        assert!(parse_inspect("x", b"<html>").is_err());
    }

    #[test]
    fn refusal_messages_are_short_text() {
        assert_eq!(
            refusal_message(br#"{"message":"No such container: x"}"#),
            "No such container: x"
        );
        let page = b"<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.</body></html>";
        assert_eq!(
            refusal_message(page),
            "403 Forbidden 403 Forbidden Request forbidden by administrative rules."
        );
        assert_eq!(
            refusal_message(&vec![b'a'; 5000]).chars().count(),
            daemon_text::MAX_CHARS
        );
    }
}
