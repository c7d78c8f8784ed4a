//! [`Store`]: everything the server persists, over a database [`Backend`].
//! Each submodule handles one kind of object; [`scoped`] holds the query
//! shapes they share.

mod accounts;
mod datastores;
mod environment_unified_models;
mod environments;
mod installs;
mod integrations;
mod link_tokens;
mod logs;
mod mcp_servers;
mod rotation;
mod sign_in_limits;

pub use rotation::Reencrypted;
pub use sign_in_limits::AttemptLimit;
pub(crate) mod outbox;
mod scoped;
mod sync_claims;
mod sync_cron_triggers;
mod sync_jobs;
mod sync_run_states;
mod unified_mappings;
mod unified_models;
mod webhooks;

use std::fmt;

use super::backend::{Backend, DatabasePool, PoolStats, args};
use super::crypto::Cipher;
use super::error::{StorageError, StorageResult};

/// The server's storage.
///
/// Every method that acts on objects takes the `environment_id` it acts in and
/// never reads or changes another environment's rows: an object of another
/// environment is [`NotFound`](StorageError::NotFound). The exceptions are
/// marked *System*: they resolve an environment from a secret
/// ([`authenticate`](Self::authenticate), link tokens) or serve background
/// workers (the outbox) and are not meant to be exposed per request.
///
/// Writes are durable when the method returns. Invalid input is rejected with
/// [`InvalidInput`](StorageError::InvalidInput) before anything is written.
///
/// Open one with [`open_store`](super::open_store); the database behind it is
/// SQLite or Postgres.
pub struct Store {
    backend: Box<dyn Backend>,
    cipher: Cipher,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.name())
            .field("cipher", &self.cipher)
            .finish()
    }
}

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_AAD: &str = "meta.key_check";
const KEY_CHECK_TEXT: &[u8] = b"patchbay key check";

impl Store {
    /// Wraps a migrated backend and checks that `cipher` can read what the
    /// database holds (a canary encrypted on first open).
    pub(crate) async fn new(backend: impl Backend, cipher: Cipher) -> StorageResult<Self> {
        let store = Self {
            backend: Box::new(backend),
            cipher,
        };
        store.check_key().await?;
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// The database connection pool's current size, idle connections and limit.
    pub fn pool_stats(&self) -> PoolStats {
        self.backend.pool_stats()
    }

    /// The store's connection pool (the sync-job engine keeps its queue in the same
    /// database, see [`crate::sync::engine`]).
    pub fn database_pool(&self) -> DatabasePool {
        self.backend.pool()
    }

    /// *System.* Encrypts `plaintext` with the store's key (AES-256-GCM), bound
    /// to `purpose`: for short-lived data the server hands to a browser and
    /// must get back untouched (the OAuth connect session). Every process
    /// sharing the key can [`unseal`](Self::unseal) it.
    ///
    /// # Errors
    ///
    /// [`Crypto`](StorageError::Crypto) when encryption fails.
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> StorageResult<String> {
        self.cipher.encrypt(plaintext, &format!("sealed:{purpose}"))
    }

    /// *System.* Decrypts what [`seal`](Self::seal) produced for the same
    /// `purpose`.
    ///
    /// # Errors
    ///
    /// [`Crypto`](StorageError::Crypto) when it was tampered with, sealed for
    /// another purpose, or under a key the store lacks.
    pub fn unseal(
        &self,
        sealed: &str,
        purpose: &str,
    ) -> StorageResult<zeroize::Zeroizing<Vec<u8>>> {
        self.cipher.decrypt(sealed, &format!("sealed:{purpose}"))
    }

    async fn check_key(&self) -> Result<(), StorageError> {
        let canary = self.cipher.encrypt(KEY_CHECK_TEXT, KEY_CHECK_AAD)?;
        self.backend
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                args![KEY_CHECK, canary],
            )
            .await?;
        let rows = self
            .backend
            .fetch(
                "meta",
                "SELECT value FROM meta WHERE key = $1",
                args![KEY_CHECK],
            )
            .await?;
        let stored = rows
            .first()
            .ok_or_else(|| StorageError::corrupt("meta", "the key check is missing"))?
            .text("value")?;
        let plain = self.cipher.decrypt(&stored, KEY_CHECK_AAD).map_err(|e| {
            StorageError::Crypto(format!(
                "the encryption key does not match this database: {}",
                e.to_string().trim_start_matches("encryption: ")
            ))
        })?;
        if &plain[..] != KEY_CHECK_TEXT {
            return Err(StorageError::Crypto(
                "the encryption key check failed".into(),
            ));
        }
        if !stored.contains(&format!(":{}:", self.cipher.active_key_id())) {
            // Written with a previous key: record that the active key is now in use.
            self.backend
                .execute(
                    "UPDATE meta SET value = $1 WHERE key = $2",
                    args![
                        self.cipher.encrypt(KEY_CHECK_TEXT, KEY_CHECK_AAD)?,
                        KEY_CHECK
                    ],
                )
                .await?;
        }
        Ok(())
    }
}

/// A new object id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Gives a [`StorageError::Conflict`] the message `message` makes, which names
/// the object (the database's says only that a unique key or a reference
/// clashed); other errors pass unchanged.
pub(crate) fn conflict_as(
    message: impl FnOnce() -> String,
) -> impl FnOnce(StorageError) -> StorageError {
    move |e| match e {
        StorageError::Conflict(_) => StorageError::Conflict(message()),
        e => e,
    }
}

/// Rejects an empty or overlong text field.
pub(crate) fn require_text(field: &str, value: &str) -> Result<(), StorageError> {
    if value.trim().is_empty() {
        return Err(StorageError::InvalidInput(format!(
            "`{field}` must not be empty"
        )));
    }
    if value.len() > 1024 {
        return Err(StorageError::InvalidInput(format!(
            "`{field}` is longer than 1024 bytes"
        )));
    }
    Ok(())
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StorageError::InvalidInput("not a named value".into())),
    }
}

/// Parses a stored enum name of `table`.
pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StorageError::corrupt(table, format!("unknown `{column}` value")))
}
