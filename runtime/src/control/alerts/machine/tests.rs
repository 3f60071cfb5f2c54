use std::collections::BTreeMap;

use super::*;

fn healthy() -> Signals {
    Signals {
        tari_down: Some(false),
        unhealthy: Some(BTreeMap::new()),
        disk_percent: Some(50.0),
        db_healthy: true,
        hashrate_low: Some(false),
        ..Signals::default()
    }
}

/// The keys and severities of `signals` fed in order (each once), after `baseline`.
fn run(baseline: &Signals, signals: &[Signals]) -> Vec<(EventKey, Severity, String)> {
    let mut machine = AlertMachine::new(None);
    assert!(machine.step(baseline, 0).is_empty(), "the baseline alerted");
    signals
        .iter()
        .enumerate()
        .flat_map(|(i, s)| machine.step(s, i64::try_from(i).unwrap() + 1))
        .map(|a| (a.key, a.severity, a.text))
        .collect()
}

fn keys(alerts: &[(EventKey, Severity, String)]) -> Vec<(EventKey, Severity)> {
    alerts.iter().map(|(k, s, _)| (*k, *s)).collect()
}

fn with(f: impl Fn(&mut Signals)) -> Signals {
    let mut s = healthy();
    f(&mut s);
    s
}

fn unhealthy(name: &str, verdict: &str) -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([(name.to_owned(), verdict.to_owned())]))
}

#[test]
fn every_edge_alerts_once_with_its_key_and_severity() {
    use EventKey as K;
    use Severity as S;
    // (what changes, its two-reading-confirmed flag, the alert going in, the alert coming out)
    type Case = (&'static str, fn(&mut Signals), u32, (K, S), (K, S));
    let cases: [Case; 6] = [
        (
            "monerod",
            |s| s.monero_down = true,
            1,
            (K::NodeDown, S::Critical),
            (K::NodeRecovered, S::Info),
        ),
        (
            "tari",
            |s| s.tari_down = Some(true),
            1,
            (K::NodeDown, S::Critical),
            (K::NodeRecovered, S::Info),
        ),
        (
            "rejected",
            |s| s.workers_rejected = true,
            1,
            (K::WorkersRejected, S::Critical),
            (K::WorkersReadmitted, S::Info),
        ),
        (
            "container",
            |s| s.unhealthy = unhealthy("p2pool", "crash-loop"),
            2,
            (K::ContainerUnhealthy, S::Warning),
            (K::ContainerUnhealthy, S::Info),
        ),
        (
            "db",
            |s| s.db_healthy = false,
            2,
            (K::DbUnhealthy, S::Warning),
            (K::DbUnhealthy, S::Info),
        ),
        (
            "hashrate",
            |s| s.hashrate_low = Some(true),
            2,
            (K::HashrateLow, S::Warning),
            (K::HashrateLow, S::Info),
        ),
    ];
    for (name, change, confirm, going, coming) in cases {
        let bad = with(change);
        let mut script = vec![bad.clone(); 5];
        script.extend(vec![healthy(); 5]);
        let mut machine = AlertMachine::new(None);
        assert!(machine.step(&healthy(), 0).is_empty());
        let per_step: Vec<Vec<(K, S)>> = script
            .iter()
            .map(|s| {
                machine
                    .step(s, 1)
                    .iter()
                    .map(|a| (a.key, a.severity))
                    .collect()
            })
            .collect();
        let at = |i: usize| per_step[i].clone();
        let first_bad = usize::try_from(confirm).unwrap() - 1;
        for (i, alerts) in per_step.iter().enumerate() {
            let expected = if i == first_bad {
                vec![going]
            } else if i == 5 + first_bad {
                vec![coming]
            } else {
                vec![]
            };
            assert_eq!(*alerts, expected, "{name}: step {i}: {:?}", at(i));
        }
    }
}

#[test]
fn the_first_reading_is_a_silent_baseline_whatever_it_says() {
    let worst = Signals {
        monero_down: true,
        tari_down: Some(true),
        workers_rejected: true,
        newly_released: false,
        unhealthy: unhealthy("tor", "down"),
        disk_percent: Some(99.0),
        db_healthy: false,
        hashrate_low: Some(true),
    };
    // A restart during an outage: silent while it holds, then every recovery alerted once.
    let alerts = run(
        &worst,
        &[
            worst.clone(),
            worst.clone(),
            healthy(),
            healthy(),
            healthy(),
        ],
    );
    let got = keys(&alerts);
    for key in [
        EventKey::NodeRecovered,
        EventKey::WorkersReadmitted,
        EventKey::ContainerUnhealthy,
        EventKey::DiskSpace,
        EventKey::DbUnhealthy,
        EventKey::HashrateLow,
    ] {
        assert!(
            got.contains(&(key, Severity::Info)),
            "{key} missing: {got:?}"
        );
    }
    assert_eq!(
        got.iter()
            .filter(|(k, _)| *k == EventKey::NodeRecovered)
            .count(),
        2
    );
    assert_eq!(got.len(), 7, "{got:?}");
    assert!(got.iter().all(|(_, s)| *s == Severity::Info), "{got:?}");
}

#[test]
fn no_repeat_while_a_state_holds_and_a_none_reading_keeps_the_state() {
    let down = with(|s| s.monero_down = true);
    let no_readings = Signals {
        monero_down: true,
        tari_down: Some(false),
        unhealthy: None,
        disk_percent: None,
        hashrate_low: None,
        db_healthy: true,
        ..Signals::default()
    };
    let mut script = vec![down.clone(); 10];
    script.push(no_readings);
    script.extend(vec![down; 10]);
    let alerts = run(&healthy(), &script);
    assert_eq!(keys(&alerts), [(EventKey::NodeDown, Severity::Critical)]);
}

#[test]
fn sync_finished_alerts_once_per_release() {
    let released = with(|s| s.newly_released = true);
    let alerts = run(
        &healthy(),
        &[released.clone(), healthy(), healthy(), released],
    );
    assert_eq!(
        keys(&alerts),
        [
            (EventKey::SyncFinished, Severity::Info),
            (EventKey::SyncFinished, Severity::Info)
        ]
    );
    // A release seen on the very first cycle (a first boot on synced chains) is an event, not
    // a level: it is not swallowed by the baseline.
    let mut machine = AlertMachine::new(None);
    assert_eq!(machine.step(&with(|s| s.newly_released = true), 0).len(), 1);
}

#[test]
fn the_disk_rises_at_85_and_95_and_falls_two_points_below() {
    let disk = |p: f64| with(|s| s.disk_percent = Some(p));
    let script: Vec<Signals> = [
        84.9, 85.0, 86.0, 84.0, 83.5, 82.9, 95.0, 99.0, 93.5, 92.0, 50.0,
    ]
    .into_iter()
    .map(disk)
    .collect();
    let alerts = run(&disk(10.0), &script);
    let texts: Vec<_> = alerts.iter().map(|(_, s, t)| (*s, t.as_str())).collect();
    assert_eq!(
        texts,
        [
            (Severity::Warning, "⚠️ Data disk 85% full #disk_space"),
            (Severity::Info, "✅ Data disk back to 82% full #disk_space"),
            (
                Severity::Critical,
                "🛑 Data disk 95% full (critical) #disk_space"
            ),
            (Severity::Warning, "⚠️ Data disk 92% full #disk_space"),
            (Severity::Info, "✅ Data disk back to 50% full #disk_space"),
        ]
    );
}

#[test]
fn disk_levels_never_skip_the_hysteresis() {
    for from in [
        None,
        Some(DiskLevel::Ok),
        Some(DiskLevel::Warn),
        Some(DiskLevel::Critical),
    ] {
        for whole in 0..=100 {
            let next = DiskLevel::next(from, whole);
            // Rising always follows the raw thresholds.
            if whole >= DISK_CRITICAL_PERCENT {
                assert_eq!(next, DiskLevel::Critical);
            }
            // Falling leaves a level only below it by the margin.
            if let Some(from) = from {
                if next < from {
                    let level = if from == DiskLevel::Critical {
                        DISK_CRITICAL_PERCENT
                    } else {
                        DISK_WARN_PERCENT
                    };
                    assert!(
                        whole + DISK_HYSTERESIS_PERCENT < level,
                        "{from:?} → {next:?} at {whole}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_one_reading_blip_of_an_undebounced_monitor_is_silent() {
    let blips = [
        with(|s| s.db_healthy = false),
        with(|s| s.hashrate_low = Some(true)),
        with(|s| s.unhealthy = unhealthy("caddy", "unhealthy")),
    ];
    for blip in blips {
        let alerts = run(
            &healthy(),
            &[healthy(), blip.clone(), healthy(), blip, healthy()],
        );
        assert!(alerts.is_empty(), "{alerts:?}");
    }
}

#[test]
fn texts_are_one_line_name_the_thing_and_end_with_the_key_and_the_host_leads() {
    let mut machine = AlertMachine::new(Some("  rig-1\nx ".into()));
    machine.step(&healthy(), 0);
    let bad = Signals {
        monero_down: true,
        tari_down: Some(true),
        workers_rejected: true,
        unhealthy: unhealthy("p2pool", "crash-loop"),
        ..healthy()
    };
    machine.step(&bad, 100);
    let alerts = machine.step(&bad, 130);
    let all: Vec<_> = machine.step(&healthy(), 160);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let mut seen = alerts.clone();
    seen.extend(all);
    for alert in &seen {
        assert!(alert.text.starts_with("[rig-1 x] "), "{}", alert.text);
        assert!(
            alert.text.ends_with(&format!(" #{}", alert.key)),
            "{}",
            alert.text
        );
        assert!(!alert.text.contains('\n'));
        assert_eq!(alert.host.as_deref(), Some("rig-1 x"));
    }
    assert_eq!(
        alerts[0].text,
        "[rig-1 x] ⚠️ Container p2pool is crash-loop #container_unhealthy"
    );
    assert_eq!(alerts[0].at_unix, 130);
    let mut machine = AlertMachine::new(None);
    machine.step(&healthy(), 0);
    let alerts = machine.step(&with(|s| s.tari_down = Some(true)), 5);
    assert_eq!(alerts[0].text, "🔴 Tari base node is down #node_down");
    assert_eq!(alerts[0].host, None);
    let alerts = machine.step(&with(|s| s.monero_down = true), 6);
    let texts: Vec<_> = alerts.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "🔴 Monero node (monerod) is down #node_down",
            "✅ Tari base node recovered #node_recovered"
        ]
    );
}

#[test]
fn a_tari_first_seen_later_starts_its_own_baseline() {
    let mut machine = AlertMachine::new(None);
    machine.step(&with(|s| s.tari_down = None), 0);
    assert!(machine
        .step(&with(|s| s.tari_down = Some(true)), 1)
        .is_empty());
    assert_eq!(machine.step(&healthy(), 2)[0].key, EventKey::NodeRecovered);
}
