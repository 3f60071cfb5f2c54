//! The runtime's configuration, read once from the environment at start.
//!
//! Every knob of the domain's §2 table, with its default. A bad value is a startup error that
//! names the variable and the value (secrets are never echoed).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why the configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable holds a value that does not parse.
    #[error("{var}: invalid value {value:?}: {reason}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// The offending value (redacted for secrets and URL credentials).
        value: String,
        /// What was expected.
        reason: String,
    },
}

/// Typed runtime configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// `UPDATE_INTERVAL`: one observe → decide → act cycle.
    pub update_interval: Duration,
    /// `MONERO_RPC_URL`.
    pub monero_rpc_url: String,
    /// `MONERO_RPC_USER` / `MONERO_RPC_PASSWORD`: digest-auth credentials, when both are set.
    pub monero_rpc_credentials: Option<(String, String)>,
    /// `MONERO_NODE_HOST` equals `LOCAL_MONERO_HOST`: the node is the box's own.
    pub monero_node_local: bool,
    /// `MONERO_PRUNE`.
    pub monero_prune: bool,
    /// `TARI_GRPC_ADDRESS` (`host:port`); `None` when set empty (no Tari in the stack).
    pub tari_grpc_address: Option<String>,
    /// `TARI_REQUIRED`.
    pub tari_required: bool,
    /// `DOCKER_CONTROL_URL`.
    pub docker_control_url: String,
    /// `SYNC_GATE_CONTAINERS`.
    pub sync_gate_containers: Vec<String>,
    /// `REJECT_WORKERS_CONTAINER`.
    pub reject_workers_container: String,
    /// `NODE_DOWN_AFTER_SEC`.
    pub node_down_after: Duration,
    /// `NODE_RECOVERY_AFTER_SEC`.
    pub node_recovery_after: Duration,
    /// `XVB_ENABLED`.
    pub xvb_enabled: bool,
    /// `DATA_DIR`: snapshot and history.
    pub data_dir: PathBuf,
    /// `DASHBOARD_BIND`.
    pub dashboard_bind: SocketAddr,
    /// `P2POOL_API`: p2pool's data-api, a directory or an `http://` URL; unset = not read.
    pub p2pool_api: Option<String>,
    /// `RPC_TIMEOUT_SEC`: deadline of every client call.
    pub rpc_timeout: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("update_interval", &self.update_interval)
            .field("monero_rpc_url", &redact_url(&self.monero_rpc_url))
            .field(
                "monero_rpc_credentials",
                &self.monero_rpc_credentials.as_ref().map(|_| "<set>"),
            )
            .field("monero_node_local", &self.monero_node_local)
            .field("monero_prune", &self.monero_prune)
            .field("tari_grpc_address", &self.tari_grpc_address)
            .field("tari_required", &self.tari_required)
            .field("docker_control_url", &redact_url(&self.docker_control_url))
            .field("sync_gate_containers", &self.sync_gate_containers)
            .field("reject_workers_container", &self.reject_workers_container)
            .field("node_down_after", &self.node_down_after)
            .field("node_recovery_after", &self.node_recovery_after)
            .field("xvb_enabled", &self.xvb_enabled)
            .field("data_dir", &self.data_dir)
            .field("dashboard_bind", &self.dashboard_bind)
            .field("p2pool_api", &self.p2pool_api)
            .field("rpc_timeout", &self.rpc_timeout)
            .finish()
    }
}

/// Replaces `user:password@` in a URL with `***@`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::from_lookup(|_| None).unwrap_or_else(|_| unreachable!("defaults always parse"))
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production; a map in tests
    /// and simulated worlds).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned());
        let text = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_owned());

        let update_interval = seconds(&get, "UPDATE_INTERVAL", 30, 1)?;
        let monero_rpc_url = text("MONERO_RPC_URL", "http://monerod:18081");
        check_http_url("MONERO_RPC_URL", &monero_rpc_url)?;
        let monero_rpc_credentials = match (get("MONERO_RPC_USER"), lookup("MONERO_RPC_PASSWORD")) {
            (Some(user), Some(password)) if !user.is_empty() => Some((user, password)),
            _ => None,
        };
        let node_host = get("MONERO_NODE_HOST").unwrap_or_default();
        let local_host = get("LOCAL_MONERO_HOST").unwrap_or_default();
        let monero_node_local = !node_host.is_empty() && node_host == local_host;
        let monero_prune = boolean(&get, "MONERO_PRUNE", true)?;
        let tari = text("TARI_GRPC_ADDRESS", "tari:18142");
        let tari_grpc_address = if tari.is_empty() {
            None
        } else {
            check_host_port("TARI_GRPC_ADDRESS", &tari)?;
            Some(tari)
        };
        let tari_required = boolean(&get, "TARI_REQUIRED", true)?;
        let docker_control_url = text("DOCKER_CONTROL_URL", "http://docker-control:2375");
        check_http_url("DOCKER_CONTROL_URL", &docker_control_url)?;
        let sync_gate_containers = names(&get, "SYNC_GATE_CONTAINERS", "p2pool,xmrig-proxy")?;
        let reject_workers_container = text("REJECT_WORKERS_CONTAINER", "xmrig-proxy");
        if !valid_container_name(&reject_workers_container) {
            return Err(invalid(
                "REJECT_WORKERS_CONTAINER",
                &reject_workers_container,
                "a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
            ));
        }
        let node_down_after = seconds(&get, "NODE_DOWN_AFTER_SEC", 90, 1)?;
        let node_recovery_after = seconds(&get, "NODE_RECOVERY_AFTER_SEC", 60, 1)?;
        let xvb_enabled = boolean(&get, "XVB_ENABLED", false)?;
        let data_dir = PathBuf::from(text("DATA_DIR", "/data"));
        let bind = text("DASHBOARD_BIND", "127.0.0.1:8000");
        let dashboard_bind = bind
            .parse()
            .map_err(|_| invalid("DASHBOARD_BIND", &bind, "an address like 127.0.0.1:8000"))?;
        let p2pool_api = get("P2POOL_API").filter(|v| !v.is_empty());
        let rpc_timeout = seconds(&get, "RPC_TIMEOUT_SEC", 10, 1)?;
        Ok(Self {
            update_interval,
            monero_rpc_url,
            monero_rpc_credentials,
            monero_node_local,
            monero_prune,
            tari_grpc_address,
            tari_required,
            docker_control_url,
            sync_gate_containers,
            reject_workers_container,
            node_down_after,
            node_recovery_after,
            xvb_enabled,
            data_dir,
            dashboard_bind,
            p2pool_api,
            rpc_timeout,
        })
    }
}

fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: redact_url(value),
        reason: reason.to_owned(),
    }
}

fn seconds(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
) -> Result<Duration, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(Duration::from_secs(default));
    };
    let value: u64 = raw
        .parse()
        .map_err(|_| invalid(var, &raw, "a whole number of seconds"))?;
    if value < min || value > 86_400 {
        return Err(invalid(
            var,
            &raw,
            &format!("between {min} and 86400 seconds"),
        ));
    }
    Ok(Duration::from_secs(value))
}

fn boolean(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        "" => Ok(default),
        _ => Err(invalid(var, &raw, "true/false (also 1/0, yes/no, on/off)")),
    }
}

fn names(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<Vec<String>, ConfigError> {
    let raw = get(var).unwrap_or_else(|| default.to_owned());
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !valid_container_name(name) {
            return Err(invalid(var, &raw, "comma-separated container names"));
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

fn valid_container_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_http_url(var: &'static str, value: &str) -> Result<(), ConfigError> {
    let parsed = url::Url::parse(value).map_err(|_| invalid(var, value, "an http:// URL"))?;
    if parsed.scheme() != "http" || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(var, value, "an http:// URL with a host"));
    }
    Ok(())
}

fn check_host_port(var: &'static str, value: &str) -> Result<(), ConfigError> {
    let ok = value
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if ok {
        Ok(())
    } else {
        Err(invalid(var, value, "host:port"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_domain_table() {
        let c = with(&[]).unwrap();
        assert_eq!(c.update_interval, Duration::from_secs(30));
        assert_eq!(c.monero_rpc_url, "http://monerod:18081");
        assert_eq!(c.tari_grpc_address.as_deref(), Some("tari:18142"));
        assert!(c.tari_required);
        assert!(c.monero_prune);
        assert_eq!(c.docker_control_url, "http://docker-control:2375");
        assert_eq!(c.sync_gate_containers, ["p2pool", "xmrig-proxy"]);
        assert_eq!(c.reject_workers_container, "xmrig-proxy");
        assert_eq!(c.node_down_after, Duration::from_secs(90));
        assert_eq!(c.node_recovery_after, Duration::from_secs(60));
        assert!(!c.xvb_enabled);
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        assert_eq!(c.dashboard_bind.to_string(), "127.0.0.1:8000");
        assert!(c.monero_rpc_credentials.is_none());
        assert!(!c.monero_node_local);
    }

    #[test]
    fn overrides_are_read() {
        let c = with(&[
            ("UPDATE_INTERVAL", "2"),
            ("NODE_DOWN_AFTER_SEC", "4"),
            ("NODE_RECOVERY_AFTER_SEC", "3"),
            ("TARI_REQUIRED", "no"),
            ("TARI_GRPC_ADDRESS", ""),
            ("MONERO_PRUNE", "off"),
            ("SYNC_GATE_CONTAINERS", "p2pool, xmrig-proxy,p2pool"),
            ("MONERO_NODE_HOST", "monerod"),
            ("LOCAL_MONERO_HOST", "monerod"),
            ("MONERO_RPC_USER", "u"),
            ("MONERO_RPC_PASSWORD", "p"),
        ])
        .unwrap();
        assert_eq!(c.update_interval, Duration::from_secs(2));
        assert_eq!(c.node_down_after, Duration::from_secs(4));
        assert_eq!(c.node_recovery_after, Duration::from_secs(3));
        assert!(!c.tari_required);
        assert!(c.tari_grpc_address.is_none());
        assert!(!c.monero_prune);
        assert_eq!(c.sync_gate_containers, ["p2pool", "xmrig-proxy"]);
        assert!(c.monero_node_local);
        assert_eq!(c.monero_rpc_credentials, Some(("u".into(), "p".into())));
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let cases = [
            ("UPDATE_INTERVAL", "soon"),
            ("UPDATE_INTERVAL", "0"),
            ("NODE_DOWN_AFTER_SEC", "-1"),
            ("TARI_REQUIRED", "maybe"),
            ("MONERO_RPC_URL", "htp:/x"),
            ("DOCKER_CONTROL_URL", "unix:///var/run/docker.sock"),
            ("DASHBOARD_BIND", "localhost"),
            ("TARI_GRPC_ADDRESS", "tari"),
            ("SYNC_GATE_CONTAINERS", "p2pool,bad name"),
        ];
        for (var, value) in cases {
            let err = with(&[(var, value)]).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with(var), "{text}");
            assert!(text.contains(&format!("{value:?}")), "{text}");
        }
    }

    #[test]
    fn credentials_never_appear_in_errors_or_debug() {
        let err = with(&[("MONERO_RPC_URL", "ftp://alice:s3cret-pw@node:1")]).unwrap_err();
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
        let c = with(&[
            ("MONERO_RPC_URL", "http://alice:s3cret-pw@node:18081"),
            ("MONERO_RPC_USER", "alice"),
            ("MONERO_RPC_PASSWORD", "s3cret-pw"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cret-pw"));
    }
}
