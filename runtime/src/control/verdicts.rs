//! Container health verdicts (`pithead status`): one row per expected service, and whether the
//! stack needs attention.
//!
//! Pure: container states and what the runtime knows (a node down, the sync hold) in, lines and
//! an exit decision out. A stopped miner is usually the runtime's own doing (workers rejected
//! while a node is down, or held until the chains sync), so it is reported as likely
//! intentional rather than as a fault; a missing one is always a fault.

/// The services the runtime stops on purpose.
pub const MINERS: &[&str] = &["p2pool", "xmrig-proxy"];

/// The node services whose failure explains a stopped miner.
pub const NODES: &[&str] = &["monerod", "tari"];

/// One expected service as the docker engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// No such container.
    Missing,
    /// The container exists.
    Present {
        /// `State.Status`: created, running, paused, restarting, removing, exited, dead.
        status: String,
        /// `State.Health.Status` when the container has a health check.
        health: Option<String>,
    },
}

/// Why a stopped miner is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackContext {
    /// A node is down (the runtime rejected workers, or a node container is not healthy).
    pub node_down: bool,
    /// The sync hold is on (the miners wait for the chains).
    pub sync_hold: bool,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The service.
    pub service: String,
    /// The printed line, e.g. `✓ monerod running`.
    pub line: String,
    /// Whether it counts toward "need attention".
    pub problem: bool,
}

/// Every row plus the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One per expected service, in the order given.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// Rows that are problems.
    pub fn problems(&self) -> usize {
        self.verdicts.iter().filter(|v| v.problem).count()
    }

    /// `All expected services are up.` or `N service(s) need attention`.
    pub fn summary(&self) -> String {
        match self.problems() {
            0 => "All expected services are up.".into(),
            n => format!("{n} service(s) need attention"),
        }
    }

    /// The exit code: 0 when nothing needs attention, else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.problems() > 0)
    }
}

/// Whether a node container's state means the node is down (not running, or running with a
/// health check that is not healthy).
pub fn node_is_down(observed: &Observed) -> bool {
    match observed {
        Observed::Missing => true,
        Observed::Present { status, health } => {
            status != "running" || health.as_deref().is_some_and(|h| h != "healthy")
        }
    }
}

fn stopped(status: &str) -> bool {
    matches!(status, "created" | "exited" | "stopped")
}

/// The verdict for one service.
pub fn verdict(service: &str, observed: &Observed, ctx: StackContext) -> Verdict {
    let row = |line: String, problem| Verdict {
        service: service.to_owned(),
        line,
        problem,
    };
    let Observed::Present { status, health } = observed else {
        return row(format!("✗ {service} missing"), true);
    };
    if MINERS.contains(&service) && stopped(status) && (ctx.node_down || ctx.sync_hold) {
        let why = if ctx.node_down {
            "a node is down, so workers were rejected to fail over to their backup pools"
        } else {
            "held until the required chains finish syncing"
        };
        return row(
            format!("⚠ {service} {status} — likely intentional: {why}"),
            false,
        );
    }
    match (status.as_str(), health.as_deref()) {
        ("running", None | Some("healthy")) => row(format!("✓ {service} running"), false),
        ("running", Some("starting")) => row(
            format!("… {service} starting (health check pending)"),
            false,
        ),
        ("running", Some(_)) => row(format!("⚠ {service} running but UNHEALTHY"), true),
        ("restarting", _) => row(
            format!("✗ {service} restarting (possible crash loop — check logs)"),
            true,
        ),
        (other, _) => row(format!("✗ {service} {other}"), true),
    }
}

/// The report for `services` (expected service, observed state), in order. A node container
/// that is down counts as a node down for the miners' rows, whatever `ctx` says.
pub fn verdicts(services: &[(String, Observed)], ctx: StackContext) -> Report {
    let node_down = ctx.node_down
        || services
            .iter()
            .any(|(name, o)| NODES.contains(&name.as_str()) && node_is_down(o));
    let ctx = StackContext { node_down, ..ctx };
    Report {
        verdicts: services
            .iter()
            .map(|(name, observed)| verdict(name, observed, ctx))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(status: &str, health: Option<&str>) -> Observed {
        Observed::Present {
            status: status.into(),
            health: health.map(Into::into),
        }
    }

    #[test]
    fn each_state_has_its_line_and_weight() {
        let calm = StackContext::default();
        let cases = [
            (present("running", None), "✓ monerod running", false),
            (
                present("running", Some("healthy")),
                "✓ monerod running",
                false,
            ),
            (
                present("running", Some("starting")),
                "… monerod starting (health check pending)",
                false,
            ),
            (
                present("running", Some("unhealthy")),
                "⚠ monerod running but UNHEALTHY",
                true,
            ),
            (
                present("restarting", None),
                "✗ monerod restarting (possible crash loop — check logs)",
                true,
            ),
            (present("exited", None), "✗ monerod exited", true),
            (present("paused", None), "✗ monerod paused", true),
            (Observed::Missing, "✗ monerod missing", true),
        ];
        for (observed, line, problem) in cases {
            let v = verdict("monerod", &observed, calm);
            assert_eq!(
                (v.line.as_str(), v.problem),
                (line, problem),
                "{observed:?}"
            );
        }
    }

    #[test]
    fn a_stopped_miner_is_intentional_only_while_a_node_is_down_or_the_hold_is_on() {
        let exited = present("exited", None);
        let down = StackContext {
            node_down: true,
            sync_hold: false,
        };
        let held = StackContext {
            node_down: false,
            sync_hold: true,
        };
        let v = verdict("xmrig-proxy", &exited, down);
        assert!(!v.problem);
        assert!(
            v.line
                .starts_with("⚠ xmrig-proxy exited — likely intentional: a node is down"),
            "{}",
            v.line
        );
        let v = verdict("p2pool", &present("created", None), held);
        assert!(!v.problem);
        assert!(
            v.line
                .starts_with("⚠ p2pool created — likely intentional: held"),
            "{}",
            v.line
        );
        assert!(verdict("p2pool", &exited, StackContext::default()).problem);
        assert!(verdict("p2pool", &Observed::Missing, down).problem);
        // A node is not a miner: its own exit is never excused.
        assert!(verdict("monerod", &exited, down).problem);
    }

    #[test]
    fn a_stopped_node_container_excuses_the_stopped_proxy_and_the_summary_counts() {
        let services = vec![
            ("monerod".to_owned(), present("exited", None)),
            ("xmrig-proxy".to_owned(), present("exited", None)),
            ("p2pool".to_owned(), present("running", Some("healthy"))),
        ];
        let report = verdicts(&services, StackContext::default());
        assert_eq!(report.problems(), 1);
        assert_eq!(report.summary(), "1 service(s) need attention");
        assert_eq!(report.exit_code(), 1);
        let all_up = verdicts(&services[2..], StackContext::default());
        assert_eq!(all_up.summary(), "All expected services are up.");
        assert_eq!(all_up.exit_code(), 0);
    }
}
