//! Tier 2: the real `XvbClient` over `https://` and through a `socks5h://` proxy, on loopback.
//!
//! The fake XvB site is served plain and fronted by a rustls server holding a certificate from a
//! test CA made here with rcgen; the client trusts that CA through `XVB_CA_FILE`. A certificate
//! from another CA, or for another name, is refused with a typed error naming the host. A
//! hand-written SOCKS5 server records what it was asked for: the host *name* (socks5h), never an
//! address resolved on this side; a proxy that refuses is a typed error naming proxy and host.
//!
//! The host `xvb.test` exists only in this file's connector, which maps it to 127.0.0.1 and logs
//! every host it was asked to dial: with a proxy, it is only ever asked for the proxy.

// The helpers build certificates and servers: a failure there is a broken test, said loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pithead_fakes::xvb::FakeXvb;
use pithead_runtime::config::Config;
use pithead_runtime::cycle::XvbClients;
use pithead_runtime::io::http::Exchange;
use pithead_runtime::io::{
    BoxedStream, Connector, Endpoint, HandshakeError, SharedConnector, Socks5Proxy, Target,
    TlsTrust, TransportError, TrustError,
};
use pithead_runtime::observe::xvb::{XvbClient, XvbError, XvbRoute};
use pithead_runtime::observe::SetupError;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const HOST: &str = "xvb.test";

fn address() -> String {
    format!("4{}", "C".repeat(94))
}

fn exchange() -> Exchange {
    Exchange {
        timeout: Duration::from_secs(5),
        limit_bytes: 1024 * 1024,
    }
}

/// Dials every name through 127.0.0.1 and remembers which names it was asked for.
#[derive(Default)]
struct Loopback {
    asked: Mutex<Vec<String>>,
}

impl Loopback {
    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Connector for Loopback {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<BoxedStream>> + Send + 'static>> {
        self.asked.lock().unwrap().push(host.to_owned());
        Box::pin(async move {
            let stream = TcpStream::connect(("127.0.0.1", port)).await?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}

/// A CA of the test's own.
fn test_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for `names`, issued by `ca`.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, ca).unwrap();
    (
        vec![cert.der().clone(), ca.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// `ca`'s certificate as a PEM file.
fn ca_file(ca: &CertifiedIssuer<'static, KeyPair>) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    io::Write::write_all(&mut file, ca.pem().as_bytes()).unwrap();
    file
}

/// The plain fake XvB site on loopback.
async fn fake_site() -> (FakeXvb, SocketAddr, JoinHandle<io::Result<()>>) {
    let fake = FakeXvb::new();
    fake.set_donor(12_345.0, 11_000.0, 1);
    fake.set_winner("4ABC...WXYZ");
    let (addr, task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    (fake, addr, task)
}

/// A TLS front for `backend`: terminates TLS with `chain`/`key`, records the SNI of every
/// handshake, and pipes the plaintext to `backend`.
struct TlsFront {
    addr: SocketAddr,
    sni: Arc<Mutex<Vec<Option<String>>>>,
    _task: JoinHandle<()>,
}

async fn tls_front(
    (chain, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    backend: SocketAddr,
) -> TlsFront {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sni = Arc::new(Mutex::new(Vec::new()));
    let seen = sni.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                // A refused handshake is the client's doing: nothing to forward.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                seen.lock()
                    .unwrap()
                    .push(tls.get_ref().1.server_name().map(str::to_owned));
                if let Ok(mut plain) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    TlsFront {
        addr,
        sni,
        _task: task,
    }
}

/// What the SOCKS5 server was asked to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    Name(String, u16),
    Address(String, u16),
}

/// A minimal SOCKS5 server (no authentication, CONNECT only) that records each request and,
/// unless `refuse`, connects to 127.0.0.1 at the requested port and pipes.
struct Socks5Server {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<Asked>>>,
    _task: JoinHandle<()>,
}

async fn socks5_server(refuse: bool) -> Socks5Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let _ = socks5_session(client, refuse, log).await;
            });
        }
    });
    Socks5Server {
        addr,
        asked,
        _task: task,
    }
}

async fn socks5_session(
    mut client: TcpStream,
    refuse: bool,
    log: Arc<Mutex<Vec<Asked>>>,
) -> io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&0) {
        client.write_all(&[5, 0xff]).await?;
        return Ok(());
    }
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            Err(std::net::Ipv4Addr::from(ip).to_string())
        }
        3 => {
            let len = client.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            client.read_exact(&mut name).await?;
            Ok(String::from_utf8_lossy(&name).into_owned())
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            Err(std::net::Ipv6Addr::from(ip).to_string())
        }
        _ => return Ok(()),
    };
    let port = client.read_u16().await?;
    log.lock().unwrap().push(match host {
        Ok(name) => Asked::Name(name, port),
        Err(ip) => Asked::Address(ip, port),
    });
    // Reply: version, status, reserved, IPv4 0.0.0.0:0 as the bound address.
    if refuse {
        client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    }
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).await?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

fn client(
    connector: SharedConnector,
    url: &str,
    trust: TlsTrust,
    proxy: Option<&str>,
) -> XvbClient {
    let route = XvbRoute {
        trust,
        proxy: proxy.map(|p| Socks5Proxy::parse(p).unwrap()),
    };
    XvbClient::new(
        connector,
        &Endpoint::parse_web(url).unwrap(),
        &route,
        exchange(),
    )
}

fn config(env: &[(&str, String)]) -> Result<Config, pithead_runtime::config::ConfigError> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .chain([("XVB_ENABLED".to_owned(), "true".to_owned())])
        .collect();
    Config::from_lookup(|k| env.get(k).cloned())
}

/// The handshake error under `err`, when it is one.
fn handshake(err: &XvbError) -> Option<&HandshakeError> {
    match err {
        XvbError::Transport(TransportError::Handshake { source, .. }) => Some(source.as_ref()),
        _ => None,
    }
}

#[tokio::test]
async fn donor_stats_over_https_from_a_test_ca_set_by_xvb_ca_file() {
    let (fake, site, _site) = fake_site().await;
    let ca = test_ca("Pithead test CA");
    let front = tls_front(leaf(&ca, &[HOST]), site).await;
    let ca_pem = ca_file(&ca);
    let config = config(&[
        (
            "XVB_API_URL",
            format!("https://{HOST}:{}", front.addr.port()),
        ),
        ("XVB_CA_FILE", ca_pem.path().display().to_string()),
        ("MONERO_WALLET_ADDRESS", address()),
    ])
    .unwrap();
    let loopback = Arc::new(Loopback::default());
    let clients = XvbClients::new(&config.xvb, loopback.clone(), exchange()).unwrap();
    let xvb = clients.xvb.as_ref().expect("XVB_API_URL is set");

    let donor = xvb.donor_stats(&address()).await.unwrap();
    assert_eq!(
        (donor.fail_count, donor.avg_1h_hs, donor.avg_24h_hs),
        (1, 12_345.0, 11_000.0)
    );
    let public = xvb.public_stats().await.unwrap();
    assert_eq!(public.winner, "4ABC...WXYZ");
    assert!(fake.requests() >= 2, "the fake saw {}", fake.requests());
    // SNI carries the name the certificate was checked against.
    let sni = front.sni.lock().unwrap().clone();
    assert!(!sni.is_empty());
    assert!(sni.iter().all(|s| s.as_deref() == Some(HOST)), "{sni:?}");
    assert!(loopback.asked().iter().all(|h| h == HOST));

    // The same site over http:// to the plain fake still works beside it.
    let plain = client(
        loopback,
        &format!("http://{HOST}:{}", site.port()),
        TlsTrust::webpki().unwrap(),
        None,
    );
    assert_eq!(
        plain.donor_stats(&address()).await.unwrap().avg_1h_hs,
        12_345.0
    );
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused_naming_the_host() {
    let (fake, site, _site) = fake_site().await;
    let trusted = test_ca("Pithead test CA");
    let stranger = test_ca("Somebody else's CA");
    let front = tls_front(leaf(&stranger, &[HOST]), site).await;
    let trusted_pem = ca_file(&trusted);
    let url = format!("https://{HOST}:{}", front.addr.port());
    for trust in [
        TlsTrust::webpki_and_ca_file(trusted_pem.path()).unwrap(),
        TlsTrust::webpki().unwrap(),
    ] {
        let c = client(Arc::new(Loopback::default()), &url, trust, None);
        let err = c.donor_stats(&address()).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(handshake(&err), Some(HandshakeError::Tls { host, .. }) if host == HOST),
            "{err:?}"
        );
        assert!(text.contains(HOST), "{text}");
        assert!(text.contains("certificate"), "{text}");
        assert!(text.contains("UnknownIssuer"), "{text}");
        assert!(!format!("{err:?}").contains(&address()), "{err:?}");
    }
    assert_eq!(fake.requests(), 0, "nothing may reach the site");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let (fake, site, _site) = fake_site().await;
    let ca = test_ca("Pithead test CA");
    let front = tls_front(leaf(&ca, &["other.test"]), site).await;
    let ca_pem = ca_file(&ca);
    let c = client(
        Arc::new(Loopback::default()),
        &format!("https://{HOST}:{}", front.addr.port()),
        TlsTrust::webpki_and_ca_file(ca_pem.path()).unwrap(),
        None,
    );
    let err = c.public_stats().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(handshake(&err), Some(HandshakeError::Tls { .. })),
        "{err:?}"
    );
    assert!(text.contains("not valid for name"), "{text}");
    assert!(text.contains(HOST), "{text}");
    assert_eq!(fake.requests(), 0);
}

#[tokio::test]
async fn an_unusable_ca_file_fails_at_startup_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let err = TlsTrust::webpki_and_ca_file(&missing).unwrap_err();
    assert!(matches!(err, TrustError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-ca.pem"), "{err}");

    let key_only = dir.path().join("key.pem");
    std::fs::write(&key_only, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = TlsTrust::webpki_and_ca_file(&key_only).unwrap_err();
    assert!(matches!(err, TrustError::NoCertificate { .. }), "{err:?}");
    // The key's PEM is not echoed.
    assert!(!err.to_string().contains("PRIVATE KEY"), "{err}");

    let config = config(&[
        ("XVB_API_URL", "https://xmrvsbeast.com".to_owned()),
        ("XVB_CA_FILE", missing.display().to_string()),
    ])
    .unwrap();
    let err = XvbClients::new(&config.xvb, Arc::new(Loopback::default()), exchange())
        .err()
        .expect("a missing CA file is refused");
    assert!(matches!(err, SetupError::XvbTrust(_)), "{err:?}");
    assert!(err.to_string().starts_with("XVB_CA_FILE: "), "{err}");
}

#[tokio::test]
async fn a_socks5h_proxy_is_asked_for_the_host_name_over_https_and_http() {
    let (fake, site, _site) = fake_site().await;
    let ca = test_ca("Pithead test CA");
    let front = tls_front(leaf(&ca, &[HOST]), site).await;
    let ca_pem = ca_file(&ca);
    let proxy = socks5_server(false).await;
    let config = config(&[
        (
            "XVB_API_URL",
            format!("https://{HOST}:{}", front.addr.port()),
        ),
        ("XVB_CA_FILE", ca_pem.path().display().to_string()),
        ("XVB_PROXY", format!("socks5h://{}", proxy.addr)),
        ("XVB_DONOR_ID", address()),
    ])
    .unwrap();
    let loopback = Arc::new(Loopback::default());
    let clients = XvbClients::new(&config.xvb, loopback.clone(), exchange()).unwrap();
    let xvb = clients.xvb.as_ref().expect("XVB_API_URL is set");

    let donor = xvb.donor_stats(&address()).await.unwrap();
    assert_eq!(donor.avg_24h_hs, 11_000.0);
    let asked = proxy.asked.lock().unwrap().clone();
    assert!(!asked.is_empty());
    assert!(
        asked
            .iter()
            .all(|a| *a == Asked::Name(HOST.to_owned(), front.addr.port())),
        "the proxy must get the name, not an address: {asked:?}"
    );
    // TLS runs inside the tunnel, end to end with the site: SNI is the site's name.
    assert_eq!(
        front
            .sni
            .lock()
            .unwrap()
            .first()
            .cloned()
            .flatten()
            .as_deref(),
        Some(HOST)
    );
    // This side dialled only the proxy: no lookup or connect of the site's name.
    assert!(
        loopback
            .asked()
            .iter()
            .all(|h| *h == proxy.addr.ip().to_string()),
        "{:?}",
        loopback.asked()
    );

    // Plain http:// through the same proxy.
    let plain = client(
        loopback,
        &format!("http://{HOST}:{}", site.port()),
        TlsTrust::webpki().unwrap(),
        Some(&format!("socks5h://{}", proxy.addr)),
    );
    assert_eq!(plain.public_stats().await.unwrap().round_type, "donor");
    assert_eq!(
        proxy.asked.lock().unwrap().last(),
        Some(&Asked::Name(HOST.to_owned(), site.port()))
    );
    assert!(fake.requests() >= 2);
}

#[tokio::test]
async fn a_refusing_or_absent_proxy_is_a_clear_error() {
    let (fake, site, _site) = fake_site().await;
    let proxy = socks5_server(true).await;
    let url = format!("http://{HOST}:{}", site.port());
    let c = client(
        Arc::new(Loopback::default()),
        &url,
        TlsTrust::webpki().unwrap(),
        Some(&format!("socks5h://{}", proxy.addr)),
    );
    let err = c.donor_stats(&address()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            handshake(&err),
            Some(HandshakeError::ProxyRefused { proxy: p, destination, source: tokio_socks::Error::ConnectionRefused })
                if *p == Target::new("127.0.0.1", proxy.addr.port()) && destination.host() == HOST
        ),
        "{err:?}"
    );
    assert!(text.contains("SOCKS5 proxy"), "{text}");
    assert!(text.contains(&proxy.addr.to_string()), "{text}");
    assert!(text.contains(HOST), "{text}");
    assert!(!format!("{err:?}").contains(&address()), "{err:?}");
    assert_eq!(
        proxy.asked.lock().unwrap().clone(),
        vec![Asked::Name(HOST.to_owned(), site.port())]
    );

    // A proxy that is not there at all.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = closed.local_addr().unwrap();
    drop(closed);
    let c = client(
        Arc::new(Loopback::default()),
        &url,
        TlsTrust::webpki().unwrap(),
        Some(&format!("socks5h://{gone}")),
    );
    let err = c.public_stats().await.unwrap_err();
    assert!(
        matches!(
            handshake(&err),
            Some(HandshakeError::ProxyUnreachable { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("the SOCKS5 proxy {gone} is unreachable")),
        "{err}"
    );
    assert_eq!(fake.requests(), 0);
}
