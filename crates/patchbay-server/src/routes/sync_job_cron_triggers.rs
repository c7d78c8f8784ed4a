//! `/sync-job-cron-trigger`: runs of a sync job for an account on a 5-field cron
//! schedule (UTC).
//!
//! A trigger is checked as a run would be (its job and account in the environment, the
//! account of the job's integration, `args` against the job's `args_schema`) and its
//! expression parsed ([`crate::sync::cron`]); it is stored inactive. `POST
//! /sync-job-cron-trigger/{id}/schedule` makes it fire (Truto: "inactive until
//! scheduled"), `DELETE /sync-job-cron-trigger/{id}/schedule` stops it. The job engine's
//! tick in every process fires due triggers; exactly one process creates each run
//! ([`crate::sync::SyncRuns::fire_due_triggers`]). A firing that cannot create its run
//! sends `sync_job_cron_trigger:failed` and records why in `last_error`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{Deleted, SyncJobCronTriggerPage, SyncJobCronTriggerView};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::{NewSyncJobCronTrigger, SyncJobCronTriggerFilter};
use crate::sync::RunOrder;
use crate::sync::cron;

/// The body of `POST /sync-job-cron-trigger`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSyncJobCronTrigger {
    /// The job each run is of.
    pub sync_job_id: String,
    /// The account each run is for.
    pub integrated_account_id: String,
    /// 5 fields (minute hour day-of-month month day-of-week), UTC, e.g. `0 */6 * * *`.
    pub cron_expression: String,
    /// The arguments of each run, checked against the job's `args_schema`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub args: Option<Map<String, Value>>,
    /// `ignore` (default) or `fail_fast`, for each run.
    #[serde(default)]
    pub error_handling: Option<String>,
    /// Each run a full sync.
    #[serde(default)]
    pub ignore_previous_run: Option<bool>,
    /// The caller's own data, kept and answered as sent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// The body of `PATCH /sync-job-cron-trigger/{id}`: the fields sent replace the
/// trigger's.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSyncJobCronTrigger {
    /// The job each run is of.
    #[serde(default)]
    pub sync_job_id: Option<String>,
    /// The account each run is for.
    #[serde(default)]
    pub integrated_account_id: Option<String>,
    /// 5 fields, UTC; a scheduled trigger next fires by the new expression.
    #[serde(default)]
    pub cron_expression: Option<String>,
    /// The arguments of each run.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub args: Option<Map<String, Value>>,
    /// `ignore` or `fail_fast`.
    #[serde(default)]
    pub error_handling: Option<String>,
    /// Each run a full sync.
    #[serde(default)]
    pub ignore_previous_run: Option<bool>,
    /// The caller's own data.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
}

/// Checks `trigger` as its runs will be checked, and its expression; answers the
/// expression's next time after now.
async fn check(
    state: &AppState,
    env: &str,
    trigger: &NewSyncJobCronTrigger,
) -> ApiResult<chrono::DateTime<Utc>> {
    let next = cron::next_time(&trigger.cron_expression, Utc::now());
    let order = RunOrder {
        sync_job_id: trigger.sync_job_id.clone(),
        integrated_account_id: trigger.integrated_account_id.clone(),
        args: trigger.args.clone(),
        error_handling: trigger.error_handling.clone(),
        ignore_previous_run: trigger.ignore_previous_run,
        sync_job_cron_trigger_id: None,
        force: false,
        datastore_id: None,
    };
    let mut errors = Vec::new();
    if let Err(message) = &next {
        errors.push(FieldError {
            path: "cron_expression".into(),
            message: message.clone(),
        });
    }
    match order.check(&state.store, env).await {
        Ok(()) => {}
        Err(ApiError::Invalid { errors: found, .. }) => errors.extend(found),
        Err(other) => return Err(other),
    }
    match next {
        Ok(next) if errors.is_empty() => Ok(next),
        _ => Err(ApiError::invalid(
            "the sync job cron trigger is invalid",
            errors,
        )),
    }
}

/// `GET /sync-job-cron-trigger` with filters `sync_job_id`, `integrated_account_id`.
#[utoipa::path(
    get,
    path = "/sync-job-cron-trigger",
    operation_id = "list_sync_job_cron_triggers",
    summary = "List sync job cron triggers",
    description = "The environment's cron triggers, a page at a time; the filters are optional and combined with AND.",
    tag = "sync-jobs",
    params(
        ("sync_job_id" = Option<String>, Query, description = "Only triggers of this job."),
        ("integrated_account_id" = Option<String>, Query, description = "Only triggers for this account."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the triggers matching every filter, oldest first.", body = SyncJobCronTriggerPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncJobCronTriggerPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let filter = SyncJobCronTriggerFilter {
        sync_job_id: query.get("sync_job_id").map(str::to_owned),
        integrated_account_id: query.get("integrated_account_id").map(str::to_owned),
    };
    let page = state
        .store
        .list_sync_job_cron_triggers(&env, &filter, &query.page()?)
        .await?;
    Ok(Json(SyncJobCronTriggerPage::from_store(
        page,
        SyncJobCronTriggerView::from,
    )))
}

/// `POST /sync-job-cron-trigger` → 201 with the trigger, not scheduled.
#[utoipa::path(
    post,
    path = "/sync-job-cron-trigger",
    operation_id = "create_sync_job_cron_trigger",
    summary = "Create a sync job cron trigger",
    description = "Creates a trigger that, once scheduled (`POST /sync-job-cron-trigger/{id}/schedule`), creates a run of `sync_job_id` for `integrated_account_id` at every time `cron_expression` (5 fields, UTC) matches. Checked as a run is (`422` with every problem at its field: `cron_expression`, `integrated_account_id`, `error_handling`, `args.<name>`).",
    tag = "sync-jobs",
    request_body = CreateSyncJobCronTrigger,
    responses(
        (status = 201, description = "The trigger, not scheduled.", body = SyncJobCronTriggerView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<CreateSyncJobCronTrigger>,
) -> ApiResult<impl IntoResponse> {
    let trigger = NewSyncJobCronTrigger {
        sync_job_id: body.sync_job_id,
        integrated_account_id: body.integrated_account_id,
        cron_expression: body.cron_expression,
        args: body.args.unwrap_or_default(),
        error_handling: body.error_handling.unwrap_or_else(|| "ignore".into()),
        ignore_previous_run: body.ignore_previous_run.unwrap_or(false),
        meta: body.meta.unwrap_or_default(),
    };
    check(&state, &env, &trigger).await?;
    let record = state
        .store
        .create_sync_job_cron_trigger(&env, trigger)
        .await?;
    Ok(created(SyncJobCronTriggerView::from(record)))
}

/// `GET /sync-job-cron-trigger/{id}`.
#[utoipa::path(
    get,
    path = "/sync-job-cron-trigger/{id}",
    operation_id = "get_sync_job_cron_trigger",
    summary = "Get a sync job cron trigger",
    description = "One trigger of the environment, with whether it is scheduled, when it fires next, and what its last firing did (`last_run_id` or `last_error`).",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The trigger's id.")),
    responses(
        (status = 200, description = "The trigger.", body = SyncJobCronTriggerView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobCronTriggerView>> {
    Ok(Json(
        state
            .store
            .get_sync_job_cron_trigger(&env, &id)
            .await?
            .into(),
    ))
}

/// `PATCH /sync-job-cron-trigger/{id}` → the trigger.
#[utoipa::path(
    patch,
    path = "/sync-job-cron-trigger/{id}",
    operation_id = "update_sync_job_cron_trigger",
    summary = "Update a sync job cron trigger",
    description = "The fields sent replace the trigger's; the result is checked as on `POST` (`422`, nothing stored). A scheduled trigger stays scheduled and next fires by the new expression.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The trigger's id.")),
    request_body = UpdateSyncJobCronTrigger,
    responses(
        (status = 200, description = "The trigger.", body = SyncJobCronTriggerView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSyncJobCronTrigger>,
) -> ApiResult<Json<SyncJobCronTriggerView>> {
    let current = state
        .store
        .get_sync_job_cron_trigger(&env, &id)
        .await?
        .trigger;
    let trigger = NewSyncJobCronTrigger {
        sync_job_id: body.sync_job_id.unwrap_or(current.sync_job_id),
        integrated_account_id: body
            .integrated_account_id
            .unwrap_or(current.integrated_account_id),
        cron_expression: body.cron_expression.unwrap_or(current.cron_expression),
        args: body.args.unwrap_or(current.args),
        error_handling: body.error_handling.unwrap_or(current.error_handling),
        ignore_previous_run: body
            .ignore_previous_run
            .unwrap_or(current.ignore_previous_run),
        meta: body.meta.unwrap_or(current.meta),
    };
    let next = check(&state, &env, &trigger).await?;
    let record = state
        .store
        .update_sync_job_cron_trigger(&env, &id, trigger, next)
        .await?;
    Ok(Json(record.into()))
}

/// `DELETE /sync-job-cron-trigger/{id}` → `{id}`.
#[utoipa::path(
    delete,
    path = "/sync-job-cron-trigger/{id}",
    operation_id = "delete_sync_job_cron_trigger",
    summary = "Delete a sync job cron trigger",
    description = "Deletes the trigger; the runs it created are kept. Answers `{\"id\": \"…\"}`.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The trigger's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.delete_sync_job_cron_trigger(&env, &id).await?;
    Ok(deleted(id))
}

/// `POST /sync-job-cron-trigger/{id}/schedule` → the trigger, scheduled.
#[utoipa::path(
    post,
    path = "/sync-job-cron-trigger/{id}/schedule",
    operation_id = "schedule_sync_job_cron_trigger",
    summary = "Schedule a sync job cron trigger",
    description = "Makes the trigger fire: `next_fire_at` is the expression's next time after now. Scheduling a scheduled trigger computes its next time again (missed times are not made up).",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The trigger's id.")),
    responses(
        (status = 200, description = "The trigger, scheduled.", body = SyncJobCronTriggerView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn schedule(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobCronTriggerView>> {
    let trigger = state.store.get_sync_job_cron_trigger(&env, &id).await?;
    let next =
        cron::next_time(&trigger.trigger.cron_expression, Utc::now()).map_err(|message| {
            ApiError::invalid(
                "the sync job cron trigger cannot be scheduled",
                vec![FieldError {
                    path: "cron_expression".into(),
                    message,
                }],
            )
        })?;
    let record = state
        .store
        .schedule_sync_job_cron_trigger(&env, &id, Some(next))
        .await?;
    Ok(Json(record.into()))
}

/// `DELETE /sync-job-cron-trigger/{id}/schedule` → the trigger, not scheduled.
#[utoipa::path(
    delete,
    path = "/sync-job-cron-trigger/{id}/schedule",
    operation_id = "unschedule_sync_job_cron_trigger",
    summary = "Unschedule a sync job cron trigger",
    description = "Stops the trigger firing (runs it already created go on); schedule it again to resume.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The trigger's id.")),
    responses(
        (status = 200, description = "The trigger, not scheduled.", body = SyncJobCronTriggerView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn unschedule(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<SyncJobCronTriggerView>> {
    let record = state
        .store
        .schedule_sync_job_cron_trigger(&env, &id, None)
        .await?;
    Ok(Json(record.into()))
}
