//! The compose hardening invariants, checked on the resolved document (`compose_file::resolve`).
//!
//! `pithead render` refuses to write a stack that breaks one, and the tier-1 test runs this over
//! every axis value of the configuration, so a compose edit that weakens the stack fails CI.
//! The rules are the reference stack's (`tests/stack/standalone/test_compose.sh`), adapted where
//! Pithead's runtime differs (it joins `proxy_net` instead of using host networking).

use serde_norway::{Mapping, Value};

/// Services that drop every capability (caddy adds back only `NET_BIND_SERVICE`).
pub const CAP_DROP_ALL: &[&str] = &[
    "xmrig-proxy",
    "dashboard",
    "docker-proxy",
    "docker-control",
    "caddy",
];

/// Services that mine or serve the chain: never on the socket proxies' network.
pub const MINING: &[&str] = &["monerod", "tari", "p2pool", "xmrig-proxy"];

/// Images that must be pinned by digest.
pub const PINNED: &[&str] = &["docker-proxy", "docker-control", "caddy", "tari"];

/// The read-only proxy and the start/stop proxy.
pub const PROXIES: &[&str] = &["docker-proxy", "docker-control"];

/// The exact tmpfs set of each service (its only writable paths besides its volumes).
pub const TMPFS: &[(&str, &[&str])] = &[
    ("tor", &["/tmp:size=64m,noexec,nosuid,nodev"]),
    ("monerod", &["/tmp:size=64m,noexec,nosuid,nodev"]),
    ("tari", &["/tmp:size=64m,noexec,nosuid,nodev"]),
    ("p2pool", &["/tmp:size=64m,noexec,nosuid,nodev"]),
    ("xmrig-proxy", &["/tmp:size=16m,noexec,nosuid,nodev"]),
    ("dashboard", &["/tmp:size=16m,noexec,nosuid,nodev"]),
    (
        "docker-proxy",
        &[
            "/run:size=8m,noexec,nosuid,nodev",
            "/tmp:size=8m,noexec,nosuid,nodev",
        ],
    ),
    (
        "docker-control",
        &[
            "/run:size=8m,noexec,nosuid,nodev",
            "/tmp:size=8m,noexec,nosuid,nodev",
        ],
    ),
    (
        "caddy",
        &[
            "/tmp:size=16m,noexec,nosuid,nodev",
            "/config:size=8m,noexec,nosuid,nodev",
        ],
    ),
];

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service}: {rule}")]
pub struct Violation {
    /// The service (or `stack` for a whole-document rule).
    pub service: String,
    /// What is wrong.
    pub rule: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn environment(service: &Value) -> Vec<(String, String)> {
    match service.get("environment") {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), scalar(v))))
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (e.to_owned(), String::new()),
            })
            .collect(),
        _ => vec![],
    }
}

fn networks(service: &Value) -> Vec<String> {
    match service.get("networks") {
        Some(Value::Mapping(m)) => m
            .keys()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        other => strings(other),
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

fn is_digest_pinned(image: &str) -> bool {
    image.split_once("@sha256:").is_some_and(|(name, hex)| {
        !name.is_empty() && hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Every broken invariant of `resolved`; `secrets` are the rendered secret values, which no
/// healthcheck or command may carry.
pub fn check(resolved: &Mapping, secrets: &[&str]) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(services) = resolved.get("services").and_then(Value::as_mapping) else {
        out.push(Violation {
            service: "stack".into(),
            rule: "no services".into(),
        });
        return out;
    };
    for (name, service) in services {
        let name = name.as_str().unwrap_or("?");
        let mut fail = |rule: String| {
            out.push(Violation {
                service: name.to_owned(),
                rule,
            })
        };
        let n = |list: &[&str]| list.contains(&name);

        if !strings(service.get("security_opt")).contains(&"no-new-privileges:true".to_owned()) {
            fail("missing security_opt no-new-privileges:true".into());
        }
        let cap_drop = strings(service.get("cap_drop"));
        let drops_all = cap_drop == ["ALL"];
        if n(CAP_DROP_ALL) && !drops_all {
            fail("must have cap_drop: [ALL]".into());
        }
        if !n(CAP_DROP_ALL) && !cap_drop.is_empty() {
            fail(
                "cap_drop: [ALL] is only for the five services that run without capabilities"
                    .into(),
            );
        }
        let cap_add = strings(service.get("cap_add"));
        let allowed_add: &[&str] = if name == "caddy" {
            &["NET_BIND_SERVICE"]
        } else {
            &[]
        };
        if cap_add.iter().any(|c| !allowed_add.contains(&c.as_str())) {
            fail(format!("adds capabilities {cap_add:?}"));
        }
        if name == "tari" && service.get("user").map(scalar).as_deref() != Some("1000:1000") {
            fail("must run as user 1000:1000".into());
        }
        if service.get("read_only") != Some(&Value::Bool(true)) {
            fail("root filesystem must be read_only: true".into());
        }
        let tmpfs = strings(service.get("tmpfs"));
        match TMPFS.iter().find(|(s, _)| *s == name) {
            Some((_, want)) if tmpfs == *want => {}
            Some((_, want)) => fail(format!("tmpfs must be exactly {want:?}, is {tmpfs:?}")),
            None => fail("no tmpfs set is declared for this service in hardening::TMPFS".into()),
        }
        for t in &tmpfs {
            let opts = t.split_once(':').map_or("", |(_, o)| o);
            if opts.split(',').any(|o| o == "exec") || !opts.split(',').any(|o| o == "noexec") {
                fail(format!("tmpfs {t:?} must be noexec"));
            }
        }
        let env = environment(service);
        let volumes = strings(service.get("volumes"));
        let socket_mounts: Vec<&String> = volumes
            .iter()
            .filter(|v| v.starts_with("/var/run/docker.sock:"))
            .collect();
        if n(PROXIES) {
            if socket_mounts.len() != 1 || !socket_mounts.iter().all(|v| v.ends_with(":ro")) {
                fail("must mount the docker socket read-only (:ro)".into());
            }
            if networks(service) != ["proxy_net"] {
                fail("must sit only on proxy_net".into());
            }
            for port in strings(service.get("ports")) {
                if !port.starts_with("127.0.0.1:") {
                    fail(format!("publishes {port:?} beyond 127.0.0.1"));
                }
            }
        } else if !socket_mounts.is_empty() {
            fail("mounts the docker socket; only the socket proxies may".into());
        }
        let on: Vec<&str> = env
            .iter()
            .filter(|(_, v)| truthy(v))
            .map(|(k, _)| k.as_str())
            .collect();
        if name == "docker-proxy" && on.iter().any(|k| *k == "POST" || k.starts_with("ALLOW_")) {
            fail(format!("the read-only proxy allows writes ({on:?})"));
        }
        if name == "docker-control" {
            let permitted = ["CONTAINERS", "POST", "ALLOW_START", "ALLOW_STOP"];
            if on.iter().any(|k| !permitted.contains(k))
                || !on.contains(&"ALLOW_START")
                || !on.contains(&"ALLOW_STOP")
            {
                fail(format!(
                    "the control proxy must allow only start and stop ({on:?})"
                ));
            }
        }
        if n(MINING) && networks(service).iter().any(|n| n == "proxy_net") {
            fail("a mining service must not join proxy_net".into());
        }
        match service.get("healthcheck") {
            None => fail("has no healthcheck".into()),
            Some(h) => {
                let test = strings(h.get("test")).join(" ");
                if test.is_empty()
                    || test.starts_with("NONE")
                    || h.get("disable") == Some(&Value::Bool(true))
                {
                    fail("has no working healthcheck".into());
                }
                if secrets.iter().any(|s| !s.is_empty() && test.contains(s)) {
                    fail("healthcheck carries a credential".into());
                }
            }
        }
        let command = strings(service.get("command")).join(" ");
        if secrets.iter().any(|s| !s.is_empty() && command.contains(s)) {
            fail("command line carries a credential".into());
        }
        if name == "xmrig-proxy"
            && !env
                .iter()
                .any(|(k, v)| k == "PROXY_AUTH_TOKEN" && !v.trim().is_empty())
        {
            fail("PROXY_AUTH_TOKEN must not be empty".into());
        }
        if volumes.iter().any(|v| {
            v.split(':')
                .next()
                .is_some_and(|src| src.ends_with("config.json"))
        }) {
            fail("mounts the raw config.json".into());
        }
        let logging = service.get("logging");
        let opts = logging.and_then(|l| l.get("options"));
        if opts.and_then(|o| o.get("max-size")).is_none()
            || opts.and_then(|o| o.get("max-file")).is_none()
        {
            fail("has no log rotation (logging.options max-size / max-file)".into());
        }
        if service
            .get("mem_limit")
            .map(scalar)
            .is_none_or(|m| m.trim().is_empty())
        {
            fail("has no mem_limit".into());
        }
        if n(PINNED) {
            let image = service.get("image").map(scalar).unwrap_or_default();
            if !is_digest_pinned(&image) {
                fail(format!("image {image:?} must be pinned by digest"));
            }
        }
    }
    let text = serde_norway::to_string(resolved).unwrap_or_default();
    if text.contains("get_info") {
        out.push(Violation {
            service: "stack".into(),
            rule: "the render names get_info (credentials belong in healthcheck scripts)".into(),
        });
    }
    out
}
