//! What can fail in a simulated world: the [`Invariant`]s, and the [`Failure`] report that
//! names one with where and when it broke and the trace up to there.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::trace::{format_time, Trace};

/// A property of the whole system the world checks (or a wait that timed out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// Nothing panicked (a host, the runtime, the simulation itself).
    NoPanics,
    /// Every host's software keeps running (none returned or failed).
    RuntimeKeepsRunning,
    /// The cycle keeps publishing.
    CycleKeepsRunning,
    /// `/api/state` answers over the simulated network.
    ApiStateAnswers,
    /// The miners stay held until every gated chain was seen synced.
    HoldUntilSynced,
    /// The miners are released once every gated chain has been synced long enough.
    ReleaseWhenSynced,
    /// The release latch never reverts (also across a crash).
    LatchNeverReverts,
    /// Workers are rejected exactly when a required node counts as down.
    RejectIffRequiredNodeDown,
    /// A reject stop lands only while a required node could count as down.
    RejectOnlyWhenRequiredNodeDown,
    /// A node counts as down only after the down window.
    DownOnlyAfterWindow,
    /// A node counts as recovered only after the recovery window.
    RecoveredOnlyAfterWindow,
    /// Every outage is noticed.
    OutageIsNoticed,
    /// Every recovery is noticed.
    RecoveryIsNoticed,
    /// Owed docker calls land once the engine is healthy.
    OwedDockerCallLands,
    /// With alerts configured, every node-down edge reaches each enabled sink exactly once,
    /// within the retry bound, and is never duplicated.
    AlertedOncePerSink,
    /// After a quiet period the box is settled: released, readmitted, everything running.
    SettlesWhenQuiet,
    /// A readiness wait timed out (not an invariant of the system: the test's expectation).
    Readiness,
}

impl Invariant {
    /// Every invariant, in declaration order.
    pub const ALL: [Self; 17] = [
        Self::NoPanics,
        Self::RuntimeKeepsRunning,
        Self::CycleKeepsRunning,
        Self::ApiStateAnswers,
        Self::HoldUntilSynced,
        Self::ReleaseWhenSynced,
        Self::LatchNeverReverts,
        Self::RejectIffRequiredNodeDown,
        Self::RejectOnlyWhenRequiredNodeDown,
        Self::DownOnlyAfterWindow,
        Self::RecoveredOnlyAfterWindow,
        Self::OutageIsNoticed,
        Self::RecoveryIsNoticed,
        Self::OwedDockerCallLands,
        Self::AlertedOncePerSink,
        Self::SettlesWhenQuiet,
        Self::Readiness,
    ];

    /// The short name reports and replays print (`latch-never-reverts`).
    pub fn name(self) -> &'static str {
        match self {
            Self::NoPanics => "no-panics",
            Self::RuntimeKeepsRunning => "runtime-keeps-running",
            Self::CycleKeepsRunning => "cycle-keeps-running",
            Self::ApiStateAnswers => "api-state-answers",
            Self::HoldUntilSynced => "hold-until-synced",
            Self::ReleaseWhenSynced => "release-when-synced",
            Self::LatchNeverReverts => "latch-never-reverts",
            Self::RejectIffRequiredNodeDown => "reject-iff-required-node-down",
            Self::RejectOnlyWhenRequiredNodeDown => "reject-only-when-required-node-down",
            Self::DownOnlyAfterWindow => "down-only-after-window",
            Self::RecoveredOnlyAfterWindow => "recovered-only-after-window",
            Self::OutageIsNoticed => "outage-is-noticed",
            Self::RecoveryIsNoticed => "recovery-is-noticed",
            Self::OwedDockerCallLands => "owed-docker-call-lands",
            Self::AlertedOncePerSink => "alerted-once-per-sink",
            Self::SettlesWhenQuiet => "settles-when-quiet",
            Self::Readiness => "readiness",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An invariant that failed (or a wait that timed out), with where and when, and the trace.
///
/// `Debug` prints the same as `Display` (what failed, then the trace's tail), so a test's
/// `unwrap()` shows a readable report.
#[derive(Clone)]
pub struct Failure {
    /// The world's seed.
    pub seed: u64,
    /// Simulation step at which it was detected.
    pub step: u64,
    /// Virtual time at which it was detected.
    pub at: Duration,
    /// The invariant ([`Invariant::Readiness`] for a timed-out wait).
    pub invariant: Invariant,
    /// What was seen.
    pub message: String,
    /// The trace up to the failure.
    pub trace: Trace,
    /// The command that replays this run, when known (set by the seed runner).
    pub replay: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invariant `{}` failed at step {} (virtual time {}), seed {}:",
            self.invariant,
            self.step,
            format_time(self.at),
            self.seed
        )?;
        writeln!(f, "  {}", self.message)?;
        writeln!(f, "last events of the trace:")?;
        write!(f, "{}", self.trace.tail(40))?;
        if let Some(replay) = &self.replay {
            writeln!(f, "replay: {replay}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case() {
        let names: std::collections::BTreeSet<_> =
            Invariant::ALL.iter().map(|i| i.name()).collect();
        assert_eq!(names.len(), Invariant::ALL.len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
        }
    }
}
