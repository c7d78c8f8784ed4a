//! JSONata evaluation time per backend, next to a hand-written Rust baseline doing the same
//! computation on `serde_json::Value`, so the report reads as ratios.
//!
//! Every engine measurement goes through the public API (`Expression::evaluate` on a
//! `serde_json::Value`), so it includes the input conversion each backend needs: `Value` →
//! `JValue` for jsonata-core, `Value` → JSON text → jsonata-rs parse for jsonata-rs.
//!
//! Run: `cargo bench -p patchbay-benches --bench expression -- --quick`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay_template::expression::{Bindings, CoreEngine, ExpressionEngine, RsEngine};
use serde_json::{Value, json};

/// A 429 response as the rate-limit expression sees it.
fn rate_limited_response() -> Value {
    json!({
        "status": 429,
        "headers": {"x-ratelimit-remaining": "0", "retry-after": "12", "content-type": "application/json"},
        "body": {"error": {"message": "slow down", "code": "rate_limited"}}
    })
}

/// A 100-record list response (about 20 KB of JSON).
fn list_response() -> Value {
    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({
                "id": i,
                "status": if i % 3 == 0 { "inactive" } else { "active" },
                "first": format!("First{i}"),
                "last": format!("Last{i}"),
                "email": format!("user{i}@example.com"),
                "created_at": "2024-11-24T10:00:00Z",
                "tags": ["a", "b", "c"],
                "address": {"city": "Berlin", "zip": format!("{:05}", 10_000 + i)}
            })
        })
        .collect();
    json!({"data": {"items": items, "has_more": true, "next_cursor": "c-100"}})
}

const RATE_LIMIT: &str = r#"status = 429 or $number(headers."x-ratelimit-remaining") = 0 ? $number(headers."retry-after") * 1000 : 0"#;
const ACTIVE_IDS: &str = r#"data.items[status = "active"].id"#;
const TRANSFORM: &str = r#"data.items.{ "id": $string(id), "name": first & " " & last, "email": email, "city": address.city }"#;

fn rate_limit_baseline(response: &Value) -> Value {
    let header_number = |name: &str| {
        response["headers"][name]
            .as_str()
            .and_then(|text| text.trim().parse::<f64>().ok())
    };
    let limited = response["status"].as_i64() == Some(429)
        || header_number("x-ratelimit-remaining") == Some(0.0);
    let millis = if limited {
        header_number("retry-after").map_or(0.0, |seconds| seconds * 1000.0)
    } else {
        0.0
    };
    json!(millis as i64)
}

fn active_ids_baseline(response: &Value) -> Value {
    let items = response["data"]["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    Value::Array(
        items
            .iter()
            .filter(|item| item["status"] == "active")
            .map(|item| item["id"].clone())
            .collect(),
    )
}

fn transform_baseline(response: &Value) -> Value {
    let items = response["data"]["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|item| {
                json!({
                    "id": item["id"].to_string(),
                    "name": format!(
                        "{} {}",
                        item["first"].as_str().unwrap_or_default(),
                        item["last"].as_str().unwrap_or_default()
                    ),
                    "email": item["email"],
                    "city": item["address"]["city"],
                })
            })
            .collect(),
    )
}

fn bench_case(
    c: &mut Criterion,
    group_name: &str,
    source: &str,
    input: &Value,
    baseline: fn(&Value) -> Value,
) {
    let engines: [Arc<dyn ExpressionEngine>; 2] = [
        Arc::new(CoreEngine::default()),
        Arc::new(RsEngine::default()),
    ];
    let bindings = Bindings::new();
    let expected = baseline(input);
    let mut group = c.benchmark_group(group_name);
    group.bench_function("rust-baseline", |b| b.iter(|| baseline(black_box(input))));
    for engine in engines {
        let expression = engine
            .compile(source)
            .expect("benchmark expressions are valid");
        // The baseline must compute the same thing, or the ratio means nothing.
        let result = expression.evaluate(input, &bindings).expect("evaluates");
        assert_eq!(
            result.as_ref(),
            Some(&expected),
            "{} disagrees with the baseline",
            engine.name()
        );
        group.bench_function(engine.name(), |b| {
            b.iter(|| expression.evaluate(black_box(input), &bindings))
        });
    }
    group.finish();
}

fn expressions(c: &mut Criterion) {
    let response = rate_limited_response();
    let list = list_response();
    bench_case(c, "rate-limit", RATE_LIMIT, &response, rate_limit_baseline);
    bench_case(
        c,
        "path-100-records",
        ACTIVE_IDS,
        &list,
        active_ids_baseline,
    );
    bench_case(
        c,
        "transform-100-records",
        TRANSFORM,
        &list,
        transform_baseline,
    );
}

criterion_group!(benches, expressions);
criterion_main!(benches);
