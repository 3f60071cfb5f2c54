//! A daemon's `http://` base URL (or, for a site beyond the box, `https://`), checked once — when the configuration is read — and handed to
//! its client as a typed value, so no client parses a URL string of its own.
//!
//! Also the one redaction of a URL for messages and logs ([`redact_url`]).

use std::fmt;

use url::Url;

use super::Target;

/// Why a base URL is refused. The messages are short reasons for the configuration error,
/// which names the variable and the (redacted) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not parseable as a URL.
    #[error("not a URL (expected http://host:port)")]
    NotAUrl,
    /// A scheme other than `http://` (TLS is not spoken to the stack's own daemons).
    #[error("only http:// is supported")]
    NotHttp,
    /// A scheme other than `http://` or `https://`, where both are accepted.
    #[error("only http:// or https:// is supported")]
    NotWeb,
    /// No host.
    #[error("no host (expected http://host:port)")]
    NoHost,
    /// `user:password@`: the URL would carry a secret into every log line that shows it.
    #[error("credentials in the URL are not accepted")]
    Credentials,
    /// `?…`: a base URL takes paths appended; a query would be lost or misplaced.
    #[error("a query string is not expected")]
    Query,
}

/// An `http://host[:port][/path]` base URL (`https://` only through [`Endpoint::parse_web`]):
/// a host, no credentials, no query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    target: Target,
    /// `https://`: the client must speak TLS to `target` (see [`super::TlsTrust`]).
    tls: bool,
    /// Path prefix without a trailing slash (empty for the root).
    path: String,
}

impl Endpoint {
    /// Parses a base URL (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let url = Url::parse(text.trim()).map_err(|e| match e {
            url::ParseError::EmptyHost => EndpointError::NoHost,
            _ => EndpointError::NotAUrl,
        })?;
        Self::from_url(&url)
    }

    /// Parses a base URL that may also be `https://` (default port 443): for a site beyond the
    /// box (XvB), never for the stack's own daemons.
    pub fn parse_web(text: &str) -> Result<Self, EndpointError> {
        let url = Url::parse(text.trim()).map_err(|e| match e {
            url::ParseError::EmptyHost => EndpointError::NoHost,
            _ => EndpointError::NotAUrl,
        })?;
        match url.scheme() {
            "http" => Self::checked(&url, false),
            "https" => Self::checked(&url, true),
            _ => Err(EndpointError::NotWeb),
        }
    }

    /// Checks an already parsed URL.
    pub fn from_url(url: &Url) -> Result<Self, EndpointError> {
        if url.scheme() != "http" {
            return Err(EndpointError::NotHttp);
        }
        Self::checked(url, false)
    }

    fn checked(url: &Url, tls: bool) -> Result<Self, EndpointError> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointError::Credentials);
        }
        // `http://alice:1234/pa@node` parses as host `alice`, port 1234, path `/pa@node`: a
        // password holding a `/`. No daemon's base path has an `@`; take it for credentials
        // rather than dial `alice` and show the password as a path in every message.
        if url.path().contains('@') {
            return Err(EndpointError::Credentials);
        }
        if url.query().is_some() {
            return Err(EndpointError::Query);
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(EndpointError::NoHost)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        Ok(Self {
            target: Target::new(host, port),
            tls,
            path: url.path().trim_end_matches('/').to_owned(),
        })
    }

    /// What a client dials.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The `Host` header's value: `host[:port]`, the port left out when it is the scheme's
    /// default (80 for `http://`, 443 for `https://`), IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.target.authority_for(self.tls)
    }

    /// Whether this is an `https://` endpoint.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The path prefix, without a trailing slash (empty for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The absolute URL of `path` (which starts with `/`) under this base.
    pub fn url(&self, path: &str) -> String {
        format!("{self}{path}")
    }
}

impl fmt::Display for Endpoint {
    /// `http[s]://host[:port][/path]`, without a trailing slash. Never holds a secret:
    /// credentials and queries were refused.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

/// `url` as messages and logs may show it: the userinfo (`user:password@`) replaced by `***@`
/// (with or without a scheme), the query and fragment (which may carry a wallet address or a
/// token) dropped. The one redaction: every message or log line that may echo a URL passes it
/// through here.
///
/// It never relies on the value parsing: a password may hold `/`, `?` or `#` (which end the
/// authority for a URL parser, so `http://alice:pa/ss@node` does not even parse), so everything
/// up to the *last* `@` is taken as userinfo. When that stretch holds a `?` or `#`, the `@` may
/// as well sit in a query or fragment whose tail follows it: then nothing past the scheme is
/// shown. The price is a path with an `@` (`http://host/a@b`) shown as `http://***@b`, which
/// no base URL of the stack has ([`Endpoint`] refuses one).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => (&url[..scheme.len() + 3], rest),
        _ => ("", url),
    };
    let before_query =
        |text: &'_ str| -> String { text.split(['?', '#']).next().unwrap_or_default().to_owned() };
    match rest.rfind('@') {
        Some(at) if rest[..at].contains(['?', '#']) => format!("{scheme}***"),
        Some(at) => format!("{scheme}***@{}", before_query(&rest[at + 1..])),
        None => format!("{scheme}{}", before_query(rest)),
    }
}

/// `[A-Za-z][A-Za-z0-9+.-]*`: what may stand before `://` as a scheme (RFC 3986 §3.1).
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gives_its_target_and_path() {
        let e = Endpoint::parse(" http://monerod:18081/ ").unwrap();
        assert_eq!(e.target(), &Target::new("monerod", 18081));
        assert_eq!(e.path(), "");
        assert_eq!(e.to_string(), "http://monerod:18081");
        assert_eq!(e.url("/json_rpc"), "http://monerod:18081/json_rpc");
        let e = Endpoint::parse("http://node/prefix/").unwrap();
        assert_eq!(e.target(), &Target::new("node", 80));
        assert_eq!(e.url("/json_rpc"), "http://node/prefix/json_rpc");
        let e = Endpoint::parse("http://[::1]:18081").unwrap();
        assert_eq!(e.target(), &Target::new("::1", 18081));
        assert_eq!(e.to_string(), "http://[::1]:18081");
    }

    #[test]
    fn every_refusal_has_its_reason() {
        for (text, why) in [
            ("monerod:18081", EndpointError::NotHttp),
            ("not a url", EndpointError::NotAUrl),
            ("", EndpointError::NotAUrl),
            ("https://monerod:18081", EndpointError::NotHttp),
            ("http://", EndpointError::NoHost),
            ("http://user:pw@monerod:18081", EndpointError::Credentials),
            ("http://user@monerod:18081", EndpointError::Credentials),
            ("http://monerod:18081/?wallet=4abc", EndpointError::Query),
            ("http://monerod:99999", EndpointError::NotAUrl),
        ] {
            assert_eq!(Endpoint::parse(text), Err(why), "{text:?}");
        }
    }

    #[test]
    fn https_only_where_asked_for() {
        let e = Endpoint::parse_web("https://xmrvsbeast.com/").unwrap();
        assert!(e.is_tls());
        assert_eq!(e.target(), &Target::new("xmrvsbeast.com", 443));
        assert_eq!(e.to_string(), "https://xmrvsbeast.com");
        assert_eq!(
            e.url("/p2pool/stats"),
            "https://xmrvsbeast.com/p2pool/stats"
        );
        assert_eq!(e.authority(), "xmrvsbeast.com");
        let e = Endpoint::parse_web("https://xvb.test:8443/api").unwrap();
        assert_eq!(e.authority(), "xvb.test:8443");
        assert_eq!(e.to_string(), "https://xvb.test:8443/api");
        assert_eq!(
            Endpoint::parse_web("https://xvb.test:80")
                .unwrap()
                .to_string(),
            "https://xvb.test:80"
        );
        let e = Endpoint::parse_web("http://xvb:8080").unwrap();
        assert!(!e.is_tls());
        assert_eq!(e, Endpoint::parse("http://xvb:8080").unwrap());
        assert_eq!(
            Endpoint::parse_web("socks5h://tor:9050"),
            Err(EndpointError::NotWeb)
        );
        assert_eq!(
            Endpoint::parse_web("https://u:p@xvb.test"),
            Err(EndpointError::Credentials)
        );
        assert_eq!(
            Endpoint::parse("https://xvb.test"),
            Err(EndpointError::NotHttp)
        );
    }

    #[test]
    fn redaction_hides_userinfo_and_query_with_or_without_a_scheme() {
        assert_eq!(
            redact_url("http://user:s3cret@monerod:18081/x"),
            "http://***@monerod:18081/x"
        );
        assert_eq!(redact_url("user:s3cret@monerod:18081"), "***@monerod:18081");
        assert_eq!(
            redact_url("http://monerod:18081/stats?wallet=4secret"),
            "http://monerod:18081/stats"
        );
        assert_eq!(redact_url("http://monerod:18081"), "http://monerod:18081");
        assert_eq!(redact_url("a:b@c:d@host"), "***@host");
        assert_eq!(
            redact_url("unix:///var/run/docker.sock"),
            "unix:///var/run/docker.sock"
        );
        assert_eq!(
            redact_url("http://monerod:18081#frag"),
            "http://monerod:18081"
        );
        // Everything up to the last `@` is userinfo, even where a URL parser would end the
        // authority earlier: an `@` in a path is over-redacted, never a password shown.
        assert_eq!(redact_url("http://host/a@b"), "http://***@b");
    }

    /// A password holding `/`, `?`, `#` or `@` (the value then often does not parse as a URL):
    /// nothing of the userinfo is shown, with or without a scheme.
    #[test]
    fn redaction_hides_a_password_that_ends_the_authority_early() {
        for (value, shown) in [
            ("http://alice:pa/ss@node:18081", "http://***@node:18081"),
            (
                "http://alice:pa/ss@node:18081/x?q=1",
                "http://***@node:18081/x",
            ),
            ("tcp://alice:pa/ss@host:2376", "tcp://***@host:2376"),
            ("alice:pa/ss@tari:1", "***@tari:1"),
            ("http://alice:p@ss@node", "http://***@node"),
            // The `@` may be in a query or fragment: nothing past the scheme is shown.
            ("http://alice:pa?ss@node", "http://***"),
            ("http://alice:pa#ss@node", "http://***"),
            ("http://host/x?mail=alice:pa@ss&t=1", "http://***"),
            // `u:p` is no scheme: the whole value up to the `@` is userinfo.
            ("u:pa://ss@host", "***@host"),
        ] {
            let redacted = redact_url(value);
            assert_eq!(redacted, shown, "{value}");
            for secret in ["alice", "pa", "ss"] {
                assert!(!redacted.contains(secret), "{secret} in {redacted}");
            }
        }
    }

    #[test]
    fn an_at_in_the_path_is_taken_for_credentials() {
        // Parses as host `alice`, port 1234, path `/pw@node`: a password with a `/`.
        assert_eq!(
            Endpoint::parse("http://alice:1234/pw@node:18081"),
            Err(EndpointError::Credentials)
        );
        assert_eq!(
            Endpoint::parse_web("https://alice:1234/pw@xvb.test"),
            Err(EndpointError::Credentials)
        );
    }
}
