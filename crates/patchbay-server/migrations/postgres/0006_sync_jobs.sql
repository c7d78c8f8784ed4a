-- Sync jobs (`/sync-job`) and their runs (`/sync-job-run`), see docs/sync-jobs.md.
-- `definition` is the job as sent (Truto's JSON, without the host's `id`,
-- `environment_id` and timestamps), validated before it is stored.
CREATE TABLE sync_jobs (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    integration_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sync_jobs_by_environment ON sync_jobs (environment_id, created_at, id);

-- A run: what was asked (`args`, `error_handling`, `ignore_previous_run`), where it is
-- (`status`, `error`, the timestamps) and the runner's whole `RunState` as JSON in `state`
-- (its checkpoint and counts; NULL until the run started). `lease_owner`/`lease_until`:
-- the process executing it; a run whose lease expired while unfinished (the process died)
-- is resumed from its checkpoint by any process (`sync::SyncRuns::resume_interrupted`).
CREATE TABLE sync_job_runs (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    sync_job_id TEXT NOT NULL REFERENCES sync_jobs (id) ON DELETE CASCADE,
    integrated_account_id TEXT NOT NULL REFERENCES integrated_accounts (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    args TEXT NOT NULL,
    error_handling TEXT NOT NULL,
    ignore_previous_run BOOLEAN NOT NULL,
    state TEXT,
    error TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sync_job_runs_by_environment ON sync_job_runs (environment_id, created_at, id);
CREATE INDEX sync_job_runs_by_job ON sync_job_runs (sync_job_id, integrated_account_id, status, started_at);
CREATE INDEX sync_job_runs_unfinished ON sync_job_runs (status, lease_until);
