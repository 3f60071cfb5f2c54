//! Rendering the `/api/state` document from one cycle's decisions. Pure: the same input gives
//! the same document.

use std::collections::BTreeMap;

use super::document::{
    ApiState, Badge, BadgeVariant, CycleSection, MoneroSection, NodeSection, SyncSection,
    XvbSection,
};
use crate::control::{Desired, FailoverDecision, GateView};

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

/// Renders the read model. Pure: the same input gives the same JSON.
pub fn render(input: &RenderInput<'_>) -> ApiState {
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
        badges: badges(input, syncing, mode),
        xvb: input.xvb.map(|(section, _)| section.clone()),
        cycle: input.cycle.clone(),
        // The cycle's container verdicts, added by the writer (`StateWriter::set_services`).
        services: Vec::new(),
    }
}

fn format_gb(bytes: u64) -> String {
    // Display only: precision loss above 2^53 bytes is irrelevant.
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes as f64 / 1e9;
    format!("{gb:.1} GB")
}

fn badges(input: &RenderInput<'_>, syncing: bool, mode: &str) -> Vec<Badge> {
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
