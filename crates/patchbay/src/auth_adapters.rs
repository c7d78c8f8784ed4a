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
        // A store that cannot record the status has nothing to report either.
        let _ = set_status_and_announce(
            self.accounts.as_ref(),
            self.events.as_ref(),
            account_id,
            AccountStatus::NeedsReauth,
            Some(error.to_string()),
            "integrated_account:authentication_error",
        )
        .await;
    }
}

/// Sets `account_id`'s status and reports the event `event` about the changed
/// account: the store records it with the change when it can
/// ([`AccountStore::set_status_with_event`]); otherwise it goes to `events`.
///
/// # Errors
///
/// The store's error; then no event is reported.
pub(crate) async fn set_status_and_announce(
    accounts: &dyn AccountStore,
    events: &dyn EventSink,
    account_id: &str,
    status: AccountStatus,
    last_error: Option<String>,
    event: &str,
) -> Result<(), StoreError> {
    let change = accounts
        .set_status_with_event(account_id, status, last_error, event)
        .await?;
    if !change.event_recorded {
        events
            .emit(Event {
                name: event.to_owned(),
                payload: account_payload(&change.account),
            })
            .await;
    }
    Ok(())
}
