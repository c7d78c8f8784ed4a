//! `/unified-model` and `/unified-model/{id}`: unified model definitions.
//!
//! A model belongs to the token's environment (as integrations do) and is
//! served at `/unified/{name}` once installed there (`/environment-unified-model`).
//! Bodies are Truto's model object, validated with
//! [`validate_unified_model`]: an invalid model answers 400 with every
//! problem and its JSON path, and nothing is stored. `PATCH` needs the
//! `version` the caller read (409 when it is stale) and replaces the
//! top-level keys it sends.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use patchbay::unified::{UnifiedModel, validate_unified_model};
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, DefinitionErrors, ListErrors, NotFoundErrors, PageParams};
use super::views::{Deleted, UnifiedModelPage, UnifiedModelView};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::UnifiedModelFilter;

/// The keys of Truto's model object that the store owns: accepted in
/// bodies (so a model read from the API can be sent back) and ignored.
const STORE_OWNED: [&str; 6] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "installed_environment",
    "team",
];

/// `body` as a model, every problem reported with its path.
///
/// # Errors
///
/// 400 listing every problem of the model.
pub(crate) fn check_model(body: Map<String, Value>) -> ApiResult<UnifiedModel> {
    let mut body = body;
    for key in STORE_OWNED {
        body.remove(key);
    }
    validate_unified_model(&Value::Object(body))
        .map_err(|errors| ApiError::rejected("the unified model is invalid", None, &errors))
}

/// The `version` of a `PATCH` body.
///
/// # Errors
///
/// 400 when it is missing or not a whole number.
pub(crate) fn required_version(value: Option<Value>) -> ApiResult<u64> {
    let value = value
        .ok_or_else(|| ApiError::bad_request("`version` is required: send the version you read"))?;
    value.as_u64().ok_or_else(|| {
        ApiError::bad_request(format!("`version` must be a whole number, not {value}"))
    })
}

/// `GET /unified-model` with filters `name`, `category`, `version`.
#[utoipa::path(
    get,
    path = "/unified-model",
    operation_id = "list_unified_models",
    summary = "List unified models",
    description = "The environment's unified models, a page at a time; the filters are optional and combined with AND.",
    tag = "unified-models",
    params(
        ("name" = Option<String>, Query, description = "Only the model of this name."),
        ("category" = Option<String>, Query, description = "Only models of this category."),
        ("version" = Option<u64>, Query, description = "Only models at this version."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the models matching every filter, oldest first.", body = UnifiedModelPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<UnifiedModelPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let filter = UnifiedModelFilter {
        name: query.get("name").map(str::to_owned),
        category: query.get("category").map(str::to_owned),
        version: query.u64("version")?,
    };
    let page = state
        .store
        .list_unified_models(&env, &filter, &query.page()?)
        .await?;
    let installed = state.store.installed_unified_models(&env).await?;
    Ok(Json(UnifiedModelPage::from_store(page, |record| {
        let is_installed = installed.contains(&record.id);
        UnifiedModelView::new(record, is_installed)
    })))
}

/// `POST /unified-model` → 201 with the model (version 1).
#[utoipa::path(
    post,
    path = "/unified-model",
    operation_id = "create_unified_model",
    summary = "Create a unified model",
    description = "Truto's unified model object (`name` kebab-case and unique in the environment, `resources` by snake_case name, `docs`, `scopes`, `webhooks`); `id`, `version` and timestamps are the server's and ignored. An invalid model answers `400` with every problem and its JSON path; nothing is stored. Answers `201` with the model at version 1.",
    tag = "unified-models",
    request_body(content = Object, description = "The unified model (see `docs/unified-model.schema.json`)."),
    responses(
        (status = 201, description = "The model, created with version 1.", body = UnifiedModelView),
        DefinitionErrors,
        AuthedErrors,
        (status = 409, description = "A model of this name exists in the environment.", body = crate::error::ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let model = check_model(body)?;
    let record = state.store.create_unified_model(&env, model).await?;
    Ok(created(UnifiedModelView::new(record, false)))
}

/// `GET /unified-model/{id}`.
#[utoipa::path(
    get,
    path = "/unified-model/{id}",
    operation_id = "get_unified_model",
    summary = "Get a unified model",
    description = "One unified model of the environment.",
    tag = "unified-models",
    params(("id" = String, Path, description = "The unified model's id.")),
    responses(
        (status = 200, description = "The model.", body = UnifiedModelView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<UnifiedModelView>> {
    let record = state.store.get_unified_model(&env, &id).await?;
    let installed = state.store.installed_unified_models(&env).await?;
    Ok(Json(UnifiedModelView::new(record, installed.contains(&id))))
}

/// `PATCH /unified-model/{id}` → the model with its new version.
#[utoipa::path(
    patch,
    path = "/unified-model/{id}",
    operation_id = "update_unified_model",
    summary = "Update a unified model",
    description = "`version` (the one you read) is required; a different stored version answers `409` and changes nothing. The other keys sent replace the model's keys of the same name (`resources` is replaced whole); the result is validated as for `POST` (`400` with every problem, nothing stored). The change takes effect on the next unified call. Answers the model with `version` one higher.",
    tag = "unified-models",
    params(("id" = String, Path, description = "The unified model's id.")),
    request_body(content = Object, description = "`version` and the model keys to replace."),
    responses(
        (status = 200, description = "The model with `version` one higher.", body = UnifiedModelView),
        DefinitionErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "`version` is not the stored one (nothing changed), or the new name is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<UnifiedModelView>> {
    let version = required_version(body.remove("version"))?;
    let current = state.store.get_unified_model(&env, &id).await?;
    let Value::Object(mut merged) = serde_json::to_value(&current.model)
        .map_err(|e| ApiError::bad_request(format!("the stored model cannot be read: {e}")))?
    else {
        return Err(ApiError::bad_request("the stored model is not an object"));
    };
    merged.extend(body);
    let model = check_model(merged)?;
    let record = state
        .store
        .update_unified_model(&env, &id, version, model)
        .await?;
    let installed = state.store.installed_unified_models(&env).await?;
    Ok(Json(UnifiedModelView::new(record, installed.contains(&id))))
}

/// `DELETE /unified-model/{id}` → `{id}` (409 while installed).
#[utoipa::path(
    delete,
    path = "/unified-model/{id}",
    operation_id = "delete_unified_model",
    summary = "Delete a unified model",
    description = "Deletes the model and its mapping rows. Answers `{\"id\": \"…\"}`; `409` while it is installed in the environment.",
    tag = "unified-models",
    params(("id" = String, Path, description = "The unified model's id.")),
    responses(
        (status = 200, description = "Deleted, with its mapping rows.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The model is installed.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.delete_unified_model(&env, &id).await?;
    Ok(deleted(id))
}
