-- Sync jobs on the job engine (docs/sync-jobs-engine.md).
--
-- `next_attempt_at`: when the engine was last asked to execute the run (a task queued
-- for that time). A run that is unfinished, unleased and whose attempt is long past
-- has lost its task (e.g. the queue was unavailable when it was created) and is queued
-- again by the reconciler (`sync::SyncEngine`).
-- `sync_job_cron_trigger_id`: the trigger that created the run, if any.
ALTER TABLE sync_job_runs ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE sync_job_runs ADD COLUMN sync_job_cron_trigger_id TEXT;

-- `/sync-job-cron-trigger`: runs of a job for an account on a 5-field cron schedule
-- (UTC). Inactive until scheduled; `next_fire_at` is the next due time while scheduled
-- (NULL otherwise). Firing moves `next_fire_at` with one conditional update, so among
-- processes sharing the database exactly one creates the run of each due time.
CREATE TABLE sync_job_cron_triggers (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    sync_job_id TEXT NOT NULL REFERENCES sync_jobs (id) ON DELETE CASCADE,
    integrated_account_id TEXT NOT NULL REFERENCES integrated_accounts (id) ON DELETE CASCADE,
    cron_expression TEXT NOT NULL,
    args TEXT NOT NULL,
    error_handling TEXT NOT NULL,
    ignore_previous_run BOOLEAN NOT NULL,
    meta TEXT NOT NULL,
    scheduled BOOLEAN NOT NULL,
    next_fire_at BIGINT,
    last_fired_at BIGINT,
    last_run_id TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sync_job_cron_triggers_by_environment ON sync_job_cron_triggers (environment_id, created_at, id);
CREATE INDEX sync_job_cron_triggers_due ON sync_job_cron_triggers (scheduled, next_fire_at);

-- The sync job run an outbox event is about (`sync_job_run:*` events: the payload's
-- `sync_job_run_id`), so a run can wait while too many of its record events are not
-- delivered yet (receiver backpressure, `PATCHBAY_SYNC_DELIVERY_WINDOW`).
ALTER TABLE outbox ADD COLUMN sync_job_run_id TEXT;
CREATE INDEX outbox_by_sync_job_run ON outbox (sync_job_run_id, status);
