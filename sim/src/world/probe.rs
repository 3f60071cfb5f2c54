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
                    if let Err(error) = probe_state(&connector, &url).await {
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

/// The keys every `/api/state` reply carries.
const KEYS: [&str; 5] = [
    "syncing",
    "miner_released",
    "workers_rejected",
    "sync",
    "badges",
];

/// What the periodic probe checks of a reply: JSON, with every one of [`KEYS`]. Their values
/// are skipped, not built: a reply with its chart is tens of kilobytes, and building it as a
/// `serde_json::Value` on every probe was ~2% of a swarm's CPU.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read for their presence only
struct Probed {
    syncing: serde::de::IgnoredAny,
    miner_released: serde::de::IgnoredAny,
    workers_rejected: serde::de::IgnoredAny,
    sync: serde::de::IgnoredAny,
    badges: serde::de::IgnoredAny,
}

/// The periodic probe: `GET /api/state` answers, as JSON with [`KEYS`].
async fn probe_state(connector: &TurmoilConnector, url: &str) -> Result<(), String> {
    check_probed(&get_state(connector, url).await?)
}

/// [`probe_state`]'s check of a reply's body.
fn check_probed(body: &[u8]) -> Result<(), String> {
    // serde's derive would also take an array of five values as the struct's fields.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object".to_owned());
    }
    serde_json::from_slice::<Probed>(body)
        .map(|_| ())
        .map_err(|e| {
            if e.is_data() {
                format!("the reply lacks a key: {e}")
            } else {
                format!("not JSON: {e}")
            }
        })
}

/// `GET /api/state`, parsed, with [`KEYS`] (for [`World::fetch_state_json`]).
async fn fetch_state(connector: &TurmoilConnector, url: &str) -> Result<serde_json::Value, String> {
    let body = get_state(connector, url).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
    for key in KEYS {
        if value.get(key).is_none() {
            return Err(format!("the reply lacks `{key}`"));
        }
    }
    Ok(value)
}

/// `GET /api/state`'s body, when it answers `2xx`.
async fn get_state(connector: &TurmoilConnector, url: &str) -> Result<Bytes, String> {
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
    Ok(resp.into_body())
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

#[cfg(test)]
mod tests {
    use super::check_probed;

    #[test]
    fn the_probe_wants_json_with_every_key_and_ignores_the_rest() {
        let full = r#"{"syncing":true,"miner_released":false,"workers_rejected":null,
            "sync":{"monero":{"percent":5}},"badges":[],"chart":{"points":[[1,2.5]]}}"#;
        assert_eq!(check_probed(full.as_bytes()), Ok(()));
        let lacking =
            r#"{"syncing":true,"miner_released":false,"workers_rejected":false,"sync":{}}"#;
        let err = check_probed(lacking.as_bytes()).unwrap_err();
        assert!(
            err.contains("lacks a key") && err.contains("badges"),
            "{err}"
        );
        let cut = &full.as_bytes()[..40];
        assert!(check_probed(cut).unwrap_err().starts_with("not JSON"));
        assert!(check_probed(b"[1,2,3,4,5]").is_err());
    }
}
