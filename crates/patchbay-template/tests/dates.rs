//! JSONata's date built-ins as jsonata-js has them, and truto-jsonata's date and currency
//! extensions.
//!
//! Every expected value below was captured by running `@truto/truto-jsonata@3.0.6`
//! (jsonata 2.2.2, Luxon 3.5) under node 20 with `TZ=UTC`. The built-in replacements
//! (`$fromMillis`, `$toMillis`, `$now`, `$millis`, `$random`) exist on jsonata-core only;
//! the extension functions are checked on every enabled backend.

use patchbay_template::expression::{Bindings, ExpressionEngine, ExpressionError};
use serde_json::{Value, json};

#[path = "support/engines.rs"]
mod support_engines;
use support_engines::engines;

fn run(
    engine: &dyn ExpressionEngine,
    source: &str,
    input: &Value,
) -> Result<Option<Value>, ExpressionError> {
    engine.compile(source)?.evaluate(input, &Bindings::new())
}

/// Asserts each `(source, expected)` on `engine` (`None` = undefined), with `input`.
fn check_on(engine: &dyn ExpressionEngine, input: &Value, cases: &[(&str, Option<Value>)]) {
    for (source, expected) in cases {
        let actual = run(engine, source, input)
            .unwrap_or_else(|error| panic!("{}: {source}: {error}", engine.name()));
        assert_eq!(&actual, expected, "{}: {source}", engine.name());
    }
}

#[cfg(feature = "jsonata-core")]
mod builtins {
    use super::*;
    use patchbay_template::expression::CoreEngine;

    fn check(cases: &[(&str, Option<Value>)]) {
        check_on(&CoreEngine::default(), &json!({}), cases);
    }

    #[test]
    fn from_millis_takes_fractional_milliseconds() {
        check(&[
            (
                "$fromMillis(1700000000123.456)",
                Some(json!("2023-11-14T22:13:20.123Z")),
            ),
            (
                "$fromMillis(1.7e12 + 0.5)",
                Some(json!("2023-11-14T22:13:20.000Z")),
            ),
            ("$fromMillis(-1.5)", Some(json!("1969-12-31T23:59:59.999Z"))),
            ("$fromMillis(-0.5)", Some(json!("1970-01-01T00:00:00.000Z"))),
            (
                r#"$fromMillis(1700000000123.456, "[H01]:[m01]:[s01].[f001] [Z]", "-0530")"#,
                Some(json!("15:43:20.123 -06:30")),
            ),
            (
                "1700000000123.5 ~> $fromMillis()",
                Some(json!("2023-11-14T22:13:20.123Z")),
            ),
            (
                r#"1.5 ~> $fromMillis("[Y0001]-[M01]-[D01] [f001]")"#,
                Some(json!("1970-01-01 001")),
            ),
        ]);
        check_on(
            &CoreEngine::default(),
            &json!({"ts": 1_700_000_000_123.456}),
            &[
                ("ts.$fromMillis()", Some(json!("2023-11-14T22:13:20.123Z"))),
                (
                    "ts.$fromMillis('[Y0001]-[M01]-[D01]')",
                    Some(json!("2023-11-14")),
                ),
                ("$fromMillis(ts, '[H01]', '+0100')", Some(json!("23"))),
            ],
        );
    }

    #[test]
    fn now_takes_a_picture_and_is_one_instant_per_evaluation() {
        check(&[
            (
                "[$now(), $now(), $now()] ~> $distinct() ~> $count()",
                Some(json!(1)),
            ),
            ("$millis() = $toMillis($now())", Some(json!(true))),
            (
                r#"$substring($now(undefined, "+0530"), 23)"#,
                Some(json!("+05:30")),
            ),
            ("$substring($now(), 23)", Some(json!("Z"))),
            (r#"$length($now("[Y0001]-[M01]-[D01]"))"#, Some(json!(10))),
            (r#"$now("", "")"#, Some(json!(""))),
        ]);
        let engine = CoreEngine::default();
        for source in [
            "$now(null)",
            "$now(1)",
            r#"$now("[Y]", null)"#,
            "$millis(1)",
        ] {
            let error = run(&engine, source, &json!({})).expect_err(source);
            assert_eq!(error.code(), Some("T0410"), "{source}: {error}");
        }
    }

    #[test]
    fn random_is_in_the_unit_interval() {
        check(&[
            ("[1..200].$random() ~> $min() >= 0", Some(json!(true))),
            ("[1..200].$random() ~> $max() < 1", Some(json!(true))),
            (
                "[1..200].$random() ~> $distinct() ~> $count() > 190",
                Some(json!(true)),
            ),
        ]);
    }

    #[test]
    fn to_millis_reads_what_date_parse_reads() {
        check(&[
            (
                r#"$toMillis("2024-01-02T03:04:05+0530")"#,
                Some(json!(1_704_144_845_000_i64)),
            ),
            (
                r#"$toMillis("2024-01-02T03:04:05.1Z")"#,
                Some(json!(1_704_164_645_100_i64)),
            ),
            (
                r#"$toMillis("2024-02-30")"#,
                Some(json!(1_709_251_200_000_i64)),
            ),
            (
                r#""2024-02-30" ~> $toMillis()"#,
                Some(json!(1_709_251_200_000_i64)),
            ),
            (r#"$toMillis("2024.5")"#, Some(json!(1_714_521_600_000_i64))),
            // JavaScript's NaN, which has no JSON form.
            (r#"$toMillis("2024-13-01")"#, Some(Value::Null)),
            (
                r#"$toMillis("02/01/2024", "[D01]/[M01]/[Y0001]")"#,
                Some(json!(1_704_153_600_000_i64)),
            ),
        ]);
        let engine = CoreEngine::default();
        for source in [
            r#"$toMillis("2024-01-02 03:04:05")"#,
            r#"$toMillis("2024-01-02T03:04:05z")"#,
            r#"$toMillis("24-01-02")"#,
        ] {
            let error = run(&engine, source, &json!({})).expect_err(source);
            assert_eq!(error.code(), Some("D3110"), "{source}: {error}");
        }
    }

    #[test]
    fn chained_calls_of_the_size_checked_built_ins_take_the_left_side_first() {
        check(&[
            (r#""abc" ~> $pad(5)"#, Some(json!("abc  "))),
            (r#""x" ~> $replace("x", "y")"#, Some(json!("y"))),
        ]);
    }
}

#[test]
fn dt_from_iso_gives_luxon_iso_strings() {
    for engine in engines() {
        check_on(
            engine.as_ref(),
            &json!({}),
            &[
                (
                    r#"$dtFromIso("2024-01-02T03:04:05+05:30")"#,
                    Some(json!("2024-01-01T21:34:05.000+00:00")),
                ),
                (
                    r#"$dtFromIso("2024-01-02")"#,
                    Some(json!("2024-01-02T00:00:00.000+00:00")),
                ),
                (
                    r#"$dtFromIso("2024-W01-2")"#,
                    Some(json!("2024-01-02T00:00:00.000+00:00")),
                ),
                (
                    r#"$dtFromIso("2024-01-02T03:04:05+05:30", "utc")"#,
                    Some(json!("2024-01-01T21:34:05.000Z")),
                ),
                (
                    r#"$dtFromIso("2024-01-02T03:04:05Z", "UTC+3")"#,
                    Some(json!("2024-01-02T06:04:05.000+03:00")),
                ),
                (r#"$dtFromIso("garbage")"#, Some(Value::Null)),
                (r#"$dtFromIso("2024-02-30")"#, Some(Value::Null)),
                (r#"$dtFromIso("2024-01-02", "Foo")"#, Some(Value::Null)),
            ],
        );
        check_on(
            engine.as_ref(),
            &json!({}),
            &[
                (
                    r#"$dtFromIso("2024-01-02T03:04:05Z", "America/New_York")"#,
                    Some(json!("2024-01-01T22:04:05.000-05:00")),
                ),
                // 02:30 does not exist on 2024-03-10 in New York: Luxon moves it forward.
                (
                    r#"$dtFromFormat("2024-03-10 02:30", "yyyy-MM-dd HH:mm", {"zone": "America/New_York"})"#,
                    Some(json!("2024-03-10T03:30:00.000-04:00")),
                ),
                (
                    r#"$dtFromIso("2024-01-02", "Not/AZone")"#,
                    Some(Value::Null),
                ),
            ],
        );
    }
}

#[test]
fn dt_from_format_reads_luxon_tokens() {
    for engine in engines() {
        check_on(
            engine.as_ref(),
            &json!({}),
            &[
                (
                    r#"$dtFromFormat("02/01/2024", "dd/MM/yyyy")"#,
                    Some(json!("2024-01-02T00:00:00.000+00:00")),
                ),
                (
                    r#"$dtFromFormat("1/2/2024 3:04 PM", "M/d/yyyy h:mm a", {"zone": "UTC-5"})"#,
                    Some(json!("2024-01-02T15:04:00.000-05:00")),
                ),
                (
                    r#"$dtFromFormat("Tue, 02 Jan 2024", "EEE, dd MMM yyyy")"#,
                    Some(json!("2024-01-02T00:00:00.000+00:00")),
                ),
                (
                    r#"$dtFromFormat("Mon, 02 Jan 2024", "EEE, dd MMM yyyy")"#,
                    Some(Value::Null),
                ),
                (
                    r#"$dtFromFormat("2024-01-02 03:04:05 +05:30", "yyyy-MM-dd HH:mm:ss ZZ", {"setZone": true})"#,
                    Some(json!("2024-01-02T03:04:05.000+05:30")),
                ),
                (
                    r#"$dtFromFormat("1700000000", "fromSeconds")"#,
                    Some(json!("2023-11-14T22:13:20.000+00:00")),
                ),
                (
                    r#"$dtFromFormat("Tue, 02 Jan 2024 03:04:05 +0000", "RFC2822")"#,
                    Some(json!("2024-01-02T03:04:05.000+00:00")),
                ),
                (r#"$dtFromFormat("nope", "dd/MM/yyyy")"#, Some(Value::Null)),
            ],
        );
        for source in [
            r#"$dtFromFormat("2024")"#,
            r#"$dtFromFormat(2024, "yyyy")"#,
            r#"$dtFromFormat("3 PM", "H a")"#,
        ] {
            let error = run(engine.as_ref(), source, &json!({})).expect_err(source);
            assert!(
                matches!(error, ExpressionError::Evaluate { .. }),
                "{source}: {error}"
            );
        }
    }
}

#[test]
fn currency_subunits_follow_iso_4217_decimals() {
    for engine in engines() {
        check_on(
            engine.as_ref(),
            &json!({}),
            &[
                (
                    r#"$convertCurrencyToSubunit("19.99", "USD")"#,
                    Some(json!(1998)),
                ),
                (
                    r#"$convertCurrencyToSubunit(1000.9, "JPY")"#,
                    Some(json!(1000)),
                ),
                (
                    r#"$convertCurrencyToSubunit(1.2345, "KWD")"#,
                    Some(json!(1234)),
                ),
                (r#"$convertCurrencyToSubunit(12, "usd")"#, Some(json!(12))),
                (
                    r#"$convertCurrencyFromSubunit(12345, "KWD")"#,
                    Some(json!("12.345")),
                ),
                (
                    r#"$convertCurrencyFromSubunit(1999, "JPY")"#,
                    Some(json!("1999")),
                ),
                (
                    r#"$convertCurrencyFromSubunit("1999", "USD")"#,
                    Some(json!("19.99")),
                ),
                (
                    r#"$convertCurrencyFromSubunit("abc", "USD")"#,
                    Some(json!("NaN")),
                ),
                (
                    r#"$convertCurrencyFromSubunit(null, "USD")"#,
                    Some(Value::Null),
                ),
                (r#"$convertCurrencyFromSubunit(nothing, "USD")"#, None),
            ],
        );
    }
}

/// Hostile inputs stay cheap: the format matcher memoises its failures (a format of 85
/// adjacent one-or-two-digit fields against 300 digits backtracks exponentially without;
/// Luxon in node took 104 s on 128 such fields), and the ISO readers are linear.
#[test]
fn hostile_date_inputs_stay_cheap() {
    let digits = "1".repeat(300);
    let format = vec!["d"; 85].join("''");
    let long_fraction = format!("2024-01-02T03:04:05.{}Z", "1".repeat(100_000));
    let bindings = Bindings::new()
        .with("digits", json!(format!("{digits}x")))
        .with("format", json!(format))
        .with("fraction", json!(long_fraction))
        .with(
            "bracket",
            json!(format!("2024-01-02T03:04:05[{}]", "a".repeat(100_000))),
        );
    for engine in engines() {
        let started = std::time::Instant::now();
        for (source, expected) in [
            ("$dtFromFormat($digits, $format)", Some(Value::Null)),
            ("$dtFromIso($fraction)", Some(Value::Null)),
            ("$dtFromIso($bracket)", Some(Value::Null)),
        ] {
            let actual = engine
                .compile(source)
                .and_then(|expression| expression.evaluate(&json!({}), &bindings))
                .unwrap_or_else(|error| panic!("{}: {source}: {error}", engine.name()));
            assert_eq!(actual, expected, "{}: {source}", engine.name());
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{}: took {:?}",
            engine.name(),
            started.elapsed()
        );
    }
    // A format longer than 256 characters is refused rather than matched.
    for engine in engines() {
        let error = run(
            engine.as_ref(),
            &format!("$dtFromFormat('1', '{}')", "d".repeat(257)),
            &json!({}),
        )
        .expect_err("an over-long format");
        assert!(error.to_string().contains("longer than"), "{error}");
    }
}

#[cfg(feature = "jsonata-core")]
#[test]
fn a_long_fraction_is_read_in_linear_time() {
    use patchbay_template::expression::CoreEngine;
    let text = format!("2024-01-02T03:04:05.{}Z", "1".repeat(100_000));
    let bindings = Bindings::new().with("text", json!(text));
    let started = std::time::Instant::now();
    let result = CoreEngine::default()
        .compile("$toMillis($text)")
        .and_then(|expression| expression.evaluate(&json!({}), &bindings));
    assert_eq!(result.expect("parses"), Some(json!(1_704_164_645_111_i64)));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
