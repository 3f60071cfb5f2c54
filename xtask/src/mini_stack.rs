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
    /// Remove every container and network a mini-stack run left (kept or interrupted), then stop.
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
