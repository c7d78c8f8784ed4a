//! JSONata evaluation time on large response bodies, next to jsonata-js and
//! `@truto/truto-jsonata` (what Truto runs) evaluating the same expressions on the same
//! input, so the report reads as ratios measured in one run.
//!
//! Each expression is evaluated as the executor evaluates response expressions: through
//! `Expression::evaluate_scope` over `{status, headers, body}` where `body` is a parsed
//! `serde_json::Value`, so the time includes every conversion Patchbay does. The JavaScript
//! side evaluates on an already-parsed object (no conversion at all).
//!
//! The JavaScript timings need node and the npm packages of the differential test
//! (`crates/patchbay-template/tests/differential/jsonata/`). Point `PATCHBAY_TRUTO_JSONATA_DIR`
//! at a folder where they are installed (`cp package*.json DIR && cd DIR && npm ci
//! --legacy-peer-deps`); without it the bench looks in the target directory, where the
//! differential test installs them, and prints Patchbay's numbers alone when neither exists.
//!
//! Run: `cargo bench -p patchbay-benches --bench expression_vs_js`

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use patchbay_template::expression::{Bindings, Expression};
use serde_json::{Value, json};

/// How long each expression is timed, per engine.
const MEASURE: Duration = Duration::from_millis(1500);

/// A 500-record list response (about 190 KB of JSON), as a ticketing API returns it.
fn list_body(records: usize) -> Value {
    let items: Vec<Value> = (0..records)
        .map(|i| {
            json!({
                "id": i,
                "status": if i % 3 == 0 { "closed" } else { "open" },
                "subject": format!("Ticket number {i} about the printer"),
                "requester": {"id": 1000 + i, "name": format!("Person {i}"), "email": format!("person{i}@example.com")},
                "tags": ["printer", "office", format!("t{i}")],
                "created_at": "2024-11-24T10:00:00Z",
                "updated_at": "2024-11-25T11:30:00Z",
                "custom_fields": [{"id": 1, "value": null}, {"id": 2, "value": "x"}],
                "description": "The printer on the third floor prints every page twice and then jams."
            })
        })
        .collect();
    json!({"ok": true, "tickets": items, "next_page": "https://example.com/api/tickets?page=2", "count": records})
}

const EXPRESSIONS: &[(&str, &str)] = &[
    ("status check", "status = 429"),
    (
        "rate-limit headers",
        r#"status = 429 or $number(headers."x-ratelimit-remaining") = 0 ? $number(headers."retry-after") * 1000 : 0"#,
    ),
    (
        "one body field",
        "body.ok = false ? { 'status': 401, 'message': body.error }",
    ),
    ("cursor", "body.next_page"),
    ("count records", "$count(body.tickets)"),
    ("filter ids", r#"body.tickets[status = "open"].id"#),
    (
        "map records",
        r#"body.tickets.{ "id": $string(id), "subject": subject, "email": requester.email, "tags": tags }"#,
    ),
    (
        "regex literal",
        r#"$count(body.tickets[$contains(subject, /printer/i)])"#,
    ),
];

fn install_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PATCHBAY_TRUTO_JSONATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("tmp").join("truto-jsonata-npm");
    dir.join("node_modules/@truto/truto-jsonata/package.json")
        .is_file()
        .then_some(dir)
}

/// Microseconds per evaluation under jsonata-js and truto-jsonata, or `None` without node.
fn javascript_timings(input: &Value) -> Option<Vec<(f64, f64)>> {
    let Some(dir) = install_dir() else {
        eprintln!(
            "no @truto/truto-jsonata install found: run the differential test once \
             (cargo test -p patchbay-template --test differential_truto_jsonata) or set \
             PATCHBAY_TRUTO_JSONATA_DIR; printing Patchbay's numbers only"
        );
        return None;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js/expression_timing.cjs");
    let request = json!({
        "input": input,
        "expressions": EXPRESSIONS.iter().map(|(_, source)| source).collect::<Vec<_>>(),
        "millis": MEASURE.as_millis() as u64,
    });
    let mut child = Command::new("node")
        .arg(script)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(request.to_string().as_bytes())
        .ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        eprintln!("the node timing script failed: {}", output.status);
        return None;
    }
    let timings: Vec<Value> = serde_json::from_slice(&output.stdout).ok()?;
    Some(
        timings
            .iter()
            .map(|t| {
                (
                    t["jsonata"].as_f64().unwrap_or(f64::NAN),
                    t["truto"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect(),
    )
}

/// Microseconds per evaluation of `expression` over the response scope.
fn patchbay_timing(expression: &Expression, scope: &[(&str, &Value)]) -> f64 {
    let bindings = Bindings::new();
    for _ in 0..50 {
        std::hint::black_box(
            expression
                .evaluate_scope(scope, &bindings)
                .expect("evaluates"),
        );
    }
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < MEASURE {
        for _ in 0..20 {
            std::hint::black_box(
                expression
                    .evaluate_scope(scope, &bindings)
                    .expect("evaluates"),
            );
        }
        runs += 20;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs bench targets only with `--benches`.
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let records = 500;
    let body = list_body(records);
    let status = json!(200);
    let headers = json!({"x-ratelimit-remaining": "42", "retry-after": "3", "content-type": "application/json"});
    let scope: [(&str, &Value); 3] = [("status", &status), ("headers", &headers), ("body", &body)];
    let input = json!({"status": status, "headers": headers, "body": body});
    let body_bytes = serde_json::to_vec(&body).map_or(0, |b| b.len());

    let ours: Vec<f64> = EXPRESSIONS
        .iter()
        .map(|(_, source)| {
            let expression = Expression::compile(source).expect("benchmark expressions are valid");
            patchbay_timing(&expression, &scope)
        })
        .collect();
    let theirs = javascript_timings(&input);

    println!("JSONata on a {records}-record body ({body_bytes} bytes), µs per evaluation");
    println!(
        "{:<20} {:>12} {:>12} {:>14} {:>16} {:>18}",
        "expression", "patchbay", "jsonata-js", "truto-jsonata", "patchbay/js", "patchbay/truto"
    );
    for (index, (name, _)) in EXPRESSIONS.iter().enumerate() {
        match &theirs {
            Some(js) => {
                let (plain, truto) = js[index];
                println!(
                    "{name:<20} {:>12.2} {:>12.2} {:>14.2} {:>16.3} {:>18.3}",
                    ours[index],
                    plain,
                    truto,
                    ours[index] / plain,
                    ours[index] / truto
                );
            }
            None => println!("{name:<20} {:>12.2}", ours[index]),
        }
    }
}
