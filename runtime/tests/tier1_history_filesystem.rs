//! The history on a real filesystem that fills up or is read-only: a small tmpfs this test
//! mounts (as root; elsewhere it skips loudly, and fails under `CI=true`). A failed write turns
//! `db_healthy` false and the first write that lands turns it back: the tmpfs is grown (or made
//! writable) in place, as an operator freeing space would.

use std::path::{Path, PathBuf};
use std::process::Command;

use pithead_runtime::store::history;
use pithead_runtime::view::Sample;

/// A tmpfs mounted on a fresh directory; unmounted on drop, whatever happened.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with the reason) when this process may not mount.
    fn mount(options: &str) -> Result<Self, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        mount(&["-t", "tmpfs", "-o", options, "tmpfs"], &dir)?;
        Ok(Self {
            dir,
            _parent: parent,
        })
    }

    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], &self.dir)
            .unwrap_or_else(|e| panic!("remount {options}: {e}"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn mount(args: &[&str], dir: &Path) -> Result<(), String> {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A mounted tmpfs, or the test skips (loudly; a failure under `CI=true`, where `.ci/run` runs
/// as root and can mount).
fn tmpfs_or_skip(test: &str, options: &str) -> Option<Tmpfs> {
    match Tmpfs::mount(options) {
        Ok(fs) => Some(fs),
        Err(why) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(!ci, "{test}: cannot mount a tmpfs under CI=true: {why}");
            eprintln!("SKIPPED {test}: cannot mount a tmpfs ({why}); run as root to prove it");
            None
        }
    }
}

fn sample(n: u64) -> Sample {
    Sample {
        x: 1_800_000_000_000 + n * 30_000,
        p2pool: 5_000.0 + (n % 7) as f64,
        xvb: 1_000.0,
    }
}

#[test]
fn a_full_filesystem_makes_the_history_unhealthy_until_space_is_freed() {
    let Some(fs) = tmpfs_or_skip("full filesystem", "size=96k,mode=0755") else {
        return;
    };
    let (writer, reader) = history::open(&fs.dir);
    writer.sample(sample(0));
    writer.flush();
    assert!(reader.healthy(), "the first write on an empty tmpfs failed");
    // Each row is small: keep writing (bounded) until the filesystem refuses one.
    let mut n = 1;
    while reader.healthy() && n < 20_000 {
        for _ in 0..50 {
            writer.sample(sample(n));
            n += 1;
        }
        writer.flush();
    }
    assert!(
        !reader.healthy(),
        "{n} samples on a 96 KiB tmpfs and the history still counts as healthy"
    );
    let landed = reader.writes();
    fs.remount("size=16m");
    writer.sample(sample(n));
    writer.flush();
    assert!(
        reader.healthy(),
        "space was freed and the history stayed unhealthy"
    );
    assert!(
        reader.writes() > landed,
        "no write landed after space was freed"
    );
}

#[test]
fn a_read_only_filesystem_makes_the_history_unhealthy_until_it_is_writable() {
    let Some(fs) = tmpfs_or_skip("read-only filesystem", "size=4m,ro") else {
        return;
    };
    let (writer, reader) = history::open(&fs.dir);
    writer.sample(sample(0));
    writer.flush();
    assert!(
        !reader.healthy(),
        "a write on a read-only filesystem counted as healthy (root ignores permissions, not ro)"
    );
    fs.remount("rw");
    writer.sample(sample(1));
    writer.flush();
    assert!(
        reader.healthy(),
        "the filesystem is writable again and the history stayed unhealthy"
    );
}
