//! Outbound webhooks. The signing secret is generated here, returned once and
//! stored encrypted.

use patchbay::config::SecretString;

use super::super::backend::{Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{CreatedWebhook, NewWebhook, Page, PageRequest, Webhook, WebhookPatch};
use super::super::{secret, time};
use super::scoped::Scoped;
use super::{Store, new_id};

const WEBHOOKS: Scoped = Scoped {
    table: "webhooks",
    kind: "webhook",
    columns: "id, environment_id, target_url, is_active, event_types, created_at, updated_at",
};
const TABLE: &str = WEBHOOKS.table;
const SECRET_PREFIX: &str = "whsec_";

pub(super) fn aad(id: &str) -> String {
    format!("webhook.secret:{id}")
}

fn webhook(row: &Row) -> Result<Webhook, StorageError> {
    Ok(Webhook {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        target_url: row.text("target_url")?,
        is_active: row.boolean("is_active")?,
        event_types: serde_json::from_str(&row.text("event_types")?)
            .map_err(|_| StorageError::corrupt(TABLE, "`event_types` is not a JSON list"))?,
        created_at: time::column(TABLE, row.int("created_at")?)?,
        updated_at: time::column(TABLE, row.int("updated_at")?)?,
    })
}

fn validate_url(url: &str) -> Result<(), StorageError> {
    match crate::web_url::parse_web_url(url) {
        Some(_) => Ok(()),
        None => Err(StorageError::InvalidInput(
            "`target_url` must be an http(s) URL".into(),
        )),
    }
}

fn validate_event_types(types: &[String]) -> Result<String, StorageError> {
    if types.is_empty() {
        return Err(StorageError::InvalidInput(
            "`event_types` must not be empty".into(),
        ));
    }
    if let Some(bad) = types.iter().find(|t| !is_event_pattern(t)) {
        return Err(StorageError::InvalidInput(format!(
            "`{bad}` is not an event type (`entity:action`, `entity:*` or `*`)"
        )));
    }
    serde_json::to_string(types).map_err(|_| StorageError::InvalidInput("bad `event_types`".into()))
}

fn is_event_pattern(pattern: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    pattern == "*"
        || pattern == "test"
        || pattern
            .split_once(':')
            .is_some_and(|(entity, action)| word(entity) && (action == "*" || word(action)))
}

/// Whether a webhook subscribed to `patterns` receives `event_type`.
pub(crate) fn subscribed(patterns: &[String], event_type: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == event_type
            || p.strip_suffix(":*")
                .is_some_and(|entity| event_type.split_once(':').is_some_and(|(e, _)| e == entity))
    })
}

impl Store {
    /// Creates a webhook with a new signing secret, returned once.
    pub async fn create_webhook(
        &self,
        environment_id: &str,
        new: NewWebhook,
    ) -> StorageResult<CreatedWebhook> {
        validate_url(&new.target_url)?;
        let event_types = validate_event_types(&new.event_types)?;
        self.get_environment(environment_id).await?;
        let now = time::now();
        let webhook = Webhook {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            target_url: new.target_url,
            is_active: new.is_active,
            event_types: new.event_types,
            created_at: now,
            updated_at: now,
        };
        let secret = secret::generate(SECRET_PREFIX);
        self.backend
            .execute(
                "INSERT INTO webhooks (id, environment_id, target_url, is_active, event_types, secret_enc, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    &webhook.id,
                    environment_id,
                    &webhook.target_url,
                    webhook.is_active,
                    event_types,
                    self.cipher.encrypt(secret.expose().as_bytes(), &aad(&webhook.id))?,
                    time::to_micros(now),
                    time::to_micros(now)
                ],
            )
            .await?;
        Ok(CreatedWebhook { webhook, secret })
    }

    /// A webhook.
    pub async fn get_webhook(&self, environment_id: &str, id: &str) -> StorageResult<Webhook> {
        webhook(&self.fetch_scoped(&WEBHOOKS, environment_id, id).await?)
    }

    /// Webhooks, oldest first.
    pub async fn list_webhooks(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StorageResult<Page<Webhook>> {
        self.list_scoped(&WEBHOOKS, environment_id, vec![], page, webhook)
            .await
    }

    /// The environment's active webhooks (for fan-out).
    pub(crate) async fn active_webhooks(
        &self,
        environment_id: &str,
    ) -> StorageResult<Vec<Webhook>> {
        self.fetch_map(
            TABLE,
            &format!(
                "SELECT {} FROM webhooks WHERE environment_id = $1 AND is_active = $2",
                WEBHOOKS.columns
            ),
            args![environment_id, true],
            webhook,
        )
        .await
    }

    /// Applies `patch`.
    pub async fn update_webhook(
        &self,
        environment_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> StorageResult<Webhook> {
        if let Some(url) = &patch.target_url {
            validate_url(url)?;
        }
        if let Some(types) = &patch.event_types {
            validate_event_types(types)?;
        }
        let mut hook = self.get_webhook(environment_id, id).await?;
        if let Some(url) = patch.target_url {
            hook.target_url = url;
        }
        if let Some(types) = patch.event_types {
            hook.event_types = types;
        }
        if let Some(active) = patch.is_active {
            hook.is_active = active;
        }
        hook.updated_at = time::now();
        self.change_scoped(
            &WEBHOOKS,
            id,
            "UPDATE webhooks SET target_url = $1, is_active = $2, event_types = $3, \
             updated_at = $4 WHERE id = $5 AND environment_id = $6",
            args![
                &hook.target_url,
                hook.is_active,
                validate_event_types(&hook.event_types)?,
                time::to_micros(hook.updated_at),
                id,
                environment_id
            ],
        )
        .await?;
        Ok(hook)
    }

    /// Deletes a webhook and its pending deliveries.
    pub async fn delete_webhook(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        self.delete_scoped(&WEBHOOKS, environment_id, id).await
    }

    /// The signing secret, for the delivery worker.
    pub async fn webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<SecretString> {
        let stored = self
            .select_scoped(&WEBHOOKS, "secret_enc", environment_id, id)
            .await?
            .text("secret_enc")?;
        let plain = self.cipher.decrypt(&stored, &aad(id))?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| StorageError::Crypto("a webhook secret is not UTF-8".into()))?;
        Ok(SecretString::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_patterns() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(subscribed(&p(&["*"]), "integrated_account:active"));
        assert!(subscribed(
            &p(&["integrated_account:*"]),
            "integrated_account:active"
        ));
        assert!(!subscribed(
            &p(&["integrated_account:*"]),
            "sync_job_run:created"
        ));
        assert!(subscribed(
            &p(&["integrated_account:active"]),
            "integrated_account:active"
        ));
        assert!(!subscribed(
            &p(&["integrated_account:created"]),
            "integrated_account:active"
        ));
        assert!(validate_event_types(&p(&["nope nope"])).is_err());
        assert!(validate_event_types(&[]).is_err());
        assert!(validate_url("ftp://x").is_err() && validate_url("https://x.example/h").is_ok());
    }
}
