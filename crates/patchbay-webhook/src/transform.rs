//! `payload_transform`: the events of a verified request.

use serde_json::Value;

use crate::error::WebhookError;
use crate::expression::WebhookExpression;

/// Evaluates `transform` (`payload_transform`) over the request `input` with
/// `$context` = `context`. Without a transform the parsed body is the single event
/// (none for an empty body); `undefined` and `null` are no events.
///
/// # Errors
/// [`WebhookError::Expression`] when the expression fails to evaluate,
/// [`WebhookError::InvalidEvents`] when it returns something other than an object or
/// an array of objects.
pub(crate) fn events(
    transform: Option<&WebhookExpression>,
    input: &Value,
    context: &Value,
) -> Result<Vec<Value>, WebhookError> {
    let Some(expression) = transform else {
        let body = input.get("body").cloned().unwrap_or(Value::Null);
        return Ok(if body.is_null() {
            Vec::new()
        } else {
            vec![body]
        });
    };
    let result =
        expression
            .evaluate(input, context)
            .map_err(|source| WebhookError::Expression {
                field: "payload_transform",
                source,
            })?;
    match result {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            if items.iter().all(Value::is_object) {
                Ok(items)
            } else {
                Err(WebhookError::InvalidEvents {
                    reason: "every event must be an object",
                })
            }
        }
        Some(object @ Value::Object(_)) => Ok(vec![object]),
        Some(_) => Err(WebhookError::InvalidEvents {
            reason: "expected an object or an array of objects",
        }),
    }
}
