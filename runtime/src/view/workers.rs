//! xmrig-proxy's workers as the dashboard shows them. Pure.
//!
//! The list is bounded: at most [`WORKERS_SHOWN`] rows, online first then by 1-hour hashrate,
//! so a proxy with 10,000 workers cannot make the document unbounded; `workers_total` and
//! `proxy_workers` still count every row.

use std::cmp::Ordering;

use super::document::WorkerRow;
use crate::observe::xmrig_proxy::ProxyWorker;

/// Most worker rows `/api/state` carries.
pub const WORKERS_SHOWN: usize = 100;

/// The rows, the online count and the fleet's hashrate (H/s) of xmrig-proxy's list, with
/// online workers attributed to `pool` (`p2pool`, `xvb` or `unknown`).
pub struct Workers {
    /// At most [`WORKERS_SHOWN`] rows.
    pub rows: Vec<WorkerRow>,
    /// Every row of the list.
    pub total: u64,
    /// Rows online.
    pub online: u64,
    /// Sum of the 15-minute figures, H/s.
    pub hashrate: f64,
}

fn khs(row: &ProxyWorker, index: usize) -> f64 {
    row.hashrate_khs
        .get(index)
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(0.0)
        * 1000.0
}

/// Renders `list`.
pub fn workers(list: &[ProxyWorker], pool: &'static str) -> Workers {
    let mut rows: Vec<WorkerRow> = list
        .iter()
        .map(|w| {
            let online = w.connections > 0;
            WorkerRow {
                name: w.name.clone(),
                status: if online { "online" } else { "offline" },
                pool: if online { pool } else { "unknown" },
                // xmrig-proxy's windows: 1 m, 10 m, 1 h, 12 h, 24 h.
                h15: khs(w, 1),
                h60: khs(w, 2),
                accepted: w.accepted,
                rejected: w.rejected,
            }
        })
        .collect();
    let online = rows.iter().filter(|r| r.status == "online").count() as u64;
    let hashrate = rows
        .iter()
        .filter(|r| r.status == "online")
        .map(|r| r.h15)
        // `sum` of no floats is -0.0; the document shows 0.
        .fold(0.0, |a, b| a + b);
    rows.sort_by(|a, b| {
        (b.status == "online")
            .cmp(&(a.status == "online"))
            .then(b.h60.partial_cmp(&a.h60).unwrap_or(Ordering::Equal))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(WORKERS_SHOWN);
    Workers {
        rows,
        total: list.len() as u64,
        online,
        hashrate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(name: &str, connections: u64, khs: f64) -> ProxyWorker {
        ProxyWorker {
            name: name.to_owned(),
            ip: "192.168.1.5".to_owned(),
            connections,
            accepted: 10,
            rejected: 1,
            invalid: 0,
            hashes: 0,
            last_share_ms: 0,
            hashrate_khs: vec![khs, khs, khs * 2.0, khs, khs],
        }
    }

    #[test]
    fn online_workers_carry_the_pool_and_count_offline_ones_do_not() {
        let w = workers(&[worker("quiet", 0, 0.0), worker("rig1", 1, 5.0)], "p2pool");
        assert_eq!(w.online, 1);
        assert_eq!(w.total, 2);
        assert_eq!(w.rows[0].name, "rig1");
        assert_eq!((w.rows[0].status, w.rows[0].pool), ("online", "p2pool"));
        assert_eq!((w.rows[0].h15, w.rows[0].h60), (5000.0, 10000.0));
        assert_eq!((w.rows[1].status, w.rows[1].pool), ("offline", "unknown"));
        assert_eq!(w.hashrate, 5000.0);
    }

    #[test]
    fn the_list_is_bounded_and_keeps_the_strongest_online_rows() {
        let list: Vec<_> = (0..10_000)
            .map(|i| worker(&format!("rig{i}"), u64::from(i % 2 == 0), f64::from(i)))
            .collect();
        let w = workers(&list, "xvb");
        assert_eq!(w.rows.len(), WORKERS_SHOWN);
        assert_eq!((w.total, w.online), (10_000, 5_000));
        assert_eq!(w.rows[0].name, "rig9998");
        assert!(w.rows.iter().all(|r| r.status == "online"));
    }
}
