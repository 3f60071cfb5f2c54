//! The lifecycle scenarios (§8): a restart, a pool flip with the secrets preserved, and a
//! backup → change → restore round trip that must give config.json back byte for byte.

use std::time::Duration;

use serde_json::Value;

use super::reads;
use super::report::Check;
use super::run::Live;

/// The lifecycle scenarios, by name.
pub const LIFECYCLE: [&str; 3] = [
    "lifecycle: restart",
    "lifecycle: pool flip keeps the secrets",
    "lifecycle: backup, change, restore",
];

/// Where the round trip's archive is written on the box (inside the stack directory).
const ROUND_TRIP_ARCHIVE: &str = "backups/live-round-trip.tar.gz";

/// Runs the lifecycle scenario `name` (one of [`LIFECYCLE`]).
pub async fn run(live: &Live, name: &str) -> anyhow::Result<Vec<Check>> {
    match name {
        "lifecycle: restart" => restart(live, name).await,
        "lifecycle: pool flip keeps the secrets" => pool_flip(live, name).await,
        "lifecycle: backup, change, restore" => round_trip(live, name).await,
        other => anyhow::bail!("no lifecycle scenario is called {other:?}"),
    }
}

/// The pool a flip moves to from `current`.
pub fn other_pool(current: &str) -> &'static str {
    if current == "mini" {
        "nano"
    } else {
        "mini"
    }
}

fn with_pool(config: &Value, pool: &str) -> Value {
    let mut config = config.clone();
    if let Some(root) = config.as_object_mut() {
        let p2pool = root
            .entry("p2pool")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(p2pool) = p2pool.as_object_mut() {
            p2pool.insert("pool".to_owned(), Value::String(pool.to_owned()));
        }
    }
    config
}

fn current_pool(config: &Value) -> &str {
    config
        .get("p2pool")
        .and_then(|p| p.get("pool"))
        .and_then(Value::as_str)
        .unwrap_or("main")
}

async fn restart(live: &Live, name: &str) -> anyhow::Result<Vec<Check>> {
    let before = reads::fingerprints(&live.remote).await?;
    live.step(name, "pithead restart");
    let reply = live
        .remote
        .pithead(
            "pithead restart",
            &["restart"],
            None,
            Duration::from_secs(600),
        )
        .await?;
    let mut checks = vec![Check {
        name: "pithead restart succeeds".to_owned(),
        result: if reply.ok() {
            Ok(())
        } else {
            Err(reply.describe())
        },
    }];
    checks.extend(live.ready(name).await);
    checks.push(live.secrets_kept(&before).await?);
    Ok(checks)
}

async fn pool_flip(live: &Live, name: &str) -> anyhow::Result<Vec<Check>> {
    let before = reads::fingerprints(&live.remote).await?;
    let config = reads::config(&live.remote).await?;
    let from = current_pool(&config).to_owned();
    let to = other_pool(&from);
    live.step(name, &format!("p2pool.pool {from} → {to}"));
    live.push_config(&with_pool(&config, to)).await?;
    live.apply().await?;
    let mut checks = live.ready(name).await;
    let facts = reads::facts(&live.remote).await?;
    let flags = facts.env.get("P2POOL_FLAGS").cloned().unwrap_or_default();
    checks.push(Check {
        name: format!(".env sets P2POOL_FLAGS to \"--{to}\""),
        result: if flags == format!("--{to}") {
            Ok(())
        } else {
            Err(format!("P2POOL_FLAGS is {flags:?}"))
        },
    });
    checks.push(live.secrets_kept(&before).await?);
    live.step(name, &format!("p2pool.pool {to} → {from}"));
    live.push_config(&config).await?;
    live.apply().await?;
    checks.extend(live.ready(name).await);
    checks.push(live.secrets_kept(&before).await?);
    Ok(checks)
}

async fn round_trip(live: &Live, name: &str) -> anyhow::Result<Vec<Check>> {
    let remote = &live.remote;
    let before = reads::fingerprints(remote).await?;
    let digest_before = remote.digests(&["config.json"]).await?;
    live.step(name, "pithead backup -y --no-encrypt");
    remote
        .must_pithead(
            "pithead backup",
            &[
                "backup",
                "-y",
                "--no-encrypt",
                "--output",
                ROUND_TRIP_ARCHIVE,
            ],
            Duration::from_secs(600),
        )
        .await?;
    let mut checks = vec![super::safety::lists_config_and_env(live, ROUND_TRIP_ARCHIVE).await?];
    let config = reads::config(remote).await?;
    let to = other_pool(current_pool(&config));
    live.step(name, &format!("changing p2pool.pool to {to}"));
    live.push_config(&with_pool(&config, to)).await?;
    live.apply().await?;
    live.step(name, "pithead restore -y");
    remote
        .must_pithead(
            "pithead restore",
            &["restore", "-y", ROUND_TRIP_ARCHIVE],
            Duration::from_secs(600),
        )
        .await?;
    let digest_after = remote.digests(&["config.json"]).await?;
    checks.push(Check {
        name: "config.json is byte-identical to the backed-up one".to_owned(),
        result: if digest_after == digest_before {
            Ok(())
        } else {
            Err("config.json differs from the one backed up".to_owned())
        },
    });
    // The restored .env is what the containers must run with: compose recreates the ones
    // whose settings differ (an apply would compare config.json with the restored .env and
    // find nothing to do).
    live.up(name).await?;
    checks.extend(live.ready(name).await);
    checks.push(live.secrets_kept(&before).await?);
    remote
        .must(
            "removing the round trip's archive",
            &["rm", "-f", "--", ROUND_TRIP_ARCHIVE],
            None,
            Duration::from_secs(30),
        )
        .await?;
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_flip_always_changes_the_pool_and_keeps_the_rest() {
        for pool in ["main", "mini", "nano"] {
            assert_ne!(other_pool(pool), pool);
        }
        let config = json!({"p2pool": {"pool": "mini", "stratum_port": 3333}, "x": 1});
        let flipped = with_pool(&config, "nano");
        assert_eq!(
            flipped,
            json!({"p2pool": {"pool": "nano", "stratum_port": 3333}, "x": 1})
        );
        assert_eq!(current_pool(&json!({})), "main");
        assert_eq!(current_pool(&with_pool(&json!({}), "mini")), "mini");
    }
}
