//! The pipeline's outcomes as HTTP answers: handshakes and errors.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay::webhook::{HandshakeResponse, VerificationError, WebhookError};

use crate::error::ApiError;

/// The API error of a facade failure on an inbound webhook: the pipeline's as
/// [`webhook_error`], 404 for an install without a `webhook` config, 500 for
/// one that does not compile.
pub(super) fn facade_error(error: patchbay::Error) -> ApiError {
    match error {
        patchbay::Error::Webhook(error) => webhook_error(error),
        patchbay::Error::InvalidWebhook { source, .. } => config_error(&source),
        error if error.is_not_found() => ApiError::not_found(error.to_string()),
        error => {
            tracing::error!(error = %error, "an inbound webhook failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the inbound webhook could not be handled",
            )
        }
    }
}

/// The API error of a webhook pipeline failure (see the [module docs](super)).
pub(super) fn webhook_error(error: WebhookError) -> ApiError {
    match error {
        WebhookError::Verification(VerificationError::Config(e)) | WebhookError::Config(e) => {
            config_error(&e)
        }
        WebhookError::Verification(e @ VerificationError::BodyTooLarge { .. }) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        WebhookError::Verification(e) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("webhook verification failed: {e}"),
        ),
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

/// 500 for a `webhook` config that cannot run; the message names fields only.
fn config_error(error: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %error, "an inbound webhook config cannot be used");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the integration's webhook config cannot be used: {error}"),
    )
}

/// The handshake response as an HTTP response (invalid header names or
/// values are skipped).
pub(super) fn handshake_response(handshake: &HandshakeResponse) -> Response {
    let status = StatusCode::from_u16(handshake.status).unwrap_or(StatusCode::OK);
    let mut response = (status, handshake.body_bytes()).into_response();
    for (name, value) in &handshake.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
