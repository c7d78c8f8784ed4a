//! The jsonata-rs backend, run behind the guard-rails of `rust-deps.md` §1.6.
//!
//! jsonata-rs 0.3.4 can panic on some expressions, aborts the process on deep recursion
//! without a depth limit, and its compiled `JsonAta` is `!Send` and borrows an arena. So:
//!
//! * [`RsEngine::compile`] parses inside `catch_unwind` and keeps only the validated source;
//! * every evaluation re-parses the source into a thread-local `bumpalo` arena that is reset
//!   afterwards, binds variables with our own `serde_json` → `Value` converter, and always
//!   calls `evaluate_timeboxed` with the depth and time [`Limits`];
//! * evaluation runs inside `catch_unwind`, on a stack segment sized from `max_depth`
//!   (`stacker`), so deep recursion ends in `U1001` rather than a stack overflow, even on a
//!   2 MiB tokio worker thread.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, Error as RsError, FunctionContext, JsonAta, Value as RsValue};
use serde_json::Value;

use super::error::{ExpressionError, Phase};
use super::extensions::{self, Extension, function_mask};
use super::guard::guarded;
use super::rs_functions::{self, RsFunction};
use super::value::number_to_json;
use super::{Attempt, Bindings, Expression, ExpressionEngine, Limits, Program};

const NAME: &str = "jsonata-rs";

/// Stack granted per unit of `max_depth`. jsonata-rs recurses natively and uses a few hundred
/// bytes to a few KiB of stack per evaluation level depending on optimisation level; this
/// leaves a wide margin (measured by the `deep_recursion_*` tests on 2 MiB threads).
const STACK_PER_LEVEL: usize = 16 * 1024;
/// The smallest stack segment an evaluation gets.
const MIN_STACK: usize = 4 << 20;
/// An arena that grew past this after an evaluation is dropped instead of kept for reuse.
const MAX_RETAINED_ARENA: usize = 16 << 20;

/// Extension names that jsonata-rs already has as built-ins, which are left in place:
/// `$uuid` (a v4 UUID, as the extension).
const RS_BUILTINS: &[&str] = &["uuid"];

thread_local! {
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

/// The jsonata-rs 0.3.4 engine (about 72 % of the JSONata suite), made safe to call.
///
/// Known gaps: no `%`, `??`, `?:`, function signatures, partial application, `$eval`, `$type`,
/// `$format*`, `$parseInteger`; object key order in results is not stable. The URL functions
/// are Patchbay's (see `rs_functions`).
///
/// ```
/// use patchbay_template::expression::{Bindings, ExpressionEngine, RsEngine};
/// use serde_json::json;
///
/// let engine = RsEngine::default();
/// let ids = engine.compile("items[active].id")?;
/// let input = json!({"items": [{"id": 1, "active": true}, {"id": 2, "active": false}]});
/// assert_eq!(ids.evaluate(&input, &Bindings::new())?, Some(json!(1)));
/// // Constructs that make jsonata-rs panic become errors:
/// assert!(engine.compile("%.id").is_err());
/// # Ok::<(), patchbay_template::expression::ExpressionError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RsEngine {
    limits: Limits,
    extensions: bool,
}

impl Default for RsEngine {
    /// [`Limits::default`], with the truto-jsonata extension functions.
    fn default() -> Self {
        RsEngine {
            limits: Limits::default(),
            extensions: true,
        }
    }
}

impl RsEngine {
    /// An engine that evaluates every expression under `limits`, with the truto-jsonata
    /// extension functions.
    pub fn with_limits(limits: Limits) -> Self {
        RsEngine {
            limits,
            ..RsEngine::default()
        }
    }

    /// This engine with the truto-jsonata extension functions registered (`true`, the
    /// default) or not (`false`), as [`CoreEngine::with_extensions`](super::CoreEngine).
    #[must_use]
    pub fn with_extensions(mut self, enabled: bool) -> Self {
        self.extensions = enabled;
        self
    }

    /// Whether the truto-jsonata extension functions are registered.
    pub fn extensions(&self) -> bool {
        self.extensions
    }

    /// The limits this engine applies.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

impl ExpressionEngine for RsEngine {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compile(&self, source: &str) -> Result<Expression, ExpressionError> {
        guarded(NAME, Phase::Compile, MIN_STACK, || {
            with_arena(|arena| {
                JsonAta::new(source, arena)
                    .map(drop)
                    .map_err(|error| compile_error(&error))
            })
        })?;
        let program = RsProgram {
            source: Arc::from(source),
            limits: self.limits,
            extensions: if self.extensions {
                extensions::used_by(source)
            } else {
                Vec::new()
            },
            functions: rs_functions::used_by(source),
        };
        Ok(Expression::new(source, NAME, Arc::new(program)))
    }
}

/// A validated source text plus the limits to evaluate it under and the extension functions
/// it calls.
struct RsProgram {
    source: Arc<str>,
    limits: Limits,
    extensions: Vec<&'static Extension>,
    /// The URL functions it calls.
    functions: Vec<&'static RsFunction>,
}

impl Program for RsProgram {
    fn timeout(&self) -> Duration {
        self.limits.timeout
    }

    fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        // jsonata-rs only accepts the input document as JSON text.
        let input_text = input
            .map(serde_json::to_string)
            .transpose()
            .map_err(|error| ExpressionError::Conversion {
                engine: NAME,
                message: format!("cannot serialize the input: {error}"),
            })?;
        let max_depth = self.limits.max_depth.min(super::RS_MAX_DEPTH);
        let stack = max_depth.saturating_mul(STACK_PER_LEVEL).max(MIN_STACK);
        let time_limit = usize::try_from(attempt.timeout.as_millis())
            .unwrap_or(usize::MAX)
            .max(1);
        guarded(NAME, Phase::Evaluate, stack, || {
            with_arena(|arena| {
                let jsonata =
                    JsonAta::new(&self.source, arena).map_err(|error| compile_error(&error))?;
                for (name, value) in bindings.iter() {
                    jsonata.assign_var(name, to_rs(arena, value));
                }
                for extension in &self.extensions {
                    if !RS_BUILTINS.contains(&extension.name) {
                        jsonata.register_function(extension.name, extension.arity, call_extension);
                    }
                }
                for entry in &self.functions {
                    jsonata.register_function(entry.name, entry.arity, call_function);
                }
                extensions::take_stashed_error();
                let result = jsonata
                    .evaluate_timeboxed(input_text.as_deref(), Some(max_depth), Some(time_limit))
                    .map_err(|error| evaluate_error(&error, self.limits))?;
                Ok(to_json(result))
            })
        })
    }
}

/// Runs `work` with this thread's arena, reset before and after. A re-entrant call (which
/// jsonata-rs cannot make today) gets a private arena instead of panicking.
fn with_arena<R>(work: impl FnOnce(&Bump) -> R) -> R {
    ARENA.with(|cell| match cell.try_borrow_mut() {
        Ok(mut arena) => {
            arena.reset();
            let result = work(&arena);
            if arena.allocated_bytes() > MAX_RETAINED_ARENA {
                *arena = Bump::new();
            } else {
                arena.reset();
            }
            result
        }
        Err(_) => work(&Bump::new()),
    })
}

fn compile_error(error: &RsError) -> ExpressionError {
    ExpressionError::Compile {
        code: Some(error.code().to_owned()),
        message: error.to_string(),
        position: None,
    }
}

/// The one native function behind every extension: jsonata-rs hands it the name it was
/// registered under. Errors are stashed so that [`evaluate_error`] can report them with
/// their own code and message (jsonata-rs only carries them as a `D3137` message).
fn call_extension<'a>(
    context: FunctionContext<'a, '_>,
    args: &[&'a RsValue<'a>],
) -> Result<&'a RsValue<'a>, RsError> {
    let Some(extension) = extensions::find(context.name) else {
        return Err(RsError::T1006InvokedNonFunction(context.char_index));
    };
    // A graph method's receiver is the context of the call (`$g` in `$g.overallOrder()`).
    let receiver = extensions::is_graph_method(extension).then(|| to_json(context.input));
    let functions = function_mask(
        args.iter()
            .map(|arg| matches!(arg, RsValue::Lambda { .. } | RsValue::NativeFn { .. })),
    );
    let args: Vec<Option<Value>> = receiver
        .into_iter()
        .chain(args.iter().map(|arg| to_json(arg)))
        .collect();
    let functions = if extensions::is_graph_method(extension) {
        functions << 1
    } else {
        functions
    };
    match extension.call_marked(&args, functions) {
        Ok(Some(value)) => Ok(to_rs(context.arena, &value)),
        Ok(None) => Ok(RsValue::undefined()),
        Err(error) => {
            let message = error.to_string();
            extensions::stash_error(error);
            Err(RsError::D3137Error(message))
        }
    }
}

/// The one native function behind every [`RsFunction`], dispatched by the name it was
/// registered under. A call without arguments of a function that takes the context gets
/// the context. Errors are stashed as in [`call_extension`].
fn call_function<'a>(
    context: FunctionContext<'a, '_>,
    args: &[&'a RsValue<'a>],
) -> Result<&'a RsValue<'a>, RsError> {
    let Some(entry) = rs_functions::find(context.name) else {
        return Err(RsError::T1006InvokedNonFunction(context.char_index));
    };
    let args: Vec<Option<Value>> = if args.is_empty() && entry.takes_context {
        vec![to_json(context.input)]
    } else {
        args.iter().map(|arg| to_json(arg)).collect()
    };
    match (entry.call)(&args) {
        Ok(Some(value)) => Ok(to_rs(context.arena, &value)),
        Ok(None) => Ok(RsValue::undefined()),
        Err(error) => {
            let message = error.to_string();
            extensions::stash_error(error);
            Err(RsError::D3137Error(message))
        }
    }
}

fn evaluate_error(error: &RsError, limits: Limits) -> ExpressionError {
    if let RsError::D3137Error(message) = error
        && let Some(extension_error) = extensions::stashed_error_for(message)
    {
        return ExpressionError::Evaluate {
            code: extension_error.code().map(str::to_owned),
            message: extension_error.to_string(),
        };
    }
    match error {
        RsError::U1001Timeout => ExpressionError::Timeout {
            code: error.code().to_owned(),
            limit: limits.timeout,
        },
        RsError::U1001StackOverflow => ExpressionError::DepthExceeded {
            code: error.code().to_owned(),
            max_depth: limits.max_depth.min(super::RS_MAX_DEPTH),
        },
        _ => ExpressionError::Evaluate {
            code: Some(error.code().to_owned()),
            message: error.to_string(),
        },
    }
}

/// A `serde_json` value as a jsonata-rs value in `arena`. Arrays read from JSON carry no
/// sequence flags, as jsonata-rs's own input conversion does.
fn to_rs<'a>(arena: &'a Bump, value: &Value) -> &'a RsValue<'a> {
    match value {
        Value::Null => RsValue::null(arena),
        Value::Bool(flag) => RsValue::bool(*flag),
        Value::Number(number) => RsValue::number(arena, number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => RsValue::string(arena, text),
        Value::Array(items) => {
            let array = RsValue::array_with_capacity(arena, items.len(), ArrayFlags::empty());
            for item in items {
                array.push(to_rs(arena, item));
            }
            array
        }
        Value::Object(map) => {
            let object = RsValue::object_with_capacity(arena, map.len());
            for (key, item) in map {
                object.insert(key, to_rs(arena, item));
            }
            if extensions::is_graph(value) {
                // `$g.overallOrder()` calls a function-valued field of the graph.
                for method in extensions::GRAPH_METHODS {
                    object.insert(
                        method.name,
                        RsValue::nativefn(arena, method.name, method.arity, call_extension),
                    );
                }
            }
            object
        }
    }
}

/// A jsonata-rs value as JSON, or `None` for `undefined`. Functions, transformers and
/// regexes are treated like `undefined` (as `JSON.stringify` does); ranges become arrays.
fn to_json<'a>(value: &'a RsValue<'a>) -> Option<Value> {
    match value {
        RsValue::Undefined
        | RsValue::Lambda { .. }
        | RsValue::NativeFn { .. }
        | RsValue::Transformer { .. }
        | RsValue::Regex(_) => None,
        RsValue::Null => Some(Value::Null),
        RsValue::Bool(flag) => Some(Value::Bool(*flag)),
        RsValue::Number(number) => Some(number_to_json(*number).unwrap_or(Value::Null)),
        RsValue::String(text) => Some(Value::String(text.as_str().to_owned())),
        RsValue::Array(..) | RsValue::Range(_) => Some(Value::Array(
            value
                .members()
                .map(|item| to_json(item).unwrap_or(Value::Null))
                .collect(),
        )),
        RsValue::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(key, item)| Some((key.as_str().to_owned(), to_json(item)?)))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bindings_round_trip_through_the_converter() {
        let engine = RsEngine::default();
        let expression = engine.compile("$v").expect("valid");
        let value = json!({"a": [1, 2.5, "x", null, true, {"b": []}]});
        let bindings = Bindings::new().with("v", value.clone());
        assert_eq!(
            expression.evaluate(&json!(null), &bindings).expect("ok"),
            Some(value)
        );
    }

    #[test]
    fn ranges_become_arrays() {
        let expression = RsEngine::default().compile("[1..4]").expect("valid");
        assert_eq!(
            expression
                .evaluate(&json!(null), &Bindings::new())
                .expect("ok"),
            Some(json!([1, 2, 3, 4]))
        );
    }

    #[test]
    fn the_arena_is_reused_and_stays_bounded() {
        // Builds well over MAX_RETAINED_ARENA bytes of objects in the arena.
        let expression = RsEngine::default()
            .compile("$count([1..200000].{'n': $, 'm': 'padding text'})")
            .expect("valid");
        let result = expression.evaluate(&json!(null), &Bindings::new());
        assert_eq!(result.expect("ok"), Some(json!(200000)));
        let retained = ARENA.with(|cell| cell.borrow().allocated_bytes());
        assert!(
            retained <= MAX_RETAINED_ARENA,
            "arena kept {retained} bytes"
        );
    }
}
