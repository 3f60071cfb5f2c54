//! A SOCKS5 proxy in front of a client that leaves the box (XvB through Tor, as the reference
//! stack has it): a [`Connector`] that dials the proxy through another connector and asks it for
//! the destination *by name* — `socks5h`, so the proxy resolves it and no DNS query for the
//! destination leaves the box.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use url::Url;

use super::transport::HandshakeError;
use super::{BoxedStream, Connector, SharedConnector, Target};

/// Why a proxy URL is refused. Short reasons for the configuration error, which names the
/// variable and the (redacted) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlError {
    /// Not parseable as a URL.
    #[error("not a URL (expected socks5h://host:port)")]
    NotAUrl,
    /// `socks5://` (the client would resolve the name itself, leaking it to the local DNS) or
    /// another scheme.
    #[error("only socks5h:// is supported (the proxy resolves the host name)")]
    NotSocks5h,
    /// No host.
    #[error("no host (expected socks5h://host:port)")]
    NoHost,
    /// No port: SOCKS has no well-known one (Tor's is 9050).
    #[error("no port (expected socks5h://host:port, e.g. socks5h://tor:9050)")]
    NoPort,
    /// `user:password@`: proxy authentication is not supported, and the URL would carry a
    /// secret into every message that shows it.
    #[error("credentials in the URL are not accepted")]
    Credentials,
    /// A path or a query: a proxy URL is `socks5h://host:port` only.
    #[error("a path or a query string is not expected")]
    Extra,
}

/// A `socks5h://host:port` proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socks5Proxy {
    target: Target,
}

impl Socks5Proxy {
    /// Parses `socks5h://host:port` (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, ProxyUrlError> {
        let url = Url::parse(text.trim()).map_err(|e| match e {
            url::ParseError::EmptyHost => ProxyUrlError::NoHost,
            _ => ProxyUrlError::NotAUrl,
        })?;
        if url.scheme() != "socks5h" {
            return Err(ProxyUrlError::NotSocks5h);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ProxyUrlError::Credentials);
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(ProxyUrlError::Extra);
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(ProxyUrlError::NoHost)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port().ok_or(ProxyUrlError::NoPort)?;
        Ok(Self {
            target: Target::new(host, port),
        })
    }

    /// The proxy's `host:port`.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// `inner` behind this proxy: every connect dials the proxy through `inner` and asks it for
    /// the destination by name.
    pub fn connector(&self, inner: SharedConnector) -> SharedConnector {
        Arc::new(Socks5Connector {
            inner,
            proxy: self.target.clone(),
        })
    }
}

impl fmt::Display for Socks5Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "socks5h://{}", self.target.authority())
    }
}

/// See [`Socks5Proxy::connector`].
struct Socks5Connector {
    inner: SharedConnector,
    proxy: Target,
}

impl Connector for Socks5Connector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let to_proxy = self.inner.connect(self.proxy.host(), self.proxy.port());
        let proxy = self.proxy.clone();
        let destination = Target::new(host, port);
        Box::pin(async move {
            let stream = to_proxy.await.map_err(|source| {
                io::Error::other(HandshakeError::ProxyUnreachable {
                    proxy: proxy.clone(),
                    source,
                })
            })?;
            // `(&str, u16)` goes out as a domain name unless it parses as an IP address.
            let tunnel = tokio_socks::tcp::Socks5Stream::connect_with_socket(
                stream,
                (destination.host(), destination.port()),
            )
            .await
            .map_err(|source| {
                io::Error::other(HandshakeError::ProxyRefused {
                    proxy: proxy.clone(),
                    destination: destination.clone(),
                    source,
                })
            })?;
            Ok(Box::new(tunnel) as BoxedStream)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_socks5h_with_host_and_port() {
        let p = Socks5Proxy::parse(" socks5h://tor:9050 ").unwrap();
        assert_eq!(p.target(), &Target::new("tor", 9050));
        assert_eq!(p.to_string(), "socks5h://tor:9050");
        let p = Socks5Proxy::parse("socks5h://[::1]:9050/").unwrap();
        assert_eq!(p.target(), &Target::new("::1", 9050));
        for (text, why) in [
            ("socks5://tor:9050", ProxyUrlError::NotSocks5h),
            ("http://tor:9050", ProxyUrlError::NotSocks5h),
            ("tor:9050", ProxyUrlError::NotSocks5h),
            ("socks5h://tor", ProxyUrlError::NoPort),
            ("socks5h://u:pw@tor:9050", ProxyUrlError::Credentials),
            ("socks5h://tor:9050/x", ProxyUrlError::Extra),
            ("socks5h://tor:9050?a=b", ProxyUrlError::Extra),
            ("not a url", ProxyUrlError::NotAUrl),
        ] {
            assert_eq!(Socks5Proxy::parse(text), Err(why), "{text:?}");
        }
    }
}
