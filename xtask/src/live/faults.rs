//! Fault injection on a real box (§8): stop, freeze (SIGSTOP) and remove monerod, each with the
//! status verdict and miner state it must cause, then recovery. The box's own docker CLI does
//! the damage; `pithead` judges it.

use std::time::Duration;

use super::report::Check;
use super::run::Live;
use super::wait;

/// The container every fault targets.
const MONEROD: &str = "monerod";
/// How long a fault may take to show in `pithead status` (a real health check needs up to
/// interval × retries, 90 s with the shipped compose file).
const SHOWS: Duration = Duration::from_secs(240);
/// How long the stack may take to recover.
const RECOVERS: Duration = Duration::from_secs(300);

/// The faults, by scenario name.
pub const FAULTS: [&str; 3] = [
    "fault: stop monerod",
    "fault: SIGSTOP monerod",
    "fault: rm monerod",
];

/// Runs the fault scenario `name` (one of [`FAULTS`]).
pub async fn run(live: &Live, name: &str) -> anyhow::Result<Vec<Check>> {
    match name {
        "fault: stop monerod" => stop(live).await,
        "fault: SIGSTOP monerod" => freeze(live).await,
        "fault: rm monerod" => remove(live).await,
        other => anyhow::bail!("no fault is called {other:?}"),
    }
}

async fn docker(live: &Live, step: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["docker"];
    argv.extend_from_slice(args);
    live.remote
        .must(step, &argv, None, Duration::from_secs(120))
        .await?;
    Ok(())
}

fn check(name: &str, result: Result<(), wait::WaitError>) -> Check {
    Check {
        name: name.to_owned(),
        result: result.map_err(|e| e.to_string()),
    }
}

/// Stop monerod ⇒ status 1 and xmrig-proxy exited (workers rejected); start ⇒ status 0.
async fn stop(live: &Live) -> anyhow::Result<Vec<Check>> {
    let remote = &live.remote;
    live.step("fault: stop monerod", "docker stop monerod");
    docker(live, "docker stop monerod", &["stop", MONEROD]).await?;
    let mut checks = vec![check(
        "pithead status exits 1 with monerod and xmrig-proxy exited",
        wait::status_says(
            remote,
            1,
            &["✗ monerod exited", "xmrig-proxy exited"],
            SHOWS,
        )
        .await,
    )];
    live.step("fault: stop monerod", "docker start monerod");
    docker(live, "docker start monerod", &["start", MONEROD]).await?;
    checks.push(check(
        "pithead status exits 0 once the workers are readmitted",
        wait::status_says(remote, 0, &["✓ xmrig-proxy running"], RECOVERS).await,
    ));
    Ok(checks)
}

/// SIGSTOP monerod ⇒ running but unhealthy, status 1; SIGCONT ⇒ status 0 again.
async fn freeze(live: &Live) -> anyhow::Result<Vec<Check>> {
    let remote = &live.remote;
    live.step("fault: SIGSTOP monerod", "docker kill -s STOP monerod");
    docker(
        live,
        "docker kill -s STOP monerod",
        &["kill", "-s", "STOP", MONEROD],
    )
    .await?;
    let unhealthy = wait::status_says(remote, 1, &["⚠ monerod running but UNHEALTHY"], SHOWS).await;
    // Resume whatever the wait saw: a frozen node must never be left behind.
    live.step("fault: SIGSTOP monerod", "docker kill -s CONT monerod");
    docker(
        live,
        "docker kill -s CONT monerod",
        &["kill", "-s", "CONT", MONEROD],
    )
    .await?;
    Ok(vec![
        check(
            "pithead status reports monerod running but UNHEALTHY and exits 1",
            unhealthy,
        ),
        check(
            "pithead status exits 0 again after SIGCONT",
            wait::status_says(remote, 0, &["✓ monerod running"], RECOVERS).await,
        ),
    ])
}

/// `docker rm -f monerod` ⇒ missing, status 1; `pithead up` ⇒ status 0.
async fn remove(live: &Live) -> anyhow::Result<Vec<Check>> {
    let remote = &live.remote;
    live.step("fault: rm monerod", "docker rm -f monerod");
    docker(live, "docker rm -f monerod", &["rm", "-f", MONEROD]).await?;
    let missing = wait::status_says(remote, 1, &["✗ monerod missing"], SHOWS).await;
    live.step("fault: rm monerod", "pithead up");
    remote
        .must_pithead("pithead up", &["up"], Duration::from_secs(600))
        .await?;
    Ok(vec![
        check(
            "pithead status reports monerod missing and exits 1",
            missing,
        ),
        check(
            "pithead status exits 0 after pithead up",
            wait::status_says(remote, 0, &["✓ monerod running"], RECOVERS).await,
        ),
    ])
}
