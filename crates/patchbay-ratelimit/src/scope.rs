//! The JSON scope that `rate_limit` and `error_expression` expressions see.

use serde_json::{Map, Value};

/// The parts of a provider response that expressions may read.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: &'a http::HeaderMap,
    /// The parsed body, when there is one (`None` for an unparsed or empty body).
    pub body: Option<&'a Value>,
}

/// Response headers as a JSON object with lower-case names (HTTP names are
/// case-insensitive; `http` already lower-cases them). Repeated headers are
/// joined with `, ` as RFC 9110 allows.
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

/// Whether `source` mentions the identifier `name` (as a whole word). Used to
/// skip copying a response body into a scope whose expression cannot read it.
pub(crate) fn mentions(source: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(name).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// JSONata truthiness (`false`, `null`, `0`, `""`, empty arrays/objects and
/// arrays of only falsy members are falsy).
pub(crate) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_truthy),
        Value::Object(map) => !map.is_empty(),
    }
}

/// A JSON number, or a string holding one, as `f64`.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("body.ok = false", "body"));
        assert!(mentions("$join(body.errorMessages)", "body"));
        assert!(!mentions("status = 429 and headers.`x-nobody`", "body"));
        assert!(!mentions("somebody_else", "body"));
    }

    #[test]
    fn header_names_lower_cased_and_joined() {
        let mut h = http::HeaderMap::new();
        h.append("X-RateLimit-Remaining", "0".parse().unwrap());
        h.append("Link", "<a>".parse().unwrap());
        h.append("Link", "<b>".parse().unwrap());
        let json = headers_json(&h);
        assert_eq!(json["x-ratelimit-remaining"], "0");
        assert_eq!(json["link"], "<a>, <b>");
    }
}
