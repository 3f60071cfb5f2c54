//! Fake XMRvsBeast (XvB) bonus-raffle site: the donor statistics the XvB engine steers on.
//!
//! Three views of the same donor numbers, as the real site serves them:
//! - `GET /cgi-bin/p2pool_bonus_history.cgi?address=<wallet>`: the HTML history page the
//!   reference stack scrapes (`Fail Count: N`, `1hr avg: X kH/s`, `24hr avg: Y kH/s`). An
//!   unregistered address gets a page without those lines.
//! - `GET /cgi-bin/p2pool_bonus_history_api.cgi?address=<wallet>` (and the
//!   `p2pool_bonus_history_gupaxx_api.cgi` twin): JSON `{"address","fails","donor_1hr_avg",
//!   "donor_24hr_avg"}` with the averages in kH/s; an unregistered address gets `422` with
//!   `ERROR: address not registered`.
//! - `GET /p2pool/stats`: the public round statistics (`winner`, `round_type`, `players`,
//!   `donate_hr`, `time_remain`, …).
//!
//! Hashrates are kept in H/s here and rendered in kH/s on the wire. The [`Behaviour`] applies to
//! every route.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    behaviour::{self, Behaviour},
    control::{self, ControlSpec},
    sync::lock,
};

/// Everything the fake XvB site reports; the `POST /control` body is any subset of these fields,
/// e.g. `{"avg_1h_hs":1200,"avg_24h_hs":1100,"fail_count":0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XvbState {
    /// Whether the donor's address is registered (unregistered: `422` / no stats on the page).
    pub registered: bool,
    /// XvB's 1-hour average of the donor's hashrate, H/s.
    pub avg_1h_hs: f64,
    /// XvB's 24-hour average of the donor's hashrate, H/s.
    pub avg_24h_hs: f64,
    /// XvB's failure counter for the donor (the engine stops donating at 3).
    pub fail_count: u32,
    /// Current round winner as the public stats show it (empty: none yet).
    pub winner: String,
    /// Current round type: `donor`, `donor_vip`, `donor_whale`, `donor_mega`.
    pub round_type: String,
    /// Minutes left in the current round.
    pub time_remain_min: i32,
    /// How every route misbehaves.
    pub behaviour: Behaviour,
}

impl Default for XvbState {
    /// A registered donor with no donation yet and no failures.
    fn default() -> Self {
        Self {
            registered: true,
            avg_1h_hs: 0.0,
            avg_24h_hs: 0.0,
            fail_count: 0,
            winner: String::new(),
            round_type: "donor".to_owned(),
            time_remain_min: 60,
            behaviour: Behaviour::Normal,
        }
    }
}

/// Handle to a fake XvB site. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeXvb {
    state: Arc<Mutex<XvbState>>,
    requests: Arc<AtomicU64>,
}

impl Default for FakeXvb {
    fn default() -> Self {
        Self::new()
    }
}

const SPEC: ControlSpec = ControlSpec {
    fake: "xvb",
    example: r#"{"avg_1h_hs":1200,"avg_24h_hs":1100,"fail_count":0}"#,
};

#[derive(Debug, Deserialize)]
struct AddressQuery {
    address: Option<String>,
}

/// H/s → kH/s, to the nearest H/s.
fn khs(hs: f64) -> f64 {
    hs.round() / 1000.0
}

impl FakeXvb {
    /// A fake with [`XvbState::default`].
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(XvbState::default())),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Set the donor's 1 h and 24 h averages (H/s) and XvB's failure counter.
    pub fn set_donor(&self, avg_1h_hs: f64, avg_24h_hs: f64, fail_count: u32) {
        let mut st = lock(&self.state);
        st.avg_1h_hs = avg_1h_hs;
        st.avg_24h_hs = avg_24h_hs;
        st.fail_count = fail_count;
    }

    /// Register or unregister the donor's address.
    pub fn set_registered(&self, registered: bool) {
        lock(&self.state).registered = registered;
    }

    /// Set the public stats' round winner (empty: none).
    pub fn set_winner(&self, winner: &str) {
        lock(&self.state).winner = winner.to_owned();
    }

    /// Change how every route misbehaves.
    pub fn set_behaviour(&self, b: Behaviour) {
        lock(&self.state).behaviour = b;
    }

    /// Change the state in place.
    pub fn update(&self, f: impl FnOnce(&mut XvbState)) {
        f(&mut lock(&self.state));
    }

    /// A copy of the current state.
    pub fn state(&self) -> XvbState {
        lock(&self.state).clone()
    }

    /// How many requests reached the site (any route, any behaviour).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The site's routes, honouring the behaviour.
    pub fn wire_router(&self) -> Router {
        let routes = Router::new()
            .route("/cgi-bin/p2pool_bonus_history.cgi", get(history_page))
            .route("/cgi-bin/p2pool_bonus_history_api.cgi", get(history_api))
            .route(
                "/cgi-bin/p2pool_bonus_history_gupaxx_api.cgi",
                get(history_api),
            )
            .route("/p2pool/stats", get(public_stats))
            .with_state(self.clone());
        let fake = self.clone();
        let routes = behaviour::wrap(routes, move || lock(&fake.state).behaviour.clone());
        let counter = Arc::clone(&self.requests);
        routes.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                counter.fetch_add(1, Ordering::Relaxed);
                next.run(req)
            },
        ))
    }

    /// `POST /control` (any subset of [`XvbState`]'s fields) and `GET /control` (the state).
    pub fn control_router(&self) -> Router {
        let apply_fake = self.clone();
        let view_fake = self.clone();
        control::router(
            move |body| {
                let mut st = lock(&apply_fake.state);
                *st = SPEC.merge_patch(&*st, body)?;
                Ok(())
            },
            move || {
                let mut v = serde_json::to_value(view_fake.state()).unwrap_or_else(|_| json!({}));
                if let Value::Object(m) = &mut v {
                    m.insert("requests".into(), json!(view_fake.requests()));
                }
                v
            },
        )
    }

    /// Site routes plus the control API on one port.
    pub fn router(&self) -> Router {
        self.wire_router().merge(self.control_router())
    }
}

/// Keep only characters a Monero address can hold, so the page never echoes markup.
fn clean_address(a: Option<String>) -> String {
    a.unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(106)
        .collect()
}

async fn history_page(State(fake): State<FakeXvb>, Query(q): Query<AddressQuery>) -> Response {
    let st = fake.state();
    let address = clean_address(q.address);
    let body = if st.registered && !address.is_empty() {
        format!(
            "<html><head><title>XMRvsBeast P2Pool Bonus History</title></head><body>\n\
             <h2>Bonus Hash Rate Raffle History</h2>\n\
             <p>Address: {address}</p>\n\
             <p>Fail Count: {}</p>\n\
             <p>1hr avg: {:.3} kH/s</p>\n\
             <p>24hr avg: {:.3} kH/s</p>\n\
             <table><tr><th>Round</th><th>Type</th></tr></table>\n\
             </body></html>\n",
            st.fail_count,
            khs(st.avg_1h_hs),
            khs(st.avg_24h_hs),
        )
    } else {
        "<html><head><title>XMRvsBeast P2Pool Bonus History</title></head><body>\n\
         <p>ERROR: address not registered</p>\n</body></html>\n"
            .to_owned()
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn history_api(State(fake): State<FakeXvb>, Query(q): Query<AddressQuery>) -> Response {
    let st = fake.state();
    let address = clean_address(q.address);
    if !st.registered || address.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ERROR: address not registered\n",
        )
            .into_response();
    }
    Json(json!({
        "address": address,
        "fails": st.fail_count,
        "donor_1hr_avg": khs(st.avg_1h_hs),
        "donor_24hr_avg": khs(st.avg_24h_hs),
    }))
    .into_response()
}

async fn public_stats(State(fake): State<FakeXvb>) -> Response {
    let st = fake.state();
    Json(json!({
        "time_remain": st.time_remain_min,
        "bonus_hr": 250.0,
        "donate_hr": 120_000.0,
        "donate_miners": 40,
        "donate_workers": 90,
        "players": 300,
        "players_round": 120,
        "winner": st.winner,
        "share_effort": "52%",
        "block_reward": "0.6",
        "round_type": st.round_type,
        "block_height": "3300000",
        "block_hash": "0".repeat(64),
        "roll_winner": "17",
        "roll_round": "240",
        "reward_yearly": [0.0, 0.0, 0.0, 0.0],
    }))
    .into_response()
}

/// A donor as XvB accounts for it: what was actually sent to the XvB pool, credited at
/// `credit` (< 1: XvB counts less than was sent — share luck, switch losses), and reported with
/// `lag` (XvB's averages trail what happened). The simulation feeds it the seconds the miners
/// spent on XvB and sets the fake's `avg_1h_hs` / `avg_24h_hs` from it, so the engine's loop is
/// closed on a donor that does not simply echo the fraction it commanded.
#[derive(Debug, Clone)]
pub struct DonorModel {
    credit: f64,
    lag_s: u64,
    /// Running total of credited hashes after each second, oldest first, at most a day plus
    /// the lag (running totals make every average O(1)).
    totals: std::collections::VecDeque<f64>,
    /// The running total before the oldest kept second.
    dropped: f64,
}

impl DonorModel {
    /// A donor credited at `credit` (clamped to `[0, 1]`) and reported `lag_s` seconds late.
    pub fn new(credit: f64, lag_s: u64) -> Self {
        Self {
            credit: credit.clamp(0.0, 1.0),
            lag_s,
            totals: std::collections::VecDeque::new(),
            dropped: 0.0,
        }
    }

    /// `secs` seconds in which `sent_hs` H/s went to the XvB pool (0 while on P2Pool).
    pub fn record(&mut self, sent_hs: f64, secs: u64) {
        let keep = usize::try_from(86_400 + self.lag_s).unwrap_or(usize::MAX);
        let credited = sent_hs.max(0.0) * self.credit;
        for _ in 0..secs {
            let last = self.totals.back().copied().unwrap_or(self.dropped);
            self.totals.push_back(last + credited);
        }
        while self.totals.len() > keep {
            if let Some(total) = self.totals.pop_front() {
                self.dropped = total;
            }
        }
    }

    fn total_at(&self, seconds_kept: usize) -> f64 {
        match seconds_kept.checked_sub(1) {
            Some(i) => self.totals.get(i).copied().unwrap_or(self.dropped),
            None => self.dropped,
        }
    }

    /// XvB's reported average over the last `window_s` seconds (as of `lag_s` ago); seconds
    /// before the donor started count as 0, as they do at XvB.
    pub fn average(&self, window_s: u64) -> f64 {
        let lag = usize::try_from(self.lag_s).unwrap_or(usize::MAX);
        let window = usize::try_from(window_s.max(1)).unwrap_or(usize::MAX);
        let end = self.totals.len().saturating_sub(lag);
        let start = end.saturating_sub(window);
        let sum = self.total_at(end)
            - if start == 0 {
                0.0
            } else {
                self.total_at(start)
            };
        let sum = if start == 0 { sum - self.dropped } else { sum };
        sum / window as f64
    }

    /// The 1-hour and 24-hour averages.
    pub fn averages(&self) -> (f64, f64) {
        (self.average(3_600), self.average(86_400))
    }
}

#[cfg(test)]
mod donor_model_tests {
    use super::DonorModel;

    #[test]
    fn averages_follow_what_was_sent_with_lag_and_credit() {
        let mut donor = DonorModel::new(0.9, 60);
        donor.record(20_000.0, 3_600);
        let (h1, h24) = donor.averages();
        // 3,540 credited seconds of the last hour are visible (60 s lag).
        assert!(
            (h1 - 20_000.0 * 0.9 * 3_540.0 / 3_600.0).abs() < 1e-6,
            "{h1}"
        );
        assert!(
            (h24 - 20_000.0 * 0.9 * 3_540.0 / 86_400.0).abs() < 1e-6,
            "{h24}"
        );
        donor.record(0.0, 3_600);
        let (later, _) = donor.averages();
        assert!(later < 20_000.0 * 0.9 * 61.0 / 3_600.0, "{later}");
    }

    #[test]
    fn a_day_later_the_oldest_seconds_drop_out() {
        let mut donor = DonorModel::new(1.0, 0);
        donor.record(1_000.0, 3_600);
        donor.record(0.0, 86_400);
        assert_eq!(donor.averages(), (0.0, 0.0));
        donor.record(2_400.0, 3_600);
        let (h1, h24) = donor.averages();
        assert!((h1 - 2_400.0).abs() < 1e-6, "{h1}");
        assert!((h24 - 100.0).abs() < 1e-6, "{h24}");
    }

    #[test]
    fn credit_is_below_one_at_most() {
        let mut donor = DonorModel::new(1.5, 0);
        donor.record(1_000.0, 3_600);
        assert!((donor.average(3_600) - 1_000.0).abs() < 1e-9);
    }
}
