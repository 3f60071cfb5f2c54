//! One live run's context and the matrix scenario: push a config, `pithead apply -y`, wait
//! for readiness, run the battery, and check that a second apply is a no-op.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::battery::{battery, second_apply_is_noop};
use super::matrix::{apply_overrides, Inputs, Row};
use super::reads;
use super::redact::Redactor;
use super::report::{write_artifacts, Check, Progress, ScenarioResult, SkipClass, Status};
use super::ssh::{Remote, Reply};
use super::wait;

/// How long one `pithead apply -y` may take (it may recreate every container).
const APPLY: Duration = Duration::from_secs(900);

/// Everything a scenario of a live run uses.
pub struct Live {
    /// The connection to the box.
    pub remote: Remote,
    /// Every printed or written text passes through it.
    pub redactor: Redactor,
    /// The progress display.
    pub progress: Progress,
    /// Where failure artifacts go.
    pub out: PathBuf,
    /// config.json as found on the box, byte for byte.
    pub baseline_text: String,
    /// The same, parsed.
    pub baseline: Value,
    /// The box's inputs for the matrix rows.
    pub inputs: Inputs,
    /// A scenario made to fail on purpose after its apply (to prove the rollback).
    pub inject_failure: Option<String>,
    /// The workers the box's miners must bring online (`--workers`; 0: not checked).
    pub workers: u32,
}

/// At least `want` workers are online in `/api/state` (`proxy_workers`).
pub fn workers_online(state: Option<&Value>, want: u32) -> Check {
    let online = state
        .and_then(|s| s.get("proxy_workers"))
        .and_then(Value::as_u64);
    Check {
        name: format!("at least {want} worker(s) online"),
        result: match online {
            Some(n) if n >= u64::from(want) => Ok(()),
            Some(n) => Err(format!("/api/state has proxy_workers {n}")),
            None => Err("/api/state has no proxy_workers".to_owned()),
        },
    }
}

impl Live {
    /// Shows the step a scenario is at.
    pub fn step(&self, scenario: &str, step: &str) {
        self.progress.step(scenario, step);
    }

    /// Writes `config` as the box's config.json (atomically, mode 600; the bytes travel on
    /// stdin).
    pub async fn push_config(&self, config: &Value) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(config)?;
        text.push('\n');
        self.remote.write("config.json", text.as_bytes()).await?;
        Ok(())
    }

    /// Writes config.json back exactly as it was found.
    pub async fn push_baseline(&self) -> anyhow::Result<()> {
        self.remote
            .write("config.json", self.baseline_text.as_bytes())
            .await?;
        Ok(())
    }

    /// `pithead apply -y`, which must succeed.
    pub async fn apply(&self) -> anyhow::Result<Reply> {
        Ok(self
            .remote
            .must_pithead("pithead apply -y", &["apply", "-y"], APPLY)
            .await?)
    }

    /// `pithead up`, which must succeed.
    pub async fn up(&self, scenario: &str) -> anyhow::Result<()> {
        self.step(scenario, "pithead up");
        self.remote
            .must_pithead("pithead up", &["up"], APPLY)
            .await?;
        Ok(())
    }

    /// Runs one scenario: times it, turns its checks into a result, and on failure collects
    /// the artifacts of §8 (redacted) under the output directory.
    pub async fn scenario<F, Fut>(&self, name: &str, body: F) -> ScenarioResult
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Vec<Check>>>,
    {
        let start = tokio::time::Instant::now();
        self.step(name, "starting");
        let mut result = match body().await {
            Ok(checks) => ScenarioResult::from_checks(name, checks, start.elapsed()),
            Err(e) => ScenarioResult {
                name: name.to_owned(),
                status: Status::Failed(format!("{e:#}")),
                checks: Vec::new(),
                duration: start.elapsed(),
            },
        };
        if result.failure().is_some() {
            self.step(name, "collecting artifacts");
            let files = reads::artifacts(&self.remote).await;
            let files: Vec<(&str, String)> = files.into_iter().collect();
            match write_artifacts(&self.out.join("artifacts"), name, &files, &self.redactor) {
                Ok(dir) => result.checks.push(Check {
                    name: format!("artifacts in {}", dir.display()),
                    result: Ok(()),
                }),
                Err(e) => result.checks.push(Check {
                    name: "writing the artifacts".to_owned(),
                    result: Err(e.to_string()),
                }),
            }
        }
        self.progress.finish_scenario(&result);
        result
    }

    /// A scenario that does not run here, with its class and reason.
    pub fn skipped(&self, name: &str, class: SkipClass, reason: String) -> ScenarioResult {
        let result = ScenarioResult {
            name: name.to_owned(),
            status: Status::Skipped { class, reason },
            checks: Vec::new(),
            duration: Duration::ZERO,
        };
        self.progress.finish_scenario(&result);
        result
    }

    /// One row of the matrix: baseline + overrides → config.json → `apply -y` → readiness →
    /// the battery → a second `apply -y` that must change nothing.
    pub async fn matrix_row(&self, row: &Row) -> anyhow::Result<Vec<Check>> {
        let config = apply_overrides(&self.baseline, row, &self.inputs)?;
        let secrets = reads::fingerprints(&self.remote).await?;
        self.step(&row.name, "pushing config.json");
        self.push_config(&config).await?;
        self.step(&row.name, "pithead apply -y");
        self.apply().await?;
        let mut checks = self.ready(&row.name).await;
        self.step(&row.name, "assertion battery");
        let facts = reads::facts(&self.remote).await?;
        checks.extend(battery(&facts));
        if self.workers > 0 {
            checks.push(workers_online(facts.state.as_ref(), self.workers));
        }
        self.step(&row.name, "second pithead apply -y");
        let second = self.apply().await?;
        checks.push(second_apply_is_noop(&second.stdout));
        checks.push(self.secrets_kept(&secrets).await?);
        if self.inject_failure.as_deref() == Some(row.name.as_str()) {
            checks.push(Check {
                name: "no failure was injected".to_owned(),
                result: Err("--inject-failure made this scenario fail on purpose".to_owned()),
            });
        }
        Ok(checks)
    }

    /// The readiness waiters of §8, one check each; the first that fails ends the wait.
    pub async fn ready(&self, scenario: &str) -> Vec<Check> {
        let mut checks = Vec::new();
        for (readiness, deadline) in wait::READINESS {
            self.step(scenario, readiness.describe());
            let result = wait::until(readiness.describe(), deadline, || {
                readiness.probe(&self.remote)
            })
            .await
            .map_err(|e| e.to_string());
            let failed = result.is_err();
            checks.push(Check {
                name: format!("ready: {}", readiness.describe()),
                result,
            });
            if failed {
                break;
            }
        }
        checks
    }

    /// The secret fingerprints now compared with `before`, as one check.
    pub async fn secrets_kept(
        &self,
        before: &std::collections::BTreeMap<String, String>,
    ) -> anyhow::Result<Check> {
        let now = reads::fingerprints(&self.remote).await?;
        let changed: Vec<&String> = before
            .iter()
            .filter(|(key, print)| now.get(*key) != Some(print))
            .map(|(key, _)| key)
            .collect();
        Ok(Check {
            name: "the secret fingerprints are unchanged".to_owned(),
            result: if changed.is_empty() && !before.is_empty() {
                Ok(())
            } else if before.is_empty() {
                Err("the box's .env holds no secret to compare".to_owned())
            } else {
                Err(format!("changed: {changed:?}"))
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_workers_check_reads_proxy_workers() {
        let state = json!({"proxy_workers": 3});
        assert_eq!(workers_online(Some(&state), 3).result, Ok(()));
        let err = workers_online(Some(&state), 4).result.unwrap_err();
        assert_eq!(err, "/api/state has proxy_workers 3");
        assert!(workers_online(None, 1).result.is_err());
    }
}
