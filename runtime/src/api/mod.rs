//! The HTTP server: `/healthz`, `/api/state` and the dashboard page, generic over the listener
//! so the simulation serves the same router on a turmoil socket.
//!
//! Architecture invariant: reads the read model ([`crate::view`]) and renders nothing itself.

mod page;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::view::StateReader;

/// The runtime's router, answering from `state`.
pub fn router(state: StateReader) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/healthz", get(healthz))
        .route("/api/state", get(api_state))
        .with_state(state)
        .layer(axum::middleware::map_response(security_headers))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn api_state(State(state): State<StateReader>) -> Response {
    (StatusCode::OK, Json(state.get())).into_response()
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
        for path in ["/", "/api/state", "/healthz", "/no-such-page"] {
            let (_, headers, _) = get(path).await;
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert!(headers.contains_key("content-security-policy"), "{path}");
        }
    }

    #[tokio::test]
    async fn the_page_and_its_assets_are_served() {
        let (status, headers, body) = get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(String::from_utf8_lossy(&body).contains("/app.js"));
        assert_eq!(get("/app.js").await.0, StatusCode::OK);
        assert_eq!(get("/app.css").await.0, StatusCode::OK);
    }
}
