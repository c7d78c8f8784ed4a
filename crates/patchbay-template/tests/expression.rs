//! Behaviour of the JSONata expression layer, run against every enabled backend.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use patchbay_template::expression::{
    Bindings, Expression, ExpressionEngine, ExpressionError, Limits, default_engine,
};
use serde_json::{Value, json};

/// Every backend compiled into this test binary, with the given limits.
fn engines(limits: Limits) -> Vec<Arc<dyn ExpressionEngine>> {
    #[cfg(feature = "jsonata-core")]
    let core: Option<Arc<dyn ExpressionEngine>> = Some(Arc::new(
        patchbay_template::expression::CoreEngine::with_limits(limits),
    ));
    #[cfg(not(feature = "jsonata-core"))]
    let core: Option<Arc<dyn ExpressionEngine>> = None;
    #[cfg(feature = "jsonata-rs")]
    let rs: Option<Arc<dyn ExpressionEngine>> = Some(Arc::new(
        patchbay_template::expression::RsEngine::with_limits(limits),
    ));
    #[cfg(not(feature = "jsonata-rs"))]
    let rs: Option<Arc<dyn ExpressionEngine>> = None;
    let engines: Vec<_> = core.into_iter().chain(rs).collect();
    assert!(!engines.is_empty(), "no backend enabled");
    engines
}

fn default_engines() -> Vec<Arc<dyn ExpressionEngine>> {
    engines(Limits::default())
}

fn eval(engine: &dyn ExpressionEngine, source: &str, input: &Value) -> Option<Value> {
    engine
        .compile(source)
        .unwrap_or_else(|error| panic!("{}: compile {source:?}: {error}", engine.name()))
        .evaluate(input, &Bindings::new())
        .unwrap_or_else(|error| panic!("{}: evaluate {source:?}: {error}", engine.name()))
}

/// Compiles and evaluates, folding both phases into one result.
fn try_eval(
    engine: &dyn ExpressionEngine,
    source: &str,
    input: &Value,
) -> Result<Option<Value>, ExpressionError> {
    engine.compile(source)?.evaluate(input, &Bindings::new())
}

/// Runs `work` on a thread with a 2 MiB stack, the size of a tokio worker thread.
fn on_small_thread<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> R {
    thread::Builder::new()
        .name("2MiB".into())
        .stack_size(2 << 20)
        .spawn(work)
        .expect("spawn thread")
        .join()
        .expect("the evaluation thread must not panic")
}

#[test]
fn default_engine_prefers_jsonata_core() {
    let expected = if cfg!(feature = "jsonata-core") {
        "jsonata-core"
    } else {
        "jsonata-rs"
    };
    assert_eq!(default_engine().name(), expected);
    assert_eq!(Expression::compile("1").expect("valid").engine(), expected);
}

#[test]
fn paths_predicates_and_constructors() {
    let input = json!({"data": {"items": [
        {"id": 1, "status": "active", "first": "Ada", "last": "L"},
        {"id": 2, "status": "gone", "first": "Bo", "last": "M"},
        {"id": 3, "status": "active", "first": "Cy", "last": "N"}
    ]}});
    for engine in default_engines() {
        let engine = engine.as_ref();
        assert_eq!(
            eval(engine, "data.items[status='active'].id", &input),
            Some(json!([1, 3]))
        );
        assert_eq!(
            eval(engine, "data.items[1].{'name': first & ' ' & last}", &input),
            Some(json!({"name": "Bo M"}))
        );
        assert_eq!(eval(engine, "$count(data.items)", &input), Some(json!(3)));
    }
}

#[test]
fn bindings_are_visible_as_variables() {
    let bindings = Bindings::new()
        .with(
            "response",
            json!({"status": 429, "headers": {"retry-after": "3"}}),
        )
        .with("context", json!({"page": 2}));
    let source = r#"$response.status = 429 ? $number($response.headers."retry-after") * 1000 + $context.page : 0"#;
    for engine in default_engines() {
        let expression = engine.compile(source).expect("valid");
        assert_eq!(
            expression
                .evaluate(&json!({}), &bindings)
                .expect("evaluates"),
            Some(json!(3002)),
            "{}",
            engine.name()
        );
        // Unbound variables are undefined, not errors.
        let unbound = engine.compile("$missing").expect("valid");
        assert_eq!(unbound.evaluate(&json!({}), &bindings).expect("ok"), None);
    }
}

#[test]
fn undefined_is_distinct_from_null() {
    let input = json!({"present": null, "list": []});
    for engine in default_engines() {
        let engine = engine.as_ref();
        assert_eq!(
            eval(engine, "present", &input),
            Some(Value::Null),
            "{}",
            engine.name()
        );
        assert_eq!(eval(engine, "absent", &input), None, "{}", engine.name());
        assert_eq!(eval(engine, "list[0]", &input), None, "{}", engine.name());
        assert_eq!(eval(engine, "null", &input), Some(Value::Null));
        // Undefined values are left out of constructed objects.
        assert_eq!(
            eval(engine, "{'a': absent, 'b': present}", &input),
            Some(json!({"b": null}))
        );
    }
}

#[test]
fn undefined_input_is_supported() {
    for engine in default_engines() {
        let expression = engine.compile("$").expect("valid");
        let bindings = Bindings::new().with("unused", json!(0));
        assert_eq!(
            expression.evaluate_input(None, &bindings).expect("ok"),
            None,
            "{}",
            engine.name()
        );
        assert_eq!(
            expression
                .evaluate_input(Some(&json!(1)), &bindings)
                .expect("ok"),
            Some(json!(1)),
            "{}",
            engine.name()
        );
    }
}

#[test]
fn whole_numbers_come_back_as_integers() {
    for engine in default_engines() {
        let result = eval(engine.as_ref(), "6 / 2", &json!(null)).expect("defined");
        assert!(result.is_i64(), "{}: {result}", engine.name());
        assert_eq!(
            eval(engine.as_ref(), "7 / 2", &json!(null)),
            Some(json!(3.5))
        );
    }
}

#[cfg(feature = "jsonata-core")]
#[test]
fn jsonata_core_preserves_object_key_order() {
    use patchbay_template::expression::CoreEngine;
    let engine = CoreEngine::default();
    let input = json!({"z": 1, "a": 2, "m": 3});
    let keys = |value: Option<Value>| -> Vec<String> {
        value
            .and_then(|value| value.as_object().cloned())
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(eval(&engine, "$", &input)), ["z", "a", "m"]);
    assert_eq!(
        keys(eval(&engine, "{'zz': z, 'aa': a, 'mm': m}", &input)),
        ["zz", "aa", "mm"]
    );
    assert_eq!(
        eval(&engine, "$string($)", &input),
        Some(json!(r#"{"z":1,"a":2,"m":3}"#))
    );
}

#[test]
fn object_contents_survive_every_backend() {
    // jsonata-rs does not keep key order, but must keep the keys and values.
    let input = json!({"z": 1, "a": {"nested": [1, 2]}, "m": "three"});
    for engine in default_engines() {
        assert_eq!(eval(engine.as_ref(), "$", &input), Some(input.clone()));
    }
}

#[test]
fn error_codes_are_reported() {
    for engine in default_engines() {
        let engine = engine.as_ref();
        let name = engine.name();

        let syntax = engine.compile("a.(").expect_err("unterminated block");
        assert!(
            matches!(syntax, ExpressionError::Compile { .. }),
            "{name}: {syntax:?}"
        );
        assert!(
            syntax.code().is_some_and(|code| code.starts_with('S')),
            "{name}: {syntax:?}"
        );

        let type_error = try_eval(engine, "1 + 'a'", &json!(null)).expect_err("type error");
        assert_eq!(type_error.code(), Some("T2002"), "{name}: {type_error:?}");

        let missing = try_eval(engine, "$nope(1)", &json!(null)).expect_err("no such function");
        assert_eq!(missing.code(), Some("T1006"), "{name}: {missing:?}");

        let raised = try_eval(engine, "$error('stop')", &json!(null)).expect_err("$error");
        assert_eq!(raised.code(), Some("D3137"), "{name}: {raised:?}");
        assert!(raised.to_string().contains("stop"), "{name}: {raised}");
    }
}

#[test]
fn infinite_tail_recursion_stops_at_a_limit() {
    let limits = Limits {
        max_depth: 500,
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    for engine in engines(limits) {
        let started = Instant::now();
        let error = try_eval(
            engine.as_ref(),
            "($f := function($n){ $f($n + 1) }; $f(0))",
            &json!(null),
        )
        .expect_err("an infinite loop cannot succeed");
        assert!(error.is_limit(), "{}: {error:?}", engine.name());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} took {:?}",
            engine.name(),
            started.elapsed()
        );
    }
}

#[test]
fn deep_recursion_on_a_2mib_thread_is_an_error_not_an_abort() {
    for engine in default_engines() {
        let name = engine.name();
        let result = on_small_thread(move || {
            try_eval(
                engine.as_ref(),
                "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(50000))",
                &json!(null),
            )
        });
        let error = result.expect_err("50000 nested calls exceed the default depth");
        assert!(
            matches!(error, ExpressionError::DepthExceeded { .. }),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn deep_recursion_with_a_high_depth_limit_still_cannot_abort() {
    // A generous limit must still be safe: jsonata-core grows its stack on the heap, and
    // jsonata-rs caps its depth at RS_MAX_DEPTH.
    let limits = Limits {
        max_depth: 1_000_000,
        timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    for engine in engines(limits) {
        let name = engine.name();
        let result = on_small_thread(move || {
            try_eval(
                engine.as_ref(),
                "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))",
                &json!(null),
            )
        });
        let error = result.expect_err("100000 nested calls exceed any depth the engines allow");
        assert!(error.is_limit(), "{name}: {error:?}");
    }
}

#[test]
fn recursion_within_the_default_depth_succeeds_on_a_2mib_thread() {
    for engine in default_engines() {
        let name = engine.name();
        // jsonata-core: thousands of nested calls, as jsonata-js evaluates them (it spends
        // about three levels per call); jsonata-rs: what RS_MAX_DEPTH allows.
        let calls = if name == "jsonata-core" { 9_000 } else { 250 };
        let result = on_small_thread(move || {
            try_eval(
                engine.as_ref(),
                &format!("($f := function($n){{ $n = 0 ? 0 : 1 + $f($n - 1) }}; $f({calls}))"),
                &json!(null),
            )
        });
        assert_eq!(result.expect(name), Some(json!(calls)));
    }
}

#[test]
fn inputs_that_panic_jsonata_rs_are_contained() {
    let input = json!({"id": 1, "items": [{"id": 2}]});
    for engine in default_engines() {
        for source in [
            "%.id",
            "items.%.id",
            "$add(?, 2)",
            "function($x){$x*2}(21)",
            "2()",
            "2(blah)",
        ] {
            let name = engine.name();
            let result = try_eval(engine.as_ref(), source, &input);
            if name == "jsonata-rs" {
                assert!(result.is_err(), "{name}: {source}: {result:?}");
            } else if source == "function($x){$x*2}(21)" {
                assert_eq!(result.expect("jsonata-core supports it"), Some(json!(42)));
            }
        }
    }
}

#[cfg(feature = "jsonata-rs")]
#[test]
fn jsonata_rs_panics_are_reported_as_panicked() {
    use patchbay_template::expression::{Phase, RsEngine};
    let engine = RsEngine::default();
    let error = engine
        .compile("%.id")
        .expect_err("parent operator panics in jsonata-rs");
    assert!(
        matches!(
            error,
            ExpressionError::Panicked {
                phase: Phase::Compile,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.code(), None);
    // The engine keeps working after a caught panic.
    assert_eq!(eval(&engine, "1 + 1", &json!(null)), Some(json!(2)));
}

#[test]
fn compiled_expressions_are_shared_across_threads() {
    for engine in default_engines() {
        let expression = engine.compile("$sum(items.n) * $k").expect("valid");
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let expression = expression.clone();
                thread::spawn(move || {
                    let input = json!({"items": [{"n": 1}, {"n": 2}]});
                    let bindings = Bindings::new().with("k", json!(k));
                    expression.evaluate(&input, &bindings).expect("evaluates")
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect();
        assert_eq!(
            results,
            [
                Some(json!(0)),
                Some(json!(3)),
                Some(json!(6)),
                Some(json!(9))
            ]
        );
    }
}
