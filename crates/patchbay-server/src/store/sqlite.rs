//! The embedded SQLite backend: one database file, WAL journal, migrations
//! embedded from `migrations/sqlite/`. Single-process by design: the account
//! lock is process-local.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteRow, SqliteSynchronous,
};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use super::backend::{Cell, DatabasePool};
use super::crypto::Cipher;
use super::error::StorageError;
use super::key::{create_private_dir, create_private_file};
use super::lock::{AccountLock, LocalLocks};
use super::pooled::{Dialect, Pooled, unexpected_type};
use super::sql::Store;
use super::sql::outbox::SQLITE_CLAIM;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite dialect: locks are process-local.
#[derive(Default)]
pub(crate) struct SqliteDialect {
    locks: LocalLocks,
}

/// Opens (creating when missing) the SQLite database at `path`, migrates it and
/// checks `cipher` against it.
///
/// # Errors
///
/// [`StorageError::Io`] when the directory cannot be created, [`StorageError::Database`]
/// or [`StorageError::Migration`] when the file cannot be opened or migrated,
/// [`StorageError::Crypto`] when `cipher` is not the key the database was written with.
pub async fn open_sqlite(path: &Path, cipher: Cipher) -> Result<Arc<Store>, StorageError> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    create_private_file(path)?;
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(StorageError::from)?
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
    let backend = Pooled::new(pool, SqliteDialect::default());
    Ok(Arc::new(Store::new(backend, cipher).await?))
}

#[async_trait]
impl Dialect for SqliteDialect {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";
    const CLAIM_SQL: &'static str = SQLITE_CLAIM;

    /// SQLite types values, not columns: the value's own type decides.
    fn value(table: &'static str, row: &SqliteRow, index: usize) -> Result<Cell, StorageError> {
        Ok(match row.try_get_raw(index)?.type_info().name() {
            "TEXT" => Cell::Text(row.try_get_unchecked::<String, _>(index)?),
            "INTEGER" | "BIGINT" | "BOOLEAN" | "INT8" => {
                Cell::Int(row.try_get_unchecked::<i64, _>(index)?)
            }
            other => return Err(unexpected_type(table, row.column(index).name(), other)),
        })
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn database_pool(pool: &SqlitePool) -> DatabasePool {
        DatabasePool::Sqlite(pool.clone())
    }

    async fn lock(&self, _pool: &SqlitePool, key: &str) -> Result<AccountLock, StorageError> {
        Ok(self.locks.lock(key).await)
    }
}
