//! `pithead`: the operator's CLI. Turns `config.json` into the deployed stack (`render`,
//! `apply`) and tells the truth about its health (`status`, `state`); its exit codes are what
//! monitoring and the live matrix read.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pithead_runtime::cli::apply::{self, ApplyOptions, ApplyOutcome, Prompt};
use pithead_runtime::cli::compose::SystemCompose;
use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::secrets::{self, OsEntropy};
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::{load_file, render, status, test_alert};
use pithead_runtime::control::verdicts;
use pithead_runtime::io::{SystemClock, TokioConnector};

/// `println!` for what the CLI prints: a reader that went away (`pithead status | head -1`)
/// ends the output quietly, where `println!` would panic ([`write_stdout`]).
macro_rules! say {
    () => {
        crate::say_text("\n")
    };
    ($($arg:tt)*) => {
        crate::say_text(&format!("{}\n", format_args!($($arg)*)))
    };
}

#[derive(Parser)]
#[command(
    name = "pithead",
    version,
    about = "Operate a Pithead mining box",
    long_about = "Operate a Pithead mining box: turn config.json into the running stack and \
                  check its health.\n\nExit codes: 0 ok, 1 the stack or the configuration needs \
                  attention, 2 the command itself failed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct StackArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE", default_value = "config.json")]
    config: PathBuf,
    /// The stack directory (.env, Caddyfile, compose.yaml, data/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    stack_dir: PathBuf,
}

#[derive(Args)]
struct EngineArgs {
    /// The stack directory (.env, compose.yaml, data/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    stack_dir: PathBuf,
    /// The docker engine (unix:///path, tcp://host:port); default $DOCKER_HOST, else the
    /// local socket.
    #[arg(long, value_name = "URL", env = "DOCKER_HOST", default_value = status::DEFAULT_DOCKER)]
    docker: String,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the first config.json: asks a few questions, or validates --from FILE.
    ///
    /// Only what differs from the defaults is written; the file is validated first and written
    /// atomically, mode 600. Then run `pithead apply`.
    Setup {
        /// The configuration file to write.
        #[arg(long, value_name = "FILE", default_value = "config.json")]
        config: PathBuf,
        /// Take the configuration from this file instead of asking.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Replace an existing config.json without asking.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Prints the version.
    Version,
    /// Checks config.json and prints every problem; exit 1 if there is one.
    Check {
        /// The configuration file.
        #[arg(long, value_name = "FILE", default_value = "config.json")]
        config: PathBuf,
    },
    /// Writes .env (mode 600), the Caddyfile and compose.yaml into the stack directory.
    ///
    /// Generated credentials are kept from the existing .env byte for byte; the rendered
    /// stack is checked against the compose hardening invariants before anything is written.
    Render(StackArgs),
    /// Renders, shows what changes, asks when a change needs consent, and recreates the stack.
    ///
    /// Each changed .env key is INFO, CONFIRM or DESTRUCTIVE; CONFIRM and DESTRUCTIVE ask
    /// unless -y (and are refused without a terminal). A failed recreate leaves the
    /// apply-incomplete marker so the next apply retries.
    Apply {
        #[command(flatten)]
        stack: StackArgs,
        /// Apply without asking.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
        /// Show the changes, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Starts the rendered stack (`compose up -d --remove-orphans`).
    Up(EngineArgs),
    /// Stops and removes the stack's containers; volumes and data are kept.
    Down(EngineArgs),
    /// Restarts one service, or every service.
    Restart {
        #[command(flatten)]
        engine: EngineArgs,
        /// The service (e.g. dashboard, p2pool); all when left out.
        service: Option<String>,
    },
    /// Prints a service's logs, or every service's.
    Logs {
        #[command(flatten)]
        engine: EngineArgs,
        /// Keep printing new lines (until Ctrl-C).
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many lines of history per service.
        #[arg(long, value_name = "N", default_value_t = 200)]
        tail: u32,
        /// The service; all when left out.
        service: Option<String>,
    },
    /// Clears the dashboard's history and restarts it; the release latch is kept.
    ///
    /// Stops the dashboard, empties data/dashboard except runtime-state.json (the sync gate's
    /// release latch) and a pending re-arm marker, and starts it again. Asks unless -y.
    ResetDashboard {
        #[command(flatten)]
        engine: EngineArgs,
        /// Do not ask.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Read-only diagnostics: config, .env, docker, compose, disk, hugepages, ports.
    ///
    /// One line per check (✓ ok, ⚠ worth a look, ✗ critical); exit 1 when a check is critical.
    Doctor {
        #[command(flatten)]
        engine: EngineArgs,
        /// The configuration file.
        #[arg(long, value_name = "FILE", default_value = "config.json")]
        config: PathBuf,
    },
    /// Verdict per expected service; exit 0 when all are up, 1 when any needs attention.
    Status {
        /// The stack directory (its .env says which profiles are on).
        #[arg(long, value_name = "DIR", default_value = ".")]
        stack_dir: PathBuf,
        /// The docker engine (unix:///path, tcp://host:port); default $DOCKER_HOST, else the
        /// local socket.
        #[arg(long, value_name = "URL", env = "DOCKER_HOST", default_value = status::DEFAULT_DOCKER)]
        docker: String,
        /// The runtime's address, for the sync progress.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Seconds each docker and runtime call may take (at most 3600).
        #[arg(long, value_name = "SECS", default_value_t = 10,
              value_parser = status::seconds_at_most(status::MAX_TIMEOUT_SECS))]
        timeout: u64,
    },
    /// Prints a shell completion script (e.g. `pithead completions bash > /etc/bash_completion.d/pithead`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Writes a backup of config.json, .env and the runtime's data (data/dashboard).
    ///
    /// Encrypted with a passphrase (age, scrypt) unless --no-encrypt. The passphrase comes from
    /// PITHEAD_BACKUP_PASSPHRASE, from stdin with --passphrase-stdin, or from a terminal prompt;
    /// never from the command line. The archive is written atomically, mode 600, by default to
    /// <stack-dir>/backups/pithead-backup-<UTC time>.tar.gz[.age]. Blockchains are not included
    /// (they re-sync); for a consistent copy of the dashboard's history run `pithead down` first.
    Backup {
        #[command(flatten)]
        stack: StackArgs,
        /// Write a plaintext tar.gz (it holds every credential of the stack).
        #[arg(long)]
        no_encrypt: bool,
        /// Unattended: never prompt (the passphrase must come from the environment or stdin),
        /// and replace --output if it exists.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
        /// Where to write the archive.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Read the passphrase from the first line of stdin.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Restores config.json, .env and the runtime's data from a backup.
    ///
    /// The archive is decrypted and checked in memory first: one without config.json and .env,
    /// or with a path outside the stack, a link or a device, is refused and nothing is written.
    /// Asks before overwriting unless -y. Run `pithead apply` afterwards to recreate the stack.
    Restore {
        #[command(flatten)]
        stack: StackArgs,
        /// Overwrite without asking.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
        /// Read the passphrase from the first line of stdin.
        #[arg(long)]
        passphrase_stdin: bool,
        /// The backup archive (.tar.gz.age or .tar.gz).
        archive: PathBuf,
    },
    /// Sends one test message through every alert sink the stack's .env configures.
    ///
    /// One line per sink: `telegram: PASS`, `webhook#1: FAIL (HTTP 404)`, `ntfy: not
    /// configured`; a failure gives its class only (HTTP <code>, timeout, connection error).
    /// The heartbeat is not pinged. Exit 0 when no sink failed, 1 on any FAIL, 2 when the .env
    /// is missing or holds a value the runtime would refuse.
    TestAlert {
        /// The stack directory (its .env holds the sinks).
        #[arg(long, value_name = "DIR", default_value = ".")]
        stack_dir: PathBuf,
        /// The docker engine, asked for the address of the stack's proxy container (`tor`)
        /// when ALERTS_PROXY names one this host cannot resolve.
        #[arg(long, value_name = "URL", env = "DOCKER_HOST", default_value = status::DEFAULT_DOCKER)]
        docker: String,
    },
    /// Pulls newer images, recreates what changed and waits for the stack to be healthy.
    ///
    /// `compose pull --ignore-pull-failures` (images built on this box have nothing to pull),
    /// then `compose up -d --remove-orphans`, then the `pithead status` verdicts until every
    /// service is up or --wait runs out. Prints which services run a new image; exit 0 when the
    /// stack is healthy again, 1 when it is not within --wait.
    Upgrade {
        #[command(flatten)]
        engine: EngineArgs,
        /// The runtime's address, for the sync progress.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Seconds to wait for the stack to be healthy after the recreate (at most 86400).
        #[arg(long, value_name = "SECS", default_value_t = 600,
              value_parser = status::seconds_at_most(upgrade::MAX_WAIT_SECS))]
        wait: u64,
    },
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
            eprintln!(
                "pithead: {}",
                pithead_runtime::error_chain::joined(e.as_ref())
            );
            ExitCode::from(2)
        }
    }
}

#[path = "pithead/lifecycle.rs"]
mod lifecycle;
#[path = "pithead/stack.rs"]
mod stack;
#[path = "pithead/upgrade.rs"]
mod upgrade;

struct Terminal;

impl Prompt for Terminal {
    fn is_terminal(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn confirm(&mut self, question: &str) -> bool {
        say_text(question);
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer.trim_start().starts_with(['y', 'Y'])
    }
}

/// Loads the configuration; problems go to stderr and make exit code 1.
fn settings(path: &std::path::Path) -> Result<pithead_runtime::cli::Settings, ExitCode> {
    load_file(path).map_err(|errors| {
        for e in &errors.0 {
            eprintln!("{e}");
        }
        ExitCode::from(1)
    })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Version => {
            say!("{}", pithead_runtime::cli::version_line());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => match settings(&config) {
            Ok(_) => {
                say!("{}: valid.", config.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(code) => Ok(code),
        },
        Command::Render(args) => {
            let settings = match settings(&args.config) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let stack = StackDir::new(&args.stack_dir);
            std::fs::create_dir_all(stack.root())
                .with_context(|| format!("cannot create {}", stack.root().display()))?;
            let old = stack.read_env()?;
            let secrets = secrets::resolve(&settings, old.as_ref(), &mut OsEntropy)?;
            let rendered = render::render(&settings, &secrets, stack.owner()?)?;
            stack.write(&rendered)?;
            say!(
                "Rendered .env, Caddyfile and compose.yaml into {}",
                stack.root().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            stack,
            yes,
            dry_run,
        } => {
            let settings = match settings(&stack.config) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let dir = StackDir::new(&stack.stack_dir);
            let compose = LazyCompose {
                dir: stack.stack_dir.clone(),
            };
            let outcome = apply::apply(
                &settings,
                &dir,
                &mut OsEntropy,
                &compose,
                &mut Terminal,
                &mut std::io::stdout(),
                ApplyOptions { yes, dry_run },
            );
            match outcome {
                Ok(ApplyOutcome::Cancelled) => Ok(ExitCode::from(1)),
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("pithead: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Status {
            stack_dir,
            docker,
            url,
            timeout,
        } => {
            let timeout = Duration::from_secs(timeout.max(1));
            let stack = StackDir::new(&stack_dir);
            let env = stack.read_env()?.with_context(|| {
                format!(
                    "no .env in {}: run `pithead render` first",
                    stack.root().display()
                )
            })?;
            let compose_path = stack.root().join("compose.yaml");
            let yaml =
                std::fs::read_to_string(&compose_path).unwrap_or_else(|_| COMPOSE_YAML.into());
            let expected =
                compose_file::expected_services(&yaml, &compose_file::profiles(&env.to_map()))?;
            let observed = status::observe(&docker, &expected, timeout).await?;
            let state = status::runtime_state(&url, timeout.min(Duration::from_secs(3))).await;
            let report = verdicts::verdicts(&observed, status::context(state.as_ref()));
            let (lines, code) = status::output(&report, state.as_ref());
            for line in lines {
                say!("{line}");
            }
            Ok(ExitCode::from(code))
        }
        Command::Setup { config, from, yes } => {
            stack::setup(&config, from.as_deref(), yes, &mut Terminal)
        }
        Command::Up(e) => stack::verb(&e.stack_dir, &e.docker, stack::Verb::Up).await,
        Command::Down(e) => stack::verb(&e.stack_dir, &e.docker, stack::Verb::Down).await,
        Command::Restart { engine, service } => {
            stack::verb(
                &engine.stack_dir,
                &engine.docker,
                stack::Verb::Restart(service),
            )
            .await
        }
        Command::Logs {
            engine,
            follow,
            tail,
            service,
        } => {
            stack::verb(
                &engine.stack_dir,
                &engine.docker,
                stack::Verb::Logs {
                    service,
                    follow,
                    tail,
                },
            )
            .await
        }
        Command::ResetDashboard { engine, yes } => {
            stack::reset_dashboard(&engine.stack_dir, &engine.docker, yes, &mut Terminal).await
        }
        Command::Doctor { engine, config } => {
            stack::doctor(&config, &engine.stack_dir, &engine.docker).await
        }
        Command::Backup {
            stack,
            no_encrypt,
            yes,
            output,
            passphrase_stdin,
        } => lifecycle::backup(
            &stack.config,
            &stack.stack_dir,
            lifecycle::BackupArgs {
                no_encrypt,
                yes,
                output,
                passphrase_stdin,
            },
        ),
        Command::Restore {
            stack,
            yes,
            passphrase_stdin,
            archive,
        } => lifecycle::restore(
            &stack.config,
            &stack.stack_dir,
            &archive,
            yes,
            passphrase_stdin,
            &mut Terminal,
        ),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Into a buffer first: clap_complete panics when its writer fails, and a script
            // piped into `head` or a closed pager makes stdout fail with a broken pipe.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pithead", &mut script);
            write_stdout(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::TestAlert { stack_dir, docker } => {
            let stack = StackDir::new(&stack_dir);
            let env = stack.read_env()?.with_context(|| {
                format!(
                    "no .env in {}: run `pithead render` first",
                    stack.root().display()
                )
            })?;
            let connector = test_alert_connector(&env, &docker).await?;
            let lines = test_alert::run(&env, connector, &SystemClock).await?;
            for line in &lines {
                say!("{line}");
            }
            Ok(ExitCode::from(test_alert::exit_code(&lines)))
        }
        Command::Upgrade { engine, url, wait } => {
            upgrade::run(upgrade::Upgrade {
                stack_dir: &engine.stack_dir,
                docker: &engine.docker,
                url: &url,
                wait: Duration::from_secs(wait),
            })
            .await
        }
        Command::State { url, json } => {
            let state = status::fetch_runtime_state(&url, Duration::from_secs(5)).await?;
            if json {
                let mut document = serde_json::to_string_pretty(&state)?;
                document.push('\n');
                write_stdout(document.as_bytes())?;
            } else {
                print_summary(&state);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The connector `test-alert` dials through: the host's own, except that a proxy named like
/// the stack's `tor` (which only the stack's network resolves) is reached at its container's
/// address, so the test message takes the runtime's route and never a direct one.
async fn test_alert_connector(
    env: &pithead_runtime::cli::env_file::EnvFile,
    docker: &str,
) -> anyhow::Result<pithead_runtime::io::SharedConnector> {
    let direct: pithead_runtime::io::SharedConnector = Arc::new(TokioConnector);
    let Some((host, port)) = test_alert::proxy_host(env) else {
        return Ok(direct);
    };
    if tokio::net::lookup_host((host.as_str(), port)).await.is_ok() {
        return Ok(direct);
    }
    match status::container_ip(docker, &host, Duration::from_secs(5)).await {
        Ok(Some(address)) => Ok(Arc::new(test_alert::ContainerRoute {
            name: host,
            address,
            inner: direct,
        })),
        // The sinks then fail with a connection error, which is what the runtime would see.
        Ok(None) | Err(_) => {
            eprintln!(
                "pithead: ALERTS_PROXY's host {host:?} does not resolve here and no container of \
                 that name answers on the docker engine: is the stack up?"
            );
            Ok(direct)
        }
    }
}

/// Finds compose only when apply gets as far as recreating (a dry run or a no-op needs none).
struct LazyCompose {
    dir: PathBuf,
}

/// Upper bound on one `compose up` (image pulls included).
const COMPOSE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl pithead_runtime::cli::compose::ComposeRunner for LazyCompose {
    fn run(&self, args: &[&str]) -> Result<(), pithead_runtime::cli::compose::ComposeError> {
        SystemCompose::detect(&self.dir, COMPOSE_TIMEOUT)?.run(args)
    }
}

/// Writes `bytes` to stdout. A reader that went away (`| head`, a closed pager) is not an
/// error: what it did not read, it did not want. `println!` would panic there instead.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `text` to stdout, flushed (prompts and [`say!`]): a closed reader is no error, and any
/// other failure is said on stderr rather than turned into a panic.
fn say_text(text: &str) {
    if let Err(e) = write_stdout(text.as_bytes()) {
        eprintln!("pithead: cannot write to stdout: {e}");
    }
}

fn print_summary(state: &serde_json::Value) {
    let flag = |key: &str| state[key].as_bool().unwrap_or(false);
    for chain in ["monero", "tari"] {
        let s = &state["sync"][chain];
        say!(
            "{chain:<7} {:<8} {:>3}%  {} / {}",
            s["state"].as_str().unwrap_or("?"),
            s["percent"].as_u64().unwrap_or(0),
            s["current"].as_u64().unwrap_or(0),
            s["target"].as_u64().unwrap_or(0),
        );
    }
    say!(
        "miners   {}",
        if flag("miner_held") {
            "held (sync)"
        } else {
            "released"
        }
    );
    say!(
        "workers  {}",
        if flag("workers_rejected") {
            "REJECTED"
        } else {
            "accepted"
        }
    );
    if let Some(badges) = state["badges"].as_array() {
        let texts: Vec<&str> = badges.iter().filter_map(|b| b["text"].as_str()).collect();
        say!("badges   {}", texts.join(" · "));
    }
}
