//! Makes the context argument of `$pad` explicit.
//!
//! `"abc".$pad(5)` takes its text from the context (the `-` of the built-in's signature).
//! The size-checked replacement of `$pad` is a host function, and a host function sees
//! only its arguments, so a compiled expression's calls in that form get the context
//! written out as their first argument: `$pad($, 5)`. `$` is the context in argument
//! position, so the result is the built-in's.
//!
//! Which form a call is can only be told from its argument values, so every call that may
//! be in the context form (`$pad` with 1 or 2 arguments) gets `$` inserted, and the host
//! function tells the forms apart with [`explicit_arguments`]: the inserted `$` is dropped
//! again when the rest is a complete text-first call. (The regex built-ins and `$replace`
//! are renamed instead, so that their host functions know the written arguments; see
//! [`ContextForm`](super::overrides::ContextForm).)

use jsonata_core::ast::AstNode;

use super::ast_walk::for_each_node_mut;
use jsonata_core::value::JValue;

/// The argument counts of calls to `name` that may take their text from the context.
fn may_be_context_form(name: &str, arguments: usize) -> bool {
    name == "pad" && (1..=2).contains(&arguments)
}

/// The arguments of a call to the size-checked `name` as the built-in would see them:
/// `args` without the `$` that [`insert_context_arguments`] put first, when the rest is a
/// text-first call (`$pad(text, width)`: a non-number second value), or when no form fits.
pub(crate) fn explicit_arguments<'a>(name: &str, args: &'a [JValue]) -> &'a [JValue] {
    let inserted = name == "pad"
        && args.len() >= 2
        && args.len() <= 3
        && !matches!(args[1], JValue::Number(_));
    if inserted { &args[1..] } else { args }
}

/// Inserts `$` as the first argument of every context-form call of `$pad` in `ast`.
/// Iterative, so deep trees cannot overflow the stack.
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
