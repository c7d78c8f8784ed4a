//! Where the host keeps integrated accounts, and where events go.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use patchbay_auth::{RefreshGuard, TokenSet};
use patchbay_config::{AccountStatus, IntegratedAccount};
use serde_json::{Map, Value};

/// An error of a host store, shown as its message: the same type as
/// [`patchbay_auth::StoreError`], so one error serves the [`AccountStore`] and
/// the token manager's credential store.
pub use patchbay_auth::StoreError;

/// The host's storage of integrated accounts.
///
/// Implementations must make each write durable before returning: Patchbay
/// saves rotated refresh tokens through [`update_context`](Self::update_context)
/// before it uses the new access token.
///
/// A store shared by several processes (each with its own [`Patchbay`](crate::Patchbay))
/// also implements [`lock_refresh`](Self::lock_refresh), an exclusive lock
/// across processes; the token refresh of an account then happens once across
/// them (see [`patchbay_auth::CredentialStore`] for the protocol).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account, or `None` when there is no such account.
    async fn get(&self, id: &str) -> Result<Option<IntegratedAccount>, StoreError>;
    /// Stores a new account (or replaces one with the same id).
    async fn put(&self, account: IntegratedAccount) -> Result<(), StoreError>;
    /// Sets the top-level context keys in `patch` (others are kept).
    async fn update_context(&self, id: &str, patch: Map<String, Value>) -> Result<(), StoreError>;
    /// Sets the status and `last_error`.
    async fn set_status(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
    ) -> Result<(), StoreError>;

    /// Sets the status and `last_error` and records the event `event` (e.g.
    /// `integrated_account:active`) about the changed account, answering the
    /// account as changed and whether the event was recorded.
    ///
    /// A store that also keeps the host's events (an outbox in the same
    /// database) overrides this to write both in one transaction and answers
    /// `event_recorded: true`; Patchbay then does not send the event to the
    /// [`EventSink`]. The default runs [`set_status`](Self::set_status) and
    /// [`get`](Self::get) and answers `event_recorded: false`, so the event
    /// goes to the sink.
    async fn set_status_with_event(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: &str,
    ) -> Result<StatusChange, StoreError> {
        let _ = event;
        self.set_status(id, status, last_error).await?;
        let account = self.get(id).await?.ok_or_else(|| -> StoreError {
            format!("integrated account `{id}` disappeared while its status was set").into()
        })?;
        Ok(StatusChange {
            account,
            event_recorded: false,
        })
    }

    /// Takes the account's token-refresh lock, exclusive across every process
    /// sharing this store, waiting while another holds it (e.g. a Postgres
    /// advisory lock in a transaction, wrapped in [`RefreshGuard::new`]).
    /// Patchbay holds it while it re-reads, requests and saves the account's
    /// tokens, then releases it.
    ///
    /// The default takes no lock: enough for a store used by one process.
    async fn lock_refresh(&self, id: &str) -> Result<RefreshGuard, StoreError> {
        let _ = id;
        Ok(RefreshGuard::unlocked())
    }

    /// The account's tokens as stored now, read under
    /// [`lock_refresh`](Self::lock_refresh) to see tokens another process just
    /// saved. `None` when the account or its tokens are missing.
    ///
    /// The default reads the account with [`get`](Self::get) and its context's
    /// `oauth.token` ([`TokenSet::from_context`]).
    async fn load_tokens(&self, id: &str) -> Result<Option<TokenSet>, StoreError> {
        Ok(self
            .get(id)
            .await?
            .and_then(|account| TokenSet::from_context(&account.context)))
    }
}

/// What [`AccountStore::set_status_with_event`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The account after the change.
    pub account: IntegratedAccount,
    /// Whether the store recorded the event itself (with the change).
    pub event_recorded: bool,
}

/// An event for the host (`integrated_account:authentication_error`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `entity:action`, e.g. `integrated_account:active`.
    pub name: String,
    /// The account without its context (no secrets).
    pub payload: Value,
}

/// Where events go.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Delivers one event. Must not fail the call that caused it.
    async fn emit(&self, event: Event);
}

/// Accounts in memory: the default store, for tests and single-process hosts.
#[derive(Debug, Default)]
pub struct MemoryAccountStore {
    accounts: Mutex<HashMap<String, IntegratedAccount>>,
}

impl MemoryAccountStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut IntegratedAccount) -> T,
    ) -> Result<T, StoreError> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let account = accounts
            .get_mut(id)
            .ok_or_else(|| format!("no integrated account `{id}`"))?;
        account.updated_at = chrono::Utc::now();
        Ok(f(account))
    }
}

#[async_trait]
impl AccountStore for MemoryAccountStore {
    async fn get(&self, id: &str) -> Result<Option<IntegratedAccount>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned())
    }

    async fn put(&self, account: IntegratedAccount) -> Result<(), StoreError> {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account.id.clone(), account);
        Ok(())
    }

    async fn update_context(&self, id: &str, patch: Map<String, Value>) -> Result<(), StoreError> {
        self.with(id, |account| account.context.extend(patch))
    }

    async fn set_status(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
    ) -> Result<(), StoreError> {
        self.with(id, |account| {
            account.status = status;
            account.last_error = last_error;
        })
    }
}

/// Keeps events in memory (the default sink); [`MemoryEvents::take`] drains them.
#[derive(Debug, Default)]
pub struct MemoryEvents {
    events: Mutex<Vec<Event>>,
}

impl MemoryEvents {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far, oldest first, removing them.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl EventSink for MemoryEvents {
    async fn emit(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

/// The event payload of an account: everything but the context, which holds
/// secrets, and an embedded integration's config. Every
/// `integrated_account:*` event the facade emits carries this; hosts that emit
/// their own account events should too, so receivers see one shape.
pub fn account_payload(account: &IntegratedAccount) -> Value {
    let mut value = serde_json::to_value(account).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("context");
        if let Some(integration) = map.get_mut("integration").and_then(Value::as_object_mut) {
            integration.remove("config");
        }
    }
    value
}
