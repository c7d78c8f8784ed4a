//! Reading a response body in the method's `api_response_format`.

use serde_json::Value;

/// How a response body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseFormat {
    /// JSON (the default). An empty body is `null`.
    Json,
    /// Text, as a JSON string.
    Text,
}

impl ResponseFormat {
    /// The format a method's `api_response_format` names; unknown names read as text.
    pub(crate) fn from_config(name: Option<&str>) -> Self {
        match name.map(str::to_ascii_lowercase).as_deref() {
            None | Some("json") => Self::Json,
            Some(_) => Self::Text,
        }
    }
}

/// A body that is not what its format promised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the provider's response is not valid JSON: {reason} (status {status}, {length} bytes)")]
pub struct ParseError {
    /// HTTP status of the response.
    pub status: u16,
    /// Body length in bytes.
    pub length: usize,
    /// What the JSON parser reported.
    pub reason: String,
}

/// Parses `body` as `format`.
///
/// With `strict` (the method's `throw_error_on_parse_error`) a JSON body that
/// does not parse is an error; otherwise it is kept as a string so callers
/// (and `error_expression`) can still see it. Error statuses are lenient
/// either way: providers' HTML error pages are common.
///
/// # Errors
///
/// [`ParseError`] for an unparseable JSON body of a success status when `strict`.
pub(crate) fn parse_body(
    body: &[u8],
    status: u16,
    format: ResponseFormat,
    strict: bool,
) -> Result<Value, ParseError> {
    match format {
        ResponseFormat::Text => Ok(Value::String(String::from_utf8_lossy(body).into_owned())),
        ResponseFormat::Json if body.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
        ResponseFormat::Json => match serde_json::from_slice(body) {
            Ok(value) => Ok(value),
            Err(e) if strict && status < 400 => Err(ParseError {
                status,
                length: body.len(),
                reason: e.to_string(),
            }),
            Err(_) => Ok(Value::String(String::from_utf8_lossy(body).into_owned())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_by_format() {
        assert_eq!(
            parse_body(b"{\"a\":1}", 200, ResponseFormat::Json, true).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            parse_body(b"  ", 204, ResponseFormat::Json, true).unwrap(),
            Value::Null
        );
        assert_eq!(
            parse_body(b"<html>", 502, ResponseFormat::Json, true).unwrap(),
            json!("<html>")
        );
        assert_eq!(
            parse_body(b"<html>", 200, ResponseFormat::Json, false).unwrap(),
            json!("<html>")
        );
        let err = parse_body(b"{\"a\":", 200, ResponseFormat::Json, true).unwrap_err();
        assert_eq!(err.status, 200);
        assert_eq!(
            parse_body(b"ok", 200, ResponseFormat::Text, true).unwrap(),
            json!("ok")
        );
    }
}
