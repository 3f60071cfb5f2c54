//! A tap in front of the docker fake's router: records every call the runtime makes (virtual
//! time, verb, container, status) and can refuse the next N start/stop calls with a `500`,
//! the way a docker engine does when it cannot act.
//!
//! Refusals live here rather than in the fake so the invariant checker knows exactly when the
//! docker path is impaired.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::invariants::DockerCall;

#[derive(Debug, Default)]
struct TapState {
    calls: Vec<DockerCall>,
    refuse: u32,
    refused: u64,
}

/// Shared handle to the tap (the world keeps one, the docker host's router another).
#[derive(Debug, Clone, Default)]
pub struct DockerTap {
    inner: Arc<Mutex<TapState>>,
}

impl DockerTap {
    fn lock(&self) -> std::sync::MutexGuard<'_, TapState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuse the next `n` start/stop calls (in addition to any still pending).
    pub fn refuse_next(&self, n: u32) {
        self.lock().refuse += n;
    }

    /// Refusals still pending.
    pub fn pending_refusals(&self) -> u32 {
        self.lock().refuse
    }

    /// Calls refused so far.
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    /// Takes the calls recorded since the last drain.
    pub fn drain(&self) -> Vec<DockerCall> {
        let mut state = self.lock();
        if state.calls.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut state.calls)
        }
    }

    /// Wraps the fake's router.
    pub fn wrap(&self, router: Router) -> Router {
        let tap = self.clone();
        router.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let tap = tap.clone();
                async move { tap.handle(req, next).await }
            },
        ))
    }

    async fn handle(&self, req: Request, next: Next) -> Response {
        let Some((container, verb)) = parse_path(req.uri().path()) else {
            return next.run(req).await;
        };
        let acts = verb == "start" || verb == "stop";
        let refuse = acts && {
            let mut state = self.lock();
            if state.refuse > 0 {
                state.refuse -= 1;
                state.refused += 1;
                true
            } else {
                false
            }
        };
        let response = if refuse {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"message":"simulated refusal: the engine cannot act right now"}"#,
            )
                .into_response()
        } else {
            next.run(req).await
        };
        if acts {
            let call = DockerCall {
                at: turmoil::sim_elapsed().unwrap_or(Duration::ZERO),
                verb,
                container,
                status: response.status().as_u16(),
            };
            self.lock().calls.push(call);
        }
        response
    }
}

/// `(container, verb)` of an engine API path: `/v1.47/containers/p2pool/start` →
/// `("p2pool", "start")`; `…/json` is `inspect`.
pub fn parse_path(path: &str) -> Option<(String, String)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let mut first = parts.next()?;
    if first.starts_with('v') && first[1..].chars().all(|c| c.is_ascii_digit() || c == '.') {
        first = parts.next()?;
    }
    if first != "containers" {
        return None;
    }
    let name = parts.next()?;
    let action = parts.next()?;
    let verb = if action == "json" { "inspect" } else { action };
    Some((name.to_owned(), verb.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn engine_paths_parse_with_and_without_a_version() {
        assert_eq!(
            parse_path("/v1.47/containers/p2pool/start"),
            Some(("p2pool".into(), "start".into()))
        );
        assert_eq!(
            parse_path("/containers/xmrig-proxy/json"),
            Some(("xmrig-proxy".into(), "inspect".into()))
        );
        assert_eq!(parse_path("/_ping"), None);
        assert_eq!(parse_path("/v1.47/version"), None);
    }
}
