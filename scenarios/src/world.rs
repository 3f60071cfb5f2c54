//! The cucumber world: one scenario's tier driver.

use std::fmt;
use std::time::Duration;

use futures::FutureExt as _;

use crate::driver::{
    Chain, CliAction, CliFact, CliOutcome, Condition, LiveAction, LiveFact, LiveOutcome, Node,
    Reachability, Setting, Tier, TierError, TierFuture, XvbEvent, XvbFact, XvbOutcome,
};

/// What every step receives: the driver of the tier the scenario runs on.
///
/// The catalog runner ([`crate::runner`]), before each scenario, replaces it with a fresh driver
/// made by the scenario's tier factory ([`crate::tiers::Registry`]); until then (and when the
/// factory fails) every step fails with the reason.
#[derive(cucumber::World)]
#[world(init = Self::without_tier)]
pub struct CatalogWorld {
    tier: Box<dyn Tier>,
    scenario: String,
}

impl CatalogWorld {
    /// A world with no tier driver yet: every step fails, saying so.
    pub fn without_tier() -> Self {
        Self::unavailable("", "no tier driver was set for this scenario".to_owned())
    }

    /// A world whose tier could not be made: every step fails with `why`.
    pub fn unavailable(scenario: &str, why: String) -> Self {
        Self::on(Box::new(NoTier(why)), scenario)
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

/// The stand-in before a tier exists: refuses every step with the reason.
struct NoTier(String);

impl NoTier {
    fn refuse(&self) -> TierFuture<'_> {
        let error = TierError::Tier {
            tier: "no",
            message: self.0.clone(),
        };
        async move { Err(error) }.boxed_local()
    }
}

impl Tier for NoTier {
    fn name(&self) -> &'static str {
        "no"
    }
    fn configure(&mut self, _: Setting) -> TierFuture<'_> {
        self.refuse()
    }
    fn set_chain(&mut self, _: Node, _: Chain) -> TierFuture<'_> {
        self.refuse()
    }
    fn set_reachability(&mut self, _: Node, _: Reachability) -> TierFuture<'_> {
        self.refuse()
    }
    fn change_chain(&mut self, _: Node, _: Chain) -> TierFuture<'_> {
        self.refuse()
    }
    fn change_reachability(&mut self, _: Node, _: Reachability) -> TierFuture<'_> {
        self.refuse()
    }
    fn set_p2pool_network_height(&mut self, _: u64) -> TierFuture<'_> {
        self.refuse()
    }
    fn refuse_docker_calls(&mut self, _: u32) -> TierFuture<'_> {
        self.refuse()
    }
    fn release_miners(&mut self) -> TierFuture<'_> {
        self.refuse()
    }
    fn restart_runtime(&mut self) -> TierFuture<'_> {
        self.refuse()
    }
    fn advance(&mut self, _: Duration) -> TierFuture<'_> {
        self.refuse()
    }
    fn expect(&mut self, _: Condition) -> TierFuture<'_> {
        self.refuse()
    }
    fn expect_for(&mut self, _: Condition, _: Duration) -> TierFuture<'_> {
        self.refuse()
    }
    fn expect_started_once(&mut self, _: &str) -> TierFuture<'_> {
        self.refuse()
    }
    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_> {
        self.refuse()
    }
    fn live_given(&mut self, _: LiveFact) -> TierFuture<'_> {
        self.refuse()
    }

    fn live_when(&mut self, _: LiveAction) -> TierFuture<'_> {
        self.refuse()
    }

    fn live_expect(&mut self, _: LiveOutcome) -> TierFuture<'_> {
        self.refuse()
    }

    fn xvb_given(&mut self, _: XvbFact) -> TierFuture<'_> {
        self.refuse()
    }
    fn xvb_when(&mut self, _: XvbEvent) -> TierFuture<'_> {
        self.refuse()
    }
    fn xvb_expect(&mut self, _: XvbOutcome) -> TierFuture<'_> {
        self.refuse()
    }
    fn start_by_hand(&mut self, _: &str) -> TierFuture<'_> {
        self.refuse()
    }
    fn cli_given(&mut self, _: CliFact) -> TierFuture<'_> {
        self.refuse()
    }
    fn cli_when(&mut self, _: CliAction) -> TierFuture<'_> {
        self.refuse()
    }
    fn cli_expect(&mut self, _: CliOutcome) -> TierFuture<'_> {
        self.refuse()
    }
}
