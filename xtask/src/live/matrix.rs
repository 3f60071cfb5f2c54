//! The live matrix's configurations, as data: `xtask/live-matrix.json` holds one row per
//! scenario (a name and dotted-path overrides of `config.json`), [`AXES`] holds what the rows
//! must cover (domain §7), and [`uncovered`] is the check that keeps the two in step.
//!
//! Pure: the flow reads the box's baseline, calls [`apply_overrides`] and pushes the result.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The matrix as shipped.
pub const MATRIX_JSON: &str = include_str!("../../live-matrix.json");

/// One value an axis takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisValue {
    /// A JSON boolean.
    Bool(bool),
    /// A JSON string.
    Str(&'static str),
}

impl AxisValue {
    /// Whether the JSON value `v` is this value (same type and content).
    pub fn matches(self, v: &Value) -> bool {
        match self {
            AxisValue::Bool(b) => v.as_bool() == Some(b),
            AxisValue::Str(s) => v.as_str() == Some(s),
        }
    }
}

impl std::fmt::Display for AxisValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AxisValue::Bool(b) => write!(f, "{b}"),
            AxisValue::Str(s) => f.write_str(s),
        }
    }
}

const BOTH: &[AxisValue] = &[AxisValue::Bool(true), AxisValue::Bool(false)];

/// The axes the matrix permutes (domain §7): a `config.json` dotted path and every value a row
/// must set it to at least once.
pub const AXES: &[(&str, &[AxisValue])] = &[
    (
        "monero.mode",
        &[AxisValue::Str("local"), AxisValue::Str("remote")],
    ),
    ("monero.prune", BOTH),
    ("monero.rpc_lan_access", BOTH),
    (
        "p2pool.pool",
        &[
            AxisValue::Str("main"),
            AxisValue::Str("mini"),
            AxisValue::Str("nano"),
        ],
    ),
    ("xvb.enabled", BOTH),
    ("dashboard.secure", BOTH),
    ("dashboard.tari_required", BOTH),
    (
        "tari.mode",
        &[
            AxisValue::Str("local"),
            AxisValue::Str("remote"),
            AxisValue::Str("off"),
        ],
    ),
];

/// One scenario of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Readable and unique (`prune-off-main-pool-lan-rpc`); `--scenario` selects by it.
    pub name: String,
    /// Dotted `config.json` path → value. A string that is wholly `${input}` takes the box
    /// input of that name.
    pub overrides: BTreeMap<String, Value>,
    /// Box inputs the row cannot run without (every `${input}` it references is one).
    pub needs: Vec<String>,
}

/// Values the operator gives for one box (`remote_monero_host`, `remote_tari_host`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs(pub BTreeMap<String, String>);

impl Inputs {
    /// The input `name`, when given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Why the matrix cannot be read or a row cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// The file is not JSON.
    #[error("live-matrix.json is not JSON: {0}")]
    Json(String),
    /// The document is not a list of rows.
    #[error("live-matrix.json must be a list of rows")]
    NotAList,
    /// A row is not `{"name", "overrides", "needs"?}`.
    #[error("live-matrix.json row {row}: {what}")]
    Shape {
        /// The row's name, or `#N` (1-based) when it has none.
        row: String,
        /// What is wrong.
        what: String,
    },
    /// Two rows share a name.
    #[error("live-matrix.json: two rows are named {row:?}")]
    Duplicate {
        /// The name.
        row: String,
    },
    /// An override path is empty or has an empty segment.
    #[error("live-matrix.json row {row}: override path {path:?} is not a dotted path")]
    BadPath {
        /// The row.
        row: String,
        /// The path.
        path: String,
    },
    /// An override value is not a boolean, number or string.
    #[error(
        "live-matrix.json row {row}: override {path} is {kind}; expected a boolean, a number or a string"
    )]
    BadValue {
        /// The row.
        row: String,
        /// The path.
        path: String,
        /// The JSON type found.
        kind: &'static str,
    },
    /// A string mentions `${` without being exactly `${input}`.
    #[error(
        "live-matrix.json row {row}: override {path}: an input reference must be the whole string, as ${{input_name}}"
    )]
    BadReference {
        /// The row.
        row: String,
        /// The path.
        path: String,
    },
    /// A referenced input is not in the row's `needs`.
    #[error("live-matrix.json row {row}: references ${{{input}}} but does not list it in needs")]
    UndeclaredInput {
        /// The row.
        row: String,
        /// The input.
        input: String,
    },
    /// Applying a row whose input was not given.
    #[error("matrix row {row} needs the box input {input}, which was not given")]
    MissingInput {
        /// The row.
        row: String,
        /// The input.
        input: String,
    },
    /// A path descends through a value that is not an object.
    #[error("matrix row {row}: cannot set {path}: {at} is {kind}, not an object")]
    NotAnObject {
        /// The row.
        row: String,
        /// The full override path.
        path: String,
        /// The prefix that is not an object (`config.json` for the document itself).
        at: String,
        /// Its JSON type.
        kind: &'static str,
    },
}

/// The shipped matrix.
pub fn rows() -> Result<Vec<Row>, MatrixError> {
    parse(MATRIX_JSON)
}

/// Parses a matrix document (the shipped one, or a copy in a test).
pub fn parse(text: &str) -> Result<Vec<Row>, MatrixError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| MatrixError::Json(e.to_string()))?;
    let Value::Array(items) = doc else {
        return Err(MatrixError::NotAList);
    };
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_row(i + 1, item))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for row in &rows {
        if !seen.insert(row.name.as_str()) {
            return Err(MatrixError::Duplicate {
                row: row.name.clone(),
            });
        }
    }
    Ok(rows)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The input a value references: `Some("x")` for exactly `"${x}"`.
fn reference(v: &Value) -> Option<&str> {
    v.as_str()?.strip_prefix("${")?.strip_suffix('}')
}

fn is_input_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn parse_row(index: usize, item: &Value) -> Result<Row, MatrixError> {
    let shape = |row: &str, what: String| MatrixError::Shape {
        row: row.to_owned(),
        what,
    };
    let numbered = format!("#{index}");
    let Value::Object(fields) = item else {
        return Err(shape(
            &numbered,
            format!("is {}, not an object", kind(item)),
        ));
    };
    let name = match fields.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        _ => return Err(shape(&numbered, "has no \"name\" string".into())),
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "overrides" | "needs"))
    {
        return Err(shape(
            &name,
            format!("unknown key {key:?} (expected name, overrides, needs)"),
        ));
    }
    let Some(Value::Object(raw)) = fields.get("overrides") else {
        return Err(shape(&name, "has no \"overrides\" object".into()));
    };
    let needs = match fields.get("needs") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|n| match n.as_str() {
                Some(s) if is_input_name(s) => Ok(s.to_owned()),
                _ => Err(shape(
                    &name,
                    "\"needs\" must list input names ([a-z0-9_]+)".into(),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(shape(
                &name,
                format!("\"needs\" is {}, not a list", kind(other)),
            ))
        }
    };
    let mut overrides = BTreeMap::new();
    for (path, value) in raw {
        if path.split('.').any(str::is_empty) {
            return Err(MatrixError::BadPath {
                row: name.clone(),
                path: path.clone(),
            });
        }
        if !matches!(value, Value::Bool(_) | Value::Number(_) | Value::String(_)) {
            return Err(MatrixError::BadValue {
                row: name.clone(),
                path: path.clone(),
                kind: kind(value),
            });
        }
        if value.as_str().is_some_and(|s| s.contains("${")) {
            // An input name has no `$`, `{` or `}`: `${a}${b}` is refused here too.
            let Some(input) = reference(value).filter(|i| is_input_name(i)) else {
                return Err(MatrixError::BadReference {
                    row: name.clone(),
                    path: path.clone(),
                });
            };
            if !needs.iter().any(|n| n == input) {
                return Err(MatrixError::UndeclaredInput {
                    row: name.clone(),
                    input: input.to_owned(),
                });
            }
        }
        overrides.insert(path.clone(), value.clone());
    }
    Ok(Row {
        name,
        overrides,
        needs,
    })
}

impl Row {
    /// The inputs this row needs that `inputs` does not give (the flow skips the row as
    /// `missing` when this is not empty).
    pub fn missing_inputs(&self, inputs: &Inputs) -> Vec<String> {
        let referenced = self.overrides.values().filter_map(reference);
        let all: BTreeSet<&str> = self
            .needs
            .iter()
            .map(String::as_str)
            .chain(referenced)
            .collect();
        all.into_iter()
            .filter(|n| inputs.get(n).is_none())
            .map(str::to_owned)
            .collect()
    }
}

/// `base` (the baseline `config.json`) with `row`'s overrides set, creating missing objects on
/// the way and substituting `${input}` references from `inputs`.
pub fn apply_overrides(base: &Value, row: &Row, inputs: &Inputs) -> Result<Value, MatrixError> {
    let mut doc = base.clone();
    for (path, value) in &row.overrides {
        let value = match reference(value) {
            Some(input) => {
                Value::String(inputs.get(input).map(str::to_owned).ok_or_else(|| {
                    MatrixError::MissingInput {
                        row: row.name.clone(),
                        input: input.to_owned(),
                    }
                })?)
            }
            None => value.clone(),
        };
        set(&mut doc, path, value).map_err(|(at, kind)| MatrixError::NotAnObject {
            row: row.name.clone(),
            path: path.clone(),
            at,
            kind,
        })?;
    }
    Ok(doc)
}

/// Sets `path` in `doc`; on failure the prefix that is not an object and its type.
fn set(doc: &mut Value, path: &str, value: Value) -> Result<(), (String, &'static str)> {
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments
        .split_last()
        .expect("split always yields one segment");
    let mut here = doc;
    let mut walked = String::from("config.json");
    for (i, segment) in parents.iter().enumerate() {
        let kind_here = kind(here);
        let Value::Object(map) = here else {
            return Err((walked, kind_here));
        };
        here = map
            .entry(*segment)
            .or_insert_with(|| Value::Object(Map::new()));
        walked = segments[..=i].join(".");
    }
    let kind_here = kind(here);
    let Value::Object(map) = here else {
        return Err((walked, kind_here));
    };
    map.insert((*last).to_owned(), value);
    Ok(())
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What `--list` prints: one block per row (name, needs, then one override per line).
pub fn list(rows: &[Row]) -> String {
    let name_w = rows
        .iter()
        .map(|r| r.name.len())
        .chain(["NAME".len()])
        .max()
        .unwrap_or(0);
    let needs_of = |r: &Row| {
        if r.needs.is_empty() {
            "-".to_owned()
        } else {
            r.needs.join(",")
        }
    };
    let needs_w = rows
        .iter()
        .map(|r| needs_of(r).len())
        .chain(["NEEDS".len()])
        .max()
        .unwrap_or(0);
    let mut out = format!("{:name_w$}  {:needs_w$}  OVERRIDES\n", "NAME", "NEEDS");
    for row in rows {
        let mut name = row.name.as_str();
        let mut needs = needs_of(row);
        for (path, value) in &row.overrides {
            let _ = writeln!(
                out,
                "{name:name_w$}  {needs:needs_w$}  {path}={}",
                show(value)
            );
            name = "";
            needs.clear();
        }
        if row.overrides.is_empty() {
            let _ = writeln!(out, "{name:name_w$}  {needs:needs_w$}  -");
        }
    }
    out
}

/// Axis values no row sets, as `path=value` (empty when the matrix covers §7).
pub fn uncovered(rows: &[Row]) -> Vec<String> {
    AXES.iter()
        .flat_map(|(path, values)| values.iter().map(move |v| (*path, *v)))
        .filter(|(path, v)| {
            !rows
                .iter()
                .any(|r| r.overrides.get(*path).is_some_and(|set| v.matches(set)))
        })
        .map(|(path, v)| format!("{path}={v}"))
        .collect()
}

#[cfg(test)]
mod tests;
