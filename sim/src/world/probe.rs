//! The `/api/state` prober on the `aux` host: periodic `GET /api/state` over the simulated
//! network (an invariant: it answers), and on-demand fetches for [`World::fetch_state_json`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use pithead_runtime::io::http::{request, send, Exchange};
use tokio::sync::Notify;

use super::{lock, Shared, World};
use crate::failure::{Failure, Invariant};
use crate::net::TurmoilConnector;

/// How long an on-demand fetch may take (virtual time) before it counts as unanswered.
const FETCH_LIMIT: Duration = Duration::from_secs(120);

/// One periodic probe that failed.
#[derive(Debug, Clone)]
pub(super) struct ProbeFailure {
    pub(super) started: Duration,
    pub(super) ended: Duration,
    pub(super) error: String,
}

/// What the prober and the world exchange.
#[derive(Debug, Default)]
pub(super) struct ProbeLog {
    /// Periodic probes that failed, not yet seen by the monitor.
    pub(super) failures: Vec<ProbeFailure>,
    /// On-demand fetches waiting for the prober.
    pending: Vec<u64>,
    /// Their answers.
    answers: BTreeMap<u64, Result<serde_json::Value, String>>,
    next_id: u64,
}

/// The world's end of the prober.
#[derive(Debug, Clone, Default)]
pub(super) struct Prober {
    pub(super) log: Shared<ProbeLog>,
    pub(super) wake: Arc<Notify>,
}

impl Prober {
    /// The prober's task: runs forever on the `aux` host.
    pub(super) async fn run(
        self,
        every: Option<Duration>,
        connector: TurmoilConnector,
        url: String,
    ) {
        let mut next = every.map(|e| tokio::time::Instant::now() + e);
        loop {
            match next {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, self.wake.notified()).await;
                }
                None => self.wake.notified().await,
            }
            let pending = std::mem::take(&mut lock(&self.log).pending);
            for id in pending {
                let answer = fetch_state(&connector, &url).await;
                lock(&self.log).answers.insert(id, answer);
            }
            if let (Some(at), Some(every)) = (next, every) {
                if tokio::time::Instant::now() >= at {
                    let started = turmoil::sim_elapsed().unwrap_or_default();
                    if let Err(error) = fetch_state(&connector, &url).await {
                        let ended = turmoil::sim_elapsed().unwrap_or_default();
                        lock(&self.log).failures.push(ProbeFailure {
                            started,
                            ended,
                            error,
                        });
                    }
                    next = Some(tokio::time::Instant::now() + every);
                }
            }
        }
    }

    /// Periodic probes that failed since the last call.
    pub(super) fn take_failures(&self) -> Vec<ProbeFailure> {
        let mut log = lock(&self.log);
        if log.failures.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut log.failures)
        }
    }
}

async fn fetch_state(connector: &TurmoilConnector, url: &str) -> Result<serde_json::Value, String> {
    let req = request(Method::GET, url, http::HeaderMap::new(), Bytes::new())
        .map_err(|e| e.to_string())?;
    let exchange = Exchange {
        timeout: Duration::from_secs(20),
        limit_bytes: 1024 * 1024,
    };
    let resp = send(connector, req, &exchange)
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("status {}", resp.status()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(resp.body()).map_err(|e| format!("not JSON: {e}"))?;
    for key in [
        "syncing",
        "miner_released",
        "workers_rejected",
        "sync",
        "badges",
    ] {
        if value.get(key).is_none() {
            return Err(format!("the reply lacks `{key}`"));
        }
    }
    Ok(value)
}

impl World {
    /// `GET /api/state` over the simulated network (from the `aux` host), parsed as JSON.
    pub fn fetch_state_json(&mut self) -> Result<serde_json::Value, Failure> {
        let id = {
            let mut log = lock(&self.prober.log);
            log.next_id += 1;
            let id = log.next_id;
            log.pending.push(id);
            id
        };
        self.prober.wake.notify_one();
        let limit = self.elapsed() + FETCH_LIMIT;
        loop {
            let answer = lock(&self.prober.log).answers.remove(&id);
            if let Some(answer) = answer {
                let now = self.elapsed();
                return answer.map_err(|e| {
                    self.failure(
                        now,
                        Invariant::ApiStateAnswers,
                        format!("GET /api/state failed: {e}"),
                    )
                });
            }
            if self.elapsed() >= limit {
                let now = self.elapsed();
                return Err(self.failure(
                    now,
                    Invariant::ApiStateAnswers,
                    format!(
                        "GET /api/state got no answer within {} s",
                        FETCH_LIMIT.as_secs()
                    ),
                ));
            }
            self.step()?;
        }
    }
}
