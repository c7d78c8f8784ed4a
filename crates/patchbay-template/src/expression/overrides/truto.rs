//! truto-jsonata's replacements of the built-ins `$join`, `$string` and `$keys`.
//!
//! `@truto/truto-jsonata` 3.0.6 registers its own functions under these names, which
//! shadow JSONata's (its `$keys` is what jsonata-js does too; the engine's differs):
//! * `$join(array, separator)` is lodash's `join(castArray(array), separator)`;
//! * `$string(value, prettify)` is JSONata's, except that every number, integers included,
//!   is rounded to 15 significant digits (`$string(12345678901234567)` is
//!   `"12345678901234600"`);
//! * `$keys(value)` is JSONata's, except that arrays nested in arrays are searched too.

use std::collections::HashSet;
use std::rc::Rc;

use jsonata_core::evaluator::EvaluatorError;
use jsonata_core::value::JValue;

use super::js::write_js_string;

/// `$join(array, separator)`: lodash's `join(castArray(array), separator)`.
///
/// A non-array is a one-member array. Members are written as `Array.prototype.join` does:
/// `null`/`undefined` as empty text, numbers as JavaScript prints them, nested arrays
/// joined with `,`. A missing separator is `,`; any other separator is `String(separator)`
/// (`null` is `"null"`). `$join()` and `$join(nothing)` give `""`. Arguments after the
/// second are ignored, as JavaScript does. Objects and functions are `T0410` (JavaScript
/// would throw or print `[object Object]`).
pub(crate) fn join(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let separator = match args.get(1) {
        None | Some(JValue::Undefined) => ",".to_owned(),
        Some(separator) => super::js::to_js_string(separator, "join")?,
    };
    let single;
    let members: &[JValue] = match args.first() {
        Some(JValue::Array(items)) => items,
        Some(other) => {
            single = [other.clone()];
            &single
        }
        None => &[],
    };
    let mut out = String::new();
    for (index, member) in members.iter().enumerate() {
        if index > 0 {
            out.push_str(&separator);
        }
        if !matches!(member, JValue::Null | JValue::Undefined) {
            write_js_string(member, "join", &mut out)?;
        }
    }
    Ok(JValue::string(out))
}

/// `$string(value, prettify)`: the engine's `$string` of `value` with every number rounded
/// to 15 significant digits first (`Number(n.toPrecision(15))`, which truto-jsonata applies
/// to integers too). Signature `<x-b?:s>`; a context-form call arrives with the context
/// written in.
pub(crate) fn string(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let prettify = match args.get(1) {
        None | Some(JValue::Undefined) => false,
        Some(JValue::Bool(flag)) => *flag,
        Some(_) => {
            return Err(EvaluatorError::TypeError(
                "T0410: Argument 2 of function \"string\" does not match function signature"
                    .to_owned(),
            ));
        }
    };
    let value = match args.first() {
        None | Some(JValue::Undefined) => return Ok(JValue::Undefined),
        Some(JValue::Number(number)) if !number.is_finite() => {
            return Err(EvaluatorError::EvaluationError(
                "D3001: Attempting to invoke string function on Infinity or NaN".to_owned(),
            ));
        }
        Some(value) => value,
    };
    let rounded = round_numbers(value);
    Ok(jsonata_core::functions::string::string(
        &rounded,
        Some(prettify),
    )?)
}

/// `value` with every finite number rounded to 15 significant digits (`null` where that
/// overflows).
fn round_numbers(value: &JValue) -> JValue {
    match value {
        // Near the largest double, rounding overflows to Infinity, which `JSON.stringify`
        // writes as `null`.
        JValue::Number(number) if number.is_finite() => match to_precision_15(*number) {
            rounded if rounded.is_finite() => JValue::Number(rounded),
            _ => JValue::Null,
        },
        JValue::Array(items) if items.iter().any(has_numbers) => {
            // `with_items` keeps the array's flags (an outer wrapper stays one).
            JValue::Array(items.with_items(items.iter().map(round_numbers).collect()))
        }
        JValue::Object(map) if map.values().any(has_numbers) => JValue::object(
            map.iter()
                .map(|(key, member)| (key.clone(), round_numbers(member)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `value` is or contains a number.
fn has_numbers(value: &JValue) -> bool {
    match value {
        JValue::Number(_) => true,
        JValue::Array(items) => items.iter().any(has_numbers),
        JValue::Object(map) => map.values().any(has_numbers),
        _ => false,
    }
}

/// `Number(number.toPrecision(15))`.
fn to_precision_15(number: f64) -> f64 {
    format!("{number:.14e}").parse().unwrap_or(number)
}

/// `$keys(value)`: the keys of an object; for an array, the distinct keys of its members,
/// searching nested arrays too. No key gives `undefined`, one key a string. Signature
/// `<x-:a<s>>`; a context-form call arrives with the context written in.
pub(crate) fn keys(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let mut found: Vec<Rc<str>> = Vec::new();
    let mut seen: HashSet<Rc<str>> = HashSet::new();
    let mut pending: Vec<&JValue> = args.first().into_iter().collect();
    // Depth first, in order: a stack of the members still to visit, last first.
    while let Some(value) = pending.pop() {
        match value {
            JValue::Array(items) => pending.extend(items.iter().rev()),
            JValue::Object(map) => {
                for key in map.keys() {
                    if !seen.contains(key.as_str()) {
                        let key: Rc<str> = Rc::from(key.as_str());
                        seen.insert(Rc::clone(&key));
                        found.push(key);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(match found.len() {
        0 => JValue::Undefined,
        1 => JValue::String(Rc::clone(&found[0])),
        _ => JValue::array(found.into_iter().map(JValue::String).collect()),
    })
}
