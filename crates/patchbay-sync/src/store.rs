//! The durable state of a run and where it is kept between pages ([`RunStore`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a run is (reference §2.5 `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started.
    Created,
    /// Fetching and delivering.
    Running,
    /// Paused after a provider rate limit; resumes by itself.
    RateLimited,
    /// Every resource was delivered.
    Completed,
    /// Stopped by an error.
    Failed,
    /// Stopped on request.
    Stopped,
}

impl RunStatus {
    /// Whether the run has ended (completed, failed or stopped).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Stopped)
    }
}

/// Progress counts of one entry (`resource_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceStats {
    /// Records delivered (or, for entries that are not persisted, fetched).
    pub records: u64,
    /// Pages fetched and processed.
    pub pages: u64,
    /// Requests that failed and were skipped (`error_handling: ignore`).
    pub errors: u64,
}

/// What a [`Frame`] does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum FrameStep {
    /// Fetch (and deliver) the page at the frame's cursor.
    Fetch,
    /// The page at the frame's cursor was delivered; its dependants run, starting with
    /// dependant `child` of record `record` (the page is fetched again, not delivered,
    /// after a restart).
    Children {
        /// Index of the record in the page.
        record: usize,
        /// Index of the dependant (the entry's own `recurse` comes after its dependants).
        child: usize,
    },
    /// The current `loop_on` element is finished.
    Done,
}

/// The position of one entry being run: one level of a [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The entry's name.
    pub node: String,
    /// Whether this is a `recurse` request of the entry.
    #[serde(default)]
    pub recursive: bool,
    /// The `loop_on` element being run (0 without `loop_on`).
    #[serde(default)]
    pub loop_index: usize,
    /// The cursor of the page to fetch (or whose dependants run); `None`: the first page.
    pub cursor: Option<String>,
    /// What comes next.
    #[serde(flatten)]
    pub step: FrameStep,
}

impl Frame {
    pub(crate) fn start(node: &str, recursive: bool) -> Self {
        Frame {
            node: node.to_owned(),
            recursive,
            loop_index: 0,
            cursor: None,
            step: FrameStep::Fetch,
        }
    }
}

/// Where a run resumes: saved after every page, with the records' sequence counter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The top-level entry being run (index among the entries without `depends_on`).
    pub root: usize,
    /// The entry being run at each level, from the top-level entry down.
    pub frames: Vec<Frame>,
    /// The sequence number of the next record delivered.
    pub next_sequence: u64,
}

/// Everything a runner keeps about one run; a host stores it as it is (it serializes to
/// JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run's id.
    pub run_id: String,
    /// The job's id.
    pub sync_job_id: String,
    /// The account the run fetches for.
    pub integrated_account_id: String,
    /// Where the run is.
    pub status: RunStatus,
    /// The run's arguments (defaults filled).
    pub args: Map<String, Value>,
    /// When the run started (its `previous_run_date` for the next run once it completes).
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The start of the last successful run before this one, fixed when the run starts;
    /// `None` for a full sync (first run, or `ignore_previous_run`).
    pub previous_run_date: Option<DateTime<Utc>>,
    /// The rendered `mutex_key`.
    pub mutex_key: Option<String>,
    /// The rendered `state_key`.
    pub state_key: Option<String>,
    /// Per-entry progress counts.
    pub resource_stats: BTreeMap<String, ResourceStats>,
    /// Where to resume.
    pub checkpoint: Checkpoint,
    /// Why the run failed.
    pub error: Option<String>,
}

/// A [`RunStore`] failure.
#[derive(Debug, thiserror::Error)]
#[error("run store error: {0}")]
pub struct RunStoreError(pub Box<dyn std::error::Error + Send + Sync>);

/// Where runs are kept. The runner saves the state after every page (the checkpoint)
/// and on every status change; a runner started later with the same store and run id
/// resumes from the last save.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// The run's saved state.
    async fn load(&self, run_id: &str) -> Result<Option<RunState>, RunStoreError>;

    /// Saves the run's state (replacing the previous save).
    async fn save(&self, state: &RunState) -> Result<(), RunStoreError>;

    /// The `started_at` of the latest completed run of the job for the account
    /// (`previous_run_date` of the next run).
    async fn last_success(
        &self,
        sync_job_id: &str,
        integrated_account_id: &str,
    ) -> Result<Option<DateTime<Utc>>, RunStoreError>;
}

/// A [`RunStore`] in memory, for tests and single-process hosts.
#[derive(Debug, Default)]
pub struct MemoryRunStore {
    runs: Mutex<HashMap<String, RunState>>,
    saves: Mutex<u64>,
}

impl MemoryRunStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The saved state of `run_id`.
    pub fn get(&self, run_id: &str) -> Option<RunState> {
        self.lock().get(run_id).cloned()
    }

    /// How many times a state was saved.
    pub fn saves(&self) -> u64 {
        *self.saves.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunState>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl RunStore for MemoryRunStore {
    async fn load(&self, run_id: &str) -> Result<Option<RunState>, RunStoreError> {
        Ok(self.get(run_id))
    }

    async fn save(&self, state: &RunState) -> Result<(), RunStoreError> {
        self.lock().insert(state.run_id.clone(), state.clone());
        *self.saves.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Ok(())
    }

    async fn last_success(
        &self,
        sync_job_id: &str,
        integrated_account_id: &str,
    ) -> Result<Option<DateTime<Utc>>, RunStoreError> {
        Ok(self
            .lock()
            .values()
            .filter(|r| {
                r.status == RunStatus::Completed
                    && r.sync_job_id == sync_job_id
                    && r.integrated_account_id == integrated_account_id
            })
            .map(|r| r.started_at)
            .max())
    }
}
