//! Section D on the simulation tier: the whole stack's containers in the docker fake, and
//! `pithead status` judged by the CLI's own functions (the compose file's expected services,
//! [`verdicts::verdicts`] over the engine's states and the runtime's `/api/state`, and
//! [`status::output`]'s lines and exit code), agreeing with the rows the running runtime serves
//! in `/api/state` (`services`) for the same states.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pithead_fakes::docker::{ContainerStatus, Health};
use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::status;
use pithead_runtime::control::verdicts::{self, Observed, Report, Verdict, STACK_SERVICES};
use pithead_sim::World;
use serde_json::Value;

use crate::driver::{CliOutcome, ContainerState, TierError};

/// The runtime's environment and the docker fake's containers (name, running) for a boot.
pub type BootSetup = (Vec<(&'static str, String)>, Vec<(String, bool)>);

/// What `pithead status` printed, and its rows.
#[derive(Debug, Clone)]
pub struct StatusRun {
    /// Every printed line.
    pub lines: Vec<String>,
    /// The exit code.
    pub code: u8,
    /// The verdict rows.
    pub report: Report,
}

/// The stack `pithead status` looks at, as a scenario set it.
#[derive(Debug, Clone)]
pub struct StatusScenario {
    /// The whole stack is in the docker fake (a section-D fact was given).
    pub whole_stack: bool,
    profiles: BTreeSet<String>,
    /// What the scenario set, per service.
    states: BTreeMap<String, ContainerState>,
    last: Option<StatusRun>,
}

impl Default for StatusScenario {
    fn default() -> Self {
        Self {
            whole_stack: false,
            profiles: ["local_node", "local_tari"].map(str::to_owned).into(),
            states: BTreeMap::new(),
            last: None,
        }
    }
}

fn status_word(status: ContainerStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}").to_lowercase())
}

fn health_word(state: ContainerState) -> Option<&'static str> {
    match state {
        ContainerState::Healthy => Some("healthy"),
        ContainerState::Starting => Some("starting"),
        ContainerState::Unhealthy => Some("unhealthy"),
        _ => None,
    }
}

impl StatusScenario {
    /// `COMPOSE_PROFILES` as the runtime and the CLI read it.
    pub fn profiles(&self) -> String {
        self.profiles.iter().cloned().collect::<Vec<_>>().join(",")
    }

    /// Whether `profile` is on.
    pub fn has_profile(&self, profile: &str) -> bool {
        self.profiles.contains(profile)
    }

    /// Leaves `profile` out of `COMPOSE_PROFILES` (before boot).
    pub fn profile_off(&mut self, profile: &str) {
        self.profiles.remove(profile);
    }

    /// The runtime's environment for the whole stack, and the containers it boots with (every
    /// service of the compose file, running).
    pub fn boot_setup(&self) -> BootSetup {
        let env = vec![
            ("STACK_SERVICES", STACK_SERVICES.join(",")),
            ("COMPOSE_PROFILES", self.profiles()),
        ];
        let containers = STACK_SERVICES
            .iter()
            .map(|name| ((*name).to_owned(), true))
            .collect();
        (env, containers)
    }

    /// Records `service` in `state` and, on a running world, sets it in the docker fake.
    pub fn set(&mut self, service: &str, state: ContainerState, world: Option<&World>) {
        self.states.insert(service.to_owned(), state);
        if let Some(world) = world {
            Self::push(world, service, state);
        }
    }

    /// Every service as set in `states`, in the docker fake of a world just built.
    pub fn apply(&self, world: &World) {
        for (service, state) in &self.states {
            Self::push(world, service, *state);
        }
    }

    fn push(world: &World, service: &str, state: ContainerState) {
        let docker = world.docker();
        let status = match state {
            ContainerState::Missing => {
                docker.remove(service);
                return;
            }
            ContainerState::Restarting => ContainerStatus::Restarting,
            ContainerState::Exited => ContainerStatus::Exited,
            _ => ContainerStatus::Running,
        };
        docker.set_status(service, status);
        let health = match state {
            ContainerState::Healthy => Some(Health::Healthy),
            ContainerState::Starting => Some(Health::Starting),
            ContainerState::Unhealthy => Some(Health::Unhealthy),
            _ => None,
        };
        docker.set_health(service, health);
    }

    /// The services `pithead status` expects: the compose file's, under the profiles.
    fn expected(&self) -> Result<Vec<String>, TierError> {
        let env = BTreeMap::from([("COMPOSE_PROFILES".to_owned(), self.profiles())]);
        compose_file::expected_services(COMPOSE_YAML, &compose_file::profiles(&env))
            .map_err(|e| TierError::Check(format!("the compose file: {e}")))
    }

    /// What the engine reports for `name` (its health is what the scenario set: the runtime
    /// never changes a health check).
    fn observed(&self, world: &World, name: &str) -> Observed {
        match world.docker().status(name) {
            None => Observed::Missing,
            Some(status) => Observed::Present {
                status: status_word(status),
                health: self
                    .states
                    .get(name)
                    .copied()
                    .and_then(health_word)
                    .map(str::to_owned),
            },
        }
    }

    /// `pithead status` now: the CLI's verdicts over the engine and the runtime's document.
    fn cli_status(&self, world: &World, api: &Value) -> Result<StatusRun, TierError> {
        let observed: Vec<(String, Observed)> = self
            .expected()?
            .into_iter()
            .map(|name| {
                let o = self.observed(world, &name);
                (name, o)
            })
            .collect();
        let report = verdicts::verdicts(&observed, status::context(Some(api)));
        let (lines, code) = status::output(&report, Some(api));
        Ok(StatusRun {
            lines,
            code,
            report,
        })
    }

    /// Runs `pithead status` once the runtime's served rows (`/api/state` `services`) agree with
    /// it, stepping the world at most `budget`: the CLI and the dashboard must never disagree
    /// for long (the runtime reads the containers once a cycle).
    pub fn run(&mut self, world: &mut World, budget: Duration) -> Result<(), TierError> {
        let start = world.elapsed();
        loop {
            let api = serde_json::to_value(world.state()).unwrap_or_default();
            let run = self.cli_status(world, &api)?;
            let served = served_rows(&api);
            if served == run.report.verdicts {
                let fetched = world
                    .fetch_state_json()
                    .map_err(|e| TierError::Check(format!("GET /api/state: {e}")))?;
                if served_rows(&fetched) != served {
                    return Err(TierError::Check(format!(
                        "the served /api/state's services differ from the runtime's memory: {:?}",
                        fetched.get("services")
                    )));
                }
                self.last = Some(run);
                return Ok(());
            }
            if world.elapsed() >= start + budget {
                return Err(TierError::Timeout {
                    what: "the runtime's services to agree with pithead status".to_owned(),
                    waited: budget,
                    at: world.elapsed(),
                    seen: format!(
                        "pithead status: {:?}; /api/state services: {:?}",
                        run.lines,
                        served.iter().map(|v| &v.line).collect::<Vec<_>>()
                    ),
                });
            }
            world
                .step()
                .map_err(|e| TierError::Check(format!("while running pithead status: {e}")))?;
        }
    }

    /// Then: what the last `pithead status` printed.
    pub fn expect(&self, outcome: &CliOutcome) -> Result<(), TierError> {
        let last = self
            .last
            .as_ref()
            .ok_or_else(|| TierError::Scenario("pithead status was not run".to_owned()))?;
        let row = |service: &str| {
            last.report
                .verdicts
                .iter()
                .find(|v| v.service == service)
                .ok_or_else(|| TierError::Check(format!("no row for {service}: {:?}", last.lines)))
        };
        let ok = match outcome {
            CliOutcome::EachRunning => {
                let expected = self.expected()?;
                last.report.verdicts.len() == expected.len()
                    && last
                        .report
                        .verdicts
                        .iter()
                        .all(|v| v.line == format!("✓ {} running", v.service))
            }
            CliOutcome::Prints(line) => last.lines.iter().any(|l| l.trim() == line),
            CliOutcome::Attention { service, needs } => row(service)?.problem == *needs,
            CliOutcome::NotExpected(service) => {
                last.report.verdicts.iter().all(|v| &v.service != service)
            }
            CliOutcome::Exits(code) => i32::from(last.code) == *code,
            CliOutcome::ReportedAs { service, verdict } => &row(service)?.state == verdict,
            other => {
                return Err(TierError::Scenario(format!(
                    "{other:?} is not about pithead status"
                )))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(TierError::Check(format!(
                "{outcome:?} does not hold; pithead status printed {:?} and exited {}",
                last.lines, last.code
            )))
        }
    }
}

/// `/api/state`'s `services` rows.
fn served_rows(api: &Value) -> Vec<Verdict> {
    api.get("services")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|row| {
                    Some(Verdict {
                        service: row.get("name")?.as_str()?.to_owned(),
                        state: row.get("state")?.as_str()?.to_owned(),
                        verdict: verdict_word(row.get("verdict")?.as_str()?),
                        line: row.get("line")?.as_str()?.to_owned(),
                        problem: row.get("problem")?.as_bool()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The static verdict word equal to `word` (an unknown word never compares equal).
fn verdict_word(word: &str) -> &'static str {
    verdicts::VERDICT_WORDS
        .iter()
        .find(|w| **w == word)
        .copied()
        .unwrap_or("?")
}
