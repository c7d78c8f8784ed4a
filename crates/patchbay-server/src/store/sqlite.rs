//! The embedded SQLite backend: one database file, WAL journal, migrations
//! embedded from `migrations/sqlite/`. Single-process by design: the account
//! lock is process-local.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use super::backend::{Arg, Backend, Batch, Cell, Row, Statement};
use super::crypto::Cipher;
use super::error::StoreError;
use super::key::{create_private_dir, create_private_file};
use super::lock::{AccountLock, LocalLocks};
use super::sql::SqlStore;
use super::sql::outbox::SQLITE_CLAIM;
use super::traits::Store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite backend.
pub(crate) struct SqliteBackend {
    pool: SqlitePool,
    locks: LocalLocks,
}

/// Opens (creating when missing) the SQLite database at `path`, migrates it and
/// checks `cipher` against it.
///
/// # Errors
///
/// [`StoreError::Io`] when the directory cannot be created, [`StoreError::Database`]
/// or [`StoreError::Migration`] when the file cannot be opened or migrated,
/// [`StoreError::Crypto`] when `cipher` is not the key the database was written with.
pub async fn open_sqlite(path: &Path, cipher: Cipher) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    create_private_file(path)?;
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(StoreError::from)?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let backend = SqliteBackend {
        pool,
        locks: LocalLocks::default(),
    };
    Ok(Arc::new(SqlStore::new(backend, cipher, "sqlite").await?))
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::OptText(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::OptInt(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
        };
    }
    query
}

fn convert(table: &'static str, row: &SqliteRow) -> Result<Row, StoreError> {
    let mut columns = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else {
            match raw.type_info().name() {
                "TEXT" => Cell::Text(row.try_get_unchecked::<String, _>(i)?),
                "INTEGER" | "BIGINT" | "BOOLEAN" | "INT8" => {
                    Cell::Int(row.try_get_unchecked::<i64, _>(i)?)
                }
                other => {
                    return Err(StoreError::corrupt(
                        table,
                        format!("column `{}` has unexpected type {other}", column.name()),
                    ));
                }
            }
        };
        columns.push((column.name().to_owned(), cell));
    }
    Ok(Row { table, columns })
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(bind(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), args)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn fetch(
        &self,
        table: &'static str,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<Row>, StoreError> {
        bind(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), args)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| convert(table, row))
            .collect()
    }

    async fn execute_atomically(&self, statements: Vec<Statement>) -> Result<Batch, StoreError> {
        let mut tx = self.pool.begin().await?;
        for (index, statement) in statements.into_iter().enumerate() {
            let changed = bind(
                sqlx::query(sqlx::AssertSqlSafe(statement.sql)),
                statement.args,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if statement.must_change && changed == 0 {
                tx.rollback().await?;
                return Ok(Batch::RolledBack(index));
            }
        }
        tx.commit().await?;
        Ok(Batch::Committed)
    }

    fn claim_sql(&self) -> &'static str {
        SQLITE_CLAIM
    }

    async fn lock(&self, key: &str) -> Result<AccountLock, StoreError> {
        Ok(self.locks.lock(key).await)
    }
}
