//! Integrations: definitions with a validated config and an optimistic version.

use patchbay::config::{Sharing, validate_integration_config};
use serde_json::Value;

use super::super::backend::{Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{IntegrationPatch, IntegrationRecord, NewIntegration, Page, PageRequest};
use super::super::time;
use super::scoped::Scoped;
use super::{Store, conflict_as, enum_text, new_id, parse_enum, require_text};

const INTEGRATIONS: Scoped = Scoped {
    table: "integrations",
    kind: "integration",
    columns: "id, environment_id, name, category, is_beta, sharing, config, version, \
              created_at, updated_at",
};
const TABLE: &str = INTEGRATIONS.table;

fn record(row: &Row) -> Result<IntegrationRecord, StorageError> {
    let config = serde_json::from_str(&row.text("config")?)
        .map_err(|_| StorageError::corrupt(TABLE, "`config` is not JSON"))?;
    Ok(IntegrationRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        name: row.text("name")?,
        category: row.opt_text("category")?,
        is_beta: row.boolean("is_beta")?,
        sharing: row
            .opt_text("sharing")?
            .map(|s| parse_enum::<Sharing>(TABLE, "sharing", &s))
            .transpose()?,
        config,
        version: u64::try_from(row.int("version")?)
            .map_err(|_| StorageError::corrupt(TABLE, "negative `version`"))?,
        created_at: time::column(TABLE, row.int("created_at")?)?,
        updated_at: time::column(TABLE, row.int("updated_at")?)?,
    })
}

/// Rejects a config that is not a valid integration config.
fn validate_config(config: &Value) -> Result<String, StorageError> {
    validate_integration_config(config).map_err(|errors| {
        StorageError::InvalidInput(format!("invalid integration config: {errors}"))
    })?;
    Ok(config.to_string())
}

fn duplicate(name: &str) -> impl FnOnce(StorageError) -> StorageError + '_ {
    conflict_as(move || format!("an integration named `{name}` exists in this environment"))
}

impl Store {
    /// Creates an integration (config validated, version 1).
    pub async fn create_integration(
        &self,
        environment_id: &str,
        new: NewIntegration,
    ) -> StorageResult<IntegrationRecord> {
        require_text("name", &new.name)?;
        let config = validate_config(&new.config)?;
        self.get_environment(environment_id).await?;
        let now = time::now();
        let record = IntegrationRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            name: new.name,
            category: new.category,
            is_beta: new.is_beta,
            sharing: new.sharing,
            config: new.config,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                &format!("INSERT INTO integrations ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", INTEGRATIONS.columns),
                args![
                    &record.id,
                    environment_id,
                    &record.name,
                    record.category.clone(),
                    record.is_beta,
                    record.sharing.as_ref().map(enum_text).transpose()?,
                    config,
                    1i64,
                    time::to_micros(now),
                    time::to_micros(now)
                ],
            )
            .await
            .map_err(duplicate(&record.name))?;
        Ok(record)
    }

    /// An integration.
    pub async fn get_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<IntegrationRecord> {
        record(&self.fetch_scoped(&INTEGRATIONS, environment_id, id).await?)
    }

    /// Integrations, oldest first.
    pub async fn list_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StorageResult<Page<IntegrationRecord>> {
        self.list_scoped(&INTEGRATIONS, environment_id, vec![], page, record)
            .await
    }

    /// Applies `patch` if the stored version is `patch.version` (else
    /// [`Conflict`](StorageError::Conflict)); the version grows by one.
    pub async fn update_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: IntegrationPatch,
    ) -> StorageResult<IntegrationRecord> {
        if let Some(name) = &patch.name {
            require_text("name", name)?;
        }
        let config = patch.config.as_ref().map(validate_config).transpose()?;
        let mut current = self.get_integration(environment_id, id).await?;
        if current.version != patch.version {
            return Err(StorageError::Conflict(format!(
                "integration `{id}` is at version {}, not {}: read it again and retry",
                current.version, patch.version
            )));
        }
        let expected = i64::try_from(patch.version)
            .map_err(|_| StorageError::InvalidInput("`version` is too large".into()))?;
        if let Some(name) = patch.name {
            current.name = name;
        }
        if let Some(category) = patch.category {
            current.category = category;
        }
        if let Some(is_beta) = patch.is_beta {
            current.is_beta = is_beta;
        }
        if let Some(sharing) = patch.sharing {
            current.sharing = sharing;
        }
        if let Some(value) = patch.config {
            current.config = value;
        }
        current.version += 1;
        current.updated_at = time::now();
        let updated = self
            .backend
            .execute(
                "UPDATE integrations SET name = $1, category = $2, is_beta = $3, sharing = $4, \
                 config = $5, version = version + 1, updated_at = $6 \
                 WHERE id = $7 AND environment_id = $8 AND version = $9",
                args![
                    &current.name,
                    current.category.clone(),
                    current.is_beta,
                    current.sharing.as_ref().map(enum_text).transpose()?,
                    config.unwrap_or_else(|| current.config.to_string()),
                    time::to_micros(current.updated_at),
                    id,
                    environment_id,
                    expected
                ],
            )
            .await
            .map_err(duplicate(&current.name))?;
        if updated == 0 {
            return Err(StorageError::Conflict(format!(
                "integration `{id}` was changed concurrently (version {} is stale): read it again and retry",
                patch.version
            )));
        }
        Ok(current)
    }

    /// Deletes an integration; a conflict while it is installed.
    pub async fn delete_integration(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.delete_scoped(&INTEGRATIONS, environment_id, id)
            .await
            .map_err(conflict_as(|| {
                format!("integration `{id}` is installed; uninstall it first")
            }))
    }
}
