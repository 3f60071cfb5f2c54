//! The stack's compose file (`deploy/compose.yaml`, built in) and its resolution against a `.env`
//! the way `docker compose config` does it: profiles applied, `${VAR}` forms substituted.
//!
//! Substitution runs on parsed string scalars, never on the text, so a value can never change
//! the document's structure.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

/// `deploy/compose.yaml` as shipped.
pub const COMPOSE_YAML: &str = include_str!("../../../deploy/compose.yaml");

/// Why the compose file cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeFileError {
    /// Not YAML, or not the compose shape.
    #[error("compose file: {0}")]
    Malformed(String),
    /// A `${VAR:?message}` whose variable is unset or empty.
    #[error("compose file: {var} is required: {message}")]
    Required {
        /// The variable.
        var: String,
        /// The file's message.
        message: String,
    },
    /// A `$` form this resolver does not know.
    #[error("compose file: unsupported substitution in {text:?}")]
    Unsupported {
        /// The scalar holding it.
        text: String,
    },
}

/// Substitutes `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?msg}` and
/// `${VAR?msg}` in one scalar, with compose's meanings (`:` also treats empty as unset).
pub fn interpolate(text: &str, env: &BTreeMap<String, String>) -> Result<String, ComposeFileError> {
    let unsupported = || ComposeFileError::Unsupported { text: text.into() };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or_else(unsupported)?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            if name.is_empty() {
                return Err(unsupported());
            }
            let value = env.get(name);
            let set_nonempty = value.is_some_and(|v| !v.is_empty());
            let resolved = if op.is_empty() {
                value.cloned().unwrap_or_default()
            } else if let Some(default) = op.strip_prefix(":-") {
                if set_nonempty {
                    value.cloned().unwrap_or_default()
                } else {
                    default.to_owned()
                }
            } else if let Some(default) = op.strip_prefix('-') {
                value.cloned().unwrap_or_else(|| default.to_owned())
            } else if let Some(message) = op.strip_prefix(":?") {
                if !set_nonempty {
                    return Err(ComposeFileError::Required {
                        var: name.into(),
                        message: message.into(),
                    });
                }
                value.cloned().unwrap_or_default()
            } else if let Some(message) = op.strip_prefix('?') {
                value.cloned().ok_or_else(|| ComposeFileError::Required {
                    var: name.into(),
                    message: message.into(),
                })?
            } else {
                return Err(unsupported());
            };
            out.push_str(&resolved);
            continue;
        }
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_end == 0 {
            return Err(unsupported());
        }
        out.push_str(env.get(&rest[..name_end]).map_or("", String::as_str));
        rest = &rest[name_end..];
    }
    out.push_str(rest);
    Ok(out)
}

fn interpolate_value(
    value: &mut Value,
    env: &BTreeMap<String, String>,
) -> Result<(), ComposeFileError> {
    match value {
        Value::String(s) => *s = interpolate(s, env)?,
        Value::Sequence(items) => {
            for item in items {
                interpolate_value(item, env)?;
            }
        }
        Value::Mapping(map) => {
            for (_, v) in map.iter_mut() {
                interpolate_value(v, env)?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, env)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// The active profiles of a `COMPOSE_PROFILES` value.
pub fn profiles(env: &BTreeMap<String, String>) -> Vec<String> {
    env.get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The compose document as compose would run it with `env`: every variable substituted,
/// services outside the active profiles removed, `x-*` extension keys dropped.
///
/// Substitution covers every service, the disabled ones too: Debian's docker-compose (1.29)
/// interpolates the whole file before it applies profiles, so a `${VAR:?msg}` in a disabled
/// service whose variable is empty refuses the whole stack there.
pub fn resolve(yaml: &str, env: &BTreeMap<String, String>) -> Result<Mapping, ComposeFileError> {
    let mut doc: Value =
        serde_norway::from_str(yaml).map_err(|e| ComposeFileError::Malformed(e.to_string()))?;
    interpolate_value(&mut doc, env)?;
    let Value::Mapping(mut doc) = doc else {
        return Err(ComposeFileError::Malformed("not a mapping".into()));
    };
    doc.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
    let active = profiles(env);
    let services = doc
        .get_mut("services")
        .and_then(Value::as_mapping_mut)
        .ok_or_else(|| ComposeFileError::Malformed("no services".into()))?;
    services.retain(|_, service| match service.get("profiles") {
        None => true,
        Some(Value::Sequence(p)) => p
            .iter()
            .filter_map(Value::as_str)
            .any(|p| active.iter().any(|a| a == p)),
        Some(_) => false,
    });
    match Value::Mapping(doc) {
        Value::Mapping(m) => Ok(m),
        _ => Err(ComposeFileError::Malformed("not a mapping".into())),
    }
}

/// The container name of every service in a resolved document, in file order (the service
/// name when it sets none).
pub fn container_names(resolved: &Mapping) -> Vec<String> {
    resolved
        .get("services")
        .and_then(Value::as_mapping)
        .map(|services| {
            services
                .iter()
                .filter_map(|(name, s)| {
                    s.get("container_name")
                        .and_then(Value::as_str)
                        .or_else(|| name.as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every service of the raw file (ignoring profiles), with the profiles it needs.
pub fn services_with_profiles(yaml: &str) -> Result<Vec<(String, Vec<String>)>, ComposeFileError> {
    let doc: Value =
        serde_norway::from_str(yaml).map_err(|e| ComposeFileError::Malformed(e.to_string()))?;
    let services = doc
        .get("services")
        .and_then(Value::as_mapping)
        .ok_or_else(|| ComposeFileError::Malformed("no services".into()))?;
    Ok(services
        .iter()
        .filter_map(|(name, s)| {
            let name = s
                .get("container_name")
                .and_then(Value::as_str)
                .or_else(|| name.as_str())?;
            let profiles = s
                .get("profiles")
                .and_then(Value::as_sequence)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some((name.to_owned(), profiles))
        })
        .collect())
}

/// The services expected to run under `COMPOSE_PROFILES` = `active`.
pub fn expected_services(yaml: &str, active: &[String]) -> Result<Vec<String>, ComposeFileError> {
    Ok(services_with_profiles(yaml)?
        .into_iter()
        .filter(|(_, p)| p.is_empty() || p.iter().any(|p| active.contains(p)))
        .map(|(name, _)| name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn every_substitution_form_has_compose_meaning() {
        let e = env(&[("A", "x"), ("E", "")]);
        let cases = [
            ("$$A", "$A"),
            ("$A-", "x-"),
            ("${A}", "x"),
            ("${B}", ""),
            ("${A:-d}", "x"),
            ("${E:-d}", "d"),
            ("${E-d}", ""),
            ("${B-d}", "d"),
            ("${A:?m}", "x"),
            ("${E?m}", ""),
        ];
        for (text, want) in cases {
            assert_eq!(interpolate(text, &e).unwrap(), want, "{text}");
        }
        assert_eq!(
            interpolate("${E:?must be set}", &e),
            Err(ComposeFileError::Required {
                var: "E".into(),
                message: "must be set".into()
            })
        );
        assert!(interpolate("${B?m}", &e).is_err());
        assert!(interpolate("${A/x/y}", &e).is_err());
    }

    #[test]
    fn a_disabled_service_is_substituted_too_as_docker_compose_1_29_does() {
        let yaml = "services:\n  node:\n    profiles: [\"local_node\"]\n    image: i\n    \
                    environment:\n      USER: ${USER_NAME:?run render}\n  miner:\n    image: i\n";
        let env: BTreeMap<String, String> = [("USER_NAME".into(), String::new())].into();
        let err = resolve(yaml, &env).unwrap_err();
        assert!(err.to_string().contains("USER_NAME"), "{err}");
        let set: BTreeMap<String, String> = [("USER_NAME".into(), "u".into())].into();
        let resolved = resolve(yaml, &set).unwrap();
        assert_eq!(container_names(&resolved), ["miner"]);
    }

    #[test]
    fn profiles_gate_the_local_nodes() {
        let all =
            expected_services(COMPOSE_YAML, &["local_node".into(), "local_tari".into()]).unwrap();
        let none = expected_services(COMPOSE_YAML, &[]).unwrap();
        assert!(all.contains(&"monerod".to_owned()) && all.contains(&"tari".to_owned()));
        assert!(!none.contains(&"monerod".to_owned()) && !none.contains(&"tari".to_owned()));
        assert_eq!(all.len(), none.len() + 2);
    }
}
