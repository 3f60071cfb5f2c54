//! The cucumber world: one scenario's tier driver.

use std::fmt;

use crate::driver::Tier;
use crate::sim_driver::SimTier;

/// What every step receives: the driver of the tier this run uses.
///
/// The catalog runner ([`crate::runner`]), before each scenario, replaces it with a fresh
/// simulation tier seeded from the scenario's name ([`crate::scenario_seed`]), so every scenario
/// replays on its own seed.
#[derive(cucumber::World)]
#[world(init = Self::on_sim)]
pub struct CatalogWorld {
    tier: Box<dyn Tier>,
    scenario: String,
}

impl CatalogWorld {
    /// A world on the simulation tier with the default seed.
    pub fn on_sim() -> Self {
        Self::on(Box::new(SimTier::new(crate::DEFAULT_SEED)), "")
    }

    /// A world on `tier`, running `scenario` (for messages).
    pub fn on(tier: Box<dyn Tier>, scenario: &str) -> Self {
        Self {
            tier,
            scenario: scenario.to_owned(),
        }
    }

    /// The tier driver the steps call.
    pub fn tier(&mut self) -> &mut dyn Tier {
        self.tier.as_mut()
    }

    /// The tier's record of this scenario (see [`Tier::record`]).
    pub fn record(&self) -> Option<String> {
        self.tier.record()
    }
}

impl fmt::Debug for CatalogWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogWorld")
            .field("tier", &self.tier.name())
            .field("scenario", &self.scenario)
            .finish()
    }
}
