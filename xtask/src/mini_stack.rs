//! `cargo xtask mini-stack [--scenario NAME] [--keep]`: the mini-stack tier alone.
//!
//! Builds the images ([`crate::images`]), then runs `scenarios/tests/mini_stack.rs`, which
//! starts a fresh stack per `@mini-stack` scenario on the local engine and removes it after.

use clap::Args;

/// `cargo xtask mini-stack` options.
#[derive(Debug, Args)]
pub struct MiniStackArgs {
    /// Run only the scenarios whose name (or feature name) contains this.
    #[arg(long)]
    scenario: Option<String>,
    /// Leave each scenario's stack running and print how to reach its dashboard (remove them
    /// later with `--clean`).
    #[arg(long)]
    keep: bool,
    /// Remove every container and network that finished mini-stack runs left (kept or
    /// interrupted; a run in progress keeps its own), then stop.
    #[arg(long, conflicts_with_all = ["scenario", "keep"])]
    clean: bool,
}

/// Builds the images and runs the tier (or cleans up).
pub fn run(args: &MiniStackArgs) -> anyhow::Result<()> {
    if args.clean {
        std::env::set_var("PITHEAD_MINI_STACK_CLEAN", "1");
    } else {
        crate::images::build()?;
    }
    if let Some(name) = &args.scenario {
        std::env::set_var("PITHEAD_SCENARIO", name);
    }
    if args.keep {
        std::env::set_var("PITHEAD_KEEP", "1");
        // testcontainers removes a container when its handle drops unless told to keep it.
        std::env::set_var("TESTCONTAINERS_COMMAND", "keep");
    }
    crate::cargo(&[
        "test",
        "-p",
        "pithead-scenarios",
        "--features",
        "mini-stack",
        "--test",
        "mini_stack",
    ])
}

/// The mini-stack tier as `cargo xtask test` runs it: in the background, beside the other tiers
/// (it spends its time waiting out scaled debounce windows, not on the CPU).
pub struct Background {
    child: std::process::Child,
    log: std::path::PathBuf,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn engine_answers() -> bool {
    std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the images and the tier's test binary, then starts it with its output in
/// `target/mini-stack/run.log`. `None` (said loudly) when no docker engine answers outside CI;
/// under CI that is an error.
pub fn start_in_background() -> anyhow::Result<Option<Background>> {
    if !engine_answers() {
        if in_ci() {
            anyhow::bail!(
                "no docker engine answers: the mini-stack tier cannot run (CI requires it)"
            );
        }
        eprintln!(
            "\n*** xtask test: the mini-stack tier is SKIPPED: no docker engine answers \
             (start dockerd; Debian: apt-get install docker.io).\n"
        );
        return Ok(None);
    }
    crate::images::build()?;
    let binary = test_binary()?;
    let root = crate::images::workspace_root();
    let dir = root.join("target").join("mini-stack");
    std::fs::create_dir_all(&dir)?;
    let log = dir.join("run.log");
    let out = std::fs::File::create(&log)?;
    eprintln!(
        "+ {} (in the background; output in {})",
        binary.display(),
        log.display()
    );
    let child = std::process::Command::new(&binary)
        .current_dir(&root)
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", binary.display()))?;
    Ok(Some(Background { child, log }))
}

/// Compiles the tier's test binary and returns its path (from cargo's JSON messages).
fn test_binary() -> anyhow::Result<std::path::PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = [
        "test",
        "-p",
        "pithead-scenarios",
        "--features",
        "mini-stack",
        "--test",
        "mini_stack",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    eprintln!("+ cargo {}", args.join(" "));
    let out = std::process::Command::new(&cargo)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("building the mini-stack tier failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["target"]["name"] == "mini_stack")
        .find_map(|msg| msg["executable"].as_str().map(std::path::PathBuf::from))
        .ok_or_else(|| anyhow::anyhow!("cargo named no mini_stack test executable"))
}

impl Background {
    /// Waits for the tier; its summary on success, its whole log on failure.
    pub fn finish(mut self) -> anyhow::Result<()> {
        eprintln!("+ waiting for the mini-stack tier ({})", self.log.display());
        let status = self.child.wait()?;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if status.success() {
            let summary: Vec<&str> = log
                .lines()
                .filter(|l| {
                    l.starts_with("passed ")
                        || l.starts_with("mini-stack:")
                        || l.starts_with("wall time")
                })
                .collect();
            eprintln!("mini-stack tier:\n  {}", summary.join("\n  "));
            Ok(())
        } else {
            eprintln!("{log}");
            anyhow::bail!(
                "the mini-stack tier failed ({status}); its output: {}",
                self.log.display()
            )
        }
    }
}
