//! Tier 1 properties of the control machines over random observation sequences, checked
//! against reference models written from the spec (domain.md §3, §4), not from the code.

use std::time::Duration;

use pithead_runtime::control::{
    ChainReading, ContainerAction, ContainerPlan, Desired, Failover, FailoverDecision,
    FailoverEvent, FailoverObservation, GateObservation, SyncGate,
};
use proptest::prelude::*;
use tokio::time::Instant;

const DOWN_AFTER_SEC: u64 = 90;
const RECOVERY_AFTER_SEC: u64 = 60;
const P2POOL: &str = "p2pool";
const PROXY: &str = "xmrig-proxy";

/// One observation: the gap since the previous one and whether each node answered.
#[derive(Debug, Clone, Copy)]
struct Tick {
    gap: u64,
    monero: bool,
    tari: bool,
}

fn tick() -> impl Strategy<Value = Tick> {
    // Bias towards long runs: a node flips state only now and then.
    (
        1..=120u64,
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.7),
    )
        .prop_map(|(gap, monero, tari)| Tick { gap, monero, tari })
}

/// Sequences made of runs, so outages and recoveries long enough to matter actually occur.
fn ticks() -> impl Strategy<Value = Vec<Tick>> {
    prop::collection::vec((tick(), 1..8usize), 1..24).prop_map(|runs| {
        let mut out = Vec::new();
        for (t, len) in runs {
            for _ in 0..len {
                out.push(t);
            }
        }
        out
    })
}

/// Absolute seconds of each tick (the first at its own gap after zero).
fn times(ticks: &[Tick]) -> Vec<u64> {
    ticks
        .iter()
        .scan(0u64, |t, tick| {
            *t += tick.gap;
            Some(*t)
        })
        .collect()
}

/// The reference model of one node's "down" flag, computed from the whole history by looking
/// back over runs (spec §4): down after `DOWN_AFTER_SEC` continuously unreachable if it was ever
/// reachable before that run; recovered after `RECOVERY_AFTER_SEC` continuously reachable.
fn reference_down(reachable: &[bool], at: &[u64]) -> Vec<bool> {
    let mut down = Vec::with_capacity(reachable.len());
    for i in 0..reachable.len() {
        let run_start = run_start(reachable, i);
        let run_len = at[i] - at[run_start];
        let before = i.checked_sub(1).map(|p| down[p]).unwrap_or(false);
        let now = if reachable[i] {
            before && run_len < RECOVERY_AFTER_SEC
        } else {
            let ever_up = reachable[..run_start].iter().any(|r| *r);
            before || (ever_up && run_len >= DOWN_AFTER_SEC)
        };
        down.push(now);
    }
    down
}

/// The length (seconds) of the unbroken run of `state` ending at `i`, or `None` when the
/// observation at `i` is not `state`.
fn run_len(reachable: &[bool], at: &[u64], i: usize, state: bool) -> Option<u64> {
    if reachable[i] != state {
        return None;
    }
    Some(at[i] - at[run_start(reachable, i)])
}

/// The index where the unbroken run of equal observations ending at `i` began.
fn run_start(reachable: &[bool], i: usize) -> usize {
    let len = reachable[..=i]
        .iter()
        .rev()
        .take_while(|r| **r == reachable[i])
        .count();
    i + 1 - len
}

fn run_failover(
    ticks: &[Tick],
    tari_enabled: bool,
    tari_required: bool,
) -> (Vec<u64>, Vec<FailoverDecision>) {
    let base = Instant::now();
    let at = times(ticks);
    let mut failover = Failover::new(
        Duration::from_secs(DOWN_AFTER_SEC),
        Duration::from_secs(RECOVERY_AFTER_SEC),
        tari_enabled,
        tari_required,
    );
    let decisions = ticks
        .iter()
        .zip(&at)
        .map(|(t, secs)| {
            failover.step(
                FailoverObservation {
                    monero_reachable: t.monero,
                    tari_reachable: t.tari,
                },
                base + Duration::from_secs(*secs),
            )
        })
        .collect();
    (at, decisions)
}

fn reading() -> impl Strategy<Value = Option<ChainReading>> {
    prop::option::weighted(
        0.85,
        (0..200u64, 0..200u64, any::<bool>()).prop_map(|(height, target, syncing)| ChainReading {
            height,
            target,
            syncing,
        }),
    )
}

fn gate_observation() -> impl Strategy<Value = GateObservation> {
    (
        reading(),
        reading(),
        prop::option::of(prop_oneof![Just(0u64), 1..5_000_000u64]),
    )
        .prop_map(|(monero, tari, p2pool)| GateObservation {
            monero,
            tari,
            p2pool_network_height: p2pool,
        })
}

/// Spec §3: done = (reachable and not syncing) or (target > 0 and height ≥ target).
fn reference_done(reading: Option<ChainReading>) -> bool {
    reading.is_some_and(|r| !r.syncing || (r.target > 0 && r.height >= r.target))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The failover verdict equals the reference model at every step, and events are exactly
    /// the transitions of the verdict.
    #[test]
    fn failover_matches_the_reference_model(
        ticks in ticks(),
        tari_enabled in any::<bool>(),
        tari_required in any::<bool>(),
    ) {
        let (at, decisions) = run_failover(&ticks, tari_enabled, tari_required);
        let monero: Vec<bool> = ticks.iter().map(|t| t.monero).collect();
        let tari: Vec<bool> = ticks.iter().map(|t| t.tari).collect();
        let monero_down = reference_down(&monero, &at);
        let tari_down = reference_down(&tari, &at);
        let mut was_rejected = false;
        for (i, d) in decisions.iter().enumerate() {
            let rejected = monero_down[i] || (tari_enabled && tari_required && tari_down[i]);
            prop_assert_eq!(d.monero_down, monero_down[i], "monero_down at step {}", i);
            prop_assert_eq!(d.tari_down, tari_enabled && tari_down[i], "tari_down at step {}", i);
            prop_assert_eq!(d.rejected, rejected, "rejected at step {}", i);
            let event = match (was_rejected, rejected) {
                (false, true) => Some(FailoverEvent::Reject),
                (true, false) => Some(FailoverEvent::Readmit),
                _ => None,
            };
            prop_assert_eq!(d.event, event, "event at step {}", i);
            was_rejected = rejected;
        }
    }

    /// No reject before a required node, once up, has been unreachable for the whole down
    /// window; no readmit before the recovery window has passed since the reject and the
    /// recovering node has been reachable for the whole recovery window.
    #[test]
    fn windows_are_respected(
        ticks in ticks(),
        tari_enabled in any::<bool>(),
        tari_required in any::<bool>(),
    ) {
        let (at, decisions) = run_failover(&ticks, tari_enabled, tari_required);
        let monero: Vec<bool> = ticks.iter().map(|t| t.monero).collect();
        let tari: Vec<bool> = ticks.iter().map(|t| t.tari).collect();
        let tari_counts = tari_enabled && tari_required;
        let mut last_reject = None;
        for (i, d) in decisions.iter().enumerate() {
            match d.event {
                Some(FailoverEvent::Reject) => {
                    let culprit = |r: &[bool]| {
                        run_len(r, &at, i, false).is_some_and(|len| {
                            len >= DOWN_AFTER_SEC && r[..run_start(r, i)].iter().any(|x| *x)
                        })
                    };
                    prop_assert!(
                        culprit(&monero) || (tari_counts && culprit(&tari)),
                        "reject at step {} (t={}) without a full down window", i, at[i]
                    );
                    last_reject = Some(at[i]);
                }
                Some(FailoverEvent::Readmit) => {
                    let rejected_at = last_reject.expect("readmit without a reject");
                    prop_assert!(
                        at[i] - rejected_at >= RECOVERY_AFTER_SEC,
                        "readmit at t={} only {} s after the reject", at[i], at[i] - rejected_at
                    );
                    let recovered = |r: &[bool]| {
                        run_len(r, &at, i, true).is_some_and(|len| len >= RECOVERY_AFTER_SEC)
                    };
                    prop_assert!(
                        recovered(&monero) || (tari_counts && recovered(&tari)),
                        "readmit at t={} with no node reachable for the recovery window", at[i]
                    );
                }
                None => {}
            }
        }
    }

    /// Every reject is followed by a readmit once the nodes stay reachable long enough.
    #[test]
    fn every_reject_is_followed_by_a_readmit(
        mut ticks in ticks(),
        tari_enabled in any::<bool>(),
        tari_required in any::<bool>(),
        gap in 1..=30u64,
    ) {
        let steady = (RECOVERY_AFTER_SEC / gap + 2) as usize;
        ticks.extend(std::iter::repeat_n(Tick { gap, monero: true, tari: true }, steady));
        let (_, decisions) = run_failover(&ticks, tari_enabled, tari_required);
        let rejects = decisions.iter().filter(|d| d.event == Some(FailoverEvent::Reject)).count();
        let readmits = decisions.iter().filter(|d| d.event == Some(FailoverEvent::Readmit)).count();
        prop_assert_eq!(rejects, readmits);
        let last = decisions.last().expect("non-empty");
        prop_assert!(!last.rejected && !last.monero_down && !last.tari_down);
    }

    /// A node that never answered is never down and never causes a reject.
    #[test]
    fn a_never_reachable_node_never_rejects(
        mut ticks in ticks(),
        silent_monero in any::<bool>(),
        tari_required in any::<bool>(),
    ) {
        for t in &mut ticks {
            if silent_monero { t.monero = false } else { t.tari = false }
        }
        let (_, decisions) = run_failover(&ticks, true, tari_required);
        let other_can_reject = if silent_monero { tari_required } else { true };
        for (i, d) in decisions.iter().enumerate() {
            if silent_monero {
                prop_assert!(!d.monero_down, "never-up monerod down at step {}", i);
            } else {
                prop_assert!(!d.tari_down, "never-up Tari down at step {}", i);
            }
            if !other_can_reject {
                prop_assert!(!d.rejected, "rejected at step {}", i);
            }
        }
        // Both silent: never rejected whatever is required.
        for t in &mut ticks {
            t.monero = false;
            t.tari = false;
        }
        let (_, decisions) = run_failover(&ticks, true, tari_required);
        prop_assert!(decisions.iter().all(|d| !d.rejected && !d.monero_down && !d.tari_down));
    }

    /// The latch never reverts, releases exactly when the reference says the chains are done,
    /// and `newly_released` fires at most once, on the first released step.
    #[test]
    fn the_latch_never_reverts(
        observations in prop::collection::vec(gate_observation(), 1..60),
        tari_enabled in any::<bool>(),
        tari_required in any::<bool>(),
        released_before in any::<bool>(),
    ) {
        let mut gate = SyncGate::new(tari_enabled, tari_required, released_before);
        let mut released = released_before;
        let mut newly = 0;
        let (mut last_monero, mut last_tari) = (None, None);
        for (i, o) in observations.iter().enumerate() {
            let view = gate.step(o);
            // Display keeps a node's last reading through an outage; decisions never do.
            last_monero = o.monero.or(last_monero);
            last_tari = o.tari.or(last_tari);
            let satisfied = reference_done(o.monero)
                && (!tari_enabled || !tari_required || reference_done(o.tari));
            let expect_released = released || satisfied;
            prop_assert_eq!(view.released, expect_released, "latch at step {}", i);
            prop_assert_eq!(view.holding, !expect_released, "holding at step {}", i);
            prop_assert_eq!(view.global_sync, !satisfied, "global_sync at step {}", i);
            prop_assert_eq!(view.newly_released, expect_released && !released, "newly at step {}", i);
            let p2pool_override = o.p2pool_network_height == Some(0);
            prop_assert_eq!(
                view.monero_display_syncing,
                !reference_done(last_monero) || p2pool_override,
                "monero display at step {}", i
            );
            prop_assert_eq!(
                view.display_syncing,
                !reference_done(last_monero)
                    || p2pool_override
                    || (tari_enabled && tari_required && !reference_done(last_tari)),
                "display at step {}", i
            );
            let tari_passive = tari_enabled
                && o.tari.is_some()
                && !reference_done(o.tari)
                && satisfied;
            prop_assert_eq!(view.tari_syncing_passive, tari_passive, "passive at step {}", i);
            if view.newly_released { newly += 1; }
            released = expect_released;
            prop_assert_eq!(gate.released(), released);
        }
        prop_assert!(newly <= 1);
        prop_assert_eq!(newly == 1, released && !released_before);
    }

    /// Owed actions are exactly the unconfirmed differences: unconfirmed ones come back next
    /// cycle, and once everything owed is confirmed with the inputs unchanged nothing is owed.
    #[test]
    fn the_plan_settles_once_confirmed(
        inputs in prop::collection::vec((any::<bool>(), any::<bool>(), any::<u8>()), 1..40),
    ) {
        let mut plan = ContainerPlan::new(vec![P2POOL.into(), PROXY.into()], PROXY.into());
        for (i, (holding, rejected, mask)) in inputs.iter().enumerate() {
            let owed = plan.step(*holding, *rejected);
            let stops = owed.iter().take_while(|a| matches!(a, ContainerAction::Stop(_))).count();
            prop_assert!(
                owed[stops..].iter().all(|a| matches!(a, ContainerAction::Start(_))),
                "stops before starts at step {}: {:?}", i, owed
            );
            let proxy_want = if *holding || *rejected { Desired::Stopped } else { Desired::Running };
            let p2pool_want = if *holding { Desired::Stopped } else { Desired::Running };
            prop_assert_eq!(plan.desired().get(PROXY), Some(&proxy_want));
            prop_assert_eq!(plan.desired().get(P2POOL), Some(&p2pool_want));
            // Confirm a random subset; the rest must be owed again with the same inputs.
            let (confirmed, unconfirmed): (Vec<_>, Vec<_>) =
                owed.iter().enumerate().partition(|(k, _)| mask & (1 << k) != 0);
            for (_, a) in &confirmed {
                plan.confirm(a);
            }
            let again = plan.step(*holding, *rejected);
            let unconfirmed: Vec<ContainerAction> =
                unconfirmed.into_iter().map(|(_, a)| a.clone()).collect();
            prop_assert_eq!(&again, &unconfirmed, "step {}", i);
            for a in &again {
                plan.confirm(a);
            }
            prop_assert_eq!(plan.step(*holding, *rejected), vec![], "settled at step {}", i);
        }
    }

    /// Gate, failover and plan together: after release p2pool is never owed a stop, and the
    /// reject container is wanted stopped exactly while held or rejected.
    #[test]
    fn after_release_p2pool_is_never_stopped(
        steps in prop::collection::vec((gate_observation(), tick(), any::<bool>()), 1..60),
        released_before in any::<bool>(),
    ) {
        let base = Instant::now();
        let mut gate = SyncGate::new(true, true, released_before);
        let mut failover = Failover::new(
            Duration::from_secs(DOWN_AFTER_SEC),
            Duration::from_secs(RECOVERY_AFTER_SEC),
            true,
            true,
        );
        let mut plan = ContainerPlan::new(vec![P2POOL.into(), PROXY.into()], PROXY.into());
        let mut now = 0;
        for (i, (o, t, lands)) in steps.iter().enumerate() {
            now += t.gap;
            let view = gate.step(o);
            let d = failover.step(
                FailoverObservation {
                    monero_reachable: o.monero.is_some(),
                    tari_reachable: o.tari.is_some(),
                },
                base + Duration::from_secs(now),
            );
            let owed = plan.step(view.holding, d.rejected);
            if view.released {
                prop_assert!(!owed.contains(&ContainerAction::Stop(P2POOL.into())), "step {}", i);
            }
            let proxy_stopped = plan.desired().get(PROXY) == Some(&Desired::Stopped);
            prop_assert_eq!(proxy_stopped, view.holding || d.rejected, "step {}", i);
            if *lands {
                for a in &owed {
                    plan.confirm(a);
                }
            }
        }
    }
}
