//! JSONata expressions behind an engine-neutral trait.
//!
//! Integration configs carry JSONata in several places (rate-limit detection, error
//! expressions, dynamic pagination, webhook transforms). This module compiles such an
//! expression once, shares it between threads, and evaluates it against `serde_json` values:
//!
//! ```
//! use patchbay_template::expression::{Bindings, Expression};
//! use serde_json::json;
//!
//! let retry = Expression::compile(
//!     r#"$response.status = 429 ? $number($response.headers."retry-after") * 1000 : 0"#,
//! )?;
//! let bindings = Bindings::new().with(
//!     "response",
//!     json!({"status": 429, "headers": {"retry-after": "2"}}),
//! );
//! assert_eq!(retry.evaluate(&json!(null), &bindings)?, Some(json!(2000)));
//! # Ok::<(), patchbay_template::expression::ExpressionError>(())
//! ```
//!
//! Two backends implement [`ExpressionEngine`], each behind a cargo feature of this crate:
//! `jsonata-core` ([`CoreEngine`], the default) and `jsonata-rs` (`RsEngine`, with that feature).
//! [`default_engine`] picks jsonata-core when its feature is on. Every evaluation runs under
//! [`Limits`] (depth, wall-clock time and, for jsonata-core, result sizes), and engine panics
//! are caught and returned as [`ExpressionError::Panicked`]: an expression can fail, but it
//! cannot hang or crash the process. An evaluation that outgrows a short inline budget is
//! run again off the async runtime's worker threads, under a process-wide cap (see
//! [`Expression::evaluate`]), so a slow expression cannot stall other requests. See
//! `docs/jsonata.md` for the measured differences between the backends.
//!
//! Both engines also register the [`extensions`] of `@truto/truto-jsonata` that a request
//! engine needs (`$sign`, `$base64encode`, `$mapValues`, `$groupBy`, …); the
//! `with_extensions(false)` engine option turns them off.

mod error;
pub mod extensions;
mod headers;
#[cfg(feature = "jsonata-core")]
mod memory;
#[cfg(feature = "jsonata-core")]
mod native;
mod offload;
mod value;

#[cfg(feature = "jsonata-core")]
mod ast_walk;
#[cfg(feature = "jsonata-core")]
mod context_args;
#[cfg(feature = "jsonata-core")]
mod core;
#[cfg(feature = "jsonata-core")]
mod demand;
mod guard;
mod js_builtins;
#[cfg(feature = "jsonata-core")]
mod overrides;
#[cfg(feature = "jsonata-core")]
mod pad;
#[cfg(feature = "jsonata-core")]
mod regex;
#[cfg(feature = "jsonata-core")]
mod replace;
#[cfg(feature = "jsonata-rs")]
mod rs;
#[cfg(feature = "jsonata-rs")]
mod rs_functions;

#[cfg(not(any(feature = "jsonata-core", feature = "jsonata-rs")))]
compile_error!(
    "patchbay-template needs a JSONata backend: enable feature `jsonata-core` or `jsonata-rs`"
);

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;

#[cfg(feature = "jsonata-core")]
pub use self::core::CoreEngine;
pub use self::error::{ExpressionError, Phase};
pub use self::extensions::ExtensionError;
pub use self::headers::headers_json;
pub(crate) use self::offload::Attempt;
#[cfg(feature = "jsonata-rs")]
pub use self::rs::RsEngine;

/// A JSONata implementation that turns source text into a reusable [`Expression`].
///
/// Implementations must never panic or abort on any source text or input: failures are
/// [`ExpressionError`]s.
pub trait ExpressionEngine: Send + Sync + fmt::Debug + 'static {
    /// A short, stable name for logs and reports, e.g. `"jsonata-core"`.
    fn name(&self) -> &'static str;

    /// Parses and validates `source`.
    ///
    /// # Errors
    /// [`ExpressionError::Compile`] for invalid or unsupported syntax, and
    /// [`ExpressionError::Panicked`] if the engine crate panicked while parsing.
    fn compile(&self, source: &str) -> Result<Expression, ExpressionError>;
}

/// The engine-specific half of a compiled [`Expression`].
///
/// Implementors evaluate one already-validated expression. `input` is `None` for JSONata
/// `undefined` input; the result is `None` for an `undefined` result. `attempt` carries the
/// wall-clock limit of this try (the inline budget or [`Limits::timeout`]) and whether it is
/// the slow path; every other limit comes from the implementor's own [`Limits`].
pub(crate) trait Program: Send + Sync {
    /// The full time limit of one evaluation.
    fn timeout(&self) -> Duration;

    fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError>;

    /// Evaluates against the object `{key: value, ...}` built from `scope`.
    /// Backends that can build their input from references override this to
    /// avoid copying large values (response bodies) into a temporary object.
    fn evaluate_scope(
        &self,
        scope: &[(&str, &Value)],
        bindings: &Bindings,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        let object: serde_json::Map<String, Value> = scope
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
            .collect();
        self.evaluate(Some(&Value::Object(object)), bindings, attempt)
    }

    /// Whether evaluations run on the native evaluator (see [`Expression::is_native`]).
    fn is_native(&self) -> bool {
        false
    }

    /// A [`ProgramBatch`] for evaluations that share `bindings`. The default evaluates
    /// each scope on its own, as [`evaluate_scope`](Self::evaluate_scope) does.
    fn batch<'a>(&'a self, bindings: &'a Bindings) -> Box<dyn ProgramBatch + 'a> {
        Box::new(Unbatched {
            program: self,
            bindings,
        })
    }
}

/// The engine-specific half of a [`Batch`]: evaluations of one program that share their
/// bindings, and may share set-up work (converted bindings, the engine's evaluator).
pub(crate) trait ProgramBatch {
    /// As [`Program::evaluate`] with the batch's bindings.
    fn evaluate(
        &mut self,
        input: Option<&Value>,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError>;

    /// As [`Program::evaluate_scope`] with the batch's bindings.
    fn evaluate_scope(
        &mut self,
        scope: &[(&str, &Value)],
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError>;
}

/// A batch that shares nothing between its evaluations.
struct Unbatched<'a, P: ?Sized> {
    program: &'a P,
    bindings: &'a Bindings,
}

impl<P: Program + ?Sized> ProgramBatch for Unbatched<'_, P> {
    fn evaluate(
        &mut self,
        input: Option<&Value>,
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        self.program.evaluate(input, self.bindings, attempt)
    }

    fn evaluate_scope(
        &mut self,
        scope: &[(&str, &Value)],
        attempt: Attempt,
    ) -> Result<Option<Value>, ExpressionError> {
        self.program.evaluate_scope(scope, self.bindings, attempt)
    }
}

/// Evaluations of one [`Expression`] with the same [`Bindings`] on many inputs (one per
/// record of a page), from [`Expression::batch`].
///
/// Each [`evaluate_scope`](Self::evaluate_scope) gives exactly what
/// [`Expression::evaluate_scope`] gives for the same scope and bindings (results, errors,
/// limits, the slow path); the batch only sets up once what does not change between them:
/// the bindings converted to the engine's values and, on the jsonata-core backend, the
/// engine's evaluator with its host functions and its compiled object constructors.
/// Expressions that read the clock (`$now()`, `$millis()`) get a fresh evaluator per
/// evaluation, so each still sees its own instant.
///
/// A batch is not `Send`: use it within one synchronous loop.
///
/// ```
/// use patchbay_template::expression::{Bindings, Expression};
/// use serde_json::json;
///
/// let mapping = Expression::compile(r#"response.{ "id": $string(id), "name": name }"#)?;
/// let bindings = Bindings::new();
/// let mut batch = mapping.batch(&bindings);
/// let records = [json!({"id": 1, "name": "a"}), json!({"id": 2})];
/// let mapped: Vec<_> = records
///     .iter()
///     .map(|record| batch.evaluate_scope(&[("response", record)]))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(mapped, [Some(json!({"id": "1", "name": "a"})), Some(json!({"id": "2"}))]);
/// # Ok::<(), patchbay_template::expression::ExpressionError>(())
/// ```
pub struct Batch<'a> {
    timeout: Duration,
    inner: Box<dyn ProgramBatch + 'a>,
}

impl fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch").finish_non_exhaustive()
    }
}

impl Batch<'_> {
    /// Evaluates with `input` as the context value (`None`: JSONata `undefined`) and the
    /// batch's bindings, as [`Expression::evaluate_input`] does.
    ///
    /// # Errors
    /// As [`Expression::evaluate`].
    pub fn evaluate_input(
        &mut self,
        input: Option<&Value>,
    ) -> Result<Option<Value>, ExpressionError> {
        let inner = &mut self.inner;
        offload::run(self.timeout, |attempt| inner.evaluate(input, attempt))
    }

    /// Evaluates with the object `{key: value, ...}` of `scope` as input and the batch's
    /// bindings, as [`Expression::evaluate_scope`] does.
    ///
    /// # Errors
    /// As [`Expression::evaluate`].
    pub fn evaluate_scope(
        &mut self,
        scope: &[(&str, &Value)],
    ) -> Result<Option<Value>, ExpressionError> {
        let inner = &mut self.inner;
        offload::run(self.timeout, |attempt| inner.evaluate_scope(scope, attempt))
    }
}

/// A compiled JSONata expression.
///
/// Cheap to clone (two `Arc`s) and `Send + Sync`, so one compiled expression can serve every
/// request on every thread. `Debug` shows only the source text.
#[derive(Clone)]
pub struct Expression {
    source: Arc<str>,
    engine: &'static str,
    program: Arc<dyn Program>,
}

impl Expression {
    pub(crate) fn new(source: &str, engine: &'static str, program: Arc<dyn Program>) -> Self {
        Expression {
            source: Arc::from(source),
            engine,
            program,
        }
    }

    /// Compiles `source` with the [`default_engine`].
    ///
    /// # Errors
    /// As [`ExpressionEngine::compile`].
    ///
    /// ```
    /// use patchbay_template::expression::Expression;
    /// assert!(Expression::compile("body.items[status = 'active'].id").is_ok());
    /// let error = Expression::compile("body.(").unwrap_err();
    /// assert!(error.code().is_some_and(|code| code.starts_with('S')), "{error}");
    /// ```
    pub fn compile(source: &str) -> Result<Expression, ExpressionError> {
        default_engine().compile(source)
    }

    /// The source text this expression was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The name of the engine that compiled this expression.
    pub fn engine(&self) -> &'static str {
        self.engine
    }

    /// Whether the expression lies entirely within the subset that the jsonata-core
    /// backend evaluates natively on `serde_json` values (object constructors, field
    /// paths, conditionals, `$string`, `$join`, `$sift`, …; see `docs/jsonata.md`). Such an
    /// expression gives exactly the engine's results, several times faster; an evaluation
    /// the native evaluator cannot settle (an error, an input array) runs on the engine.
    ///
    /// ```
    /// use patchbay_template::expression::Expression;
    /// assert!(Expression::compile(r#"{ "id": $string(id), "name": name }"#)?.is_native());
    /// assert!(!Expression::compile("$sum(items.price)")?.is_native());
    /// # Ok::<(), patchbay_template::expression::ExpressionError>(())
    /// ```
    pub fn is_native(&self) -> bool {
        self.program.is_native()
    }

    /// Evaluates the expression with `input` as the context value (`$`) and `bindings` as
    /// variables (`$name`).
    ///
    /// Returns `Ok(None)` when the result is JSONata `undefined` (for example a path that
    /// matches nothing), which is distinct from `Ok(Some(Value::Null))`. Whole numbers come
    /// back as JSON integers. Function values in the result follow `JSON.stringify`: they are
    /// dropped from objects, become `null` in arrays, and `undefined` at the top level.
    ///
    /// # Where it runs
    /// On the calling thread, with a time budget of 2 ms. Almost every expression finishes
    /// within it, at no extra cost. One that does not is evaluated again from the start with
    /// the full [`Limits::timeout`], holding one of a fixed number of process-wide slots (one
    /// per CPU), and, when called on a worker thread of a multi-thread tokio runtime, inside
    /// `tokio::task::block_in_place`, so the worker's other tasks move to another thread
    /// meanwhile. Calling it from async code is therefore fine; on a current-thread runtime
    /// (or in a `LocalSet`) a slow expression still blocks that runtime for up to its timeout.
    ///
    /// # Errors
    /// [`ExpressionError::Evaluate`] for JSONata runtime errors; [`ExpressionError::Timeout`],
    /// [`ExpressionError::DepthExceeded`] and [`ExpressionError::SizeExceeded`] when a
    /// [`Limits`] bound is hit; [`ExpressionError::Busy`] when a slow evaluation found no free
    /// slot within its timeout; [`ExpressionError::Panicked`] if the engine panicked.
    ///
    /// ```
    /// use patchbay_template::expression::{Bindings, Expression};
    /// use serde_json::json;
    ///
    /// let next = Expression::compile("body.next_cursor")?;
    /// let none = Bindings::new();
    /// assert_eq!(next.evaluate(&json!({"body": {"next_cursor": "c2"}}), &none)?, Some(json!("c2")));
    /// assert_eq!(next.evaluate(&json!({"body": {"next_cursor": null}}), &none)?, Some(json!(null)));
    /// assert_eq!(next.evaluate(&json!({"body": {}}), &none)?, None);
    /// # Ok::<(), patchbay_template::expression::ExpressionError>(())
    /// ```
    pub fn evaluate(
        &self,
        input: &Value,
        bindings: &Bindings,
    ) -> Result<Option<Value>, ExpressionError> {
        offload::run(self.program.timeout(), |attempt| {
            self.program.evaluate(Some(input), bindings, attempt)
        })
    }

    /// Evaluates with the object `{key: value, ...}` of `scope` as input, as
    /// [`evaluate`](Self::evaluate) would with that object built, but without
    /// copying the values first (the default engine reads them in place). Use it
    /// for scopes that hold response bodies.
    ///
    /// ```
    /// use patchbay_template::expression::{Bindings, Expression};
    /// use serde_json::json;
    ///
    /// let e = Expression::compile("status >= 400 ? body.message")?;
    /// let body = json!({"message": "nope"});
    /// let scope = [("status", &json!(404)), ("body", &body)];
    /// assert_eq!(e.evaluate_scope(&scope, &Bindings::new())?, Some(json!("nope")));
    /// # Ok::<(), patchbay_template::expression::ExpressionError>(())
    /// ```
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate).
    pub fn evaluate_scope(
        &self,
        scope: &[(&str, &Value)],
        bindings: &Bindings,
    ) -> Result<Option<Value>, ExpressionError> {
        offload::run(self.program.timeout(), |attempt| {
            self.program.evaluate_scope(scope, bindings, attempt)
        })
    }

    /// A [`Batch`] of evaluations of this expression with `bindings`, for evaluating it on
    /// many inputs (the records of a page) at the cost of setting it up once.
    pub fn batch<'a>(&'a self, bindings: &'a Bindings) -> Batch<'a> {
        Batch {
            timeout: self.program.timeout(),
            inner: self.program.batch(bindings),
        }
    }

    /// Like [`evaluate`](Self::evaluate), but `input: None` evaluates against JSONata
    /// `undefined` (no input document at all), as when an expression only reads bindings.
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate).
    pub fn evaluate_input(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
    ) -> Result<Option<Value>, ExpressionError> {
        offload::run(self.program.timeout(), |attempt| {
            self.program.evaluate(input, bindings, attempt)
        })
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&&*self.source).finish()
    }
}

/// Named values visible to an expression as `$name`.
///
/// Names are given without the `$`. Inserting a name twice keeps the last value.
///
/// ```
/// use patchbay_template::expression::Bindings;
/// use serde_json::json;
///
/// let bindings = Bindings::new()
///     .with("response", json!({"status": 200}))
///     .with("context", json!({"tenant": "acme"}));
/// assert_eq!(bindings.get("context"), Some(&json!({"tenant": "acme"})));
/// assert_eq!(bindings.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    values: Vec<(String, Value)>,
}

impl Bindings {
    /// No bindings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `$name` and returns `self`, for chaining.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: Value) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds (or replaces) `$name`.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        match self
            .values
            .iter_mut()
            .find(|(existing, _)| *existing == name)
        {
            Some((_, slot)) => *slot = value,
            None => self.values.push((name, value)),
        }
    }

    /// The value bound to `$name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value)
    }

    /// The bindings in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// How many names are bound.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no name is bound.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<N: Into<String>> FromIterator<(N, Value)> for Bindings {
    fn from_iter<I: IntoIterator<Item = (N, Value)>>(iter: I) -> Self {
        let mut bindings = Bindings::new();
        for (name, value) in iter {
            bindings.insert(name, value);
        }
        bindings
    }
}

/// Resource bounds applied to every evaluation.
///
/// Exceeding them yields [`ExpressionError::DepthExceeded`], [`ExpressionError::Timeout`],
/// [`ExpressionError::SizeExceeded`] or [`ExpressionError::MemoryExceeded`]. Time is checked between evaluation steps; the size
/// limits keep the steps that allocate in one go (`$pad`, ranges, mapping) small, so a single
/// built-in call cannot run for seconds or build a gigabyte value. The size limits are
/// enforced by the jsonata-core backend only (see `docs/jsonata.md`).
///
#[cfg_attr(feature = "jsonata-core", doc = "```")]
#[cfg_attr(not(feature = "jsonata-core"), doc = "```ignore")]
/// use patchbay_template::expression::{Bindings, CoreEngine, ExpressionEngine, ExpressionError, Limits};
/// use serde_json::json;
///
/// let engine = CoreEngine::with_limits(Limits { max_sequence_length: 1000, ..Limits::default() });
/// let error = engine.compile("$count([1..5000])")?.evaluate(&json!(null), &Bindings::new()).unwrap_err();
/// assert!(matches!(error, ExpressionError::SizeExceeded { limit: 1000, .. }), "{error}");
/// # Ok::<(), ExpressionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest evaluation nesting allowed. Each backend counts its own evaluation frames.
    /// The default of 30,000 is jsonata-core's own ceiling and allows about 10,000 nested
    /// non-tail function calls there (jsonata-js, which recurses on the heap, has no limit);
    /// jsonata-core runs deep levels on heap-allocated stack segments, so the native stack is
    /// never at risk, and the time and memory limits still bound the work. jsonata-rs
    /// recurses on the native stack: it counts at most [`RS_MAX_DEPTH`] levels whatever this
    /// says.
    pub max_depth: usize,
    /// The wall-clock budget of one evaluation.
    pub timeout: Duration,
    /// The longest sequence (array) an evaluation may build: ranges (`[1..n]`), mapping,
    /// filtering, `$append`, `$keys`, `$spread`, `$each`, wildcards and descendants. Beyond
    /// it evaluation fails with `"D2015"`. jsonata-core only; literal arrays (`[1, 2]`) are not
    /// counted. `usize::MAX` turns it off.
    pub max_sequence_length: usize,
    /// The longest string, in bytes, `$pad` and `$replace` may build; checked before
    /// anything is allocated (`$pad`, `$replace` with a substring pattern) or while the
    /// result grows (`$replace` with a regex) (`"U1004"`). jsonata-core only.
    pub max_string_bytes: usize,
    /// How far the process's resident memory may grow while a slow evaluation (one that
    /// outgrew the 2 ms inline budget) runs, in bytes; beyond it the evaluation is cancelled
    /// with [`ExpressionError::MemoryExceeded`]. Sampled every 5 ms by a watchdog thread,
    /// from `/proc/self/status` (Linux only). `usize::MAX` turns it off. jsonata-core only.
    pub max_memory_growth: usize,
}

/// The deepest nesting the jsonata-rs backend evaluates, whatever [`Limits::max_depth`]
/// says: it recurses on the native stack, and each level gets a stack reserve of 16 KiB (a
/// 16 MiB segment at this depth), so deeper limits would mean ever larger segments. It allows
/// about 330 nested non-tail calls.
pub const RS_MAX_DEPTH: usize = 1_000;

impl Default for Limits {
    /// Depth 30,000, a 1 s timeout, sequences of at most 1,000,000 items, `$pad` results of
    /// at most 1 MiB and 512 MiB of memory growth for a slow evaluation.
    fn default() -> Self {
        Limits {
            max_depth: 30_000,
            timeout: Duration::from_secs(1),
            max_sequence_length: 1_000_000,
            max_string_bytes: 1 << 20,
            max_memory_growth: 512 << 20,
        }
    }
}

/// The engine [`Expression::compile`] uses: jsonata-core when the `jsonata-core` feature is on,
/// otherwise jsonata-rs; both with [`Limits::default`]. The engine is created once and shared.
///
/// ```
/// let engine = patchbay_template::expression::default_engine();
/// assert!(["jsonata-core", "jsonata-rs"].contains(&engine.name()));
/// ```
pub fn default_engine() -> Arc<dyn ExpressionEngine> {
    static ENGINE: OnceLock<Arc<dyn ExpressionEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            #[cfg(feature = "jsonata-core")]
            let engine: Arc<dyn ExpressionEngine> = Arc::new(CoreEngine::default());
            #[cfg(not(feature = "jsonata-core"))]
            let engine: Arc<dyn ExpressionEngine> = Arc::new(RsEngine::default());
            engine
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bindings_replace_on_reinsert_and_keep_order() {
        let mut bindings = Bindings::new().with("a", json!(1)).with("b", json!(2));
        bindings.insert("a", json!(3));
        let names: Vec<_> = bindings.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(bindings.get("a"), Some(&json!(3)));
        assert_eq!(bindings.get("c"), None);
        let collected: Bindings = [("x", json!(true))].into_iter().collect();
        assert_eq!(collected.len(), 1);
        assert!(!collected.is_empty());
    }

    #[test]
    fn expression_is_send_sync_and_debug_shows_source_only() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Expression>();
        let expression = Expression::compile("a.b").expect("valid expression");
        assert_eq!(format!("{expression:?}"), r#"Expression("a.b")"#);
        assert_eq!(expression.source(), "a.b");
    }
}
