//! How the world builds and serves each fake (one place to adapt when a fake's API changes).

use axum::Router;
use pithead_fakes::docker::FakeDocker;
use pithead_fakes::p2pool::{FakeP2pool, P2poolState};
use pithead_fakes::xmrig_proxy::FakeXmrigProxy;
use pithead_fakes::xvb::FakeXvb;

/// The bearer token of the simulated xmrig-proxy API.
pub const XMRIG_PROXY_TOKEN: &str = "sim-proxy-token";

/// A docker fake holding `containers` (name, running).
pub fn docker(containers: &[(String, bool)]) -> FakeDocker {
    let borrowed: Vec<(&str, bool)> = containers
        .iter()
        .map(|(name, running)| (name.as_str(), *running))
        .collect();
    FakeDocker::with_state(&borrowed)
}

/// The docker fake's engine API (and control API).
pub fn docker_router(fake: &FakeDocker) -> Router {
    fake.router()
}

/// Whether the docker fake runs `name` (`None`: no such container).
pub fn is_running(fake: &FakeDocker, name: &str) -> Option<bool> {
    fake.is_running(name)
}

/// A p2pool fake with default statistics.
pub fn p2pool() -> FakeP2pool {
    FakeP2pool::new(P2poolState::default())
}

/// p2pool's data-api over HTTP.
pub fn p2pool_router(fake: &FakeP2pool) -> Router {
    fake.router()
}

/// An xmrig-proxy fake.
pub fn xmrig_proxy() -> FakeXmrigProxy {
    FakeXmrigProxy::new(XMRIG_PROXY_TOKEN)
}

/// xmrig-proxy's HTTP API.
pub fn xmrig_proxy_router(fake: &FakeXmrigProxy) -> Router {
    fake.router()
}

/// An XvB fake.
pub fn xvb() -> FakeXvb {
    FakeXvb::new()
}

/// The XvB pages and APIs.
pub fn xvb_router(fake: &FakeXvb) -> Router {
    fake.router()
}
