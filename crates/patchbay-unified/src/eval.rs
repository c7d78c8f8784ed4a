//! Evaluating compiled expressions against a mapping scope.

use patchbay_template::expression::Batch;
use patchbay_template::{Bindings, Expression, ExpressionError};
use serde_json::{Map, Value};

use crate::compile::Layered;
use crate::{CompiledMapping, UnifiedError};

/// The names a mapping expression reads (`query`, `body`, ...), each bound
/// as a field of the input document, as Truto's mappings read them.
pub(crate) type Scope<'a> = Vec<(&'static str, &'a Value)>;

/// The JSON kind of `value`, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    patchbay_config::json_kind(value)
}

impl CompiledMapping {
    pub(crate) fn run(
        &self,
        mapping: &'static str,
        expression: &Expression,
        scope: &Scope<'_>,
    ) -> Result<Option<Value>, UnifiedError> {
        expression
            .evaluate_scope(scope, &Bindings::new())
            .map_err(|source| self.expression_error(mapping, source))
    }

    pub(crate) fn wrong(
        &self,
        mapping: &'static str,
        expected: &'static str,
        found: &Value,
    ) -> UnifiedError {
        UnifiedError::WrongResult {
            mapping,
            resource: self.resource_name.clone(),
            method: self.method_name.clone(),
            expected,
            found: kind(found),
        }
    }

    /// Evaluates every layer of `layered` on the same scope and merges the
    /// results: objects key by key (later layers win); otherwise the last
    /// defined result. `None` when no layer is defined or all are undefined.
    pub(crate) fn run_layered(
        &self,
        mapping: &'static str,
        layered: &Layered,
        scope: &Scope<'_>,
    ) -> Result<Option<Value>, UnifiedError> {
        let mut merged: Option<Value> = None;
        for expression in layered.expressions() {
            let result = self.run(mapping, expression, scope)?;
            merge_layer(&mut merged, result);
        }
        Ok(merged)
    }

    fn expression_error(&self, mapping: &'static str, source: ExpressionError) -> UnifiedError {
        UnifiedError::Expression {
            mapping,
            resource: self.resource_name.clone(),
            method: self.method_name.clone(),
            source: Box::new(source),
        }
    }

    /// A [`LayeredBatch`] of `layered` for evaluations on many scopes (one per record).
    pub(crate) fn layered_batch<'a>(
        &'a self,
        mapping: &'static str,
        layered: &'a Layered,
        bindings: &'a Bindings,
    ) -> LayeredBatch<'a> {
        LayeredBatch {
            owner: self,
            mapping,
            layers: layered
                .expressions()
                .iter()
                .map(|expression| expression.batch(bindings))
                .collect(),
        }
    }

    /// As [`run_layered`](Self::run_layered), requiring an object (or nothing).
    pub(crate) fn run_object(
        &self,
        mapping: &'static str,
        layered: &Layered,
        scope: &Scope<'_>,
    ) -> Result<Option<Map<String, Value>>, UnifiedError> {
        match self.run_layered(mapping, layered, scope)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.wrong(mapping, "an object", &other)),
        }
    }
}

/// Merges one layer's `result` into the layers below it: objects key by key (the upper
/// layer's keys win), otherwise the upper defined result replaces the lower one.
fn merge_layer(merged: &mut Option<Value>, result: Option<Value>) {
    let Some(result) = result else {
        return;
    };
    *merged = Some(match (merged.take(), result) {
        (Some(Value::Object(mut lower)), Value::Object(upper)) => {
            lower.extend(upper);
            Value::Object(lower)
        }
        (_, result) => result,
    });
}

/// A layered mapping evaluated on many scopes with the same bindings, as
/// [`CompiledMapping::run_layered`] evaluates it on one: each layer is a
/// [`Batch`], set up once for all the scopes.
pub(crate) struct LayeredBatch<'a> {
    owner: &'a CompiledMapping,
    mapping: &'static str,
    layers: Vec<Batch<'a>>,
}

impl LayeredBatch<'_> {
    /// As [`CompiledMapping::run_layered`] on `scope`.
    pub(crate) fn run(&mut self, scope: &Scope<'_>) -> Result<Option<Value>, UnifiedError> {
        let mut merged: Option<Value> = None;
        for layer in &mut self.layers {
            let result = layer
                .evaluate_scope(scope)
                .map_err(|source| self.owner.expression_error(self.mapping, source))?;
            merge_layer(&mut merged, result);
        }
        Ok(merged)
    }
}

/// JSONata truthiness of a result, as `run_if` and `is_partial_expression` read it.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => items.iter().any(|i| truthy(Some(i))),
        Some(Value::Object(_)) => true,
    }
}
