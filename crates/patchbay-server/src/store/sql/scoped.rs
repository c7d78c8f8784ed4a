//! The query shapes the object modules share.
//!
//! Most objects belong to one environment. Reading, changing and deleting one
//! by id, and listing a page of them, always filter on the environment too, so
//! an id of another environment is [`StorageError::NotFound`] exactly as an
//! unknown one: the helpers here are the one place those statements are
//! written. The *System* lookup [`Store::environment_of`] is the exception
//! that reads across environments.

use super::super::backend::{Arg, Row, args};
use super::super::cursor::{self, Cursor};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::Store;

/// A table whose rows belong to one environment (it has `id`,
/// `environment_id` and `created_at` columns).
pub(super) struct Scoped {
    /// The table's name.
    pub(super) table: &'static str,
    /// What a row is called in errors, e.g. `integrated account`.
    pub(super) kind: &'static str,
    /// The columns [`Store::fetch_scoped`] and [`Store::list_scoped`] select.
    pub(super) columns: &'static str,
}

impl Scoped {
    /// The error for a row `id` that is not in the environment.
    pub(super) fn not_found(&self, id: &str) -> StorageError {
        StorageError::not_found(self.kind, id)
    }

    /// The first of `rows` (the answer of a query for the row `id`), or
    /// [`not_found`](Self::not_found).
    pub(super) fn one(&self, rows: Vec<Row>, id: &str) -> StorageResult<Row> {
        rows.into_iter().next().ok_or_else(|| self.not_found(id))
    }
}

impl Store {
    /// The row `id` of `scoped` in the environment, with its usual columns.
    pub(super) async fn fetch_scoped(
        &self,
        scoped: &Scoped,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<Row> {
        self.select_scoped(scoped, scoped.columns, environment_id, id)
            .await
    }

    /// `columns` of the row `id` of `scoped` in the environment.
    pub(super) async fn select_scoped(
        &self,
        scoped: &Scoped,
        columns: &str,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<Row> {
        let sql = format!(
            "SELECT {columns} FROM {} WHERE id = $1 AND environment_id = $2",
            scoped.table
        );
        let rows = self
            .backend
            .fetch(scoped.table, &sql, args![id, environment_id])
            .await?;
        scoped.one(rows, id)
    }

    /// Runs `sql`, which changes the row `id` of `scoped` (and must filter on
    /// its environment); not found when it changed no row.
    pub(super) async fn change_scoped(
        &self,
        scoped: &Scoped,
        id: &str,
        sql: &str,
        args: Vec<Arg>,
    ) -> StorageResult<()> {
        if self.backend.execute(sql, args).await? == 0 {
            return Err(scoped.not_found(id));
        }
        Ok(())
    }

    /// Deletes the row `id` of `scoped` in the environment; not found when
    /// there is none.
    pub(super) async fn delete_scoped(
        &self,
        scoped: &Scoped,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<()> {
        let sql = format!(
            "DELETE FROM {} WHERE id = $1 AND environment_id = $2",
            scoped.table
        );
        self.change_scoped(scoped, id, &sql, args![id, environment_id])
            .await
    }

    /// *System.* The environment of the row `id` of `scoped`, `None` for an
    /// unknown id.
    pub(super) async fn environment_of(
        &self,
        scoped: &Scoped,
        id: &str,
    ) -> StorageResult<Option<String>> {
        let sql = format!("SELECT environment_id FROM {} WHERE id = $1", scoped.table);
        let rows = self.backend.fetch(scoped.table, &sql, args![id]).await?;
        rows.first().map(|r| r.text("environment_id")).transpose()
    }

    /// Every row `sql` answers, read by `map`.
    pub(super) async fn fetch_map<T>(
        &self,
        table: &'static str,
        sql: &str,
        args: Vec<Arg>,
        map: impl Fn(&Row) -> StorageResult<T>,
    ) -> StorageResult<Vec<T>> {
        self.backend
            .fetch(table, sql, args)
            .await?
            .iter()
            .map(map)
            .collect()
    }

    /// A page of the rows of `scoped` in the environment whose columns equal
    /// the `filters`' values, oldest first, read by `map`.
    pub(super) async fn list_scoped<T>(
        &self,
        scoped: &Scoped,
        environment_id: &str,
        filters: Vec<(&str, Arg)>,
        page: &PageRequest,
        map: impl Fn(&Row) -> StorageResult<T>,
    ) -> StorageResult<Page<T>> {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE environment_id = $1",
            scoped.columns, scoped.table
        );
        let mut values = args![environment_id];
        for (column, value) in filters {
            values.push(value);
            sql.push_str(&format!(" AND {column} = ${}", values.len()));
        }
        let (limit, after) = cursor::parse(page)?;
        if let Some(after) = after {
            let n = values.len();
            sql.push_str(&format!(
                " AND (created_at > ${a} OR (created_at = ${a} AND id > ${b}))",
                a = n + 1,
                b = n + 2
            ));
            values.extend(args![after.created_at, after.id]);
        }
        sql.push_str(&format!(
            " ORDER BY created_at, id LIMIT ${}",
            values.len() + 1
        ));
        values.push(i64::from(limit + 1).into());
        let mut rows = self.backend.fetch(scoped.table, &sql, values).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            let last = rows
                .last()
                .ok_or_else(|| StorageError::corrupt(scoped.table, "empty page"))?;
            Some(
                Cursor {
                    created_at: last.int("created_at")?,
                    id: last.text("id")?,
                }
                .encode(),
            )
        } else {
            None
        };
        let result = rows.iter().map(map).collect::<Result<_, _>>()?;
        Ok(Page {
            result,
            next_cursor,
        })
    }
}
