//! The drift checks' own check: `common::shape` catches every kind of drift it claims to (a
//! missing key, an extra key, a type change, a nested change, the JSON-RPC envelope) and
//! tolerates only what a rule names.

mod common;

use common::shape::{diff, Drift, Kind, Rules, Shape};
use serde_json::{json, Value};

fn drifts(a: Value, b: Value) -> Vec<Drift> {
    diff(&a, &b, &Rules::exact())
}

fn paths(d: &[Drift]) -> Vec<&str> {
    d.iter().map(Drift::path).collect()
}

#[test]
fn identical_shapes_with_other_values_agree() {
    assert!(drifts(
        json!({"a": 1, "b": "x", "c": [1, 2], "d": {"e": true, "f": null}}),
        json!({"a": 9, "b": "y", "c": [3], "d": {"e": false, "f": null}}),
    )
    .is_empty());
}

#[test]
fn a_missing_key_is_caught() {
    let d = drifts(json!({"a": 1, "b": 2}), json!({"a": 1}));
    assert_eq!(
        d,
        vec![Drift::Missing {
            path: "$.b".into(),
            expected: [Kind::Integer].into()
        }]
    );
}

#[test]
fn an_extra_key_is_caught() {
    let d = drifts(json!({"a": 1}), json!({"a": 1, "z": "new"}));
    assert_eq!(
        d,
        vec![Drift::Extra {
            path: "$.z".into(),
            actual: [Kind::String].into()
        }]
    );
}

#[test]
fn type_changes_are_caught() {
    for (real, fake, why) in [
        (json!(1), json!("1"), "number vs string"),
        (json!(1), json!(1.5), "integer vs float"),
        (json!(1.5), json!(2), "float vs integer"),
        (json!(1), json!(1.0), "integer vs a float that is whole"),
        (json!({"k": 1}), json!([1]), "object vs array"),
        (json!({}), json!([]), "empty object vs empty array"),
        (json!([1]), json!({"k": 1}), "array vs object"),
        (json!("x"), Value::Null, "string vs null"),
        (Value::Null, json!(0), "null vs number"),
        (json!(true), json!("true"), "bool vs string"),
        (json!(0), json!(false), "number vs bool"),
    ] {
        // The type drift at the path itself comes first; a container's children follow it.
        let d = drifts(json!({"v": real}), json!({"v": fake}));
        assert!(
            matches!(d.as_slice(), [Drift::Type { path, .. }, ..] if path == "$.v"),
            "{why}: {d:?}"
        );
    }
}

#[test]
fn nested_changes_are_caught_at_their_path() {
    let real = json!({"a": {"b": {"c": 1, "d": [{"e": "x"}]}}});
    let fake = json!({"a": {"b": {"c": "1", "d": [{"e": "x", "f": 2}]}}});
    assert_eq!(paths(&drifts(real, fake)), vec!["$.a.b.c", "$.a.b.d[].f"]);
    // A key missing two levels down, and a whole sub-object replaced by a scalar.
    let d = drifts(json!({"a": {"b": {"c": 1}}}), json!({"a": {"b": 1}}));
    assert_eq!(paths(&d), vec!["$.a.b", "$.a.b.c"]);
}

#[test]
fn array_elements_are_compared_merged_and_empty_arrays_say_nothing() {
    // One bad element among good ones shows as a second type at `[]`.
    let d = drifts(json!({"w": ["a", "b"]}), json!({"w": ["a", 1]}));
    assert_eq!(paths(&d), vec!["$.w[]"]);
    // An empty array on either side cannot tell the element shape: not a drift.
    assert!(drifts(json!({"w": [{"x": 1}]}), json!({"w": []})).is_empty());
    assert!(drifts(json!({"w": []}), json!({"w": [{"x": 1}]})).is_empty());
    // But an array in one reply and none in the other is.
    assert_eq!(paths(&drifts(json!({"w": []}), json!({}))), vec!["$.w"]);
}

#[test]
fn the_json_rpc_envelope_is_compared() {
    let ok = json!({"jsonrpc": "2.0", "id": "0", "result": {"status": "OK", "height": 1}});
    // No envelope at all (the plain /get_info answer): every envelope path is missing.
    let d = drifts(ok.clone(), json!({"status": "OK", "height": 1}));
    assert!(paths(&d).contains(&"$.jsonrpc") && paths(&d).contains(&"$.result"));
    // id as a number where the real one is a string.
    let d = drifts(
        ok.clone(),
        json!({"jsonrpc": "2.0", "id": 0, "result": {"status": "OK", "height": 1}}),
    );
    assert_eq!(paths(&d), vec!["$.id"]);
    // jsonrpc missing.
    let d = drifts(
        ok.clone(),
        json!({"id": "0", "result": {"status": "OK", "height": 1}}),
    );
    assert_eq!(paths(&d), vec!["$.jsonrpc"]);
    // error where result belongs.
    let d = drifts(
        ok,
        json!({"jsonrpc": "2.0", "id": "0", "error": {"code": -32601, "message": "Method not found"}}),
    );
    assert_eq!(
        paths(&d),
        vec![
            "$.error",
            "$.error.code",
            "$.error.message",
            "$.result",
            "$.result.height",
            "$.result.status"
        ]
    );
}

#[test]
fn rules_tolerate_only_the_named_path() {
    // number: integer or float at that path only.
    let rules = Rules::exact().number("$.rate");
    assert!(diff(&json!({"rate": 1}), &json!({"rate": 1.5}), &rules).is_empty());
    assert_eq!(
        paths(&diff(
            &json!({"rate": 1, "n": 1}),
            &json!({"rate": 1.5, "n": 1.5}),
            &rules
        )),
        vec!["$.n"]
    );
    assert_eq!(
        paths(&diff(&json!({"rate": 1}), &json!({"rate": "1"}), &rules)),
        vec!["$.rate"],
        "a string is still not a number"
    );

    // nullable: null or the type; a null side says nothing about the subtree.
    let rules = Rules::exact().nullable("$.h");
    assert!(diff(&json!({"h": {"s": "x"}}), &json!({"h": null}), &rules).is_empty());
    assert_eq!(
        paths(&diff(&json!({"h": {"s": "x"}}), &json!({"h": 1}), &rules)),
        vec!["$.h", "$.h.s"],
        "null is tolerated, a number is not"
    );

    // optional: may be absent, but if present its shape still counts.
    let rules = Rules::exact().optional("$.o");
    assert!(diff(&json!({"o": {"a": 1}}), &json!({}), &rules).is_empty());
    assert_eq!(
        paths(&diff(
            &json!({"o": {"a": 1}}),
            &json!({"o": {"a": "1"}}),
            &rules
        )),
        vec!["$.o.a"]
    );

    // map: keys are data, values are compared.
    let rules = Rules::exact().map("$.labels");
    assert!(diff(
        &json!({"labels": {"a": "x"}}),
        &json!({"labels": {"b": "y"}}),
        &rules
    )
    .is_empty());
    assert!(diff(
        &json!({"labels": {}}),
        &json!({"labels": {"b": "y"}}),
        &rules
    )
    .is_empty());
    assert_eq!(
        paths(&diff(
            &json!({"labels": {"a": "x"}}),
            &json!({"labels": {"b": 1}}),
            &rules
        )),
        vec!["$.labels.*"]
    );

    // any_of: the reference's variants list the allowed types; the candidate uses one of them.
    let rules = Rules::exact().any_of("$.h");
    let variants = [json!({"h": "12"}), json!({"h": 12})];
    let reference = Shape::merged(variants.iter(), &rules);
    let ok = common::shape::compare(&reference, &Shape::of(&json!({"h": 12}), &rules), &rules);
    assert!(ok.is_empty(), "{ok:?}");
    let bad = common::shape::compare(&reference, &Shape::of(&json!({"h": 1.5}), &rules), &rules);
    assert_eq!(paths(&bad), vec!["$.h"]);

    // only: the rest is not compared; the listed paths still are.
    let rules = Rules::exact().only(&["$.a"]);
    assert!(diff(&json!({"a": 1, "b": 1}), &json!({"a": 2}), &rules).is_empty());
    assert_eq!(
        paths(&diff(&json!({"a": 1}), &json!({"b": 1}), &rules)),
        vec!["$.a"]
    );
}

#[test]
fn merged_shapes_collect_every_type_seen() {
    let docs = [json!({"a": 1}), json!({"a": "x", "b": true})];
    let s = Shape::merged(docs.iter(), &Rules::exact());
    assert_eq!(s.kinds("$.a"), Some(&[Kind::Integer, Kind::String].into()));
    assert_eq!(s.paths().collect::<Vec<_>>(), vec!["$", "$.a", "$.b"]);
}
