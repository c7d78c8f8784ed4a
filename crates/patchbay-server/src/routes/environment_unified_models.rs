//! `/environment-unified-model` and `/environment-unified-model/{id}`: unified
//! models installed in the environment, with the environment's `override` of
//! the model.
//!
//! Installing (`POST {unified_model_id, override?}`) serves the model at
//! `/unified/{name}`; uninstalling (`DELETE`) removes the install and its
//! override rows. Bodies are validated with
//! [`validate_environment_unified_model`]: an invalid `override` answers 400
//! with every problem and its JSON path, and nothing is stored.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use patchbay::unified::{ModelOverride, validate_environment_unified_model};
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, DefinitionErrors, ListErrors, NotFoundErrors, PageParams};
use super::views::{Deleted, EnvironmentUnifiedModelPage, EnvironmentUnifiedModelView};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::{EnvironmentUnifiedModelFilter, EnvironmentUnifiedModelRecord, Store};

/// The keys of the object that the store owns: accepted and ignored.
const STORE_OWNED: [&str; 5] = [
    "id",
    "environment_id",
    "created_at",
    "updated_at",
    "unified_model",
];

/// `body` checked: the model id and the override, every problem with its path.
fn check(mut body: Map<String, Value>) -> ApiResult<(String, Option<ModelOverride>)> {
    for key in STORE_OWNED {
        body.remove(key);
    }
    let installed = validate_environment_unified_model(&Value::Object(body)).map_err(|errors| {
        ApiError::rejected("the environment unified model is invalid", None, &errors)
    })?;
    Ok((installed.unified_model_id, installed.model_override))
}

async fn view(
    store: &Store,
    env: &str,
    record: EnvironmentUnifiedModelRecord,
) -> ApiResult<EnvironmentUnifiedModelView> {
    let model = store
        .get_unified_model(env, &record.unified_model_id)
        .await?;
    Ok(EnvironmentUnifiedModelView::new(record, model))
}

/// `GET /environment-unified-model` with filters `id`, `unified_model_id`,
/// `unified_model.name`, `environment_id`.
#[utoipa::path(
    get,
    path = "/environment-unified-model",
    operation_id = "list_environment_unified_models",
    summary = "List environment unified models",
    description = "The unified models installed in the environment, a page at a time; the filters are optional and combined with AND.",
    tag = "environment-unified-models",
    params(
        ("id" = Option<String>, Query, description = "Only this install."),
        ("unified_model_id" = Option<String>, Query, description = "Only the install of this model."),
        ("unified_model.name" = Option<String>, Query, description = "Only the install of the model of this name."),
        ("environment_id" = Option<String>, Query, description = "The token's environment (any other matches nothing)."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the installs matching every filter, oldest first, each with its model.", body = EnvironmentUnifiedModelPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<EnvironmentUnifiedModelPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let page = query.page()?;
    if query.get("environment_id").is_some_and(|e| e != env) {
        return Ok(Json(EnvironmentUnifiedModelPage {
            result: Vec::new(),
            next_cursor: None,
        }));
    }
    let filter = EnvironmentUnifiedModelFilter {
        id: query.get("id").map(str::to_owned),
        unified_model_id: query.get("unified_model_id").map(str::to_owned),
        unified_model_name: query.get("unified_model.name").map(str::to_owned),
    };
    let page = state
        .store
        .list_environment_unified_models(&env, &filter, &page)
        .await?;
    let mut models = HashMap::new();
    let mut result = Vec::with_capacity(page.result.len());
    for record in page.result {
        let model_id = record.unified_model_id.clone();
        let model = match models.get(&model_id) {
            Some(model) => Clone::clone(model),
            None => {
                let model = state.store.get_unified_model(&env, &model_id).await?;
                models.insert(model_id, model.clone());
                model
            }
        };
        result.push(EnvironmentUnifiedModelView::new(record, model));
    }
    Ok(Json(EnvironmentUnifiedModelPage {
        result,
        next_cursor: page.next_cursor,
    }))
}

/// `POST /environment-unified-model` → 201 with the install.
#[utoipa::path(
    post,
    path = "/environment-unified-model",
    operation_id = "create_environment_unified_model",
    summary = "Install a unified model",
    description = "Installs the unified model `unified_model_id` of the environment (once per model, `409` for a second), so `/unified/{name}` serves it, with an optional `override` of the model (`resources`, `docs`, `scopes`, `webhooks`). An invalid body answers `400` with every problem and its JSON path; nothing is stored.",
    tag = "environment-unified-models",
    request_body(content = Object, description = "`{unified_model_id, override?}`."),
    responses(
        (status = 201, description = "The install, with its model.", body = EnvironmentUnifiedModelView),
        DefinitionErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The model is installed already.", body = crate::error::ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let (model_id, model_override) = check(body)?;
    let record = state
        .store
        .install_unified_model(&env, &model_id, model_override)
        .await?;
    Ok(created(view(&state.store, &env, record).await?))
}

/// `GET /environment-unified-model/{id}`.
#[utoipa::path(
    get,
    path = "/environment-unified-model/{id}",
    operation_id = "get_environment_unified_model",
    summary = "Get an environment unified model",
    description = "One install, with its model.",
    tag = "environment-unified-models",
    params(("id" = String, Path, description = "The environment unified model's id.")),
    responses(
        (status = 200, description = "The install, with its model.", body = EnvironmentUnifiedModelView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<EnvironmentUnifiedModelView>> {
    let record = state.store.get_environment_unified_model(&env, &id).await?;
    Ok(Json(view(&state.store, &env, record).await?))
}

/// `PATCH /environment-unified-model/{id}`: replaces the `override`.
#[utoipa::path(
    patch,
    path = "/environment-unified-model/{id}",
    operation_id = "update_environment_unified_model",
    summary = "Update an environment unified model",
    description = "`override` replaces the stored override (`null` removes it; without `override` it is kept); it is validated (`400` with every problem and its JSON path under `override`; nothing stored). Takes effect on the next unified call.",
    tag = "environment-unified-models",
    params(("id" = String, Path, description = "The environment unified model's id.")),
    request_body(content = Object, description = "`{override}`."),
    responses(
        (status = 200, description = "The install, with its model.", body = EnvironmentUnifiedModelView),
        DefinitionErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<EnvironmentUnifiedModelView>> {
    let current = state.store.get_environment_unified_model(&env, &id).await?;
    if let Some(model_id) = body.get("unified_model_id")
        && model_id.as_str() != Some(&current.unified_model_id)
    {
        return Err(ApiError::Rejected {
            message: "the environment unified model is invalid: unified_model_id: an install cannot change its model".into(),
            errors: vec![FieldError {
                path: "unified_model_id".into(),
                message: "an install cannot change its model".into(),
            }],
        });
    }
    // Without `override` the stored one is kept; `null` removes it. The
    // body is checked either way (an unknown key is a 400).
    let keep = !body.contains_key("override");
    if body.get("override").is_some_and(Value::is_null) {
        body.remove("override");
    }
    body.insert("unified_model_id".into(), current.unified_model_id.into());
    let (_, checked) = check(body)?;
    let model_override = if keep {
        current.model_override
    } else {
        checked
    };
    let record = state
        .store
        .update_environment_unified_model(&env, &id, model_override)
        .await?;
    Ok(Json(view(&state.store, &env, record).await?))
}

/// `DELETE /environment-unified-model/{id}` → `{id}`.
#[utoipa::path(
    delete,
    path = "/environment-unified-model/{id}",
    operation_id = "delete_environment_unified_model",
    summary = "Uninstall a unified model",
    description = "Deletes the install and its override rows; `/unified/{name}` answers `404` from the next call. Answers `{\"id\": \"…\"}`.",
    tag = "environment-unified-models",
    params(("id" = String, Path, description = "The environment unified model's id.")),
    responses(
        (status = 200, description = "Uninstalled.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state
        .store
        .delete_environment_unified_model(&env, &id)
        .await?;
    Ok(deleted(id))
}
