//! Iterative walks over a jsonata-core AST.
//!
//! Compile-time rewrites (context arguments, renamed built-ins) and analyses visit every
//! node of a parsed expression. The walks here keep their own stack, so an expression
//! nested thousands of levels deep cannot overflow the native stack.

use jsonata_core::ast::{AstNode, Stage};

/// Calls `visit` on every node of `ast`, parents before their children. `visit` may change
/// a node (rename a call, insert an argument); the children visited afterwards are the
/// changed node's.
pub(crate) fn for_each_node_mut(ast: &mut AstNode, mut visit: impl FnMut(&mut AstNode)) {
    let mut stack: Vec<&mut AstNode> = vec![ast];
    while let Some(node) = stack.pop() {
        visit(node);
        push_children_mut(node, &mut stack);
    }
}

/// Calls `visit` on every node of `ast`, parents before their children.
pub(crate) fn for_each_node(ast: &AstNode, mut visit: impl FnMut(&AstNode)) {
    let mut stack: Vec<&AstNode> = vec![ast];
    while let Some(node) = stack.pop() {
        visit(node);
        children(node, |child| stack.push(child));
    }
}

/// Calls `child` on each direct child of `node`.
pub(crate) fn children<'a>(node: &'a AstNode, mut child: impl FnMut(&'a AstNode)) {
    match node {
        AstNode::Function { args, .. } => args.iter().for_each(child),
        AstNode::Path { steps } => {
            for step in steps {
                child(&step.node);
                for stage in &step.stages {
                    if let Stage::Filter(filter) = stage {
                        child(filter);
                    }
                }
            }
        }
        AstNode::Binary { lhs, rhs, .. } => {
            child(lhs);
            child(rhs);
        }
        AstNode::Unary { operand, .. } => child(operand),
        AstNode::Call { procedure, args } => {
            child(procedure);
            args.iter().for_each(child);
        }
        AstNode::Lambda { body, .. } => child(body),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            items.iter().for_each(child);
        }
        AstNode::Object(pairs) => {
            for (key, value) in pairs {
                child(key);
                child(value);
            }
        }
        AstNode::ObjectTransform { input, pattern } => {
            child(input);
            for (key, value) in pattern {
                child(key);
                child(value);
            }
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            child(condition);
            child(then_branch);
            if let Some(otherwise) = else_branch {
                child(otherwise);
            }
        }
        AstNode::Sort { input, terms } => {
            child(input);
            for (term, _) in terms {
                child(term);
            }
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            child(location);
            child(update);
            if let Some(delete) = delete {
                child(delete);
            }
        }
        AstNode::FunctionApplication(inner) => child(inner),
        // Leaves. Listed one by one so that a new kind of node fails to compile here
        // instead of being skipped by every walk.
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

/// Pushes the direct children of `node` onto `stack` (the mutable twin of [`children`]).
fn push_children_mut<'a>(node: &'a mut AstNode, stack: &mut Vec<&'a mut AstNode>) {
    match node {
        AstNode::Function { args, .. } => stack.extend(args.iter_mut()),
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
