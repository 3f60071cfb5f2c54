//! What the box's own tools print, read for the dashboard checks (sections F and H): `df -P`,
//! `/proc/cpuinfo`, p2pool's `local/stratum`, monerod's `get_info`, and what `/api/state` must
//! then show. Pure: the catalog's live tier runs the commands, these read and judge their text.

use pithead_runtime::observe::system::disk_percent;
use pithead_runtime::view::system::{DISK_BAD_PERCENT, DISK_WARN_PERCENT};
use serde_json::Value;

/// The data disk's use as the runtime computes it (used = total − available, so the root
/// reserve counts as used), from `df -P`'s line for the path (1024-byte blocks).
pub fn df_percent(df: &str) -> Option<f64> {
    let line = df.lines().nth(1)?;
    let columns: Vec<&str> = line.split_whitespace().collect();
    // Filesystem, 1024-blocks, Used, Available, Capacity, Mounted on.
    let total: u64 = columns.get(1)?.parse().ok()?;
    let available: u64 = columns.get(3)?.parse().ok()?;
    disk_percent(total.saturating_mul(1024), available.saturating_mul(1024))
}

/// The disk badge `/api/state` shows for `percent` (`None`: no badge), as `(text, variant)`.
pub fn disk_badge(percent: f64) -> Option<(String, &'static str)> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = percent.clamp(0.0, 100.0).floor() as u64;
    let variant = if whole >= DISK_BAD_PERCENT {
        "bad"
    } else if whole >= DISK_WARN_PERCENT {
        "warn"
    } else {
        return None;
    };
    Some((format!("Disk {whole}% full"), variant))
}

/// Whether `/proc/cpuinfo` lists the CPU flag `flag` (on every processor's `flags` line that
/// it has; `None` when there is no `flags` line, as on some ARM kernels).
pub fn cpu_has(cpuinfo: &str, flag: &str) -> Option<bool> {
    let mut lines = cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(key, _)| key.trim() == "flags")
        .map(|(_, flags)| flags.split_whitespace().any(|f| f == flag))
        .peekable();
    lines.peek()?;
    Some(lines.all(|has| has))
}

/// p2pool's `shares_found` in its `local/stratum` document.
pub fn shares_found(stratum: &str) -> Option<u64> {
    serde_json::from_str::<Value>(stratum)
        .ok()?
        .get("shares_found")?
        .as_u64()
}

/// monerod's chain height in a `get_info` answer (plain or JSON-RPC).
pub fn monerod_height(get_info: &str) -> Option<u64> {
    let answer: Value = serde_json::from_str(get_info).ok()?;
    let info = answer.get("result").unwrap_or(&answer);
    info.get("height")?.as_u64()
}

/// curl's config (read from its standard input with `-K -`) logging in to monerod's RPC
/// with digest auth: the login never reaches argv. Empty without a login.
pub fn curl_login(user: &str, password: &str) -> String {
    if user.is_empty() {
        return String::new();
    }
    let quoted = format!("{user}:{password}")
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("user = \"{quoted}\"\ndigest\n")
}

/// The disk badges `/api/state` may show for a percent it rounded to a tenth: the runtime
/// judges the unrounded figure, which may sit either side of a threshold the rounding crossed.
pub fn disk_badges_for(shown: f64) -> [Option<(String, &'static str)>; 2] {
    [disk_badge(shown - 0.05), disk_badge(shown + 0.049)]
}

/// The texts of `/api/state`'s badges.
pub fn badge_texts(state: &Value) -> Vec<String> {
    state
        .get("badges")
        .and_then(Value::as_array)
        .map(|badges| {
            badges
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The mode `/api/state` must report for a node: `Unknown` for a remote one.
pub fn expected_mode(local: bool, prune: &str) -> &'static str {
    match (local, prune) {
        (false, _) => "Unknown",
        (true, "1" | "true") => "Pruned",
        (true, _) => "Full",
    }
}

/// Where `/api/state`'s workers disagree with themselves: `proxy_workers` is the online rows
/// (when every worker is listed) and `hashrate` the sum of their 15-minute figures.
pub fn workers_disagree(state: &Value) -> Option<String> {
    let rows = state.get("workers").and_then(Value::as_array)?;
    let total = state.get("workers_total").and_then(Value::as_u64)?;
    let online = state.get("proxy_workers").and_then(Value::as_u64)?;
    let hashrate = state.get("hashrate").and_then(Value::as_f64)?;
    let listed_online = rows
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_str) == Some("online"))
        .count() as u64;
    let sum: f64 = rows
        .iter()
        .filter_map(|r| r.get("h15").and_then(Value::as_f64))
        .sum();
    let complete = rows.len() as u64 == total;
    if complete && listed_online != online {
        return Some(format!(
            "proxy_workers {online} but {listed_online} rows online"
        ));
    }
    if complete && (sum - hashrate).abs() > 1.0 {
        return Some(format!("hashrate {hashrate} but the rows sum to {sum}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn df_is_read_as_the_runtime_reads_the_disk() {
        let header = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n";
        for (line, want) in [
            ("/dev/sda1 1000 250 750 25% /", Some(25.0)),
            // The reserve counts as used: 1000 − 700 = 300.
            ("/dev/sda1 1000 250 700 27% /", Some(30.0)),
            ("/dev/sda1 0 0 0 - /", None),
            ("/dev/sda1 lots 250 750 25% /", None),
        ] {
            let seen = df_percent(&format!("{header}{line}\n"));
            assert_eq!(seen.map(|p| p.round()), want, "{line}");
        }
        assert_eq!(df_percent(header), None);
    }

    #[test]
    fn the_disk_badge_starts_at_the_runtime_thresholds() {
        for (percent, want) in [
            (50.0, None),
            (84.9, None),
            (85.0, Some(("Disk 85% full", "warn"))),
            (94.99, Some(("Disk 94% full", "warn"))),
            (95.0, Some(("Disk 95% full", "bad"))),
        ] {
            let seen = disk_badge(percent);
            assert_eq!(
                seen.as_ref().map(|(t, v)| (t.as_str(), *v)),
                want,
                "{percent}"
            );
        }
    }

    #[test]
    fn avx2_must_be_on_every_processor() {
        let with = "processor\t: 0\nflags\t\t: fpu sse avx avx2 aes\n";
        let without = "processor\t: 1\nflags\t\t: fpu sse avx aes\n";
        assert_eq!(cpu_has(with, "avx2"), Some(true));
        assert_eq!(cpu_has(without, "avx2"), Some(false));
        assert_eq!(cpu_has(&format!("{with}\n{without}"), "avx2"), Some(false));
        assert_eq!(cpu_has(with, "avx"), Some(true));
        assert_eq!(
            cpu_has("processor\t: 0\nFeatures\t: fp asimd\n", "avx2"),
            None
        );
    }

    #[test]
    fn shares_and_heights_are_read_from_the_daemons_documents() {
        assert_eq!(
            shares_found(r#"{"hashrate_15m":900,"shares_found":3}"#),
            Some(3)
        );
        assert_eq!(shares_found(r#"{"hashrate_15m":900}"#), None);
        assert_eq!(shares_found("not json"), None);
        assert_eq!(
            monerod_height(r#"{"height":3100000,"status":"OK"}"#),
            Some(3_100_000)
        );
        assert_eq!(
            monerod_height(r#"{"jsonrpc":"2.0","result":{"height":42}}"#),
            Some(42)
        );
        assert_eq!(monerod_height("<html>401</html>"), None);
    }

    #[test]
    fn the_login_goes_to_curl_quoted_and_only_when_set() {
        assert_eq!(curl_login("", "pw"), "");
        assert_eq!(
            curl_login("rpc", "s3cr3t"),
            "user = \"rpc:s3cr3t\"\ndigest\n"
        );
        assert_eq!(
            curl_login("rpc", r#"a"b\c"#),
            "user = \"rpc:a\\\"b\\\\c\"\ndigest\n"
        );
    }

    #[test]
    fn a_rounded_disk_figure_allows_the_badge_either_side() {
        let [low, high] = disk_badges_for(85.0);
        assert_eq!(low, None);
        assert_eq!(high.map(|(t, _)| t), Some("Disk 85% full".to_owned()));
        let [low, high] = disk_badges_for(50.0);
        assert_eq!((low, high), (None, None));
    }

    #[test]
    fn the_mode_follows_the_node_and_the_flag() {
        assert_eq!(expected_mode(true, "1"), "Pruned");
        assert_eq!(expected_mode(true, "0"), "Full");
        assert_eq!(expected_mode(false, "1"), "Unknown");
    }

    #[test]
    fn workers_must_agree_with_their_rows() {
        let row = |status: &str, h15: f64| json!({"name": "w", "status": status, "h15": h15});
        let state = |rows: Vec<Value>, total: u64, online: u64, hashrate: f64| json!({"workers": rows, "workers_total": total, "proxy_workers": online, "hashrate": hashrate});
        let good = state(vec![row("online", 500.0), row("offline", 0.0)], 2, 1, 500.0);
        assert_eq!(workers_disagree(&good), None);
        let miscounted = state(vec![row("online", 500.0)], 1, 2, 500.0);
        assert!(workers_disagree(&miscounted).is_some());
        let missummed = state(vec![row("online", 500.0)], 1, 1, 900.0);
        assert!(workers_disagree(&missummed).is_some());
        // A cut list cannot be summed: only a complete one is judged.
        let cut = state(vec![row("online", 500.0)], 150, 120, 90_000.0);
        assert_eq!(workers_disagree(&cut), None);
        assert_eq!(
            badge_texts(&json!({"badges": [{"text": "XMR Pruned"}]})),
            ["XMR Pruned"]
        );
    }
}
