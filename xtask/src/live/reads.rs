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

/// What `--check` must leave as it was: the stack files' digests and the id, state, start time
/// and restart count of every container of the stack's compose project, as the engine on the
/// box reports them. Containers of other projects on the same engine are not the stack's: they
/// may come and go during a check (another test run, the operator's own services).
pub async fn snapshot(remote: &Remote) -> Result<Vec<String>, RemoteError> {
    let mut lines: Vec<String> = remote
        .digests(STACK_FILES)
        .await?
        .into_iter()
        .map(|(path, digest)| format!("{path} {digest}"))
        .collect();
    let project = project(remote).await?;
    let script = stack_inspect_script(
        &project,
        "{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}",
    );
    let reply = remote
        .must(
            "listing the stack's containers",
            &["sh", "-c", &script],
            None,
            Duration::from_secs(60),
        )
        .await?;
    let mut containers: Vec<String> = reply.stdout.lines().map(str::to_owned).collect();
    containers.sort();
    lines.extend(containers);
    Ok(lines)
}

/// The stack's compose project on the box: `COMPOSE_PROJECT_NAME` of its `.env` (which `pithead
/// apply` writes), else the name compose derives from the stack directory.
pub async fn project(remote: &Remote) -> Result<String, RemoteError> {
    let env = parse_env(&remote.read(".env").await?.unwrap_or_default());
    Ok(project_name(
        env.get("COMPOSE_PROJECT_NAME").map(String::as_str),
        remote.dir(),
    ))
}

/// Compose's rule: the configured name, else the directory's base name lowercased with every
/// character outside `[a-z0-9_-]` dropped. The result is safe inside a shell word: anything else
/// is dropped too.
pub fn project_name(configured: Option<&str>, stack_dir: &str) -> String {
    let raw = match configured.map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => stack_dir
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    raw.to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// A script that prints `format` for every container (running or not) of compose project
/// `project`, and nothing when it has none.
fn stack_inspect_script(project: &str, format: &str) -> String {
    format!(
        "ids=$(docker ps -aq --filter label=com.docker.compose.project={project}) && \
         if [ -n \"$ids\" ]; then docker inspect --format '{format}' $ids; fi"
    )
}

/// The image of every container of the stack: `(container, image reference and id)`.
pub async fn images(remote: &Remote) -> Result<Vec<(String, String)>, RemoteError> {
    let project = project(remote).await?;
    let script = stack_inspect_script(&project, "{{.Name}} {{.Config.Image}}@{{.Image}}");
    let reply = remote
        .must(
            "reading the image digests",
            &["sh", "-c", &script],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_is_the_env_name_else_the_directory_name_as_compose_derives_it() {
        assert_eq!(project_name(Some("pithead"), "/srv/stack"), "pithead");
        assert_eq!(project_name(Some("  "), "/srv/My.Stack/"), "mystack");
        assert_eq!(project_name(None, "/home/op/pithead"), "pithead");
    }

    #[test]
    fn a_project_name_cannot_break_out_of_the_script() {
        let name = project_name(Some("x; rm -rf / #$(id)"), "/srv");
        assert_eq!(name, "xrm-rfid");
    }

    #[test]
    fn the_listing_is_scoped_to_the_stacks_project() {
        let script = stack_inspect_script("pithead", "{{.Name}}");
        assert!(
            script.contains("docker ps -aq --filter label=com.docker.compose.project=pithead"),
            "{script}"
        );
        assert!(
            script.contains("docker inspect --format '{{.Name}}' $ids"),
            "{script}"
        );
    }
}
