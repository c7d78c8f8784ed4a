-- Request logs (`GET /log`): one row per upstream call (`unified_proxy_api`) or outbound
-- webhook delivery attempt (`webhook`). `metadata` is the JSON object the API answers; the
-- other columns are what `GET /log` filters on. Rows older than the retention are pruned.
CREATE TABLE request_logs (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    log_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    request_type TEXT,
    integrated_account_id TEXT,
    integration TEXT,
    webhook_id TEXT,
    metadata TEXT NOT NULL
);
CREATE INDEX request_logs_by_time ON request_logs (environment_id, log_type, created_at, id);
CREATE INDEX request_logs_by_age ON request_logs (created_at);

-- Whether the environment's request logs keep (redacted, size-capped) request and response
-- bodies; off unless an operator turns it on (`PATCH /environment/{id} {"log_bodies": true}`).
ALTER TABLE environments ADD COLUMN log_bodies BOOLEAN NOT NULL DEFAULT FALSE;
