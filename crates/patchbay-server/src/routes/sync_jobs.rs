//! `/sync-job` and `/sync-job/{id}`: sync job definitions (Truto's RapidBridge,
//! runtime versions 1-3; `docs/sync-jobs.md`).
//!
//! Bodies are Truto's sync job object, validated with
//! [`patchbay::sync::validate_sync_job`]: an invalid job answers 400 with every problem
//! and its JSON path (`resources[1].depends_on`), and nothing is stored. A job without
//! `default_runtime_version` is stamped 3, as Truto does. `PATCH` replaces the top-level
//! keys it sends (`null` removes one) and validates the result.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, DefinitionErrors, ListErrors, NotFoundErrors, PageParams};
use super::views::{DEFAULT_RUNTIME_VERSION, Deleted, SyncJobPage, SyncJobView};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// The keys of Truto's sync job object that the server owns: accepted in bodies (so a
/// job read from the API can be sent back) and ignored.
const SERVER_OWNED: [&str; 4] = ["id", "environment_id", "created_at", "updated_at"];

/// `body` without the server's keys, checked as a sync job.
///
/// # Errors
///
/// 400 listing every problem of the job with its JSON path.
fn check_job(mut body: Map<String, Value>) -> ApiResult<Map<String, Value>> {
    for key in SERVER_OWNED {
        body.remove(key);
    }
    body.entry("default_runtime_version")
        .or_insert(Value::from(DEFAULT_RUNTIME_VERSION));
    let value = Value::Object(body);
    patchbay::sync::validate_sync_job(&value)
        .map_err(|errors| ApiError::rejected("the sync job is invalid", None, &errors))?;
    match value {
        Value::Object(body) => Ok(body),
        _ => Err(ApiError::bad_request("the sync job is not an object")),
    }
}

/// `GET /sync-job` with the filter `integration_name`.
#[utoipa::path(
    get,
    path = "/sync-job",
    operation_id = "list_sync_jobs",
    summary = "List sync jobs",
    description = "The environment's sync jobs, a page at a time.",
    tag = "sync-jobs",
    params(
        ("integration_name" = Option<String>, Query, description = "Only jobs of this integration."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the jobs, oldest first.", body = SyncJobPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncJobPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let page = state
        .store
        .list_sync_jobs(&env, query.get("integration_name"), &query.page()?)
        .await?;
    Ok(Json(SyncJobPage::from_store(page, SyncJobView::from)))
}

/// `POST /sync-job` → 201 with the job.
#[utoipa::path(
    post,
    path = "/sync-job",
    operation_id = "create_sync_job",
    summary = "Create a sync job",
    description = "Truto's sync job object (runtime versions 1-3: `integration_name`, `resources[]` with `resource`, `method`, `depends_on`, `loop_on`, `persist`, `recurse`, transforms; `args_schema`, `args_validation`, `mutex_key`, `state_key`); `id`, `environment_id` and timestamps are the server's and ignored. An invalid job answers `400` with every problem and its JSON path; nothing is stored. Without `default_runtime_version` the job is stamped 3. See `docs/sync-jobs.md`.",
    tag = "sync-jobs",
    request_body(content = Object, description = "The sync job (see `docs/sync-job.schema.json`)."),
    responses(
        (status = 201, description = "The job.", body = SyncJobView),
        DefinitionErrors,
        AuthedErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let job = check_job(body)?;
    let record = state.store.create_sync_job(&env, job).await?;
    Ok(created(SyncJobView::from(record)))
}

/// `GET /sync-job/{id}`.
#[utoipa::path(
    get,
    path = "/sync-job/{id}",
    operation_id = "get_sync_job",
    summary = "Get a sync job",
    description = "One sync job of the environment.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The sync job's id.")),
    responses(
        (status = 200, description = "The job.", body = SyncJobView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobView>> {
    Ok(Json(state.store.get_sync_job(&env, &id).await?.into()))
}

/// `PATCH /sync-job/{id}` → the job.
#[utoipa::path(
    patch,
    path = "/sync-job/{id}",
    operation_id = "update_sync_job",
    summary = "Update a sync job",
    description = "The keys sent replace the job's keys of the same name (`resources` is replaced whole; `null` removes a key); the result is validated as for `POST` (`400` with every problem, nothing stored). Runs already started keep their checkpoints: a run whose checkpoint no longer fits the job's resources fails when it resumes.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The sync job's id.")),
    request_body(content = Object, description = "The job keys to replace."),
    responses(
        (status = 200, description = "The job.", body = SyncJobView),
        DefinitionErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<SyncJobView>> {
    let mut merged = state.store.get_sync_job(&env, &id).await?.definition;
    for (key, value) in body {
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    let job = check_job(merged)?;
    let record = state.store.update_sync_job(&env, &id, job).await?;
    Ok(Json(record.into()))
}

/// `DELETE /sync-job/{id}` → `{id}`.
#[utoipa::path(
    delete,
    path = "/sync-job/{id}",
    operation_id = "delete_sync_job",
    summary = "Delete a sync job",
    description = "Deletes the job and its runs (a run being executed stops at its next checkpoint). Answers `{\"id\": \"…\"}`.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The sync job's id.")),
    responses(
        (status = 200, description = "Deleted, with its runs.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.delete_sync_job(&env, &id).await?;
    Ok(deleted(id))
}
