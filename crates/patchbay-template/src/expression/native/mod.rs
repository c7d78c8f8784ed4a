//! A native evaluator for the subset of JSONata that mappings are written in.
//!
//! jsonata-core evaluates any expression, but each evaluation converts its input and result
//! between `serde_json` and the engine's values and walks the tree with the machinery the
//! whole language needs (tuple streams, a time check per node, lambdas with closures). A
//! unified `response_mapping` is evaluated once per record and uses a small part of the
//! language: object constructors, field paths, conditionals, `$string`, `$join`, `$sift`
//! with a lambda, … For an expression that falls entirely within that subset (see
//! [`lower`]), a [`NativeProgram`] evaluates it directly on `serde_json` values.
//!
//! The contract is identity: for every input and bindings, the native result is the
//! engine's. Where the native evaluation cannot be sure of that (the engine would raise an
//! error, a value kind it does not model turns up, an array is the evaluation's input, the
//! work grows past a bound), it gives up and the engine evaluates the expression from the
//! start; the subset is pure, so evaluating twice changes nothing. Host functions that
//! replace built-ins (`$string`, `$join`, `$split`, the date functions) are called as the
//! engine calls them. The differential test `native_matches_jsonata_core`
//! (`tests/jsonata_conformance.rs`) compares both on the official suite and the shipped
//! mappings.

mod eval;
mod lower;
mod val;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use jsonata_core::ast::AstNode;
use serde_json::Value;

use self::eval::Evaluator;
use self::lower::{Lowering, Node};
use self::val::Val;
use super::Bindings;
use super::ast_walk::for_each_node;
use super::core::Session;
use super::overrides::Override;

/// An expression of the native subset, ready to evaluate.
pub(crate) struct NativeProgram {
    node: Node,
    /// The names of the functions it calls: a binding of one of them hides the function.
    called: Vec<String>,
    session: Arc<Session>,
}

impl NativeProgram {
    /// The native form of `ast` (after Patchbay's compile-time rewrites), or `None` when
    /// it is not entirely within the subset. `overrides` and `extensions` are the host
    /// functions the engine registers for it.
    pub(crate) fn compile(
        ast: &AstNode,
        overrides: &[&'static Override],
        extensions: &[&'static str],
        session: &Arc<Session>,
    ) -> Option<Self> {
        let lowering = Lowering {
            overrides,
            extensions,
        };
        let node = lowering.lower(ast)?;
        // A lambda parameter named like a function the expression calls would hide it.
        let mut called = Vec::new();
        let mut params = Vec::new();
        for_each_node(ast, |node| match node {
            AstNode::Function { name, .. } => called.push(name.clone()),
            AstNode::Lambda { params: names, .. } => params.extend(names.iter().cloned()),
            _ => {}
        });
        if params.iter().any(|param| called.contains(param)) {
            return None;
        }
        Some(NativeProgram {
            node,
            called,
            session: Arc::clone(session),
        })
    }

    /// Evaluates with `input` as the context (`None`: `undefined`). `None` when the engine
    /// must evaluate it instead; otherwise the result (`None` inside for `undefined`).
    pub(crate) fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
    ) -> Option<Option<Value>> {
        let root = match input {
            None => Val::Undefined,
            // The engine wraps an input array (jsonata-js `outerWrapper`).
            Some(Value::Array(_)) => return None,
            Some(input) => Val::Ref(input),
        };
        self.run(root, bindings)
    }

    /// As [`evaluate`](Self::evaluate) with the object `{name: value, ...}` of `scope` as
    /// the input, read in place.
    pub(crate) fn evaluate_scope(
        &self,
        scope: &[(&str, &Value)],
        bindings: &Bindings,
    ) -> Option<Option<Value>> {
        self.run(Val::Scope(scope), bindings)
    }

    fn run(&self, root: Val<'_>, bindings: &Bindings) -> Option<Option<Value>> {
        // A binding hides a function of its name, and the renamed calls of a replaced
        // built-in (`string#truto`) too.
        let hides = |name: &str| {
            self.called
                .iter()
                .any(|called| called.split('#').next() == Some(name))
        };
        if bindings.iter().any(|(name, _)| hides(name)) {
            return None;
        }
        // A panic here is a bug of the native evaluator: the engine answers instead.
        catch_unwind(AssertUnwindSafe(|| {
            let mut evaluator = Evaluator::new(root.clone(), bindings, &self.session);
            let value = evaluator.eval(&self.node, &root).ok()?;
            Some(value.to_json())
        }))
        .ok()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::expression::core::CoreEngine;
    use crate::expression::{Bindings, ExpressionEngine};

    /// What keeps an expression on the engine: syntax outside the subset, a depth limit a
    /// mapping could reach, the engine switched on by `with_native(false)`.
    #[test]
    fn the_subset_and_its_limits_decide_native() {
        let native = |engine: &CoreEngine, source: &str| {
            engine.compile(source).expect("compiles").is_native()
        };
        let default = CoreEngine::default();
        for source in [
            "{ 'id': $string(id), 'tags': [tags.{ 'name': $ }] }",
            "$sift($, function($v, $k) { $k != 'x' and $v != null })",
            "a.b[-1] & ''",
            "$$.query.limit ? $lookup({'a': 1}, kind) : null",
            "status >= 400 ? body.message",
            "(a + 1) * b % 3 < c / 2",
        ] {
            assert!(native(&default, source), "{source}");
        }
        for source in [
            "a in [1, 2]",
            "items[type = 'x']",
            "($x := 1; $x)",
            "$map(items, $string)",
            "$now()",
            "{ $k: 1 }",
            "$groupBy(items, 'k')",
        ] {
            assert!(!native(&default, source), "{source}");
        }
        let shallow = CoreEngine::with_limits(crate::expression::Limits {
            max_depth: 100,
            ..crate::expression::Limits::default()
        });
        assert!(!native(&shallow, "{ 'id': id }"));
        assert!(!native(&default.with_native(false), "{ 'id': id }"));
    }

    /// The records of `tests/fixtures/native/records.json`, by integration.
    fn records() -> serde_json::Map<String, Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/native/records.json"
        );
        let text = std::fs::read_to_string(path).expect("the records fixture");
        serde_json::from_str(&text).expect("an object of record lists")
    }

    /// Every shipped `response_mapping` (`examples/unified`) is settled by the native
    /// evaluator itself, not left to the engine, on each realistic record of its
    /// integration, and gives the engine's result.
    #[test]
    fn shipped_mappings_settle_natively_on_their_records() {
        let records = records();
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/unified");
        let native = CoreEngine::default();
        let engine = CoreEngine::default().with_native(false);
        let bindings = Bindings::new();
        let raw_query =
            json!({"collection_id": "acme/app", "workspace_id": "acme", "ticket_id": 7});
        let query = json!({"issue_id": "10001"});
        let mut settled = 0;
        for model in ["crm", "hris", "ticketing"] {
            for (integration, provider) in &records {
                let Ok(text) =
                    std::fs::read_to_string(format!("{examples}/{model}/{integration}.json"))
                else {
                    continue;
                };
                let rows: Vec<Value> = serde_json::from_str(&text).expect("mapping rows");
                let mappings = rows
                    .iter()
                    .filter_map(|row| row["config"]["response_mapping"].as_str());
                for source in mappings {
                    let program = native.program(source).expect("compiles");
                    let reference = engine.compile(source).expect("compiles");
                    let compiled = program.native.as_ref().expect("within the native subset");
                    for record in provider.as_array().expect("records") {
                        let scope = [
                            ("rawQuery", &raw_query),
                            ("query", &query),
                            ("response", record),
                        ];
                        let result = compiled.evaluate_scope(&scope, &bindings);
                        let expected = reference.evaluate_scope(&scope, &bindings).expect("maps");
                        assert_eq!(
                            result,
                            Some(expected),
                            "{integration}: {source} on {record}"
                        );
                        settled += 1;
                    }
                }
            }
        }
        assert!(settled > 150, "only {settled} evaluations");
    }
}
