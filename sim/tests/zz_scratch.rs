use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;
use pithead_sim::world::*;
use pithead_sim::WorldBuilder;
use std::time::Duration;
#[test]
fn scratch() {
    let mut w = WorldBuilder::new(3)
        .probe_every(Some(Duration::from_secs(60)))
        .build();
    let mut step = |w: &mut pithead_sim::World, name: &str| {
        w.run_for(Duration::from_secs(1200)).unwrap();
        eprintln!("{name}: open {:?}", w.runtime_open_connections());
    };
    step(&mut w, "steady");
    step(&mut w, "steady");
    w.set_monero(MoneroMode::Down);
    step(&mut w, "monero down");
    w.set_monero(MoneroMode::Synced { height: 5 });
    step(&mut w, "back");
    w.set_monero(MoneroMode::Slow { secs: 60 });
    step(&mut w, "monero slow");
    w.set_monero(MoneroMode::Synced { height: 5 });
    step(&mut w, "back");
    w.set_tari(TariMode::Down);
    step(&mut w, "tari down");
    w.set_tari(TariMode::Synced { height: 5 });
    step(&mut w, "back");
    w.set_tari(TariMode::Slow { secs: 60 });
    step(&mut w, "tari slow");
    w.set_tari(TariMode::Synced { height: 5 });
    step(&mut w, "back");
    w.partition(RUNTIME, MONEROD);
    step(&mut w, "part monero");
    w.repair(RUNTIME, MONEROD);
    step(&mut w, "back");
    w.hold(RUNTIME, MONEROD);
    step(&mut w, "hold monero");
    w.release(RUNTIME, MONEROD);
    step(&mut w, "back");
    w.hold(RUNTIME, TARI);
    step(&mut w, "hold tari");
    w.release(RUNTIME, TARI);
    step(&mut w, "back");
    w.partition(RUNTIME, TARI);
    step(&mut w, "part tari");
    w.repair(RUNTIME, TARI);
    step(&mut w, "back");
    w.hold(RUNTIME, DOCKER);
    step(&mut w, "hold docker");
    w.release(RUNTIME, DOCKER);
    step(&mut w, "back");
    w.crash_runtime();
    step(&mut w, "crashed");
    w.restart_runtime();
    step(&mut w, "back");
}
