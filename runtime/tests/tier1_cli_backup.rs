//! Tier 1: `pithead backup` and `restore` as library calls. A round trip restores every
//! secret byte for byte; a wrong passphrase, a truncated archive and every hostile shape of
//! archive (`..`, an absolute path, a link, a device, a stray name, no `.env`, no
//! `config.json`) are refused by the audit, before anything is written.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use age::secrecy::SecretString;
use flate2::write::GzEncoder;
use pithead_runtime::cli::backup::{self, BackupError, Sealing};
use pithead_runtime::cli::restore::{self, DataEntry, Format, RestoreError};
use pithead_runtime::cli::stack_dir::StackDir;

const SECRET: &str = "Zq8mP2vL9xR4tY7wK1nB5cD3fG6hJ0aS";
const CONFIG: &str = r#"{"monero":{"node_password":"OperatorChosenPassw0rd"}}"#;

/// scrypt at 2^10: the format is the same, the test just does not spend a second per call.
fn sealed(pass: &str) -> Sealing {
    Sealing::Passphrase {
        passphrase: SecretString::from(pass.to_owned()),
        work_factor: Some(10),
    }
}

fn stack_with_data(root: &Path) -> (std::path::PathBuf, StackDir) {
    let stack = StackDir::new(root.join("stack"));
    let data = stack.dashboard_data();
    fs::create_dir_all(data.join("history")).unwrap();
    fs::write(
        stack.env_path(),
        format!("PROXY_AUTH_TOKEN={SECRET}\nP2POOL_FLAGS=--mini\n"),
    )
    .unwrap();
    fs::write(
        data.join("runtime-state.json"),
        br#"{"miner_released":true}"#,
    )
    .unwrap();
    fs::write(data.join("history").join("h.db"), [0u8, 1, 2, 255, 254]).unwrap();
    let config = root.join("config.json");
    fs::write(&config, CONFIG).unwrap();
    (config, stack)
}

fn contents_of(archive: &Path, pass: Option<&str>) -> Result<restore::Contents, RestoreError> {
    let bytes = restore::read_archive(archive)?;
    let tar_gz = restore::unseal(
        archive,
        bytes,
        pass.map(|p| SecretString::from(p.to_owned())),
    )?;
    restore::audit(&tar_gz)
}

#[test]
fn an_encrypted_round_trip_restores_every_byte_and_the_archive_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let archive = dir.path().join("out").join("b.tar.gz.age");
    let summary =
        backup::backup(&config, &stack, &archive, sealed("correct horse"), false).unwrap();
    assert_eq!(summary.files, 4);
    let mode = fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let raw = fs::read(&archive).unwrap();
    assert_eq!(restore::sniff(&raw), Some(Format::Age));
    assert!(!raw.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    // No temp file is left beside the archive.
    assert_eq!(fs::read_dir(archive.parent().unwrap()).unwrap().count(), 1);

    let contents = contents_of(&archive, Some("correct horse")).unwrap();
    let target = tempfile::tempdir().unwrap();
    let new_stack = StackDir::new(target.path().join("stack"));
    let new_config = target.path().join("config.json");
    restore::write(&contents, &new_config, &new_stack).unwrap();
    assert_eq!(fs::read(&new_config).unwrap(), CONFIG.as_bytes());
    assert_eq!(
        fs::read(new_stack.env_path()).unwrap(),
        fs::read(stack.env_path()).unwrap()
    );
    for rel in ["runtime-state.json", "history/h.db"] {
        assert_eq!(
            fs::read(new_stack.dashboard_data().join(rel)).unwrap(),
            fs::read(stack.dashboard_data().join(rel)).unwrap(),
            "{rel}"
        );
    }
    let env_mode = fs::metadata(new_stack.env_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(env_mode, 0o600);
    assert!(new_stack.apply_incomplete(), "the next apply must recreate");
}

#[test]
fn a_restore_replaces_the_data_directory_instead_of_merging_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let archive = dir.path().join("b.tar.gz");
    backup::backup(&config, &stack, &archive, Sealing::Plain, false).unwrap();
    fs::write(stack.dashboard_data().join("stale.json"), "x").unwrap();
    fs::write(stack.env_path(), "PROXY_AUTH_TOKEN=changed\n").unwrap();
    let contents = contents_of(&archive, None).unwrap();
    restore::write(&contents, &config, &stack).unwrap();
    assert!(!stack.dashboard_data().join("stale.json").exists());
    assert!(fs::read_to_string(stack.env_path())
        .unwrap()
        .contains(SECRET));
    let leftovers: Vec<_> = fs::read_dir(stack.root().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(leftovers, ["dashboard"]);
}

#[test]
fn a_wrong_passphrase_or_none_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let archive = dir.path().join("b.age");
    backup::backup(&config, &stack, &archive, sealed("right"), false).unwrap();
    assert!(matches!(
        contents_of(&archive, Some("wrong")),
        Err(RestoreError::Decrypt)
    ));
    assert!(matches!(
        contents_of(&archive, None),
        Err(RestoreError::NeedsPassphrase)
    ));
    // A cut tail fails age's authentication even with the right passphrase.
    let raw = fs::read(&archive).unwrap();
    fs::write(&archive, &raw[..raw.len() - 20]).unwrap();
    assert!(matches!(
        contents_of(&archive, Some("right")),
        Err(RestoreError::Decrypt)
    ));
}

#[test]
fn an_archive_demanding_excessive_scrypt_work_is_refused_before_any_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let archive = dir.path().join("b.age");
    backup::backup(&config, &stack, &archive, sealed("right"), false).unwrap();
    let raw = fs::read(&archive).unwrap();
    // The scrypt stanza is `-> scrypt <salt> 10`: claim 2^40 instead (the MAC is checked only
    // after the key is derived, so the claim alone must stop it).
    let stanza = raw.windows(10).position(|w| w == b"-> scrypt ").unwrap();
    let eol = stanza + raw[stanza..].iter().position(|&b| b == b'\n').unwrap();
    assert_eq!(&raw[eol - 3..eol], b" 10");
    let mut forged = raw.clone();
    forged[eol - 2..eol].copy_from_slice(b"40");
    fs::write(&archive, forged).unwrap();
    let err = contents_of(&archive, Some("right")).unwrap_err();
    assert!(
        matches!(err, RestoreError::TooMuchWork { required: 40, .. }),
        "{err}"
    );
}

#[test]
fn backup_refuses_without_env_or_config_and_never_clobbers_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let archive = dir.path().join("b.tar.gz");
    fs::write(&archive, "keep me").unwrap();
    let err = backup::backup(&config, &stack, &archive, Sealing::Plain, false).unwrap_err();
    assert!(matches!(err, BackupError::Exists { .. }), "{err}");
    assert_eq!(fs::read(&archive).unwrap(), b"keep me");
    backup::backup(&config, &stack, &archive, Sealing::Plain, true).unwrap();
    assert_eq!(
        restore::sniff(&fs::read(&archive).unwrap()),
        Some(Format::Gzip)
    );

    fs::remove_file(stack.env_path()).unwrap();
    let err = backup::backup(
        &config,
        &stack,
        &dir.path().join("c"),
        Sealing::Plain,
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "backup needs {}, which is missing — nothing was written",
            stack.env_path().display()
        )
    );
    assert!(!dir.path().join("c").exists());
}

#[test]
fn a_symlink_in_the_data_directory_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let (config, stack) = stack_with_data(dir.path());
    let link = stack.dashboard_data().join("passwd");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    let archive = dir.path().join("b.tar.gz");
    let summary = backup::backup(&config, &stack, &archive, Sealing::Plain, false).unwrap();
    assert_eq!(summary.skipped_links, [link]);
    let contents = contents_of(&archive, None).unwrap();
    assert!(!contents.data.iter().any(|e| matches!(e,
        DataEntry::File { rel, .. } if rel.ends_with("passwd"))));
}

/// One raw tar entry: the name goes into the header's bytes as is, so `..` and `/` survive
/// (the tar crate's own setters refuse them).
struct Raw {
    name: &'static str,
    kind: tar::EntryType,
    body: &'static [u8],
    link: Option<&'static str>,
}

fn file(name: &'static str, body: &'static [u8]) -> Raw {
    Raw {
        name,
        kind: tar::EntryType::Regular,
        body,
        link: None,
    }
}

fn tar_gz(entries: &[Raw]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for e in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        if let Some(link) = e.link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(e.kind);
        header.set_mode(0o644);
        header.set_size(e.body.len() as u64);
        header.set_cksum();
        builder.append(&header, e.body).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn good() -> Vec<Raw> {
    vec![file("config.json", b"{}"), file(".env", b"A=1\n")]
}

#[test]
fn every_hostile_archive_is_refused_by_the_audit() {
    assert!(restore::audit(&tar_gz(&good())).is_ok());
    let with = |extra: Raw| {
        let mut entries = good();
        entries.push(extra);
        entries
    };
    let cases: Vec<(&str, Vec<Raw>, &str)> = vec![
        (
            "parent",
            with(file("data/dashboard/../../../evil", b"x")),
            r#"refusing the archive: entry "data/dashboard/../../../evil" climbs out with `..` — nothing was restored"#,
        ),
        (
            "absolute",
            with(file("/tmp/evil", b"x")),
            r#"refusing the archive: entry "/tmp/evil" is an absolute path — nothing was restored"#,
        ),
        (
            "symlink",
            with(Raw {
                name: "data/dashboard/link",
                kind: tar::EntryType::Symlink,
                body: b"",
                link: Some("/etc/passwd"),
            }),
            r#"refusing the archive: entry "data/dashboard/link" is a link — nothing was restored"#,
        ),
        (
            "hard link",
            with(Raw {
                name: "data/dashboard/hard",
                kind: tar::EntryType::Link,
                body: b"",
                link: Some("config.json"),
            }),
            r#"refusing the archive: entry "data/dashboard/hard" is a link — nothing was restored"#,
        ),
        (
            "device",
            with(Raw {
                name: "data/dashboard/null",
                kind: tar::EntryType::Char,
                body: b"",
                link: None,
            }),
            r#"refusing the archive: entry "data/dashboard/null" is not a regular file or directory — nothing was restored"#,
        ),
        (
            "stray name",
            with(file("compose.yaml", b"services: {}")),
            r#"refusing the archive: entry "compose.yaml" is not part of a pithead backup — nothing was restored"#,
        ),
        (
            "twice",
            with(file("./.env", b"B=2\n")),
            r#"refusing the archive: entry "./.env" appears twice — nothing was restored"#,
        ),
        (
            "no .env",
            vec![file("config.json", b"{}")],
            "refusing the archive: it has no .env, so it is not a complete pithead backup — nothing was restored",
        ),
        (
            "no config.json",
            vec![file(".env", b"A=1\n")],
            "refusing the archive: it has no config.json, so it is not a complete pithead backup — nothing was restored",
        ),
    ];
    for (label, entries, message) in cases {
        let err = restore::audit(&tar_gz(&entries)).unwrap_err();
        assert_eq!(err.to_string(), message, "{label}");
    }
    let truncated = tar_gz(&good());
    let err = restore::audit(&truncated[..truncated.len() / 2]).unwrap_err();
    assert!(matches!(err, RestoreError::Corrupt(_)), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let not_ours = dir.path().join("notes.txt");
    fs::write(&not_ours, "hello").unwrap();
    let err = contents_of(&not_ours, None).unwrap_err();
    assert!(matches!(err, RestoreError::NotAnArchive(_)), "{err}");
}
