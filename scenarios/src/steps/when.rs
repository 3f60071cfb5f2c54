//! `When` steps: what happens to the running box.

use cucumber::when;

use super::secs;
use crate::driver::{Chain, Node, Reachability, TierError};
use crate::world::CatalogWorld;

#[when(regex = r"^(monerod|Tari) becomes synced$")]
async fn becomes_synced(world: &mut CatalogWorld, node: Node) -> Result<(), TierError> {
    world.tier().change_chain(node, Chain::Synced).await
}

#[when(regex = r"^(monerod|Tari) goes down$")]
async fn goes_down(world: &mut CatalogWorld, node: Node) -> Result<(), TierError> {
    world
        .tier()
        .set_reachability(node, Reachability::Down)
        .await
}

#[when(regex = r"^(monerod|Tari) comes back$")]
async fn comes_back(world: &mut CatalogWorld, node: Node) -> Result<(), TierError> {
    world
        .tier()
        .change_reachability(node, Reachability::Up)
        .await
}

#[when("monerod becomes busy")]
async fn becomes_busy(world: &mut CatalogWorld) -> Result<(), TierError> {
    let busy = Reachability::Busy;
    world.tier().change_reachability(Node::Monerod, busy).await
}

#[when(regex = r"^Tari becomes (starting|migrating|syncing)$")]
async fn tari_becomes(world: &mut CatalogWorld, state: String) -> Result<(), TierError> {
    let chain = match state.as_str() {
        "starting" => Chain::Starting,
        "migrating" => Chain::Migrating,
        _ => Chain::Resyncing,
    };
    world.tier().change_chain(Node::Tari, chain).await
}

#[when(regex = r"^someone starts (p2pool|xmrig-proxy) by hand$")]
async fn started_by_hand(world: &mut CatalogWorld, container: String) -> Result<(), TierError> {
    world.tier().start_by_hand(&container).await
}

#[when("the runtime restarts")]
async fn runtime_restarts(world: &mut CatalogWorld) -> Result<(), TierError> {
    world.tier().restart_runtime().await
}

#[when(expr = "{int} seconds pass")]
async fn seconds_pass(world: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    world.tier().advance(secs(n)).await
}
