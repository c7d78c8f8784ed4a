//! The stored forms of sync jobs and their runs (`sql/sync_jobs.rs`).

use chrono::{DateTime, Utc};
use patchbay::sync::{RunState, RunStatus};
use serde_json::{Map, Value};

/// A stored sync job: its definition in Truto's format, validated before it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncJobRecord {
    /// The job's id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// The definition's `integration_name` (empty: any integration).
    pub integration_name: String,
    /// The definition as sent, without the host's keys (`id`, `environment_id`,
    /// `created_at`, `updated_at`).
    pub definition: Map<String, Value>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl SyncJobRecord {
    /// The definition with the host's keys filled in: what the runner compiles and the
    /// API answers.
    pub fn job_json(&self) -> Value {
        let mut job = self.definition.clone();
        job.insert("id".into(), Value::String(self.id.clone()));
        job.insert(
            "environment_id".into(),
            Value::String(self.environment_id.clone()),
        );
        job.insert("created_at".into(), Value::String(rfc3339(self.created_at)));
        job.insert("updated_at".into(), Value::String(rfc3339(self.updated_at)));
        Value::Object(job)
    }
}

/// A run to create: the job and account it runs for and how.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewSyncJobRun {
    /// The job (of the same environment).
    pub sync_job_id: String,
    /// The account (of the same environment).
    pub integrated_account_id: String,
    /// The run's arguments, checked against the job's `args_schema` by the caller.
    pub args: Map<String, Value>,
    /// `fail_fast` or `ignore`.
    pub error_handling: String,
    /// A full sync.
    pub ignore_previous_run: bool,
    /// The cron trigger creating it, if one is.
    pub sync_job_cron_trigger_id: Option<String>,
    /// The job's `mutex_key` rendered for this run (`None`: the job has none).
    pub mutex_key: Option<String>,
    /// Created with `force: true`: the run neither waits for nor holds the mutex.
    pub mutex_forced: bool,
    /// The name of the account's integration (the per-integration limit's scope).
    pub integration_name: Option<String>,
    /// The datastore (of the same environment) the run upserts its records into.
    pub datastore_id: Option<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncJobRunRecord {
    /// The run's id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// The job.
    pub sync_job_id: String,
    /// The account.
    pub integrated_account_id: String,
    /// Where it is.
    pub status: RunStatus,
    /// The arguments as asked for (the runner's state holds them with defaults).
    pub args: Map<String, Value>,
    /// `fail_fast` or `ignore`.
    pub error_handling: String,
    /// A full sync.
    pub ignore_previous_run: bool,
    /// The job's `mutex_key` rendered when the run was created.
    pub mutex_key: Option<String>,
    /// Created with `force: true` (not serialised by `mutex_key`).
    pub mutex_forced: bool,
    /// The name of the account's integration (`None` for runs created before it was
    /// recorded).
    pub integration_name: Option<String>,
    /// The datastore the run upserts its records into (`None`: webhook events only, or
    /// the datastore was deleted after the run finished).
    pub datastore_id: Option<String>,
    /// The runner's state (checkpoint, counts); `None` until the run started.
    pub state: Option<RunState>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Filters of a run list; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncJobRunFilter {
    /// Only runs of this job.
    pub sync_job_id: Option<String>,
    /// Only runs for this account.
    pub integrated_account_id: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
}

/// Whether a process may execute a run now ([`Store::sync_job_run_hold`](crate::store::Store::sync_job_run_hold)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunHold {
    /// Unfinished and nobody holds it.
    Free,
    /// Unfinished and a process holds it until then (it may have died).
    HeldUntil(DateTime<Utc>),
    /// Finished, stopped, or no such run: there is nothing to execute.
    Done,
}

/// A run a process may resume: unfinished, its lease expired or never taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptedRun {
    /// The run's environment.
    pub environment_id: String,
    /// The run's id.
    pub id: String,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A cron trigger to create (`POST /sync-job-cron-trigger`), checked by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSyncJobCronTrigger {
    /// The job (of the same environment).
    pub sync_job_id: String,
    /// The account (of the same environment).
    pub integrated_account_id: String,
    /// The 5-field cron expression, as written (UTC).
    pub cron_expression: String,
    /// The arguments of each run.
    pub args: Map<String, Value>,
    /// `fail_fast` or `ignore`, for each run.
    pub error_handling: String,
    /// Each run a full sync.
    pub ignore_previous_run: bool,
    /// The caller's own data, kept and answered as sent.
    pub meta: Map<String, Value>,
}

/// A stored cron trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncJobCronTriggerRecord {
    /// The trigger's id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// What it creates runs of, and how: as created or last changed.
    pub trigger: NewSyncJobCronTrigger,
    /// Whether it fires (inactive until scheduled).
    pub scheduled: bool,
    /// When it fires next (while scheduled).
    pub next_fire_at: Option<DateTime<Utc>>,
    /// When it last fired.
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The run it last created.
    pub last_run_id: Option<String>,
    /// Why its last firing created no run.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Filters of a cron trigger list; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncJobCronTriggerFilter {
    /// Only triggers of this job.
    pub sync_job_id: Option<String>,
    /// Only triggers for this account.
    pub integrated_account_id: Option<String>,
}

/// What [`Store::claim_sync_job_run_within`](crate::store::Store::claim_sync_job_run_within)
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunClaim {
    /// The caller holds the run's lease now.
    Claimed,
    /// The run is finished, stopped, gone, or another process holds it.
    NotClaimed,
    /// The run must wait (its mutex or a concurrency limit): why, naming the run or the
    /// setting it waits for. Nothing was changed; claim it again later.
    Waiting(String),
}

/// How many runs may execute at once (`None`: no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunLimits {
    /// Per integrated account.
    pub per_account: Option<u64>,
    /// Per integration of an environment.
    pub per_integration: Option<u64>,
}

/// A value stored under a key of a state key (`/sync-job-run-state`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRunStateRecord {
    /// The entry's id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// The group it is in.
    pub state_key: String,
    /// Its key within the group.
    pub key: String,
    /// The value, any JSON.
    pub value: Value,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
