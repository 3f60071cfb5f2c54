//! The terminal side of `backup` and `restore`: where the passphrase comes from, what is asked
//! and printed, and which exit code each outcome is. The archive work is in
//! `pithead_runtime::cli::{backup, restore}`.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use age::secrecy::SecretString;
use pithead_runtime::cli::apply::Prompt;
use pithead_runtime::cli::backup::{self, BackupError, Sealing};
use pithead_runtime::cli::restore::{self, Format, RestoreError};
use pithead_runtime::cli::stack_dir::StackDir;
use pithead_runtime::io::{Clock, SystemClock};

/// Where scripts hand over the passphrase (never argv, where `ps` shows it).
pub const PASSPHRASE_ENV: &str = "PITHEAD_BACKUP_PASSPHRASE";

/// `backup`'s flags.
pub struct BackupArgs {
    pub no_encrypt: bool,
    pub yes: bool,
    pub output: Option<PathBuf>,
    pub passphrase_stdin: bool,
}

fn refuse(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("pithead: {message}");
    Ok(ExitCode::from(1))
}

/// The passphrase from the environment, stdin or (when allowed) the terminal.
fn passphrase(
    from_stdin: bool,
    may_prompt: bool,
    confirm: bool,
) -> Result<Option<SecretString>, String> {
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        if !value.is_empty() {
            return Ok(Some(SecretString::from(value)));
        }
    }
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the passphrase from stdin: {e}"))?;
        let line = line.trim_end_matches(['\n', '\r']).to_owned();
        if line.is_empty() {
            return Err("--passphrase-stdin: stdin gave an empty passphrase".into());
        }
        return Ok(Some(SecretString::from(line)));
    }
    if !may_prompt || !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let first = rpassword::prompt_password("Backup passphrase: ")
        .map_err(|e| format!("cannot read the passphrase: {e}"))?;
    if first.is_empty() {
        return Err("empty passphrase: nothing was written".into());
    }
    if confirm {
        let second = rpassword::prompt_password("Confirm passphrase: ")
            .map_err(|e| format!("cannot read the passphrase: {e}"))?;
        if first != second {
            return Err("the passphrases do not match: nothing was written".into());
        }
    }
    Ok(Some(SecretString::from(first)))
}

/// `pithead backup`.
pub fn backup(config: &Path, stack_dir: &Path, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let stack = StackDir::new(stack_dir);
    let sealing = if args.no_encrypt {
        eprintln!("pithead: --no-encrypt: the archive holds every credential of the stack in plaintext; keep it private");
        Sealing::Plain
    } else {
        match passphrase(args.passphrase_stdin, !args.yes, true) {
            Ok(Some(passphrase)) => Sealing::Passphrase {
                passphrase,
                work_factor: None,
            },
            Ok(None) => {
                return refuse(format!(
                    "no passphrase for the backup: set {PASSPHRASE_ENV}, pass --passphrase-stdin, run it on a terminal, or choose --no-encrypt — nothing was written"
                ))
            }
            Err(message) => return refuse(message),
        }
    };
    let output = args.output.unwrap_or_else(|| {
        let stem = backup::archive_stem(SystemClock.wall_ms());
        let ext = if args.no_encrypt {
            "tar.gz"
        } else {
            "tar.gz.age"
        };
        stack.root().join("backups").join(format!("{stem}.{ext}"))
    });
    match backup::backup(config, &stack, &output, sealing, args.yes) {
        Ok(summary) => {
            for link in &summary.skipped_links {
                eprintln!(
                    "pithead: left out {} (not a regular file or directory)",
                    link.display()
                );
            }
            say!("Backup written to: {}", output.display());
            if !args.no_encrypt {
                say!("The archive is useless without its passphrase: keep both, apart from this box.");
            }
            say!("Blockchains are not included: they re-sync.");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (BackupError::Missing { .. } | BackupError::Exists { .. })) => refuse(e),
        Err(e) => Err(e.into()),
    }
}

/// `pithead restore`.
pub fn restore(
    config: &Path,
    stack_dir: &Path,
    archive: &Path,
    yes: bool,
    passphrase_stdin: bool,
    prompt: &mut dyn Prompt,
) -> anyhow::Result<ExitCode> {
    let stack = StackDir::new(stack_dir);
    let outcome = (|| {
        let bytes = restore::read_archive(archive)?;
        let secret = if restore::sniff(&bytes) == Some(Format::Age) {
            passphrase(passphrase_stdin, true, false).map_err(RestoreErrorOr::Message)?
        } else {
            None
        };
        let tar_gz = restore::unseal(archive, bytes, secret)?;
        Ok::<_, RestoreErrorOr>(restore::audit(&tar_gz)?)
    })();
    let contents = match outcome {
        Ok(c) => c,
        Err(RestoreErrorOr::Message(m)) => return refuse(m),
        Err(RestoreErrorOr::Restore(e @ RestoreError::Read { .. })) => return Err(e.into()),
        Err(RestoreErrorOr::Restore(e)) => return refuse(e),
    };
    let overwritten = restore::would_overwrite(config, &stack);
    if !overwritten.is_empty() && !yes {
        let names: Vec<String> = overwritten
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        if !prompt.is_terminal() {
            return refuse(format!(
                "restore would overwrite {} and stdin is not a terminal: re-run with -y to restore — nothing was written",
                names.join(", ")
            ));
        }
        say!("Restore will overwrite {}.", names.join(", "));
        if !prompt.confirm("Continue and overwrite them? (y/N): ") {
            say!("Restore cancelled: nothing was written.");
            return Ok(ExitCode::from(1));
        }
    }
    restore::write(&contents, config, &stack)?;
    say!(
        "Restored config.json, .env and data/dashboard from {}.",
        archive.display()
    );
    if let Err(errors) = std::str::from_utf8(&contents.config)
        .map_err(|_| Vec::new())
        .and_then(|text| pithead_runtime::cli::load(text).map(drop))
    {
        eprintln!(
            "pithead: the restored {} does not validate ({} problem(s)): run `pithead check`",
            config.display(),
            errors.len().max(1)
        );
    }
    say!("Run `pithead apply` to render the stack from it and recreate the containers.");
    Ok(ExitCode::SUCCESS)
}

enum RestoreErrorOr {
    Restore(RestoreError),
    Message(String),
}

impl From<RestoreError> for RestoreErrorOr {
    fn from(e: RestoreError) -> Self {
        Self::Restore(e)
    }
}
