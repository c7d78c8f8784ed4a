//! Cron triggers of sync jobs (`/sync-job-cron-trigger`).
//!
//! A trigger is inactive until scheduled. While scheduled, `next_fire_at` is its next
//! due time; a process fires a due trigger by moving `next_fire_at` to the following
//! due time with one conditional update ([`claim_sync_job_cron_fire`]), so among the
//! processes sharing the database exactly one creates the run of each due time.
//!
//! [`claim_sync_job_cron_fire`]: Store::claim_sync_job_cron_fire

use chrono::{DateTime, Utc};

use super::super::backend::{Arg, Row, args};
use super::super::error::StorageResult;
use super::super::model::{Page, PageRequest};
use super::super::sync::{
    NewSyncJobCronTrigger, SyncJobCronTriggerFilter, SyncJobCronTriggerRecord,
};
use super::super::time;
use super::scoped::Scoped;
use super::sync_jobs::{json_text, object, opt_time};
use super::{Store, new_id};

const TRIGGERS: Scoped = Scoped {
    table: "sync_job_cron_triggers",
    kind: "sync job cron trigger",
    columns: "id, environment_id, sync_job_id, integrated_account_id, cron_expression, args, \
              error_handling, ignore_previous_run, meta, scheduled, next_fire_at, last_fired_at, \
              last_run_id, last_error, created_at, updated_at",
};

fn trigger_from_row(row: &Row) -> StorageResult<SyncJobCronTriggerRecord> {
    let table = TRIGGERS.table;
    Ok(SyncJobCronTriggerRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        trigger: NewSyncJobCronTrigger {
            sync_job_id: row.text("sync_job_id")?,
            integrated_account_id: row.text("integrated_account_id")?,
            cron_expression: row.text("cron_expression")?,
            args: object(table, "args", &row.text("args")?)?,
            error_handling: row.text("error_handling")?,
            ignore_previous_run: row.boolean("ignore_previous_run")?,
            meta: object(table, "meta", &row.text("meta")?)?,
        },
        scheduled: row.boolean("scheduled")?,
        next_fire_at: opt_time(table, row.opt_int("next_fire_at")?)?,
        last_fired_at: opt_time(table, row.opt_int("last_fired_at")?)?,
        last_run_id: row.opt_text("last_run_id")?,
        last_error: row.opt_text("last_error")?,
        created_at: time::column(table, row.int("created_at")?)?,
        updated_at: time::column(table, row.int("updated_at")?)?,
    })
}

impl Store {
    /// Stores a cron trigger (checked by the caller), not scheduled; answers it as stored.
    ///
    /// # Errors
    ///
    /// [`NotFound`](super::super::StorageError::NotFound) when the job or the account is
    /// not in the environment.
    pub async fn create_sync_job_cron_trigger(
        &self,
        environment_id: &str,
        new: NewSyncJobCronTrigger,
    ) -> StorageResult<SyncJobCronTriggerRecord> {
        self.get_sync_job(environment_id, &new.sync_job_id).await?;
        self.get_account(environment_id, &new.integrated_account_id)
            .await?;
        let id = new_id();
        let now = time::to_micros(time::now());
        self.backend
            .execute(
                "INSERT INTO sync_job_cron_triggers (id, environment_id, sync_job_id, \
                 integrated_account_id, cron_expression, args, error_handling, \
                 ignore_previous_run, meta, scheduled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $10)",
                args![
                    &id,
                    environment_id,
                    &new.sync_job_id,
                    &new.integrated_account_id,
                    &new.cron_expression,
                    json_text(&new.args)?,
                    &new.error_handling,
                    new.ignore_previous_run,
                    json_text(&new.meta)?,
                    now
                ],
            )
            .await?;
        self.get_sync_job_cron_trigger(environment_id, &id).await
    }

    /// A cron trigger of the environment.
    ///
    /// # Errors
    ///
    /// [`NotFound`](super::super::StorageError::NotFound) for a trigger of another
    /// environment or none.
    pub async fn get_sync_job_cron_trigger(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<SyncJobCronTriggerRecord> {
        trigger_from_row(&self.fetch_scoped(&TRIGGERS, environment_id, id).await?)
    }

    /// A page of the environment's cron triggers matching `filter`, oldest first.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](super::super::StorageError::InvalidInput) for a bad page request.
    pub async fn list_sync_job_cron_triggers(
        &self,
        environment_id: &str,
        filter: &SyncJobCronTriggerFilter,
        page: &PageRequest,
    ) -> StorageResult<Page<SyncJobCronTriggerRecord>> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(job) = &filter.sync_job_id {
            filters.push(("sync_job_id", job.into()));
        }
        if let Some(account) = &filter.integrated_account_id {
            filters.push(("integrated_account_id", account.into()));
        }
        self.list_scoped(&TRIGGERS, environment_id, filters, page, trigger_from_row)
            .await
    }

    /// Replaces what a trigger creates runs of (checked by the caller). A scheduled
    /// trigger next fires at `next_fire_at` (computed by the caller from the new
    /// expression); an unscheduled one stays unscheduled.
    ///
    /// # Errors
    ///
    /// [`NotFound`](super::super::StorageError::NotFound) for a trigger of another
    /// environment or none, or a job or account not in the environment.
    pub async fn update_sync_job_cron_trigger(
        &self,
        environment_id: &str,
        id: &str,
        trigger: NewSyncJobCronTrigger,
        next_fire_at: DateTime<Utc>,
    ) -> StorageResult<SyncJobCronTriggerRecord> {
        self.get_sync_job(environment_id, &trigger.sync_job_id)
            .await?;
        self.get_account(environment_id, &trigger.integrated_account_id)
            .await?;
        self.change_scoped(
            &TRIGGERS,
            id,
            "UPDATE sync_job_cron_triggers SET sync_job_id = $1, integrated_account_id = $2, \
             cron_expression = $3, args = $4, error_handling = $5, ignore_previous_run = $6, \
             meta = $7, next_fire_at = CASE WHEN scheduled THEN $8 ELSE NULL END, \
             updated_at = $9 WHERE id = $10 AND environment_id = $11",
            args![
                &trigger.sync_job_id,
                &trigger.integrated_account_id,
                &trigger.cron_expression,
                json_text(&trigger.args)?,
                &trigger.error_handling,
                trigger.ignore_previous_run,
                json_text(&trigger.meta)?,
                time::to_micros(next_fire_at),
                time::to_micros(time::now()),
                id,
                environment_id
            ],
        )
        .await?;
        self.get_sync_job_cron_trigger(environment_id, id).await
    }

    /// Deletes a cron trigger (runs it created are kept).
    ///
    /// # Errors
    ///
    /// [`NotFound`](super::super::StorageError::NotFound) for a trigger of another
    /// environment or none.
    pub async fn delete_sync_job_cron_trigger(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<()> {
        self.delete_scoped(&TRIGGERS, environment_id, id).await
    }

    /// Schedules a trigger to fire next at `next_fire_at` (`Some`), or unschedules it
    /// (`None`); answers it as stored.
    ///
    /// # Errors
    ///
    /// [`NotFound`](super::super::StorageError::NotFound) for a trigger of another
    /// environment or none.
    pub async fn schedule_sync_job_cron_trigger(
        &self,
        environment_id: &str,
        id: &str,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> StorageResult<SyncJobCronTriggerRecord> {
        self.change_scoped(
            &TRIGGERS,
            id,
            "UPDATE sync_job_cron_triggers SET scheduled = $1, next_fire_at = $2, updated_at = $3 \
             WHERE id = $4 AND environment_id = $5",
            args![
                next_fire_at.is_some(),
                next_fire_at.map(time::to_micros),
                time::to_micros(time::now()),
                id,
                environment_id
            ],
        )
        .await?;
        self.get_sync_job_cron_trigger(environment_id, id).await
    }

    /// *System.* Scheduled triggers (of every environment) due at `now`, the most overdue
    /// first, at most `limit`.
    pub async fn due_sync_job_cron_triggers(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<SyncJobCronTriggerRecord>> {
        self.fetch_map(
            TRIGGERS.table,
            &format!(
                "SELECT {} FROM sync_job_cron_triggers WHERE scheduled AND next_fire_at <= $1 \
                 ORDER BY next_fire_at, id LIMIT $2",
                TRIGGERS.columns
            ),
            args![time::to_micros(now), i64::from(limit)],
            trigger_from_row,
        )
        .await
    }

    /// *System.* Takes the firing of `trigger` due at `due` by moving its next due time to
    /// `next`: whether this caller took it (`false`: another process did, or the trigger
    /// was unscheduled, changed or deleted meanwhile). One update, so a due time is
    /// taken once.
    pub async fn claim_sync_job_cron_fire(
        &self,
        trigger_id: &str,
        due: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let changed = self
            .backend
            .execute(
                "UPDATE sync_job_cron_triggers SET next_fire_at = $1, last_fired_at = $2 \
                 WHERE id = $3 AND scheduled AND next_fire_at = $4",
                args![
                    time::to_micros(next),
                    time::to_micros(time::now()),
                    trigger_id,
                    time::to_micros(due)
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// *System.* Records what a firing of `trigger_id` produced: the run it created, or
    /// why it created none.
    pub async fn record_sync_job_cron_fire(
        &self,
        trigger_id: &str,
        outcome: Result<&str, &str>,
    ) -> StorageResult<()> {
        let (run, error) = match outcome {
            Ok(run) => (Some(run.to_owned()), None),
            Err(error) => (None, Some(error.to_owned())),
        };
        self.backend
            .execute(
                "UPDATE sync_job_cron_triggers SET last_run_id = COALESCE($1, last_run_id), \
                 last_error = $2 WHERE id = $3",
                args![run, error, trigger_id],
            )
            .await?;
        Ok(())
    }
}
