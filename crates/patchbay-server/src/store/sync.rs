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
#[derive(Debug, Clone, PartialEq)]
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
