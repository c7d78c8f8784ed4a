//! Views of sync jobs and their runs (`/sync-job`, `/sync-job-run`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::store::{SyncJobCronTriggerRecord, SyncJobRecord, SyncJobRunRecord, SyncRunStateRecord};

/// The runtime version a job without `default_runtime_version` is stamped with (Truto's
/// legacy default).
pub const DEFAULT_RUNTIME_VERSION: u64 = 3;

/// A sync job, in Truto's format (`docs/sync-jobs.md`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncJob)]
pub struct SyncJobView {
    /// The id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// The integration whose accounts it runs for (empty: any).
    pub integration_name: String,
    /// A human label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The arguments a run accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub args_schema: Option<Value>,
    /// JSONata over `{args}` refusing a run with `{message}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args_validation: Option<String>,
    /// The resources to fetch, in order.
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<Value>,
    /// Placeholder text: runs with equal rendered keys execute one at a time, oldest
    /// first (rendered into each run when it is created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutex_key: Option<String>,
    /// Placeholder text naming the run-state namespace (rendered into each run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_key: Option<String>,
    /// Truto's runtime version: 1-3 (3 when the job was created without one).
    pub default_runtime_version: u64,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

fn text(definition: &Map<String, Value>, key: &str) -> Option<String> {
    definition
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl From<SyncJobRecord> for SyncJobView {
    fn from(job: SyncJobRecord) -> Self {
        let d = &job.definition;
        Self {
            label: text(d, "label"),
            args_schema: d.get("args_schema").filter(|v| !v.is_null()).cloned(),
            args_validation: text(d, "args_validation"),
            resources: d
                .get("resources")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            mutex_key: text(d, "mutex_key"),
            state_key: text(d, "state_key"),
            default_runtime_version: d
                .get("default_runtime_version")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_RUNTIME_VERSION),
            id: job.id,
            environment_id: job.environment_id,
            integration_name: job.integration_name,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

/// Progress counts of one resource of a run.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = SyncJobRunResourceStats)]
pub struct ResourceStatsView {
    /// Records delivered (for resources that are not persisted: fetched).
    pub records: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Requests that failed and were skipped (`error_handling: ignore`).
    pub errors: u64,
}

/// A run of a sync job for an integrated account.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncJobRun)]
pub struct SyncJobRunView {
    /// The id.
    pub id: String,
    /// The job.
    pub sync_job_id: String,
    /// The account.
    pub integrated_account_id: String,
    /// The environment.
    pub environment_id: String,
    /// `created`, `running`, `rate_limited` (paused after a provider 429; resumes by
    /// itself), `completed`, `failed` or `stopped`.
    pub status: String,
    /// The arguments (with the job's defaults once the run started).
    #[schema(value_type = Object)]
    pub args: Map<String, Value>,
    /// `fail_fast` or `ignore`.
    pub error_handling: String,
    /// Whether the run is a full sync.
    pub ignore_previous_run: bool,
    /// The datastore the run upserts its records into (`null`: webhook events only, or
    /// the datastore was deleted after the run).
    pub datastore_id: Option<String>,
    /// The start of the last completed run of the job for the account (the
    /// `previous_run_date` of this run's placeholders); `null` for a full sync.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_run_date: Option<DateTime<Utc>>,
    /// The job's `mutex_key` rendered when the run was created: runs with the same key
    /// execute one at a time.
    pub mutex_key: Option<String>,
    /// The rendered `state_key` of the job.
    pub state_key: Option<String>,
    /// Progress counts per resource (by entry name).
    pub resource_stats: BTreeMap<String, ResourceStatsView>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<SyncJobRunRecord> for SyncJobRunView {
    fn from(run: SyncJobRunRecord) -> Self {
        let status = serde_json::to_value(run.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let state = run.state;
        Self {
            args: state
                .as_ref()
                .map_or_else(|| run.args.clone(), |s| s.args.clone()),
            previous_run_date: state.as_ref().and_then(|s| s.previous_run_date),
            mutex_key: run
                .mutex_key
                .clone()
                .or_else(|| state.as_ref().and_then(|s| s.mutex_key.clone())),
            state_key: state.as_ref().and_then(|s| s.state_key.clone()),
            resource_stats: state
                .as_ref()
                .map(|s| {
                    s.resource_stats
                        .iter()
                        .map(|(name, stats)| {
                            (
                                name.clone(),
                                ResourceStatsView {
                                    records: stats.records,
                                    pages: stats.pages,
                                    errors: stats.errors,
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            id: run.id,
            sync_job_id: run.sync_job_id,
            integrated_account_id: run.integrated_account_id,
            environment_id: run.environment_id,
            status,
            error_handling: run.error_handling,
            ignore_previous_run: run.ignore_previous_run,
            datastore_id: run.datastore_id,
            error: run.error,
            started_at: run.started_at,
            finished_at: run.finished_at,
            created_at: run.created_at,
            updated_at: run.updated_at,
        }
    }
}

/// A cron trigger: runs of a sync job for an account on a schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncJobCronTrigger)]
pub struct SyncJobCronTriggerView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The job each run is of.
    pub sync_job_id: String,
    /// The account each run is for.
    pub integrated_account_id: String,
    /// When it fires: 5 fields (minute hour day-of-month month day-of-week), UTC.
    pub cron_expression: String,
    /// The arguments of each run.
    #[schema(value_type = Object)]
    pub args: Map<String, Value>,
    /// `fail_fast` or `ignore`, for each run.
    pub error_handling: String,
    /// Whether each run is a full sync.
    pub ignore_previous_run: bool,
    /// The caller's own data, as sent.
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    /// Whether it fires (`POST /sync-job-cron-trigger/{id}/schedule`); a new trigger
    /// does not until scheduled.
    pub scheduled: bool,
    /// When it fires next, while scheduled (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_fire_at: Option<DateTime<Utc>>,
    /// When it last fired (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The run its last firing created.
    pub last_run_id: Option<String>,
    /// Why its last firing created no run (`sync_job_cron_trigger:failed` was sent).
    pub last_error: Option<String>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<SyncJobCronTriggerRecord> for SyncJobCronTriggerView {
    fn from(record: SyncJobCronTriggerRecord) -> Self {
        let trigger = record.trigger;
        Self {
            id: record.id,
            environment_id: record.environment_id,
            sync_job_id: trigger.sync_job_id,
            integrated_account_id: trigger.integrated_account_id,
            cron_expression: trigger.cron_expression,
            args: trigger.args,
            error_handling: trigger.error_handling,
            ignore_previous_run: trigger.ignore_previous_run,
            meta: trigger.meta,
            scheduled: record.scheduled,
            next_fire_at: record.next_fire_at,
            last_fired_at: record.last_fired_at,
            last_run_id: record.last_run_id,
            last_error: record.last_error,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// A value of the run state API (`/sync-job-run-state`): `value` stored under `key` of
/// `state_key`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncJobRunState)]
pub struct SyncRunStateView {
    /// The entry's id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The group (usually a job's rendered `state_key`).
    pub state_key: String,
    /// The key within the group.
    pub key: String,
    /// The value, any JSON.
    #[schema(value_type = Object)]
    pub value: Value,
    /// When it was first stored (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When its value last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<SyncRunStateRecord> for SyncRunStateView {
    fn from(state: SyncRunStateRecord) -> Self {
        Self {
            id: state.id,
            environment_id: state.environment_id,
            state_key: state.state_key,
            key: state.key,
            value: state.value,
            created_at: state.created_at,
            updated_at: state.updated_at,
        }
    }
}
