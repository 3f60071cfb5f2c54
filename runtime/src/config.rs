//! The runtime's configuration, read once from the environment at start.
//!
//! Every knob of the domain's §2 table, with its default. A bad value is a startup error that
//! names the variable and the value (secrets are never echoed).
//!
//! # Empty values
//!
//! One rule, by what unset means (values are trimmed first):
//! - Where unset means *off* or *not known* (`P2POOL_API`, `DOCKER_PROXY_URL`, `XVB_API_URL`,
//!   `XVB_PROXY`, `XVB_CA_FILE`, `PROXY_AUTH_TOKEN`, `XVB_DONOR_ID`, `MONERO_RPC_USER`, …), and
//!   for the switches and XvB settings the shipped compose file passes as `${VAR:-}` (the
//!   booleans, `XVB_DONATION_LEVEL`, `XVB_POOL_URL`, `P2POOL_POOL_URL`, `XMRIG_PROXY_API`), an
//!   empty value is the same as unset: that is how "not configured" arrives from compose.
//! - `TARI_GRPC_ADDRESS` is the one variable where empty is a value of its own: no Tari in the
//!   stack (`pithead render` writes it so); unset is the default `tari:18142`.
//! - Every other variable holds something the runtime cannot run without and the stack never
//!   leaves empty — a duration, `MONERO_RPC_URL`, `DOCKER_CONTROL_URL`, `DASHBOARD_BIND`,
//!   `DATA_DIR`, a container name or list. Set empty it is refused, the message naming the
//!   default to unset it for: an empty `DATA_DIR` would put the snapshot in whatever directory
//!   the runtime started in, and an empty `SYNC_GATE_CONTAINERS` would silently drop the miners'
//!   hold (domain §3: the gate's containers are stopped while a chain syncs; holding nothing is
//!   not an option the domain has), so neither can be what the operator meant.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::io::{Endpoint, EndpointError, Target};

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
    /// A call's deadline would outlast the down window: one hanging call would span it.
    #[error(
        "RPC_TIMEOUT_SEC ({rpc_timeout_secs}) must be below NODE_DOWN_AFTER_SEC \
         ({down_after_secs}): a call that hangs until its deadline would outlast the down window"
    )]
    TimeoutNotBelowDownWindow {
        /// `RPC_TIMEOUT_SEC`.
        rpc_timeout_secs: u64,
        /// `NODE_DOWN_AFTER_SEC`.
        down_after_secs: u64,
    },
}

/// A `host:port` address (`TARI_GRPC_ADDRESS`), optionally written `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    host: String,
    port: u16,
    text: String,
}

impl HostPort {
    /// What a client dials.
    pub fn target(&self) -> Target {
        Target::new(self.host.clone(), self.port)
    }

    /// Parses `host:port` (also `http://host:port`, `[v6]:port`); the error says what is wrong.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let trimmed = value.trim();
        let rest = trimmed.strip_prefix("http://").unwrap_or(trimmed);
        let rest = rest.trim_end_matches('/');
        if rest.contains("://") {
            return Err("only host:port or http://host:port is supported");
        }
        if rest.contains('/') || rest.contains('@') {
            return Err("expected host:port");
        }
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or("no port (expected host:port)")?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("the port is not a number 1-65535")?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.is_empty() {
            return Err("no host");
        }
        Ok(Self {
            host: bare.to_owned(),
            port,
            text: format!("{host}:{port}"),
        })
    }

    /// The host, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` as written (IPv6 hosts keep their brackets).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A docker container name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most
/// [`ContainerName::MAX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerName(String);

impl ContainerName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 255;

    /// `name`, when it is a valid container name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::is_valid(name).then(|| Self(name.to_owned()))
    }

    /// Whether `name` is a valid container name (the one rule; every other check calls this).
    pub fn is_valid(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && name.len() <= Self::MAX_LEN
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ContainerName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ContainerName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Where p2pool's data-api is read (`P2POOL_API`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum P2poolApi {
    /// Over HTTP (`http://host:port`).
    Http(Endpoint),
    /// From a directory shared with p2pool.
    Dir(PathBuf),
}

/// The XvB engine's settings and where it reads and switches.
#[derive(Clone, PartialEq, Eq)]
pub struct XvbConfig {
    /// `XVB_DONATION_LEVEL`: `auto` or a tier name.
    pub donation_level: crate::control::xvb::DonationLevel,
    /// The side chain, from `P2POOL_FLAGS` (`--mini`, `--nano`).
    pub side_chain: crate::control::xvb::SideChain,
    /// `XMRIG_PROXY_API`: xmrig-proxy's HTTP API.
    pub proxy_api: Endpoint,
    /// `PROXY_AUTH_TOKEN`: the API's bearer token (a secret: never shown).
    pub proxy_token: Option<String>,
    /// `XVB_API_URL`: where XvB's stats are read; unset = not read (the stats go stale).
    pub api_url: Option<Endpoint>,
    /// `XVB_CA_FILE`: a PEM file of extra CAs trusted for an `https://` `XVB_API_URL`, on top
    /// of the compiled-in Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// `XVB_PROXY`: a `socks5h://host:port` proxy (Tor) for the XvB calls.
    pub proxy: Option<crate::io::Socks5Proxy>,
    /// `XVB_DONOR_ID` (or `MONERO_WALLET_ADDRESS` when `auto`): the address XvB knows the donor by.
    pub donor_address: Option<String>,
    /// `XVB_POOL_URL`: the XvB pool the miners are switched to (`host:port`).
    pub pool_url: String,
    /// `P2POOL_POOL_URL`: p2pool's stratum (`host:port`).
    pub p2pool_url: String,
}

impl std::fmt::Debug for XvbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XvbConfig")
            .field("donation_level", &self.donation_level)
            .field("side_chain", &self.side_chain)
            .field("proxy_api", &self.proxy_api.to_string())
            .field("proxy_token", &self.proxy_token.as_ref().map(|_| "<set>"))
            .field("api_url", &self.api_url.as_ref().map(ToString::to_string))
            .field("ca_file", &self.ca_file)
            .field("proxy", &self.proxy.as_ref().map(ToString::to_string))
            .field(
                "donor_address",
                &self.donor_address.as_ref().map(|_| "<set>"),
            )
            .field("pool_url", &self.pool_url)
            .field("p2pool_url", &self.p2pool_url)
            .finish()
    }
}

/// Typed runtime configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// `UPDATE_INTERVAL`: one observe → decide → act cycle.
    pub update_interval: Duration,
    /// `MONERO_RPC_URL` (`http://`, with a host).
    pub monero_rpc_url: Endpoint,
    /// `MONERO_RPC_USER` / `MONERO_RPC_PASSWORD`: digest-auth credentials, when both are set.
    pub monero_rpc_credentials: Option<(String, String)>,
    /// `MONERO_NODE_HOST` equals `LOCAL_MONERO_HOST`: the node is the box's own.
    pub monero_node_local: bool,
    /// `MONERO_PRUNE`.
    pub monero_prune: bool,
    /// `TARI_GRPC_ADDRESS` (`host:port`); `None` when set empty (no Tari in the stack).
    pub tari_grpc_address: Option<HostPort>,
    /// `TARI_REQUIRED`.
    pub tari_required: bool,
    /// `DOCKER_CONTROL_URL` (`http://`, with a host).
    pub docker_control_url: Endpoint,
    /// `SYNC_GATE_CONTAINERS`.
    pub sync_gate_containers: Vec<ContainerName>,
    /// `REJECT_WORKERS_CONTAINER`.
    pub reject_workers_container: ContainerName,
    /// `NODE_DOWN_AFTER_SEC`; always longer than `rpc_timeout`.
    pub node_down_after: Duration,
    /// `NODE_RECOVERY_AFTER_SEC`.
    pub node_recovery_after: Duration,
    /// `XVB_ENABLED`.
    pub xvb_enabled: bool,
    /// The XvB engine's settings.
    pub xvb: XvbConfig,
    /// `DATA_DIR`: snapshot and history.
    pub data_dir: PathBuf,
    /// `DASHBOARD_BIND`.
    pub dashboard_bind: SocketAddr,
    /// `P2POOL_API`: p2pool's data-api, a directory or an `http://` URL; unset = not read.
    pub p2pool_api: Option<P2poolApi>,
    /// `RPC_TIMEOUT_SEC`: deadline of every client call; always shorter than
    /// `node_down_after`.
    pub rpc_timeout: Duration,
    /// `STACK_SERVICES`: the stack's containers whose health the runtime judges each cycle
    /// (default: the shipped compose file's services).
    pub stack_services: Vec<ContainerName>,
    /// `COMPOSE_PROFILES`: which local nodes are part of the stack (`local_node` ⇒ monerod,
    /// `local_tari` ⇒ tari).
    pub compose_profiles: Vec<String>,
    /// `DOCKER_PROXY_URL`: the read-only docker socket proxy the container states are read
    /// through; unset ⇒ `DOCKER_CONTROL_URL`.
    pub docker_proxy_url: Option<Endpoint>,
    /// The alert sinks and the heartbeat (`TELEGRAM_*`, `NOTIFY_*`, `NTFY_*`,
    /// `HEALTHCHECKS_PING_URL`, `ALERTS_PROXY`).
    pub alerts: crate::alerts::AlertsConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("update_interval", &self.update_interval)
            .field("monero_rpc_url", &self.monero_rpc_url.to_string())
            .field(
                "monero_rpc_credentials",
                &self.monero_rpc_credentials.as_ref().map(|_| "<set>"),
            )
            .field("monero_node_local", &self.monero_node_local)
            .field("monero_prune", &self.monero_prune)
            .field("tari_grpc_address", &self.tari_grpc_address)
            .field("tari_required", &self.tari_required)
            .field("docker_control_url", &self.docker_control_url.to_string())
            .field("sync_gate_containers", &self.sync_gate_containers)
            .field("reject_workers_container", &self.reject_workers_container)
            .field("node_down_after", &self.node_down_after)
            .field("node_recovery_after", &self.node_recovery_after)
            .field("xvb_enabled", &self.xvb_enabled)
            .field("xvb", &self.xvb)
            .field("data_dir", &self.data_dir)
            .field("dashboard_bind", &self.dashboard_bind)
            .field(
                "p2pool_api",
                &self.p2pool_api.as_ref().map(|api| match api {
                    P2poolApi::Http(url) => url.to_string(),
                    P2poolApi::Dir(dir) => dir.display().to_string(),
                }),
            )
            .field("rpc_timeout", &self.rpc_timeout)
            .field("stack_services", &self.stack_services)
            .field("compose_profiles", &self.compose_profiles)
            .field(
                "docker_proxy_url",
                &self.docker_proxy_url.as_ref().map(ToString::to_string),
            )
            .field("alerts", &self.alerts)
            .finish()
    }
}

pub use crate::io::redact_url;

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
        let text = |name: &'static str, default: &str| required(&get, name, default);

        let update_interval = seconds(&get, "UPDATE_INTERVAL", 30, 1)?;
        let monero_rpc_url = http_url(
            "MONERO_RPC_URL",
            &text("MONERO_RPC_URL", "http://monerod:18081")?,
        )?;
        let monero_rpc_credentials = match (get("MONERO_RPC_USER"), lookup("MONERO_RPC_PASSWORD")) {
            (Some(user), Some(password)) if !user.is_empty() => Some((user, password)),
            _ => None,
        };
        let node_host = get("MONERO_NODE_HOST").unwrap_or_default();
        let local_host = get("LOCAL_MONERO_HOST").unwrap_or_default();
        let monero_node_local = !node_host.is_empty() && node_host == local_host;
        let monero_prune = boolean(&get, "MONERO_PRUNE", true)?;
        // Empty = no Tari (see the module's rule on empty values), so not `text`.
        let tari = get("TARI_GRPC_ADDRESS").unwrap_or_else(|| "tari:18142".to_owned());
        let tari_grpc_address = if tari.is_empty() {
            None
        } else {
            let address = HostPort::parse(&tari)
                .map_err(|reason| invalid("TARI_GRPC_ADDRESS", &tari, reason))?;
            Some(address)
        };
        let tari_required = boolean(&get, "TARI_REQUIRED", true)?;
        let docker_control_url = http_url(
            "DOCKER_CONTROL_URL",
            &text("DOCKER_CONTROL_URL", "http://docker-control:2375")?,
        )?;
        let sync_gate_containers = names(&get, "SYNC_GATE_CONTAINERS", "p2pool,xmrig-proxy")?;
        let reject = text("REJECT_WORKERS_CONTAINER", "xmrig-proxy")?;
        let reject_workers_container = ContainerName::parse(&reject).ok_or_else(|| {
            invalid(
                "REJECT_WORKERS_CONTAINER",
                &reject,
                "a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 characters)",
            )
        })?;
        let node_down_after = seconds(&get, "NODE_DOWN_AFTER_SEC", 90, 1)?;
        let node_recovery_after = seconds(&get, "NODE_RECOVERY_AFTER_SEC", 60, 1)?;
        let xvb_enabled = boolean(&get, "XVB_ENABLED", false)?;
        let xvb = xvb_config(&get, &lookup)?;
        let data_dir = PathBuf::from(text("DATA_DIR", "/data")?);
        let bind = text("DASHBOARD_BIND", "127.0.0.1:8000")?;
        let dashboard_bind = bind
            .parse()
            .map_err(|_| invalid("DASHBOARD_BIND", &bind, "an address like 127.0.0.1:8000"))?;
        let p2pool_api = match get("P2POOL_API").filter(|v| !v.is_empty()) {
            Some(api) => Some(p2pool_api(&api)?),
            None => None,
        };
        let rpc_timeout = seconds(&get, "RPC_TIMEOUT_SEC", 10, 1)?;
        let stack_services = names(
            &get,
            "STACK_SERVICES",
            &crate::control::verdicts::STACK_SERVICES.join(","),
        )?;
        let compose_profiles =
            crate::control::verdicts::profiles(&get("COMPOSE_PROFILES").unwrap_or_default());
        let docker_proxy_url = match get("DOCKER_PROXY_URL").filter(|v| !v.is_empty()) {
            Some(url) => Some(http_url("DOCKER_PROXY_URL", &url)?),
            None => None,
        };
        let alerts = crate::alerts::AlertsConfig::from_lookup(&get)?;
        if rpc_timeout >= node_down_after {
            return Err(ConfigError::TimeoutNotBelowDownWindow {
                rpc_timeout_secs: rpc_timeout.as_secs(),
                down_after_secs: node_down_after.as_secs(),
            });
        }
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
            xvb,
            data_dir,
            dashboard_bind,
            p2pool_api,
            rpc_timeout,
            stack_services,
            compose_profiles,
            docker_proxy_url,
            alerts,
        })
    }
}

fn xvb_config(
    get: &impl Fn(&str) -> Option<String>,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<XvbConfig, ConfigError> {
    use crate::control::xvb::SideChain;
    let level = get("XVB_DONATION_LEVEL").unwrap_or_default();
    let donation_level = level.parse().map_err(|_| {
        invalid(
            "XVB_DONATION_LEVEL",
            &level,
            "auto, donor, vip, whale or mega",
        )
    })?;
    let flags = get("P2POOL_FLAGS").unwrap_or_default();
    let side_chain = if flags.split_whitespace().any(|f| f == "--nano") {
        SideChain::Nano
    } else if flags.split_whitespace().any(|f| f == "--mini") {
        SideChain::Mini
    } else {
        SideChain::Main
    };
    let proxy_api = http_url(
        "XMRIG_PROXY_API",
        &get("XMRIG_PROXY_API")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "http://xmrig-proxy:3344".to_owned()),
    )?;
    let api_url = match get("XVB_API_URL").filter(|v| !v.is_empty()) {
        Some(url) => Some(
            Endpoint::parse_web(&url)
                .map_err(|why| invalid("XVB_API_URL", &url, &why.to_string()))?,
        ),
        None => None,
    };
    let proxy = match get("XVB_PROXY").filter(|v| !v.is_empty()) {
        Some(url) => Some(
            crate::io::Socks5Proxy::parse(&url)
                .map_err(|why| invalid("XVB_PROXY", &url, &why.to_string()))?,
        ),
        None => None,
    };
    let ca_file = get("XVB_CA_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let donor_address = get("XVB_DONOR_ID")
        .filter(|v| !v.is_empty() && v != "auto")
        .or_else(|| get("MONERO_WALLET_ADDRESS").filter(|v| !v.is_empty()));
    let non_empty = |name: &str, default: &str| {
        get(name)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    Ok(XvbConfig {
        donation_level,
        side_chain,
        proxy_api,
        proxy_token: lookup("PROXY_AUTH_TOKEN").filter(|t| !t.is_empty()),
        api_url,
        ca_file,
        proxy,
        donor_address,
        pool_url: non_empty("XVB_POOL_URL", "na.xmrvsbeast.com:4247"),
        p2pool_url: non_empty("P2POOL_POOL_URL", "p2pool:3333"),
    })
}

fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: redact_url(value),
        reason: reason.to_owned(),
    }
}

/// The refusal of an empty value for a variable that needs one (the module's rule on empty
/// values): it says how to get the default.
fn empty(var: &'static str, default: &str) -> ConfigError {
    invalid(
        var,
        "",
        &format!("empty; unset {var} for the default ({default}) or give a value"),
    )
}

/// `var`'s value, `default` when unset; set but empty is refused ([`empty`]).
fn required(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    match get(var) {
        None => Ok(default.to_owned()),
        Some(value) if value.is_empty() => Err(empty(var, default)),
        Some(value) => Ok(value),
    }
}

/// `P2POOL_API`: anything with a scheme (`http://`, `HTTP://`, `https://`, `file://`) is a URL,
/// and only `http://` is one the runtime reads; anything else is a directory, which must be
/// absolute (the runtime's working directory is no place p2pool writes to).
fn p2pool_api(value: &str) -> Result<P2poolApi, ConfigError> {
    if value.contains("://") {
        return http_url("P2POOL_API", value).map(P2poolApi::Http);
    }
    let dir = PathBuf::from(value);
    if !dir.is_absolute() {
        return Err(invalid(
            "P2POOL_API",
            value,
            "an http://host:port URL or an absolute directory path",
        ));
    }
    Ok(P2poolApi::Dir(dir))
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
    if raw.is_empty() {
        return Err(empty(var, &format!("{default} s")));
    }
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
) -> Result<Vec<ContainerName>, ConfigError> {
    let raw = required(get, var, default)?;
    let mut out: Vec<ContainerName> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let name = ContainerName::parse(name).ok_or_else(|| {
            invalid(
                var,
                &raw,
                "comma-separated container names (each at most 255 characters)",
            )
        })?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    // Separators only (`,`): as empty as "", and as surely not meant.
    if out.is_empty() {
        return Err(invalid(
            var,
            &raw,
            &format!("no container name; unset {var} for the default ({default}) or name some"),
        ));
    }
    Ok(out)
}

fn http_url(var: &'static str, value: &str) -> Result<Endpoint, ConfigError> {
    Endpoint::parse(value).map_err(|why| {
        let reason = match (why, var) {
            (EndpointError::Credentials, "MONERO_RPC_URL") => {
                format!("{why} (use MONERO_RPC_USER / MONERO_RPC_PASSWORD)")
            }
            (EndpointError::NotHttp, "P2POOL_API") => {
                format!("{why} (or give p2pool's data-api directory)")
            }
            _ => why.to_string(),
        };
        invalid(var, value, &reason)
    })
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
        assert_eq!(c.monero_rpc_url.to_string(), "http://monerod:18081");
        let tari = c.tari_grpc_address.as_ref().unwrap();
        assert_eq!((tari.host(), tari.port()), ("tari", 18142));
        assert!(c.tari_required);
        assert!(c.monero_prune);
        assert_eq!(
            c.docker_control_url.to_string(),
            "http://docker-control:2375"
        );
        assert_eq!(c.sync_gate_containers, ["p2pool", "xmrig-proxy"]);
        assert_eq!(c.reject_workers_container, "xmrig-proxy");
        assert_eq!(c.node_down_after, Duration::from_secs(90));
        assert_eq!(c.node_recovery_after, Duration::from_secs(60));
        assert!(!c.xvb_enabled);
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        assert_eq!(c.dashboard_bind.to_string(), "127.0.0.1:8000");
        assert!(c.monero_rpc_credentials.is_none());
        assert!(!c.monero_node_local);
        assert_eq!(c.rpc_timeout, Duration::from_secs(10));
        assert!(c.p2pool_api.is_none());
    }

    #[test]
    fn overrides_are_read() {
        let c = with(&[
            ("UPDATE_INTERVAL", "2"),
            ("NODE_DOWN_AFTER_SEC", "4"),
            ("NODE_RECOVERY_AFTER_SEC", "3"),
            ("RPC_TIMEOUT_SEC", "3"),
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
        assert_eq!(c.rpc_timeout, Duration::from_secs(3));
    }

    #[test]
    fn p2pool_api_is_a_url_or_a_directory() {
        let http = with(&[("P2POOL_API", "http://p2pool:3380")]).unwrap();
        assert!(
            matches!(&http.p2pool_api, Some(P2poolApi::Http(url)) if url.target().host() == "p2pool")
        );
        let dir = with(&[("P2POOL_API", "/p2pool/api")]).unwrap();
        assert_eq!(
            dir.p2pool_api,
            Some(P2poolApi::Dir(PathBuf::from("/p2pool/api")))
        );
        let err = with(&[("P2POOL_API", "http://")]).unwrap_err().to_string();
        assert!(err.starts_with("P2POOL_API"), "{err}");
    }

    #[test]
    fn host_port_accepts_the_forms_operators_write() {
        for (value, host, port) in [
            ("tari:18142", "tari", 18142),
            ("http://tari:18142/", "tari", 18142),
            ("[::1]:18142", "::1", 18142),
            ("10.0.0.2:1", "10.0.0.2", 1),
        ] {
            let parsed = HostPort::parse(value).unwrap();
            assert_eq!((parsed.host(), parsed.port()), (host, port), "{value}");
        }
        assert_eq!(
            HostPort::parse("[::1]:18142").unwrap().as_str(),
            "[::1]:18142"
        );
        for bad in [
            "tari",
            ":18142",
            "tari:0",
            "tari:65536",
            "tari:x",
            "https://tari:18142",
            "tari:18142/path",
            "u:p@tari:18142",
        ] {
            assert!(HostPort::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn container_names_follow_dockers_rule_up_to_255_characters() {
        let longest = format!("a{}", "b".repeat(254));
        assert_eq!(longest.len(), ContainerName::MAX_LEN);
        assert!(ContainerName::is_valid(&longest));
        assert!(!ContainerName::is_valid(&format!("{longest}c")));
        for good in ["p2pool", "xmrig-proxy", "a", "9.x_y-z"] {
            assert!(ContainerName::is_valid(good), "{good}");
        }
        for bad in ["", "-p2pool", ".x", "_x", "bad name", "p2pool/1", "ünï"] {
            assert!(!ContainerName::is_valid(bad), "{bad:?}");
        }
        let ok = with(&[("REJECT_WORKERS_CONTAINER", longest.as_str())]).unwrap();
        assert_eq!(ok.reject_workers_container.as_str(), longest);
        let too_long = format!("{longest}c");
        for var in ["REJECT_WORKERS_CONTAINER", "SYNC_GATE_CONTAINERS"] {
            let err = with(&[(var, too_long.as_str())]).unwrap_err().to_string();
            assert!(err.starts_with(var), "{err}");
        }
    }

    #[test]
    fn a_timeout_not_below_the_down_window_is_refused_naming_both() {
        for (timeout, down) in [("90", "90"), ("120", "90"), ("31", "30")] {
            let err =
                with(&[("RPC_TIMEOUT_SEC", timeout), ("NODE_DOWN_AFTER_SEC", down)]).unwrap_err();
            assert_eq!(
                err,
                ConfigError::TimeoutNotBelowDownWindow {
                    rpc_timeout_secs: timeout.parse().unwrap(),
                    down_after_secs: down.parse().unwrap(),
                }
            );
            let text = err.to_string();
            assert!(
                text.contains(&format!("RPC_TIMEOUT_SEC ({timeout})")),
                "{text}"
            );
            assert!(
                text.contains(&format!("NODE_DOWN_AFTER_SEC ({down})")),
                "{text}"
            );
        }
        let ok = with(&[("RPC_TIMEOUT_SEC", "29"), ("NODE_DOWN_AFTER_SEC", "30")]).unwrap();
        assert!(ok.rpc_timeout < ok.node_down_after);
    }

    #[test]
    fn redaction_hides_userinfo_with_or_without_a_scheme() {
        assert_eq!(
            redact_url("http://alice:pw@node:1/x"),
            "http://***@node:1/x"
        );
        assert_eq!(redact_url("alice:pw@node:1"), "***@node:1");
        assert_eq!(redact_url("http://node:1/"), "http://node:1/");
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
        // Credentials belong in MONERO_RPC_USER / MONERO_RPC_PASSWORD, never in the URL: it is
        // refused at start, with a message that says where they go and does not echo them.
        let err = with(&[("MONERO_RPC_URL", "http://alice:s3cret-pw@node:18081")]).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("s3cret-pw"), "{text}");
        assert!(text.contains("MONERO_RPC_USER"), "{text}");
        let c = with(&[
            ("MONERO_RPC_URL", "http://node:18081"),
            ("MONERO_RPC_USER", "alice"),
            ("MONERO_RPC_PASSWORD", "s3cret-pw"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cret-pw"));
    }

    #[test]
    fn xvb_over_https_through_a_socks5h_proxy() {
        let c = with(&[
            ("XVB_API_URL", "https://xmrvsbeast.com"),
            ("XVB_PROXY", "socks5h://tor:9050"),
            ("XVB_CA_FILE", "/etc/pithead/xvb-ca.pem"),
        ])
        .unwrap();
        let api = c.xvb.api_url.as_ref().unwrap();
        assert!(api.is_tls());
        assert_eq!(api.target().port(), 443);
        let proxy = c.xvb.proxy.as_ref().unwrap();
        assert_eq!(
            (proxy.target().host(), proxy.target().port()),
            ("tor", 9050)
        );
        assert_eq!(
            c.xvb.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/pithead/xvb-ca.pem"))
        );
        let d = with(&[("XVB_API_URL", ""), ("XVB_PROXY", ""), ("XVB_CA_FILE", "")]).unwrap();
        assert_eq!(
            (d.xvb.api_url, d.xvb.proxy, d.xvb.ca_file),
            (None, None, None)
        );
        // Only the stack's own daemons stay http-only.
        assert!(with(&[("MONERO_RPC_URL", "https://monerod:18081")]).is_err());
        for (var, value, reason) in [
            ("XVB_PROXY", "socks5://tor:9050", "socks5h"),
            ("XVB_PROXY", "socks5h://tor", "no port"),
            ("XVB_API_URL", "ftp://xmrvsbeast.com", "https://"),
        ] {
            let e = with(&[(var, value)]).unwrap_err().to_string();
            assert!(e.contains(var) && e.contains(reason), "{e}");
        }
    }
}
