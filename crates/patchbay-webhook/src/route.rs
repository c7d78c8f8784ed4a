//! Routing an install-level webhook to one account: `context_lookup_field_name` and
//! `context_lookup_field_value`, compiled once with the rest of the config.

use std::fmt;

use patchbay_config::webhook::SignatureVerification;
use serde_json::{Map, Value};

use crate::error::WebhookError;
use crate::expression::WebhookExpression;
use crate::handshake::HandshakeResponse;
use crate::transform::events;

/// `context_lookup_field_name` and the compiled `context_lookup_field_value`.
#[derive(Debug, Clone)]
pub(crate) struct ContextLookup {
    field: String,
    value: WebhookExpression,
}

impl ContextLookup {
    /// The lookup of `signature_verification`, when its config sets both fields.
    ///
    /// # Errors
    /// [`WebhookError::Expression`] when `context_lookup_field_value` does not compile.
    pub(crate) fn of(config: &SignatureVerification) -> Result<Option<Self>, WebhookError> {
        let Some((field, source)) = config.config.as_ref().and_then(|c| {
            Some((
                c.context_lookup_field_name.as_ref()?,
                c.context_lookup_field_value.as_deref()?,
            ))
        }) else {
            return Ok(None);
        };
        let value =
            WebhookExpression::compile(source).map_err(|source| WebhookError::Expression {
                field: "context_lookup_field_value",
                source,
            })?;
        Ok(Some(Self {
            field: field.clone(),
            value,
        }))
    }

    /// The account context key the lookup matches.
    pub(crate) fn field(&self) -> &str {
        &self.field
    }

    /// Evaluates `context_lookup_field_value` over the request `input` with `$context`
    /// = `context`; `None` when it yields nothing or `null`.
    pub(crate) fn value(
        &self,
        input: &Value,
        context: &Value,
    ) -> Result<Option<Value>, WebhookError> {
        let value =
            self.value
                .evaluate(input, context)
                .map_err(|source| WebhookError::Expression {
                    field: "context_lookup_field_value",
                    source,
                })?;
        Ok(value.filter(|v| !v.is_null()))
    }
}

/// Where [`WebhookHandler::route`](crate::WebhookHandler::route) sends an authentic
/// install-level request.
#[derive(Debug, Clone)]
pub enum Routed {
    /// Answer the provider's handshake with this response; emit no events.
    Handshake(HandshakeResponse),
    /// No lookup is configured: these events belong to the install itself.
    Events(Vec<Value>),
    /// The config routes by `context_lookup_field_*`: find the account whose context
    /// [`matches`](AccountLookup::matches), then read its events with
    /// [`transform_for`](AccountLookup::transform_for).
    NeedsAccount(AccountLookup),
    /// The config routes by `context_lookup_field_*` but `context_lookup_field_value`
    /// yields nothing for this request: it belongs to no account.
    NoLookupValue,
}

/// A verified install-level request waiting for its account: the account context key
/// (`field`, dots walk into nested objects) and the value the request carries for it.
///
/// It holds the parsed request and the handler's context (the host variables), so
/// [`transform_for`](Self::transform_for) neither parses nor verifies again.
#[derive(Clone)]
pub struct AccountLookup {
    field: String,
    value: Value,
    input: Value,
    context: Value,
    transform: Option<WebhookExpression>,
}

/// Shows the field and value to match, never the request or the context (secrets).
impl fmt::Debug for AccountLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountLookup")
            .field("field", &self.field)
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

impl AccountLookup {
    pub(crate) fn new(
        lookup: &ContextLookup,
        value: Value,
        input: Value,
        context: Value,
        transform: Option<WebhookExpression>,
    ) -> Self {
        Self {
            field: lookup.field().to_owned(),
            value,
            input,
            context,
            transform,
        }
    }

    /// `context_lookup_field_name`: the account context key to match (`team.id` walks
    /// into `team`; a key that itself contains the dots is read first).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The value of `context_lookup_field_value` for this request.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Whether the account whose context is `account_context` is the one this request
    /// is for: its value at [`field`](Self::field) equals [`value`](Self::value), a
    /// string and a number comparing by their text (`"42"` matches `42`).
    pub fn matches(&self, account_context: &Map<String, Value>) -> bool {
        context_field(account_context, &self.field).is_some_and(|v| same_value(v, &self.value))
    }

    /// The events of this request for the account whose context is
    /// `account_context`: `payload_transform` runs with `$context` = the handler's
    /// context overlaid with `account_context` (as for an account's own webhook).
    ///
    /// # Errors
    /// [`WebhookError::Expression`] when `payload_transform` fails to evaluate,
    /// [`WebhookError::InvalidEvents`] when it returns the wrong shape.
    pub fn transform_for(
        &self,
        account_context: &Map<String, Value>,
    ) -> Result<Vec<Value>, WebhookError> {
        let mut context = self.context.as_object().cloned().unwrap_or_default();
        context.extend(account_context.clone());
        events(
            self.transform.as_ref(),
            &self.input,
            &Value::Object(context),
        )
    }
}

/// The context value at `path` (`team.id` walks into `team`).
fn context_field<'a>(context: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = context.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = context.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// Equal JSON, or a string and a number with the same text.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            *s == n.to_string()
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::{context_field, same_value};

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn context_lookup_walks_paths_and_compares_text() {
        let context = map(json!({"team": {"id": 42}, "a.b": "flat"}));
        assert_eq!(context_field(&context, "team.id"), Some(&json!(42)));
        assert_eq!(context_field(&context, "a.b"), Some(&json!("flat")));
        assert_eq!(context_field(&context, "team.nope"), None);
        assert!(same_value(&json!(42), &json!("42")));
        assert!(!same_value(&json!(true), &json!("true")));
    }
}
