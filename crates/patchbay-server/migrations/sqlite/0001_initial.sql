-- Patchbay server schema (SQLite). Timestamps are microseconds since the Unix
-- epoch; columns ending in _enc hold `v1:<key id>:<base64>` AES-256-GCM
-- ciphertext; *_hash columns hold SHA-256 hex of a secret token.
-- Keep in step with ../postgres/0001_initial.sql.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    category TEXT,
    is_beta BOOLEAN NOT NULL,
    sharing TEXT,
    config TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment_id, name)
);
CREATE INDEX integrations_page ON integrations (environment_id, created_at, id);

CREATE TABLE environment_integrations (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    show_in_catalog BOOLEAN NOT NULL,
    is_enabled BOOLEAN NOT NULL,
    override_enc TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment_id, integration_id)
);
CREATE INDEX environment_integrations_page ON environment_integrations (environment_id, created_at, id);

CREATE TABLE integrated_accounts (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    environment_integration_id TEXT NOT NULL REFERENCES environment_integrations (id),
    tenant_id TEXT NOT NULL,
    context_enc TEXT NOT NULL,
    authentication_method TEXT NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT,
    last_action_result TEXT,
    region TEXT,
    is_sandbox BOOLEAN NOT NULL,
    object_store_context_keys TEXT,
    row_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX integrated_accounts_page ON integrated_accounts (environment_id, created_at, id);
CREATE INDEX integrated_accounts_tenant ON integrated_accounts (environment_id, tenant_id);

CREATE TABLE link_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    data_enc TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    target_url TEXT NOT NULL,
    is_active BOOLEAN NOT NULL,
    event_types TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_page ON webhooks (environment_id, created_at, id);

-- status: pending | delivered | dead
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    claim_token TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
