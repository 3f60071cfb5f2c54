//! Rendering the `/api/state` document from one cycle's decisions. Pure: the same input gives
//! the same document.

use std::collections::BTreeMap;

use super::chart::Sample;
use super::document::{
    ApiState, Badge, BadgeVariant, CycleSection, MoneroSection, NodeSection, SyncSection,
    XvbSection,
};
use crate::control::{Desired, FailoverDecision, GateView};
use crate::observe::system::SystemReading;
use crate::observe::xmrig_proxy::ProxyWorker;

/// Inputs of one rendering.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The gate's verdict.
    pub gate: &'a GateView,
    /// The failover's verdict.
    pub failover: &'a FailoverDecision,
    /// monerod answered this cycle.
    pub monero_reachable: bool,
    /// monerod ever answered.
    pub monero_ever_up: bool,
    /// Tari is part of the stack.
    pub tari_enabled: bool,
    /// Tari answered this cycle.
    pub tari_reachable: bool,
    /// Tari ever answered.
    pub tari_ever_up: bool,
    /// The node is the box's own.
    pub monero_local: bool,
    /// `MONERO_PRUNE`.
    pub monero_prune: bool,
    /// monerod's `database_size` in bytes, when reported.
    pub monero_db_bytes: Option<u64>,
    /// Desired container states.
    pub containers: &'a BTreeMap<String, Desired>,
    /// The XvB engine's section, and whether the fleet's hashrate is too low for the tier.
    pub xvb: Option<(&'a XvbSection, bool)>,
    /// Cycle bookkeeping.
    pub cycle: CycleSection,
}

/// The dashboard's own inputs of one rendering: the host, xmrig-proxy's workers, the history.
/// Kept apart from [`RenderInput`] so a caller that has none of them passes the default.
#[derive(Debug, Clone)]
pub struct DashboardInput<'a> {
    /// The host's figures.
    pub system: SystemReading,
    /// xmrig-proxy's `/1/workers` rows (empty when it gave no reading).
    pub workers: &'a [ProxyWorker],
    /// The history database takes writes.
    pub db_healthy: bool,
}

impl Default for DashboardInput<'_> {
    fn default() -> Self {
        Self {
            system: SystemReading::default(),
            workers: &[],
            db_healthy: true,
        }
    }
}

/// Renders the read model without the dashboard's own inputs. Pure.
pub fn render(input: &RenderInput<'_>) -> ApiState {
    render_all(input, &DashboardInput::default())
}

/// The history row of a rendered document at `wall_ms`: the fleet's hashrate, attributed to
/// the pool it goes to now (XvB only while the engine switched there).
pub fn sample(state: &ApiState, wall_ms: u64) -> Sample {
    let to_xvb = state
        .xvb
        .as_ref()
        .is_some_and(|x| x.enabled && x.pool == "xvb");
    Sample {
        x: wall_ms,
        p2pool: if to_xvb { 0.0 } else { state.hashrate },
        xvb: if to_xvb { state.hashrate } else { 0.0 },
    }
}

/// Renders the read model. Pure: the same input gives the same JSON.
pub fn render_all(input: &RenderInput<'_>, dashboard: &DashboardInput<'_>) -> ApiState {
    let gate = input.gate;
    let syncing = gate.display_syncing;
    let mode = if !input.monero_local {
        "Unknown"
    } else if input.monero_prune {
        "Pruned"
    } else {
        "Full"
    };
    let mut nodes = BTreeMap::new();
    nodes.insert(
        "monero",
        NodeSection {
            reachable: input.monero_reachable,
            down: input.failover.monero_down,
            ever_up: input.monero_ever_up,
        },
    );
    if input.tari_enabled {
        nodes.insert(
            "tari",
            NodeSection {
                reachable: input.tari_reachable,
                down: input.failover.tari_down,
                ever_up: input.tari_ever_up,
            },
        );
    }
    let pool = match input.xvb {
        Some((section, _)) if section.enabled => section.pool,
        _ => "p2pool",
    };
    let workers = super::workers::workers(dashboard.workers, pool);
    ApiState {
        syncing,
        sync: SyncSection {
            monero: gate.monero,
            tari: gate.tari,
        },
        monero: MoneroSection {
            mode,
            db_size: input
                .monero_db_bytes
                .filter(|b| *b > 0)
                .map(format_gb)
                .unwrap_or_else(|| "—".to_owned()),
        },
        miner_released: gate.released,
        workers_rejected: input.failover.rejected,
        miner_held: gate.holding,
        nodes,
        containers: input.containers.clone(),
        badges: badges(input, &dashboard.system, syncing, mode),
        xvb: input.xvb.map(|(section, _)| section.clone()),
        cycle: input.cycle.clone(),
        // The cycle's container verdicts, added by the writer (`StateWriter::set_services`).
        services: Vec::new(),
        system: super::system::section(&dashboard.system),
        workers: workers.rows,
        workers_total: workers.total,
        proxy_workers: workers.online,
        hashrate: workers.hashrate,
        chart: super::document::ChartSection::default(),
        db_healthy: dashboard.db_healthy,
        // The alert sinks' state, added by the writer (`StateWriter::set_alerts`).
        alerts: super::document::AlertsSection::default(),
    }
}

fn format_gb(bytes: u64) -> String {
    // Binary gigabytes, labelled "GB" as operators know it (85 GiB = 91,268,055,040 bytes
    // reads "85.0 GB"). Display only: precision loss above 2^53 bytes is irrelevant.
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes as f64 / f64::from(1u32 << 30);
    format!("{gb:.1} GB")
}

fn badges(
    input: &RenderInput<'_>,
    system: &SystemReading,
    syncing: bool,
    mode: &str,
) -> Vec<Badge> {
    let gate = input.gate;
    let mut out = Vec::new();
    if syncing {
        out.push(Badge::new("Syncing...", BadgeVariant::Warn, None));
    }
    if input.failover.monero_down {
        out.push(Badge::new(
            "monerod DOWN",
            BadgeVariant::Bad,
            Some("monerod has been unreachable for longer than the down window"),
        ));
    }
    if input.failover.tari_down {
        out.push(Badge::new(
            "Tari DOWN",
            BadgeVariant::Bad,
            Some("the Tari base node has been unreachable for longer than the down window"),
        ));
    }
    if input.failover.rejected {
        out.push(Badge::new(
            "Workers rejected",
            BadgeVariant::Bad,
            Some("xmrig-proxy is stopped so miners fail over to their backup pools"),
        ));
    }
    if gate.holding {
        out.push(Badge::new(
            "Miner held (sync)",
            BadgeVariant::Warn,
            Some("p2pool and xmrig-proxy wait until the chains are synced"),
        ));
    }
    if gate.tari_syncing_passive {
        out.push(Badge::new(
            format!("Tari syncing {}%", gate.tari.percent),
            BadgeVariant::Warn,
            Some("Tari is not required: mining runs while it syncs"),
        ));
    }
    if mode != "Unknown" {
        out.push(Badge::new(
            format!("XMR {mode}"),
            BadgeVariant::Outline,
            None,
        ));
    }
    out.extend(super::system::badges(system));
    if input
        .xvb
        .is_some_and(|(section, low)| section.enabled && low)
    {
        out.push(Badge::new(
            "Hashrate low for tier",
            BadgeVariant::Warn,
            Some("the fleet's stable hashrate cannot sustain the XvB tier asked for"),
        ));
    }
    out
}

/// The history events between two consecutive documents: `held`, `released`, `rejected`,
/// `readmitted`, `node down`, `node up` (with the node in the detail). Pure.
pub fn events(before: &ApiState, after: &ApiState) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if after.miner_held && !before.miner_held {
        out.push(("held", "the sync gate holds the miners".to_owned()));
    }
    if after.miner_released && !before.miner_released {
        out.push(("released", "chains synced: miners released".to_owned()));
    }
    if after.workers_rejected != before.workers_rejected {
        out.push(if after.workers_rejected {
            ("rejected", "workers rejected".to_owned())
        } else {
            ("readmitted", "workers readmitted".to_owned())
        });
    }
    for (node, now) in &after.nodes {
        let was_down = before.nodes.get(node).is_some_and(|n| n.down);
        if now.down != was_down {
            out.push((
                if now.down { "node down" } else { "node up" },
                (*node).to_owned(),
            ));
        }
    }
    out
}
