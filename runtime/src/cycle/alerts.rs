//! The alerts' side of the cycle: the alert machine stepped each pass, one task per sink
//! delivering through its own outbox, and the heartbeat's task.
//!
//! The cycle never waits for a sink: it hands each alert to the channel of every sink that
//! carries it and moves on. Each sink's task owns that sink's [`Outbox`], so a slow or failing
//! sink delays only itself; every attempt is cut at [`SEND_DEADLINE`] whatever the sink's own
//! deadline. The tasks save their undelivered alerts to `DATA_DIR/alerts-outbox.json` whenever
//! the set changes, and the next process restores them. The tasks start with the first pass
//! (they need the runtime the cycle runs on) and end when the driver is dropped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::alerts::{Built, Pinger, SendError, Sink};
use crate::control::alerts::{
    Alert, AlertMachine, Heartbeat, HeartbeatLog, HeartbeatStatus, Outbox, OutboxLimits,
    SavedEntry, Signals,
};
use crate::io::SharedClock;
use crate::store::{OutboxStore, SavedOutboxes};
use crate::view::{AlertSinkRow, AlertsSection};

/// The longest one delivery attempt or one heartbeat ping may take before it counts as a
/// timeout (the sinks' own deadline is shorter; this bounds a sink that ignores it).
pub const SEND_DEADLINE: Duration = Duration::from_secs(30);

/// The alert machine, the sinks' tasks and the heartbeat's, as one runtime drives them.
pub struct AlertsDriver {
    machine: AlertMachine,
    pending: Option<Pending>,
    sinks: Vec<SinkHandle>,
    heartbeat: Option<watch::Sender<bool>>,
    rows: Arc<Mutex<Vec<AlertSinkRow>>>,
    heartbeat_status: Arc<Mutex<HeartbeatStatus>>,
    tasks: Vec<JoinHandle<()>>,
    /// The outbox file, once the tasks run.
    file: Option<Arc<OutboxFile>>,
}

struct Pending {
    built: Built,
    store: OutboxStore,
    clock: SharedClock,
    limits: OutboxLimits,
}

struct SinkHandle {
    sink: Arc<dyn Sink>,
    tx: mpsc::UnboundedSender<Alert>,
}

impl AlertsDriver {
    /// A driver with no sink and no heartbeat: the machine still runs (its baselines stay
    /// current), its alerts are only logged.
    pub fn new(host: Option<String>) -> Self {
        Self {
            machine: AlertMachine::new(host),
            pending: None,
            sinks: Vec::new(),
            heartbeat: None,
            rows: Arc::default(),
            heartbeat_status: Arc::default(),
            tasks: Vec::new(),
            file: None,
        }
    }

    /// A driver delivering to `built`'s sinks and pinging its heartbeat, keeping undelivered
    /// alerts in `data_dir`.
    pub fn with_sinks(
        built: Built,
        host: Option<String>,
        data_dir: &std::path::Path,
        clock: SharedClock,
        limits: OutboxLimits,
    ) -> Self {
        let mut driver = Self::new(host);
        driver.pending = Some(Pending {
            built,
            store: OutboxStore::new(data_dir),
            clock,
            limits,
        });
        driver
    }

    /// Steps the machine with one pass's `signals` at `at_unix` and hands each alert to every
    /// sink that carries it; returns the alerts.
    ///
    /// The alerts are in the outbox file before this returns: the cycle persists the state
    /// they follow from (a node down, in the snapshot) right after, and a crash between the
    /// two must not leave a restart that sees "already down" (a silent baseline) with the
    /// alert nowhere.
    pub fn step(&mut self, signals: &Signals, at_unix: i64) -> Vec<Alert> {
        self.start();
        let alerts = self.machine.step(signals, at_unix);
        if alerts.is_empty() {
            return alerts;
        }
        // Held while queueing, so a task's drain-and-save cannot interleave and overwrite
        // these entries with a state that lacks them.
        let mut saved = self.file.as_ref().map(|file| lock(&file.saved));
        let mut queued = false;
        for alert in &alerts {
            tracing::info!(event = %alert.key, severity = alert.severity.as_str(), "alert: {}", alert.text);
            for handle in &self.sinks {
                if !handle.sink.carries(alert) {
                    continue;
                }
                queued = true;
                if let Some(saved) = saved.as_deref_mut() {
                    saved
                        .entry(handle.sink.label())
                        .or_default()
                        .entries
                        .push(SavedEntry {
                            alert: alert.clone(),
                            queued_at_unix_ms: u64::try_from(alert.at_unix)
                                .unwrap_or(0)
                                .saturating_mul(1_000),
                        });
                }
                if handle.tx.send(alert.clone()).is_err() {
                    tracing::error!(sink = %handle.sink.label(), "the sink's task is gone: alert not queued");
                }
            }
        }
        if let (true, Some(file), Some(saved)) = (queued, &self.file, saved.as_deref()) {
            file.write(saved);
        }
        alerts
    }

    /// Tells the heartbeat how the pass went (`healthy`: it recorded no error).
    pub fn cycle_done(&mut self, healthy: bool) {
        self.start();
        if let Some(tx) = &self.heartbeat {
            // The task reads the latest value; a send only fails once it is gone.
            let _ = tx.send(healthy);
        }
    }

    /// The sinks' counters and the heartbeat's state now.
    pub fn section(&self) -> AlertsSection {
        AlertsSection {
            sinks: lock(&self.rows).clone(),
            heartbeat: lock(&self.heartbeat_status).clone(),
        }
    }

    /// Restores the outboxes and spawns the tasks, once.
    fn start(&mut self) {
        let Some(Pending {
            built,
            store,
            clock,
            limits,
        }) = self.pending.take()
        else {
            return;
        };
        let now = clock.now();
        let wall_ms = clock.wall_ms();
        let mut saved = if built.sinks.is_empty() {
            SavedOutboxes::new()
        } else {
            store.load().unwrap_or_else(|e| {
                tracing::error!(error = %e, "undelivered alerts lost: the outbox file could not be read");
                SavedOutboxes::new()
            })
        };
        let labels: BTreeSet<String> = built.sinks.iter().map(|s| s.label()).collect();
        let orphaned: usize = saved
            .iter()
            .filter(|(label, _)| !labels.contains(*label))
            .map(|(_, outbox)| outbox.entries.len())
            .sum();
        saved.retain(|label, _| labels.contains(label));
        let file = Arc::new(OutboxFile {
            store,
            saved: Mutex::new(saved.clone()),
        });
        if orphaned > 0 {
            tracing::warn!(
                alerts = orphaned,
                "undelivered alerts of sinks no longer configured dropped"
            );
            file.write(&lock(&file.saved));
        }
        for (index, sink) in built.sinks.into_iter().enumerate() {
            let label = sink.label();
            let outbox = Outbox::restore(
                limits,
                saved.remove(&label).unwrap_or_default(),
                now,
                wall_ms,
            );
            let queued = outbox.counters().queued;
            if queued > 0 {
                tracing::info!(sink = %label, alerts = queued, "re-delivering alerts a previous run left undelivered");
            }
            lock(&self.rows).push(row(sink.as_ref(), &outbox));
            let (tx, rx) = mpsc::unbounded_channel();
            self.sinks.push(SinkHandle {
                sink: sink.clone(),
                tx,
            });
            let task = SinkTask {
                index,
                label,
                sink,
                outbox,
                clock: clock.clone(),
                file: file.clone(),
                rows: self.rows.clone(),
            };
            self.tasks.push(tokio::spawn(task.run(rx)));
        }
        self.file = Some(file);
        if let Some(pinger) = built.pinger {
            let (tx, rx) = watch::channel(false);
            self.heartbeat = Some(tx);
            *lock(&self.heartbeat_status) = Heartbeat::new().status().clone();
            self.tasks.push(tokio::spawn(heartbeat(
                pinger,
                rx,
                clock,
                self.heartbeat_status.clone(),
            )));
        }
    }
}

impl Drop for AlertsDriver {
    fn drop(&mut self) {
        // A runtime that stops takes its deliveries with it (what is owed is on disk).
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn row(sink: &dyn Sink, outbox: &Outbox) -> AlertSinkRow {
    AlertSinkRow {
        label: sink.label(),
        kind: sink.kind().as_str(),
        counters: outbox.counters().clone(),
    }
}

/// The outbox file, shared by the sinks' tasks.
struct OutboxFile {
    store: OutboxStore,
    saved: Mutex<SavedOutboxes>,
}

impl OutboxFile {
    /// Replaces `label`'s entries in `saved` (this file's map, its lock held) and writes.
    fn save_locked(
        &self,
        saved: &mut SavedOutboxes,
        label: &str,
        outbox: crate::control::alerts::SavedOutbox,
    ) {
        if outbox.entries.is_empty() {
            saved.remove(label);
        } else {
            saved.insert(label.to_owned(), outbox);
        }
        self.write(saved);
    }

    fn write(&self, saved: &SavedOutboxes) {
        if let Err(e) = self.store.save(saved) {
            tracing::error!(error = %e, "undelivered alerts not saved: a restart would lose them");
        }
    }
}

/// One sink's task: its outbox, its attempts.
struct SinkTask {
    index: usize,
    label: String,
    sink: Arc<dyn Sink>,
    outbox: Outbox,
    clock: SharedClock,
    file: Arc<OutboxFile>,
    rows: Arc<Mutex<Vec<AlertSinkRow>>>,
}

impl SinkTask {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Alert>) {
        let mut saved_mark = mark(&self.outbox);
        loop {
            let now = self.clock.now();
            if let Some(attempt) = self.outbox.next(now) {
                self.publish();
                let result = tokio::time::timeout(SEND_DEADLINE, self.sink.send(&attempt.alert))
                    .await
                    .unwrap_or(Err(SendError::Timeout));
                let was_failing = self.outbox.counters().last_error.is_some();
                match &result {
                    Err(e) if !was_failing => {
                        tracing::warn!(sink = %self.label, error = %e, "alert sink failing: retrying with backoff")
                    }
                    Err(e) => {
                        tracing::debug!(sink = %self.label, error = %e, "alert sink still failing")
                    }
                    Ok(()) if was_failing => {
                        tracing::info!(sink = %self.label, "alert sink delivers again")
                    }
                    Ok(()) => {}
                }
                self.outbox.on_result(&attempt, result, self.clock.now());
            } else {
                let wake = self.outbox.wake_at(now);
                // `biased`: a new alert first, and no dependence on tokio's random branch order.
                tokio::select! {
                    biased;
                    alert = rx.recv() => match alert {
                        Some(alert) => self.outbox.push(alert, self.clock.now()),
                        None => return,
                    },
                    () = sleep_until(wake) => {}
                }
            }
            // Drained and saved under the file's lock: what the cycle queued (and wrote) before
            // is in the outbox now, and what it queues after waits for the lock.
            let file = self.file.clone();
            let mut saved = lock(&file.saved);
            while let Ok(alert) = rx.try_recv() {
                self.outbox.push(alert, self.clock.now());
            }
            self.publish();
            let now_mark = mark(&self.outbox);
            if now_mark != saved_mark {
                saved_mark = now_mark;
                let outbox = self.outbox.saved(self.clock.now(), self.clock.wall_ms());
                file.save_locked(&mut saved, &self.label, outbox);
            }
        }
    }

    fn publish(&self) {
        if let Some(slot) = lock(&self.rows).get_mut(self.index) {
            *slot = row(self.sink.as_ref(), &self.outbox);
        }
    }
}

/// What changes whenever the set of undelivered alerts does (a push, a delivery, a drop).
fn mark(outbox: &Outbox) -> (u64, u64, u64) {
    let c = outbox.counters();
    (c.sent, c.dropped, c.queued)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn heartbeat(
    pinger: Arc<dyn Pinger>,
    mut rx: watch::Receiver<bool>,
    clock: SharedClock,
    status: Arc<Mutex<HeartbeatStatus>>,
) {
    let mut beat = Heartbeat::new();
    while rx.changed().await.is_ok() {
        let healthy = *rx.borrow_and_update();
        if !beat.due(healthy, clock.now()) {
            continue;
        }
        let result = tokio::time::timeout(SEND_DEADLINE, pinger.ping())
            .await
            .unwrap_or(Err(SendError::Timeout));
        if let Err(e) = &result {
            tracing::debug!(error = %e, "heartbeat ping failed");
        }
        match beat.on_result(result, clock.now()) {
            Some(HeartbeatLog::StartedFailing(class)) => {
                tracing::warn!(error = %class, "heartbeat pings are failing: retrying every cycle");
            }
            Some(HeartbeatLog::Recovered) => tracing::info!("heartbeat pings land again"),
            None => {}
        }
        *lock(&status) = beat.status().clone();
    }
}
