//! `pithead restore`: the archive is opened and audited entirely in memory before anything is
//! written, so a wrong passphrase, a truncated file or a hostile archive (a `..` or absolute
//! path, a link, a device, an unexpected name, no `config.json` or `.env`) leaves the box as it
//! was. Only then are the data directory swapped in and `.env` and `config.json` replaced,
//! byte for byte.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use age::secrecy::SecretString;
use flate2::read::GzDecoder;

use super::backup::{ARCHIVE_CONFIG, ARCHIVE_DATA, ARCHIVE_ENV};
use super::stack_dir::{write_atomic, StackDir, StackError};

/// The largest archive read (a backup holds configuration and the dashboard's history, never
/// the chains).
pub const MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;
/// The most an archive may decompress to (a gzip bomb stops here).
pub const MAX_CONTENT_BYTES: u64 = 1024 * 1024 * 1024;

const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// How an archive is sealed, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// age, passphrase-encrypted.
    Age,
    /// A plain tar.gz.
    Gzip,
}

/// Why a restore refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The archive file could not be read.
    #[error("cannot read the archive {path}: {source}")]
    Read {
        /// The archive.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Too big to be a backup.
    #[error("{path} is larger than {max} bytes: not a pithead backup — nothing was restored")]
    TooLarge {
        /// The archive.
        path: PathBuf,
        /// The limit.
        max: u64,
    },
    /// Neither age nor gzip.
    #[error("{0} is not a pithead backup (neither age-encrypted nor gzip) — nothing was restored")]
    NotAnArchive(PathBuf),
    /// Encrypted, and no passphrase was given.
    #[error("this archive is encrypted: give its passphrase at the prompt, in PITHEAD_BACKUP_PASSPHRASE, or on stdin with --passphrase-stdin")]
    NeedsPassphrase,
    /// The archive's scrypt work factor is beyond what this machine accepts (made on a much
    /// faster one, or crafted to exhaust memory).
    #[error("the archive's key derivation needs 2^{required} scrypt work, more than this machine accepts (2^{max}) — nothing was restored")]
    TooMuchWork {
        /// The archive's `log2(N)`.
        required: u8,
        /// The most accepted here.
        max: u8,
    },
    /// age could not open it with that passphrase.
    #[error("wrong passphrase or corrupt archive — nothing was restored")]
    Decrypt,
    /// The archive is truncated, tampered with or not a tar.gz inside.
    #[error("the archive fails verification ({0}) — nothing was restored")]
    Corrupt(String),
    /// An entry that a pithead backup never holds.
    #[error("refusing the archive: entry {entry:?} {why} — nothing was restored")]
    Hostile {
        /// The entry's name as stored.
        entry: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A required member is absent.
    #[error("refusing the archive: it has no {0}, so it is not a complete pithead backup — nothing was restored")]
    Incomplete(&'static str),
    /// Writing the restored files failed part-way.
    #[error(transparent)]
    Write(#[from] StackError),
}

/// A file or directory of the runtime's data, relative to `data/dashboard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataEntry {
    /// A directory.
    Dir {
        /// Below `data/dashboard` (empty for the directory itself).
        rel: PathBuf,
    },
    /// A regular file.
    File {
        /// Below `data/dashboard`.
        rel: PathBuf,
        /// Permission bits.
        mode: u32,
        /// Content.
        bytes: Vec<u8>,
    },
}

/// An audited archive, ready to write.
#[derive(Clone, PartialEq, Eq)]
pub struct Contents {
    /// `config.json`, as archived.
    pub config: Vec<u8>,
    /// `.env`, as archived.
    pub env: Vec<u8>,
    /// The runtime's data directory (empty when the stack had none).
    pub data: Vec<DataEntry>,
}

impl std::fmt::Debug for Contents {
    /// Never the bytes: both files hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contents")
            .field("config", &format_args!("{} bytes", self.config.len()))
            .field("env", &format_args!("{} bytes", self.env.len()))
            .field("data", &format_args!("{} entries", self.data.len()))
            .finish()
    }
}

/// Reads an archive file (bounded).
pub fn read_archive(path: &Path) -> Result<Vec<u8>, RestoreError> {
    let read = |source| RestoreError::Read {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_ARCHIVE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(RestoreError::TooLarge {
            path: path.to_owned(),
            max: MAX_ARCHIVE_BYTES,
        });
    }
    Ok(bytes)
}

/// Which format `bytes` are in, if any.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(AGE_MAGIC) {
        Some(Format::Age)
    } else if bytes.starts_with(GZIP_MAGIC) {
        Some(Format::Gzip)
    } else {
        None
    }
}

/// The tar.gz inside an archive: decrypted with `passphrase` when it is age.
pub fn unseal(
    path: &Path,
    bytes: Vec<u8>,
    passphrase: Option<SecretString>,
) -> Result<Vec<u8>, RestoreError> {
    match sniff(&bytes) {
        None => Err(RestoreError::NotAnArchive(path.to_owned())),
        Some(Format::Gzip) => Ok(bytes),
        Some(Format::Age) => {
            let passphrase = passphrase.ok_or(RestoreError::NeedsPassphrase)?;
            let decryptor =
                age::Decryptor::new_buffered(&bytes[..]).map_err(|_| RestoreError::Decrypt)?;
            let identity = age::scrypt::Identity::new(passphrase);
            let mut reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .map_err(|e| match e {
                    age::DecryptError::ExcessiveWork { required, target } => {
                        RestoreError::TooMuchWork {
                            required,
                            max: target.saturating_add(4),
                        }
                    }
                    _ => RestoreError::Decrypt,
                })?;
            let mut plain = Vec::new();
            // age authenticates every chunk: a flipped bit or a cut tail fails here.
            (&mut reader)
                .take(MAX_ARCHIVE_BYTES + 1)
                .read_to_end(&mut plain)
                .map_err(|_| RestoreError::Decrypt)?;
            Ok(plain)
        }
    }
}

/// What an entry's name resolves to.
enum Target {
    Config,
    Env,
    Data(PathBuf),
    /// `data/` itself, the parent of the data directory.
    DataParent,
}

/// Where an entry goes, and its normalised name (`./.env` and `.env` are the same entry).
fn target(name: &str, raw: &Path) -> Result<(Target, String), RestoreError> {
    let hostile = |why| RestoreError::Hostile {
        entry: name.to_owned(),
        why,
    };
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(|| hostile("is not UTF-8"))?),
            Component::CurDir => {}
            Component::ParentDir => return Err(hostile("climbs out with `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(hostile("is an absolute path"))
            }
        }
    }
    let joined = parts.join("/");
    let data_prefix = format!("{ARCHIVE_DATA}/");
    let target = if joined == ARCHIVE_CONFIG {
        Target::Config
    } else if joined == ARCHIVE_ENV {
        Target::Env
    } else if joined == "data" {
        Target::DataParent
    } else if joined == ARCHIVE_DATA {
        Target::Data(PathBuf::new())
    } else if let Some(rel) = joined.strip_prefix(&data_prefix) {
        Target::Data(PathBuf::from(rel))
    } else {
        return Err(hostile("is not part of a pithead backup"));
    };
    Ok((target, joined))
}

/// Opens and audits a tar.gz: every entry is checked before anything is kept.
pub fn audit(tar_gz: &[u8]) -> Result<Contents, RestoreError> {
    let corrupt = |e: io::Error| RestoreError::Corrupt(e.to_string());
    let mut tar = Vec::new();
    GzDecoder::new(tar_gz)
        .take(MAX_CONTENT_BYTES + 1)
        .read_to_end(&mut tar)
        .map_err(corrupt)?;
    if tar.len() as u64 > MAX_CONTENT_BYTES {
        return Err(RestoreError::Corrupt(format!(
            "it unpacks to more than {MAX_CONTENT_BYTES} bytes"
        )));
    }
    let mut archive = tar::Archive::new(&tar[..]);
    let mut config = None;
    let mut env = None;
    let mut data = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let raw = entry.path().map_err(corrupt)?.into_owned();
        let name = raw.to_string_lossy().into_owned();
        let hostile = |why| RestoreError::Hostile {
            entry: name.clone(),
            why,
        };
        let kind = entry.header().entry_type();
        let is_dir = kind.is_dir();
        if !(is_dir || kind.is_file()) {
            return Err(hostile(if kind.is_symlink() || kind.is_hard_link() {
                "is a link"
            } else {
                "is not a regular file or directory"
            }));
        }
        let (target, key) = target(&name, &raw)?;
        if !seen.insert(key) {
            return Err(hostile("appears twice"));
        }
        let mode = entry.header().mode().map_err(corrupt)? & 0o777;
        let mut bytes = Vec::new();
        if !is_dir {
            entry.read_to_end(&mut bytes).map_err(corrupt)?;
        }
        match (target, is_dir) {
            (Target::Config, false) => config = Some(bytes),
            (Target::Env, false) => env = Some(bytes),
            (Target::Config | Target::Env, true) => return Err(hostile("is a directory")),
            (Target::DataParent, true) => {}
            (Target::DataParent, false) => return Err(hostile("is not part of a pithead backup")),
            (Target::Data(rel), true) => data.push(DataEntry::Dir { rel }),
            (Target::Data(rel), false) if rel.as_os_str().is_empty() => {
                return Err(hostile("is not a directory"))
            }
            (Target::Data(rel), false) => data.push(DataEntry::File { rel, mode, bytes }),
        }
    }
    Ok(Contents {
        config: config.ok_or(RestoreError::Incomplete(ARCHIVE_CONFIG))?,
        env: env.ok_or(RestoreError::Incomplete(ARCHIVE_ENV))?,
        data,
    })
}

/// What a restore would overwrite, for the question asked before it does.
pub fn would_overwrite(config: &Path, stack: &StackDir) -> Vec<PathBuf> {
    [config.to_owned(), stack.env_path(), stack.dashboard_data()]
        .into_iter()
        .filter(|p| fs::symlink_metadata(p).is_ok())
        .collect()
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StackError {
    let path = path.to_owned();
    move |source| StackError::Io {
        path,
        action,
        source,
    }
}

fn remove_tree(path: &Path) -> Result<(), StackError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

/// Writes audited contents: the data directory first (staged beside it, then swapped in), then
/// `.env` (mode 600) and `config.json` (mode 600: it holds credentials), each atomically. The
/// `apply-incomplete` marker is left so the next `pithead apply` renders and recreates the stack
/// from the restored files even though `.env` already matches.
pub fn write(contents: &Contents, config: &Path, stack: &StackDir) -> Result<(), RestoreError> {
    let data_root = stack.root().join("data");
    fs::create_dir_all(&data_root).map_err(io_err("create", &data_root))?;
    let live = stack.dashboard_data();
    let staged = data_root.join(".dashboard.restore");
    let old = data_root.join(".dashboard.old");
    remove_tree(&staged)?;
    remove_tree(&old)?;
    fs::create_dir(&staged).map_err(io_err("create", &staged))?;
    for entry in &contents.data {
        match entry {
            DataEntry::Dir { rel } => {
                let dir = staged.join(rel);
                fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
            }
            DataEntry::File { rel, mode, bytes } => {
                let path = staged.join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io_err("create", parent))?;
                }
                fs::write(&path, bytes).map_err(io_err("write", &path))?;
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode | 0o600))
                    .map_err(io_err("chmod", &path))?;
            }
        }
    }
    if fs::symlink_metadata(&live).is_ok() {
        fs::rename(&live, &old).map_err(io_err("move aside", &live))?;
    }
    fs::rename(&staged, &live).map_err(io_err("rename into", &live))?;
    remove_tree(&old)?;
    write_atomic(&stack.env_path(), &contents.env, 0o600)?;
    write_atomic(config, &contents.config, 0o600)?;
    stack.mark_apply_incomplete()?;
    Ok(())
}
