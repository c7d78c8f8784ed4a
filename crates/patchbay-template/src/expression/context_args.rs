//! Makes the context argument of the size-checked built-ins explicit.
//!
//! `"abc".$pad(5)` and `phone.$replace(/\D/, "")` take their text from the context (the
//! `-` of the built-ins' signatures). The size-checked replacements of `$pad` and
//! `$replace` are host functions, and a host function sees only its arguments, so a
//! compiled expression's calls in that form get the context written out as their first
//! argument: `$pad($, 5)`, `$replace($, /\D/, "")`. `$` is the context in argument
//! position, so the result is the built-in's.
//!
//! Which form a call is can only be told from its argument values, so every call that may
//! be in the context form gets `$` inserted (`$pad` with 1 or 2 arguments, `$replace` with
//! 2 or 3), and the host function tells the forms apart with [`explicit_arguments`]: the
//! inserted `$` is dropped again when the rest is a complete text-first call.

use jsonata_core::ast::{AstNode, BinaryOp, Stage};
use jsonata_core::value::JValue;

/// The argument counts of calls to `name` that may take their text from the context.
fn may_be_context_form(name: &str, arguments: usize) -> bool {
    match name {
        "pad" => (1..=2).contains(&arguments),
        "replace" => (2..=3).contains(&arguments),
        // `ts.$fromMillis()` → `$fromMillis($)`; the date replacements drop nothing.
        "fromMillis" | "toMillis" => arguments == 0,
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
        _ => false,
    };
    if inserted { &args[1..] } else { args }
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
    let mut stack: Vec<&mut AstNode> = vec![ast];
    while let Some(node) = stack.pop() {
        match node {
            AstNode::Function {
                name,
                args,
                is_builtin,
            } => {
                if *is_builtin && may_be_context_form(name, args.len()) {
                    args.insert(0, AstNode::Variable(String::new()));
                }
                stack.extend(args.iter_mut());
            }
            AstNode::Path { steps } => {
                for step in steps {
                    stack.push(&mut step.node);
                    for stage in &mut step.stages {
                        if let Stage::Filter(filter) = stage {
                            stack.push(filter);
                        }
                    }
                }
            }
            // `x ~> $f(a)` calls `$f(x, a)`: its first argument is `x`, not the context.
            AstNode::Binary {
                op: BinaryOp::ChainPipe,
                lhs,
                rhs,
            } => {
                stack.push(lhs);
                match rhs.as_mut() {
                    AstNode::Function { args, .. } => stack.extend(args.iter_mut()),
                    other => stack.push(other),
                }
            }
            AstNode::Binary { lhs, rhs, .. } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            AstNode::Unary { operand, .. } => stack.push(operand),
            AstNode::Call { procedure, args } => {
                stack.push(procedure);
                stack.extend(args.iter_mut());
            }
            AstNode::Lambda { body, .. } => stack.push(body),
            AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
                stack.extend(items.iter_mut());
            }
            AstNode::Object(pairs) => {
                for (key, value) in pairs {
                    stack.push(key);
                    stack.push(value);
                }
            }
            AstNode::ObjectTransform { input, pattern } => {
                stack.push(input);
                for (key, value) in pattern {
                    stack.push(key);
                    stack.push(value);
                }
            }
            AstNode::Conditional {
                condition,
                then_branch,
                else_branch,
            } => {
                stack.push(condition);
                stack.push(then_branch);
                if let Some(otherwise) = else_branch {
                    stack.push(otherwise);
                }
            }
            AstNode::Sort { input, terms } => {
                stack.push(input);
                for (term, _) in terms {
                    stack.push(term);
                }
            }
            AstNode::Transform {
                location,
                update,
                delete,
            } => {
                stack.push(location);
                stack.push(update);
                if let Some(delete) = delete {
                    stack.push(delete);
                }
            }
            AstNode::FunctionApplication(inner) => stack.push(inner),
            // Leaves. Listed one by one so that a new kind of node fails to compile
            // here instead of hiding calls from the rewrite.
            AstNode::String(_)
            | AstNode::Name(_)
            | AstNode::Number(_)
            | AstNode::Boolean(_)
            | AstNode::Null
            | AstNode::Undefined
            | AstNode::Placeholder
            | AstNode::Regex { .. }
            | AstNode::Variable(_)
            | AstNode::ParentVariable(_)
            | AstNode::Wildcard
            | AstNode::Descendant
            | AstNode::Parent(_) => {}
        }
    }
}
