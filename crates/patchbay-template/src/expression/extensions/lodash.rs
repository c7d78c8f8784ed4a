//! lodash's iteratee-taking collection functions: `$orderBy`, `$find`, `$lofilter`, and the
//! deep flattening `$flattenDeep` / `$flattenDepth`.
//!
//! The package passes the collection through lodash's `castArray` first, so a single value
//! (an object too) acts as a one-member array. Iteratees and predicates are lodash
//! shorthands ([`Iteratee`]): a property path, a `{key: value}` object to match, a
//! `[path, value]` pair, or nothing (the member itself).
//!
//! **Functions.** Truto passes a JSONata function to lodash as a JavaScript function that
//! returns a `Promise`. lodash does not await it, so every call yields the same kind of
//! truthy, incomparable object: a function predicate keeps every member and a function sort
//! key leaves the order unchanged. Host functions cannot call JSONata functions anyway, so
//! [`Iteratee::Function`] reproduces exactly that outcome without calling anything.

use std::cmp::Ordering;

use serde_json::Value;

use super::collections::{cast_array, cast_path, get_path, property, to_array};
use super::js::{is_truthy, number_to_js_string};
use super::v8_sort;
use super::values::js_to_number;
use super::{Args, ExtensionError, Outcome};

/// The most members `$flattenDeep`/`$flattenDepth` build (the engine's sequence limit).
const MAX_ITEMS: usize = 1_000_000;
/// How deeply `{matches}` comparisons may descend into nested values.
const MAX_NESTING: usize = 1_000;
/// Value comparisons one `$find`/`$lofilter` call may make before it gives up (partial deep
/// matching of arrays compares every pair of members).
const MAX_COMPARISONS: usize = 10_000_000;

/// One lodash iteratee shorthand, as `baseIteratee` builds it.
#[derive(Debug)]
enum Iteratee {
    /// `null`/`undefined`: the member itself.
    Identity,
    /// A JSONata function: its result is an unawaited, always-truthy `Promise`.
    Function,
    /// A property path (`"a"`, `"a.b[0]"`, `3`, `["a", "b"]`). `Literal` paths are never
    /// split, even when the member has no key of that name.
    Property(Value),
    /// `{key: value, …}`: whether the member partially deep-equals the object.
    Matches(serde_json::Map<String, Value>),
    /// `[path, value]`: whether the value at `path` partially deep-equals `value`.
    MatchesProperty(Option<Value>, Option<Value>),
}

/// What an iteratee gives for one member.
#[derive(Debug, Clone)]
enum Applied {
    Undefined,
    Value(Value),
    /// The `Promise` a JSONata function returns in the package.
    Promise,
}

impl Applied {
    fn truthy(&self) -> bool {
        match self {
            Applied::Undefined => false,
            Applied::Value(value) => is_truthy(Some(value)),
            Applied::Promise => true,
        }
    }
}

impl Iteratee {
    /// lodash `baseIteratee` on argument `index`.
    fn from_arg(args: &Args<'_>, index: usize) -> Self {
        if args.is_function(index) {
            return Iteratee::Function;
        }
        Self::from_value(args.get(index))
    }

    fn from_value(value: Option<&Value>) -> Self {
        match value {
            None | Some(Value::Null) => Iteratee::Identity,
            Some(Value::Object(source)) => Iteratee::Matches(source.clone()),
            Some(Value::Array(pair)) => {
                Iteratee::MatchesProperty(pair.first().cloned(), pair.get(1).cloned())
            }
            Some(path) => Iteratee::Property(path.clone()),
        }
    }

    /// Applies the iteratee to one member.
    fn apply(&self, item: Option<&Value>, budget: &mut Budget) -> Result<Applied, ExtensionError> {
        Ok(match self {
            Iteratee::Identity => item.cloned().map_or(Applied::Undefined, Applied::Value),
            Iteratee::Function => Applied::Promise,
            Iteratee::Property(path) => {
                lookup(item, path).map_or(Applied::Undefined, Applied::Value)
            }
            Iteratee::Matches(source) => {
                Applied::Value(Value::Bool(matches(item, source, budget)?))
            }
            Iteratee::MatchesProperty(path, expected) => Applied::Value(Value::Bool(
                matches_property(item, path.as_ref(), expected.as_ref(), budget)?,
            )),
        })
    }
}

/// lodash `get(item, path)` where `path` is one key or path text (split unless `item` has
/// it as a literal key) or an array of keys.
fn lookup(item: Option<&Value>, path: &Value) -> Option<Value> {
    let item = item?;
    let segments = match path {
        // `toKey` of an object key would be "[object Object]", which JSON members never
        // have as a key when they come from parsed input; treat it as missing.
        Value::Object(_) => return None,
        other => cast_path(other, Some(item))?,
    };
    if segments.is_empty() {
        return None;
    }
    get_path(item, &segments)
}

/// Counts the value comparisons of one call so that hostile input cannot take quadratic
/// time without bound.
struct Budget {
    left: usize,
}

impl Budget {
    fn new() -> Self {
        Budget {
            left: MAX_COMPARISONS,
        }
    }

    fn spend(&mut self, function: &'static str) -> Result<(), ExtensionError> {
        match self.left.checked_sub(1) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(ExtensionError::failed(
                function,
                format!("the comparison needs more than {MAX_COMPARISONS} value comparisons"),
            )),
        }
    }
}

/// JavaScript `===` between two JSON primitives; containers are never identical here.
fn strictly_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::Object(_))
}

/// lodash `matches(source)(item)`: every key of `source` is present in `item` with a value
/// that partially deep-equals the source's.
fn matches(
    item: Option<&Value>,
    source: &serde_json::Map<String, Value>,
    budget: &mut Budget,
) -> Result<bool, ExtensionError> {
    let Some(item) = item.filter(|item| !item.is_null()) else {
        return Ok(source.is_empty());
    };
    for (key, expected) in source {
        budget.spend("matches")?;
        let Some(actual) = property(item, key) else {
            return Ok(false);
        };
        if !partial_equal(expected, &actual, budget, 0)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// lodash `matchesProperty(path, expected)(item)`.
fn matches_property(
    item: Option<&Value>,
    path: Option<&Value>,
    expected: Option<&Value>,
    budget: &mut Budget,
) -> Result<bool, ExtensionError> {
    // `undefined` never equals a JSON member, and a missing member is never "in" it.
    let Some(expected) = expected else {
        return Ok(false);
    };
    let path = path
        .cloned()
        .unwrap_or(Value::String("undefined".to_owned()));
    let Some(actual) = lookup(item, &path) else {
        return Ok(false);
    };
    partial_equal(expected, &actual, budget, 0)
}

/// lodash `baseIsEqual(expected, actual, PARTIAL | UNORDERED)`: primitives by `===`;
/// objects when every key of `expected` matches in `actual`; arrays when every member of
/// `expected` matches a different member of `actual`, in any order.
fn partial_equal(
    expected: &Value,
    actual: &Value,
    budget: &mut Budget,
    depth: usize,
) -> Result<bool, ExtensionError> {
    budget.spend("matches")?;
    if depth > MAX_NESTING {
        return Err(ExtensionError::failed(
            "matches",
            format!("values nested more than {MAX_NESTING} levels deep"),
        ));
    }
    if !is_container(expected) || !is_container(actual) {
        return Ok(strictly_equal(expected, actual));
    }
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let Some(other) = actual.get(key) else {
                    return Ok(false);
                };
                if !partial_equal(value, other, budget, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if actual.len() < expected.len() {
                return Ok(false);
            }
            let mut used = vec![false; actual.len()];
            for value in expected {
                let mut found = false;
                for (index, other) in actual.iter().enumerate() {
                    if used[index] {
                        budget.spend("matches")?;
                        continue;
                    }
                    if partial_equal(value, other, budget, depth + 1)? {
                        used[index] = true;
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `$find(collection, predicate)`: the first member for which the predicate (a lodash
/// shorthand, see [`Iteratee`]) is truthy, else `undefined`.
pub(crate) fn find(args: &Args<'_>) -> Outcome {
    let predicate = Iteratee::from_arg(args, 1);
    let mut budget = Budget::new();
    for item in cast_array(args.get(0)) {
        if predicate.apply(item.as_ref(), &mut budget)?.truthy() {
            return Ok(item);
        }
    }
    Ok(None)
}

/// `$lofilter(collection, predicate)`: the members for which the predicate is truthy.
pub(crate) fn lofilter(args: &Args<'_>) -> Outcome {
    let predicate = Iteratee::from_arg(args, 1);
    let mut budget = Budget::new();
    let mut kept = Vec::new();
    for item in cast_array(args.get(0)) {
        if predicate.apply(item.as_ref(), &mut budget)?.truthy() {
            kept.push(item);
        }
    }
    Ok(Some(to_array(kept)))
}

/// A sort key prepared for lodash's `compareAscending`: whether it is `undefined`/`null`,
/// and its JavaScript primitive (`ToPrimitive`, computed once).
#[derive(Debug, Clone)]
enum SortKey {
    Undefined,
    Null,
    /// A boolean, a number, or a container's text (`[1,2]` → `"1,2"`), for `<` and `>`.
    Primitive(Primitive),
}

#[derive(Debug, Clone)]
enum Primitive {
    Bool(bool),
    Number(f64),
    /// A text and its numeric value (`ToNumber`), computed once.
    Text(String, f64),
    /// A container: never `===` to another key, compared through its text.
    Container(String, f64),
}

impl Primitive {
    fn text(text: String) -> Self {
        let number = js_to_number(Some(&Value::String(text.clone())));
        Primitive::Text(text, number)
    }

    fn container(text: String) -> Self {
        let number = js_to_number(Some(&Value::String(text.clone())));
        Primitive::Container(text, number)
    }
}

impl SortKey {
    fn new(outcome: Applied) -> Self {
        match outcome {
            Applied::Undefined => SortKey::Undefined,
            Applied::Promise => {
                SortKey::Primitive(Primitive::container("[object Promise]".to_owned()))
            }
            Applied::Value(Value::Null) => SortKey::Null,
            Applied::Value(Value::Bool(flag)) => SortKey::Primitive(Primitive::Bool(flag)),
            Applied::Value(Value::Number(number)) => {
                SortKey::Primitive(Primitive::Number(number.as_f64().unwrap_or(f64::NAN)))
            }
            Applied::Value(Value::String(text)) => SortKey::Primitive(Primitive::text(text)),
            Applied::Value(container) => {
                SortKey::Primitive(Primitive::container(join_text(&container)))
            }
        }
    }

    /// The key as text, when `<` compares it as text.
    fn as_text(&self) -> Option<&str> {
        match self {
            SortKey::Primitive(Primitive::Text(text, _) | Primitive::Container(text, _)) => {
                Some(text)
            }
            _ => None,
        }
    }

    /// The key's numeric value in `<` (`null` is 0, `undefined` is `NaN`).
    fn as_number(&self) -> f64 {
        match self {
            SortKey::Undefined => f64::NAN,
            SortKey::Null => 0.0,
            SortKey::Primitive(Primitive::Bool(flag)) => f64::from(u8::from(*flag)),
            SortKey::Primitive(
                Primitive::Number(number)
                | Primitive::Text(_, number)
                | Primitive::Container(_, number),
            ) => *number,
        }
    }
}

/// `String(value)` of data parsed from JSON: arrays joined with `,` (`null` as empty text),
/// objects as `[object Object]`.
fn join_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => text.clone(),
        Value::Object(_) => "[object Object]".to_owned(),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Value::Null => String::new(),
                    other => join_text(other),
                })
                .collect();
            parts.join(",")
        }
    }
}

/// JavaScript's `a < b`: UTF-16 order between two texts, numeric otherwise (`NaN`
/// compares false).
fn js_less(a: &SortKey, b: &SortKey) -> bool {
    if let (Some(a), Some(b)) = (a.as_text(), b.as_text()) {
        return a.encode_utf16().cmp(b.encode_utf16()) == Ordering::Less;
    }
    a.as_number() < b.as_number()
}

/// lodash `compareAscending`: ascending by JavaScript `<`/`>`, `null` after every defined
/// value and `undefined` last; incomparable keys tie.
fn compare_ascending(value: &SortKey, other: &SortKey) -> i32 {
    let identical = match (value, other) {
        (SortKey::Undefined, SortKey::Undefined) | (SortKey::Null, SortKey::Null) => true,
        (SortKey::Primitive(Primitive::Bool(a)), SortKey::Primitive(Primitive::Bool(b))) => a == b,
        (SortKey::Primitive(Primitive::Number(a)), SortKey::Primitive(Primitive::Number(b))) => {
            a == b
        }
        (SortKey::Primitive(Primitive::Text(a, _)), SortKey::Primitive(Primitive::Text(b, _))) => {
            a == b
        }
        _ => false,
    };
    if identical {
        return 0;
    }
    let value_defined = !matches!(value, SortKey::Undefined);
    let value_null = matches!(value, SortKey::Null);
    let other_defined = !matches!(other, SortKey::Undefined);
    let other_null = matches!(other, SortKey::Null);
    if (!other_null && js_less(other, value)) || (value_null && other_defined) || !value_defined {
        return 1;
    }
    if (!value_null && js_less(value, other)) || (other_null && value_defined) || !other_defined {
        return -1;
    }
    0
}

/// One member being sorted: its keys and its position.
struct Entry {
    keys: Vec<SortKey>,
    index: usize,
}

/// lodash `compareMultiple`: the first non-tied key decides (reversed where its order is
/// `desc`), then the original position.
fn compare_entries(left: &Entry, right: &Entry, descending: &[bool]) -> i64 {
    for (index, (a, b)) in left.keys.iter().zip(&right.keys).enumerate() {
        let result = compare_ascending(a, b);
        if result != 0 {
            let flip = descending.get(index).copied().unwrap_or(false);
            return i64::from(if flip { -result } else { result });
        }
    }
    i64::try_from(left.index).unwrap_or(i64::MAX) - i64::try_from(right.index).unwrap_or(i64::MAX)
}

/// Whether one `orders` member means descending: JavaScript's `order == "desc"`.
fn is_desc(order: &Value) -> bool {
    match order {
        Value::String(text) => text == "desc",
        Value::Array(_) => join_text(order) == "desc",
        _ => false,
    }
}

/// `$orderBy(collection, iteratees, orders)`: lodash `orderBy`, a stable sort of the
/// members by each iteratee in turn (see [`Iteratee`]; an array member of `iteratees` is a
/// property path). `orders` holds `"desc"` (exactly) or anything else for ascending, one
/// per iteratee; a single value counts as a one-member array.
pub(crate) fn order_by(args: &Args<'_>) -> Outcome {
    let iteratees: Vec<Iteratee> = if args.is_function(1) {
        vec![Iteratee::Function]
    } else {
        match args.get(1) {
            None | Some(Value::Null) => vec![Iteratee::Identity],
            Some(Value::Array(list)) if list.is_empty() => vec![Iteratee::Identity],
            Some(Value::Array(list)) => list.iter().map(sort_iteratee).collect(),
            Some(single) => vec![sort_iteratee(single)],
        }
    };
    let descending: Vec<bool> = if args.is_function(2) {
        vec![false]
    } else {
        match args.get(2) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.iter().map(is_desc).collect(),
            Some(single) => vec![is_desc(single)],
        }
    };
    let items = cast_array(args.get(0));
    let order = ordered(&items, &iteratees, &descending)?;
    let mut items: Vec<Option<Option<Value>>> = items.into_iter().map(Some).collect();
    Ok(Some(to_array(
        order
            .into_iter()
            .filter_map(|position| items.get_mut(position).and_then(Option::take))
            .collect(),
    )))
}

/// The positions of `items` in lodash `baseOrderBy` order for these iteratees.
fn ordered(
    items: &[Option<Value>],
    iteratees: &[Iteratee],
    descending: &[bool],
) -> Result<Vec<usize>, ExtensionError> {
    let mut budget = Budget::new();
    let mut entries = Vec::with_capacity(items.len());
    for (index, value) in items.iter().enumerate() {
        let keys = iteratees
            .iter()
            .map(|iteratee| Ok(SortKey::new(iteratee.apply(value.as_ref(), &mut budget)?)))
            .collect::<Result<Vec<_>, ExtensionError>>()?;
        entries.push(Entry { keys, index });
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    v8_sort::sort(&mut order, &|a: &usize, b: &usize| {
        compare_entries(&entries[*a], &entries[*b], descending)
    });
    Ok(order)
}

/// The sort keys of lodash `sortBy(collection, keys)`.
#[derive(Debug)]
pub(super) enum SortBy {
    /// A JSONata function (which sorts nothing, see the module notes).
    Function,
    /// One iteratee, or an array of them (flattened one level, as `sortBy` does).
    Keys(Value),
}

/// The positions of `items` in lodash `sortBy(items, by)` order (ascending, stable).
///
/// # Errors
/// When matching a `{key: value}` iteratee takes too many comparisons.
pub(super) fn sort_by(
    _args: &Args<'_>,
    items: &[Option<Value>],
    by: &SortBy,
) -> Result<Vec<usize>, ExtensionError> {
    let iteratees: Vec<Iteratee> = match by {
        SortBy::Function => vec![Iteratee::Function],
        SortBy::Keys(Value::Array(list)) if list.is_empty() => vec![Iteratee::Identity],
        SortBy::Keys(Value::Array(list)) => list.iter().map(sort_iteratee).collect(),
        SortBy::Keys(single) => vec![sort_iteratee(single)],
    };
    ordered(items, &iteratees, &[])
}

/// An `orderBy` iteratee: arrays are property paths (a one-member array is its member's
/// path), anything else goes through `baseIteratee`.
fn sort_iteratee(value: &Value) -> Iteratee {
    match value {
        Value::Array(path) if path.len() == 1 => Iteratee::Property(path[0].clone()),
        Value::Array(path) => Iteratee::Property(Value::Array(path.clone())),
        other => Iteratee::from_value(Some(other)),
    }
}

/// `$flattenDeep(array)`: every nested array flattened into one.
pub(crate) fn flatten_deep(args: &Args<'_>) -> Outcome {
    flatten_to(args, usize::MAX)
}

/// `$flattenDepth(array, depth = 1)`: nested arrays flattened `depth` levels (`depth` is
/// converted with lodash `toInteger`; below 1 the array is returned as it is).
pub(crate) fn flatten_depth(args: &Args<'_>) -> Outcome {
    let depth = match args.get(1) {
        None if !args.is_function(1) => 1.0,
        None => f64::NAN,
        Some(value) => js_to_number(Some(value)),
    };
    let depth = if depth.is_nan() { 0.0 } else { depth.trunc() };
    // Saturating: any depth beyond the nesting of the input flattens everything.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let depth = if depth < 1.0 { 0 } else { depth as usize };
    flatten_to(args, depth)
}

/// lodash `baseFlatten(castArray(args[0]), depth)`, iteratively and with the size limits.
fn flatten_to(args: &Args<'_>, depth: usize) -> Outcome {
    let items = cast_array(args.get(0));
    let mut flat: Vec<Option<Value>> = Vec::new();
    // Each frame: the remaining members of one array and the depth left below it.
    let mut stack: Vec<(std::vec::IntoIter<Option<Value>>, usize)> =
        vec![(items.into_iter(), depth)];
    while let Some((members, left)) = stack.last_mut() {
        let left = *left;
        let Some(item) = members.next() else {
            stack.pop();
            continue;
        };
        match item {
            Some(Value::Array(inner)) if left > 0 => {
                stack.push((
                    inner.into_iter().map(Some).collect::<Vec<_>>().into_iter(),
                    left - 1,
                ));
            }
            other => {
                if flat.len() >= MAX_ITEMS {
                    return Err(args.failed(format!(
                        "the result would have more than {MAX_ITEMS} members"
                    )));
                }
                flat.push(other);
            }
        }
    }
    Ok(Some(to_array(flat)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compare_ascending_puts_null_then_undefined_last() {
        let key =
            |value: Option<Value>| SortKey::new(value.map_or(Applied::Undefined, Applied::Value));
        assert_eq!(
            compare_ascending(&key(Some(json!(1))), &key(Some(json!(null)))),
            -1
        );
        assert_eq!(compare_ascending(&key(Some(json!(null))), &key(None)), -1);
        assert_eq!(
            compare_ascending(&key(Some(json!("a"))), &key(Some(json!(1)))),
            0
        );
        assert_eq!(
            compare_ascending(&key(Some(json!("10"))), &key(Some(json!(9)))),
            1
        );
        assert_eq!(
            compare_ascending(&key(Some(json!("10"))), &key(Some(json!("9")))),
            -1
        );
    }

    #[test]
    fn partial_equality_is_unordered_for_arrays() {
        let mut budget = Budget::new();
        assert!(partial_equal(&json!([2, 1]), &json!([1, 2, 3]), &mut budget, 0).expect("ok"));
        assert!(!partial_equal(&json!([1, 1]), &json!([1, 2]), &mut budget, 0).expect("ok"));
        assert!(
            partial_equal(
                &json!({"a": [{"b": 1}]}),
                &json!({"a": [{"b": 1, "c": 2}], "d": 0}),
                &mut budget,
                0
            )
            .expect("ok")
        );
    }
}
