//! The JavaScript coercions that truto-jsonata's functions rely on (`String(x)`, truthiness,
//! `Number#toString`), reproduced on `serde_json` values.
//!
//! JSONata objects reaching a JavaScript function have a null prototype, so `String(object)`
//! throws there; [`to_js_string`] reports that case as `None` and callers turn it into an
//! argument error.

use serde_json::{Map, Value};

/// The names every plain JavaScript object has through `Object.prototype`: `qs` refuses
/// them as keys, and `deepmerge` skips them when it merges into a plain object.
pub(crate) const OBJECT_PROTOTYPE_NAMES: [&str; 12] = [
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// `String(value)` for a JSON value: strings as-is, numbers as JavaScript prints them,
/// `null`/booleans as their keywords, arrays joined with `,` (`null` members as empty text).
/// `None` for objects (and arrays containing objects), which JavaScript cannot convert.
pub(crate) fn to_js_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".to_owned()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number_to_js_string(number.as_f64().unwrap_or(f64::NAN))),
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                parts.push(match item {
                    Value::Null => String::new(),
                    other => to_js_string(other)?,
                });
            }
            Some(parts.join(","))
        }
        Value::Object(_) => None,
    }
}

/// JavaScript's `String(value)` for any JSON value: objects print as `[object Object]`,
/// arrays join their members' texts with `,` (`null` members as empty text).
pub(crate) fn js_string(value: &Value) -> String {
    match value {
        Value::Object(_) => "[object Object]".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => to_js_string(other).unwrap_or_default(),
    }
}

/// JavaScript's white space (`\s`, and what `String.prototype.trim` removes): ASCII
/// space, tab, line feed, vertical tab, form feed, carriage return, no-break space, the
/// Unicode space separators, line/paragraph separators and the byte-order mark.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's `trim()`.
pub(crate) fn js_trim(text: &str) -> &str {
    text.trim_matches(is_js_space)
}

/// JavaScript truthiness; `None` is `undefined`. Arrays and objects are always truthy.
pub(crate) fn is_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// `Number.prototype.toString()` (radix 10): the shortest round-trip digits, laid out in
/// positional notation for exponents in `[-7, 21)` and in `1.5e+21` form outside it.
pub(crate) fn number_to_js_string(number: f64) -> String {
    if number.is_nan() {
        return "NaN".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned();
    }
    if number == 0.0 {
        return "0".to_owned();
    }
    // `{:e}` prints the shortest round-trip digits, e.g. `1.2345e-7`.
    let scientific = format!("{:e}", number.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let n = exponent + 1;
    let sign = if number < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!(
            "{digits}{}",
            "0".repeat(usize::try_from(n - k).unwrap_or(0))
        )
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        format!("{}.{}", &digits[..split], &digits[split..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat(usize::try_from(-n).unwrap_or(0)))
    } else {
        let e = n - 1;
        let exp_sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{exp_sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{exp_sign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
}

/// A canonical array index (`"0"`, `"17"`), which JavaScript lists before other keys.
pub(crate) fn array_index(key: &str) -> Option<u32> {
    if key == "0" {
        return Some(0);
    }
    if key.starts_with('0') || key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|index| *index != u32::MAX)
}

/// An object's members in JavaScript's property order (`Object.keys`, `for…in`,
/// `JSON.stringify`): integer-like keys first, ascending, then the others in insertion
/// order.
pub(crate) fn js_entries(map: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut indexed: Vec<(u32, &str, &Value)> = Vec::new();
    let mut named: Vec<(&str, &Value)> = Vec::new();
    for (key, value) in map {
        match array_index(key) {
            Some(index) => indexed.push((index, key, value)),
            None => named.push((key, value)),
        }
    }
    indexed.sort_by_key(|(index, _, _)| *index);
    indexed
        .into_iter()
        .map(|(_, key, value)| (key, value))
        .chain(named)
        .collect()
}

/// `JSON.stringify(value)` without indentation: JavaScript's number format and property
/// order.
pub(crate) fn json_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => {
            let number = number.as_f64().unwrap_or(f64::NAN);
            if number.is_finite() {
                out.push_str(&number_to_js_string(number));
            } else {
                out.push_str("null");
            }
        }
        Value::String(text) => {
            out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()));
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in js_entries(map).into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_owned()));
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Lodash's value equality: JavaScript's `SameValueZero` on primitives. Arrays and objects
/// compare structurally here, where JavaScript compares references (see the `$difference`
/// notes in `docs/jsonata.md`).
pub(crate) fn same_value_zero(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => left == right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        for (number, text) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (123_456_789_012_345_680_000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-1.25e-9, "-1.25e-9"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-0.0, "0"),
        ] {
            assert_eq!(number_to_js_string(number), text, "{number}");
        }
    }

    #[test]
    fn string_coercion_and_truthiness() {
        assert_eq!(
            to_js_string(&json!([1, null, [2, "a"]])).as_deref(),
            Some("1,,2,a")
        );
        assert_eq!(to_js_string(&json!({"a": 1})), None);
        assert_eq!(to_js_string(&json!([{"a": 1}])), None);
        assert!(!is_truthy(Some(&json!(0))));
        assert!(is_truthy(Some(&json!([]))));
        assert!(!is_truthy(None));
    }
}
