//! Regular expressions follow ECMAScript, as in jsonata-js. Every expected value below was
//! taken from `@truto/truto-jsonata` 3.0.6 under node 20 (`TZ=UTC`); the differential
//! test (`differential/jsonata/cases/regex.json`) checks many more against the package.

#![cfg(feature = "jsonata-core")]

use patchbay_template::expression::{Bindings, Expression, ExpressionError};
use serde_json::{Value, json};

fn eval(source: &str) -> Result<Option<Value>, ExpressionError> {
    Expression::compile(source)?.evaluate(&json!({"phone": "+1 (555) 010-9999"}), &Bindings::new())
}

fn value(source: &str) -> Value {
    eval(source)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .unwrap_or_else(|| panic!("{source}: undefined"))
}

#[test]
fn look_around_back_references_and_named_groups_work() {
    assert_eq!(
        value(r"$match('USD100 EUR200', /(?<=EUR)\d+/).match"),
        json!("200")
    );
    assert_eq!(value(r"$contains('abc', /(?<=a)b/)"), json!(true));
    assert_eq!(
        value(r"$replace('the the cat', /\b(\w+) \1\b/, '$1')"),
        json!("the cat")
    );
    assert_eq!(
        value(r"$match('2024-01-15', /(?<y>\d{4})-(?<m>\d{2})/).groups"),
        json!(["2024", "01"])
    );
}

#[test]
fn classes_are_javascript_s() {
    assert_eq!(
        value(r"$match('café naïve', /\w+/).match"),
        json!(["caf", "na", "ve"])
    );
    assert_eq!(value(r"$match('١٢ 12', /\d+/).match"), json!("12"));
    assert!(eval("$match('a\\nb', /a.b/)").expect("evaluates").is_none());
}

#[test]
fn positions_are_utf16_code_units() {
    assert_eq!(
        value("$match('é😀a', /a/)"),
        json!({"match": "a", "index": 3, "groups": []})
    );
    assert_eq!(value("$split('a😀b😀c', /😀/)"), json!(["a", "b", "c"]));
    assert_eq!(
        value("$replace('é😀x', /x/, function($m){$string($m.start)})"),
        json!("é😀3")
    );
}

#[test]
fn matching_follows_jsonata_js() {
    assert_eq!(value(r"$split('a1b2c3d', /\d/, 2)"), json!(["a", "b"]));
    assert_eq!(
        value(r"$split('a1b2c3d', /\d/, 2.5)"),
        json!(["a", "b", "c"])
    );
    assert_eq!(
        value(r"$replace('abc', /(b)/, '[$1$$$0$2]')"),
        json!("a[b$b]c")
    );
    assert_eq!(value(r"phone.$replace(/\D/, '')"), json!("15550109999"));
    assert_eq!(
        value("/a/('xa')"),
        json!({"match": "a", "start": 1, "end": 2, "groups": []})
    );
    // A zero-length next match would never move on.
    let error = eval("$match('abc', /x*/)").expect_err("D1004");
    assert_eq!(error.code(), Some("D1004"));
    let error = eval("$replace('x', /x/, function($m){42})").expect_err("D3012");
    assert_eq!(error.code(), Some("D3012"));
}

#[test]
fn literals_javascript_refuses_do_not_compile() {
    for source in [
        "$match('a', /(?<n>a)(?<n>b)/)",
        "/a/g",
        "/a/s",
        "$match('a]', /]/)",
        "//",
    ] {
        assert!(
            matches!(
                Expression::compile(source),
                Err(ExpressionError::Compile { .. })
            ),
            "{source}"
        );
    }
}

#[test]
fn results_are_bounded_by_the_sequence_limit() {
    use patchbay_template::expression::{CoreEngine, ExpressionEngine, Limits};
    let engine = CoreEngine::with_limits(Limits {
        max_sequence_length: 10,
        ..Limits::default()
    });
    let text = json!({"s": "a,".repeat(20)});
    for source in ["$split(s, /,/)", "$split(s, ',')", "$match(s, /a/)"] {
        let error = engine
            .compile(source)
            .expect("compiles")
            .evaluate(&text, &Bindings::new())
            .expect_err("too many items");
        assert!(
            matches!(error, ExpressionError::SizeExceeded { .. }),
            "{source}: {error}"
        );
    }
    let few = engine.compile("$split('a,b', /,/)").expect("compiles");
    assert_eq!(
        few.evaluate(&json!(null), &Bindings::new())
            .expect("evaluates"),
        Some(json!(["a", "b"]))
    );
}
