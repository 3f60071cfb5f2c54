//! The tag grammar of the scenario catalog, the one the runner plans by and `xtask catalog`
//! validates and renders by.
//!
//! Tags a feature or scenario may carry (anything else is an error that names the tag):
//! - tier: `@sim`, `@contract`, `@mini-stack`, `@live` (where the scenario can run; a runner for
//!   that tier may or may not exist, see [`crate::tiers`]);
//! - section: `@section-A` … `@section-H` ([`SECTIONS`]);
//! - issue: `@issue-N` for the issues the strategy names ([`KNOWN_ISSUES`]);
//! - `@pending(<capability>)`: a [`Capability`] not built yet; the scenario runs on no tier;
//! - `@quarantine(<reason>)`: runs, is reported apart, its failure never fails the build;
//! - cucumber's own `@serial` and `@allow.skipped`.

use std::collections::BTreeSet;
use std::fmt;

/// The catalog sections of the testing strategy, in order.
pub const SECTIONS: [(char, &str); 8] = [
    ('A', "Configuration permutations"),
    ('B', "Sync lifecycle (#35)"),
    ('C', "Node health & failover (#31)"),
    ('D', "Container health verdicts (pithead status)"),
    ('E', "XvB switching engine"),
    ('F', "Dashboard /api/state field states"),
    ('G', "CLI lifecycle (pithead)"),
    ('H', "Host / infrastructure (real-only)"),
];

/// Issues the strategy names; an `@issue-N` tag outside this list is a typo until added here.
pub const KNOWN_ISSUES: [u32; 7] = [31, 32, 35, 44, 51, 70, 90];

/// Cucumber's own tags, accepted as they are.
const CUCUMBER_TAGS: [&str; 2] = ["serial", "allow.skipped"];

/// A tier a scenario can name: where it can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TierTag {
    /// The deterministic simulation.
    Sim,
    /// Real clients against the fakes.
    Contract,
    /// Real containers against the fakes.
    MiniStack,
    /// A real, synced box.
    Live,
}

impl TierTag {
    /// All tiers, cheapest first (the order a scenario naming several picks its runner in).
    pub const ALL: [TierTag; 4] = [
        TierTag::Sim,
        TierTag::Contract,
        TierTag::MiniStack,
        TierTag::Live,
    ];

    /// The tag (without `@`) that names this tier.
    pub fn tag(self) -> &'static str {
        match self {
            TierTag::Sim => "sim",
            TierTag::Contract => "contract",
            TierTag::MiniStack => "mini-stack",
            TierTag::Live => "live",
        }
    }
}

impl fmt::Display for TierTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A capability that is not built yet, named by `@pending(<capability>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// The XvB switching engine (section E).
    XvbEngine,
    /// The dashboard read model beyond the sync block and the gate/failover badges.
    Dashboard,
    /// The `pithead` CLI (status verdicts, config, lifecycle).
    Cli,
    /// The container mini-stack harness (tier 3).
    MiniStack,
    /// The live matrix against a real box (tier 4).
    LiveMatrix,
    /// `pithead upgrade` (pull or rebuild the images, recreate the stack).
    Upgrade,
    /// The live tier's catalog steps for the setup → down lifecycle (the matrix runs it with
    /// `--lifecycle`, outside the catalog).
    LiveLifecycle,
    /// The runtime's alerts: the alert machine, the outbox and the sinks (issue #18).
    Alerts,
}

impl Capability {
    /// Every capability, in tag order.
    pub const ALL: [Capability; 8] = [
        Capability::XvbEngine,
        Capability::Dashboard,
        Capability::Cli,
        Capability::MiniStack,
        Capability::LiveMatrix,
        Capability::Upgrade,
        Capability::LiveLifecycle,
        Capability::Alerts,
    ];

    /// The name used inside `@pending(..)`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::XvbEngine => "xvb-engine",
            Capability::Dashboard => "dashboard",
            Capability::Cli => "cli",
            Capability::MiniStack => "mini-stack",
            Capability::LiveMatrix => "live-matrix",
            Capability::Upgrade => "upgrade",
            Capability::LiveLifecycle => "live-lifecycle",
            Capability::Alerts => "alerts",
        }
    }

    /// The tier a harness capability provides; `None` for a product capability.
    pub fn harness_tier(self) -> Option<TierTag> {
        match self {
            Capability::MiniStack => Some(TierTag::MiniStack),
            Capability::LiveMatrix => Some(TierTag::Live),
            Capability::XvbEngine
            | Capability::Dashboard
            | Capability::Cli
            | Capability::Upgrade
            | Capability::LiveLifecycle
            | Capability::Alerts => None,
        }
    }
}

/// One parsed tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `@sim`, `@contract`, `@mini-stack`, `@live`.
    Tier(TierTag),
    /// `@section-X`.
    Section(char),
    /// `@issue-N`.
    Issue(u32),
    /// `@pending(<capability>)`.
    Pending(Capability),
    /// `@quarantine(<reason>)`.
    Quarantine(String),
    /// A tag cucumber itself interprets (`@serial`, `@allow.skipped`).
    Cucumber,
}

/// A tag outside the grammar. Every message names the tag as written (without `@`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// `@section-X` with X outside A–H.
    #[error("unknown section tag \"@{0}\" (sections are A to H)")]
    Section(String),
    /// `@issue-N` where N is not a number.
    #[error("issue tag \"@{0}\" does not name an issue number")]
    IssueNumber(String),
    /// `@issue-N` for an issue the strategy does not name.
    #[error("issue tag \"@{tag}\" names an issue the strategy does not (known: {known:?})")]
    UnknownIssue {
        /// The tag.
        tag: String,
        /// The issues the strategy names.
        known: [u32; 7],
    },
    /// `@quarantine()` without a reason.
    #[error("\"@{0}\" needs a reason inside the parentheses")]
    QuarantineReason(String),
    /// `@pending(x)` with an unknown capability.
    #[error("unknown capability in \"@{tag}\" (known: {known})")]
    Capability {
        /// The tag.
        tag: String,
        /// The capabilities the grammar knows, comma-separated.
        known: String,
    },
    /// Anything else.
    #[error("unknown tag \"@{0}\"")]
    Unknown(String),
}

/// Parses one tag, with or without its leading `@`.
pub fn parse_tag(raw: &str) -> Result<Tag, TagError> {
    let tag = raw.strip_prefix('@').unwrap_or(raw);
    if let Some(tier) = TierTag::ALL.into_iter().find(|t| t.tag() == tag) {
        return Ok(Tag::Tier(tier));
    }
    if CUCUMBER_TAGS.contains(&tag) {
        return Ok(Tag::Cucumber);
    }
    if let Some(letter) = tag.strip_prefix("section-") {
        let mut chars = letter.chars();
        return match (chars.next(), chars.next()) {
            (Some(c), None) if SECTIONS.iter().any(|(s, _)| *s == c) => Ok(Tag::Section(c)),
            _ => Err(TagError::Section(tag.to_owned())),
        };
    }
    if let Some(number) = tag.strip_prefix("issue-") {
        let n: u32 = number
            .parse()
            .map_err(|_| TagError::IssueNumber(tag.to_owned()))?;
        if !KNOWN_ISSUES.contains(&n) {
            return Err(TagError::UnknownIssue {
                tag: tag.to_owned(),
                known: KNOWN_ISSUES,
            });
        }
        return Ok(Tag::Issue(n));
    }
    if let Some(reason) = tag
        .strip_prefix("quarantine(")
        .and_then(|t| t.strip_suffix(')'))
    {
        if reason.is_empty() {
            return Err(TagError::QuarantineReason(tag.to_owned()));
        }
        return Ok(Tag::Quarantine(reason.to_owned()));
    }
    if let Some(inner) = tag
        .strip_prefix("pending(")
        .and_then(|t| t.strip_suffix(')'))
    {
        return Capability::ALL
            .into_iter()
            .find(|c| c.name() == inner)
            .map(Tag::Pending)
            .ok_or_else(|| TagError::Capability {
                tag: tag.to_owned(),
                known: Capability::ALL.map(Capability::name).join(", "),
            });
    }
    Err(TagError::Unknown(tag.to_owned()))
}

/// What a scenario's tags (its feature's, its rule's and its own, together) say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    /// The tiers it names.
    pub tiers: BTreeSet<TierTag>,
    /// The capabilities it waits on.
    pub pending: BTreeSet<Capability>,
    /// The issues it belongs to.
    pub issues: BTreeSet<u32>,
    /// The sections it names (a valid feature names exactly one, on the feature).
    pub sections: BTreeSet<char>,
    /// Why it is quarantined, when it is (the first reason given).
    pub quarantine: Option<String>,
}

impl TagSet {
    /// Parses every tag, failing on the first one outside the grammar.
    pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, TagError> {
        let mut set = TagSet::default();
        for tag in raw {
            set.add(parse_tag(tag)?);
        }
        Ok(set)
    }

    /// Adds one parsed tag.
    pub fn add(&mut self, tag: Tag) {
        match tag {
            Tag::Tier(t) => {
                self.tiers.insert(t);
            }
            Tag::Section(c) => {
                self.sections.insert(c);
            }
            Tag::Issue(n) => {
                self.issues.insert(n);
            }
            Tag::Pending(c) => {
                self.pending.insert(c);
            }
            Tag::Quarantine(reason) => {
                self.quarantine.get_or_insert(reason);
            }
            Tag::Cucumber => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_tag_parses_and_unknown_ones_name_themselves() {
        assert_eq!(
            parse_tag("@pending(xvb-engine)"),
            Ok(Tag::Pending(Capability::XvbEngine))
        );
        assert_eq!(
            parse_tag("pending(live-matrix)"),
            Ok(Tag::Pending(Capability::LiveMatrix))
        );
        assert_eq!(parse_tag("@section-H"), Ok(Tag::Section('H')));
        assert_eq!(
            parse_tag("@quarantine(issue-12)"),
            Ok(Tag::Quarantine("issue-12".to_owned()))
        );
        assert_eq!(parse_tag("@issue-70"), Ok(Tag::Issue(70)));
        assert_eq!(parse_tag("@mini-stack"), Ok(Tag::Tier(TierTag::MiniStack)));
        assert_eq!(parse_tag("@serial"), Ok(Tag::Cucumber));
        for bad in [
            "@pending(warp-drive)",
            "@section-Z",
            "@issue-9999",
            "@issue-x",
            "@slow",
            "@pending",
            "@quarantine()",
        ] {
            let err = parse_tag(bad).expect_err(bad).to_string();
            assert!(err.contains(bad.trim_start_matches('@')), "{bad}: {err}");
        }
    }

    #[test]
    fn a_tag_set_gathers_tiers_capabilities_and_the_first_quarantine() {
        let set = TagSet::parse([
            "@section-B",
            "@sim",
            "@live",
            "@pending(cli)",
            "@quarantine(one)",
            "@quarantine(two)",
            "@issue-35",
        ])
        .expect("valid tags");
        assert_eq!(set.tiers, BTreeSet::from([TierTag::Sim, TierTag::Live]));
        assert_eq!(set.pending, BTreeSet::from([Capability::Cli]));
        assert_eq!(set.quarantine.as_deref(), Some("one"));
        assert_eq!(set.sections, BTreeSet::from(['B']));
        assert_eq!(set.issues, BTreeSet::from([35]));
        assert_eq!(
            TagSet::parse(["@sim", "@slow"]),
            Err(TagError::Unknown("slow".to_owned()))
        );
    }
}
