//! `$toNumber`, `$jsonParse`, `$firstNonEmpty`, `$removeEmpty`, `$removeEmptyItems`,
//! `$mapValues`, `$uuid`.

use serde_json::{Map, Value};

use super::js::{is_truthy, number_to_js_string, to_js_string};
use super::{Args, Outcome};
use crate::expression::value::number_to_json;

/// A number result: `NaN` and infinities have no JSON form and become `null`.
fn number(value: f64) -> Option<Value> {
    Some(number_to_json(value).unwrap_or(Value::Null))
}

/// `$toNumber(value)`, lodash's `toNumber`: numbers as-is, `true`/`false`/`null` → 1/0/0,
/// strings trimmed and read as decimal, `0x…` hex, `0b…` binary or `0o…` octal (an empty
/// string is 0), arrays through their `String()` form (`[]` → 0, `["7"]` → 7).
///
/// Where lodash gives `NaN` (unparseable text, `undefined`) or an infinity, the result is
/// `null`. Objects are an argument error, as JavaScript cannot convert them.
pub(crate) fn to_number(args: &Args<'_>) -> Outcome {
    match args.get(0) {
        Some(Value::Object(_)) => Err(args.wrong(0, "a number, string, boolean or array")),
        Some(array @ Value::Array(_)) if to_js_string(array).is_none() => {
            Err(args.wrong(0, "an array without objects"))
        }
        value => Ok(number(js_to_number(value))),
    }
}

/// Lodash's `toNumber` on a JSON value (`None` = `undefined` → `NaN`). Objects, which
/// JavaScript cannot convert, are `NaN` here.
pub(crate) fn js_to_number(value: Option<&Value>) -> f64 {
    match value {
        None | Some(Value::Object(_)) => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(flag)) => f64::from(u8::from(*flag)),
        Some(Value::Number(number)) => number.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(text)) => string_to_number(text),
        Some(array @ Value::Array(_)) => {
            to_js_string(array).map_or(f64::NAN, |text| string_to_number(&text))
        }
    }
}

/// Lodash's string branch of `toNumber`: trim, then binary/octal literals, a signed hex
/// literal is `NaN`, and everything else goes through JavaScript's `Number(text)`.
fn string_to_number(text: &str) -> f64 {
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let lower = text.to_ascii_lowercase();
    if let Some(digits) = lower.strip_prefix("0b") {
        return radix_number(digits, 2);
    }
    if let Some(digits) = lower.strip_prefix("0o") {
        return radix_number(digits, 8);
    }
    if let Some(digits) = lower.strip_prefix("0x") {
        return radix_number(digits, 16);
    }
    if text.is_empty() {
        return 0.0;
    }
    match text {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    if is_decimal_literal(text) {
        text.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// Digits in `radix`, all required to be valid; `NaN` otherwise or when empty.
fn radix_number(digits: &str, radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    let mut value = 0.0_f64;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(radix) else {
            return f64::NAN;
        };
        value = value * f64::from(radix) + f64::from(digit);
    }
    value
}

/// JavaScript's `StrDecimalLiteral`: `[+-] (digits [. digits] | . digits) [e [+-] digits]`.
fn is_decimal_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let count_digits = |at: &mut usize| {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - start
    };
    let mut mantissa_digits = count_digits(&mut at);
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        mantissa_digits += count_digits(&mut at);
    }
    if mantissa_digits == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if count_digits(&mut at) == 0 {
            return false;
        }
    }
    at == bytes.len()
}

/// `$jsonParse(text)`: `JSON.parse(text)`, or `null` when that throws.
///
/// Non-string arguments are converted like `String(x)` first, so numbers, booleans and
/// `null` come back unchanged, `[1]` gives 1, and objects and `undefined` give `null`.
pub(crate) fn json_parse(args: &Args<'_>) -> Outcome {
    let text = match args.get(0) {
        None | Some(Value::Object(_)) => return Ok(Some(Value::Null)),
        Some(Value::String(text)) => text.clone(),
        Some(other) => match to_js_string(other) {
            Some(text) => text,
            None => return Ok(Some(Value::Null)),
        },
    };
    Ok(Some(serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// `$firstNonEmpty(...values)`: the first argument that is neither `null` nor `undefined`
/// (so `""`, `0`, `false` and `[]` count), or `undefined`.
pub(crate) fn first_non_empty(args: &Args<'_>) -> Outcome {
    Ok(args
        .all()
        .iter()
        .flatten()
        .find(|value| !value.is_null())
        .cloned())
}

/// `$removeEmpty(value)`: `value` if it has a truthy `length` (a non-empty array or string,
/// or an object with a truthy `length` field), else `undefined`.
///
/// Despite the name it does not clean objects: `{"a": null}` has no `length` and gives
/// `undefined`, as in the package. `null` and `undefined` fail, as reading `.length` throws.
pub(crate) fn remove_empty(args: &Args<'_>) -> Outcome {
    let value = match args.get(0) {
        None | Some(Value::Null) => {
            return Err(
                args.failed("Cannot read properties of null or undefined (reading 'length')")
            );
        }
        Some(value) => value,
    };
    let keep = match value {
        Value::Array(items) => !items.is_empty(),
        Value::String(text) => !text.is_empty(),
        Value::Object(map) => is_truthy(map.get("length")),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    };
    Ok(keep.then(|| value.clone()))
}

/// `$removeEmptyItems(array)`: the array without falsy members and without empty objects
/// and arrays. A non-array argument is returned unchanged.
pub(crate) fn remove_empty_items(args: &Args<'_>) -> Outcome {
    match args.get(0) {
        Some(Value::Array(items)) => Ok(Some(Value::Array(
            items
                .iter()
                .filter(|item| match item {
                    Value::Object(map) => !map.is_empty(),
                    Value::Array(inner) => !inner.is_empty(),
                    other => is_truthy(Some(other)),
                })
                .cloned()
                .collect(),
        ))),
        other => Ok(other.cloned()),
    }
}

/// `$mapValues(value, mapping, lowerCase = false, default = null)`: looks `value` up in the
/// `mapping` table.
///
/// * A string or number is looked up by its lower-cased `String()` form; a `null`
///   or missing entry keeps the original value, any other entry (even `false` or `0`)
///   replaces it.
/// * Arrays and objects are mapped member by member (recursively).
/// * When `value` is `null`/`undefined` and `default` is not `null`, the result is `default`.
/// * Unless `lowerCase` is truthy, the mapping's keys are lower-cased first; with it, they are
///   used as given (so upper-case keys never match).
/// * A `null`/missing mapping returns `value`; an array or string mapping is indexed by
///   position, any other non-object mapping matches nothing.
pub(crate) fn map_values(args: &Args<'_>) -> Outcome {
    let value = args.get(0);
    let default = args.get(3).filter(|default| !default.is_null());
    if matches!(value, None | Some(Value::Null))
        && let Some(default) = default
    {
        return Ok(Some(default.clone()));
    }
    let table = match args.get(1) {
        None | Some(Value::Null) => return Ok(value.cloned()),
        Some(mapping) => table_entries(mapping),
    };
    let table: Map<String, Value> = if is_truthy(args.get(2)) {
        table.into_iter().collect()
    } else {
        table
            .into_iter()
            .map(|(key, entry)| (key.to_lowercase(), entry))
            .collect()
    };
    Ok(value.map(|value| map_one(value, &table)))
}

/// `Object.entries(mapping)` for a JSON value.
fn table_entries(mapping: &Value) -> Vec<(String, Value)> {
    match mapping {
        Value::Object(map) => map
            .iter()
            .map(|(key, entry)| (key.clone(), entry.clone()))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, entry)| (index.to_string(), entry.clone()))
            .collect(),
        Value::String(text) => text
            .chars()
            .enumerate()
            .map(|(index, c)| (index.to_string(), Value::String(c.to_string())))
            .collect(),
        Value::Null | Value::Bool(_) | Value::Number(_) => Vec::new(),
    }
}

fn map_one(value: &Value, table: &Map<String, Value>) -> Value {
    let key = match value {
        Value::String(text) => text.to_lowercase(),
        Value::Number(number) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => {
            return Value::Array(items.iter().map(|item| map_one(item, table)).collect());
        }
        Value::Object(map) => {
            return Value::Object(
                map.iter()
                    .map(|(key, item)| (key.clone(), map_one(item, table)))
                    .collect(),
            );
        }
        Value::Null | Value::Bool(_) => return value.clone(),
    };
    match table.get(&key) {
        None | Some(Value::Null) => value.clone(),
        Some(entry) => entry.clone(),
    }
}

/// `$uuid()`: a random (version 4) UUID in lower-case hyphenated form.
pub(crate) fn uuid(_args: &Args<'_>) -> Outcome {
    Ok(Some(Value::String(uuid::Uuid::new_v4().to_string())))
}
