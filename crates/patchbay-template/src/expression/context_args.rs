//! Makes the context argument of the replaced built-ins explicit.
//!
//! `"abc".$pad(5)` and `name.$string()` take their first argument from the context (the
//! `-` of the built-ins' signatures). The replacements (see
//! [`overrides`](super::overrides)) are host functions, and a host function sees only its
//! arguments, so a compiled expression's calls in that form get the context written out as
//! their first argument: `$pad($, 5)`, `$string($)`. `$` is the context in argument
//! position, so the result is the built-in's.
//!
//! `$string`, `$keys` and the four URL functions take the context only when called
//! without arguments, so those calls get `$`. For `$pad` the form can only be told from
//! the argument values, so every call that may be in the context form gets `$` inserted
//! (1 or 2 arguments), and the host function tells the forms apart with
//! [`explicit_arguments`]: the inserted `$` is dropped again when the rest is a complete
//! text-first call. (`$replace`, `$match`, `$split` and `$contains` are renamed instead, so
//! that their host functions know which arguments were written; see
//! [`ContextForm`](super::overrides::ContextForm).) truto-jsonata's `$join`,
//! `$base64encode` and `$base64decode` have no signature and never take the context.

use jsonata_core::ast::{AstNode, BinaryOp};

use super::ast_walk::{for_each_node, for_each_node_mut};
use jsonata_core::value::JValue;

/// The argument counts of calls to `name` that may take their text from the context.
fn may_be_context_form(name: &str, arguments: usize) -> bool {
    match name {
        "pad" => (1..=2).contains(&arguments),
        "string" | "keys" | "encodeUrlComponent" | "encodeUrl" | "decodeUrlComponent"
        | "decodeUrl" => arguments == 0,
        // `ts.$fromMillis()` → `$fromMillis($)`; the date replacements drop nothing.
        "fromMillis" | "toMillis" => arguments == 0,
        _ => false,
    }
}

/// Whether a call is certainly in the context form by its written arguments: a
/// `$fromMillis` whose first argument is a string literal (a picture, never milliseconds),
/// as in `ts.$fromMillis('[Y0001]')`.
fn is_context_form_call(name: &str, args: &[AstNode]) -> bool {
    name == "fromMillis" && (1..=2).contains(&args.len()) && matches!(args[0], AstNode::String(_))
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

/// The addresses of the nodes on the right of `~>` in `ast`: `x ~> $f(a)` calls `$f(x, a)`,
/// so such a call's first argument is `x`, not the context. Each sits in its own `Box`,
/// which inserting arguments elsewhere does not move.
pub(crate) fn piped_calls(ast: &AstNode) -> Vec<*const AstNode> {
    let mut piped: Vec<*const AstNode> = Vec::new();
    for_each_node(ast, |node| {
        if let AstNode::Binary {
            op: BinaryOp::ChainPipe,
            rhs,
            ..
        } = node
        {
            piped.push(std::ptr::from_ref(rhs.as_ref()));
        }
    });
    piped
}

/// Inserts `$` as the first argument of every call in `ast` that may be a context-form call
/// of a built-in for which `replaced(name)` is true. Iterative, so deep trees cannot
/// overflow the stack.
pub(crate) fn insert_context_arguments(ast: &mut AstNode, replaced: impl Fn(&str) -> bool) {
    let piped = piped_calls(ast);
    for_each_node_mut(ast, |node| {
        let address = std::ptr::from_ref::<AstNode>(node);
        if let AstNode::Function {
            name,
            args,
            is_builtin: true,
        } = node
            && (may_be_context_form(name, args.len()) || is_context_form_call(name, args))
            && replaced(name)
            && !piped.contains(&address)
        {
            args.insert(0, AstNode::Variable(String::new()));
        }
    });
}

/// Inserts `$` as the first argument of every call of a `$dependencyGraph` method
/// (`$g.overallOrder()` → `$g.overallOrder($)`): the methods are host functions, which
/// receive the graph, the context of such a call, only as an argument. Calls written with
/// `$` (`$overallOrder(…)`) are left as they are.
pub(crate) fn insert_graph_receivers(ast: &mut AstNode) {
    for_each_node_mut(ast, |node| {
        if let AstNode::Function {
            name,
            args,
            is_builtin: false,
        } = node
            && super::extensions::GRAPH_METHODS
                .iter()
                .any(|method| method.name == name.as_str())
        {
            args.insert(0, AstNode::Variable(String::new()));
        }
    });
}
