use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time as the runtime sees it.
///
/// Monotonic time is `tokio::time::Instant`, which turmoil drives virtually, so control code that
/// takes `now` from here replays exactly. Wall time (for the dashboard's epoch-millisecond chart
/// points and history rows) also comes from here, never from `SystemTime::now()` directly.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic now.
    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }
    /// Milliseconds since the Unix epoch.
    fn wall_ms(&self) -> u64;
}

/// A clock shared by every part of one runtime.
pub type SharedClock = Arc<dyn Clock>;

/// Production clock: tokio's monotonic clock and the system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place production reads the wall clock
    fn wall_ms(&self) -> u64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    }
}
