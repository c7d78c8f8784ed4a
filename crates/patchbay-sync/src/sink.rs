//! What a run delivers ([`SyncEvent`]) and where it goes ([`Sink`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::store::{ResourceStats, RunState, RunStatus};

/// Which run an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRef {
    /// The run's id.
    pub sync_job_run_id: String,
    /// The job's id.
    pub sync_job_id: String,
    /// The account.
    pub integrated_account_id: String,
}

impl RunRef {
    pub(crate) fn of(state: &RunState) -> Self {
        RunRef {
            sync_job_run_id: state.run_id.clone(),
            sync_job_id: state.sync_job_id.clone(),
            integrated_account_id: state.integrated_account_id.clone(),
        }
    }
}

/// The run as `started`, `completed` and `failed` events describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run.
    #[serde(flatten)]
    pub run: RunRef,
    /// Its status.
    pub status: RunStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Per-entry progress counts.
    pub resource_stats: BTreeMap<String, ResourceStats>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunSummary {
    pub(crate) fn of(state: &RunState) -> Self {
        RunSummary {
            run: RunRef::of(state),
            status: state.status,
            started_at: state.started_at,
            finished_at: state.finished_at,
            resource_stats: state.resource_stats.clone(),
            error: state.error.clone(),
        }
    }
}

/// One delivered record and its place in the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncRecord {
    /// Increases by one per record delivered in the run, across entries; a record
    /// delivered again after a restart keeps its number, so `(run id, sequence)`
    /// identifies it.
    pub sequence: u64,
    /// The record.
    pub data: Value,
}

/// One page of an entry's records (`sync_job_run:record`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordBatch {
    /// The run.
    #[serde(flatten)]
    pub run: RunRef,
    /// The entry's name (its `resource` unless named).
    pub resource: String,
    /// The records, in the provider's order.
    pub records: Vec<SyncRecord>,
}

/// A request of an entry failed and was skipped (`sync_job_run:record_error`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordError {
    /// The run.
    #[serde(flatten)]
    pub run: RunRef,
    /// The entry's name.
    pub resource: String,
    /// What failed (never holds credentials).
    pub error: String,
}

/// The run paused after a provider rate limit (`sync_job_run:rate_limited`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimitPause {
    /// The run.
    #[serde(flatten)]
    pub run: RunRef,
    /// The entry whose request was rate limited.
    pub resource: String,
    /// Milliseconds the run waits before it tries again.
    pub retry_after_ms: u64,
    /// When it tries again.
    pub resume_at: DateTime<Utc>,
}

/// An event of a run, in Truto's order: `started`, `record` batches (with
/// `record_error` and `rate_limited` between them), then `completed` or `failed`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// `sync_job_run:started`.
    Started(RunSummary),
    /// `sync_job_run:record`.
    Records(RecordBatch),
    /// `sync_job_run:record_error`.
    RecordError(RecordError),
    /// `sync_job_run:rate_limited`.
    RateLimited(RateLimitPause),
    /// `sync_job_run:completed`.
    Completed(RunSummary),
    /// `sync_job_run:failed`.
    Failed(RunSummary),
}

impl SyncEvent {
    /// The event's name, e.g. `sync_job_run:record`.
    pub fn name(&self) -> &'static str {
        match self {
            SyncEvent::Started(_) => "sync_job_run:started",
            SyncEvent::Records(_) => "sync_job_run:record",
            SyncEvent::RecordError(_) => "sync_job_run:record_error",
            SyncEvent::RateLimited(_) => "sync_job_run:rate_limited",
            SyncEvent::Completed(_) => "sync_job_run:completed",
            SyncEvent::Failed(_) => "sync_job_run:failed",
        }
    }

    /// The event's payload as JSON.
    pub fn payload(&self) -> Value {
        let value = match self {
            SyncEvent::Started(s) | SyncEvent::Completed(s) | SyncEvent::Failed(s) => {
                serde_json::to_value(s)
            }
            SyncEvent::Records(b) => serde_json::to_value(b),
            SyncEvent::RecordError(e) => serde_json::to_value(e),
            SyncEvent::RateLimited(p) => serde_json::to_value(p),
        };
        value.unwrap_or(Value::Null)
    }
}

/// Why a [`Sink`] did not take an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The receiver answered and refuses the run (Truto: a 400 to `started`): the run
    /// fails.
    #[error("the receiver refused the event: {0}")]
    Refused(String),
    /// The receiver cannot take it now: the run stops where it is (its last checkpoint)
    /// and can be resumed.
    #[error("the receiver is unavailable: {0}")]
    Unavailable(String),
}

/// Where a run's events go. A run sends one event at a time and waits for it to be taken
/// before it goes on (so a slow receiver slows the run down); it checkpoints after a
/// page's events were taken, so events are delivered at least once.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Takes one event.
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError>;
}

/// A [`Sink`] that keeps events in memory, for tests and hosts that poll.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<SyncEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far.
    pub fn events(&self) -> Vec<SyncEvent> {
        self.lock().clone()
    }

    /// The events so far, emptying the sink.
    pub fn take(&self) -> Vec<SyncEvent> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SyncEvent>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError> {
        self.lock().push(event);
        Ok(())
    }
}
