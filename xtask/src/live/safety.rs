//! The safety backup (§8): `pithead backup -y --no-encrypt` before any destructive work; on any
//! failure `down → restore → up`, then config.json must be byte-identical and the secret
//! fingerprints equal; on success the archive is removed.

use std::collections::BTreeMap;
use std::time::Duration;

use super::reads;
use super::report::Check;
use super::run::Live;

/// The archive's path on the box, inside the stack directory.
pub const ARCHIVE: &str = "backups/live-safety-backup.tar.gz";

/// What the box was when the safety backup was taken.
#[derive(Debug, Clone)]
pub struct Safety {
    /// The archive on the box.
    pub archive: String,
    /// config.json's digest.
    pub config_digest: Vec<(String, String)>,
    /// The secrets' fingerprints.
    pub fingerprints: BTreeMap<String, String>,
}

/// Whether `archive` (on the box) lists config.json and .env, as one check.
pub async fn lists_config_and_env(live: &Live, archive: &str) -> anyhow::Result<Check> {
    let listing = live
        .remote
        .must(
            "listing the backup archive",
            &["tar", "-tzf", archive],
            None,
            Duration::from_secs(120),
        )
        .await?;
    let names: Vec<&str> = listing
        .stdout
        .lines()
        .map(|l| l.trim_start_matches("./"))
        .collect();
    let missing: Vec<&str> = ["config.json", ".env"]
        .into_iter()
        .filter(|want| !names.contains(want))
        .collect();
    Ok(Check {
        name: "the backup archive lists config.json and .env".to_owned(),
        result: if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("{archive} lacks {missing:?}"))
        },
    })
}

/// Takes the safety backup; its archive must list config.json and .env.
pub async fn take(live: &Live) -> anyhow::Result<Safety> {
    let step = "pithead backup -y --no-encrypt (safety backup)";
    live.step("safety backup", step);
    let config_digest = live.remote.digests(&["config.json"]).await?;
    let fingerprints = reads::fingerprints(&live.remote).await?;
    live.remote
        .must_pithead(
            step,
            &["backup", "-y", "--no-encrypt", "--output", ARCHIVE],
            Duration::from_secs(600),
        )
        .await?;
    let listed = lists_config_and_env(live, ARCHIVE).await?;
    if let Err(why) = listed.result {
        anyhow::bail!(
            "{}: the safety backup is unusable: {why}",
            live.remote.host()
        );
    }
    Ok(Safety {
        archive: ARCHIVE.to_owned(),
        config_digest,
        fingerprints,
    })
}

/// Puts the box back as the backup found it: down → restore → up, then readiness, and checks
/// that config.json is byte-identical and every secret's fingerprint equal.
pub async fn roll_back(live: &Live, safety: &Safety) -> anyhow::Result<Vec<Check>> {
    let name = "safety backup: roll back";
    let remote = &live.remote;
    live.step(name, "pithead down");
    remote
        .must_pithead("pithead down", &["down"], Duration::from_secs(600))
        .await?;
    live.step(name, "pithead restore -y");
    remote
        .must_pithead(
            "pithead restore",
            &["restore", "-y", &safety.archive],
            Duration::from_secs(600),
        )
        .await?;
    live.up(name).await?;
    let mut checks = live.ready(name).await;
    let digest = remote.digests(&["config.json"]).await?;
    checks.push(Check {
        name: "config.json is byte-identical to the safety backup's".to_owned(),
        result: if digest == safety.config_digest {
            Ok(())
        } else {
            Err("config.json differs from the backed-up one".to_owned())
        },
    });
    checks.push(live.secrets_kept(&safety.fingerprints).await?);
    Ok(checks)
}

/// Removes the archive after a run without failures.
pub async fn remove(live: &Live, safety: &Safety) -> anyhow::Result<Vec<Check>> {
    live.remote
        .must(
            "removing the safety backup",
            &["rm", "-f", "--", &safety.archive],
            None,
            Duration::from_secs(30),
        )
        .await?;
    let gone = live.remote.read(&safety.archive).await?.is_none();
    Ok(vec![Check {
        name: "the safety backup is removed after a clean run".to_owned(),
        result: if gone {
            Ok(())
        } else {
            Err(format!("{} is still on the box", safety.archive))
        },
    }])
}
