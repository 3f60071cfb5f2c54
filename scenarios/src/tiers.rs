//! The tier factory: which tiers a run can execute scenarios on, and how each one's driver is
//! made.
//!
//! The runner ([`crate::runner`]) knows no tier by name: it asks the [`Registry`] it is given
//! for the cheapest registered tier a scenario names, and makes a fresh driver for each
//! scenario with that tier's constructor. A new tier (mini-stack, live) is one [`Registry::with`]
//! in the harness that runs it; nothing in the runner changes. `xtask catalog` reads
//! [`Registry::builtin`] to mark a tier runnable only when a runner for it exists.

use std::collections::BTreeSet;
use std::fmt;

use crate::driver::{Tier, TierError};
use crate::tags::TierTag;

/// Tiers whose runner is a harness of its own in this repository rather than part of
/// [`Registry::builtin`], with the command that runs it: the mini-stack (`tests/mini_stack.rs`,
/// feature `mini-stack`; `cargo xtask test` runs it too) and the live tier (a real box over ssh;
/// `cargo xtask test` runs it on a loopback box). `xtask catalog` counts them runnable.
pub const HARNESSES: &[(TierTag, &str)] = &[
    (TierTag::MiniStack, "cargo xtask mini-stack"),
    (
        TierTag::Live,
        "cargo xtask test-live --host user@box --catalog",
    ),
];

/// What a tier constructor learns about the scenario it makes a driver for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioContext<'a> {
    /// The feature's name.
    pub feature: &'a str,
    /// The scenario's name (an outline row's carries its example values).
    pub scenario: &'a str,
    /// The scenario's seed ([`crate::scenario_seed`] unless the run overrides it).
    pub seed: u64,
}

/// A tier's constructor: a fresh driver per scenario, or why it cannot make one (which fails
/// that scenario's first step).
pub type MakeTier = Box<dyn Fn(&ScenarioContext<'_>) -> Result<Box<dyn Tier>, TierError>>;

/// The tiers a run can execute, each with its constructor; at most one per tag.
#[derive(Default)]
pub struct Registry {
    factories: Vec<(TierTag, MakeTier)>,
}

impl Registry {
    /// No tier at all: every scenario is reported as skipped, with that reason.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The tiers this build of the crate provides: the simulation when the `sim` feature is on
    /// (the default), nothing otherwise.
    pub fn builtin() -> Self {
        let registry = Self::empty();
        #[cfg(feature = "sim")]
        let registry = registry.with(TierTag::Sim, |cx| {
            Ok(Box::new(crate::sim_driver::SimTier::new(cx.seed)))
        });
        registry
    }

    /// Registers `make` as the constructor of `tag`'s drivers, replacing any earlier one.
    pub fn with(
        mut self,
        tag: TierTag,
        make: impl Fn(&ScenarioContext<'_>) -> Result<Box<dyn Tier>, TierError> + 'static,
    ) -> Self {
        self.factories.retain(|(t, _)| *t != tag);
        self.factories.push((tag, Box::new(make)));
        self
    }

    /// Whether a runner for `tag` exists in this registry.
    pub fn has(&self, tag: TierTag) -> bool {
        self.factories.iter().any(|(t, _)| *t == tag)
    }

    /// The registered tiers, cheapest first.
    pub fn tags(&self) -> Vec<TierTag> {
        TierTag::ALL.into_iter().filter(|t| self.has(*t)).collect()
    }

    /// The cheapest registered tier among `named`, the one a scenario naming them runs on.
    pub fn pick(&self, named: &BTreeSet<TierTag>) -> Option<TierTag> {
        TierTag::ALL
            .into_iter()
            .find(|t| named.contains(t) && self.has(*t))
    }

    /// A fresh driver of `tag` for one scenario.
    pub fn make(&self, tag: TierTag, cx: &ScenarioContext<'_>) -> Result<Box<dyn Tier>, TierError> {
        match self.factories.iter().find(|(t, _)| *t == tag) {
            Some((_, make)) => make(cx),
            None => Err(TierError::Check(format!(
                "no runner for the {tag} tier is registered"
            ))),
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.tags()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheapest_registered_tier_a_scenario_names_is_picked() {
        let none = Registry::empty();
        let named = BTreeSet::from([TierTag::Sim, TierTag::Live]);
        assert_eq!(none.pick(&named), None);
        assert!(none.tags().is_empty());
        let live = Registry::empty().with(TierTag::Live, |_| {
            Err(TierError::Check("not in a unit test".into()))
        });
        assert_eq!(live.pick(&named), Some(TierTag::Live));
        assert_eq!(live.pick(&BTreeSet::from([TierTag::MiniStack])), None);
        let cx = ScenarioContext {
            feature: "F",
            scenario: "S",
            seed: 1,
        };
        let err = live
            .make(TierTag::Live, &cx)
            .err()
            .expect("the constructor's error");
        assert_eq!(err.to_string(), "not in a unit test");
        let err = live.make(TierTag::Sim, &cx).err().expect("unregistered");
        assert!(
            err.to_string().contains("no runner for the sim tier"),
            "{err}"
        );
    }

    #[test]
    fn the_builtin_registry_follows_the_sim_feature() {
        assert_eq!(Registry::builtin().has(TierTag::Sim), cfg!(feature = "sim"));
        assert!(!Registry::builtin().has(TierTag::MiniStack));
    }
}
