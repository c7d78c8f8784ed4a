//! Truthiness of JSON values, as JSONata's `$boolean` plus the string `"false"`.

use serde_json::Value;

/// JSONata truthiness (`false`, `null`, `0`, `""`, empty arrays and objects, and
/// arrays of only falsy members are falsy), extended so that the strings
/// `"false"` and `"0"` (any case, trimmed) are falsy, because providers write
/// flags such as `has_more` as strings.
pub(crate) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => {
            let t = s.trim();
            !(t.is_empty() || t.eq_ignore_ascii_case("false") || t == "0")
        }
        Value::Array(items) => items.iter().any(is_truthy),
        Value::Object(map) => !map.is_empty(),
    }
}
