//! `/integration` and `/integration/{id}`: integration definitions.
//!
//! Configs are validated with [`validate_integration_config`]; problems answer
//! 422 with `errors: [{path, message}]`, paths starting at `config`. `PATCH`
//! needs the `version` the caller read (409 when it is stale).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use patchbay::config::validate_integration_config;
use serde::Deserialize;
use serde_json::Value;

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{Deleted, IntegrationPage, IntegrationView, Sharing};
use super::{created, deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::query::PageQuery;
use crate::state::AppState;
use crate::store::{IntegrationPatch, NewIntegration};

/// The body of `POST /integration`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegration {
    /// The slug, unique in the environment.
    pub name: String,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Beta flag.
    #[serde(default)]
    pub is_beta: bool,
    /// Sharing policy.
    #[serde(default)]
    pub sharing: Option<Sharing>,
    /// The integration config.
    #[schema(value_type = Object)]
    pub config: Value,
}

impl CreateIntegration {
    /// The integration to store.
    ///
    /// # Errors
    ///
    /// 422 with every problem of the config, paths starting at `config`.
    pub fn validate(self) -> ApiResult<NewIntegration> {
        check_config(&self.config)?;
        Ok(NewIntegration {
            name: self.name,
            category: self.category,
            is_beta: self.is_beta,
            sharing: self.sharing,
            config: self.config,
        })
    }
}

/// The body of `PATCH /integration/{id}`; absent fields are kept, `null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIntegration {
    /// The version the caller read.
    pub version: u64,
    /// New slug.
    #[serde(default)]
    pub name: Option<String>,
    /// New category.
    #[serde(default, deserialize_with = "nullable")]
    pub category: Option<Option<String>>,
    /// New beta flag.
    #[serde(default)]
    pub is_beta: Option<bool>,
    /// New sharing.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Sharing>)]
    pub sharing: Option<Option<Sharing>>,
    /// The whole new config.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

impl UpdateIntegration {
    /// The change to store.
    ///
    /// # Errors
    ///
    /// 422 with every problem of a new config, paths starting at `config`.
    pub fn validate(self) -> ApiResult<IntegrationPatch> {
        if let Some(config) = &self.config {
            check_config(config)?;
        }
        Ok(IntegrationPatch {
            version: self.version,
            name: self.name,
            category: self.category,
            is_beta: self.is_beta,
            sharing: self.sharing,
            config: self.config,
        })
    }
}

fn check_config(config: &Value) -> ApiResult<()> {
    validate_integration_config(config)
        .map(|_| ())
        .map_err(|errors| {
            ApiError::from_validation("the integration config is invalid", Some("config"), &errors)
        })
}

/// `GET /integration?limit=&next_cursor=` → `{result, next_cursor}`.
#[utoipa::path(
    get,
    path = "/integration",
    operation_id = "list_integrations",
    summary = "List integrations",
    description = "The environment's integrations, a page at a time (`{result, next_cursor}`).",
    tag = "integrations",
    params(PageParams),
    responses(
        (status = 200, description = "One page of the environment's integrations, oldest first.", body = IntegrationPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    PageQuery(page): PageQuery,
) -> ApiResult<Json<IntegrationPage>> {
    let page = state.store.list_integrations(&env, &page).await?;
    Ok(Json(IntegrationPage::from_store(
        page,
        IntegrationView::from,
    )))
}

/// `POST /integration` → 201 with the integration (version 1).
#[utoipa::path(
    post,
    path = "/integration",
    operation_id = "create_integration",
    summary = "Create an integration",
    description = "`name` and `config` are required; `name` is unique in the environment. The config is validated like `POST /integration/validate`; problems answer `422` with paths starting at `config`. Answers `201` with the integration at version 1.",
    tag = "integrations",
    request_body = CreateIntegration,
    responses(
        (status = 201, description = "The integration, created with version 1.", body = IntegrationView),
        ValidationErrors,
        AuthedErrors,
        (status = 409, description = "An integration of this name exists in the environment.", body = crate::error::ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<CreateIntegration>,
) -> ApiResult<impl IntoResponse> {
    let record = state
        .store
        .create_integration(&env, body.validate()?)
        .await?;
    Ok(created(IntegrationView::from(record)))
}

/// `GET /integration/{id}`.
#[utoipa::path(
    get,
    path = "/integration/{id}",
    operation_id = "get_integration",
    summary = "Get an integration",
    description = "One integration of the environment; an id of another environment is `404`.",
    tag = "integrations",
    params(("id" = String, Path, description = "The integration's id.")),
    responses(
        (status = 200, description = "The integration.", body = IntegrationView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<IntegrationView>> {
    let record = state.store.get_integration(&env, &id).await?;
    Ok(Json(record.into()))
}

/// `PATCH /integration/{id}` → the integration with its new version.
#[utoipa::path(
    patch,
    path = "/integration/{id}",
    operation_id = "update_integration",
    summary = "Update an integration",
    description = "`version` (the one you read) is required; a different stored version answers `409` and changes nothing. Absent fields are kept, `null` clears `category` and `sharing`, `config` replaces the whole config (validated as for `POST`). Answers the integration with `version` one higher.",
    tag = "integrations",
    params(("id" = String, Path, description = "The integration's id.")),
    request_body = UpdateIntegration,
    responses(
        (status = 200, description = "The integration with `version` one higher.", body = IntegrationView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "`version` is not the stored one (nothing changed), or the new name is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateIntegration>,
) -> ApiResult<Json<IntegrationView>> {
    let patch = body.validate()?;
    let record = state.store.update_integration(&env, &id, patch).await?;
    Ok(Json(record.into()))
}

/// `DELETE /integration/{id}` → `{id}` (409 while installed).
#[utoipa::path(
    delete,
    path = "/integration/{id}",
    operation_id = "delete_integration",
    summary = "Delete an integration",
    description = "Answers `{\"id\": \"…\"}`; `409` while it is installed.",
    tag = "integrations",
    params(("id" = String, Path, description = "The integration's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The integration is installed.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.delete_integration(&env, &id).await?;
    Ok(deleted(id))
}
