//! Tier 2: the real `TariClient` against the fake Tari base node over real loopback gRPC, every
//! mode, read the way the cycle reads it (through the control side's `TariLastGood` policy and
//! `chain` rules), plus the cache and reconnect rules:
//! - a Tari height equal to the tip while syncing never shows 100 %;
//! - after one good reading a down node leaves the cached reading flagged unreachable;
//! - a node that restarts is read again on the next call.
//!
//! The fake serves all three RPCs the client calls (`GetNetworkState`, `GetTipInfo`,
//! `GetSyncProgress`); `without_network_state` makes it a node that predates `GetNetworkState`
//! (answers `UNIMPLEMENTED`), which the client must fall back from; `deny_tip_info` makes it a
//! node at minotari's default allow-list, read with `GetNetworkState` alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pithead_fakes::tari::{FakeTari, Migration, TariMode};
use pithead_runtime::control::{TariLastGood, TariStatus};
use pithead_runtime::io::{SharedConnector, TokioConnector};
use pithead_runtime::observe::tari::{TariClient, TariError, TariNodeState};

/// A gRPC server on its own thread and runtime, so that stopping it closes every connection
/// (a real restart), and starting it again reuses the port.
struct Node {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Node {
    fn start(fake: &FakeTari, port: u16) -> Self {
        let service = fake.grpc_service();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                socket.set_reuseaddr(true).expect("reuseaddr");
                socket
                    .bind(SocketAddr::from(([127, 0, 0, 1], port)))
                    .expect("bind");
                let listener = socket.listen(64).expect("listen");
                port_tx
                    .send(listener.local_addr().expect("addr").port())
                    .expect("report port");
                let incoming = futures::stream::unfold(listener, |l| async move {
                    let next = l.accept().await.map(|(s, _)| s);
                    Some((next, l))
                });
                let serve =
                    tonic::transport::Server::builder().serve_with_incoming(service, incoming);
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime cancels every connection task: the node is gone.
            drop(rt);
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server up");
        Self {
            port,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The client and the control side's stale-reading policy, as the cycle runs them.
struct Watched {
    client: TariClient,
    policy: TariLastGood,
    last_error: Option<TariError>,
}

impl Watched {
    async fn read(&mut self) -> TariStatus {
        let read = self.client.read().await;
        let status = self.policy.observe(&read);
        self.last_error = read.err();
        status
    }

    fn last_error(&self) -> Option<&TariError> {
        self.last_error.as_ref()
    }
}

fn client(port: u16, timeout: Duration) -> Watched {
    let connector: SharedConnector = Arc::new(TokioConnector);
    Watched {
        client: TariClient::new(
            connector,
            pithead_runtime::io::Target::new("127.0.0.1", port),
            timeout,
        ),
        policy: TariLastGood::default(),
        last_error: None,
    }
}

fn setup(mode: TariMode) -> (FakeTari, Node) {
    let fake = FakeTari::new(mode);
    let node = Node::start(&fake, 0);
    (fake, node)
}

#[tokio::test]
async fn synced_syncing_and_the_never_100_rule() {
    let (fake, node) = setup(TariMode::Synced { height: 5_000 });
    let mut c = client(node.port, Duration::from_secs(5));

    let s = c.read().await;
    assert!(s.reachable && !s.stale, "{s:?} {:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height),
        (5_000, 5_000)
    );
    assert!(s.reading.initial_sync_achieved && !s.is_syncing());
    assert_eq!(s.percent(), 100);

    fake.set_mode(TariMode::Syncing {
        local: 1_250,
        tip: 5_000,
    });
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Syncing);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height),
        (1_250, 5_000)
    );
    assert!(s.is_syncing());
    assert_eq!(s.percent(), 25);

    // One short of the tip: 99 %, never a rounded-up 100.
    fake.set_mode(TariMode::Syncing {
        local: 4_999,
        tip: 5_000,
    });
    let s = c.read().await;
    assert!(s.is_syncing());
    assert_eq!(s.percent(), 99);

    // At the tip while the node still says it syncs: done, as the gate counts it (domain §3).
    fake.set_mode(TariMode::Syncing {
        local: 5_000,
        tip: 5_000,
    });
    let s = c.read().await;
    assert!(s.is_syncing());
    assert_eq!(s.percent(), 100);
}

#[tokio::test]
async fn starting_and_migrating_are_reachable_not_synced() {
    let (fake, node) = setup(TariMode::Starting);
    let mut c = client(node.port, Duration::from_secs(5));

    // GetNetworkState readiness STARTING_UP.
    let s = c.read().await;
    assert!(s.reachable && s.is_syncing(), "{s:?} {:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Starting);
    assert_eq!(s.reading.migration_percent, None);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height, s.percent()),
        (0, 0, 0)
    );

    // GetNetworkState readiness `migration`, with its progress.
    fake.set_mode(TariMode::Migrating);
    let s = c.read().await;
    assert!(s.reachable && s.is_syncing(), "{s:?} {:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Migrating);
    assert_eq!(s.reading.migration_percent, Some(0));
    fake.set_migration_progress(Migration {
        current_block: 429,
        total_blocks: 1_000,
    });
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Migrating);
    assert_eq!(s.reading.migration_percent, Some(42), "42.9 % floors to 42");

    // Back to starting, then READY: the tip info decides.
    fake.set_mode(TariMode::Starting);
    assert_eq!(c.read().await.reading.state, TariNodeState::Starting);
    fake.set_mode(TariMode::Synced { height: 77 });
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(s.reading.local_height, 77);
    assert_eq!(s.reading.migration_percent, None);
}

#[tokio::test]
async fn a_node_without_get_network_state_falls_back_to_tip_info() {
    let fake = FakeTari::new(TariMode::Migrating).without_network_state();
    let node = Node::start(&fake, 0);
    let mut c = client(node.port, Duration::from_secs(5));

    // UNIMPLEMENTED: the START_UP tip info reads as starting (a migration is not visible).
    let s = c.read().await;
    assert!(s.reachable && s.is_syncing(), "{s:?} {:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Starting);
    assert!(c.last_error().is_none());
    let after_first = fake.requests();
    assert_eq!(
        after_first, 3,
        "GetNetworkState, GetTipInfo, GetSyncProgress"
    );

    // The client stops asking for GetNetworkState: two calls per read from now on.
    fake.set_mode(TariMode::Syncing {
        local: 250,
        tip: 1_000,
    });
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Syncing);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height, s.percent()),
        (250, 1_000, 25)
    );
    assert_eq!(fake.requests(), after_first + 2);

    // Syncing at the last read: the progress is still asked alongside.
    fake.set_mode(TariMode::Synced { height: 1_000 });
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(fake.requests(), after_first + 4);
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(fake.requests(), after_first + 5, "synced: GetTipInfo only");
}

#[tokio::test]
async fn a_ready_node_is_read_with_get_network_state_alone() {
    // minotari's default allow-list serves GetNetworkState and denies GetTipInfo: a node left at
    // its defaults must still read as synced, with one call per read.
    let fake = FakeTari::new(TariMode::Synced { height: 900 }).deny_tip_info();
    let node = Node::start(&fake, 0);
    let mut c = client(node.port, Duration::from_secs(5));

    let s = c.read().await;
    assert!(s.reachable && !s.stale, "{s:?} {:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!((s.reading.local_height, s.reading.tip_height), (900, 900));
    assert_eq!(s.percent(), 100);
    // Not yet known synced: GetSyncProgress went along with GetNetworkState.
    assert_eq!(fake.requests(), 2, "GetNetworkState and GetSyncProgress");
    let s = c.read().await;
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(fake.requests(), 3, "synced: GetNetworkState only");

    // Fallen behind: GetSyncProgress is asked after GetNetworkState, for the tip.
    fake.set_mode(TariMode::Syncing {
        local: 300,
        tip: 1_200,
    });
    let s = c.read().await;
    assert!(s.reachable, "{:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Syncing);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height, s.percent()),
        (300, 1_200, 25)
    );
    assert_eq!(fake.requests(), 5, "GetNetworkState, then GetSyncProgress");
    let s = c.read().await;
    assert_eq!(s.percent(), 25);
    assert_eq!(fake.requests(), 7, "syncing: both, together");
}

#[tokio::test]
async fn a_network_state_without_metadata_is_completed_by_tip_info() {
    let fake = FakeTari::new(TariMode::Synced { height: 900 }).without_network_metadata();
    let node = Node::start(&fake, 0);
    let mut c = client(node.port, Duration::from_secs(5));
    let s = c.read().await;
    assert!(s.reachable, "{:?}", c.last_error());
    assert_eq!(s.reading.state, TariNodeState::Listening);
    assert_eq!(
        s.reading.local_height, 900,
        "the height comes from GetTipInfo"
    );
    assert_eq!(
        fake.requests(),
        3,
        "GetNetworkState with GetSyncProgress, then GetTipInfo"
    );
    c.read().await;
    assert_eq!(fake.requests(), 5, "synced: GetNetworkState, GetTipInfo");

    // No height anywhere: no reading, never a height of 0 shown as synced.
    let fake = FakeTari::new(TariMode::Synced { height: 900 })
        .without_network_metadata()
        .deny_tip_info();
    let node = Node::start(&fake, 0);
    let mut c = client(node.port, Duration::from_secs(5));
    let s = c.read().await;
    assert!(!s.reachable, "{s:?}");
    assert!(
        matches!(c.last_error(), Some(TariError::Status { .. })),
        "{:?}",
        c.last_error()
    );
}

#[tokio::test]
async fn after_a_failed_read_the_progress_goes_along_with_the_state_again() {
    // Each call of a slow node takes 1 s, and a read may take 1.8 s: only a read that asks
    // GetNetworkState and GetSyncProgress together (one round trip) answers in time.
    let (fake, node) = setup(TariMode::Synced { height: 50 });
    let mut c = client(node.port, Duration::from_millis(1_800));
    assert!(c.read().await.reachable, "{:?}", c.last_error());
    assert!(c.read().await.reachable, "{:?}", c.last_error());
    assert_eq!(
        fake.requests(),
        3,
        "synced: GetNetworkState alone the second time"
    );

    // Down, then back behind the tip (a restarted node syncs again), slow.
    fake.set_mode(TariMode::Down);
    assert!(!c.read().await.reachable);
    fake.set_mode(TariMode::Syncing { local: 10, tip: 50 });
    fake.set_mode(TariMode::Slow { secs: 1 });
    let s = c.read().await;
    assert!(s.reachable && !s.stale, "{s:?} {:?}", c.last_error());
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height, s.percent()),
        (10, 50, 20)
    );
}

#[tokio::test]
async fn down_after_a_good_reading_returns_the_cache_flagged_unreachable() {
    let (fake, node) = setup(TariMode::Syncing {
        local: 300,
        tip: 1_000,
    });
    let mut c = client(node.port, Duration::from_secs(5));
    let good = c.read().await;
    assert!(good.reachable);

    fake.set_mode(TariMode::Down);
    let s = c.read().await;
    assert!(!s.reachable && s.stale, "{s:?}");
    assert_eq!((s.reading.local_height, s.reading.tip_height), (300, 1_000));
    assert_eq!(s.reading.state, good.reading.state);
    assert_eq!(s.percent(), 30);
    assert!(
        matches!(c.last_error(), Some(TariError::Unreachable { .. })),
        "{:?}",
        c.last_error()
    );

    fake.set_mode(TariMode::Synced { height: 1_000 });
    let s = c.read().await;
    assert!(s.reachable && !s.stale);
    assert!(c.last_error().is_none());
}

#[tokio::test]
async fn before_any_good_reading_down_is_zero_and_unreachable() {
    let (_fake, node) = setup(TariMode::Down);
    let mut c = client(node.port, Duration::from_secs(5));
    let s = c.read().await;
    assert!(!s.reachable && !s.stale);
    assert_eq!(
        (s.reading.local_height, s.reading.tip_height, s.percent()),
        (0, 0, 0)
    );
    assert!(c.last_error().is_some());
}

#[tokio::test]
async fn slow_node_times_out_and_keeps_the_cache() {
    let (fake, node) = setup(TariMode::Synced { height: 10 });
    let mut c = client(node.port, Duration::from_millis(400));
    assert!(c.read().await.reachable);
    fake.set_mode(TariMode::Slow { secs: 3 });
    let s = c.read().await;
    assert!(!s.reachable && s.stale);
    assert_eq!(s.reading.local_height, 10);
    assert!(
        matches!(
            c.last_error(),
            Some(TariError::Transport(
                pithead_runtime::io::TransportError::Timeout { .. }
            ))
        ),
        "{:?}",
        c.last_error()
    );
}

#[tokio::test]
async fn a_restarted_node_is_read_again_on_the_next_call() {
    let (fake, mut node) = setup(TariMode::Synced { height: 1 });
    let port = node.port;
    let mut c = client(port, Duration::from_secs(3));
    assert!(c.read().await.reachable);

    // Stop: every connection closes.
    node.stop();
    let s = c.read().await;
    assert!(!s.reachable && s.stale);

    // Restart on the same port: the very next call reads it.
    fake.set_mode(TariMode::Synced { height: 2 });
    let _node = Node::start(&fake, port);
    let s = c.read().await;
    assert!(s.reachable, "{:?}", c.last_error());
    assert_eq!(s.reading.local_height, 2);
}

#[tokio::test]
async fn a_restart_between_two_calls_needs_no_failed_call() {
    let (fake, mut node) = setup(TariMode::Synced { height: 1 });
    let port = node.port;
    let mut c = client(port, Duration::from_secs(3));
    assert!(c.read().await.reachable);
    node.stop();
    fake.set_mode(TariMode::Synced { height: 3 });
    let _node = Node::start(&fake, port);
    // The held channel is dead; the client retries once on a fresh one within the call.
    let s = c.read().await;
    assert!(s.reachable, "{:?}", c.last_error());
    assert_eq!(s.reading.local_height, 3);
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = client(port, Duration::from_secs(2));
    let s = c.read().await;
    assert!(!s.reachable);
    assert!(
        matches!(c.last_error(), Some(TariError::Unreachable { .. })),
        "{:?}",
        c.last_error()
    );
}

#[tokio::test]
async fn an_http1_server_is_not_a_tari_node() {
    // Garbage on the wire: an HTTP/1 server where gRPC (HTTP/2) is expected.
    let fake =
        pithead_fakes::monerod::FakeMonerod::new(pithead_fakes::monerod::MoneroMode::Garbage);
    let (addr, _task) = pithead_fakes::serve::spawn_local(fake.router())
        .await
        .unwrap();
    let mut c = client(addr.port(), Duration::from_secs(2));
    let s = c.read().await;
    assert!(!s.reachable);
    assert!(c.last_error().is_some());
}

// ---- drift: our proto subset and the fake's wire against the real minotari proto ----

fn real_proto() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tari/base_node.subset.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

/// (scope kind, qualified name) while walking the proto text.
#[derive(Debug, Clone)]
enum Scope {
    Message(String),
    Enum(String),
    Oneof,
    Service,
}

/// Messages → fields → numbers, enums → values → numbers, and the service's rpcs, from our
/// `proto/base_node.proto` (the small subset of proto syntax it uses).
#[allow(clippy::type_complexity)]
fn our_proto() -> (
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
    Vec<(String, String, String)>,
) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/base_node.proto");
    let text = std::fs::read_to_string(path).expect("proto");
    let mut messages: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
        Default::default();
    let mut enums: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
        Default::default();
    let mut rpcs = Vec::new();
    let mut stack: Vec<Scope> = Vec::new();
    let enclosing_message = |stack: &[Scope]| {
        stack.iter().rev().find_map(|s| match s {
            Scope::Message(m) => Some(m.clone()),
            _ => None,
        })
    };
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || "=;(){}".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        if line.ends_with('{') || line.ends_with("{}") {
            let name = words.get(1).copied().unwrap_or_default().to_owned();
            let scope = match words.first().copied() {
                Some("message") => {
                    let q = match enclosing_message(&stack) {
                        Some(outer) => format!("{outer}.{name}"),
                        None => name,
                    };
                    messages.entry(q.clone()).or_default();
                    Scope::Message(q)
                }
                Some("enum") => {
                    let q = match enclosing_message(&stack) {
                        Some(outer) => format!("{outer}.{name}"),
                        None => name,
                    };
                    enums.entry(q.clone()).or_default();
                    Scope::Enum(q)
                }
                Some("oneof") => Scope::Oneof,
                Some("service") => Scope::Service,
                other => panic!("unexpected block {other:?} in {line:?}"),
            };
            stack.push(scope);
            if line.ends_with("{}") {
                stack.pop();
            }
            continue;
        }
        if line == "}" {
            stack.pop();
            continue;
        }
        match stack.last() {
            Some(Scope::Service) if words.first() == Some(&"rpc") => {
                rpcs.push((
                    words[1].to_owned(),
                    words[2].to_owned(),
                    words[4].to_owned(),
                ));
            }
            Some(Scope::Enum(e)) => {
                let value: i64 = words[1].parse().expect("enum value");
                enums
                    .get_mut(e)
                    .expect("enum scope")
                    .insert(words[0].to_owned(), value);
            }
            Some(Scope::Message(_)) | Some(Scope::Oneof) => {
                let number: i64 = words
                    .last()
                    .expect("a field line")
                    .parse()
                    .expect("field number");
                let name = words[words.len() - 2].to_owned();
                let message = enclosing_message(&stack).expect("inside a message");
                messages
                    .get_mut(&message)
                    .expect("message scope")
                    .insert(name, number);
            }
            _ => {}
        }
    }
    (messages, enums, rpcs)
}

#[test]
fn drift_our_proto_subset_matches_the_real_minotari_numbers() {
    let real = real_proto();
    let (messages, enums, rpcs) = our_proto();
    assert!(messages.contains_key("Empty") && messages.contains_key("GetNetworkStateRequest"));
    assert_eq!(messages["GetNetworkStateResponse"]["readiness_status"], 11);
    assert_eq!(messages["ReadinessStatus"]["migration"], 2);
    assert_eq!(enums["ReadinessStatus.State"]["READY"], 100);
    assert_eq!(rpcs.len(), 3);
    for (message, fields) in &messages {
        let real_fields = real["messages"][message]
            .as_object()
            .unwrap_or_else(|| panic!("message {message} is not in the real proto"));
        for (field, number) in fields {
            assert_eq!(
                real_fields.get(field).and_then(serde_json::Value::as_i64),
                Some(*number),
                "{message}.{field} = {number} does not match the real proto"
            );
        }
    }
    for (e, values) in &enums {
        let real_values = real["enums"][e]
            .as_object()
            .unwrap_or_else(|| panic!("enum {e} is not in the real proto"));
        assert_eq!(
            values.len(),
            real_values.len(),
            "enum {e} has a different value set"
        );
        for (name, value) in values {
            assert_eq!(
                real_values.get(name).and_then(serde_json::Value::as_i64),
                Some(*value),
                "{e}.{name}"
            );
        }
    }
    for (rpc, request, response) in &rpcs {
        assert_eq!(
            real["rpcs"][rpc],
            serde_json::json!([request, response]),
            "rpc {rpc} differs from the real service"
        );
    }
    assert_eq!(real["package"], "tari.rpc");
}

/// Field numbers on the wire of an encoded message (top level), with the raw bytes of each
/// length-delimited field.
fn wire_fields(mut bytes: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
    fn varint(b: &mut &[u8]) -> u64 {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = b[0];
            *b = &b[1..];
            out |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        out
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        let (number, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(&mut bytes);
                out.push((number, None));
            }
            1 => {
                bytes = &bytes[8..];
                out.push((number, None));
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)).expect("length fits");
                out.push((number, Some(bytes[..len].to_vec())));
                bytes = &bytes[len..];
            }
            5 => {
                bytes = &bytes[4..];
                out.push((number, None));
            }
            other => panic!("wire type {other}"),
        }
    }
    out
}

#[test]
fn drift_the_fake_puts_only_real_fields_on_the_wire() {
    use prost::Message;
    let real = real_proto();
    let known = |message: &str, number: u64| {
        real["messages"][message]
            .as_object()
            .is_some_and(|f| f.values().any(|v| v.as_u64() == Some(number)))
    };
    for mode in [
        TariMode::Synced { height: 5_000 },
        TariMode::Syncing {
            local: 10,
            tip: 5_000,
        },
        TariMode::Starting,
        TariMode::Migrating,
    ] {
        let tip = pithead_fakes::tari::tip_info(&mode).encode_to_vec();
        for (number, nested) in wire_fields(&tip) {
            assert!(
                known("TipInfoResponse", number),
                "{mode:?}: TipInfoResponse field {number}"
            );
            if number == 1 {
                for (inner, _) in wire_fields(&nested.expect("metadata bytes")) {
                    assert!(known("MetaData", inner), "{mode:?}: MetaData field {inner}");
                }
            }
        }
        let migration = Migration {
            current_block: 5,
            total_blocks: 10,
        };
        let network = pithead_fakes::tari::network_state(&mode, migration).encode_to_vec();
        let mut seen_readiness = false;
        for (number, nested) in wire_fields(&network) {
            assert!(
                known("GetNetworkStateResponse", number),
                "{mode:?}: GetNetworkStateResponse field {number}"
            );
            match number {
                1 => {
                    for (inner, _) in wire_fields(&nested.expect("metadata bytes")) {
                        assert!(known("MetaData", inner), "{mode:?}: MetaData field {inner}");
                    }
                }
                11 => {
                    seen_readiness = true;
                    for (inner, bytes) in wire_fields(&nested.expect("readiness bytes")) {
                        assert!(
                            known("ReadinessStatus", inner),
                            "{mode:?}: ReadinessStatus field {inner}"
                        );
                        if inner == 2 {
                            for (m, _) in wire_fields(&bytes.expect("migration bytes")) {
                                assert!(
                                    known("MigrationProgress", m),
                                    "{mode:?}: MigrationProgress field {m}"
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(seen_readiness, "{mode:?}: no readiness_status on the wire");
        let progress = pithead_fakes::tari::sync_progress(&mode).encode_to_vec();
        for (number, _) in wire_fields(&progress) {
            assert!(
                known("SyncProgressResponse", number),
                "{mode:?}: SyncProgressResponse field {number}"
            );
        }
    }
}
