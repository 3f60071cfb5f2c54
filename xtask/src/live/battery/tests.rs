//! The battery against the real renderer: for every matrix row, the facts a box would show are
//! made by the runtime's own code (validation, `.env` and Caddyfile rendering, compose profiles,
//! status verdicts, the runtime's configuration from the compose environment and the
//! `/api/state` view), so the battery is proven against them rather than against a copy.

use std::collections::BTreeMap;

use pithead_runtime::cli::compose_file::{self, COMPOSE_YAML};
use pithead_runtime::cli::render::{self, Owner};
use pithead_runtime::cli::secrets::{self, Entropy, SecretError};
use pithead_runtime::control::sync_gate::{ChainReading, GateObservation, SyncGate};
use pithead_runtime::control::verdicts::{self, Observed, StackContext};
use pithead_runtime::control::FailoverDecision;
use pithead_runtime::cycle::XvbDriver;
use pithead_runtime::view::{self, CycleSection, RenderInput};
use serde_json::{json, Value};

use super::*;
use crate::live::matrix::{self, apply_overrides, Inputs, Row};

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";
const DASHBOARD_PASSWORD: &str = "correct-horse-battery";

/// Distinct, recognisable credentials, so a leak is found by plain search.
struct Counter(u32);

impl Entropy for Counter {
    fn alphanumeric(&mut self, len: usize) -> Result<String, SecretError> {
        self.0 += 1;
        Ok(format!("Sekret{:0>width$}", self.0, width = len - 6))
    }
    fn bcrypt(&mut self, _password: &str) -> Result<String, SecretError> {
        Ok("$2b$10$abcdefghijklmnopqrstuuSecretHashValue0123456789abcdef".into())
    }
}

fn baseline() -> Value {
    json!({
        "monero": { "wallet_address": XMR },
        "tari": { "wallet_address": TARI },
        "dashboard": { "auth": { "password": DASHBOARD_PASSWORD } }
    })
}

fn inputs() -> Inputs {
    Inputs(
        [
            ("remote_monero_host", "node.example"),
            ("remote_tari_host", "tari.example"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    )
}

fn rows() -> Vec<Row> {
    matrix::rows().unwrap()
}

fn row(name: &str) -> Row {
    rows().into_iter().find(|r| r.name == name).unwrap()
}

/// The `/api/state` a synced, released runtime serves with the environment compose gives it.
fn served_state(env: &BTreeMap<String, String>) -> Value {
    let resolved = compose_file::resolve(COMPOSE_YAML, env).unwrap();
    let doc = serde_json::to_value(&resolved).unwrap();
    let environment: BTreeMap<String, String> = doc["services"]["dashboard"]["environment"]
        .as_object()
        .expect("the dashboard service has an environment mapping")
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.clone(), v)
        })
        .collect();
    let rt = pithead_runtime::config::Config::from_lookup(|k| environment.get(k).cloned())
        .unwrap_or_else(|e| panic!("runtime config: {e}"));
    let tari_enabled = rt.tari_grpc_address.is_some();
    let synced = Some(ChainReading {
        height: 3000,
        target: 3000,
        syncing: false,
    });
    let gate = SyncGate::new(tari_enabled, rt.tari_required, false).step(&GateObservation {
        monero: synced,
        tari: synced,
        p2pool_network_height: None,
    });
    let failover = FailoverDecision {
        rejected: false,
        event: None,
        monero_down: false,
        tari_down: false,
    };
    let containers = BTreeMap::new();
    let (xvb, hashrate_low) = XvbDriver::new(rt.xvb_enabled, rt.xvb.clone(), None).section();
    let state = view::render(&RenderInput {
        gate: &gate,
        failover: &failover,
        monero_reachable: true,
        monero_ever_up: true,
        tari_enabled,
        tari_reachable: tari_enabled,
        tari_ever_up: tari_enabled,
        monero_local: rt.monero_node_local,
        monero_prune: rt.monero_prune,
        monero_db_bytes: None,
        containers: &containers,
        xvb: Some((&xvb, hashrate_low)),
        cycle: CycleSection::default(),
    });
    serde_json::to_value(state).unwrap()
}

/// `pithead status`'s stdout and exit code with every expected service running and healthy
/// (printed as the binary prints the report).
fn status(env: &BTreeMap<String, String>) -> (Option<i32>, String) {
    let expected =
        compose_file::expected_services(COMPOSE_YAML, &compose_file::profiles(env)).unwrap();
    let observed: Vec<(String, Observed)> = expected
        .into_iter()
        .map(|s| {
            let running = Observed::Present {
                status: "running".into(),
                health: Some("healthy".into()),
            };
            (s, running)
        })
        .collect();
    let report = verdicts::verdicts(&observed, StackContext::default());
    let mut out = String::from("Service health check:\n");
    for v in &report.verdicts {
        out.push_str(&format!("  {}\n", v.line));
    }
    out.push_str(&format!("{}\n", report.summary()));
    (Some(i32::from(report.exit_code())), out)
}

/// What a box shows after applying `row`, and the secret values it holds.
fn facts_for(row: &Row) -> (BoxFacts, Vec<String>) {
    let config = apply_overrides(&baseline(), row, &inputs()).unwrap();
    let settings = pithead_runtime::cli::load(&config.to_string())
        .unwrap_or_else(|e| panic!("{}: {e:?}", row.name));
    let secrets = secrets::resolve(&settings, None, &mut Counter(0)).unwrap();
    let rendered = render::render(
        &settings,
        &secrets,
        Owner {
            uid: 1000,
            gid: 1000,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", row.name));
    let env = parse_env(&rendered.env.to_text().unwrap());
    assert_eq!(
        env,
        rendered.env.to_map(),
        "parse_env reads what render writes"
    );
    let mut secret_values: Vec<String> = rendered
        .env
        .secret_values()
        .into_iter()
        .map(str::to_owned)
        .collect();
    secret_values.push(DASHBOARD_PASSWORD.to_owned());
    let (status_code, status_out) = status(&env);
    let facts = BoxFacts {
        config,
        state: Some(served_state(&env)),
        caddyfile: rendered.caddyfile,
        status_code,
        status_out,
        env,
    };
    (facts, secret_values)
}

fn failed(checks: &[Check]) -> Vec<(&str, &str)> {
    checks
        .iter()
        .filter_map(|c| {
            c.result
                .as_ref()
                .err()
                .map(|e| (c.name.as_str(), e.as_str()))
        })
        .collect()
}

#[test]
fn every_row_passes_on_the_facts_the_real_renderer_gives() {
    for row in rows() {
        let (facts, _) = facts_for(&row);
        let checks = battery(&facts);
        assert!(checks.len() >= 20, "{}: {} checks", row.name, checks.len());
        assert_eq!(failed(&checks), Vec::<(&str, &str)>::new(), "{}", row.name);
    }
}

#[test]
fn each_row_s_facts_fail_every_other_row_s_battery() {
    let all: Vec<(Row, BoxFacts)> = rows()
        .into_iter()
        .map(|r| {
            let facts = facts_for(&r).0;
            (r, facts)
        })
        .collect();
    for (a, facts_a) in &all {
        for (b, facts_b) in &all {
            if a.name == b.name {
                continue;
            }
            let mixed = BoxFacts {
                config: facts_a.config.clone(),
                ..facts_b.clone()
            };
            assert!(
                !failed(&battery(&mixed)).is_empty(),
                "config of {} with the box of {} passes",
                a.name,
                b.name
            );
        }
    }
}

/// Applies `change` to `row`'s facts and returns the names of the checks that fail.
fn failing_after(row: &str, change: impl FnOnce(&mut BoxFacts)) -> Vec<String> {
    let (mut facts, _) = facts_for(&self::row(row));
    change(&mut facts);
    failed(&battery(&facts))
        .into_iter()
        .map(|(n, _)| n.to_owned())
        .collect()
}

fn set_env(facts: &mut BoxFacts, key: &str, value: &str) {
    facts.env.insert(key.into(), value.into());
}

/// One corruption of a box's facts.
type Change = Box<dyn FnOnce(&mut BoxFacts)>;

#[test]
fn one_wrong_fact_fails_exactly_its_check() {
    let d = "defaults-local-pruned-mini";
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            d,
            Box::new(|f| set_env(f, "P2POOL_FLAGS", "--nano")),
            ".env sets P2POOL_FLAGS to \"--mini\"",
        ),
        (
            d,
            Box::new(|f| set_env(f, "COMPOSE_PROFILES", "local_tari")),
            ".env COMPOSE_PROFILES includes local_node",
        ),
        (
            "tari-off",
            Box::new(|f| set_env(f, "COMPOSE_PROFILES", "local_node,local_tari")),
            ".env COMPOSE_PROFILES leaves out local_tari",
        ),
        (
            d,
            Box::new(|f| set_env(f, "MONERO_RPC_BIND", "0.0.0.0")),
            ".env sets MONERO_RPC_BIND to \"127.0.0.1\"",
        ),
        (
            "prune-off-main-pool-lan-rpc",
            Box::new(|f| set_env(f, "MONERO_PRUNE", "1")),
            ".env sets MONERO_PRUNE to \"0\"",
        ),
        (
            "nano-pool-xvb-off-http-tari-optional",
            Box::new(|f| set_env(f, "XVB_ENABLED", "true")),
            ".env sets XVB_ENABLED to \"false\"",
        ),
        (
            "nano-pool-xvb-off-http-tari-optional",
            Box::new(|f| set_env(f, "TARI_REQUIRED", "true")),
            ".env sets TARI_REQUIRED to \"false\"",
        ),
        (
            "remote-monero",
            Box::new(|f| set_env(f, "MONERO_NODE_HOST", "other.example")),
            ".env sets MONERO_NODE_HOST to \"node.example\"",
        ),
        (
            "remote-tari",
            Box::new(|f| {
                f.env.remove("TARI_GRPC_ADDRESS");
            }),
            ".env sets TARI_GRPC_ADDRESS to \"tari.example:18142\"",
        ),
        (
            d,
            Box::new(|f| f.caddyfile = f.caddyfile.replace("https://", "http://")),
            "the Caddyfile serves https",
        ),
        (
            d,
            Box::new(|f| f.status_code = Some(1)),
            "`pithead status` exits 0",
        ),
        (
            d,
            Box::new(|f| {
                f.status_out = f.status_out.replace(ALL_UP, "1 service(s) need attention")
            }),
            "`pithead status` prints \"All expected services are up.\"",
        ),
        (
            d,
            Box::new(|f| f.status_out = f.status_out.replace("  ✓ monerod running\n", "")),
            "`pithead status` lists monerod",
        ),
        (
            "remote-tari",
            Box::new(|f| {
                f.status_out = f.status_out.replace(
                    "Service health check:\n",
                    "Service health check:\n  ✓ tari running\n",
                )
            }),
            "`pithead status` does not list tari",
        ),
        (
            d,
            Box::new(|f| f.state.as_mut().unwrap()["miner_released"] = json!(false)),
            "/api/state has miner_released true",
        ),
        (
            d,
            Box::new(|f| f.state.as_mut().unwrap()["workers_rejected"] = json!(true)),
            "/api/state has workers_rejected false",
        ),
        (
            d,
            Box::new(|f| f.state.as_mut().unwrap()["syncing"] = json!(true)),
            "/api/state has syncing false",
        ),
        (
            "remote-monero",
            Box::new(|f| f.state.as_mut().unwrap()["monero"]["mode"] = json!("Pruned")),
            "/api/state has monero.mode \"Unknown\"",
        ),
        (
            "nano-pool-xvb-off-http-tari-optional",
            Box::new(|f| f.state.as_mut().unwrap()["xvb"]["enabled"] = json!(true)),
            "/api/state has xvb.enabled false",
        ),
        (
            "tari-off",
            Box::new(|f| f.state.as_mut().unwrap()["nodes"]["tari"] = json!({})),
            "/api/state does not watch the Tari node",
        ),
        (
            "remote-tari",
            Box::new(|f| {
                f.state.as_mut().unwrap()["nodes"]
                    .as_object_mut()
                    .unwrap()
                    .remove("tari");
            }),
            "/api/state watches the Tari node",
        ),
    ];
    for (row, change, name) in cases {
        assert_eq!(failing_after(row, change), vec![name.to_owned()], "{row}");
    }
}

#[test]
fn a_missing_state_fails_every_state_check_and_says_so() {
    let (mut facts, _) = facts_for(&row("defaults-local-pruned-mini"));
    facts.state = None;
    let checks = battery(&facts);
    let failed = failed(&checks);
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert!(failed
        .iter()
        .all(|(n, e)| n.starts_with("/api/state") && e.contains("was not read")));
}

#[test]
fn a_config_that_does_not_deserialize_is_one_failed_check_without_its_values() {
    let (mut facts, _) = facts_for(&row("defaults-local-pruned-mini"));
    facts.config["dashboard"]["auth"]["password"] = json!(["hunter2-in-a-list"]);
    let checks = battery(&facts);
    assert_eq!(checks.len(), 1);
    let err = checks[0].result.as_ref().unwrap_err();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn errors_never_show_a_secret_value() {
    for row in rows() {
        let (mut facts, secret_values) = facts_for(&row);
        // Every non-secret key the battery reads goes wrong; the secrets stay in place.
        for (key, value) in facts.env.iter_mut() {
            if !is_secret_env(key) {
                *value = "wrong".into();
            }
        }
        facts.caddyfile = facts.caddyfile.replacen("http", "ftp", 1);
        facts.status_code = Some(1);
        facts.status_out.clear();
        facts.state = Some(json!({}));
        let checks = battery(&facts);
        assert!(failed(&checks).len() >= 15, "{}", row.name);
        let shown = format!("{checks:?}");
        for secret in &secret_values {
            assert!(
                !shown.contains(secret.as_str()),
                "{}: a secret is shown",
                row.name
            );
        }
    }
}

#[test]
fn a_secret_key_is_never_printed_even_when_compared() {
    let mut env = BTreeMap::new();
    env.insert("PROXY_AUTH_TOKEN".to_owned(), "tok-seen-4711".to_owned());
    let check = env_is(&env, "PROXY_AUTH_TOKEN", "tok-expected-4712");
    let shown = format!("{check:?}");
    assert!(check.result.is_err());
    assert!(
        !shown.contains("4711") && !shown.contains("4712"),
        "{shown}"
    );
}

#[test]
fn parse_env_skips_comments_blanks_and_bad_lines_and_unquotes() {
    let env =
        parse_env("# a comment\n\nA=1\nB='two words'\nC=\"x\\\"y\"\nnot a pair\nexport D=4\nA=5\n");
    let want: BTreeMap<String, String> =
        [("A", "5"), ("B", "two words"), ("C", "x\"y"), ("D", "4")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    assert_eq!(env, want);
}

#[test]
fn a_second_apply_must_say_nothing_changed() {
    let ok = second_apply_is_noop(&format!("{NO_CHANGES}\n"));
    assert_eq!(ok.result, Ok(()));
    let changed =
        second_apply_is_noop("Changes:\n  INFO P2POOL_FLAGS: \"--mini\" → \"--nano\"\nProceed\n");
    let err = changed.result.unwrap_err();
    assert!(
        err.contains("1 change line(s)") && err.contains("P2POOL_FLAGS"),
        "{err}"
    );
    assert_eq!(changed.name, "a second `pithead apply -y` is a no-op");
}

#[test]
fn status_services_are_read_from_the_health_block_only() {
    let out =
        "Service health check:\n  ✓ monerod running\n  ⚠ p2pool exited — likely intentional\n\
               Chain sync in progress — the miners are held until it completes:\n  \
               … tari    discovering the target height…\n1 service(s) need attention\n";
    assert_eq!(listed_services(out), vec!["monerod", "p2pool"]);
}
