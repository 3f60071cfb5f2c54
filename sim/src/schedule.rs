//! Random fault schedules: everything a seed decides, generated up front with ChaCha8 so a seed
//! always means the same run.
//!
//! A schedule has a configuration (interval, windows, whether Tari is present and required), a
//! *base* timeline per node (the chains syncing, then synced; Tari starting, migrating), outage
//! intervals per node (down, busy, garbage, slow past the deadline, flapping bursts), link faults
//! (partition or hold between the runtime and monerod, Tari or docker), docker refusals and
//! runtime crashes. Outages of one kind never overlap each other, but kinds overlap freely (a
//! partition during a monerod outage during a docker refusal). The last part of the run is quiet,
//! so the end state is checked: released, readmitted, every managed container running.

use std::time::Duration;

use pithead_fakes::monerod::MoneroMode;
use pithead_fakes::tari::TariMode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use pithead_fakes::sinks::{SinkClass, SinkMode};

use crate::world::{mode_name_monero, mode_name_tari, World, WorldBuilder, DOCKER, MONEROD, TARI};

/// Whether generated schedules send alerts to the recording sinks on some seeds (a quarter),
/// with sink outages, checking `alerted-once-per-sink`.
pub const SWARM_ALERTS: bool = true;

/// Monero's chain tip in generated schedules.
pub const MONERO_TIP: u64 = 3_300_000;
/// Tari's chain tip in generated schedules.
pub const TARI_TIP: u64 = 95_000;

/// One scheduled change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set monerod's mode.
    Monero(MoneroMode),
    /// Set Tari's mode.
    Tari(TariMode),
    /// Partition the runtime from a role.
    Partition(&'static str),
    /// Repair a partition.
    Repair(&'static str),
    /// Hold messages between the runtime and a role.
    Hold(&'static str),
    /// Release held messages.
    Release(&'static str),
    /// The docker engine refuses the next N start/stop calls.
    RefuseDocker(u32),
    /// Crash the runtime.
    Crash,
    /// Restart the runtime.
    Restart,
    /// The XvB engine's world: an own p2pool share at this wall time (Unix seconds), a fleet of
    /// 40 kH/s on xmrig-proxy, and a donor just under VIP at XvB.
    XvbFleet(u64),
    /// How the XvB site answers (down, garbage, slow…).
    XvbSite(pithead_fakes::Behaviour),
    /// XvB's fail counter for the donor.
    XvbFailCount(u32),
    /// How an alert sink answers (the world must have alerts).
    Sink(SinkClass, SinkMode),
}

impl Action {
    /// Applies the action to `world`.
    pub fn apply(&self, world: &mut World) {
        match self {
            Action::Monero(mode) => world.set_monero(mode.clone()),
            Action::Tari(mode) => world.set_tari(mode.clone()),
            Action::Partition(role) => world.partition(crate::world::RUNTIME, role),
            Action::Repair(role) => world.repair(crate::world::RUNTIME, role),
            Action::Hold(role) => world.hold(crate::world::RUNTIME, role),
            Action::Release(role) => world.release(crate::world::RUNTIME, role),
            Action::RefuseDocker(n) => world.refuse_docker(*n),
            Action::Crash => world.crash_runtime(),
            Action::Restart => world.restart_runtime(),
            Action::XvbFleet(share_wall_s) => {
                world.p2pool().update(|s| {
                    s.last_share_found_time = *share_wall_s;
                    s.sidechain_difficulty = 0;
                });
                world
                    .xmrig_proxy()
                    .set_hashrate_total(Some([40.0, 40.0, 40.0, 40.0, 40.0, 40.0]));
                world.xvb().update(|s| {
                    s.avg_1h_hs = 9_000.0;
                    s.avg_24h_hs = 9_000.0;
                });
            }
            Action::XvbSite(behaviour) => world.xvb().set_behaviour(behaviour.clone()),
            Action::XvbFailCount(n) => world.xvb().update(|s| s.fail_count = *n),
            Action::Sink(class, mode) => world.set_sink(*class, *mode),
        }
    }

    /// Short description.
    pub fn describe(&self) -> String {
        match self {
            Action::Monero(mode) => format!("monerod {}", mode_name_monero(mode)),
            Action::Tari(mode) => format!("tari {}", mode_name_tari(mode)),
            Action::Partition(role) => format!("partition runtime<->{role}"),
            Action::Repair(role) => format!("repair runtime<->{role}"),
            Action::Hold(role) => format!("hold runtime<->{role}"),
            Action::Release(role) => format!("release runtime<->{role}"),
            Action::RefuseDocker(n) => format!("docker refuses next {n}"),
            Action::Crash => "crash runtime".into(),
            Action::Restart => "restart runtime".into(),
            Action::XvbFleet(_) => "xvb fleet and share".into(),
            Action::XvbSite(b) => format!("xvb site {b:?}"),
            Action::XvbFailCount(n) => format!("xvb fail count {n}"),
            Action::Sink(class, mode) => {
                format!("{class} sink {}", crate::world::sink_mode_name(*mode))
            }
        }
    }
}

/// A seed's whole run, decided up front.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The seed.
    pub seed: u64,
    /// The configuration drawn.
    pub knobs: Knobs,
    /// Runtime environment.
    pub env: Vec<(String, String)>,
    /// monerod's initial mode.
    pub monero: MoneroMode,
    /// Tari's initial mode (`None`: no Tari in the stack).
    pub tari: Option<TariMode>,
    /// Timed actions, in time order.
    pub actions: Vec<(Duration, Action)>,
    /// Alerts go to the recording sinks (and the alert invariant is checked).
    pub alerts: bool,
    /// No fault is active from here on.
    pub quiet_from: Duration,
    /// End of the run.
    pub end: Duration,
}

/// The runtime's XvB settings pointing at the world's fakes.
fn xvb_env() -> Vec<(String, String)> {
    [
        ("XVB_ENABLED", "true".to_owned()),
        ("P2POOL_API", "http://aux:3380".to_owned()),
        ("XMRIG_PROXY_API", "http://aux:3344".to_owned()),
        (
            "PROXY_AUTH_TOKEN",
            crate::fakes::XMRIG_PROXY_TOKEN.to_owned(),
        ),
        ("XVB_API_URL", "http://aux:8088".to_owned()),
        ("XVB_DONOR_ID", "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge".to_owned()),
        ("XVB_POOL_URL", "eu.xmrvsbeast.com:4247".to_owned()),
        ("P2POOL_POOL_URL", "p2pool:3333".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Length of the quiet tail at the end of every run.
pub const QUIET: Duration = Duration::from_secs(20 * 60);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Exponentially distributed duration with the given mean (at least 1 s).
fn expo(rng: &mut ChaCha8Rng, mean: Duration) -> Duration {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    Duration::from_secs_f64((-u.ln() * mean.as_secs_f64()).max(1.0))
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, weighted: &[(u32, T)]) -> T {
    let total: u32 = weighted.iter().map(|w| w.0).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (w, v) in weighted {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    weighted[0].1
}

/// An outage's length: a blip below the down window, around it, or long.
fn outage_len(rng: &mut ChaCha8Rng, down_after: Duration) -> Duration {
    let d = down_after.as_secs().max(2);
    let s = match pick(rng, &[(35, 0u8), (35, 1), (30, 2)]) {
        0 => rng.random_range(3..d / 2 + 2),
        1 => rng.random_range(d / 2..d * 2 + 1),
        _ => rng.random_range(d * 2..d * 2 + 1800),
    };
    secs(s)
}

/// Intervals `[start, end)` of one kind of fault, not overlapping, inside `[0, until)`.
fn intervals(
    rng: &mut ChaCha8Rng,
    until: Duration,
    mean_gap: Duration,
    down_after: Duration,
) -> Vec<(Duration, Duration)> {
    let mut out = Vec::new();
    let mut t = expo(rng, mean_gap);
    while t < until {
        if rng.random_bool(0.15) {
            // A flapping burst: short outages with short gaps (exercises the hysteresis).
            let n = rng.random_range(3..9);
            for _ in 0..n {
                let len = secs(rng.random_range(5..41));
                if t + len >= until {
                    break;
                }
                out.push((t, t + len));
                t += len + secs(rng.random_range(5..61));
            }
        } else {
            let len = outage_len(rng, down_after);
            if t + len >= until {
                break;
            }
            out.push((t, t + len));
            t += len;
        }
        t += expo(rng, mean_gap);
    }
    out
}

/// The effective mode timeline: the base mode, overridden during outages.
fn merge<M: Clone + PartialEq>(
    base: &[(Duration, M)],
    outages: &[(Duration, Duration, M)],
) -> Vec<(Duration, M)> {
    let mut times: Vec<Duration> = base.iter().map(|b| b.0).collect();
    for (s, e, _) in outages {
        times.push(*s);
        times.push(*e);
    }
    times.sort();
    times.dedup();
    let mut out: Vec<(Duration, M)> = Vec::new();
    let mut last: Option<M> = base.first().map(|b| b.1.clone());
    for t in times {
        let outage = outages.iter().find(|(s, e, _)| *s <= t && t < *e);
        let mode = match outage {
            Some((_, _, m)) => m.clone(),
            None => base
                .iter()
                .take_while(|b| b.0 <= t)
                .last()
                .map(|b| b.1.clone())
                .unwrap_or_else(|| base[0].1.clone()),
        };
        if last.as_ref() != Some(&mode) {
            out.push((t, mode.clone()));
            last = Some(mode);
        }
    }
    out.retain(|(t, _)| !t.is_zero());
    out
}

/// The configuration a seed draws: the runtime's windows and whether Tari is in the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// `UPDATE_INTERVAL` in seconds.
    pub interval: u64,
    /// `NODE_DOWN_AFTER_SEC`.
    pub down_after: u64,
    /// `NODE_RECOVERY_AFTER_SEC`.
    pub recovery_after: u64,
    /// `RPC_TIMEOUT_SEC`.
    pub rpc_timeout: u64,
    /// A Tari node is part of the stack.
    pub tari_present: bool,
    /// `TARI_REQUIRED`.
    pub tari_required: bool,
}

impl Knobs {
    /// Draws a configuration.
    pub fn random(rng: &mut ChaCha8Rng) -> Self {
        Self {
            interval: pick(rng, &[(60, 30u64), (20, 10), (20, 60)]),
            down_after: pick(rng, &[(50, 90u64), (20, 60), (20, 120), (10, 300)]),
            recovery_after: pick(rng, &[(50, 60u64), (25, 30), (25, 120)]),
            rpc_timeout: 10,
            tari_present: rng.random_bool(0.75),
            tari_required: rng.random_bool(0.7),
        }
    }

    /// The runtime environment for these knobs.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("UPDATE_INTERVAL".to_owned(), self.interval.to_string()),
            (
                "NODE_DOWN_AFTER_SEC".to_owned(),
                self.down_after.to_string(),
            ),
            (
                "NODE_RECOVERY_AFTER_SEC".to_owned(),
                self.recovery_after.to_string(),
            ),
            ("RPC_TIMEOUT_SEC".to_owned(), self.rpc_timeout.to_string()),
        ];
        if self.tari_present {
            env.push(("TARI_REQUIRED".to_owned(), self.tari_required.to_string()));
        }
        env
    }
}

impl Schedule {
    /// The schedule of `seed` for a run of `hours` simulated hours (at least 40 minutes): the
    /// chains usually start syncing.
    pub fn generate(seed: u64, hours: f64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let knobs = Knobs::random(&mut rng);
        Self::with_knobs(seed, &mut rng, hours, &knobs, true)
    }

    /// One day of a soak run: the chains are synced, faults as in [`Self::generate`], with the
    /// soak's fixed `knobs`; times are relative to the start of the day.
    pub fn soak_day(seed: u64, day: u64, knobs: &Knobs) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ day.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Self::with_knobs(seed, &mut rng, 24.0, knobs, false)
    }

    fn with_knobs(
        seed: u64,
        rng: &mut ChaCha8Rng,
        hours: f64,
        knobs: &Knobs,
        may_sync: bool,
    ) -> Self {
        let end = Duration::from_secs_f64((hours.max(0.0) * 3600.0).max(2400.0));
        let quiet_from = end - QUIET;
        let env = knobs.env();
        let rpc_timeout = knobs.rpc_timeout;
        let tari_present = knobs.tari_present;
        let down_after = secs(knobs.down_after);
        let sync_by = quiet_from.mul_f64(0.5).max(secs(240));

        // monerod: sync, then synced; now and then a short re-sync after the release.
        let mut monero_base: Vec<(Duration, MoneroMode)> = Vec::new();
        if may_sync && rng.random_bool(0.8) {
            let h0 = MONERO_TIP - rng.random_range(2_000..400_000);
            let done = secs(rng.random_range(180..sync_by.as_secs().max(181)));
            monero_base.push((
                Duration::ZERO,
                MoneroMode::Syncing {
                    height: h0,
                    target: MONERO_TIP,
                },
            ));
            let mut t = secs(rng.random_range(300..900));
            while t < done {
                let frac = t.as_secs_f64() / done.as_secs_f64();
                // Heights are whole blocks; the fraction is in [0, 1).
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let height = h0 + ((MONERO_TIP - h0) as f64 * frac) as u64;
                monero_base.push((
                    t,
                    MoneroMode::Syncing {
                        height,
                        target: MONERO_TIP,
                    },
                ));
                t += secs(rng.random_range(300..900));
            }
            monero_base.push((done, MoneroMode::Synced { height: MONERO_TIP }));
        } else {
            monero_base.push((Duration::ZERO, MoneroMode::Synced { height: MONERO_TIP }));
        }
        if rng.random_bool(0.1) {
            let from = sync_by.as_secs();
            let at = secs(rng.random_range(from..quiet_from.as_secs().max(from + 1)));
            let len = secs(rng.random_range(60..900));
            if at + len < quiet_from {
                monero_base.push((
                    at,
                    MoneroMode::Syncing {
                        height: MONERO_TIP + 10,
                        target: MONERO_TIP + 60,
                    },
                ));
                monero_base.push((
                    at + len,
                    MoneroMode::Synced {
                        height: MONERO_TIP + 60,
                    },
                ));
            }
        }
        let monero_outages: Vec<(Duration, Duration, MoneroMode)> =
            intervals(rng, quiet_from, secs(45 * 60), down_after)
                .into_iter()
                .map(|(s, e)| {
                    let mode = match pick(rng, &[(40, 0u8), (20, 1), (15, 2), (15, 3), (10, 4)]) {
                        0 => MoneroMode::Down,
                        1 => MoneroMode::Busy,
                        2 => MoneroMode::Garbage,
                        3 => MoneroMode::Slow {
                            secs: rpc_timeout * 3,
                        },
                        _ => MoneroMode::Slow { secs: 1 },
                    };
                    (s, e, mode)
                })
                .collect();

        // Tari: starting, syncing, synced; occasional migrations after.
        let mut tari_base: Vec<(Duration, TariMode)> = Vec::new();
        let mut tari_outages: Vec<(Duration, Duration, TariMode)> = Vec::new();
        if tari_present {
            if may_sync && rng.random_bool(0.7) {
                let l0 = TARI_TIP - rng.random_range(1_000..60_000);
                let started = secs(rng.random_range(30..300));
                let first = started.as_secs() + 60;
                let done = secs(rng.random_range(first..sync_by.as_secs().max(first + 1)));
                tari_base.push((Duration::ZERO, TariMode::Starting));
                tari_base.push((
                    started,
                    TariMode::Syncing {
                        local: l0,
                        tip: TARI_TIP,
                    },
                ));
                let mid = started + (done - started) / 2;
                tari_base.push((
                    mid,
                    TariMode::Syncing {
                        local: l0 + (TARI_TIP - l0) / 2,
                        tip: TARI_TIP,
                    },
                ));
                tari_base.push((done, TariMode::Synced { height: TARI_TIP }));
            } else {
                tari_base.push((Duration::ZERO, TariMode::Synced { height: TARI_TIP }));
            }
            let mut t = sync_by;
            loop {
                t += expo(rng, secs(5 * 3600));
                let len = secs(rng.random_range(60..900));
                if t + len >= quiet_from {
                    break;
                }
                let mode = if rng.random_bool(0.5) {
                    TariMode::Migrating
                } else {
                    TariMode::Starting
                };
                tari_base.push((t, mode));
                tari_base.push((t + len, TariMode::Synced { height: TARI_TIP }));
                t += len;
            }
            tari_outages = intervals(rng, quiet_from, secs(60 * 60), down_after)
                .into_iter()
                .map(|(s, e)| {
                    let mode = if rng.random_bool(0.75) {
                        TariMode::Down
                    } else {
                        TariMode::Slow {
                            secs: rpc_timeout * 3,
                        }
                    };
                    (s, e, mode)
                })
                .collect();
        }

        let mut actions: Vec<(Duration, Action)> = Vec::new();
        for (t, mode) in merge(&monero_base, &monero_outages) {
            actions.push((t, Action::Monero(mode)));
        }
        if tari_present {
            for (t, mode) in merge(&tari_base, &tari_outages) {
                actions.push((t, Action::Tari(mode)));
            }
        }

        // Link faults between the runtime and each server.
        let mut roles = vec![MONEROD, DOCKER];
        if tari_present {
            roles.push(TARI);
        }
        for role in roles {
            for (s, e) in intervals(rng, quiet_from, secs(2 * 3600), down_after) {
                if rng.random_bool(0.5) {
                    actions.push((s, Action::Partition(role)));
                    actions.push((e, Action::Repair(role)));
                } else {
                    actions.push((s, Action::Hold(role)));
                    actions.push((e, Action::Release(role)));
                }
            }
        }

        // Docker refusals.
        let mut t = expo(rng, secs(90 * 60));
        while t < quiet_from {
            actions.push((t, Action::RefuseDocker(rng.random_range(1..5))));
            t += expo(rng, secs(90 * 60));
        }

        // Runtime crashes.
        let mut t = expo(rng, secs(4 * 3600));
        while t < quiet_from {
            let down = secs(rng.random_range(1..600));
            if t + down >= quiet_from {
                break;
            }
            actions.push((t, Action::Crash));
            actions.push((t + down, Action::Restart));
            t += down + expo(rng, secs(4 * 3600));
        }

        // The XvB engine, on half the seeds: drawn from its own stream so the other faults of
        // a seed stay what they were before the engine existed.
        let mut env = env;
        let mut xvb_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5856_4200_0000_0016);
        if xvb_rng.random_bool(0.5) {
            env.extend(xvb_env());
            let mut t = Duration::ZERO;
            while t < end {
                let wall = crate::world::DEFAULT_EPOCH + t;
                actions.push((t, Action::XvbFleet(wall.as_secs())));
                t += secs(2 * 3600);
            }
            let mut t = expo(&mut xvb_rng, secs(60 * 60));
            while t < quiet_from {
                let len = secs(xvb_rng.random_range(60..2_400));
                if t + len >= quiet_from {
                    break;
                }
                let fault = if xvb_rng.random_bool(0.7) {
                    (
                        Action::XvbSite(pithead_fakes::Behaviour::Down),
                        Action::XvbSite(pithead_fakes::Behaviour::Normal),
                    )
                } else {
                    (Action::XvbFailCount(3), Action::XvbFailCount(0))
                };
                actions.push((t, fault.0));
                actions.push((t + len, fault.1));
                t += len + expo(&mut xvb_rng, secs(60 * 60));
            }
        }

        // Alerts, on a quarter of the seeds once the runtime sends them: their own stream
        // again. Each sink is down at most once, for at most `MAX_SINK_OUTAGE`, so every
        // node-down alert must still arrive within the retry bound.
        let mut alerts_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x414c_4552_5453_0018);
        let alerts = SWARM_ALERTS && alerts_rng.random_bool(0.25);
        if alerts {
            for class in crate::alerts::ALERT_SINKS {
                if !alerts_rng.random_bool(0.5) {
                    continue;
                }
                let max = crate::alerts::MAX_SINK_OUTAGE.as_secs();
                let len = secs(alerts_rng.random_range(60..=max));
                let latest = quiet_from.saturating_sub(len).as_secs().max(61);
                let at = secs(alerts_rng.random_range(60..latest));
                let mode = match alerts_rng.random_range(0..3) {
                    0 => SinkMode::UNAVAILABLE,
                    1 => SinkMode::Closed,
                    _ => SinkMode::Hang,
                };
                actions.push((at, Action::Sink(class, mode)));
                actions.push((at + len, Action::Sink(class, SinkMode::Up)));
            }
        }

        // Stable order: by time, then by generation order (sort is stable).
        actions.sort_by_key(|a| a.0);

        let monero = monero_base[0].1.clone();
        let tari = tari_present.then(|| tari_base[0].1.clone());
        Self {
            seed,
            knobs: knobs.clone(),
            env,
            monero,
            tari,
            actions,
            alerts,
            quiet_from,
            end,
        }
    }

    /// A world configured as this schedule says (not yet run).
    pub fn builder(&self) -> WorldBuilder {
        let mut b = WorldBuilder::new(self.seed)
            .monero(self.monero.clone())
            .tari(self.tari.clone())
            .alerts(self.alerts);
        for (k, v) in &self.env {
            b = b.env(k, v);
        }
        b
    }

    /// Number of fault actions (everything but sync progress).
    pub fn fault_count(&self) -> usize {
        self.actions
            .iter()
            .filter(|(_, a)| {
                !matches!(
                    a,
                    Action::Monero(MoneroMode::Syncing { .. } | MoneroMode::Synced { .. })
                        | Action::Tari(TariMode::Syncing { .. } | TariMode::Synced { .. })
                        | Action::XvbFleet(_)
                )
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_means_the_same_schedule() {
        let a = Schedule::generate(42, 6.0);
        let b = Schedule::generate(42, 6.0);
        assert_eq!(a.actions, b.actions);
        assert_eq!(a.env, b.env);
        let c = Schedule::generate(43, 6.0);
        assert_ne!(a.actions, c.actions);
    }

    #[test]
    fn faults_end_before_the_quiet_tail_and_actions_are_ordered() {
        for seed in 0..50 {
            let s = Schedule::generate(seed, 4.0);
            assert!(
                s.actions.windows(2).all(|w| w[0].0 <= w[1].0),
                "seed {seed}"
            );
            assert!(
                s.actions.iter().all(|(t, _)| *t < s.quiet_from),
                "seed {seed}"
            );
            // Every partition is repaired, every hold released, every crash restarted.
            for (open, close) in [
                (Action::Crash, Action::Restart),
                (Action::Partition(MONEROD), Action::Repair(MONEROD)),
                (Action::Hold(DOCKER), Action::Release(DOCKER)),
            ] {
                let opened = s.actions.iter().filter(|a| a.1 == open).count();
                let closed = s.actions.iter().filter(|a| a.1 == close).count();
                assert_eq!(opened, closed, "seed {seed}: {open:?}");
            }
            // The chains end synced.
            let last_monero = s
                .actions
                .iter()
                .rev()
                .find_map(|(_, a)| match a {
                    Action::Monero(m) => Some(m.clone()),
                    _ => None,
                })
                .unwrap_or(s.monero.clone());
            assert!(
                matches!(last_monero, MoneroMode::Synced { .. }),
                "seed {seed}: {last_monero:?}"
            );
        }
    }

    #[test]
    fn outages_override_the_base_and_restore_it() {
        let base = vec![(secs(0), 'a'), (secs(100), 'b')];
        let outages = vec![(secs(50), secs(150), 'x')];
        assert_eq!(merge(&base, &outages), [(secs(50), 'x'), (secs(150), 'b')]);
    }
}
