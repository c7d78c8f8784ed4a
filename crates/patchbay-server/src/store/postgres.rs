//! The Postgres backend, for several server processes sharing one database.
//! Migrations are embedded from `migrations/postgres/`; the account lock is a
//! transaction-scoped advisory lock.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult, PgRow, Postgres};
use sqlx::{Column, Row as _, TypeInfo};
use tokio::sync::Semaphore;

use super::backend::{Cell, DatabasePool};
use super::crypto::Cipher;
use super::error::StorageError;
use super::lock::{AccountLock, Held, advisory_key};
use super::pooled::{Dialect, Pooled, unexpected_type};
use super::sql::Store;
use super::sql::outbox::POSTGRES_CLAIM;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The Postgres dialect: account locks are advisory locks.
pub(crate) struct PostgresDialect {
    /// Account locks may hold at most this many of the pool's connections at
    /// once, so the work done under a lock (reading and saving tokens) always
    /// finds a free connection: without it, as many concurrent refreshes as
    /// there are connections would each hold one and wait for another.
    lock_slots: Arc<Semaphore>,
}

/// Connections per process.
const POOL_SIZE: u32 = 10;
/// Connections account locks may hold at once (see [`PostgresDialect`]).
const LOCK_SLOTS: usize = (POOL_SIZE / 2) as usize;

/// Connects to Postgres at `url` (`postgres://...`), migrates and checks `cipher`.
///
/// # Errors
///
/// As [`connect_postgres_with`].
pub async fn connect_postgres(url: &str, cipher: Cipher) -> Result<Arc<Store>, StorageError> {
    let options: PgConnectOptions = url.parse().map_err(|_| {
        StorageError::InvalidInput("DATABASE_URL is not a valid postgres:// URL".into())
    })?;
    connect_postgres_with(options, cipher).await
}

/// Connects with explicit options (e.g. a `search_path` for a schema per test
/// run), migrates and checks `cipher`. Each call makes its own pool, so two
/// stores behave like two processes.
///
/// # Errors
///
/// [`StorageError::Database`] when Postgres is unreachable, [`StorageError::Migration`],
/// [`StorageError::Crypto`] when `cipher` is not the key the database was written with.
pub async fn connect_postgres_with(
    options: PgConnectOptions,
    cipher: Cipher,
) -> Result<Arc<Store>, StorageError> {
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let lock_slots = Arc::new(Semaphore::new(LOCK_SLOTS));
    let backend = Pooled::new(pool, PostgresDialect { lock_slots });
    Ok(Arc::new(Store::new(backend, cipher).await?))
}

#[async_trait]
impl Dialect for PostgresDialect {
    type Db = Postgres;
    const NAME: &'static str = "postgres";
    const CLAIM_SQL: &'static str = POSTGRES_CLAIM;

    /// Postgres types columns: the column's declared type decides.
    fn value(table: &'static str, row: &PgRow, index: usize) -> Result<Cell, StorageError> {
        let column = row.column(index);
        Ok(match column.type_info().name() {
            "TEXT" | "VARCHAR" => Cell::Text(row.try_get::<String, _>(index)?),
            "INT8" => Cell::Int(row.try_get::<i64, _>(index)?),
            "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(index)?)),
            "BOOL" => Cell::Bool(row.try_get::<bool, _>(index)?),
            other => return Err(unexpected_type(table, column.name(), other)),
        })
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn database_pool(pool: &PgPool) -> DatabasePool {
        DatabasePool::Postgres(pool.clone())
    }

    async fn lock(&self, pool: &PgPool, key: &str) -> Result<AccountLock, StorageError> {
        let slot = Arc::clone(&self.lock_slots)
            .acquire_owned()
            .await
            .map_err(|_| StorageError::Database(sqlx::Error::PoolClosed))?;
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(advisory_key(key))
            .execute(&mut *tx)
            .await?;
        Ok(AccountLock {
            held: Held::Postgres { tx, _slot: slot },
        })
    }
}
