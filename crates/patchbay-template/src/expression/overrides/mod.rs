//! Replacements of JSONata built-ins on the jsonata-core backend.
//!
//! Patchbay replaces some built-ins with its own host functions: to bound what they build
//! (`$pad`, `$replace`), to match regexes as JavaScript does (`$match`, `$contains`,
//! `$split`, `$replace`; see [`regex`](super::regex)), and to behave as Truto's
//! `@truto/truto-jsonata` does where it re-registers a built-in or where jsonata-js differs
//! from the engine. Each replacement is an [`Override`] in [`OVERRIDES`].
//!
//! How a replacement reaches the calls:
//! * the engine lets a host function replace a built-in (`register_fn_override`) except
//!   for the built-ins its compiled fast path inlines (`$join`, `$string`, `$contains`,
//!   `$split`, …). For those, and for every replacement that must tell a direct call from
//!   a function passed by reference, [`Override::host_name`] is set: at compile time every
//!   call `$name(…)` of the expression with at most [`Override::max_args`] arguments is
//!   renamed to that name (see [`rename_calls`]), which no source text can spell, and the
//!   host function is registered under it. A reference to the function as a value
//!   (`$map(xs, $string)`, `$f := $join`) is renamed to `<host name>@ref`, registered as
//!   the same function cut to [`Override::reference_arity`] arguments: jsonata-js hands a
//!   callback only as many arguments as its JavaScript function declares. An expression
//!   that binds the name itself (`$join := …`, a lambda parameter `$join`) keeps its own
//!   function, a call with too many arguments keeps the engine's built-in (which reports
//!   it), and a built-in called from `$eval`'d text is the engine's;
//! * a replacement is registered only for expressions whose source mentions its name (or
//!   `eval`), so every other expression keeps the engine's function-call fast path;
//! * a host function sees only its arguments, not the context, so a call that may take its
//!   first argument from the context gets `$` written in first: in place (`name.$pad(5)`,
//!   see [`context_args`](super::context_args)), or, for the built-ins with a
//!   [`ContextForm`], by renaming the call to the form's host name, so that the host
//!   function knows which arguments were written (see [`Call`]);
//! * a call a replacement does not perform itself (a custom matcher function, arguments
//!   the signature refuses) runs the built-in in an evaluation of its own
//!   ([`Call::delegate`]), so its results and errors are the engine's.

mod encoding;
mod js;
mod truto;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::ast_walk::for_each_node_mut;
use super::context_args::{explicit_arguments, insert_context_arguments, piped_calls};
use super::core::{Session, checked_pad};
use super::demand::bound_names;
use super::extensions::date_builtins;
use super::js_builtins::url::UrlFunction;
use super::regex::functions::{self as regex_functions, Bounds, Handled};
use super::replace::checked_replace;

/// What a replacement may need to know about the evaluation it runs in.
#[derive(Clone)]
pub(crate) struct OverrideLimits {
    /// [`Limits::max_string_bytes`](super::Limits::max_string_bytes).
    pub(crate) max_string_bytes: usize,
    /// [`Limits::timeout`](super::Limits::timeout).
    pub(crate) timeout: Duration,
    /// The compiled expression's session: its regexes, and evaluations of its own.
    pub(crate) session: Arc<Session>,
    /// This evaluation's instant (ms since the epoch): every `$now()`/`$millis()` of one
    /// evaluation returns it, as in jsonata-js.
    pub(crate) now_millis: f64,
}

impl OverrideLimits {
    /// What one regex call may spend.
    pub(crate) fn bounds(&self) -> Bounds {
        Bounds {
            timeout: self.timeout,
            max_items: self.session.limits().max_sequence_length,
        }
    }
}

/// A host function replacing the built-in `$name`.
#[derive(Clone, Copy)]
pub(crate) struct Override {
    /// The built-in's name, without `$`.
    pub(crate) name: &'static str,
    /// The name calls are renamed to (for a built-in the engine inlines, or one whose
    /// references must be told from its calls); `None` replaces the built-in in place.
    pub(crate) host_name: Option<&'static str>,
    /// With a `host_name`: calls with more arguments are not renamed.
    pub(crate) max_args: usize,
    /// With a `host_name`: how many arguments a reference to the function passes on (the
    /// `length` of Truto's JavaScript function).
    pub(crate) reference_arity: usize,
    /// Whether this is truto-jsonata's function rather than jsonata-js's built-in: it is
    /// used only with the extension functions on (`CoreEngine::with_extensions`), so
    /// plain JSONata keeps JSONata's `$join`, `$string`, ….
    pub(crate) truto: bool,
    /// The replacement. It receives the arguments as written (plus the `$` that
    /// [`context_args`](super::context_args) inserts for context-form calls).
    pub(crate) call: fn(&[JValue], &OverrideLimits) -> Result<JValue, EvaluatorError>,
    /// For a built-in that may take its first argument from the context: how the calls
    /// that may do so reach the replacement (instead of [`context_args`](super::context_args)).
    pub(crate) context: Option<ContextForm>,
}

/// Calls of a built-in that may take their first argument from the context (the `-` in
/// its signature), such as `phone.$replace(/\D/, '')`. A host function cannot see the
/// context, so at compile time every call with [`ContextForm::arities`] written
/// arguments gets `$` inserted first and is renamed to [`ContextForm::host_name`]; the
/// host function then receives the context and the written arguments and tells the two
/// forms apart as jsonata-js's signature check does (see [`Call`]).
#[derive(Clone, Copy)]
pub(crate) struct ContextForm {
    /// The name such calls are renamed to (no source text can spell it).
    pub(crate) host_name: &'static str,
    /// The written argument counts (inclusive) that may be the context form.
    pub(crate) arities: (usize, usize),
    /// The replacement, with the context and the written arguments.
    pub(crate) call: fn(&Call<'_>, &OverrideLimits) -> Result<JValue, EvaluatorError>,
}

/// One call of a replaced built-in.
pub(crate) struct Call<'a> {
    /// The arguments as the built-in sees them (with the context first when the call takes
    /// it from there).
    pub(crate) args: Cow<'a, [JValue]>,
    /// The arguments as written.
    written: &'a [JValue],
    /// The context the call was made in (`undefined` when it cannot take its first
    /// argument from there).
    context: &'a JValue,
}

impl<'a> Call<'a> {
    /// A call whose arguments are all written.
    pub(crate) fn written(args: &'a [JValue]) -> Self {
        Call {
            args: Cow::Borrowed(args),
            written: args,
            context: &JValue::Undefined,
        }
    }

    /// A call that may take its first argument from `context`: it does unless the written
    /// arguments are a complete call, which `complete` tells.
    pub(crate) fn in_context(
        context: &'a JValue,
        written: &'a [JValue],
        complete: impl FnOnce(&[JValue]) -> bool,
    ) -> Self {
        let args = if complete(written) {
            Cow::Borrowed(written)
        } else {
            let mut args = Vec::with_capacity(written.len() + 1);
            args.push(context.clone());
            args.extend_from_slice(written);
            Cow::Owned(args)
        };
        Call {
            args,
            written,
            context,
        }
    }

    /// Runs the built-in `name` on this call in an evaluation of its own (with the
    /// expression's other host functions, for the functions among the arguments, but not
    /// this override; the call's context is that evaluation's input), so calls a
    /// replacement does not perform itself behave exactly as the engine's.
    pub(crate) fn delegate(
        &self,
        name: &str,
        limits: &OverrideLimits,
    ) -> Result<JValue, EvaluatorError> {
        let mut context = Context::new();
        let mut names = Vec::with_capacity(self.written.len());
        for (i, value) in self.written.iter().enumerate() {
            let variable = format!("a{i}");
            context.bind(variable.clone(), value.clone());
            names.push(format!("${variable}"));
        }
        let source = format!("${name}({})", names.join(", "));
        let ast = parser::parse(&source)
            .map_err(|e| EvaluatorError::EvaluationError(format!("cannot run ${name}: {e}")))?;
        limits
            .session
            .evaluator(context, limits.timeout, None, Some(name), limits.now_millis)?
            .evaluate(&ast, self.context)
    }
}

impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

/// Every replacement, by built-in name.
pub(crate) const OVERRIDES: &[Override] = &[
    Override {
        name: "exists",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: exists,
        context: None,
    },
    Override {
        name: "pad",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: |args, limits| checked_pad(explicit_arguments("pad", args), limits.max_string_bytes),
        context: None,
    },
    Override {
        name: "replace",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: |args, limits| checked_replace(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "replace#context",
            arities: (2, 3),
            call: |call, limits| checked_replace(call, limits),
        }),
    },
    Override {
        name: "match",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: |args, limits| match_(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "match#context",
            arities: (1, 2),
            call: match_,
        }),
    },
    Override {
        name: "contains",
        host_name: Some("contains#jsonata"),
        max_args: 2,
        reference_arity: 2,
        truto: false,
        call: |args, limits| contains(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "contains#context",
            arities: (1, 1),
            call: contains,
        }),
    },
    Override {
        name: "split",
        host_name: Some("split#jsonata"),
        max_args: 3,
        reference_arity: 3,
        truto: false,
        call: |args, limits| split(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "split#context",
            arities: (1, 2),
            call: split,
        }),
    },
    Override {
        name: "join",
        host_name: Some("join#truto"),
        max_args: usize::MAX,
        reference_arity: 2,
        truto: true,
        call: |args, _| truto::join(args),
        context: None,
    },
    Override {
        name: "string",
        host_name: Some("string#truto"),
        max_args: 2,
        reference_arity: 1,
        truto: true,
        call: |args, _| truto::string(args),
        context: None,
    },
    Override {
        name: "keys",
        host_name: Some("keys#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| truto::keys(args),
        context: None,
    },
    Override {
        name: "base64encode",
        host_name: Some("base64encode#truto"),
        max_args: usize::MAX,
        reference_arity: 1,
        truto: true,
        call: |args, _| encoding::base64encode(args),
        context: None,
    },
    Override {
        name: "base64decode",
        host_name: Some("base64decode#truto"),
        max_args: usize::MAX,
        reference_arity: 1,
        truto: true,
        call: |args, _| encoding::base64decode(args),
        context: None,
    },
    Override {
        name: "encodeUrlComponent",
        host_name: Some("encodeUrlComponent#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::EncodeComponent, args),
        context: None,
    },
    Override {
        name: "encodeUrl",
        host_name: Some("encodeUrl#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::Encode, args),
        context: None,
    },
    Override {
        name: "decodeUrlComponent",
        host_name: Some("decodeUrlComponent#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::DecodeComponent, args),
        context: None,
    },
    Override {
        name: "decodeUrl",
        host_name: Some("decodeUrl#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::Decode, args),
        context: None,
    },
    // jsonata-js's date built-ins (extensions/date_builtins.rs).
    date_override("fromMillis", |args, limits| {
        date_builtins::from_millis(args, limits.timeout)
    }),
    date_override("toMillis", |args, limits| {
        date_builtins::to_millis(args, limits.timeout)
    }),
    date_override("now", |args, limits| {
        date_builtins::now(args, limits.now_millis, limits.timeout)
    }),
    date_override("millis", |args, limits| {
        date_builtins::millis(args, limits.now_millis)
    }),
    date_override("random", |args, _| date_builtins::random(args)),
];

/// Whether `value` can be a pattern (a string, a regex or a function).
fn is_pattern(value: &JValue) -> bool {
    matches!(
        value,
        JValue::String(_) | JValue::Regex { .. } | JValue::Lambda(_) | JValue::Builtin { .. }
    )
}

/// The context-form call of `$name` (`context`, `written`) when the written arguments
/// are not complete: `$match(text, matcher)` and `$split(text, separator)` end in a
/// pattern (two arguments), `$contains(text, pattern)` has two,
/// `$replace(text, pattern, replacement)` ends in a replacement (three).
pub(crate) fn context_call<'a>(name: &str, context: &'a JValue, written: &'a [JValue]) -> Call<'a> {
    Call::in_context(context, written, |written| match (name, written) {
        ("match" | "split", [_, last]) => {
            is_pattern(last) && !matches!(last, JValue::String(_) if name == "match")
        }
        ("replace", [_, _, last]) => matches!(
            last,
            JValue::String(_) | JValue::Lambda(_) | JValue::Builtin { .. }
        ),
        _ => false,
    })
}

fn match_(call: &Call<'_>, limits: &OverrideLimits) -> Result<JValue, EvaluatorError> {
    match regex_functions::match_(&call.args, &limits.session.regexes, limits.bounds()) {
        Handled::Done(result) => result,
        Handled::Delegate => call.delegate("match", limits),
    }
}

fn contains(call: &Call<'_>, limits: &OverrideLimits) -> Result<JValue, EvaluatorError> {
    match regex_functions::contains(&call.args, &limits.session.regexes) {
        Handled::Done(result) => result,
        Handled::Delegate => call.delegate("contains", limits),
    }
}

fn split(call: &Call<'_>, limits: &OverrideLimits) -> Result<JValue, EvaluatorError> {
    match regex_functions::split(&call.args, &limits.session.regexes, limits.bounds()) {
        Handled::Done(result) => result,
        Handled::Delegate => call.delegate("split", limits),
    }
}

/// A jsonata-js date built-in replaced in place (the engine does not inline these).
const fn date_override(
    name: &'static str,
    call: fn(&[JValue], &OverrideLimits) -> Result<JValue, EvaluatorError>,
) -> Override {
    Override {
        name,
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call,
        context: None,
    }
}

/// `$exists(value)`: whether `value` is not `undefined`.
///
/// The engine's built-in answers `false` for `$exists($)` whatever the context is
/// (`emails[$exists($)]` kept nothing); jsonata-js answers `true` for any defined value.
fn exists(args: &[JValue], _: &OverrideLimits) -> Result<JValue, EvaluatorError> {
    match args {
        [value] => Ok(JValue::Bool(!value.is_undefined())),
        _ => Err(EvaluatorError::TypeError(format!(
            "T0410: Argument {} of function \"exists\" does not match function signature",
            args.len().clamp(1, 2)
        ))),
    }
}

/// The replacements an expression can reach: those whose name its source mentions, or all
/// of them when it can build code at run time (`$eval`). truto-jsonata's replacements only
/// when `truto` (the extension functions are on).
pub(crate) fn used_by(source: &str, truto: bool) -> Vec<&'static Override> {
    let evaluates_text = source.contains("eval");
    OVERRIDES
        .iter()
        .filter(|entry| truto || !entry.truto)
        .filter(|entry| evaluates_text || source.contains(entry.name))
        .collect()
}

/// Prepares a parsed expression for `overrides`: writes the context out as the first
/// argument of context-form calls (see [`context_args`](super::context_args)), then renames
/// calls and references (see [`rename_calls`]). Names the expression binds itself are left
/// alone. Call once per parsed expression.
pub(crate) fn rewrite(ast: &mut AstNode, overrides: &[&'static Override]) {
    if overrides.is_empty() {
        return;
    }
    let bound = bound_names(ast);
    insert_context_arguments(ast, |name| {
        overrides
            .iter()
            .any(|entry| entry.name == name && entry.context.is_none())
            && !bound.iter().any(|own| own == name)
    });
    rename_calls(ast, overrides, &bound);
}

/// The other names under which a binding `name` (a variable the caller passes in
/// [`Bindings`](super::Bindings)) must be visible: the names the replaced built-in's calls
/// and references were renamed to, so that the caller's variable shadows the function as
/// it does in jsonata-js.
pub(crate) fn binding_aliases(
    overrides: &[&'static Override],
    name: &str,
) -> impl Iterator<Item = String> {
    overrides
        .iter()
        .filter(move |entry| entry.name == name)
        .flat_map(|entry| {
            let renamed = entry
                .host_name
                .into_iter()
                .flat_map(|host| [host.to_owned(), reference_name(host)]);
            renamed.chain(entry.context.map(|form| form.host_name.to_owned()))
        })
}

/// Renames the calls of the replacements among `overrides` that have a host name to that
/// name, and references to them to [`reference_name`], except for the names in `bound` and
/// calls with more than [`Override::max_args`] arguments. Calls that may take their first
/// argument from the context ([`ContextForm::arities`]) get `$` inserted first and are
/// renamed to [`ContextForm::host_name`].
fn rename_calls(ast: &mut AstNode, overrides: &[&'static Override], bound: &[String]) {
    if !overrides
        .iter()
        .any(|entry| entry.host_name.is_some() || entry.context.is_some())
    {
        return;
    }
    let find = |name: &str| {
        if bound.iter().any(|own| own == name) {
            return None;
        }
        overrides.iter().find(|entry| entry.name == name)
    };
    // `x ~> $f(a)` calls `$f(x, a)`: never in the context form.
    let piped = piped_calls(ast);
    for_each_node_mut(ast, |node| {
        let address = std::ptr::from_ref::<AstNode>(node);
        rename(node, address, &find, &piped);
    });
}

/// [`rename_calls`] for one node at `address`.
fn rename<'a>(
    node: &mut AstNode,
    address: *const AstNode,
    find: &impl Fn(&str) -> Option<&'a &'static Override>,
    piped: &[*const AstNode],
) {
    match node {
        AstNode::Function {
            name,
            args,
            is_builtin: true,
        } => {
            let Some(entry) = find(name) else {
                return;
            };
            let in_context = |form: &ContextForm| {
                (form.arities.0..=form.arities.1).contains(&args.len()) && !piped.contains(&address)
            };
            match (entry.context, entry.host_name) {
                (Some(form), _) if in_context(&form) => {
                    args.insert(0, AstNode::Variable(String::new()));
                    *name = form.host_name.to_owned();
                }
                (_, Some(host)) if args.len() <= entry.max_args => *name = host.to_owned(),
                _ => {}
            }
        }
        AstNode::Variable(name) => {
            if let Some(host) = find(name).and_then(|entry| entry.host_name) {
                *name = reference_name(host);
            }
        }
        _ => {}
    }
}

/// The name a reference to the replacement registered as `host` is renamed to.
fn reference_name(host: &str) -> String {
    format!("{host}@ref")
}

/// Registers `overrides` on `evaluator`, each under its host name or in place of the
/// built-in.
///
/// # Errors
/// The engine's refusal, which [`OVERRIDES`] is tested never to cause.
pub(crate) fn register(
    evaluator: &mut Evaluator,
    overrides: &[&'static Override],
    limits: &OverrideLimits,
) -> Result<(), EvaluatorError> {
    for &entry in overrides {
        let call = entry.call;
        let shared = limits.clone();
        let function = move |args: &[JValue]| call(args, &shared);
        match entry.host_name {
            Some(host) => {
                evaluator.register_fn(host, function)?;
                let arity = entry.reference_arity;
                let shared = limits.clone();
                evaluator.register_fn(reference_name(host), move |args: &[JValue]| {
                    call(&args[..args.len().min(arity)], &shared)
                })?;
            }
            None => evaluator.register_fn_override(entry.name, function)?,
        }
        if let Some(form) = entry.context {
            let shared = limits.clone();
            let name = entry.name;
            evaluator.register_fn(form.host_name, move |args: &[JValue]| {
                call_context_form(name, form, args, &shared)
            })?;
        }
    }
    Ok(())
}

/// A context-form call of `$name` as the engine makes it: the context first, then the
/// written arguments.
fn call_context_form(
    name: &str,
    form: ContextForm,
    args: &[JValue],
    limits: &OverrideLimits,
) -> Result<JValue, EvaluatorError> {
    let (context, written) = args.split_first().unwrap_or((&JValue::Undefined, &[]));
    (form.call)(&context_call(name, context, written), limits)
}

/// A host function [`register`] registers, found by the name the rewritten expression
/// calls it by, for a caller that runs it without an evaluator (the native evaluator).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostFunction {
    entry: &'static Override,
    /// Whether the name is the [`ContextForm`]'s.
    context_form: bool,
}

impl HostFunction {
    /// The host function of `overrides` registered under `name`, if any.
    pub(crate) fn find(overrides: &[&'static Override], name: &str) -> Option<Self> {
        overrides.iter().find_map(|&entry| {
            let plain = match entry.host_name {
                Some(host) => host == name,
                None => entry.name == name,
            };
            let context_form = entry.context.is_some_and(|form| form.host_name == name);
            (plain || context_form).then_some(HostFunction {
                entry,
                context_form,
            })
        })
    }

    /// Whether it is truto-jsonata's `$string` called with its arguments written out (the
    /// one replaced built-in the native evaluator settles itself for common values).
    pub(crate) fn is_truto_string(self) -> bool {
        self.entry.name == "string" && self.entry.truto && !self.context_form
    }

    /// Whether its result depends on more than its arguments (the clock, randomness).
    pub(crate) fn is_pure(self) -> bool {
        !matches!(self.entry.name, "now" | "millis" | "random")
    }

    /// Calls it with `args`, as the engine would.
    pub(crate) fn call(
        self,
        args: &[JValue],
        limits: &OverrideLimits,
    ) -> Result<JValue, EvaluatorError> {
        match (self.context_form, self.entry.context) {
            (true, Some(form)) => call_context_form(self.entry.name, form, args, limits),
            _ => (self.entry.call)(args, limits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::ast_walk::for_each_node;

    #[test]
    fn every_override_registers() {
        let mut evaluator = Evaluator::new();
        let all: Vec<&Override> = OVERRIDES.iter().collect();
        let limits = OverrideLimits {
            max_string_bytes: 1,
            timeout: Duration::from_secs(1),
            session: Session::empty(),
            now_millis: 0.0,
        };
        register(&mut evaluator, &all, &limits).expect("the engine accepts every override");
    }

    #[test]
    fn inlined_built_ins_cannot_be_overridden_in_place() {
        // The reason `host_name` exists; if an engine upgrade lifts the restriction, the
        // renaming can go.
        let mut evaluator = Evaluator::new();
        assert!(
            evaluator
                .register_fn_override("join", |_: &[JValue]| Ok(JValue::Null))
                .is_err()
        );
    }

    #[test]
    fn renaming_spares_names_the_expression_binds() {
        let mut ast = jsonata_core::parser::parse("($join := function($a){'own'}; $join([1]))")
            .expect("parses");
        static JOINED: Override = Override {
            name: "join",
            host_name: Some("join#truto"),
            max_args: usize::MAX,
            reference_arity: 2,
            truto: true,
            call: |_, _| Ok(JValue::Null),
            context: None,
        };
        rewrite(&mut ast, &[&JOINED]);
        let mut names = Vec::new();
        for_each_node(&ast, |node| {
            if let AstNode::Function { name, .. } = node {
                names.push(name.clone());
            }
        });
        assert_eq!(names, ["join"]);

        let mut ast = jsonata_core::parser::parse("$join([1, 2], '-')").expect("parses");
        rewrite(&mut ast, &[&JOINED]);
        let mut names = Vec::new();
        for_each_node(&ast, |node| {
            if let AstNode::Function { name, .. } = node {
                names.push(name.clone());
            }
        });
        assert_eq!(names, ["join#truto"]);
    }
}
