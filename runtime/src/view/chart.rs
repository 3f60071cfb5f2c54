//! The hashrate chart: which stretch of history a request asks for, and the series with their
//! outage breaks. Pure: the history is read at the edge ([`crate::store::history`]).
//!
//! Query parameters of `/api/state` and their fallbacks (a bad value never fails the request):
//! - `range` = `1h` | `24h` | `1w` | `1m` | `all`, ending at the last cycle; anything else → `1h`.
//! - `from` / `to` = epoch ms; used together when both parse and `from < to` (they then win over
//!   `range`); otherwise ignored. `to` alone is ignored too.
//! - `avg` = bucket width in seconds (each point is the mean of a bucket); not a positive
//!   integer (or past `u64`) → automatic. A width wider than the window is the window (one
//!   point); any width is raised so a chart has at most [`MAX_POINTS`] points; automatic = the
//!   smallest such width, never below one update interval.
//!
//! Outage break: after every gap between consecutive points larger than
//! `max(3 × median gap, 2 × max(UPDATE_INTERVAL, bucket))`, a point `{x: midpoint, y: null}` is
//! inserted in both series.

use std::collections::HashMap;

use super::document::{ChartPoint, ChartSection};

/// Most points per series (breaks not counted).
pub const MAX_POINTS: u64 = 1_000;

const HOUR_MS: u64 = 3_600_000;

/// `/api/state`'s query parameters, as sent (all optional, all text).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ChartQuery {
    /// `1h`, `24h`, `1w`, `1m` or `all`.
    pub range: Option<String>,
    /// Epoch ms.
    pub from: Option<String>,
    /// Epoch ms.
    pub to: Option<String>,
    /// Bucket width, seconds.
    pub avg: Option<String>,
}

/// The stretch of history to draw and the bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Epoch ms, inclusive.
    pub from_ms: u64,
    /// Epoch ms, inclusive.
    pub to_ms: u64,
    /// Bucket width, ms (≥ 1).
    pub bucket_ms: u64,
}

/// One history row: when, and the hashrate (H/s) sent to each pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Epoch ms.
    pub x: u64,
    /// H/s to P2Pool.
    pub p2pool: f64,
    /// H/s to XvB.
    pub xvb: f64,
}

impl ChartQuery {
    /// The window this query asks for, the last cycle having ended at `now_ms`, the history
    /// starting at `oldest_ms` (for `all`).
    pub fn window(&self, now_ms: u64, oldest_ms: u64, interval_ms: u64) -> Window {
        let from = self
            .from
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok());
        let to = self
            .to
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok());
        let (from_ms, to_ms) = match (from, to) {
            (Some(f), Some(t)) if f < t => (f, t),
            _ => {
                let span = match self.range.as_deref() {
                    Some("24h") => Some(24 * HOUR_MS),
                    Some("1w") => Some(7 * 24 * HOUR_MS),
                    Some("1m") => Some(30 * 24 * HOUR_MS),
                    Some("all") => None,
                    _ => Some(HOUR_MS),
                };
                match span {
                    Some(span) => (now_ms.saturating_sub(span), now_ms),
                    None => (oldest_ms.min(now_ms), now_ms),
                }
            }
        };
        let span_ms = to_ms - from_ms;
        let least = span_ms.div_ceil(MAX_POINTS).max(1);
        // Clamped to the window: a wider bucket draws the same single point, and every sum
        // over the width downstream (the outage threshold) stays far from `u64::MAX`.
        let asked = self
            .avg
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(|s| s.saturating_mul(1000).min(span_ms.max(1)));
        let bucket_ms = match asked {
            Some(asked) => asked.max(least),
            None => least.max(interval_ms),
        };
        Window {
            from_ms,
            to_ms,
            bucket_ms,
        }
    }
}

/// The bucket means of `samples` (sorted by `x` or not), sorted by `x`. The history store
/// does the same in SQL; this is the reference for it and for in-memory callers.
pub fn bucket(samples: &[Sample], bucket_ms: u64) -> Vec<Sample> {
    let bucket_ms = bucket_ms.max(1);
    let mut sums: HashMap<u64, (u128, f64, f64, u32)> = HashMap::new();
    for s in samples {
        let e = sums.entry(s.x / bucket_ms).or_default();
        *e = (e.0 + u128::from(s.x), e.1 + s.p2pool, e.2 + s.xvb, e.3 + 1);
    }
    let mut out: Vec<Sample> = sums
        .into_values()
        .map(|(x, p, v, n)| Sample {
            // A mean of u64 values fits in u64.
            #[allow(clippy::cast_possible_truncation)]
            x: (x / u128::from(n)) as u64,
            p2pool: p / f64::from(n),
            xvb: v / f64::from(n),
        })
        .collect();
    out.sort_by_key(|s| s.x);
    out
}

/// The chart of `points` (sorted by `x`), with a break after every outage.
pub fn chart(points: &[Sample], interval_ms: u64, bucket_ms: u64) -> ChartSection {
    // Saturating throughout: the inputs come from a query and the history (any `u64`), and a
    // threshold at `u64::MAX` only means "no break".
    let mut gaps: Vec<u64> = points
        .windows(2)
        .map(|w| w[1].x.saturating_sub(w[0].x))
        .collect();
    gaps.sort_unstable();
    let median = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    let threshold = median
        .saturating_mul(3)
        .max(interval_ms.max(bucket_ms).saturating_mul(2));
    let mut out = ChartSection::default();
    for (i, s) in points.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).map(|j| points[j]) {
            let gap_ms = s.x.saturating_sub(prev.x);
            if gap_ms > threshold {
                let gap = ChartPoint {
                    x: prev.x + gap_ms / 2,
                    y: None,
                };
                out.p2pool.push(gap);
                out.xvb.push(gap);
            }
        }
        out.p2pool.push(ChartPoint {
            x: s.x,
            y: Some(s.p2pool),
        });
        out.xvb.push(ChartPoint {
            x: s.x,
            y: Some(s.xvb),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> ChartQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        ChartQuery {
            range: get("range"),
            from: get("from"),
            to: get("to"),
            avg: get("avg"),
        }
    }

    const NOW: u64 = 100 * 24 * HOUR_MS;

    #[test]
    fn ranges_end_now_and_bad_ones_fall_back_to_an_hour() {
        assert_eq!(
            q(&[("range", "24h")]).window(NOW, 0, 30_000).from_ms,
            NOW - 24 * HOUR_MS
        );
        assert_eq!(q(&[("range", "all")]).window(NOW, 5, 30_000).from_ms, 5);
        for bad in ["2h", "", "1H", "💥"] {
            let w = q(&[("range", bad)]).window(NOW, 0, 30_000);
            assert_eq!((w.from_ms, w.to_ms), (NOW - HOUR_MS, NOW), "{bad}");
        }
        assert_eq!(q(&[]).window(NOW, 0, 30_000).bucket_ms, 30_000);
    }

    #[test]
    fn from_and_to_win_only_together_and_in_order() {
        let w = q(&[("from", "1000"), ("to", "5000"), ("range", "1w")]).window(NOW, 0, 1);
        assert_eq!((w.from_ms, w.to_ms), (1000, 5000));
        for pair in [("5000", "1000"), ("x", "5000"), ("-1", "5")] {
            let w = q(&[("from", pair.0), ("to", pair.1)]).window(NOW, 0, 1);
            assert_eq!((w.from_ms, w.to_ms), (NOW - HOUR_MS, NOW), "{pair:?}");
        }
    }

    #[test]
    fn avg_is_raised_to_keep_the_chart_bounded_and_bad_values_are_automatic() {
        assert_eq!(
            q(&[("avg", "300")]).window(NOW, 0, 30_000).bucket_ms,
            300_000
        );
        let month = q(&[("range", "1m"), ("avg", "1")]).window(NOW, 0, 30_000);
        assert!((month.to_ms - month.from_ms) / month.bucket_ms <= MAX_POINTS);
        for bad in ["0", "-5", "abc", "1e3"] {
            assert_eq!(
                q(&[("avg", bad)]).window(NOW, 0, 30_000).bucket_ms,
                30_000,
                "{bad}"
            );
        }
    }

    fn every(step: u64, from: u64, to: u64) -> Vec<Sample> {
        (from..to)
            .step_by(usize::try_from(step).unwrap())
            .map(|x| Sample {
                x,
                p2pool: 1.0,
                xvb: 2.0,
            })
            .collect()
    }

    #[test]
    fn a_ten_minute_gap_breaks_both_series_at_its_midpoint_and_regular_gaps_do_not() {
        let mut samples = every(30_000, 0, 600_000);
        samples.extend(every(30_000, 1_200_000, 1_800_000));
        let c = chart(&samples, 30_000, 30_000);
        let breaks: Vec<_> = c.p2pool.iter().filter(|p| p.y.is_none()).collect();
        assert_eq!(breaks.len(), 1);
        assert_eq!(breaks[0].x, 570_000 + (1_200_000 - 570_000) / 2);
        assert_eq!(c.xvb.iter().filter(|p| p.y.is_none()).count(), 1);
        assert_eq!(c.p2pool.len(), samples.len() + 1);
        assert!(chart(&every(30_000, 0, 600_000), 30_000, 30_000)
            .p2pool
            .iter()
            .all(|p| p.y.is_some()));
    }

    #[test]
    fn a_gap_under_two_update_intervals_is_no_outage() {
        // Median gap 10 s: three medians (30 s) would break the 60 s gap, two intervals do not.
        let samples = [0, 10_000, 20_000, 30_000, 40_000, 100_000].map(|x| Sample {
            x,
            p2pool: 1.0,
            xvb: 0.0,
        });
        assert!(chart(&samples, 30_000, 1)
            .p2pool
            .iter()
            .all(|p| p.y.is_some()));
        assert_eq!(
            chart(&samples, 20_000, 1)
                .p2pool
                .iter()
                .filter(|p| p.y.is_none())
                .count(),
            1
        );
    }

    #[test]
    fn a_huge_avg_is_clamped_to_the_window_and_never_overflows() {
        // `avg` × 1000 past `u64::MAX`, and just under it: both are the whole window.
        for avg in [
            "18446744073709551615",
            "18446744073709551",
            "9223372036854775807",
        ] {
            let w = q(&[("avg", avg)]).window(NOW, 0, 30_000);
            assert_eq!(w.bucket_ms, HOUR_MS, "{avg}");
            let c = chart(&every(30_000, 0, 600_000), 30_000, w.bucket_ms);
            assert_eq!(c.p2pool.len(), 20, "{avg}");
        }
        // Past u64 altogether: a bad value, automatic like any other.
        assert_eq!(
            q(&[("avg", "99999999999999999999999")])
                .window(NOW, 0, 30_000)
                .bucket_ms,
            30_000
        );
        // The outage rule's sums saturate whatever the caller passes.
        let far = [0, u64::MAX / 2, u64::MAX].map(|x| Sample {
            x,
            p2pool: 1.0,
            xvb: 0.0,
        });
        assert_eq!(chart(&far, u64::MAX, u64::MAX).p2pool.len(), 3);
        assert_eq!(chart(&far, 1, 1).p2pool.len(), 3);
        // A window of one instant (from = to) still has a bucket of at least 1 ms.
        let one = q(&[("range", "all"), ("avg", "60")]).window(NOW, NOW, 30_000);
        assert_eq!((one.from_ms, one.to_ms, one.bucket_ms), (NOW, NOW, 1));
    }

    #[test]
    fn buckets_average_their_samples() {
        let b = bucket(&every(30_000, 0, 120_000), 60_000);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].x, 15_000);
        assert_eq!(b[1].p2pool, 1.0);
    }
}
