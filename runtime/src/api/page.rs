//! The dashboard page: static assets compiled into the binary (the image is `FROM scratch`).
//!
//! Everything the page loads is served from here (the CSP is `default-src 'self'`: no inline
//! script, no CDN): the page, its script and style, the icon, and the vendored chart library
//! (uPlot, MIT, its licence served beside it).

use axum::http::header;
use axum::routing::get;
use axum::Router;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every asset: path, content type, body.
pub(super) const ASSETS: &[(&str, &str, &str)] = &[
    ("/", HTML, include_str!("../../assets/index.html")),
    ("/app.js", JS, include_str!("../../assets/app.js")),
    ("/app.css", CSS, include_str!("../../assets/app.css")),
    (
        "/favicon.svg",
        SVG,
        include_str!("../../assets/favicon.svg"),
    ),
    (
        "/vendor/uplot/uPlot.iife.min.js",
        JS,
        include_str!("../../assets/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "/vendor/uplot/uPlot.min.css",
        CSS,
        include_str!("../../assets/vendor/uplot/uPlot.min.css"),
    ),
    (
        "/vendor/uplot/LICENSE",
        TEXT,
        include_str!("../../assets/vendor/uplot/LICENSE"),
    ),
];

/// The routes of every asset.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(
                path,
                get(move || async move { ([(header::CONTENT_TYPE, content_type)], body) }),
            )
        })
}
