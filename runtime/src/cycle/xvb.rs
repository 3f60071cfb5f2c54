//! The XvB part of a cycle: read p2pool, xmrig-proxy and XvB, step the engine, apply the
//! switch through xmrig-proxy's `/1/config`, and keep what the dashboard shows.

use tokio::time::Instant;

use crate::config::XvbConfig;
use crate::control::xvb::{
    switch, DonorReading, Guard, Mode, XvbDecision, XvbEngine, XvbObservation, XvbSettings,
};
use crate::io::http::Exchange;
use crate::io::{SharedConnector, TlsTrust};
use crate::observe::p2pool::P2poolReading;
use crate::observe::xmrig_proxy::{ProxySummary, XmrigProxyClient};
use crate::observe::xvb::{XvbClient, XvbDonorStats, XvbPublicStats, XvbRoute};
use crate::observe::SetupError;
use crate::view::{XvbSection, XvbSwitch};

/// The clients the engine reads and switches through.
pub struct XvbClients {
    /// xmrig-proxy's API.
    pub proxy: XmrigProxyClient,
    /// XvB's stats, when `XVB_API_URL` is set.
    pub xvb: Option<XvbClient>,
    donor_address: Option<String>,
}

impl XvbClients {
    /// Clients for `config`. Reads `XVB_CA_FILE` when one is set.
    pub fn new(
        config: &XvbConfig,
        connector: SharedConnector,
        exchange: Exchange,
    ) -> Result<Self, SetupError> {
        let xvb = match &config.api_url {
            Some(url) => {
                let trust = match &config.ca_file {
                    Some(path) => TlsTrust::webpki_and_ca_file(path)?,
                    None => TlsTrust::webpki()?,
                };
                let route = XvbRoute {
                    trust,
                    proxy: config.proxy.clone(),
                };
                Some(XvbClient::new(
                    connector.clone(),
                    url,
                    &route,
                    exchange.clone(),
                ))
            }
            None => None,
        };
        Ok(Self {
            proxy: XmrigProxyClient::new(
                connector.clone(),
                &config.proxy_api,
                config.proxy_token.as_deref(),
                exchange.clone(),
            )?,
            xvb,
            donor_address: config.donor_address.clone(),
        })
    }

    /// Reads xmrig-proxy's summary and XvB's stats, concurrently.
    pub async fn observe(&self) -> XvbReadings {
        let summary = async {
            self.proxy
                .summary()
                .await
                .map_err(|e| tracing::debug!(error = %e, "xmrig-proxy gave no summary"))
                .ok()
        };
        let donor = async {
            let (Some(xvb), Some(address)) = (&self.xvb, &self.donor_address) else {
                return None;
            };
            xvb.donor_stats(address)
                .await
                .map_err(|e| tracing::debug!(error = %e, "XvB gave no donor stats"))
                .ok()
        };
        let public = async {
            let xvb = self.xvb.as_ref()?;
            xvb.public_stats()
                .await
                .map_err(|e| tracing::debug!(error = %e, "XvB gave no public stats"))
                .ok()
        };
        let (summary, donor, public) = tokio::join!(summary, donor, public);
        XvbReadings {
            p2pool: None,
            summary,
            donor,
            public,
        }
    }

    /// The donor's address, to tell a raffle win.
    pub fn donor_address(&self) -> Option<&str> {
        self.donor_address.as_deref()
    }
}

/// What one cycle read for the engine.
#[derive(Debug, Clone, Default)]
pub struct XvbReadings {
    /// p2pool's three documents.
    pub p2pool: Option<P2poolReading>,
    /// xmrig-proxy's summary.
    pub summary: Option<ProxySummary>,
    /// XvB's donor stats.
    pub donor: Option<XvbDonorStats>,
    /// XvB's public round stats.
    pub public: Option<XvbPublicStats>,
}

impl XvbReadings {
    /// The engine's view of these readings at wall time `wall_ms`.
    pub fn observation(&self, wall_ms: u64, donor_address: Option<&str>) -> XvbObservation {
        let p2pool = self.p2pool.as_ref();
        // xmrig-proxy's averages: 1 min, 10 min, 1 h, 12 h, 24 h, all; the first is "current".
        let current = self.summary.as_ref().and_then(|s| s.hashrate_hs(0));
        let stable = self.summary.as_ref().and_then(|s| s.hashrate_hs(1));
        let now_s = wall_ms / 1_000;
        XvbObservation {
            current_hs: current.unwrap_or(0.0),
            stable_hs: stable.or(current).unwrap_or(0.0),
            last_share_age: p2pool
                .and_then(|p| p.last_share_found_time)
                .filter(|t| *t > 0)
                .map(|t| std::time::Duration::from_secs(now_s.saturating_sub(t))),
            sidechain_difficulty: p2pool.map_or(0, |p| p.sidechain_difficulty),
            pplns_window_blocks: p2pool.and_then(|p| p.pplns_window_size),
            donor: self.donor.as_ref().map(|d| DonorReading {
                avg_1h_hs: d.avg_1h_hs,
                avg_24h_hs: d.avg_24h_hs,
                fail_count: d.fail_count,
            }),
            raffle_won: self
                .public
                .as_ref()
                .zip(donor_address)
                .is_some_and(|(p, address)| is_winner(&p.winner, address)),
        }
    }
}

/// XvB elides the winner as `abcd...wxyz`.
fn is_winner(elided: &str, address: &str) -> bool {
    match elided.split_once("...") {
        Some((head, tail)) if !head.is_empty() && !tail.is_empty() => {
            address.starts_with(head) && address.ends_with(tail)
        }
        _ => false,
    }
}

/// The engine, what was applied, and the switch bookkeeping.
pub struct XvbDriver {
    engine: XvbEngine,
    config: XvbConfig,
    applied_to_xvb: Option<bool>,
    failures: u64,
    last_switch: Option<XvbSwitch>,
    last: Option<XvbDecision>,
}

impl XvbDriver {
    /// A driver for `config`, seeded with the persisted fraction.
    pub fn new(enabled: bool, config: XvbConfig, persisted: Option<f64>) -> Self {
        let settings = XvbSettings {
            enabled,
            donation_level: config.donation_level,
            side_chain: config.side_chain,
            ..XvbSettings::default()
        };
        Self {
            engine: XvbEngine::new(settings, persisted),
            config,
            applied_to_xvb: None,
            failures: 0,
            last_switch: None,
            last: None,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &XvbEngine {
        &self.engine
    }

    /// When the runtime must wake before its next update tick: the end of the XvB slice in
    /// force, so the switch back to P2Pool is not late by up to a whole update interval.
    pub fn wake_at(&self) -> Option<Instant> {
        self.last
            .filter(|d| d.to_xvb && self.engine.settings().enabled)
            .map(|d| d.next_deadline)
    }

    /// Steps the engine. Pure.
    pub fn decide(&mut self, observation: &XvbObservation, now: Instant) -> XvbDecision {
        let decision = self.engine.step(observation, now);
        self.last = Some(decision);
        decision
    }

    /// Applies `decision` through xmrig-proxy when it differs from what was applied, and only
    /// when `allowed` (workers not rejected, miners not held). A failure changes nothing and is
    /// counted; the next cycle tries again.
    pub async fn apply(
        &mut self,
        proxy: &XmrigProxyClient,
        decision: &XvbDecision,
        allowed: bool,
        wall_ms: u64,
    ) -> Result<(), String> {
        if !allowed || self.applied_to_xvb == Some(decision.to_xvb) {
            return Ok(());
        }
        if !self.engine.settings().enabled {
            return Ok(());
        }
        let to_xvb = decision.to_xvb;
        let (chosen, other) = if to_xvb {
            (&self.config.pool_url, &self.config.p2pool_url)
        } else {
            (&self.config.p2pool_url, &self.config.pool_url)
        };
        let result = async {
            let current = proxy.get_config().await.map_err(|e| e.to_string())?;
            if switch::active_pool(&current) == Some(chosen.as_str()) {
                return Ok(false);
            }
            let next = switch::rewrite_pools(&current, chosen, other).map_err(|e| e.to_string())?;
            proxy.put_config(&next).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(true)
        }
        .await;
        let to = if to_xvb { "xvb" } else { "p2pool" };
        match result {
            Ok(put) => {
                if put {
                    self.last_switch = Some(XvbSwitch {
                        wall_ms,
                        to,
                        ok: true,
                    });
                    tracing::info!(to, "xmrig-proxy switched");
                }
                self.applied_to_xvb = Some(to_xvb);
                Ok(())
            }
            Err(e) => {
                self.failures += 1;
                self.last_switch = Some(XvbSwitch {
                    wall_ms,
                    to,
                    ok: false,
                });
                Err(format!(
                    "switch of xmrig-proxy to {to} failed (retrying next cycle): {e}"
                ))
            }
        }
    }

    /// The dashboard's section, and whether the fleet is too weak for the tier.
    pub fn section(&self) -> (XvbSection, bool) {
        let enabled = self.engine.settings().enabled;
        let donor = self.engine.donor();
        let last = self.last.as_ref();
        let section = XvbSection {
            enabled,
            mode: last.map_or(Mode::P2pool, |d| d.mode).name(),
            pool: match self.applied_to_xvb {
                Some(true) => "xvb",
                Some(false) => "p2pool",
                None => "unknown",
            },
            guard: last.and_then(|d| d.guard).map(Guard::reason),
            current_tier: last.and_then(|d| d.current_tier).map(|t| t.name()),
            target_tier: last.and_then(|d| d.target).map(|t| t.name()),
            fraction: self.engine.fraction().unwrap_or(0.0),
            avg_1h: donor.map(|d| d.avg_1h_hs),
            avg_24h: donor.map(|d| d.avg_24h_hs),
            fail_count: donor.map(|d| d.fail_count),
            last_switch: self.last_switch.clone(),
            switch_failures: self.failures,
            stale: enabled && last.is_some_and(|d| d.stale),
        };
        let low = last.is_some_and(|d| d.hashrate_low);
        (section, low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_winner_is_told_by_its_elided_address() {
        assert!(is_winner("48ab...xyz9", "48abCDEFxyz9"));
        assert!(!is_winner("48ab...xyz9", "49abCDEFxyz9"));
        assert!(!is_winner("", "48ab"));
        assert!(!is_winner("...", "48ab"));
    }
}
