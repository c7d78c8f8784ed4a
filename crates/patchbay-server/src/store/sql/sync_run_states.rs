//! The run state API's entries (`/sync-job-run-state`): a JSON value per
//! (environment, `state_key`, `key`), stored as JSON text.

use serde_json::Value;

use super::super::backend::{Arg, Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::sync::SyncRunStateRecord;
use super::super::time;
use super::scoped::Scoped;
use super::{Store, new_id};

const STATES: Scoped = Scoped {
    table: "sync_job_run_states",
    kind: "sync job run state",
    columns: "id, environment_id, state_key, key, value, created_at, updated_at",
};

fn state_from_row(row: &Row) -> StorageResult<SyncRunStateRecord> {
    let value = serde_json::from_str(&row.text("value")?)
        .map_err(|_| StorageError::corrupt(STATES.table, "`value` is not JSON"))?;
    Ok(SyncRunStateRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        state_key: row.text("state_key")?,
        key: row.text("key")?,
        value,
        created_at: time::column(STATES.table, row.int("created_at")?)?,
        updated_at: time::column(STATES.table, row.int("updated_at")?)?,
    })
}

/// The error for `key` missing under `state_key`.
fn not_found(state_key: &str, key: &str) -> StorageError {
    StorageError::not_found(STATES.kind, format!("{key}` under state_key `{state_key}"))
}

impl Store {
    /// A page of the entries under `state_key` in the environment, oldest first.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a bad page request.
    pub async fn list_sync_run_states(
        &self,
        environment_id: &str,
        state_key: &str,
        page: &PageRequest,
    ) -> StorageResult<Page<SyncRunStateRecord>> {
        let filters: Vec<(&str, Arg)> = vec![("state_key", state_key.into())];
        self.list_scoped(&STATES, environment_id, filters, page, state_from_row)
            .await
    }

    /// The entry `key` under `state_key` in the environment.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when there is none (or it is another
    /// environment's).
    pub async fn get_sync_run_state(
        &self,
        environment_id: &str,
        state_key: &str,
        key: &str,
    ) -> StorageResult<SyncRunStateRecord> {
        let rows = self
            .backend
            .fetch(
                STATES.table,
                &format!(
                    "SELECT {} FROM sync_job_run_states \
                     WHERE environment_id = $1 AND state_key = $2 AND key = $3",
                    STATES.columns
                ),
                args![environment_id, state_key, key],
            )
            .await?;
        rows.first()
            .map(state_from_row)
            .unwrap_or_else(|| Err(not_found(state_key, key)))
    }

    /// Stores `value` under `key` of `state_key` in the environment, replacing the
    /// entry's value when there is one; answers the entry (`created_at` of its first
    /// store).
    ///
    /// # Errors
    ///
    /// A [`StorageError`] of the database.
    pub async fn put_sync_run_state(
        &self,
        environment_id: &str,
        state_key: &str,
        key: &str,
        value: &Value,
    ) -> StorageResult<SyncRunStateRecord> {
        let now = time::to_micros(time::now());
        let text = serde_json::to_string(value)
            .map_err(|_| StorageError::InvalidInput("the value is not serializable".into()))?;
        let rows = self
            .backend
            .fetch(
                STATES.table,
                &format!(
                    "INSERT INTO sync_job_run_states \
                     (id, environment_id, state_key, key, value, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) \
                     ON CONFLICT (environment_id, state_key, key) \
                     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
                     RETURNING {}",
                    STATES.columns
                ),
                args![new_id(), environment_id, state_key, key, text, now],
            )
            .await?;
        rows.first()
            .map(state_from_row)
            .unwrap_or_else(|| Err(StorageError::corrupt(STATES.table, "nothing returned")))
    }

    /// Deletes the entry `key` under `state_key` in the environment; answers it as it
    /// was.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when there is none.
    pub async fn delete_sync_run_state(
        &self,
        environment_id: &str,
        state_key: &str,
        key: &str,
    ) -> StorageResult<SyncRunStateRecord> {
        let rows = self
            .backend
            .fetch(
                STATES.table,
                &format!(
                    "DELETE FROM sync_job_run_states \
                     WHERE environment_id = $1 AND state_key = $2 AND key = $3 RETURNING {}",
                    STATES.columns
                ),
                args![environment_id, state_key, key],
            )
            .await?;
        rows.first()
            .map(state_from_row)
            .unwrap_or_else(|| Err(not_found(state_key, key)))
    }
}
