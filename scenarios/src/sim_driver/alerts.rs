//! Alerts on the simulation: the world's recording sinks ([`World::sinks`]), their faults, what
//! reached them, the runtime's counters in `/api/state`, and a watch on every log line of the
//! process for the sinks' secrets.
//!
//! The watch is the process's global `tracing` subscriber, installed by the first scenario that
//! configures the sinks: the runtime runs on the simulation's thread, so every line it logs goes
//! through it. A line that holds a secret is counted under the secret's name (never its value).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use pithead_fakes::sinks::{RecordQuery, SinkClass as FakeClass, SinkMode};
use pithead_sim::alerts as sim_alerts;
use pithead_sim::World;

use super::{failure, observe, wait_until, SimTier, TIER};
use crate::alerts::{AlertEvent, AlertFact, AlertOutcome, SinkClass};
use crate::driver::{lookup, TierError};

/// The secrets the world's alert configuration holds, with the names a report may print.
const SECRETS: [(&str, &str); 4] = [
    ("the bot token", sim_alerts::BOT_TOKEN),
    ("the chat id", sim_alerts::CHAT_ID),
    ("the webhook secret", sim_alerts::WEBHOOK_SECRET),
    ("the ntfy token", sim_alerts::NTFY_TOKEN),
];

/// How much longer than a cycle an alert may take: one capped backoff of the outbox (5 min)
/// and slack.
const RETRY_SLACK: Duration = Duration::from_secs(6 * 60);

fn fake_class(class: SinkClass) -> FakeClass {
    match class {
        SinkClass::Telegram => FakeClass::Telegram,
        SinkClass::Webhook => FakeClass::Webhook,
        SinkClass::Ntfy => FakeClass::Ntfy,
        SinkClass::Healthchecks => FakeClass::Healthchecks,
    }
}

/// Every log line of the process, scanned for the secrets.
#[derive(Debug, Default)]
struct LogWatch {
    lines: AtomicU64,
    /// The names of the secrets seen, one entry per offending line.
    leaks: Mutex<Vec<&'static str>>,
}

static WATCH: OnceLock<Result<Arc<LogWatch>, String>> = OnceLock::new();

/// One formatted log event; scanned when the subscriber is done writing it.
struct LineWriter {
    watch: Arc<LogWatch>,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        self.watch.lines.fetch_add(1, Ordering::Relaxed);
        for (name, secret) in SECRETS {
            if text.contains(secret) {
                self.watch
                    .leaks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(name);
            }
        }
    }
}

fn log_watch() -> Result<Arc<LogWatch>, TierError> {
    let installed = WATCH.get_or_init(|| {
        let watch = Arc::new(LogWatch::default());
        let writer = Arc::clone(&watch);
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,hyper=info,h2=info,turmoil=info,tower=info",
            ))
            .with_ansi(false)
            .with_writer(move || LineWriter {
                watch: Arc::clone(&writer),
                buf: Vec::new(),
            })
            .try_init()
            .map(|()| watch)
            .map_err(|err| format!("cannot watch the log lines: {err}"))
    });
    installed.clone().map_err(|message| TierError::Tier {
        tier: TIER,
        message,
    })
}

fn deliveries(world: &World, class: FakeClass, event: &str) -> usize {
    let query = RecordQuery {
        class: Some(class),
        event: Some(event.to_owned()),
        delivered: Some(true),
    };
    world.sink_requests(&query).len()
}

/// A counter of `/api/state`'s alerts section: `alerts.<sink>.<counter>`, or the entry of the
/// `alerts.sinks` list whose `sink` (or `label`) is the sink.
fn counter(api: &serde_json::Value, sink: &str, counter: &str) -> Option<u64> {
    if let Some(v) = lookup(api, &format!("alerts.{sink}.{counter}")) {
        return v.as_u64();
    }
    let list = lookup(api, "alerts.sinks")?.as_array()?;
    list.iter()
        .find(|row| {
            ["sink", "label", "kind"]
                .iter()
                .any(|k| row.get(*k).and_then(|v| v.as_str()) == Some(sink))
        })
        .and_then(|row| row.get(counter))
        .and_then(serde_json::Value::as_u64)
}

impl SimTier {
    fn alerts_world(&mut self) -> Result<&mut World, TierError> {
        let world = self.booted()?;
        if world.sinks().is_none() {
            return Err(TierError::Check(
                "no alert sinks in this world: say \"Given alerts go to Telegram, a webhook and ntfy\" first"
                    .to_owned(),
            ));
        }
        Ok(world)
    }

    pub(super) fn alerts_given_sim(&mut self, fact: AlertFact) -> Result<(), TierError> {
        match fact {
            AlertFact::EverySink => {
                if self.world.is_some() {
                    return Err(TierError::Unsupported {
                        tier: TIER,
                        what: "configuring the alert sinks after the world booted".to_owned(),
                    });
                }
                log_watch()?;
                self.setup.alerts = true;
                Ok(())
            }
            AlertFact::SinkDown(class) => {
                let world = self.alerts_world()?;
                world.set_sink(fake_class(class), SinkMode::UNAVAILABLE);
                Ok(())
            }
        }
    }

    pub(super) fn alerts_when_sim(&mut self, event: AlertEvent) -> Result<(), TierError> {
        match event {
            AlertEvent::SinkBack(class) => {
                let world = self.alerts_world()?;
                world.set_sink(fake_class(class), SinkMode::Up);
                Ok(())
            }
        }
    }

    pub(super) fn alerts_expect_sim(&mut self, outcome: &AlertOutcome) -> Result<(), TierError> {
        let seed = self.seed;
        let world = self.alerts_world()?;
        let cycle = Self::one_cycle(world);
        match outcome {
            AlertOutcome::Reached { event, sink, count } => {
                let classes: Vec<FakeClass> = match sink {
                    Some(class) => vec![fake_class(*class)],
                    None => SinkClass::ALERTS.into_iter().map(fake_class).collect(),
                };
                // Until every sink has its count (an alert may wait out one backoff)…
                let budget = cycle + RETRY_SLACK;
                let start = world.elapsed();
                while classes
                    .iter()
                    .any(|c| deliveries(world, *c, event) < *count)
                {
                    if world.elapsed() >= start + budget {
                        break;
                    }
                    world.step().map_err(|err| {
                        failure(seed, &format!("waiting for {event} alerts"), &err)
                    })?;
                }
                // …then one more cycle, so a duplicate in flight shows.
                world
                    .run_for(cycle)
                    .map_err(|err| failure(seed, "watching for duplicates", &err))?;
                let got: Vec<String> = classes
                    .iter()
                    .map(|c| format!("{c}: {}", deliveries(world, *c, event)))
                    .collect();
                if classes
                    .iter()
                    .all(|c| deliveries(world, *c, event) == *count)
                {
                    Ok(())
                } else {
                    Err(TierError::Check(format!(
                        "expected exactly {count} {event:?} alert(s) per sink by t={}; acknowledged: {}",
                        pithead_sim::trace::format_time(world.elapsed()),
                        got.join(", ")
                    )))
                }
            }
            AlertOutcome::NoneReached(class) => {
                // An absence would hold before the runtime acted: watch a whole cycle.
                world
                    .run_for(cycle)
                    .map_err(|err| failure(seed, "watching a sink", &err))?;
                let query = RecordQuery {
                    class: Some(fake_class(*class)),
                    ..RecordQuery::default()
                };
                let seen = world.sink_requests(&query);
                if seen.is_empty() {
                    Ok(())
                } else {
                    let events: Vec<String> = seen
                        .iter()
                        .map(|(at, r)| {
                            format!(
                                "{} at {}",
                                r.event.as_deref().unwrap_or("(no event)"),
                                pithead_sim::trace::format_time(*at)
                            )
                        })
                        .collect();
                    Err(TierError::Check(format!(
                        "{} request(s) reached {}: {}",
                        seen.len(),
                        class.wire(),
                        events.join(", ")
                    )))
                }
            }
            AlertOutcome::Counted {
                sink,
                counter: name,
                count,
                at_least,
            } => {
                let what = format!(
                    "/api/state counts {count} {name} alert(s) for {}",
                    sink.wire()
                );
                wait_until(world, seed, &what, cycle, |seen| {
                    match counter(&seen.api, sink.wire(), name) {
                        Some(n) if n == *count || (*at_least && n >= *count) => Ok(()),
                        Some(n) => Err(format!("{name} = {n}")),
                        None => Err(format!(
                            "no {name} counter for {} in /api/state",
                            sink.wire()
                        )),
                    }
                })
            }
            AlertOutcome::SentMatches(sink) => {
                let query = RecordQuery {
                    class: Some(fake_class(*sink)),
                    delivered: Some(true),
                    ..RecordQuery::default()
                };
                let what = format!(
                    "/api/state's sent count for {} equals the alerts it acknowledged",
                    sink.wire()
                );
                // The counter follows the acknowledgement within a cycle: compare at each step
                // against what the sink holds at that step.
                let start = world.elapsed();
                loop {
                    let reached = world
                        .sink_requests(&query)
                        .iter()
                        .filter(|(_, r)| r.event.is_some())
                        .count() as u64;
                    let sent = counter(&observe(world).api, sink.wire(), "sent");
                    if sent == Some(reached) && reached > 0 {
                        return Ok(());
                    }
                    if world.elapsed() >= start + cycle {
                        return Err(TierError::Check(format!(
                            "{what}: sent = {sent:?}, acknowledged = {reached}"
                        )));
                    }
                    world.step().map_err(|err| failure(seed, &what, &err))?;
                }
            }
            AlertOutcome::NoSecretLeaked => {
                let served = world
                    .fetch_state_json()
                    .map_err(|err| failure(seed, "GET /api/state", &err))?;
                let memory = observe(world).api;
                let trace = world.trace().to_string();
                let watch = log_watch()?;
                let mut leaks = Vec::new();
                for (name, secret) in SECRETS {
                    for (place, text) in [
                        ("the served /api/state", served.to_string()),
                        ("/api/state in memory", memory.to_string()),
                        ("the trace (errors, probe failures)", trace.clone()),
                    ] {
                        if text.contains(secret) {
                            leaks.push(format!("{name} in {place}"));
                        }
                    }
                }
                let logged = watch
                    .leaks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                leaks.extend(logged.iter().map(|name| format!("{name} in a log line")));
                let lines = watch.lines.load(Ordering::Relaxed);
                if lines == 0 {
                    return Err(TierError::Check(
                        "no log line was captured: the secret check saw nothing".to_owned(),
                    ));
                }
                if leaks.is_empty() {
                    Ok(())
                } else {
                    Err(TierError::Check(format!(
                        "secrets leaked ({lines} log lines watched): {}",
                        leaks.join("; ")
                    )))
                }
            }
        }
    }
}
