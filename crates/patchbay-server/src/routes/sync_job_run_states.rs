//! `/sync-job-run-state`: the run state API (Truto's `/sync-job-run-state?state_key=…`,
//! body `{key, value}`).
//!
//! Entries are JSON values stored under a `key` of a `state_key` (usually a job's
//! rendered `state_key`, e.g. an account id), per environment: a run's consumer keeps
//! what it needs between runs there (a high-water mark, ids already seen). Every route
//! needs the query parameter `state_key` (400 naming it when missing).
//!
//! | route | does |
//! |---|---|
//! | `GET /sync-job-run-state?state_key=` | the entries of `state_key`, a page at a time |
//! | `PUT` or `POST /sync-job-run-state?state_key=` `{key, value}` | stores `value` under `key` (replacing it) |
//! | `GET /sync-job-run-state/{key}?state_key=` | one entry |
//! | `DELETE /sync-job-run-state/{key}?state_key=` | deletes it, answered as it was |
//!
//! `state_key` and `key` are at most [`MAX_KEY_CHARS`] characters; a `value` is any JSON
//! up to [`MAX_VALUE_BYTES`] bytes serialized (422 at `value` above).

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::responses::{AuthedErrors, NotFoundErrors, PageParams, QueryErrors, ValidationErrors};
use super::views::{SyncRunStatePage, SyncRunStateView};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::Value;

/// The longest `state_key` or `key`, in characters.
pub const MAX_KEY_CHARS: usize = 256;
/// The largest `value`, in bytes of its JSON text.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The body of `PUT`/`POST /sync-job-run-state`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSyncRunState {
    /// The key within the `state_key` (1 to 256 characters).
    pub key: String,
    /// The value: any JSON (`null` included), at most 64 KiB serialized.
    #[schema(value_type = Object)]
    pub value: Value,
}

/// The `state_key` query parameter: present, not empty, not too long.
fn state_key(query: &QueryParams) -> ApiResult<String> {
    let key = query.required("state_key")?;
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(ApiError::bad_request(format!(
            "the query parameter `state_key` is longer than {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(key.to_owned())
}

/// `GET /sync-job-run-state?state_key=`.
#[utoipa::path(
    get,
    path = "/sync-job-run-state",
    operation_id = "list_sync_job_run_states",
    summary = "List run state entries",
    description = "The entries stored under `state_key` in the environment, a page at a time.",
    tag = "sync-jobs",
    params(
        ("state_key" = String, Query, description = "The group to list (required)."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the entries, oldest first.", body = SyncRunStatePage),
        QueryErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncRunStatePage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let state_key = state_key(&query)?;
    let page = state
        .store
        .list_sync_run_states(&env, &state_key, &query.page()?)
        .await?;
    Ok(Json(SyncRunStatePage::from_store(
        page,
        SyncRunStateView::from,
    )))
}

/// `PUT /sync-job-run-state?state_key=` `{key, value}` → the entry.
#[utoipa::path(
    put,
    path = "/sync-job-run-state",
    operation_id = "put_sync_job_run_state",
    summary = "Store a run state entry",
    description = "Stores `value` (any JSON, at most 64 KiB serialized) under `key` (1 to 256 characters) of `state_key`, replacing the value stored there. `422` names `key` or `value` when they do not fit; nothing is stored then.",
    tag = "sync-jobs",
    params(("state_key" = String, Query, description = "The group to store in (required).")),
    request_body = PutSyncRunState,
    responses(
        (status = 200, description = "The entry as stored.", body = SyncRunStateView),
        ValidationErrors,
        QueryErrors,
        AuthedErrors,
    ),
)]
pub async fn put(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<PutSyncRunState>,
) -> ApiResult<Json<SyncRunStateView>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let state_key = state_key(&query)?;
    let mut errors = Vec::new();
    if body.key.is_empty() || body.key.chars().count() > MAX_KEY_CHARS {
        errors.push(FieldError {
            path: "key".into(),
            message: format!("must be 1 to {MAX_KEY_CHARS} characters"),
        });
    }
    let size = serde_json::to_string(&body.value).map_or(0, |text| text.len());
    if size > MAX_VALUE_BYTES {
        errors.push(FieldError {
            path: "value".into(),
            message: format!(
                "is {size} bytes as JSON; a run state value is at most {MAX_VALUE_BYTES} bytes"
            ),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid("the run state entry is invalid", errors));
    }
    let stored = state
        .store
        .put_sync_run_state(&env, &state_key, &body.key, &body.value)
        .await?;
    Ok(Json(stored.into()))
}

/// `POST /sync-job-run-state?state_key=` `{key, value}`: as [`put`].
#[utoipa::path(
    post,
    path = "/sync-job-run-state",
    operation_id = "create_sync_job_run_state",
    summary = "Store a run state entry (as PUT)",
    description = "The same as `PUT /sync-job-run-state`: stores `value` under `key` of `state_key`, replacing the value stored there.",
    tag = "sync-jobs",
    params(("state_key" = String, Query, description = "The group to store in (required).")),
    request_body = PutSyncRunState,
    responses(
        (status = 200, description = "The entry as stored.", body = SyncRunStateView),
        ValidationErrors,
        QueryErrors,
        AuthedErrors,
    ),
)]
pub async fn create(
    state: State<AppState>,
    env: Env,
    raw: RawQuery,
    body: ApiJson<PutSyncRunState>,
) -> ApiResult<Json<SyncRunStateView>> {
    put(state, env, raw, body).await
}

/// `GET /sync-job-run-state/{key}?state_key=`.
#[utoipa::path(
    get,
    path = "/sync-job-run-state/{key}",
    operation_id = "get_sync_job_run_state",
    summary = "Get a run state entry",
    description = "The entry `key` of `state_key` in the environment; `404` when there is none.",
    tag = "sync-jobs",
    params(
        ("key" = String, Path, description = "The key (URL-encoded)."),
        ("state_key" = String, Query, description = "The group (required)."),
    ),
    responses(
        (status = 200, description = "The entry.", body = SyncRunStateView),
        QueryErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncRunStateView>> {
    let state_key = state_key(&QueryParams::parse(raw.as_deref())?)?;
    let found = state
        .store
        .get_sync_run_state(&env, &state_key, &key)
        .await?;
    Ok(Json(found.into()))
}

/// `DELETE /sync-job-run-state/{key}?state_key=` → the entry as it was.
#[utoipa::path(
    delete,
    path = "/sync-job-run-state/{key}",
    operation_id = "delete_sync_job_run_state",
    summary = "Delete a run state entry",
    description = "Deletes the entry `key` of `state_key` and answers it as it was; `404` when there is none.",
    tag = "sync-jobs",
    params(
        ("key" = String, Path, description = "The key (URL-encoded)."),
        ("state_key" = String, Query, description = "The group (required)."),
    ),
    responses(
        (status = 200, description = "The deleted entry.", body = SyncRunStateView),
        QueryErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncRunStateView>> {
    let state_key = state_key(&QueryParams::parse(raw.as_deref())?)?;
    let deleted = state
        .store
        .delete_sync_run_state(&env, &state_key, &key)
        .await?;
    Ok(Json(deleted.into()))
}
