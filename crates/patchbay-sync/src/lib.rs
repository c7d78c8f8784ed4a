//! Sync jobs (Truto's RapidBridge): scheduled, incremental, resumable pulls of an
//! integrated account's data, delivered page by page.
//!
//! * [`SyncJob`]: the serde model of Truto's `/sync-job` (runtime versions 1-3: a list of
//!   resources with `depends_on`, `loop_on`, `recurse`, transforms, `persist`), and
//!   [`load_sync_job`] / [`SyncJob::compile`]: validation reporting every problem with its
//!   JSON path (the [`ValidationErrors`](patchbay_config::ValidationErrors) of
//!   integration configs), compiled into a [`JobPlan`].
//! * [`Runner`]: one run of a plan for one account, its pages fetched from a
//!   [`PageSource`], parents before children, a checkpoint in a [`RunStore`] after every
//!   page, events to a [`Sink`] (`sync_job_run:started` → `record` batches → `completed` /
//!   `failed`, with `record_error` and `rate_limited`), every record numbered.
//!   [`MemoryRunStore`] and [`MemorySink`] keep them in memory.
//!
//! This crate sits below the facade `patchbay`, which implements [`PageSource`] for its
//! `Patchbay` and re-exports the crate as `patchbay::sync`: a host embedding the facade
//! runs jobs with `patchbay::sync::Runner::new(patchbay.clone(), store, sink)`.
//!
//! The runner is a plain async call: scheduling, leases across processes, `mutex_key`
//! and concurrency limits belong to the job engine that calls it (see
//! `docs/sync-jobs.md` and `docs/sync-jobs-engine.md`).
//!
//! ```
//! let plan = patchbay_sync::load_sync_job(r#"{
//!   "integration_name": "zendesk",
//!   "resources": [
//!     {"resource": "ticketing/tickets", "method": "list",
//!      "query": {"updated_at": {"gt": "{{previous_run_date}}"}}},
//!     {"resource": "ticketing/comments", "method": "list", "depends_on": "ticketing/tickets",
//!      "query": {"ticket_id": "{{resources.ticketing.tickets.id}}"}}
//!   ]
//! }"#).unwrap();
//! assert_eq!(plan.order(), ["ticketing/tickets", "ticketing/comments"]);
//! ```
#![warn(missing_docs, unreachable_pub)]

mod args;
mod error;
mod fetch;
mod job;
mod plan;
mod runner;
mod scope;
mod sink;
mod source;
mod store;
mod validate;

pub use args::{ArgSpec, ArgsSpec};
pub use error::RunError;
pub use job::{EntryType, Recurse, RecurseConfig, SyncJob, SyncResource, TransformConfig};
pub use plan::JobPlan;
pub use runner::{ErrorHandling, RunRequest, Runner, RunnerOptions};
pub use scope::FULL_SYNC_DATE;
pub use sink::{
    MemorySink, RateLimitPause, RecordBatch, RecordError, RunRef, RunSummary, Sink, SinkError,
    SyncEvent, SyncRecord,
};
pub use source::{BoxError, FetchedPage, PageRequest, PageSource, SourceError};
pub use store::{
    Checkpoint, Frame, FrameStep, MemoryRunStore, ResourceStats, RunState, RunStatus, RunStore,
    RunStoreError,
};
pub use validate::{load_sync_job, sync_job_schema, validate_sync_job};
