//! Environments and bearer API tokens.

use super::super::backend::{Backend, Row, args};
use super::super::error::StoreError;
use super::super::model::{ApiToken, Bootstrap, CreatedApiToken, Environment};
use super::super::{secret, time};
use super::{SqlStore, new_id, require_text};

const DEFAULT_ENVIRONMENT: &str = "default";
const TOKEN_PREFIX: &str = "pb_";

fn environment(row: &Row) -> Result<Environment, StoreError> {
    Ok(Environment {
        id: row.text("id")?,
        name: row.text("name")?,
        created_at: time::column("environments", row.int("created_at")?)?,
    })
}

fn api_token(row: &Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        name: row.text("name")?,
        created_at: time::column("api_tokens", row.int("created_at")?)?,
    })
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn bootstrap(&self) -> Result<Option<Bootstrap>, StoreError> {
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
            created_at: now,
        };
        let token = self.create_api_token(&id, "first token").await?;
        Ok(Some(Bootstrap { environment, token }))
    }

    pub(crate) async fn create_environment(&self, name: &str) -> Result<Environment, StoreError> {
        require_text("name", name)?;
        let environment = Environment {
            id: new_id(),
            name: name.to_owned(),
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
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("an environment named `{name}` exists"))
                }
                e => e,
            })?;
        Ok(environment)
    }

    pub(crate) async fn get_environment(
        &self,
        environment_id: &str,
    ) -> Result<Environment, StoreError> {
        let rows = self
            .backend
            .fetch(
                "environments",
                "SELECT id, name, created_at FROM environments WHERE id = $1",
                args![environment_id],
            )
            .await?;
        rows.first()
            .map(environment)
            .unwrap_or_else(|| Err(StoreError::not_found("environment", environment_id)))
    }

    pub(crate) async fn list_environments(&self) -> Result<Vec<Environment>, StoreError> {
        self.backend
            .fetch(
                "environments",
                "SELECT id, name, created_at FROM environments ORDER BY created_at, id",
                args![],
            )
            .await?
            .iter()
            .map(environment)
            .collect()
    }

    pub(crate) async fn create_api_token(
        &self,
        environment_id: &str,
        name: &str,
    ) -> Result<CreatedApiToken, StoreError> {
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

    pub(crate) async fn list_api_tokens(
        &self,
        environment_id: &str,
    ) -> Result<Vec<ApiToken>, StoreError> {
        self.backend
            .fetch(
                "api_tokens",
                "SELECT id, environment_id, name, created_at FROM api_tokens \
                 WHERE environment_id = $1 ORDER BY created_at, id",
                args![environment_id],
            )
            .await?
            .iter()
            .map(api_token)
            .collect()
    }

    pub(crate) async fn delete_api_token(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let deleted = self
            .backend
            .execute(
                "DELETE FROM api_tokens WHERE id = $1 AND environment_id = $2",
                args![id, environment_id],
            )
            .await?;
        if deleted == 0 {
            return Err(StoreError::not_found("api token", id));
        }
        Ok(())
    }

    pub(crate) async fn authenticate(&self, token: &str) -> Result<Option<String>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let rows = self
            .backend
            .fetch(
                "api_tokens",
                "SELECT environment_id FROM api_tokens WHERE token_hash = $1",
                args![secret::hash(token)],
            )
            .await?;
        rows.first().map(|r| r.text("environment_id")).transpose()
    }
}
