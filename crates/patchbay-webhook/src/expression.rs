//! The one place this crate touches the JSONata engine.
//!
//! Webhook expressions see the inbound request as their input root:
//! `{method, url, headers, query, body, raw_body}` where `headers` has lower-case
//! names (repeated headers joined with `", "`), `query` maps names to the first
//! decoded value, `body` is parsed JSON, or an object for form bodies, or the text,
//! or null when empty, and `raw_body` is the body as (lossy UTF-8) text. The account
//! context is bound as `$context`.

use patchbay_template::expression::{Bindings, Expression, ExpressionError};
use serde_json::{Map, Value};

use crate::request::InboundRequest;

/// A compiled webhook expression.
#[derive(Debug, Clone)]
pub(crate) struct WebhookExpression {
    inner: Expression,
}

impl WebhookExpression {
    pub(crate) fn compile(source: &str) -> Result<Self, ExpressionError> {
        Ok(Self {
            inner: Expression::compile(source)?,
        })
    }

    /// Evaluates against the request; `None` means undefined.
    pub(crate) fn evaluate(
        &self,
        input: &Value,
        context: &Value,
    ) -> Result<Option<Value>, ExpressionError> {
        let bindings = Bindings::new().with("context", context.clone());
        self.inner.evaluate(input, &bindings)
    }
}

/// The JSONata input root for `request`.
pub(crate) fn request_input(request: &InboundRequest) -> Value {
    let mut headers = Map::new();
    for (name, value) in request.headers() {
        let key = name.to_ascii_lowercase();
        match headers.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(key, Value::String(value.to_owned()));
            }
        }
    }
    let mut query = Map::new();
    for (name, value) in request.query_pairs() {
        query.entry(name).or_insert(Value::String(value));
    }
    let raw = request.body();
    let body = if raw.is_empty() {
        Value::Null
    } else if request.content_type_contains("application/x-www-form-urlencoded") {
        let mut form = Map::new();
        for (name, value) in request.form_pairs() {
            form.entry(name).or_insert(Value::String(value));
        }
        Value::Object(form)
    } else {
        serde_json::from_slice(raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
    };
    let mut root = Map::new();
    root.insert("method".into(), Value::String(request.method().to_owned()));
    root.insert("url".into(), Value::String(request.url().to_owned()));
    root.insert("headers".into(), Value::Object(headers));
    root.insert("query".into(), Value::Object(query));
    root.insert("body".into(), body);
    root.insert(
        "raw_body".into(),
        Value::String(String::from_utf8_lossy(raw).into_owned()),
    );
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_input() {
        let req = InboundRequest::new("post", "https://x/h?validationToken=a%20b")
            .with_header("Content-Type", "application/json")
            .with_header("X-A", "1")
            .with_header("x-a", "2")
            .with_body(br#"{"k":1}"#.to_vec());
        assert_eq!(
            request_input(&req),
            json!({
                "method": "POST",
                "url": "https://x/h?validationToken=a%20b",
                "headers": {"content-type": "application/json", "x-a": "1, 2"},
                "query": {"validationToken": "a b"},
                "body": {"k": 1},
                "raw_body": "{\"k\":1}"
            })
        );
        let form = InboundRequest::new("POST", "https://x")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(b"a=1&b=x+y".to_vec());
        assert_eq!(request_input(&form)["body"], json!({"a": "1", "b": "x y"}));
    }
}
