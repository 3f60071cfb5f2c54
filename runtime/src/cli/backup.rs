//! `pithead backup`: `config.json`, `.env` and the runtime's data directory in one tar.gz,
//! sealed with a passphrase through `age` (scrypt) unless the operator asks for plaintext.
//!
//! The archive is streamed into a mode-600 temp file beside its destination and renamed into
//! place, so a failed backup never leaves a half archive that looks like a good one, and no
//! plaintext copy of the secrets ever touches the disk when encrypting.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::stack_dir::StackDir;

/// The configuration's name inside the archive.
pub const ARCHIVE_CONFIG: &str = "config.json";
/// `.env`'s name inside the archive.
pub const ARCHIVE_ENV: &str = ".env";
/// The runtime's data directory inside the archive (as in the stack directory).
pub const ARCHIVE_DATA: &str = "data/dashboard";

/// How the archive is sealed.
pub enum Sealing {
    /// A plain tar.gz (`--no-encrypt`).
    Plain,
    /// age with a passphrase.
    Passphrase {
        /// The passphrase.
        passphrase: SecretString,
        /// scrypt's `log2(N)`; `None` lets age pick about one second of work on this machine.
        work_factor: Option<u8>,
    },
}

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A required file is missing or not a regular file.
    #[error("backup needs {path}, which is {why} — nothing was written")]
    Missing {
        /// The file.
        path: PathBuf,
        /// missing, a directory, …
        why: &'static str,
    },
    /// A source could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A source could not be put into the archive (read, or written onward).
    #[error("cannot archive {path}: {source}")]
    Archive {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The destination exists and replacing it was not allowed.
    #[error("{path} already exists: choose another --output, or pass -y to replace it")]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The archive could not be written.
    #[error("cannot write the archive {path}: {source}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// age refused to encrypt.
    #[error("cannot encrypt the archive: {0}")]
    Encrypt(String),
}

/// What went into the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Regular files archived.
    pub files: usize,
    /// Symbolic links in the data directory, left out (a link could point anywhere on the host).
    pub skipped_links: Vec<PathBuf>,
}

enum Kind {
    File,
    Dir,
}

struct Item {
    name: String,
    source: PathBuf,
    kind: Kind,
    mode: u32,
    mtime: u64,
}

fn required(path: &Path) -> Result<fs::Metadata, BackupError> {
    // Followed, not lstat'ed: an operator may keep config.json as a link to elsewhere.
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(meta),
        Ok(_) => Err(BackupError::Missing {
            path: path.to_owned(),
            why: "not a regular file",
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BackupError::Missing {
            path: path.to_owned(),
            why: "missing",
        }),
        Err(source) => Err(BackupError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn item(name: String, source: PathBuf, meta: &fs::Metadata, kind: Kind) -> Item {
    Item {
        name,
        source,
        kind,
        mode: meta.mode() & 0o777,
        mtime: u64::try_from(meta.mtime()).unwrap_or(0),
    }
}

fn walk(
    dir: &Path,
    name: &str,
    items: &mut Vec<Item>,
    skipped: &mut Vec<PathBuf>,
) -> Result<(), BackupError> {
    let read = |source| BackupError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut children: Vec<_> = fs::read_dir(dir)
        .map_err(read)?
        .collect::<Result<_, _>>()
        .map_err(read)?;
    // A stable order makes two backups of the same tree byte-comparable before compression.
    children.sort_by_key(fs::DirEntry::file_name);
    for child in children {
        let path = child.path();
        let meta = fs::symlink_metadata(&path).map_err(|source| BackupError::Read {
            path: path.clone(),
            source,
        })?;
        let Some(file_name) = child.file_name().to_str().map(str::to_owned) else {
            skipped.push(path);
            continue;
        };
        let child_name = format!("{name}/{file_name}");
        if meta.is_dir() {
            items.push(item(child_name.clone(), path.clone(), &meta, Kind::Dir));
            walk(&path, &child_name, items, skipped)?;
        } else if meta.is_file() {
            items.push(item(child_name, path, &meta, Kind::File));
        } else {
            skipped.push(path);
        }
    }
    Ok(())
}

fn collect(config: &Path, stack: &StackDir) -> Result<(Vec<Item>, Vec<PathBuf>), BackupError> {
    let config_meta = required(config)?;
    let env_path = stack.env_path();
    let env_meta = required(&env_path)?;
    let mut items = vec![
        item(
            ARCHIVE_CONFIG.into(),
            config.to_owned(),
            &config_meta,
            Kind::File,
        ),
        item(ARCHIVE_ENV.into(), env_path, &env_meta, Kind::File),
    ];
    let mut skipped = Vec::new();
    let data = stack.dashboard_data();
    match fs::symlink_metadata(&data) {
        Ok(meta) if meta.is_dir() => {
            items.push(item(ARCHIVE_DATA.into(), data.clone(), &meta, Kind::Dir));
            walk(&data, ARCHIVE_DATA, &mut items, &mut skipped)?;
        }
        Ok(_) => skipped.push(data),
        // A stack that never ran has no data yet: the configuration alone is still worth keeping.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(BackupError::Read { path: data, source }),
    }
    Ok((items, skipped))
}

fn write_tar<W: Write>(out: W, items: &[Item], dest: &Path) -> Result<W, BackupError> {
    let mut builder = tar::Builder::new(out);
    for it in items {
        let archive_err = |source| BackupError::Archive {
            path: it.source.clone(),
            source,
        };
        let mut header = tar::Header::new_gnu();
        header.set_mtime(it.mtime);
        match it.kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(it.mode | 0o700);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{}/", it.name), io::empty())
                    .map_err(archive_err)?;
            }
            Kind::File => {
                let read_err = |source| BackupError::Read {
                    path: it.source.clone(),
                    source,
                };
                let file = fs::File::open(&it.source).map_err(read_err)?;
                let len = file.metadata().map_err(read_err)?.len();
                header.set_entry_type(tar::EntryType::Regular);
                let mode = if it.name == ARCHIVE_ENV || it.name == ARCHIVE_CONFIG {
                    0o600
                } else {
                    it.mode
                };
                header.set_mode(mode);
                header.set_size(len);
                // `take` pins the size the header announced even if the file grows meanwhile.
                builder
                    .append_data(&mut header, &it.name, io::Read::take(file, len))
                    .map_err(archive_err)?;
            }
        }
    }
    builder.into_inner().map_err(|source| BackupError::Write {
        path: dest.to_owned(),
        source,
    })
}

fn gz<W: Write>(out: W, items: &[Item], dest: &Path) -> Result<W, BackupError> {
    write_tar(GzEncoder::new(out, Compression::default()), items, dest)?
        .finish()
        .map_err(|source| BackupError::Write {
            path: dest.to_owned(),
            source,
        })
}

/// Writes the backup of `config` and `stack` to `out` and says what went in.
pub fn backup(
    config: &Path,
    stack: &StackDir,
    out: &Path,
    sealing: Sealing,
    replace: bool,
) -> Result<Summary, BackupError> {
    let (items, skipped_links) = collect(config, stack)?;
    if !replace && fs::symlink_metadata(out).is_ok() {
        return Err(BackupError::Exists {
            path: out.to_owned(),
        });
    }
    let write_err = |source| BackupError::Write {
        path: out.to_owned(),
        source,
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(write_err)?;
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(write_err)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(write_err)?;
    match sealing {
        Sealing::Plain => {
            gz(temp.as_file_mut(), &items, out)?;
        }
        Sealing::Passphrase {
            passphrase,
            work_factor,
        } => {
            let mut recipient = age::scrypt::Recipient::new(passphrase);
            if let Some(log_n) = work_factor {
                recipient.set_work_factor(log_n);
            }
            let encryptor =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .map_err(|e| BackupError::Encrypt(e.to_string()))?;
            let sealed = encryptor
                .wrap_output(temp.as_file_mut())
                .map_err(write_err)?;
            gz(sealed, &items, out)?.finish().map_err(write_err)?;
        }
    }
    temp.as_file().sync_all().map_err(write_err)?;
    if replace {
        temp.persist(out).map_err(|e| write_err(e.error))?;
    } else {
        temp.persist_noclobber(out)
            .map_err(|e| write_err(e.error))?;
    }
    if let Ok(d) = fs::File::open(&dir) {
        d.sync_all().map_err(write_err)?;
    }
    Ok(Summary {
        files: items
            .iter()
            .filter(|i| matches!(i.kind, Kind::File))
            .count(),
        skipped_links,
    })
}

/// `pithead-backup-YYYYMMDD-HHMMSS` (UTC) for a wall time in milliseconds since the epoch.
pub fn archive_stem(wall_ms: u64) -> String {
    let secs = wall_ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "pithead-backup-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::archive_stem;

    #[test]
    fn the_stem_is_the_utc_date_and_time() {
        assert_eq!(archive_stem(0), "pithead-backup-19700101-000000");
        // 2024-02-29T23:59:58Z, a leap day.
        assert_eq!(
            archive_stem(1_709_251_198_000),
            "pithead-backup-20240229-235958"
        );
        assert_eq!(
            archive_stem(1_795_000_000_123),
            "pithead-backup-20261118-110640"
        );
    }
}
