//! The simulation's build for long runs (`cargo xtask swarm`, `cargo xtask bench-sim`):
//! profile-guided optimization (PGO) on top of the release profile's fat LTO.
//!
//! The simulation spends its time in code paths the compiler cannot rank on its own (tokio's
//! scheduler, hyper, h2, serde across the runtime and the fakes), so a build that knows which
//! branches are hot is a third faster: `docs/testing.md`, "Seventh round", has the figures.
//! Three steps (the whole optimized tree is rebuilt when the sources changed, since the profile
//! feeds every crate; nothing is redone when they did not):
//! 1. an instrumented build (`-Cprofile-generate`) in `target/pgo/generate`;
//! 2. a training run of that build: a simulated day at another `UPDATE_INTERVAL` than the
//!    benchmark's, and seeds far from the ones `swarm` runs by default, so what is measured is
//!    not what was trained on;
//! 3. the merged profile (`llvm-profdata`, from rustup's `llvm-tools` component) fed to the
//!    optimized build (`-Cprofile-use`) in `target/pgo/use`.
//!
//! Written here rather than with `cargo-pgo`: that tool is one more install on every machine,
//! while these steps need only rustup's `llvm-tools`, which is added on first use. Without it
//! (no rustup, no network), the plain release build is used and the run says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// `PITHEAD_SIM_PGO=0` skips the profile-guided build (the plain release build runs instead).
pub const OPT_OUT: &str = "PITHEAD_SIM_PGO";

/// What the instrumented build runs to learn the hot paths. Chosen apart from what is measured:
/// the benchmark's day is at a 30 s interval and `swarm` starts at seed 0.
const TRAINING: &[&[&str]] = &[
    &[
        "bench",
        "--interval",
        "10",
        "--tick-ms",
        "1000",
        "--swarm-seeds",
        "0",
    ],
    &[
        "swarm",
        "--seeds",
        "16",
        "--first-seed",
        "100000",
        "--hours",
        "6",
    ],
];

/// Where the profile-guided build keeps its trees, raw profiles and merged profile.
struct Layout {
    generate: PathBuf,
    use_: PathBuf,
    raw: PathBuf,
    merged: PathBuf,
    training_report: PathBuf,
}

impl Layout {
    fn under(target: &Path) -> Self {
        let pgo = target.join("pgo");
        Self {
            generate: pgo.join("generate"),
            use_: pgo.join("use"),
            raw: pgo.join("raw"),
            merged: pgo.join("pithead-sim.profdata"),
            training_report: pgo.join("training-swarm.json"),
        }
    }
}

/// The `pithead-sim` binary to run: profile-guided unless opted out or impossible here, in
/// which case the plain release build (and a line saying why).
pub fn sim_binary() -> anyhow::Result<PathBuf> {
    let root = crate::images::workspace_root();
    let target = crate::images::target_dir(&root);
    if std::env::var(OPT_OUT).is_ok_and(|v| v == "0") {
        eprintln!("xtask: {OPT_OUT}=0: the plain release build of the simulation");
        return release_binary(&target);
    }
    let profdata = match llvm_profdata() {
        Ok(path) => path,
        Err(e) => {
            eprintln!(
                "xtask: no profile-guided build ({}); the plain release build of the simulation runs, about a third slower",
                pithead_runtime::error_chain::joined(e.as_ref())
            );
            return release_binary(&target);
        }
    };
    let layout = Layout::under(&target);
    eprintln!("xtask: profile-guided build of the simulation, 1/3: instrumented build");
    build(
        &layout.generate,
        &format!("-Cprofile-generate={}", layout.raw.display()),
    )?;
    // The profile feeds every crate, so a new one rebuilds the whole optimized tree: made only
    // when the instrumented build changed since the optimized binary was built from it.
    if is_current(&binary_in(&layout.use_), &binary_in(&layout.generate)) {
        eprintln!("xtask: profile-guided build is current (no source changed)");
        return Ok(binary_in(&layout.use_));
    }
    eprintln!("xtask: profile-guided build, 2/3: training (a simulated day and 16 seeds)");
    train(&layout)?;
    merge(&profdata, &layout)?;
    eprintln!("xtask: profile-guided build, 3/3: optimized build");
    build(
        &layout.use_,
        // A function the training never ran has no profile: expected, not worth a warning each.
        &format!(
            "-Cprofile-use={} -Cllvm-args=-pgo-warn-missing-function=false",
            layout.merged.display()
        ),
    )?;
    Ok(binary_in(&layout.use_))
}

/// Whether `built` was made after `from` (both exist): nothing it was made from changed since.
fn is_current(built: &Path, from: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    matches!((modified(built), modified(from)), (Some(built), Some(from)) if built >= from)
}

/// `cargo` arguments that build the simulation's binary in release mode.
pub(crate) const SIM_BUILD: [&str; 7] = [
    "build",
    "--release",
    "--quiet",
    "-p",
    "pithead-sim",
    "--bin",
    "pithead-sim",
];

fn release_binary(target: &Path) -> anyhow::Result<PathBuf> {
    crate::cargo(&SIM_BUILD)?;
    Ok(binary_in(target))
}

fn binary_in(target_dir: &Path) -> PathBuf {
    target_dir.join("release").join("pithead-sim")
}

/// `cargo build --release` of the simulation into its own target directory: the flags apply to
/// every crate (most of the time is spent in dependencies), and a tree of its own keeps the
/// plain release tree from being rebuilt back and forth.
fn build(target_dir: &Path, rustflags: &str) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // These binaries only ever run on the machine that built them (they live under `target/`,
    // and nothing ships them), so they may use every instruction this CPU has.
    let rustflags = format!("{rustflags} -Ctarget-cpu=native");
    let flags = match std::env::var("RUSTFLAGS") {
        Ok(existing) if !existing.trim().is_empty() => format!("{existing} {rustflags}"),
        _ => rustflags.clone(),
    };
    let status = Command::new(&cargo)
        .args(SIM_BUILD)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTFLAGS", &flags)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!(
            "the simulation's build with {rustflags} failed ({status}); {OPT_OUT}=0 runs the plain release build"
        );
    }
    Ok(())
}

fn train(layout: &Layout) -> anyhow::Result<()> {
    // Stale raw profiles from an older build would be merged with mismatching counters.
    match std::fs::remove_dir_all(&layout.raw) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot clear {}", layout.raw.display())),
    }
    let binary = binary_in(&layout.generate);
    for args in TRAINING {
        let mut command = Command::new(&binary);
        command.args(*args);
        if args.first() == Some(&"swarm") {
            command.arg("--out").arg(&layout.training_report);
        }
        let output = command
            .output()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        if !output.status.success() {
            bail!(
                "the training run `pithead-sim {}` failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
    }
    Ok(())
}

fn merge(profdata: &Path, layout: &Layout) -> anyhow::Result<()> {
    let status = Command::new(profdata)
        .arg("merge")
        .arg("-o")
        .arg(&layout.merged)
        .arg(&layout.raw)
        .status()
        .with_context(|| format!("cannot run {}", profdata.display()))?;
    if !status.success() {
        bail!(
            "llvm-profdata merge of {} failed ({status})",
            layout.raw.display()
        );
    }
    Ok(())
}

/// rustup's `llvm-profdata` for the toolchain that builds this workspace, added with
/// `rustup component add llvm-tools` when missing.
fn llvm_profdata() -> anyhow::Result<PathBuf> {
    let path = profdata_path()?;
    if path.is_file() {
        return Ok(path);
    }
    eprintln!("xtask: adding rustup's llvm-tools (llvm-profdata, for the profile-guided build)");
    let added = Command::new("rustup")
        .args(["component", "add", "llvm-tools"])
        .status()
        .context("cannot run rustup")?;
    if !added.success() || !path.is_file() {
        bail!(
            "`rustup component add llvm-tools` did not provide {}",
            path.display()
        );
    }
    Ok(path)
}

fn profdata_path() -> anyhow::Result<PathBuf> {
    let sysroot = rustc(&["--print", "sysroot"])?;
    let version = rustc(&["-vV"])?;
    let host = host_triple(&version).context("`rustc -vV` names no host")?;
    Ok(Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/llvm-profdata"))
}

fn rustc(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("rustc")
        .args(args)
        .output()
        .context("cannot run rustc")?;
    if !output.status.success() {
        bail!("rustc {} failed ({})", args.join(" "), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The `host:` line of `rustc -vV`.
fn host_triple(version: &str) -> Option<&str> {
    version
        .lines()
        .find_map(|line| line.strip_prefix("host:"))
        .map(str::trim)
        .filter(|host| !host.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_read_from_rustcs_verbose_version() {
        let version = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        assert_eq!(host_triple(version), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(host_triple("rustc 1.95.0\nhost: \n"), None);
        assert_eq!(host_triple("rustc 1.95.0\n"), None);
    }

    #[test]
    fn training_is_not_what_is_measured() {
        // The benchmark's day is at the default 30 s interval, and swarms start at seed 0: the
        // training must use neither, or the speed-up would be measured on its own inputs.
        let day = TRAINING
            .iter()
            .find(|a| a.first() == Some(&"bench"))
            .expect("a training day");
        let interval = day
            .iter()
            .position(|a| *a == "--interval")
            .map(|i| day[i + 1]);
        assert!(interval.is_some_and(|i| i != "30"), "{day:?}");
        let swarm = TRAINING
            .iter()
            .find(|a| a.first() == Some(&"swarm"))
            .expect("training seeds");
        let first = swarm
            .iter()
            .position(|a| *a == "--first-seed")
            .map(|i| swarm[i + 1].parse::<u64>().expect("a seed number"));
        assert!(first.is_some_and(|s| s >= 10_000), "{swarm:?}");
    }

    #[test]
    fn an_optimized_binary_older_than_its_instrumented_build_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let (from, built) = (dir.path().join("from"), dir.path().join("built"));
        assert!(!is_current(&built, &from), "nothing built yet");
        std::fs::write(&from, b"instrumented").unwrap();
        assert!(!is_current(&built, &from), "no optimized binary yet");
        std::fs::write(&built, b"optimized").unwrap();
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let set = |path: &Path, at| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        };
        set(&from, t);
        set(&built, t + std::time::Duration::from_secs(5));
        assert!(is_current(&built, &from));
        set(&from, t + std::time::Duration::from_secs(10));
        assert!(
            !is_current(&built, &from),
            "the instrumented build changed since"
        );
    }

    #[test]
    fn the_trees_live_apart_from_the_release_tree() {
        let layout = Layout::under(Path::new("/t"));
        assert_eq!(
            binary_in(&layout.use_),
            Path::new("/t/pgo/use/release/pithead-sim")
        );
        assert_ne!(layout.generate, layout.use_);
        assert!(layout.raw.starts_with("/t/pgo") && layout.merged.starts_with("/t/pgo"));
    }
}
