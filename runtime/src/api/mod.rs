//! The HTTP server: `/healthz`, `/api/state`, `/metrics` and the dashboard page, generic over
//! the listener so the simulation serves the same router on a turmoil socket.
//!
//! [`serve::serve`] accepts the connections, with a header-read deadline and a cap on open
//! connections. Every reply carries the security headers; a mutating request (anything but `GET`, `HEAD`,
//! `OPTIONS`) needs `X-Pithead-Control: 1` (else `403`), and a request body larger than
//! [`BODY_LIMIT_BYTES`] is refused (`413`).
//!
//! `/api/state` renders a document once per cycle, not once per request: a reply is kept, per
//! query, until the read model publishes a new document or a history write lands (see
//! [`Rendered`]); a dashboard polled by many tabs then costs a clone of the bytes.
//!
//! Architecture invariant: reads the read model ([`crate::view`]) and the history
//! ([`crate::store::history`]) and renders nothing itself: the chart is drawn by
//! [`crate::view::chart`].

mod page;
pub mod serve;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::store::HistoryReader;
use crate::view::{ApiState, ChartQuery, StateReader};

/// Largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;
/// The header a mutating request must carry (with value `1`): a cross-site form cannot set it.
pub const CONTROL_HEADER: &str = "x-pithead-control";

/// What the server answers from.
#[derive(Debug, Clone)]
pub struct Api {
    /// The read model.
    pub state: StateReader,
    /// The history (charts); `None` = empty charts.
    pub history: Option<HistoryReader>,
    /// `UPDATE_INTERVAL` (the chart's outage rule).
    pub update_interval: Duration,
}

/// The runtime's router, answering from `state` alone (no history).
pub fn router(state: StateReader) -> Router {
    router_with(Api {
        state,
        history: None,
        update_interval: Duration::from_secs(30),
    })
}

/// Most distinct queries whose reply is kept per document.
const KEPT_QUERIES: usize = 8;

/// The `/api/state` replies rendered from one document and one state of the history.
#[derive(Debug, Default)]
struct Rendered {
    /// The read model's generation, the history's write count and health they were drawn at.
    key: Option<(u64, u64, bool)>,
    /// Per query, the JSON reply (oldest first).
    replies: Vec<(ChartQuery, Bytes)>,
}

/// What the handlers share: the [`Api`], the kept replies, and the turn to draw a chart.
#[derive(Debug, Clone)]
struct Served {
    api: Api,
    rendered: Arc<Mutex<Rendered>>,
    /// One chart is drawn at a time. Drawing reads SQLite, which holds its thread until the
    /// query ends, and the cycle's node calls run on the same few threads: a flood of distinct
    /// queries (a script, many tabs at different averages) would otherwise hold every thread,
    /// and the cycle would time out on nodes that answer. A request without the turn waits for
    /// it without holding a thread.
    drawing: Arc<tokio::sync::Semaphore>,
}

/// The runtime's router.
pub fn router_with(api: Api) -> Router {
    routes(Served {
        api,
        rendered: Arc::default(),
        drawing: Arc::new(tokio::sync::Semaphore::new(1)),
    })
}

fn routes(served: Served) -> Router {
    Router::new()
        .merge(page::routes())
        .route("/healthz", get(healthz))
        .route("/api/state", get(api_state))
        .route("/metrics", get(metrics))
        .with_state(served)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(guard))
        .layer(axum::middleware::map_response(security_headers))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// The document with the chart the query asks for, drawn from the history.
fn with_chart(api: &Api, mut doc: ApiState, query: &ChartQuery) -> ApiState {
    let Some(history) = &api.history else {
        return doc;
    };
    doc.db_healthy = history.healthy();
    let now_ms = doc.cycle.last_wall_ms;
    if now_ms == 0 {
        return doc;
    }
    let interval_ms = u64::try_from(api.update_interval.as_millis()).unwrap_or(u64::MAX);
    match history.chart(query, now_ms, interval_ms) {
        Ok(chart) => doc.chart = chart,
        // The rest of the document is still true: answer it with an empty chart.
        Err(e) => tracing::warn!(error = %e, "no chart"),
    }
    doc
}

async fn api_state(
    State(served): State<Served>,
    query: Result<Query<ChartQuery>, QueryRejection>,
) -> Response {
    // A query that does not parse (a repeated key, bad escapes) falls back to the defaults.
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let body = match served.kept(&query) {
        Some(body) => body,
        None => {
            // The semaphore is never closed; were it, drawing without the turn still answers.
            let _turn = served.drawing.acquire().await.ok();
            served.reply(&query)
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl Served {
    /// The reply kept for `query`, if the document and the history are unchanged since it was
    /// drawn (no chart is drawn here: no turn is needed).
    fn kept(&self, query: &ChartQuery) -> Option<Bytes> {
        let api = &self.api;
        let history = api
            .history
            .as_ref()
            .map_or((0, true), |h| (h.writes(), h.healthy()));
        let key = Some((api.state.generation(), history.0, history.1));
        let kept = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.key != key {
            return None;
        }
        kept.replies
            .iter()
            .find(|(q, _)| q == query)
            .map(|(_, body)| body.clone())
    }

    /// The reply to `query`: the kept one while the document and the history are unchanged,
    /// else rendered now (and kept).
    fn reply(&self, query: &ChartQuery) -> Bytes {
        let api = &self.api;
        // The history's count is read before the document: a write landing in between makes
        // the key older than the chart, so the next request renders again (never the reverse).
        let history = api
            .history
            .as_ref()
            .map_or((0, true), |h| (h.writes(), h.healthy()));
        let (generation, doc) = api.state.get_versioned();
        let key = Some((generation, history.0, history.1));
        {
            let kept = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.key == key {
                if let Some((_, body)) = kept.replies.iter().find(|(q, _)| q == query) {
                    return body.clone();
                }
            }
        }
        // Rendered outside the lock, under the caller's drawing turn (`api_state`).
        let doc = with_chart(api, doc, query);
        let body = match serde_json::to_vec(&doc) {
            Ok(body) => Bytes::from(body),
            // Unreachable for this document (string keys, finite or null numbers); answer
            // valid JSON rather than fail the page.
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize /api/state");
                return Bytes::from_static(b"{}");
            }
        };
        let mut kept = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.key != key {
            *kept = Rendered {
                key,
                replies: Vec::new(),
            };
        }
        if !kept.replies.iter().any(|(q, _)| q == query) {
            if kept.replies.len() >= KEPT_QUERIES {
                kept.replies.remove(0);
            }
            kept.replies.push((query.clone(), body.clone()));
        }
        body
    }
}

async fn metrics(State(Served { api, .. }): State<Served>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        api.state.metrics().encode(),
    )
        .into_response()
}

/// Refuses a mutating request without the control header, and an announced body over the limit
/// (a body without a length is bounded by [`DefaultBodyLimit`] where it is read).
async fn guard(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let control = request
        .headers()
        .get(CONTROL_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1");
    if !safe && !control {
        return (
            StatusCode::FORBIDDEN,
            "a mutating request needs the X-Pithead-Control: 1 header\n",
        )
            .into_response();
    }
    let too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > BODY_LIMIT_BYTES);
    if too_large {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    }
    next.run(request).await
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'"),
    );
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let (_writer, state) = crate::view::read_model();
        let response = router(state)
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body.to_vec())
    }

    #[tokio::test]
    async fn api_state_answers_json_with_the_asserted_keys() {
        let (status, _, body) = get("/api/state").await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for key in ["syncing", "miner_released", "workers_rejected", "badges"] {
            assert!(json.get(key).is_some(), "missing {key}: {json}");
        }
        assert_eq!(json["sync"]["monero"]["state"], "loading");
        assert_eq!(json["sync"]["tari"]["state"], "loading");
    }

    #[tokio::test]
    async fn every_reply_carries_the_security_headers() {
        for path in ["/", "/api/state", "/healthz", "/metrics", "/no-such-page"] {
            let (_, headers, _) = get(path).await;
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert!(headers.contains_key("content-security-policy"), "{path}");
        }
    }

    async fn send(
        router: Router,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body.to_vec())
    }

    fn bare() -> Router {
        router(crate::view::read_model().1)
    }

    #[tokio::test]
    async fn a_mutating_request_needs_the_control_header() {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let without = Request::builder().method(method).uri("/api/state");
            let (status, headers, _) = send(bare(), without.body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
            assert_eq!(headers["x-frame-options"], "DENY", "{method}");
            let wrong = Request::builder()
                .method(method)
                .uri("/api/state")
                .header(CONTROL_HEADER, "yes");
            let (status, _, _) = send(bare(), wrong.body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} with a wrong value");
            let with = Request::builder()
                .method(method)
                .uri("/api/state")
                .header(CONTROL_HEADER, "1");
            let (status, _, _) = send(bare(), with.body(Body::empty()).unwrap()).await;
            // Past the guard: the route itself has no such method.
            assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} with the header"
            );
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let big = vec![b'x'; BODY_LIMIT_BYTES + 1];
        let request = Request::post("/api/state")
            .header(CONTROL_HEADER, "1")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big))
            .unwrap();
        let (status, headers, _) = send(bare(), request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    #[tokio::test]
    async fn bad_query_parameters_fall_back_and_never_fail() {
        for query in [
            "range=2h",
            "range=1h&range=24h",
            "from=abc&to=5",
            "from=10&to=5",
            "avg=-3",
            "avg=%ZZ",
            "range=all&avg=0&from=&to=",
            "unknown=1",
        ] {
            let (status, _, body) = get(&format!("/api/state?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}");
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(json["chart"]["p2pool"].is_array(), "{query}");
        }
    }

    #[tokio::test]
    async fn metrics_are_prometheus_text_with_pithead_names() {
        let (status, headers, body) = get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text"));
        assert_eq!(headers["x-frame-options"], "DENY");
        let text = String::from_utf8(body).unwrap();
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        assert!(scrape
            .samples
            .iter()
            .any(|s| s.metric == "pithead_miner_held"));
        assert!(scrape
            .samples
            .iter()
            .all(|s| s.metric.starts_with("pithead_")));
    }

    #[tokio::test]
    async fn the_chart_comes_from_the_history_with_the_outage_break() {
        let dir = tempfile::tempdir().unwrap();
        let (history, reader) = crate::store::history::open(dir.path());
        let start = 1_700_000_000_000_u64;
        let xs = (0..20)
            .map(|i| start + i * 30_000)
            .chain((0..20).map(|i| start + 1_200_000 + i * 30_000));
        for x in xs.clone() {
            history.sample(crate::view::Sample {
                x,
                p2pool: 1_000.0,
                xvb: 0.0,
            });
        }
        history.flush();
        let (writer, state) = crate::view::read_model();
        let mut doc = ApiState::default();
        doc.cycle.last_wall_ms = xs.last().unwrap();
        writer.publish(doc);
        let api = Api {
            state,
            history: Some(reader),
            update_interval: Duration::from_secs(30),
        };
        let request = Request::get("/api/state?range=1h")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(router_with(api.clone()), request).await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for series in ["p2pool", "xvb"] {
            let points = json["chart"][series].as_array().unwrap();
            assert_eq!(points.len(), 41, "{series}");
            let breaks: Vec<_> = points.iter().filter(|p| p["y"].is_null()).collect();
            assert_eq!(breaks.len(), 1, "{series}");
            assert_eq!(breaks[0]["x"], start + 570_000 + (1_200_000 - 570_000) / 2);
        }
        assert_eq!(json["db_healthy"], true);
        let narrow = Request::get(format!("/api/state?from={}&to={}", start, start + 60_000))
            .body(Body::empty())
            .unwrap();
        let (_, _, body) = send(router_with(api), narrow).await;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["chart"]["p2pool"].as_array().unwrap().len(), 3);
    }

    async fn json(router: &Router, path: &str) -> serde_json::Value {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let (status, headers, body) = send(router.clone(), request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers["content-type"], "application/json", "{path}");
        serde_json::from_slice(&body).unwrap()
    }

    #[tokio::test]
    async fn a_chart_is_drawn_only_with_the_turn_and_a_kept_reply_needs_none() {
        let dir = tempfile::tempdir().unwrap();
        let (history, reader) = crate::store::history::open(dir.path());
        let start = 1_700_000_000_000_u64;
        for i in 0..10 {
            history.sample(crate::view::Sample {
                x: start + i * 30_000,
                p2pool: 1_000.0,
                xvb: 0.0,
            });
        }
        history.flush();
        let (writer, state) = crate::view::read_model();
        let mut doc = ApiState::default();
        doc.cycle.last_wall_ms = start + 10 * 30_000;
        writer.publish(doc);
        let served = Served {
            api: Api {
                state,
                history: Some(reader),
                update_interval: Duration::from_secs(30),
            },
            rendered: Arc::default(),
            drawing: Arc::new(tokio::sync::Semaphore::new(1)),
        };
        let router = routes(served.clone());
        json(&router, "/api/state?range=1h").await;

        // A chart being drawn holds the turn.
        let turn = served.drawing.clone().acquire_owned().await.unwrap();
        let kept = tokio::time::timeout(
            Duration::from_secs(10),
            json(&router, "/api/state?range=1h"),
        )
        .await;
        assert!(kept.is_ok(), "a kept reply waited for the drawing turn");
        let other = router.clone();
        let waiting = tokio::spawn(async move { json(&other, "/api/state?range=6h").await });
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(
            !waiting.is_finished(),
            "a second chart was drawn while another held the turn"
        );
        drop(turn);
        let drawn = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the waiting chart was drawn once the turn was free")
            .unwrap();
        assert_eq!(drawn["chart"]["p2pool"].as_array().unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_kept_reply_gives_way_to_a_new_document() {
        let (writer, state) = crate::view::read_model();
        let router = router(state);
        assert_eq!(json(&router, "/api/state").await["miner_released"], false);
        // Kept: the same bytes again.
        assert_eq!(json(&router, "/api/state").await["miner_released"], false);
        let doc = ApiState {
            miner_released: true,
            ..ApiState::default()
        };
        writer.publish(doc.clone());
        assert_eq!(json(&router, "/api/state").await["miner_released"], true);
        // Published again with equal content: still answered, still equal.
        writer.publish(doc);
        assert_eq!(json(&router, "/api/state").await["miner_released"], true);
    }

    #[tokio::test]
    async fn a_kept_chart_gives_way_to_a_history_write() {
        let dir = tempfile::tempdir().unwrap();
        let (history, reader) = crate::store::history::open(dir.path());
        let start = 1_700_000_000_000_u64;
        let write = |i: u64| {
            history.sample(crate::view::Sample {
                x: start + i * 30_000,
                p2pool: 1_000.0,
                xvb: 0.0,
            });
            history.flush();
        };
        for i in 0..10 {
            write(i);
        }
        let (writer, state) = crate::view::read_model();
        let mut doc = ApiState::default();
        doc.cycle.last_wall_ms = start + 20 * 30_000;
        writer.publish(doc);
        let router = router_with(Api {
            state,
            history: Some(reader),
            update_interval: Duration::from_secs(30),
        });
        let points = |v: serde_json::Value| v["chart"]["p2pool"].as_array().unwrap().len();
        assert_eq!(points(json(&router, "/api/state").await), 10);
        let narrow = format!("/api/state?from={start}&to={}", start + 1_000_000);
        assert_eq!(points(json(&router, &narrow).await), 10);
        write(10);
        // The document did not change; the history did.
        assert_eq!(points(json(&router, "/api/state").await), 11);
        assert_eq!(points(json(&router, &narrow).await), 11);
    }

    #[tokio::test]
    async fn the_page_and_its_assets_are_served() {
        let (status, headers, body) = get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = String::from_utf8_lossy(&body).into_owned();
        for (path, content_type, text) in page::ASSETS {
            let (status, headers, body) = get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(headers["content-type"], *content_type, "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["content-security-policy"], "default-src 'self'");
            assert_eq!(body, text.as_bytes(), "{path}");
        }
        // Every asset the page links is one that is served (nothing from another origin).
        let linked: Vec<&str> = html
            .split(['"', '\''])
            .filter(|s| s.starts_with('/') || s.contains("://"))
            .collect();
        assert!(linked.len() >= 5, "{linked:?}");
        for link in linked {
            assert!(
                page::ASSETS.iter().any(|(path, _, _)| *path == link),
                "the page links {link}, which is not served"
            );
        }
    }

    #[test]
    fn the_page_has_no_inline_script_and_never_writes_html() {
        let html = page::ASSETS[0].2;
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/").count(),
            "every script is a same-origin file (the CSP refuses inline ones)"
        );
        let script = page::ASSETS
            .iter()
            .find(|(path, _, _)| *path == "/app.js")
            .unwrap()
            .2;
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!script.contains(sink), "app.js uses {sink}");
        }
    }
}
