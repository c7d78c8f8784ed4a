//! `POST /integration/validate`: checks an integration config without storing it.
//! Needs no token.

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// `200 {"valid": true, "methods": N}`, or 422 with every problem and its path
/// (a body that is not JSON gives one problem at `(root)` with line and column).
#[utoipa::path(
    post,
    path = "/integration/validate",
    operation_id = "validate_integration",
    summary = "Validate an integration config",
    description = "Checks an integration config without storing it: `200 {\"valid\": true, \"methods\": N}`, or `422` with every problem and its JSON path. A body that is not JSON gives one problem at `(root)` with the line and column.",
    tag = "meta",
    security(()),
    request_body(
        content = Object,
        description = "An integration config (JSON), checked without being stored.",
    ),
    responses(
        (status = 200, description = "The config is valid.", body = crate::openapi::Validated),
        (status = 400, description = "The body is not UTF-8.", body = crate::openapi::ErrorBody),
        (status = 422, description = "Every problem of the config with its JSON path; a body \
            that is not JSON gives one problem at `(root)` with the line and column.",
            body = crate::openapi::ErrorBody),
    ),
)]
pub async fn validate_integration(body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return ApiError::bad_request("the request body is not UTF-8").into_response();
    };
    match patchbay::config::load_integration_config(text) {
        Ok(config) => axum::Json(json!({"valid": true, "methods": config.method_names().count()}))
            .into_response(),
        Err(errors) => {
            let mut error =
                ApiError::from_validation("the integration config is invalid", None, &errors);
            if let ApiError::Invalid { message, errors } = &mut error {
                *message = format!("the integration config has {} problem(s)", errors.len());
            }
            error.into_response()
        }
    }
}
