//! `pithead-fake`: run one fake daemon as a process (the mini-stack's container images).
//!
//! ```text
//! pithead-fake monerod     --listen 0.0.0.0:18081 [--control-listen 0.0.0.0:9000] [--initial '{"mode":"syncing","height":100,"target":200}'] [--rpc-login user:pass]
//! pithead-fake tari        --listen 0.0.0.0:18142 --control-listen 0.0.0.0:9000 [--initial '{"mode":"starting"}']
//! pithead-fake p2pool      --listen 0.0.0.0:3380 [--data-dir /data-api] [--initial '{"network_height":0}']
//! pithead-fake xmrig-proxy --listen 0.0.0.0:3344 --token T [--initial '{"workers":[…]}']
//! pithead-fake docker      --listen 0.0.0.0:2375 --containers itest-p2pool,itest-xmrig-proxy=exited
//! pithead-fake xvb         --listen 0.0.0.0:8088 [--initial '{"avg_1h_hs":1200}']
//! pithead-fake sinks       --listen 0.0.0.0:8099 [--control-listen 0.0.0.0:9000] [--initial '{"expect":{"ntfy_token":"tk"}}'] [--tls --tls-name sinks --ca-out /shared/sinks-ca.pem]
//! pithead-fake socket-proxy --listen 0.0.0.0:2375 --access start-stop [--socket /var/run/docker.sock]
//! pithead-fake probe       http://127.0.0.1:18081/get_info
//! ```
//! `socket-proxy` is not a fake: it is the least-privilege docker socket proxy of the mini-stack
//! (see `pithead_fakes::socket_proxy`). `probe` is the images' health check (they have no shell):
//! exit 0 when the URL answers 2xx within two seconds, 1 otherwise.
//! Without `--control-listen` the control API (`POST`/`GET /control`) shares the daemon's port.
//! `--initial` takes exactly what `POST /control` takes. Stops cleanly on Ctrl-C or SIGTERM.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{bail, Context};
use axum::{body::Body, http::Request, Router};
use clap::{Args, Parser, Subcommand};
use pithead_fakes::{
    docker::{ContainerStatus, FakeDocker},
    monerod::{FakeMonerod, MoneroMode},
    p2pool::{FakeP2pool, P2poolState},
    serve::serve,
    sinks::{tls::TestCa, FakeSinks},
    socket_proxy::{Access, SocketProxy},
    tari::{FakeTari, TariMode},
    xmrig_proxy::FakeXmrigProxy,
    xvb::FakeXvb,
};
use tower::ServiceExt;

#[derive(Debug, Parser)]
#[command(
    name = "pithead-fake",
    version,
    about = "Run one of Pithead's fake daemons"
)]
struct Cli {
    #[command(subcommand)]
    fake: Fake,
}

#[derive(Debug, Args)]
struct Common {
    /// Address the daemon's own API listens on.
    #[arg(long)]
    listen: SocketAddr,
    /// Serve `POST`/`GET /control` on this address instead of the daemon's port.
    #[arg(long)]
    control_listen: Option<SocketAddr>,
    /// Initial state: the same JSON `POST /control` accepts.
    #[arg(long)]
    initial: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Fake {
    /// monerod RPC (`/json_rpc` get_info, `/get_info`).
    Monerod {
        #[command(flatten)]
        common: Common,
        /// Require digest auth, as `monerod --rpc-login user:password`.
        #[arg(long, env = "FAKE_MONEROD_RPC_LOGIN", hide_env_values = true)]
        rpc_login: Option<String>,
        /// Answer as a restricted (public) RPC.
        #[arg(long)]
        restricted: bool,
        /// `database_size` to report, in bytes.
        #[arg(long)]
        database_size: Option<u64>,
    },
    /// Tari base node gRPC (control API on its own port).
    Tari {
        #[command(flatten)]
        common: Common,
    },
    /// p2pool data API over HTTP, optionally also written to a directory.
    P2pool {
        #[command(flatten)]
        common: Common,
        /// Also write the documents here (as `p2pool --data-api DIR`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Seconds between rewrites of `--data-dir`.
        #[arg(long, default_value_t = 2)]
        write_interval_secs: u64,
    },
    /// xmrig-proxy HTTP API.
    XmrigProxy {
        #[command(flatten)]
        common: Common,
        /// Bearer token the API requires.
        #[arg(long, env = "FAKE_XMRIG_PROXY_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Docker engine API subset.
    Docker {
        #[command(flatten)]
        common: Common,
        /// Containers: `name` (running) or `name=running|exited|restarting|paused|created|dead`,
        /// comma-separated.
        #[arg(long, value_delimiter = ',')]
        containers: Vec<String>,
    },
    /// XMRvsBeast bonus pages and APIs.
    Xvb {
        #[command(flatten)]
        common: Common,
    },
    /// Recording alert sinks: Telegram Bot API, webhooks, ntfy, healthchecks.
    Sinks {
        #[command(flatten)]
        common: Common,
        /// Serve the sinks over TLS with a test CA made at start (the control API stays plain
        /// when it has its own `--control-listen`).
        #[arg(long)]
        tls: bool,
        /// Names the TLS certificate is valid for (DNS names or IP literals).
        #[arg(long, value_delimiter = ',', default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        tls_name: Vec<String>,
        /// Write the test CA's PEM here (also served at `GET /control/ca`).
        #[arg(long)]
        ca_out: Option<PathBuf>,
    },
    /// The least-privilege docker socket proxy (not a fake: the real thing, for the mini-stack).
    SocketProxy {
        /// Address to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// What passes: `read-only` (docker-proxy) or `start-stop` (docker-control).
        #[arg(long, value_enum)]
        access: AccessArg,
        /// The engine's unix socket.
        #[arg(long, default_value = "/var/run/docker.sock")]
        socket: PathBuf,
        /// Seconds one forwarded call may take.
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
    },
    /// Health check: exit 0 when `url` answers 2xx within two seconds.
    Probe {
        /// An `http://` URL.
        url: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AccessArg {
    ReadOnly,
    StartStop,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    tokio::select! {
        res = run(cli.fake) => res,
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot watch SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Apply `--initial` through the control API itself, so it is checked exactly like a request.
async fn apply_initial(control: Router, initial: Option<&str>) -> anyhow::Result<()> {
    let Some(body) = initial else {
        return Ok(());
    };
    let req = Request::post("/control")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .context("building the --initial request")?;
    let resp = control.oneshot(req).await.context("applying --initial")?;
    if !resp.status().is_success() {
        let status = resp.status();
        let msg = axum::body::to_bytes(resp.into_body(), 64 * 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        bail!("--initial refused ({status}): {}", msg.trim());
    }
    Ok(())
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for {what}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, "{what} listening");
    Ok(listener)
}

/// Serve `wire` and `control` on one port, or on two when `--control-listen` is given.
async fn serve_http(
    name: &str,
    common: &Common,
    wire: Router,
    control: Router,
) -> anyhow::Result<()> {
    match common.control_listen {
        None => {
            let listener = bind(common.listen, name).await?;
            serve(listener, wire.merge(control)).await?;
        }
        Some(control_addr) => {
            let listener = bind(common.listen, name).await?;
            let control_listener = bind(control_addr, "control API").await?;
            tokio::try_join!(serve(listener, wire), serve(control_listener, control))?;
        }
    }
    Ok(())
}

/// One `GET` on a fresh connection; `Ok` on a 2xx reply within two seconds.
async fn probe(url: &str) -> anyhow::Result<()> {
    let uri: http::Uri = url.parse().with_context(|| format!("not a URL: {url:?}"))?;
    if uri.scheme_str() != Some("http") {
        bail!("probe speaks plain http only: {url:?}");
    }
    let authority = uri
        .authority()
        .with_context(|| format!("no host in {url:?}"))?
        .clone();
    let check = async {
        let port = authority.port_u16().unwrap_or(80);
        let stream = tokio::net::TcpStream::connect((authority.host(), port)).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let req = Request::get(path)
            .header(http::header::HOST, authority.as_str())
            .body(http_body_util::Empty::<bytes::Bytes>::new())?;
        let status = sender.send_request(req).await?.status();
        anyhow::Ok(status)
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(status)) if status.is_success() => Ok(()),
        Ok(Ok(status)) => bail!("{url} answered {status}"),
        Ok(Err(err)) => bail!("{url}: {err}"),
        Err(_) => bail!("{url}: no answer within 2 s"),
    }
}

fn parse_container(spec: &str) -> anyhow::Result<(String, ContainerStatus)> {
    let (name, status) = match spec.split_once('=') {
        None => (spec, ContainerStatus::Running),
        Some((name, state)) => {
            let status = serde_json::from_value(serde_json::Value::String(state.to_owned()))
                .with_context(|| {
                    format!(
                        "--containers: unknown state {state:?} for {name:?} \
                         (expected running, exited, restarting, paused, created or dead)"
                    )
                })?;
            (name, status)
        }
    };
    if name.is_empty() {
        bail!("--containers: empty container name in {spec:?}");
    }
    Ok((name.to_owned(), status))
}

async fn run(fake: Fake) -> anyhow::Result<()> {
    match fake {
        Fake::Monerod {
            common,
            rpc_login,
            restricted,
            database_size,
        } => {
            let mut fake = FakeMonerod::new(MoneroMode::Syncing {
                height: 1,
                target: 0,
            })
            .with_restricted(restricted);
            if let Some(bytes) = database_size {
                fake = fake.with_database_size(bytes);
            }
            if let Some(login) = rpc_login {
                let Some((user, password)) = login.split_once(':') else {
                    bail!("--rpc-login must be user:password");
                };
                fake = fake.with_digest_auth(user, password);
            }
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            tracing::info!(mode = ?fake.mode(), "fake monerod");
            serve_http(
                "monerod",
                &common,
                fake.wire_router(),
                fake.control_router(),
            )
            .await
        }
        Fake::Tari { common } => {
            let Some(control_addr) = common.control_listen else {
                bail!("tari needs --control-listen: gRPC and the HTTP control API cannot share a port");
            };
            let fake = FakeTari::new(TariMode::Starting);
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            tracing::info!(mode = ?fake.mode(), "fake tari");
            let grpc_listener = bind(common.listen, "tari gRPC").await?;
            let control_listener = bind(control_addr, "control API").await?;
            let grpc = tonic::transport::Server::builder()
                .add_service(fake.grpc_service())
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc_listener));
            let control = serve(control_listener, fake.control_router());
            tokio::select! {
                res = grpc => res.with_context(|| format!("tari gRPC on {}", common.listen)),
                res = control => res.context("tari control API"),
            }
        }
        Fake::P2pool {
            common,
            data_dir,
            write_interval_secs,
        } => {
            let fake = FakeP2pool::new(P2poolState::default());
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            if let Some(dir) = data_dir {
                let writer = fake.clone();
                tracing::info!(dir = %dir.display(), "writing the p2pool data API");
                tokio::spawn(async move {
                    writer
                        .run_data_dir_writer(&dir, Duration::from_secs(write_interval_secs.max(1)))
                        .await;
                });
            }
            serve_http("p2pool", &common, fake.wire_router(), fake.control_router()).await
        }
        Fake::XmrigProxy { common, token } => {
            if token.is_empty() {
                bail!("--token must not be empty");
            }
            let fake = FakeXmrigProxy::new(&token);
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            serve_http(
                "xmrig-proxy",
                &common,
                fake.wire_router(),
                fake.control_router(),
            )
            .await
        }
        Fake::Docker { common, containers } => {
            let fake = FakeDocker::new(&[]);
            for spec in &containers {
                let (name, status) = parse_container(spec)?;
                fake.set_status(&name, status);
            }
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            serve_http("docker", &common, fake.wire_router(), fake.control_router()).await
        }
        Fake::SocketProxy {
            listen,
            access,
            socket,
            timeout_secs,
        } => {
            let access = match access {
                AccessArg::ReadOnly => Access::ReadOnly,
                AccessArg::StartStop => Access::StartStop,
            };
            let proxy = SocketProxy {
                access,
                socket,
                timeout: Duration::from_secs(timeout_secs.max(1)),
            };
            tracing::info!(?access, socket = %proxy.socket.display(), "docker socket proxy");
            let listener = bind(listen, "socket proxy").await?;
            serve(listener, proxy.router()).await?;
            Ok(())
        }
        Fake::Probe { url } => probe(&url).await,
        Fake::Sinks {
            common,
            tls,
            tls_name,
            ca_out,
        } => run_sinks(&common, tls, &tls_name, ca_out).await,
        Fake::Xvb { common } => {
            let fake = FakeXvb::new();
            apply_initial(fake.control_router(), common.initial.as_deref()).await?;
            serve_http("xvb", &common, fake.wire_router(), fake.control_router()).await
        }
    }
}

/// The recording sinks, plain or over TLS with a fresh test CA.
async fn run_sinks(
    common: &Common,
    tls: bool,
    names: &[String],
    ca_out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let fake = FakeSinks::new();
    apply_initial(fake.control_router(), common.initial.as_deref()).await?;
    if !tls {
        return serve_http("sinks", common, fake.wire_router(), fake.control_router()).await;
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ca = TestCa::new(&names).context("making the test CA")?;
    let pem = ca.pem();
    fake.serve_ca(pem.clone());
    if let Some(path) = ca_out {
        let tmp = path.with_extension("pem.tmp");
        std::fs::write(&tmp, &pem).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(path = %path.display(), "test CA written");
    }
    let listener = bind(common.listen, "sinks (TLS)").await?;
    match common.control_listen {
        None => {
            pithead_fakes::sinks::tls::serve_tls(listener, ca.acceptor(), fake.router()).await?;
        }
        Some(control_addr) => {
            let control = bind(control_addr, "control API").await?;
            tokio::try_join!(
                pithead_fakes::sinks::tls::serve_tls(listener, ca.acceptor(), fake.wire_router()),
                serve(control, fake.control_router())
            )?;
        }
    }
    Ok(())
}
