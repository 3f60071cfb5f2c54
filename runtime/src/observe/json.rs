//! Small, panic-free accessors over `serde_json::Value` shared by the parsers.
//!
//! Each returns `Err(reason)` naming the field and what was wrong with it, so the calling parser
//! wraps the reason in its own `Malformed` variant. Numbers are accepted as JSON integers, or as
//! finite non-negative floats (p2pool prints some counters through `double`), and refused when
//! out of range rather than wrapped or saturated.

use serde_json::{Map, Value};

/// A JSON object's fields.
pub(crate) type Object = Map<String, Value>;

/// Parses `bytes` as one JSON document. serde_json bounds nesting depth (128), so hostile
/// nesting is an error, not a stack overflow.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))
}

/// `value` as an object, or a reason naming `what`.
pub(crate) fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Object, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is {} (expected an object)", kind(value)))
}

/// The JSON type name of `value`, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number as `u64`: an integer, or a finite non-negative float below 2^64 (truncated).
pub(crate) fn as_u64(value: &Value, name: &str) -> Result<u64, String> {
    if let Some(n) = value.as_u64() {
        return Ok(n);
    }
    match value.as_f64() {
        // 2^64 as f64 is exact; anything at or above it does not fit.
        Some(f) if (0.0..18_446_744_073_709_551_616.0).contains(&f) => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = f as u64;
            Ok(n)
        }
        Some(f) => Err(format!("{name} is {f} (expected a non-negative integer)")),
        None => Err(format!("{name} is {} (expected a number)", kind(value))),
    }
}

/// A number as a finite `f64`.
pub(crate) fn as_f64(value: &Value, name: &str) -> Result<f64, String> {
    match value.as_f64() {
        Some(f) if f.is_finite() => Ok(f),
        Some(f) => Err(format!("{name} is {f} (expected a finite number)")),
        None => Err(format!("{name} is {} (expected a number)", kind(value))),
    }
}

/// Required `u64` field.
pub(crate) fn req_u64(obj: &Object, name: &str) -> Result<u64, String> {
    match obj.get(name) {
        Some(v) => as_u64(v, name),
        None => Err(format!("{name} is missing")),
    }
}

/// Optional `u64` field (`null` counts as absent).
pub(crate) fn opt_u64(obj: &Object, name: &str) -> Result<Option<u64>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_u64(v, name).map(Some),
    }
}

/// Optional finite `f64` field (`null` counts as absent).
pub(crate) fn opt_f64(obj: &Object, name: &str) -> Result<Option<f64>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_f64(v, name).map(Some),
    }
}

/// Optional boolean field; absent is `default`.
pub(crate) fn bool_or(obj: &Object, name: &str, default: bool) -> Result<bool, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!("{name} is {} (expected a boolean)", kind(v))),
    }
}

/// Optional string field; absent or empty is `None`.
pub(crate) fn opt_string(obj: &Object, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("{name} is {} (expected a string)", kind(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn u64_accepts_integers_and_integral_floats_and_refuses_the_rest() {
        assert_eq!(as_u64(&json!(7), "x"), Ok(7));
        assert_eq!(as_u64(&json!(7.9), "x"), Ok(7));
        assert_eq!(as_u64(&json!(u64::MAX), "x"), Ok(u64::MAX));
        assert!(as_u64(&json!(-1), "x").unwrap_err().contains("x is -1"));
        assert!(as_u64(&json!(1e30), "x").is_err());
        assert!(as_u64(&json!("7"), "x").unwrap_err().contains("a string"));
    }

    #[test]
    fn huge_integer_literals_are_refused_not_wrapped() {
        let v = parse(b"{\"h\": 123456789012345678901234567890}").unwrap();
        let obj = object(&v, "doc").unwrap();
        assert!(req_u64(obj, "h").is_err());
    }

    #[test]
    fn missing_and_wrong_types_name_the_field() {
        let v = json!({"a": "x", "b": true});
        let obj = object(&v, "doc").unwrap();
        assert_eq!(req_u64(obj, "z"), Err("z is missing".to_owned()));
        assert!(bool_or(obj, "a", false)
            .unwrap_err()
            .starts_with("a is a string"));
        assert_eq!(bool_or(obj, "b", false), Ok(true));
        assert_eq!(opt_string(obj, "a"), Ok(Some("x".to_owned())));
        assert!(object(&json!([1]), "doc").unwrap_err().contains("an array"));
    }
}
