//! `pithead upgrade`: pull what the registries have newer, recreate what changed, and wait
//! (bounded) for the stack to be healthy again; then say which services run a new image.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use pithead_runtime::cli::compose::ComposeRunner;
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::{status, upgrade};
use pithead_runtime::control::verdicts;

use crate::stack;

/// Upper bound on the pull (every image of the stack) and on the recreate.
const COMPOSE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How often the stack's health is read while waiting.
const POLL: Duration = Duration::from_secs(2);
/// Each docker and runtime call while waiting.
const CALL: Duration = Duration::from_secs(10);
/// The longest `--wait`, in seconds (one day); the command line refuses more.
pub const MAX_WAIT_SECS: u64 = 86_400;

/// Options of `pithead upgrade`.
pub struct Upgrade<'a> {
    pub stack_dir: &'a Path,
    pub docker: &'a str,
    pub url: &'a str,
    pub wait: Duration,
}

pub async fn run(options: Upgrade<'_>) -> anyhow::Result<ExitCode> {
    // Checked before anything runs (the command line already bounds it): the deadline is
    // computed only after the recreate, too late to refuse the value then.
    anyhow::ensure!(
        options.wait <= Duration::from_secs(MAX_WAIT_SECS),
        "--wait: give at most {MAX_WAIT_SECS} seconds"
    );
    let stack = StackDir::new(options.stack_dir);
    let services = stack::services(&stack)?;
    stack::engine(options.docker).await?;
    let compose = stack::compose(&stack, options.docker, COMPOSE_TIMEOUT)?;
    let before = status::images(options.docker, &services, CALL).await?;

    // An image that exists only here (built on this box, or pinned to a digest already
    // present) has nothing to pull: its failure is not the upgrade's.
    eprintln!("pithead: pulling newer images (images built on this box are kept)…");
    // Compose still fails the whole pull when a registry cannot be reached at all (no DNS, no
    // route): the stack then keeps the images it has, which is what the report shows.
    let pulled = compose.run(&["pull", "--ignore-pull-failures"]);
    if let Err(e) = &pulled {
        eprintln!("pithead: {e}");
    }
    eprintln!("pithead: recreating the services whose image or configuration changed…");
    compose.run(&["up", "-d", "--remove-orphans"])?;

    let healthy = wait_healthy(&options, &services).await?;
    let after = status::images(options.docker, &services, CALL).await?;
    if pulled.is_err() {
        say!("⚠ The pull failed (is a registry reachable?): services kept the images on this box.");
    }
    for line in upgrade::report(&upgrade::changes(&before, &after)) {
        say!("{line}");
    }
    Ok(match healthy {
        Ok(secs) => {
            say!("The stack is healthy again after {secs} s.");
            ExitCode::SUCCESS
        }
        Err(lines) => {
            say!(
                "The stack is not healthy {} s after the upgrade:",
                options.wait.as_secs()
            );
            for line in lines {
                say!("{line}");
            }
            ExitCode::from(1)
        }
    })
}

/// Seconds until every expected service is up (`pithead status` would exit 0), or the last
/// status lines when `wait` ran out.
async fn wait_healthy(
    options: &Upgrade<'_>,
    services: &[String],
) -> anyhow::Result<Result<u64, Vec<String>>> {
    let started = tokio::time::Instant::now();
    let deadline = started
        .checked_add(options.wait)
        .ok_or_else(|| anyhow::anyhow!("--wait: give at most {MAX_WAIT_SECS} seconds"))?;
    let mut last_summary = String::new();
    loop {
        let observed = status::observe(options.docker, services, CALL).await?;
        let state = status::runtime_state(options.url, Duration::from_secs(3)).await;
        let report = verdicts::verdicts(&observed, status::context(state.as_ref()));
        let (lines, code) = status::output(&report, state.as_ref());
        if code == 0 {
            return Ok(Ok(started.elapsed().as_secs()));
        }
        let summary = report.summary();
        if summary != last_summary {
            eprintln!("pithead: waiting for the stack: {summary}");
            last_summary = summary;
        }
        if tokio::time::Instant::now() + POLL > deadline {
            return Ok(Err(lines));
        }
        tokio::time::sleep(POLL).await;
    }
}
