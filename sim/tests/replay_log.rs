//! `pithead-sim swarm --replay SEED --log FILE`: the replayed world's log, stamped with virtual
//! time, the same on every run of a seed, and a bad filter refused by name.

use std::process::Command;

fn replay(seed: &str, log: &std::path::Path, filter: Option<&str>) -> std::process::Output {
    let out = log.with_extension("json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pithead-sim"));
    cmd.args(["swarm", "--replay", seed, "--hours", "0.05", "--log"])
        .arg(log)
        .arg("--out")
        .arg(out);
    if let Some(filter) = filter {
        cmd.args(["--log-filter", filter]);
    }
    cmd.output().expect("run pithead-sim")
}

#[test]
fn a_replay_log_is_stamped_with_virtual_time_and_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("a.log"), dir.path().join("b.log"));
    for log in [&first, &second] {
        let run = replay("3", log, None);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let text = std::fs::read_to_string(&first).unwrap();
    // Seed 3 holds the miners from the first cycle: xmrig-proxy stopped 9 virtual seconds in.
    let line = text
        .lines()
        .find(|l| l.contains("container action landed") && l.contains("xmrig-proxy"))
        .unwrap_or_else(|| panic!("no stop of xmrig-proxy in the log:\n{text}"));
    assert!(line.trim_start().starts_with("9.000 "), "{line}");
    assert_eq!(text, std::fs::read_to_string(&second).unwrap());
}

#[test]
fn a_bad_log_filter_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = replay("3", &dir.path().join("x.log"), Some("pithead=["));
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--log-filter \"pithead=[\""), "{stderr}");
}
