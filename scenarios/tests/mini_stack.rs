//! The scenario catalog on the mini-stack (tier 3): every `@mini-stack` scenario of
//! `features/*.feature`, each on a fresh stack of real containers — the runtime's image against
//! the fakes' image, through the start/stop socket proxy — on the local docker engine.
//!
//! Run: `cargo xtask mini-stack [--scenario NAME] [--keep]` (builds the images first), or, with
//! the images built (`cargo xtask images`): `cargo test -p pithead-scenarios --features
//! mini-stack --test mini_stack`.
//!
//! - `PITHEAD_SCENARIO=<substring>` runs only the matching scenarios.
//! - No docker engine: outside CI the tier says loudly that it skipped and why and exits 0;
//!   under `CI=true` that is a failure.
//! - Before the run, what earlier runs left behind (their process gone) is removed; after it,
//!   nothing of this run may remain (checked: a leftover fails the run).
//! - On a failure, the evidence is written under `target/mini-stack/<scenario>/` and named in the
//!   failure message. JUnit XML: `target/cucumber/mini-stack.xml`.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pithead_scenarios::mini_stack::{leftovers, sweep, Images, Run};
use pithead_scenarios::runner::{junit_file, run, target_dir, Options};
use pithead_scenarios::tags::TierTag;
use pithead_scenarios::tiers::Registry;
use testcontainers::bollard::Docker;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The engine, or why there is none.
fn engine(rt: &tokio::runtime::Runtime) -> Result<Docker, String> {
    let _runtime = rt.enter();
    let docker = Docker::connect_with_local_defaults().map_err(|e| e.to_string())?;
    rt.block_on(docker.ping())
        .map_err(|e| format!("it does not answer a ping: {e}"))?;
    Ok(docker)
}

fn missing_images(rt: &tokio::runtime::Runtime, docker: &Docker, images: &Images) -> Vec<String> {
    [&images.runtime, &images.fake]
        .into_iter()
        .map(|(name, tag)| format!("{name}:{tag}"))
        .filter(|image| rt.block_on(docker.inspect_image(image)).is_err())
        .collect()
}

fn main() -> ExitCode {
    // Multi-threaded: the engine client's connections are tasks that must run between steps.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mini-stack: cannot start a tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let docker = match engine(&rt) {
        Ok(docker) => docker,
        Err(why) if in_ci() => {
            eprintln!("mini-stack: FAILED: no docker engine under CI ({why})");
            return ExitCode::FAILURE;
        }
        Err(why) => {
            eprintln!(
                "\n*** mini-stack: SKIPPED — no docker engine ({why}).\n*** Start dockerd \
                 (Debian: apt-get install docker.io; dockerd &) and run `cargo xtask \
                 mini-stack`.\n"
            );
            return ExitCode::SUCCESS;
        }
    };
    let images = Images::default();
    let missing = missing_images(&rt, &docker, &images);
    if !missing.is_empty() {
        eprintln!(
            "mini-stack: FAILED: the images {missing:?} are not built; run `cargo xtask images` \
             (or `cargo xtask mini-stack`, which builds them)"
        );
        return ExitCode::FAILURE;
    }
    if std::env::var_os("PITHEAD_MINI_STACK_CLEAN").is_some() {
        // Only what dead processes left (kept stacks, interrupted runs): a run in progress keeps
        // its stacks.
        return match rt.block_on(sweep(&docker)) {
            Ok(removed) => {
                println!(
                    "mini-stack: removed {} resource(s): {removed:?}",
                    removed.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mini-stack: the clean-up failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let keep = std::env::var_os("PITHEAD_KEEP").is_some_and(|v| !v.is_empty() && v != "0");
    match rt.block_on(sweep(&docker)) {
        Ok(removed) if !removed.is_empty() => {
            eprintln!("mini-stack: removed what earlier runs left behind: {removed:?}");
        }
        Ok(_) => {}
        Err(e) => eprintln!("mini-stack: could not sweep earlier runs: {e}"),
    }

    let artifacts = target_dir().join("mini-stack");
    let (junit, file) = match junit_file("mini-stack.xml") {
        Ok(created) => created,
        Err(e) => {
            eprintln!("mini-stack: {e}");
            return ExitCode::FAILURE;
        }
    };
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");

    let features = std::fs::canonicalize(&features).unwrap_or(features);
    let only = only_filter();
    let whole_catalog = only.is_none();

    let stack_run = Run::new(
        rt.handle().clone(),
        docker.clone(),
        images.clone(),
        artifacts.clone(),
    )
    .keep(keep);
    let floor_of = stack_run.clone();
    let tiers = Registry::empty().with(TierTag::MiniStack, move |cx| {
        Ok(Box::new(stack_run.tier(cx.scenario)?))
    });
    let report = run(Options {
        features,
        only,
        seed: None,
        pretty: Box::new(io::stdout()),
        junit: Box::new(file),
        show_record: false,
        tiers,
    });

    let self_check = if whole_catalog && !keep {
        let check_run = Run::new(rt.handle().clone(), docker.clone(), images, artifacts);
        Some(self_check(check_run))
    } else {
        None
    };

    let left = rt.block_on(leftovers(&docker));
    let mut out = io::stdout().lock();
    let printed = report
        .print(&mut out)
        .and_then(|()| writeln!(out, "JUnit XML: {}", junit.display()));
    let floor = floor_of.floor();
    let _ = writeln!(
        out,
        "mini-stack: wall {:.0} s against a floor of {:.0} s (the scaled spans the scenarios \
         wait out): {:.2}x",
        report.wall.as_secs_f64(),
        floor.as_secs_f64(),
        report.wall.as_secs_f64() / floor.as_secs_f64().max(1.0)
    );
    let clean = match left {
        Ok(left) if keep => {
            let _ = writeln!(
                out,
                "mini-stack: kept {} resource(s) (--keep); remove them with `cargo xtask \
                 mini-stack --clean`",
                left.len()
            );
            true
        }
        Ok(left) if left.is_empty() => {
            let _ = writeln!(out, "mini-stack: nothing left on the engine");
            true
        }
        Ok(left) => {
            let _ = writeln!(out, "mini-stack: FAILED: left on the engine: {left:?}");
            false
        }
        Err(e) => {
            let _ = writeln!(out, "mini-stack: FAILED: cannot check for leftovers: {e}");
            false
        }
    };
    let checked = match self_check {
        None => true,
        Some(Ok(())) => {
            let _ = writeln!(
                out,
                "mini-stack: self-check passed (a false expectation fails with its evidence \
                 written; an unsupported step is skipped, not passed)"
            );
            true
        }
        Some(Err(why)) => {
            let _ = writeln!(out, "mini-stack: FAILED: self-check: {why}");
            false
        }
    };
    if printed.is_err() || report.fails_build() || !clean || !checked {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn only_filter() -> Option<String> {
    std::env::var("PITHEAD_SCENARIO")
        .ok()
        .filter(|s| !s.is_empty())
}

/// The tier judged by scenarios whose outcome is known: `must fail` has to fail, naming an
/// evidence directory that holds the runtime's log, the engine's events, the container states
/// and `/api/state`; `must be unsupported` has to be skipped with the tier's reason.
fn self_check(stack_run: Run) -> Result<(), String> {
    let tiers = Registry::empty().with(TierTag::MiniStack, move |cx| {
        Ok(Box::new(stack_run.tier(cx.scenario)?))
    });
    let report = run(Options {
        features: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini_stack"),
        only: None,
        seed: None,
        pretty: Box::new(io::sink()),
        junit: Box::new(io::sink()),
        show_record: false,
        tiers,
    });
    let [(failed, why)] = report.failed.as_slice() else {
        return Err(format!(
            "expected exactly the must-fail scenario to fail: {report:#?}"
        ));
    };
    if !failed.contains("must fail") {
        return Err(format!("the wrong scenario failed: {failed}: {why}"));
    }
    let dir = why
        .split(" in ")
        .last()
        .map(|rest| PathBuf::from(rest.lines().next().unwrap_or_default().trim()))
        .filter(|dir| dir.is_dir())
        .ok_or_else(|| format!("the failure names no evidence directory: {why}"))?;
    for file in [
        "runtime.log",
        "events.txt",
        "containers.txt",
        "api-state.json",
    ] {
        let text = std::fs::read_to_string(dir.join(file))
            .map_err(|e| format!("{}: {e}", dir.join(file).display()))?;
        if text.trim().is_empty() {
            return Err(format!("{} is empty", dir.join(file).display()));
        }
    }
    let [(skipped, reason)] = report.unsupported.as_slice() else {
        return Err(format!(
            "expected exactly one unsupported scenario: {report:#?}"
        ));
    };
    if !skipped.contains("must be unsupported") || !reason.contains("mini-stack tier") {
        return Err(format!("unexpected skip: {skipped}: {reason}"));
    }
    if !report.passed.is_empty() {
        return Err(format!("a self-check scenario passed: {:?}", report.passed));
    }
    Ok(())
}
