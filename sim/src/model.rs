//! The world's model of what the runtime *should* see: per node, whether it is reachable from the
//! runtime's host, derived from the fake's mode and the links the world cut or held.
//!
//! The model is three-valued: a fake answering slowly, close to the runtime's RPC deadline, may
//! or may not make it in time depending on network latency, so it is [`Reach::Unknown`], and the
//! invariants accept either reading of it.

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;

/// Reachability of one node from the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every observation in this state succeeds.
    Reachable,
    /// Every observation in this state fails.
    Unreachable,
    /// Observations may go either way (a reply close to the deadline).
    Unknown,
}

impl Reach {
    /// Lower-case name for traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reachable => "reachable",
            Self::Unreachable => "unreachable",
            Self::Unknown => "unknown",
        }
    }

    /// Could an observation in this state fail?
    pub fn may_fail(self) -> bool {
        self != Self::Reachable
    }

    /// Could an observation in this state succeed?
    pub fn may_succeed(self) -> bool {
        self != Self::Unreachable
    }
}

/// The state of the link between the runtime's host and another host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    /// Messages flow.
    #[default]
    Up,
    /// Messages are dropped (`partition`).
    Partitioned,
    /// Messages are queued until released (`hold`).
    Held,
}

impl Link {
    /// Lower-case name for traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Partitioned => "partitioned",
            Self::Held => "held",
        }
    }
}

/// How close to the deadline a slow reply becomes [`Reach::Unknown`].
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// The runtime's RPC timeout.
    pub timeout: Duration,
    /// Network time one exchange may add (a few ticks: every hop waits for the next step).
    pub margin: Duration,
}

impl Deadline {
    fn slow(self, secs: u64) -> Reach {
        let delay = Duration::from_secs(secs);
        if delay >= self.timeout {
            Reach::Unreachable
        } else if delay + self.margin < self.timeout {
            Reach::Reachable
        } else {
            Reach::Unknown
        }
    }
}

/// monerod as the runtime sees it. `busy` answers HTTP 200 but counts as no reading.
pub fn monero_reach(mode: &MoneroMode, link: Link, deadline: Deadline) -> Reach {
    if link != Link::Up {
        return Reach::Unreachable;
    }
    match mode {
        MoneroMode::Synced { .. } | MoneroMode::Syncing { .. } => Reach::Reachable,
        MoneroMode::Busy | MoneroMode::Down | MoneroMode::Garbage => Reach::Unreachable,
        MoneroMode::Slow { secs } => deadline.slow(*secs),
    }
}

/// The Tari node as the runtime sees it: starting, migrating and syncing all answer.
pub fn tari_reach(mode: &TariMode, link: Link, deadline: Deadline) -> Reach {
    if link != Link::Up {
        return Reach::Unreachable;
    }
    match mode {
        TariMode::Synced { .. }
        | TariMode::Syncing { .. }
        | TariMode::Starting
        | TariMode::Migrating => Reach::Reachable,
        TariMode::Down => Reach::Unreachable,
        TariMode::Slow { secs } => deadline.slow(*secs),
    }
}

/// Whether a monerod reading says "synced" (the gate's per-chain "done"), as a [`Reach`]:
/// `Reachable` = a reading certainly arrives and says done, `Unreachable` = no reading or not
/// done, `Unknown` = done if the (slow) reading makes it in time. `last_data` is the last
/// synced/syncing mode (what a slow fake answers with).
pub fn monero_done(mode: &MoneroMode, last_data: &MoneroMode, reach: Reach) -> Reach {
    let data = match mode {
        MoneroMode::Synced { .. } | MoneroMode::Syncing { .. } => mode,
        _ => last_data,
    };
    let done = match data {
        MoneroMode::Synced { .. } => true,
        // The fake answers `synchronized: false` while syncing: done only at a known target (a
        // target of 0 is a node with no peer yet, see `control::chain::monero_is_syncing`).
        MoneroMode::Syncing { height, target } => *target > 0 && height >= target,
        _ => false,
    };
    if done {
        reach
    } else {
        Reach::Unreachable
    }
}

/// Whether a Tari reading says "synced", as in [`monero_done`]. Starting and migrating are not.
pub fn tari_done(mode: &TariMode, last_data: &TariMode, reach: Reach) -> Reach {
    let data = match mode {
        TariMode::Down | TariMode::Slow { .. } => last_data,
        _ => mode,
    };
    let done = match data {
        TariMode::Synced { .. } => true,
        TariMode::Syncing { local, tip } => *tip > 0 && local >= tip,
        _ => false,
    };
    if done {
        reach
    } else {
        Reach::Unreachable
    }
}

/// A closed stretch of virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Start.
    pub from: Duration,
    /// End (the current time for a run still going on).
    pub to: Duration,
}

impl Run {
    /// Length of the run.
    pub fn len(self) -> Duration {
        self.to.saturating_sub(self.from)
    }
}

/// The history of one node's modelled reachability: every change, in order.
#[derive(Debug, Clone)]
pub struct ReachHistory {
    changes: Vec<(Duration, Reach)>,
}

impl ReachHistory {
    /// A history starting at time zero in `initial`.
    pub fn new(initial: Reach) -> Self {
        Self {
            changes: vec![(Duration::ZERO, initial)],
        }
    }

    /// Records the state at `at`; returns true when it changed.
    pub fn set(&mut self, at: Duration, reach: Reach) -> bool {
        if self.current() == reach {
            return false;
        }
        self.changes.push((at, reach));
        true
    }

    /// The state now.
    pub fn current(&self) -> Reach {
        self.changes.last().map_or(Reach::Unknown, |c| c.1)
    }

    /// When the current state began.
    pub fn since(&self) -> Duration {
        self.changes.last().map_or(Duration::ZERO, |c| c.0)
    }

    /// Every change, in order.
    pub fn changes(&self) -> &[(Duration, Reach)] {
        &self.changes
    }

    /// The maximal runs, up to `now` and not before `from`, where `holds` is true, with gaps
    /// shorter than `bridge` (where it is false) counted as part of the run: a sampling observer
    /// may miss a gap that short entirely.
    pub fn runs(
        &self,
        holds: impl Fn(Reach) -> bool,
        bridge: Duration,
        from: Duration,
        now: Duration,
    ) -> Vec<Run> {
        let mut raw: Vec<Run> = Vec::new();
        for (i, (start, reach)) in self.changes.iter().enumerate() {
            let end = self.changes.get(i + 1).map_or(now, |c| c.0).min(now);
            let start = (*start).max(from);
            if end <= start || !holds(*reach) {
                continue;
            }
            match raw.last_mut() {
                Some(last) if start.saturating_sub(last.to) < bridge || start == last.to => {
                    last.to = end;
                }
                _ => raw.push(Run {
                    from: start,
                    to: end,
                }),
            }
        }
        raw
    }

    /// True when `holds` was true without a break (no bridging) for at least `len` somewhere
    /// in `[from, now]`.
    pub fn held_for(
        &self,
        holds: impl Fn(Reach) -> bool,
        len: Duration,
        from: Duration,
        now: Duration,
    ) -> bool {
        self.runs(holds, Duration::ZERO, from, now)
            .iter()
            .any(|r| r.len() >= len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn slow_replies_near_the_deadline_are_unknown() {
        let d = Deadline {
            timeout: s(10),
            margin: s(3),
        };
        let up = Link::Up;
        assert_eq!(
            monero_reach(&MoneroMode::Slow { secs: 2 }, up, d),
            Reach::Reachable
        );
        assert_eq!(
            monero_reach(&MoneroMode::Slow { secs: 8 }, up, d),
            Reach::Unknown
        );
        assert_eq!(
            monero_reach(&MoneroMode::Slow { secs: 10 }, up, d),
            Reach::Unreachable
        );
        assert_eq!(monero_reach(&MoneroMode::Busy, up, d), Reach::Unreachable);
        let synced = MoneroMode::Synced { height: 1 };
        assert_eq!(monero_reach(&synced, Link::Held, d), Reach::Unreachable);
        assert_eq!(tari_reach(&TariMode::Migrating, up, d), Reach::Reachable);
        assert_eq!(tari_reach(&TariMode::Down, up, d), Reach::Unreachable);
    }

    #[test]
    fn short_gaps_are_bridged_and_long_ones_split_runs() {
        let mut h = ReachHistory::new(Reach::Reachable);
        h.set(s(100), Reach::Unreachable);
        h.set(s(150), Reach::Reachable);
        h.set(s(160), Reach::Unreachable); // 10 s gap: bridged with bridge 20 s
        h.set(s(220), Reach::Reachable);
        h.set(s(300), Reach::Unreachable); // 80 s gap: a new run
        let runs = h.runs(Reach::may_fail, s(20), Duration::ZERO, s(330));
        assert_eq!(
            runs,
            [
                Run {
                    from: s(100),
                    to: s(220)
                },
                Run {
                    from: s(300),
                    to: s(330)
                }
            ]
        );
        let strict = h.runs(Reach::may_fail, Duration::ZERO, Duration::ZERO, s(330));
        assert_eq!(strict.len(), 3);
        assert!(h.held_for(Reach::may_succeed, s(100), Duration::ZERO, s(330)));
        assert!(!h.held_for(Reach::may_succeed, s(100), s(10), s(330)));
        assert!(!h.set(s(400), Reach::Unreachable));
        assert_eq!(h.since(), s(300));
    }
}
