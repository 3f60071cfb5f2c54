//! `cargo xtask`: the project's automation, in Rust (no shell with logic).
//!
//! `cargo xtask test` is exactly what CI runs (`.ci/run` calls it).

use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

mod catalog;
mod demo;
mod inventory;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Pithead's automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Runs the runtime against in-process fake daemons that go through a sync and an outage;
    /// the dashboard's /api/state is served on localhost.
    Demo(demo::DemoArgs),
    /// Runs every test tier that needs no docker engine, then the drift checks (what CI runs).
    Test,
    /// Regenerates docs/scenario-catalog.md from features/ (or checks it with --check).
    Catalog {
        /// Fail when the file on disk is stale instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Regenerates docs/test-inventory.md from the test code (or checks it with --check).
    Inventory {
        /// Fail when the file on disk is stale or a count is below its floor.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Demo(args) => demo::run(&args),
        Task::Test => test(),
        Task::Catalog { check } => catalog::run_catalog(check),
        Task::Inventory { check } => inventory::run_inventory(check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("+ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test() -> anyhow::Result<()> {
    cargo(&["test", "--workspace", "--all-targets", "--no-fail-fast"])?;
    catalog::run_catalog(true)?;
    inventory::run_inventory(true)?;
    Ok(())
}
