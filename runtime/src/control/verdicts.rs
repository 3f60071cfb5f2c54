//! Container health verdicts (`pithead status`): one row per expected service, and whether the
//! stack needs attention.
//!
//! Pure: container states and what the runtime knows (a node down, the sync hold) in, lines and
//! an exit decision out. A stopped miner is usually the runtime's own doing (workers rejected
//! while a node is down, or held until the chains sync), so it is reported as likely
//! intentional rather than as a fault; a missing one is always a fault.
//!
//! The runtime applies the same rules every cycle and publishes the rows in `/api/state`
//! (`services`), so `pithead status` and the dashboard never disagree.

use serde::Serialize;

/// The services the runtime stops on purpose.
pub const MINERS: &[&str] = &["p2pool", "xmrig-proxy"];

/// The node services whose failure explains a stopped miner.
pub const NODES: &[&str] = &["monerod", "tari"];

/// The shipped compose file's services, in its order (`STACK_SERVICES`' default; a tier-1 test
/// pins it to `deploy/compose.yaml`).
pub const STACK_SERVICES: &[&str] = &[
    "tor",
    "monerod",
    "tari",
    "p2pool",
    "xmrig-proxy",
    "dashboard",
    "docker-proxy",
    "docker-control",
    "caddy",
];

/// The compose profile each local node needs (`local_node` ⇒ monerod, `local_tari` ⇒ tari).
pub const NODE_PROFILES: &[(&str, &str)] = &[("monerod", "local_node"), ("tari", "local_tari")];

/// The services expected to run: `services` without the local nodes whose profile is not in
/// `COMPOSE_PROFILES` (`profiles`), in the order given.
pub fn expected_services<S: AsRef<str>>(services: &[S], profiles: &[String]) -> Vec<String> {
    services
        .iter()
        .map(AsRef::as_ref)
        .filter(|name| {
            NODE_PROFILES
                .iter()
                .find(|(node, _)| node == name)
                .is_none_or(|(_, profile)| profiles.iter().any(|p| p == profile))
        })
        .map(str::to_owned)
        .collect()
}

/// `COMPOSE_PROFILES` (comma-separated, blanks ignored) as a list.
pub fn profiles(compose_profiles: &str) -> Vec<String> {
    compose_profiles
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

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

/// Every verdict word a row may carry ([`Verdict::verdict`]).
pub const VERDICT_WORDS: &[&str] = &[
    "ok",
    "starting",
    "unhealthy",
    "crash-loop",
    "intentional",
    "down",
    "missing",
];

/// One row (also `/api/state`'s `services`: `{name, state, verdict, line, problem}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The service.
    #[serde(rename = "name")]
    pub service: String,
    /// What the engine reports: `State.Status` (`running`, `exited`, ...) or `missing`.
    pub state: String,
    /// The verdict: `ok`, `starting`, `unhealthy`, `crash-loop`, `intentional`, `down` or
    /// `missing`.
    pub verdict: &'static str,
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
    let state = match observed {
        Observed::Missing => "missing",
        Observed::Present { status, .. } => status.as_str(),
    };
    let row = |verdict, line: String, problem| Verdict {
        service: service.to_owned(),
        state: state.to_owned(),
        verdict,
        line,
        problem,
    };
    let Observed::Present { status, health } = observed else {
        return row("missing", format!("✗ {service} missing"), true);
    };
    if MINERS.contains(&service) && stopped(status) && (ctx.node_down || ctx.sync_hold) {
        let why = if ctx.node_down {
            "a node is down, so workers were rejected to fail over to their backup pools"
        } else {
            "held until the required chains finish syncing"
        };
        return row(
            "intentional",
            format!("⚠ {service} {status} — likely intentional: {why}"),
            false,
        );
    }
    match (status.as_str(), health.as_deref()) {
        ("running", None | Some("healthy")) => row("ok", format!("✓ {service} running"), false),
        ("running", Some("starting")) => row(
            "starting",
            format!("… {service} starting (health check pending)"),
            false,
        ),
        ("running", Some(_)) => row(
            "unhealthy",
            format!("⚠ {service} running but UNHEALTHY"),
            true,
        ),
        ("restarting", _) => row(
            "crash-loop",
            format!("✗ {service} restarting (possible crash loop — check logs)"),
            true,
        ),
        (other, _) => row("down", format!("✗ {service} {other}"), true),
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
    fn the_local_nodes_are_expected_only_under_their_profile() {
        let all = expected_services(STACK_SERVICES, &profiles("local_node, local_tari"));
        assert_eq!(all, STACK_SERVICES);
        let remote = expected_services(STACK_SERVICES, &profiles("local_tari"));
        assert!(!remote.contains(&"monerod".to_owned()), "{remote:?}");
        assert!(remote.contains(&"tari".to_owned()), "{remote:?}");
        let none = expected_services(STACK_SERVICES, &profiles(""));
        assert_eq!(none.len(), STACK_SERVICES.len() - 2);
        assert_eq!(none[0], "tor");
    }

    #[test]
    fn each_row_names_its_state_and_verdict() {
        let v = verdict("monerod", &Observed::Missing, StackContext::default());
        assert_eq!((v.state.as_str(), v.verdict), ("missing", "missing"));
        let held = StackContext {
            node_down: false,
            sync_hold: true,
        };
        let v = verdict("p2pool", &present("exited", None), held);
        assert_eq!((v.state.as_str(), v.verdict), ("exited", "intentional"));
        let v = verdict("tor", &present("restarting", None), held);
        assert_eq!((v.state.as_str(), v.verdict), ("restarting", "crash-loop"));
        assert!(VERDICT_WORDS.contains(&v.verdict));
        let json = serde_json::to_value(&v).expect("a row serializes");
        assert_eq!(json["name"], "tor");
        assert_eq!(json["problem"], true);
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
