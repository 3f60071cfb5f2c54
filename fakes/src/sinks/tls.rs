//! The sinks over TLS, for the clients' contract tests: a test CA made at start (rcgen), a
//! server certificate it issues for the names asked for, and a server that terminates TLS
//! (rustls) in front of any router.
//!
//! The CA's PEM is handed out ([`TestCa::pem`], and `GET /control/ca` on a [`FakeSinks`] served
//! with [`spawn_local_tls`]) so the client under test can trust it (`ALERTS_CA_FILE`).

use std::{io, net::SocketAddr, sync::Arc};

use axum::Router;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::FakeSinks;

/// Why the TLS fake could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused to make a key or a certificate.
    #[error("cannot make the test certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the certificate chain.
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
    /// The listener could not be bound.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[from] io::Error),
}

/// A CA made for one test run, and the server identity it issued.
pub struct TestCa {
    ca: CertifiedIssuer<'static, KeyPair>,
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A fresh CA and a server certificate for `names` (DNS names or IP literals).
    pub fn new(names: &[&str]) -> Result<Self, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Pithead fake sinks test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;

        let key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(Vec::<String>::new())?;
        for name in names {
            let san = match name.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into()?),
            };
            leaf.subject_alt_names.push(san);
        }
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = leaf.signed_by(&key, &ca)?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        Ok(Self {
            ca,
            config: Arc::new(config),
        })
    }

    /// The CA certificate, PEM (what the client must trust).
    pub fn pem(&self) -> String {
        self.ca.pem()
    }

    /// The server side, for [`serve_tls`].
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.config))
    }
}

/// Serve `router` over TLS on `listener` forever (tokio only: the simulation speaks plain HTTP).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) -> io::Result<()> {
    loop {
        let (tcp, _peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            // A refused handshake is the client's doing (it did not trust the CA): nothing to serve.
            match acceptor.accept(tcp).await {
                Ok(tls) => crate::serve::serve_one(tls, router).await,
                Err(err) => tracing::debug!(%err, "TLS handshake refused"),
            }
        });
    }
}

/// Serve `fake` over TLS on `127.0.0.1:0` with a fresh CA whose certificate names `localhost`
/// and `127.0.0.1`. Returns the address and the CA's PEM; `GET /control/ca` serves the PEM too.
pub async fn spawn_local_tls(
    fake: &FakeSinks,
) -> Result<(SocketAddr, String, tokio::task::JoinHandle<io::Result<()>>), TlsError> {
    let ca = TestCa::new(&["localhost", "127.0.0.1"])?;
    let pem = ca.pem();
    fake.serve_ca(pem.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve_tls(listener, ca.acceptor(), fake.router()));
    Ok((addr, pem, task))
}
