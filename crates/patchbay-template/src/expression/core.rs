//! The jsonata-core backend (the default).
//!
//! The expression is parsed once into a `Send + Sync` AST shared in an `Arc`. Each evaluation
//! builds a fresh `Evaluator` (cheap, under a microsecond) with the [`Limits`] as
//! `EvaluatorOptions`, binds the [`Bindings`] into its `Context`, and converts values between
//! `serde_json` and `JValue`, keeping `undefined` apart from `null`.

use std::sync::Arc;
use std::time::Duration;

use jsonata_core::ast::{AstNode, BinaryOp};
use jsonata_core::evaluator::{CancelToken, Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::parser::{self, ParserError};
use jsonata_core::value::JValue;
use serde_json::Value;

use super::ast_walk::for_each_node_mut;
use super::context_args::insert_graph_receivers;
use super::demand::{Demand, to_jvalue};
use super::error::{ExpressionError, Phase, find_code};
use super::extensions::{self, Extension, function_mask};
use super::guard::guarded;
use super::memory::Watch;
use super::native::NativeProgram;
use super::overrides::{self, Override, OverrideLimits};
use super::pad::{TooLong, pad};
use super::regex::{self, Regexes};
use super::value::number_to_json;
use super::{Attempt, Bindings, Expression, ExpressionEngine, Limits, Program, ProgramBatch};

const NAME: &str = "jsonata-core";

/// The lowest [`Limits::max_depth`] under which expressions run natively: far above what
/// the native subset's nesting (at most 64 levels) can take in the engine.
const NATIVE_MIN_DEPTH: usize = 1_000;

/// Stack kept available around a jsonata-core call. The engine grows its own stack with
/// `stacker` during evaluation; this covers our conversions and its entry frames.
const STACK_BYTES: usize = 1 << 20;

/// The jsonata-core 2.2.13 engine: near-complete JSONata 2.x conformance, `Send + Sync` AST.
///
/// ```
/// use patchbay_template::expression::{Bindings, CoreEngine, ExpressionEngine, Limits};
/// use serde_json::json;
/// use std::time::Duration;
///
/// let limits = Limits { max_depth: 200, timeout: Duration::from_millis(250), ..Limits::default() };
/// let engine = CoreEngine::with_limits(limits);
/// let total = engine.compile("$sum(items.price)")?;
/// let input = json!({"items": [{"price": 2}, {"price": 3.5}]});
/// assert_eq!(total.evaluate(&input, &Bindings::new())?, Some(json!(5.5)));
/// # Ok::<(), patchbay_template::expression::ExpressionError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CoreEngine {
    limits: Limits,
    extensions: bool,
    native: bool,
}

impl Default for CoreEngine {
    /// [`Limits::default`], with the truto-jsonata extension functions.
    fn default() -> Self {
        CoreEngine {
            limits: Limits::default(),
            extensions: true,
            native: true,
        }
    }
}

impl CoreEngine {
    /// An engine that evaluates every expression under `limits`, with the truto-jsonata
    /// extension functions.
    pub fn with_limits(limits: Limits) -> Self {
        CoreEngine {
            limits,
            ..CoreEngine::default()
        }
    }

    /// This engine with the truto-jsonata extension functions (`$sign`, `$groupBy`, …; see
    /// `docs/jsonata.md`) registered (`true`, the default) or not (`false`, plain JSONata).
    ///
    /// ```
    /// use patchbay_template::expression::{Bindings, CoreEngine, ExpressionEngine};
    /// use serde_json::json;
    ///
    /// let source = "$digest('hi')";
    /// let with = CoreEngine::default().compile(source)?;
    /// assert_eq!(
    ///     with.evaluate(&json!(null), &Bindings::new())?,
    ///     Some(json!("8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"))
    /// );
    /// let without = CoreEngine::default().with_extensions(false).compile(source)?;
    /// assert!(without.evaluate(&json!(null), &Bindings::new()).is_err());
    /// # Ok::<(), patchbay_template::expression::ExpressionError>(())
    /// ```
    #[must_use]
    pub fn with_extensions(mut self, enabled: bool) -> Self {
        self.extensions = enabled;
        self
    }

    /// This engine with the native evaluator for the mapping subset on (`true`, the
    /// default) or off (`false`: every evaluation runs on jsonata-core). Both give the
    /// same results; see [`Expression::is_native`].
    ///
    /// ```
    /// use patchbay_template::expression::{CoreEngine, ExpressionEngine};
    ///
    /// let source = r#"{ "id": id }"#;
    /// assert!(CoreEngine::default().compile(source)?.is_native());
    /// assert!(!CoreEngine::default().with_native(false).compile(source)?.is_native());
    /// # Ok::<(), patchbay_template::expression::ExpressionError>(())
    /// ```
    #[must_use]
    pub fn with_native(mut self, enabled: bool) -> Self {
        self.native = enabled;
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

impl ExpressionEngine for CoreEngine {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compile(&self, source: &str) -> Result<Expression, ExpressionError> {
        let program = self.program(source)?;
        Ok(Expression::new(source, NAME, Arc::new(program)))
    }
}

impl CoreEngine {
    /// The compiled form of `source`.
    pub(crate) fn program(&self, source: &str) -> Result<CoreProgram, ExpressionError> {
        let mut ast = guarded(NAME, Phase::Compile, STACK_BYTES, || {
            parser::parse(source).map_err(compile_error)
        })?;
        // Every regex literal is compiled once, here; one JavaScript refuses is an error.
        let regexes = Regexes::of(&ast).map_err(|error| {
            let message = error.to_string();
            ExpressionError::Compile {
                code: find_code(&message).map(str::to_owned),
                message,
                position: None,
            }
        })?;
        let regex_calls = rewrite_regex_calls(&mut ast);
        let overrides = overrides::used_by(source, self.extensions);
        // Host functions cannot see the context, and the inlined built-ins are reached
        // under another name.
        overrides::rewrite(&mut ast, &overrides);
        let extensions = if self.extensions {
            extensions::used_by(source)
        } else {
            Vec::new()
        };
        if extensions
            .iter()
            .any(|extension| extensions::is_graph_method(extension))
        {
            // The graph methods are host functions: they get their graph as an argument.
            insert_graph_receivers(&mut ast);
        }
        // After every rewrite: the inserted arguments are part of what the expression reads.
        let demand = Demand::of(&ast);
        // `$now()` and `$millis()` give the instant of their evaluation, so such an
        // expression cannot share an evaluator between evaluations (see [`CoreBatch`]).
        let reads_clock = overrides
            .iter()
            .any(|entry| matches!(entry.name, "now" | "millis"));
        let extension_names: Vec<&'static str> = extensions.iter().map(|e| e.name).collect();
        let session = Arc::new(Session {
            limits: self.limits,
            overrides,
            extensions,
            regexes,
            regex_calls,
        });
        // The native evaluator does not count evaluation depth: with a limit low enough
        // for a mapping to reach it, the engine keeps every evaluation.
        let native = if self.native && self.limits.max_depth >= NATIVE_MIN_DEPTH {
            NativeProgram::compile(&ast, &session.overrides, &extension_names, &session)
        } else {
            None
        };
        Ok(CoreProgram {
            reads_clock,
            demand,
            ast: Arc::new(ast),
            session,
            native,
        })
    }
}

/// A parsed expression and the [`Session`] its evaluations run in.
pub(crate) struct CoreProgram {
    ast: Arc<AstNode>,
    /// What the expression can read of its input; evaluations convert only that.
    demand: Demand,
    /// Whether it calls `$now()` or `$millis()`.
    reads_clock: bool,
    session: Arc<Session>,
    /// The native form of the expression, when it is within the native subset.
    pub(crate) native: Option<NativeProgram>,
}

/// What every evaluation of one compiled expression sets up: its limits, the host
/// functions it reaches and its compiled regex literals. Host functions that need an
/// evaluation of their own (a replacement function, a delegated built-in) build it here,
/// with the same host functions.
pub(crate) struct Session {
    limits: Limits,
    /// The built-ins this expression reaches that Patchbay replaces (see [`overrides`]).
    overrides: Vec<&'static Override>,
    extensions: Vec<&'static Extension>,
    /// The expression's regex literals, compiled.
    pub(crate) regexes: Regexes,
    /// Whether the expression calls a regex literal (`/re/(text)`, `text ~> /re/`), which
    /// [`rewrite_regex_calls`] turned into calls of [`REGEX_CALL`].
    regex_calls: bool,
}

impl Session {
    /// The limits every evaluation of the expression runs under.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// A session with the default limits and no host functions or regexes.
    #[cfg(test)]
    pub(crate) fn empty() -> Arc<Self> {
        Arc::new(Session {
            limits: Limits::default(),
            overrides: Vec::new(),
            extensions: Vec::new(),
            regexes: Regexes::default(),
            regex_calls: false,
        })
    }

    /// An evaluator for `context` with this session's limits (and `timeout`, `cancel`) and
    /// host functions, except the override of the built-in `skip` (so that a delegated
    /// call reaches the built-in). `now_millis` is the instant `$now()` and `$millis()`
    /// return: the outer evaluation's, for an evaluation started by a host function.
    ///
    /// # Errors
    /// The engine's refusal of a host function, which the tests rule out.
    pub(crate) fn evaluator(
        self: &Arc<Self>,
        context: Context,
        timeout: Duration,
        cancel: Option<CancelToken>,
        skip: Option<&str>,
        now_millis: f64,
    ) -> Result<Evaluator, EvaluatorError> {
        let options = EvaluatorOptions {
            timeout_ms: Some(millis(timeout)),
            max_stack_depth: Some(self.limits.max_depth),
            max_sequence_length: (self.limits.max_sequence_length != usize::MAX)
                .then_some(self.limits.max_sequence_length),
            cancel,
        };
        let mut evaluator = Evaluator::with_options(context, options);
        let limits = OverrideLimits {
            max_string_bytes: self.limits.max_string_bytes,
            timeout: self.limits.timeout,
            session: Arc::clone(self),
            now_millis,
        };
        let overrides: Vec<&'static Override> = self
            .overrides
            .iter()
            .copied()
            .filter(|entry| Some(entry.name) != skip)
            .collect();
        overrides::register(&mut evaluator, &overrides, &limits)?;
        if self.regex_calls {
            let session = Arc::clone(self);
            evaluator.register_fn(REGEX_CALL, move |args: &[JValue]| {
                regex::functions::call(args, &session.regexes)
            })?;
        }
        for &extension in &self.extensions {
            evaluator.register_fn(extension.name, move |args: &[JValue]| {
                call_extension(extension, args)
            })?;
        }
        Ok(evaluator)
    }
}

/// The host function a regex literal's call is rewritten to (no source text can name it).
const REGEX_CALL: &str = "regex#call";

/// Rewrites every call of a regex literal, `/re/(args)` and `value ~> /re/`, into a call
/// of [`REGEX_CALL`] with the regex first, so that it matches with [`regex`] rather than
/// the engine's own regexes. Returns whether there was any.
fn rewrite_regex_calls(ast: &mut AstNode) -> bool {
    let mut found = false;
    for_each_node_mut(ast, |node| {
        let call = match node {
            AstNode::Call { procedure, args } if matches!(**procedure, AstNode::Regex { .. }) => {
                let mut all = vec![std::mem::replace(&mut **procedure, AstNode::Null)];
                all.append(args);
                all
            }
            AstNode::Binary {
                op: BinaryOp::ChainPipe,
                lhs,
                rhs,
            } if matches!(**rhs, AstNode::Regex { .. }) => vec![
                std::mem::replace(&mut **rhs, AstNode::Null),
                std::mem::replace(&mut **lhs, AstNode::Null),
            ],
            _ => return,
        };
        found = true;
        *node = AstNode::Function {
            name: REGEX_CALL.to_owned(),
            args: call,
            is_builtin: true,
        };
    });
    found
}

impl Program for CoreProgram {
    fn timeout(&self) -> Duration {
        self.session.limits.timeout
    }

    fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        if let Some(result) = self.native(attempt, |native| native.evaluate(input, bindings)) {
            return Ok(result);
        }
        self.run(
            || input.map_or(JValue::Undefined, |input| self.demand.project(input)),
            bindings,
            attempt,
        )
    }

    fn evaluate_scope(
        &self,
        scope: &[(&str, &Value)],
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        if let Some(result) = self.native(attempt, |native| native.evaluate_scope(scope, bindings))
        {
            return Ok(result);
        }
        self.run(|| self.scope_input(scope), bindings, attempt)
    }

    fn is_native(&self) -> bool {
        self.native.is_some()
    }

    fn batch<'a>(&'a self, bindings: &'a Bindings) -> Box<dyn ProgramBatch + 'a> {
        Box::new(CoreBatch {
            program: self,
            bindings,
            evaluator: None,
        })
    }
}

/// Evaluations of one [`CoreProgram`] with the same bindings. Inline attempts share one
/// evaluator: the bindings are converted and the host functions registered once, and the
/// engine compiles each object constructor once instead of once per evaluation. An
/// evaluation that fails (or panics) drops it, so the next one starts from a fresh one;
/// slow attempts, and every evaluation of an expression that reads the clock, run as
/// [`Program::evaluate_scope`] does.
struct CoreBatch<'a> {
    program: &'a CoreProgram,
    bindings: &'a Bindings,
    /// The shared evaluator and the time limit it was built with.
    evaluator: Option<(Duration, Evaluator)>,
}

impl ProgramBatch for CoreBatch<'_> {
    fn evaluate(
        &mut self,
        input: Option<&Value>,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        let program = self.program;
        if let Some(result) =
            program.native(attempt, |native| native.evaluate(input, self.bindings))
        {
            return Ok(result);
        }
        if attempt.slow || program.reads_clock {
            return program.evaluate(input, self.bindings, attempt);
        }
        self.evaluate_shared(attempt, || {
            input.map_or(JValue::Undefined, |input| program.demand.project(input))
        })
    }

    fn evaluate_scope(
        &mut self,
        scope: &[(&str, &Value)],
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        let program = self.program;
        if let Some(result) = program.native(attempt, |native| {
            native.evaluate_scope(scope, self.bindings)
        }) {
            return Ok(result);
        }
        if attempt.slow || program.reads_clock {
            return program.evaluate_scope(scope, self.bindings, attempt);
        }
        self.evaluate_shared(attempt, || program.scope_input(scope))
    }
}

impl CoreBatch<'_> {
    /// An inline attempt on the shared evaluator (built first when there is none).
    fn evaluate_shared(
        &mut self,
        attempt: Attempt,
        input: impl FnOnce() -> JValue,
    ) -> Result<Option<Value>, ExpressionError> {
        let program = self.program;
        let bindings = self.bindings;
        let shared = &mut self.evaluator;
        guarded(NAME, Phase::Evaluate, STACK_BYTES, || {
            // Taken out while it runs: a failure or a panic leaves no evaluator behind.
            let mut evaluator = match shared.take() {
                Some((timeout, evaluator)) if timeout == attempt.timeout => evaluator,
                _ => program.evaluator(bindings, attempt.timeout, None)?,
            };
            extensions::take_stashed_error();
            let input = input();
            let result = evaluator
                .evaluate(&program.ast, &input)
                .map_err(|error| evaluate_error(&error, program.session.limits))?;
            *shared = Some((attempt.timeout, evaluator));
            Ok(to_json(&result))
        })
    }
}

impl CoreProgram {
    /// The native evaluator's result, when the expression has a native form, this is the
    /// inline attempt (a slow attempt follows an inline one the native evaluator left to
    /// the engine) and `run` settles it.
    fn native(
        &self,
        attempt: Attempt,
        run: impl FnOnce(&NativeProgram) -> Option<Option<Value>>,
    ) -> Option<Option<Value>> {
        if attempt.slow {
            return None;
        }
        run(self.native.as_ref()?)
    }

    /// The input document `{name: value, ...}` of `scope`, holding only the names (and
    /// the parts of their values) the expression can read.
    fn scope_input(&self, scope: &[(&str, &Value)]) -> JValue {
        JValue::object(
            scope
                .iter()
                .filter_map(|(name, value)| {
                    let demand = self.demand.field(name)?;
                    Some(((*name).to_owned(), demand.project(value)))
                })
                .collect(),
        )
    }

    /// An evaluator with `bindings` bound (under their aliases too), the session's host
    /// functions and `timeout`.
    fn evaluator(
        &self,
        bindings: &Bindings,
        timeout: Duration,
        cancel: Option<CancelToken>,
    ) -> Result<Evaluator, ExpressionError> {
        let mut context = Context::new();
        for (name, value) in bindings.iter() {
            let value = to_jvalue(value);
            for alias in overrides::binding_aliases(&self.session.overrides, name) {
                context.bind(alias, value.clone());
            }
            context.bind(name.to_owned(), value);
        }
        self.session
            .evaluator(context, timeout, cancel, None, extensions::now_millis())
            .map_err(|error| ExpressionError::Evaluate {
                code: None,
                message: error.message().to_owned(),
            })
    }

    fn run(
        &self,
        input: impl FnOnce() -> JValue,
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        // A slow attempt runs under the memory watchdog, which stops it through the token.
        let cancel = attempt.slow.then(CancelToken::new);
        let watch = cancel.as_ref().and_then(|token| {
            let token = token.clone();
            Watch::start(self.session.limits.max_memory_growth, move || {
                token.cancel()
            })
        });
        let result = self.evaluate_with(input, bindings, attempt.timeout, cancel);
        match (result, watch) {
            (Err(ExpressionError::Evaluate { code, .. }), Some(watch))
                if watch.tripped() && code.as_deref() == Some("U1003") =>
            {
                Err(ExpressionError::MemoryExceeded {
                    code: "U1003".to_owned(),
                    limit: self.session.limits.max_memory_growth,
                })
            }
            (result, _) => result,
        }
    }

    fn evaluate_with(
        &self,
        input: impl FnOnce() -> JValue,
        bindings: &Bindings,
        timeout: Duration,
        cancel: Option<CancelToken>,
    ) -> Result<Option<Value>, ExpressionError> {
        guarded(NAME, Phase::Evaluate, STACK_BYTES, || {
            let mut evaluator = self.evaluator(bindings, timeout, cancel)?;
            extensions::take_stashed_error();
            let input = input();
            let result = evaluator
                .evaluate(&self.ast, &input)
                .map_err(|error| evaluate_error(&error, self.session.limits))?;
            Ok(to_json(&result))
        })
    }
}

/// A time limit in whole milliseconds, at least 1.
fn millis(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Patchbay's code for a `$pad` or `$replace` result over [`Limits::max_string_bytes`].
pub(super) const STRING_LIMIT_CODE: &str = "U1004";

/// `$pad(text, width, padding)` on engine values, refusing an oversized result before it
/// is allocated. Arguments are checked as the built-in's signature `<s-ns?:s>` does; a
/// context-form call (`name.$pad(5)`) arrives with the context written in by
/// [`context_args`](super::context_args).
pub(super) fn checked_pad(args: &[JValue], max_bytes: usize) -> Result<JValue, EvaluatorError> {
    let mismatch = |argument: usize| {
        EvaluatorError::TypeError(format!(
            "T0410: Argument {argument} of function \"pad\" does not match function signature"
        ))
    };
    if args.is_empty() || args.len() > 3 {
        return Err(mismatch(args.len().clamp(1, 4)));
    }
    let text = match &args[0] {
        JValue::String(text) => text,
        JValue::Null => return Ok(JValue::Null),
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Number(_) if args.len() == 1 => {
            return Err(EvaluatorError::TypeError(
                "T0410: Argument 1 of function \"pad\" does not match function signature: \
                 pass the string to pad explicitly, as in $pad(text, width)"
                    .to_owned(),
            ));
        }
        _ => return Err(mismatch(1)),
    };
    let width = match args.get(1) {
        Some(JValue::Number(width)) => *width,
        Some(JValue::Undefined) | None => return Ok(JValue::String(text.clone())),
        Some(_) => return Err(mismatch(2)),
    };
    let padding = match args.get(2) {
        Some(JValue::String(padding)) => padding,
        Some(JValue::Undefined) | None => " ",
        Some(_) => return Err(mismatch(3)),
    };
    match pad(text, width, padding, max_bytes) {
        Ok(padded) => Ok(JValue::string(padded)),
        Err(TooLong { bytes, .. }) => Err(EvaluatorError::EvaluationError(format!(
            "{STRING_LIMIT_CODE}: $pad would build a string of {bytes} bytes"
        ))),
    }
}

fn compile_error(error: ParserError) -> ExpressionError {
    let message = error.to_string();
    ExpressionError::Compile {
        code: find_code(&message).map(str::to_owned),
        message,
        position: None,
    }
}

/// Runs an extension function on jsonata-core values. Its errors are stashed so that
/// [`evaluate_error`] can report them with their own code and message.
fn call_extension(extension: &Extension, args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let functions = function_mask(
        args.iter()
            .map(|arg| matches!(arg, JValue::Lambda(_) | JValue::Builtin { .. })),
    );
    let args: Vec<Option<Value>> = args.iter().map(to_json).collect();
    match extension.call_marked(&args, functions) {
        Ok(Some(value)) => Ok(JValue::from(value)),
        Ok(None) => Ok(JValue::Undefined),
        Err(error) => {
            let message = error.to_string();
            extensions::stash_error(error);
            Err(EvaluatorError::EvaluationError(message))
        }
    }
}

fn evaluate_error(error: &EvaluatorError, limits: Limits) -> ExpressionError {
    let message = error.message().to_owned();
    if let Some(extension_error) = extensions::stashed_error_for(&message) {
        return ExpressionError::Evaluate {
            code: extension_error.code().map(str::to_owned),
            message: extension_error.to_string(),
        };
    }
    let code = find_code(&message).map(str::to_owned);
    match code.as_deref() {
        Some("D1012") => ExpressionError::Timeout {
            code: "D1012".to_owned(),
            limit: limits.timeout,
        },
        // D1011: our `max_stack_depth`; U1001: the engine's built-in hard cap.
        Some(depth @ ("D1011" | "U1001")) => ExpressionError::DepthExceeded {
            code: depth.to_owned(),
            max_depth: limits.max_depth,
        },
        Some("D2015") => ExpressionError::SizeExceeded {
            code: "D2015".to_owned(),
            what: "a sequence grew too long".to_owned(),
            limit: limits.max_sequence_length,
            unit: "items",
        },
        Some(STRING_LIMIT_CODE) => ExpressionError::SizeExceeded {
            code: STRING_LIMIT_CODE.to_owned(),
            what: message
                .split_once(": ")
                .map_or(message.as_str(), |(_, what)| what)
                .to_owned(),
            limit: limits.max_string_bytes,
            unit: "bytes",
        },
        _ => ExpressionError::Evaluate { code, message },
    }
}

/// A `JValue` as JSON, or `None` for `undefined`. Functions and regexes (which have no JSON
/// form) are treated like `undefined`, as `JSON.stringify` does: dropped from objects, `null`
/// in arrays. `NaN`/infinite numbers become `null`.
fn to_json(value: &JValue) -> Option<Value> {
    match value {
        JValue::Undefined | JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            None
        }
        JValue::Null => Some(Value::Null),
        JValue::Bool(flag) => Some(Value::Bool(*flag)),
        JValue::Number(number) => Some(number_to_json(*number).unwrap_or(Value::Null)),
        JValue::String(text) => Some(Value::String(text.to_string())),
        JValue::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|item| to_json(item).unwrap_or(Value::Null))
                .collect(),
        )),
        JValue::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(key, item)| Some((key.clone(), to_json(item)?)))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undefined_inside_containers_follows_json_stringify() {
        let engine = CoreEngine::default();
        let expression = engine
            .compile("{'kept': 1, 'fn': function($x){$x}, 'list': [1, $string]}")
            .expect("valid");
        let result = expression.evaluate(&json!({}), &Bindings::new());
        assert_eq!(
            result.expect("evaluates"),
            Some(json!({"kept": 1, "list": [1, null]}))
        );
    }

    #[test]
    fn function_result_is_undefined() {
        let expression = CoreEngine::default().compile("$uppercase").expect("valid");
        assert_eq!(
            expression
                .evaluate(&json!(1), &Bindings::new())
                .expect("ok"),
            None
        );
    }
}
