//! Environments and bearer API tokens.

use super::super::backend::{Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{ApiToken, Bootstrap, CreatedApiToken, Environment};
use super::super::{secret, time};
use super::scoped::Scoped;
use super::{Store, conflict_as, new_id, require_text};

const DEFAULT_ENVIRONMENT: &str = "default";
const TOKEN_PREFIX: &str = "pb_";
const ENVIRONMENTS: &str = "environments";
const API_TOKENS: Scoped = Scoped {
    table: "api_tokens",
    kind: "api token",
    columns: "id, environment_id, name, created_at",
};

fn environment(row: &Row) -> Result<Environment, StorageError> {
    Ok(Environment {
        id: row.text("id")?,
        name: row.text("name")?,
        log_bodies: row.boolean("log_bodies")?,
        created_at: time::column(ENVIRONMENTS, row.int("created_at")?)?,
    })
}

fn api_token(row: &Row) -> Result<ApiToken, StorageError> {
    Ok(ApiToken {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        name: row.text("name")?,
        created_at: time::column(API_TOKENS.table, row.int("created_at")?)?,
    })
}

impl Store {
    /// *System.* On first start (no environment yet) creates the `default`
    /// environment and its first API token and returns them; afterwards `None`.
    /// Concurrent first starts create one environment between them.
    pub async fn bootstrap(&self) -> StorageResult<Option<Bootstrap>> {
        let id = new_id();
        let now = time::now();
        let inserted = self
            .backend
            .execute(
                "INSERT INTO environments (id, name, created_at) \
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM environments) \
                 ON CONFLICT (name) DO NOTHING",
                args![&id, DEFAULT_ENVIRONMENT, time::to_micros(now)],
            )
            .await?;
        if inserted == 0 {
            return Ok(None);
        }
        let environment = Environment {
            id: id.clone(),
            name: DEFAULT_ENVIRONMENT.into(),
            log_bodies: false,
            created_at: now,
        };
        let token = self.create_api_token(&id, "first token").await?;
        Ok(Some(Bootstrap { environment, token }))
    }

    /// *System.* Creates an environment (names are unique).
    pub async fn create_environment(&self, name: &str) -> StorageResult<Environment> {
        require_text("name", name)?;
        let environment = Environment {
            id: new_id(),
            name: name.to_owned(),
            log_bodies: false,
            created_at: time::now(),
        };
        self.backend
            .execute(
                "INSERT INTO environments (id, name, created_at) VALUES ($1, $2, $3)",
                args![
                    &environment.id,
                    name,
                    time::to_micros(environment.created_at)
                ],
            )
            .await
            .map_err(conflict_as(|| {
                format!("an environment named `{name}` exists")
            }))?;
        Ok(environment)
    }

    /// An environment.
    pub async fn get_environment(&self, environment_id: &str) -> StorageResult<Environment> {
        let found = self
            .fetch_map(
                ENVIRONMENTS,
                "SELECT id, name, log_bodies, created_at FROM environments WHERE id = $1",
                args![environment_id],
                environment,
            )
            .await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::not_found("environment", environment_id))
    }

    /// *System.* All environments, oldest first.
    pub async fn list_environments(&self) -> StorageResult<Vec<Environment>> {
        self.fetch_map(
            ENVIRONMENTS,
            "SELECT id, name, log_bodies, created_at FROM environments ORDER BY created_at, id",
            args![],
            environment,
        )
        .await
    }

    /// Renames an environment (names are unique).
    pub async fn rename_environment(
        &self,
        environment_id: &str,
        name: &str,
    ) -> StorageResult<Environment> {
        require_text("name", name)?;
        let changed = self
            .backend
            .execute(
                "UPDATE environments SET name = $1 WHERE id = $2",
                args![name, environment_id],
            )
            .await
            .map_err(conflict_as(|| {
                format!("an environment named `{name}` exists")
            }))?;
        if changed == 0 {
            return Err(StorageError::not_found("environment", environment_id));
        }
        self.get_environment(environment_id).await
    }

    /// Turns the keeping of request and response bodies in the environment's request logs
    /// on or off; calls see it at once.
    pub async fn set_log_bodies(
        &self,
        environment_id: &str,
        log_bodies: bool,
    ) -> StorageResult<Environment> {
        let changed = self
            .backend
            .execute(
                "UPDATE environments SET log_bodies = $1 WHERE id = $2",
                args![log_bodies, environment_id],
            )
            .await?;
        if changed == 0 {
            return Err(StorageError::not_found("environment", environment_id));
        }
        self.get_environment(environment_id).await
    }

    /// An API token of the environment (without its value).
    pub async fn get_api_token(&self, environment_id: &str, id: &str) -> StorageResult<ApiToken> {
        api_token(&self.fetch_scoped(&API_TOKENS, environment_id, id).await?)
    }

    /// Deletes a token unless it is the environment's last one (which would leave the
    /// environment unreachable over the API): [`Conflict`](StorageError::Conflict) then.
    pub async fn revoke_api_token(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.get_api_token(environment_id, id).await?;
        let changed = self
            .backend
            .execute(
                "DELETE FROM api_tokens WHERE id = $1 AND environment_id = $2 \
                 AND (SELECT COUNT(*) FROM api_tokens WHERE environment_id = $2) > 1",
                args![id, environment_id],
            )
            .await?;
        if changed == 0 {
            return Err(StorageError::Conflict(
                "this is the environment's last API token: create another one first, or \
                 revoke it with `patchbay-server token revoke`"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Creates an API token; the value is returned once and stored as a SHA-256 hash.
    pub async fn create_api_token(
        &self,
        environment_id: &str,
        name: &str,
    ) -> StorageResult<CreatedApiToken> {
        require_text("name", name)?;
        self.get_environment(environment_id).await?;
        let plaintext = secret::generate(TOKEN_PREFIX);
        let token = ApiToken {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            name: name.to_owned(),
            created_at: time::now(),
        };
        self.backend
            .execute(
                "INSERT INTO api_tokens (id, environment_id, name, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                args![
                    &token.id,
                    environment_id,
                    name,
                    secret::hash(plaintext.expose()),
                    time::to_micros(token.created_at)
                ],
            )
            .await?;
        Ok(CreatedApiToken { token, plaintext })
    }

    /// The environment's tokens (without values).
    pub async fn list_api_tokens(&self, environment_id: &str) -> StorageResult<Vec<ApiToken>> {
        self.fetch_map(
            API_TOKENS.table,
            &format!(
                "SELECT {} FROM api_tokens WHERE environment_id = $1 ORDER BY created_at, id",
                API_TOKENS.columns
            ),
            args![environment_id],
            api_token,
        )
        .await
    }

    /// Deletes a token; it stops authenticating at once.
    pub async fn delete_api_token(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.delete_scoped(&API_TOKENS, environment_id, id).await
    }

    /// *System.* The environment id a bearer token acts in, `None` for an unknown token.
    pub async fn authenticate(&self, token: &str) -> StorageResult<Option<String>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let found = self
            .fetch_map(
                API_TOKENS.table,
                "SELECT environment_id FROM api_tokens WHERE token_hash = $1",
                args![secret::hash(token)],
                |row| row.text("environment_id"),
            )
            .await?;
        Ok(found.into_iter().next())
    }
}
