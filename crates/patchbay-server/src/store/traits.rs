//! The [`Store`] trait: everything the server persists.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay::config::{AccountStatus, IntegratedAccount, SecretString};
use serde_json::{Map, Value};

use super::error::StoreResult;
use super::event::AccountEvent;
use super::lock::AccountLock;
use super::model::*;

/// The server's storage.
///
/// Every method that acts on objects takes the `environment_id` it acts in and
/// never reads or changes another environment's rows: an object of another
/// environment is [`NotFound`](super::StoreError::NotFound). The exceptions are
/// marked *system*: they resolve an environment from a secret
/// ([`authenticate`](Self::authenticate), link tokens) or serve background
/// workers (the outbox) and are not meant to be exposed per request.
///
/// Writes are durable when the method returns. Invalid input is rejected with
/// [`InvalidInput`](super::StoreError::InvalidInput) before anything is written.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend_name(&self) -> &'static str;

    /// *System.* Encrypts `plaintext` with the store's key (AES-256-GCM), bound
    /// to `purpose`: for short-lived data the server hands to a browser and
    /// must get back untouched (the OAuth connect session). Every process
    /// sharing the key can [`unseal`](Self::unseal) it.
    fn seal(&self, plaintext: &[u8], purpose: &str) -> StoreResult<String>;
    /// *System.* Decrypts what [`seal`](Self::seal) produced for the same
    /// `purpose`; [`Crypto`](super::StoreError::Crypto) when it was tampered
    /// with, sealed for another purpose, or under a key the store lacks.
    fn unseal(&self, sealed: &str, purpose: &str) -> StoreResult<zeroize::Zeroizing<Vec<u8>>>;

    // ---- environments and tokens ----

    /// *System.* On first start (no environment yet) creates the `default`
    /// environment and its first API token and returns them; afterwards `None`.
    /// Concurrent first starts create one environment between them.
    async fn bootstrap(&self) -> StoreResult<Option<Bootstrap>>;
    /// *System.* Creates an environment (names are unique).
    async fn create_environment(&self, name: &str) -> StoreResult<Environment>;
    /// An environment.
    async fn get_environment(&self, environment_id: &str) -> StoreResult<Environment>;
    /// *System.* All environments, oldest first.
    async fn list_environments(&self) -> StoreResult<Vec<Environment>>;

    /// Creates an API token; the value is returned once and stored as a SHA-256 hash.
    async fn create_api_token(
        &self,
        environment_id: &str,
        name: &str,
    ) -> StoreResult<CreatedApiToken>;
    /// The environment's tokens (without values).
    async fn list_api_tokens(&self, environment_id: &str) -> StoreResult<Vec<ApiToken>>;
    /// Deletes a token; it stops authenticating at once.
    async fn delete_api_token(&self, environment_id: &str, id: &str) -> StoreResult<()>;
    /// *System.* The environment id a bearer token acts in, `None` for an unknown token.
    async fn authenticate(&self, token: &str) -> StoreResult<Option<String>>;

    // ---- integrations ----

    /// Creates an integration (config validated, version 1).
    async fn create_integration(
        &self,
        environment_id: &str,
        new: NewIntegration,
    ) -> StoreResult<IntegrationRecord>;
    /// An integration.
    async fn get_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<IntegrationRecord>;
    /// Integrations, oldest first.
    async fn list_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<IntegrationRecord>>;
    /// Applies `patch` if the stored version is `patch.version` (else
    /// [`Conflict`](super::StoreError::Conflict)); the version grows by one.
    async fn update_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: IntegrationPatch,
    ) -> StoreResult<IntegrationRecord>;
    /// Deletes an integration; a conflict while it is installed.
    async fn delete_integration(&self, environment_id: &str, id: &str) -> StoreResult<()>;

    // ---- environment integrations (installs) ----

    /// Installs an integration of the same environment (once per integration).
    async fn install_integration(
        &self,
        environment_id: &str,
        new: NewEnvironmentIntegration,
    ) -> StoreResult<EnvironmentIntegration>;
    /// An installed integration (override decrypted).
    async fn get_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<EnvironmentIntegration>;
    /// Installed integrations, oldest first.
    async fn list_environment_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<EnvironmentIntegration>>;
    /// Changes flags; `override` is replaced wholesale.
    async fn update_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: EnvironmentIntegrationPatch,
    ) -> StoreResult<EnvironmentIntegration>;
    /// Uninstalls; a conflict while accounts use it.
    async fn delete_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StoreResult<()>;

    // ---- integrated accounts ----

    /// Creates (imports) an account of an installed integration of the
    /// environment, and queues `integrated_account:created` in the same
    /// transaction.
    async fn create_account(
        &self,
        environment_id: &str,
        new: NewAccount,
    ) -> StoreResult<IntegratedAccount>;
    /// Stores `account` as given (insert, or replace the one with its id in the
    /// environment). `account.environment_id`, if set, must be `environment_id`.
    /// `event`, when given, is queued in the same transaction.
    async fn put_account(
        &self,
        environment_id: &str,
        account: IntegratedAccount,
        event: Option<AccountEvent>,
    ) -> StoreResult<()>;
    /// An account (context decrypted; `integration` not embedded).
    async fn get_account(&self, environment_id: &str, id: &str) -> StoreResult<IntegratedAccount>;
    /// Accounts matching `filter`, oldest first, a page at a time.
    async fn list_accounts(
        &self,
        environment_id: &str,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<IntegratedAccount>>;
    /// Applies `patch` and queues `integrated_account:updated` in the same
    /// transaction.
    async fn update_account(
        &self,
        environment_id: &str,
        id: &str,
        patch: AccountPatch,
    ) -> StoreResult<IntegratedAccount>;
    /// Sets the top-level context keys in `patch`, keeping the others. Safe
    /// against concurrent updates of the same account (no lost keys).
    async fn update_context(
        &self,
        environment_id: &str,
        id: &str,
        patch: Map<String, Value>,
    ) -> StoreResult<IntegratedAccount>;
    /// Sets status and `last_error`; `event`, when given, is queued in the
    /// same transaction.
    async fn set_account_status(
        &self,
        environment_id: &str,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: Option<AccountEvent>,
    ) -> StoreResult<IntegratedAccount>;
    /// Deletes an account and queues `integrated_account:deleted` in the same
    /// transaction.
    async fn delete_account(&self, environment_id: &str, id: &str) -> StoreResult<()>;
    /// The account's install and the revisions of the install and its
    /// integration, in one query that decrypts nothing: what a request needs
    /// to find (or reuse) the compiled install. Not found when the account is
    /// not in the environment.
    async fn account_route(&self, environment_id: &str, id: &str) -> StoreResult<AccountRoute>;
    /// The install's revisions and its integration's, in one query that
    /// decrypts nothing, as [`account_route`](Self::account_route) for an
    /// account. Not found when the install is not in the environment.
    async fn install_route(&self, environment_id: &str, id: &str) -> StoreResult<InstallRoute>;
    /// *System.* The environment of an account, for adapters that only know its id.
    async fn account_environment(&self, id: &str) -> StoreResult<Option<String>>;
    /// *System.* The environment of an environment integration (install), for
    /// routes that know only its id (`POST /environment-integration-webhook/{id}`,
    /// called by providers without an API token); `None` for an unknown id.
    async fn environment_integration_environment(&self, id: &str) -> StoreResult<Option<String>>;
    /// Takes the account's refresh lock, exclusive across processes sharing the
    /// database (see [`lock`](super::lock)). Hold it while refreshing tokens.
    async fn lock_account(&self, environment_id: &str, id: &str) -> StoreResult<AccountLock>;

    // ---- link tokens ----

    /// Creates a link token valid for `new.ttl`; its value is returned once.
    async fn create_link_token(
        &self,
        environment_id: &str,
        new: NewLinkToken,
    ) -> StoreResult<CreatedLinkToken>;
    /// *System.* The token if it is unused and unexpired (does not consume it).
    async fn find_link_token(&self, token: &str) -> StoreResult<Option<LinkToken>>;
    /// *System.* Atomically marks the token used and returns it, only if it was
    /// unused and unexpired. Of concurrent callers exactly one gets `Some`.
    async fn consume_link_token(&self, token: &str) -> StoreResult<Option<LinkToken>>;

    // ---- outbound webhooks ----

    /// Creates a webhook with a new signing secret, returned once.
    async fn create_webhook(
        &self,
        environment_id: &str,
        new: NewWebhook,
    ) -> StoreResult<CreatedWebhook>;
    /// A webhook.
    async fn get_webhook(&self, environment_id: &str, id: &str) -> StoreResult<Webhook>;
    /// Webhooks, oldest first.
    async fn list_webhooks(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>>;
    /// Applies `patch`.
    async fn update_webhook(
        &self,
        environment_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> StoreResult<Webhook>;
    /// Deletes a webhook and its pending deliveries.
    async fn delete_webhook(&self, environment_id: &str, id: &str) -> StoreResult<()>;
    /// The signing secret, for the delivery worker.
    async fn webhook_secret(&self, environment_id: &str, id: &str) -> StoreResult<SecretString>;

    // ---- outbox ----

    /// Stores one delivery per active webhook of the environment subscribed to
    /// `event_type`, in one statement (all or none).
    async fn enqueue_event(
        &self,
        environment_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> StoreResult<EnqueuedEvent>;
    /// Stores one delivery of `event_type` to the webhook `webhook_id` only,
    /// whatever events it subscribes to and whether or not it is active (for
    /// `POST /webhook/test`). [`NotFound`](super::StoreError::NotFound) when the
    /// environment has no such webhook.
    async fn enqueue_for_webhook(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> StoreResult<EnqueuedEvent>;
    /// *System.* Leases up to `limit` due deliveries for `lease`. A row is never
    /// leased to two callers at once; an expired lease (crashed worker) makes it
    /// due again.
    async fn claim_due(&self, limit: u32, lease: Duration) -> StoreResult<Vec<OutboxDelivery>>;
    /// *System.* Marks a leased delivery done; `false` if the lease was lost.
    async fn mark_delivered(&self, delivery: &OutboxDelivery) -> StoreResult<bool>;
    /// *System.* Records a failed attempt; retried at `retry_at`, or never again
    /// when `None`. `false` if the lease was lost.
    async fn mark_failed(
        &self,
        delivery: &OutboxDelivery,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// *System.* Deletes up to `limit` finished deliveries: `delivered` ones
    /// delivered before `delivered_before`, and `dead` ones given up before
    /// `dead_before` (`None` keeps every row of that status). `pending`
    /// deliveries are never deleted. Answers how many rows were deleted; call
    /// again while it answers `limit`.
    async fn prune_outbox(
        &self,
        delivered_before: Option<DateTime<Utc>>,
        dead_before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<u64>;
}
