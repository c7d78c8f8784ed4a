//! The `integrated_account:*` events, queued in the outbox in the same
//! transaction as the account change they report.

use patchbay::config::IntegratedAccount;
use serde_json::Value;

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

    /// The payload of this event about `account`: the account without its
    /// `context` (the facade's [`patchbay::account_payload`], so route and
    /// facade events have one shape); `deleted` carries only `{id, tenant_id,
    /// environment_integration_id}`. No payload ever carries a credential.
    pub fn payload(self, account: &IntegratedAccount) -> Value {
        match self {
            Self::Deleted => serde_json::json!({
                "id": account.id,
                "tenant_id": account.tenant_id,
                "environment_integration_id": account.environment_integration_id,
            }),
            _ => patchbay::account_payload(account),
        }
    }
}
