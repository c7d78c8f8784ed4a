//! The few JavaScript conversions that Truto's placeholder semantics depend on.
//!
//! Truto's reference implementation runs on JavaScript, so "convert to string",
//! `parseInt` and `parseFloat` there decide what a placeholder renders to. These
//! functions reproduce those conversions on `serde_json` values.

use serde_json::{Number, Value};

/// Whitespace as JavaScript's `\s` and `String.prototype.trim` define it.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

/// `String.prototype.trim`.
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// `Number.prototype.toString()` for a finite or non-finite double.
pub(crate) fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let abs = x.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display prints the shortest round-trip digits without exponent.
        return format!("{x}");
    }
    // Shortest round-trip digits in exponent form, then JavaScript's spelling:
    // `1e21` -> `1e+21`, `1.5e-7` stays.
    let exp = format!("{x:e}");
    match exp.split_once('e') {
        Some((mantissa, e)) if !e.starts_with('-') => format!("{mantissa}e+{e}"),
        _ => exp,
    }
}

/// `String(n)` for a JSON number. JavaScript holds every number as a double, so an
/// integer beyond ±2^53 prints as the double it rounds to (`9007199254740993` →
/// `"9007199254740992"`, `12345678901234567890` → `"12345678901234567000"`).
pub(crate) fn json_number_to_string(n: &Number) -> String {
    const EXACT: u64 = 1 << 53;
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= EXACT
    {
        return i.to_string();
    }
    number_to_string(n.as_f64().unwrap_or(f64::NAN))
}

/// `String(value)` (what `"" + value` and `String.prototype.replace` produce).
///
/// Arrays join their items with `,`, where `null` items become empty strings;
/// objects become `[object Object]`.
pub(crate) fn to_js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => json_number_to_string(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => to_js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// lodash's `toString(value)`: like `String(value)`, except that `null` items of
/// arrays print as `null` and negative zero keeps its sign.
pub(crate) fn to_lodash_string(value: &Value) -> String {
    match value {
        Value::Array(items) => items
            .iter()
            .map(to_lodash_string)
            .collect::<Vec<_>>()
            .join(","),
        Value::Number(n)
            if n.as_f64() == Some(0.0) && n.as_f64().is_some_and(|f| f.is_sign_negative()) =>
        {
            "-0".into()
        }
        other => to_js_string(other),
    }
}

/// A JavaScript number as a JSON value: integral values become JSON integers,
/// non-finite values (which JSON cannot hold) become `null`, as `JSON.stringify`
/// would write them.
pub(crate) fn number_value(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        return Value::Number(Number::from(x as i64));
    }
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// `parseInt(String(value))` with radix detection as JavaScript does it
/// (`0x` prefix means hexadecimal). Returns `None` for `NaN`.
///
/// The digits are read as one exact integer and rounded to the nearest double once, as
/// JavaScript does: `parseInt("9007199254740993")` is `9007199254740992` and
/// `parseInt("12345678901234567")` is `12345678901234568` (adding digit by digit in
/// doubles would round at every step). Hexadecimal numbers of more than 32 digits are
/// added digit by digit.
pub(crate) fn parse_int(text: &str) -> Option<f64> {
    let s = text.trim_start_matches(is_js_whitespace);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if s.len() >= 2 && (s.starts_with("0x") || s.starts_with("0X")) {
        (16, &s[2..])
    } else {
        (10, s)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let digits = &digits[..end];
    if digits.is_empty() {
        return None;
    }
    let value = if radix == 10 {
        // Rust's float parsing rounds the exact decimal value correctly.
        digits.parse::<f64>().ok()?
    } else if let Ok(exact) = u128::from_str_radix(digits, radix) {
        // `as` rounds to the nearest double, ties to even.
        #[allow(clippy::cast_precision_loss)]
        let rounded = exact as f64;
        rounded
    } else {
        digits
            .chars()
            .filter_map(|c| c.to_digit(radix))
            .fold(0.0, |value, d| value * f64::from(radix) + f64::from(d))
    };
    Some(if negative { -value } else { value })
}

/// `parseFloat(String(value))`. Returns `None` for `NaN`.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let s = text.trim_start_matches(is_js_whitespace);
    let bytes = s.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    if s[end..].starts_with("Infinity") {
        let inf = f64::INFINITY;
        return Some(if bytes.first() == Some(&b'-') {
            -inf
        } else {
            inf
        });
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let mut mantissa_digits = end - digits_start;
    if end < bytes.len() && bytes[end] == b'.' {
        let frac_start = end + 1;
        let mut frac_end = frac_start;
        while frac_end < bytes.len() && bytes[frac_end].is_ascii_digit() {
            frac_end += 1;
        }
        mantissa_digits += frac_end - frac_start;
        if mantissa_digits > 0 {
            end = frac_end;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
        let mut exp_end = end + 1;
        if exp_end < bytes.len() && matches!(bytes[exp_end], b'+' | b'-') {
            exp_end += 1;
        }
        let exp_digits_start = exp_end;
        while exp_end < bytes.len() && bytes[exp_end].is_ascii_digit() {
            exp_end += 1;
        }
        if exp_end > exp_digits_start {
            end = exp_end;
        }
    }
    s[..end].parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(number_to_string(1.5), "1.5");
        assert_eq!(number_to_string(0.000001), "0.000001");
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(1e-7), "1e-7");
        assert_eq!(number_to_string(1.5e-7), "1.5e-7");
        assert_eq!(number_to_string(123456789.125), "123456789.125");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(2.0), "2");
        assert_eq!(number_to_string(f64::INFINITY), "Infinity");
    }

    #[test]
    fn strings_convert_like_javascript() {
        assert_eq!(to_js_string(&json!([[1, [2, 3]], null])), "1,2,3,");
        assert_eq!(to_lodash_string(&json!([[1, [2, 3]], null])), "1,2,3,null");
        assert_eq!(to_js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(to_js_string(&json!(null)), "null");
        // node 20: String(9007199254740993), String(12345678901234567890)
        assert_eq!(
            to_js_string(&json!(9_007_199_254_740_993_u64)),
            "9007199254740992"
        );
        assert_eq!(
            to_js_string(&json!(12_345_678_901_234_567_890_u64)),
            "12345678901234567000"
        );
        assert_eq!(
            to_js_string(&json!(-9_007_199_254_740_992_i64)),
            "-9007199254740992"
        );
    }

    #[test]
    fn parse_int_and_float_follow_javascript() {
        assert_eq!(parse_int("12abc"), Some(12.0));
        assert_eq!(parse_int("  -7.9"), Some(-7.0));
        assert_eq!(parse_int("0x1f"), Some(31.0));
        assert_eq!(parse_int("abc"), None);
        // Expected values from node 20's parseInt.
        assert_eq!(parse_int("9007199254740993"), Some(9_007_199_254_740_992.0));
        assert_eq!(
            parse_int("12345678901234567"),
            Some(12_345_678_901_234_568.0)
        );
        assert_eq!(
            parse_int("1234567890123456789"),
            Some(1_234_567_890_123_456_800.0)
        );
        assert_eq!(parse_int("99999999999999999999999"), Some(1e23));
        assert_eq!(parse_int("0x20000000000001"), Some(9_007_199_254_740_992.0));
        assert_eq!(
            parse_int("-12345678901234567"),
            Some(-12_345_678_901_234_568.0)
        );
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_float("1.5e3xyz"), Some(1500.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("1e"), Some(1.0));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("true"), None);
    }
}
