//! Handshake responses produced by `handle_verification`.

use serde_json::Value;

use crate::error::WebhookError;

/// The response to send for a provider handshake (Slack `url_verification`, Zoom
/// `endpoint.url_validation`, Microsoft Graph `validationToken`, Meta `hub.challenge`).
///
/// Built from the `{statusCode, body, headers?}` object that `handle_verification`
/// returns. A string body is sent as `text/plain`, anything else as JSON, unless the
/// expression set `content-type` itself.
#[derive(Debug, Clone, PartialEq)]
pub struct HandshakeResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names lower case), including `content-type`.
    pub headers: Vec<(String, String)>,
    /// The body value as returned by the expression.
    pub body: Value,
}

impl HandshakeResponse {
    /// Interprets an expression result. `null` means "no handshake".
    pub(crate) fn from_value(value: Value) -> Result<Option<Self>, WebhookError> {
        let invalid = |reason| WebhookError::InvalidHandshake { reason };
        let object = match value {
            Value::Null => return Ok(None),
            Value::Object(object) => object,
            _ => {
                return Err(invalid(
                    "expected an object {statusCode, body, headers?} or null",
                ));
            }
        };
        let status = match object.get("statusCode") {
            None => 200,
            Some(code) => code
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| invalid("statusCode is not an HTTP status"))?,
        };
        let body = object.get("body").cloned().unwrap_or(Value::Null);
        let mut headers = Vec::new();
        match object.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return Err(invalid("header values must be strings")),
                    };
                    headers.push((name.to_ascii_lowercase(), text));
                }
            }
            Some(_) => return Err(invalid("headers must be an object")),
        }
        if !headers.iter().any(|(n, _)| n == "content-type") {
            let ct = if body.is_string() {
                "text/plain; charset=utf-8"
            } else {
                "application/json"
            };
            headers.push(("content-type".into(), ct.into()));
        }
        Ok(Some(Self {
            status,
            headers,
            body,
        }))
    }

    /// The body bytes to send: a string body verbatim, anything else as JSON.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Value::String(s) => s.clone().into_bytes(),
            Value::Null => Vec::new(),
            other => other.to_string().into_bytes(),
        }
    }

    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
