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
//!   first argument from the context (`name.$pad(5)`) gets `$` written in first (see
//!   [`context_args`](super::context_args)).

mod encoding;
mod js;
mod truto;

use std::time::Duration;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;

use super::ast_walk::for_each_node_mut;
use super::context_args::{explicit_arguments, insert_context_arguments};
use super::core::checked_pad;
use super::demand::bound_names;
use super::extensions::date_builtins;
use super::js_builtins::url::UrlFunction;
use super::replace::checked_replace;

/// What a replacement may need to know about the evaluation it runs in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverrideLimits {
    /// [`Limits::max_string_bytes`](super::Limits::max_string_bytes).
    pub(crate) max_string_bytes: usize,
    /// [`Limits::timeout`](super::Limits::timeout).
    pub(crate) timeout: Duration,
    /// This evaluation's instant (ms since the epoch): every `$now()`/`$millis()` of one
    /// evaluation returns it, as in jsonata-js.
    pub(crate) now_millis: f64,
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
    pub(crate) call: fn(&[JValue], OverrideLimits) -> Result<JValue, EvaluatorError>,
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
    },
    Override {
        name: "pad",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: |args, limits| checked_pad(explicit_arguments("pad", args), limits.max_string_bytes),
    },
    Override {
        name: "replace",
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call: |args, limits| {
            checked_replace(
                explicit_arguments("replace", args),
                limits.max_string_bytes,
                limits.timeout,
            )
        },
    },
    Override {
        name: "join",
        host_name: Some("join#truto"),
        max_args: usize::MAX,
        reference_arity: 2,
        truto: true,
        call: |args, _| truto::join(args),
    },
    Override {
        name: "string",
        host_name: Some("string#truto"),
        max_args: 2,
        reference_arity: 1,
        truto: true,
        call: |args, _| truto::string(args),
    },
    Override {
        name: "keys",
        host_name: Some("keys#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| truto::keys(args),
    },
    Override {
        name: "base64encode",
        host_name: Some("base64encode#truto"),
        max_args: usize::MAX,
        reference_arity: 1,
        truto: true,
        call: |args, _| encoding::base64encode(args),
    },
    Override {
        name: "base64decode",
        host_name: Some("base64decode#truto"),
        max_args: usize::MAX,
        reference_arity: 1,
        truto: true,
        call: |args, _| encoding::base64decode(args),
    },
    Override {
        name: "encodeUrlComponent",
        host_name: Some("encodeUrlComponent#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::EncodeComponent, args),
    },
    Override {
        name: "encodeUrl",
        host_name: Some("encodeUrl#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::Encode, args),
    },
    Override {
        name: "decodeUrlComponent",
        host_name: Some("decodeUrlComponent#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::DecodeComponent, args),
    },
    Override {
        name: "decodeUrl",
        host_name: Some("decodeUrl#jsonata"),
        max_args: 1,
        reference_arity: 1,
        truto: false,
        call: |args, _| encoding::url(UrlFunction::Decode, args),
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

/// A jsonata-js date built-in replaced in place (the engine does not inline these).
const fn date_override(
    name: &'static str,
    call: fn(&[JValue], OverrideLimits) -> Result<JValue, EvaluatorError>,
) -> Override {
    Override {
        name,
        host_name: None,
        max_args: usize::MAX,
        reference_arity: usize::MAX,
        truto: false,
        call,
    }
}

/// `$exists(value)`: whether `value` is not `undefined`.
///
/// The engine's built-in answers `false` for `$exists($)` whatever the context is
/// (`emails[$exists($)]` kept nothing); jsonata-js answers `true` for any defined value.
fn exists(args: &[JValue], _: OverrideLimits) -> Result<JValue, EvaluatorError> {
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
        overrides.iter().any(|entry| entry.name == name) && !bound.iter().any(|own| own == name)
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
        .filter_map(|entry| entry.host_name)
        .flat_map(|host| [host.to_owned(), reference_name(host)])
}

/// Renames the calls of the replacements among `overrides` that have a host name to that
/// name, and references to them to [`reference_name`], except for the names in `bound` and
/// calls with more than [`Override::max_args`] arguments.
fn rename_calls(ast: &mut AstNode, overrides: &[&'static Override], bound: &[String]) {
    let renamed: Vec<(&Override, &str)> = overrides
        .iter()
        .filter_map(|&entry| Some((entry, entry.host_name?)))
        .collect();
    if renamed.is_empty() {
        return;
    }
    let find = |name: &str| {
        if bound.iter().any(|own| own == name) {
            return None;
        }
        renamed.iter().find(|(entry, _)| entry.name == name)
    };
    for_each_node_mut(ast, |node| match node {
        AstNode::Function {
            name,
            args,
            is_builtin: true,
        } => {
            if let Some((entry, host)) = find(name)
                && args.len() <= entry.max_args
            {
                *name = (*host).to_owned();
            }
        }
        AstNode::Variable(name) => {
            if let Some((_, host)) = find(name) {
                *name = reference_name(host);
            }
        }
        _ => {}
    });
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
    limits: OverrideLimits,
) -> Result<(), EvaluatorError> {
    for &entry in overrides {
        let call = entry.call;
        let function = move |args: &[JValue]| call(args, limits);
        match entry.host_name {
            Some(host) => {
                evaluator.register_fn(host, function)?;
                let arity = entry.reference_arity;
                evaluator.register_fn(reference_name(host), move |args: &[JValue]| {
                    call(&args[..args.len().min(arity)], limits)
                })?;
            }
            None => evaluator.register_fn_override(entry.name, function)?,
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
            now_millis: 0.0,
        };
        register(&mut evaluator, &all, limits).expect("the engine accepts every override");
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
