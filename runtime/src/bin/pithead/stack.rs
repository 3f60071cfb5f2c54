//! The terminal side of the compose verbs (`up`, `down`, `restart`, `logs`), `reset-dashboard`,
//! `setup` and `doctor`. Every docker call is bounded; the engine is pinged first so an absent
//! engine is one clear line (exit 2) instead of compose's own error.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use pithead_runtime::cli::apply::Prompt;
use pithead_runtime::cli::compose::{ComposeRunner, SystemCompose};
use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::doctor::{self, Check, Level};
use pithead_runtime::cli::setup::{self, Answers, SetupError};
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::cli::{load_file, reset, status};

/// How long the engine has to answer its ping.
const PING: Duration = Duration::from_secs(5);

fn refuse(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("pithead: {message}");
    Ok(ExitCode::from(1))
}

/// The engine answers, or the command stops with exit 2 naming the address.
pub async fn engine(address: &str) -> anyhow::Result<()> {
    status::ping(address, PING).await?;
    Ok(())
}

/// The rendered stack's compose driver, talking to `address`.
pub fn compose(
    stack: &StackDir,
    address: &str,
    timeout: Duration,
) -> anyhow::Result<SystemCompose> {
    for name in [".env", "compose.yaml"] {
        let path = stack.root().join(name);
        anyhow::ensure!(
            path.exists(),
            "no {name} in {}: run `pithead apply` first",
            stack.root().display()
        );
    }
    Ok(SystemCompose::detect(stack.root(), timeout)?.engine(address))
}

/// The services compose knows for this stack's profiles.
pub fn services(stack: &StackDir) -> anyhow::Result<Vec<String>> {
    let env = stack.read_env()?.with_context(|| {
        format!(
            "no .env in {}: run `pithead apply` first",
            stack.root().display()
        )
    })?;
    let yaml = std::fs::read_to_string(stack.root().join("compose.yaml"))
        .unwrap_or_else(|_| COMPOSE_YAML.into());
    Ok(compose_file::expected_services(
        &yaml,
        &compose_file::profiles(&env.to_map()),
    )?)
}

/// A service name the stack has, or the refusal naming the ones it has.
fn known_service(stack: &StackDir, service: &str) -> anyhow::Result<Result<(), String>> {
    let names = services(stack)?;
    Ok(if names.iter().any(|n| n == service) {
        Ok(())
    } else {
        Err(format!(
            "unknown service {service:?}: this stack's services are {}",
            names.join(", ")
        ))
    })
}

/// The compose verbs.
pub enum Verb {
    Up,
    Down,
    Restart(Option<String>),
    Logs {
        service: Option<String>,
        follow: bool,
        tail: u32,
    },
}

/// `up`, `down`, `restart`, `logs`.
pub async fn verb(stack_dir: &Path, address: &str, verb: Verb) -> anyhow::Result<ExitCode> {
    let stack = StackDir::new(stack_dir);
    let service = match &verb {
        Verb::Restart(s) | Verb::Logs { service: s, .. } => s.clone(),
        _ => None,
    };
    if let Some(s) = &service {
        if let Err(message) = known_service(&stack, s)? {
            return refuse(message);
        }
    }
    engine(address).await?;
    let minutes = |m: u64| Duration::from_secs(m * 60);
    match verb {
        Verb::Up => {
            compose(&stack, address, minutes(30))?.run(&["up", "-d", "--remove-orphans"])?;
            say!("The stack is up: `pithead status` shows each service's health.");
        }
        Verb::Down => {
            compose(&stack, address, minutes(10))?.run(&["down"])?;
            say!("The stack is down (its volumes and data are kept).");
        }
        Verb::Restart(service) => {
            let mut args = vec!["restart"];
            args.extend(service.as_deref());
            compose(&stack, address, minutes(10))?.run(&args)?;
            match service {
                Some(s) => say!("Restarted {s}."),
                None => say!("Restarted the stack."),
            }
        }
        Verb::Logs {
            service,
            follow,
            tail,
        } => {
            let tail = tail.to_string();
            let mut args = vec!["logs", "--no-color", "--tail", &tail];
            if follow {
                args.push("--follow");
            }
            args.extend(service.as_deref());
            let driver = compose(&stack, address, Duration::from_secs(60))?.to_stdout();
            let driver = if follow { driver.unbounded() } else { driver };
            driver.run(&args)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `reset-dashboard`.
pub async fn reset_dashboard(
    stack_dir: &Path,
    address: &str,
    yes: bool,
    prompt: &mut dyn Prompt,
) -> anyhow::Result<ExitCode> {
    let stack = StackDir::new(stack_dir);
    if !stack.env_path().exists() {
        return refuse(reset::ResetError::NoStack(stack.root().to_owned()));
    }
    say!("This stops the dashboard, clears its history and starts it again.");
    say!("Kept: the release latch (runtime-state.json), a pending re-arm, your CA files and every chain.");
    if !yes {
        if !prompt.is_terminal() {
            return refuse(
                "reset-dashboard needs confirmation and stdin is not a terminal: re-run with -y",
            );
        }
        let _ = std::io::stdout().flush();
        if !prompt.confirm(reset::QUESTION) {
            say!("Reset cancelled: nothing was changed.");
            return Ok(ExitCode::from(1));
        }
    }
    engine(address).await?;
    let driver = compose(&stack, address, Duration::from_secs(5 * 60))?;
    let removed = reset::reset_dashboard(&stack, &driver)?;
    say!(
        "Cleared {} item(s) from {}; the dashboard is starting again.",
        removed.len(),
        stack.dashboard_data().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads one answer from stdin (`None` at end of input).
fn ask(question: &str, secret: bool) -> anyhow::Result<Option<String>> {
    if secret && std::io::stdin().is_terminal() {
        return Ok(Some(rpassword::prompt_password(question)?));
    }
    crate::say_text(question);
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        // Piped answers are not echoed by a terminal: end the prompt's line ourselves.
        say!();
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()))
}

fn interview() -> anyhow::Result<Option<Answers>> {
    let mut a = Answers::default();
    let next = |q: &str, secret: bool| ask(q, secret);
    let Some(v) = next("Monero wallet address (primary, starts with 4): ", false)? else {
        return Ok(None);
    };
    a.monero_wallet = v;
    let Some(v) = next("Tari wallet address (blank: mine Monero only): ", false)? else {
        return Ok(None);
    };
    a.tari_wallet = v;
    let Some(v) = next("P2Pool sidechain: main, mini or nano [mini]: ", false)? else {
        return Ok(None);
    };
    a.pool = v;
    let Some(v) = next("Monero node: local or remote [local]: ", false)? else {
        return Ok(None);
    };
    a.monero_mode = v;
    if a.monero_mode.trim() == "remote" {
        let Some(v) = next("Remote node host: ", false)? else {
            return Ok(None);
        };
        a.remote_host = v;
        let Some(v) = next("Remote node RPC port [18081]: ", false)? else {
            return Ok(None);
        };
        a.remote_port = v;
    }
    let Some(v) = next("Dashboard password (blank: no login): ", true)? else {
        return Ok(None);
    };
    a.dashboard_password = v;
    Ok(Some(a))
}

/// `setup`.
pub fn setup(
    config: &Path,
    from: Option<&Path>,
    yes: bool,
    prompt: &mut dyn Prompt,
) -> anyhow::Result<ExitCode> {
    if config.exists() && !yes {
        if !prompt.is_terminal() {
            return refuse(format!(
                "{} exists: pass -y to replace it — nothing was written",
                config.display()
            ));
        }
        if !prompt.confirm(&format!("{} exists. Replace it? (y/N): ", config.display())) {
            say!("Setup cancelled: nothing was written.");
            return Ok(ExitCode::from(1));
        }
    }
    let result = match from {
        Some(source) => setup::from_file(source, config),
        None => {
            let Some(answers) = interview()? else {
                return refuse("setup: stdin ended before every question was answered: run it on a terminal, or use --from FILE — nothing was written");
            };
            let text = serde_json::to_string_pretty(&setup::document(&answers))?;
            setup::write_config(config, &format!("{text}\n"))
        }
    };
    match result {
        Ok(()) => {
            say!("Wrote {} (valid).", config.display());
            say!("Next: `pithead apply` renders the stack and starts it.");
            Ok(ExitCode::SUCCESS)
        }
        Err(SetupError::Invalid(errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            match from {
                // The problems name the document `config.json`; say which file was read.
                Some(source) => eprintln!(
                    "pithead: {} is not a valid config.json — nothing was written",
                    source.display()
                ),
                None => eprintln!("pithead: the configuration is not valid — nothing was written"),
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn port_in_use(port: u16) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// `doctor`: every check, one line each; exit 1 when one is critical.
pub async fn doctor(config: &Path, stack_dir: &Path, address: &str) -> anyhow::Result<ExitCode> {
    let stack = StackDir::new(stack_dir);
    let mut checks = Vec::new();
    let missing = matches!(
        std::fs::metadata(config),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound
    );
    let settings = match load_file(config) {
        Err(_) if missing => {
            checks.push(Check::new(
                Level::Fail,
                format!(
                    "config: no {}: run `pithead setup` to write one",
                    config.display()
                ),
            ));
            None
        }
        Ok(s) => {
            checks.push(Check::new(
                Level::Ok,
                format!("config: {} is valid", config.display()),
            ));
            Some(s)
        }
        Err(errors) => {
            checks.push(Check::new(
                Level::Fail,
                format!(
                    "config: {} has {} problem(s), the first: {}; run `pithead check --config {}`",
                    config.display(),
                    errors.0.len(),
                    errors
                        .0
                        .first()
                        .map(|e| e.to_string().trim_end_matches('.').to_owned())
                        .unwrap_or_default(),
                    config.display()
                ),
            ));
            None
        }
    };
    checks.push(match std::fs::metadata(stack.env_path()) {
        Ok(meta) if meta.permissions().mode() & 0o077 == 0 => {
            Check::new(Level::Ok, ".env: present, mode 600")
        }
        Ok(meta) => Check::new(
            Level::Warn,
            format!(
                ".env: readable by others (mode {:o}): chmod 600 {}",
                meta.permissions().mode() & 0o777,
                stack.env_path().display()
            ),
        ),
        Err(_) => Check::new(
            Level::Warn,
            format!(
                ".env: none in {}: run `pithead apply`",
                stack.root().display()
            ),
        ),
    });
    checks.push(match status::ping(address, PING).await {
        Ok(()) => Check::new(
            Level::Ok,
            format!("docker: the engine answers at {address}"),
        ),
        Err(e) => Check::new(Level::Fail, format!("docker: {e}")),
    });
    let root = if stack.root().exists() {
        stack.root().to_owned()
    } else {
        PathBuf::from(".")
    };
    checks.push(
        match SystemCompose::detect(&root, Duration::from_secs(15)) {
            Ok(c) => Check::new(Level::Ok, format!("compose: `{}`", c.program())),
            Err(e) => Check::new(Level::Fail, format!("compose: {e}")),
        },
    );
    checks.push(match rustix::fs::statvfs(&root) {
        Ok(vfs) => {
            let need = settings.as_ref().map_or(0, doctor::disk_need);
            doctor::disk(
                vfs.f_bavail.saturating_mul(vfs.f_frsize),
                need,
                &root.display().to_string(),
            )
        }
        Err(e) => Check::new(Level::Warn, format!("disk: cannot read free space: {e}")),
    });
    checks.push(doctor::hugepages(
        &std::fs::read_to_string("/proc/meminfo").unwrap_or_default(),
    ));
    if let Some(s) = &settings {
        for (port, what) in doctor::ports(s) {
            checks.push(doctor::port(port, what, port_in_use(port)));
        }
    }
    for check in &checks {
        say!("{}", check.line());
    }
    let (line, code) = doctor::summary(&checks);
    say!("{line}");
    Ok(ExitCode::from(code))
}
