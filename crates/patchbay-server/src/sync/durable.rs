//! The runner's [`RunStore`] and [`Sink`] over the server's [`Store`]: checkpoints in
//! the `sync_job_runs` table under the executing process's lease, events through the
//! webhook outbox.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay::sync::{RunState, RunStore, RunStoreError, Sink, SinkError, SyncEvent};

use crate::store::{StorageError, Store};

/// Why a [`StoreRunStore`] refused a save.
#[derive(Debug, thiserror::Error)]
pub enum SaveRefused {
    /// The process no longer holds the run's lease, or the run was stopped or deleted:
    /// the runner stops and writes nothing more.
    #[error("run `{0}` was stopped, deleted, or is executed by another process now")]
    LeaseLost(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn store_error(error: impl Into<SaveRefused>) -> RunStoreError {
    RunStoreError(Box::new(error.into()))
}

/// Runs kept in the server's store, saved only while `owner` holds the run's lease (see
/// [`Store::claim_sync_job_run`]).
#[derive(Debug, Clone)]
pub struct StoreRunStore {
    store: Arc<Store>,
    owner: String,
}

impl StoreRunStore {
    /// The runs of `store`, saved as the lease holder `owner`.
    pub fn new(store: Arc<Store>, owner: impl Into<String>) -> Self {
        Self {
            store,
            owner: owner.into(),
        }
    }
}

#[async_trait]
impl RunStore for StoreRunStore {
    async fn load(&self, run_id: &str) -> Result<Option<RunState>, RunStoreError> {
        self.store
            .sync_job_run_state(run_id)
            .await
            .map_err(store_error)
    }

    async fn save(&self, state: &RunState) -> Result<(), RunStoreError> {
        let saved = self
            .store
            .save_sync_job_run_state(&self.owner, state)
            .await
            .map_err(store_error)?;
        if saved {
            Ok(())
        } else {
            Err(store_error(SaveRefused::LeaseLost(state.run_id.clone())))
        }
    }

    async fn last_success(
        &self,
        sync_job_id: &str,
        integrated_account_id: &str,
    ) -> Result<Option<DateTime<Utc>>, RunStoreError> {
        self.store
            .last_completed_sync_job_run(sync_job_id, integrated_account_id)
            .await
            .map_err(store_error)
    }
}

/// A run's events queued in the environment's webhook outbox, as Truto names them
/// (`sync_job_run:started`, `:record`, ...): every active webhook subscribed to the
/// event receives it, signed, from the delivery worker. An event is taken once it is
/// durably queued (so a run is not slowed down by its receivers); a database failure
/// stops the run where it is ([`SinkError::Unavailable`]), to be resumed.
#[derive(Debug, Clone)]
pub struct OutboxSink {
    store: Arc<Store>,
    environment_id: String,
}

impl OutboxSink {
    /// Events of runs of `environment_id`, queued in `store`'s outbox.
    pub fn new(store: Arc<Store>, environment_id: impl Into<String>) -> Self {
        Self {
            store,
            environment_id: environment_id.into(),
        }
    }
}

#[async_trait]
impl Sink for OutboxSink {
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError> {
        self.store
            .enqueue_event(&self.environment_id, event.name(), &event.payload())
            .await
            .map(|_| ())
            .map_err(|e| SinkError::Unavailable(format!("cannot queue {}: {e}", event.name())))
    }
}
