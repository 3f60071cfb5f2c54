//! The step library's vocabulary: every `Given`/`When`/`Then` definition, read from the same
//! registrations cucumber's `World::collection()` reads, so a check against it is a check
//! against what the runner will match.

use std::fmt;

use cucumber::codegen::{inventory, Regex, StepConstructor as _, WorldInventory};
use cucumber::gherkin::StepType;

use crate::world::CatalogWorld;

/// A step's kind after `And`/`But` are resolved (`gherkin::StepType`, but ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    /// A `Given` step: the situation.
    Given,
    /// A `When` step: the trigger.
    When,
    /// A `Then` step: the expected outcome.
    Then,
}

impl From<StepType> for StepKind {
    fn from(ty: StepType) -> Self {
        match ty {
            StepType::Given => StepKind::Given,
            StepType::When => StepKind::When,
            StepType::Then => StepKind::Then,
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Given => "Given",
            StepKind::When => "When",
            StepKind::Then => "Then",
        })
    }
}

/// One step definition of the library.
#[derive(Debug, Clone)]
pub struct StepDef {
    /// Its kind.
    pub kind: StepKind,
    regex: Regex,
    /// Where it is defined (`scenarios/src/steps/given.rs:12:1`).
    pub location: String,
}

impl StepDef {
    /// The regular expression cucumber matches a step's text against.
    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    /// The pattern in the catalog's words: `N` a whole number, `TEXT` text without quotes,
    /// `PATH` a dotted `/api/state` path, `VALUE` a JSON value or a bare word, `a|b` one of
    /// them, `[not ]` optional.
    pub fn phrase(&self) -> String {
        let pattern = self.pattern();
        let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
        let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
        [
            (r"((?:-?\d+)|(?:\d+))", "N"),
            (r"(\d+)", "N"),
            (r"(\S+)", "PATH"),
            (r"(.+)", "VALUE"),
            (r#"([^"]*)"#, "TEXT"),
            ("(not )?", "[not ]"),
        ]
        .iter()
        .fold(pattern.to_owned(), |text, (group, word)| {
            text.replace(group, word)
        })
        .replace(['(', ')'], "")
    }
}

/// Why a step's text is not one phrase of the library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// No definition matches: the runner would fail the scenario.
    #[error("\"{kind} {text}\" matches no definition of the step library (scenarios/src/steps)")]
    Unknown {
        /// The step's kind.
        kind: StepKind,
        /// The step's text.
        text: String,
    },
    /// More than one definition matches: cucumber refuses the step.
    #[error("\"{kind} {text}\" matches several step definitions: {patterns:?}")]
    Ambiguous {
        /// The step's kind.
        kind: StepKind,
        /// The step's text.
        text: String,
        /// The patterns that match.
        patterns: Vec<String>,
    },
}

/// Every definition of the step library.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    defs: Vec<StepDef>,
}

type Given = <CatalogWorld as WorldInventory>::Given;
type When = <CatalogWorld as WorldInventory>::When;
type Then = <CatalogWorld as WorldInventory>::Then;

impl Vocabulary {
    /// The definitions the runner registers (the `#[given]`, `#[when]`, `#[then]` functions of
    /// [`crate::steps`]), ordered by kind and pattern.
    pub fn of_library() -> Self {
        let mut defs = Vec::new();
        let mut add = |kind, (location, regex, _): (_, fn() -> Regex, _)| {
            defs.push(StepDef {
                kind,
                regex: regex(),
                location: format!("{location}"),
            });
        };
        for step in inventory::iter::<Given> {
            add(StepKind::Given, step.inner());
        }
        for step in inventory::iter::<When> {
            add(StepKind::When, step.inner());
        }
        for step in inventory::iter::<Then> {
            add(StepKind::Then, step.inner());
        }
        defs.sort_by(|a, b| (a.kind, a.pattern()).cmp(&(b.kind, b.pattern())));
        Self { defs }
    }

    /// Every definition.
    pub fn definitions(&self) -> &[StepDef] {
        &self.defs
    }

    /// The one definition `text` matches as a `kind` step, as cucumber would find it.
    pub fn find(&self, kind: StepKind, text: &str) -> Result<&StepDef, StepError> {
        let mut found = self
            .defs
            .iter()
            .filter(|d| d.kind == kind && d.regex.is_match(text));
        match (found.next(), found.next()) {
            (Some(def), None) => Ok(def),
            (None, _) => Err(StepError::Unknown {
                kind,
                text: text.to_owned(),
            }),
            (Some(first), Some(second)) => Err(StepError::Ambiguous {
                kind,
                text: text.to_owned(),
                patterns: [first, second]
                    .into_iter()
                    .chain(found)
                    .map(|d| d.pattern().to_owned())
                    .collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_the_registered_library() {
        let vocabulary = Vocabulary::of_library();
        let count = |kind| {
            vocabulary
                .definitions()
                .iter()
                .filter(|d| d.kind == kind)
                .count()
        };
        // One per `#[given]` / `#[when]` / `#[then]` function in `steps/`.
        assert_eq!(
            (
                count(StepKind::Given),
                count(StepKind::When),
                count(StepKind::Then)
            ),
            (71, 44, 109)
        );
        let def = vocabulary
            .find(StepKind::Given, "monerod is syncing at 10 of 100")
            .expect("a library phrase");
        assert!(def.location.contains("given.rs"), "{}", def.location);
        assert!(vocabulary.find(StepKind::When, "90 seconds pass").is_ok());
        let phrases: Vec<String> = vocabulary
            .definitions()
            .iter()
            .map(StepDef::phrase)
            .collect();
        for phrase in [
            "monerod|Tari is syncing at N of N",
            "N seconds pass",
            "the api reports PATH as VALUE",
            "the badge \"TEXT\" is [not ]shown",
            "Tari is [not ]required",
        ] {
            assert!(
                phrases.iter().any(|p| p == phrase),
                "{phrase} in {phrases:?}"
            );
        }
        assert!(vocabulary
            .find(
                StepKind::Then,
                "the badge \"Miner held (sync)\" is not shown"
            )
            .is_ok());
    }

    #[test]
    fn unknown_text_and_the_wrong_kind_are_refused() {
        let vocabulary = Vocabulary::of_library();
        assert_eq!(
            vocabulary.find(StepKind::Given, "90 seconds pass").err(),
            Some(StepError::Unknown {
                kind: StepKind::Given,
                text: "90 seconds pass".to_owned()
            })
        );
        for (kind, text) in [
            (StepKind::Given, "monerod is syncing at ten of 100"),
            (StepKind::Given, "monerod is syncing at 10 of 100 now"),
            (StepKind::Then, "the api reports sync state as syncing"),
            (StepKind::When, "the moon turns blue"),
        ] {
            let err = vocabulary.find(kind, text).expect_err(text).to_string();
            assert!(err.contains(text) && err.contains("no definition"), "{err}");
        }
    }
}
