//! The switch as a pure rewrite of xmrig-proxy's config document: the chosen pool first and
//! enabled, the other disabled, every other key left as it was.

use serde_json::{json, Map, Value};

/// Why the config document cannot be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    /// The document is not a JSON object.
    #[error("xmrig-proxy /1/config is not a JSON object")]
    NotAnObject,
    /// `pools` is present but not an array.
    #[error("xmrig-proxy /1/config: \"pools\" is not an array")]
    PoolsNotAnArray,
}

/// Rewrites `config`'s `pools` so `chosen_url` comes first and enabled and `other_url` is kept,
/// disabled. A pool entry that already exists keeps its other fields (user, pass, tls, socks5);
/// a missing one is added with only `url` and `enabled`. Other pools are dropped: the proxy must
/// not fail over to a pool the engine does not steer.
pub fn rewrite_pools(
    config: &Value,
    chosen_url: &str,
    other_url: &str,
) -> Result<Value, SwitchError> {
    let object = config.as_object().ok_or(SwitchError::NotAnObject)?;
    let pools: &[Value] = match object.get("pools") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(pools)) => pools,
        Some(_) => return Err(SwitchError::PoolsNotAnArray),
    };
    let entry = |url: &str, enabled: bool| -> Value {
        let mut pool = pools
            .iter()
            .find(|p| p.get("url").and_then(Value::as_str) == Some(url))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(Map::new);
        pool.insert("url".to_owned(), json!(url));
        pool.insert("enabled".to_owned(), json!(enabled));
        Value::Object(pool)
    };
    let mut out = object.clone();
    out.insert(
        "pools".to_owned(),
        Value::Array(vec![entry(chosen_url, true), entry(other_url, false)]),
    );
    Ok(Value::Object(out))
}

/// The URL of the first enabled pool, if any: where the proxy sends hashrate now.
pub fn active_pool(config: &Value) -> Option<&str> {
    config
        .get("pools")?
        .as_array()?
        .iter()
        .find(|p| p.get("enabled").and_then(Value::as_bool).unwrap_or(true))
        .and_then(|p| p.get("url"))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_first_enabled_other_disabled_rest_kept() {
        let config = json!({
            "api": {"restricted": false},
            "pools": [
                {"url": "p2pool:3333", "user": "x", "enabled": true},
                {"url": "na.xmrvsbeast.com:4247", "socks5": "tor:9050", "enabled": false},
                {"url": "stray:1", "enabled": true}
            ]
        });
        let out = rewrite_pools(&config, "na.xmrvsbeast.com:4247", "p2pool:3333").unwrap();
        assert_eq!(out["api"], config["api"]);
        assert_eq!(
            out["pools"],
            json!([
                {"url": "na.xmrvsbeast.com:4247", "socks5": "tor:9050", "enabled": true},
                {"url": "p2pool:3333", "user": "x", "enabled": false}
            ])
        );
        assert_eq!(active_pool(&out), Some("na.xmrvsbeast.com:4247"));
        let back = rewrite_pools(&out, "p2pool:3333", "na.xmrvsbeast.com:4247").unwrap();
        assert_eq!(active_pool(&back), Some("p2pool:3333"));
    }

    #[test]
    fn missing_pools_are_added_and_bad_documents_refused() {
        let out = rewrite_pools(&json!({}), "a:1", "b:2").unwrap();
        assert_eq!(out["pools"][0], json!({"url": "a:1", "enabled": true}));
        assert_eq!(
            rewrite_pools(&json!([]), "a:1", "b:2"),
            Err(SwitchError::NotAnObject)
        );
        assert_eq!(
            rewrite_pools(&json!({"pools": 3}), "a:1", "b:2"),
            Err(SwitchError::PoolsNotAnArray)
        );
    }
}
