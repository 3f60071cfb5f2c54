//! The results of a live run and everything written from them: the progress lines, the summary,
//! the JUnit XML, the manifest and the per-scenario artifacts. Every piece of text goes through
//! the [`Redactor`] on its way out.

use std::fmt;
use std::io::{self, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use junit_report::{Report, TestCase, TestSuite};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::redact::Redactor;

/// Why a scenario did not run: missing (an input would have run it), by-design, covered
/// (another scenario or tier proves it). The catalog's tiers use the same classes.
pub use pithead_scenarios::driver::SkipClass;

/// One assertion of a scenario's battery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was asserted, e.g. `status exits 0`.
    pub name: String,
    /// `Err(detail)` when it did not hold.
    pub result: Result<(), String>,
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every check held.
    Passed,
    /// It failed, and why (a failed step, a timed-out waiter, failed checks).
    Failed(String),
    /// It did not run.
    Skipped {
        /// Which kind of skip.
        class: SkipClass,
        /// Why.
        reason: String,
    },
}

/// One scenario of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioResult {
    /// Its name.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Its assertions, in order.
    pub checks: Vec<Check>,
    /// How long it took.
    pub duration: Duration,
}

impl ScenarioResult {
    /// A scenario that ran its battery: passed when every check held.
    pub fn from_checks(name: &str, checks: Vec<Check>, duration: Duration) -> ScenarioResult {
        let failed = checks.iter().filter(|c| c.result.is_err()).count();
        let status = if failed == 0 {
            Status::Passed
        } else {
            Status::Failed(format!("{failed} of {} checks failed", checks.len()))
        };
        ScenarioResult {
            name: name.to_owned(),
            status,
            checks,
            duration,
        }
    }

    /// Why it failed, or `None`. A `Passed` status with a failed check counts as failed: a
    /// failed assertion is never hidden by a flow that forgot to set the status.
    pub fn failure(&self) -> Option<String> {
        match &self.status {
            Status::Failed(why) => Some(why.clone()),
            Status::Passed => {
                let failed = self.checks.iter().filter(|c| c.result.is_err()).count();
                (failed > 0).then(|| format!("{failed} of {} checks failed", self.checks.len()))
            }
            Status::Skipped { .. } => None,
        }
    }
}

fn check_line(check: &Check) -> String {
    match &check.result {
        Ok(()) => format!("  ✓ {}", check.name),
        Err(detail) => format!("  ✗ {}: {detail}", check.name),
    }
}

fn scenario_line(r: &ScenarioResult) -> String {
    match (&r.status, r.failure()) {
        (Status::Skipped { class, reason }, _) => {
            format!("- {} skipped ({class}): {reason}", r.name)
        }
        (_, Some(why)) => format!("✗ {}: {why}", r.name),
        (_, None) => format!("✓ {} ({:.1} s)", r.name, r.duration.as_secs_f64()),
    }
}

/// The run's progress: a spinner with the current scenario and step on a terminal (stdout, not
/// under `CI`), plain lines otherwise. Owns its [`Redactor`] (clone it: the clone is cheap); it
/// is `Sync`, so workers can share it behind an `Arc`.
pub struct Progress {
    redactor: Redactor,
    out: Output,
}

enum Output {
    Bar(ProgressBar),
    Plain(Mutex<Box<dyn Write + Send>>),
}

impl Progress {
    /// A progress display over `total` scenarios.
    pub fn new(total: u64, redactor: Redactor) -> Progress {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        if ci || !io::stdout().is_terminal() {
            return Progress::plain(redactor, Box::new(io::stdout()));
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            redactor,
            out: Output::Bar(bar),
        }
    }

    /// Plain lines to `out` (a log file, or a buffer in a test), no spinner.
    pub fn plain(redactor: Redactor, out: Box<dyn Write + Send>) -> Progress {
        Progress {
            redactor,
            out: Output::Plain(Mutex::new(out)),
        }
    }

    /// `scenario` is at `step` (pushing the config, waiting for sync, ...).
    pub fn step(&self, scenario: &str, step: &str) {
        let text = self.redactor.redact(&format!("{scenario}: {step}"));
        match &self.out {
            Output::Bar(bar) => bar.set_message(text),
            Output::Plain(_) => self.write(&[format!("  · {text}")]),
        }
    }

    /// `r` is done: its line, then one line per check.
    pub fn finish_scenario(&self, r: &ScenarioResult) {
        let mut lines = vec![scenario_line(r)];
        lines.extend(r.checks.iter().map(check_line));
        self.write(&lines);
        if let Output::Bar(bar) = &self.out {
            bar.inc(1);
        }
    }

    /// Any other line (the summary, a note), redacted.
    pub fn println(&self, line: &str) {
        self.write(&[line.to_owned()]);
    }

    /// Clears the spinner (plain output has nothing to clear).
    pub fn finish(&self) {
        if let Output::Bar(bar) = &self.out {
            bar.finish_and_clear();
        }
    }

    fn write(&self, lines: &[String]) {
        let text = self.redactor.redact(&lines.join("\n"));
        match &self.out {
            Output::Bar(bar) => bar.println(text),
            Output::Plain(out) => {
                // One scenario's lines stay together when workers share the output; a poisoned
                // lock only means another worker panicked mid-write.
                let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                // Progress output is best effort: a closed pipe must not fail the run.
                let _ = writeln!(out, "{text}").and_then(|()| out.flush());
            }
        }
    }
}

/// Counts of a run's scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed (see [`ScenarioResult::failure`]).
    pub failed: usize,
    /// Skipped: an input would have run them.
    pub missing: usize,
    /// Skipped: they do not apply.
    pub by_design: usize,
    /// Skipped: checked elsewhere.
    pub covered: usize,
}

impl Summary {
    /// The counts of `results`.
    pub fn of(results: &[ScenarioResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match (&r.status, r.failure()) {
                (Status::Skipped { class, .. }, _) => match class {
                    SkipClass::Missing => s.missing += 1,
                    SkipClass::ByDesign => s.by_design += 1,
                    SkipClass::Covered => s.covered += 1,
                },
                (_, Some(_)) => s.failed += 1,
                (_, None) => s.passed += 1,
            }
        }
        s
    }

    /// Every skipped scenario.
    pub fn skipped(&self) -> usize {
        self.missing + self.by_design + self.covered
    }

    /// No scenario failed.
    pub fn is_green(&self) -> bool {
        self.failed == 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed,
            self.skipped()
        )?;
        if self.skipped() > 0 {
            write!(
                f,
                " (missing {}, by-design {}, covered {})",
                self.missing, self.by_design, self.covered
            )?;
        }
        Ok(())
    }
}

static ANSI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("a constant pattern compiles"));

/// Redacted, without terminal colours or other control characters (XML 1.0 cannot hold them).
fn xml_text(redactor: &Redactor, text: &str) -> String {
    ANSI.replace_all(&redactor.redact(text), "")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// The JUnit XML of a run: one `testsuite` named `suite`, one `testcase` per scenario; a
/// failure carries why and its failed checks, a skip its class (as the type) and reason, and
/// every case its check lines as system-out.
pub fn junit_xml(
    suite: &str,
    results: &[ScenarioResult],
    redactor: &Redactor,
) -> Result<String, junit_report::Error> {
    let text = |s: &str| xml_text(redactor, s);
    let mut ts = TestSuite::new(&text(suite));
    for r in results {
        let name = text(&r.name);
        let time =
            junit_report::Duration::try_from(r.duration).unwrap_or(junit_report::Duration::ZERO);
        let mut case = match (&r.status, r.failure()) {
            (Status::Skipped { class, reason }, _) => {
                TestCase::skipped_with_cause(&name, &class.to_string(), &text(reason))
            }
            (_, Some(why)) => {
                let mut message = vec![why];
                message.extend(
                    r.checks
                        .iter()
                        .filter(|c| c.result.is_err())
                        .map(check_line),
                );
                TestCase::failure(&name, time, "Check Failed", &text(&message.join("\n")))
            }
            (_, None) => TestCase::success(&name, time),
        };
        if !r.checks.is_empty() {
            let lines: Vec<String> = r.checks.iter().map(check_line).collect();
            case.set_system_out(&text(&lines.join("\n")));
        }
        ts.add_testcase(case);
    }
    let mut report = Report::new();
    report.add_testsuite(ts);
    let mut xml = Vec::new();
    report.write_xml(&mut xml)?;
    Ok(String::from_utf8_lossy(&xml).into_owned())
}

/// What a live run ran against, written next to its results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `pithead version` on the box.
    pub version: String,
    /// The git revision the run was built from.
    pub git_rev: String,
    /// The `--host` (`user@box`).
    pub host: String,
    /// When the run started (RFC 3339).
    pub started: String,
    /// When it finished (RFC 3339).
    pub finished: String,
    /// Image name → digest (or id), as running on the box.
    pub images: Vec<(String, String)>,
    /// The command-line flags of the run.
    pub flags: Vec<String>,
}

impl Manifest {
    /// Pretty JSON, redacted (a public address in `host` becomes `[public-ip]`; image digests
    /// and the git revision are hex and survive).
    pub fn to_json(&self, redactor: &Redactor) -> serde_json::Result<String> {
        Ok(redactor.redact(&serde_json::to_string_pretty(self)?))
    }
}

/// A file- and URL-safe form of a scenario name: lowercase ASCII letters and digits, every other
/// run of characters one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "scenario".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename: a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes a scenario's artifacts (`(file name, content)`, e.g. `("compose-ps.txt", ..)`) into
/// `dir/<slug of scenario>/`, each redacted and written atomically; returns that directory. A
/// file name must be a plain name (no separator, not `.` or `..`).
pub fn write_artifacts(
    dir: &Path,
    scenario: &str,
    files: &[(&str, String)],
    redactor: &Redactor,
) -> io::Result<PathBuf> {
    let scenario_dir = dir.join(slug(&redactor.redact(scenario)));
    std::fs::create_dir_all(&scenario_dir)?;
    for (name, content) in files {
        if name.is_empty() || name.contains(['/', '\\']) || *name == "." || *name == ".." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("artifact name {name:?} is not a plain file name"),
            ));
        }
        write_atomic(
            &scenario_dir.join(name),
            redactor.redact(content).as_bytes(),
        )?;
    }
    Ok(scenario_dir)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const SECRET: &str = "Xq7Lm2Pz9Rt4Vw8Kb3Nc6Hd1Fg5Js0Ya";

    fn redactor() -> Redactor {
        Redactor::new([SECRET.to_owned()])
    }

    fn check(name: &str, err: Option<&str>) -> Check {
        Check {
            name: name.to_owned(),
            result: err.map_or(Ok(()), |e| Err(e.to_owned())),
        }
    }

    fn skipped(name: &str, class: SkipClass) -> ScenarioResult {
        ScenarioResult {
            name: name.to_owned(),
            status: Status::Skipped {
                class,
                reason: format!("no input for {name}"),
            },
            checks: vec![],
            duration: Duration::ZERO,
        }
    }

    /// Passed ×3 (one of them by status only), failed ×2 (one a `Passed` with a failed check),
    /// skipped missing ×2, by-design ×1, covered ×1.
    fn results() -> Vec<ScenarioResult> {
        let ok = |n: &str| {
            ScenarioResult::from_checks(
                n,
                vec![check("status exits 0", None)],
                Duration::from_millis(12_340),
            )
        };
        let mut lying = ok("lying");
        lying
            .checks
            .push(check("second apply is a no-op", Some("2 changes")));
        vec![
            ok("local pruned"),
            ok("remote node"),
            ScenarioResult {
                name: "plain".into(),
                status: Status::Passed,
                checks: vec![],
                duration: Duration::from_secs(1),
            },
            ScenarioResult::from_checks(
                "xvb on",
                vec![
                    check("status exits 0", None),
                    check(
                        "miner running",
                        Some(&format!("timed out; password was {SECRET}")),
                    ),
                ],
                Duration::from_secs(3),
            ),
            lying,
            skipped("tari remote", SkipClass::Missing),
            skipped("onion", SkipClass::Missing),
            skipped("arm64", SkipClass::ByDesign),
            skipped("apply diff", SkipClass::Covered),
        ]
    }

    #[test]
    fn the_summary_counts_every_class() {
        let s = Summary::of(&results());
        assert_eq!(
            s,
            Summary {
                passed: 3,
                failed: 2,
                missing: 2,
                by_design: 1,
                covered: 1
            }
        );
        assert_eq!(s.skipped(), 4);
        assert!(!s.is_green());
        assert_eq!(
            s.to_string(),
            "3 passed, 2 failed, 4 skipped (missing 2, by-design 1, covered 1)"
        );
        let green = Summary::of(&results()[..3]);
        assert!(green.is_green());
        assert_eq!(green.to_string(), "3 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn from_checks_fails_on_any_failed_check() {
        let r = ScenarioResult::from_checks(
            "x",
            vec![check("a", None), check("b", Some("no"))],
            Duration::ZERO,
        );
        assert_eq!(r.status, Status::Failed("1 of 2 checks failed".into()));
        let r = ScenarioResult::from_checks("x", vec![check("a", None)], Duration::ZERO);
        assert_eq!(r.status, Status::Passed);
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_progress_prints_redacted_scenario_and_check_lines() {
        let buf = Buffer::default();
        let p = Progress::plain(redactor(), Box::new(buf.clone()));
        let rs = results();
        p.step("xvb on", &format!("pushing config.json with {SECRET}"));
        for r in [&rs[0], &rs[3], &rs[5]] {
            p.finish_scenario(r);
        }
        p.println(&format!("summary {SECRET}"));
        p.finish();
        let out = String::from_utf8(buf.0.lock().expect("not poisoned").clone()).expect("utf-8");
        assert!(!out.contains(SECRET), "{out}");
        assert_eq!(
            out,
            "  · xvb on: pushing config.json with [redacted]\n\
             ✓ local pruned (12.3 s)\n\
             \x20 ✓ status exits 0\n\
             ✗ xvb on: 1 of 2 checks failed\n\
             \x20 ✓ status exits 0\n\
             \x20 ✗ miner running: timed out; password was [redacted]\n\
             - tari remote skipped (missing): no input for tari remote\n\
             summary [redacted]\n"
        );
    }

    #[test]
    fn the_junit_document_has_a_case_per_scenario_and_no_secret() {
        let xml = junit_xml("live \x1b[1mmatrix\x1b[0m", &results(), &redactor()).expect("xml");
        assert!(!xml.contains(SECRET), "{xml}");
        assert!(!xml.contains('\x1b'), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 9, "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
        assert_eq!(xml.matches("<skipped ").count(), 4, "{xml}");
        assert!(
            xml.contains(r#"tests="9""#) && xml.contains(r#"failures="2""#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="live matrix""#), "{xml}");
        assert!(
            xml.contains(r#"type="by-design""#) && xml.contains("no input for arm64"),
            "{xml}"
        );
        assert!(
            xml.contains("miner running: timed out; password was [redacted]"),
            "{xml}"
        );
        assert!(xml.contains("second apply is a no-op: 2 changes"), "{xml}");
    }

    #[test]
    fn the_manifest_is_pretty_json_with_a_masked_public_host() {
        let digest = "sha256:4f1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8a9";
        let m = Manifest {
            version: "pithead 0.1.0".into(),
            git_rev: "f4d2525e3b1c9a7d8e6f5a4b3c2d1e0f9a8b7c6d".into(),
            host: "miner@203.0.113.9".into(),
            started: "2026-11-30T12:00:00Z".into(),
            finished: "2026-11-30T13:00:00Z".into(),
            images: vec![("pithead/monerod".into(), digest.into())],
            flags: vec!["--check".into(), "--workers".into(), "2".into()],
        };
        let json = m.to_json(&redactor()).expect("json");
        assert!(!json.contains("203.0.113.9"), "{json}");
        assert!(json.contains('\n'), "pretty: {json}");
        let back: Manifest = serde_json::from_str(&json).expect("parses back");
        assert_eq!(back.host, "miner@[public-ip]");
        assert_eq!(back.images, m.images, "digests survive");
        assert_eq!(back.git_rev, m.git_rev);
        let private = Manifest {
            host: "miner@192.168.1.5".into(),
            ..m
        };
        assert!(private
            .to_json(&redactor())
            .expect("json")
            .contains("miner@192.168.1.5"));
    }

    #[test]
    fn slugs_are_stable() {
        assert_eq!(
            slug("Local pruned, LAN RPC (mini)"),
            "local-pruned-lan-rpc-mini"
        );
        assert_eq!(slug("  --XvB on/off--  "), "xvb-on-off");
        assert_eq!(slug("tari: remote → off"), "tari-remote-off");
        assert_eq!(slug("!!!"), "scenario");
        assert_eq!(slug("a"), slug("A"));
    }

    #[test]
    fn artifacts_are_redacted_and_land_in_the_scenario_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            ("env.txt", format!("MONERO_RPC_PASSWORD={SECRET}\n")),
            (
                "logs.txt",
                format!("monerod | login with {SECRET} from 8.8.4.4\n"),
            ),
        ];
        let at =
            write_artifacts(dir.path(), "XvB on (mini)", &files, &redactor()).expect("written");
        assert_eq!(at, dir.path().join("xvb-on-mini"));
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&at).expect("listed") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(
                !text.contains(SECRET) && !text.contains("8.8.4.4"),
                "{text}"
            );
            names.push(
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort();
        assert_eq!(names, ["env.txt", "logs.txt"], "no temporary file is left");
        let bad = write_artifacts(
            dir.path(),
            "x",
            &[("../escape", String::new())],
            &redactor(),
        );
        assert_eq!(bad.map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn write_atomic_replaces_a_file_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("manifest.json");
        write_atomic(&path, b"first version, longer").expect("written");
        write_atomic(&path, b"second").expect("rewritten");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).expect("listed").count(), 1);
    }
}
