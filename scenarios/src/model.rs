//! One node as a scenario steers it, shared by the tiers that push it into fake daemons: what
//! its chain does and whether it answers, and the fake's mode that says so.

use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;

use crate::driver::{Chain, Node, Reachability};

/// monerod's height when a scenario says only "synced".
pub const MONERO_TIP: u64 = 3_000;
/// Tari's height when a scenario says only "synced".
pub const TARI_TIP: u64 = 2_000;
/// One node as the scenario steers it: what its chain does and whether it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeModel {
    /// What its chain does.
    pub chain: Chain,
    /// Whether it answers.
    pub reach: Reachability,
    /// The height "synced" means: the target it last synced towards.
    pub tip: u64,
}

impl NodeModel {
    /// A synced, reachable node at `tip`.
    pub fn new(tip: u64) -> Self {
        Self {
            chain: Chain::Synced,
            reach: Reachability::Up,
            tip,
        }
    }

    /// Changes what its chain does (a sync target becomes the new tip).
    pub fn set_chain(&mut self, chain: Chain) {
        if let Chain::Syncing { target, .. } = chain {
            if target > 0 {
                self.tip = target;
            }
        }
        self.chain = chain;
    }

    /// The fake monerod's mode for this model.
    pub fn monero_mode(&self) -> MoneroMode {
        match (self.reach, self.chain) {
            (Reachability::Down, _) => MoneroMode::Down,
            (Reachability::Busy, _) => MoneroMode::Busy,
            (Reachability::Up, Chain::Syncing { height, target }) => {
                MoneroMode::Syncing { height, target }
            }
            (Reachability::Up, Chain::Resyncing) => MoneroMode::Syncing {
                height: self.tip / 2,
                target: self.tip,
            },
            // monerod has no starting/migrating state of its own: it answers synced.
            (Reachability::Up, Chain::Synced | Chain::Starting | Chain::Migrating) => {
                MoneroMode::Synced { height: self.tip }
            }
        }
    }

    /// The fake Tari's mode for this model.
    pub fn tari_mode(&self) -> TariMode {
        match (self.reach, self.chain) {
            (Reachability::Down | Reachability::Busy, _) => TariMode::Down,
            (Reachability::Up, Chain::Syncing { height, target }) => TariMode::Syncing {
                local: height,
                tip: target,
            },
            (Reachability::Up, Chain::Resyncing) => TariMode::Syncing {
                local: self.tip / 2,
                tip: self.tip,
            },
            (Reachability::Up, Chain::Starting) => TariMode::Starting,
            (Reachability::Up, Chain::Migrating) => TariMode::Migrating,
            (Reachability::Up, Chain::Synced) => TariMode::Synced { height: self.tip },
        }
    }
}

/// One change a step makes to a node.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// What the chain does.
    Chain(Chain),
    /// Whether it answers.
    Reach(Reachability),
}

impl Change {
    /// Whether `node` has such a state at all (monerod is never starting or migrating; Tari is
    /// never busy).
    pub fn exists_for(self, node: Node) -> bool {
        !matches!(
            (node, self),
            (
                Node::Monerod,
                Change::Chain(Chain::Starting | Chain::Migrating)
            ) | (Node::Tari, Change::Reach(Reachability::Busy))
        )
    }
}
