//! The runner's [`RunStore`] and [`Sink`] over the server's [`Store`]: checkpoints in
//! the `sync_job_runs` table under the executing process's lease, events through the
//! webhook outbox.

use std::sync::Arc;
use std::time::Duration;

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
/// event receives it, signed, from the delivery worker. A database failure stops the run
/// where it is ([`SinkError::Unavailable`]), to be resumed.
///
/// **Backpressure**: after queueing a page of records the sink waits while `window` or
/// more of the run's `sync_job_run:record` deliveries are not delivered yet (waiting for
/// the delivery worker, or being retried because a receiver failed). A slow or failing
/// receiver so holds the run back instead of the outbox growing without bound; with a
/// window of 1 a receiver gets each page only after it answered 2xx to the one before, in
/// order, as Truto's RapidBridge waits for a 200. A delivery that gives up (dead) no
/// longer counts. Without subscribed webhooks nothing is queued and nothing waits.
#[derive(Debug, Clone)]
pub struct OutboxSink {
    store: Arc<Store>,
    environment_id: String,
    window: Option<Backpressure>,
}

/// How an [`OutboxSink`] waits on its receivers.
#[derive(Debug, Clone, Copy)]
struct Backpressure {
    window: u64,
    poll: Duration,
}

impl OutboxSink {
    /// Events of runs of `environment_id`, queued in `store`'s outbox; a run is not held
    /// back by its receivers (see [`with_window`](Self::with_window)).
    pub fn new(store: Arc<Store>, environment_id: impl Into<String>) -> Self {
        Self {
            store,
            environment_id: environment_id.into(),
            window: None,
        }
    }

    /// Holds a run back while `window` of its record deliveries are undelivered, looking
    /// again every `poll` (`window` 0: never).
    pub fn with_window(mut self, window: u64, poll: Duration) -> Self {
        self.window = (window > 0).then_some(Backpressure { window, poll });
        self
    }

    /// Waits until fewer than the window of the run's record deliveries are undelivered.
    async fn wait_for_receivers(
        &self,
        run_id: &str,
        pressure: Backpressure,
    ) -> Result<(), SinkError> {
        loop {
            let undelivered = self
                .store
                .undelivered_sync_job_run_records(run_id)
                .await
                .map_err(|e| {
                    SinkError::Unavailable(format!("cannot count undelivered records: {e}"))
                })?;
            if undelivered < pressure.window {
                return Ok(());
            }
            tokio::time::sleep(pressure.poll).await;
        }
    }
}

#[async_trait]
impl Sink for OutboxSink {
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError> {
        let queued = self
            .store
            .enqueue_event(&self.environment_id, event.name(), &event.payload())
            .await
            .map_err(|e| SinkError::Unavailable(format!("cannot queue {}: {e}", event.name())))?;
        if let (SyncEvent::Records(batch), Some(pressure)) = (&event, self.window)
            && queued.deliveries > 0
        {
            self.wait_for_receivers(&batch.run.sync_job_run_id, pressure)
                .await?;
        }
        Ok(())
    }
}
