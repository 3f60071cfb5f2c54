//! `pithead apply`: render, show what changes, ask when a change needs consent, write, leave
//! the re-arm marker when a node endpoint moved, and recreate the stack. A recreate that fails
//! leaves the `apply-incomplete` marker, so the next apply retries even with nothing to change.

use std::io::Write;

use super::compose::{ComposeError, ComposeRunner};
use super::diff::{self, Class};
use super::render::{self, RenderError};
use super::secrets::{self, Entropy, SecretError};
use super::stack_dir::{RearmScope, StackDir, StackError};
use super::validate::Settings;

/// The exact no-op message.
pub const NO_CHANGES: &str = "No configuration changes detected. Nothing to apply.";

/// The exact question CONFIRM and DESTRUCTIVE changes ask.
pub const QUESTION: &str = "Proceed with applying these changes? (y/N): ";

/// How apply was asked to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// `-y`: consent given in advance.
    pub yes: bool,
    /// `--dry-run`: show, write nothing.
    pub dry_run: bool,
}

/// The operator's terminal.
pub trait Prompt {
    /// Whether stdin is a terminal someone can answer on.
    fn is_terminal(&self) -> bool;
    /// Shows `question`, reads a line; `true` for an answer starting with `y`/`Y`.
    fn confirm(&mut self, question: &str) -> bool;
}

/// What apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Nothing changed and nothing was pending.
    NoChanges,
    /// `--dry-run`: the changes were shown.
    DryRun,
    /// The operator said no.
    Cancelled,
    /// The stack was written and recreated.
    Applied,
}

/// Why apply stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Reading or writing the stack directory.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// Making a credential.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The render was refused.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Consent needed, no terminal to ask on, no `-y`.
    #[error(
        "these changes need confirmation and stdin is not a terminal: re-run with -y to apply them"
    )]
    NeedsConsent,
    /// The files were written but compose did not recreate the stack.
    #[error("the configuration was written but the stack was not recreated: {0}; run `pithead apply` again to retry")]
    Recreate(#[source] ComposeError),
}

/// Runs an apply.
pub fn apply(
    settings: &Settings,
    stack: &StackDir,
    entropy: &mut dyn Entropy,
    compose: &dyn ComposeRunner,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
    options: ApplyOptions,
) -> Result<ApplyOutcome, ApplyError> {
    let old = stack.read_env()?;
    let secrets = secrets::resolve(settings, old.as_ref(), entropy)?;
    let rendered = render::render(settings, &secrets, stack.owner()?)?;
    let pending = stack.apply_incomplete();
    let changes = old
        .as_ref()
        .map(|old| diff::diff(old, &rendered.env))
        .unwrap_or_default();
    let say = |out: &mut dyn Write, line: &str| {
        // A closed stdout must not stop an apply half-way.
        let _ = writeln!(out, "{line}");
    };
    if old.is_some() && changes.is_empty() && !pending {
        say(out, NO_CHANGES);
        return Ok(ApplyOutcome::NoChanges);
    }
    match &old {
        None => say(
            out,
            "First apply of this stack: writing .env, Caddyfile and compose.yaml.",
        ),
        Some(_) if changes.is_empty() => say(
            out,
            "The last apply did not finish: recreating the stack again.",
        ),
        Some(_) => {
            say(out, "Changes to apply:");
            for change in &changes {
                say(out, &format!("  {change}"));
            }
        }
    }
    if options.dry_run {
        say(out, "Dry run: nothing was written.");
        return Ok(ApplyOutcome::DryRun);
    }
    if diff::strongest(&changes) >= Class::Confirm && !options.yes {
        if !prompt.is_terminal() {
            return Err(ApplyError::NeedsConsent);
        }
        let _ = out.flush();
        if !prompt.confirm(QUESTION) {
            say(out, "Apply cancelled: nothing was written.");
            return Ok(ApplyOutcome::Cancelled);
        }
    }
    stack.mark_apply_incomplete()?;
    stack.write(&rendered)?;
    if let Some(scope) = diff::rearm(&changes) {
        stack.write_rearm(scope)?;
        // The runtime holds for Tari only where Tari gates the release (TARI_REQUIRED).
        let tari_gates = rendered.env.get("TARI_REQUIRED") == Some("true");
        say(
            out,
            match scope {
                RearmScope::All => "The Monero node changed: the miners are held again until the chains are synced.",
                RearmScope::Tari if tari_gates => "The Tari node changed: the miners are held again until Tari is synced.",
                RearmScope::Tari => "The Tari node changed: Tari does not gate mining (TARI_REQUIRED is false), so the miners are not held.",
            },
        );
    }
    compose
        .run(&["up", "-d", "--remove-orphans"])
        .map_err(ApplyError::Recreate)?;
    stack.clear_apply_incomplete()?;
    say(out, "Configuration applied.");
    Ok(ApplyOutcome::Applied)
}
