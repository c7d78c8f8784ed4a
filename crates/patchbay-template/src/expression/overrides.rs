//! Replacements of JSONata built-ins on the jsonata-core backend.
//!
//! Patchbay replaces some built-ins with its own host functions: to bound what they build
//! (`$pad`, `$replace`), and to behave as Truto's `@truto/truto-jsonata` does where it
//! re-registers a built-in or where jsonata-js differs from the engine. Each replacement is
//! an [`Override`] in [`OVERRIDES`].
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
//!   first argument from the context (`name.$pad(5)`) gets `$` written in first (see
//!   [`context_args`](super::context_args)).

use std::sync::Arc;
use std::time::Duration;

use jsonata_core::ast::{AstNode, BinaryOp};
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::ast_walk::{for_each_node, for_each_node_mut};
use super::context_args::explicit_arguments;
use super::core::{Session, checked_pad};
use super::regex::functions::{self as regex_functions, Handled};
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
    /// [`context_args`](super::context_args) inserts for context-form calls).
    pub(crate) call: fn(&[JValue], &OverrideLimits) -> Result<JValue, EvaluatorError>,
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
    },
    Override {
        name: "pad",
        host_name: None,
        call: |args, limits| checked_pad(explicit_arguments("pad", args), limits.max_string_bytes),
    },
    Override {
        name: "replace",
        host_name: None,
        call: |args, limits| checked_replace(explicit_arguments("replace", args), limits),
    },
    Override {
        name: "match",
        host_name: None,
        call: |args, limits| {
            let args = explicit_arguments("match", args);
            let regexes = &limits.session.regexes;
            or_delegate("match", args, limits, |args| {
                regex_functions::match_(args, regexes, limits.timeout)
            })
        },
    },
    Override {
        name: "contains",
        host_name: Some("contains#truto"),
        call: |args, limits| {
            let regexes = &limits.session.regexes;
            or_delegate("contains", args, limits, |args| {
                regex_functions::contains(args, regexes)
            })
        },
    },
    Override {
        name: "split",
        host_name: Some("split#truto"),
        call: |args, limits| {
            let args = explicit_arguments("split", args);
            let regexes = &limits.session.regexes;
            or_delegate("split", args, limits, |args| {
                regex_functions::split(args, regexes, limits.timeout)
            })
        },
    },
];

/// `handle(args)`, or the built-in `name` when it hands the call back.
fn or_delegate(
    name: &str,
    args: &[JValue],
    limits: &OverrideLimits,
    handle: impl FnOnce(&[JValue]) -> Handled,
) -> Result<JValue, EvaluatorError> {
    match handle(args) {
        Handled::Done(result) => result,
        Handled::Delegate => delegate(name, args, limits),
    }
}

/// Runs the built-in `name` on `args` in an evaluation of its own (with the expression's
/// other host functions, for the functions among `args`, but not this override), so
/// calls a replacement does not perform itself behave exactly as the engine's.
pub(crate) fn delegate(
    name: &str,
    args: &[JValue],
    limits: &OverrideLimits,
) -> Result<JValue, EvaluatorError> {
    let mut context = Context::new();
    let mut names = Vec::with_capacity(args.len());
    for (i, value) in args.iter().enumerate() {
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
        .evaluate(&ast, &JValue::Undefined)
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

/// Renames the calls of the inlined built-ins among `overrides` to their host names, except
/// for names the expression binds itself. Call once per parsed expression.
pub(crate) fn rename_calls(ast: &mut AstNode, overrides: &[&'static Override]) {
    let renamed: Vec<(&str, &str)> = overrides
        .iter()
        .filter_map(|entry| Some((entry.name, entry.host_name?)))
        .collect();
    if renamed.is_empty() {
        return;
    }
    let bound = bound_names(ast);
    for_each_node_mut(ast, |node| {
        if let AstNode::Function {
            name,
            is_builtin: true,
            ..
        } = node
            && !bound.iter().any(|own| own == name)
            && let Some((_, host)) = renamed.iter().find(|(builtin, _)| builtin == name)
        {
            *name = (*host).to_owned();
        }
    });
}

/// The variable names an expression binds: `$x := …` targets and lambda parameters.
fn bound_names(ast: &AstNode) -> Vec<String> {
    let mut names = Vec::new();
    for_each_node(ast, |node| match node {
        AstNode::Binary {
            op: BinaryOp::ColonEqual,
            lhs,
            ..
        } => {
            if let AstNode::Variable(name) = lhs.as_ref() {
                names.push(name.clone());
            }
        }
        AstNode::Lambda { params, .. } => names.extend(params.iter().cloned()),
        _ => {}
    });
    names
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
        let limits = limits.clone();
        let function = move |args: &[JValue]| call(args, &limits);
        match entry.host_name {
            Some(host) => evaluator.register_fn(host, function)?,
            None => evaluator.register_fn_override(entry.name, function)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
