//! Link tokens: stored by SHA-256 hash, expiring, single-use. Their parameters
//! (which include a seed `context`) are stored encrypted.

use super::super::backend::{Row, args};
use super::super::error::StorageError;
use super::super::model::{CreatedLinkToken, LinkParams, LinkToken, NewLinkToken};
use super::super::{secret, time};
use super::{Store, new_id};

const TABLE: &str = "link_tokens";
const COLUMNS: &str = "id, environment_id, data_enc, expires_at, used_at, created_at";
const TOKEN_PREFIX: &str = "lt_";

pub(super) fn aad(id: &str) -> String {
    format!("link_token.data:{id}")
}

impl Store {
    fn link_token_from_row(&self, row: &Row) -> Result<LinkToken, StorageError> {
        let id = row.text("id")?;
        let params: LinkParams = serde_json::from_value(
            self.cipher
                .decrypt_json(&row.text("data_enc")?, &aad(&id))?,
        )
        .map_err(|_| StorageError::corrupt(TABLE, "unreadable token data"))?;
        Ok(LinkToken {
            environment_id: row.text("environment_id")?,
            params,
            expires_at: time::column(TABLE, row.int("expires_at")?)?,
            used_at: row
                .opt_int("used_at")?
                .map(|t| time::column(TABLE, t))
                .transpose()?,
            created_at: time::column(TABLE, row.int("created_at")?)?,
            id,
        })
    }

    /// Creates a link token valid for `new.ttl`; its value is returned once.
    pub async fn create_link_token(
        &self,
        environment_id: &str,
        new: NewLinkToken,
    ) -> Result<CreatedLinkToken, StorageError> {
        let NewLinkToken { params, ttl } = new;
        match (&params.tenant_id, &params.integrated_account_id) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(StorageError::InvalidInput(
                    "a link token needs either `tenant_id` (new account) or `integrated_account_id` \
                     (reconnect), not both"
                        .into(),
                ));
            }
            (Some(tenant), None) => super::require_text("tenant_id", tenant)?,
            (None, Some(account)) => {
                self.get_account(environment_id, account).await?;
            }
        }
        if let Some(install) = &params.environment_integration_id {
            self.get_environment_integration(environment_id, install)
                .await?;
        }
        let ttl = chrono::Duration::from_std(ttl)
            .ok()
            .filter(|d| *d > chrono::Duration::zero())
            .ok_or_else(|| {
                StorageError::InvalidInput("the link token lifetime must be positive".into())
            })?;
        let now = time::now();
        let token = secret::generate(TOKEN_PREFIX);
        let link_token = LinkToken {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            params,
            expires_at: now + ttl,
            used_at: None,
            created_at: now,
        };
        let data = serde_json::to_value(&link_token.params)
            .map_err(|_| StorageError::InvalidInput("unserializable link token".into()))?;
        self.backend
            .execute(
                "INSERT INTO link_tokens (id, token_hash, environment_id, data_enc, expires_at, used_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6)",
                args![
                    &link_token.id,
                    secret::hash(token.expose()),
                    environment_id,
                    self.cipher.encrypt_json(&data, &aad(&link_token.id))?,
                    time::to_micros(link_token.expires_at),
                    time::to_micros(now)
                ],
            )
            .await?;
        Ok(CreatedLinkToken { link_token, token })
    }

    /// *System.* The token if it is unused and unexpired (does not consume it).
    pub async fn find_link_token(&self, token: &str) -> Result<Option<LinkToken>, StorageError> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT {COLUMNS} FROM link_tokens \
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
                ),
                args![secret::hash(token), time::to_micros(time::now())],
            )
            .await?;
        rows.first()
            .map(|r| self.link_token_from_row(r))
            .transpose()
    }

    /// *System.* Atomically marks the token used and returns it, only if it was
    /// unused and unexpired. Of concurrent callers exactly one gets `Some`.
    pub async fn consume_link_token(&self, token: &str) -> Result<Option<LinkToken>, StorageError> {
        let now = time::to_micros(time::now());
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "UPDATE link_tokens SET used_at = $1 \
                     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                     RETURNING {COLUMNS}"
                ),
                args![now, secret::hash(token)],
            )
            .await?;
        rows.first()
            .map(|r| self.link_token_from_row(r))
            .transpose()
    }
}
