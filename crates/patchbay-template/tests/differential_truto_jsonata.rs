//! Differential test: our JSONata expressions against Truto's, the npm package
//! `@truto/truto-jsonata` 3.0.6 (which wraps `jsonata` and adds Truto's functions).
//!
//! # How it works
//!
//! 1. The package is pinned by `tests/differential/jsonata/package.json` and
//!    `package-lock.json`, installed once per target directory with `npm ci --legacy-peer-deps`
//!    (see `support/npm_reference.rs`).
//! 2. The cases are the JSON files in `tests/differential/jsonata/cases/`, one per
//!    category (the file name). Each case has an `expr`, an optional `input` (a JSON
//!    value; absent means JSONata `undefined`) or `input_json` (JSON *text*, parsed by
//!    each side itself: `JSON.parse` and `serde_json`, which is how number parsing is
//!    compared), optional `bindings` (`$name` variables) and an optional `compare`:
//!    `exact` (the default) or `type` (same JSON type, for `$random()`, `$now()`, ...).
//! 3. All cases go to ONE `TZ=UTC node tests/differential/jsonata/driver.cjs` process;
//!    it answers with one result per case.
//! 4. Each case is compiled with `Expression::compile` (the default engine, jsonata-core
//!    with the truto-jsonata functions) and evaluated, and the two results are compared:
//!    objects ignoring key order, numbers as `f64` (so a last-digit difference is a
//!    mismatch; `-0` equals `0`, as `JSON.stringify` writes it), and an error on both
//!    sides matches (when both carry a JSONata code, the codes must agree).
//!
//! The test prints a per-category summary and fails listing the mismatches. Every case
//! must match: a deliberate difference is documented in `docs/jsonata.md` and is not
//! written as a case. Without node and npm (or the npm registry) the test is reported
//! ignored with the reason, and fails when `CI=true` (`patchbay-testkit`, `docs/testing.md`).
//!
//! # Running it
//!
//! ```text
//! cargo test -p patchbay-template --test differential_truto_jsonata -- --nocapture
//! PATCHBAY_DIFFERENTIAL_ONLY=dates cargo test -p patchbay-template --test differential_truto_jsonata
//! ```

// A jsonata-rs-only build compiles the comparison but has no test to run (see `main`).
#![cfg_attr(not(feature = "jsonata-core"), allow(dead_code, unused_imports))]

#[path = "support/npm_reference.rs"]
mod npm_reference;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use patchbay_template::expression::{Bindings, Expression, ExpressionError};
use patchbay_testkit::{Requirement, test};
use serde::Deserialize;
use serde_json::{Value, json};

const SHOWN_MISMATCHES: usize = 40;

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("differential")
        .join("jsonata")
}

#[derive(Debug, Deserialize)]
struct CaseFile {
    #[allow(dead_code)]
    description: String,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expr: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    input_json: Option<String>,
    #[serde(default)]
    bindings: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    compare: Compare,
    /// Why the case is there; for people reading the file.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Compare {
    #[default]
    Exact,
    Type,
}

/// One side's outcome.
#[derive(Debug, Clone)]
enum Outcome {
    Value(Value),
    Undefined,
    Error {
        code: Option<String>,
        message: String,
    },
}

fn load_cases() -> Vec<(String, Case)> {
    let only = std::env::var("PATCHBAY_DIFFERENTIAL_ONLY").ok();
    let dir = source_dir().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let category = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("a UTF-8 file name")
            .to_owned();
        if only.as_deref().is_some_and(|only| only != category) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let file: CaseFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not a case file: {e}", path.display()));
        assert!(!file.cases.is_empty(), "{} has no cases", path.display());
        for case in file.cases {
            assert!(
                !(case.input.is_some() && case.input_json.is_some()),
                "{category}: `{}` has both input and input_json",
                case.expr
            );
            cases.push((category.clone(), case));
        }
    }
    cases
}

fn run_reference(dir: &Path, cases: &[(String, Case)]) -> Vec<Outcome> {
    let request = json!({
        "cases": cases.iter().map(|(_, case)| {
            let mut entry = json!({"expr": case.expr});
            if let Some(input) = &case.input { entry["input"] = input.clone(); }
            if let Some(text) = &case.input_json { entry["input_json"] = json!(text); }
            if let Some(bindings) = &case.bindings { entry["bindings"] = Value::Object(bindings.clone()); }
            entry
        }).collect::<Vec<_>>(),
    });
    let results =
        npm_reference::run_driver(&source_dir().join("driver.cjs"), dir, &request, cases.len());
    results
        .into_iter()
        .map(|result| match result {
            Value::Object(mut map) if map.contains_key("value") => {
                Outcome::Value(map.remove("value").unwrap_or(Value::Null))
            }
            Value::Object(map) if map.contains_key("undefined") => Outcome::Undefined,
            Value::Object(map) if map.contains_key("error") => Outcome::Error {
                code: map.get("code").and_then(Value::as_str).map(str::to_owned),
                message: map["error"].as_str().unwrap_or_default().to_owned(),
            },
            other => panic!("unexpected driver result {other}"),
        })
        .collect()
}

fn run_ours(case: &Case) -> Outcome {
    let error = |error: ExpressionError| Outcome::Error {
        code: error.code().map(str::to_owned),
        message: error.to_string(),
    };
    let expression = match Expression::compile(&case.expr) {
        Ok(expression) => expression,
        Err(e) => return error(e),
    };
    let input = match &case.input_json {
        Some(text) => Some(serde_json::from_str::<Value>(text).expect("input_json is valid JSON")),
        None => case.input.clone(),
    };
    let mut bindings = Bindings::new();
    for (name, value) in case.bindings.iter().flatten() {
        bindings.insert(name.clone(), value.clone());
    }
    match expression.evaluate_input(input.as_ref(), &bindings) {
        Ok(Some(value)) => Outcome::Value(value),
        Ok(None) => Outcome::Undefined,
        Err(e) => error(e),
    }
}

/// Deep equality: objects ignoring key order, numbers as `f64` (`-0 == 0`).
fn same_value(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| same_value(x, y)))
        }
        _ => ours == theirs,
    }
}

fn same_type(ours: &Value, theirs: &Value) -> bool {
    std::mem::discriminant(ours) == std::mem::discriminant(theirs)
}

fn agree(compare: Compare, ours: &Outcome, theirs: &Outcome) -> bool {
    match (ours, theirs) {
        (Outcome::Undefined, Outcome::Undefined) => true,
        (Outcome::Value(a), Outcome::Value(b)) => match compare {
            Compare::Exact => same_value(a, b),
            Compare::Type => same_type(a, b),
        },
        (Outcome::Error { code: a, .. }, Outcome::Error { code: b, .. }) => match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        },
        _ => false,
    }
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Value(value) => value.to_string(),
        Outcome::Undefined => "undefined".to_owned(),
        Outcome::Error { code, message } => {
            format!("error {}: {message}", code.as_deref().unwrap_or("-"))
        }
    }
}

fn main() -> std::process::ExitCode {
    // Truto's behaviour is the jsonata-core backend's contract; jsonata-rs cannot replace
    // built-ins (docs/jsonata.md), so a jsonata-rs-only build has nothing to compare.
    patchbay_testkit::run(vec![
        #[cfg(feature = "jsonata-core")]
        test(
            "expressions_match_truto_jsonata",
            expressions_match_truto_jsonata,
        )
        .needs(&TRUTO_JSONATA),
    ])
}

fn reference() -> npm_reference::Reference<'static> {
    npm_reference::Reference {
        label: "@truto/truto-jsonata 3.0.6",
        source: source_dir(),
        install_name: "truto-jsonata-npm",
        marker: "@truto/truto-jsonata/package.json",
    }
}

/// Installs the package set on first use (once per target directory).
fn install() -> Result<PathBuf, String> {
    npm_reference::prepare(&reference(), Path::new(env!("CARGO_TARGET_TMPDIR")))
}

static TRUTO_JSONATA: Requirement = Requirement::new("node, npm and @truto/truto-jsonata", || {
    install().map(|_| ())
});

fn expressions_match_truto_jsonata() {
    let dir = install().unwrap_or_else(|reason| panic!("{reason}"));
    let cases = load_cases();
    assert!(!cases.is_empty(), "no differential cases found");
    let theirs = run_reference(&dir, &cases);

    let mut per_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for ((category, case), theirs) in cases.iter().zip(&theirs) {
        let ours = run_ours(case);
        let entry = per_category.entry(category).or_default();
        entry.0 += 1;
        if !agree(case.compare, &ours, theirs) {
            entry.1 += 1;
            mismatches.push(format!(
                "[{category}] {}{}{}\n    truto-jsonata: {}\n    patchbay:      {}",
                case.expr,
                case.input
                    .as_ref()
                    .map(|input| format!("  input {input}"))
                    .unwrap_or_default(),
                case.input_json
                    .as_ref()
                    .map(|text| format!("  input_json {text}"))
                    .unwrap_or_default(),
                show(theirs),
                show(&ours),
            ));
        }
    }
    println!("differential test against @truto/truto-jsonata 3.0.6:");
    for (category, (total, failed)) in &per_category {
        println!("  {category:<28} {:>5} cases, {failed} mismatches", total);
    }
    println!(
        "  total {} cases, {} mismatches",
        cases.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from @truto/truto-jsonata 3.0.6 (first {} shown):\n{}",
        mismatches.len(),
        cases.len(),
        SHOWN_MISMATCHES.min(mismatches.len()),
        mismatches
            .iter()
            .take(SHOWN_MISMATCHES)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
