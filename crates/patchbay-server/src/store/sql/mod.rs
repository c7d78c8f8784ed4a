//! [`SqlStore`]: the one implementation of [`Store`](super::Store) logic over
//! a [`Backend`]. Each submodule handles one kind of object.

mod accounts;
mod environments;
mod installs;
mod integrations;
mod link_tokens;
pub(crate) mod outbox;
mod store_impl;
mod webhooks;

use std::fmt;

use super::backend::{Arg, Backend, Row, args};
use super::crypto::Cipher;
use super::cursor::{self, Cursor};
use super::error::StoreError;
use super::model::{Page, PageRequest};

/// The store logic over a database backend.
pub(crate) struct SqlStore<B> {
    pub(crate) backend: B,
    pub(crate) cipher: Cipher,
    pub(crate) name: &'static str,
}

impl<B> fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.name)
            .field("cipher", &self.cipher)
            .finish()
    }
}

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_AAD: &str = "meta.key_check";
const KEY_CHECK_TEXT: &[u8] = b"patchbay key check";

impl<B: Backend> SqlStore<B> {
    /// Wraps a migrated backend and checks that `cipher` can read what the
    /// database holds (a canary encrypted on first open).
    pub(crate) async fn new(
        backend: B,
        cipher: Cipher,
        name: &'static str,
    ) -> Result<Self, StoreError> {
        let store = Self {
            backend,
            cipher,
            name,
        };
        store.check_key().await?;
        Ok(store)
    }

    async fn check_key(&self) -> Result<(), StoreError> {
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
            .ok_or_else(|| StoreError::corrupt("meta", "the key check is missing"))?
            .text("value")?;
        let plain = self.cipher.decrypt(&stored, KEY_CHECK_AAD).map_err(|e| {
            StoreError::Crypto(format!(
                "the encryption key does not match this database: {}",
                e.to_string().trim_start_matches("encryption: ")
            ))
        })?;
        if &plain[..] != KEY_CHECK_TEXT {
            return Err(StoreError::Crypto("the encryption key check failed".into()));
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

    /// Runs `select` (which must select `created_at` and `id` and end in a
    /// `WHERE` clause whose parameters are `args`) one page at a time.
    pub(crate) async fn paged<T>(
        &self,
        table: &'static str,
        select: &str,
        mut args: Vec<Arg>,
        page: &PageRequest,
        map: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let (limit, after) = cursor::parse(page)?;
        let mut sql = select.to_owned();
        if let Some(after) = after {
            let n = args.len();
            sql.push_str(&format!(
                " AND (created_at > ${a} OR (created_at = ${a} AND id > ${b}))",
                a = n + 1,
                b = n + 2
            ));
            args.push(after.created_at.into());
            args.push(after.id.into());
        }
        sql.push_str(&format!(
            " ORDER BY created_at, id LIMIT ${}",
            args.len() + 1
        ));
        args.push(i64::from(limit + 1).into());
        let mut rows = self.backend.fetch(table, &sql, args).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            let last = rows
                .last()
                .ok_or_else(|| StoreError::corrupt(table, "empty page"))?;
            Some(
                Cursor {
                    created_at: last.int("created_at")?,
                    id: last.text("id")?,
                }
                .encode(),
            )
        } else {
            None
        };
        let result = rows.iter().map(map).collect::<Result<_, _>>()?;
        Ok(Page {
            result,
            next_cursor,
        })
    }
}

/// A new object id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Rejects an empty or overlong text field.
pub(crate) fn require_text(field: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::InvalidInput(format!(
            "`{field}` must not be empty"
        )));
    }
    if value.len() > 1024 {
        return Err(StoreError::InvalidInput(format!(
            "`{field}` is longer than 1024 bytes"
        )));
    }
    Ok(())
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::InvalidInput("not a named value".into())),
    }
}

/// Parses a stored enum name of `table`.
pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StoreError::corrupt(table, format!("unknown `{column}` value")))
}
