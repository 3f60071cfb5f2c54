//! Section F's own vocabulary: what the dashboard's `Given`/`When`/`Then` steps say that the
//! shared [`crate::driver`] vocabulary does not (the host's figures, xmrig-proxy's workers, the
//! history). A tier without a driver for them says so ([`crate::driver::Tier`]'s defaults).

/// A host resource the dashboard shows a level for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU busy.
    Cpu,
    /// Memory in use.
    Mem,
    /// The data disk in use.
    Disk,
}

/// A fact a section-F `Given` step sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardFact {
    /// The Monero node is the box's own (`local`) or not, with `MONERO_PRUNE`.
    MoneroNode {
        /// `MONERO_NODE_HOST` equals `LOCAL_MONERO_HOST`.
        local: bool,
        /// `MONERO_PRUNE`.
        prune: bool,
    },
    /// A local monerod reporting this `database_size` in bytes.
    DatabaseSize(u64),
    /// The host's use of a resource, percent.
    Usage(Resource, u8),
    /// `HugePages_Total` is 0.
    HugePagesOff,
    /// xmrig-proxy lists two workers: one hashing (on p2pool), one gone quiet.
    TwoWorkers,
    /// History recorded every 30 s with a 10-minute gap in the middle.
    HistoryWithGap,
    /// The history database file is corrupt before the runtime starts.
    CorruptHistory,
    /// The XvB engine runs with `XVB_DONATION_LEVEL` fixed at this tier (`donor`, `vip`, …).
    XvbFixedTier(&'static str),
    /// The fleet's stable (15-minute) hashrate is below this many H/s.
    StableHashrateBelow(u64),
}

/// Something a section-F `When` step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardEvent {
    /// One update cycle passes, so `/api/state` shows what the `Given` steps set.
    Refresh,
    /// The chart is fetched over the recorded history.
    DrawChart,
    /// The runtime starts (its first cycle ends).
    RuntimeStarts,
}

/// What a section-F `Then` step checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardOutcome {
    /// The badge `text` is shown with `variant` (`warn`, `bad`, …), or not shown (`None`).
    Badge {
        /// The badge's text.
        text: String,
        /// Its variant, `None` = not shown.
        variant: Option<String>,
    },
    /// The prune badge (`XMR …`) reads this, or no prune badge (`None`).
    PruneBadge(Option<String>),
    /// Both workers are listed with their 15-minute and 1-hour hashrates.
    BothWorkersListed,
    /// The hashing worker is online on `pool`, the quiet one offline.
    HashingOnlineQuietOffline {
        /// The pool the hashing worker is attributed to.
        pool: String,
    },
    /// Both chart series break once, at the middle of the gap, and nowhere else.
    ChartBreaksAtTheGapOnly,
    /// The corrupt database was moved aside and a fresh one created.
    HistoryRecreated,
}
