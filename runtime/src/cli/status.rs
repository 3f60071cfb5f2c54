//! `pithead status`'s edges: the container states from the docker engine and the sync progress
//! from the runtime's `/api/state`. The verdicts are [`crate::control::verdicts`].

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::control::verdicts::{Observed, Report, StackContext};
use crate::io::http::{self, Exchange};
use crate::io::{BoxedStream, Connector, Endpoint, SharedConnector, TokioConnector};
use crate::observe::docker::{DockerController, DockerError};

/// The engine's default socket.
pub const DEFAULT_DOCKER: &str = "unix:///var/run/docker.sock";

/// Why status could not read the engine.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The `--docker` / `DOCKER_HOST` value is not a docker address.
    #[error(
        "invalid docker address {0:?}: expected unix:///path, tcp://host:port or http://host:port"
    )]
    BadAddress(String),
    /// The engine did not answer its ping.
    #[error("the docker engine at {target} does not answer: {reason} (is docker running? set DOCKER_HOST or --docker)")]
    Unreachable {
        /// What was dialled.
        target: String,
        /// The transport's error.
        reason: String,
    },
    /// The engine did not answer.
    #[error("cannot read container states from the docker engine at {target}: {source} (is docker running? set DOCKER_HOST or --docker)")]
    Engine {
        /// What was dialled.
        target: String,
        /// The client's error.
        #[source]
        source: DockerError,
    },
}

/// Dials one unix socket whatever host and port the client asks for.
#[derive(Debug, Clone)]
pub struct UnixConnector {
    path: PathBuf,
}

impl Connector for UnixConnector {
    fn connect(
        &self,
        _host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let path = self.path.clone();
        Box::pin(async move {
            let stream = tokio::net::UnixStream::connect(&path).await?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}

/// The longest `pithead status --timeout`, in seconds (one hour per call).
pub const MAX_TIMEOUT_SECS: u64 = 3_600;

/// A clap value parser for a duration flag in whole seconds, at most `max_secs`: an absurd
/// value (`--wait 18446744073709551615`) is refused while the command line is read — exit 2,
/// before anything runs — instead of overflowing a deadline computed from it later.
pub fn seconds_at_most(
    max_secs: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected a whole number of seconds".to_owned());
        }
        match text.parse::<u64>() {
            Ok(secs) if secs <= max_secs => Ok(secs),
            _ => Err(format!("too long: give at most {max_secs} seconds")),
        }
    }
}

/// The connector and endpoint for a docker address (`unix://`, `tcp://` or `http://`), and the
/// address as messages show it. The address may carry credentials (`tcp://user:pw@host`): a
/// message only ever shows it through [`crate::io::redact_url`].
pub fn docker_address(address: &str) -> Result<(SharedConnector, Endpoint, String), StatusError> {
    let bad = || StatusError::BadAddress(crate::io::redact_url(address));
    if let Some(path) = address.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(bad());
        }
        // The authority is never dialled: the connector goes to the socket.
        let endpoint = Endpoint::parse("http://docker:2375").map_err(|_| bad())?;
        let connector: SharedConnector = Arc::new(UnixConnector { path: path.into() });
        return Ok((connector, endpoint, address.to_owned()));
    }
    let http = match address.strip_prefix("tcp://") {
        Some(rest) => format!("http://{rest}"),
        None => address.to_owned(),
    };
    let endpoint = Endpoint::parse(&http).map_err(|_| bad())?;
    Ok((
        Arc::new(TokioConnector),
        endpoint,
        crate::io::redact_url(&http),
    ))
}

/// `GET /_ping`: whether an engine answers at `address` within `timeout`.
pub async fn ping(address: &str, timeout: Duration) -> Result<(), StatusError> {
    let (connector, endpoint, shown) = docker_address(address)?;
    let unreachable = |reason: String| StatusError::Unreachable {
        target: shown.clone(),
        reason,
    };
    let request = http::request(
        http::Method::GET,
        &endpoint.url("/_ping"),
        Default::default(),
        Bytes::new(),
    )
    .map_err(|e| unreachable(e.to_string()))?;
    let exchange = Exchange {
        timeout,
        limit_bytes: 64 * 1024,
    };
    let response = http::send(connector.as_ref(), request, &exchange)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(unreachable(format!("HTTP {}", response.status())))
    }
}

/// Inspects every name; a `404` is [`Observed::Missing`], any other failure stops status.
pub async fn observe(
    address: &str,
    names: &[String],
    timeout: Duration,
) -> Result<Vec<(String, Observed)>, StatusError> {
    let (connector, endpoint, shown) = docker_address(address)?;
    let engine = |source| StatusError::Engine {
        target: shown.clone(),
        source,
    };
    let docker = DockerController::new(connector, &endpoint, timeout).map_err(engine)?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let observed = match docker.inspect(name).await {
            Ok(s) => Observed::Present {
                status: s.status,
                health: s.health,
            },
            Err(DockerError::NotFound(_)) => Observed::Missing,
            Err(e) => return Err(engine(e)),
        };
        out.push((name.clone(), observed));
    }
    Ok(out)
}

/// The image id of each name's container (`None` when it does not exist or the engine gave
/// no id); any other failure stops the caller.
pub async fn images(
    address: &str,
    names: &[String],
    timeout: Duration,
) -> Result<crate::cli::upgrade::Images, StatusError> {
    let (connector, endpoint, shown) = docker_address(address)?;
    let engine = |source| StatusError::Engine {
        target: shown.clone(),
        source,
    };
    let docker = DockerController::new(connector, &endpoint, timeout).map_err(engine)?;
    let mut out = crate::cli::upgrade::Images::new();
    for name in names {
        let image = match docker.inspect(name).await {
            Ok(s) => s.image,
            Err(DockerError::NotFound(_)) => None,
            Err(e) => return Err(engine(e)),
        };
        out.insert(name.clone(), image);
    }
    Ok(out)
}

/// The IPv4 address of container `name` on one of its networks (the host reaches a bridge
/// network's containers directly), or `None` when it has none or does not exist.
pub async fn container_ip(
    address: &str,
    name: &str,
    timeout: Duration,
) -> Result<Option<std::net::IpAddr>, StatusError> {
    let (connector, endpoint, shown) = docker_address(address)?;
    let unreachable = |reason: String| StatusError::Unreachable {
        target: shown.clone(),
        reason,
    };
    if !crate::config::ContainerName::is_valid(name) {
        return Ok(None);
    }
    let request = http::request(
        http::Method::GET,
        &endpoint.url(&format!("/containers/{name}/json")),
        Default::default(),
        Bytes::new(),
    )
    .map_err(|e| unreachable(e.to_string()))?;
    let exchange = Exchange {
        timeout,
        limit_bytes: 4 * 1024 * 1024,
    };
    let response = http::send(connector.as_ref(), request, &exchange)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Ok(None);
    }
    let inspect: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    Ok(inspect
        .pointer("/NetworkSettings/Networks")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|networks| networks.values())
        .filter_map(|n| n.get("IPAddress").and_then(Value::as_str))
        .find_map(|ip| ip.parse().ok()))
}

/// Why the runtime's `/api/state` could not be read. `uri` is `--url` + `/api/state` as
/// messages may show it ([`crate::io::redact_url`]: no userinfo, no query).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not a usable URL, nothing answered in time, or the exchange broke off.
    #[error("cannot read the runtime's state at {uri}: {source}")]
    Transport {
        /// Where it was asked.
        uri: String,
        /// The transport's error.
        #[source]
        source: crate::io::TransportError,
    },
    /// Something answered, but not with the runtime's document.
    #[error("{uri} answered {status}: is --url the runtime's dashboard address?")]
    Status {
        /// Where it was asked.
        uri: String,
        /// The status it answered.
        status: ::http::StatusCode,
    },
    /// A 2xx whose body is not JSON.
    #[error("{uri} did not answer JSON: {source}")]
    NotJson {
        /// Where it was asked.
        uri: String,
        /// Where the JSON broke.
        #[source]
        source: serde_json::Error,
    },
}

/// The runtime's `/api/state` at `url` (the dashboard's address), within `timeout`.
pub async fn fetch_runtime_state(url: &str, timeout: Duration) -> Result<Value, StateError> {
    let uri = format!("{}/api/state", url.trim_end_matches('/'));
    let shown = || crate::io::redact_url(&uri);
    let exchange = Exchange {
        timeout,
        limit_bytes: 4 * 1024 * 1024,
    };
    let sent = match http::request(http::Method::GET, &uri, Default::default(), Bytes::new()) {
        Ok(request) => http::send(&TokioConnector, request, &exchange).await,
        Err(e) => Err(e),
    };
    let response = sent.map_err(|source| StateError::Transport {
        uri: shown(),
        source,
    })?;
    if !response.status().is_success() {
        return Err(StateError::Status {
            uri: shown(),
            status: response.status(),
        });
    }
    serde_json::from_slice(response.body()).map_err(|source| StateError::NotJson {
        uri: shown(),
        source,
    })
}

/// The runtime's `/api/state`, or `None` when it does not answer (status degrades quietly:
/// the stack may still be starting).
pub async fn runtime_state(url: &str, timeout: Duration) -> Option<Value> {
    fetch_runtime_state(url, timeout).await.ok()
}

/// What the runtime says about a node outage and the sync hold.
pub fn context(state: Option<&Value>) -> StackContext {
    let flag = |key: &str| state.and_then(|s| s[key].as_bool()).unwrap_or(false);
    StackContext {
        node_down: flag("workers_rejected"),
        sync_hold: flag("miner_held"),
    }
}

/// One line per chain that is not done: `… monero  42% (420 / 1000 blocks, 580 to go)`, or
/// `… tari    discovering the target height…` while the target is unknown.
pub fn sync_lines(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for chain in ["monero", "tari"] {
        let s = &state["sync"][chain];
        let Some(phase) = s["state"].as_str() else {
            continue;
        };
        if phase == "done" {
            continue;
        }
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        if phase == "syncing" {
            out.push(format!(
                "  … {chain:<7} {}% ({} / {} blocks, {} to go)",
                n("percent"),
                n("current"),
                n("target"),
                n("remaining")
            ));
        } else {
            out.push(format!("  … {chain:<7} discovering the target height…"));
        }
    }
    out
}

/// What `pithead status` prints for `report` (and, when the runtime answered, its `/api/state`),
/// one line per element, and its exit code: the one formatting of the verdicts.
pub fn output(report: &Report, state: Option<&Value>) -> (Vec<String>, u8) {
    let mut out = vec!["Service health check:".to_owned()];
    out.extend(report.verdicts.iter().map(|v| format!("  {}", v.line)));
    let sync = state.map(sync_lines).unwrap_or_default();
    if !sync.is_empty() {
        out.push("Chain sync in progress — the miners are held until it completes:".to_owned());
        out.extend(sync);
    }
    out.push(report.summary());
    (out, report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_address_with_credentials_is_refused_without_showing_them() {
        for (address, shown) in [
            ("tcp://op:pw-4711@host:2376", "tcp://***@host:2376"),
            // A `/` in the password: not even a URL; still nothing of it shown.
            ("tcp://op:pw/4711@host:2376", "tcp://***@host:2376"),
            ("http://op:pw?4711@host:2376", "http://***"),
            ("tcp://op:1234/pw-4711@host:2376", "tcp://***@host:2376"),
        ] {
            let Err(e) = docker_address(address) else {
                panic!("{address} accepted");
            };
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("invalid docker address {shown:?}")),
                "{text}"
            );
            for secret in ["op:", "pw", "4711"] {
                assert!(!text.contains(secret), "{secret} leaked: {text}");
            }
        }
    }

    #[test]
    fn duration_flags_are_bounded() {
        let parse = seconds_at_most(60);
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("60"), Ok(60));
        for too_long in ["61", "18446744073709551615", "99999999999999999999999"] {
            assert_eq!(
                parse(too_long),
                Err("too long: give at most 60 seconds".to_owned()),
                "{too_long}"
            );
        }
        for bad in ["", "-1", "1.5", "ten"] {
            assert_eq!(
                parse(bad),
                Err("expected a whole number of seconds".to_owned()),
                "{bad}"
            );
        }
    }
}
