//! What the live matrix reads on a box, all of it read there: the stack's files, `pithead
//! status`, `/api/state` (through `pithead state --json`), the engine's view of the
//! containers, and the secret fingerprints.

use std::collections::BTreeMap;
use std::time::Duration;

use pithead_runtime::cli::secrets::GENERATED_ENV_KEYS;
use serde_json::Value;

use super::battery::{parse_env, BoxFacts};
use super::redact::{env_secrets, fingerprint, json_secrets};
use super::ssh::{Remote, RemoteError, Reply};

/// The stack's files whose bytes `--check` must leave untouched.
pub const STACK_FILES: &[&str] = &[
    "config.json",
    ".env",
    "Caddyfile",
    "compose.yaml",
    "compose.override.yaml",
];

/// How long one `pithead status` may take on the box.
const STATUS_TIMEOUT: Duration = Duration::from_secs(60);

/// `pithead status` on the box.
pub async fn status(remote: &Remote) -> Result<Reply, RemoteError> {
    remote
        .pithead("pithead status", &["status"], None, STATUS_TIMEOUT)
        .await
}

/// `/api/state` as the runtime serves it on the box, or `None` when it does not answer.
pub async fn state(remote: &Remote) -> Result<Option<Value>, RemoteError> {
    let reply = remote
        .pithead(
            "pithead state --json",
            &["state", "--json"],
            None,
            Duration::from_secs(30),
        )
        .await?;
    if !reply.ok() {
        return Ok(None);
    }
    Ok(serde_json::from_str(&reply.stdout).ok())
}

/// `config.json` on the box, parsed.
pub async fn config(remote: &Remote) -> anyhow::Result<Value> {
    let text = remote.read("config.json").await?.ok_or_else(|| {
        anyhow::anyhow!(
            "{}: there is no config.json in {} (run `pithead setup` there first)",
            remote.host(),
            remote.dir()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {}/config.json is not valid JSON (line {}, column {})",
            remote.host(),
            remote.dir(),
            e.line(),
            e.column()
        )
    })
}

/// Everything the assertion battery judges, read now.
pub async fn facts(remote: &Remote) -> anyhow::Result<BoxFacts> {
    let config = config(remote).await?;
    let env = parse_env(&remote.read(".env").await?.unwrap_or_default());
    let caddyfile = remote.read("Caddyfile").await?.unwrap_or_default();
    let status = status(remote).await?;
    let state = state(remote).await?;
    Ok(BoxFacts {
        config,
        env,
        caddyfile,
        status_code: status.code,
        status_out: status.stdout,
        state,
    })
}

/// The secrets of the stack's `.env` by key, as fingerprints (never the values).
pub async fn fingerprints(remote: &Remote) -> Result<BTreeMap<String, String>, RemoteError> {
    let env = parse_env(&remote.read(".env").await?.unwrap_or_default());
    Ok(secret_fingerprints(&env))
}

/// The fingerprint of every generated secret of `env` (the ones every apply must keep; a
/// remote node's login changes with config.json and is not among them).
pub fn secret_fingerprints(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(key, value)| GENERATED_ENV_KEYS.contains(&key.as_str()) && !value.is_empty())
        .map(|(key, value)| (key.clone(), fingerprint(value)))
        .collect()
}

/// The raw secrets of the box (the `.env`'s credentials, config.json's secret-named strings and
/// its host names), for the redactor. They stay in this process's memory.
pub async fn known_secrets(remote: &Remote) -> anyhow::Result<Vec<String>> {
    let env = remote.read(".env").await?.unwrap_or_default();
    let mut known = env_secrets(&env);
    if let Some(text) = remote.read("config.json").await? {
        known.extend(json_secrets(&text));
        if let Ok(config) = serde_json::from_str::<Value>(&text) {
            collect_secret_strings(&config, "", &mut known);
        }
    }
    Ok(known)
}

/// Strings of `config` under keys that name a host or a URL (a remote node's name says where
/// the operator's box talks to), beside what [`json_secrets`] finds.
fn collect_secret_strings(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_secret_strings(v, k, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_secret_strings(item, key, out);
            }
        }
        Value::String(s) if is_secret_key(key) && !s.is_empty() => out.push(s.clone()),
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["url", "webhooks", "host"]
        .iter()
        .any(|word| key.contains(word))
}

/// What `--check` must leave as it was: the stack files' digests and every container's id,
/// state, start time and restart count, as the engine on the box reports them.
pub async fn snapshot(remote: &Remote) -> Result<Vec<String>, RemoteError> {
    let mut lines: Vec<String> = remote
        .digests(STACK_FILES)
        .await?
        .into_iter()
        .map(|(path, digest)| format!("{path} {digest}"))
        .collect();
    let script = r#"ids=$(docker ps -aq) && if [ -n "$ids" ]; then docker inspect --format '{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}' $ids; fi"#;
    let reply = remote
        .must(
            "listing the containers",
            &["sh", "-c", script],
            None,
            Duration::from_secs(60),
        )
        .await?;
    let mut containers: Vec<String> = reply.stdout.lines().map(str::to_owned).collect();
    containers.sort();
    lines.extend(containers);
    Ok(lines)
}

/// The image of every container of the stack: `(container, image reference and id)`.
pub async fn images(remote: &Remote) -> Result<Vec<(String, String)>, RemoteError> {
    let script = r#"ids=$(docker ps -aq) && if [ -n "$ids" ]; then docker inspect --format '{{.Name}} {{.Config.Image}}@{{.Image}}' $ids; fi"#;
    let reply = remote
        .must(
            "reading the image digests",
            &["sh", "-c", script],
            None,
            Duration::from_secs(60),
        )
        .await?;
    let mut images: Vec<(String, String)> = reply
        .stdout
        .lines()
        .filter_map(|line| {
            let (name, image) = line.split_once(' ')?;
            Some((name.trim_start_matches('/').to_owned(), image.to_owned()))
        })
        .collect();
    images.sort();
    Ok(images)
}

/// The failure artifacts of §8, unredacted (the caller writes them through the redactor):
/// compose ps, status, doctor, config, the `.env` reduced to its allow-list, `/api/state`, the
/// last 200 log lines. A read that fails leaves its error in place of the content.
pub async fn artifacts(remote: &Remote) -> Vec<(&'static str, String)> {
    let text = |reply: Result<Reply, RemoteError>| match reply {
        Ok(reply) => format!("{}{}# {}\n", reply.stdout, reply.stderr, reply.describe()),
        Err(e) => format!("# could not read: {e}\n"),
    };
    let long = Duration::from_secs(120);
    let ps = remote
        .run(
            "docker ps",
            &[
                "docker",
                "ps",
                "-a",
                "--format",
                "table {{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}",
            ],
            None,
            long,
        )
        .await;
    let status = status(remote).await;
    let doctor = remote
        .pithead("pithead doctor", &["doctor"], None, long)
        .await;
    let state = remote
        .pithead(
            "pithead state --json",
            &["state", "--json"],
            None,
            Duration::from_secs(30),
        )
        .await;
    let logs = remote
        .pithead("pithead logs", &["logs", "--tail", "200"], None, long)
        .await;
    let config = match remote.read("config.json").await {
        Ok(Some(text)) => text,
        Ok(None) => "# no config.json\n".to_owned(),
        Err(e) => format!("# could not read: {e}\n"),
    };
    let env = match remote.read(".env").await {
        Ok(Some(text)) => super::redact::env_allow_list(&text),
        Ok(None) => "# no .env\n".to_owned(),
        Err(e) => format!("# could not read: {e}\n"),
    };
    vec![
        ("compose-ps.txt", text(ps)),
        ("status.txt", text(status)),
        ("doctor.txt", text(doctor)),
        ("config.json", config),
        ("env.txt", env),
        ("api-state.json", text(state)),
        ("logs.txt", text(logs)),
    ]
}
