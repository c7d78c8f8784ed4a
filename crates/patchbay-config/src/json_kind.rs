//! Naming JSON types in error messages.

use serde_json::Value;

/// The JSON type of `value` with its article, for messages such as
/// "`response_path` must select an array, not an object": `null`,
/// `a boolean`, `a number`, `a string`, `an array`, `an object`.
///
/// ```
/// use serde_json::json;
/// assert_eq!(patchbay_config::json_kind(&json!([1])), "an array");
/// assert_eq!(patchbay_config::json_kind(&json!(null)), "null");
/// ```
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
