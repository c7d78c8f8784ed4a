//! The error type of every store operation.

/// Why a store operation failed.
///
/// Messages name the kind and id of the object involved but never a secret:
/// no token, key, context value or ciphertext appears in any variant.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object of this kind with this id in the environment acted in.
    #[error("no {kind} `{id}`")]
    NotFound {
        /// The object kind, e.g. `integrated account`.
        kind: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// The write conflicts with stored state: a stale `version`, a duplicate
    /// name, or an object that is still referenced.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is malformed (bad config, unknown status, bad cursor, ...).
    /// Nothing was written.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Encryption or decryption failed (wrong key, corrupt ciphertext, bad key file).
    #[error("encryption: {0}")]
    Crypto(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored row cannot be read back (written by an incompatible version or
    /// edited by hand).
    #[error("corrupt row in `{table}`: {message}")]
    Corrupt {
        /// The table holding the row.
        table: &'static str,
        /// What is wrong (never the value itself).
        message: String,
    },
    /// Reading or creating a file in the data directory failed.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl StorageError {
    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            id: id.into(),
        }
    }

    pub(crate) fn corrupt(table: &'static str, message: impl Into<String>) -> Self {
        Self::Corrupt {
            table,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for StorageError {
    /// Unique violations become [`StorageError::Conflict`], foreign-key violations
    /// [`StorageError::Conflict`] too (a referenced or missing parent); the rest
    /// [`StorageError::Database`].
    fn from(error: sqlx::Error) -> Self {
        if let Some(db) = error.as_database_error() {
            if db.is_unique_violation() {
                return Self::Conflict("an object with the same unique key exists".into());
            }
            if db.is_foreign_key_violation() {
                return Self::Conflict(
                    "the object references, or is referenced by, another object".into(),
                );
            }
        }
        Self::Database(error)
    }
}

/// Shorthand for store results.
pub type StorageResult<T> = Result<T, StorageError>;
