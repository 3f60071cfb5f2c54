//! `Then` steps: what the box must show, now (within one update cycle) or for a whole span.

use cucumber::then;

use super::secs;
use crate::driver::{bare_value, Condition, TierError};
use crate::world::CatalogWorld;

fn miners(state: &str) -> Condition {
    if state == "held" {
        Condition::MinersHeld
    } else {
        Condition::MinersReleased
    }
}

fn workers(state: &str) -> Condition {
    if state == "rejected" {
        Condition::WorkersRejected
    } else {
        Condition::WorkersAccepted
    }
}

#[then(regex = r"^the miners are (held|released)$")]
async fn miners_are(world: &mut CatalogWorld, state: String) -> Result<(), TierError> {
    world.tier().expect(miners(&state)).await
}

#[then(expr = "the miners stay held for {int} seconds")]
async fn miners_stay_held(world: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    let held = Condition::MinersHeld;
    world.tier().expect_for(held, secs(n)).await
}

#[then(regex = r"^(p2pool|xmrig-proxy) is (running|stopped)$")]
async fn container_is(
    world: &mut CatalogWorld,
    name: String,
    state: String,
) -> Result<(), TierError> {
    let condition = if state == "running" {
        Condition::Running(name)
    } else {
        Condition::Stopped(name)
    };
    world.tier().expect(condition).await
}

#[then(regex = r"^workers are (rejected|accepted)$")]
async fn workers_are(world: &mut CatalogWorld, state: String) -> Result<(), TierError> {
    world.tier().expect(workers(&state)).await
}

#[then(regex = r"^workers stay (rejected|accepted) for (\d+) seconds$")]
async fn workers_stay(world: &mut CatalogWorld, state: String, n: u64) -> Result<(), TierError> {
    world.tier().expect_for(workers(&state), secs(n)).await
}

/// "is not shown" is an absence, which would hold before the runtime acted: the tier checks
/// it at every instant of a whole update cycle, not once ([`crate::driver::Tier::expect`]).
#[then(regex = r#"^the badge "([^"]*)" is (not )?shown$"#)]
async fn badge(world: &mut CatalogWorld, text: String, not: String) -> Result<(), TierError> {
    let shown = not.is_empty();
    world.tier().expect(Condition::Badge { text, shown }).await
}

#[then(regex = r"^the api reports (\S+) as (.+)$")]
async fn api_reports(
    world: &mut CatalogWorld,
    path: String,
    value: String,
) -> Result<(), TierError> {
    let value = bare_value(&value);
    world.tier().expect(Condition::Api { path, value }).await
}

#[then(regex = r"^(p2pool|xmrig-proxy) was started exactly once$")]
async fn started_once(world: &mut CatalogWorld, name: String) -> Result<(), TierError> {
    world.tier().expect_started_once(&name).await
}

#[then("no container was stopped after the release")]
async fn no_stop_after_release(world: &mut CatalogWorld) -> Result<(), TierError> {
    world.tier().expect_no_stop_since_release().await
}
