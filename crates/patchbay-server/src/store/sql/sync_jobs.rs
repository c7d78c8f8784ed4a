//! Sync jobs and their runs (`/sync-job`, `/sync-job-run`).
//!
//! A run row holds what was asked and, once started, the runner's whole
//! [`RunState`] as JSON (its checkpoint), saved after every page. A process
//! executing a run holds its *lease* (`lease_owner`, `lease_until`), taken with
//! one conditional update ([`claim_sync_job_run`](Store::claim_sync_job_run)) and
//! renewed while it runs; every save is conditional on the lease and on the
//! run not being stopped, so a process that lost its lease (or a stopped run)
//! writes nothing more. When a process dies its lease expires and any process
//! can claim the run again and resume it from its last saved checkpoint
//! ([`interrupted_sync_job_runs`](Store::interrupted_sync_job_runs)).

use chrono::{DateTime, Utc};
use patchbay::sync::{RunState, RunStatus};
use serde_json::{Map, Value};

use super::super::backend::{Arg, Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::sync::{
    InterruptedRun, NewSyncJobRun, RunHold, SyncJobRecord, SyncJobRunFilter, SyncJobRunRecord,
};
use super::super::time;
use super::scoped::Scoped;
use super::{Store, enum_text, new_id, parse_enum};

const JOBS: Scoped = Scoped {
    table: "sync_jobs",
    kind: "sync job",
    columns: "id, environment_id, integration_name, definition, created_at, updated_at",
};

const RUNS: Scoped = Scoped {
    table: "sync_job_runs",
    kind: "sync job run",
    columns: "id, environment_id, sync_job_id, integrated_account_id, status, args, \
              error_handling, ignore_previous_run, mutex_key, mutex_forced, integration_name, \
              state, error, started_at, finished_at, created_at, updated_at, datastore_id",
};

/// The statuses of a run that has not ended.
pub(super) const UNFINISHED: &str = "('created', 'running', 'rate_limited')";

pub(super) fn object(
    table: &'static str,
    column: &str,
    text: &str,
) -> StorageResult<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StorageError::corrupt(
            table,
            format!("`{column}` is not a JSON object"),
        )),
    }
}

pub(super) fn json_text(value: &impl serde::Serialize) -> StorageResult<String> {
    serde_json::to_string(value).map_err(|_| StorageError::InvalidInput("unserializable".into()))
}

pub(super) fn opt_time(
    table: &'static str,
    micros: Option<i64>,
) -> StorageResult<Option<DateTime<Utc>>> {
    micros.map(|t| time::column(table, t)).transpose()
}

fn job_from_row(row: &Row) -> StorageResult<SyncJobRecord> {
    Ok(SyncJobRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        integration_name: row.text("integration_name")?,
        definition: object(JOBS.table, "definition", &row.text("definition")?)?,
        created_at: time::column(JOBS.table, row.int("created_at")?)?,
        updated_at: time::column(JOBS.table, row.int("updated_at")?)?,
    })
}

/// The run's checkpoint in its `state` column (`None` until it started).
fn run_state(row: &Row) -> StorageResult<Option<RunState>> {
    row.opt_text("state")?
        .map(|text| {
            serde_json::from_str::<RunState>(&text)
                .map_err(|_| StorageError::corrupt(RUNS.table, "`state` is not a run state"))
        })
        .transpose()
}

fn run_from_row(row: &Row) -> StorageResult<SyncJobRunRecord> {
    let state = run_state(row)?;
    Ok(SyncJobRunRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        sync_job_id: row.text("sync_job_id")?,
        integrated_account_id: row.text("integrated_account_id")?,
        status: parse_enum(RUNS.table, "status", &row.text("status")?)?,
        args: object(RUNS.table, "args", &row.text("args")?)?,
        error_handling: row.text("error_handling")?,
        ignore_previous_run: row.boolean("ignore_previous_run")?,
        mutex_key: row.opt_text("mutex_key")?,
        mutex_forced: row.boolean("mutex_forced")?,
        integration_name: row.opt_text("integration_name")?,
        datastore_id: row.opt_text("datastore_id")?,
        state,
        error: row.opt_text("error")?,
        started_at: opt_time(RUNS.table, row.opt_int("started_at")?)?,
        finished_at: opt_time(RUNS.table, row.opt_int("finished_at")?)?,
        created_at: time::column(RUNS.table, row.int("created_at")?)?,
        updated_at: time::column(RUNS.table, row.int("updated_at")?)?,
    })
}

/// The definition without the keys the host sets.
fn stored_definition(mut definition: Map<String, Value>) -> Map<String, Value> {
    for key in ["id", "environment_id", "created_at", "updated_at"] {
        definition.remove(key);
    }
    definition
}

impl Store {
    /// Stores a sync job, validated by the caller; answers it as stored.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] of the database.
    pub async fn create_sync_job(
        &self,
        environment_id: &str,
        definition: Map<String, Value>,
    ) -> StorageResult<SyncJobRecord> {
        let now = time::now();
        let definition = stored_definition(definition);
        let record = SyncJobRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            integration_name: integration_name(&definition),
            definition,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                "INSERT INTO sync_jobs (id, environment_id, integration_name, definition, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                args![
                    &record.id,
                    environment_id,
                    &record.integration_name,
                    json_text(&record.definition)?,
                    time::to_micros(now)
                ],
            )
            .await?;
        Ok(record)
    }

    /// A sync job of the environment.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a job of another environment or none.
    pub async fn get_sync_job(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<SyncJobRecord> {
        job_from_row(&self.fetch_scoped(&JOBS, environment_id, id).await?)
    }

    /// A page of the environment's sync jobs, oldest first; only those of
    /// `integration_name` when given.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a bad page request.
    pub async fn list_sync_jobs(
        &self,
        environment_id: &str,
        integration_name: Option<&str>,
        page: &PageRequest,
    ) -> StorageResult<Page<SyncJobRecord>> {
        let filters: Vec<(&str, Arg)> = integration_name
            .map(|name| ("integration_name", Arg::from(name)))
            .into_iter()
            .collect();
        self.list_scoped(&JOBS, environment_id, filters, page, job_from_row)
            .await
    }

    /// Replaces a sync job's definition (validated by the caller); answers it as stored.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a job of another environment or none.
    pub async fn update_sync_job(
        &self,
        environment_id: &str,
        id: &str,
        definition: Map<String, Value>,
    ) -> StorageResult<SyncJobRecord> {
        let mut record = self.get_sync_job(environment_id, id).await?;
        record.definition = stored_definition(definition);
        record.integration_name = integration_name(&record.definition);
        record.updated_at = time::now();
        self.change_scoped(
            &JOBS,
            id,
            "UPDATE sync_jobs SET integration_name = $1, definition = $2, updated_at = $3 \
             WHERE id = $4 AND environment_id = $5",
            args![
                &record.integration_name,
                json_text(&record.definition)?,
                time::to_micros(record.updated_at),
                id,
                environment_id
            ],
        )
        .await?;
        Ok(record)
    }

    /// Deletes a sync job and its runs (a run being executed stops at its next save).
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a job of another environment or none.
    pub async fn delete_sync_job(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.delete_scoped(&JOBS, environment_id, id).await
    }

    /// Creates a run (status `created`) of a job of the environment for an account of the
    /// environment (and into a datastore of the environment, when it names one).
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the job, the account or the datastore is
    /// not in the environment.
    pub async fn create_sync_job_run(
        &self,
        environment_id: &str,
        new: NewSyncJobRun,
    ) -> StorageResult<SyncJobRunRecord> {
        self.get_sync_job(environment_id, &new.sync_job_id).await?;
        self.get_account(environment_id, &new.integrated_account_id)
            .await?;
        if let Some(datastore) = &new.datastore_id {
            self.get_datastore(environment_id, datastore).await?;
        }
        let now = time::now();
        let record = SyncJobRunRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            sync_job_id: new.sync_job_id,
            integrated_account_id: new.integrated_account_id,
            status: RunStatus::Created,
            args: new.args,
            error_handling: new.error_handling,
            ignore_previous_run: new.ignore_previous_run,
            mutex_key: new.mutex_key,
            mutex_forced: new.mutex_forced,
            integration_name: new.integration_name,
            datastore_id: new.datastore_id,
            state: None,
            error: None,
            started_at: None,
            finished_at: None,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                "INSERT INTO sync_job_runs (id, environment_id, sync_job_id, integrated_account_id, \
                 status, args, error_handling, ignore_previous_run, mutex_key, mutex_forced, \
                 integration_name, sync_job_cron_trigger_id, created_at, updated_at, datastore_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
                args![
                    &record.id,
                    environment_id,
                    &record.sync_job_id,
                    &record.integrated_account_id,
                    enum_text(&record.status)?,
                    json_text(&record.args)?,
                    &record.error_handling,
                    record.ignore_previous_run,
                    record.mutex_key.clone(),
                    record.mutex_forced,
                    record.integration_name.clone(),
                    new.sync_job_cron_trigger_id,
                    time::to_micros(now),
                    record.datastore_id.clone()
                ],
            )
            .await?;
        Ok(record)
    }

    /// A run of the environment.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a run of another environment or none.
    pub async fn get_sync_job_run(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<SyncJobRunRecord> {
        run_from_row(&self.fetch_scoped(&RUNS, environment_id, id).await?)
    }

    /// A page of the environment's runs matching `filter`, oldest first.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a bad page request.
    pub async fn list_sync_job_runs(
        &self,
        environment_id: &str,
        filter: &SyncJobRunFilter,
        page: &PageRequest,
    ) -> StorageResult<Page<SyncJobRunRecord>> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(job) = &filter.sync_job_id {
            filters.push(("sync_job_id", job.into()));
        }
        if let Some(account) = &filter.integrated_account_id {
            filters.push(("integrated_account_id", account.into()));
        }
        if let Some(status) = &filter.status {
            filters.push(("status", enum_text(status)?.into()));
        }
        self.list_scoped(&RUNS, environment_id, filters, page, run_from_row)
            .await
    }

    /// Stops an unfinished run (status `stopped`, its lease released): the process
    /// executing it writes nothing more and stops at its next save. A finished run is
    /// answered unchanged.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a run of another environment or none.
    pub async fn stop_sync_job_run(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<SyncJobRunRecord> {
        let now = time::to_micros(time::now());
        self.backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET status = 'stopped', finished_at = $1, updated_at = $1, \
                     lease_owner = NULL, lease_until = NULL \
                     WHERE id = $2 AND environment_id = $3 AND status IN {UNFINISHED}"
                ),
                args![now, id, environment_id],
            )
            .await?;
        self.get_sync_job_run(environment_id, id).await
    }

    /// *System.* Takes the lease of the unfinished run `id` for `owner` until `until`,
    /// if nobody holds it (or its holder's lease expired before `now`); whether it was
    /// taken. One update, so two processes never both take it.
    pub async fn claim_sync_job_run(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let changed = self
            .backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET lease_owner = $1, lease_until = $2 \
                     WHERE id = $3 AND status IN {UNFINISHED} \
                     AND (lease_until IS NULL OR lease_until < $4)"
                ),
                args![owner, time::to_micros(until), id, time::to_micros(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    /// *System.* Extends `owner`'s lease of the unfinished run `id` to `until`; `false`
    /// when `owner` no longer holds it (or the run ended or was stopped).
    pub async fn renew_sync_job_run_lease(
        &self,
        id: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let changed = self
            .backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET lease_until = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status IN {UNFINISHED}"
                ),
                args![time::to_micros(until), id, owner],
            )
            .await?;
        Ok(changed == 1)
    }

    /// *System.* Releases `owner`'s lease of the run `id` (when it stops executing it).
    pub async fn release_sync_job_run(&self, id: &str, owner: &str) -> StorageResult<()> {
        self.backend
            .execute(
                "UPDATE sync_job_runs SET lease_owner = NULL, lease_until = NULL \
                 WHERE id = $1 AND lease_owner = $2",
                args![id, owner],
            )
            .await?;
        Ok(())
    }

    /// *System.* Saves the runner's `state` of the run it names, if `owner` holds its
    /// lease and the run is not finished; whether it was saved. A finished state
    /// releases the lease.
    pub async fn save_sync_job_run_state(
        &self,
        owner: &str,
        state: &RunState,
    ) -> StorageResult<bool> {
        let now = time::to_micros(time::now());
        let changed = self
            .backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET status = $1, state = $2, error = $3, started_at = $4, \
                     finished_at = $5, updated_at = $6, \
                     lease_owner = CASE WHEN $7 THEN NULL ELSE lease_owner END, \
                     lease_until = CASE WHEN $7 THEN NULL ELSE lease_until END \
                     WHERE id = $8 AND lease_owner = $9 AND status IN {UNFINISHED}"
                ),
                args![
                    enum_text(&state.status)?,
                    json_text(state)?,
                    state.error.clone(),
                    time::to_micros(state.started_at),
                    state.finished_at.map(time::to_micros),
                    now,
                    state.status.is_finished(),
                    &state.run_id,
                    owner
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// *System.* Marks the run `id` failed with `error` (a run the runner could not carry
    /// out: its job or account cannot be used), if `owner` holds its lease and it is not
    /// finished; whether it was marked. Releases the lease.
    pub async fn fail_sync_job_run(
        &self,
        id: &str,
        owner: &str,
        error: &str,
    ) -> StorageResult<bool> {
        let now = time::to_micros(time::now());
        let changed = self
            .backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET status = 'failed', error = $1, finished_at = $2, \
                     updated_at = $2, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $3 AND lease_owner = $4 AND status IN {UNFINISHED}"
                ),
                args![error, now, id, owner],
            )
            .await?;
        Ok(changed == 1)
    }

    /// *System.* The saved runner state of the run `id` (`None` before it started or
    /// for no such run).
    pub async fn sync_job_run_state(&self, id: &str) -> StorageResult<Option<RunState>> {
        let rows = self
            .backend
            .fetch(
                RUNS.table,
                "SELECT state FROM sync_job_runs WHERE id = $1",
                args![id],
            )
            .await?;
        Ok(rows.first().map(run_state).transpose()?.flatten())
    }

    /// *System.* The `started_at` of the latest completed run of the job for the account.
    pub async fn last_completed_sync_job_run(
        &self,
        sync_job_id: &str,
        integrated_account_id: &str,
    ) -> StorageResult<Option<DateTime<Utc>>> {
        let rows = self
            .backend
            .fetch(
                RUNS.table,
                "SELECT MAX(started_at) AS started_at FROM sync_job_runs \
                 WHERE sync_job_id = $1 AND integrated_account_id = $2 AND status = 'completed'",
                args![sync_job_id, integrated_account_id],
            )
            .await?;
        let micros = rows
            .first()
            .map(|r| r.opt_int("started_at"))
            .transpose()?
            .flatten();
        opt_time(RUNS.table, micros)
    }

    /// *System.* Notes that the job engine was asked to execute the run `id` at `at`
    /// (see [`lost_sync_job_runs`](Self::lost_sync_job_runs)).
    pub async fn note_sync_job_run_queued(&self, id: &str, at: DateTime<Utc>) -> StorageResult<()> {
        self.backend
            .execute(
                "UPDATE sync_job_runs SET next_attempt_at = $1 WHERE id = $2",
                args![time::to_micros(at), id],
            )
            .await?;
        Ok(())
    }

    /// *System.* Unfinished runs (of every environment) that nobody holds as of `now`
    /// and whose engine task is lost: last queued (or, never queued, created) before
    /// `stale`. At most `limit`, oldest first.
    pub async fn lost_sync_job_runs(
        &self,
        now: DateTime<Utc>,
        stale: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<InterruptedRun>> {
        self.unheld_sync_job_runs(now, Some(stale), limit).await
    }

    /// *System.* Whether the run `id` can be executed as of `now`.
    pub async fn sync_job_run_hold(&self, id: &str, now: DateTime<Utc>) -> StorageResult<RunHold> {
        let rows = self
            .backend
            .fetch(
                RUNS.table,
                &format!(
                    "SELECT lease_until FROM sync_job_runs WHERE id = $1 AND status IN {UNFINISHED}"
                ),
                args![id],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(RunHold::Done);
        };
        Ok(match opt_time(RUNS.table, row.opt_int("lease_until")?)? {
            Some(until) if until >= now => RunHold::HeldUntil(until),
            _ => RunHold::Free,
        })
    }

    /// *System.* Unfinished runs (of every environment) that nobody holds as of `now`:
    /// never claimed, or their holder's lease expired (the process died), oldest first,
    /// at most `limit`.
    pub async fn interrupted_sync_job_runs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<InterruptedRun>> {
        self.unheld_sync_job_runs(now, None, limit).await
    }

    /// Unfinished runs nobody holds as of `now`, oldest first, at most `limit`; with
    /// `queued_before`, only those last queued (or, never queued, created) before it.
    async fn unheld_sync_job_runs(
        &self,
        now: DateTime<Utc>,
        queued_before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StorageResult<Vec<InterruptedRun>> {
        self.fetch_map(
            RUNS.table,
            &format!(
                "SELECT id, environment_id FROM sync_job_runs WHERE status IN {UNFINISHED} \
                 AND (lease_until IS NULL OR lease_until < $1) \
                 AND ($2 IS NULL OR COALESCE(next_attempt_at, created_at) < $2) \
                 ORDER BY created_at, id LIMIT $3"
            ),
            args![
                time::to_micros(now),
                queued_before.map(time::to_micros),
                i64::from(limit)
            ],
            |row| {
                Ok(InterruptedRun {
                    environment_id: row.text("environment_id")?,
                    id: row.text("id")?,
                })
            },
        )
        .await
    }
}

/// The definition's `integration_name` (empty when it has none).
fn integration_name(definition: &Map<String, Value>) -> String {
    definition
        .get("integration_name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
