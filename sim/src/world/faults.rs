//! Faults, one call each: links (partition, hold), the fakes' modes, docker refusals, hand-made
//! container changes, and the runtime's crash and restart. Each is recorded in the trace and
//! brings the reachability model up to date at the fault's time.

use std::time::Duration;

use pithead_fakes::docker::ContainerStatus;
use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;
use pithead_runtime::store::SnapshotStore;

use super::{lock, World, AUX, DOCKER, MONEROD, RUNTIME, TARI};
use crate::model::{monero_done, monero_reach, tari_done, tari_reach, Link};
use crate::trace::What;

/// A link fault between the runtime and one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkFault {
    Partition,
    Repair,
    Hold,
    Release,
}

impl LinkFault {
    fn verb(self) -> &'static str {
        match self {
            Self::Partition => "partition",
            Self::Repair => "repair",
            Self::Hold => "hold",
            Self::Release => "release",
        }
    }

    fn link(self) -> Link {
        match self {
            Self::Partition => Link::Partitioned,
            Self::Hold => Link::Held,
            Self::Repair | Self::Release => Link::Up,
        }
    }
}

impl World {
    /// Drops every message between hosts `a` and `b` (role or host names).
    pub fn partition(&mut self, a: &str, b: &str) {
        self.link_fault(a, b, LinkFault::Partition);
    }

    /// Undoes [`Self::partition`]. After a [`Self::hold`] use [`Self::release`]: a repair lets
    /// new messages flow but leaves the held ones queued.
    pub fn repair(&mut self, a: &str, b: &str) {
        self.link_fault(a, b, LinkFault::Repair);
    }

    /// Queues every message between `a` and `b` until [`Self::release`].
    pub fn hold(&mut self, a: &str, b: &str) {
        self.link_fault(a, b, LinkFault::Hold);
    }

    /// Delivers what [`Self::hold`] queued and lets messages flow again.
    pub fn release(&mut self, a: &str, b: &str) {
        self.link_fault(a, b, LinkFault::Release);
    }

    /// Sets monerod's mode (`down`, `busy`, `slow`, `garbage`, `syncing`, `synced`).
    pub fn set_monero(&mut self, mode: MoneroMode) {
        self.fault(MONEROD, mode_name_monero(&mode));
        self.monerod.set_mode(mode);
        self.refresh_model(self.elapsed());
    }

    /// Sets Tari's mode (`starting`, `migrating`, `syncing`, `synced`, `down`, `slow`); ignored
    /// when Tari is not part of the stack.
    pub fn set_tari(&mut self, mode: TariMode) {
        if let Some(fake) = &self.tari {
            let action = mode_name_tari(&mode);
            fake.set_mode(mode);
            self.fault(TARI, action);
            self.refresh_model(self.elapsed());
        }
    }

    /// The docker engine refuses the next `n` start/stop calls (HTTP 500).
    pub fn refuse_docker(&mut self, n: u32) {
        self.tap.refuse_next(n);
        self.fault(DOCKER, format!("refuse next {n}"));
        self.refresh_model(self.elapsed());
    }

    /// Someone (an operator, a restart policy) starts or stops a container behind the
    /// runtime's back.
    pub fn set_container(&mut self, name: &str, running: bool) {
        let status = if running {
            ContainerStatus::Running
        } else {
            ContainerStatus::Exited
        };
        self.docker.set_status(name, status);
        self.fault(
            DOCKER,
            format!(
                "{name} {} by hand",
                if running { "started" } else { "stopped" }
            ),
        );
    }

    /// Kills the runtime's process (turmoil `crash`): its tasks and sockets vanish; its data
    /// directory stays.
    pub fn crash_runtime(&mut self) {
        self.sim.crash(RUNTIME);
        self.runtime_up = false;
        *lock(&self.monitor.runtime_state) = None;
        self.checker.runtime_stopped();
        self.monitor.forget_view();
        let now = self.elapsed();
        self.monitor.last_disruption = now;
        self.trace.record(now, What::Crashed);
    }

    /// The operator's re-arm marker (`all` or `tari`, as `pithead apply` leaves it) in the
    /// runtime's data directory, taken at its next start: the latch may legitimately be held
    /// again after that restart.
    pub fn operator_rearm(&mut self, marker: &str) -> std::io::Result<()> {
        std::fs::write(self.data_dir.join("rearm-sync-gate"), marker)?;
        self.checker.operator_rearmed();
        let now = self.elapsed();
        self.trace
            .note(now, "operator", format!("re-arm marker {}", marker.trim()));
        Ok(())
    }

    /// Starts the runtime's process again (turmoil `bounce`): it reloads only its snapshot.
    pub fn restart_runtime(&mut self) {
        self.sim.bounce(RUNTIME);
        self.runtime_up = true;
        *lock(&self.monitor.runtime_state) = None;
        let now = self.elapsed();
        self.checker.runtime_started(now);
        let snapshot = SnapshotStore::new(&self.data_dir)
            .load()
            .ok()
            .flatten()
            .unwrap_or_default();
        self.checker.restored_down(
            [
                ("monero", snapshot.monero_down),
                ("tari", snapshot.tari_down),
            ]
            .into_iter()
            .filter_map(|(node, down)| down.then_some(node)),
        );
        self.monitor.forget_view();
        self.monitor.last_disruption = now;
        self.trace.record(now, What::Restarted);
    }

    fn fault(&mut self, target: &str, action: String) {
        let now = self.elapsed();
        self.trace.record(
            now,
            What::Fault {
                target: target.to_owned(),
                action,
            },
        );
    }

    fn link_fault(&mut self, a: &str, b: &str, fault: LinkFault) {
        let ha = self.hosts.resolve(a).to_owned();
        let hb = self.hosts.resolve(b).to_owned();
        // Every link of this world joins the runtime and one role.
        let other = if ha == RUNTIME {
            hb.as_str()
        } else if hb == RUNTIME {
            ha.as_str()
        } else {
            ""
        };
        let Some(role) = self.hosts.role_of(other) else {
            self.note(
                "link",
                &format!(
                    "{} {a}<->{b} ignored: not the runtime and a server of this world",
                    fault.verb()
                ),
            );
            return;
        };
        self.links.set(role, fault.link());
        if role == AUX {
            self.monitor.last_disruption = self.elapsed();
        }
        self.fault("link", format!("{} {ha}<->{hb}", fault.verb()));
        self.refresh_model(self.elapsed());
    }

    /// Brings the reachability model up to date with the fakes' modes and the links (called
    /// after every fault, so the model changes at the fault's time, and after every step, so
    /// direct changes to a fake are noticed too).
    pub(super) fn refresh_model(&mut self, now: Duration) {
        let monero_link = self.links.get(MONEROD);
        let mode = self.monerod.mode();
        if matches!(mode, MoneroMode::Synced { .. } | MoneroMode::Syncing { .. }) {
            self.monero_data = mode.clone();
        }
        let reach = monero_reach(&mode, monero_link, self.deadline);
        if self.checker.nodes[0].history.set(now, reach) {
            self.trace.record(
                now,
                What::Reach {
                    node: "monero",
                    reach,
                },
            );
        }
        let done = monero_done(&mode, &self.monero_data, reach);
        self.checker.chains[0].history.set(now, done);
        if let Some(fake) = &self.tari {
            let link = self.links.get(TARI);
            let mode = fake.mode();
            if !matches!(mode, TariMode::Down | TariMode::Slow { .. }) {
                self.tari_data = mode.clone();
            }
            let reach = tari_reach(&mode, link, self.deadline);
            if self.checker.nodes[1].history.set(now, reach) {
                self.trace.record(
                    now,
                    What::Reach {
                        node: "tari",
                        reach,
                    },
                );
            }
            let done = tari_done(&mode, &self.tari_data, reach);
            if let Some(chain) = self.checker.chains.get_mut(1) {
                chain.history.set(now, done);
            }
        }
        let docker_link = self.links.get(DOCKER);
        self.checker
            .docker_health(now, docker_link, self.tap.pending_refusals() > 0);
    }
}

/// monerod's mode as the trace shows it.
pub fn mode_name_monero(mode: &MoneroMode) -> String {
    match mode {
        MoneroMode::Synced { height } => format!("synced {height}"),
        MoneroMode::Syncing { height, target } => format!("syncing {height}/{target}"),
        MoneroMode::Busy => "busy".into(),
        MoneroMode::Down => "down".into(),
        MoneroMode::Garbage => "garbage".into(),
        MoneroMode::Slow { secs } => format!("slow {secs}s"),
    }
}

/// Tari's mode as the trace shows it.
pub fn mode_name_tari(mode: &TariMode) -> String {
    match mode {
        TariMode::Synced { height } => format!("synced {height}"),
        TariMode::Syncing { local, tip } => format!("syncing {local}/{tip}"),
        TariMode::Starting => "starting".into(),
        TariMode::Migrating => "migrating".into(),
        TariMode::Down => "down".into(),
        TariMode::Slow { secs } => format!("slow {secs}s"),
    }
}
