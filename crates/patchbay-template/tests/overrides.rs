//! Patchbay's replacements of JSONata built-ins: the URL functions (as jsonata-js has them),
//! truto-jsonata's `$join`, `$string`, `$keys`, `$base64encode` and `$base64decode`, and
//! `$pick`/`$omit` on strings and arrays.
//!
//! Every expected value was captured by running `@truto/truto-jsonata` 3.0.6 (and, for the
//! plain-JSONata checks, `jsonata` 2.2.2) under node with `TZ=UTC`. The differential test
//! (`differential_truto_jsonata.rs`, categories `url`, `overrides` and `pick-omit`) runs
//! several hundred more cases against the package itself.

#![cfg(feature = "jsonata-core")]

use patchbay_template::expression::{Bindings, CoreEngine, Expression, ExpressionEngine};
use serde_json::{Value, json};

fn eval(source: &str, input: &Value) -> Option<Value> {
    Expression::compile(source)
        .and_then(|expression| expression.evaluate(input, &Bindings::new()))
        .unwrap_or_else(|error| panic!("{source}: {error}"))
}

fn eval_plain(source: &str) -> Option<Value> {
    CoreEngine::default()
        .with_extensions(false)
        .compile(source)
        .and_then(|expression| expression.evaluate(&json!(null), &Bindings::new()))
        .unwrap_or_else(|error| panic!("{source}: {error}"))
}

fn error_code(source: &str) -> Option<String> {
    let error = Expression::compile(source)
        .and_then(|expression| expression.evaluate(&json!(null), &Bindings::new()))
        .expect_err(source);
    error.code().map(str::to_owned)
}

#[test]
fn url_functions_are_ecmascripts() {
    let cases = [
        (
            r#"$encodeUrlComponent("a b&c=d/é😀?#[]!~*'()")"#,
            "a%20b%26c%3Dd%2F%C3%A9%F0%9F%98%80%3F%23%5B%5D!~*'()",
        ),
        (
            r#"$encodeUrl("https://x.io/a b?q=[1]&r=100%#f")"#,
            "https://x.io/a%20b?q=%5B1%5D&r=100%25#f",
        ),
        (r#"$decodeUrl("%2F%3f%20%C3%A9")"#, "%2F%3f é"),
        (r#"$decodeUrlComponent("%2F%3f%20%C3%A9")"#, "/? é"),
    ];
    for (source, expected) in cases {
        assert_eq!(
            eval(source, &json!(null)),
            Some(json!(expected)),
            "{source}"
        );
        // Plain JSONata has the same URL functions.
        assert_eq!(eval_plain(source), Some(json!(expected)), "{source}");
    }
    for malformed in [
        r#"$decodeUrl("%")"#,
        r#"$decodeUrlComponent("%C3")"#,
        r#"$decodeUrlComponent("%ED%A0%80")"#,
    ] {
        assert_eq!(
            error_code(malformed).as_deref(),
            Some("D3140"),
            "{malformed}"
        );
    }
    assert_eq!(
        eval("x.$encodeUrlComponent()", &json!({"x": "a b"})),
        Some(json!("a%20b"))
    );
    assert_eq!(
        eval("$map(['a b', 'c/d'], $encodeUrlComponent)", &json!(null)),
        Some(json!(["a%20b", "c%2Fd"]))
    );
}

#[test]
fn join_is_lodash_join_of_cast_array() {
    assert_eq!(
        eval("$join([1, null, 'a', true, [2, 3]])", &json!(null)),
        Some(json!("1,,a,true,2,3"))
    );
    assert_eq!(eval("$join(ids, '|')", &json!({})), Some(json!("")));
    assert_eq!(
        eval("$map([['a'], ['b', 'c']], $join)", &json!(null)),
        Some(json!(["a", "b1c"]))
    );
    assert_eq!(
        eval("($join := function($a){'own'}; $join([1]))", &json!(null)),
        Some(json!("own"))
    );
    // jsonata 2.2.2 refuses numbers; plain JSONata keeps its $join.
    let plain = CoreEngine::default()
        .with_extensions(false)
        .compile("$join([1, 2])")
        .and_then(|expression| expression.evaluate(&json!(null), &Bindings::new()))
        .expect_err("plain $join refuses numbers");
    assert_eq!(plain.code(), Some("T0412"));
    assert_eq!(eval_plain("$join(['a', 'b'])"), Some(json!("ab")));
}

#[test]
fn string_rounds_every_number_to_15_digits() {
    assert_eq!(
        eval("$string(12345678901234567)", &json!(null)),
        Some(json!("12345678901234600"))
    );
    assert_eq!(
        eval(
            r#"$string({"n": 12345678901234567, "f": 0.1})"#,
            &json!(null)
        ),
        Some(json!(r#"{"n":12345678901234600,"f":0.1}"#))
    );
    assert_eq!(
        eval("$map([1, 2], $string)", &json!(null)),
        Some(json!(["1", "2"]))
    );
    assert_eq!(eval("users.$string()", &json!({})), None);
    assert_eq!(
        eval("name.$string()", &json!({"name": 5})),
        Some(json!("5"))
    );
    // jsonata 2.2.2 keeps integers.
    assert_eq!(
        eval_plain("$string(12345678901234567)"),
        Some(json!("12345678901234568"))
    );
}

#[test]
fn keys_searches_nested_arrays() {
    assert_eq!(
        eval(r#"$keys([[{"a":1}], {"b":2}])"#, &json!(null)),
        Some(json!(["a", "b"]))
    );
    assert_eq!(
        eval_plain(r#"$keys([[{"a":1}], {"b":2}])"#),
        Some(json!(["a", "b"]))
    );
    assert_eq!(eval("$keys()", &json!({"z": 1})), Some(json!("z")));
}

#[test]
fn base64_pair_takes_url_safe_flag() {
    assert_eq!(
        eval("$base64encode('subjects?_d', true)", &json!(null)),
        Some(json!("c3ViamVjdHM_X2Q"))
    );
    assert_eq!(
        eval("$base64decode('c3ViamVjdHM_X2Q', true)", &json!(null)),
        Some(json!("subjects?_d"))
    );
    assert_eq!(
        eval("$base64decode('/w==')", &json!(null)),
        Some(json!("\u{FFFD}"))
    );
    assert_eq!(eval("$base64encode()", &json!(null)), Some(json!("")));
    assert!(
        Expression::compile("$base64decode('YQ=')")
            .and_then(|expression| expression.evaluate(&json!(null), &Bindings::new()))
            .is_err()
    );
}

#[test]
fn pick_and_omit_index_strings_and_arrays() {
    assert_eq!(
        eval("$omit('abc', [1])", &json!(null)),
        Some(json!({"0": "a", "2": "c"}))
    );
    assert_eq!(
        eval("$pick(['a','b','c'], [0, 2])", &json!(null)),
        Some(json!({"0": "a", "2": "c"}))
    );
}

#[cfg(feature = "jsonata-rs")]
#[test]
fn jsonata_rs_has_the_url_functions() {
    use patchbay_template::expression::RsEngine;
    let rs = |source: &str, input: &Value| {
        RsEngine::default()
            .compile(source)
            .and_then(|expression| expression.evaluate(input, &Bindings::new()))
    };
    assert_eq!(
        rs(r#"$encodeUrl("a b?q=[1]")"#, &json!(null)).expect("evaluates"),
        Some(json!("a%20b?q=%5B1%5D"))
    );
    assert_eq!(
        rs("x.$decodeUrlComponent()", &json!({"x": "%C3%A9%2F"})).expect("evaluates"),
        Some(json!("é/"))
    );
    let error = rs(r#"$decodeUrl("%E0%A4%A")"#, &json!(null)).expect_err("malformed");
    assert_eq!(error.code(), Some("D3140"));
}

#[test]
fn a_callers_variable_shadows_a_replaced_built_in() {
    // As in jsonata-js: `$string` is the caller's variable, and calling it is T1006.
    let bindings = Bindings::new().with("string", json!("mine"));
    let value = Expression::compile("$string")
        .and_then(|expression| expression.evaluate(&json!(null), &bindings))
        .expect("evaluates");
    assert_eq!(value, Some(json!("mine")));
    let error = Expression::compile("$string(1)")
        .and_then(|expression| expression.evaluate(&json!(null), &bindings))
        .expect_err("a string is not a function");
    assert_eq!(error.code(), Some("T1006"));
}
