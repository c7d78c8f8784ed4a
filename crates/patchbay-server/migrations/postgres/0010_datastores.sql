-- Datastores (`/datastore`, see docs/sync-jobs.md): destinations a sync job run upserts
-- its records into. The only type is `patchbay_database`: a table per (datastore,
-- resource) in this database, created on first use and listed in `datastore_tables`.
CREATE TABLE datastores (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    label TEXT,
    type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX datastores_by_environment ON datastores (environment_id, created_at, id);

-- The record tables of a datastore: `table_name` is derived from the datastore's id and
-- the resource (sanitised, length-capped, hashed), never the caller's text as written.
CREATE TABLE datastore_tables (
    datastore_id TEXT NOT NULL REFERENCES datastores (id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    table_name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (datastore_id, resource)
);

-- The datastore a run upserts its records into (besides its webhook events); a
-- datastore with unfinished runs cannot be deleted, finished runs are detached.
ALTER TABLE sync_job_runs ADD COLUMN datastore_id TEXT REFERENCES datastores (id) ON DELETE SET NULL;
CREATE INDEX sync_job_runs_by_datastore ON sync_job_runs (datastore_id, status);
