//! [`Store`] for [`SqlStore`]: delegates to the per-object modules.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay::config::{AccountStatus, IntegratedAccount, SecretString};
use serde_json::{Map, Value};

use super::super::backend::Backend;
use super::super::error::StoreResult;
use super::super::event::AccountEvent;
use super::super::lock::AccountLock;
use super::super::model::*;
use super::super::traits::Store;
use super::SqlStore;

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn backend_name(&self) -> &'static str {
        self.name
    }

    fn seal(&self, plaintext: &[u8], purpose: &str) -> StoreResult<String> {
        self.cipher.encrypt(plaintext, &format!("sealed:{purpose}"))
    }

    fn unseal(&self, sealed: &str, purpose: &str) -> StoreResult<zeroize::Zeroizing<Vec<u8>>> {
        self.cipher.decrypt(sealed, &format!("sealed:{purpose}"))
    }

    async fn bootstrap(&self) -> StoreResult<Option<Bootstrap>> {
        SqlStore::bootstrap(self).await
    }

    async fn create_environment(&self, name: &str) -> StoreResult<Environment> {
        SqlStore::create_environment(self, name).await
    }

    async fn get_environment(&self, environment_id: &str) -> StoreResult<Environment> {
        SqlStore::get_environment(self, environment_id).await
    }

    async fn list_environments(&self) -> StoreResult<Vec<Environment>> {
        SqlStore::list_environments(self).await
    }

    async fn create_api_token(
        &self,
        environment_id: &str,
        name: &str,
    ) -> StoreResult<CreatedApiToken> {
        SqlStore::create_api_token(self, environment_id, name).await
    }

    async fn list_api_tokens(&self, environment_id: &str) -> StoreResult<Vec<ApiToken>> {
        SqlStore::list_api_tokens(self, environment_id).await
    }

    async fn delete_api_token(&self, environment_id: &str, id: &str) -> StoreResult<()> {
        SqlStore::delete_api_token(self, environment_id, id).await
    }

    async fn authenticate(&self, token: &str) -> StoreResult<Option<String>> {
        SqlStore::authenticate(self, token).await
    }

    async fn create_integration(
        &self,
        environment_id: &str,
        new: NewIntegration,
    ) -> StoreResult<IntegrationRecord> {
        SqlStore::create_integration(self, environment_id, new).await
    }

    async fn get_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<IntegrationRecord> {
        SqlStore::get_integration(self, environment_id, id).await
    }

    async fn list_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<IntegrationRecord>> {
        SqlStore::list_integrations(self, environment_id, page).await
    }

    async fn update_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: IntegrationPatch,
    ) -> StoreResult<IntegrationRecord> {
        SqlStore::update_integration(self, environment_id, id, patch).await
    }

    async fn delete_integration(&self, environment_id: &str, id: &str) -> StoreResult<()> {
        SqlStore::delete_integration(self, environment_id, id).await
    }

    async fn install_integration(
        &self,
        environment_id: &str,
        new: NewEnvironmentIntegration,
    ) -> StoreResult<EnvironmentIntegration> {
        SqlStore::install_integration(self, environment_id, new).await
    }

    async fn get_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<EnvironmentIntegration> {
        SqlStore::get_environment_integration(self, environment_id, id).await
    }

    async fn list_environment_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<EnvironmentIntegration>> {
        SqlStore::list_environment_integrations(self, environment_id, page).await
    }

    async fn update_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: EnvironmentIntegrationPatch,
    ) -> StoreResult<EnvironmentIntegration> {
        SqlStore::update_environment_integration(self, environment_id, id, patch).await
    }

    async fn delete_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<()> {
        SqlStore::delete_environment_integration(self, environment_id, id).await
    }

    async fn create_account(
        &self,
        environment_id: &str,
        new: NewAccount,
    ) -> StoreResult<IntegratedAccount> {
        SqlStore::create_account(self, environment_id, new).await
    }

    async fn put_account(
        &self,
        environment_id: &str,
        account: IntegratedAccount,
        event: Option<AccountEvent>,
    ) -> StoreResult<()> {
        SqlStore::put_account(self, environment_id, account, event).await
    }

    async fn get_account(&self, environment_id: &str, id: &str) -> StoreResult<IntegratedAccount> {
        SqlStore::get_account(self, environment_id, id).await
    }

    async fn list_accounts(
        &self,
        environment_id: &str,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<IntegratedAccount>> {
        SqlStore::list_accounts(self, environment_id, filter, page).await
    }

    async fn update_account(
        &self,
        environment_id: &str,
        id: &str,
        patch: AccountPatch,
    ) -> StoreResult<IntegratedAccount> {
        SqlStore::update_account(self, environment_id, id, patch).await
    }

    async fn update_context(
        &self,
        environment_id: &str,
        id: &str,
        patch: Map<String, Value>,
    ) -> StoreResult<IntegratedAccount> {
        SqlStore::update_context(self, environment_id, id, patch).await
    }

    async fn set_account_status(
        &self,
        environment_id: &str,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: Option<AccountEvent>,
    ) -> StoreResult<IntegratedAccount> {
        SqlStore::set_account_status(self, environment_id, id, status, last_error, event).await
    }

    async fn delete_account(&self, environment_id: &str, id: &str) -> StoreResult<()> {
        SqlStore::delete_account(self, environment_id, id).await
    }

    async fn account_route(&self, environment_id: &str, id: &str) -> StoreResult<AccountRoute> {
        SqlStore::account_route(self, environment_id, id).await
    }

    async fn install_route(&self, environment_id: &str, id: &str) -> StoreResult<InstallRoute> {
        SqlStore::install_route(self, environment_id, id).await
    }

    async fn account_environment(&self, id: &str) -> StoreResult<Option<String>> {
        SqlStore::account_environment(self, id).await
    }

    async fn environment_integration_environment(&self, id: &str) -> StoreResult<Option<String>> {
        SqlStore::environment_integration_environment(self, id).await
    }

    async fn lock_account(&self, environment_id: &str, id: &str) -> StoreResult<AccountLock> {
        SqlStore::lock_account(self, environment_id, id).await
    }

    async fn create_link_token(
        &self,
        environment_id: &str,
        new: NewLinkToken,
    ) -> StoreResult<CreatedLinkToken> {
        SqlStore::create_link_token(self, environment_id, new).await
    }

    async fn find_link_token(&self, token: &str) -> StoreResult<Option<LinkToken>> {
        SqlStore::find_link_token(self, token).await
    }

    async fn consume_link_token(&self, token: &str) -> StoreResult<Option<LinkToken>> {
        SqlStore::consume_link_token(self, token).await
    }

    async fn create_webhook(
        &self,
        environment_id: &str,
        new: NewWebhook,
    ) -> StoreResult<CreatedWebhook> {
        SqlStore::create_webhook(self, environment_id, new).await
    }

    async fn get_webhook(&self, environment_id: &str, id: &str) -> StoreResult<Webhook> {
        SqlStore::get_webhook(self, environment_id, id).await
    }

    async fn list_webhooks(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        SqlStore::list_webhooks(self, environment_id, page).await
    }

    async fn update_webhook(
        &self,
        environment_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> StoreResult<Webhook> {
        SqlStore::update_webhook(self, environment_id, id, patch).await
    }

    async fn delete_webhook(&self, environment_id: &str, id: &str) -> StoreResult<()> {
        SqlStore::delete_webhook(self, environment_id, id).await
    }

    async fn webhook_secret(&self, environment_id: &str, id: &str) -> StoreResult<SecretString> {
        SqlStore::webhook_secret(self, environment_id, id).await
    }

    async fn enqueue_event(
        &self,
        environment_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> StoreResult<EnqueuedEvent> {
        SqlStore::enqueue_event(self, environment_id, event_type, payload).await
    }

    async fn enqueue_for_webhook(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> StoreResult<EnqueuedEvent> {
        SqlStore::enqueue_for_webhook(self, environment_id, webhook_id, event_type, payload).await
    }

    async fn claim_due(&self, limit: u32, lease: Duration) -> StoreResult<Vec<OutboxDelivery>> {
        SqlStore::claim_due(self, limit, lease).await
    }

    async fn mark_delivered(&self, delivery: &OutboxDelivery) -> StoreResult<bool> {
        SqlStore::mark_delivered(self, delivery).await
    }

    async fn mark_failed(
        &self,
        delivery: &OutboxDelivery,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        SqlStore::mark_failed(self, delivery, error, retry_at).await
    }

    async fn prune_outbox(
        &self,
        delivered_before: Option<DateTime<Utc>>,
        dead_before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<u64> {
        SqlStore::prune_outbox(self, delivered_before, dead_before, limit).await
    }
}
