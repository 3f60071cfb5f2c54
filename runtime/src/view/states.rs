//! Snapshots of the whole rendered document in the states an operator meets: syncing (held),
//! released, rejected (monerod down), and XvB (engine on, hashrate switched to XvB), with the
//! host's figures and xmrig-proxy's workers. A change shows as a reviewable diff
//! (`cargo insta review`).

use std::collections::BTreeMap;

use super::*;
use crate::control::{ChainReading, Desired, FailoverDecision, GateObservation, SyncGate};
use crate::observe::system::{HugePages, SystemReading};
use crate::observe::xmrig_proxy::ProxyWorker;

fn worker(name: &str, connections: u64, khs: [f64; 5]) -> ProxyWorker {
    ProxyWorker {
        name: name.to_owned(),
        ip: "192.168.1.20".to_owned(),
        connections,
        accepted: 120,
        rejected: 2,
        invalid: 0,
        hashes: 1_000_000,
        last_share_ms: 1_700_000_000_000,
        hashrate_khs: khs.to_vec(),
    }
}

fn fleet() -> Vec<ProxyWorker> {
    vec![
        worker("rig-a", 1, [6.0, 5.5, 5.25, 5.0, 5.0]),
        worker("laptop", 0, [0.0, 0.0, 0.5, 1.0, 1.0]),
    ]
}

struct Case {
    released_before: bool,
    monero: ChainReading,
    monero_down: bool,
    system: SystemReading,
    xvb: Option<XvbSection>,
}

fn synced() -> ChainReading {
    ChainReading {
        height: 3_000,
        target: 3_000,
        syncing: false,
    }
}

fn render_case(case: &Case) -> String {
    let mut gate = SyncGate::new(false, false, case.released_before);
    let view = gate.step(&GateObservation {
        monero: (!case.monero_down).then_some(case.monero),
        ..GateObservation::default()
    });
    let failover = FailoverDecision {
        rejected: case.monero_down,
        event: None,
        monero_down: case.monero_down,
        tari_down: false,
    };
    let containers = if view.holding {
        BTreeMap::from([
            ("p2pool".to_owned(), Desired::Stopped),
            ("xmrig-proxy".to_owned(), Desired::Stopped),
        ])
    } else if case.monero_down {
        BTreeMap::from([
            ("p2pool".to_owned(), Desired::Running),
            ("xmrig-proxy".to_owned(), Desired::Stopped),
        ])
    } else {
        BTreeMap::from([
            ("p2pool".to_owned(), Desired::Running),
            ("xmrig-proxy".to_owned(), Desired::Running),
        ])
    };
    let workers = if view.holding { Vec::new() } else { fleet() };
    let state = render_all(
        &RenderInput {
            gate: &view,
            failover: &failover,
            monero_reachable: !case.monero_down,
            monero_ever_up: true,
            tari_enabled: false,
            tari_reachable: false,
            tari_ever_up: false,
            monero_local: true,
            monero_prune: true,
            monero_db_bytes: Some(91_268_055_040),
            containers: &containers,
            xvb: case.xvb.as_ref().map(|x| (x, false)),
            cycle: CycleSection {
                count: 40,
                last_wall_ms: 1_700_000_000_000,
                errors: Vec::new(),
            },
        },
        &DashboardInput {
            system: case.system,
            workers: &workers,
            db_healthy: true,
        },
    );
    serde_json::to_string_pretty(&state).unwrap()
}

fn host(disk: f64, hugepages: u64) -> SystemReading {
    SystemReading {
        cpu_percent: Some(35.5),
        mem_percent: Some(81.25),
        disk_percent: Some(disk),
        hugepages: Some(HugePages {
            total: hugepages,
            free: hugepages / 4,
        }),
    }
}

#[test]
fn syncing() {
    insta::assert_snapshot!(render_case(&Case {
        released_before: false,
        monero: ChainReading {
            height: 1_200,
            target: 3_000,
            syncing: true,
        },
        monero_down: false,
        system: host(40.0, 0),
        xvb: None,
    }));
}

#[test]
fn released() {
    insta::assert_snapshot!(render_case(&Case {
        released_before: false,
        monero: synced(),
        monero_down: false,
        system: host(86.0, 1_280),
        xvb: None,
    }));
}

#[test]
fn rejected() {
    insta::assert_snapshot!(render_case(&Case {
        released_before: true,
        monero: synced(),
        monero_down: true,
        system: host(96.0, 1_280),
        xvb: None,
    }));
}

#[test]
fn xvb() {
    insta::assert_snapshot!(render_case(&Case {
        released_before: true,
        monero: synced(),
        monero_down: false,
        system: host(50.0, 1_280),
        xvb: Some(XvbSection {
            enabled: true,
            mode: "SPLIT",
            pool: "xvb",
            guard: None,
            current_tier: Some("donor"),
            target_tier: Some("vip"),
            fraction: 0.25,
            avg_1h: Some(1_500.0),
            avg_24h: Some(1_200.0),
            fail_count: Some(0),
            last_switch: Some(XvbSwitch {
                wall_ms: 1_699_999_990_000,
                to: "xvb",
                ok: true,
            }),
            switch_failures: 0,
            stale: false,
        }),
    }));
}
