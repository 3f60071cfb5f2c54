//! The XvB engine inside the whole simulated runtime: with `XVB_ENABLED`, the cycle reads
//! p2pool's data-api, xmrig-proxy's summary and XvB's donor page from the fakes, shows the
//! engine on `/api/state`, and switches xmrig-proxy's pools through `/1/config`.

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use pithead_sim::fakes::XMRIG_PROXY_TOKEN;
use pithead_sim::WorldBuilder;

const EPOCH_S: u64 = 1_800_000_000;
const DONOR: &str = "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge";

#[test]
fn the_engine_switches_xmrig_proxy_and_reports_on_api_state() {
    let mut world = WorldBuilder::new(16)
        .epoch(Duration::from_secs(EPOCH_S))
        .monero(MoneroMode::Synced { height: 3_300_000 })
        .tari(None)
        .env("XVB_ENABLED", "true")
        .env("P2POOL_API", "http://aux:3380")
        .env("XMRIG_PROXY_API", "http://aux:3344")
        .env("PROXY_AUTH_TOKEN", XMRIG_PROXY_TOKEN)
        .env("XVB_API_URL", "http://aux:8088")
        .env("XVB_DONOR_ID", DONOR)
        .env("XVB_POOL_URL", "eu.xmrvsbeast.com:4247")
        .env("P2POOL_POOL_URL", "p2pool:3333")
        .build();
    world.p2pool().update(|s| {
        s.last_share_found_time = EPOCH_S;
        s.sidechain_difficulty = 0;
    });
    world
        .xmrig_proxy()
        .set_hashrate_total(Some([40.0, 40.0, 40.0, 40.0, 40.0, 40.0]));
    world.xvb().set_donor(9_000.0, 9_000.0, 0);

    world
        .run_until("the engine's first switch", Duration::from_secs(600), |w| {
            w.xmrig_proxy().config_puts() >= 1
        })
        .unwrap();
    let pools = world.xmrig_proxy().config()["pools"].clone();
    assert_eq!(pools[0]["url"], "eu.xmrvsbeast.com:4247", "{pools}");
    assert_eq!(pools[0]["enabled"], true);
    assert_eq!(pools[1]["enabled"], false);
    // The cycle that switched records its pass right after the switch.
    world.run_for(Duration::from_secs(2)).unwrap();
    let state = world.state();
    let xvb = state.xvb.expect("the xvb section");
    assert!(xvb.enabled);
    assert_eq!(xvb.guard, None);
    assert_eq!(xvb.target_tier, Some("vip"));
    assert_eq!(xvb.avg_1h, Some(9_000.0));
    assert!(xvb.fraction > 0.0 && xvb.fraction <= 0.85, "{xvb:?}");

    // The slice ends and the engine switches back to P2Pool within the cycle.
    world
        .run_until("the switch back", Duration::from_secs(600), |w| {
            w.xmrig_proxy().config_puts() >= 2
        })
        .unwrap();
    let pools = world.xmrig_proxy().config()["pools"].clone();
    assert_eq!(pools[0]["url"], "p2pool:3333", "{pools}");

    // A fail count of 3 is a guard: the next cycle stays on P2Pool and names it.
    world.xvb().set_donor(9_000.0, 9_000.0, 3);
    world.run_for(Duration::from_secs(700)).unwrap();
    let xvb = world.state().xvb.expect("the xvb section");
    assert_eq!(xvb.guard, Some("fail count"), "{xvb:?}");
    assert_eq!(xvb.pool, "p2pool");
}
