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
mod tests {
    use super::*;
    use pithead_runtime::cli::validate::{MoneroMode, Pool, TariMode};
    use serde_json::json;

    const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
    const TARI: &str =
        "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

    fn baseline() -> Value {
        json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } })
    }

    fn all_inputs() -> Inputs {
        Inputs(
            [
                ("remote_monero_host", "node.example"),
                ("remote_tari_host", "tari.example"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
    }

    fn row(name: &str, overrides: Value) -> Row {
        let Value::Object(map) = overrides else {
            panic!("overrides must be an object")
        };
        Row {
            name: name.into(),
            overrides: map.into_iter().collect(),
            needs: vec![],
        }
    }

    #[test]
    fn the_shipped_matrix_covers_every_axis_value() {
        let rows = rows().unwrap();
        assert_eq!(uncovered(&rows), Vec::<String>::new());
    }

    #[test]
    fn removing_the_rows_that_cover_a_value_names_that_value() {
        let rows = rows().unwrap();
        for (path, values) in AXES {
            for v in *values {
                let rest: Vec<Row> = rows
                    .iter()
                    .filter(|r| !r.overrides.get(*path).is_some_and(|set| v.matches(set)))
                    .cloned()
                    .collect();
                assert!(rest.len() < rows.len(), "no row sets {path}={v}");
                assert!(
                    uncovered(&rest).contains(&format!("{path}={v}")),
                    "{path}={v}: {:?}",
                    uncovered(&rest)
                );
            }
        }
        let mut parsed = parse(MATRIX_JSON).unwrap();
        parsed.retain(|r| r.name != "tari-off");
        assert_eq!(uncovered(&parsed), vec!["tari.mode=off".to_owned()]);
    }

    #[test]
    fn every_row_applied_to_a_baseline_validates_and_sets_its_axes() {
        for row in rows().unwrap() {
            let config = apply_overrides(&baseline(), &row, &all_inputs()).unwrap();
            let settings = pithead_runtime::cli::load(&config.to_string())
                .unwrap_or_else(|e| panic!("{}: {e:?}", row.name));
            let c = &settings.config;
            for (path, want) in &row.overrides {
                let got = match path.as_str() {
                    "monero.mode" => json!(match settings.monero {
                        MoneroMode::Local => "local",
                        MoneroMode::Remote { .. } => "remote",
                    }),
                    "tari.mode" => json!(match settings.tari {
                        TariMode::Local => "local",
                        TariMode::Remote { .. } => "remote",
                        TariMode::Off => "off",
                    }),
                    "p2pool.pool" => json!(match settings.pool {
                        Pool::Main => "main",
                        Pool::Mini => "mini",
                        Pool::Nano => "nano",
                    }),
                    "monero.prune" => json!(c.monero.prune),
                    "monero.rpc_lan_access" => json!(c.monero.rpc_lan_access),
                    "xvb.enabled" => json!(c.xvb.enabled),
                    "dashboard.secure" => json!(c.dashboard.secure),
                    "dashboard.tari_required" => json!(c.dashboard.tari_required),
                    "monero.remote.host" => json!(c.monero.remote.host),
                    "tari.remote.host" => json!(c.tari.remote.host),
                    other => panic!("{}: no check for {other}", row.name),
                };
                let want = match reference(want) {
                    Some(input) => json!(all_inputs().get(input).unwrap()),
                    None => want.clone(),
                };
                assert_eq!(got, want, "{}: {path}", row.name);
            }
        }
    }

    #[test]
    fn a_row_names_the_inputs_it_lacks() {
        let rows = rows().unwrap();
        let remote = rows.iter().find(|r| r.name == "remote-monero").unwrap();
        assert_eq!(
            remote.missing_inputs(&Inputs::default()),
            vec!["remote_monero_host".to_owned()]
        );
        assert!(remote.missing_inputs(&all_inputs()).is_empty());
        let empty = Inputs([("remote_monero_host".to_owned(), String::new())].into());
        assert_eq!(remote.missing_inputs(&empty).len(), 1);
        let err = apply_overrides(&baseline(), remote, &Inputs::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "matrix row remote-monero needs the box input remote_monero_host, which was not given"
        );
        let plain = rows.iter().find(|r| r.name == "tari-off").unwrap();
        assert!(plain.missing_inputs(&Inputs::default()).is_empty());
    }

    #[test]
    fn overrides_create_missing_objects_and_keep_the_rest() {
        let r = row("r", json!({ "a.b.c": 1, "monero.prune": false }));
        let out = apply_overrides(&baseline(), &r, &Inputs::default()).unwrap();
        assert_eq!(out["a"]["b"]["c"], json!(1));
        assert_eq!(out["monero"]["prune"], json!(false));
        assert_eq!(out["monero"]["wallet_address"], json!(XMR));
    }

    #[test]
    fn overrides_refuse_to_descend_into_a_non_object() {
        let r = row("deep", json!({ "monero.wallet_address.x": true }));
        let err = apply_overrides(&baseline(), &r, &Inputs::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "matrix row deep: cannot set monero.wallet_address.x: monero.wallet_address is a string, not an object"
        );
        let err = apply_overrides(&json!([1]), &r, &Inputs::default()).unwrap_err();
        assert!(err.to_string().contains("config.json is a list"), "{err}");
    }

    #[test]
    fn parse_errors_name_the_row() {
        let cases = [
            ("{}", "must be a list"),
            ("[1]", "row #1: is a number"),
            (r#"[{"overrides": {}}]"#, "row #1: has no \"name\""),
            (r#"[{"name": "x"}]"#, "row x: has no \"overrides\""),
            (
                r#"[{"name": "x", "overrides": {}, "extra": 1}]"#,
                "unknown key \"extra\"",
            ),
            (
                r#"[{"name": "x", "overrides": {"a": null}}]"#,
                "override a is null",
            ),
            (
                r#"[{"name": "x", "overrides": {"a..b": 1}}]"#,
                "\"a..b\" is not a dotted path",
            ),
            (
                r#"[{"name": "x", "overrides": {"a": "h-${y}"}}]"#,
                "must be the whole string",
            ),
            (
                r#"[{"name": "x", "overrides": {"a": "${y}${z}"}, "needs": ["y"]}]"#,
                "must be the whole string",
            ),
            (
                r#"[{"name": "x", "overrides": {"a": "${y}"}}]"#,
                "references ${y} but does not list it",
            ),
            (
                r#"[{"name": "x", "overrides": {}}, {"name": "x", "overrides": {}}]"#,
                "two rows are named \"x\"",
            ),
            ("[", "not JSON"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn list_shows_every_row_override_and_need() {
        let rows = rows().unwrap();
        let text = list(&rows);
        assert!(text.starts_with("NAME"), "{text}");
        for r in &rows {
            assert!(text.contains(&r.name), "{text}");
            for (path, v) in &r.overrides {
                assert!(text.contains(&format!("{path}={}", show(v))), "{text}");
            }
        }
        let line = text
            .lines()
            .find(|l| l.starts_with("remote-monero "))
            .unwrap();
        assert!(line.contains("remote_monero_host"), "{line}");
        assert_eq!(
            text.lines().count(),
            1 + rows.iter().map(|r| r.overrides.len()).sum::<usize>()
        );
    }
}
