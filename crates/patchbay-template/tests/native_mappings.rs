//! The shipped unified mappings (`examples/unified/`) on the native evaluator.
//!
//! Every `response_mapping` that ships must lie within the native subset, and give exactly
//! jsonata-core's result (values, `undefined`, errors) on realistic provider records
//! (`tests/fixtures/native/records.json`) and on variants of them: each field of a record
//! removed, or replaced by `null`, `""`, numbers, booleans, arrays and objects.
#![cfg(feature = "jsonata-core")]

use std::path::PathBuf;

use patchbay_template::expression::{
    Bindings, CoreEngine, Expression, ExpressionEngine, ExpressionError,
};
use serde_json::{Map, Value, json};

/// Every mapping row of `examples/unified/*/<integration>.json`, as (integration, config).
fn shipped_rows() -> Vec<(String, Map<String, Value>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/unified");
    let mut rows = Vec::new();
    let mut models: Vec<_> = std::fs::read_dir(&root)
        .expect("examples/unified")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    models.sort();
    for model in models {
        let mut files: Vec<_> = std::fs::read_dir(&model)
            .expect("a model directory")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .filter(|path| path.file_name().is_some_and(|name| name != "model.json"))
            .collect();
        files.sort();
        for file in files {
            let integration = file.file_stem().expect("a file name").to_string_lossy();
            let text = std::fs::read_to_string(&file).expect("readable");
            let parsed: Value = serde_json::from_str(&text).expect("JSON");
            for row in parsed.as_array().expect("an array of mapping rows") {
                let config = row["config"].as_object().expect("a config").clone();
                rows.push((integration.to_string(), config));
            }
        }
    }
    rows
}

/// The `*_mapping` expressions of `config`, by field name.
fn mapping_expressions(config: &Map<String, Value>) -> Vec<(&str, &str)> {
    config
        .iter()
        .filter(|(key, _)| key.ends_with("_mapping"))
        .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
        .collect()
}

fn records() -> Map<String, Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/native/records.json"
    );
    let text = std::fs::read_to_string(path).expect("the records fixture");
    match serde_json::from_str(&text).expect("JSON") {
        Value::Object(map) => map,
        _ => panic!("the records fixture is an object"),
    }
}

/// `record` and its variants: each field (at any depth) removed, or replaced by one of a
/// few values of every JSON type.
fn variants(record: &Value) -> Vec<Value> {
    let replacements = [
        json!(null),
        json!(""),
        json!("x"),
        json!(0),
        json!(-1.5),
        json!(12_345_678_901_234_567_u64),
        json!(true),
        json!(false),
        json!([]),
        json!(["a"]),
        json!([1, [2, 3]]),
        json!({}),
        json!({"a": 1}),
        json!([{"a": 1}, {"a": [2]}]),
    ];
    let mut out = vec![record.clone()];
    let mut paths = Vec::new();
    leaf_paths(record, &mut Vec::new(), &mut paths);
    for path in paths {
        let mut removed = record.clone();
        edit(&mut removed, &path, None);
        out.push(removed);
        for replacement in &replacements {
            let mut changed = record.clone();
            edit(&mut changed, &path, Some(replacement.clone()));
            out.push(changed);
        }
    }
    out
}

/// The path of every object member of `value`, at any depth.
fn leaf_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = value {
        for (key, member) in map {
            prefix.push(key.clone());
            out.push(prefix.clone());
            leaf_paths(member, prefix, out);
            prefix.pop();
        }
    }
}

/// Removes (`None`) or replaces the member at `path`.
fn edit(value: &mut Value, path: &[String], replacement: Option<Value>) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut target = value;
    for key in parents {
        target = target.get_mut(key).expect("the path exists");
    }
    let map = target.as_object_mut().expect("an object");
    match replacement {
        Some(replacement) => {
            map.insert(last.clone(), replacement);
        }
        None => {
            map.shift_remove(last);
        }
    }
}

type Outcome = Result<Option<Value>, (Option<String>, String)>;

fn outcome(result: Result<Option<Value>, ExpressionError>) -> Outcome {
    result.map_err(|error| (error.code().map(str::to_owned), error.to_string()))
}

/// The scope of a `response_mapping` evaluation around `record`, as `map_records` builds it.
fn scope_values() -> [(&'static str, Value); 6] {
    [
        ("query", json!({"issue_id": "10001", "limit": "10"})),
        (
            "rawQuery",
            json!({"collection_id": "acme/app", "workspace_id": "acme", "ticket_id": 35436}),
        ),
        ("body", json!({})),
        ("context", json!({"subdomain": "acme"})),
        ("before", json!(null)),
        ("headers", json!({"content-type": "application/json"})),
    ]
}

#[test]
fn shipped_response_mappings_are_native_and_match_jsonata_core() {
    let native_engine = CoreEngine::default();
    let reference_engine = CoreEngine::default().with_native(false);
    let records = records();
    let fixed = scope_values();
    let bindings = Bindings::new();
    let (mut response_total, mut response_native) = (0, 0);
    let (mut other_total, mut other_native) = (0, 0);
    let mut compared = 0;
    let mut differences = Vec::new();
    for (integration, config) in shipped_rows() {
        for (field, source) in mapping_expressions(&config) {
            let native = native_engine
                .compile(source)
                .expect("a shipped mapping compiles");
            if field != "response_mapping" {
                other_total += 1;
                other_native += usize::from(native.is_native());
                continue;
            }
            response_total += 1;
            assert!(
                native.is_native(),
                "{integration} response_mapping is outside the native subset: {source}"
            );
            response_native += 1;
            let reference: Expression = reference_engine.compile(source).expect("compiles");
            let provider = records[&integration]
                .as_array()
                .expect("records of the integration");
            let mut batch = native.batch(&bindings);
            for record in provider.iter().flat_map(variants) {
                let mut scope: Vec<(&str, &Value)> =
                    fixed.iter().map(|(name, value)| (*name, value)).collect();
                scope.push(("response", &record));
                let expected = outcome(reference.evaluate_scope(&scope, &bindings));
                let single = outcome(native.evaluate_scope(&scope, &bindings));
                let batched = outcome(batch.evaluate_scope(&scope));
                compared += 1;
                if single != expected || batched != expected {
                    differences.push(format!(
                        "{integration} `{source}` on {record}:\n  engine {expected:?}\n  \
                         native {single:?}\n  batch {batched:?}"
                    ));
                }
            }
        }
    }
    println!(
        "shipped response mappings: {response_native}/{response_total} native; other mapping \
         expressions: {other_native}/{other_total} native; {compared} evaluations compared, \
         {} differences",
        differences.len()
    );
    assert!(response_total > 40, "the shipped mappings were not found");
    assert!(
        compared > 10_000,
        "too few evaluations compared: {compared}"
    );
    assert!(
        differences.is_empty(),
        "{} differences, the first ones:\n{}",
        differences.len(),
        differences[..differences.len().min(10)].join("\n")
    );
}
