-- MCP servers of integrated accounts (`/integrated-account/{id}/mcp`, `POST /mcp/{token}`).
-- The token is stored as a SHA-256 hash only; `config` is the tool filter as JSON
-- (`{"methods": [...], "tags": [...]}`); a NULL `expires_at` never expires.
CREATE TABLE mcp_servers (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    integrated_account_id TEXT NOT NULL REFERENCES integrated_accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mcp_servers_by_account ON mcp_servers (environment_id, integrated_account_id, created_at, id);
