//! A sink's URL, checked once when the configuration is read.
//!
//! Sink URLs carry secrets in their path or query (a Telegram token, an ntfy topic, a webhook
//! key, a healthchecks UUID), so a [`SinkUrl`] shows itself as `scheme://host[:port]` only and
//! hands the whole URL out only to the request that needs it.
//!
//! `https://` anywhere; `http://` only to `localhost` or a loopback or private IP literal
//! (10/8, 172.16/12, 192.168/16, 127/8, `::1`, `fc00::/7`): plaintext must not cross a network
//! the operator does not own. A host *name* over `http://` (a docker service name, say) is
//! refused, because what a name resolves to is not known when the configuration is read.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::io::Target;

/// Why a sink URL is refused: short reasons for the configuration error, which names the
/// variable and shows at most `scheme://host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SinkUrlError {
    /// Not parseable as a URL.
    #[error("not a URL (expected https://host/…)")]
    NotAUrl,
    /// Neither `https://` nor `http://`.
    #[error("only https:// (or http:// to a loopback or private address) is supported")]
    Scheme,
    /// `http://` to a public address or to a host name other than `localhost`.
    #[error(
        "http:// is accepted only to localhost or a loopback or private IP address \
         (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7); use https://"
    )]
    PlaintextOffBox,
    /// No host.
    #[error("no host")]
    NoHost,
    /// `user:password@`: the URL would carry a secret into every message that shows it.
    #[error("credentials in the URL are not accepted")]
    Credentials,
    /// A query where a base URL is expected (`TELEGRAM_API_BASE`): paths are appended to it.
    #[error("a query string is not expected in a base URL")]
    Query,
    /// A `#fragment`: never sent, so almost certainly a mistake.
    #[error("a #fragment is not expected")]
    Fragment,
}

/// A checked sink URL. `Display` and `Debug` show `scheme://host[:port]` only.
#[derive(Clone, PartialEq, Eq)]
pub struct SinkUrl {
    tls: bool,
    target: Target,
    /// Path (no trailing `/` when `trim_slash`) and query, as sent on the request line.
    path_and_query: String,
}

impl SinkUrl {
    /// Parses and checks a full URL (a webhook, an ntfy topic, a ping URL): path and query kept.
    pub fn parse(text: &str) -> Result<Self, SinkUrlError> {
        Self::checked(text, false)
    }

    /// Parses and checks a base URL (`TELEGRAM_API_BASE`): no query, the trailing `/` dropped.
    pub fn parse_base(text: &str) -> Result<Self, SinkUrlError> {
        Self::checked(text, true)
    }

    fn checked(text: &str, base: bool) -> Result<Self, SinkUrlError> {
        let url = Url::parse(text.trim()).map_err(|e| match e {
            url::ParseError::EmptyHost => SinkUrlError::NoHost,
            _ => SinkUrlError::NotAUrl,
        })?;
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(SinkUrlError::Scheme),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(SinkUrlError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(SinkUrlError::Fragment);
        }
        if base && url.query().is_some() {
            return Err(SinkUrlError::Query);
        }
        let host = url.host().ok_or(SinkUrlError::NoHost)?;
        if !tls && !on_box_or_private(&host) {
            return Err(SinkUrlError::PlaintextOffBox);
        }
        let host = match host {
            Host::Domain("") => return Err(SinkUrlError::NoHost),
            Host::Domain(name) => name.to_owned(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let mut path = url.path().to_owned();
        if base {
            path.truncate(path.trim_end_matches('/').len());
        }
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        if path.is_empty() && !base {
            path.push('/');
        }
        Ok(Self {
            tls,
            target: Target::new(host, port),
            path_and_query: path,
        })
    }

    /// Whether the sink is spoken to over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// What is dialled.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The `Host` header: `host[:port]`, the port left out when it is the scheme's default,
    /// IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.target.authority_for(self.tls)
    }

    /// The path and query as sent on the request line (may hold a secret: never log it).
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The absolute URL with `suffix` appended to the path (may hold a secret: never log it).
    pub fn expose_with(&self, suffix: &str) -> String {
        format!(
            "{}://{}{}{suffix}",
            if self.tls { "https" } else { "http" },
            self.authority(),
            self.path_and_query
        )
    }

    /// The URL without its last `/`: `HEALTHCHECKS_PING_URL`'s normal form.
    pub(crate) fn without_trailing_slash(mut self) -> Self {
        if self.path_and_query.len() > 1 && !self.path_and_query.contains('?') {
            let kept = self.path_and_query.trim_end_matches('/').len().max(1);
            self.path_and_query.truncate(kept);
        }
        self
    }
}

impl fmt::Display for SinkUrl {
    /// `scheme://host[:port]`: never the path or the query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority())
    }
}

impl fmt::Debug for SinkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SinkUrl({self})")
    }
}

/// `text` as an error may show it: `scheme://host[:port]` when it parses that far, else
/// `***`. Never a path, a query or userinfo.
pub fn shown(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(url) => match url.host_str() {
            Some(host) if !host.is_empty() => match url.port() {
                Some(port) => format!("{}://{host}:{port}", url.scheme()),
                None => format!("{}://{host}", url.scheme()),
            },
            _ => format!("{}://", url.scheme()),
        },
        Err(_) => "***".to_owned(),
    }
}

fn on_box_or_private(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => private_v4(*ip),
        Host::Ipv6(ip) => private_v6(*ip),
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private()
}

fn private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    // fc00::/7, unique local (`Ipv6Addr::is_unique_local` is not stable yet).
    ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00
}

/// Whether `ip` is loopback or private (the rule `http://` URLs must meet).
pub fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_the_box_or_a_private_network() {
        for ok in [
            "https://api.telegram.org",
            "https://ntfy.sh/topic",
            "https://hooks.example:8443/x?key=1",
            "http://localhost:8080/hook",
            "http://LOCALHOST/hook",
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/x",
            "http://172.16.0.1/x",
            "http://172.31.255.255/x",
            "http://192.168.1.20:2586/alerts",
            "http://[::1]:8080/x",
            "http://[fd00::1]/x",
            "http://[::ffff:192.168.1.1]/x",
        ] {
            assert!(SinkUrl::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://ntfy.sh/topic", SinkUrlError::PlaintextOffBox),
            ("http://ntfy/topic", SinkUrlError::PlaintextOffBox),
            ("http://8.8.8.8/x", SinkUrlError::PlaintextOffBox),
            ("http://172.32.0.1/x", SinkUrlError::PlaintextOffBox),
            ("http://100.64.0.1/x", SinkUrlError::PlaintextOffBox),
            ("http://169.254.169.254/x", SinkUrlError::PlaintextOffBox),
            ("http://[2001:db8::1]/x", SinkUrlError::PlaintextOffBox),
            ("http://[::ffff:8.8.8.8]/x", SinkUrlError::PlaintextOffBox),
            ("ftp://host/x", SinkUrlError::Scheme),
            ("ntfy.sh/topic", SinkUrlError::NotAUrl),
            ("https://", SinkUrlError::NoHost),
            ("https://u:p@host/x", SinkUrlError::Credentials),
            ("https://host/x#frag", SinkUrlError::Fragment),
        ] {
            assert_eq!(SinkUrl::parse(bad), Err(why), "{bad}");
        }
        assert_eq!(
            SinkUrl::parse_base("https://api.telegram.org/?x=1"),
            Err(SinkUrlError::Query)
        );
    }

    #[test]
    fn shown_without_path_or_query() {
        let u = SinkUrl::parse("https://ntfy.example:8443/s3cret-topic?auth=tok").unwrap();
        assert_eq!(u.to_string(), "https://ntfy.example:8443");
        assert_eq!(format!("{u:?}"), "SinkUrl(https://ntfy.example:8443)");
        assert_eq!(u.path_and_query(), "/s3cret-topic?auth=tok");
        assert_eq!(u.authority(), "ntfy.example:8443");
        let u = SinkUrl::parse("https://ntfy.example").unwrap();
        assert_eq!(
            (u.path_and_query(), u.authority()),
            ("/", "ntfy.example".into())
        );
        let b = SinkUrl::parse_base("https://api.telegram.org/").unwrap();
        assert_eq!(
            b.expose_with("/botT/sendMessage"),
            "https://api.telegram.org/botT/sendMessage"
        );
        assert_eq!(shown("https://u:pw@host:1/path?q=s"), "https://host:1");
        assert_eq!(shown("garbage s3cret"), "***");
        let p = SinkUrl::parse("https://hc-ping.com/uuid/")
            .unwrap()
            .without_trailing_slash();
        assert_eq!(p.path_and_query(), "/uuid");
    }
}
