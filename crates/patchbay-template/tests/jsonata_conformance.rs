//! Runs the official JSONata test suite (jsonata-js 2.2.2) against every enabled backend.
//!
//! The suite lives outside the repository: `$PATCHBAY_SHARED_DIR/jsonata-test-suite`, or
//! `<workspace>/../shared/jsonata-test-suite`. Without it the tests are reported ignored with
//! the reason, and fail under `CI=true` (`patchbay-testkit`, `docs/testing.md`). The summary
//! is printed either way.
//!
//! Scoring follows the jsonata-js runner: a `result` must match (numbers within a relative
//! 1e-9, arrays in any order when the case says `unordered`), `undefinedResult` must be
//! undefined, and an expected `code` (or `error.code`) must be raised with that exact code.
//! Cases with `timelimit`/`depth` run under those limits (and a sequence cap of 10,000,000
//! items, the engine's range maximum, instead of Patchbay's default); the jsonata-js runner
//! reports any limit breach as `U1001`, so our `Timeout`/`DepthExceeded` errors count as
//! `U1001` there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchbay_template::expression::{Bindings, ExpressionEngine, ExpressionError, Limits};
use patchbay_testkit::{Requirement, test};
use serde_json::{Map, Value};

/// Passing cases each backend must reach (measured minus a small margin; see docs/jsonata.md).
#[cfg(feature = "jsonata-core")]
const CORE_FLOOR: usize = 1675;
#[cfg(feature = "jsonata-rs")]
const RS_FLOOR: usize = 1220;

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        #[cfg(feature = "jsonata-core")]
        test("jsonata_core_conformance", jsonata_core_conformance).needs(&SUITE),
        #[cfg(feature = "jsonata-rs")]
        test("jsonata_rs_conformance", jsonata_rs_conformance).needs(&SUITE),
        #[cfg(feature = "jsonata-core")]
        test(
            "jsonata_core_batch_matches_single",
            jsonata_core_batch_matches_single,
        )
        .needs(&SUITE),
        #[cfg(feature = "jsonata-core")]
        test("native_matches_jsonata_core", native_matches_jsonata_core).needs(&SUITE),
    ])
}

/// `Expression::batch` shares one evaluator between evaluations; every suite case, run in
/// a batch on its own input, another case's input and its own again, must give exactly
/// what a fresh evaluation of the same input gives (values, `undefined`, errors), with
/// and without the truto-jsonata extensions. Cases with their own limits (timing) and
/// cases whose result is random or the clock's are left out.
#[cfg(feature = "jsonata-core")]
fn jsonata_core_batch_matches_single() {
    use patchbay_template::expression::CoreEngine;
    let (cases, _) = load_suite(&suite_path());
    let nondeterministic = ["$random", "$uuid", "$now", "$millis", "$shuffle"];
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for extensions in [false, true] {
        let engine = CoreEngine::default().with_extensions(extensions);
        let mut other: Option<Value> = None;
        for case in &cases {
            if case.limits.is_some() || nondeterministic.iter().any(|f| case.expr.contains(f)) {
                continue;
            }
            let Ok(expression) = engine.compile(&case.expr) else {
                continue;
            };
            let outcome = |result: Result<Option<Value>, ExpressionError>| match result {
                Ok(value) => Ok(value),
                Err(error) => Err((error.code().map(str::to_owned), error.to_string())),
            };
            let mut batch = expression.batch(&case.bindings);
            for input in [case.input.as_ref(), other.as_ref(), case.input.as_ref()] {
                let single = outcome(expression.evaluate_input(input, &case.bindings));
                let batched = outcome(batch.evaluate_input(input));
                compared += 1;
                if single != batched {
                    mismatches.push(format!(
                        "{} (extensions {extensions}): single {single:?}, batch {batched:?}",
                        case.label
                    ));
                }
            }
            if case.input.is_some() {
                other.clone_from(&case.input);
            }
        }
    }
    println!("batch against single evaluations: {compared} compared");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The native evaluator of the mapping subset (`Expression::is_native`) against jsonata-core:
/// every suite case whose expression the subset accepts is evaluated with the native
/// evaluator on and off, on its own input, the previous case's input and no input, alone
/// and in a batch, with and without the truto-jsonata extensions; values, `undefined` and
/// errors must be the same. Prints how many cases the subset accepts.
#[cfg(feature = "jsonata-core")]
fn native_matches_jsonata_core() {
    use patchbay_template::expression::CoreEngine;
    let (cases, _) = load_suite(&suite_path());
    let (mut accepted, mut compared) = (0, 0);
    let mut mismatches = Vec::new();
    for extensions in [false, true] {
        let mut other: Option<Value> = None;
        for case in &cases {
            let engine = CoreEngine::with_limits(case.limits.unwrap_or_default())
                .with_extensions(extensions);
            let Ok(native) = engine.clone().compile(&case.expr) else {
                continue;
            };
            if !native.is_native() {
                continue;
            }
            accepted += 1;
            let reference = engine
                .with_native(false)
                .compile(&case.expr)
                .expect("the engine compiles what the native subset accepts");
            assert!(!reference.is_native());
            let outcome = |result: Result<Option<Value>, ExpressionError>| match result {
                Ok(value) => Ok(value),
                Err(error) => Err((error.code().map(str::to_owned), error.to_string())),
            };
            let mut batch = native.batch(&case.bindings);
            for input in [case.input.as_ref(), other.as_ref(), None] {
                let expected = outcome(reference.evaluate_input(input, &case.bindings));
                let single = outcome(native.evaluate_input(input, &case.bindings));
                let batched = outcome(batch.evaluate_input(input));
                compared += 1;
                if single != expected || batched != expected {
                    mismatches.push(format!(
                        "{} `{}` (extensions {extensions}) on {input:?}: engine {expected:?}, \
                         native {single:?}, native batch {batched:?}",
                        case.label, case.expr
                    ));
                }
            }
            if case.input.is_some() {
                other.clone_from(&case.input);
            }
        }
    }
    println!(
        "native subset: {accepted} suite cases accepted (both extension settings), \
         {compared} evaluations compared, {} differences",
        mismatches.len()
    );
    assert!(accepted > 0, "the native subset accepted no suite case");
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The official suite beside the checkout.
static SUITE: Requirement = Requirement::new("../shared/jsonata-test-suite", || {
    let suite = suite_path();
    if suite.join("groups").is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the JSONata test suite was not found at {}; put it in ../shared beside the \
             checkout or set PATCHBAY_SHARED_DIR to the directory that contains \
             jsonata-test-suite",
            suite.display()
        ))
    }
});

#[cfg(feature = "jsonata-core")]
fn jsonata_core_conformance() {
    // Plain JSONata, as the suite expects: truto-jsonata's `$join`, `$string` and base64
    // pair differ from it on purpose.
    run_backend(CORE_FLOOR, |limits| {
        Arc::new(
            patchbay_template::expression::CoreEngine::with_limits(limits).with_extensions(false),
        )
    });
}

#[cfg(feature = "jsonata-rs")]
fn jsonata_rs_conformance() {
    silence_jsonata_rs_panics();
    // Plain JSONata, as for jsonata-core.
    run_backend(RS_FLOOR, |limits| {
        Arc::new(
            patchbay_template::expression::RsEngine::with_limits(limits).with_extensions(false),
        )
    });
}

/// jsonata-rs panics on ~60 suite cases; our layer catches them, but the default hook would
/// still print each one. Keep the output readable: drop panic reports raised inside the
/// jsonata-rs crate, report every other panic as usual.
#[cfg(feature = "jsonata-rs")]
fn silence_jsonata_rs_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_jsonata_rs = info
            .location()
            .is_some_and(|location| location.file().contains("jsonata-rs-"));
        if !in_jsonata_rs {
            default_hook(info);
        }
    }));
}

/// Where the suite should be: `$PATCHBAY_SHARED_DIR/jsonata-test-suite`, or
/// `../shared/jsonata-test-suite` beside the checkout.
fn suite_path() -> PathBuf {
    let shared = std::env::var_os("PATCHBAY_SHARED_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    );
    shared.join("jsonata-test-suite")
}

/// One test case, as read from the suite.
struct Case {
    group: String,
    label: String,
    expr: String,
    input: Option<Value>,
    bindings: Bindings,
    limits: Option<Limits>,
    expected: Expected,
}

enum Expected {
    Value { value: Value, unordered: bool },
    Undefined,
    Code(String),
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

fn run_backend(floor: usize, make: impl Fn(Limits) -> Arc<dyn ExpressionEngine>) {
    let suite = suite_path();
    let started = Instant::now();
    let (cases, skipped) = load_suite(&suite);
    let default_engine = make(Limits::default());
    let name = default_engine.name();

    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let engine = case.limits.map_or_else(|| default_engine.clone(), &make);
        let outcome = run_case(engine.as_ref(), case);
        let tally = groups.entry(case.group.clone()).or_default();
        match outcome {
            Ok(()) => tally.passed += 1,
            Err(why) => {
                tally.failed += 1;
                failures.push(format!("{}: {why}", case.label));
            }
        }
    }

    let passed: usize = groups.values().map(|tally| tally.passed).sum();
    let failed: usize = groups.values().map(|tally| tally.failed).sum();
    println!(
        "JSONata suite, {name}: {passed} passed, {failed} failed, {} skipped (unloadable files), \
         {} cases run in {:.1?}",
        skipped.len(),
        cases.len(),
        started.elapsed()
    );
    for file in &skipped {
        println!("  skipped {file}");
    }
    println!("  groups below 100 %:");
    for (group, tally) in groups.iter().filter(|(_, tally)| tally.failed > 0) {
        println!(
            "    {group}: {}/{}",
            tally.passed,
            tally.passed + tally.failed
        );
    }
    if std::env::var_os("PATCHBAY_CONFORMANCE_VERBOSE").is_some() {
        for failure in &failures {
            println!("  FAIL {failure}");
        }
    }
    assert!(
        skipped.len() <= 2,
        "{} suite files could not be loaded: {skipped:?}",
        skipped.len()
    );
    assert!(
        passed >= floor,
        "{name} passed {passed} JSONata suite cases, below the floor of {floor}"
    );
}

/// Evaluates one case; `Err` explains the mismatch.
fn run_case(engine: &dyn ExpressionEngine, case: &Case) -> Result<(), String> {
    let result = engine
        .compile(&case.expr)
        .and_then(|expression| expression.evaluate_input(case.input.as_ref(), &case.bindings));
    match (&case.expected, result) {
        (Expected::Value { value, unordered }, Ok(Some(actual))) => {
            let matches = if *unordered {
                same_members(&actual, value)
            } else {
                json_eq(&actual, value)
            };
            if matches {
                Ok(())
            } else {
                Err(format!("expected {value}, got {actual}"))
            }
        }
        (Expected::Undefined, Ok(None)) => Ok(()),
        (Expected::Code(code), Err(error)) if raised_code(&error, case) == Some(code.as_str()) => {
            Ok(())
        }
        (expected, actual) => Err(format!("expected {}, got {actual:?}", describe(expected))),
    }
}

/// The code an error counts as. Under a case's own limits the jsonata-js runner reports every
/// limit breach as U1001.
fn raised_code<'a>(error: &'a ExpressionError, case: &Case) -> Option<&'a str> {
    if case.limits.is_some() && error.is_limit() {
        Some("U1001")
    } else {
        error.code()
    }
}

fn describe(expected: &Expected) -> String {
    match expected {
        Expected::Value { value, .. } => value.to_string(),
        Expected::Undefined => "undefined".to_owned(),
        Expected::Code(code) => format!("error {code}"),
    }
}

/// JSON equality with numbers compared to a relative 1e-9.
fn json_eq(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| json_eq(a, b)))
        }
        _ => actual == expected,
    }
}

/// Arrays with the same members in any order (other values: plain equality).
fn same_members(actual: &Value, expected: &Value) -> bool {
    let (Value::Array(actual), Value::Array(expected)) = (actual, expected) else {
        return json_eq(actual, expected);
    };
    let mut unmatched: Vec<&Value> = expected.iter().collect();
    actual.len() == expected.len()
        && actual.iter().all(|item| {
            unmatched
                .iter()
                .position(|candidate| json_eq(item, candidate))
                .map(|index| unmatched.swap_remove(index))
                .is_some()
        })
}

/// Every case of the suite, plus the files that could not be loaded.
fn load_suite(suite: &Path) -> (Vec<Case>, Vec<String>) {
    let datasets = load_datasets(&suite.join("datasets"));
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for group_dir in sorted_entries(&suite.join("groups")) {
        if !group_dir.is_dir() {
            continue;
        }
        let group = file_name(&group_dir);
        for file in sorted_entries(&group_dir) {
            if file.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let label = format!("{group}/{}", file_name(&file));
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
            // Two files hold lone UTF-16 surrogates, which serde_json rejects.
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                skipped.push(label);
                continue;
            };
            let entries = match json {
                Value::Array(entries) => entries,
                single => vec![single],
            };
            let many = entries.len() > 1;
            for (index, entry) in entries.into_iter().enumerate() {
                let label = if many {
                    format!("{label}[{index}]")
                } else {
                    label.clone()
                };
                cases.push(parse_case(&group, &group_dir, label, entry, &datasets));
            }
        }
    }
    (cases, skipped)
}

fn parse_case(
    group: &str,
    group_dir: &Path,
    label: String,
    entry: Value,
    datasets: &BTreeMap<String, Value>,
) -> Case {
    let Value::Object(case) = entry else {
        panic!("{label}: a case must be an object");
    };
    let expr = match (case.get("expr"), case.get("expr-file")) {
        (Some(Value::String(expr)), _) => expr.clone(),
        (_, Some(Value::String(file))) => std::fs::read_to_string(group_dir.join(file))
            .unwrap_or_else(|error| panic!("{label}: cannot read {file}: {error}")),
        _ => panic!("{label}: no expr or expr-file"),
    };
    let input = if let Some(data) = case.get("data") {
        Some(data.clone())
    } else {
        match case.get("dataset") {
            Some(Value::String(name)) => Some(
                datasets
                    .get(name)
                    .unwrap_or_else(|| panic!("{label}: unknown dataset {name}"))
                    .clone(),
            ),
            _ => None,
        }
    };
    let bindings = case
        .get("bindings")
        .and_then(Value::as_object)
        .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let limits = limits_of(&case);
    let expected = expected_of(&case)
        .unwrap_or_else(|| panic!("{label}: no result, undefinedResult, code or error"));
    Case {
        group: group.to_owned(),
        label,
        expr,
        input,
        bindings,
        limits,
        expected,
    }
}

fn limits_of(case: &Map<String, Value>) -> Option<Limits> {
    let timelimit = case.get("timelimit").and_then(Value::as_u64);
    let depth = case.get("depth").and_then(Value::as_u64);
    if timelimit.is_none() && depth.is_none() {
        return None;
    }
    let defaults = Limits::default();
    Some(Limits {
        max_depth: depth
            .and_then(|depth| usize::try_from(depth).ok())
            .unwrap_or(defaults.max_depth),
        timeout: timelimit.map_or(defaults.timeout, Duration::from_millis),
        // The suite's resource cases (`range-operator/case021`, `case024`) build 10,000,000-
        // item ranges under a 10 s limit; the reference runner has no sequence cap. Patchbay's
        // default cap (1,000,000) refuses them by design, so these cases run with the engine's
        // own range maximum instead.
        max_sequence_length: 10_000_000,
        ..defaults
    })
}

fn expected_of(case: &Map<String, Value>) -> Option<Expected> {
    if case.get("undefinedResult").is_some_and(|flag| flag == true) {
        return Some(Expected::Undefined);
    }
    if let Some(value) = case.get("result") {
        let unordered = case.get("unordered").is_some_and(|flag| flag == true);
        return Some(Expected::Value {
            value: value.clone(),
            unordered,
        });
    }
    let code = case
        .get("code")
        .or_else(|| case.get("error").and_then(|error| error.get("code")))?;
    code.as_str().map(|code| Expected::Code(code.to_owned()))
}

fn load_datasets(dir: &Path) -> BTreeMap<String, Value> {
    sorted_entries(dir)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).ok()?;
            Some((name, serde_json::from_str(&text).ok()?))
        })
        .collect()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    entries
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
