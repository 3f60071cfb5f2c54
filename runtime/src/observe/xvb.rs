//! XMRvsBeast (XvB) client: the raffle's public round stats and the donor's bonus history.
//!
//! Wire facts (from the XvB pages as read by the Python Pithead and by Gupaxx):
//! - Public stats: `GET /p2pool/stats` → a JSON object with `time_remain` (minutes left in the
//!   round; negative while the round waits for a share), `bonus_hr` (kH/s), `donate_hr`,
//!   `donate_miners`, `donate_workers`, `players`, `players_round`, `winner` (an elided address
//!   `abcd...wxyz`), `round_type`, `block_height` (a number, sometimes a string), … The page has
//!   been seen with stray backticks around the JSON; they are ignored.
//! - Donor stats: `GET /cgi-bin/p2pool_bonus_history.cgi?address=<wallet>` → an HTML page whose
//!   text carries `Fail Count: N`, `1hr avg: 12.34 kH/s` and `24hr avg: 11.00 kH/s`. A page with
//!   neither a fail count nor a 1-hour average is not a reading; one that says the address is
//!   "not registered" is [`XvbError::NotRegistered`].
//!
//! The real host is `https://xmrvsbeast.com`: an `https://` endpoint is spoken to over TLS
//! (rustls, Mozilla's roots plus an optional extra CA: [`XvbRoute`]), an `http://` one in the
//! clear (the fakes, the simulation). Either may go through a `socks5h://` proxy (Tor), which
//! then resolves the host name. Both layers sit on the injected connector, so the dialling stays
//! injectable. The wallet address is never part of an error message.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::daemon_text;
use super::wire::{self, WireError};
use crate::io::http::Exchange;
use crate::io::{
    Endpoint, HttpSession, SharedConnector, Socks5Proxy, TlsTrust, TransportError, TrustError,
};

/// Path of the public round stats.
pub const PUBLIC_STATS_PATH: &str = "/p2pool/stats";
/// Path of the donor's bonus history page.
pub const DONOR_HISTORY_PATH: &str = "/cgi-bin/p2pool_bonus_history.cgi";

/// Why XvB gave no reading.
#[derive(Debug, thiserror::Error)]
pub enum XvbError {
    /// The wallet address is not a plain base58 string.
    #[error("XvB: the wallet address is not a base58 string")]
    InvalidAddress,
    /// No complete answer (connect failed, the connection broke, the deadline passed, or the
    /// body was too large). Never shows the request's query (the wallet address).
    #[error("XvB at {0}")]
    Transport(#[from] TransportError),
    /// A status other than 200.
    #[error("XvB answered HTTP {code} for {path}")]
    BadStatus {
        /// The path asked.
        path: &'static str,
        /// The HTTP status code.
        code: u16,
    },
    /// The donor page says the address is not registered for the raffle.
    #[error("XvB: the wallet address is not registered")]
    NotRegistered,
    /// The public stats are not what XvB sends.
    #[error("XvB sent a malformed {PUBLIC_STATS_PATH} reply: {0}")]
    MalformedStats(#[source] WireError),
    /// The donor page carries neither a fail count nor a 1-hour average.
    #[error("XvB sent a malformed {DONOR_HISTORY_PATH} reply: neither \"Fail Count:\" nor \"1hr avg:\" is on the page")]
    MalformedDonorPage,
}

/// The raffle's public round stats. Absent or `null` fields read as 0, empty, or `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XvbPublicStats {
    /// Minutes left in the current round (negative while waiting for a share).
    #[serde(
        rename(deserialize = "time_remain"),
        default,
        deserialize_with = "minutes"
    )]
    pub time_remain_min: i64,
    /// The bonus hashrate being raffled, kH/s.
    #[serde(
        rename(deserialize = "bonus_hr"),
        default,
        deserialize_with = "finite_or_zero"
    )]
    pub bonus_hr_khs: f64,
    /// Hashrate donated by all donors, kH/s.
    #[serde(
        rename(deserialize = "donate_hr"),
        default,
        deserialize_with = "finite_or_zero"
    )]
    pub donate_hr_khs: f64,
    /// Donors.
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub donate_miners: u64,
    /// Donors' workers.
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub donate_workers: u64,
    /// Players registered.
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub players: u64,
    /// Players in this round.
    #[serde(default, deserialize_with = "wire::count_or_zero")]
    pub players_round: u64,
    /// The current winner, elided (`abcd...wxyz`).
    #[serde(default, deserialize_with = "text_or_empty")]
    pub winner: String,
    /// The round type (`VIP`, `Donor`, `Whale`, …) as XvB names it.
    #[serde(default, deserialize_with = "text_or_empty")]
    pub round_type: String,
    /// Monero height of the round, when given (XvB sends it as a number or as a string).
    #[serde(default, deserialize_with = "height")]
    pub block_height: Option<u64>,
}

fn finite_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    wire::opt_finite(d).map(Option::unwrap_or_default)
}

/// A text field, [`daemon_text::clean`]ed: the site's words reach the dashboard and the logs.
fn text_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    wire::opt_text(d).map(|text| text.map(|t| daemon_text::clean(&t)).unwrap_or_default())
}

/// `time_remain`: an integer, or a float within ±10^12 (truncated); `null` is 0.
fn minutes<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Minutes;
    impl Visitor<'_> for Minutes {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number of minutes")
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
        }
        fn visit_f64<E: de::Error>(self, f: f64) -> Result<i64, E> {
            if f.is_finite() && f.abs() <= 1e12 {
                // Within ±10^12, checked above.
                #[allow(clippy::cast_possible_truncation)]
                let n = f as i64;
                Ok(n)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(f), &self))
            }
        }
    }
    d.deserialize_any(Minutes)
}

/// `block_height`: a count, or a string of digits; `null` or a blank string is `None`.
fn height<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Height {
        Text(String),
        Number(wire::Count),
    }
    match Option::<Height>::deserialize(d)? {
        None => Ok(None),
        Some(Height::Number(n)) => Ok(Some(n.0)),
        Some(Height::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Height::Text(text)) => text.trim().parse().map(Some).map_err(|_| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"a height in digits")
        }),
    }
}

/// The donor's own standing, from the bonus history page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XvbDonorStats {
    /// XvB's fail counter for this donor (0 when the page does not show one).
    pub fail_count: u64,
    /// XvB's 1-hour average of the donated hashrate, H/s.
    pub avg_1h_hs: f64,
    /// XvB's 24-hour average, H/s (0 when absent).
    pub avg_24h_hs: f64,
}

/// Parses the public stats JSON (stray backticks around it ignored). Pure, never panics.
pub fn parse_public_stats(body: &[u8]) -> Result<XvbPublicStats, XvbError> {
    let cleaned: Vec<u8> = body.iter().copied().filter(|b| *b != b'`').collect();
    wire::parse(&cleaned).map_err(XvbError::MalformedStats)
}

/// Finds `label` (ASCII case-insensitive) in `text` and returns what follows it, whitespace
/// skipped.
fn after_label<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&label.to_ascii_lowercase())?;
    text.get(at + label.len()..).map(str::trim_start)
}

/// A leading decimal number (`12`, `12.34`) and the rest.
fn leading_number(text: &str) -> Option<(f64, &str)> {
    let end = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(text.len(), |(i, _)| i);
    let number = text.get(..end)?;
    if number.is_empty() || number.len() > 32 {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    value
        .is_finite()
        .then_some((value, text.get(end..).unwrap_or("")))
}

/// The multiplier of a `[kKmMgG]?H/s` unit at the start of `text` (1 when there is none).
fn unit_multiplier(text: &str) -> f64 {
    let t = text.trim_start();
    let mut chars = t.chars();
    let (mult, rest) = match chars.next() {
        Some('k' | 'K') => (1e3, chars.as_str()),
        Some('m' | 'M') => (1e6, chars.as_str()),
        Some('g' | 'G') => (1e9, chars.as_str()),
        _ => (1.0, t),
    };
    if rest.len() >= 3 && rest.get(..3).is_some_and(|u| u.eq_ignore_ascii_case("h/s")) {
        mult
    } else {
        1.0
    }
}

fn hashrate_after(text: &str, label: &str) -> Option<f64> {
    let rest = after_label(text, label)?;
    let (value, rest) = leading_number(rest)?;
    Some(value * unit_multiplier(rest))
}

/// Parses the donor's bonus history page. Pure, never panics.
pub fn parse_donor_stats(body: &[u8]) -> Result<XvbDonorStats, XvbError> {
    let text = String::from_utf8_lossy(body);
    let fail_count = after_label(&text, "Fail Count:").and_then(|rest| {
        let end = rest
            .char_indices()
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        rest.get(..end)
            .and_then(|digits| digits.parse::<u64>().ok())
    });
    let avg_1h = hashrate_after(&text, "1hr avg:");
    if fail_count.is_none() && avg_1h.is_none() {
        if text.to_ascii_lowercase().contains("not registered") {
            return Err(XvbError::NotRegistered);
        }
        return Err(XvbError::MalformedDonorPage);
    }
    Ok(XvbDonorStats {
        fail_count: fail_count.unwrap_or(0),
        avg_1h_hs: avg_1h.unwrap_or(0.0),
        avg_24h_hs: hashrate_after(&text, "24hr avg:").unwrap_or(0.0),
    })
}

/// How XvB is reached from the box: the roots an `https://` endpoint is verified against, and
/// the optional SOCKS5 proxy every call goes through.
#[derive(Debug, Clone)]
pub struct XvbRoute {
    /// The roots for `https://` (never bypassed).
    pub trust: TlsTrust,
    /// `XVB_PROXY`: a `socks5h://` proxy, or direct.
    pub proxy: Option<Socks5Proxy>,
}

impl XvbRoute {
    /// Direct, trusting Mozilla's roots.
    pub fn direct() -> Result<Self, TrustError> {
        Ok(Self {
            trust: TlsTrust::webpki()?,
            proxy: None,
        })
    }

    /// `connector` with what `endpoint` needs on top: the proxy when there is one, then TLS for
    /// `https://` (inside the tunnel, so the proxy never sees the plaintext).
    fn connector(&self, connector: SharedConnector, endpoint: &Endpoint) -> SharedConnector {
        let connector = match &self.proxy {
            Some(proxy) => proxy.connector(connector),
            None => connector,
        };
        if endpoint.is_tls() {
            self.trust.connector(connector)
        } else {
            connector
        }
    }
}

/// An XvB client.
#[derive(Clone)]
pub struct XvbClient {
    session: HttpSession,
    base_url: String,
    /// `Host`: without `:443` on https (the session's own default only drops `:80`).
    host: Option<HeaderValue>,
    exchange: Exchange,
}

impl std::fmt::Debug for XvbClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XvbClient")
            .field("base_url", &self.base_url)
            .field("exchange", &self.exchange)
            .finish()
    }
}

impl XvbClient {
    /// A client for XvB at `endpoint` (`https://xmrvsbeast.com`, or an `http://` stand-in),
    /// reached by `route` over `connector`.
    pub fn new(
        connector: SharedConnector,
        endpoint: &Endpoint,
        route: &XvbRoute,
        exchange: Exchange,
    ) -> Self {
        Self {
            session: HttpSession::new(
                route.connector(connector, endpoint),
                endpoint.target().clone(),
            ),
            base_url: endpoint.to_string(),
            host: HeaderValue::from_str(&endpoint.authority()).ok(),
            exchange,
        }
    }

    async fn get(&self, path: &'static str, query: &str) -> Result<Bytes, XvbError> {
        let url = format!("{}{path}{query}", self.base_url);
        let mut headers = HeaderMap::new();
        if let Some(host) = &self.host {
            headers.insert(http::header::HOST, host.clone());
        }
        let request = crate::io::http::request(Method::GET, &url, headers, Bytes::new())?;
        let response = self
            .session
            .send(request, self.exchange.timeout, self.exchange.limit_bytes)
            .await?;
        if response.status() != StatusCode::OK {
            return Err(XvbError::BadStatus {
                path,
                code: response.status().as_u16(),
            });
        }
        Ok(response.into_body())
    }

    /// `GET /p2pool/stats`.
    pub async fn public_stats(&self) -> Result<XvbPublicStats, XvbError> {
        parse_public_stats(&self.get(PUBLIC_STATS_PATH, "").await?)
    }

    /// The bonus history page of `address` (the donor's primary wallet address).
    pub async fn donor_stats(&self, address: &str) -> Result<XvbDonorStats, XvbError> {
        if address.is_empty()
            || address.len() > 128
            || !address.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(XvbError::InvalidAddress);
        }
        parse_donor_stats(
            &self
                .get(DONOR_HISTORY_PATH, &format!("?address={address}"))
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sites_words_are_one_clean_line() {
        let s = parse_public_stats(
            br#"{"winner":"4ABC...WXYZ\n\u001b[2J","round_type":"vip\u2028\u202eWhale"}"#,
        )
        .unwrap();
        assert_eq!(s.winner, "4ABC...WXYZ  [2J");
        assert_eq!(s.round_type, "vip  Whale");
    }

    #[test]
    fn public_stats_with_backticks_and_string_numbers() {
        let body = br#"`{"time_remain":-3,"bonus_hr":95.5,"donate_hr":1234.5,"donate_miners":40,"donate_workers":90,
            "players":120,"players_round":33,"winner":"4ABC...WXYZ","share_effort":"50%","block_reward":"0.6",
            "round_type":"vip","block_height":"3012345","block_hash":"ab","roll_winner":"7","roll_round":"9","reward_yearly":[1.0]}`"#;
        let s = parse_public_stats(body).unwrap();
        assert_eq!(s.time_remain_min, -3);
        assert_eq!(s.bonus_hr_khs, 95.5);
        assert_eq!(s.players_round, 33);
        assert_eq!(s.winner, "4ABC...WXYZ");
        assert_eq!(s.round_type, "vip");
        assert_eq!(s.block_height, Some(3_012_345));
        assert!(parse_public_stats(b"<html>").is_err());
        let e = parse_public_stats(br#"{"players":"many"}"#).unwrap_err();
        assert!(
            e.to_string().contains("players: invalid type: string"),
            "{e}"
        );
        let e = parse_public_stats(br#"{"block_height":"12a"}"#).unwrap_err();
        assert!(e.to_string().contains("block_height: invalid value"), "{e}");
        let e = parse_public_stats(br#"{"time_remain":1e13}"#).unwrap_err();
        assert!(e.to_string().contains("time_remain: invalid value"), "{e}");
        let sparse = parse_public_stats(
            br#"{"time_remain":2.7,"block_height":" ","winner":null,"bonus_hr":7}"#,
        )
        .unwrap();
        assert_eq!(
            (
                sparse.time_remain_min,
                sparse.block_height,
                sparse.winner.as_str(),
                sparse.bonus_hr_khs
            ),
            (2, None, "", 7.0)
        );
        assert_eq!(
            parse_public_stats(br#"{"block_height":12.0}"#)
                .unwrap()
                .block_height,
            Some(12)
        );
    }

    #[test]
    fn donor_page_units_and_missing_parts() {
        let page = b"<html><body><p style=\"color:#40a340;\">Fail Count: 2 | 1hr avg: 12.5 kH/s | 24hr avg: 980 H/s</p></body></html>";
        let d = parse_donor_stats(page).unwrap();
        assert_eq!(d.fail_count, 2);
        assert_eq!(d.avg_1h_hs, 12_500.0);
        assert_eq!(d.avg_24h_hs, 980.0);
        let mh = parse_donor_stats(b"1HR AVG: 1.5MH/s").unwrap();
        assert_eq!(mh.avg_1h_hs, 1_500_000.0);
        assert_eq!(mh.fail_count, 0);
        assert!(matches!(
            parse_donor_stats(b"<html>maintenance</html>"),
            Err(XvbError::MalformedDonorPage)
        ));
        assert!(matches!(
            parse_donor_stats(b"<p>ERROR: address not registered</p>"),
            Err(XvbError::NotRegistered)
        ));
        assert!(parse_donor_stats(b"Fail Count: ").is_err());
    }
}
