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
            | Self::Protocol { target, .. } => Some(target),
        }
    }
}

/// A daemon's `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    host: String,
    port: u16,
}

impl Target {
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

    /// The `Host` header's value: `host[:port]`, the port left out when it is 80, IPv6 in
    /// brackets.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Dials this target through `connector`.
    pub async fn dial(&self, connector: &dyn Connector) -> Result<BoxedStream, TransportError> {
        connector
            .connect(&self.host, self.port)
            .await
            .map_err(|source| TransportError::Unreachable {
                target: self.clone(),
                source,
            })
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
