//! The shape check that runs before serde: unknown keys (with the nearest known key), values of
//! the wrong JSON type, and control characters in any string.
//!
//! The known keys are read off the serialized default [`Config`], so the schema is the one
//! source of truth: a field added to the struct is known here at once.

use serde_json::{Map, Value};

use super::config::{is_secret, Config};
use super::config_error::{quoted, ConfigError, HIDDEN};

/// Checks `doc` against the schema; every problem found, in document order.
pub fn check(doc: &Value) -> Vec<ConfigError> {
    let Ok(defaults) = serde_json::to_value(Config::default()) else {
        return vec![];
    };
    let Value::Object(root) = doc else {
        return vec![ConfigError::NotObject];
    };
    let mut known = Vec::new();
    collect_paths("", &defaults, &mut known);
    let mut errors = Vec::new();
    let Value::Object(default_root) = &defaults else {
        return errors;
    };
    walk_object("", root, default_root, &known, &mut errors);
    errors
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn collect_paths(prefix: &str, value: &Value, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            let path = join(prefix, k);
            out.push(path.clone());
            collect_paths(&path, v, out);
        }
    }
}

/// The known key closest to `key` by edit distance (ties: the first in schema order).
pub fn nearest(key: &str, known: &[String]) -> String {
    known
        .iter()
        .min_by_key(|k| strsim::levenshtein(key, k))
        .cloned()
        .unwrap_or_default()
}

fn walk_object(
    prefix: &str,
    map: &Map<String, Value>,
    defaults: &Map<String, Value>,
    known: &[String],
    errors: &mut Vec<ConfigError>,
) {
    for (key, value) in map {
        // `_docs`, `_comment`: the reference's annotations, free for operators to keep.
        if key.starts_with('_') {
            continue;
        }
        let path = join(prefix, key);
        match defaults.get(key) {
            Some(default) => walk(&path, value, default, known, errors),
            None => errors.push(ConfigError::UnknownKey {
                nearest: nearest(&path, known),
                // A key is shown as written, but a control character in it is escaped.
                key: path.escape_debug().to_string(),
            }),
        }
    }
}

fn got(path: &str, value: &Value) -> String {
    if is_secret(path) {
        HIDDEN.to_owned()
    } else {
        value.to_string()
    }
}

fn walk(
    path: &str,
    value: &Value,
    default: &Value,
    known: &[String],
    errors: &mut Vec<ConfigError>,
) {
    let wrong = |expected| ConfigError::WrongType {
        key: path.to_owned(),
        expected,
        got: got(path, value),
    };
    match (default, value) {
        (Value::Object(d), Value::Object(v)) => walk_object(path, v, d, known, errors),
        (Value::Object(_), _) => errors.push(wrong("an object")),
        (Value::Bool(_), Value::Bool(_)) => {}
        (Value::Bool(_), _) => errors.push(wrong("true or false")),
        (Value::Number(_), Value::Number(n)) if n.is_u64() => {}
        (Value::Number(_), _) => errors.push(wrong("a whole number")),
        (Value::String(_), Value::String(s)) => check_text(path, s, errors),
        (Value::String(_), _) => errors.push(wrong("a string")),
        // The only lists are lists of strings (webhook URLs).
        (Value::Array(_), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match item {
                    Value::String(s) => check_text(&item_path, s, errors),
                    other => errors.push(ConfigError::WrongType {
                        got: got(&item_path, other),
                        key: item_path,
                        expected: "a string",
                    }),
                }
            }
        }
        (Value::Array(_), _) => errors.push(wrong("a list of strings")),
        (Value::Null, _) => {}
    }
}

fn check_text(path: &str, text: &str, errors: &mut Vec<ConfigError>) {
    if text.chars().any(char::is_control) {
        errors.push(ConfigError::ControlCharacter {
            key: path.to_owned(),
            got: if is_secret(path) {
                HIDDEN.to_owned()
            } else {
                quoted(text)
            },
        });
    }
}
