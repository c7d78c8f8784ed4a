-- Run control for sync job runs (docs/sync-jobs.md, "Mutex, limits and run state").
--
-- `mutex_key`: the job's `mutex_key` rendered when the run was created (NULL: the job has
-- none). Runs of an environment with the same key execute one at a time, oldest first;
-- `mutex_forced` (created with `force: true`) runs neither wait for nor hold the mutex.
-- `integration_name`: the account's integration, for the per-integration limit. Runs
-- created before this migration have neither (no mutex, no per-integration count).
ALTER TABLE sync_job_runs ADD COLUMN mutex_key TEXT;
ALTER TABLE sync_job_runs ADD COLUMN mutex_forced BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sync_job_runs ADD COLUMN integration_name TEXT;
CREATE INDEX sync_job_runs_by_mutex ON sync_job_runs (environment_id, mutex_key, status);
CREATE INDEX sync_job_runs_by_account ON sync_job_runs (environment_id, integrated_account_id, status);
CREATE INDEX sync_job_runs_by_integration ON sync_job_runs (environment_id, integration_name, status);

-- The run state API (`/sync-job-run-state`): JSON `value`s under `key`, grouped by a
-- `state_key` (usually a job's rendered `state_key`), per environment.
CREATE TABLE sync_job_run_states (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    state_key TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sync_job_run_states_by_key ON sync_job_run_states (environment_id, state_key, key);
CREATE INDEX sync_job_run_states_by_environment ON sync_job_run_states (environment_id, state_key, created_at, id);
