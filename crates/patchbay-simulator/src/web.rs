//! Small HTTP helpers shared by the provider handlers: query parsing, URL building,
//! JSON responses, body decoding. Nothing here panics on client input.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

/// Decoded query (or form) parameters, in request order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2` (percent-decoding, `+` as space). `None` gives no parameters.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// First value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parses `key` as an unsigned integer. `Ok(None)` when absent, `Err` when not a number.
    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("`{key}` must be a non-negative integer, got `{v}`")),
        }
    }

    /// A copy with `key` set to `value` (replacing every previous value, appended at the end).
    pub(crate) fn with(&self, key: &str, value: impl Into<String>) -> Params {
        let mut pairs: Vec<_> = self.0.iter().filter(|(k, _)| k != key).cloned().collect();
        pairs.push((key.to_owned(), value.into()));
        Params(pairs)
    }

    /// Encodes back to a query string.
    pub(crate) fn encode(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }
}

/// `base` + `?query` (no `?` when the query is empty).
pub(crate) fn url_with(base: &str, params: &Params) -> String {
    let q = params.encode();
    if q.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{q}")
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// 200 JSON.
pub(crate) fn ok(body: Value) -> Response {
    json(StatusCode::OK, body)
}

/// Adds a header if the value is a valid header value (always true for our ASCII values).
pub(crate) fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// A header as text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request body is declared as JSON.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, "content-type").is_some_and(|c| c.to_ascii_lowercase().contains("json"))
}

/// Parses a JSON body; an empty body is `{}`.
pub(crate) fn json_body(body: &Bytes) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Parses a body as JSON or form (by `Content-Type`), as flat string parameters.
/// JSON values that are not strings are rendered as JSON text.
pub(crate) fn flat_body(headers: &HeaderMap, body: &Bytes) -> Result<Params, String> {
    if is_json(headers) {
        let value = json_body(body)?;
        let Value::Object(map) = value else {
            return Err("body must be a JSON object".into());
        };
        Ok(Params(
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
        ))
    } else {
        let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_owned())?;
        Ok(Params::parse(Some(text)))
    }
}
