//! The facade's [`patchbay::AccountStore`] over a [`Store`], so refreshed tokens
//! and statuses the facade writes land (encrypted) in the database.
//!
//! Token refreshes run under [`Store::lock_account`] (a Postgres advisory lock,
//! exclusive across server processes sharing the database) and re-read the
//! stored tokens first, so a refresh happens once across processes.

use std::sync::Arc;

use async_trait::async_trait;
use patchbay::auth::TokenSet;
use patchbay::config::{AccountStatus, IntegratedAccount};
use patchbay::{RefreshGuard, RefreshLock, StatusChange};
use serde_json::{Map, Value};

use super::error::StorageError;
use super::event::AccountEvent;
use super::lock::AccountLock;
use super::sql::Store;

/// The account lock as the token manager's refresh lock: released by
/// [`AccountLock::release`] (commit), or by dropping it (rollback).
#[async_trait]
impl RefreshLock for AccountLock {
    async fn release(self: Box<Self>) -> Result<(), patchbay::StoreError> {
        Ok(AccountLock::release(*self).await?)
    }
}

/// Accounts of one environment, as the facade sees them. Accounts of other
/// environments do not exist for it (`get` answers `None`, writes fail).
#[derive(Debug, Clone)]
pub struct EnvironmentAccounts {
    store: Arc<Store>,
    environment_id: String,
}

impl EnvironmentAccounts {
    /// The accounts of `environment_id` in `store`.
    pub fn new(store: Arc<Store>, environment_id: impl Into<String>) -> Self {
        Self {
            store,
            environment_id: environment_id.into(),
        }
    }
}

/// Accounts of every environment, each resolved to its own environment first:
/// for one facade shared by all environments. Writes never move an account
/// between environments.
#[derive(Debug, Clone)]
pub struct AllAccounts {
    store: Arc<Store>,
}

impl AllAccounts {
    /// All accounts in `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    /// The accounts of the environment the account `id` is in; `None` for an
    /// unknown account.
    async fn accounts_of(&self, id: &str) -> Result<Option<EnvironmentAccounts>, StorageError> {
        Ok(self
            .store
            .account_environment(id)
            .await?
            .map(|environment_id| EnvironmentAccounts::new(self.store.clone(), environment_id)))
    }

    /// As [`accounts_of`](Self::accounts_of), but an unknown account is
    /// [`StorageError::NotFound`].
    async fn accounts_with(&self, id: &str) -> Result<EnvironmentAccounts, patchbay::StoreError> {
        self.accounts_of(id)
            .await?
            .ok_or_else(|| Box::new(StorageError::not_found("integrated account", id)) as _)
    }
}

#[async_trait]
impl patchbay::AccountStore for EnvironmentAccounts {
    async fn get(&self, id: &str) -> Result<Option<IntegratedAccount>, patchbay::StoreError> {
        match self.store.get_account(&self.environment_id, id).await {
            Ok(account) => Ok(Some(account)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Box::new(e)),
        }
    }

    async fn put(&self, account: IntegratedAccount) -> Result<(), patchbay::StoreError> {
        Ok(self
            .store
            .put_account(&self.environment_id, account, None)
            .await?)
    }

    async fn update_context(
        &self,
        id: &str,
        patch: Map<String, Value>,
    ) -> Result<(), patchbay::StoreError> {
        self.store
            .update_context(&self.environment_id, id, patch)
            .await?;
        Ok(())
    }

    async fn set_status(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
    ) -> Result<(), patchbay::StoreError> {
        self.store
            .set_account_status(&self.environment_id, id, status, last_error, None)
            .await?;
        Ok(())
    }

    /// Writes the status and queues the event in one transaction when the
    /// event is one of the [`AccountEvent`]s (it always is for Patchbay's own).
    async fn set_status_with_event(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: &str,
    ) -> Result<StatusChange, patchbay::StoreError> {
        let known = AccountEvent::ALL.into_iter().find(|e| e.name() == event);
        let account = self
            .store
            .set_account_status(&self.environment_id, id, status, last_error, known)
            .await?;
        Ok(StatusChange {
            account,
            event_recorded: known.is_some(),
        })
    }

    async fn lock_refresh(&self, id: &str) -> Result<RefreshGuard, patchbay::StoreError> {
        let lock = self.store.lock_account(&self.environment_id, id).await?;
        Ok(RefreshGuard::new(lock))
    }

    async fn load_tokens(&self, id: &str) -> Result<Option<TokenSet>, patchbay::StoreError> {
        Ok(self
            .get(id)
            .await?
            .and_then(|account| TokenSet::from_context(&account.context)))
    }
}

#[async_trait]
impl patchbay::AccountStore for AllAccounts {
    async fn get(&self, id: &str) -> Result<Option<IntegratedAccount>, patchbay::StoreError> {
        match self.accounts_of(id).await? {
            Some(accounts) => accounts.get(id).await,
            None => Ok(None),
        }
    }

    async fn put(&self, account: IntegratedAccount) -> Result<(), patchbay::StoreError> {
        let environment_id = match self.store.account_environment(&account.id).await? {
            Some(existing) => existing,
            None => account.environment_id.clone().ok_or_else(|| {
                Box::new(StorageError::InvalidInput(
                    "a new account needs its `environment_id`".into(),
                )) as patchbay::StoreError
            })?,
        };
        EnvironmentAccounts::new(self.store.clone(), environment_id)
            .put(account)
            .await
    }

    async fn update_context(
        &self,
        id: &str,
        patch: Map<String, Value>,
    ) -> Result<(), patchbay::StoreError> {
        self.accounts_with(id)
            .await?
            .update_context(id, patch)
            .await
    }

    async fn set_status(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
    ) -> Result<(), patchbay::StoreError> {
        self.accounts_with(id)
            .await?
            .set_status(id, status, last_error)
            .await
    }

    async fn set_status_with_event(
        &self,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: &str,
    ) -> Result<StatusChange, patchbay::StoreError> {
        self.accounts_with(id)
            .await?
            .set_status_with_event(id, status, last_error, event)
            .await
    }

    async fn lock_refresh(&self, id: &str) -> Result<RefreshGuard, patchbay::StoreError> {
        self.accounts_with(id).await?.lock_refresh(id).await
    }

    async fn load_tokens(&self, id: &str) -> Result<Option<TokenSet>, patchbay::StoreError> {
        match self.accounts_of(id).await? {
            Some(accounts) => accounts.load_tokens(id).await,
            None => Ok(None),
        }
    }
}
