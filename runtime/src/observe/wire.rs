//! Decoding the daemons' JSON into `#[derive(Deserialize)]` wire structs, with errors that name
//! the field path (`result.height: invalid type: string "1", expected a non-negative integer`).
//!
//! Documents and nested documents are JSON objects only ([`object`]): serde's derive would also
//! take an array as a struct's fields in order, which no daemon sends.
//!
//! Numbers are lenient where daemons differ: a count is a JSON integer, or a finite
//! non-negative float below 2^64 (p2pool prints some counters through `double`), truncated;
//! anything out of range is refused rather than wrapped or saturated. serde_json bounds nesting
//! depth (128), so hostile nesting is an error, not a stack overflow.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// Why a body is not the document a parser expects.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Not JSON at all, or trailing bytes after the document.
    #[error("not JSON: {0}")]
    Syntax(#[source] serde_json::Error),
    /// A field is missing, of the wrong type, or out of range (the message names its path).
    /// serde quotes the offending value whole: shown through [`super::daemon_text::clean`], so a
    /// megabyte string where a number belongs is not a megabyte error in a log line or an alert.
    #[error("{}", super::daemon_text::clean(&.0.to_string()))]
    Field(#[from] serde_path_to_error::Error<serde_json::Error>),
    /// A required field is absent (or `null`).
    #[error("{field} is missing")]
    Missing {
        /// The field's path.
        field: &'static str,
    },
    /// A field decodes but holds a value the parser refuses.
    #[error("{field} is {value:?} ({expected})")]
    Refused {
        /// The field's path.
        field: &'static str,
        /// The value, cut to 64 characters.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
}

impl WireError {
    /// A refused value, shown cut to 64 characters.
    pub fn refused(field: &'static str, value: &str, expected: &'static str) -> Self {
        Self::Refused {
            field,
            value: value.chars().take(64).collect(),
            expected,
        }
    }
}

/// Decodes one JSON document into `T`.
///
/// A well-formed document is decoded without tracking the path: the tracker allocates every key
/// it passes, which was most of a reply's decoding cost. Only a document that fails is decoded
/// again, with the tracker, to name the field; decoding is deterministic, so the second pass
/// fails the same way.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match Object::<T>::deserialize(&mut de).and_then(|Object(value)| de.end().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(fast) => Err(parse_tracked::<T>(bytes)
            .err()
            .unwrap_or(WireError::Syntax(fast))),
    }
}

/// [`parse`] with the field path tracked, for the message of a document that failed.
fn parse_tracked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Object(value) = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_syntax() || e.inner().is_eof() {
            WireError::Syntax(e.into_inner())
        } else {
            WireError::Field(e)
        }
    })?;
    de.end().map_err(WireError::Syntax)?;
    Ok(value)
}

/// The document `T`, from a JSON object only.
struct Object<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Object)
    }
}

/// A nested document `T`, from a JSON object only (not an array of its fields).
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    d.deserialize_map(ObjectVisitor(PhantomData))
}

/// An optional nested document (`null` or absent is `None`); use with `#[serde(default)]`.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    d.deserialize_option(OptionOf(ObjectVisitor(PhantomData)))
}

struct ObjectVisitor<T>(PhantomData<fn() -> T>);

impl<T> Clone for ObjectVisitor<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ObjectVisitor<T> {}

impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// A count: an integer, or a finite non-negative float below 2^64 (truncated).
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(CountVisitor)
}

/// An optional count (`null` or absent is `None`); use with `#[serde(default)]`.
pub fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(OptionOf(CountVisitor))
}

/// A count that is `0` when `null`; use with `#[serde(default)]` for "absent is 0".
pub fn count_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_count(d).map(Option::unwrap_or_default)
}

/// The length of an array whose items are not looked at; `null` is empty. Use with
/// `#[serde(default)]` for "absent is empty".
pub fn length<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let items: Option<Vec<de::IgnoredAny>> = serde::Deserialize::deserialize(d)?;
    Ok(items.map_or(0, |items| items.len()))
}

/// A finite number.
pub fn finite<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(FiniteVisitor)
}

/// An optional finite number (`null` or absent is `None`); use with `#[serde(default)]`.
pub fn opt_finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_option(OptionOf(FiniteVisitor))
}

/// An optional string; `null`, absent or empty is `None`. Use with `#[serde(default)]`.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(text.filter(|s| !s.is_empty()))
}

/// An optional boolean; `null` or absent is `false`. Use with `#[serde(default)]`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let flag: Option<bool> = serde::Deserialize::deserialize(d)?;
    Ok(flag.unwrap_or(false))
}

/// A [`count`] as a type, for positions that take no attribute (array items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        count(d).map(Count)
    }
}

/// A [`finite`] number as a type, for positions that take no attribute (array items).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finite(pub f64);

impl<'de> serde::Deserialize<'de> for Finite {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        finite(d).map(Finite)
    }
}

/// 2^64 as `f64` is exact; anything at or above it does not fit a `u64`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

#[derive(Clone, Copy)]
struct CountVisitor;

impl Visitor<'_> for CountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
        Ok(n)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u64, E> {
        u64::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<u64, E> {
        if (0.0..TWO_POW_64).contains(&f) {
            // In range and non-negative, checked above.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = f as u64;
            Ok(n)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(f), &self))
        }
    }
}

#[derive(Clone, Copy)]
struct FiniteVisitor;

impl Visitor<'_> for FiniteVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a finite number")
    }

    #[allow(clippy::cast_precision_loss)] // hashrates and counters: f64 is what they are used as
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<f64, E> {
        Ok(n as f64)
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<f64, E> {
        Ok(n as f64)
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<f64, E> {
        if f.is_finite() {
            Ok(f)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(f), &self))
        }
    }
}

/// `null` as `None`, anything else through the inner visitor.
struct OptionOf<V>(V);

impl<'de, V: Visitor<'de> + Copy> Visitor<'de> for OptionOf<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "count")]
        h: u64,
        #[serde(default, deserialize_with = "opt_count")]
        o: Option<u64>,
        #[serde(default, deserialize_with = "flag")]
        b: bool,
        #[serde(default, deserialize_with = "opt_text")]
        s: Option<String>,
    }

    fn h(json: &str) -> Result<u64, String> {
        parse::<Doc>(json.as_bytes())
            .map(|d| d.h)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn counts_accept_integers_and_integral_floats_and_refuse_the_rest() {
        assert_eq!(h(r#"{"h":7}"#), Ok(7));
        assert_eq!(h(r#"{"h":7.9}"#), Ok(7));
        assert_eq!(h(&format!(r#"{{"h":{}}}"#, u64::MAX)), Ok(u64::MAX));
        assert!(h(r#"{"h":-1}"#)
            .unwrap_err()
            .starts_with("h: invalid value: integer `-1`"));
        assert!(h(r#"{"h":1e30}"#).is_err());
        assert!(h(r#"{"h":"7"}"#)
            .unwrap_err()
            .contains("h: invalid type: string"));
        assert!(h(r#"{"h":123456789012345678901234567890}"#).is_err());
    }

    #[test]
    fn a_huge_value_in_the_wrong_place_is_a_short_error() {
        let huge = "7".repeat(100_000);
        let e = h(&format!(r#"{{"h":"{huge}"}}"#)).unwrap_err();
        assert!(e.starts_with("h: invalid type: string"), "{e}");
        assert!(
            e.chars().count() <= super::super::daemon_text::MAX_CHARS,
            "{} chars",
            e.len()
        );
        // A JSON-escaped newline: the key holds a real one once decoded.
        let key = "k\\n".repeat(50_000);
        let e = parse::<std::collections::BTreeMap<String, Doc>>(
            format!(r#"{{"{key}":{{"h":"x"}}}}"#).as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains('\n') && e.chars().count() <= 200, "{e}");
    }

    #[test]
    fn missing_and_wrong_types_name_the_field() {
        assert_eq!(
            h(r#"{"o":1}"#).unwrap_err(),
            "missing field `h` at line 1 column 7"
        );
        let e = parse::<Doc>(br#"{"h":1,"b":"x"}"#).unwrap_err().to_string();
        assert!(e.starts_with("b: invalid type: string"), "{e}");
        let d = parse::<Doc>(br#"{"h":1,"o":null,"b":true,"s":""}"#).unwrap();
        assert_eq!((d.o, d.b, d.s), (None, true, None));
        let d = parse::<Doc>(br#"{"h":1,"o":2.5,"s":"x"}"#).unwrap();
        assert_eq!((d.o, d.b, d.s.as_deref()), (Some(2), false, Some("x")));
        assert!(parse::<Doc>(b"[1]")
            .unwrap_err()
            .to_string()
            .contains("sequence"));
        assert!(parse::<Doc>(b"{\"h\":1} x")
            .unwrap_err()
            .to_string()
            .starts_with("not JSON"));
        assert!(parse::<Doc>(b"{\"h\":")
            .unwrap_err()
            .to_string()
            .starts_with("not JSON"));
    }
}
