//! [`DatastoreSink`]: a run's records upserted into a datastore (a table per resource in
//! the server's database, see `store/sql/datastores.rs`), every event then passed on to
//! another sink (the webhook outbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use patchbay::sync::{ErrorHandling, RecordBatch, RecordError, Sink, SinkError, SyncEvent};
use serde_json::Value;

use crate::store::{DatastorePage, StorageError, Store, SyncJobRunRecord};

/// The sink of a run: into its datastore and the outbox (`outbox`) when it has a
/// `datastore_id`, else the outbox alone.
pub(super) fn run_sink(
    store: &Arc<Store>,
    run: &SyncJobRunRecord,
    outbox: Arc<dyn Sink>,
) -> Arc<dyn Sink> {
    match &run.datastore_id {
        Some(datastore) => Arc::new(DatastoreSink::new(
            store.clone(),
            &run.environment_id,
            datastore,
            super::error_handling(&run.error_handling),
            outbox,
        )),
        None => outbox,
    }
}

/// The id a datastore keys a record by: its `id` field, a non-empty string or a number
/// (as its JSON text, `42`); `None` for a record without one.
pub fn record_id(record: &Value) -> Option<String> {
    match record.get("id")? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Upserts every `sync_job_run:record` batch into the datastore's table for the batch's
/// resource (created on first use), keyed by (account, resource, record id), then passes
/// the event, like every other, to `inner`. A page is in the datastore before its event
/// is queued, and the run checkpoints after both: a page repeated after a restart is
/// upserted again, to the same rows.
///
/// A record without an `id` (see [`record_id`]) cannot be keyed: with `error_handling:
/// fail_fast` the page is refused and the run fails; with `ignore` the page's other
/// records are stored, the event is passed on whole, and a `sync_job_run:record_error`
/// naming the resource and the records' sequence numbers follows it.
///
/// A datastore that is gone (or another environment's) refuses the page (the run
/// fails); a database failure makes the sink unavailable (the run stops at its last
/// checkpoint and is resumed).
pub struct DatastoreSink {
    store: Arc<Store>,
    environment_id: String,
    datastore_id: String,
    error_handling: ErrorHandling,
    inner: Arc<dyn Sink>,
    /// Table names by resource, once looked up or created.
    tables: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for DatastoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatastoreSink")
            .field("environment_id", &self.environment_id)
            .field("datastore_id", &self.datastore_id)
            .field("error_handling", &self.error_handling)
            .finish_non_exhaustive()
    }
}

impl DatastoreSink {
    /// Records of runs of `environment_id` into its datastore `datastore_id` of `store`,
    /// every event then sent to `inner`.
    pub fn new(
        store: Arc<Store>,
        environment_id: impl Into<String>,
        datastore_id: impl Into<String>,
        error_handling: ErrorHandling,
        inner: Arc<dyn Sink>,
    ) -> Self {
        Self {
            store,
            environment_id: environment_id.into(),
            datastore_id: datastore_id.into(),
            error_handling,
            inner,
            tables: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, resource: &str) -> Option<String> {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(resource)
            .cloned()
    }

    async fn table(&self, resource: &str) -> Result<String, StorageError> {
        if let Some(name) = self.cached(resource) {
            return Ok(name);
        }
        let name = self
            .store
            .datastore_table(&self.environment_id, &self.datastore_id, resource)
            .await?;
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(resource.to_owned(), name.clone());
        Ok(name)
    }

    /// Stores `batch`; the sequence numbers of its records without an id.
    async fn store_batch(&self, batch: &RecordBatch) -> Result<Vec<u64>, SinkError> {
        let mut keyless = Vec::new();
        let mut records = Vec::with_capacity(batch.records.len());
        for record in &batch.records {
            match record_id(&record.data) {
                Some(id) => records.push((id, record.sequence, &record.data)),
                None => keyless.push(record.sequence),
            }
        }
        if !keyless.is_empty() && self.error_handling == ErrorHandling::FailFast {
            return Err(SinkError::Refused(self.keyless_message(batch, &keyless)));
        }
        if records.is_empty() {
            return Ok(keyless);
        }
        let page = DatastorePage {
            integrated_account_id: &batch.run.integrated_account_id,
            resource: &batch.resource,
            sync_job_run_id: &batch.run.sync_job_run_id,
            records,
        };
        let stored = async {
            let table = self.table(&batch.resource).await?;
            self.store.upsert_datastore_page(&table, &page).await
        };
        stored.await.map_err(|e| self.failure(&batch.resource, e))?;
        Ok(keyless)
    }

    fn keyless_message(&self, batch: &RecordBatch, sequences: &[u64]) -> String {
        format!(
            "{} record(s) of `{}` (sequence {}) have no `id` (a string or a number) and were \
             not stored in datastore `{}`",
            sequences.len(),
            batch.resource,
            sequences
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            self.datastore_id
        )
    }

    /// What a store failure means for the run: a datastore that is gone, or a table that
    /// cannot be made, fails it; a database failure stops it, to be resumed.
    fn failure(&self, resource: &str, error: StorageError) -> SinkError {
        let message = format!(
            "cannot store `{resource}` in datastore `{}`: {error}",
            self.datastore_id
        );
        match error {
            StorageError::NotFound { .. }
            | StorageError::Conflict(_)
            | StorageError::InvalidInput(_) => SinkError::Refused(message),
            _ => SinkError::Unavailable(message),
        }
    }
}

#[async_trait]
impl Sink for DatastoreSink {
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError> {
        let SyncEvent::Records(batch) = &event else {
            return self.inner.send(event).await;
        };
        let keyless = self.store_batch(batch).await?;
        let error = (!keyless.is_empty()).then(|| RecordError {
            run: batch.run.clone(),
            resource: batch.resource.clone(),
            error: self.keyless_message(batch, &keyless),
        });
        self.inner.send(event).await?;
        match error {
            Some(error) => self.inner.send(SyncEvent::RecordError(error)).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::record_id;

    #[test]
    fn a_record_is_keyed_by_its_string_or_number_id() {
        assert_eq!(record_id(&json!({"id": "abc"})), Some("abc".into()));
        assert_eq!(record_id(&json!({"id": 42})), Some("42".into()));
        assert_eq!(record_id(&json!({"id": -1.5})), Some("-1.5".into()));
        for keyless in [
            json!({}),
            json!({"id": ""}),
            json!({"id": null}),
            json!({"id": true}),
            json!({"id": {"a": 1}}),
            json!({"id": [1]}),
            json!([{"id": 1}]),
            json!("id"),
        ] {
            assert_eq!(record_id(&keyless), None, "{keyless}");
        }
    }
}
