//! The matrix against its axes and against the CLI's own validation.

use super::*;
use pithead_runtime::cli::validate::{MoneroMode, Pool, TariMode};
use serde_json::json;

const XMR: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const TARI: &str =
    "12PCxdEpFUA6h5jpm5SFnxmgvBpN8dKddVfTjvK4qj1J5zoWz2bVWNf8AwnZvAU2tsVHw3Rn9zuxTWSGDqmnHSGiYiT";

fn baseline() -> Value {
    json!({ "monero": { "wallet_address": XMR }, "tari": { "wallet_address": TARI } })
}

fn all_inputs() -> Inputs {
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

fn row(name: &str, overrides: Value) -> Row {
    let Value::Object(map) = overrides else {
        panic!("overrides must be an object")
    };
    Row {
        name: name.into(),
        overrides: map.into_iter().collect(),
        needs: vec![],
    }
}

#[test]
fn the_shipped_matrix_covers_every_axis_value() {
    let rows = rows().unwrap();
    assert_eq!(uncovered(&rows), Vec::<String>::new());
}

#[test]
fn removing_the_rows_that_cover_a_value_names_that_value() {
    let rows = rows().unwrap();
    for (path, values) in AXES {
        for v in *values {
            let rest: Vec<Row> = rows
                .iter()
                .filter(|r| !r.overrides.get(*path).is_some_and(|set| v.matches(set)))
                .cloned()
                .collect();
            assert!(rest.len() < rows.len(), "no row sets {path}={v}");
            assert!(
                uncovered(&rest).contains(&format!("{path}={v}")),
                "{path}={v}: {:?}",
                uncovered(&rest)
            );
        }
    }
    let mut parsed = parse(MATRIX_JSON).unwrap();
    parsed.retain(|r| r.name != "tari-off");
    assert_eq!(uncovered(&parsed), vec!["tari.mode=off".to_owned()]);
}

#[test]
fn every_row_applied_to_a_baseline_validates_and_sets_its_axes() {
    for row in rows().unwrap() {
        let config = apply_overrides(&baseline(), &row, &all_inputs()).unwrap();
        let settings = pithead_runtime::cli::load(&config.to_string())
            .unwrap_or_else(|e| panic!("{}: {e:?}", row.name));
        let c = &settings.config;
        for (path, want) in &row.overrides {
            let got = match path.as_str() {
                "monero.mode" => json!(match settings.monero {
                    MoneroMode::Local => "local",
                    MoneroMode::Remote { .. } => "remote",
                }),
                "tari.mode" => json!(match settings.tari {
                    TariMode::Local => "local",
                    TariMode::Remote { .. } => "remote",
                    TariMode::Off => "off",
                }),
                "p2pool.pool" => json!(match settings.pool {
                    Pool::Main => "main",
                    Pool::Mini => "mini",
                    Pool::Nano => "nano",
                }),
                "monero.prune" => json!(c.monero.prune),
                "monero.rpc_lan_access" => json!(c.monero.rpc_lan_access),
                "xvb.enabled" => json!(c.xvb.enabled),
                "dashboard.secure" => json!(c.dashboard.secure),
                "dashboard.tari_required" => json!(c.dashboard.tari_required),
                "monero.remote.host" => json!(c.monero.remote.host),
                "tari.remote.host" => json!(c.tari.remote.host),
                other => panic!("{}: no check for {other}", row.name),
            };
            let want = match reference(want) {
                Some(input) => json!(all_inputs().get(input).unwrap()),
                None => want.clone(),
            };
            assert_eq!(got, want, "{}: {path}", row.name);
        }
    }
}

#[test]
fn a_row_names_the_inputs_it_lacks() {
    let rows = rows().unwrap();
    let remote = rows.iter().find(|r| r.name == "remote-monero").unwrap();
    assert_eq!(
        remote.missing_inputs(&Inputs::default()),
        vec!["remote_monero_host".to_owned()]
    );
    assert!(remote.missing_inputs(&all_inputs()).is_empty());
    let empty = Inputs([("remote_monero_host".to_owned(), String::new())].into());
    assert_eq!(remote.missing_inputs(&empty).len(), 1);
    let err = apply_overrides(&baseline(), remote, &Inputs::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "matrix row remote-monero needs the box input remote_monero_host, which was not given"
    );
    let plain = rows.iter().find(|r| r.name == "tari-off").unwrap();
    assert!(plain.missing_inputs(&Inputs::default()).is_empty());
}

#[test]
fn overrides_create_missing_objects_and_keep_the_rest() {
    let r = row("r", json!({ "a.b.c": 1, "monero.prune": false }));
    let out = apply_overrides(&baseline(), &r, &Inputs::default()).unwrap();
    assert_eq!(out["a"]["b"]["c"], json!(1));
    assert_eq!(out["monero"]["prune"], json!(false));
    assert_eq!(out["monero"]["wallet_address"], json!(XMR));
}

#[test]
fn overrides_refuse_to_descend_into_a_non_object() {
    let r = row("deep", json!({ "monero.wallet_address.x": true }));
    let err = apply_overrides(&baseline(), &r, &Inputs::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "matrix row deep: cannot set monero.wallet_address.x: monero.wallet_address is a string, not an object"
    );
    let err = apply_overrides(&json!([1]), &r, &Inputs::default()).unwrap_err();
    assert!(err.to_string().contains("config.json is a list"), "{err}");
}

#[test]
fn parse_errors_name_the_row() {
    let cases = [
        ("{}", "must be a list"),
        ("[1]", "row #1: is a number"),
        (r#"[{"overrides": {}}]"#, "row #1: has no \"name\""),
        (r#"[{"name": "x"}]"#, "row x: has no \"overrides\""),
        (
            r#"[{"name": "x", "overrides": {}, "extra": 1}]"#,
            "unknown key \"extra\"",
        ),
        (
            r#"[{"name": "x", "overrides": {"a": null}}]"#,
            "override a is null",
        ),
        (
            r#"[{"name": "x", "overrides": {"a..b": 1}}]"#,
            "\"a..b\" is not a dotted path",
        ),
        (
            r#"[{"name": "x", "overrides": {"a": "h-${y}"}}]"#,
            "must be the whole string",
        ),
        (
            r#"[{"name": "x", "overrides": {"a": "${y}${z}"}, "needs": ["y"]}]"#,
            "must be the whole string",
        ),
        (
            r#"[{"name": "x", "overrides": {"a": "${y}"}}]"#,
            "references ${y} but does not list it",
        ),
        (
            r#"[{"name": "x", "overrides": {}}, {"name": "x", "overrides": {}}]"#,
            "two rows are named \"x\"",
        ),
        ("[", "not JSON"),
    ];
    for (text, want) in cases {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn list_shows_every_row_override_and_need() {
    let rows = rows().unwrap();
    let text = list(&rows);
    assert!(text.starts_with("NAME"), "{text}");
    for r in &rows {
        assert!(text.contains(&r.name), "{text}");
        for (path, v) in &r.overrides {
            assert!(text.contains(&format!("{path}={}", show(v))), "{text}");
        }
    }
    let line = text
        .lines()
        .find(|l| l.starts_with("remote-monero "))
        .unwrap();
    assert!(line.contains("remote_monero_host"), "{line}");
    assert_eq!(
        text.lines().count(),
        1 + rows.iter().map(|r| r.overrides.len()).sum::<usize>()
    );
}
