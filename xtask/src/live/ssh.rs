//! The one way the live matrix touches a box: commands over one multiplexed SSH connection
//! (the system `ssh`, driven by the `openssh` crate's control master).
//!
//! Every command runs in the box's stack directory under the box's own `timeout`, so a hung
//! remote process is killed on the box and not only our local ssh client; a local deadline a
//! little longer backs that up. Payloads (config.json, anything secret) travel on stdin, never
//! in argv: the remote command line is visible in the box's process list.

use std::path::PathBuf;
use std::time::Duration;

use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use tokio::io::AsyncWriteExt as _;

/// Where and how to reach the box.
#[derive(Debug, Clone)]
pub struct Target {
    /// `user@host` (as ssh takes it; `ssh://user@host:port` works too).
    pub host: String,
    /// The ssh port, when not the default or the host string's own.
    pub port: Option<u16>,
    /// The private key (`ssh -i`).
    pub identity: Option<PathBuf>,
    /// The known-hosts file (default: ssh's own, `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// The stack directory on the box, relative to the login's home or absolute.
    pub dir: String,
    /// The `pithead` binary on the box, relative to `dir` or absolute.
    pub pithead: String,
}

/// What a remote command returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Reply {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// `exit N` (or `killed`) and the last lines of stderr, for an error message.
    pub fn describe(&self) -> String {
        let code = self
            .code
            .map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"));
        let tail: Vec<&str> = self.stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        if tail.is_empty() {
            code
        } else {
            format!("{code}: {}", tail.join(" / "))
        }
    }
}

/// Why a remote step failed. Each message names the host and the step.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The SSH connection could not be made.
    #[error("{host}: cannot connect over ssh: {message}")]
    Connect {
        /// The host.
        host: String,
        /// What ssh said.
        message: String,
    },
    /// The command could not be started, or its output not read.
    #[error("{host}: {step}: {message}")]
    Transport {
        /// The host.
        host: String,
        /// The step.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// The command ran past its deadline (and was killed on the box).
    #[error("{host}: {step}: no answer within {secs} s (killed)")]
    Timeout {
        /// The host.
        host: String,
        /// The step.
        step: String,
        /// The deadline.
        secs: u64,
    },
    /// The command ran and failed where success was required.
    #[error("{host}: {step} failed ({why})")]
    Failed {
        /// The host.
        host: String,
        /// The step.
        step: String,
        /// Its exit code and the tail of its stderr.
        why: String,
    },
}

/// The exit code coreutils' `timeout` gives a command it had to kill.
const TIMED_OUT: i32 = 124;
/// How much longer the local deadline is than the box's own.
const LOCAL_GRACE: Duration = Duration::from_secs(15);

/// An open connection to one box.
pub struct Remote {
    session: Session,
    target: Target,
    // The control master's socket lives here until the session closes.
    _control: tempfile::TempDir,
}

impl Remote {
    /// Opens the connection: `BatchMode=yes`, `ConnectTimeout=10`,
    /// `StrictHostKeyChecking=accept-new`, one control master for every later command.
    pub async fn connect(target: Target) -> Result<Self, RemoteError> {
        let control = tempfile::tempdir().map_err(|e| RemoteError::Connect {
            host: target.host.clone(),
            message: format!("creating the control directory: {e}"),
        })?;
        let mut builder = SessionBuilder::default();
        builder
            .known_hosts_check(KnownHosts::Add)
            .connect_timeout(Duration::from_secs(10))
            .server_alive_interval(Duration::from_secs(15))
            .control_directory(control.path());
        if let Some(port) = target.port {
            builder.port(port);
        }
        if let Some(key) = &target.identity {
            builder.keyfile(key);
        }
        if let Some(file) = &target.known_hosts {
            builder.user_known_hosts_file(file);
        }
        let session = builder
            .connect(&target.host)
            .await
            .map_err(|e| RemoteError::Connect {
                host: target.host.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            session,
            target,
            _control: control,
        })
    }

    /// The host, as given.
    pub fn host(&self) -> &str {
        &self.target.host
    }

    /// The stack directory on the box.
    pub fn dir(&self) -> &str {
        &self.target.dir
    }

    /// Runs `argv` in the stack directory, bounded by `timeout` on the box, with `stdin` as its
    /// standard input. A non-zero exit is a [`Reply`], not an error.
    pub async fn run(
        &self,
        step: &str,
        argv: &[&str],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Reply, RemoteError> {
        let secs = timeout.as_secs().max(1);
        let transport = |message: String| RemoteError::Transport {
            host: self.target.host.clone(),
            step: step.to_owned(),
            message,
        };
        // `cd` first so relative paths (the pithead binary, config.json) mean the stack's.
        let mut command = self.session.command("sh");
        command
            .arg("-c")
            .arg(r#"cd -- "$1" && shift && exec "$@""#)
            .arg("sh")
            .arg(&self.target.dir)
            .arg("timeout")
            .arg("--kill-after=5")
            .arg(secs.to_string())
            .args(argv)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let work = async {
            let mut child = command
                .spawn()
                .await
                .map_err(|e| transport(e.to_string()))?;
            if let Some(bytes) = stdin {
                if let Some(mut pipe) = child.stdin().take() {
                    pipe.write_all(bytes)
                        .await
                        .map_err(|e| transport(format!("writing stdin: {e}")))?;
                    pipe.shutdown()
                        .await
                        .map_err(|e| transport(format!("closing stdin: {e}")))?;
                }
            }
            child
                .wait_with_output()
                .await
                .map_err(|e| transport(e.to_string()))
        };
        let output = tokio::time::timeout(timeout + LOCAL_GRACE, work)
            .await
            .map_err(|_| self.timed_out(step, secs))??;
        let reply = Reply {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if reply.code == Some(TIMED_OUT) || reply.code == Some(128 + 9) {
            return Err(self.timed_out(step, secs));
        }
        Ok(reply)
    }

    fn timed_out(&self, step: &str, secs: u64) -> RemoteError {
        RemoteError::Timeout {
            host: self.target.host.clone(),
            step: step.to_owned(),
            secs,
        }
    }

    /// Like [`Remote::run`], but a non-zero exit is an error naming the step.
    pub async fn must(
        &self,
        step: &str,
        argv: &[&str],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Reply, RemoteError> {
        let reply = self.run(step, argv, stdin, timeout).await?;
        if reply.ok() {
            Ok(reply)
        } else {
            Err(self.failed(step, &reply))
        }
    }

    /// The error for a reply that should have succeeded.
    pub fn failed(&self, step: &str, reply: &Reply) -> RemoteError {
        RemoteError::Failed {
            host: self.target.host.clone(),
            step: step.to_owned(),
            why: reply.describe(),
        }
    }

    /// Runs the box's `pithead` with `args`.
    pub async fn pithead(
        &self,
        step: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Reply, RemoteError> {
        let mut argv = vec![self.target.pithead.as_str()];
        argv.extend_from_slice(args);
        self.run(step, &argv, stdin, timeout).await
    }

    /// Like [`Remote::pithead`], but a non-zero exit is an error naming the step.
    pub async fn must_pithead(
        &self,
        step: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<Reply, RemoteError> {
        let reply = self.pithead(step, args, None, timeout).await?;
        if reply.ok() {
            Ok(reply)
        } else {
            Err(self.failed(step, &reply))
        }
    }

    /// A file of the stack directory, or `None` when it does not exist.
    pub async fn read(&self, path: &str) -> Result<Option<String>, RemoteError> {
        let step = format!("reading {path}");
        let script = r#"if [ -e "$1" ]; then cat -- "$1"; else exit 3; fi"#;
        let reply = self
            .run(
                &step,
                &["sh", "-c", script, "sh", path],
                None,
                Duration::from_secs(30),
            )
            .await?;
        match reply.code {
            Some(0) => Ok(Some(reply.stdout)),
            Some(3) => Ok(None),
            _ => Err(self.failed(&step, &reply)),
        }
    }

    /// Writes `bytes` (sent on stdin) to a file of the stack directory atomically, mode 600.
    pub async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        let script = r#"umask 077 && cat > "$1.live-tmp" && mv -f -- "$1.live-tmp" "$1""#;
        self.must(
            &format!("writing {path}"),
            &["sh", "-c", script, "sh", path],
            Some(bytes),
            Duration::from_secs(30),
        )
        .await
        .map(drop)
    }

    /// The SHA-256 of files of the stack directory (`-` for one that is missing), computed on
    /// the box.
    pub async fn digests(&self, paths: &[&str]) -> Result<Vec<(String, String)>, RemoteError> {
        let script = r#"for f in "$@"; do if [ -e "$f" ]; then sha256sum -- "$f"; else echo "- $f"; fi; done"#;
        let mut argv = vec!["sh", "-c", script, "sh"];
        argv.extend_from_slice(paths);
        let reply = self
            .must("hashing files", &argv, None, Duration::from_secs(60))
            .await?;
        Ok(reply
            .stdout
            .lines()
            .filter_map(|line| {
                let (digest, path) = line.split_once(char::is_whitespace)?;
                Some((path.trim().to_owned(), digest.to_owned()))
            })
            .collect())
    }

    /// Closes the control master.
    pub async fn close(self) {
        let _ = self.session.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_describes_its_exit_and_the_end_of_stderr() {
        let reply = Reply {
            code: Some(1),
            stdout: String::new(),
            stderr: "one\ntwo\nthree\nfour\nfive\nsix\n".into(),
        };
        assert!(!reply.ok());
        assert_eq!(reply.describe(), "exit 1: two / three / four / five / six");
        let killed = Reply {
            code: None,
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(killed.describe(), "killed by a signal");
    }

    #[test]
    fn errors_name_the_host_and_the_step() {
        let err = RemoteError::Timeout {
            host: "miner@box".into(),
            step: "pithead apply -y".into(),
            secs: 600,
        };
        assert_eq!(
            err.to_string(),
            "miner@box: pithead apply -y: no answer within 600 s (killed)"
        );
    }
}
