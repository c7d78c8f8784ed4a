//! The JavaScript coercions truto-jsonata's replacements of built-ins rely on
//! (`String(x)`, truthiness), on engine values.

use jsonata_core::evaluator::EvaluatorError;
use jsonata_core::value::JValue;

use crate::expression::extensions::js::number_to_js_string;

/// `String(value)`, as the argument of `function`: strings as-is, numbers as JavaScript
/// prints them, `null`/booleans/`undefined` as their keywords, arrays joined with `,`
/// (`null`/`undefined` members as empty text, nested arrays likewise).
///
/// # Errors
/// `T0410` for objects (JSONata's have no prototype, so JavaScript cannot convert them
/// either), functions and regexes, also inside arrays.
pub(crate) fn to_js_string(value: &JValue, function: &str) -> Result<String, EvaluatorError> {
    let mut out = String::new();
    write_js_string(value, function, &mut out)?;
    Ok(out)
}

/// Appends `String(value)` to `out` (see [`to_js_string`]).
pub(crate) fn write_js_string(
    value: &JValue,
    function: &str,
    out: &mut String,
) -> Result<(), EvaluatorError> {
    match value {
        JValue::Undefined => out.push_str("undefined"),
        JValue::Null => out.push_str("null"),
        JValue::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        JValue::Number(number) => out.push_str(&number_to_js_string(*number)),
        JValue::String(text) => out.push_str(text),
        JValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                if !matches!(item, JValue::Null | JValue::Undefined) {
                    write_js_string(item, function, out)?;
                }
            }
        }
        _ => {
            return Err(EvaluatorError::TypeError(format!(
                "T0410: an argument of function \"{function}\" cannot be converted to text \
                 (objects and functions have no text form here)"
            )));
        }
    }
    Ok(())
}

/// JavaScript truthiness: `undefined`, `null`, `false`, `0`, `NaN` and `""` are false;
/// everything else (arrays and objects included) is true.
pub(crate) fn is_truthy(value: &JValue) -> bool {
    match value {
        JValue::Undefined | JValue::Null => false,
        JValue::Bool(flag) => *flag,
        JValue::Number(number) => *number != 0.0 && !number.is_nan(),
        JValue::String(text) => !text.is_empty(),
        _ => true,
    }
}
