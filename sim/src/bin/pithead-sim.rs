//! `pithead-sim`: the simulation's command line (`cargo xtask swarm` calls the same functions).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pithead_sim::cli::{run_bench, run_soak, run_swarm, BenchArgs, SoakArgs, SwarmArgs};

// The simulation allocates for every request, response and timer of every host on every step;
// mimalloc took 5 % off a 64-seed swarm and 7 % off a simulated day against glibc's malloc
// (docs/testing.md, fifth round). The runtime's own binaries keep the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
