//! The invariant checker: properties of the whole system, checked after every simulation step
//! from what the world knows (the faults it applied, the docker fake's calls, the runtime's
//! published read model).
//!
//! The runtime samples its nodes once per `UPDATE_INTERVAL`, each read bounded by the RPC
//! timeout, and publishes its decisions at the end of a cycle (after its docker calls). So every
//! timing property is checked with a tolerance ([`Timing::lag`]): a node is "possibly down" for
//! the runtime when the model shows it possibly unreachable for `NODE_DOWN_AFTER_SEC − lag`,
//! gaps shorter than `lag` bridged (the runtime may miss them), and "certainly down" when it was
//! certainly unreachable for `NODE_DOWN_AFTER_SEC + 2 × lag` after having been certainly
//! reachable for `lag`. Safety checks use the first, liveness checks the second.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::failure::Invariant;
use crate::model::{Link, Reach, ReachHistory};
use crate::trace::format_time;

/// The runtime's thresholds and the world's timing, from which every tolerance derives.
#[derive(Debug, Clone)]
pub struct Timing {
    /// `UPDATE_INTERVAL`.
    pub update_interval: Duration,
    /// `RPC_TIMEOUT_SEC`.
    pub rpc_timeout: Duration,
    /// `NODE_DOWN_AFTER_SEC`.
    pub down_after: Duration,
    /// `NODE_RECOVERY_AFTER_SEC`.
    pub recovery_after: Duration,
    /// Network time an exchange may add (a few ticks).
    pub margin: Duration,
    /// Deadline of one docker call (a stop adds the engine's grace period to the RPC timeout).
    pub docker_timeout: Duration,
    /// Number of containers the runtime manages (each docker call may take a timeout).
    pub managed: u32,
}

impl Timing {
    /// Observation lag: one interval, one RPC timeout and the network margin.
    pub fn lag(&self) -> Duration {
        self.update_interval + self.rpc_timeout + self.margin
    }

    /// Extra delay a cycle may take when every docker call times out (a held docker link).
    pub fn docker_slack(&self) -> Duration {
        self.docker_timeout * self.managed
    }

    /// Longest a cycle can take: the reads, then every docker call timing out.
    pub fn cycle_max(&self) -> Duration {
        self.rpc_timeout + self.docker_slack() + self.margin
    }

    /// Longest the runtime may go without publishing a new cycle.
    pub fn stall_after(&self) -> Duration {
        self.update_interval.max(self.cycle_max()) + self.cycle_max() + self.margin
    }
}

/// One node as the checker tracks it.
#[derive(Debug, Clone)]
pub struct NodeTrack {
    /// `monero` or `tari` (the key in `/api/state` `nodes`).
    pub name: &'static str,
    /// Its outage rejects workers.
    pub required: bool,
    /// Modelled reachability over time.
    pub history: ReachHistory,
}

/// What the runtime last published, reduced to what the invariants need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeView {
    /// Cycles completed by this incarnation.
    pub count: u64,
    /// The release latch.
    pub released: bool,
    /// Workers rejected.
    pub rejected: bool,
    /// The gate holds.
    pub held: bool,
    /// Per node (`monero`, `tari`): counts as down.
    pub down: BTreeMap<String, bool>,
    /// Desired running state per managed container.
    pub desired: BTreeMap<String, bool>,
    /// Sync percent per chain.
    pub percent: BTreeMap<&'static str, u8>,
    /// Errors of the last cycle.
    pub errors: usize,
}

/// A docker call the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerCall {
    /// Virtual time of the answer.
    pub at: Duration,
    /// `start`, `stop`, `inspect`, …
    pub verb: String,
    /// Container name.
    pub container: String,
    /// HTTP status answered.
    pub status: u16,
}

impl DockerCall {
    /// The call changed (or confirmed) the container's state: 204 or 304.
    pub fn landed(&self) -> bool {
        matches!(self.status, 204 | 304)
    }
}

/// A violated invariant: which one and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// What was seen.
    pub message: String,
}

fn violation(invariant: Invariant, message: String) -> Violation {
    Violation { invariant, message }
}

/// Everything the checker remembers between steps.
#[derive(Debug, Clone)]
pub struct Checker {
    timing: Timing,
    gate_containers: Vec<String>,
    reject_container: String,
    /// The nodes, in a fixed order.
    pub nodes: Vec<NodeTrack>,
    /// The chains the gate waits for (monero, and Tari when required), as "done" histories
    /// (`Reachable` = a reading says synced).
    pub chains: Vec<NodeTrack>,
    /// The latch was seen released (published or persisted).
    pub released_ever: bool,
    incarnation_start: Duration,
    runtime_up: bool,
    view: Option<RuntimeView>,
    last_progress: Duration,
    docker_impaired: bool,
    docker_ok_since: Duration,
    docker_held_last: Option<Duration>,
    mismatch_since: BTreeMap<String, Duration>,
    /// Nodes the last incarnation counted as down when it stopped: the runtime persists that,
    /// so the next incarnation may start with them down until they recover for the window.
    restored_down: BTreeSet<&'static str>,
}

impl Checker {
    /// A checker for a runtime configured with these thresholds and containers.
    pub fn new(
        timing: Timing,
        gate_containers: Vec<String>,
        reject_container: String,
        nodes: Vec<NodeTrack>,
        chains: Vec<NodeTrack>,
    ) -> Self {
        Self {
            timing,
            gate_containers,
            reject_container,
            nodes,
            chains,
            released_ever: false,
            incarnation_start: Duration::ZERO,
            runtime_up: true,
            view: None,
            last_progress: Duration::ZERO,
            docker_impaired: false,
            docker_ok_since: Duration::ZERO,
            docker_held_last: None,
            mismatch_since: BTreeMap::new(),
            restored_down: BTreeSet::new(),
        }
    }

    /// The timing the checks use.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// The last view published by the current incarnation.
    pub fn view(&self) -> Option<&RuntimeView> {
        self.view.as_ref()
    }

    /// The runtime host stopped (crash).
    pub fn runtime_stopped(&mut self) {
        self.runtime_up = false;
        self.view = None;
        self.mismatch_since.clear();
    }

    /// The runtime host (re)started at `now`: a fresh process that knows only its snapshot.
    pub fn runtime_started(&mut self, now: Duration) {
        self.runtime_up = true;
        self.incarnation_start = now;
        self.last_progress = now;
        self.view = None;
        self.mismatch_since.clear();
    }

    /// The operator re-armed the gate (`pithead apply` of a new node endpoint): the latch may
    /// be released again, so the next release is judged as a first one.
    pub fn operator_rearmed(&mut self) {
        self.released_ever = false;
    }

    /// The nodes the restarted process reads as down from its snapshot (`monero_down` /
    /// `tari_down`): it may show them down from its first cycle, until they recover.
    pub fn restored_down(&mut self, names: impl IntoIterator<Item = &'static str>) {
        self.restored_down = names.into_iter().collect();
    }

    /// The state of the runtime↔docker path this step: the link, and whether refusals are
    /// pending (`refusing`).
    pub fn docker_health(&mut self, now: Duration, link: Link, refusing: bool) {
        if link == Link::Held {
            self.docker_held_last = Some(now);
        }
        let ok = link == Link::Up && !refusing;
        if ok && self.docker_impaired {
            self.docker_ok_since = now;
        }
        self.docker_impaired = !ok;
    }

    /// Lag plus the docker slack when the docker link was held within the last `window`.
    fn lag_at(&self, now: Duration, window: Duration) -> Duration {
        let held_recently = self
            .docker_held_last
            .is_some_and(|t| now.saturating_sub(t) <= window);
        self.timing.lag()
            + if held_recently {
                self.timing.docker_slack()
            } else {
                Duration::ZERO
            }
    }

    /// Could the runtime legitimately *decide*, at `now`, that `node` went down? (It was
    /// possibly unreachable, short gaps bridged, for the down window minus the lag, and that
    /// stretch ended no longer ago than one cycle.)
    fn possibly_went_down(&self, node: &NodeTrack, now: Duration) -> bool {
        let t = &self.timing;
        let window = t.down_after + t.lag() * 2 + t.docker_slack();
        let lag = self.lag_at(now, window);
        let slack = t.cycle_max() + t.margin;
        node.history
            .runs(Reach::may_fail, lag, self.incarnation_start, now)
            .iter()
            .any(|r| r.to + slack >= now && r.len() + lag >= t.down_after)
    }

    /// Could the runtime legitimately *still* count `node` as down at `now`? (It could have gone
    /// down at some point in this process's life and has not certainly recovered since: a
    /// down node stays down until it was reachable for the recovery window.)
    fn possibly_still_down(&self, node: &NodeTrack, now: Duration) -> bool {
        let t = &self.timing;
        let lag = t.lag() + t.docker_slack();
        let slack = t.cycle_max() + t.margin;
        node.history
            .runs(Reach::may_fail, lag, self.incarnation_start, now)
            .iter()
            .any(|r| {
                r.len() + lag >= t.down_after
                    && !node.history.held_for(
                        |reach| reach == Reach::Reachable,
                        t.recovery_after + lag + slack,
                        r.to,
                        now,
                    )
            })
    }

    /// Could the runtime legitimately count `node` as recovered at `now`?
    fn possibly_recovered(&self, node: &NodeTrack, now: Duration) -> bool {
        let t = &self.timing;
        let window = t.recovery_after + t.lag() * 2 + t.docker_slack();
        let lag = self.lag_at(now, window);
        let slack = t.cycle_max() + t.margin;
        node.history
            .runs(Reach::may_succeed, lag, self.incarnation_start, now)
            .iter()
            .any(|r| r.to + slack >= now && r.len() + lag >= t.recovery_after)
    }

    /// Must the runtime count `node` as down by now? (Certainly reachable for a lag since this
    /// incarnation started, then certainly unreachable for the down window plus two lags.)
    fn certainly_down(&self, node: &NodeTrack, now: Duration) -> bool {
        let t = &self.timing;
        if node.history.current() != Reach::Unreachable {
            return false;
        }
        let since = node.history.since().max(self.incarnation_start);
        let long_enough =
            now.saturating_sub(since) >= t.down_after + t.lag() * 2 + t.docker_slack() + t.margin;
        long_enough
            && node.history.held_for(
                |r| r == Reach::Reachable,
                t.lag(),
                self.incarnation_start,
                since,
            )
    }

    /// Must the runtime count `node` as recovered by now?
    fn certainly_recovered(&self, node: &NodeTrack, now: Duration) -> bool {
        let t = &self.timing;
        node.history.current() == Reach::Reachable
            && now.saturating_sub(node.history.since().max(self.incarnation_start))
                >= t.recovery_after + t.lag() * 2 + t.docker_slack() + t.margin
    }

    /// Could a cycle that ended by `now` have seen every gated chain synced?
    fn may_release(&self, now: Duration) -> Result<(), Violation> {
        let t = &self.timing;
        let window = t.cycle_max() + t.rpc_timeout + t.margin;
        for chain in &self.chains {
            let from = now.saturating_sub(window);
            let seen = !chain
                .history
                .runs(
                    Reach::may_succeed,
                    Duration::ZERO,
                    from,
                    now + Duration::from_nanos(1),
                )
                .is_empty()
                || chain.history.current().may_succeed() && chain.history.since() <= now;
            if !seen {
                return Err(violation(
                    Invariant::HoldUntilSynced,
                    format!(
                        "the miners were released at {} but {} was not synced (as a reading \
                         could show it) at any time in the {:?} before",
                        format_time(now),
                        chain.name,
                        window
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Must the runtime have released by `now`? (Every gated chain certainly synced for two
    /// lags and a cycle.)
    fn must_have_released(&self, now: Duration) -> Option<Duration> {
        let t = &self.timing;
        let need = t.lag() * 2 + t.cycle_max() + t.margin;
        let mut latest = self.incarnation_start;
        for chain in &self.chains {
            if chain.history.current() != Reach::Reachable {
                return None;
            }
            latest = latest.max(chain.history.since());
        }
        (now.saturating_sub(latest) >= need).then_some(latest)
    }

    /// Checks a newly published view (a cycle completed) at `now`.
    pub fn on_view(&mut self, now: Duration, view: RuntimeView) -> Result<(), Violation> {
        let previous = self.view.take();
        self.last_progress = now;
        let result = self.check_view(now, previous.as_ref(), &view);
        self.view = Some(view);
        result
    }

    fn check_view(
        &mut self,
        now: Duration,
        previous: Option<&RuntimeView>,
        view: &RuntimeView,
    ) -> Result<(), Violation> {
        if view.count == 0 {
            return Ok(());
        }
        if self.released_ever && !view.released {
            return Err(violation(
                Invariant::LatchNeverReverts,
                format!(
                    "miner_released is false in cycle {} although the latch was released before",
                    view.count
                ),
            ));
        }
        let newly = view.released && previous.is_none_or(|p| !p.released);
        if newly && !self.released_ever {
            self.may_release(now)?;
        }
        if !view.released {
            if let Some(since) = self.must_have_released(now) {
                return Err(violation(
                    Invariant::ReleaseWhenSynced,
                    format!(
                        "every gated chain has been synced since {} but the miners are still \
                         held at {}",
                        format_time(since),
                        format_time(now)
                    ),
                ));
            }
        }
        if view.released && view.held {
            return Err(violation(
                Invariant::LatchNeverReverts,
                "the gate holds the miners although miner_released is true".to_owned(),
            ));
        }
        self.released_ever |= view.released;

        let required_down = self
            .nodes
            .iter()
            .filter(|n| n.required)
            .any(|n| view.down.get(n.name).copied().unwrap_or(false));
        if view.rejected != required_down {
            return Err(violation(
                Invariant::RejectIffRequiredNodeDown,
                format!(
                    "workers_rejected is {} but the required nodes' down flags are {:?}",
                    view.rejected, view.down
                ),
            ));
        }

        for node in &self.nodes {
            let was = previous.and_then(|p| p.down.get(node.name).copied());
            let is = view.down.get(node.name).copied().unwrap_or(false);
            match (was, is) {
                (None, true) if self.restored_down.contains(node.name) => {}
                (Some(false) | None, true) if !self.possibly_went_down(node, now) => {
                    return Err(violation(
                        Invariant::DownOnlyAfterWindow,
                        format!(
                            "{} counted as down at {} but the model never shows it unreachable \
                             for NODE_DOWN_AFTER_SEC ({:?}) within tolerance {:?}; reachability \
                             since this start: {}",
                            node.name,
                            format_time(now),
                            self.timing.down_after,
                            self.timing.lag(),
                            describe(&node.history, self.incarnation_start)
                        ),
                    ));
                }
                (Some(true), false) if !self.possibly_recovered(node, now) => {
                    return Err(violation(
                        Invariant::RecoveredOnlyAfterWindow,
                        format!(
                            "{} counted as recovered at {} but the model never shows it reachable \
                             for NODE_RECOVERY_AFTER_SEC ({:?}) within tolerance {:?}; \
                             reachability since this start: {}",
                            node.name,
                            format_time(now),
                            self.timing.recovery_after,
                            self.timing.lag(),
                            describe(&node.history, self.incarnation_start)
                        ),
                    ));
                }
                _ => {}
            }
            if !is && self.certainly_down(node, now) {
                return Err(violation(
                    Invariant::OutageIsNoticed,
                    format!(
                        "{} has been unreachable since {} (after being reachable) but the \
                         runtime does not count it as down at {}",
                        node.name,
                        format_time(node.history.since()),
                        format_time(now)
                    ),
                ));
            }
            if is && !self.restored_down.contains(node.name) && self.certainly_recovered(node, now)
            {
                return Err(violation(
                    Invariant::RecoveryIsNoticed,
                    format!(
                        "{} has been reachable since {} but the runtime still counts it as \
                         down at {}",
                        node.name,
                        format_time(node.history.since()),
                        format_time(now)
                    ),
                ));
            }
        }
        let recovered: Vec<&'static str> = self
            .restored_down
            .iter()
            .copied()
            .filter(|name| !view.down.get(*name).copied().unwrap_or(false))
            .collect();
        for name in recovered {
            self.restored_down.remove(name);
        }
        Ok(())
    }

    /// Checks a docker call the fake answered. `persisted_released` reads the runtime's snapshot
    /// (only called for a start of a gate container before the latch was seen released).
    pub fn on_docker(
        &mut self,
        call: &DockerCall,
        persisted_released: impl FnOnce() -> bool,
    ) -> Result<(), Violation> {
        if !call.landed() {
            return Ok(());
        }
        let gate = self.gate_containers.contains(&call.container);
        if call.verb == "start" && gate && !self.released_ever {
            self.may_release(call.at)?;
            if persisted_released() {
                self.released_ever = true;
            } else {
                return Err(violation(
                    Invariant::HoldUntilSynced,
                    format!(
                        "{} was started at {} while the sync gate holds (the latch is not \
                         released, not even in the snapshot)",
                        call.container,
                        format_time(call.at)
                    ),
                ));
            }
        }
        if call.verb == "stop" && self.released_ever && gate {
            if call.container != self.reject_container {
                return Err(violation(
                    Invariant::LatchNeverReverts,
                    format!(
                        "gate container {} was stopped at {} after the release",
                        call.container,
                        format_time(call.at)
                    ),
                ));
            }
            if self.runtime_up {
                let required: Vec<&NodeTrack> = self.nodes.iter().filter(|n| n.required).collect();
                if !required.iter().any(|n| {
                    self.restored_down.contains(n.name) || self.possibly_still_down(n, call.at)
                }) {
                    return Err(violation(
                        Invariant::RejectOnlyWhenRequiredNodeDown,
                        format!(
                            "{} was stopped at {} but no required node was unreachable for \
                             NODE_DOWN_AFTER_SEC ({:?}) within tolerance {:?}",
                            call.container,
                            format_time(call.at),
                            self.timing.down_after,
                            self.timing.lag()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Per-step liveness checks: the cycle keeps running and owed docker calls land.
    /// `running` tells whether the docker fake runs a container.
    pub fn on_step(
        &mut self,
        now: Duration,
        running: impl Fn(&str) -> Option<bool>,
    ) -> Result<(), Violation> {
        if !self.runtime_up {
            return Ok(());
        }
        let t = &self.timing;
        let stall_after = t.stall_after() + self.lag_at(now, t.stall_after()) - t.lag();
        if now.saturating_sub(self.last_progress) > stall_after {
            return Err(violation(
                Invariant::CycleKeepsRunning,
                format!(
                    "no cycle completed since {} (now {}, limit {:?})",
                    format_time(self.last_progress),
                    format_time(now),
                    stall_after
                ),
            ));
        }
        let Some(view) = &self.view else {
            return Ok(());
        };
        if self.docker_impaired {
            return Ok(());
        }
        let deadline = t.update_interval * 2 + t.cycle_max() + t.rpc_timeout + t.margin;
        for (name, want_running) in &view.desired {
            let Some(actual) = running(name) else {
                continue;
            };
            if actual == *want_running {
                self.mismatch_since.remove(name);
                continue;
            }
            let since = *self.mismatch_since.entry(name.clone()).or_insert(now);
            let from = since.max(self.docker_ok_since);
            if now.saturating_sub(from) > deadline {
                return Err(violation(
                    Invariant::OwedDockerCallLands,
                    format!(
                        "{name} should be {} since {} and docker has been healthy since {}, \
                         but it is still {} at {}",
                        if *want_running { "running" } else { "stopped" },
                        format_time(since),
                        format_time(self.docker_ok_since),
                        if actual { "running" } else { "stopped" },
                        format_time(now)
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn describe(history: &ReachHistory, from: Duration) -> String {
    let mut out = Vec::new();
    for (at, reach) in history.changes() {
        if *at + Duration::from_secs(3600) < from {
            continue;
        }
        out.push(format!("{} {}", format_time(*at), reach.name()));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn timing() -> Timing {
        Timing {
            update_interval: s(30),
            rpc_timeout: s(10),
            down_after: s(90),
            recovery_after: s(60),
            margin: s(5),
            docker_timeout: s(20),
            managed: 2,
        }
    }

    fn checker(history: ReachHistory) -> Checker {
        Checker::new(
            timing(),
            vec!["p2pool".into(), "xmrig-proxy".into()],
            "xmrig-proxy".into(),
            vec![NodeTrack {
                name: "monero",
                required: true,
                history,
            }],
            vec![NodeTrack {
                name: "monero",
                required: true,
                history: ReachHistory::new(Reach::Reachable),
            }],
        )
    }

    fn view(count: u64, down: bool) -> RuntimeView {
        RuntimeView {
            count,
            released: true,
            rejected: down,
            down: [("monero".to_owned(), down)].into_iter().collect(),
            ..RuntimeView::default()
        }
    }

    #[test]
    fn an_early_reject_is_caught_and_a_timely_one_passes() {
        let mut h = ReachHistory::new(Reach::Reachable);
        h.set(s(1000), Reach::Unreachable);
        let mut c = checker(h.clone());
        c.on_view(s(990), view(1, false)).unwrap();
        let err = c.on_view(s(1020), view(2, true)).unwrap_err();
        assert_eq!(err.invariant, Invariant::DownOnlyAfterWindow);

        let mut c = checker(h);
        c.on_view(s(990), view(1, false)).unwrap();
        c.on_view(s(1095), view(2, true)).unwrap();
    }

    #[test]
    fn a_missed_outage_and_a_missed_recovery_are_caught() {
        let mut h = ReachHistory::new(Reach::Reachable);
        h.set(s(1000), Reach::Unreachable);
        let mut c = checker(h.clone());
        c.on_view(s(1100), view(1, false)).unwrap();
        let err = c.on_view(s(1300), view(2, false)).unwrap_err();
        assert_eq!(err.invariant, Invariant::OutageIsNoticed);

        h.set(s(2000), Reach::Reachable);
        let mut c = checker(h);
        c.on_view(s(1300), view(1, true)).unwrap();
        c.on_view(s(2030), view(2, true)).unwrap();
        let err = c.on_view(s(2300), view(3, true)).unwrap_err();
        assert_eq!(err.invariant, Invariant::RecoveryIsNoticed);
    }

    #[test]
    fn the_latch_and_the_gate_are_guarded() {
        let mut c = checker(ReachHistory::new(Reach::Reachable));
        let start = DockerCall {
            at: s(5),
            verb: "start".into(),
            container: "p2pool".into(),
            status: 204,
        };
        let err = c.on_docker(&start, || false).unwrap_err();
        assert_eq!(err.invariant, Invariant::HoldUntilSynced);
        c.on_docker(&start, || true).unwrap();
        assert!(c.released_ever);
        let stop = DockerCall {
            verb: "stop".into(),
            ..start
        };
        assert_eq!(
            c.on_docker(&stop, || true).unwrap_err().invariant,
            Invariant::LatchNeverReverts
        );
        let mut reverted = view(3, false);
        reverted.released = false;
        assert_eq!(
            c.on_view(s(6), reverted).unwrap_err().invariant,
            Invariant::LatchNeverReverts
        );
    }

    #[test]
    fn owed_docker_calls_must_land_once_docker_is_healthy() {
        let mut c = checker(ReachHistory::new(Reach::Reachable));
        let mut v = view(1, false);
        v.desired.insert("p2pool".into(), true);
        c.on_view(s(10), v).unwrap();
        c.docker_health(s(10), Link::Partitioned, false);
        c.on_step(s(11), |_| Some(false)).unwrap();
        c.on_step(s(500), |_| Some(false)).unwrap_err(); // stalled: no cycle since 10 s
        c.on_view(s(500), {
            let mut v = view(2, false);
            v.desired.insert("p2pool".into(), true);
            v
        })
        .unwrap();
        c.on_step(s(501), |_| Some(false)).unwrap();
        c.docker_health(s(501), Link::Up, false);
        c.on_view(s(550), {
            let mut v = view(3, false);
            v.desired.insert("p2pool".into(), true);
            v
        })
        .unwrap();
        c.on_step(s(560), |_| Some(false)).unwrap();
        c.on_view(s(600), {
            let mut v = view(4, false);
            v.desired.insert("p2pool".into(), true);
            v
        })
        .unwrap();
        // The clock starts at the first mismatch seen while docker is healthy (560 s); the
        // deadline is two intervals, a whole cycle, a timeout and the margin (130 s).
        c.on_step(s(601), |_| Some(false)).unwrap();
        c.on_step(s(690), |_| Some(false)).unwrap();
        let err = c.on_step(s(700), |_| Some(false)).unwrap_err();
        assert_eq!(err.invariant, Invariant::OwedDockerCallLands);
    }
}
