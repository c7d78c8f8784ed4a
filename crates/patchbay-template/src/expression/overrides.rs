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
//!   `$split`, …). For those, [`Override::host_name`] is set: at compile time every call
//!   `$name(…)` of the expression is renamed to that name (see [`rename_calls`]), which no
//!   source text can spell, and the host function is registered under it. An expression
//!   that binds the name itself (`$join := …`, a lambda parameter `$join`) keeps its own
//!   function, and a built-in passed as a value (`$map(xs, $string)`) or called from
//!   `$eval`'d text is the engine's;
//! * a replacement is registered only for expressions whose source mentions its name (or
//!   `eval`), so every other expression keeps the engine's function-call fast path;
//! * a host function sees only its arguments, not the context, so a call that may take its
//!   first argument from the context gets `$` written in first: for `$pad`, in place (see
//!   [`context_args`](super::context_args)); for the built-ins with a [`ContextForm`], by
//!   renaming the call to the form's host name, so that the host function knows which
//!   arguments were written (see [`Call`]);
//! * a call a replacement does not perform itself (a custom matcher function, arguments
//!   the signature refuses) runs the built-in in an evaluation of its own
//!   ([`Call::delegate`]), so its results and errors are the engine's.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::ast_walk::for_each_node_mut;
use super::context_args::explicit_arguments;
use super::core::{Session, checked_pad};
use super::demand::bound_names;
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
}

/// A host function replacing the built-in `$name`.
#[derive(Clone, Copy)]
pub(crate) struct Override {
    /// The built-in's name, without `$`.
    pub(crate) name: &'static str,
    /// For a built-in the engine inlines: the name its calls are renamed to.
    pub(crate) host_name: Option<&'static str>,
    /// The replacement. It receives the arguments as written (plus the `$` that
    /// [`context_args`](super::context_args) inserts for context-form calls of `$pad`).
    pub(crate) call: fn(&[JValue], &OverrideLimits) -> Result<JValue, EvaluatorError>,
    /// For a built-in that may take its first argument from the context: how the calls
    /// that may do so reach the replacement.
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
            .evaluator(context, limits.timeout, None, Some(name))?
            .evaluate(&ast, self.context)
    }
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
        call: exists,
        context: None,
    },
    Override {
        name: "pad",
        host_name: None,
        call: |args, limits| checked_pad(explicit_arguments("pad", args), limits.max_string_bytes),
        context: None,
    },
    Override {
        name: "replace",
        host_name: None,
        call: |args, limits| checked_replace(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "replace#context",
            arities: (2, 3),
            // `$replace(text, pattern, replacement)` is complete.
            call: |call, limits| checked_replace(call, limits),
        }),
    },
    Override {
        name: "match",
        host_name: None,
        call: |args, limits| match_(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "match#context",
            arities: (1, 2),
            call: match_,
        }),
    },
    Override {
        name: "contains",
        host_name: Some("contains#truto"),
        call: |args, limits| contains(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "contains#context",
            arities: (1, 1),
            call: contains,
        }),
    },
    Override {
        name: "split",
        host_name: Some("split#truto"),
        call: |args, limits| split(&Call::written(args), limits),
        context: Some(ContextForm {
            host_name: "split#context",
            arities: (1, 2),
            call: split,
        }),
    },
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
/// of them when it can build code at run time (`$eval`).
pub(crate) fn used_by(source: &str) -> Vec<&'static Override> {
    let evaluates_text = source.contains("eval");
    OVERRIDES
        .iter()
        .filter(|entry| evaluates_text || source.contains(entry.name))
        .collect()
}

/// Renames the calls of the inlined built-ins among `overrides` to their host names, and
/// the calls that may take their first argument from the context to their
/// [`ContextForm::host_name`] with `$` inserted first, except for names the expression
/// binds itself. Call once per parsed expression.
pub(crate) fn rename_calls(ast: &mut AstNode, overrides: &[&'static Override]) {
    if !overrides
        .iter()
        .any(|entry| entry.host_name.is_some() || entry.context.is_some())
    {
        return;
    }
    let bound = bound_names(ast);
    for_each_node_mut(ast, |node| {
        let AstNode::Function {
            name,
            args,
            is_builtin: true,
        } = node
        else {
            return;
        };
        if bound.iter().any(|own| own == name) {
            return;
        }
        let Some(entry) = overrides.iter().find(|entry| entry.name == name) else {
            return;
        };
        match (entry.context, entry.host_name) {
            (Some(form), _) if (form.arities.0..=form.arities.1).contains(&args.len()) => {
                args.insert(0, AstNode::Variable(String::new()));
                *name = form.host_name.to_owned();
            }
            (_, Some(host)) => *name = host.to_owned(),
            _ => {}
        }
    });
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
            Some(host) => evaluator.register_fn(host, function)?,
            None => evaluator.register_fn_override(entry.name, function)?,
        }
        if let Some(form) = entry.context {
            let shared = limits.clone();
            let name = entry.name;
            evaluator.register_fn(form.host_name, move |args: &[JValue]| {
                let (context, written) = args.split_first().unwrap_or((&JValue::Undefined, &[]));
                (form.call)(&context_call(name, context, written), &shared)
            })?;
        }
    }
    Ok(())
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
            call: |_, _| Ok(JValue::Null),
            context: None,
        };
        rename_calls(&mut ast, &[&JOINED]);
        let mut names = Vec::new();
        for_each_node(&ast, |node| {
            if let AstNode::Function { name, .. } = node {
                names.push(name.clone());
            }
        });
        assert_eq!(names, ["join"]);

        let mut ast = jsonata_core::parser::parse("$join([1, 2], '-')").expect("parses");
        rename_calls(&mut ast, &[&JOINED]);
        let mut names = Vec::new();
        for_each_node(&ast, |node| {
            if let AstNode::Function { name, .. } = node {
                names.push(name.clone());
            }
        });
        assert_eq!(names, ["join#truto"]);
    }
}
