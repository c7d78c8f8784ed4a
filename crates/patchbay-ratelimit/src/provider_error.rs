//! [`ErrorPolicy`] (`error_expression`) and [`ProviderError`].

use std::fmt;

use patchbay_config::Jsonata;
use patchbay_template::expression::{Bindings, Expression};
use serde_json::{Value, json};

use crate::error::RateLimitError;
use crate::scope::{ResponseView, headers_json, is_truthy, mentions};

/// Most characters of a body shown by [`ProviderError`]'s `Display`.
pub const DISPLAY_BODY_CHARS: usize = 300;

/// `error_expression` of a method, compiled once.
///
/// The expression sees `status`, `headers` (lower-cased names), `data` and `body`
/// (both the parsed body) and `response` (`{status, headers, body}`). A truthy
/// result makes the response an error: a string result is the message, `true`
/// (or another truthy value) gives `provider returned an error (HTTP <status>)`.
/// `undefined`, `null`, `false`, `""` mean "not an error".
///
/// An object result with a numeric `status` (and optionally a string
/// `message`) makes the response an error *of that status*:
/// `{"status": 401, "message": body.error}` turns Slack's
/// `200 {"ok": false, "error": "token_expired"}` into an unauthorized answer,
/// which the executor handles exactly like a provider 401 (see
/// [`check_fault`](Self::check_fault)).
///
/// ```
/// use patchbay_ratelimit::{ErrorPolicy, ResponseView};
/// use serde_json::json;
///
/// let slack = ErrorPolicy::new(Some(&"body.ok = false ? body.error".into()))?;
/// let headers = http::HeaderMap::new();
/// let body = json!({"ok": false, "error": "invalid_auth"});
/// let message = slack.check(&ResponseView { status: 200, headers: &headers, body: Some(&body) })?;
/// assert_eq!(message.as_deref(), Some("invalid_auth"));
/// let ok = json!({"ok": true, "channels": []});
/// assert_eq!(slack.check(&ResponseView { status: 200, headers: &headers, body: Some(&ok) })?, None);
/// # Ok::<(), patchbay_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ErrorPolicy {
    expression: Option<Expression>,
    needs: [bool; 3], // body, data, response
}

impl ErrorPolicy {
    /// Compiles `error_expression` (`None`: no response is an error by expression).
    ///
    /// # Errors
    /// [`RateLimitError::Compile`].
    pub fn new(expression: Option<&Jsonata>) -> Result<Self, RateLimitError> {
        let expression = expression
            .map(|e| {
                e.compile().map_err(|source| RateLimitError::Compile {
                    field: "error_expression",
                    source,
                })
            })
            .transpose()?;
        let needs = expression.as_ref().map_or([false; 3], |e| {
            let s = e.source();
            [
                mentions(s, "body"),
                mentions(s, "data"),
                mentions(s, "response"),
            ]
        });
        Ok(Self { expression, needs })
    }

    /// Whether an expression is configured.
    pub fn is_configured(&self) -> bool {
        self.expression.is_some()
    }

    /// The error message when `response` is an error by the expression.
    ///
    /// # Errors
    /// [`RateLimitError::Evaluate`] when the expression fails at run time.
    pub fn check(&self, response: &ResponseView<'_>) -> Result<Option<String>, RateLimitError> {
        Ok(self.check_fault(response)?.map(|fault| fault.message))
    }

    /// The error when `response` is an error by the expression: its message,
    /// and the status the expression gave it (an object result with a
    /// numeric `status`, e.g. `{"status": 401, "message": "token_expired"}`).
    ///
    /// ```
    /// use patchbay_ratelimit::{ErrorPolicy, ResponseView};
    /// use serde_json::json;
    ///
    /// let slack = ErrorPolicy::new(Some(
    ///     &"body.ok = false ? (body.error in ['token_expired', 'invalid_auth'] ? {'status': 401, 'message': body.error} : body.error)".into(),
    /// ))?;
    /// let headers = http::HeaderMap::new();
    /// let body = json!({"ok": false, "error": "token_expired"});
    /// let fault = slack.check_fault(&ResponseView { status: 200, headers: &headers, body: Some(&body) })?.unwrap();
    /// assert_eq!((fault.status, fault.message.as_str()), (Some(401), "token_expired"));
    /// # Ok::<(), patchbay_ratelimit::RateLimitError>(())
    /// ```
    ///
    /// # Errors
    /// [`RateLimitError::Evaluate`] when the expression fails at run time.
    pub fn check_fault(
        &self,
        response: &ResponseView<'_>,
    ) -> Result<Option<Fault>, RateLimitError> {
        let Some(expression) = &self.expression else {
            return Ok(None);
        };
        let headers = headers_json(response.headers);
        let status = Value::from(response.status);
        let body = response.body.unwrap_or(&Value::Null);
        let [needs_body, needs_data, needs_response] = self.needs;
        // The body is read in place, never copied (it can be large).
        let response_object = needs_response
            .then(|| json!({"status": response.status, "headers": headers.clone(), "body": body}));
        let mut scope: Vec<(&str, &Value)> = vec![("status", &status), ("headers", &headers)];
        if let Some(object) = &response_object {
            scope.push(("response", object));
        }
        if needs_data {
            scope.push(("data", body));
        }
        if needs_body {
            scope.push(("body", body));
        }
        let result = expression
            .evaluate_scope(&scope, &Bindings::new())
            .map_err(|source| RateLimitError::Evaluate {
                field: "error_expression",
                source,
            })?;
        Ok(match result {
            None => None,
            Some(Value::String(message)) if !message.is_empty() => Some(Fault::message(message)),
            Some(Value::Object(object)) if status_of(&object).is_some() => {
                let status = status_of(&object);
                let message = match object.get("message") {
                    Some(Value::String(m)) if !m.is_empty() => truncate(m, 1000),
                    _ => generic_message(status.unwrap_or(response.status)),
                };
                Some(Fault { message, status })
            }
            Some(value) if is_truthy(&value) => Some(Fault::message(match value {
                Value::Bool(true) => generic_message(response.status),
                other => truncate(&other.to_string(), 1000),
            })),
            Some(_) => None,
        })
    }
}

/// A response flagged as an error by `error_expression`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fault {
    /// The error message.
    pub message: String,
    /// The status the expression gave the error (its object result's
    /// `status`, 100–599), when it gave one. `Some(401)` makes the response
    /// count as unauthorized.
    pub status: Option<u16>,
}

impl Fault {
    fn message(message: String) -> Self {
        Self {
            message,
            status: None,
        }
    }
}

/// The `status` of an object result, when it is an HTTP status number.
fn status_of(object: &serde_json::Map<String, Value>) -> Option<u16> {
    object
        .get("status")
        .and_then(Value::as_f64)
        .filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s))
        .map(|s| s as u16)
}

fn generic_message(status: u16) -> String {
    format!("provider returned an error (HTTP {status})")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

/// An error response from a provider, with everything needed to debug it.
///
/// `Display` shows the status and message, plus at most
/// [`DISPLAY_BODY_CHARS`] characters of the body when there is no message;
/// never the headers (they may hold tokens). The full body and headers stay
/// available as fields.
///
/// ```
/// use patchbay_ratelimit::ProviderError;
/// let err = ProviderError::new(200, http::HeaderMap::new(), serde_json::json!({"ok": false}), Some("invalid_auth".into()));
/// assert_eq!(err.to_string(), "provider error (HTTP 200): invalid_auth");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    /// HTTP status of the response.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The parsed body (a JSON string for non-JSON bodies, `null` when empty).
    pub body: Value,
    /// The message (from `error_expression`, or none).
    pub message: Option<String>,
}

impl ProviderError {
    /// Builds the error.
    pub fn new(
        status: u16,
        headers: http::HeaderMap,
        body: Value,
        message: Option<String>,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            message,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "provider error (HTTP {})", self.status)?;
        match &self.message {
            Some(message) => write!(f, ": {}", truncate(message, DISPLAY_BODY_CHARS)),
            None if self.body.is_null() => Ok(()),
            None => {
                let body = match &self.body {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                write!(f, ": {}", truncate(&body, DISPLAY_BODY_CHARS))
            }
        }
    }
}

impl std::error::Error for ProviderError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expr: &str, status: u16, body: Value) -> Option<String> {
        let policy = ErrorPolicy::new(Some(&expr.into())).unwrap();
        let headers = http::HeaderMap::new();
        policy
            .check(&ResponseView {
                status,
                headers: &headers,
                body: Some(&body),
            })
            .unwrap()
    }

    #[test]
    fn results() {
        assert_eq!(
            check("status >= 400", 500, json!({})).as_deref(),
            Some("provider returned an error (HTTP 500)")
        );
        assert_eq!(check("status >= 400", 200, json!({})), None);
        assert_eq!(check("data.missing", 200, json!({})), None);
        assert_eq!(check("null", 200, json!({})), None);
        assert_eq!(
            check("response.body.ok = false ? 'no'", 200, json!({"ok": false})).as_deref(),
            Some("no")
        );
        assert_eq!(
            check("data.errors", 200, json!({"errors": {"a": 1}})).as_deref(),
            Some(r#"{"a":1}"#)
        );
        // Jira
        assert_eq!(
            check(
                "status >= 400 ? $join(body.errorMessages, '; ')",
                400,
                json!({"errorMessages": ["a", "b"], "errors": {}})
            )
            .as_deref(),
            Some("a; b")
        );
    }

    #[test]
    fn object_results_carry_a_status() {
        let policy = ErrorPolicy::new(Some(
            &"body.ok = false ? {'status': 401, 'message': body.error}".into(),
        ))
        .unwrap();
        let headers = http::HeaderMap::new();
        let body = json!({"ok": false, "error": "token_expired"});
        let view = ResponseView {
            status: 200,
            headers: &headers,
            body: Some(&body),
        };
        assert_eq!(
            policy.check_fault(&view).unwrap(),
            Some(Fault {
                message: "token_expired".into(),
                status: Some(401)
            })
        );
        assert_eq!(
            check("{'status': 403}", 200, json!({})).as_deref(),
            Some("provider returned an error (HTTP 403)")
        );
        // An object without a usable status is a plain truthy result.
        assert_eq!(
            check("{'status': 'x'}", 200, json!({})).as_deref(),
            Some(r#"{"status":"x"}"#)
        );
    }

    #[test]
    fn display_truncates_huge_bodies() {
        let err = ProviderError::new(
            502,
            http::HeaderMap::new(),
            Value::String("x".repeat(100_000)),
            None,
        );
        let shown = err.to_string();
        assert!(
            shown.chars().count() < DISPLAY_BODY_CHARS + 40,
            "{}",
            shown.len()
        );
        assert!(shown.starts_with("provider error (HTTP 502): xxx"));
        assert_eq!(err.body.as_str().map(str::len), Some(100_000));
    }
}
