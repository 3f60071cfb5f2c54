//! The assertion battery: what a box must show after `pithead apply -y` of a matrix row, judged
//! from what was read on it (`config.json`, `.env`, the Caddyfile, `pithead status`,
//! `/api/state`).
//!
//! Pure: every expected value is derived from the applied `config.json` by the rules of domain
//! §7 and compared with what was read. A check's error says expected vs seen and prints a
//! `.env` value only for a key that is not a secret.

use std::collections::BTreeMap;

use pithead_runtime::cli::apply::NO_CHANGES;
use pithead_runtime::cli::config::Config;
use pithead_runtime::cli::env_file::{is_secret_env, EnvFile};
use serde_json::Value;

/// The summary line `pithead status` prints when nothing needs attention.
pub const ALL_UP: &str = "All expected services are up.";

/// What was read on the box after an apply.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxFacts {
    /// `config.json` as applied.
    pub config: Value,
    /// The stack's `.env`, parsed ([`parse_env`]).
    pub env: BTreeMap<String, String>,
    /// The rendered `Caddyfile`.
    pub caddyfile: String,
    /// `pithead status`'s exit code (`None`: killed or timed out).
    pub status_code: Option<i32>,
    /// `pithead status`'s stdout.
    pub status_out: String,
    /// The runtime's `/api/state`, when it answered.
    pub state: Option<Value>,
}

/// One assertion and its outcome (a short sentence as its name; `Err` says expected vs seen).
pub use super::report::Check;

impl Check {
    fn new(name: impl Into<String>, result: Result<(), String>) -> Self {
        Self {
            name: name.into(),
            result,
        }
    }
}

/// Parses a `.env` as the renderer writes it (comments, blank lines, single- or
/// double-quoted values); a line that is not `KEY=value` is skipped.
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    // Line by line through the runtime's own parser, so quoting means what the CLI means,
    // while one bad line costs only itself.
    text.lines()
        .filter_map(|line| EnvFile::parse(line).ok())
        .flat_map(|one| one.to_map())
        .collect()
}

/// The battery for one box: every check, passed or failed, in a stable order.
pub fn battery(facts: &BoxFacts) -> Vec<Check> {
    // Keys left out of config.json take the CLI's defaults, exactly as `pithead apply` did.
    let c: Config = match serde_json::from_value(facts.config.clone()) {
        Ok(c) => c,
        // serde's message may quote a value (a password of the wrong type): not shown.
        Err(_) => {
            return vec![Check::new(
                "config.json as applied is a pithead config",
                Err("it does not deserialize (a key has the wrong type)".into()),
            )]
        }
    };
    let mut checks = env_checks(&c, &facts.env);
    checks.extend(caddy_checks(&c, &facts.caddyfile));
    checks.extend(status_checks(&c, facts));
    checks.extend(state_checks(&c, facts.state.as_ref()));
    checks
}

/// Whether the output of a second `pithead apply -y` says nothing changed.
pub fn second_apply_is_noop(apply_stdout: &str) -> Check {
    let noop = apply_stdout.lines().any(|l| l.trim() == NO_CHANGES);
    let result = if noop {
        Ok(())
    } else {
        // The CLI prints a changed secret as changed, never its value.
        let changes: Vec<&str> = apply_stdout
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(str::trim)
            .take(5)
            .collect();
        Err(format!(
            "expected {NO_CHANGES:?}, seen {} change line(s): {}",
            changes.len(),
            changes.join("; ")
        ))
    };
    Check::new("a second `pithead apply -y` is a no-op", result)
}

fn shown(key: &str, value: &str) -> String {
    if is_secret_env(key) {
        "(a secret, not shown)".into()
    } else {
        format!("{value:?}")
    }
}

fn env_is(env: &BTreeMap<String, String>, key: &str, expected: &str) -> Check {
    let result = match env.get(key) {
        Some(seen) if seen == expected => Ok(()),
        Some(seen) => Err(format!(
            "expected {}, seen {}",
            shown(key, expected),
            shown(key, seen)
        )),
        None => Err(format!(
            "expected {}, but .env has no {key}",
            shown(key, expected)
        )),
    };
    Check::new(
        format!(".env sets {key} to {}", shown(key, expected)),
        result,
    )
}

fn profile(env: &BTreeMap<String, String>, name: &str, wanted: bool, because: &str) -> Check {
    let raw = env.get("COMPOSE_PROFILES").map_or("", String::as_str);
    let has = raw.split(',').any(|p| p.trim() == name);
    let verb = if wanted { "includes" } else { "leaves out" };
    let result = if has == wanted {
        Ok(())
    } else {
        Err(format!(
            "expected {name} {} COMPOSE_PROFILES ({because}), seen {raw:?}",
            if wanted { "in" } else { "not in" }
        ))
    };
    Check::new(format!(".env COMPOSE_PROFILES {verb} {name}"), result)
}

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn env_checks(c: &Config, env: &BTreeMap<String, String>) -> Vec<Check> {
    let local = c.monero.mode == "local";
    let tari = c.tari.mode.as_str();
    let mut checks = vec![
        profile(
            env,
            "local_node",
            local,
            &format!("monero.mode is {:?}", c.monero.mode),
        ),
        profile(
            env,
            "local_tari",
            tari == "local",
            &format!("tari.mode is {tari:?}"),
        ),
    ];
    let (host, port) = if local {
        ("monerod".to_owned(), 18081)
    } else {
        (c.monero.remote.host.clone(), c.monero.remote.rpc_port)
    };
    checks.push(env_is(env, "MONERO_NODE_HOST", &host));
    checks.push(env_is(env, "MONERO_RPC_PORT", &port.to_string()));
    let bind = if c.monero.rpc_lan_access {
        "0.0.0.0"
    } else {
        "127.0.0.1"
    };
    checks.push(env_is(env, "MONERO_RPC_BIND", bind));
    checks.push(env_is(
        env,
        "MONERO_PRUNE",
        if c.monero.prune { "1" } else { "0" },
    ));
    match c.p2pool.pool.as_str() {
        "main" => checks.push(env_is(env, "P2POOL_FLAGS", "")),
        "mini" => checks.push(env_is(env, "P2POOL_FLAGS", "--mini")),
        "nano" => checks.push(env_is(env, "P2POOL_FLAGS", "--nano")),
        other => checks.push(Check::new(
            "config.json p2pool.pool is main, mini or nano",
            Err(format!("seen {other:?}")),
        )),
    }
    checks.push(env_is(env, "XVB_ENABLED", flag(c.xvb.enabled)));
    // With Tari off there is nothing to wait for, whatever dashboard.tari_required says.
    checks.push(env_is(
        env,
        "TARI_REQUIRED",
        flag(c.dashboard.tari_required && tari != "off"),
    ));
    let tari_address = match tari {
        "local" => "tari:18142".to_owned(),
        "remote" => format!("{}:{}", c.tari.remote.host, c.tari.remote.grpc_port),
        _ => String::new(),
    };
    checks.push(env_is(env, "TARI_GRPC_ADDRESS", &tari_address));
    checks.push(env_is(env, "DASHBOARD_SECURE", flag(c.dashboard.secure)));
    checks
}

fn caddy_checks(c: &Config, caddyfile: &str) -> Vec<Check> {
    let scheme = if c.dashboard.secure { "https" } else { "http" };
    // The site address is the first line that is not a comment; the lines after it may hold
    // the basic-auth hash, so only this one is ever shown.
    let site = caddyfile
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let prefix = format!("{scheme}://");
    let serves = Check::new(
        format!("the Caddyfile serves {scheme}"),
        if site.starts_with(&prefix) {
            Ok(())
        } else {
            Err(format!(
                "expected the site address to start with {prefix:?}, seen {site:?}"
            ))
        },
    );
    let has_tls = caddyfile
        .lines()
        .any(|l| l.trim().starts_with("tls internal"));
    let tls = Check::new(
        if c.dashboard.secure {
            "the Caddyfile uses tls internal"
        } else {
            "the Caddyfile has no tls directive"
        },
        if has_tls == c.dashboard.secure {
            Ok(())
        } else {
            Err(format!(
                "expected {} `tls internal` line (dashboard.secure is {}), seen {}",
                if c.dashboard.secure { "a" } else { "no" },
                c.dashboard.secure,
                if has_tls { "one" } else { "none" }
            ))
        },
    );
    vec![serves, tls]
}

/// The services `pithead status` listed (one `  <mark> <service> ...` line each, under
/// `Service health check:`).
fn listed_services(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| !l.starts_with("Service health check:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect()
}

fn status_checks(c: &Config, facts: &BoxFacts) -> Vec<Check> {
    let exit = Check::new(
        "`pithead status` exits 0",
        match facts.status_code {
            Some(0) => Ok(()),
            Some(n) => Err(format!("expected exit 0, seen exit {n}")),
            None => Err("expected exit 0, seen no exit code (killed or timed out)".into()),
        },
    );
    let last = facts.status_out.lines().last().unwrap_or("").trim();
    let all_up = Check::new(
        format!("`pithead status` prints {ALL_UP:?}"),
        if facts.status_out.lines().any(|l| l.trim() == ALL_UP) {
            Ok(())
        } else {
            Err(format!("expected {ALL_UP:?}, seen {last:?}"))
        },
    );
    let services = listed_services(&facts.status_out);
    let listed = |service: &str, wanted: bool, because: String| {
        let has = services.contains(&service);
        Check::new(
            format!(
                "`pithead status` {} {service}",
                if wanted { "lists" } else { "does not list" }
            ),
            if has == wanted {
                Ok(())
            } else {
                Err(format!(
                    "expected {service} {} ({because}), seen {}",
                    if wanted { "listed" } else { "absent" },
                    services.join(", ")
                ))
            },
        )
    };
    vec![
        exit,
        all_up,
        listed(
            "monerod",
            c.monero.mode == "local",
            format!("monero.mode is {:?}", c.monero.mode),
        ),
        listed(
            "tari",
            c.tari.mode == "local",
            format!("tari.mode is {:?}", c.tari.mode),
        ),
    ]
}

fn state_checks(c: &Config, state: Option<&Value>) -> Vec<Check> {
    let is = |path: &str, expected: Value| {
        let result = match state {
            None => Err(format!("expected {expected}, but /api/state was not read")),
            Some(s) => {
                let seen = path.split('.').try_fold(s, |v, k| v.get(k));
                match seen {
                    Some(seen) if *seen == expected => Ok(()),
                    Some(seen) => Err(format!("expected {expected}, seen {seen}")),
                    None => Err(format!("expected {expected}, but it has no {path}")),
                }
            }
        };
        Check::new(format!("/api/state has {path} {expected}"), result)
    };
    // The runtime takes the mode from its environment (MONERO_NODE_HOST against
    // LOCAL_MONERO_HOST, and MONERO_PRUNE), not from the node, so it is exact here.
    let mode = if c.monero.mode != "local" {
        "Unknown"
    } else if c.monero.prune {
        "Pruned"
    } else {
        "Full"
    };
    // Present from the first cycle on, which the readiness waiters have seen.
    let xvb = is("xvb.enabled", Value::Bool(c.xvb.enabled));
    vec![
        is("miner_released", Value::Bool(true)),
        is("workers_rejected", Value::Bool(false)),
        is("syncing", Value::Bool(false)),
        is("monero.mode", Value::String(mode.into())),
        xvb,
        tari_watched(c, state),
    ]
}

/// The runtime watches a Tari node (`nodes.tari`) iff the stack has one.
fn tari_watched(c: &Config, state: Option<&Value>) -> Check {
    let wanted = c.tari.mode != "off";
    let name = format!(
        "/api/state {} the Tari node",
        if wanted { "watches" } else { "does not watch" }
    );
    let result = match state {
        None => Err("/api/state was not read".to_owned()),
        Some(s) => {
            let has = s["nodes"].get("tari").is_some();
            if has == wanted {
                Ok(())
            } else {
                Err(format!(
                    "expected nodes.tari {} (tari.mode is {:?}), seen it {}",
                    if wanted { "present" } else { "absent" },
                    c.tari.mode,
                    if has { "present" } else { "absent" }
                ))
            }
        }
    };
    Check::new(name, result)
}

#[cfg(test)]
mod tests;
