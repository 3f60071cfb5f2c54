//! What `pithead render` writes, computed without touching the disk: the `.env`, the Caddyfile
//! and the compose file, checked against the hardening invariants.

use super::compose_file::{self, ComposeFileError, COMPOSE_YAML};
use super::config::TELEGRAM_EVENTS;
use super::env_file::EnvFile;
use super::hardening::{self, Violation};
use super::secrets::Secrets;
use super::validate::{MoneroMode, Settings, TariMode};

/// XvB through the stack's Tor (`xvb.tor`): the `tor` service's SOCKS port, the name resolved by
/// Tor (the same port the XvB pool's `socks5` in xmrig-proxy's config uses).
pub const XVB_TOR_PROXY: &str = "socks5h://tor:9050";

/// `deploy/Caddyfile.template` as shipped.
pub const CADDYFILE_TEMPLATE: &str = include_str!("../../../deploy/Caddyfile.template");

/// The owner (uid, gid) the dashboard runs as, so it can write the stack's data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// The three rendered files.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `.env`.
    pub env: EnvFile,
    /// `Caddyfile`.
    pub caddyfile: String,
    /// `compose.yaml` (the shipped file; `.env` fills it).
    pub compose: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered { .. }")
    }
}

/// Why a render is refused.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The compose file does not resolve against the `.env`.
    #[error(transparent)]
    Compose(#[from] ComposeFileError),
    /// The resolved stack breaks hardening invariants.
    #[error("the rendered stack breaks {} hardening invariant(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Hardening(Vec<Violation>),
}

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// The `.env` for `settings` with `secrets`.
pub fn env(settings: &Settings, secrets: &Secrets, owner: Owner) -> EnvFile {
    let c = &settings.config;
    let mut e = EnvFile::default();
    let mut profiles = Vec::new();
    if settings.monero == MoneroMode::Local {
        profiles.push("local_node");
    }
    if settings.tari == TariMode::Local {
        profiles.push("local_tari");
    }
    e.set("COMPOSE_PROJECT_NAME", "pithead");
    e.set("COMPOSE_PROFILES", profiles.join(","));
    let (host, port) = match &settings.monero {
        MoneroMode::Local => ("monerod".to_owned(), 18081),
        MoneroMode::Remote { host, port } => (host.clone(), *port),
    };
    e.set("MONERO_NODE_HOST", host);
    e.set("MONERO_RPC_PORT", port.to_string());
    e.set(
        "MONERO_RPC_BIND",
        if c.monero.rpc_lan_access {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        },
    );
    e.set("MONERO_PRUNE", if c.monero.prune { "1" } else { "0" });
    e.set("MONERO_WALLET_ADDRESS", c.monero.wallet_address.trim());
    e.set("MONERO_RPC_USER", secrets.monero_rpc_user.clone());
    e.set("MONERO_RPC_PASSWORD", secrets.monero_rpc_password.clone());
    e.set(
        "MONERO_LOCAL_RPC_PASSWORD",
        secrets.monero_local_rpc_password.clone(),
    );
    e.set("TARI_WALLET_ADDRESS", c.tari.wallet_address.trim());
    let tari_address = match &settings.tari {
        TariMode::Local => "tari:18142".to_owned(),
        TariMode::Remote { host, port } => format!("{host}:{port}"),
        TariMode::Off => String::new(),
    };
    e.set("TARI_GRPC_ADDRESS", tari_address);
    // With Tari off there is nothing to wait for or fail over from.
    e.set(
        "TARI_REQUIRED",
        flag(c.dashboard.tari_required && settings.tari != TariMode::Off),
    );
    e.set("P2POOL_FLAGS", settings.pool.flag());
    e.set("STRATUM_PORT", c.p2pool.stratum_port.to_string());
    e.set("XVB_ENABLED", flag(c.xvb.enabled));
    e.set("XVB_POOL_URL", c.xvb.url.clone());
    e.set("XVB_DONOR_ID", c.xvb.donor_id.clone());
    e.set("XVB_DONATION_LEVEL", c.xvb.donation_level.clone());
    e.set("XVB_API_URL", c.xvb.api_url.trim());
    e.set("XVB_PROXY", if c.xvb.tor { XVB_TOR_PROXY } else { "" });
    e.set("XVB_CA_FILE", c.xvb.ca_file.trim());
    e.set("DASHBOARD_SECURE", flag(c.dashboard.secure));
    e.set(
        "DASHBOARD_PORT",
        if c.dashboard.secure { "443" } else { "80" },
    );
    e.set("DASHBOARD_AUTH_USER", c.dashboard.auth.username.clone());
    e.set("DASHBOARD_AUTH_HASH", secrets.dashboard_auth_hash.clone());
    e.set(
        "HASHRATE_DROP_THRESHOLD_PCT",
        c.dashboard.hashrate_drop_threshold.to_string(),
    );
    e.set(
        "HASHRATE_DROP_MINUTES",
        c.dashboard.hashrate_drop_minutes.to_string(),
    );
    e.set("PROXY_AUTH_TOKEN", secrets.proxy_auth_token.clone());
    e.set("WALLET_RPC_PASSWORD", secrets.wallet_rpc_password.clone());
    e.set("P2POOL_ONION", secrets.p2pool_onion.clone());
    e.set("MONERO_ONION", secrets.monero_onion.clone());
    e.set("TARI_ONION", secrets.tari_onion.clone());
    let t = &c.telegram;
    e.set("TELEGRAM_ENABLED", flag(t.enabled));
    e.set("TELEGRAM_BOT_TOKEN", t.bot_token.trim());
    e.set("TELEGRAM_CHAT_ID", t.chat_id.trim());
    for event in TELEGRAM_EVENTS {
        let on = t.events.get(*event).copied().unwrap_or(true);
        e.set(
            &format!("TELEGRAM_EVENT_{}", event.to_ascii_uppercase()),
            flag(on),
        );
    }
    e.set("TELEGRAM_DAILY_SUMMARY_TIME", t.daily_summary_time.clone());
    let hooks: Vec<&str> = c
        .notifications
        .webhooks
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    e.set("NOTIFY_WEBHOOK_URLS", hooks.join(" "));
    e.set("NTFY_URL", c.notifications.ntfy.url.trim());
    e.set("NTFY_TOKEN", c.notifications.ntfy.token.trim());
    e.set("NOTIFY_TOR", flag(c.notifications.tor));
    // Every sink and the heartbeat through the stack's Tor, as the reference sends its alerts;
    // `notifications.tor: false` sends them direct.
    e.set(
        "ALERTS_PROXY",
        if c.notifications.tor {
            "socks5h://tor:9050"
        } else {
            ""
        },
    );
    e.set(
        "HEALTHCHECKS_PING_URL",
        c.healthchecks.ping_url.trim().trim_end_matches('/'),
    );
    e.set("PITHEAD_UID", owner.uid.to_string());
    e.set("PITHEAD_GID", owner.gid.to_string());
    e
}

/// The Caddyfile: https with Caddy's internal CA or plain http, basic auth when a password is
/// set.
pub fn caddyfile(settings: &Settings, secrets: &Secrets) -> String {
    let d = &settings.config.dashboard;
    let host = if d.host == "auto" {
        ""
    } else {
        d.host.as_str()
    };
    let tls = match (d.secure, host.is_empty()) {
        (false, _) => String::new(),
        (true, false) => "tls internal".into(),
        // Any name: the internal CA issues for whatever name the browser asks.
        (true, true) => "tls internal {\n\t\ton_demand\n\t}".into(),
    };
    let auth = if secrets.dashboard_auth_hash.is_empty() {
        String::new()
    } else {
        format!(
            "basic_auth {{\n\t\t{} {}\n\t}}",
            d.auth.username, secrets.dashboard_auth_hash
        )
    };
    let text = CADDYFILE_TEMPLATE
        .replace("{{SCHEME}}", if d.secure { "https" } else { "http" })
        .replace("{{HOST}}", host)
        .replace("{{TLS_LINE}}", &tls)
        .replace("{{BASIC_AUTH_BLOCK}}", &auth);
    // Template lines left empty by an absent directive.
    text.lines()
        .filter(|l| !l.trim().is_empty() || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Renders the stack and checks it: the resolved compose file must obey every hardening
/// invariant, with no secret in a healthcheck or command line.
pub fn render(
    settings: &Settings,
    secrets: &Secrets,
    owner: Owner,
) -> Result<Rendered, RenderError> {
    let env = env(settings, secrets, owner);
    let resolved = compose_file::resolve(COMPOSE_YAML, &env.to_map())?;
    let violations = hardening::check(&resolved, &env.secret_values());
    if !violations.is_empty() {
        return Err(RenderError::Hardening(violations));
    }
    Ok(Rendered {
        caddyfile: caddyfile(settings, secrets),
        compose: COMPOSE_YAML.to_owned(),
        env,
    })
}
