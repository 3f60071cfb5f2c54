//! Tier 2 drift check for the daemons no test host can run (p2pool's data-api, xmrig-proxy's
//! HTTP API, the XvB site): the fakes' replies against shapes *transcribed from upstream source*
//! at pinned commits, not recorded. Each fixture under `tests/fixtures/{p2pool,xmrig_proxy,xvb}/`
//! is a JSON array of example documents whose values only carry the type (`0` an integer, `0.0`
//! a float, `""` a string); several entries are variants a field legitimately takes. Where each
//! key and type comes from is in the `PROVENANCE.md` beside each fixture.
//!
//! Number types are exact where the upstream writer fixes them: p2pool prints every `double`
//! with `"%.3f"` (always a fraction) and integers as integers; xmrig-proxy's rapidjson writes
//! every `double` with a fraction (`0.0`). XvB is a closed service: its shape is what its public
//! clients accept, which is looser (see the rules in `xvb_public_stats`).

mod common;

use common::rawhttp::{self, Reply};
use common::shape::{compare, fixture, Drift, Kind, Rules, Shape};
use pithead_fakes::p2pool::{FakeP2pool, P2poolState};
use pithead_fakes::xmrig_proxy::{FakeXmrigProxy, WorkerRow};
use pithead_fakes::xvb::FakeXvb;
use serde_json::Value;

/// The merged shape of a transcription's variants.
fn transcribed(relative: &str, rules: &Rules) -> Shape {
    let doc = fixture(relative);
    let variants = doc
        .as_array()
        .unwrap_or_else(|| panic!("{relative}: a transcription is an array of variants"));
    Shape::merged(variants.iter(), rules)
}

fn assert_fits(what: &str, reference: &Shape, reply: &Reply, rules: &Rules) {
    assert_eq!(reply.status, 200, "{what}: HTTP {}", reply.status);
    let drifts = compare(reference, &Shape::of(&reply.json(), rules), rules);
    assert!(
        drifts.is_empty(),
        "{what} drifted from the transcription:\n  {}",
        drifts
            .iter()
            .map(Drift::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[tokio::test]
async fn p2pool_data_api_documents() {
    // Two states: the default (a worker, shares found) and a fresh node (nothing yet), so empty
    // and non-empty arrays and zero values are both seen.
    for state in [
        P2poolState::default(),
        P2poolState {
            workers: Vec::new(),
            shares_found: 0,
            ..P2poolState::default()
        },
    ] {
        let fake = FakeP2pool::new(state);
        for (path, fixture_name) in [
            ("/network/stats", "p2pool/network_stats.json"),
            ("/pool/stats", "p2pool/pool_stats.json"),
            ("/local/stratum", "p2pool/local_stratum.json"),
        ] {
            let rules = Rules::exact();
            let reply = rawhttp::router(fake.wire_router(), "GET", path, None).await;
            assert_fits(
                &format!("fake p2pool {path}"),
                &transcribed(fixture_name, &rules),
                &reply,
                &rules,
            );
            if path == "/local/stratum" {
                check_worker_strings(&reply.json());
            }
        }
    }
}

/// A `local/stratum` worker is one string, `ip:port,uptime_s,difficulty,hashrate,name`: a JSON
/// shape cannot see inside it, so its five fields are checked here (the name may hold commas).
fn check_worker_strings(reply: &Value) {
    for worker in reply["workers"].as_array().expect("workers array") {
        let text = worker.as_str().expect("a worker is a string");
        let fields: Vec<&str> = text.splitn(5, ',').collect();
        assert_eq!(
            fields.len(),
            5,
            "worker {text:?}: expected 5 comma-separated fields"
        );
        assert!(
            fields[0].contains(':'),
            "worker {text:?}: the first field is ip:port"
        );
        for (i, field) in fields[1..4].iter().enumerate() {
            assert!(
                field.parse::<u64>().is_ok(),
                "worker {text:?}: field {} is not an integer",
                i + 2
            );
        }
    }
}

const TOKEN: &str = "drift-check-token";

async fn proxy_get(fake: &FakeXmrigProxy, path: &str) -> Reply {
    rawhttp::router_with_headers(
        fake.wire_router(),
        "GET",
        path,
        None,
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await
}

/// `id`, `worker_id`, `restricted` and `features` come from the xmrig base `Api::exec`, which
/// added them over the versions (see `xmrig_proxy/PROVENANCE.md`); a reply may lack any of
/// them, but one it sends must have the transcribed type (`worker_id`: a string, or `null` in
/// versions that write an unset one as `null`).
fn proxy_rules() -> Rules {
    Rules::exact()
        .any_of("$.worker_id")
        .optional("$.id")
        .optional("$.worker_id")
        .optional("$.restricted")
        .optional("$.features")
}

#[tokio::test]
async fn xmrig_proxy_summary_and_workers() {
    let fake = FakeXmrigProxy::new(TOKEN);
    let rules = proxy_rules();
    let summary = transcribed("xmrig_proxy/summary.json", &rules);
    let workers = transcribed("xmrig_proxy/workers.json", &rules);
    for rows in [
        Vec::new(),
        vec![WorkerRow::new("rig1", 5.5), WorkerRow::new("rig2", 0.0)],
    ] {
        fake.set_workers(rows);
        assert_fits(
            "fake xmrig-proxy /1/summary",
            &summary,
            &proxy_get(&fake, "/1/summary").await,
            &rules,
        );
        let reply = proxy_get(&fake, "/1/workers").await;
        assert_fits("fake xmrig-proxy /1/workers", &workers, &reply, &rules);
        check_worker_rows(&reply.json());
    }
}

/// `/1/workers` rows are positional: the merged `[]` shape cannot tell a float hashrate moved
/// into the `accepted` cell, so each cell's type is checked by position against the
/// transcription's row.
fn check_worker_rows(reply: &Value) {
    let reference = &fixture("xmrig_proxy/workers.json")[0]["workers"][0];
    let want: Vec<Kind> = reference
        .as_array()
        .expect("row")
        .iter()
        .map(Kind::of)
        .collect();
    for row in reply["workers"].as_array().expect("workers array") {
        let got: Vec<Kind> = row
            .as_array()
            .expect("a row is an array")
            .iter()
            .map(Kind::of)
            .collect();
        assert_eq!(got, want, "a /1/workers row's cell types: {row}");
    }
}

#[tokio::test]
async fn xvb_public_stats() {
    // XvB publishes no source. Its public clients (xvb/PROVENANCE.md) accept `bonus_hr`,
    // `donate_hr` and `reward_yearly[]` as any JSON number (Rust `f64`), and `block_height`,
    // `roll_winner`, `roll_round` as a number or a numeric string (the site has sent both); the
    // transcription lists both variants and the fake may use either.
    let rules = Rules::exact()
        .any_of("$.bonus_hr")
        .any_of("$.donate_hr")
        .any_of("$.reward_yearly[]")
        .any_of("$.block_height")
        .any_of("$.roll_winner")
        .any_of("$.roll_round");
    let reference = transcribed("xvb/public_stats.json", &rules);
    let fake = FakeXvb::new();
    let reply = rawhttp::router(fake.wire_router(), "GET", "/p2pool/stats", None).await;
    assert_fits("fake XvB /p2pool/stats", &reference, &reply, &rules);
}
