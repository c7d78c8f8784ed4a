//! Mapping rows: base rows of unified models (`unified_mappings`) and the
//! environment's override rows (`environment_unified_mappings`), stored alike.
//! Every write also grows the owner's `revision` in the same transaction, so
//! the runtime sees the change on its next call.

use patchbay::unified::MappingConfig;

use super::super::backend::{Arg, Batch, Row, Statement, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::time;
use super::super::unified::{MappingFilter, MappingKind, MappingRecord, NewMapping};
use super::environment_unified_models::{ENVIRONMENT_UNIFIED_MODELS, bump_install_revision};
use super::scoped::Scoped;
use super::unified_models::{UNIFIED_MODELS, bump_model_revision, count, count_arg};
use super::{Store, conflict_as, new_id};

const BASE: Scoped = Scoped {
    table: "unified_mappings",
    kind: "unified model resource method",
    columns: "id, environment_id, unified_model_id, resource_name, integration_name, \
              method_name, config, version, created_at, updated_at",
};

const ENVIRONMENT: Scoped = Scoped {
    table: "environment_unified_mappings",
    kind: "environment unified model resource method",
    columns: "id, environment_id, environment_unified_model_id, resource_name, \
              integration_name, method_name, config, version, created_at, updated_at",
};

impl MappingKind {
    fn table(self) -> &'static Scoped {
        match self {
            MappingKind::Base => &BASE,
            MappingKind::Environment => &ENVIRONMENT,
        }
    }

    /// The column naming the row's owner.
    fn owner_column(self) -> &'static str {
        match self {
            MappingKind::Base => "unified_model_id",
            MappingKind::Environment => "environment_unified_model_id",
        }
    }

    /// The owner's table.
    fn owner(self) -> &'static Scoped {
        match self {
            MappingKind::Base => &UNIFIED_MODELS,
            MappingKind::Environment => &ENVIRONMENT_UNIFIED_MODELS,
        }
    }

    /// The statement that grows the owner's `revision`.
    fn bump(self, environment_id: &str, owner_id: &str) -> Statement {
        match self {
            MappingKind::Base => bump_model_revision(environment_id, owner_id),
            MappingKind::Environment => bump_install_revision(environment_id, owner_id),
        }
    }
}

fn record(kind: MappingKind, row: &Row) -> StorageResult<MappingRecord> {
    let table = kind.table().table;
    let config: MappingConfig = serde_json::from_str(&row.text("config")?)
        .map_err(|_| StorageError::corrupt(table, "`config` is not a mapping config"))?;
    Ok(MappingRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        kind,
        owner_id: row.text(kind.owner_column())?,
        resource_name: row.text("resource_name")?,
        integration_name: row.text("integration_name")?,
        method_name: row.text("method_name")?,
        config,
        version: count(row, "version")?,
        created_at: time::column(table, row.int("created_at")?)?,
        updated_at: time::column(table, row.int("updated_at")?)?,
    })
}

fn config_text(config: &MappingConfig) -> StorageResult<String> {
    serde_json::to_string(config)
        .map_err(|e| StorageError::InvalidInput(format!("the config cannot be stored: {e}")))
}

fn duplicate(kind: MappingKind, row: &NewMapping) -> impl FnOnce(StorageError) -> StorageError {
    let message = format!(
        "a mapping row for resource `{}`, integration `{}`, method `{}` exists for {} `{}`",
        row.resource_name,
        row.integration_name,
        row.method_name,
        kind.owner().kind,
        row.owner_id
    );
    conflict_as(move || message)
}

impl Store {
    /// Creates a mapping row of `kind` (validated by the caller), version 1;
    /// its owner must be in the environment.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for an owner not in the
    /// environment, [`Conflict`](StorageError::Conflict) when the owner has a
    /// row for the same resource, integration and method.
    pub async fn create_mapping(
        &self,
        environment_id: &str,
        kind: MappingKind,
        new: NewMapping,
    ) -> StorageResult<MappingRecord> {
        self.select_scoped(kind.owner(), "id", environment_id, &new.owner_id)
            .await?;
        let now = time::now();
        let id = new_id();
        let insert = Statement::new(
            format!(
                "INSERT INTO {} ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
                kind.table().table,
                kind.table().columns
            ),
            args![
                &id,
                environment_id,
                &new.owner_id,
                &new.resource_name,
                &new.integration_name,
                &new.method_name,
                config_text(&new.config)?,
                time::to_micros(now),
                time::to_micros(now)
            ],
        );
        let batch = self
            .backend
            .execute_atomically(vec![insert, kind.bump(environment_id, &new.owner_id)])
            .await
            .map_err(duplicate(kind, &new))?;
        if batch != Batch::Committed {
            // The owner was deleted between the check and the insert.
            return Err(StorageError::not_found(kind.owner().kind, new.owner_id));
        }
        Ok(MappingRecord {
            id,
            environment_id: environment_id.to_owned(),
            kind,
            owner_id: new.owner_id,
            resource_name: new.resource_name,
            integration_name: new.integration_name,
            method_name: new.method_name,
            config: new.config,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// A mapping row of `kind`.
    pub async fn get_mapping(
        &self,
        environment_id: &str,
        kind: MappingKind,
        id: &str,
    ) -> StorageResult<MappingRecord> {
        record(
            kind,
            &self.fetch_scoped(kind.table(), environment_id, id).await?,
        )
    }

    /// Mapping rows of `kind` matching `filter`, oldest first.
    pub async fn list_mappings(
        &self,
        environment_id: &str,
        kind: MappingKind,
        filter: &MappingFilter,
        page: &PageRequest,
    ) -> StorageResult<Page<MappingRecord>> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(owner) = &filter.owner_id {
            filters.push((kind.owner_column(), owner.into()));
        }
        for (column, value) in [
            ("resource_name", &filter.resource_name),
            ("integration_name", &filter.integration_name),
            ("method_name", &filter.method_name),
        ] {
            if let Some(value) = value {
                filters.push((column, value.into()));
            }
        }
        if let Some(version) = filter.version {
            filters.push(("version", count_arg(version)?));
        }
        self.list_scoped(kind.table(), environment_id, filters, page, |row| {
            record(kind, row)
        })
        .await
    }

    /// Every mapping row of `kind` of the owner `owner_id`, oldest first (for
    /// registering the owner's mappings; an owner has one row per resource,
    /// integration and method).
    pub async fn all_mappings_of(
        &self,
        environment_id: &str,
        kind: MappingKind,
        owner_id: &str,
    ) -> StorageResult<Vec<MappingRecord>> {
        let table = kind.table();
        self.fetch_map(
            table.table,
            &format!(
                "SELECT {} FROM {} WHERE environment_id = $1 AND {} = $2 ORDER BY created_at, id",
                table.columns,
                table.table,
                kind.owner_column()
            ),
            args![environment_id, owner_id],
            |row| record(kind, row),
        )
        .await
    }

    /// Stores `row` (a changed copy of the stored row `row.id`) if the stored
    /// version is still `row.version` (else [`Conflict`](StorageError::Conflict),
    /// nothing changed); answers it with the version one higher.
    pub async fn update_mapping(
        &self,
        environment_id: &str,
        mut row: MappingRecord,
    ) -> StorageResult<MappingRecord> {
        let kind = row.kind;
        let now = time::now();
        let update = Statement::must_change(
            format!(
                "UPDATE {} SET resource_name = $1, integration_name = $2, method_name = $3, \
                 config = $4, version = version + 1, updated_at = $5 \
                 WHERE id = $6 AND environment_id = $7 AND version = $8",
                kind.table().table
            ),
            args![
                &row.resource_name,
                &row.integration_name,
                &row.method_name,
                config_text(&row.config)?,
                time::to_micros(now),
                &row.id,
                environment_id,
                count_arg(row.version)?
            ],
        );
        let new = NewMapping {
            owner_id: row.owner_id.clone(),
            resource_name: row.resource_name.clone(),
            integration_name: row.integration_name.clone(),
            method_name: row.method_name.clone(),
            config: MappingConfig::default(),
        };
        let batch = self
            .backend
            .execute_atomically(vec![update, kind.bump(environment_id, &row.owner_id)])
            .await
            .map_err(duplicate(kind, &new))?;
        if batch != Batch::Committed {
            return Err(StorageError::Conflict(format!(
                "{} `{}` was changed concurrently (version {} is stale): read it again and retry",
                kind.table().kind,
                row.id,
                row.version
            )));
        }
        row.version += 1;
        row.updated_at = now;
        Ok(row)
    }

    /// Deletes a mapping row of `kind`.
    pub async fn delete_mapping(
        &self,
        environment_id: &str,
        kind: MappingKind,
        id: &str,
    ) -> StorageResult<()> {
        let row = self.get_mapping(environment_id, kind, id).await?;
        let delete = Statement::must_change(
            format!(
                "DELETE FROM {} WHERE id = $1 AND environment_id = $2",
                kind.table().table
            ),
            args![id, environment_id],
        );
        let batch = self
            .backend
            .execute_atomically(vec![delete, kind.bump(environment_id, &row.owner_id)])
            .await?;
        if batch != Batch::Committed {
            return Err(kind.table().not_found(id));
        }
        Ok(())
    }
}
