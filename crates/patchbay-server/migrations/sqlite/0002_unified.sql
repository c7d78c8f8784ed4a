-- Unified models and their mappings (SQLite). Keep in step with
-- ../postgres/0002_unified.sql. Timestamps are microseconds since the Unix epoch.
--
-- A unified model belongs to one environment, as integrations do; it is
-- installed in its environment by an environment_unified_models row. `revision`
-- grows on every change of the row or of its mapping rows: the server compares
-- it to what it compiled (see src/unified_runtime.rs).

CREATE TABLE unified_models (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    category TEXT,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment_id, name)
);
CREATE INDEX unified_models_page ON unified_models (environment_id, created_at, id);

CREATE TABLE unified_mappings (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    unified_model_id TEXT NOT NULL REFERENCES unified_models (id) ON DELETE CASCADE,
    resource_name TEXT NOT NULL,
    integration_name TEXT NOT NULL,
    method_name TEXT NOT NULL,
    config TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (unified_model_id, resource_name, integration_name, method_name)
);
CREATE INDEX unified_mappings_page ON unified_mappings (environment_id, created_at, id);

CREATE TABLE environment_unified_models (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    unified_model_id TEXT NOT NULL REFERENCES unified_models (id),
    override TEXT,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment_id, unified_model_id)
);
CREATE INDEX environment_unified_models_page ON environment_unified_models (environment_id, created_at, id);

CREATE TABLE environment_unified_mappings (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    environment_unified_model_id TEXT NOT NULL
        REFERENCES environment_unified_models (id) ON DELETE CASCADE,
    resource_name TEXT NOT NULL,
    integration_name TEXT NOT NULL,
    method_name TEXT NOT NULL,
    config TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (environment_unified_model_id, resource_name, integration_name, method_name)
);
CREATE INDEX environment_unified_mappings_page ON environment_unified_mappings (environment_id, created_at, id);

-- An account's `unified_model_override` ({model: {resource: {method: config}}}).
ALTER TABLE integrated_accounts ADD COLUMN unified_model_override TEXT;
