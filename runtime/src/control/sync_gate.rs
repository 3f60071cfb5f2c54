//! The sync gate: hold the miners while the chains sync, release them once (a one-way latch).

use serde::Serialize;

/// One chain's height reading, already stripped of wire details. `None` in an observation means
/// the node gave no reading this cycle (unreachable, busy, malformed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReading {
    /// The node's own height.
    pub height: u64,
    /// The network height it syncs towards (0 when unknown).
    pub target: u64,
    /// The node says it is still syncing.
    pub syncing: bool,
}

/// What the cycle saw this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GateObservation {
    /// monerod's reading.
    pub monero: Option<ChainReading>,
    /// Tari's reading (ignored when Tari is not part of the stack).
    pub tari: Option<ChainReading>,
    /// p2pool's network height, when known. A `0` is a UI override that shows Monero as
    /// syncing on the dashboard but never decides the gate.
    pub p2pool_network_height: Option<u64>,
}

/// The dashboard's progress state of one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressState {
    /// No usable target yet.
    Loading,
    /// Below the target.
    Syncing,
    /// Caught up.
    Done,
}

/// One chain's sync progress as shown and as decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainProgress {
    /// loading / syncing / done.
    pub state: ProgressState,
    /// floor(current / target × 100); 100 exactly when `done`, at most 99 while syncing below target.
    pub percent: u8,
    /// Current height.
    pub current: u64,
    /// Target height.
    pub target: u64,
    /// Blocks left.
    pub remaining: u64,
    /// The gate's verdict for this chain.
    #[serde(skip)]
    pub done: bool,
}

impl ChainProgress {
    /// Progress of a chain from its reading. `done` = (reachable and not syncing) or
    /// (target > 0 and percent ≥ 100).
    pub fn from_reading(reading: Option<ChainReading>) -> Self {
        let Some(r) = reading else {
            return Self {
                state: ProgressState::Loading,
                percent: 0,
                current: 0,
                target: 0,
                remaining: 0,
                done: false,
            };
        };
        let raw = if r.target == 0 {
            if r.syncing {
                0
            } else {
                100
            }
        } else {
            let raw = (u128::from(r.height) * 100 / u128::from(r.target)).min(100);
            u8::try_from(raw).unwrap_or(100)
        };
        // A node that still says "syncing" but has reached its target is done. (A syncing one
        // with no target yet has `raw` 0, so it is not.)
        let done = !r.syncing || raw >= 100;
        // Below target while syncing, so `raw` < 100 whenever the chain is not done.
        let percent = if done { 100 } else { raw };
        let state = if done {
            ProgressState::Done
        } else if r.target == 0 {
            ProgressState::Loading
        } else {
            ProgressState::Syncing
        };
        Self {
            state,
            percent,
            current: r.height,
            target: r.target,
            remaining: r.target.saturating_sub(r.height),
            done,
        }
    }
}

/// What the gate concluded this step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GateView {
    /// Monero progress.
    pub monero: ChainProgress,
    /// Tari progress.
    pub tari: ChainProgress,
    /// `monero_syncing or (tari_syncing and TARI_REQUIRED)`.
    pub global_sync: bool,
    /// Tari syncing while it does not block: the passive badge.
    pub tari_syncing_passive: bool,
    /// Monero shown as syncing (includes p2pool's height-0 override; display only).
    pub monero_display_syncing: bool,
    /// What the dashboard shows as "Syncing...": from the last readings, so an outage of a
    /// synced node is not shown as a sync.
    pub display_syncing: bool,
    /// Miners held by the gate now.
    pub holding: bool,
    /// The latch.
    pub released: bool,
    /// This step released the miners.
    pub newly_released: bool,
}

/// The release latch, by part of the gate (domain §3). An operator's change of the Monero node
/// re-arms the whole gate; a Tari-only change re-arms only the Tari part, so Monero's part stays
/// released (a Monero node a block behind does not hold the miners again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latch {
    /// Holding until every gated chain is synced in the same step: a first start, a re-arm of
    /// the whole gate.
    #[default]
    Armed,
    /// Only the Tari part is re-armed: holding until Tari no longer blocks (synced, or not
    /// required); Monero's progress does not hold.
    TariArmed,
    /// Released. Never reverts on its own; only an operator's re-arm arms it again.
    Released,
}

/// The gate. Construct it with the latch read from the snapshot.
#[derive(Debug, Clone)]
pub struct SyncGate {
    tari_enabled: bool,
    tari_required: bool,
    latch: Latch,
    /// monerod's last reading, shown while it gives none (an outage is a health matter, not a
    /// sync regression) but never used to decide.
    last_monero: Option<ChainReading>,
    /// Tari's last reading, for display in the same way.
    last_tari: Option<ChainReading>,
}

impl SyncGate {
    /// `released` comes from the persisted snapshot (false on a first start).
    pub fn new(tari_enabled: bool, tari_required: bool, released: bool) -> Self {
        let latch = if released {
            Latch::Released
        } else {
            Latch::Armed
        };
        Self::with_latch(tari_enabled, tari_required, latch)
    }

    /// A gate whose latch, part by part, comes from the persisted snapshot.
    pub fn with_latch(tari_enabled: bool, tari_required: bool, latch: Latch) -> Self {
        Self {
            tari_enabled,
            tari_required,
            latch,
            last_monero: None,
            last_tari: None,
        }
    }

    /// Every part released.
    pub fn released(&self) -> bool {
        self.latch == Latch::Released
    }

    /// The latch, part by part (what the snapshot persists).
    pub fn latch(&self) -> Latch {
        self.latch
    }

    /// The operator changed the Monero node: the whole gate holds again until every gated
    /// chain is synced.
    pub fn rearm_all(&mut self) {
        self.latch = Latch::Armed;
    }

    /// The operator changed only the Tari node: the Tari part holds again until Tari is synced.
    /// A Tari that does not gate the release (not part of the stack, or `TARI_REQUIRED=false`)
    /// has no part to re-arm; a gate already armed as a whole stays so.
    pub fn rearm_tari(&mut self) {
        if self.latch == Latch::Released && self.tari_enabled && self.tari_required {
            self.latch = Latch::TariArmed;
        }
    }

    /// Decides from one observation. `now` is not needed: the gate has no timers.
    pub fn step(&mut self, observation: &GateObservation) -> GateView {
        if observation.monero.is_some() {
            self.last_monero = observation.monero;
        }
        let monero_decided = ChainProgress::from_reading(observation.monero);
        let monero = ChainProgress::from_reading(observation.monero.or(self.last_monero));
        if observation.tari.is_some() {
            self.last_tari = observation.tari;
        }
        let tari_decided = if self.tari_enabled {
            ChainProgress::from_reading(observation.tari)
        } else {
            ChainProgress::from_reading(Some(ChainReading {
                height: 0,
                target: 0,
                syncing: false,
            }))
        };
        let tari = if self.tari_enabled {
            ChainProgress::from_reading(observation.tari.or(self.last_tari))
        } else {
            ChainProgress::from_reading(Some(ChainReading {
                height: 0,
                target: 0,
                syncing: false,
            }))
        };
        let monero_syncing = !monero_decided.done;
        let tari_blocks = self.tari_enabled && self.tari_required && !tari_decided.done;
        // Only a node that answers can be "syncing"; an unreachable optional node is a health
        // matter, not a passive sync badge.
        let tari_syncing = self.tari_enabled && observation.tari.is_some() && !tari_decided.done;
        let global_sync = monero_syncing || tari_blocks;
        let was_released = self.released();
        // Each armed part decides from its own chains; the parts release together.
        let blocked = match self.latch {
            Latch::Armed => global_sync,
            Latch::TariArmed => tari_blocks,
            Latch::Released => false,
        };
        if !blocked {
            self.latch = Latch::Released;
        }
        let released = self.released();
        debug_assert!(released || !was_released, "the release latch never reverts");
        let p2pool_override = observation.p2pool_network_height == Some(0);
        GateView {
            monero,
            tari,
            global_sync,
            tari_syncing_passive: tari_syncing && !global_sync,
            monero_display_syncing: !monero.done || p2pool_override,
            display_syncing: !monero.done
                || p2pool_override
                || (self.tari_enabled && self.tari_required && !tari.done),
            holding: !released,
            released,
            newly_released: released && !was_released,
        }
    }
}
