//! The values of a native evaluation: JSON read in place, values built by the evaluation,
//! and JSONata's sequences, with the conversions at its edges.

use jsonata_core::value::{JArray, JValue};
use serde_json::{Map, Value};

use crate::expression::demand::to_jvalue;
use crate::expression::value::number_to_json;

/// A value during a native evaluation. `'a` is the lifetime of the input, the bindings and
/// the program.
#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    /// JSONata `undefined`.
    Undefined,
    /// A value of the input or the bindings, read in place.
    Ref(&'a Value),
    /// A value built by the evaluation (a literal, a host function's result).
    Own(Value),
    /// An array built by the evaluation: a sequence (`true`) or a constructed array.
    Array(Vec<Val<'a>>, bool),
    /// An object built by an object constructor (or `$sift`), without `undefined` values.
    Object(Vec<(&'a str, Val<'a>)>),
    /// The input object `{name: value, ...}` of a scope evaluation.
    Scope(&'a [(&'a str, &'a Value)]),
}

/// A view of one level of a [`Val`], for the operations that inspect it.
pub(super) enum Shape<'v, 'a> {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(&'v str),
    /// An array's items, as values of their own.
    Array(Items<'v, 'a>),
    /// An object (any representation) with its number of keys.
    Object(usize),
}

/// The items of an array, whichever its representation.
#[derive(Clone, Copy)]
pub(super) enum Items<'v, 'a> {
    Json(&'v [Value]),
    Built(&'v [Val<'a>]),
}

impl<'v, 'a> Items<'v, 'a> {
    pub(super) fn len(self) -> usize {
        match self {
            Items::Json(items) => items.len(),
            Items::Built(items) => items.len(),
        }
    }

    /// Item `index` as a value: in place when the array is read in place from `'a` data.
    pub(super) fn get(self, index: usize) -> Option<ItemRef<'v, 'a>> {
        match self {
            Items::Json(items) => items.get(index).map(ItemRef::Json),
            Items::Built(items) => items.get(index).map(ItemRef::Built),
        }
    }
}

/// One item of [`Items`].
#[derive(Clone, Copy)]
pub(super) enum ItemRef<'v, 'a> {
    Json(&'v Value),
    Built(&'v Val<'a>),
}

impl<'v, 'a> ItemRef<'v, 'a> {
    pub(super) fn shape(self) -> Shape<'v, 'a> {
        match self {
            ItemRef::Json(value) => json_shape(value),
            ItemRef::Built(value) => value.shape(),
        }
    }
}

fn json_shape<'v, 'a>(value: &'v Value) -> Shape<'v, 'a> {
    match value {
        Value::Null => Shape::Null,
        Value::Bool(flag) => Shape::Bool(*flag),
        Value::Number(number) => Shape::Number(number.as_f64().unwrap_or(0.0)),
        Value::String(text) => Shape::String(text),
        Value::Array(items) => Shape::Array(Items::Json(items)),
        Value::Object(map) => Shape::Object(map.len()),
    }
}

impl<'a> Val<'a> {
    pub(super) fn is_undefined(&self) -> bool {
        matches!(self, Val::Undefined)
    }

    /// What this value is, one level deep.
    pub(super) fn shape(&self) -> Shape<'_, 'a> {
        match self {
            Val::Undefined => Shape::Undefined,
            Val::Ref(value) => json_shape(value),
            Val::Own(value) => json_shape(value),
            Val::Array(items, _) => Shape::Array(Items::Built(items)),
            Val::Object(entries) => Shape::Object(entries.len()),
            Val::Scope(scope) => Shape::Object(scope.len()),
        }
    }

    /// Whether this is a sequence built by the evaluation.
    pub(super) fn is_sequence(&self) -> bool {
        matches!(self, Val::Array(_, true))
    }

    /// The value of an evaluated node: an empty sequence is `undefined` and a one-item
    /// sequence is its item (jsonata-js `evaluate`).
    pub(super) fn unwrap_sequence(self) -> Val<'a> {
        match self {
            Val::Array(mut items, true) if items.len() <= 1 => {
                items.pop().unwrap_or(Val::Undefined)
            }
            other => other,
        }
    }

    /// The item `index` of an array value as a value of its own.
    pub(super) fn item(&self, index: usize) -> Option<Val<'a>> {
        match self {
            Val::Ref(Value::Array(items)) => items.get(index).map(Val::Ref),
            Val::Own(Value::Array(items)) => items.get(index).cloned().map(Val::Own),
            Val::Array(items, _) => items.get(index).cloned(),
            _ => None,
        }
    }

    /// Every item of an array value (itself for any other value), moved out when owned.
    pub(super) fn into_items(self) -> Vec<Val<'a>> {
        match self {
            Val::Ref(Value::Array(items)) => items.iter().map(Val::Ref).collect(),
            Val::Own(Value::Array(items)) => items.into_iter().map(Val::Own).collect(),
            Val::Array(items, _) => items,
            other => vec![other],
        }
    }

    /// Whether this is an array of any kind.
    pub(super) fn is_array(&self) -> bool {
        matches!(self.shape(), Shape::Array(_))
    }

    /// Field `name` of an object value; `undefined` for anything else.
    pub(super) fn field(&self, name: &str) -> Val<'a> {
        match self {
            Val::Ref(Value::Object(map)) => {
                small_map_get(map, name).map_or(Val::Undefined, Val::Ref)
            }
            Val::Own(Value::Object(map)) => map
                .get(name)
                .map_or(Val::Undefined, |value| Val::Own(value.clone())),
            Val::Object(entries) => entries
                .iter()
                .find(|(key, _)| *key == name)
                .map_or(Val::Undefined, |(_, value)| value.clone()),
            Val::Scope(scope) => scope
                .iter()
                .find(|(key, _)| *key == name)
                .map_or(Val::Undefined, |(_, value)| Val::Ref(value)),
            _ => Val::Undefined,
        }
    }

    /// This value as JSON, as the engine's result conversion gives it: numbers as the
    /// engine's `f64`s (whole ones as integers), `undefined` in arrays as `null`. `None`
    /// for `undefined`.
    pub(super) fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Undefined => return None,
            Val::Ref(value) => normalized(value),
            Val::Own(value) => normalized(value),
            Val::Array(items, _) => Value::Array(
                items
                    .iter()
                    .map(|item| item.to_json().unwrap_or(Value::Null))
                    .collect(),
            ),
            Val::Object(entries) => {
                let mut object = Map::with_capacity(entries.len());
                for (key, value) in entries {
                    if let Some(value) = value.to_json() {
                        object.insert((*key).to_owned(), value);
                    }
                }
                Value::Object(object)
            }
            Val::Scope(scope) => Value::Object(
                scope
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), normalized(value)))
                    .collect(),
            ),
        })
    }

    /// This value as the engine's value, for a host function's arguments.
    pub(super) fn to_jvalue(&self) -> JValue {
        match self {
            Val::Undefined => JValue::Undefined,
            Val::Ref(value) => to_jvalue(value),
            Val::Own(value) => to_jvalue(value),
            Val::Array(items, sequence) => {
                let mut array = JArray::new(items.iter().map(Val::to_jvalue).collect());
                array.sequence = *sequence;
                JValue::Array(array)
            }
            Val::Object(entries) => JValue::object(
                entries
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), value.to_jvalue()))
                    .collect(),
            ),
            Val::Scope(scope) => JValue::object(
                scope
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), to_jvalue(value)))
                    .collect(),
            ),
        }
    }

    /// A host function's result, or `None` for values the native evaluation does not
    /// carry (functions, regexes, flagged arrays other than sequences).
    pub(super) fn from_jvalue(value: &JValue) -> Option<Val<'a>> {
        Some(match value {
            JValue::Undefined => Val::Undefined,
            JValue::Array(array) => {
                if array.cons || array.keep_singleton || array.outer_wrapper || array.sorted_tuples
                {
                    return None;
                }
                Val::Array(
                    array.iter().map(Val::from_jvalue).collect::<Option<_>>()?,
                    array.sequence,
                )
            }
            JValue::Null => Val::Own(Value::Null),
            JValue::Bool(flag) => Val::Own(Value::Bool(*flag)),
            JValue::Number(number) => Val::Own(number_to_json(*number)?),
            JValue::String(text) => Val::Own(Value::String(text.to_string())),
            JValue::Object(map) => {
                let mut object = Map::with_capacity(map.len());
                for (key, item) in map.iter() {
                    match Val::from_jvalue(item)? {
                        Val::Undefined => {}
                        item => {
                            object.insert(key.clone(), item.to_json()?);
                        }
                    }
                }
                Val::Own(Value::Object(object))
            }
            _ => return None,
        })
    }
}

/// Field `name` of `map`. Records are small objects, where comparing the keys costs less
/// than hashing the name (the map's hasher is SipHash).
fn small_map_get<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    const SCAN_UP_TO: usize = 16;
    if map.len() <= SCAN_UP_TO {
        map.iter()
            .find_map(|(key, value)| (key == name).then_some(value))
    } else {
        map.get(name)
    }
}

/// `value` with every number as the engine reads it (an `f64`) and writes it back.
fn normalized(value: &Value) -> Value {
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(whole) if whole.unsigned_abs() <= 1 << 53 => value.clone(),
            _ => number_to_json(number.as_f64().unwrap_or(0.0)).unwrap_or(Value::Null),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), normalized(item)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// JSONata truthiness (`$boolean`); `None` for `undefined`.
pub(super) fn boolean(shape: Shape<'_, '_>) -> Option<bool> {
    Some(match shape {
        Shape::Undefined => return None,
        Shape::Null => false,
        Shape::Bool(flag) => flag,
        Shape::Number(number) => number != 0.0,
        Shape::String(text) => !text.is_empty(),
        Shape::Object(keys) => keys > 0,
        Shape::Array(items) => match items.len() {
            0 => false,
            1 => items
                .get(0)
                .and_then(|item| boolean(item.shape()))
                .unwrap_or(false),
            len => (0..len).any(|index| {
                items
                    .get(index)
                    .and_then(|item| boolean(item.shape()))
                    .unwrap_or(false)
            }),
        },
    })
}

/// JSONata's deep equality (the engine's `values_equal`) of two defined values.
pub(super) fn equal(lhs: &Val<'_>, rhs: &Val<'_>) -> bool {
    match shallow_equal(lhs.shape(), rhs.shape()) {
        Some(equal) => equal,
        // Two objects somewhere: compared as JSON, whatever their representation.
        None => match (lhs.to_json(), rhs.to_json()) {
            (Some(lhs), Some(rhs)) => json_equal(&lhs, &rhs),
            _ => false,
        },
    }
}

/// Deep equality of JSON values, numbers by value (`1` = `1.0`), keys in any order.
fn json_equal(lhs: &Value, rhs: &Value) -> bool {
    match (lhs, rhs) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| json_equal(x, y)))
        }
        (a, b) => a == b,
    }
}

/// [`equal`] without comparing two objects: `None` when that is needed.
fn shallow_equal(lhs: Shape<'_, '_>, rhs: Shape<'_, '_>) -> Option<bool> {
    Some(match (lhs, rhs) {
        (Shape::Object(_), Shape::Object(_)) => return None,
        (Shape::Null, Shape::Null) => true,
        (Shape::Bool(a), Shape::Bool(b)) => a == b,
        #[allow(clippy::float_cmp)]
        (Shape::Number(a), Shape::Number(b)) => a == b,
        (Shape::String(a), Shape::String(b)) => a == b,
        (Shape::Array(a), Shape::Array(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            for index in 0..a.len() {
                let (Some(x), Some(y)) = (a.get(index), b.get(index)) else {
                    return None;
                };
                if !shallow_equal(x.shape(), y.shape())? {
                    return Some(false);
                }
            }
            true
        }
        _ => false,
    })
}
