//! Where a client dials, how it dials, and the one error type for everything that can go wrong
//! between "send this request" and "here are the bytes".
//!
//! Every client's own error wraps [`TransportError`] with `#[from]`, so the cause (the
//! `io::Error` of a refused connect, hyper's error of a broken exchange) stays reachable through
//! `source()` instead of being flattened to a string.

use std::fmt;
use std::io;
use std::time::Duration;

use super::{BoxedStream, Connector};

/// A boxed error from the HTTP stack (hyper, or a body that failed mid-read).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an exchange with a daemon produced no usable response.
///
/// Every message starts with what was dialled, so a client's error reads naturally when it
/// prefixes its daemon's name (`"monerod at " + "monerod:18081 is unreachable: …"`). No message
/// contains credentials or a query string: URLs are shown without either.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The URL cannot be dialled (no host, unsupported scheme).
    #[error("{url:?} is not a usable URL: {reason}")]
    InvalidUrl {
        /// The URL without userinfo or query.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The TCP connect failed.
    #[error("{target} is unreachable: {source}")]
    Unreachable {
        /// What was dialled.
        target: Target,
        /// The connector's error.
        #[source]
        source: io::Error,
    },
    /// No complete response within the deadline.
    #[error("{target} did not answer within {timeout:?}")]
    Timeout {
        /// What was dialled.
        target: Target,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The response body exceeded the limit.
    #[error("{target} sent a body larger than {limit_bytes} bytes")]
    TooLarge {
        /// What was dialled.
        target: Target,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// The TCP connect succeeded but a layer on top of it failed: the TLS handshake (an
    /// untrusted certificate, a name mismatch) or the SOCKS5 proxy.
    #[error("{target} is unreachable: {source}")]
    Handshake {
        /// What was dialled.
        target: Target,
        /// Which layer failed, and why (boxed: rare, and large beside the other variants).
        #[source]
        source: Box<HandshakeError>,
    },
    /// The connection broke, or the peer did not speak HTTP/1: unreachable as far as the caller
    /// can tell, but a different cause from a refused connect.
    #[error("{target} is unreachable (the HTTP exchange broke off): {source}")]
    Protocol {
        /// What was dialled.
        target: Target,
        /// hyper's error.
        #[source]
        source: BoxError,
    },
}

impl TransportError {
    /// What was dialled, when the error got that far.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Self::InvalidUrl { .. } => None,
            Self::Unreachable { target, .. }
            | Self::Timeout { target, .. }
            | Self::TooLarge { target, .. }
            | Self::Handshake { target, .. }
            | Self::Protocol { target, .. } => Some(target),
        }
    }
}

/// Why a layer on top of the TCP connection failed. The layered connectors
/// ([`super::TlsTrust::connector`], [`super::Socks5Proxy::connector`]) hand it up inside their
/// `io::Error`; [`Target::dial`] takes it out again, so callers can match on it.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The TLS handshake failed: the certificate is not trusted or not valid for `host`, or the
    /// peer does not speak TLS.
    #[error("the TLS handshake with {host} failed: {source}")]
    Tls {
        /// The name the certificate was checked against (and sent as SNI).
        host: String,
        /// rustls's error, inside tokio-rustls's `io::Error`.
        #[source]
        source: io::Error,
    },
    /// The SOCKS5 proxy itself cannot be reached.
    #[error("the SOCKS5 proxy {proxy} is unreachable: {source}")]
    ProxyUnreachable {
        /// The proxy.
        proxy: Target,
        /// The connector's error.
        #[source]
        source: io::Error,
    },
    /// The SOCKS5 proxy answered but did not open the tunnel.
    #[error("the SOCKS5 proxy {proxy} did not connect to {destination}: {source}")]
    ProxyRefused {
        /// The proxy.
        proxy: Target,
        /// What it was asked for (by name).
        destination: Target,
        /// The SOCKS5 client's error (the proxy's reply code, or a broken handshake).
        #[source]
        source: tokio_socks::Error,
    },
}

/// A connector's error as a [`TransportError`]: a [`HandshakeError`] carried inside the
/// `io::Error` is taken out; anything else is a failed connect.
fn dial_error(target: &Target, source: io::Error) -> TransportError {
    if !source
        .get_ref()
        .is_some_and(|inner| inner.is::<HandshakeError>())
    {
        return TransportError::Unreachable {
            target: target.clone(),
            source,
        };
    }
    let kind = source.kind();
    match source
        .into_inner()
        .map(|inner| inner.downcast::<HandshakeError>())
    {
        Some(Ok(handshake)) => TransportError::Handshake {
            target: target.clone(),
            source: handshake,
        },
        Some(Err(other)) => TransportError::Unreachable {
            target: target.clone(),
            source: io::Error::new(kind, other),
        },
        None => TransportError::Unreachable {
            target: target.clone(),
            source: kind.into(),
        },
    }
}

/// A daemon's `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    host: String,
    port: u16,
}

impl Target {
    /// The `Host` header's value for this target: `host[:port]`, the port left out when it is
    /// the scheme's default (443 with TLS, 80 without), IPv6 in brackets.
    pub fn authority_for(&self, tls: bool) -> String {
        let default = if tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// `host` (an IPv6 address without brackets) and `port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// The host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Host` header's value over plain HTTP: `host[:port]`, the port left out when it is
    /// 80, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.authority_for(false)
    }

    /// Dials this target through `connector`.
    pub async fn dial(&self, connector: &dyn Connector) -> Result<BoxedStream, TransportError> {
        connector
            .connect(&self.host, self.port)
            .await
            .map_err(|source| dial_error(self, source))
    }

    /// Runs `work` under `timeout`; running out is [`TransportError::Timeout`] for this target.
    pub async fn within<T, E>(
        &self,
        timeout: Duration,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        E: From<TransportError>,
    {
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout {
                target: self.clone(),
                timeout,
            }
            .into()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}
