//! `/sync-job-run` and `/sync-job-run/{id}`: runs of sync jobs.
//!
//! `POST` checks the run (its job and account in the environment, the account of the
//! job's integration, `args` against the job's `args_schema`: 422 with every problem at
//! `args.<name>`), stores it as `created`, queues `sync_job_run:created` and starts it in
//! a background task of this process ([`crate::sync::SyncRuns`]); poll `GET` for its
//! status and counts. Its events go to every webhook subscribed to them. `DELETE` stops
//! a run (Truto: "DELETE stops"); it stays readable with status `stopped`. `PATCH` sets
//! the status (Truto: "PATCH sets status"): only `stopped`, as `DELETE`.
//!
//! A run's `mutex_key` is the job's rendered when the run is created; runs with the same
//! key execute one at a time, oldest first (`force: true` opts a run out), within the
//! concurrency limits ([`crate::sync::SyncOptions::limits`]); a waiting run stays
//! `created`.
//!
//! With a `datastore_id` a run's records are also upserted into that datastore
//! ([`crate::sync::DatastoreSink`]).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use patchbay::sync::RunStatus;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::created;
use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{SyncJobRunPage, SyncJobRunView};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::{SyncJobRunFilter, SyncJobRunRecord};
use crate::sync::RunOrder;

/// The body of `POST /sync-job-run`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSyncJobRun {
    /// The job to run.
    pub sync_job_id: String,
    /// The account to run it for.
    pub integrated_account_id: String,
    /// The run's arguments, checked against the job's `args_schema`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub args: Option<Map<String, Value>>,
    /// `ignore` (default: a failed request sends `sync_job_run:record_error` and is
    /// skipped) or `fail_fast` (the run fails).
    #[serde(default)]
    pub error_handling: Option<String>,
    /// A full sync: `previous_run_date` is the Unix epoch.
    #[serde(default)]
    pub ignore_previous_run: Option<bool>,
    /// Truto's clients send `created`; any other value is refused.
    #[serde(default)]
    pub status: Option<String>,
    /// A datastore of the environment (`/datastore`) to upsert the run's records into,
    /// besides its webhook events.
    #[serde(default)]
    pub datastore_id: Option<String>,
    /// Run without waiting for the job's `mutex_key` (Truto's `force`): the run neither
    /// waits for the runs with the same key nor makes them wait. Concurrency limits
    /// still apply.
    #[serde(default)]
    pub force: Option<bool>,
}

/// The body of `PATCH /sync-job-run/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSyncJobRun {
    /// The status to set: only `stopped` (as `DELETE`).
    pub status: String,
}

/// `GET /sync-job-run` with filters `sync_job_id`, `integrated_account_id`, `status`.
#[utoipa::path(
    get,
    path = "/sync-job-run",
    operation_id = "list_sync_job_runs",
    summary = "List sync job runs",
    description = "The environment's runs, a page at a time; the filters are optional and combined with AND.",
    tag = "sync-jobs",
    params(
        ("sync_job_id" = Option<String>, Query, description = "Only runs of this job."),
        ("integrated_account_id" = Option<String>, Query, description = "Only runs for this account."),
        ("status" = Option<String>, Query, description = "Only runs in this status (`created`, `running`, `rate_limited`, `completed`, `failed`, `stopped`)."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the runs matching every filter, oldest first.", body = SyncJobRunPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncJobRunPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let status = query
        .get("status")
        .map(|text| {
            serde_json::from_value::<RunStatus>(Value::String(text.to_owned())).map_err(|_| {
                ApiError::bad_request(format!(
                    "the query parameter `status` must be one of created, running, rate_limited, \
                     completed, failed, stopped, not `{text}`"
                ))
            })
        })
        .transpose()?;
    let filter = SyncJobRunFilter {
        sync_job_id: query.get("sync_job_id").map(str::to_owned),
        integrated_account_id: query.get("integrated_account_id").map(str::to_owned),
        status,
    };
    let page = state
        .store
        .list_sync_job_runs(&env, &filter, &query.page()?)
        .await?;
    Ok(Json(SyncJobRunPage::from_store(page, SyncJobRunView::from)))
}

/// `POST /sync-job-run` → 201 with the run (`created`), started in the background.
#[utoipa::path(
    post,
    path = "/sync-job-run",
    operation_id = "create_sync_job_run",
    summary = "Start a sync job run",
    description = "Creates a run of `sync_job_id` for `integrated_account_id` and starts it in the background; poll `GET /sync-job-run/{id}` for its `status` and `resource_stats`. Its events (`sync_job_run:created`, `started`, `record` per page, `record_error`, `rate_limited`, `completed` / `failed`) go to every webhook subscribed to them. `args` are checked against the job's `args_schema` (`422` with every problem at `args.<name>`); an account of another integration than the job's `integration_name` is `422`; `error_handling` is `ignore` (default) or `fail_fast`. The job's `mutex_key` is rendered now (the run's `mutex_key`): runs of the environment with the same key execute one at a time, in creation order, the others staying `created` until it is their turn; `force: true` opts the run out of the mutex. The server's concurrency limits per account and per integration apply to every run. With `datastore_id` (a datastore of the environment, else `422` at `datastore_id`) the run's records are also upserted into that datastore's tables.",
    tag = "sync-jobs",
    request_body = CreateSyncJobRun,
    responses(
        (status = 201, description = "The run, `created`; it starts at once.", body = SyncJobRunView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<CreateSyncJobRun>,
) -> ApiResult<impl IntoResponse> {
    if let Some(status) = body.status.as_deref().filter(|s| *s != "created") {
        return Err(ApiError::invalid(
            "the sync job run is invalid",
            vec![FieldError {
                path: "status".into(),
                message: format!("a run is created with status `created`, not `{status}`"),
            }],
        ));
    }
    let run = RunOrder {
        sync_job_id: body.sync_job_id,
        integrated_account_id: body.integrated_account_id,
        args: body.args.unwrap_or_default(),
        error_handling: body.error_handling.unwrap_or_else(|| "ignore".into()),
        ignore_previous_run: body.ignore_previous_run.unwrap_or(false),
        sync_job_cron_trigger_id: None,
        force: body.force.unwrap_or(false),
        datastore_id: body.datastore_id,
    }
    .create(&state.store, &env)
    .await?;
    state.sync.submit(&env, &run.id).await;
    Ok(created(SyncJobRunView::from(run)))
}

/// `GET /sync-job-run/{id}`.
#[utoipa::path(
    get,
    path = "/sync-job-run/{id}",
    operation_id = "get_sync_job_run",
    summary = "Get a sync job run",
    description = "One run of the environment, with its `status`, `resource_stats` (records, pages and errors per resource), `error` and timestamps.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "The run.", body = SyncJobRunView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobRunView>> {
    Ok(Json(state.store.get_sync_job_run(&env, &id).await?.into()))
}

/// `DELETE /sync-job-run/{id}` → the run, `stopped`.
#[utoipa::path(
    delete,
    path = "/sync-job-run/{id}",
    operation_id = "stop_sync_job_run",
    summary = "Stop a sync job run",
    description = "Stops an unfinished run (status `stopped`): it fetches and delivers nothing more (a process executing it elsewhere stops at its next checkpoint or lease renewal). A finished run is answered unchanged. The run stays readable.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "The run.", body = SyncJobRunView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn stop(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobRunView>> {
    Ok(Json(stop_run(&state, &env, &id).await?.into()))
}

/// Stops the run `id` and its local execution; starts the runs that waited for it.
async fn stop_run(state: &AppState, env: &str, id: &str) -> ApiResult<SyncJobRunRecord> {
    let run = state.store.stop_sync_job_run(env, id).await?;
    state.sync.cancel(id);
    state.sync.wake_waiting(env);
    Ok(run)
}

/// `PATCH /sync-job-run/{id}` with `{"status": "stopped"}` → the run, `stopped`.
#[utoipa::path(
    patch,
    path = "/sync-job-run/{id}",
    operation_id = "update_sync_job_run",
    summary = "Set a sync job run's status",
    description = "Truto's `PATCH` sets a run's status. The only status a client may set is `stopped`, with the effect of `DELETE /sync-job-run/{id}` (a finished run is answered unchanged). Every other status belongs to the executor (`created`, `running`, `rate_limited`, `completed`, `failed`) and is refused with `422` at `status`; to run a job again, create a run.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The run's id.")),
    request_body = UpdateSyncJobRun,
    responses(
        (status = 200, description = "The run.", body = SyncJobRunView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSyncJobRun>,
) -> ApiResult<Json<SyncJobRunView>> {
    if body.status != "stopped" {
        // The run must exist (404 first), then the status is refused.
        state.store.get_sync_job_run(&env, &id).await?;
        return Err(ApiError::invalid(
            "the sync job run cannot be changed",
            vec![FieldError {
                path: "status".into(),
                message: format!(
                    "only `stopped` can be set (the executor sets the other statuses), not `{}`",
                    body.status
                ),
            }],
        ));
    }
    Ok(Json(stop_run(&state, &env, &id).await?.into()))
}
