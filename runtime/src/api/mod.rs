//! The HTTP server: `/healthz` and `/api/state`, generic over the listener so the simulation
//! serves the same router on a turmoil socket.

mod page;
pub mod state;

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub use state::{ApiState, Badge, BadgeVariant};

/// The read model the cycle writes and the server reads.
pub type SharedState = Arc<RwLock<ApiState>>;

/// The runtime's router.
pub fn router(state: SharedState) -> Router {
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

async fn api_state(State(state): State<SharedState>) -> Response {
    // A poisoned lock only means a writer panicked mid-update; the last value is still the best
    // answer we have, and `/api/state` must always answer.
    let snapshot = match state.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    (StatusCode::OK, Json(snapshot)).into_response()
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
