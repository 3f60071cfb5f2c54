//! `Given` steps: the box before (or, for the docker engine, while) it runs.

use cucumber::given;

use super::secs;
use crate::driver::{Chain, Node, Reachability, Setting, TierError};
use crate::world::CatalogWorld;

#[given("the stack boots with default settings")]
async fn default_settings(_world: &mut CatalogWorld) {
    // Every world boots with the runtime's defaults (domain §2); the steps that follow change
    // only what they name. The boot itself happens at the first When/Then.
}

#[given(regex = r"^Tari is (not )?required$")]
async fn tari_required(world: &mut CatalogWorld, not: String) -> Result<(), TierError> {
    let setting = Setting::TariRequired(not.is_empty());
    world.tier().configure(setting).await
}

#[given(regex = r"^(monerod|Tari) is syncing at (\d+) of (\d+)$")]
async fn syncing(
    world: &mut CatalogWorld,
    node: Node,
    height: u64,
    target: u64,
) -> Result<(), TierError> {
    let chain = Chain::Syncing { height, target };
    world.tier().set_chain(node, chain).await
}

#[given(regex = r"^(monerod|Tari) is synced$")]
async fn synced(world: &mut CatalogWorld, node: Node) -> Result<(), TierError> {
    world.tier().set_chain(node, Chain::Synced).await
}

#[given(regex = r"^Tari is (starting|migrating)$")]
async fn tari_readiness(world: &mut CatalogWorld, state: String) -> Result<(), TierError> {
    let chain = if state == "starting" {
        Chain::Starting
    } else {
        Chain::Migrating
    };
    world.tier().set_chain(Node::Tari, chain).await
}

#[given(expr = "p2pool reports network height {int}")]
async fn p2pool_height(world: &mut CatalogWorld, height: u64) -> Result<(), TierError> {
    world.tier().set_p2pool_network_height(height).await
}

#[given(expr = "the node down window is {int} seconds")]
async fn down_window(world: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    world
        .tier()
        .configure(Setting::NodeDownAfter(secs(n)))
        .await
}

#[given(expr = "the recovery window is {int} seconds")]
async fn recovery_window(world: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    world
        .tier()
        .configure(Setting::NodeRecoveryAfter(secs(n)))
        .await
}

#[given(expr = "the update interval is {int} seconds")]
async fn update_interval(world: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    world
        .tier()
        .configure(Setting::UpdateInterval(secs(n)))
        .await
}

#[given("the miners have been released")]
async fn released(world: &mut CatalogWorld) -> Result<(), TierError> {
    world.tier().release_miners().await
}

#[given(expr = "the docker engine refuses the next {int} calls")]
async fn docker_refuses(world: &mut CatalogWorld, count: u32) -> Result<(), TierError> {
    world.tier().refuse_docker_calls(count).await
}

#[given("monerod was never reachable")]
async fn never_reachable(world: &mut CatalogWorld) -> Result<(), TierError> {
    let down = Reachability::Down;
    world.tier().set_reachability(Node::Monerod, down).await
}
