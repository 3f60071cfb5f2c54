//! The readiness waiters of §8: poll a reading of the box until it holds or its deadline
//! passes. Polling is the signal here (the box offers no event stream we may rely on); the
//! interval is only the gap between readings.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use super::reads;
use super::ssh::{Remote, RemoteError};

/// The gap between two readings.
const POLL: Duration = Duration::from_secs(2);

/// A wait that ran out, with the last thing seen.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The deadline passed.
    #[error("{what}: not within {secs} s; last seen: {seen}")]
    Timeout {
        /// The awaited condition.
        what: String,
        /// The deadline.
        secs: u64,
        /// The last reading.
        seen: String,
    },
    /// Reading the box failed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// Reads until `probe` says `Ok`, at most `deadline`; `Err(seen)` from the probe is what the
/// timeout reports.
pub async fn until<F, Fut>(what: &str, deadline: Duration, mut probe: F) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<(), String>, RemoteError>>,
{
    let start = tokio::time::Instant::now();
    loop {
        let seen = match probe().await? {
            Ok(()) => return Ok(()),
            Err(seen) => seen,
        };
        if start.elapsed() + POLL > deadline {
            return Err(WaitError::Timeout {
                what: what.to_owned(),
                secs: deadline.as_secs(),
                seen,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The four waiters of §8, with their deadlines: status ok, monero synced, miner running,
/// pool ready.
pub const READINESS: [(Readiness, Duration); 4] = [
    (Readiness::StatusOk, Duration::from_secs(240)),
    (Readiness::MoneroSynced, Duration::from_secs(120)),
    (Readiness::MinerRunning, Duration::from_secs(180)),
    (Readiness::PoolReady, Duration::from_secs(180)),
];

/// One readiness condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// `pithead status` exits 0.
    StatusOk,
    /// `/api/state` reports the Monero chain synced.
    MoneroSynced,
    /// The sync gate released the miners and p2pool runs.
    MinerRunning,
    /// Workers are accepted and xmrig-proxy runs.
    PoolReady,
}

impl Readiness {
    /// The condition in words.
    pub fn describe(self) -> &'static str {
        match self {
            Readiness::StatusOk => "pithead status exits 0",
            Readiness::MoneroSynced => "monero synced",
            Readiness::MinerRunning => "miner running",
            Readiness::PoolReady => "pool ready",
        }
    }

    /// Whether it holds on the box now (`Err`: what was seen instead).
    pub async fn probe(self, remote: &Remote) -> Result<Result<(), String>, RemoteError> {
        match self {
            Readiness::StatusOk => {
                let status = reads::status(remote).await?;
                Ok(if status.ok() {
                    Ok(())
                } else {
                    Err(last_line(&status.stdout, &status.describe()))
                })
            }
            Readiness::MoneroSynced => {
                let state = reads::state(remote).await?;
                Ok(judge(state.as_ref(), |s| {
                    text_at(s, &["sync", "monero", "state"]) == Some("done")
                }))
            }
            Readiness::MinerRunning => {
                let state = reads::state(remote).await?;
                let status = reads::status(remote).await?;
                Ok(judge(state.as_ref(), |s| {
                    s.get("miner_released") == Some(&Value::Bool(true))
                        && status.stdout.contains("✓ p2pool running")
                }))
            }
            Readiness::PoolReady => {
                let state = reads::state(remote).await?;
                let status = reads::status(remote).await?;
                Ok(judge(state.as_ref(), |s| {
                    s.get("workers_rejected") == Some(&Value::Bool(false))
                        && status.stdout.contains("✓ xmrig-proxy running")
                }))
            }
        }
    }
}

/// Waits until `pithead status` exits `code` and its output contains every one of `lines`.
pub async fn status_says(
    remote: &Remote,
    code: i32,
    lines: &[&str],
    deadline: Duration,
) -> Result<(), WaitError> {
    let what = format!("pithead status exits {code} and prints {lines:?}");
    until(&what, deadline, || async {
        let status = reads::status(remote).await?;
        let missing: Vec<&&str> = lines
            .iter()
            .filter(|l| !status.stdout.contains(**l))
            .collect();
        Ok(if status.code == Some(code) && missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}; output:\n{}",
                status.describe(),
                status.stdout.trim_end()
            ))
        })
    })
    .await
}

fn judge(state: Option<&Value>, holds: impl FnOnce(&Value) -> bool) -> Result<(), String> {
    match state {
        None => Err("the runtime's /api/state does not answer".to_owned()),
        Some(state) if holds(state) => Ok(()),
        Some(state) => Err(summary(state)),
    }
}

fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
}

/// The flags a person reads first, for a timeout message.
fn summary(state: &Value) -> String {
    let flag = |key: &str| {
        state
            .get(key)
            .map_or_else(|| "absent".to_owned(), Value::to_string)
    };
    format!(
        "miner_released={} workers_rejected={} syncing={} sync.monero.state={}",
        flag("miner_released"),
        flag("workers_rejected"),
        flag("syncing"),
        text_at(state, &["sync", "monero", "state"]).unwrap_or("absent")
    )
}

fn last_line(stdout: &str, fallback: &str) -> String {
    stdout
        .lines()
        .last()
        .map_or_else(|| fallback.to_owned(), |l| format!("{fallback}: {l}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_state_is_judged_and_summarised() {
        let state = json!({"miner_released": false, "workers_rejected": false, "syncing": true,
            "sync": {"monero": {"state": "syncing"}}});
        let err = judge(Some(&state), |s| {
            text_at(s, &["sync", "monero", "state"]) == Some("done")
        })
        .unwrap_err();
        assert_eq!(
            err,
            "miner_released=false workers_rejected=false syncing=true sync.monero.state=syncing"
        );
        assert!(judge(None, |_| true)
            .unwrap_err()
            .contains("does not answer"));
        assert_eq!(judge(Some(&state), |_| true), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_gives_up_at_its_deadline_with_the_last_reading() {
        let mut readings = 0;
        let err = until("never", Duration::from_secs(10), || {
            readings += 1;
            let seen = format!("reading {readings}");
            async move { Ok(Err(seen)) }
        })
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "never: not within 10 s; last seen: reading 6"
        );
        let mut left = 2;
        until("soon", Duration::from_secs(10), || {
            left -= 1;
            let done = left == 0;
            async move { Ok(if done { Ok(()) } else { Err("no".into()) }) }
        })
        .await
        .unwrap();
    }
}
