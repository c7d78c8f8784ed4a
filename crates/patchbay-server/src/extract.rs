//! Request extractors whose failures answer in Truto's error shape.
//!
//! [`ApiJson`] parses a JSON body and says exactly what is wrong:
//!
//! * not JSON → 400 with the line and column (`malformed JSON at line 1, column 9: ...`),
//!   whatever the body's keys: the syntax is checked before any field is looked at;
//! * JSON that is not an object (an array, a string, ...) → 422 at `(root)`: serde
//!   would otherwise accept an array as a struct's fields by position;
//! * an unknown field, a missing field or a value of the wrong type → 422
//!   naming the field and its path (`errors: [{path, message}]`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON object request body deserialized into `T`, with clear errors.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        parse_json_object(&bytes).map(ApiJson)
    }
}

/// Parses `bytes`, which must be a JSON object, into `T`; see the module docs
/// for the errors.
///
/// # Errors
///
/// 400 for an empty body or malformed JSON, 422 for JSON that is not an
/// object or has the wrong fields.
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_syntax(bytes)?;
    let found = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => return deserialize(bytes),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    };
    let message = format!("expected a JSON object, found {found}");
    Err(ApiError::Invalid {
        message: format!("invalid request body at `(root)`: {message}"),
        errors: vec![FieldError {
            path: "(root)".to_owned(),
            message,
        }],
    })
}

/// Parses `bytes` as any JSON value into `T`; see the module docs for the errors.
///
/// # Errors
///
/// 400 for an empty body or malformed JSON, 422 for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_syntax(bytes)?;
    deserialize(bytes)
}

/// 400 unless `bytes` is one syntactically valid JSON value.
///
/// This runs before `T` sees the body: a typed parse stops at the first field
/// `T` rejects, so `{"unknown": 1` would be reported as an unknown field (422)
/// instead of what it is, malformed JSON.
fn check_syntax(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; expected a JSON object",
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(drop)
        .map_err(|error| json_error("(root)", &error))
}

/// Deserializes syntactically valid JSON into `T`, naming the path of the
/// first value `T` rejects.
fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = match error.path().to_string() {
            p if p == "." => "(root)".to_owned(),
            p => p,
        };
        json_error(&path, &error.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|error| json_error("(root)", &error))?;
    Ok(value)
}

/// 422 naming `path` for a value of the wrong shape, else 400 with the position.
fn json_error(path: &str, error: &serde_json::Error) -> ApiError {
    let message = strip_position(&error.to_string());
    if error.is_data() {
        ApiError::Invalid {
            message: format!("invalid request body at `{path}`: {message}"),
            errors: vec![FieldError {
                path: path.to_owned(),
                message,
            }],
        }
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "malformed JSON at line {}, column {}: {message}",
                error.line(),
                error.column()
            ),
        )
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}
