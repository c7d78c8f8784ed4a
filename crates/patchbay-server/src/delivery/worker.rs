//! The worker: leases due deliveries in batches, attempts them concurrently
//! ([`attempt`](super::attempt)), and runs in the background until its
//! [`DeliveryHandle`] stops it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::attempt::{DeliveryOutcome, Skip, Target};
use super::options::DeliveryOptions;
use super::retention::PRUNE_BATCH;
use crate::store::{StorageError, Store};

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The HTTP client could not be built (TLS initialisation).
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// What one [`DeliveryWorker::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Deliveries leased.
    pub claimed: usize,
    /// Answered 2xx and recorded.
    pub delivered: usize,
    /// Failed and scheduled again.
    pub retrying: usize,
    /// Failed for the last time, or their webhook is gone or inactive.
    pub given_up: usize,
    /// Not recorded: the lease was lost, the store failed or the task ended
    /// abnormally (they become due again when their lease expires).
    pub unrecorded: usize,
}

pub(super) struct Inner {
    pub(super) store: Arc<Store>,
    pub(super) options: DeliveryOptions,
    pub(super) client: reqwest::Client,
}

/// Delivers the outbox of one [`Store`]; see the [module docs](crate::delivery). Run it with
/// [`spawn`](Self::spawn), or drive it with [`tick`](Self::tick).
#[derive(Clone)]
pub struct DeliveryWorker {
    pub(super) inner: Arc<Inner>,
}

impl fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("backend", &self.inner.store.backend_name())
            .field("options", &self.inner.options)
            .finish()
    }
}

impl DeliveryWorker {
    /// A worker over `store`.
    ///
    /// # Errors
    ///
    /// [`DeliveryError::Client`] when no client was given and one cannot be built.
    pub fn new(store: Arc<Store>, options: DeliveryOptions) -> Result<Self, DeliveryError> {
        let client = match &options.client {
            Some(client) => client.clone(),
            None => patchbay::egress::client_builder(options.destinations.clone())
                .build()
                .map_err(DeliveryError::Client)?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                options,
                client,
            }),
        })
    }

    /// The options.
    pub fn options(&self) -> &DeliveryOptions {
        &self.inner.options
    }

    /// Leases one batch of due deliveries, attempts each (concurrently) and
    /// records the outcomes; returns when all are done.
    ///
    /// # Errors
    ///
    /// The store's error when claiming fails (nothing was leased then). Errors
    /// of single deliveries are logged and counted, not returned.
    pub async fn tick(&self) -> Result<TickReport, StorageError> {
        let inner = &self.inner;
        let batch = inner
            .store
            .claim_due(inner.options.batch_size, inner.options.lease())
            .await?;
        let mut report = TickReport {
            claimed: batch.len(),
            ..TickReport::default()
        };
        if batch.is_empty() {
            return Ok(report);
        }
        let mut targets: HashMap<(String, String), Result<Target, Skip>> = HashMap::new();
        for delivery in &batch {
            let key = (delivery.environment_id.clone(), delivery.webhook_id.clone());
            if let Entry::Vacant(slot) = targets.entry(key) {
                let (environment_id, webhook_id) = slot.key();
                let target = inner.target(environment_id, webhook_id).await;
                slot.insert(target);
            }
        }
        let mut tasks = JoinSet::new();
        for delivery in batch {
            let key = (delivery.environment_id.clone(), delivery.webhook_id.clone());
            let target = targets.get(&key).cloned().unwrap_or(Err(Skip::StoreFailed));
            let inner = Arc::clone(&self.inner);
            tasks.spawn(async move { inner.process(delivery, target).await });
        }
        let mut logs = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let joined = joined.map(|(outcome, log)| {
                logs.extend(log);
                outcome
            });
            match joined {
                Ok(DeliveryOutcome::Delivered) => {
                    report.delivered += 1;
                    crate::metrics::delivery("delivered");
                }
                Ok(DeliveryOutcome::Retrying) => {
                    report.retrying += 1;
                    crate::metrics::delivery("retrying");
                }
                Ok(DeliveryOutcome::GivenUp) => {
                    report.given_up += 1;
                    crate::metrics::delivery("given_up");
                }
                Ok(DeliveryOutcome::Unrecorded) => {
                    report.unrecorded += 1;
                    crate::metrics::delivery("unrecorded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "a webhook delivery task ended abnormally");
                    report.unrecorded += 1;
                    crate::metrics::delivery("unrecorded");
                }
            }
        }
        if inner.options.log_attempts
            && !logs.is_empty()
            && let Err(error) = inner.store.insert_request_logs(&logs).await
        {
            tracing::warn!(%error, logs = logs.len(), "webhook delivery logs could not be written");
        }
        Ok(report)
    }

    /// Runs the worker in the background until the handle is shut down or
    /// dropped: a tick, then (unless the batch was full) a pause of the poll
    /// interval. Every prune interval (and at start) it also prunes finished
    /// deliveries, one batch after each tick until none is left. A failing
    /// store is logged and tried again next tick.
    pub fn spawn(self) -> DeliveryHandle {
        let token = CancellationToken::new();
        let stop = token.clone();
        let task = tokio::spawn(async move {
            tracing::debug!(options = ?self.inner.options, "webhook delivery worker started");
            let mut next_prune = tokio::time::Instant::now();
            let mut pruned = 0u64;
            while !stop.is_cancelled() {
                let mut pruning = false;
                if tokio::time::Instant::now() >= next_prune {
                    match self.prune_batch().await {
                        Ok(deleted) if deleted >= u64::from(PRUNE_BATCH) => {
                            pruned += deleted;
                            pruning = true;
                        }
                        Ok(deleted) => {
                            pruned += deleted;
                            if pruned > 0 {
                                tracing::info!(
                                    deleted = pruned,
                                    "pruned finished webhook deliveries"
                                );
                            }
                            pruned = 0;
                            next_prune = self.after_prune_interval();
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot prune webhook deliveries; retrying later");
                            next_prune = self.after_prune_interval();
                        }
                    }
                }
                let busy = match self.tick().await {
                    Ok(report) => {
                        if report.claimed > 0 {
                            tracing::debug!(?report, "webhook delivery tick");
                        }
                        report.claimed >= self.inner.options.batch_size as usize
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim webhook deliveries; retrying");
                        false
                    }
                };
                let full = busy || pruning;
                if !full {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(self.inner.options.poll_interval) => {}
                    }
                }
            }
            tracing::debug!("webhook delivery worker stopped");
        });
        DeliveryHandle {
            token,
            task: Some(task),
        }
    }
}

/// Starts a [`DeliveryWorker`] over `store` in the background.
///
/// # Errors
///
/// As [`DeliveryWorker::new`].
pub fn spawn(store: Arc<Store>, options: DeliveryOptions) -> Result<DeliveryHandle, DeliveryError> {
    Ok(DeliveryWorker::new(store, options)?.spawn())
}

/// A running worker. [`shutdown`](Self::shutdown) stops it after its current
/// tick; dropping the handle stops it too (without waiting).
#[derive(Debug)]
pub struct DeliveryHandle {
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl DeliveryHandle {
    /// Stops the worker and waits for its current tick (in-flight deliveries,
    /// each bounded by the request timeout) to finish and be recorded.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the webhook delivery worker ended abnormally");
        }
    }

    /// Whether the worker has stopped.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for DeliveryHandle {
    fn drop(&mut self) {
        self.token.cancel();
    }
}
