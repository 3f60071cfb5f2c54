//! The first proof: monerod syncs, then is synced, and the docker fake sees `start p2pool` and
//! `start xmrig-proxy` exactly once (the gate held them until then).
#![allow(clippy::unwrap_used)] // helpers below unwrap like tests do

use std::time::Duration;

use pithead_fakes::docker::{Outcome, Verb};
use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;
use pithead_sim::{World, WorldBuilder};

fn starts(world: &World, name: &str) -> usize {
    world
        .docker()
        .actions()
        .iter()
        .filter(|a| a.container == name && a.verb == Verb::Start && a.outcome == Outcome::Changed)
        .count()
}

fn first_release(mut world: World) {
    // Held while syncing: the first cycle stops the miners compose started.
    world
        .run_until("the first cycle", Duration::from_secs(120), |w| {
            w.cycles() >= 1
        })
        .unwrap();
    world.run_for(Duration::from_secs(300)).unwrap();
    assert!(world.state().miner_held);
    assert!(!world.state().miner_released);
    assert!(!world.container_running("p2pool"));
    assert!(!world.container_running("xmrig-proxy"));

    world.set_monero(MoneroMode::Synced { height: 3_300_000 });
    let took = world
        .run_until("the release", Duration::from_secs(300), |w| {
            w.container_running("p2pool") && w.container_running("xmrig-proxy")
        })
        .unwrap();
    assert!(took <= Duration::from_secs(120), "release took {took:?}");
    world.run_for(Duration::from_secs(600)).unwrap();

    assert_eq!(starts(&world, "p2pool"), 1, "{}", world.trace());
    assert_eq!(starts(&world, "xmrig-proxy"), 1, "{}", world.trace());
    let state = world.fetch_state_json().unwrap();
    assert_eq!(state["miner_released"], true);
    assert_eq!(state["workers_rejected"], false);
}

#[test]
fn monerod_syncing_then_synced_releases_the_miners_once_without_tari() {
    let world = WorldBuilder::new(1)
        .tari(None)
        .monero(MoneroMode::Syncing {
            height: 3_000_000,
            target: 3_300_000,
        })
        .build();
    first_release(world);
}

#[test]
fn monerod_syncing_then_synced_releases_the_miners_once_with_tari_synced() {
    let world = WorldBuilder::new(2)
        .tari(Some(TariMode::Synced { height: 90_000 }))
        .monero(MoneroMode::Syncing {
            height: 3_000_000,
            target: 3_300_000,
        })
        .build();
    first_release(world);
}
