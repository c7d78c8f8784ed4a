//! Integrated accounts. The whole `context` is stored encrypted, bound to the
//! account id. A private `row_version` column makes read-modify-write updates
//! (context merges, status changes) safe under concurrency: an update that lost
//! a race re-reads and re-applies instead of overwriting.

use patchbay::config::{AccountStatus, AuthenticationMethod, IntegratedAccount, Region};
use serde_json::{Map, Value};

use super::super::backend::{Arg, Batch, Row, Statement, args};
use super::super::error::StorageError;
use super::super::event::AccountEvent;
use super::super::lock::AccountLock;
use super::super::model::{
    AccountFilter, AccountPatch, AccountRoute, NewAccount, Page, PageRequest,
};
use super::super::time;
use super::installs::{INSTALLS, install_route};
use super::scoped::Scoped;
use super::{Store, enum_text, new_id, parse_enum, require_text};

const ACCOUNTS: Scoped = Scoped {
    table: "integrated_accounts",
    kind: "integrated account",
    columns: "id, environment_id, environment_integration_id, tenant_id, context_enc, \
              authentication_method, status, last_error, last_action_result, region, \
              is_sandbox, object_store_context_keys, row_version, created_at, updated_at",
};
const TABLE: &str = ACCOUNTS.table;
/// How often a read-modify-write update retries after losing a race.
const MAX_RETRIES: usize = 64;

pub(super) fn aad(id: &str) -> String {
    format!("integrated_account.context:{id}")
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row,
    column: &str,
) -> Result<Option<T>, StorageError> {
    row.opt_text(column)?
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|_| StorageError::corrupt(TABLE, format!("`{column}` is not valid JSON")))
        })
        .transpose()
}

impl Store {
    fn account_from_row(&self, row: &Row) -> Result<(IntegratedAccount, i64), StorageError> {
        let id = row.text("id")?;
        let context = match self
            .cipher
            .decrypt_json(&row.text("context_enc")?, &aad(&id))?
        {
            Value::Object(map) => map,
            _ => return Err(StorageError::corrupt(TABLE, "`context` is not an object")),
        };
        let account = IntegratedAccount {
            tenant_id: row.text("tenant_id")?,
            environment_integration_id: row.text("environment_integration_id")?,
            environment_id: Some(row.text("environment_id")?),
            context,
            authentication_method: parse_enum::<AuthenticationMethod>(
                TABLE,
                "authentication_method",
                &row.text("authentication_method")?,
            )?,
            status: parse_enum::<AccountStatus>(TABLE, "status", &row.text("status")?)?,
            last_error: row.opt_text("last_error")?,
            last_action_result: json_column(row, "last_action_result")?,
            region: row
                .opt_text("region")?
                .map(|r| parse_enum::<Region>(TABLE, "region", &r))
                .transpose()?,
            is_sandbox: row.boolean("is_sandbox")?,
            object_store_context_keys: json_column(row, "object_store_context_keys")?,
            integration: None,
            created_at: time::column(TABLE, row.int("created_at")?)?,
            updated_at: time::column(TABLE, row.int("updated_at")?)?,
            id,
        };
        Ok((account, row.int("row_version")?))
    }

    /// The stored values of `account`'s columns after `id, environment_id`.
    fn account_values(&self, account: &IntegratedAccount) -> Result<Vec<Arg>, StorageError> {
        Ok(args![
            &account.environment_integration_id,
            &account.tenant_id,
            self.cipher
                .encrypt_json(&Value::Object(account.context.clone()), &aad(&account.id))?,
            enum_text(&account.authentication_method)?,
            enum_text(&account.status)?,
            account.last_error.clone(),
            account.last_action_result.as_ref().map(Value::to_string),
            account.region.as_ref().map(enum_text).transpose()?,
            account.is_sandbox,
            account
                .object_store_context_keys
                .as_ref()
                .map(|keys| serde_json::to_string(keys).unwrap_or_default()),
            time::to_micros(account.created_at),
            time::to_micros(account.updated_at)
        ])
    }

    async fn fetch_account(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<(IntegratedAccount, i64), StorageError> {
        self.account_from_row(&self.fetch_scoped(&ACCOUNTS, environment_id, id).await?)
    }

    /// Re-reads and re-applies `change` until the update wins against
    /// concurrent ones; `event`, when given, is queued in the same transaction
    /// as the winning update.
    async fn modify_account(
        &self,
        environment_id: &str,
        id: &str,
        change: impl Fn(&mut IntegratedAccount),
        event: Option<AccountEvent>,
    ) -> Result<IntegratedAccount, StorageError> {
        for _ in 0..MAX_RETRIES {
            let (mut account, row_version) = self.fetch_account(environment_id, id).await?;
            change(&mut account);
            account.updated_at = time::now();
            let mut values = self.account_values(&account)?;
            values.extend(args![id, environment_id, row_version]);
            let update = Statement::must_change(
                "UPDATE integrated_accounts SET environment_integration_id = $1, tenant_id = $2, \
                 context_enc = $3, authentication_method = $4, status = $5, last_error = $6, \
                 last_action_result = $7, region = $8, is_sandbox = $9, \
                 object_store_context_keys = $10, created_at = $11, updated_at = $12, \
                 row_version = row_version + 1 \
                 WHERE id = $13 AND environment_id = $14 AND row_version = $15",
                values,
            );
            if self
                .write_with_event(environment_id, update, event, &account)
                .await?
                == Batch::Committed
            {
                return Ok(account);
            }
            tokio::task::yield_now().await;
        }
        Err(StorageError::Conflict(format!(
            "integrated account `{id}` is being changed by too many writers; retry"
        )))
    }

    /// Runs `change` and, when `event` is given, the statement queueing it
    /// about `account`, in one transaction.
    async fn write_with_event(
        &self,
        environment_id: &str,
        change: Statement,
        event: Option<AccountEvent>,
        account: &IntegratedAccount,
    ) -> Result<Batch, StorageError> {
        let mut statements = vec![change];
        if let Some(event) = event {
            let (queue, _) = self
                .event_statement(environment_id, event.name(), &event.payload(account))
                .await?;
            statements.extend(queue);
        }
        self.backend.execute_atomically(statements).await
    }

    async fn check_install(
        &self,
        environment_id: &str,
        environment_integration_id: &str,
    ) -> Result<(), StorageError> {
        self.select_scoped(&INSTALLS, "id", environment_id, environment_integration_id)
            .await?;
        Ok(())
    }

    /// Creates (imports) an account of an installed integration of the
    /// environment, and queues `integrated_account:created` in the same
    /// transaction.
    pub async fn create_account(
        &self,
        environment_id: &str,
        new: NewAccount,
    ) -> Result<IntegratedAccount, StorageError> {
        require_text("tenant_id", &new.tenant_id)?;
        let now = time::now();
        let account = IntegratedAccount {
            id: new_id(),
            tenant_id: new.tenant_id,
            environment_integration_id: new.environment_integration_id,
            environment_id: Some(environment_id.to_owned()),
            context: new.context,
            authentication_method: new.authentication_method,
            status: new.status,
            last_error: None,
            last_action_result: None,
            region: new.region,
            is_sandbox: new.is_sandbox,
            object_store_context_keys: None,
            integration: None,
            created_at: now,
            updated_at: now,
        };
        self.put_account(environment_id, account.clone(), Some(AccountEvent::Created))
            .await?;
        Ok(account)
    }

    /// Stores `account` as given (insert, or replace the one with its id in the
    /// environment). `account.environment_id`, if set, must be `environment_id`.
    /// `event`, when given, is queued in the same transaction.
    pub async fn put_account(
        &self,
        environment_id: &str,
        account: IntegratedAccount,
        event: Option<AccountEvent>,
    ) -> Result<(), StorageError> {
        require_text("id", &account.id)?;
        require_text("tenant_id", &account.tenant_id)?;
        if account
            .environment_id
            .as_deref()
            .is_some_and(|e| e != environment_id)
        {
            return Err(StorageError::InvalidInput(
                "the account's `environment_id` is not the environment acted in".into(),
            ));
        }
        self.check_install(environment_id, &account.environment_integration_id)
            .await?;
        let mut values = args![&account.id, environment_id];
        values.extend(self.account_values(&account)?);
        let upsert = Statement::must_change(
            format!(
                "INSERT INTO integrated_accounts ({}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14) \
                     ON CONFLICT (id) DO UPDATE SET \
                     environment_integration_id = excluded.environment_integration_id, \
                     tenant_id = excluded.tenant_id, context_enc = excluded.context_enc, \
                     authentication_method = excluded.authentication_method, \
                     status = excluded.status, last_error = excluded.last_error, \
                     last_action_result = excluded.last_action_result, region = excluded.region, \
                     is_sandbox = excluded.is_sandbox, \
                     object_store_context_keys = excluded.object_store_context_keys, \
                     updated_at = excluded.updated_at, \
                     row_version = integrated_accounts.row_version + 1 \
                     WHERE integrated_accounts.environment_id = excluded.environment_id",
                ACCOUNTS.columns
            ),
            values,
        );
        let written = self
            .write_with_event(environment_id, upsert, event, &account)
            .await?;
        if written != Batch::Committed {
            return Err(StorageError::Conflict(format!(
                "an integrated account with id `{}` exists in another environment",
                account.id
            )));
        }
        Ok(())
    }

    /// An account (context decrypted; `integration` not embedded).
    pub async fn get_account(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<IntegratedAccount, StorageError> {
        Ok(self.fetch_account(environment_id, id).await?.0)
    }

    /// Accounts matching `filter`, oldest first, a page at a time.
    pub async fn list_accounts(
        &self,
        environment_id: &str,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> Result<Page<IntegratedAccount>, StorageError> {
        let mut filters: Vec<(&str, Arg)> = Vec::new();
        if let Some(tenant) = &filter.tenant_id {
            filters.push(("tenant_id", tenant.into()));
        }
        if let Some(install) = &filter.environment_integration_id {
            filters.push(("environment_integration_id", install.into()));
        }
        if let Some(status) = &filter.status {
            filters.push(("status", enum_text(status)?.into()));
        }
        if let Some(sandbox) = filter.is_sandbox {
            filters.push(("is_sandbox", sandbox.into()));
        }
        self.list_scoped(&ACCOUNTS, environment_id, filters, page, |row| {
            Ok(self.account_from_row(row)?.0)
        })
        .await
    }

    /// Applies `patch` and queues `integrated_account:updated` in the same
    /// transaction.
    pub async fn update_account(
        &self,
        environment_id: &str,
        id: &str,
        patch: AccountPatch,
    ) -> Result<IntegratedAccount, StorageError> {
        self.modify_account(
            environment_id,
            id,
            |account| {
                if let Some(context) = &patch.merge_context {
                    account.context.extend(context.clone());
                }
                if let Some(status) = patch.status {
                    account.status = status;
                }
                if let Some(last_error) = &patch.last_error {
                    account.last_error = last_error.clone();
                }
                if let Some(result) = &patch.last_action_result {
                    account.last_action_result = result.clone();
                }
                if let Some(region) = patch.region {
                    account.region = region;
                }
                if let Some(sandbox) = patch.is_sandbox {
                    account.is_sandbox = sandbox;
                }
            },
            Some(AccountEvent::Updated),
        )
        .await
    }

    /// Sets the top-level context keys in `patch`, keeping the others. Safe
    /// against concurrent updates of the same account (no lost keys).
    pub async fn update_context(
        &self,
        environment_id: &str,
        id: &str,
        patch: Map<String, Value>,
    ) -> Result<IntegratedAccount, StorageError> {
        self.modify_account(
            environment_id,
            id,
            |account| {
                account.context.extend(patch.clone());
            },
            None,
        )
        .await
    }

    /// Sets status and `last_error`; `event`, when given, is queued in the
    /// same transaction.
    pub async fn set_account_status(
        &self,
        environment_id: &str,
        id: &str,
        status: AccountStatus,
        last_error: Option<String>,
        event: Option<AccountEvent>,
    ) -> Result<IntegratedAccount, StorageError> {
        self.modify_account(
            environment_id,
            id,
            |account| {
                account.status = status;
                account.last_error = last_error.clone();
            },
            event,
        )
        .await
    }

    /// Deletes an account and queues `integrated_account:deleted` in the same
    /// transaction.
    pub async fn delete_account(&self, environment_id: &str, id: &str) -> Result<(), StorageError> {
        let (account, _) = self.fetch_account(environment_id, id).await?;
        let delete = Statement::must_change(
            "DELETE FROM integrated_accounts WHERE id = $1 AND environment_id = $2",
            args![id, environment_id],
        );
        let batch = self
            .write_with_event(
                environment_id,
                delete,
                Some(AccountEvent::Deleted),
                &account,
            )
            .await?;
        if batch != Batch::Committed {
            return Err(ACCOUNTS.not_found(id));
        }
        Ok(())
    }

    /// The account's install and the revisions of the install and its
    /// integration, in one query that decrypts nothing: what a request needs
    /// to find (or reuse) the compiled install. Not found when the account is
    /// not in the environment.
    pub async fn account_route(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<AccountRoute, StorageError> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                "SELECT a.environment_integration_id, e.integration_id, e.is_enabled, \
                 e.updated_at AS install_updated_at, i.version AS integration_version, \
                 env.log_bodies \
                 FROM integrated_accounts a \
                 JOIN environments env ON env.id = a.environment_id \
                 JOIN environment_integrations e \
                   ON e.id = a.environment_integration_id AND e.environment_id = a.environment_id \
                 JOIN integrations i \
                   ON i.id = e.integration_id AND i.environment_id = e.environment_id \
                 WHERE a.id = $1 AND a.environment_id = $2",
                args![id, environment_id],
            )
            .await?;
        let row = ACCOUNTS.one(rows, id)?;
        Ok(AccountRoute {
            account_id: id.to_owned(),
            install: install_route(&row, row.text("environment_integration_id")?)?,
        })
    }

    /// The account's `unified_model_override` (`{model: {resource: {method:
    /// config}}}`, validated when set), `None` when it has none.
    pub async fn account_unified_override(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<Value>, StorageError> {
        let row = self
            .select_scoped(&ACCOUNTS, "unified_model_override", environment_id, id)
            .await?;
        json_column(&row, "unified_model_override")
    }

    /// The `unified_model_override` of each of the accounts `ids` that has
    /// one, in one query (for a page of accounts).
    pub async fn account_unified_overrides(
        &self,
        environment_id: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Value>, StorageError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let placeholders: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
        let mut values = args![environment_id];
        values.extend(ids.iter().map(|id| Arg::from(*id)));
        let rows = self
            .fetch_map(
                TABLE,
                &format!(
                    "SELECT id, unified_model_override FROM integrated_accounts \
                     WHERE environment_id = $1 AND unified_model_override IS NOT NULL \
                     AND id IN ({})",
                    placeholders.join(", ")
                ),
                values,
                |row| {
                    let value = json_column::<Value>(row, "unified_model_override")?;
                    Ok((row.text("id")?, value))
                },
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, value)| Some((id, value?)))
            .collect())
    }

    /// Sets (or, with `None`, removes) the account's `unified_model_override`,
    /// validated by the caller; other fields are kept.
    pub async fn set_account_unified_override(
        &self,
        environment_id: &str,
        id: &str,
        value: Option<&Value>,
    ) -> Result<(), StorageError> {
        self.change_scoped(
            &ACCOUNTS,
            id,
            "UPDATE integrated_accounts SET unified_model_override = $1, \
             row_version = row_version + 1 WHERE id = $2 AND environment_id = $3",
            args![value.map(Value::to_string), id, environment_id],
        )
        .await
    }

    /// *System.* The environment of an account, for adapters that only know its id.
    pub async fn account_environment(&self, id: &str) -> Result<Option<String>, StorageError> {
        self.environment_of(&ACCOUNTS, id).await
    }

    /// Takes the account's refresh lock, exclusive across processes sharing the
    /// database (see [`lock`](crate::store::lock)). Hold it while refreshing tokens.
    pub async fn lock_account(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<AccountLock, StorageError> {
        self.select_scoped(&ACCOUNTS, "id", environment_id, id)
            .await?;
        self.backend.lock(id).await
    }
}
