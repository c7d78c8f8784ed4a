//! `GET /health`, `GET /schema/integration-config.json` and `GET /openapi.json`:
//! routes that need no storage and no token; and `GET /ping`, which checks the token.

use std::sync::LazyLock;

use axum::Json;
use serde_json::Value;

use super::responses::AuthedErrors;
use super::views::{Health, Pong};

/// The health check.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    summary = "Health check",
    description = "Answers `{\"status\": \"ok\"}` while the server is up. Needs no token and no storage.",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The server is up.", body = Health)),
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Truto's `GET /ping`: whether the server is up and the API token is good
/// (truto-python-sdk's `TrutoApi.ping()` calls it and takes any 2xx answer).
#[utoipa::path(
    get,
    path = "/ping",
    operation_id = "ping",
    summary = "Check the API token",
    description = "Answers `{\"status\": \"ok\", \"environment_id\": ...}` for a valid API token (the environment it acts in), 401 otherwise. Truto's API has this route (truto-python-sdk's `ping()`); Truto does not document its answer, so any client should only rely on the status.",
    tag = "meta",
    responses(
        (status = 200, description = "The token is good.", body = Pong),
        AuthedErrors,
    ),
)]
pub async fn ping(crate::auth::Env(environment_id): crate::auth::Env) -> Json<Pong> {
    Json(Pong {
        status: "ok",
        environment_id,
    })
}

/// The JSON Schema (draft 2020-12) of integration configs.
#[utoipa::path(
    get,
    path = "/schema/integration-config.json",
    operation_id = "integration_config_schema",
    summary = "The integration config JSON Schema",
    description = "The JSON Schema (draft 2020-12) of integration configs, as in `docs/integration-config.schema.json`.",
    tag = "meta",
    security(()),
    responses((
        status = 200,
        description = "The JSON Schema (draft 2020-12) of integration configs, as in \
            `docs/integration-config.schema.json`.",
        body = Object,
    )),
)]
pub async fn integration_config_schema() -> Json<Value> {
    Json(patchbay::config::integration_config_schema().clone())
}

/// This API's OpenAPI document ([`crate::openapi::openapi`]).
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_json",
    summary = "This OpenAPI document",
    description = "The OpenAPI 3.1 document of every route, generated from the handlers' annotations.",
    tag = "meta",
    security(()),
    responses((
        status = 200,
        description = "The OpenAPI 3.1 document of every route, generated from the handlers.",
        body = Object,
    )),
)]
pub async fn openapi_json() -> Json<Value> {
    static DOCUMENT: LazyLock<Value> =
        LazyLock::new(|| serde_json::to_value(crate::openapi::openapi()).unwrap_or(Value::Null));
    Json(DOCUMENT.clone())
}
