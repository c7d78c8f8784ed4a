//! The `integrated_account:*` events the server queues for outbound webhooks.
//!
//! Events go to the store's outbox ([`Store::enqueue_event`]) in the same
//! request that changed the account, one delivery per subscribed webhook; the
//! delivery worker sends them later. A payload is the account without its
//! `context`, so no event ever carries a credential.

use patchbay::config::IntegratedAccount;

use crate::store::Store;

/// The account events, named as Truto names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountEvent {
    /// An account was imported or connected for the first time.
    Created,
    /// Connecting finished and the account works.
    Active,
    /// The account was changed through the API.
    Updated,
    /// The account was deleted.
    Deleted,
    /// A reauthorized account works again.
    Reactivated,
    /// A post-install action failed.
    PostInstallError,
    /// The validation action failed.
    ValidationError,
    /// The provider refused the account's credentials.
    AuthenticationError,
}

impl AccountEvent {
    /// Every event, in documentation order.
    pub const ALL: [AccountEvent; 8] = [
        Self::Created,
        Self::Active,
        Self::Updated,
        Self::Deleted,
        Self::Reactivated,
        Self::PostInstallError,
        Self::ValidationError,
        Self::AuthenticationError,
    ];

    /// The event type, e.g. `integrated_account:created`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "integrated_account:created",
            Self::Active => "integrated_account:active",
            Self::Updated => "integrated_account:updated",
            Self::Deleted => "integrated_account:deleted",
            Self::Reactivated => "integrated_account:reactivated",
            Self::PostInstallError => "integrated_account:post_install_error",
            Self::ValidationError => "integrated_account:validation_error",
            Self::AuthenticationError => "integrated_account:authentication_error",
        }
    }
}

/// The payload of an account event, the same as the facade's own events
/// carry: the account without `context` (`integrated_account:deleted` carries
/// only `{id, tenant_id, environment_integration_id}`; see [`emit`]).
pub use patchbay::account_payload;

/// Queues `event` about `account` in `environment_id`'s outbox. A failure is
/// logged, not returned: the change the event reports has already been made
/// and must not be answered as failed.
pub async fn emit(
    store: &dyn Store,
    environment_id: &str,
    event: AccountEvent,
    account: &IntegratedAccount,
) {
    let payload = match event {
        AccountEvent::Deleted => serde_json::json!({
            "id": account.id,
            "tenant_id": account.tenant_id,
            "environment_integration_id": account.environment_integration_id,
        }),
        _ => account_payload(account),
    };
    if let Err(e) = store
        .enqueue_event(environment_id, event.name(), &payload)
        .await
    {
        tracing::warn!(event = event.name(), account = %account.id, error = %e, "cannot queue an event");
    }
}
