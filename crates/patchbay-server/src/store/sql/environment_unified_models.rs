//! Environment unified models: a unified model installed in its environment,
//! with the environment's `override` of the model (once per model). `revision`
//! grows on every change of the row or of one of its override rows.

use std::collections::HashSet;

use patchbay::unified::ModelOverride;

use super::super::backend::{Arg, Row, Statement, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::time;
use super::super::unified::{EnvironmentUnifiedModelFilter, EnvironmentUnifiedModelRecord};
use super::scoped::Scoped;
use super::unified_models::UNIFIED_MODELS;
use super::{Store, conflict_as, new_id};

pub(super) const ENVIRONMENT_UNIFIED_MODELS: Scoped = Scoped {
    table: "environment_unified_models",
    kind: "environment unified model",
    columns: "id, environment_id, unified_model_id, override, revision, created_at, updated_at",
};
const TABLE: &str = ENVIRONMENT_UNIFIED_MODELS.table;

/// The filter on the installed model's name (a correlated subquery compared
/// to the filter's value by [`Store::list_scoped`]).
const MODEL_NAME: &str = "(SELECT m.name FROM unified_models m \
                          WHERE m.id = environment_unified_models.unified_model_id)";

/// The statement that grows the install's `revision` (an override row changed).
pub(super) fn bump_install_revision(environment_id: &str, id: &str) -> Statement {
    Statement::must_change(
        "UPDATE environment_unified_models SET revision = revision + 1 \
         WHERE id = $1 AND environment_id = $2",
        args![id, environment_id],
    )
}

fn record(row: &Row) -> StorageResult<EnvironmentUnifiedModelRecord> {
    let model_override = row
        .opt_text("override")?
        .map(|text| {
            serde_json::from_str::<ModelOverride>(&text)
                .map_err(|_| StorageError::corrupt(TABLE, "`override` is not a model override"))
        })
        .transpose()?;
    Ok(EnvironmentUnifiedModelRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        unified_model_id: row.text("unified_model_id")?,
        model_override,
        created_at: time::column(TABLE, row.int("created_at")?)?,
        updated_at: time::column(TABLE, row.int("updated_at")?)?,
    })
}

fn override_text(value: &Option<ModelOverride>) -> StorageResult<Option<String>> {
    value
        .as_ref()
        .map(|o| {
            serde_json::to_string(o).map_err(|e| {
                StorageError::InvalidInput(format!("the override cannot be stored: {e}"))
            })
        })
        .transpose()
}

impl Store {
    /// Installs the unified model `unified_model_id` of the environment (once
    /// per model), with `model_override` (validated by the caller).
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a model not in the
    /// environment, [`Conflict`](StorageError::Conflict) when it is installed.
    pub async fn install_unified_model(
        &self,
        environment_id: &str,
        unified_model_id: &str,
        model_override: Option<ModelOverride>,
    ) -> StorageResult<EnvironmentUnifiedModelRecord> {
        self.select_scoped(&UNIFIED_MODELS, "id", environment_id, unified_model_id)
            .await?;
        let now = time::now();
        let record = EnvironmentUnifiedModelRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            unified_model_id: unified_model_id.to_owned(),
            model_override,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                &format!(
                    "INSERT INTO environment_unified_models ({}) VALUES ($1, $2, $3, $4, 1, $5, $6)",
                    ENVIRONMENT_UNIFIED_MODELS.columns
                ),
                args![
                    &record.id,
                    environment_id,
                    unified_model_id,
                    override_text(&record.model_override)?,
                    time::to_micros(now),
                    time::to_micros(now)
                ],
            )
            .await
            .map_err(conflict_as(|| {
                format!("unified model `{unified_model_id}` is already installed in this environment")
            }))?;
        Ok(record)
    }

    /// An environment unified model.
    pub async fn get_environment_unified_model(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<EnvironmentUnifiedModelRecord> {
        record(
            &self
                .fetch_scoped(&ENVIRONMENT_UNIFIED_MODELS, environment_id, id)
                .await?,
        )
    }

    /// Environment unified models matching `filter`, oldest first.
    pub async fn list_environment_unified_models(
        &self,
        environment_id: &str,
        filter: &EnvironmentUnifiedModelFilter,
        page: &PageRequest,
    ) -> StorageResult<Page<EnvironmentUnifiedModelRecord>> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(id) = &filter.id {
            filters.push(("id", id.into()));
        }
        if let Some(model) = &filter.unified_model_id {
            filters.push(("unified_model_id", model.into()));
        }
        if let Some(name) = &filter.unified_model_name {
            filters.push((MODEL_NAME, name.into()));
        }
        self.list_scoped(
            &ENVIRONMENT_UNIFIED_MODELS,
            environment_id,
            filters,
            page,
            record,
        )
        .await
    }

    /// Replaces the override (`None` removes it); the revision grows.
    pub async fn update_environment_unified_model(
        &self,
        environment_id: &str,
        id: &str,
        model_override: Option<ModelOverride>,
    ) -> StorageResult<EnvironmentUnifiedModelRecord> {
        let mut record = self
            .get_environment_unified_model(environment_id, id)
            .await?;
        record.model_override = model_override;
        record.updated_at = time::now();
        self.change_scoped(
            &ENVIRONMENT_UNIFIED_MODELS,
            id,
            "UPDATE environment_unified_models SET override = $1, revision = revision + 1, \
             updated_at = $2 WHERE id = $3 AND environment_id = $4",
            args![
                override_text(&record.model_override)?,
                time::to_micros(record.updated_at),
                id,
                environment_id
            ],
        )
        .await?;
        Ok(record)
    }

    /// Uninstalls a unified model: deletes the environment unified model and
    /// its override rows.
    pub async fn delete_environment_unified_model(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<()> {
        self.delete_scoped(&ENVIRONMENT_UNIFIED_MODELS, environment_id, id)
            .await
    }

    /// The ids of the environment's installed unified models (for answers
    /// that say where a model is installed).
    pub async fn installed_unified_models(
        &self,
        environment_id: &str,
    ) -> StorageResult<HashSet<String>> {
        self.fetch_map(
            TABLE,
            "SELECT unified_model_id FROM environment_unified_models WHERE environment_id = $1",
            args![environment_id],
            |row| row.text("unified_model_id"),
        )
        .await
        .map(|ids| ids.into_iter().collect())
    }

    /// The names of the environment's installed unified models, by name (the
    /// models an account's MCP tools come from).
    pub async fn installed_unified_model_names(
        &self,
        environment_id: &str,
    ) -> StorageResult<Vec<String>> {
        let mut names = self
            .fetch_map(
                TABLE,
                "SELECT m.name FROM environment_unified_models e \
                 JOIN unified_models m \
                   ON m.id = e.unified_model_id AND m.environment_id = e.environment_id \
                 WHERE e.environment_id = $1",
                args![environment_id],
                |row| row.text("name"),
            )
            .await?;
        names.sort();
        Ok(names)
    }
}
