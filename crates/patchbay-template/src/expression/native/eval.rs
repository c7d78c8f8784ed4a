//! Evaluation of a lowered [`Node`] on `serde_json` values, following jsonata-js (and so
//! jsonata-core): sequences, their unwrapping and flattening, `undefined` apart from `null`.
//!
//! Whatever the evaluation cannot settle exactly as the engine would (an error, a kind of
//! value it does not model, a runaway amount of work) makes it stop with [`Bail`]; the
//! engine then evaluates the expression instead, so results and errors stay the engine's.

use std::sync::Arc;

use jsonata_core::value::JValue;
use serde_json::Value;

use super::lower::{Arg, Arithmetic, Builtin, Comparison, Node, Step};
use super::val::{self, Shape, Val, boolean};
use crate::expression::Bindings;
use crate::expression::core::Session;
use crate::expression::extensions;
use crate::expression::overrides::{HostFunction, OverrideLimits};
use crate::expression::value::number_to_json;

/// The native evaluation gave up; the engine evaluates the expression.
#[derive(Debug)]
pub(super) struct Bail;

type Out<'a> = Result<Val<'a>, Bail>;

/// How many evaluation steps one native evaluation may take before it leaves the
/// expression to the engine (whose time limit then applies).
const MAX_WORK: usize = 10_000_000;

/// One native evaluation.
pub(super) struct Evaluator<'a> {
    /// `$$`.
    pub(super) root: Val<'a>,
    pub(super) bindings: &'a Bindings,
    pub(super) session: &'a Arc<Session>,
    /// The lambda parameters in scope, innermost last.
    locals: Vec<(&'a str, Val<'a>)>,
    /// What host functions are called with, made on the first call.
    host_limits: Option<OverrideLimits>,
    work: usize,
}

impl<'a> Evaluator<'a> {
    pub(super) fn new(root: Val<'a>, bindings: &'a Bindings, session: &'a Arc<Session>) -> Self {
        Evaluator {
            root,
            bindings,
            session,
            locals: Vec::new(),
            host_limits: None,
            work: 0,
        }
    }

    /// The value of `node` in context `ctx`, as jsonata-js `evaluate` gives it.
    pub(super) fn eval(&mut self, node: &'a Node, ctx: &Val<'a>) -> Out<'a> {
        self.eval_raw(node, ctx).map(Val::unwrap_sequence)
    }

    /// The value of `node` before a sequence is unwrapped.
    fn eval_raw(&mut self, node: &'a Node, ctx: &Val<'a>) -> Out<'a> {
        self.work += 1;
        if self.work > MAX_WORK {
            return Err(Bail);
        }
        Ok(match node {
            Node::Literal(value) => Val::Ref(value),
            Node::Context => ctx.clone(),
            Node::Root => self.root.clone(),
            Node::Variable(name) => self.variable(name)?,
            Node::Path(steps) => self.path(steps, ctx)?,
            Node::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (item, constructor) in items {
                    match self.eval(item, ctx)? {
                        Val::Undefined => {}
                        value if value.is_array() && !constructor => {
                            out.extend(value.into_items());
                        }
                        value => out.push(value),
                    }
                }
                Val::Array(out, false)
            }
            Node::Object(pairs) => {
                // An array context is grouped by key (jsonata-js `evaluateGroupExpression`).
                if ctx.is_array() {
                    return Err(Bail);
                }
                let mut entries = Vec::with_capacity(pairs.len());
                for (key, value) in pairs {
                    let value = self.eval(value, ctx)?;
                    if !value.is_undefined() {
                        entries.push((key.as_str(), value));
                    }
                }
                Val::Object(entries)
            }
            Node::Conditional(condition, then, otherwise) => {
                let condition = self.eval(condition, ctx)?;
                if boolean(condition.shape()) == Some(true) {
                    self.eval(then, ctx)?
                } else if let Some(otherwise) = otherwise {
                    self.eval(otherwise, ctx)?
                } else {
                    Val::Undefined
                }
            }
            Node::Equal(equal, lhs, rhs) => {
                let (lhs, rhs) = (self.eval(lhs, ctx)?, self.eval(rhs, ctx)?);
                let result = if lhs.is_undefined() || rhs.is_undefined() {
                    false
                } else {
                    val::equal(&lhs, &rhs) == *equal
                };
                Val::Own(Value::Bool(result))
            }
            Node::Compare(comparison, lhs, rhs) => {
                let (lhs, rhs) = (self.eval(lhs, ctx)?, self.eval(rhs, ctx)?);
                compare(*comparison, &lhs, &rhs)?
            }
            Node::Arithmetic(operator, lhs, rhs) => {
                let (lhs, rhs) = (self.eval(lhs, ctx)?, self.eval(rhs, ctx)?);
                arithmetic(*operator, &lhs, &rhs)?
            }
            Node::Logic(and, lhs, rhs) => {
                let truthy = |value: Val<'_>| boolean(value.shape()).unwrap_or(false);
                let left = truthy(self.eval(lhs, ctx)?);
                let result = if left == *and {
                    truthy(self.eval(rhs, ctx)?)
                } else {
                    left
                };
                Val::Own(Value::Bool(result))
            }
            Node::Concat(lhs, rhs) => {
                let mut text = String::new();
                for side in [lhs, rhs] {
                    let value = self.eval(side, ctx)?;
                    match value.shape() {
                        Shape::Undefined => {}
                        Shape::String(part) => text.push_str(part),
                        _ => return Err(Bail),
                    }
                }
                Val::Own(Value::String(text))
            }
            Node::Block(items) => {
                let mut last = Val::Undefined;
                for item in items {
                    last = self.eval(item, ctx)?;
                }
                last
            }
            Node::Builtin(builtin, args) => self.builtin(*builtin, args, ctx)?,
            Node::Host(host, args) => self.host(*host, args, ctx)?,
        })
    }

    fn variable(&self, name: &str) -> Out<'a> {
        if let Some((_, value)) = self.locals.iter().rev().find(|(local, _)| *local == name) {
            return Ok(value.clone());
        }
        // Anything else (a built-in named as a value, an unbound name) is the engine's.
        self.bindings.get(name).map(Val::Ref).ok_or(Bail)
    }

    /// A path (jsonata-js `evaluatePath` and `evaluateStep`).
    fn path(&mut self, steps: &'a [Step], ctx: &Val<'a>) -> Out<'a> {
        if let [step] = steps
            && !step.is_name
        {
            // Not a path for jsonata-js: the value, filtered.
            let value = self.eval_raw(&step.node, ctx)?;
            return Ok(select(value, step.position));
        }
        let takes_whole = matches!(
            steps[0].node,
            Node::Context | Node::Root | Node::Variable(_)
        );
        let mut items = if ctx.is_array() && !takes_whole {
            ctx.clone().into_items()
        } else {
            vec![ctx.clone()]
        };
        let mut result = Val::Undefined;
        for (index, step) in steps.iter().enumerate() {
            let last = index + 1 == steps.len();
            let mut results = Vec::with_capacity(items.len());
            for item in &items {
                let value = match (&step.node, step.is_name) {
                    (Node::Literal(Value::String(name)), true) => self.lookup(item, name)?,
                    (node, _) => self.eval(node, item)?,
                };
                let value = select(value, step.position);
                if !value.is_undefined() {
                    results.push(value);
                }
            }
            result = self.collect(results, last)?;
            if matches!(&result, Val::Array(found, true) if found.is_empty()) {
                return Ok(Val::Undefined);
            }
            if !last {
                items = std::mem::replace(&mut result, Val::Undefined).into_items();
            }
        }
        Ok(result)
    }

    /// Field `name` of `item`, mapped over arrays and flattened (jsonata-js `lookup`).
    fn lookup(&mut self, item: &Val<'a>, name: &str) -> Out<'a> {
        if !item.is_array() {
            return Ok(item.field(name));
        }
        let mut found = Vec::new();
        for member in item.clone().into_items() {
            self.work += 1;
            match self.lookup(&member, name)? {
                Val::Undefined => {}
                value if value.is_array() => found.extend(value.into_items()),
                value => found.push(value),
            }
        }
        self.sequence(found).map(Val::unwrap_sequence)
    }

    /// A step's results as one sequence: an array that is the last step's only result is
    /// kept as it is, other arrays are flattened into it.
    fn collect(&mut self, mut results: Vec<Val<'a>>, last: bool) -> Out<'a> {
        if last && results.len() == 1 && results[0].is_array() && !results[0].is_sequence() {
            return Ok(results.pop().unwrap_or(Val::Undefined));
        }
        let mut items = Vec::with_capacity(results.len());
        for value in results {
            if value.is_array() {
                items.extend(value.into_items());
            } else {
                items.push(value);
            }
        }
        self.sequence(items)
    }

    /// `items` as a sequence, within the engine's sequence limit.
    fn sequence(&mut self, items: Vec<Val<'a>>) -> Out<'a> {
        self.work += items.len();
        if items.len() > self.session.limits().max_sequence_length {
            return Err(Bail);
        }
        Ok(Val::Array(items, true))
    }

    fn builtin(&mut self, builtin: Builtin, args: &'a [Arg], ctx: &Val<'a>) -> Out<'a> {
        let (first, lambda) = match args {
            [Arg::Value(first)] => (first, None),
            [Arg::Value(first), Arg::Lambda(params, body)] => (first, Some((params, body))),
            [Arg::Value(first), Arg::Value(second)] if builtin == Builtin::Lookup => {
                let object = self.eval(first, ctx)?;
                let key = self.eval(second, ctx)?;
                let key = match key.shape() {
                    Shape::String(key) => key,
                    // jsonata-js's `hasOwnProperty(undefined)` looks up "undefined".
                    Shape::Undefined => "undefined",
                    _ => return Err(Bail),
                };
                return match object.shape() {
                    Shape::Undefined | Shape::Null => Ok(Val::Undefined),
                    Shape::Array(_) => Err(Bail),
                    _ => Ok(object.field(key)),
                };
            }
            _ => return Err(Bail),
        };
        let value = self.eval(first, ctx)?;
        if let Some((params, body)) = lambda {
            return self.higher_order(builtin, value, params, body, ctx);
        }
        let shape = value.shape();
        if let Shape::Undefined = shape {
            return Ok(Val::Undefined);
        }
        Ok(match (builtin, shape) {
            (Builtin::Not, shape) => Val::Own(Value::Bool(!boolean(shape).unwrap_or(false))),
            (Builtin::Boolean, shape) => Val::Own(Value::Bool(boolean(shape).unwrap_or(false))),
            (Builtin::Number, Shape::Number(_)) => value,
            (Builtin::Number, Shape::Bool(flag)) => Val::Own(Value::from(u8::from(flag))),
            (Builtin::Number, Shape::String(text)) => {
                Val::Own(number_to_json(decimal(text).ok_or(Bail)?).ok_or(Bail)?)
            }
            (Builtin::Lowercase, Shape::String(text)) if text.is_ascii() => {
                Val::Own(Value::String(text.to_ascii_lowercase()))
            }
            (Builtin::Uppercase, Shape::String(text)) if text.is_ascii() => {
                Val::Own(Value::String(text.to_ascii_uppercase()))
            }
            _ => return Err(Bail),
        })
    }

    /// `$sift`, `$filter` and `$map` with a lambda.
    fn higher_order(
        &mut self,
        builtin: Builtin,
        value: Val<'a>,
        params: &'a [String],
        body: &'a Node,
        ctx: &Val<'a>,
    ) -> Out<'a> {
        match value.shape() {
            Shape::Undefined => return Ok(Val::Undefined),
            Shape::Null if builtin == Builtin::Sift => return Ok(value),
            Shape::Null if builtin == Builtin::Filter => return Ok(Val::Undefined),
            // The engine's own rules for a single value.
            Shape::Array(_) | Shape::Object(_) => {}
            _ => return Err(Bail),
        }
        // The whole collection is an argument only for a three-parameter lambda.
        let whole = (params.len() >= 3).then(|| value.clone());
        if builtin == Builtin::Sift {
            let entries: Vec<(&'a str, Val<'a>)> = match value {
                Val::Ref(Value::Object(map)) => map
                    .iter()
                    .map(|(key, item)| (key.as_str(), Val::Ref(item)))
                    .collect(),
                Val::Object(entries) => entries,
                _ => return Err(Bail),
            };
            let mut kept = Vec::with_capacity(entries.len());
            for (key, item) in entries {
                let key_arg = || Val::Own(Value::String(key.to_owned()));
                let (result, item) = self.call_lambda(params, body, item, key_arg, &whole, ctx)?;
                if boolean(result.shape()) == Some(true) {
                    kept.push((key, item));
                }
            }
            return Ok(if kept.is_empty() {
                Val::Undefined
            } else {
                Val::Object(kept)
            });
        }
        if !value.is_array() {
            return Err(Bail);
        }
        let items = value.into_items();
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let index_arg = || Val::Own(Value::from(index));
            let (result, item) = self.call_lambda(params, body, item, index_arg, &whole, ctx)?;
            match builtin {
                Builtin::Filter if boolean(result.shape()) == Some(true) => out.push(item),
                Builtin::Map if !result.is_undefined() => out.push(result),
                _ => {}
            }
        }
        self.sequence(out)
    }

    /// Calls `function(params) { body }`, defined in context `ctx`, with `item`, then
    /// `second()` and `whole` as far as it declares parameters (jsonata-js `hofFuncArgs`).
    /// Gives the result and `item` back.
    fn call_lambda(
        &mut self,
        params: &'a [String],
        body: &'a Node,
        item: Val<'a>,
        second: impl FnOnce() -> Val<'a>,
        whole: &Option<Val<'a>>,
        ctx: &Val<'a>,
    ) -> Result<(Val<'a>, Val<'a>), Bail> {
        let depth = self.locals.len();
        let mut names = params.iter().map(String::as_str);
        // A lambda without parameters still receives the item, which nothing can read.
        self.locals.push((names.next().unwrap_or(""), item));
        if let Some(name) = names.next() {
            self.locals.push((name, second()));
        }
        if let Some(name) = names.next() {
            self.locals
                .push((name, whole.clone().unwrap_or(Val::Undefined)));
        }
        for name in names {
            self.locals.push((name, Val::Undefined));
        }
        let result = self.eval(body, ctx);
        self.locals.truncate(depth + 1);
        let item = self.locals.pop().map_or(Val::Undefined, |(_, item)| item);
        Ok((result?, item))
    }

    fn host(&mut self, host: HostFunction, args: &'a [Node], ctx: &Val<'a>) -> Out<'a> {
        if host.is_truto_string()
            && let [arg] = args
        {
            let value = self.eval(arg, ctx)?;
            if let Some(text) = string_of(&value) {
                return Ok(text);
            }
            return self.call_host(host, vec![value.to_jvalue()]);
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(arg, ctx)?.to_jvalue());
        }
        self.call_host(host, values)
    }

    /// Calls `host` with the engine's values `values`, as the engine would.
    fn call_host(&mut self, host: HostFunction, values: Vec<JValue>) -> Out<'a> {
        let session = self.session;
        let limits = self.host_limits.get_or_insert_with(|| OverrideLimits {
            max_string_bytes: session.limits().max_string_bytes,
            timeout: session.limits().timeout,
            session: Arc::clone(session),
            now_millis: extensions::now_millis(),
        });
        let result = host.call(&values, limits).map_err(|_| Bail)?;
        Val::from_jvalue(&result).ok_or(Bail)
    }
}

/// truto-jsonata's `$string(value)` where it needs no number formatting: `undefined`
/// stays `undefined`, a string is itself, a boolean its name, a whole number below 10^15
/// (which rounding to 15 significant digits leaves as it is) its digits. `None` for
/// anything else, which the host function formats.
fn string_of<'a>(value: &Val<'a>) -> Option<Val<'a>> {
    Some(match value.shape() {
        Shape::Undefined => Val::Undefined,
        Shape::String(_) => value.clone(),
        Shape::Bool(flag) => Val::Own(Value::String(flag.to_string())),
        Shape::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            #[allow(clippy::cast_possible_truncation)]
            let whole = number as i64;
            Val::Own(Value::String(whole.to_string()))
        }
        _ => return None,
    })
}

/// `lhs < rhs` and the other orderings (jsonata-js `evaluateComparisonExpression`): two
/// numbers or two strings compared, `undefined` when either side is; anything else is an
/// error the engine raises.
fn compare<'a>(comparison: Comparison, lhs: &Val<'a>, rhs: &Val<'a>) -> Out<'a> {
    let order = match (lhs.shape(), rhs.shape()) {
        (Shape::Number(a), Shape::Number(b)) => a.partial_cmp(&b).ok_or(Bail)?,
        // The engine orders Rust strings, by their bytes: code point order.
        (Shape::String(a), Shape::String(b)) => a.cmp(b),
        (Shape::Undefined, Shape::Undefined | Shape::Number(_) | Shape::String(_))
        | (Shape::Number(_) | Shape::String(_), Shape::Undefined) => return Ok(Val::Undefined),
        _ => return Err(Bail),
    };
    Ok(Val::Own(Value::Bool(comparison.holds(order))))
}

/// `lhs + rhs` and the other arithmetic operators (jsonata-js
/// `evaluateNumericExpression`): `undefined` when a side is, an error the engine raises
/// when a defined side is not a number; a result that is not a finite number is left to
/// the engine too.
fn arithmetic<'a>(operator: Arithmetic, lhs: &Val<'a>, rhs: &Val<'a>) -> Out<'a> {
    match (lhs.shape(), rhs.shape()) {
        (Shape::Number(a), Shape::Number(b)) => {
            let result = operator.apply(a, b);
            if !result.is_finite() {
                return Err(Bail);
            }
            Ok(Val::Own(number_to_json(result).ok_or(Bail)?))
        }
        (Shape::Undefined | Shape::Number(_), Shape::Undefined)
        | (Shape::Undefined, Shape::Number(_)) => Ok(Val::Undefined),
        _ => Err(Bail),
    }
}

/// A position filter (`[n]`) applied to `value` (jsonata-js `evaluateFilter` with a number
/// literal): the item at that position, counted from the end when negative; an array item
/// is the result itself.
fn select(value: Val<'_>, position: Option<f64>) -> Val<'_> {
    let Some(position) = position else {
        return value;
    };
    if value.is_undefined() {
        return value;
    }
    let len = match value.shape() {
        Shape::Array(items) => items.len(),
        _ => 1,
    };
    let mut index = position.floor();
    if index < 0.0 {
        index += len as f64;
    }
    let picked = if index < 0.0 {
        None
    } else if value.is_array() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        value.item(index as usize)
    } else {
        (index == 0.0).then_some(value)
    };
    match picked {
        Some(item) if item.is_array() => item,
        Some(item) => Val::Array(vec![item], true),
        None => Val::Array(Vec::new(), true),
    }
}

/// A string `$number` converts: decimal notation with an optional fraction and exponent
/// (jsonata-js's test); anything else (hexadecimal, errors) is the engine's.
fn decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let digits = |at: &mut usize| {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > start
    };
    if !digits(&mut at) {
        return None;
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if !digits(&mut at) {
            return None;
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if !digits(&mut at) {
            return None;
        }
    }
    if at != bytes.len() {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}
