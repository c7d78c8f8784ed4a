//! Casting a found value to a placeholder's type.

use serde_json::Value;

use super::PlaceholderType;
use super::js::{
    js_trim, number_to_string, number_value, parse_float, parse_int, to_js_string, to_lodash_string,
};
use super::json_parse::json_parse;

/// Casts `value` (found in the data, or a default's text) to `cast`.
///
/// `whole` says whether the placeholder is the entire template string; only then
/// do `json` and `null` keep structured values. Failed numeric casts return the
/// (trimmed) original value; `bool` returns the original unless it is `true` or
/// `false` (as a boolean or a string).
pub(crate) fn cast(value: &Value, cast: PlaceholderType, whole: bool) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let trimmed = match value {
        Value::String(s) if cast != PlaceholderType::Str => Value::String(js_trim(s).to_owned()),
        other => other.clone(),
    };
    match cast {
        PlaceholderType::Str => Value::String(to_lodash_string(value)),
        PlaceholderType::Any | PlaceholderType::Undefined | PlaceholderType::IgnoreEmptyStr => {
            trimmed
        }
        PlaceholderType::Null => {
            if trimmed == Value::String("null".into()) {
                Value::Null
            } else if whole {
                trimmed
            } else {
                Value::String("null".into())
            }
        }
        PlaceholderType::Int => {
            parse_int(&to_js_string(&trimmed)).map_or(trimmed, |x| parsed_number(x, whole))
        }
        PlaceholderType::Num => {
            parse_float(&to_js_string(&trimmed)).map_or(trimmed, |x| parsed_number(x, whole))
        }
        PlaceholderType::Bool => match &trimmed {
            Value::Bool(_) => trimmed,
            Value::String(s) if s == "true" => Value::Bool(true),
            Value::String(s) if s == "false" => Value::Bool(false),
            _ => trimmed,
        },
        PlaceholderType::Json => match &trimmed {
            Value::String(s) if whole => json_parse(s).unwrap_or(trimmed),
            _ => trimmed,
        },
    }
}

/// A number from `parseInt`/`parseFloat`. JSON cannot hold `Infinity`, so a
/// whole-string result becomes `null` (as `JSON.stringify` writes it), but
/// embedded text keeps JavaScript's spelling: `"x{{v:num}}"` with `v = "1e999"`
/// renders `"xInfinity"`.
fn parsed_number(x: f64, whole: bool) -> Value {
    if !x.is_finite() && !whole {
        return Value::String(number_to_string(x));
    }
    number_value(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn casts_follow_the_reference() {
        assert_eq!(cast(&json!(" 12 "), PlaceholderType::Int, true), json!(12));
        assert_eq!(
            cast(&json!(" 12 "), PlaceholderType::Str, true),
            json!(" 12 ")
        );
        assert_eq!(cast(&json!("1.1"), PlaceholderType::Int, true), json!(1));
        assert_eq!(
            cast(&json!([10, 20]), PlaceholderType::Int, true),
            json!(10)
        );
        assert_eq!(
            cast(&json!({"a": 1}), PlaceholderType::Int, true),
            json!({"a": 1})
        );
        assert_eq!(
            cast(&json!("abc"), PlaceholderType::Num, true),
            json!("abc")
        );
        assert_eq!(
            cast(&json!("true"), PlaceholderType::Bool, true),
            json!(true)
        );
        assert_eq!(cast(&json!("12"), PlaceholderType::Bool, true), json!("12"));
        assert_eq!(
            cast(&json!("{\"k\":1}"), PlaceholderType::Json, true),
            json!({"k": 1})
        );
        assert_eq!(
            cast(&json!("{\"k\":1}"), PlaceholderType::Json, false),
            json!("{\"k\":1}")
        );
        assert_eq!(cast(&json!(true), PlaceholderType::Null, true), json!(true));
        assert_eq!(
            cast(&json!(true), PlaceholderType::Null, false),
            json!("null")
        );
        assert_eq!(
            cast(&json!("null"), PlaceholderType::Null, true),
            json!(null)
        );
        assert_eq!(cast(&json!(1.5), PlaceholderType::Str, true), json!("1.5"));
        assert_eq!(
            cast(&json!("-Infinity"), PlaceholderType::Num, false),
            json!("-Infinity")
        );
        assert_eq!(
            cast(&json!("1e999"), PlaceholderType::Num, true),
            json!(null)
        );
    }
}
