//! The lodash-style functions: `$pick`, `$omit`, `$compact`, `$groupBy`, `$keyBy`, `$chunk`,
//! `$flatten`, `$values`, `$difference`, `$wrap`.
//!
//! The package wraps most of these in lodash's `castArray`, so a single non-array value
//! acts as a one-member array (and `undefined` as `[undefined]`, which shows as `[null]`).

use serde_json::{Map, Value};

use super::js::{is_truthy, same_value_zero, to_js_string};
use super::values::js_to_number;
use super::{Args, ExtensionError, Outcome};

/// lodash `castArray`: arrays as-is, anything else (even `undefined`) wrapped.
pub(super) fn cast_array(value: Option<&Value>) -> Vec<Option<Value>> {
    match value {
        Some(Value::Array(items)) => items.iter().cloned().map(Some).collect(),
        other => vec![other.cloned()],
    }
}

/// An array of possibly-`undefined` members as JSON (`undefined` members become `null`).
pub(super) fn to_array(items: Vec<Option<Value>>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|item| item.unwrap_or(Value::Null))
            .collect(),
    )
}

/// A lodash property path: a literal key of `object` when it has one, else `a.b[0].c`
/// split into segments.
pub(super) fn cast_path(path: &Value, object: Option<&Value>) -> Option<Vec<String>> {
    match path {
        Value::Array(segments) => segments.iter().map(to_js_string).collect(),
        Value::String(text) => {
            let literal = matches!(object, Some(Value::Object(map)) if map.contains_key(text));
            if literal || !text.contains(['.', '[']) {
                return Some(vec![text.clone()]);
            }
            Some(split_path(text))
        }
        Value::Object(_) => None,
        other => to_js_string(other).map(|key| vec![key]),
    }
}

/// `a.b[0]["c"]` → `["a", "b", "0", "c"]`.
fn split_path(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    if text.starts_with('.') {
        segments.push(String::new());
    }
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
            '[' => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                let unquoted = inner
                    .strip_prefix(['"', '\''])
                    .and_then(|rest| rest.strip_suffix(['"', '\'']))
                    .unwrap_or(&inner);
                segments.push(unquoted.to_owned());
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// One property step as JavaScript reads it: object keys, array and string indices, and
/// `length` of arrays and strings.
pub(super) fn property<'v>(value: &'v Value, key: &str) -> Option<std::borrow::Cow<'v, Value>> {
    use std::borrow::Cow;
    match value {
        Value::Object(map) => map.get(key).map(Cow::Borrowed),
        Value::Array(items) => {
            if key == "length" {
                return Some(Cow::Owned(Value::from(items.len())));
            }
            key.parse::<usize>()
                .ok()
                .and_then(|index| items.get(index))
                .map(Cow::Borrowed)
        }
        Value::String(text) => {
            if key == "length" {
                return Some(Cow::Owned(Value::from(text.encode_utf16().count())));
            }
            let index = key.parse::<usize>().ok()?;
            text.chars()
                .nth(index)
                .map(|c| Cow::Owned(Value::String(c.to_string())))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// lodash `get(value, path)`; `None` when a step is missing.
pub(super) fn get_path(value: &Value, path: &[String]) -> Option<Value> {
    let mut current = std::borrow::Cow::Borrowed(value);
    for key in path {
        current = std::borrow::Cow::Owned(property(&current, key)?.into_owned());
    }
    Some(current.into_owned())
}

/// Whether `segment` is a lodash array index.
fn is_index(segment: &str) -> bool {
    segment == "0"
        || (!segment.starts_with('0')
            && !segment.is_empty()
            && segment.bytes().all(|b| b.is_ascii_digit()))
}

/// lodash `set` on an object: creates missing containers, arrays for index segments.
fn set_path(target: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        target.insert(first.clone(), value);
        return;
    }
    let slot = target
        .entry(first.clone())
        .or_insert_with(|| empty_container(&rest[0]));
    set_in(slot, rest, value);
}

fn empty_container(next: &str) -> Value {
    if is_index(next) {
        Value::Array(Vec::new())
    } else {
        Value::Object(Map::new())
    }
}

fn set_in(slot: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    if !slot.is_object() && !slot.is_array() {
        *slot = empty_container(first);
    }
    let child = match slot {
        Value::Array(items) => match first.parse::<usize>() {
            Ok(index) if index < 1 << 20 => {
                if items.len() <= index {
                    items.resize(index + 1, Value::Null);
                }
                &mut items[index]
            }
            _ => return,
        },
        Value::Object(map) => map.entry(first.clone()).or_insert(Value::Null),
        _ => return,
    };
    if rest.is_empty() {
        *child = value;
    } else {
        if !child.is_object() && !child.is_array() {
            *child = empty_container(&rest[0]);
        }
        set_in(child, rest, value);
    }
}

/// The paths named by a `$pick`/`$omit` keys argument: one path, or an array of them.
fn paths(args: &Args<'_>, object: Option<&Value>) -> Result<Vec<Vec<String>>, ExtensionError> {
    let wrong = || args.wrong(1, "a property path or an array of them");
    match args.get(1) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| cast_path(item, object).ok_or_else(wrong))
            .collect(),
        Some(path) => Ok(vec![cast_path(path, object).ok_or_else(wrong)?]),
    }
}

/// `$pick(object, paths)`: a new object with only the given property paths (`"a"`,
/// `"b.c"`, `"d[0].e"`, or an array of such), nested as in the source. Missing paths are
/// skipped; a non-object source gives `{}` (an array or a string gives index keys).
pub(crate) fn pick(args: &Args<'_>) -> Outcome {
    let source = args.get(0);
    let mut result = Map::new();
    if let Some(source) = source {
        for path in paths(args, Some(source))? {
            if let Some(value) = get_path(source, &path) {
                set_path(&mut result, &path, value);
            }
        }
    }
    Ok(Some(Value::Object(result)))
}

/// `$omit(object, paths)`: a copy of `object` without the given property paths (as in
/// `$pick`). A `null`/`undefined` source gives `{}`.
pub(crate) fn omit(args: &Args<'_>) -> Outcome {
    let mut result = match args.get(0) {
        None | Some(Value::Null) => return Ok(Some(Value::Object(Map::new()))),
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(Value::Array(items)) => Value::Object(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| (index.to_string(), item.clone()))
                .collect(),
        ),
        // lodash copies a string's characters by index (its `length` is not enumerable).
        Some(Value::String(text)) => Value::Object(
            text.chars()
                .enumerate()
                .map(|(index, c)| (index.to_string(), Value::String(c.to_string())))
                .collect(),
        ),
        Some(_) => Value::Object(Map::new()),
    };
    for path in paths(args, Some(&result))? {
        unset_path(&mut result, &path);
    }
    Ok(Some(result))
}

fn unset_path(value: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Value::Object(map) = value else {
        if let (Value::Array(items), Ok(index)) = (value, first.parse::<usize>())
            && let Some(item) = items.get_mut(index)
        {
            if rest.is_empty() {
                *item = Value::Null;
            } else {
                unset_path(item, rest);
            }
        }
        return;
    };
    if rest.is_empty() {
        map.shift_remove(first);
    } else if let Some(child) = map.get_mut(first) {
        unset_path(child, rest);
    }
}

/// `$compact(array)`: the members that are truthy (drops `false`, `null`, `0`, `""`).
pub(crate) fn compact(args: &Args<'_>) -> Outcome {
    let items = cast_array(args.get(0))
        .into_iter()
        .filter(|item| is_truthy(item.as_ref()))
        .collect();
    Ok(Some(to_array(items)))
}

/// How `$groupBy`/`$keyBy` compute a member's key: a property path, or the member itself.
fn key_of(args: &Args<'_>, item: Option<&Value>) -> Result<String, ExtensionError> {
    let value = match args.get(1) {
        None | Some(Value::Null) => item.cloned(),
        Some(iteratee @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
            let path = cast_path(iteratee, item).ok_or_else(|| args.wrong(1, "a property path"))?;
            item.and_then(|item| get_path(item, &path))
        }
        Some(_) => return Err(args.wrong(1, "a property path")),
    };
    match value {
        None => Ok("undefined".to_owned()),
        Some(value) => to_js_string(&value)
            .ok_or_else(|| args.failed("Cannot convert object to primitive value")),
    }
}

/// `$groupBy(array, path)`: an object from each key (the `String()` of the member's value
/// at `path`, `"undefined"` when missing) to the members that have it, in order.
/// Without `path` the members themselves are the keys. Object-valued keys fail.
pub(crate) fn group_by(args: &Args<'_>) -> Outcome {
    let mut groups: Map<String, Value> = Map::new();
    for item in cast_array(args.get(0)) {
        let key = key_of(args, item.as_ref())?;
        let member = item.unwrap_or(Value::Null);
        match groups.get_mut(&key) {
            Some(Value::Array(members)) => members.push(member),
            _ => {
                groups.insert(key, Value::Array(vec![member]));
            }
        }
    }
    Ok(Some(Value::Object(groups)))
}

/// `$keyBy(array, path)`: an object from each key (as in `$groupBy`) to the last member
/// that has it.
pub(crate) fn key_by(args: &Args<'_>) -> Outcome {
    let mut index: Map<String, Value> = Map::new();
    for item in cast_array(args.get(0)) {
        let key = key_of(args, item.as_ref())?;
        match item {
            Some(member) => {
                index.insert(key, member);
            }
            None => {
                index.shift_remove(&key);
            }
        }
    }
    Ok(Some(Value::Object(index)))
}

/// `$chunk(array, size = 1)`: the members in consecutive arrays of `size` (truncated to an
/// integer; numeric strings count). A size below 1 gives `[]`.
pub(crate) fn chunk(args: &Args<'_>) -> Outcome {
    let size = match args.get(1) {
        None => 1.0,
        Some(Value::Object(_)) => 0.0,
        Some(size) => js_to_number(Some(size)),
    };
    let size = if size.is_nan() { 0.0 } else { size.trunc() };
    if size < 1.0 {
        return Ok(Some(Value::Array(Vec::new())));
    }
    // Saturating float → integer conversion: a huge size means one chunk.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = size as usize;
    let items = cast_array(args.get(0));
    Ok(Some(Value::Array(
        items
            .chunks(size)
            .map(|chunk| to_array(chunk.to_vec()))
            .collect(),
    )))
}

/// `$flatten(array)`: flattens nested arrays one level.
pub(crate) fn flatten(args: &Args<'_>) -> Outcome {
    let mut flat = Vec::new();
    for item in cast_array(args.get(0)) {
        match item {
            Some(Value::Array(inner)) => flat.extend(inner.into_iter().map(Some)),
            other => flat.push(other),
        }
    }
    Ok(Some(to_array(flat)))
}

/// `$values(value)`: an object's values, an array's members, a string's characters; `[]`
/// for anything else.
pub(crate) fn values(args: &Args<'_>) -> Outcome {
    let values = match args.get(0) {
        Some(Value::Object(map)) => map.values().cloned().collect(),
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(text)) => text.chars().map(|c| Value::String(c.to_string())).collect(),
        _ => Vec::new(),
    };
    Ok(Some(Value::Array(values)))
}

/// `$difference(array, exclude)`: the members of `array` not found in `exclude`. A
/// non-array `array` gives `[]`; a non-array `exclude` excludes nothing. Objects and arrays
/// compare by value here (JavaScript compares them by reference).
pub(crate) fn difference(args: &Args<'_>) -> Outcome {
    let Some(Value::Array(items)) = args.get(0) else {
        return Ok(Some(Value::Array(Vec::new())));
    };
    let exclude: &[Value] = match args.get(1) {
        Some(Value::Array(exclude)) => exclude,
        _ => &[],
    };
    Ok(Some(Value::Array(
        items
            .iter()
            .filter(|item| !exclude.iter().any(|other| same_value_zero(item, other)))
            .cloned()
            .collect(),
    )))
}

/// `$wrap(value, start, end = start)`: `start`, `value` and `end` joined as text, `null` and
/// `undefined` parts as empty text. A falsy `end` (`""`, `0`, `null`, …) means `start`.
pub(crate) fn wrap(args: &Args<'_>) -> Outcome {
    let end_index = if is_truthy(args.get(2)) { 2 } else { 1 };
    let mut text = String::new();
    for index in [1, 0, end_index] {
        match args.get(index) {
            None | Some(Value::Null) => {}
            Some(_) => text.push_str(&args.text(index, "")?),
        }
    }
    Ok(Some(Value::String(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_lodash() {
        assert_eq!(split_path("a.b[0][\"c\"]"), ["a", "b", "0", "c"]);
        assert_eq!(split_path("a"), ["a"]);
        assert!(is_index("0") && is_index("12") && !is_index("01") && !is_index("x"));
    }
}
