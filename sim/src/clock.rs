//! [`SimClock`]: the runtime's clock inside a simulated world.

use std::time::Duration;

use pithead_runtime::io::Clock;

/// Monotonic time is tokio's (virtual under turmoil, the trait's default); wall time is the
/// world's fixed epoch plus the simulated time elapsed, so every run of a seed sees the same
/// epoch-millisecond timestamps.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    epoch: Duration,
}

impl SimClock {
    /// A clock whose wall time starts at `epoch` (since the Unix epoch).
    pub fn new(epoch: Duration) -> Self {
        Self { epoch }
    }
}

impl Clock for SimClock {
    fn wall_ms(&self) -> u64 {
        // Inside a host, turmoil knows the epoch it was built with plus the host's elapsed
        // virtual time; outside one (never in the runtime's code paths) fall back to the epoch.
        let since_epoch = turmoil::since_epoch().unwrap_or(self.epoch);
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    }
}
