//! The Postgres backend, for several server processes sharing one database.
//! Migrations are embedded from `migrations/postgres/`; the account lock is a
//! transaction-scoped advisory lock.

use std::sync::Arc;

use tokio::sync::Semaphore;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use super::backend::{Arg, Backend, Batch, Cell, Row, Statement};
use super::crypto::Cipher;
use super::error::StoreError;
use super::lock::{AccountLock, Held, advisory_key};
use super::sql::SqlStore;
use super::sql::outbox::POSTGRES_CLAIM;
use super::traits::Store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The Postgres backend.
pub(crate) struct PostgresBackend {
    pool: PgPool,
    /// Account locks may hold at most this many of the pool's connections at
    /// once, so the work done under a lock (reading and saving tokens) always
    /// finds a free connection: without it, as many concurrent refreshes as
    /// there are connections would each hold one and wait for another.
    lock_slots: Arc<Semaphore>,
}

/// Connections per process.
const POOL_SIZE: u32 = 10;
/// Connections account locks may hold at once (see [`PostgresBackend`]).
const LOCK_SLOTS: usize = (POOL_SIZE / 2) as usize;

/// Connects to Postgres at `url` (`postgres://...`), migrates and checks `cipher`.
///
/// # Errors
///
/// As [`connect_postgres_with`].
pub async fn connect_postgres(url: &str, cipher: Cipher) -> Result<Arc<dyn Store>, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(|_| {
        StoreError::InvalidInput("DATABASE_URL is not a valid postgres:// URL".into())
    })?;
    connect_postgres_with(options, cipher).await
}

/// Connects with explicit options (e.g. a `search_path` for a schema per test
/// run), migrates and checks `cipher`. Each call makes its own pool, so two
/// stores behave like two processes.
///
/// # Errors
///
/// [`StoreError::Database`] when Postgres is unreachable, [`StoreError::Migration`],
/// [`StoreError::Crypto`] when `cipher` is not the key the database was written with.
pub async fn connect_postgres_with(
    options: PgConnectOptions,
    cipher: Cipher,
) -> Result<Arc<dyn Store>, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let lock_slots = Arc::new(Semaphore::new(LOCK_SLOTS));
    Ok(Arc::new(
        SqlStore::new(PostgresBackend { pool, lock_slots }, cipher, "postgres").await?,
    ))
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
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

fn convert(table: &'static str, row: &PgRow) -> Result<Row, StoreError> {
    let mut columns = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else {
            match column.type_info().name() {
                "TEXT" | "VARCHAR" => Cell::Text(row.try_get::<String, _>(i)?),
                "INT8" => Cell::Int(row.try_get::<i64, _>(i)?),
                "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(i)?)),
                "BOOL" => Cell::Bool(row.try_get::<bool, _>(i)?),
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
impl Backend for PostgresBackend {
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
        POSTGRES_CLAIM
    }

    async fn lock(&self, key: &str) -> Result<AccountLock, StoreError> {
        let slot = Arc::clone(&self.lock_slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(advisory_key(key))
            .execute(&mut *tx)
            .await?;
        Ok(AccountLock {
            held: Held::Postgres { tx, _slot: slot },
        })
    }
}
