//! HTTP headers as expressions see them.

use serde_json::{Map, Value};

/// Response headers as a JSON object with lower-case names, the `headers` of
/// the scopes that `rate_limit`, `error_expression` and `dynamic` pagination
/// expressions read. HTTP names are case-insensitive (`http` already
/// lower-cases them); repeated headers are joined with `, `, as RFC 9110
/// allows; values that are not UTF-8 are converted lossily.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.append("X-RateLimit-Remaining", "0".parse().unwrap());
/// headers.append("Link", "<a>".parse().unwrap());
/// headers.append("Link", "<b>".parse().unwrap());
/// let json = patchbay_template::expression::headers_json(&headers);
/// assert_eq!(json, serde_json::json!({"x-ratelimit-remaining": "0", "link": "<a>, <b>"}));
/// ```
pub fn headers_json(headers: &http::HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    Value::Object(map)
}
