//! JSON shapes for drift checks: every key path with its JSON type, recursively.
//!
//! A drift check compares the *shape* of a fake's reply with the shape of a real one (recorded
//! from the daemon, or transcribed from its source): the same key paths, each of the same JSON
//! type, at every depth, envelope included. Values are not compared: they differ between any two
//! replies.
//!
//! Paths are written `$` (the document), `$.result.height` (a key), `$.workers[]` (every element
//! of an array, merged) and `$.Labels.*` (every value of an object declared a map).
//!
//! Numbers are three types, not one: an integer (`3`), a float (`3.5`, `3.0`, `1e3`) and a string
//! holding a number (`"0x65"`) all differ, because a client reading `u64` refuses `3.5` and one
//! reading `f64` may refuse a string. Where a daemon legitimately writes one field both ways (a
//! C++ double printed without a fraction when it is whole), the check names that path in
//! [`Rules::number`]; nothing is tolerated silently.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// The JSON type of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool,
    /// A number without fraction or exponent.
    Integer,
    /// A number written with a fraction or an exponent.
    Float,
    /// Integer or float: only under [`Rules::number`].
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// The type of `v`.
    pub fn of(v: &Value) -> Kind {
        match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_f64() => Kind::Float,
            Value::Number(_) => Kind::Integer,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
}

/// Every key path of a document and the types seen there (a set: array elements and repeated
/// documents can disagree, and then the set says so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    paths: BTreeMap<String, BTreeSet<Kind>>,
    /// Arrays and maps where no element was ever seen: their elements' shape is unknown.
    empty: BTreeSet<String>,
}

impl Shape {
    /// The shape of `doc` under `rules` (which say which objects are maps).
    pub fn of(doc: &Value, rules: &Rules) -> Shape {
        let mut shape = Shape::default();
        let mut non_empty = BTreeSet::new();
        shape.walk("$", doc, rules, &mut non_empty);
        shape.empty.retain(|p| !non_empty.contains(p));
        shape
    }

    /// The shape of several documents of one kind, merged (for example a fake's reply in each of
    /// its modes).
    pub fn merged<'a>(docs: impl IntoIterator<Item = &'a Value>, rules: &Rules) -> Shape {
        let mut shape = Shape::default();
        let mut non_empty = BTreeSet::new();
        for doc in docs {
            shape.walk("$", doc, rules, &mut non_empty);
        }
        shape.empty.retain(|p| !non_empty.contains(p));
        shape
    }

    fn walk(&mut self, path: &str, v: &Value, rules: &Rules, non_empty: &mut BTreeSet<String>) {
        self.paths
            .entry(path.to_owned())
            .or_default()
            .insert(Kind::of(v));
        match v {
            Value::Object(o) => {
                let is_map = rules.maps.contains(path);
                if is_map {
                    if o.is_empty() {
                        self.empty.insert(path.to_owned());
                    } else {
                        non_empty.insert(path.to_owned());
                    }
                }
                for (k, child) in o {
                    let child_path = if is_map {
                        format!("{path}.*")
                    } else {
                        format!("{path}.{k}")
                    };
                    self.walk(&child_path, child, rules, non_empty);
                }
            }
            Value::Array(items) => {
                if items.is_empty() {
                    self.empty.insert(path.to_owned());
                } else {
                    non_empty.insert(path.to_owned());
                }
                let child_path = format!("{path}[]");
                for item in items {
                    self.walk(&child_path, item, rules, non_empty);
                }
            }
            _ => {}
        }
    }

    /// The types seen at `path`, if it occurs.
    pub fn kinds(&self, path: &str) -> Option<&BTreeSet<Kind>> {
        self.paths.get(path)
    }

    /// Every path, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.keys().map(String::as_str)
    }
}

/// What a check tolerates, path by path. Empty by default: every path and type must match.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Objects whose keys are data (labels, worker names): their values are compared under
    /// `path.*`, whatever the keys.
    maps: BTreeSet<String>,
    /// Integer and float both accepted.
    numbers: BTreeSet<String>,
    /// `null` accepted besides the type; a `null`-only side says nothing about the subtree.
    nullable: BTreeSet<String>,
    /// May be missing on either side (with its subtree).
    optional: BTreeSet<String>,
    /// The reference lists every type the field may have (a transcription's variants); the
    /// candidate may use any of them.
    any_of: BTreeSet<String>,
    /// When set, only these paths are compared (each must still match exactly).
    only: Option<BTreeSet<String>>,
}

impl Rules {
    /// No tolerance at all.
    pub fn exact() -> Rules {
        Rules::default()
    }

    /// The object at `path` is a map: its keys are data.
    pub fn map(mut self, path: &str) -> Rules {
        self.maps.insert(path.to_owned());
        self
    }

    /// Integer or float at `path` (say why at the call).
    pub fn number(mut self, path: &str) -> Rules {
        self.numbers.insert(path.to_owned());
        self
    }

    /// `null` or the type at `path` (say why at the call).
    pub fn nullable(mut self, path: &str) -> Rules {
        self.nullable.insert(path.to_owned());
        self
    }

    /// `path` (and everything under it) may be absent on either side (say why at the call).
    pub fn optional(mut self, path: &str) -> Rules {
        self.optional.insert(path.to_owned());
        self
    }

    /// Any type the reference shows at `path` (merged from its variants) will do (say why at the
    /// call).
    pub fn any_of(mut self, path: &str) -> Rules {
        self.any_of.insert(path.to_owned());
        self
    }

    /// Compare only `paths` (say at the call why the rest is not compared).
    pub fn only(mut self, paths: &[&str]) -> Rules {
        self.only = Some(paths.iter().map(|p| (*p).to_owned()).collect());
        self
    }

    fn under_any(set: &BTreeSet<String>, path: &str) -> bool {
        set.iter().any(|p| is_within(path, p))
    }
}

/// Whether `path` is `root` or lies under it.
fn is_within(path: &str, root: &str) -> bool {
    path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("[]"))
}

/// One difference between two shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The reference has `path`; the candidate does not.
    Missing {
        /// The key path.
        path: String,
        /// Its type in the reference.
        expected: BTreeSet<Kind>,
    },
    /// The candidate has `path`; the reference does not.
    Extra {
        /// The key path.
        path: String,
        /// Its type in the candidate.
        actual: BTreeSet<Kind>,
    },
    /// Both have `path`, of different types.
    Type {
        /// The key path.
        path: String,
        /// Its type in the reference.
        expected: BTreeSet<Kind>,
        /// Its type in the candidate.
        actual: BTreeSet<Kind>,
    },
}

impl Drift {
    /// The path this drift is about.
    pub fn path(&self) -> &str {
        match self {
            Drift::Missing { path, .. } | Drift::Extra { path, .. } | Drift::Type { path, .. } => {
                path
            }
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Missing { path, expected } => write!(f, "missing {path} ({expected:?})"),
            Drift::Extra { path, actual } => write!(f, "extra {path} ({actual:?})"),
            Drift::Type {
                path,
                expected,
                actual,
            } => write!(f, "type of {path}: expected {expected:?}, got {actual:?}"),
        }
    }
}

/// The kinds at `path` as `rules` compare them: numbers merged where tolerated, `null` dropped
/// where tolerated.
fn normalised(kinds: &BTreeSet<Kind>, path: &str, rules: &Rules) -> BTreeSet<Kind> {
    kinds
        .iter()
        .filter(|k| !(**k == Kind::Null && rules.nullable.contains(path)))
        .map(|k| match k {
            Kind::Integer | Kind::Float if rules.numbers.contains(path) => Kind::Number,
            k => *k,
        })
        .collect()
}

/// Where one side's subtree under `path` is unknown (an empty array or map, a tolerated `null`), the
/// other side's subtree cannot be compared with it.
fn subtree_unknown(shape: &Shape, path: &str, rules: &Rules) -> bool {
    if shape.empty.contains(path) {
        return true;
    }
    rules.nullable.contains(path)
        && shape
            .kinds(path)
            .is_some_and(|k| k.iter().all(|k| *k == Kind::Null))
}

/// Every difference between `reference` (the real daemon's shape) and `candidate` (the fake's).
pub fn compare(reference: &Shape, candidate: &Shape, rules: &Rules) -> Vec<Drift> {
    let all: BTreeSet<&String> = reference
        .paths
        .keys()
        .chain(candidate.paths.keys())
        .collect();
    // Subtrees where either side has no information.
    let unknown: Vec<&String> = all
        .iter()
        .copied()
        .filter(|p| subtree_unknown(reference, p, rules) || subtree_unknown(candidate, p, rules))
        .collect();
    let mut out = Vec::new();
    for path in all {
        if let Some(only) = &rules.only {
            if !only.contains(path.as_str()) {
                continue;
            }
        }
        if unknown.iter().any(|u| *u != path && is_within(path, u)) {
            continue;
        }
        match (reference.paths.get(path), candidate.paths.get(path)) {
            (Some(expected), Some(actual)) => {
                let (e, a) = (
                    normalised(expected, path, rules),
                    normalised(actual, path, rules),
                );
                let fits = if rules.any_of.contains(path.as_str()) {
                    a.is_subset(&e)
                } else {
                    e == a
                };
                // Both sides only ever `null` where null is tolerated: nothing to compare.
                if !fits && !e.is_empty() && !a.is_empty() {
                    out.push(Drift::Type {
                        path: path.clone(),
                        expected: expected.clone(),
                        actual: actual.clone(),
                    });
                }
            }
            (Some(expected), None) if !Rules::under_any(&rules.optional, path) => {
                out.push(Drift::Missing {
                    path: path.clone(),
                    expected: expected.clone(),
                });
            }
            (None, Some(actual)) if !Rules::under_any(&rules.optional, path) => {
                out.push(Drift::Extra {
                    path: path.clone(),
                    actual: actual.clone(),
                });
            }
            _ => {}
        }
    }
    out
}

/// Every difference between the shapes of two documents.
pub fn diff(reference: &Value, candidate: &Value, rules: &Rules) -> Vec<Drift> {
    compare(
        &Shape::of(reference, rules),
        &Shape::of(candidate, rules),
        rules,
    )
}

/// Panics, listing every difference, when `candidate` does not have the shape of `reference`.
pub fn assert_same_shape(what: &str, reference: &Value, candidate: &Value, rules: &Rules) {
    let drifts = diff(reference, candidate, rules);
    assert!(
        drifts.is_empty(),
        "{what}: the shape drifted ({} difference(s)):\n  {}",
        drifts.len(),
        drifts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// Parses a fixture file under `runtime/tests/fixtures/`.
pub fn fixture(relative: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}
