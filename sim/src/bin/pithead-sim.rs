//! `pithead-sim`: the simulation's command line (`cargo xtask swarm` calls the same functions).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pithead_sim::cli::{run_bench, run_soak, run_swarm, BenchArgs, SoakArgs, SwarmArgs};

#[derive(Parser)]
#[command(
    name = "pithead-sim",
    about = "Deterministic simulation of the Pithead runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs random fault schedules on many seeds (or replays one) with every invariant checked.
    Swarm(SwarmArgs),
    /// Measures one simulated day and swarm seeds per minute.
    Bench(BenchArgs),
    /// Many simulated days of one runtime under random outages; fails when something grows.
    Soak(SoakArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Swarm(args) => run_swarm(&args),
        Command::Bench(args) => run_bench(&args).map(|()| true),
        Command::Soak(args) => run_soak(&args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("pithead-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
