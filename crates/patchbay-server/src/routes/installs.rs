//! `/environment-integration` and `/environment-integration/{id}`: integrations
//! installed in the environment.
//!
//! An `override` is checked by applying it to the integration's config and
//! validating the result (422 with paths starting at `config`). Answers show
//! the override's secrets as the mask `********` (see [`crate::redact`]); a
//! mask sent back in a `PATCH` keeps the stored secret at its path.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use patchbay::config::{apply_override, validate_integration_config};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::redact::{environment_integration_json, restore_masked};
use crate::state::AppState;
use crate::store::{EnvironmentIntegrationPatch, NewEnvironmentIntegration};

/// The body of `POST /environment-integration`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// The integration to install.
    pub integration_id: String,
    /// Config overrides (may hold `credentials.config.client`).
    #[serde(default, rename = "override")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Map<String, Value>>,
    /// Enabled (default true).
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Shown in the catalog (default true).
    #[serde(default)]
    pub show_in_catalog: Option<bool>,
}

/// The body of `PATCH /environment-integration/{id}`; `override` replaces the
/// stored one wholesale (`null` removes it).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstall {
    /// New catalog flag.
    #[serde(default)]
    pub show_in_catalog: Option<bool>,
    /// New enabled flag.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// The new override.
    #[serde(default, rename = "override", deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Option<Map<String, Value>>>,
}

/// Puts the stored secrets back where `sent` holds the answer's mask.
///
/// # Errors
///
/// 422 with the path of every mask that stands for no stored secret.
fn unmask(sent: &mut Map<String, Value>, stored: Option<&Map<String, Value>>) -> ApiResult<()> {
    restore_masked(sent, stored)
        .map_err(|errors| ApiError::invalid("the override is invalid", errors))
}

/// 422 unless `override_` applied over the integration's config validates.
async fn check_override(
    state: &AppState,
    env: &str,
    integration_id: &str,
    override_: Option<&Map<String, Value>>,
) -> ApiResult<()> {
    let Some(override_) = override_ else {
        return Ok(());
    };
    let integration = state.store.get_integration(env, integration_id).await?;
    let merged = apply_override(&integration.config, &Value::Object(override_.clone()));
    validate_integration_config(&merged)
        .map(|_| ())
        .map_err(|errors| {
            ApiError::from_validation(
                "the integration config with this override is invalid",
                Some("config"),
                &errors,
            )
        })
}

/// `GET /environment-integration?limit=&next_cursor=` → `{result, next_cursor}`.
#[utoipa::path(
    get,
    path = "/environment-integration",
    operation_id = "list_environment_integrations",
    summary = "List environment integrations",
    description = "The environment's installs, a page at a time (`{result, next_cursor}`), overrides without secrets.",
    tag = "environment-integrations",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 5000 (default 100)."),
        ("next_cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "One page of the environment's installs, oldest first, overrides without secrets.", body = crate::openapi::EnvironmentIntegrationPage),
        (status = 400, description = "A bad `limit`, a `next_cursor` this server did not issue, or a query string that cannot be decoded.", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let page = QueryParams::parse(raw.as_deref())?.page()?;
    let page = state
        .store
        .list_environment_integrations(&env, &page)
        .await?;
    let result: Vec<Value> = page
        .result
        .iter()
        .map(environment_integration_json)
        .collect();
    Ok(Json(
        json!({"result": result, "next_cursor": page.next_cursor}),
    ))
}

/// `POST /environment-integration` → 201 with the installed integration.
#[utoipa::path(
    post,
    path = "/environment-integration",
    operation_id = "create_environment_integration",
    summary = "Install an integration",
    description = "Installs an integration of the environment (once per integration). `is_enabled` and `show_in_catalog` default to `true`. The `override` is layered over the integration's config (objects merge key by key, `null` keeps the base value, other values replace it) and the result must validate (`422` with paths starting at `config`). Its secrets are stored encrypted and never answered.",
    tag = "environment-integrations",
    request_body = Install,
    responses(
        (status = 201, description = "The installed integration (override without secrets).", body = crate::openapi::EnvironmentIntegration),
        (status = 400, description = "Malformed JSON or an empty body.", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such integration in the environment.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The integration is already installed.", body = crate::openapi::ErrorBody),
        (status = 422, description = "A body of the wrong shape, or an override whose merged config is invalid \
            (paths starting at `config`).", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(mut body): ApiJson<Install>,
) -> ApiResult<impl IntoResponse> {
    if let Some(override_) = body.override_.as_mut() {
        unmask(override_, None)?;
    }
    check_override(&state, &env, &body.integration_id, body.override_.as_ref()).await?;
    let install = state
        .store
        .install_integration(
            &env,
            NewEnvironmentIntegration {
                integration_id: body.integration_id,
                show_in_catalog: body.show_in_catalog.unwrap_or(true),
                is_enabled: body.is_enabled.unwrap_or(true),
                override_: body.override_,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(environment_integration_json(&install)),
    ))
}

/// `GET /environment-integration/{id}`.
#[utoipa::path(
    get,
    path = "/environment-integration/{id}",
    operation_id = "get_environment_integration",
    summary = "Get an environment integration",
    description = "One install, its override without secrets.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    responses(
        (status = 200, description = "The install (override without secrets).", body = crate::openapi::EnvironmentIntegration),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such install in the environment.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let install = state.store.get_environment_integration(&env, &id).await?;
    Ok(Json(environment_integration_json(&install)))
}

/// `PATCH /environment-integration/{id}`.
#[utoipa::path(
    patch,
    path = "/environment-integration/{id}",
    operation_id = "update_environment_integration",
    summary = "Update an environment integration",
    description = "Absent fields are kept; `override` replaces the stored override wholesale (`null` removes it) and is validated as for `POST`.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    request_body = UpdateInstall,
    responses(
        (status = 200, description = "The changed install (override without secrets).", body = crate::openapi::EnvironmentIntegration),
        (status = 400, description = "Malformed JSON or an empty body.", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such install in the environment.", body = crate::openapi::ErrorBody),
        (status = 422, description = "A body of the wrong shape, or an override whose merged config is invalid.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<UpdateInstall>,
) -> ApiResult<Json<Value>> {
    if let Some(Some(override_)) = body.override_.as_mut() {
        let current = state.store.get_environment_integration(&env, &id).await?;
        unmask(override_, current.override_.as_ref())?;
        let override_ = &*override_;
        check_override(&state, &env, &current.integration_id, Some(override_)).await?;
    }
    let patch = EnvironmentIntegrationPatch {
        show_in_catalog: body.show_in_catalog,
        is_enabled: body.is_enabled,
        override_: body.override_,
    };
    let install = state
        .store
        .update_environment_integration(&env, &id, patch)
        .await?;
    Ok(Json(environment_integration_json(&install)))
}

/// `DELETE /environment-integration/{id}` → `{id}` (409 while accounts use it).
#[utoipa::path(
    delete,
    path = "/environment-integration/{id}",
    operation_id = "delete_environment_integration",
    summary = "Uninstall an integration",
    description = "Answers `{\"id\": \"…\"}`; `409` while accounts use it.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    responses(
        (status = 200, description = "Uninstalled.", body = crate::openapi::Deleted),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such install in the environment.", body = crate::openapi::ErrorBody),
        (status = 409, description = "Accounts use the install.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .delete_environment_integration(&env, &id)
        .await?;
    Ok(deleted(&id))
}
