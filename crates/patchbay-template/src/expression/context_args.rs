//! Makes the context argument of the replaced built-ins explicit.
//!
//! `"abc".$pad(5)` and `phone.$replace(/\D/, "")` take their text from the context (the
//! `-` of the built-ins' signatures). The replacements of `$pad`, `$replace`, `$match`,
//! `$split` and `$contains` (see [`overrides`](super::overrides)) are host functions, and a host function sees only its arguments, so a
//! compiled expression's calls in that form get the context written out as their first
//! argument: `$pad($, 5)`, `$replace($, /\D/, "")`. `$` is the context in argument
//! position, so the result is the built-in's.
//!
//! Which form a call is can only be told from its argument values, so every call that may
//! be in the context form gets `$` inserted (`$pad`, `$match` and `$split` with 1 or 2
//! arguments, `$replace` with 2 or 3, `$contains` with 1), and the host function tells the forms apart with [`explicit_arguments`]: the
//! inserted `$` is dropped again when the rest is a complete text-first call.

use jsonata_core::ast::AstNode;

use super::ast_walk::for_each_node_mut;
use jsonata_core::value::JValue;

/// The argument counts of calls to `name` that may take their text from the context.
fn may_be_context_form(name: &str, arguments: usize) -> bool {
    match name {
        "pad" => (1..=2).contains(&arguments),
        "replace" => (2..=3).contains(&arguments),
        "match" | "split" => (1..=2).contains(&arguments),
        "contains" => arguments == 1,
        _ => false,
    }
}

/// The arguments of a call to the size-checked `name` as the built-in would see them:
/// `args` without the `$` that [`insert_context_arguments`] put first, when the rest is a
/// text-first call (`$pad(text, width)`: a non-number second value; `$replace(text,
/// pattern, replacement)`: a replacement, not a limit, fourth), or when no form fits.
pub(crate) fn explicit_arguments<'a>(name: &str, args: &'a [JValue]) -> &'a [JValue] {
    let inserted = match name {
        "pad" => args.len() >= 2 && args.len() <= 3 && !matches!(args[1], JValue::Number(_)),
        // Four values ending in a replacement: `$` before a text-first call. Three
        // values not ending in one: a two-argument call that is no valid call in either
        // form; without the `$` the built-in reports it as such.
        "replace" => match args.len() {
            4 => is_replacement(&args[3]),
            3 => !is_replacement(&args[2]),
            _ => false,
        },
        // Three values ending in a matcher: `$` before `$match(text, matcher)`. Ending in
        // anything else (a limit): a context-form call, `$match(matcher, limit)`.
        "match" | "split" => args.len() == 3 && is_matcher(&args[2]),
        _ => false,
    };
    if inserted { &args[1..] } else { args }
}

/// Whether `value` can be a pattern (a string, a regex or a function).
fn is_matcher(value: &JValue) -> bool {
    is_replacement(value) || matches!(value, JValue::Regex { .. })
}

/// Whether `value` can be `$replace`'s replacement (a string or a function).
fn is_replacement(value: &JValue) -> bool {
    matches!(
        value,
        JValue::String(_) | JValue::Lambda(_) | JValue::Builtin { .. }
    )
}

/// Inserts `$` as the first argument of every context-form call of `$pad` and
/// `$replace` in `ast`. Iterative, so deep trees cannot overflow the stack.
pub(crate) fn insert_context_arguments(ast: &mut AstNode) {
    for_each_node_mut(ast, |node| {
        if let AstNode::Function {
            name,
            args,
            is_builtin: true,
        } = node
            && may_be_context_form(name, args.len())
        {
            args.insert(0, AstNode::Variable(String::new()));
        }
    });
}
