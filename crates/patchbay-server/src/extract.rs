//! Request extractors whose failures answer in Truto's error shape.
//!
//! [`ApiJson`] parses a JSON body and says exactly what is wrong:
//!
//! * not JSON → 400 with the line and column (`malformed JSON at line 1, column 9: ...`);
//! * an unknown field, a missing field or a value of the wrong type → 422
//!   naming the field and its path (`errors: [{path, message}]`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON request body deserialized into `T`, with clear errors.
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
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as JSON into `T`; see the module docs for the errors.
///
/// # Errors
///
/// 400 for malformed JSON, 422 for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; expected a JSON object",
        ));
    }
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
