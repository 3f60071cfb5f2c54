//! config.json validation at tier 1: one table row per message, exact text, and no secret value
//! in any message.

use pithead_runtime::cli::config::{Config, TELEGRAM_EVENTS};
use pithead_runtime::cli::validate::{load, MoneroMode, Pool, TariMode};
use serde_json::{json, Value};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

fn base() -> Value {
    json!({
        "monero": { "wallet_address": XMR },
        "tari": { "wallet_address": TARI }
    })
}

fn with(path: &str, value: Value) -> Value {
    let mut doc = base();
    let mut cursor = &mut doc;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        let Some(map) = cursor.as_object_mut() else {
            panic!("{part} is not an object in the base document");
        };
        cursor = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
    cursor[parts[parts.len() - 1]] = value;
    doc
}

fn messages(doc: &Value) -> Vec<String> {
    match load(&doc.to_string()) {
        Ok(_) => vec![],
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_minimal_file_takes_every_default() {
    let settings = load(&base().to_string()).unwrap();
    assert_eq!(settings.monero, MoneroMode::Local);
    assert_eq!(settings.tari, TariMode::Local);
    assert_eq!(settings.pool, Pool::Mini);
    let c = &settings.config;
    let d = Config::default();
    assert_eq!(
        (c.monero.prune, c.monero.rpc_lan_access, c.xvb.enabled),
        (d.monero.prune, d.monero.rpc_lan_access, d.xvb.enabled)
    );
    assert!(c.dashboard.secure && c.dashboard.tari_required && c.monero.prune);
    assert_eq!(c.telegram.events.len(), TELEGRAM_EVENTS.len());
    assert_eq!(c.telegram.daily_summary_time, "08:00");
    assert!(c.notifications.tor);
}

#[test]
fn each_invalid_value_has_its_exact_message() {
    let subaddress = format!("8{}", &XMR[1..]);
    let table: Vec<(Value, &str)> = vec![
        (with("monero.mode", json!("cloud")), r#"monero.mode must be "local" or "remote" (got "cloud")."#),
        (with("p2pool.pool", json!("micro")), r#"p2pool.pool must be "main", "mini", or "nano" (got "micro")."#),
        (with("tari.mode", json!("maybe")), r#"tari.mode must be "local", "remote", or "off" (got "maybe")."#),
        (with("monero.mode", json!("remote")), r#"monero.mode is "remote" but monero.remote.host is not set in config.json."#),
        (with("tari.mode", json!("remote")), r#"tari.mode is "remote" but tari.remote.host is not set in config.json."#),
        (with("monero.wallet_address", json!("")), "Missing required wallet addresses in config.json."),
        (with("tari.wallet_address", json!("YOUR_TARI_WALLET_ADDRESS")), "Missing required wallet addresses in config.json."),
        (with("monero.wallet_address", json!(subaddress)), "monero.wallet_address is a subaddress (starts with 8): p2pool cannot pay subaddresses; use the wallet's primary address (starts with 4)."),
        (with("monero.wallet_address", json!("4abc")), r#"monero.wallet_address must be a Monero primary address: 95 base58 characters starting with 4 (got "4abc")."#),
        (with("tari.wallet_address", json!("not-base58!")), r#"tari.wallet_address must be a base58 Tari address (got "not-base58!")."#),
        (with("monero.prune", json!("yes")), r#"monero.prune must be true or false (got "yes")."#),
        (with("p2pool.stratum_port", json!("3333")), r#"p2pool.stratum_port must be a whole number (got "3333")."#),
        (with("p2pool.stratum_port", json!(70000)), "p2pool.stratum_port must be a whole number in range (got 70000)."),
        (with("p2pool.stratum_port", json!(0)), "p2pool.stratum_port must be a port from 1 to 65535 (got 0)."),
        (with("monero.remote", json!("node.example")), r#"monero.remote must be an object (got "node.example")."#),
        (with("notifications.webhooks", json!("https://x")), "notifications.webhooks must be a list of strings (got a hidden value)."),
        (with("monero.remote.host", json!("node.lan\n")), r#"monero.remote.host contains a control character (got "node.lan\n")."#),
        (with("monero.remote.host", json!("node lan {")), r#"monero.remote.host must be a host name or IP address (got "node lan {")."#),
        (with("monero.pr\tune", json!(false)), r#"unknown key "monero.pr\tune" in config.json (nearest known key: "monero.prune")."#),
        (with("monero.prun", json!(false)), r#"unknown key "monero.prun" in config.json (nearest known key: "monero.prune")."#),
        (with("dashbord.secure", json!(false)), r#"unknown key "dashbord" in config.json (nearest known key: "dashboard")."#),
        (with("telegram.events.node_dwn", json!(false)), r#"unknown key "telegram.events.node_dwn" in config.json (nearest known key: "telegram.events.node_down")."#),
        (with("xvb.donation_level", json!("gold")), r#"xvb.donation_level must be "auto", "donor", "vip", "whale", or "mega" (got "gold")."#),
        (with("xvb.url", json!("xvb.example")), r#"xvb.url must be host:port (got "xvb.example")."#),
        (with("xvb.donor_id", json!("a b")), r#"xvb.donor_id must be "auto" or letters and digits (got "a b")."#),
        (with("xvb.api_url", json!("socks5h://tor:9050")), r#"xvb.api_url must be an https:// (or http://) URL without credentials or query (got "socks5h://tor:9050")."#),
        (with("xvb.api_url", json!("https://xmrvsbeast.com/?address=4abc")), r#"xvb.api_url must be an https:// (or http://) URL without credentials or query (got "https://xmrvsbeast.com/?address=4abc")."#),
        (with("xvb.ca_file", json!("ca.pem")), r#"xvb.ca_file must be blank or an absolute path in the dashboard container (e.g. /data/xvb-ca.pem) (got "ca.pem")."#),
        (with("xvb.tor", json!("yes")), r#"xvb.tor must be true or false (got "yes")."#),
        (with("dashboard.host", json!("x.lan {")), r#"dashboard.host must be "auto" or a host name or IP address (got "x.lan {")."#),
        (with("dashboard.auth.username", json!("ad min")), r#"dashboard.auth.username must be letters, digits, '_', '-' or '.' (got "ad min")."#),
        (with("dashboard.hashrate_drop_threshold", json!(0)), "dashboard.hashrate_drop_threshold must be a percentage from 1 to 100 (got 0)."),
        (with("dashboard.hashrate_drop_minutes", json!(0)), "dashboard.hashrate_drop_minutes must be minutes from 1 to 1440 (got 0)."),
        (with("telegram.daily_summary_time", json!("8am")), r#"telegram.daily_summary_time must be a time of day as HH:MM (got "8am")."#),
        (with("telegram.enabled", json!(true)), "telegram.enabled is true but telegram.bot_token and telegram.chat_id are not both set."),
        (with("telegram.chat_id", json!("chat 1")), r#"telegram.chat_id must be a numeric chat id or an @channel name (got "chat 1")."#),
        (with("monero.node_username", json!("a:b")), r#"monero.node_username must be letters, digits, '_', '-' or '.' (got "a:b")."#),
        (json!([1, 2]), "config.json must hold a JSON object at the top level."),
    ];
    for (doc, want) in table {
        let got = messages(&doc);
        assert!(
            got.iter().any(|m| m == want),
            "want {want:?}\n got {got:?}\n for {doc}"
        );
    }
    assert_eq!(
        load("{\"monero\": ").unwrap_err()[0].to_string(),
        "config.json is not valid JSON: line 1 column 11"
    );
}

#[test]
fn secret_values_never_reach_a_message() {
    let secret = "S3cr3t-value-4711";
    let table: Vec<(Value, &str)> = vec![
        (with("monero.node_password", json!(format!("{secret} x"))), "monero.node_password must be a password without spaces, quotes, '\\', '$' or ':' (value hidden)."),
        (with("monero.node_password", json!(format!("{secret}\u{1b}"))), "monero.node_password contains a control character (got a hidden value)."),
        (with("telegram.bot_token", json!(format!("{secret} !"))), "telegram.bot_token must be a bot token (digits, ':', then letters, digits, '_' or '-') (value hidden)."),
        (with("telegram.bot_token", json!("PASTE_YOUR_TOKEN")), "telegram.bot_token still holds a placeholder (PASTE_/YOUR_); put the real value there."),
        (with("notifications.ntfy.url", json!(format!("ftp://{secret}"))), "notifications.ntfy.url must be an http:// or https:// URL (value hidden)."),
        (with("notifications.webhooks", json!([format!("hook-{secret}")])), "notifications.webhooks[0] must be an http:// or https:// URL (value hidden)."),
        (with("notifications.webhooks", json!([format!("https://h.example/{secret}'x")])), "notifications.webhooks[0] must be an http:// or https:// URL (value hidden)."),
        (with("notifications.ntfy.url", json!(format!("http://ntfy.sh/{secret}"))), "notifications.ntfy.url must be an https:// URL (http:// only to localhost or a private IP address, no user:password@, no #fragment) (value hidden)."),
        (with("healthchecks.ping_url", json!(format!("https://u:{secret}@hc-ping.com/x"))), "healthchecks.ping_url must be an https:// URL (http:// only to localhost or a private IP address, no user:password@, no #fragment) (value hidden)."),
        (with("healthchecks.ping_url", json!(42)), "healthchecks.ping_url must be a string (got a hidden value)."),
        (with("dashboard.auth.password", json!(7)), "dashboard.auth.password must be a string (got a hidden value)."),
    ];
    for (doc, want) in table {
        let got = messages(&doc);
        assert!(got.iter().any(|m| m == want), "want {want:?}\n got {got:?}");
        assert!(got.iter().all(|m| !m.contains(secret)), "leaked: {got:?}");
    }
}

#[test]
fn every_problem_is_reported_in_one_pass_and_annotations_are_allowed() {
    let mut doc = with("monero.mode", json!("cloud"));
    doc["p2pool"] = json!({ "pool": "micro" });
    doc["_docs"] = json!("operators keep notes here");
    let got = messages(&doc);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(load(&with("_comment", json!("x")).to_string()).is_ok());
    assert!(load(
        &with("tari.mode", json!("off"))
            .to_string()
            .replace(TARI, "")
    )
    .is_ok());
}
