//! The [`Backend`] over a sqlx connection pool, shared by SQLite and Postgres.
//!
//! Binding [`Arg`]s, running statements and atomic batches, and turning rows
//! into [`Row`]s is the same code for both databases ([`Driver`], implemented
//! for every sqlx database with the column types the store uses). A
//! [`Dialect`] supplies only what differs: how a column value is read, the
//! outbox claim statement and the account lock.

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::{Column, Database, Encode, Executor, IntoArguments, Pool, Transaction, Type, ValueRef};

use super::backend::{Arg, Backend, Batch, Cell, DatabasePool, PoolStats, Row, Statement};
use super::error::StorageError;
use super::lock::AccountLock;

/// A sqlx database the store can run on: it binds every [`Arg`] and runs
/// queries on a pool or in a transaction.
#[async_trait]
pub(crate) trait Driver: Database {
    /// `sql` with `args` bound in order.
    fn query(sql: String, args: Vec<Arg>) -> Query<'static, Self, Self::Arguments>;

    /// Whether column `index` of `row` is `NULL`.
    fn is_null(row: &Self::Row, index: usize) -> Result<bool, sqlx::Error>;

    /// Runs a statement on a pooled connection.
    async fn run(
        pool: &Pool<Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Self::QueryResult, sqlx::Error>;

    /// Runs a statement inside `tx`.
    async fn run_in(
        tx: &mut Transaction<'static, Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Self::QueryResult, sqlx::Error>;

    /// Runs a query on a pooled connection; all its rows.
    async fn fetch_all(
        pool: &Pool<Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Vec<Self::Row>, sqlx::Error>;
}

#[async_trait]
impl<DB> Driver for DB
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    fn query(sql: String, args: Vec<Arg>) -> Query<'static, Self, Self::Arguments> {
        args.into_iter().fold(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            |query, arg| match arg {
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::OptInt(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
            },
        )
    }

    fn is_null(row: &Self::Row, index: usize) -> Result<bool, sqlx::Error> {
        Ok(sqlx::Row::try_get_raw(row, index)?.is_null())
    }

    async fn run(
        pool: &Pool<Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Self::QueryResult, sqlx::Error> {
        Self::query(sql, args).execute(pool).await
    }

    async fn run_in(
        tx: &mut Transaction<'static, Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Self::QueryResult, sqlx::Error> {
        Self::query(sql, args).execute(&mut **tx).await
    }

    async fn fetch_all(
        pool: &Pool<Self>,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        Self::query(sql, args).fetch_all(pool).await
    }
}

/// What one database does differently.
#[async_trait]
pub(crate) trait Dialect: Send + Sync + 'static {
    /// The sqlx database.
    type Db: Driver;
    /// `sqlite` or `postgres`.
    const NAME: &'static str;
    /// See [`Backend::claim_sql`].
    const CLAIM_SQL: &'static str;

    /// How many rows a statement changed.
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// The value of the non-`NULL` column `index` of `row` (of `table`);
    /// [`unexpected_type`] for a type the store does not use.
    fn value(
        table: &'static str,
        row: &<Self::Db as Database>::Row,
        index: usize,
    ) -> Result<Cell, StorageError>;

    /// See [`Backend::lock`].
    async fn lock(&self, pool: &Pool<Self::Db>, key: &str) -> Result<AccountLock, StorageError>;

    /// See [`Backend::pool`].
    fn database_pool(pool: &Pool<Self::Db>) -> DatabasePool;
}

/// The error of a column whose database type the store does not use.
pub(crate) fn unexpected_type(table: &'static str, column: &str, type_name: &str) -> StorageError {
    StorageError::corrupt(
        table,
        format!("column `{column}` has unexpected type {type_name}"),
    )
}

/// The [`Backend`] of a pool of dialect `D`.
pub(crate) struct Pooled<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: D,
}

impl<D: Dialect> Pooled<D> {
    /// The backend over a migrated `pool`.
    pub(crate) fn new(pool: Pool<D::Db>, dialect: D) -> Self {
        Self { pool, dialect }
    }

    fn convert(table: &'static str, row: &<D::Db as Database>::Row) -> Result<Row, StorageError> {
        let columns = sqlx::Row::columns(row)
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let cell = if D::Db::is_null(row, index)? {
                    Cell::Null
                } else {
                    D::value(table, row, index)?
                };
                Ok((column.name().to_owned(), cell))
            })
            .collect::<Result<_, StorageError>>()?;
        Ok(Row { table, columns })
    }
}

#[async_trait]
impl<D: Dialect> Backend for Pooled<D> {
    fn name(&self) -> &'static str {
        D::NAME
    }

    fn pool(&self) -> DatabasePool {
        D::database_pool(&self.pool)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StorageError> {
        let result = D::Db::run(&self.pool, sql.to_owned(), args).await?;
        Ok(D::rows_affected(&result))
    }

    async fn fetch(
        &self,
        table: &'static str,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<Row>, StorageError> {
        D::Db::fetch_all(&self.pool, sql.to_owned(), args)
            .await?
            .iter()
            .map(|row| Self::convert(table, row))
            .collect()
    }

    async fn execute_atomically(&self, statements: Vec<Statement>) -> Result<Batch, StorageError> {
        let mut tx = self.pool.begin().await?;
        for (index, statement) in statements.into_iter().enumerate() {
            let result = D::Db::run_in(&mut tx, statement.sql, statement.args).await?;
            if statement.must_change && D::rows_affected(&result) == 0 {
                tx.rollback().await?;
                return Ok(Batch::RolledBack(index));
            }
        }
        tx.commit().await?;
        Ok(Batch::Committed)
    }

    fn claim_sql(&self) -> &'static str {
        D::CLAIM_SQL
    }

    async fn lock(&self, key: &str) -> Result<AccountLock, StorageError> {
        self.dialect.lock(&self.pool, key).await
    }
}
