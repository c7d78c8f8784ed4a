//! Connects the token manager's callbacks to the host's store and events.

use std::sync::Arc;

use async_trait::async_trait;
use patchbay_auth::{AuthError, AuthEvents, CredentialStore, RefreshGuard, StoreError, TokenSet};
use patchbay_config::AccountStatus;

use crate::store::{AccountStore, Event, EventSink, account_payload};

/// Saves refreshed tokens into the account's context; the refresh lock and
/// stored tokens come from the account store too.
pub(crate) struct TokensToStore(pub(crate) Arc<dyn AccountStore>);

#[async_trait]
impl CredentialStore for TokensToStore {
    async fn save_tokens(&self, account_id: &str, tokens: &TokenSet) -> Result<(), StoreError> {
        self.0
            .update_context(account_id, tokens.context_patch())
            .await
    }

    async fn lock_refresh(&self, account_id: &str) -> Result<RefreshGuard, StoreError> {
        self.0.lock_refresh(account_id).await
    }

    async fn load_tokens(&self, account_id: &str) -> Result<Option<TokenSet>, StoreError> {
        self.0.load_tokens(account_id).await
    }
}

/// Marks an account `needs_reauth` and emits `integrated_account:authentication_error`.
pub(crate) struct ReauthEvents {
    pub(crate) accounts: Arc<dyn AccountStore>,
    pub(crate) events: Arc<dyn EventSink>,
}

#[async_trait]
impl AuthEvents for ReauthEvents {
    async fn authentication_failed(&self, account_id: &str, error: &AuthError) {
        const EVENT: &str = "integrated_account:authentication_error";
        let message = error.to_string();
        let Ok(change) = self
            .accounts
            .set_status_with_event(account_id, AccountStatus::NeedsReauth, Some(message), EVENT)
            .await
        else {
            return;
        };
        if !change.event_recorded {
            let event = Event {
                name: EVENT.into(),
                payload: account_payload(&change.account),
            };
            self.events.emit(event).await;
        }
    }
}
