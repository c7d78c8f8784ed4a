//! The account-level lock that makes a token refresh happen once.
//!
//! * Postgres: `pg_advisory_xact_lock(<64-bit hash of the account id>)` inside a
//!   transaction on a connection held for the lock's lifetime. The lock is
//!   database-wide, so it is exclusive across processes; committing or dropping
//!   the transaction (also on panic or a dropped future) releases it.
//! * SQLite: a process-local async mutex per account. SQLite is the embedded,
//!   single-process backend, so this is enough; do not point several server
//!   processes at one SQLite file.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::error::StorageError;
use super::sql::Store;

/// A held account lock. Dropping it releases the lock; [`AccountLock::release`]
/// releases it and reports errors.
pub struct AccountLock {
    pub(crate) held: Held,
}

pub(crate) enum Held {
    Local(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
    Postgres {
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
        /// One of the backend's lock slots, given back with the lock.
        _slot: tokio::sync::OwnedSemaphorePermit,
    },
}

impl fmt::Debug for AccountLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.held {
            Held::Local(_) => "local",
            Held::Postgres { .. } => "postgres",
        };
        f.debug_struct("AccountLock").field("kind", &kind).finish()
    }
}

impl AccountLock {
    /// Releases the lock now.
    ///
    /// # Errors
    ///
    /// [`StorageError::Database`] when ending the Postgres transaction fails (the
    /// lock is released with the connection then).
    pub async fn release(self) -> Result<(), StorageError> {
        match self.held {
            Held::Local(guard) => {
                drop(guard);
                Ok(())
            }
            Held::Postgres { tx, _slot } => tx.commit().await.map_err(StorageError::from),
        }
    }
}

/// The Postgres advisory-lock key of `key`: the first 8 bytes of its SHA-256.
pub(crate) fn advisory_key(key: &str) -> i64 {
    let digest = Sha256::digest(format!("patchbay:account-lock:{key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Process-local locks by key; entries nobody holds or waits for are pruned.
#[derive(Default)]
pub(crate) struct LocalLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl LocalLocks {
    pub(crate) async fn lock(&self, key: &str) -> AccountLock {
        let mutex = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.retain(|_, m| Arc::strong_count(m) > 1);
            locks.entry(key.to_owned()).or_default().clone()
        };
        AccountLock {
            held: Held::Local(mutex.lock_owned().await),
        }
    }
}

/// Runs `f` while holding the lock of account `account_id` in `environment_id`,
/// then releases it (also when `f` panics or is cancelled).
///
/// # Errors
///
/// [`StorageError::NotFound`] when the account is not in the environment, or the
/// lock could not be taken or released. `f`'s own result is returned inside `Ok`.
pub async fn with_account_lock<F, Fut, T>(
    store: &Store,
    environment_id: &str,
    account_id: &str,
    f: F,
) -> Result<T, StorageError>
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = T> + Send,
{
    let lock = store.lock_account(environment_id, account_id).await?;
    let value = f().await;
    lock.release().await?;
    Ok(value)
}
