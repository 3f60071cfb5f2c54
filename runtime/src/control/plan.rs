//! The container plan: which managed container should run, and which start/stop calls are
//! still owed to reach that.
//!
//! A desired-state reconciler rather than fire-and-forget actions, so a refused docker call is
//! simply owed again next cycle (retry until it lands) and a landed one is never repeated.

use std::collections::BTreeMap;

use serde::Serialize;

/// Desired state of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    /// Should run.
    Running,
    /// Should be stopped.
    Stopped,
}

/// A docker call the cycle must make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verb", content = "container", rename_all = "lowercase")]
pub enum ContainerAction {
    /// `POST /containers/{name}/start`.
    Start(String),
    /// `POST /containers/{name}/stop`.
    Stop(String),
}

impl ContainerAction {
    /// The container the action is for.
    pub fn container(&self) -> &str {
        match self {
            Self::Start(name) | Self::Stop(name) => name,
        }
    }

    /// The state the action reaches.
    pub fn target(&self) -> Desired {
        match self {
            Self::Start(_) => Desired::Running,
            Self::Stop(_) => Desired::Stopped,
        }
    }
}

/// Desired versus applied state of the managed containers.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    gate_containers: Vec<String>,
    reject_container: String,
    desired: BTreeMap<String, Desired>,
    applied: BTreeMap<String, Desired>,
}

impl ContainerPlan {
    /// `gate_containers`: held while syncing; `reject_container`: stopped while workers are rejected.
    pub fn new(gate_containers: Vec<String>, reject_container: String) -> Self {
        Self {
            gate_containers,
            reject_container,
            desired: BTreeMap::new(),
            applied: BTreeMap::new(),
        }
    }

    /// Recomputes what should run from the gate and failover verdicts, and returns the calls
    /// still owed, in a stable order (stops before starts, then by name).
    pub fn step(&mut self, holding: bool, rejected: bool) -> Vec<ContainerAction> {
        for name in &self.gate_containers {
            let state = if holding {
                Desired::Stopped
            } else {
                Desired::Running
            };
            self.desired.insert(name.clone(), state);
        }
        let reject = &self.reject_container;
        if rejected {
            self.desired.insert(reject.clone(), Desired::Stopped);
        } else if !self.gate_containers.contains(reject) && self.desired.contains_key(reject) {
            // Managed only since a reject: readmit it.
            self.desired.insert(reject.clone(), Desired::Running);
        }
        self.owed()
    }

    /// The calls owed right now.
    pub fn owed(&self) -> Vec<ContainerAction> {
        let mut stops = Vec::new();
        let mut starts = Vec::new();
        for (name, desired) in &self.desired {
            if self.applied.get(name) == Some(desired) {
                continue;
            }
            match desired {
                Desired::Stopped => stops.push(ContainerAction::Stop(name.clone())),
                Desired::Running => starts.push(ContainerAction::Start(name.clone())),
            }
        }
        stops.extend(starts);
        stops
    }

    /// Records that an action landed (done or already in that state).
    pub fn confirm(&mut self, action: &ContainerAction) {
        self.applied
            .insert(action.container().to_owned(), action.target());
    }

    /// Records that a call for `container` failed: its outcome is unknown (a timeout may hide a
    /// call that landed), so the container's state is forgotten and the desired state is owed
    /// again, whichever it is now. Start and stop are idempotent, so re-asserting is safe.
    pub fn forget(&mut self, container: &str) {
        self.applied.remove(container);
    }

    /// Records a container's state as read back from the engine. A container someone started
    /// behind the runtime's back while it should be stopped becomes owed a stop again.
    pub fn observe(&mut self, container: &str, running: bool) {
        if !self.desired.contains_key(container) {
            return;
        }
        let seen = if running {
            Desired::Running
        } else {
            Desired::Stopped
        };
        self.applied.insert(container.to_owned(), seen);
    }

    /// Containers that should be stopped and were confirmed stopped: the ones worth reading
    /// back each cycle, since a miner running there would mine on an unsafe node.
    pub fn settled_stops(&self) -> Vec<String> {
        self.desired
            .iter()
            .filter(|(name, d)| **d == Desired::Stopped && self.applied.get(*name) == Some(d))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Desired state per managed container.
    pub fn desired(&self) -> &BTreeMap<String, Desired> {
        &self.desired
    }

    /// Last state the docker engine confirmed per container.
    pub fn applied(&self) -> &BTreeMap<String, Desired> {
        &self.applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ContainerPlan {
        ContainerPlan::new(
            vec!["p2pool".into(), "xmrig-proxy".into()],
            "xmrig-proxy".into(),
        )
    }

    fn confirm_all(plan: &mut ContainerPlan, owed: &[ContainerAction]) {
        for action in owed {
            plan.confirm(action);
        }
    }

    #[test]
    fn a_failed_call_whose_desire_flipped_back_is_reasserted() {
        // Released and running; a reject owes a stop; the stop times out (it may have landed);
        // the node recovers before it is confirmed. The container's state is unknown, so the
        // start is owed although the last confirmed state was "running".
        let mut p = plan();
        let owed = p.step(false, false);
        confirm_all(&mut p, &owed);
        assert!(p.step(false, false).is_empty());
        let owed = p.step(false, true);
        assert_eq!(owed, [ContainerAction::Stop("xmrig-proxy".into())]);
        p.forget("xmrig-proxy");
        assert_eq!(
            p.step(false, false),
            [ContainerAction::Start("xmrig-proxy".into())]
        );
    }

    #[test]
    fn without_forget_a_flipped_desire_owes_nothing() {
        // The reason `forget` exists: the plan alone cannot know a failed call's outcome.
        let mut p = plan();
        let owed = p.step(false, false);
        confirm_all(&mut p, &owed);
        p.step(false, true);
        assert!(p.step(false, false).is_empty());
    }

    #[test]
    fn only_containers_confirmed_stopped_are_read_back() {
        // Released, then a reject: xmrig-proxy's stop is owed, p2pool must keep running. Neither
        // is worth an inspect call yet: one is meant to run, the other's stop has not landed.
        let mut p = plan();
        let owed = p.step(false, false);
        confirm_all(&mut p, &owed);
        assert!(p.settled_stops().is_empty(), "running containers read back");
        let owed = p.step(false, true);
        assert!(p.settled_stops().is_empty(), "a stop still owed read back");
        confirm_all(&mut p, &owed);
        assert_eq!(p.settled_stops(), ["xmrig-proxy"]);
    }

    #[test]
    fn a_miner_read_back_running_while_held_is_owed_a_stop() {
        let mut p = plan();
        let owed = p.step(true, false);
        confirm_all(&mut p, &owed);
        assert_eq!(p.settled_stops(), ["p2pool", "xmrig-proxy"]);
        p.observe("p2pool", true);
        assert_eq!(p.owed(), [ContainerAction::Stop("p2pool".into())]);
        p.observe("not-managed", true);
        assert_eq!(p.owed().len(), 1);
    }
}
