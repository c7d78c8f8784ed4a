//! The JSON scope that `rate_limit` and `error_expression` expressions see.

use serde_json::Value;

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

pub use patchbay_template::expression::headers_json;

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
}
