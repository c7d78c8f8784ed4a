//! The API's error type and its JSON body, Truto's `{statusCode, error, message}`.
//!
//! Messages name ids, fields and paths but never a secret: store and executor
//! errors are built to exclude tokens, keys and context values, and the server
//! adds none of its own.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::store::StorageError;

/// One problem in a request body, with its JSON path (in [`ErrorBody::errors`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FieldErrorBody)]
pub struct FieldError {
    /// Where the problem is: `(root)`, `name`, `config.resources.users.list.method`, `event_types[1]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Why a request failed; answered as `{statusCode, error, message}` plus
/// `errors` (validation problems) or the remote-error fields.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A status and a message (400, 401, 404, 405, 409, ...).
    #[error("{message}")]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// What went wrong, for the caller.
        message: String,
    },
    /// The body is well-formed JSON but invalid: 422 with every problem.
    #[error("{message}")]
    Invalid {
        /// A summary.
        message: String,
        /// Every problem with its path.
        errors: Vec<FieldError>,
    },
    /// A definition (unified model, mapping row, override) that is invalid:
    /// 400 with every problem and its JSON path, as Truto answers them.
    #[error("{message}")]
    Rejected {
        /// A summary.
        message: String,
        /// Every problem with its path.
        errors: Vec<FieldError>,
    },
    /// A unified call failed: the unified error answer the facade produced
    /// (`{message, truto_error_insight?}`, or what the mapping's
    /// `error_mapping` made of the provider's error) with its status;
    /// `statusCode` and `error` are added when the body has none.
    #[error("{}", unified_message(body))]
    Unified {
        /// The status.
        status: StatusCode,
        /// The unified error body.
        body: serde_json::Map<String, Value>,
    },
    /// The provider answered with an error (proxy calls): its status, plus
    /// `truto_is_remote_error: true` and `raw_response` (the provider's body).
    #[error("{message}")]
    Remote {
        /// The provider's status.
        status: StatusCode,
        /// What went wrong.
        message: String,
        /// The provider's parsed body.
        raw_response: Value,
    },
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Status {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 422 from validation problems of the config layer, each path prefixed
    /// with `prefix` (e.g. `config`) when given.
    pub fn from_validation(
        summary: &str,
        prefix: Option<&str>,
        errors: &patchbay::config::ValidationErrors,
    ) -> Self {
        let errors: Vec<FieldError> = errors
            .errors()
            .iter()
            .map(|e| {
                let path = e.path.to_string();
                let path = match prefix {
                    Some(prefix) if path == "(root)" => prefix.to_owned(),
                    Some(prefix) if path.starts_with('[') => format!("{prefix}{path}"),
                    Some(prefix) => format!("{prefix}.{path}"),
                    None => path,
                };
                FieldError {
                    path,
                    message: e.kind.to_string(),
                }
            })
            .collect();
        Self::invalid(summary, errors)
    }

    /// 422 with `errors`, its message `summary` followed by the only problem
    /// (`summary: path: message`) or by how many there are.
    pub fn invalid(summary: &str, errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{summary}: {}: {}", one.path, one.message),
            many => format!("{summary}: {} problems", many.len()),
        };
        Self::Invalid { message, errors }
    }

    /// 400 from validation problems of a definition, each path prefixed
    /// with `prefix` when given (see [`from_validation`](Self::from_validation)).
    pub fn rejected(
        summary: &str,
        prefix: Option<&str>,
        errors: &patchbay::config::ValidationErrors,
    ) -> Self {
        match Self::from_validation(summary, prefix, errors) {
            Self::Invalid { message, errors } => Self::Rejected { message, errors },
            other => other,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Status { status, .. }
            | Self::Remote { status, .. }
            | Self::Unified { status, .. } => *status,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Rejected { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<StorageError> for ApiError {
    /// Not found → 404, conflict → 409, invalid input → 422; anything else is
    /// logged and answered 500 without details.
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound { .. } => Self::not_found(error.to_string()),
            StorageError::Conflict(_) => Self::new(StatusCode::CONFLICT, error.to_string()),
            StorageError::InvalidInput(message) => Self::Invalid {
                message: message.clone(),
                errors: vec![FieldError {
                    path: "(root)".into(),
                    message,
                }],
            },
            other => {
                tracing::error!(error = %other, "store error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server's storage failed; see the server log",
                )
            }
        }
    }
}

// What `ApiError` serializes to, so the documented schema is the answer's
// (the doc comment below is the schema's description).
/// Truto's error body, answered by every failed request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"statusCode": 404, "error": "Not Found", "message": "no integration `int_1`"}))]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The status's reason phrase (`Not Found`, `Unprocessable Entity`).
    pub error: String,
    /// What went wrong, naming the id, field, parameter or check; never a secret.
    pub message: String,
    /// 422 only: every problem of the body, with its JSON path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<FieldError>)]
    pub errors: Option<Vec<FieldError>>,
    /// Proxy calls only: `true` when the provider answered this error (the
    /// status is the provider's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truto_is_remote_error: bool,
    /// Proxy calls only, with `truto_is_remote_error`: the provider's parsed body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_response: Option<Value>,
    /// Unified calls only: why the call failed, by kind
    /// (`missing_required_query_parameters`, `missing_required_body_fields`,
    /// `remote_error`, `rate_limit_error`, ...; each `{description, value?}`).
    /// A mapping's `error_mapping` may add keys of its own to the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub truto_error_insight: Option<Value>,
}

/// The message of a unified error body (its `message` when it is text).
fn unified_message(body: &serde_json::Map<String, Value>) -> String {
    match body.get("message") {
        Some(Value::String(message)) => message.clone(),
        _ => "the unified call failed".to_owned(),
    }
}

impl From<ApiError> for ErrorBody {
    fn from(error: ApiError) -> Self {
        let status = error.status();
        let mut body = Self {
            status_code: status.as_u16(),
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: error.to_string(),
            errors: None,
            truto_is_remote_error: false,
            raw_response: None,
            truto_error_insight: None,
        };
        match error {
            ApiError::Status { .. } => {}
            ApiError::Invalid { errors, .. } | ApiError::Rejected { errors, .. } => {
                body.errors = Some(errors)
            }
            ApiError::Unified { body: unified, .. } => {
                body.truto_error_insight = unified.get("truto_error_insight").cloned();
            }
            ApiError::Remote { raw_response, .. } => {
                body.truto_is_remote_error = true;
                body.raw_response = Some(raw_response);
            }
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Unified { body, .. } = self {
            // The mapped body as the facade made it, with the status added.
            let mut answer = serde_json::Map::new();
            answer.insert("statusCode".into(), status.as_u16().into());
            answer.insert(
                "error".into(),
                status.canonical_reason().unwrap_or("Error").into(),
            );
            answer.insert("message".into(), unified_message(&body).into());
            answer.extend(body);
            return (status, axum::Json(Value::Object(answer))).into_response();
        }
        (status, axum::Json(ErrorBody::from(self))).into_response()
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// The most of a non-JSON error body [`json_error_shape`] reads as the message.
const MAX_PLAIN_ERROR_BYTES: usize = 16 * 1024;

/// Middleware: every error answer in the API's JSON shape.
///
/// Axum's own rejections (a body over the size limit → 413, a path segment
/// that is not UTF-8 → 400, a bad `Content-Type` → 415, ...) answer plain
/// text. This turns any `4xx`/`5xx` answer whose `Content-Type` is
/// `text/plain` (or missing) into `{statusCode, error, message}` with the
/// text as the message, keeping the status and the other headers
/// (`Retry-After`, `Allow`). HTML pages (the connect flow) and the inbound
/// webhook routes, whose answers a provider's handshake config defines, are
/// left alone.
pub async fn json_error_shape(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let inbound = [
        "/integrated-account-webhook/",
        "/environment-integration-webhook/",
    ]
    .iter()
    .any(|prefix| request.uri().path().starts_with(prefix));
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if inbound || !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_PLAIN_ERROR_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let json = ApiError::new(status, message).into_response();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, json_body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(error: ApiError) -> String {
        serde_json::to_string(&ErrorBody::from(error)).unwrap()
    }

    /// The keys, their order and the nulls of every kind of error body.
    #[test]
    fn error_bodies_serialize_exactly() {
        assert_eq!(
            text(ApiError::not_found("no integration `x`")),
            r#"{"statusCode":404,"error":"Not Found","message":"no integration `x`"}"#
        );
        assert_eq!(
            text(ApiError::invalid("the body is invalid", Vec::new())),
            r#"{"statusCode":422,"error":"Unprocessable Entity","message":"the body is invalid: 0 problems","errors":[]}"#
        );
        assert_eq!(
            text(ApiError::Remote {
                status: StatusCode::BAD_GATEWAY,
                message: "provider error".into(),
                raw_response: Value::Null,
            }),
            r#"{"statusCode":502,"error":"Bad Gateway","message":"provider error","truto_is_remote_error":true,"raw_response":null}"#
        );
        let invalid = ApiError::invalid(
            "the webhook is invalid",
            vec![FieldError {
                path: "target_url".into(),
                message: "bad".into(),
            }],
        );
        assert_eq!(
            serde_json::to_value(ErrorBody::from(invalid)).unwrap()["errors"],
            json!([{"path": "target_url", "message": "bad"}])
        );
    }
}
