//! `pithead-sim swarm --replay SEED --log FILE`: every tracing event of the replayed world (the
//! runtime's, the fakes', the simulation's), stamped with the virtual time it happened at, so
//! two replays that drift apart can be diffed line by line.

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

/// What `--log` records unless `--log-filter` says otherwise: our crates at debug, the rest at
/// warn (hyper, h2 and tonic at debug change nothing virtual but make the file huge).
pub const DEFAULT_FILTER: &str = "warn,pithead_runtime=debug,pithead_fakes=debug,pithead_sim=debug";

/// Virtual time since the simulation started (`--` outside a host: the world's own code).
struct VirtualTime;

impl FormatTime for VirtualTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        match turmoil::sim_elapsed() {
            Some(t) => write!(w, "{:>9}.{:03}", t.as_secs(), t.subsec_millis()),
            None => write!(w, "{:>13}", "--"),
        }
    }
}

/// Why the log could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be created.
    #[error("cannot create the log {path}: {source}")]
    Create {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The filter does not parse.
    #[error("--log-filter {filter:?} is not a tracing filter: {source}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// The parser's complaint.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
}

/// Sends the process's tracing events to `path` (created or truncated), filtered by `filter`.
/// A subscriber already installed wins: this then does nothing.
pub fn install(path: &Path, filter: &str) -> Result<(), LogError> {
    let filter_parsed = EnvFilter::try_new(filter).map_err(|source| LogError::Filter {
        filter: filter.to_owned(),
        source,
    })?;
    let file = File::create(path).map_err(|source| LogError::Create {
        path: path.to_owned(),
        source,
    })?;
    let _already = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_timer(VirtualTime)
        .with_env_filter(filter_parsed)
        .try_init();
    Ok(())
}
