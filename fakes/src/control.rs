//! The control API every fake shares: `POST /control` (JSON in, typed state changed) and
//! `GET /control` (current state as JSON).
//!
//! A body that does not parse is answered `400 Bad Request` with a plain-text message naming the
//! fake, what serde found wrong (unknown variant, unknown or missing field, wrong type, with line
//! and column) and an example of a valid body. A successful `POST` answers `200` with the state
//! after the change, so a test can assert on it directly.

use std::sync::Arc;

use axum::{
    body::Bytes,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// What a fake's control API is called and what a valid body looks like (for error messages).
#[derive(Debug, Clone, Copy)]
pub struct ControlSpec {
    /// The fake's name as used in messages, e.g. `"monerod"`.
    pub fake: &'static str,
    /// An example of a valid `POST /control` body.
    pub example: &'static str,
}

/// Why a control body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid control body for fake {fake}: {reason}. Example of a valid body: {example}")]
pub struct ControlError {
    /// The fake's name.
    pub fake: &'static str,
    /// What is wrong, in words.
    pub reason: String,
    /// A valid body to copy.
    pub example: &'static str,
}

impl ControlSpec {
    /// A [`ControlError`] for this fake with `reason`.
    pub fn error(&self, reason: impl Into<String>) -> ControlError {
        ControlError {
            fake: self.fake,
            reason: reason.into(),
            example: self.example,
        }
    }

    /// Parse `body` as a `T`, with a message naming what is wrong.
    ///
    /// Besides serde's own checks, every key in the body must survive a round trip through `T`:
    /// serde silently ignores extra keys next to a unit variant's tag (`{"mode":"busy","x":1}`),
    /// and a typo there must not pass for a valid body.
    pub fn parse<T: Serialize + DeserializeOwned>(&self, body: &[u8]) -> Result<T, ControlError> {
        self.from_value(self.parse_value(body)?)
    }

    /// Convert an already-parsed JSON value to a `T`, with the same checks as [`Self::parse`].
    pub fn from_value<T: Serialize + DeserializeOwned>(
        &self,
        input: Value,
    ) -> Result<T, ControlError> {
        let parsed: T = deserialize(input.clone()).map_err(|e| self.error(e))?;
        let output = serde_json::to_value(&parsed)
            .map_err(|e| self.error(format!("cannot serialise the parsed body: {e}")))?;
        if let Some(path) = unknown_key(&input, &output, "") {
            return Err(self.error(format!("unknown field `{path}`")));
        }
        Ok(parsed)
    }

    /// Parse `body` as any JSON value, refusing an empty body with a clear message.
    pub fn parse_value(&self, body: &[u8]) -> Result<Value, ControlError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.error("the body is empty; send a JSON object"));
        }
        serde_json::from_slice(body).map_err(|e| self.error(e.to_string()))
    }

    /// Apply `body`, a JSON object holding some of `current`'s fields, to a copy of `current`.
    ///
    /// Every key must be a field of `T` (a typo is refused with the list of known fields) and
    /// every value must have the field's type.
    pub fn merge_patch<T: Serialize + DeserializeOwned>(
        &self,
        current: &T,
        body: &[u8],
    ) -> Result<T, ControlError> {
        let patch = self.parse_value(body)?;
        let Value::Object(patch) = patch else {
            return Err(self.error(format!(
                "expected a JSON object of fields to change, got {}",
                json_kind(&patch)
            )));
        };
        let mut doc = serde_json::to_value(current)
            .map_err(|e| self.error(format!("cannot serialise the current state: {e}")))?;
        let Value::Object(fields) = &mut doc else {
            return Err(self.error("the current state is not a JSON object"));
        };
        for (key, value) in patch {
            match fields.get_mut(&key) {
                Some(slot) => *slot = value,
                None => {
                    let known: Vec<&str> = fields.keys().map(String::as_str).collect();
                    return Err(self.error(format!(
                        "unknown field `{key}`, expected one of: {}",
                        known.join(", ")
                    )));
                }
            }
        }
        let merged = doc.clone();
        let parsed: T = deserialize(doc).map_err(|e| self.error(e))?;
        let output = serde_json::to_value(&parsed)
            .map_err(|e| self.error(format!("cannot serialise the patched state: {e}")))?;
        if let Some(path) = unknown_key(&merged, &output, "") {
            return Err(self.error(format!("unknown field `{path}`")));
        }
        Ok(parsed)
    }
}

/// The first key (as a dotted path) present in `input` but not in `output`, looking into nested
/// objects and arrays.
fn unknown_key(input: &Value, output: &Value, prefix: &str) -> Option<String> {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => i.iter().find_map(|(k, v)| {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match o.get(k) {
                None => Some(path),
                Some(ov) => unknown_key(v, ov, &path),
            }
        }),
        (Value::Array(i), Value::Array(o)) => i
            .iter()
            .zip(o)
            .enumerate()
            .find_map(|(n, (iv, ov))| unknown_key(iv, ov, &format!("{prefix}[{n}]"))),
        _ => None,
    }
}

/// Deserialize `v`, naming the path of the offending field when there is one
/// (`behaviour.secs: invalid value…`).
fn deserialize<T: DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A `400 Bad Request` carrying the error's message as plain text.
pub fn bad_request(err: &ControlError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{err}\n"),
    )
        .into_response()
}

/// `GET /control` answers `view()`; `POST /control` runs `apply(body)` and answers `view()` after
/// it, or `400` with the error's message.
pub fn router<A, V>(apply: A, view: V) -> Router
where
    A: Fn(&[u8]) -> Result<(), ControlError> + Send + Sync + 'static,
    V: Fn() -> Value + Send + Sync + 'static,
{
    let apply = Arc::new(apply);
    let view = Arc::new(view);
    let view_get = Arc::clone(&view);
    Router::new().route(
        "/control",
        get(move || {
            let view = Arc::clone(&view_get);
            async move { Json(view()) }
        })
        .post(move |body: Bytes| {
            let apply = Arc::clone(&apply);
            let view = Arc::clone(&view);
            async move {
                match apply(&body) {
                    Ok(()) => {
                        tracing::info!("control: state changed");
                        Json(view()).into_response()
                    }
                    Err(err) => {
                        tracing::warn!(%err, "control: refused");
                        bad_request(&err)
                    }
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    const SPEC: ControlSpec = ControlSpec {
        fake: "demo",
        example: r#"{"a":1}"#,
    };

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Demo {
        a: u64,
        b: bool,
    }

    #[test]
    fn merge_patch_changes_only_named_fields() {
        let cur = Demo { a: 1, b: false };
        assert_eq!(
            SPEC.merge_patch(&cur, br#"{"b":true}"#).unwrap(),
            Demo { a: 1, b: true }
        );
    }

    #[test]
    fn merge_patch_names_unknown_fields_and_bad_types() {
        let cur = Demo { a: 1, b: false };
        let err = SPEC.merge_patch(&cur, br#"{"c":1}"#).unwrap_err();
        assert!(err.reason.contains("unknown field `c`"), "{err}");
        assert!(err.reason.contains("a, b"), "{err}");
        let err = SPEC.merge_patch(&cur, br#"{"a":"x"}"#).unwrap_err();
        assert!(err.reason.contains("invalid type"), "{err}");
        let err = SPEC.merge_patch(&cur, b"[1]").unwrap_err();
        assert!(err.reason.contains("got an array"), "{err}");
        let err = SPEC.merge_patch(&cur, b"  ").unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
        assert!(err.to_string().contains("demo") && err.to_string().contains(r#"{"a":1}"#));
    }

    #[test]
    fn parse_refuses_keys_next_to_a_unit_variant_and_nested_typos() {
        use crate::Behaviour;
        let err = SPEC
            .parse::<Behaviour>(br#"{"mode":"normal","x":1}"#)
            .unwrap_err();
        assert!(err.reason.contains("unknown field `x`"), "{err}");
        assert_eq!(
            SPEC.parse::<Behaviour>(br#"{"mode":"down"}"#).unwrap(),
            Behaviour::Down
        );
        #[derive(Debug, Serialize, Deserialize, PartialEq)]
        struct Outer {
            b: Behaviour,
        }
        let cur = Outer {
            b: Behaviour::Normal,
        };
        let err = SPEC
            .merge_patch(&cur, br#"{"b":{"mode":"garbage","sec":1}}"#)
            .unwrap_err();
        assert!(err.reason.contains("unknown field `b.sec`"), "{err}");
    }
}
