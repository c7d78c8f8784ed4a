//! Timings of regex expressions, printed rather than asserted (run by hand, ignored by
//! default): the cost of a regex literal per evaluation, and how long a pattern with
//! catastrophic backtracking runs.
//!
//! ```text
//! cargo test -p patchbay-template --test regex_timing -- --ignored --nocapture
//! ```

#![cfg(feature = "jsonata-core")]

use std::time::{Duration, Instant};

use patchbay_template::expression::{Bindings, Expression};
use serde_json::json;

/// Prints how long 1000 evaluations of `expression` (`label`) on `input` take, three times.
fn print_rounds(expression: &Expression, label: &str, input: &serde_json::Value) {
    let bindings = Bindings::new();
    for round in 0..3 {
        let started = Instant::now();
        for _ in 0..1000 {
            expression.evaluate(input, &bindings).expect("evaluates");
        }
        let elapsed = started.elapsed();
        println!(
            "round {round}: 1000 evaluations of {label} in {elapsed:?} ({:?} each)",
            elapsed / 1000
        );
    }
}

#[test]
#[ignore = "a measurement; run by hand"]
fn regex_literal_cost_per_evaluation() {
    let expression = Expression::compile("$replace(text, /[^a-z]/i, '')").expect("compiles");
    let input = json!({"text": "Hello, World! 123 - order #4567 for ACME Corp."});
    let bindings = Bindings::new();
    let expected = Some(json!("HelloWorldorderforACMECorp"));
    assert_eq!(
        expression.evaluate(&input, &bindings).expect("evaluates"),
        expected
    );
    print_rounds(&expression, "$replace(text, /[^a-z]/i, '')", &input);
}

#[test]
#[ignore = "a measurement; run by hand"]
fn baseline_without_a_regex() {
    let expression = Expression::compile("$uppercase(text)").expect("compiles");
    let input = json!({"text": "Hello, World! 123 - order #4567 for ACME Corp."});
    print_rounds(&expression, "$uppercase(text)", &input);
}

#[test]
#[ignore = "a measurement; run by hand"]
fn catastrophic_backtracking_runs_past_the_time_limit() {
    let expression = Expression::compile("$match(s, /(a+)+$/)").expect("compiles");
    for n in [16, 18, 20, 22, 24] {
        let input = json!({"s": format!("{}b", "a".repeat(n))});
        let started = Instant::now();
        let result = expression.evaluate(&input, &Bindings::new());
        let elapsed = started.elapsed();
        println!("n = {n}: {elapsed:?}, {:?}", result.map(|_| "done"));
        if elapsed > Duration::from_secs(20) {
            break;
        }
    }
}
