//! Key rotation: re-encrypting every stored secret under the active key, online.
//!
//! Each encrypted column is read a page at a time; a value whose key id is not the
//! active one is decrypted (with the previous key it names) and written back encrypted
//! with the active key, by a compare-and-swap `UPDATE ... WHERE id = $ AND col = $old`:
//! a value another process rewrote meanwhile is left alone (it is under the active key
//! already, or will be seen again by the next run). Servers keep serving throughout: they
//! read both keys until the previous ones are removed from their configuration.

use super::super::backend::args;
use super::super::error::{StorageError, StorageResult};
use super::Store;

/// One encrypted column: its table, column, and the associated data each value is bound to.
struct SealedColumn {
    table: &'static str,
    column: &'static str,
    aad: fn(&str) -> String,
}

/// Every encrypted column (the key check in `meta` is rewritten by [`Store::new`]'s check).
const SEALED: [SealedColumn; 4] = [
    SealedColumn {
        table: "integrated_accounts",
        column: "context_enc",
        aad: super::accounts::aad,
    },
    SealedColumn {
        table: "environment_integrations",
        column: "override_enc",
        aad: super::installs::aad,
    },
    SealedColumn {
        table: "link_tokens",
        column: "data_enc",
        aad: super::link_tokens::aad,
    },
    SealedColumn {
        table: "webhooks",
        column: "secret_enc",
        aad: super::webhooks::aad,
    },
];

/// Rows read per query.
const PAGE: i64 = 200;

/// What [`Store::reencrypt_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reencrypted {
    /// Values rewritten under the active key, by `table.column`.
    pub rewritten: Vec<(String, u64)>,
    /// Values left because another writer changed them meanwhile.
    pub skipped: u64,
}

impl Reencrypted {
    /// Values rewritten in all.
    pub fn total(&self) -> u64 {
        self.rewritten.iter().map(|(_, n)| n).sum()
    }
}

impl Store {
    /// *System.* Re-encrypts every stored secret that is not under the active key, a
    /// page at a time, while the server keeps running.
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] naming the table and row when a value cannot be
    /// decrypted (its key is not configured); values already rewritten stay rewritten,
    /// and running again continues.
    pub async fn reencrypt_all(&self) -> StorageResult<Reencrypted> {
        let active = format!("v1:{}:%", self.cipher.active_key_id());
        let mut report = Reencrypted::default();
        for sealed in &SEALED {
            let mut rewritten = 0;
            let mut after = String::new();
            loop {
                let select = format!(
                    "SELECT id, {col} AS sealed FROM {table} WHERE {col} IS NOT NULL \
                     AND {col} NOT LIKE $1 AND id > $2 ORDER BY id LIMIT $3",
                    col = sealed.column,
                    table = sealed.table
                );
                let rows = self
                    .backend
                    .fetch(
                        sealed.table,
                        &select,
                        args![active.as_str(), after.as_str(), PAGE],
                    )
                    .await?;
                let Some(last) = rows.last() else {
                    break;
                };
                after = last.text("id")?;
                for row in &rows {
                    let id = row.text("id")?;
                    let old = row.text("sealed")?;
                    let aad = (sealed.aad)(&id);
                    let plain = self.cipher.decrypt(&old, &aad).map_err(|e| {
                        StorageError::Crypto(format!(
                            "{}.{} of `{id}`: {}",
                            sealed.table,
                            sealed.column,
                            e.to_string().trim_start_matches("encryption: ")
                        ))
                    })?;
                    let new = self.cipher.encrypt(&plain, &aad)?;
                    let update = format!(
                        "UPDATE {table} SET {col} = $1 WHERE id = $2 AND {col} = $3",
                        col = sealed.column,
                        table = sealed.table
                    );
                    let changed = self
                        .backend
                        .execute(&update, args![new, id.as_str(), old])
                        .await?;
                    if changed == 1 {
                        rewritten += 1;
                    } else {
                        report.skipped += 1;
                    }
                }
            }
            report
                .rewritten
                .push((format!("{}.{}", sealed.table, sealed.column), rewritten));
        }
        Ok(report)
    }

    /// How many stored secrets are under a key other than the active one (0 once a
    /// rotation is complete and the previous keys can be removed).
    pub async fn secrets_under_previous_keys(&self) -> StorageResult<u64> {
        let active = format!("v1:{}:%", self.cipher.active_key_id());
        let mut count = 0;
        for sealed in &SEALED {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE $1",
                col = sealed.column,
                table = sealed.table
            );
            let rows = self
                .backend
                .fetch(sealed.table, &sql, args![active.as_str()])
                .await?;
            let n = rows.first().map(|r| r.int("n")).transpose()?.unwrap_or(0);
            count += u64::try_from(n).unwrap_or(0);
        }
        Ok(count)
    }
}
