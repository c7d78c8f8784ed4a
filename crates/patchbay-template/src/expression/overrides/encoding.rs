//! The URL functions and truto-jsonata's base64 pair on engine values: argument checks and
//! coercions around [`js_builtins`](crate::expression::js_builtins).

use jsonata_core::evaluator::EvaluatorError;
use jsonata_core::value::JValue;

use super::js::{is_truthy, to_js_string};
use crate::expression::js_builtins::base64;
use crate::expression::js_builtins::url::{MALFORMED_CODE, UrlFunction, malformed_message};

/// A URL function with the built-in's signature `<s-:s>` (a context-form call arrives with
/// the context written in). `undefined` gives `undefined`; anything but a string is
/// `T0410`. Arguments after the first are ignored: a higher-order function
/// (`$map(xs, $encodeUrl)`) passes more, and direct calls with more are left to the
/// engine's built-in, which refuses them.
pub(crate) fn url(function: UrlFunction, args: &[JValue]) -> Result<JValue, EvaluatorError> {
    match args.first() {
        None | Some(JValue::Undefined) => Ok(JValue::Undefined),
        Some(JValue::String(text)) => match function.apply(text) {
            Ok(result) => Ok(JValue::string(result)),
            Err(_) => Err(EvaluatorError::EvaluationError(format!(
                "{MALFORMED_CODE}: {}",
                malformed_message(function, text)
            ))),
        },
        Some(_) => Err(EvaluatorError::TypeError(format!(
            "T0410: Argument 1 of function \"{}\" does not match function signature",
            function.name()
        ))),
    }
}

/// `$base64encode(input, urlSafe)` (see [`base64`]): `undefined` is `""`, other values are
/// converted with `String(input)`.
pub(crate) fn base64encode(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let text = match args.first() {
        None | Some(JValue::Undefined) => String::new(),
        Some(value) => to_js_string(value, "base64encode")?,
    };
    Ok(JValue::string(base64::encode(&text, url_safe(args))))
}

/// `$base64decode(text, urlSafe)` (see [`base64`]). Without `urlSafe` the argument is
/// converted with `String(text)` (`undefined` is `"undefined"`, which fails); with it, it
/// must be a string.
pub(crate) fn base64decode(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let value = args.first().unwrap_or(&JValue::Undefined);
    let url_safe = url_safe(args);
    let text = match value {
        JValue::String(text) => text.to_string(),
        _ if url_safe => {
            return Err(EvaluatorError::TypeError(
                "T0410: Argument 1 of function \"base64decode\" must be a string when urlSafe \
                 is set"
                    .to_owned(),
            ));
        }
        other => to_js_string(other, "base64decode")?,
    };
    base64::decode(&text, url_safe)
        .map(JValue::string)
        .map_err(|error| EvaluatorError::EvaluationError(format!("$base64decode: {error}")))
}

/// Whether the `urlSafe` argument is truthy.
fn url_safe(args: &[JValue]) -> bool {
    args.get(1).is_some_and(is_truthy)
}
