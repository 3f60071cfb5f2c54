//! A least-privilege docker socket proxy: the only way the runtime's container reaches the
//! engine.
//!
//! It forwards a request to the engine's unix socket only when [`Access::permits`] allows it and
//! answers everything else `403 Forbidden` with an HTML page, as the socket proxies of the real
//! stack do. [`Access::ReadOnly`] is `docker-proxy` (ping, version, container list, inspect and
//! logs); [`Access::StartStop`] is `docker-control` (ping, version, inspect, and `POST`
//! `start`/`stop` of one named container). Nothing else passes: no exec, attach, create, delete,
//! images, networks, volumes, events, no hijacked streams, no request body, no percent-encoded or
//! relative path segments, and no query parameter beyond `stop`'s numeric `t`.
//!
//! Written by hand rather than run as an existing image because no registry is reachable here
//! and the rule set is a dozen lines: the policy is a pure function ([`Access::permits`]), tested
//! path by path, and the forwarding is plain hyper over a unix stream.

use std::path::PathBuf;
use std::time::Duration;

use axum::{
    body::Body,
    extract::State,
    http::{header, Method, Request, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;

/// Which proxy this is: what it lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `docker-proxy`: ping, version, container list, inspect and logs. No `POST` at all.
    ReadOnly,
    /// `docker-control`: ping, version, inspect, and `POST /containers/{name}/start|stop`.
    StartStop,
}

/// Why a request was refused (the body of the 403 page and the proxy's log line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The method is not one the proxy forwards for any path.
    #[error("method {0} is not allowed through this proxy")]
    Method(String),
    /// The path is not on the allow list for this method and access.
    #[error("{method} {path} is not allowed through this proxy")]
    Path {
        /// The method asked for.
        method: String,
        /// The path asked for (without the query).
        path: String,
    },
    /// A query parameter the allowed call does not need.
    #[error("query {0:?} is not allowed through this proxy")]
    Query(String),
    /// The request carries a body or asks to upgrade the connection.
    #[error("request bodies and connection upgrades are not allowed through this proxy")]
    Body,
}

impl Access {
    /// Whether `method path_and_query` may pass, a pure function of the request line.
    pub fn permits(self, method: &Method, path_and_query: &str) -> Result<(), Refusal> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let refused = || Refusal::Path {
            method: method.to_string(),
            path: path.to_owned(),
        };
        let bare = strip_api_version(path);
        let segments: Vec<&str> = bare
            .strip_prefix('/')
            .ok_or_else(refused)?
            .split('/')
            .collect();
        let read = *method == Method::GET || *method == Method::HEAD;
        if !read && *method != Method::POST {
            return Err(Refusal::Method(method.to_string()));
        }
        let allowed = match (read, segments.as_slice()) {
            (true, ["_ping"] | ["version"]) => true,
            (true, ["containers", "json"]) => self == Access::ReadOnly,
            (true, ["containers", name, "json"]) => is_container_name(name),
            (true, ["containers", name, "logs"]) => {
                self == Access::ReadOnly && is_container_name(name)
            }
            (false, ["containers", name, "start" | "stop"]) => {
                self == Access::StartStop && is_container_name(name)
            }
            _ => false,
        };
        if !allowed {
            return Err(refused());
        }
        let query_ok = match (segments.as_slice(), query) {
            (_, None) => true,
            (["containers", _, "stop"], Some(q)) => q
                .split('&')
                .all(|kv| kv.strip_prefix("t=").is_some_and(is_small_number)),
            (["containers", _, "logs"], Some(q)) => q.split('&').all(is_log_option),
            (["containers", "json"], Some(q)) => q == "all=1" || q == "all=true",
            (_, Some(_)) => false,
        };
        if !query_ok {
            return Err(Refusal::Query(query.unwrap_or_default().to_owned()));
        }
        Ok(())
    }
}

/// `/v1.41/containers/x/json` → `/containers/x/json`; other paths unchanged.
fn strip_api_version(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v") else {
        return path;
    };
    let Some((version, _)) = rest.split_once('/') else {
        return path;
    };
    let numeric = version
        .split_once('.')
        .is_some_and(|(major, minor)| is_small_number(major) && is_small_number(minor));
    if numeric {
        // `/v` + version, then the rest from its `/`.
        &path[2 + version.len()..]
    } else {
        path
    }
}

/// Docker's container name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, which also rules out `..`,
/// empty segments and percent-encoding.
fn is_container_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= 255
}

fn is_small_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `docker logs` options a read-only reader needs (no `follow`: a proxy must not hold streams).
fn is_log_option(kv: &str) -> bool {
    let Some((key, value)) = kv.split_once('=') else {
        return false;
    };
    match key {
        "stdout" | "stderr" | "timestamps" => matches!(value, "0" | "1" | "true" | "false"),
        "tail" => value == "all" || is_small_number(value),
        "since" | "until" => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// The proxy's settings.
#[derive(Debug, Clone)]
pub struct SocketProxy {
    /// What passes.
    pub access: Access,
    /// The engine's unix socket (`/var/run/docker.sock`).
    pub socket: PathBuf,
    /// How long one forwarded call may take (a `stop` waits for the container's own timeout).
    pub timeout: Duration,
}

impl SocketProxy {
    /// The proxy as a router: every request goes through [`Access::permits`], then to the
    /// engine.
    pub fn router(self) -> Router {
        Router::new().fallback(forward).with_state(self)
    }
}

fn forbidden(refusal: &Refusal) -> Response {
    tracing::warn!(%refusal, "refused");
    let page = format!(
        "<html><body><h1>403 Forbidden</h1><p>{}</p></body></html>\n",
        html_escape(&refusal.to_string())
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html")],
        page,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn bad_gateway(what: impl std::fmt::Display) -> Response {
    tracing::warn!(%what, "engine unreachable");
    (
        StatusCode::BAD_GATEWAY,
        format!("the docker engine did not answer: {what}\n"),
    )
        .into_response()
}

async fn forward(State(proxy): State<SocketProxy>, req: Request<Body>) -> Response {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    if let Err(refusal) = proxy.access.permits(req.method(), &path_and_query) {
        return forbidden(&refusal);
    }
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|len| len.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING)
        || req.headers().contains_key(header::UPGRADE);
    if has_body {
        return forbidden(&Refusal::Body);
    }
    let method = req.method().clone();
    tracing::info!(%method, path = %path_and_query, "forwarding");
    let upstream = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(header::HOST, "docker")
        .body(Body::empty());
    let upstream = match upstream {
        Ok(req) => req,
        Err(err) => return bad_gateway(err),
    };
    match tokio::time::timeout(proxy.timeout, send(&proxy.socket, upstream)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(err)) => bad_gateway(err),
        Err(_) => bad_gateway(format!("no reply within {:?}", proxy.timeout)),
    }
}

/// One request on a fresh connection to the engine's socket; the reply is read whole (the
/// allowed calls answer small documents) so that no engine stream outlives the call.
async fn send(socket: &std::path::Path, req: Request<Body>) -> Result<Response, String> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", socket.display()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(%err, "engine connection ended");
        }
    });
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| format!("reply body: {e}"))?
        .to_bytes();
    let mut out = Response::from_parts(parts, Body::from(bytes));
    out.headers_mut().remove(header::TRANSFER_ENCODING);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(access: Access, method: Method, path: &str) -> bool {
        access.permits(&method, path).is_ok()
    }

    #[test]
    fn the_control_proxy_lets_through_only_inspect_start_and_stop() {
        let ok = |m, p| assert!(check(Access::StartStop, m, p), "{p} refused");
        ok(Method::GET, "/_ping");
        ok(Method::HEAD, "/_ping");
        ok(Method::GET, "/v1.41/version");
        ok(Method::GET, "/containers/itest-p2pool/json");
        ok(Method::GET, "/v1.53/containers/p2pool/json");
        ok(Method::POST, "/containers/p2pool/start");
        ok(Method::POST, "/v1.41/containers/xmrig-proxy/stop");
        ok(Method::POST, "/containers/xmrig-proxy/stop?t=10");
        let no = |m, p| assert!(!check(Access::StartStop, m, p), "{p} let through");
        no(Method::POST, "/containers/p2pool/restart");
        no(Method::POST, "/containers/p2pool/kill");
        no(Method::POST, "/containers/create");
        no(Method::POST, "/containers/p2pool/exec");
        no(Method::POST, "/containers/p2pool/attach");
        no(Method::DELETE, "/containers/p2pool");
        no(Method::PUT, "/containers/p2pool/archive");
        no(Method::GET, "/containers/json");
        no(Method::GET, "/containers/p2pool/logs");
        no(Method::GET, "/images/json");
        no(Method::GET, "/events");
        no(Method::POST, "/containers/../images/create");
        no(Method::POST, "/containers/%2e%2e/start");
        no(Method::POST, "/containers//start");
        no(Method::POST, "/containers/p2pool/start?detachKeys=x");
        no(Method::POST, "/containers/p2pool/stop?t=1&signal=KILL");
        no(Method::POST, "/v1.41/../containers/p2pool/start/x");
        no(Method::POST, "/vx/containers/p2pool/start/../exec");
        no(Method::GET, "containers/p2pool/json");
    }

    #[test]
    fn the_read_only_proxy_never_posts() {
        let ok = |m, p| assert!(check(Access::ReadOnly, m, p), "{p} refused");
        ok(Method::GET, "/containers/json");
        ok(Method::GET, "/containers/json?all=1");
        ok(Method::GET, "/containers/monerod/json");
        ok(
            Method::GET,
            "/containers/monerod/logs?stdout=1&stderr=1&tail=200",
        );
        let no = |m, p| assert!(!check(Access::ReadOnly, m, p), "{p} let through");
        no(Method::POST, "/containers/p2pool/start");
        no(Method::POST, "/containers/p2pool/stop");
        no(Method::GET, "/containers/monerod/logs?follow=1");
        no(Method::GET, "/containers/json?filters=x");
    }

    #[test]
    fn refusals_name_what_was_refused() {
        let err = Access::StartStop
            .permits(&Method::DELETE, "/containers/p2pool")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "method DELETE is not allowed through this proxy"
        );
        let err = Access::StartStop
            .permits(&Method::POST, "/containers/p2pool/kill")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "POST /containers/p2pool/kill is not allowed through this proxy"
        );
        let page = forbidden(&err);
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
    }
}
