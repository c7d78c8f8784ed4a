//! The small interface each database backend implements.
//!
//! All SQL is shared between SQLite and Postgres: it uses `$1`-style parameters
//! (both accept them), `BIGINT`/`TEXT`/`BOOLEAN` columns and `RETURNING`. A
//! backend only runs statements, turns rows into [`Row`]s, and supplies the few
//! things that differ: the outbox claim statement and the account lock.

use async_trait::async_trait;

use super::error::StorageError;
use super::lock::AccountLock;

/// A bound parameter.
#[derive(Clone)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

/// `impl From<source> for Arg` for each `source => |value| arg`.
macro_rules! arg_from {
    ($($source:ty => |$value:ident| $arg:expr;)*) => {
        $(impl From<$source> for Arg {
            fn from($value: $source) -> Self {
                $arg
            }
        })*
    };
}

arg_from! {
    &str => |v| Arg::Text(v.to_owned());
    String => |v| Arg::Text(v);
    &String => |v| Arg::Text(v.clone());
    Option<String> => |v| Arg::OptText(v);
    i64 => |v| Arg::Int(v);
    Option<i64> => |v| Arg::OptInt(v);
    bool => |v| Arg::Bool(v);
}

/// Builds a `Vec<Arg>` from values convertible to [`Arg`].
macro_rules! args {
    ($($value:expr),* $(,)?) => { vec![$($crate::store::backend::Arg::from($value)),*] };
}
pub(crate) use args;

/// One column value of a result row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A result row: column names and values, read by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub(crate) table: &'static str,
    pub(crate) columns: Vec<(String, Cell)>,
}

impl Row {
    fn cell(&self, name: &str) -> Result<&Cell, StorageError> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .ok_or_else(|| StorageError::corrupt(self.table, format!("missing column `{name}`")))
    }

    /// The column `name` read by `pick` (`None` when it is `NULL`); corrupt,
    /// naming the column as not `what`, when `pick` does not accept its value.
    fn nullable<T>(
        &self,
        name: &str,
        what: &str,
        pick: impl FnOnce(&Cell) -> Option<T>,
    ) -> Result<Option<T>, StorageError> {
        match self.cell(name)? {
            Cell::Null => Ok(None),
            cell => pick(cell).map(Some).ok_or_else(|| {
                StorageError::corrupt(self.table, format!("`{name}` is not {what}"))
            }),
        }
    }

    /// `value` of a `NOT NULL` column `name`; corrupt when it was `NULL`.
    fn not_null<T>(&self, name: &str, value: Option<T>) -> Result<T, StorageError> {
        value.ok_or_else(|| StorageError::corrupt(self.table, format!("`{name}` is NULL")))
    }

    /// A `TEXT` column that may be `NULL`.
    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, StorageError> {
        self.nullable(name, "text", |cell| match cell {
            Cell::Text(t) => Some(t.clone()),
            _ => None,
        })
    }

    /// A `TEXT NOT NULL` column.
    pub(crate) fn text(&self, name: &str) -> Result<String, StorageError> {
        self.not_null(name, self.opt_text(name)?)
    }

    /// A `BIGINT` column that may be `NULL`.
    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, StorageError> {
        self.nullable(name, "an integer", |cell| match cell {
            Cell::Int(i) => Some(*i),
            _ => None,
        })
    }

    /// A `BIGINT NOT NULL` column.
    pub(crate) fn int(&self, name: &str) -> Result<i64, StorageError> {
        self.not_null(name, self.opt_int(name)?)
    }

    /// A `BOOLEAN NOT NULL` column (SQLite stores it as 0/1).
    pub(crate) fn boolean(&self, name: &str) -> Result<bool, StorageError> {
        let value = self.nullable(name, "a boolean", |cell| match cell {
            Cell::Bool(b) => Some(*b),
            Cell::Int(i) => Some(*i != 0),
            _ => None,
        })?;
        self.not_null(name, value)
    }
}

/// One statement of a [`Backend::execute_atomically`] batch.
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    /// When set, the batch is rolled back unless this statement changes at
    /// least one row (a conditional update that lost a race, a delete of a
    /// row that is gone).
    pub(crate) must_change: bool,
}

impl Statement {
    /// A statement whose row count does not matter.
    pub(crate) fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self {
            sql: sql.into(),
            args,
            must_change: false,
        }
    }

    /// A statement that must change a row, or the batch is rolled back.
    pub(crate) fn must_change(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self {
            sql: sql.into(),
            args,
            must_change: true,
        }
    }
}

/// What an atomic batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Every statement ran and the transaction committed.
    Committed,
    /// The statement at this index changed no row although it had to; nothing
    /// was written.
    RolledBack(usize),
}

/// A database backend.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;

    /// Runs a statement; the number of rows it changed.
    async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StorageError>;

    /// Runs a query; its rows, tagged with `table` for error messages.
    async fn fetch(
        &self,
        table: &'static str,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<Row>, StorageError>;

    /// Runs `statements` in one transaction: all of them are written, or none
    /// (an error, or a [`Statement::must_change`] that changed nothing, rolls
    /// the batch back).
    async fn execute_atomically(&self, statements: Vec<Statement>) -> Result<Batch, StorageError>;

    /// The statement that leases due outbox rows. Parameters: `$1` now,
    /// `$2` lease end, `$3` claim token, `$4` limit. It must never hand one row
    /// to two concurrent callers and must return the outbox columns.
    fn claim_sql(&self) -> &'static str;

    /// Takes the cross-process lock for `key`, waiting until it is free.
    async fn lock(&self, key: &str) -> Result<AccountLock, StorageError>;

    /// The connection pool's current size and idle connections.
    fn pool_stats(&self) -> PoolStats;

    /// The connection pool itself, for the job engine's storage ([`crate::sync::engine`]).
    fn pool(&self) -> DatabasePool;
}

/// A store's connection pool, by backend: what the sync-job engine's storage runs on,
/// so its tables live in the store's database and share its connections.
#[derive(Debug, Clone)]
pub enum DatabasePool {
    /// The embedded SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// A Postgres database (with the store's `search_path`).
    Postgres(sqlx::PgPool),
}

/// A snapshot of a connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}
