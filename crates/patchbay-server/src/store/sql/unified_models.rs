//! Unified models: definitions owned by one environment, with an optimistic
//! `version` (the API's) and a `revision` (the runtime's: it also grows when a
//! base mapping row of the model changes).

use patchbay::unified::{UnifiedModel, validate_unified_model};
use serde_json::Value;

use super::super::backend::{Arg, Row, Statement, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::time;
use super::super::unified::{UnifiedModelFilter, UnifiedModelRecord, UnifiedRoute};
use super::scoped::Scoped;
use super::{Store, conflict_as, new_id};

pub(super) const UNIFIED_MODELS: Scoped = Scoped {
    table: "unified_models",
    kind: "unified model",
    columns: "id, environment_id, name, category, definition, version, revision, \
              created_at, updated_at",
};
const TABLE: &str = UNIFIED_MODELS.table;

/// A stored count (`version`, `revision`) as read back.
pub(super) fn count(row: &Row, column: &str) -> StorageResult<u64> {
    u64::try_from(row.int(column)?)
        .map_err(|_| StorageError::corrupt(row.table, format!("negative `{column}`")))
}

/// A count as written; counts start at 1 and grow by one, so they fit.
pub(super) fn count_arg(value: u64) -> StorageResult<Arg> {
    i64::try_from(value)
        .map(Arg::from)
        .map_err(|_| StorageError::InvalidInput("a version is too large".into()))
}

fn record(row: &Row) -> StorageResult<UnifiedModelRecord> {
    let definition: Value = serde_json::from_str(&row.text("definition")?)
        .map_err(|_| StorageError::corrupt(TABLE, "`definition` is not JSON"))?;
    let model = validate_unified_model(&definition)
        .map_err(|e| StorageError::corrupt(TABLE, format!("`definition` is not a model: {e}")))?;
    Ok(UnifiedModelRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        model,
        version: count(row, "version")?,
        created_at: time::column(TABLE, row.int("created_at")?)?,
        updated_at: time::column(TABLE, row.int("updated_at")?)?,
    })
}

/// The definition as stored: the model without the fields the store owns or
/// derives (`id`, `version`, timestamps, `installed_environment`, `team`).
fn definition(model: &UnifiedModel) -> StorageResult<String> {
    let mut model = model.clone();
    model.id = None;
    model.version = None;
    model.created_at = None;
    model.updated_at = None;
    model.installed_environment = None;
    model.team = None;
    serde_json::to_string(&model)
        .map_err(|e| StorageError::InvalidInput(format!("the model cannot be stored: {e}")))
}

fn duplicate(name: &str) -> impl FnOnce(StorageError) -> StorageError + '_ {
    conflict_as(move || format!("a unified model named `{name}` exists in this environment"))
}

/// The statement that grows the model's `revision` (a base row changed).
pub(super) fn bump_model_revision(environment_id: &str, unified_model_id: &str) -> Statement {
    Statement::must_change(
        "UPDATE unified_models SET revision = revision + 1 WHERE id = $1 AND environment_id = $2",
        args![unified_model_id, environment_id],
    )
}

impl Store {
    /// Creates a unified model (validated by the caller) at version 1.
    ///
    /// # Errors
    ///
    /// [`Conflict`](StorageError::Conflict) when the environment has a model
    /// of that name.
    pub async fn create_unified_model(
        &self,
        environment_id: &str,
        model: UnifiedModel,
    ) -> StorageResult<UnifiedModelRecord> {
        self.get_environment(environment_id).await?;
        let now = time::now();
        let record = UnifiedModelRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            model,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                &format!(
                    "INSERT INTO unified_models ({}) VALUES ($1, $2, $3, $4, $5, 1, 1, $6, $7)",
                    UNIFIED_MODELS.columns
                ),
                args![
                    &record.id,
                    environment_id,
                    &record.model.name,
                    record.model.category.clone(),
                    definition(&record.model)?,
                    time::to_micros(now),
                    time::to_micros(now)
                ],
            )
            .await
            .map_err(duplicate(&record.model.name))?;
        Ok(record)
    }

    /// A unified model.
    pub async fn get_unified_model(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<UnifiedModelRecord> {
        record(
            &self
                .fetch_scoped(&UNIFIED_MODELS, environment_id, id)
                .await?,
        )
    }

    /// Unified models matching `filter`, oldest first.
    pub async fn list_unified_models(
        &self,
        environment_id: &str,
        filter: &UnifiedModelFilter,
        page: &PageRequest,
    ) -> StorageResult<Page<UnifiedModelRecord>> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(name) = &filter.name {
            filters.push(("name", name.into()));
        }
        if let Some(category) = &filter.category {
            filters.push(("category", category.into()));
        }
        if let Some(version) = filter.version {
            filters.push(("version", count_arg(version)?));
        }
        self.list_scoped(&UNIFIED_MODELS, environment_id, filters, page, record)
            .await
    }

    /// Replaces the definition with `model` if the stored version is
    /// `expected_version` (else [`Conflict`](StorageError::Conflict), nothing
    /// changed); the version grows by one.
    pub async fn update_unified_model(
        &self,
        environment_id: &str,
        id: &str,
        expected_version: u64,
        model: UnifiedModel,
    ) -> StorageResult<UnifiedModelRecord> {
        let current = self.get_unified_model(environment_id, id).await?;
        let stale = || {
            StorageError::Conflict(format!(
                "unified model `{id}` is at version {}, not {expected_version}: read it again and retry",
                current.version
            ))
        };
        if current.version != expected_version {
            return Err(stale());
        }
        let now = time::now();
        let updated = self
            .backend
            .execute(
                "UPDATE unified_models SET name = $1, category = $2, definition = $3, \
                 version = version + 1, revision = revision + 1, updated_at = $4 \
                 WHERE id = $5 AND environment_id = $6 AND version = $7",
                args![
                    &model.name,
                    model.category.clone(),
                    definition(&model)?,
                    time::to_micros(now),
                    id,
                    environment_id,
                    count_arg(expected_version)?
                ],
            )
            .await
            .map_err(duplicate(&model.name))?;
        if updated == 0 {
            return Err(stale());
        }
        Ok(UnifiedModelRecord {
            model,
            version: expected_version + 1,
            updated_at: now,
            ..current
        })
    }

    /// Deletes a unified model and its base rows; a conflict while it is
    /// installed in the environment.
    pub async fn delete_unified_model(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.delete_scoped(&UNIFIED_MODELS, environment_id, id)
            .await
            .map_err(conflict_as(|| {
                format!("unified model `{id}` is installed (environment unified model); uninstall it first")
            }))
    }

    /// Where unified calls of the model named `name` go, with the revisions
    /// of the model and of its install, in one query.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) naming the model when the
    /// environment has no model of that name.
    pub async fn unified_route(
        &self,
        environment_id: &str,
        name: &str,
    ) -> StorageResult<UnifiedRoute> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                "SELECT m.id, m.revision, e.id AS install_id, e.revision AS install_revision \
                 FROM unified_models m \
                 LEFT JOIN environment_unified_models e \
                   ON e.unified_model_id = m.id AND e.environment_id = m.environment_id \
                 WHERE m.environment_id = $1 AND m.name = $2",
                args![environment_id, name],
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| StorageError::not_found("unified model named", name))?;
        let install = match row.opt_text("install_id")? {
            Some(id) => Some((id, count(row, "install_revision")?)),
            None => None,
        };
        Ok(UnifiedRoute {
            unified_model_id: row.text("id")?,
            model_revision: count(row, "revision")?,
            install,
        })
    }
}
