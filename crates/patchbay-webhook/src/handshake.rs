//! Handshake responses produced by `handle_verification`.

use serde_json::Value;

use crate::error::WebhookError;

/// What a `handle_verification` expression can do with the request it answers.
///
/// Decided once from the expression's source: a JSONata function is reachable only
/// through a `$name` token, so an expression that names none of
/// [`SIGNING_FUNCTIONS`] cannot compute a keyed hash of request data. Tokens inside
/// string literals count too (a false "signing" only means the handshake waits for
/// verification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// Cannot sign: it echoes or compares what the request carries (Slack
    /// `challenge`, Microsoft Graph `validationToken`, Meta `hub.challenge`). Answers
    /// unverified requests, because providers send such handshakes unsigned.
    Echo,
    /// Can sign request data (Zoom's `encryptedToken`). Answers verified requests
    /// only, so it is never a signing oracle.
    Signing,
}

/// The functions that make a handshake [`HandshakeKind::Signing`]: the keyed and
/// unkeyed hash extensions, and `$eval`, which can reach any function by a computed
/// name.
pub const SIGNING_FUNCTIONS: [&str; 3] = ["sign", "digest", "eval"];

impl HandshakeKind {
    /// The kind of the `handle_verification` expression `source`.
    ///
    /// ```
    /// use patchbay_webhook::HandshakeKind;
    /// assert_eq!(HandshakeKind::of("{'body': body.challenge}"), HandshakeKind::Echo);
    /// assert_eq!(
    ///     HandshakeKind::of("$sign(body.payload.plainToken, 'SHA-256', $context.secret, 'hex')"),
    ///     HandshakeKind::Signing
    /// );
    /// // A longer name is another variable, not `$sign`.
    /// assert_eq!(HandshakeKind::of("$signature"), HandshakeKind::Echo);
    /// ```
    pub fn of(source: &str) -> Self {
        let mut rest = source;
        while let Some(dollar) = rest.find('$') {
            let after = &rest[dollar + 1..];
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if SIGNING_FUNCTIONS.contains(&&after[..end]) {
                return Self::Signing;
            }
            rest = &after[end..];
        }
        Self::Echo
    }
}

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
