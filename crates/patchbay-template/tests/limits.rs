//! F4: the size, time and scheduling limits of JSONata evaluation hold for the built-ins that
//! allocate in one step, and a slow evaluation does not hold up an async runtime.
#![cfg(feature = "jsonata-core")]

use std::time::{Duration, Instant};

use patchbay_template::expression::{
    Bindings, CoreEngine, ExpressionEngine, ExpressionError, Limits,
};
use serde_json::{Value, json};

/// How long a refused expression may take (debug build, shared machine).
const FAST: Duration = Duration::from_millis(200);

fn evaluate(engine: &CoreEngine, source: &str) -> Result<Option<Value>, ExpressionError> {
    engine
        .compile(source)
        .unwrap_or_else(|error| panic!("compile {source:?}: {error}"))
        .evaluate(&json!(null), &Bindings::new())
}

/// Evaluates `source` with `engine`, expects a [`ExpressionError::SizeExceeded`] with `code`
/// within [`FAST`], and answers its message.
fn refused(engine: &CoreEngine, source: &str, code: &str) -> String {
    let started = Instant::now();
    let error = evaluate(engine, source).expect_err(source);
    let took = started.elapsed();
    assert!(
        matches!(&error, ExpressionError::SizeExceeded { code: c, .. } if c == code),
        "{source}: {error:?}"
    );
    assert!(error.is_limit());
    assert!(took < FAST, "{source} took {took:?} to fail");
    error.to_string()
}

#[test]
fn pad_over_the_string_limit_fails_before_allocating() {
    let engine = CoreEngine::default();
    let message = refused(&engine, "$length($pad('x', 1000000000))", "U1004");
    assert_eq!(
        message,
        "JSONata evaluation exceeded its size limit of 1048576 bytes: \
         $pad would build a string of 1000000000 bytes (U1004)"
    );
    // Every way to reach the built-in is checked: by reference, from a lambda, negative
    // widths, multi-byte padding, and code built at run time.
    for source in [
        "($p := $pad; $p('x', 1e9))",
        "$map([1e9], function($w){ $pad('x', $w) })",
        "$pad('x', -2147483648, '💩')",
        "$eval(\"$pad('x', 1e9)\")",
    ] {
        refused(&engine, source, "U1004");
    }
}

#[test]
fn replace_over_the_string_limit_fails_fast() {
    let engine = CoreEngine::default();
    let started = Instant::now();
    // The review's case: 10,000 matches × a 100,000-byte replacement = 1 GB.
    let message = refused(
        &engine,
        "$length($replace($pad('', 10000), ' ', $pad('', 100000)))",
        "U1004",
    );
    assert!(message.contains("1000000000 bytes"), "{message}");
    // A regex pattern, by reference, and code built at run time.
    for source in [
        "$replace($pad('', 10000), /\\s/, $pad('', 100000))",
        "($r := $replace; $r($pad('', 10000), ' ', $pad('', 100000)))",
        "$eval(\"$replace($pad('', 10000), ' ', $pad('', 100000))\")",
    ] {
        refused(&engine, source, "U1004");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn replace_within_the_limit_behaves_as_the_built_in() {
    let engine = CoreEngine::default();
    for (source, expected) in [
        ("$replace('a-b-c', '-', '+')", json!("a+b+c")),
        ("$replace('a-b-c', '-', '+', 1)", json!("a+b-c")),
        (
            "$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')",
            json!("Smith, John"),
        ),
        // A replacement function is run by the engine itself.
        (
            "$replace('abc', /b/, function($m){ $uppercase($m.match) })",
            json!("aBc"),
        ),
        (
            "$replace('265USD', /([0-9]+)USD/, function($m){ $number($m.groups[0]) * 2 & 'EUR' })",
            json!("530EUR"),
        ),
    ] {
        assert_eq!(
            evaluate(&engine, source).expect(source),
            Some(expected),
            "{source}"
        );
    }
}

#[test]
fn pad_within_the_limit_behaves_as_the_built_in() {
    let engine = CoreEngine::default();
    for (source, expected) in [
        ("$pad('foo', 5)", json!("foo  ")),
        ("$pad('foo', -5, '#')", json!("##foo")),
        ("$pad('foo', 8, '-+')", json!("foo-+-+-")),
        ("$length($pad('x', 1048576))", json!(1_048_576)),
    ] {
        assert_eq!(
            evaluate(&engine, source).expect(source),
            Some(expected),
            "{source}"
        );
    }
    assert_eq!(
        evaluate(&engine, "$pad(nothing, 3)").expect("undefined"),
        None
    );
    let error = evaluate(&engine, "$pad('foo', 'wide')").expect_err("a string width");
    assert_eq!(error.code(), Some("T0410"), "{error}");
}

#[test]
fn the_string_limit_is_configurable() {
    let engine = CoreEngine::with_limits(Limits {
        max_string_bytes: 10,
        ..Limits::default()
    });
    assert_eq!(
        evaluate(&engine, "$pad('x', 10)").expect("at the limit"),
        Some(json!("x         "))
    );
    let message = refused(&engine, "$pad('x', 11)", "U1004");
    assert!(message.contains("size limit of 10 bytes"), "{message}");
}

#[test]
fn sequences_over_the_limit_fail_fast() {
    let engine = CoreEngine::default();
    for source in [
        "[1..10000000]",
        "$count([1..1e7])",
        "$string([1..1e7])",
        "$sort([1..2000000])",
        "$keys($merge([1..1000001].{$string($): 1}))",
    ] {
        let message = refused(&engine, source, "D2015");
        assert!(
            message.contains("size limit of 1000000 items"),
            "{source}: {message}"
        );
    }
    // Up to the limit is fine.
    assert_eq!(
        evaluate(&engine, "$count([1..1000000])").expect("at the limit"),
        Some(json!(1_000_000))
    );
    let small = CoreEngine::with_limits(Limits {
        max_sequence_length: 100,
        ..Limits::default()
    });
    refused(&small, "[1..101]", "D2015");
    refused(&small, "$keys($merge([1..101].{$string($): 1}))", "D2015");
}

#[test]
fn a_slow_evaluation_that_eats_memory_is_cancelled() {
    let limit = 64 << 20;
    let engine = CoreEngine::with_limits(Limits {
        timeout: Duration::from_secs(3),
        max_memory_growth: limit,
        ..Limits::default()
    });
    // Each step is small (10,000-item ranges), but the mapping keeps them all: 100,000,000
    // items, gigabytes, before the sequence limit is ever checked.
    let started = Instant::now();
    let error = evaluate(&engine, "[1..10000].[1..10000] ~> $count()").expect_err("cancelled");
    let took = started.elapsed();
    assert!(
        matches!(error, ExpressionError::MemoryExceeded { limit: l, .. } if l == limit),
        "{error:?}"
    );
    assert!(error.is_limit());
    assert!(error.to_string().contains("memory limit"), "{error}");
    assert!(
        took < Duration::from_secs(1),
        "cancelled only after {took:?}"
    );
}

#[test]
fn the_time_limit_holds_for_the_largest_allowed_built_in_calls() {
    let limits = Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let engine = CoreEngine::with_limits(limits);
    for source in [
        "$length($string([1..1000000]))",
        "$count($sort([1..1000000].(1000000 - $)))",
        "$length($pad('', 1048576, 'ab'))",
    ] {
        let started = Instant::now();
        let result = evaluate(&engine, source);
        let took = started.elapsed();
        assert!(
            result.is_ok() || result.as_ref().is_err_and(ExpressionError::is_limit),
            "{source}: {result:?}"
        );
        // The timeout, plus the inline attempt, plus one bounded step of slack.
        assert!(took < Duration::from_secs(2), "{source} took {took:?}");
    }
}

#[test]
fn a_slow_expression_does_not_hold_up_the_other_tasks_of_a_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async {
        let engine = CoreEngine::with_limits(Limits {
            timeout: Duration::from_millis(600),
            ..Limits::default()
        });
        let endless = engine
            .compile("($f := function($x){ $f($x) }; $f(1))")
            .expect("valid");
        let slow = tokio::spawn(async move { endless.evaluate(&json!(null), &Bindings::new()) });
        // The slow task has the only worker now (a blocking sleep: the worker also drives the
        // runtime's timers); a second task must still run promptly.
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        tokio::spawn(async {}).await.unwrap();
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(200),
            "another task waited {waited:?} for the worker"
        );
        let error = slow.await.unwrap().expect_err("the loop times out");
        assert!(
            matches!(error, ExpressionError::Timeout { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn a_slow_expression_on_a_current_thread_runtime_runs_inline() {
    // Nothing can be moved off a current-thread runtime (`block_in_place` would panic there):
    // the evaluation runs inline and ends at its time limit.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let engine = CoreEngine::with_limits(Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    });
    let result =
        runtime.block_on(async { evaluate(&engine, "($f := function($x){ $f($x) }; $f(1))") });
    assert!(
        matches!(result, Err(ExpressionError::Timeout { .. })),
        "{result:?}"
    );
    let cheap = runtime.block_on(async { evaluate(&engine, "$sum([1..100])") });
    assert_eq!(cheap.expect("evaluates"), Some(json!(5050)));
}

#[test]
fn a_slow_expression_inside_a_local_set_runs_inline() {
    // A `LocalSet` on a multi-thread runtime cannot give its thread away either
    // (`block_in_place` panics there): the evaluation runs inline instead.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let engine = CoreEngine::with_limits(Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    });
    let local = tokio::task::LocalSet::new();
    let result = runtime.block_on(local.run_until(async {
        tokio::task::spawn_local(async move {
            evaluate(&engine, "($f := function($x){ $f($x) }; $f(1))")
        })
        .await
        .expect("the evaluation does not panic")
    }));
    assert!(
        matches!(result, Err(ExpressionError::Timeout { .. })),
        "{result:?}"
    );
}

#[test]
fn replace_and_pad_take_their_text_from_the_context_as_the_built_ins_do() {
    let engine = CoreEngine::default();
    for (source, expected) in [
        ("{'t': 'a-b'}.t.$replace('-', '+')", json!("a+b")),
        (
            "{'t': ['a-b', 'c-d']}.t.$replace('-', '+')",
            json!(["a+b", "c+d"]),
        ),
        ("{'t': 'x'}.t.$pad(3, '-')", json!("x--")),
        (
            "{'phone': '(555) 123'}.phone.$replace(/\\D/, '')",
            json!("555123"),
        ),
    ] {
        assert_eq!(
            evaluate(&engine, source).expect(source),
            Some(expected),
            "{source}"
        );
    }
}

#[test]
fn the_context_form_is_size_checked_too() {
    let engine = CoreEngine::default();
    refused(&engine, "{'t': ''}.t.$pad(1000000000)", "U1004");
    refused(
        &engine,
        "{'t': $pad('', 10000)}.t.$replace(' ', $pad('', 100000))",
        "U1004",
    );
}
