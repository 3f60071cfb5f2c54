//! The compose driver: `docker compose` or, where only that exists, Debian's `docker-compose`,
//! behind a trait so apply is tested without docker.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Why a compose run failed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// Neither `docker compose` nor `docker-compose` answers.
    #[error(
        "neither `docker compose` nor `docker-compose` is installed (or docker is not on PATH)"
    )]
    NotInstalled,
    /// It could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It ran past its deadline and was killed.
    #[error("`{command}` did not finish within {secs} s and was stopped (is the docker engine answering?)")]
    Timeout {
        /// The command (arguments only, never values).
        command: String,
        /// The deadline.
        secs: u64,
    },
    /// It exited non-zero.
    #[error("`{command}` failed (exit code {code:?})")]
    Failed {
        /// The command.
        command: String,
        /// Its exit code.
        code: Option<i32>,
    },
}

/// Runs compose commands in the stack directory.
pub trait ComposeRunner {
    /// Runs `compose <args>`; `Ok` on exit 0.
    fn run(&self, args: &[&str]) -> Result<(), ComposeError>;
}

/// Where compose's own output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Nowhere (the probe).
    Quiet,
    /// Our stderr: progress, so stdout stays ours.
    Stderr,
    /// Our stdout (`logs`, where compose's output is the answer).
    Stdout,
}

/// The real compose, found on this host.
#[derive(Debug, Clone)]
pub struct SystemCompose {
    program: Vec<String>,
    dir: PathBuf,
    timeout: Option<Duration>,
    output: Output,
    engine: Option<String>,
}

const POLL: Duration = Duration::from_millis(100);

fn run_bounded(
    program: &[String],
    args: &[&str],
    dir: &PathBuf,
    timeout: Option<Duration>,
    output: Output,
    engine: Option<&str>,
) -> Result<(), ComposeError> {
    let command = format!("{} {}", program.join(" "), args.join(" "));
    let mut cmd = Command::new(&program[0]);
    cmd.args(&program[1..])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null());
    if let Some(address) = engine {
        cmd.env("DOCKER_HOST", address);
    }
    if output == Output::Quiet {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    } else if output == Output::Stderr {
        // Compose's progress goes to our stderr; stdout stays ours.
        use std::os::fd::AsFd;
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|source| ComposeError::Spawn {
                program: program[0].clone(),
                source,
            })?;
        cmd.stdout(Stdio::from(stderr));
    }
    let mut child = cmd.spawn().map_err(|source| ComposeError::Spawn {
        program: program[0].clone(),
        source,
    })?;
    let Some(timeout) = timeout else {
        // `logs --follow`: the operator ends it.
        let status = child.wait().map_err(|source| ComposeError::Spawn {
            program: program[0].clone(),
            source,
        })?;
        return if status.success() {
            Ok(())
        } else {
            Err(ComposeError::Failed {
                command,
                code: status.code(),
            })
        };
    };
    // Counted polls rather than a clock: only runtime/src/io reads the time.
    let polls = timeout.as_millis() / POLL.as_millis();
    for _ in 0..=polls {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(ComposeError::Failed {
                    command,
                    code: status.code(),
                })
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(source) => {
                return Err(ComposeError::Spawn {
                    program: program[0].clone(),
                    source,
                })
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(ComposeError::Timeout {
        command,
        secs: timeout.as_secs(),
    })
}

impl SystemCompose {
    /// Finds compose: `docker compose` first, then `docker-compose`.
    pub fn detect(dir: impl Into<PathBuf>, timeout: Duration) -> Result<Self, ComposeError> {
        let dir = dir.into();
        let probe = Duration::from_secs(15);
        for program in [vec!["docker", "compose"], vec!["docker-compose"]] {
            let program: Vec<String> = program.into_iter().map(str::to_owned).collect();
            if run_bounded(
                &program,
                &["version"],
                &dir,
                Some(probe),
                Output::Quiet,
                None,
            )
            .is_ok()
            {
                return Ok(Self {
                    program,
                    dir,
                    timeout: Some(timeout),
                    output: Output::Stderr,
                    engine: None,
                });
            }
        }
        Err(ComposeError::NotInstalled)
    }

    /// Sends compose's output to our stdout (for `logs`, where it is the answer).
    pub fn to_stdout(mut self) -> Self {
        self.output = Output::Stdout;
        self
    }

    /// No deadline: for `logs --follow`, which runs until the operator stops it.
    pub fn unbounded(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Talks to the engine at `address` (passed as `DOCKER_HOST`, never on the command line).
    pub fn engine(mut self, address: &str) -> Self {
        self.engine = Some(address.to_owned());
        self
    }

    /// The command compose is run as (`docker compose` or `docker-compose`).
    pub fn program(&self) -> String {
        self.program.join(" ")
    }
}

impl ComposeRunner for SystemCompose {
    fn run(&self, args: &[&str]) -> Result<(), ComposeError> {
        run_bounded(
            &self.program,
            args,
            &self.dir,
            self.timeout,
            self.output,
            self.engine.as_deref(),
        )
    }
}
