//! `pithead`: the operator's CLI. For now it reads the runtime's state; the stack lifecycle
//! commands (render, apply, status verdicts, backup) arrive with the CLI issue.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use pithead_runtime::io::http::{self, Exchange};
use pithead_runtime::io::TokioConnector;

#[derive(Parser)]
#[command(name = "pithead", version, about = "Operate a Pithead mining box")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the version.
    Version,
    /// Prints the runtime's /api/state: held, released, rejected and sync progress.
    State {
        /// The runtime's address.
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pithead: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Version => {
            println!("pithead {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::State { url, json } => {
            let uri = format!("{}/api/state", url.trim_end_matches('/'));
            let request = http::request(http::Method::GET, &uri, Default::default(), Bytes::new())?;
            let exchange = Exchange {
                timeout: Duration::from_secs(5),
                limit_bytes: 4 * 1024 * 1024,
            };
            let response = http::send(&TokioConnector, request, &exchange)
                .await
                .with_context(|| format!("cannot read the runtime's state at {uri}"))?;
            let state: serde_json::Value = serde_json::from_slice(response.body())
                .with_context(|| format!("{uri} did not answer JSON"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&state)?);
            } else {
                print_summary(&state);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_summary(state: &serde_json::Value) {
    let flag = |key: &str| state[key].as_bool().unwrap_or(false);
    for chain in ["monero", "tari"] {
        let s = &state["sync"][chain];
        println!(
            "{chain:<7} {:<8} {:>3}%  {} / {}",
            s["state"].as_str().unwrap_or("?"),
            s["percent"].as_u64().unwrap_or(0),
            s["current"].as_u64().unwrap_or(0),
            s["target"].as_u64().unwrap_or(0),
        );
    }
    println!(
        "miners   {}",
        if flag("miner_held") {
            "held (sync)"
        } else {
            "released"
        }
    );
    println!(
        "workers  {}",
        if flag("workers_rejected") {
            "REJECTED"
        } else {
            "accepted"
        }
    );
    if let Some(badges) = state["badges"].as_array() {
        let texts: Vec<&str> = badges.iter().filter_map(|b| b["text"].as_str()).collect();
        println!("badges   {}", texts.join(" · "));
    }
}
