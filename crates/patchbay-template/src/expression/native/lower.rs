//! The native subset: which jsonata-core syntax trees [`super::NativeProgram`] evaluates,
//! lowered into its own small tree ([`Node`]).
//!
//! Lowering refuses (returns `None`) anything outside the subset, so an expression is either
//! evaluated natively as a whole or not at all. The subset is what mappings are made of:
//! literals, field paths (with a position filter such as `[0]` or `[-1]`), `$`, `$$`,
//! variables, array and object constructors with literal keys, conditionals, `=`, `!=`,
//! `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, `and`, `or`, `&`, blocks, lambdas passed to `$sift`, `$filter` and `$map`, a few
//! built-ins ([`Builtin`]) and the host functions Patchbay registers for replaced built-ins
//! (`$string`, `$join`, `$split`, `$fromMillis`, … when the expression uses them).

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage, UnaryOp};
use serde_json::Value;

use crate::expression::overrides::{HostFunction, Override};
use crate::expression::value::number_to_json;

/// The deepest expression nesting lowered; deeper expressions stay with the engine.
const MAX_NESTING: usize = 64;

/// An expression of the native subset.
#[derive(Debug)]
pub(super) enum Node {
    /// A string, number, boolean or `null` literal.
    Literal(Value),
    /// A path of at least one step.
    Path(Vec<Step>),
    /// `$`: the context value.
    Context,
    /// `$$`: the evaluation's input.
    Root,
    /// `$name`: a lambda parameter or a binding.
    Variable(String),
    /// `[a, b]`: each item with whether it is itself an array constructor (kept whole).
    Array(Vec<(Node, bool)>),
    /// `{"key": value, ...}` with literal, distinct keys.
    Object(Vec<(String, Node)>),
    /// `condition ? then : else`.
    Conditional(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `a = b` (`true`) or `a != b` (`false`).
    Equal(bool, Box<Node>, Box<Node>),
    /// `a < b`, `a <= b`, `a > b` or `a >= b`.
    Compare(Comparison, Box<Node>, Box<Node>),
    /// `a + b`, `a - b`, `a * b`, `a / b` or `a % b`.
    Arithmetic(Arithmetic, Box<Node>, Box<Node>),
    /// `a and b` (`true`) or `a or b` (`false`).
    Logic(bool, Box<Node>, Box<Node>),
    /// `a & b`.
    Concat(Box<Node>, Box<Node>),
    /// `(a; b; c)`: every expression in order, the last one's value.
    Block(Vec<Node>),
    /// A call of a built-in evaluated natively.
    Builtin(Builtin, Vec<Arg>),
    /// A call of a host function Patchbay registers for the expression.
    Host(HostFunction, Vec<Node>),
}

/// The operator of a [`Node::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    /// Whether `lhs` and `rhs`, ordered as they are, satisfy the operator.
    pub(super) fn holds(self, order: std::cmp::Ordering) -> bool {
        match self {
            Comparison::Less => order.is_lt(),
            Comparison::LessOrEqual => order.is_le(),
            Comparison::Greater => order.is_gt(),
            Comparison::GreaterOrEqual => order.is_ge(),
        }
    }
}

/// The operator of a [`Node::Arithmetic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

impl Arithmetic {
    pub(super) fn apply(self, lhs: f64, rhs: f64) -> f64 {
        match self {
            Arithmetic::Add => lhs + rhs,
            Arithmetic::Subtract => lhs - rhs,
            Arithmetic::Multiply => lhs * rhs,
            Arithmetic::Divide => lhs / rhs,
            Arithmetic::Modulo => lhs % rhs,
        }
    }
}

/// One step of a [`Node::Path`].
#[derive(Debug)]
pub(super) struct Step {
    pub(super) node: Node,
    /// A position filter (`[0]`, `[-1]`).
    pub(super) position: Option<f64>,
    /// Whether the step is a field name (looked up in each item).
    pub(super) is_name: bool,
}

/// An argument of a [`Node::Builtin`] call.
#[derive(Debug)]
pub(super) enum Arg {
    Value(Node),
    /// `function($a, $b, ...) { body }`.
    Lambda(Vec<String>, Node),
}

/// The built-ins evaluated natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
    Sift,
    Filter,
    Map,
    Lookup,
    Number,
    Not,
    Boolean,
    Lowercase,
    Uppercase,
}

impl Builtin {
    fn named(name: &str) -> Option<(Builtin, usize)> {
        // The built-in and how many arguments a native call of it takes.
        Some(match name {
            "sift" => (Builtin::Sift, 2),
            "filter" => (Builtin::Filter, 2),
            "map" => (Builtin::Map, 2),
            "lookup" => (Builtin::Lookup, 2),
            "number" => (Builtin::Number, 1),
            "not" => (Builtin::Not, 1),
            "boolean" => (Builtin::Boolean, 1),
            "lowercase" => (Builtin::Lowercase, 1),
            "uppercase" => (Builtin::Uppercase, 1),
            _ => return None,
        })
    }

    /// Whether argument `index` of a call must be a lambda.
    fn takes_lambda(self, index: usize) -> bool {
        matches!(self, Builtin::Sift | Builtin::Filter | Builtin::Map) && index == 1
    }
}

/// What lowering needs to know about the compiled expression.
pub(super) struct Lowering<'a> {
    /// The host functions that replace built-ins for this expression.
    pub(super) overrides: &'a [&'static Override],
    /// The names of the extension functions registered for it (not evaluated natively).
    pub(super) extensions: &'a [&'static str],
}

impl Lowering<'_> {
    /// The native form of `ast`, or `None` when any part of it is outside the subset.
    pub(super) fn lower(&self, ast: &AstNode) -> Option<Node> {
        self.node(ast, 0)
    }

    fn node(&self, ast: &AstNode, depth: usize) -> Option<Node> {
        if depth > MAX_NESTING {
            return None;
        }
        let depth = depth + 1;
        let boxed = |node: &AstNode| self.node(node, depth).map(Box::new);
        Some(match ast {
            AstNode::String(text) => Node::Literal(Value::String(text.clone())),
            AstNode::Number(number) => Node::Literal(number_to_json(*number)?),
            AstNode::Boolean(flag) => Node::Literal(Value::Bool(*flag)),
            AstNode::Null => Node::Literal(Value::Null),
            AstNode::Unary {
                op: UnaryOp::Negate,
                operand,
            } => match **operand {
                AstNode::Number(number) => Node::Literal(number_to_json(-number)?),
                _ => return None,
            },
            AstNode::Variable(name) if name.is_empty() => Node::Context,
            AstNode::Variable(name) => Node::Variable(name.clone()),
            AstNode::ParentVariable(name) if name.is_empty() => Node::Root,
            AstNode::Name(_) => {
                Node::Path(vec![self.step(&PathStep::new(ast.clone()), true, depth)?])
            }
            AstNode::Path { steps } if !steps.is_empty() => {
                let single = steps.len() == 1;
                Node::Path(
                    steps
                        .iter()
                        .map(|step| self.step(step, single, depth))
                        .collect::<Option<_>>()?,
                )
            }
            AstNode::Array(items) => Node::Array(
                items
                    .iter()
                    .map(|item| Some((self.node(item, depth)?, is_array_constructor(item))))
                    .collect::<Option<_>>()?,
            ),
            AstNode::Object(pairs) => {
                let mut lowered: Vec<(String, Node)> = Vec::with_capacity(pairs.len());
                for (key, value) in pairs {
                    let AstNode::String(key) = key else {
                        return None;
                    };
                    if lowered.iter().any(|(seen, _)| seen == key) {
                        return None;
                    }
                    lowered.push((key.clone(), self.node(value, depth)?));
                }
                Node::Object(lowered)
            }
            AstNode::Conditional {
                condition,
                then_branch,
                else_branch,
            } => Node::Conditional(
                boxed(condition)?,
                boxed(then_branch)?,
                match else_branch {
                    Some(branch) => Some(boxed(branch)?),
                    None => None,
                },
            ),
            AstNode::Binary { op, lhs, rhs } => {
                let (lhs, rhs) = (boxed(lhs)?, boxed(rhs)?);
                match op {
                    BinaryOp::Equal => Node::Equal(true, lhs, rhs),
                    BinaryOp::NotEqual => Node::Equal(false, lhs, rhs),
                    BinaryOp::And => Node::Logic(true, lhs, rhs),
                    BinaryOp::Or => Node::Logic(false, lhs, rhs),
                    BinaryOp::Concatenate => Node::Concat(lhs, rhs),
                    BinaryOp::LessThan => Node::Compare(Comparison::Less, lhs, rhs),
                    BinaryOp::LessThanOrEqual => Node::Compare(Comparison::LessOrEqual, lhs, rhs),
                    BinaryOp::GreaterThan => Node::Compare(Comparison::Greater, lhs, rhs),
                    BinaryOp::GreaterThanOrEqual => {
                        Node::Compare(Comparison::GreaterOrEqual, lhs, rhs)
                    }
                    BinaryOp::Add => Node::Arithmetic(Arithmetic::Add, lhs, rhs),
                    BinaryOp::Subtract => Node::Arithmetic(Arithmetic::Subtract, lhs, rhs),
                    BinaryOp::Multiply => Node::Arithmetic(Arithmetic::Multiply, lhs, rhs),
                    BinaryOp::Divide => Node::Arithmetic(Arithmetic::Divide, lhs, rhs),
                    BinaryOp::Modulo => Node::Arithmetic(Arithmetic::Modulo, lhs, rhs),
                    _ => return None,
                }
            }
            AstNode::Block(items) if !items.is_empty() => Node::Block(
                items
                    .iter()
                    .map(|item| self.node(item, depth))
                    .collect::<Option<_>>()?,
            ),
            AstNode::Function {
                name,
                args,
                is_builtin: true,
            } => self.call(name, args, depth)?,
            _ => return None,
        })
    }

    /// A step of a path; `single` when it is the path's only step, which is then any
    /// expression (jsonata-js does not treat it as a path).
    fn step(&self, step: &PathStep, single: bool, depth: usize) -> Option<Step> {
        if step.focus.is_some()
            || step.index_var.is_some()
            || step.ancestor_label.is_some()
            || step.is_tuple
            || step.inner_tuple
        {
            return None;
        }
        let position = match step.stages.as_slice() {
            [] => None,
            [Stage::Filter(predicate)] => Some(numeric_literal(predicate)?),
            _ => return None,
        };
        let node = match &step.node {
            AstNode::Name(name) => Node::Literal(Value::String(name.clone())),
            node @ (AstNode::Variable(_)
            | AstNode::ParentVariable(_)
            | AstNode::Object(_)
            | AstNode::Function { .. }) => self.node(node, depth)?,
            node if single => self.node(node, depth)?,
            _ => return None,
        };
        Some(Step {
            node,
            position,
            is_name: matches!(step.node, AstNode::Name(_)),
        })
    }

    fn call(&self, name: &str, args: &[AstNode], depth: usize) -> Option<Node> {
        let lower_all = || {
            args.iter()
                .map(|arg| self.node(arg, depth))
                .collect::<Option<Vec<_>>>()
        };
        if let Some(host) = HostFunction::find(self.overrides, name) {
            return host
                .is_pure()
                .then(|| Some(Node::Host(host, lower_all()?)))
                .flatten();
        }
        if self.extensions.contains(&name) {
            return None;
        }
        let (builtin, arity) = Builtin::named(name)?;
        if args.len() != arity {
            return None;
        }
        let lowered = args
            .iter()
            .enumerate()
            .map(|(index, arg)| match arg {
                AstNode::Lambda {
                    params,
                    body,
                    signature: None,
                    ..
                } if builtin.takes_lambda(index) => {
                    Some(Arg::Lambda(params.clone(), self.node(body, depth)?))
                }
                _ if builtin.takes_lambda(index) => None,
                _ => Some(Arg::Value(self.node(arg, depth)?)),
            })
            .collect::<Option<_>>()?;
        Some(Node::Builtin(builtin, lowered))
    }
}

/// The position a filter selects when it is a number literal (`[2]`, `[-1]`).
fn numeric_literal(predicate: &AstNode) -> Option<f64> {
    match predicate {
        AstNode::Number(number) => Some(*number),
        AstNode::Unary {
            op: UnaryOp::Negate,
            operand,
        } => match **operand {
            AstNode::Number(number) => Some(-number),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an item of an array constructor is itself one (kept whole, not flattened).
fn is_array_constructor(node: &AstNode) -> bool {
    match node {
        AstNode::Array(_) => true,
        AstNode::Path { steps } => {
            matches!(steps.as_slice(), [step] if matches!(step.node, AstNode::Array(_)))
        }
        _ => false,
    }
}
