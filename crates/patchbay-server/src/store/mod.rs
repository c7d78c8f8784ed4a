//! The server's storage layer.
//!
//! * [`Store`]: every object the API serves, scoped by environment; one
//!   concrete type whose SQL (`sql/`, a module per kind of object) is shared
//!   by both databases and runs on a backend (`backend.rs`: statements in,
//!   rows out).
//! * Backends: SQLite (embedded default, a file in the data directory) and
//!   Postgres (several processes on one database), both a sqlx pool
//!   (`pooled.rs`) with what differs in `sqlite.rs` / `postgres.rs`.
//!   [`open_store`] picks one.
//! * [`Cipher`]: AES-256-GCM encryption at rest of account contexts, webhook
//!   secrets, link-token data and environment-integration overrides; API and
//!   link tokens are stored as SHA-256 hashes.
//! * Unified models, their mapping rows and installs ([`UnifiedModelRecord`],
//!   [`MappingRecord`], [`EnvironmentUnifiedModelRecord`]), each change growing
//!   a revision the runtime compares ([`UnifiedRoute`]).
//! * Sync jobs and their runs ([`SyncJobRecord`], [`SyncJobRunRecord`]): a run's
//!   checkpoint is saved under a lease, so another process resumes a run whose
//!   process died.
//! * Datastores ([`DatastoreRecord`]): a run's records upserted into a table per
//!   (datastore, resource) of this database ([`datastore_table_name`]).
//! * [`EnvironmentAccounts`] / [`AllAccounts`]: the facade's
//!   [`patchbay::AccountStore`] over a [`Store`].
//!
//! See `docs/guides/storage.md` for operations (keys, rotation, multi-process).

mod account_adapter;
mod backend;
mod crypto;
mod cursor;
mod datastore;
mod error;
mod event;
pub mod key;
pub mod lock;
mod model;
mod pooled;
mod postgres;
mod secret;
mod sql;
mod sqlite;
mod sync;
mod time;
mod unified;

use std::path::Path;
use std::sync::Arc;

pub use account_adapter::{AllAccounts, EnvironmentAccounts};
pub use backend::{DatabasePool, PoolStats};
pub use crypto::Cipher;
pub(crate) use cursor::is_valid as is_valid_cursor;
pub use datastore::*;
pub use error::{StorageError, StorageResult};
pub use event::AccountEvent;
pub use lock::{AccountLock, with_account_lock};
pub use model::*;
pub use postgres::{connect_postgres, connect_postgres_with};
pub use sql::{AttemptLimit, Reencrypted, Store};
pub use sqlite::open_sqlite;
pub use sync::*;
pub use unified::*;

/// The SQLite file's name inside the data directory.
pub const DATABASE_FILE: &str = "patchbay.db";

/// Whether `database_url` selects the Postgres backend.
pub fn is_postgres_url(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// Opens the configured store with the key from the environment or the key
/// file in `data_dir` (see [`key`]).
///
/// `database_url` starting with `postgres://` or `postgresql://` selects
/// Postgres; anything else (including `None`) selects SQLite at
/// `<data_dir>/patchbay.db`, created on first start together with `data_dir`.
///
/// # Errors
///
/// Any [`StorageError`] of loading the key or opening, migrating and checking the
/// database (a key that does not match the database is [`StorageError::Crypto`]).
pub async fn open_store(database_url: Option<&str>, data_dir: &Path) -> StorageResult<Arc<Store>> {
    let cipher = key::load_cipher(data_dir)?;
    open_store_with(database_url, data_dir, cipher).await
}

/// [`open_store`] with an explicit cipher.
///
/// # Errors
///
/// As [`open_store`].
pub async fn open_store_with(
    database_url: Option<&str>,
    data_dir: &Path,
    cipher: Cipher,
) -> StorageResult<Arc<Store>> {
    match database_url {
        Some(url) if is_postgres_url(url) => connect_postgres(url, cipher).await,
        _ => {
            key::create_private_dir(data_dir)?;
            open_sqlite(&data_dir.join(DATABASE_FILE), cipher).await
        }
    }
}
