//! TLS for the one client that leaves the box (XvB): a [`Connector`] that wraps another and
//! speaks TLS over whatever stream it returns, so the plain-TCP connector (or turmoil's, or a
//! SOCKS5 tunnel) stays the one place that dials.
//!
//! Trust is Mozilla's roots compiled in (`webpki-roots`): the runtime image is built FROM
//! scratch and has no system CA store. An extra CA file (PEM) may be added, for a test CA or a
//! TLS-terminating proxy of the operator's own. Verification is never turned off.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::transport::HandshakeError;
use super::{BoxedStream, Connector, SharedConnector};

/// Why no TLS client can be set up: mostly the extra CA file, named, never its content.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file cannot be read.
    #[error("the CA file {path} cannot be read: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The read's error.
        #[source]
        source: io::Error,
    },
    /// The file holds no `-----BEGIN CERTIFICATE-----` block.
    #[error("the CA file {path} holds no PEM certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A PEM block that is not a usable certificate.
    #[error("the CA file {path} holds a certificate that cannot be used as a root: {reason}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// The crypto provider refused the default protocol versions (a build without TLS 1.2/1.3).
    #[error("the TLS provider cannot be set up: {reason}")]
    Provider {
        /// rustls's reason.
        reason: String,
    },
}

/// The roots a TLS client trusts. Cheap to clone.
#[derive(Clone)]
pub struct TlsTrust {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTrust").finish_non_exhaustive()
    }
}

impl TlsTrust {
    /// Mozilla's roots only.
    pub fn webpki() -> Result<Self, TrustError> {
        Self::from_roots(webpki_roots_store())
    }

    /// Mozilla's roots plus every certificate of the PEM file at `path`.
    pub fn webpki_and_ca_file(path: &Path) -> Result<Self, TrustError> {
        let pem = std::fs::read(path).map_err(|source| TrustError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        let mut roots = webpki_roots_store();
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| TrustError::BadCertificate {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| TrustError::BadCertificate {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(TrustError::NoCertificate {
                path: path.to_owned(),
            });
        }
        Self::from_roots(roots)
    }

    fn from_roots(roots: RootCertStore) -> Result<Self, TrustError> {
        // The provider is named, not taken from the process default: which crypto backends are
        // compiled in depends on feature unification across the workspace.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrustError::Provider {
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// `inner` with TLS on top: every stream it returns is handshaken (SNI = the host dialled,
    /// the certificate verified against these roots for that host).
    pub fn connector(&self, inner: SharedConnector) -> SharedConnector {
        Arc::new(TlsConnector {
            inner,
            tls: tokio_rustls::TlsConnector::from(self.config.clone()),
        })
    }
}

fn webpki_roots_store() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// See [`TlsTrust::connector`].
struct TlsConnector {
    inner: SharedConnector,
    tls: tokio_rustls::TlsConnector,
}

impl Connector for TlsConnector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        let tcp = self.inner.connect(host, port);
        let tls = self.tls.clone();
        let host = host.to_owned();
        Box::pin(async move {
            let stream = tcp.await?;
            let fail = |source: io::Error| {
                io::Error::other(HandshakeError::Tls {
                    host: host.clone(),
                    source,
                })
            };
            let name = ServerName::try_from(host.clone()).map_err(|_| {
                fail(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a DNS name or an IP address",
                ))
            })?;
            let stream = tls.connect(name, stream).await.map_err(fail)?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}
