use proptest::prelude::*;

use super::*;
use crate::control::alerts::Severity;

fn alert(key: EventKey, n: i64) -> Alert {
    Alert {
        key,
        severity: Severity::Warning,
        text: compose(Some("rig"), &format!("thing {n} happened"), key),
        host: Some("rig".into()),
        at_unix: n,
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn fail() -> Result<(), SendError> {
    Err(SendError::Status(502))
}

#[test]
fn the_backoff_doubles_from_5_s_to_a_5_min_cap() {
    let limits = OutboxLimits::default();
    let delays: Vec<u64> = (1..=10).map(|n| limits.backoff(n).as_secs()).collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]);
    assert_eq!(limits.backoff(u32::MAX).as_secs(), 300);
}

#[tokio::test(start_paused = true)]
async fn a_failing_sink_is_retried_on_the_backoff_and_delivers_once_when_it_recovers() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(OutboxLimits::default());
    outbox.push(alert(EventKey::NodeDown, 1), t0);
    let mut now = t0;
    let mut tried_at = Vec::new();
    // Down for 10 minutes.
    while now < t0 + secs(600) {
        if let Some(attempt) = outbox.next(now) {
            tried_at.push(now.duration_since(t0).as_secs());
            outbox.on_result(&attempt, fail(), now);
        }
        now = outbox.wake_at(now).expect("still owed");
    }
    assert_eq!(tried_at, [0, 5, 15, 35, 75, 155, 315]);
    assert_eq!(outbox.counters().last_error.as_deref(), Some("HTTP 502"));
    // Back: the next attempt, at 615 s, delivers.
    assert_eq!(now.duration_since(t0).as_secs(), 615);
    let attempt = outbox.next(now).expect("due");
    assert_eq!(attempt.alert, alert(EventKey::NodeDown, 1));
    outbox.on_result(&attempt, Ok(()), now);
    assert_eq!(outbox.next(now), None);
    assert_eq!(outbox.wake_at(now), None);
    let c = outbox.counters();
    assert_eq!((c.sent, c.retried, c.dropped, c.queued), (1, 7, 0, 0));
    assert_eq!(c.last_error, None);
}

#[tokio::test(start_paused = true)]
async fn an_alert_undelivered_for_an_hour_is_given_up_and_counted() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(OutboxLimits::default());
    outbox.push(alert(EventKey::NodeDown, 1), t0);
    outbox.push(alert(EventKey::NodeRecovered, 2), t0 + secs(1_800));
    let mut now = t0;
    while now < t0 + secs(3_600) {
        if let Some(attempt) = outbox.next(now) {
            outbox.on_result(&attempt, fail(), now);
        }
        now = outbox.wake_at(now).unwrap();
    }
    // Woken at the give-up instant itself.
    assert_eq!(now, t0 + secs(3_600));
    assert_eq!(outbox.next(now), None, "inside the backoff");
    assert_eq!(outbox.counters().dropped, 1);
    assert_eq!(outbox.counters().queued, 1);
    // Only the younger alert is still tried, when the backoff ends.
    let at = outbox.wake_at(now).unwrap();
    assert!(at > now);
    assert_eq!(
        outbox.next(at).map(|a| a.alert.key),
        Some(EventKey::NodeRecovered)
    );
}

#[tokio::test(start_paused = true)]
async fn the_bound_drops_the_oldest() {
    let t0 = Instant::now();
    let limits = OutboxLimits {
        capacity: 3,
        ..OutboxLimits::default()
    };
    let mut outbox = Outbox::new(limits);
    for n in 0..5 {
        outbox.push(alert(EventKey::DiskSpace, n), t0);
    }
    let left: Vec<i64> = outbox.queued().map(|a| a.at_unix).collect();
    assert_eq!(left, [2, 3, 4]);
    assert_eq!(outbox.counters().dropped, 2);
    // The alert being sent is never the one dropped.
    let attempt = outbox.next(t0).unwrap();
    assert_eq!(attempt.alert.at_unix, 2);
    outbox.push(alert(EventKey::DiskSpace, 5), t0);
    let left: Vec<i64> = outbox.queued().map(|a| a.at_unix).collect();
    assert_eq!(left, [2, 4, 5]);
    outbox.on_result(&attempt, Ok(()), t0);
    assert_eq!(outbox.counters().sent, 1);
}

#[tokio::test(start_paused = true)]
async fn a_burst_beyond_the_rate_is_folded_into_one_summary_on_the_windows_last_message() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(OutboxLimits::default());
    let keys = [
        EventKey::ContainerUnhealthy,
        EventKey::NodeDown,
        EventKey::DiskSpace,
    ];
    for n in 0..25 {
        outbox.push(alert(keys[usize::try_from(n).unwrap() % 3], n), t0);
    }
    let mut sent = Vec::new();
    while let Some(attempt) = outbox.next(t0) {
        outbox.on_result(&attempt, Ok(()), t0);
        sent.push(attempt);
    }
    assert_eq!(sent.len(), 10, "more than the rate in a minute");
    assert!(sent[..9].iter().all(|a| a.carries() == 1));
    let summary = &sent[9].alert;
    assert_eq!(sent[9].carries(), 16);
    assert_eq!(summary.key, EventKey::Summary);
    assert_eq!(
        summary.text,
        "[rig] thing 9 happened … and 15 more: node_down, disk_space, container_unhealthy #summary"
    );
    assert_eq!(summary.at_unix, 24);
    assert_eq!(outbox.counters().sent, 25);
    // A new alert waits for the window: one minute after its first message.
    outbox.push(alert(EventKey::NodeRecovered, 30), t0 + secs(10));
    assert_eq!(outbox.next(t0 + secs(10)), None);
    assert_eq!(outbox.wake_at(t0 + secs(10)), Some(t0 + secs(60)));
    assert_eq!(
        outbox.next(t0 + secs(60)).map(|a| a.alert.key),
        Some(EventKey::NodeRecovered)
    );
}

#[tokio::test(start_paused = true)]
async fn one_attempt_at_a_time_and_in_order() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(OutboxLimits::default());
    outbox.push(alert(EventKey::NodeDown, 1), t0);
    outbox.push(alert(EventKey::NodeRecovered, 2), t0);
    let first = outbox.next(t0).unwrap();
    assert_eq!(outbox.next(t0), None, "two attempts in flight");
    assert_eq!(outbox.wake_at(t0), None);
    outbox.on_result(&first, fail(), t0);
    assert_eq!(
        outbox.next(t0 + secs(4)),
        None,
        "retried inside the backoff"
    );
    let again = outbox.next(t0 + secs(5)).unwrap();
    assert_eq!(
        again.alert.key,
        EventKey::NodeDown,
        "a recovery overtook its outage"
    );
}

#[tokio::test(start_paused = true)]
async fn the_saved_outbox_round_trips_and_keeps_each_alerts_age() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(OutboxLimits::default());
    outbox.push(alert(EventKey::NodeDown, 1), t0);
    outbox.push(alert(EventKey::WorkersRejected, 2), t0 + secs(100));
    let now = t0 + secs(3_000);
    let wall = 1_700_000_000_000;
    let saved = outbox.saved(now, wall);
    assert_eq!(saved.entries[0].queued_at_unix_ms, wall - 3_000_000);
    let json = serde_json::to_string(&saved).unwrap();
    let back: SavedOutbox = serde_json::from_str(&json).unwrap();
    assert_eq!(back, saved);
    // Restarted 10 minutes later (wall time): the first alert is then 3,000 + 600 s = 1 h old,
    // so it is given up; the second is still owed.
    let later = t0 + secs(5_000);
    let mut restored = Outbox::restore(OutboxLimits::default(), back, later, wall + 600_000);
    assert_eq!(restored.saved(later, wall + 600_000), saved);
    let attempt = restored.next(later).unwrap();
    assert_eq!(attempt.alert.key, EventKey::WorkersRejected);
    assert_eq!(restored.counters().dropped, 1);
    // A wall clock set back never makes an age negative.
    let back_in_time = Outbox::restore(OutboxLimits::default(), saved, later, 0);
    assert_eq!(back_in_time.counters().queued, 2);
}

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Step { ok: bool },
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..10).prop_map(Op::Push),
        any::<bool>().prop_map(|ok| Op::Step { ok }),
        (0u16..900).prop_map(Op::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever happens, every alert pushed is sent, dropped or still queued; the queue stays
    /// within its bound; no rolling minute holds more than the rate; a failure is never
    /// followed by an attempt inside its backoff.
    #[test]
    fn nothing_is_lost_uncounted_and_every_bound_holds(ops in proptest::collection::vec(op(), 1..300)) {
        let limits = OutboxLimits { capacity: 20, ..OutboxLimits::default() };
        let t0 = Instant::now();
        let mut now = t0;
        let mut outbox = Outbox::new(limits);
        let mut pushed = 0u64;
        let mut attempts: Vec<Instant> = Vec::new();
        let mut failures_in_a_row = 0u32;
        let mut last_failure: Option<Instant> = None;
        for op in ops {
            match op {
                Op::Push(k) => {
                    let key = EventKey::ALL[usize::from(k) % EventKey::ALL.len()];
                    outbox.push(alert(key, i64::from(k)), now);
                    pushed += 1;
                }
                Op::Step { ok } => {
                    if let Some(attempt) = outbox.next(now) {
                        if let Some(at) = last_failure {
                            prop_assert!(now >= at + limits.backoff(failures_in_a_row));
                        }
                        attempts.push(now);
                        let result = if ok { Ok(()) } else { Err(SendError::Timeout) };
                        outbox.on_result(&attempt, result, now);
                        if ok {
                            failures_in_a_row = 0;
                            last_failure = None;
                        } else {
                            failures_in_a_row += 1;
                            last_failure = Some(now);
                        }
                    }
                }
                Op::Wait(s) => now += Duration::from_secs(u64::from(s)),
            }
            let c = outbox.counters();
            prop_assert_eq!(pushed, c.sent + c.dropped + c.queued);
            prop_assert!(c.queued <= 20);
            for (i, at) in attempts.iter().enumerate() {
                let in_window = attempts[i..].iter().filter(|t| t.duration_since(*at) < limits.window).count();
                prop_assert!(in_window <= limits.per_window);
            }
            if let Some(wake) = outbox.wake_at(now) {
                prop_assert!(wake >= now);
            }
        }
    }
}
