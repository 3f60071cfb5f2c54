//! `pithead render` at tier 1: every axis value of the configuration renders a stack that obeys
//! every compose hardening invariant, each invariant is shown to catch its breach, and the
//! generated secrets survive a re-render byte for byte.
// The helpers below are test code: a panic is how they report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::hardening;
use pithead_runtime::cli::render::{self, Owner};
use pithead_runtime::cli::secrets::{self, Entropy, OsEntropy, SecretError};
use pithead_runtime::cli::stack_dir::{RearmScope, StackDir};
use pithead_runtime::cli::validate::load;
use pithead_runtime::config::Config;
use pithead_runtime::control::xvb::SideChain;
use pithead_runtime::store::{Rearm, SnapshotStore};
use serde_json::{json, Value};
use serde_norway::Value as Yaml;

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";
const OWNER: Owner = Owner {
    uid: 1000,
    gid: 1000,
};

/// Distinct, recognisable secrets without the OS.
struct Counter(u32);

impl Entropy for Counter {
    fn alphanumeric(&mut self, len: usize) -> Result<String, SecretError> {
        self.0 += 1;
        Ok(format!("{:0>width$}", format!("T{}", self.0), width = len))
    }
    fn bcrypt(&mut self, password: &str) -> Result<String, SecretError> {
        OsEntropy.bcrypt(password)
    }
}

fn config(overrides: &[(&str, Value)]) -> Value {
    let mut doc = json!({
        "monero": { "wallet_address": XMR, "remote": { "host": "node.lan" } },
        "tari": { "wallet_address": TARI, "remote": { "host": "tari.lan" } },
    });
    for (path, value) in overrides {
        let (section, key) = path.split_once('.').unwrap();
        doc[section][key] = value.clone();
    }
    doc
}

fn env_of(doc: &Value) -> (pithead_runtime::cli::env_file::EnvFile, String) {
    let settings = load(&doc.to_string()).unwrap();
    let secrets = secrets::resolve(&settings, None, &mut Counter(0)).unwrap();
    let rendered = render::render(&settings, &secrets, OWNER).unwrap();
    (rendered.env, rendered.caddyfile)
}

#[test]
fn every_axis_value_renders_a_hardened_stack_with_its_settings() {
    let axes: Vec<(&str, Value, &str, &str)> = vec![
        (
            "monero.mode",
            json!("local"),
            "COMPOSE_PROFILES",
            "local_node,local_tari",
        ),
        (
            "monero.mode",
            json!("remote"),
            "MONERO_NODE_HOST",
            "node.lan",
        ),
        ("monero.prune", json!(true), "MONERO_PRUNE", "1"),
        ("monero.prune", json!(false), "MONERO_PRUNE", "0"),
        (
            "monero.rpc_lan_access",
            json!(true),
            "MONERO_RPC_BIND",
            "0.0.0.0",
        ),
        (
            "monero.rpc_lan_access",
            json!(false),
            "MONERO_RPC_BIND",
            "127.0.0.1",
        ),
        ("p2pool.pool", json!("main"), "P2POOL_FLAGS", ""),
        ("p2pool.pool", json!("mini"), "P2POOL_FLAGS", "--mini"),
        ("p2pool.pool", json!("nano"), "P2POOL_FLAGS", "--nano"),
        ("xvb.enabled", json!(true), "XVB_ENABLED", "true"),
        ("xvb.enabled", json!(false), "XVB_ENABLED", "false"),
        ("xvb.tor", json!(true), "XVB_PROXY", "socks5h://tor:9050"),
        ("xvb.tor", json!(false), "XVB_PROXY", ""),
        (
            "xvb.api_url",
            json!("https://xvb.example:8443"),
            "XVB_API_URL",
            "https://xvb.example:8443",
        ),
        (
            "xvb.ca_file",
            json!("/data/xvb-ca.pem"),
            "XVB_CA_FILE",
            "/data/xvb-ca.pem",
        ),
        ("dashboard.secure", json!(true), "DASHBOARD_PORT", "443"),
        ("dashboard.secure", json!(false), "DASHBOARD_PORT", "80"),
        (
            "dashboard.tari_required",
            json!(true),
            "TARI_REQUIRED",
            "true",
        ),
        (
            "dashboard.tari_required",
            json!(false),
            "TARI_REQUIRED",
            "false",
        ),
        (
            "tari.mode",
            json!("local"),
            "TARI_GRPC_ADDRESS",
            "tari:18142",
        ),
        (
            "tari.mode",
            json!("remote"),
            "TARI_GRPC_ADDRESS",
            "tari.lan:18142",
        ),
        ("tari.mode", json!("off"), "TARI_GRPC_ADDRESS", ""),
    ];
    for (key, value, env_key, want) in axes {
        let doc = config(&[(key, value.clone())]);
        let (env, caddy) = env_of(&doc);
        assert_eq!(env.get(env_key), Some(want), "{key}={value}");
        let resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
        let violations = hardening::check(&resolved, &env.secret_values());
        assert!(violations.is_empty(), "{key}={value}: {violations:?}");
        let names = compose_file::container_names(&resolved);
        let local_node = env.get("COMPOSE_PROFILES").unwrap().contains("local_node");
        assert_eq!(
            names.contains(&"monerod".to_owned()),
            local_node,
            "{key}={value}"
        );
        if key == "dashboard.secure" {
            let https = value == json!(true);
            assert!(caddy.starts_with("# "));
            assert!(!caddy.contains("{{"), "a placeholder was left: {caddy}");
            assert_eq!(caddy.matches("://").count(), 1, "{caddy}");
            assert_eq!(caddy.contains("https:// {"), https, "{caddy}");
            assert_eq!(caddy.contains("tls internal"), https, "{caddy}");
            assert_eq!(caddy.contains("http:// {"), !https, "{caddy}");
        }
    }
    // Tari off: nothing to wait for, whatever tari_required says.
    let (env, _) = env_of(&config(&[("tari.mode", json!("off"))]));
    assert_eq!(env.get("TARI_REQUIRED"), Some("false"));
    assert_eq!(env.get("COMPOSE_PROFILES"), Some("local_node"));
    // One project name for both compose flavours (Debian's docker-compose refuses `name:`).
    assert_eq!(env.get("COMPOSE_PROJECT_NAME"), Some("pithead"));
    assert!(!COMPOSE_YAML.lines().any(|l| l.starts_with("name:")));
}

/// The dashboard service's environment in the resolved compose file, as the container gets it.
fn dashboard_environment(resolved: &serde_norway::Mapping) -> BTreeMap<String, String> {
    let services = resolved.get("services").unwrap();
    let env = services
        .get("dashboard")
        .and_then(|d| d.get("environment"))
        .and_then(Yaml::as_mapping)
        .unwrap();
    env.iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Bool(b) => b.to_string(),
                Yaml::Number(n) => n.to_string(),
                _ => String::new(),
            };
            (k.as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn the_dashboard_gets_what_the_runtime_needs_for_xvb() {
    let doc = config(&[
        ("p2pool.pool", json!("nano")),
        ("xvb.donation_level", json!("vip")),
    ]);
    let (env, _) = env_of(&doc);
    let resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
    let dashboard = dashboard_environment(&resolved);
    let runtime = Config::from_lookup(|k| dashboard.get(k).cloned()).unwrap();
    assert!(runtime.xvb_enabled);
    let api = runtime
        .xvb
        .api_url
        .as_ref()
        .expect("XVB_API_URL reaches the dashboard");
    assert!(api.is_tls());
    assert_eq!(api.to_string(), "https://xmrvsbeast.com");
    assert_eq!(
        runtime
            .xvb
            .proxy
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("socks5h://tor:9050")
    );
    assert_eq!(runtime.xvb.ca_file, None);
    // donor_id auto: XvB knows the donor by the primary wallet address.
    assert_eq!(runtime.xvb.donor_address.as_deref(), Some(XMR));
    assert_eq!(runtime.xvb.side_chain, SideChain::Nano);
    assert_eq!(runtime.xvb.donation_level, "vip".parse().unwrap());
    assert_eq!(runtime.xvb.pool_url, "na.xmrvsbeast.com:4247");

    // Tor off and an extra CA: direct, the CA file passed as a path (the file itself is mounted
    // with ./data/dashboard), never its content.
    let doc = config(&[
        ("xvb.tor", json!(false)),
        ("xvb.ca_file", json!("/data/xvb-ca.pem")),
        ("xvb.donor_id", json!("donor42")),
    ]);
    let (env, _) = env_of(&doc);
    let resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
    assert!(hardening::check(&resolved, &env.secret_values()).is_empty());
    let dashboard = dashboard_environment(&resolved);
    let runtime = Config::from_lookup(|k| dashboard.get(k).cloned()).unwrap();
    assert_eq!(runtime.xvb.proxy, None);
    assert_eq!(
        runtime.xvb.ca_file.as_deref(),
        Some(std::path::Path::new("/data/xvb-ca.pem"))
    );
    assert_eq!(runtime.xvb.donor_address.as_deref(), Some("donor42"));
}

#[test]
fn the_caddyfile_carries_a_fixed_host_and_basic_auth_as_a_hash() {
    let password = "correct-horse-battery";
    let doc = config(&[
        ("dashboard.host", json!("pithead.lan")),
        (
            "dashboard.auth",
            json!({ "username": "miner", "password": password }),
        ),
    ]);
    let (env, caddy) = env_of(&doc);
    assert!(
        caddy.contains("https://pithead.lan {\n\ttls internal\n"),
        "{caddy}"
    );
    let hash = env.get("DASHBOARD_AUTH_HASH").unwrap();
    assert!(
        caddy.contains(&format!("basic_auth {{\n\t\tminer {hash}\n\t}}")),
        "{caddy}"
    );
    assert!(bcrypt::verify(password, hash).unwrap());
    assert!(!caddy.contains(password) && !env.to_text().unwrap().contains(password));
    let (_, plain) = env_of(&config(&[]));
    assert!(!plain.contains("basic_auth"), "{plain}");
    assert!(plain.lines().all(|l| !l.trim().is_empty() || l.is_empty()));
}

/// Breaks one invariant in the resolved document and expects the checker to name it.
fn breach(service: &str, edit: impl Fn(&mut serde_norway::Mapping), want: &str) {
    let (env, _) = env_of(&config(&[]));
    let mut resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
    let services = resolved
        .get_mut("services")
        .and_then(Yaml::as_mapping_mut)
        .unwrap();
    let svc = services
        .get_mut(service)
        .and_then(Yaml::as_mapping_mut)
        .unwrap();
    edit(svc);
    let violations = hardening::check(&resolved, &env.secret_values());
    assert!(
        violations
            .iter()
            .any(|v| v.service == service && v.rule.contains(want)),
        "{service}: want {want:?} in {violations:?}"
    );
}

fn set(key: &str, value: Yaml) -> impl Fn(&mut serde_norway::Mapping) {
    let key = key.to_owned();
    move |m| {
        m.insert(Yaml::from(key.clone()), value.clone());
    }
}

fn remove(key: &str) -> impl Fn(&mut serde_norway::Mapping) {
    let key = key.to_owned();
    move |m| {
        m.remove(key.as_str());
    }
}

fn yaml(text: &str) -> Yaml {
    serde_norway::from_str(text).unwrap()
}

#[test]
fn each_hardening_invariant_catches_its_breach() {
    breach("p2pool", remove("security_opt"), "no-new-privileges");
    breach("caddy", remove("cap_drop"), "cap_drop: [ALL]");
    breach(
        "monerod",
        set("cap_drop", yaml("[ALL]")),
        "only for the five",
    );
    breach(
        "dashboard",
        set("cap_add", yaml("[SYS_ADMIN]")),
        "adds capabilities",
    );
    breach("tari", remove("user"), "1000:1000");
    breach("tor", set("read_only", yaml("false")), "read_only");
    breach(
        "p2pool",
        set("tmpfs", yaml("['/tmp:size=64m,exec']")),
        "noexec",
    );
    breach(
        "p2pool",
        set(
            "tmpfs",
            yaml("['/tmp:size=64m,noexec,nosuid,nodev', '/var:size=1m,noexec']"),
        ),
        "tmpfs must be exactly",
    );
    breach(
        "docker-proxy",
        set("environment", yaml("{CONTAINERS: 1, POST: 1}")),
        "allows writes",
    );
    breach(
        "docker-control",
        set(
            "environment",
            yaml("{POST: 1, ALLOW_START: 1, ALLOW_STOP: 1, EXEC: 1}"),
        ),
        "only start and stop",
    );
    breach(
        "docker-control",
        set(
            "volumes",
            yaml("['/var/run/docker.sock:/var/run/docker.sock']"),
        ),
        "read-only",
    );
    breach(
        "docker-proxy",
        set("networks", yaml("[proxy_net, mining_net]")),
        "only on proxy_net",
    );
    breach(
        "docker-control",
        set("ports", yaml("['2375:2375']")),
        "beyond 127.0.0.1",
    );
    breach(
        "xmrig-proxy",
        set("networks", yaml("[mining_net, proxy_net]")),
        "must not join proxy_net",
    );
    breach(
        "p2pool",
        set(
            "volumes",
            yaml("['/var/run/docker.sock:/var/run/docker.sock:ro']"),
        ),
        "only the socket proxies",
    );
    breach("monerod", remove("healthcheck"), "no healthcheck");
    breach(
        "monerod",
        set("healthcheck", yaml("{test: [NONE]}")),
        "no working healthcheck",
    );
    breach(
        "xmrig-proxy",
        set("environment", yaml("{PROXY_AUTH_TOKEN: ''}")),
        "PROXY_AUTH_TOKEN",
    );
    breach(
        "dashboard",
        set("volumes", yaml("['./config.json:/config.json:ro']")),
        "config.json",
    );
    breach("caddy", remove("logging"), "log rotation");
    breach("tor", remove("mem_limit"), "mem_limit");
    breach("caddy", set("image", yaml("caddy:2")), "pinned by digest");
    breach(
        "tari",
        set("image", yaml("minotari:latest")),
        "pinned by digest",
    );

    // Credentials: a healthcheck or command carrying a secret, and get_info anywhere.
    let (env, _) = env_of(&config(&[]));
    let token = env.get("PROXY_AUTH_TOKEN").unwrap().to_owned();
    breach(
        "xmrig-proxy",
        set(
            "healthcheck",
            yaml(&format!("{{test: [CMD, curl, -H, 'Bearer {token}']}}")),
        ),
        "healthcheck carries a credential",
    );
    let password = env.get("MONERO_RPC_PASSWORD").unwrap().to_owned();
    breach(
        "monerod",
        set("command", yaml(&format!("--rpc-login pithead:{password}"))),
        "command line carries a credential",
    );
    let mut resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
    let monerod = resolved
        .get_mut("services")
        .and_then(|s| s.get_mut("monerod"))
        .and_then(Yaml::as_mapping_mut)
        .unwrap();
    monerod.insert(
        "healthcheck".into(),
        yaml("{test: [CMD, curl, 'http://x/json_rpc?get_info']}"),
    );
    let violations = hardening::check(&resolved, &[]);
    assert!(
        violations.iter().any(|v| v.rule.contains("get_info")),
        "{violations:?}"
    );
}

#[test]
fn an_empty_proxy_token_fails_the_render() {
    let (mut env, _) = env_of(&config(&[]));
    env.set("PROXY_AUTH_TOKEN", "");
    let err = compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap_err();
    assert!(err.to_string().contains("PROXY_AUTH_TOKEN"), "{err}");
}

#[test]
fn secrets_are_generated_once_and_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&[("p2pool.pool", json!("mini"))]);
    let settings = load(&cfg.to_string()).unwrap();
    let stack = StackDir::new(dir.path());
    let render_once = || {
        let old = stack.read_env().unwrap();
        let secrets = secrets::resolve(&settings, old.as_ref(), &mut OsEntropy).unwrap();
        let rendered = render::render(&settings, &secrets, stack.owner().unwrap()).unwrap();
        stack.write(&rendered).unwrap();
        std::fs::read(stack.env_path()).unwrap()
    };
    let first = render_once();
    let second = render_once();
    assert_eq!(first, second, "a re-render changed .env");
    let env = stack.read_env().unwrap().unwrap();
    for key in [
        "PROXY_AUTH_TOKEN",
        "MONERO_RPC_PASSWORD",
        "WALLET_RPC_PASSWORD",
    ] {
        let v = env.get(key).unwrap();
        assert_eq!(v.len(), 32, "{key}");
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
    }
    assert_ne!(env.get("PROXY_AUTH_TOKEN"), env.get("MONERO_RPC_PASSWORD"));
    let mode = std::fs::metadata(stack.env_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    for file in ["Caddyfile", "compose.yaml"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        for secret in env.secret_values() {
            assert!(!text.contains(secret), "{file} carries a secret");
        }
    }
    // An onion address Tor published (written into .env) survives the next render.
    let onion = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion";
    let text = String::from_utf8(first)
        .unwrap()
        .replace("P2POOL_ONION=placeholder", &format!("P2POOL_ONION={onion}"));
    std::fs::write(stack.env_path(), text).unwrap();
    render_once();
    assert_eq!(
        stack.read_env().unwrap().unwrap().get("P2POOL_ONION"),
        Some(onion)
    );
}

#[test]
fn the_rearm_marker_is_the_one_the_runtime_takes() {
    let dir = tempfile::tempdir().unwrap();
    let stack = StackDir::new(dir.path());
    let store = SnapshotStore::new(stack.dashboard_data());
    stack.write_rearm(RearmScope::Tari).unwrap();
    assert_eq!(store.take_rearm().unwrap(), Some(Rearm::Tari));
    stack.write_rearm(RearmScope::All).unwrap();
    assert_eq!(store.take_rearm().unwrap(), Some(Rearm::All));
    assert_eq!(store.take_rearm().unwrap(), None);
}

#[test]
fn every_combination_of_the_axes_renders_a_hardened_stack() {
    let mut combos = 0;
    for mode in ["local", "remote"] {
        for prune in [true, false] {
            for lan in [true, false] {
                for pool in ["main", "mini", "nano"] {
                    for xvb in [true, false] {
                        for secure in [true, false] {
                            for required in [true, false] {
                                for tari in ["local", "remote", "off"] {
                                    let doc = config(&[
                                        ("monero.mode", json!(mode)),
                                        ("monero.prune", json!(prune)),
                                        ("monero.rpc_lan_access", json!(lan)),
                                        ("p2pool.pool", json!(pool)),
                                        ("xvb.enabled", json!(xvb)),
                                        ("dashboard.secure", json!(secure)),
                                        ("dashboard.tari_required", json!(required)),
                                        ("tari.mode", json!(tari)),
                                    ]);
                                    let (env, _) = env_of(&doc);
                                    let resolved =
                                        compose_file::resolve(COMPOSE_YAML, &env.to_map()).unwrap();
                                    let violations =
                                        hardening::check(&resolved, &env.secret_values());
                                    assert!(violations.is_empty(), "{doc}: {violations:?}");
                                    let names = compose_file::container_names(&resolved);
                                    assert_eq!(names.contains(&"monerod".into()), mode == "local");
                                    assert_eq!(names.contains(&"tari".into()), tari == "local");
                                    assert_eq!(
                                        env.get("TARI_REQUIRED"),
                                        Some(if required && tari != "off" {
                                            "true"
                                        } else {
                                            "false"
                                        })
                                    );
                                    combos += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(combos, 2 * 2 * 2 * 3 * 2 * 2 * 2 * 3);
}

#[test]
fn the_local_node_password_survives_a_spell_on_a_remote_node() {
    let dir = tempfile::tempdir().unwrap();
    let stack = StackDir::new(dir.path());
    let render_with = |doc: &Value| {
        let settings = load(&doc.to_string()).unwrap();
        let old = stack.read_env().unwrap();
        let secrets = secrets::resolve(&settings, old.as_ref(), &mut OsEntropy).unwrap();
        let rendered = render::render(&settings, &secrets, stack.owner().unwrap()).unwrap();
        stack.write(&rendered).unwrap();
        stack.read_env().unwrap().unwrap()
    };
    let local = render_with(&config(&[]));
    let password = local.get("MONERO_RPC_PASSWORD").unwrap().to_owned();
    assert_eq!(password.len(), 32);
    let remote = render_with(&config(&[("monero.mode", json!("remote"))]));
    assert_eq!(
        remote.get("MONERO_RPC_PASSWORD"),
        Some(""),
        "a remote node without a login"
    );
    assert_eq!(
        remote.get("MONERO_LOCAL_RPC_PASSWORD"),
        Some(password.as_str())
    );
    let back = render_with(&config(&[]));
    assert_eq!(back.get("MONERO_RPC_PASSWORD"), Some(password.as_str()));

    // A stack rendered before MONERO_LOCAL_RPC_PASSWORD existed keeps its local password too.
    let text = std::fs::read_to_string(stack.env_path()).unwrap();
    let older: String = text
        .lines()
        .filter(|l| !l.starts_with("MONERO_LOCAL_RPC_PASSWORD="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(stack.env_path(), older).unwrap();
    let upgraded = render_with(&config(&[("monero.mode", json!("remote"))]));
    assert_eq!(
        upgraded.get("MONERO_LOCAL_RPC_PASSWORD"),
        Some(password.as_str())
    );
}
