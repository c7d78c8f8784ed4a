//! `/integrated-account` and `/integrated-account/{id}`: tenants' connections.
//!
//! Import bodies are validated with [`validate_import_request`] (422 with
//! paths). Answers carry the account with its `context` reduced to non-secret
//! keys ([`AccountView`]).

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use patchbay::config::{IntegratedAccount, validate_import_request};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{
    AccountPage, AccountStatus, AccountView, AuthenticationMethod, Deleted, Region,
};
use super::{created, deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::redact::password_fields;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountPatch, NewAccount};

// The body is read as JSON and checked against the config crate's schema
// of the import body (`validate_import_request`, every problem with its
// path), then converted field by field into this type
// (`ImportAccount::validate`). The `serde` attribute only tells the schema
// that unknown keys are refused. The doc comment is the schema's description.
/// The body of `POST /integrated-account`: Truto's import body.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "tenant_id": "acme", "environment_integration_id": "ei_1", "authentication_method": "api_key",
    "context": {"subdomain": "acme", "email": "agent@acme.test", "api_token": "…"},
    "region": "wnam", "is_sandbox": false
}))]
pub struct ImportAccount {
    /// The tenant.
    pub tenant_id: String,
    /// The installed integration.
    pub environment_integration_id: String,
    /// Credentials and variables; OAuth formats put tokens in
    /// `oauth.token` (`{access_token, refresh_token, expires_in}`).
    #[schema(value_type = Object, required = false)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Data region (default `wnam`).
    pub region: Option<Region>,
    /// Create a sandbox account (default false).
    pub is_sandbox: Option<bool>,
}

impl ImportAccount {
    /// The import body `body`, checked.
    ///
    /// # Errors
    ///
    /// 422 with every problem of the body and its path.
    pub fn validate(body: &Value) -> ApiResult<Self> {
        let request = validate_import_request(body).map_err(|errors| {
            ApiError::from_validation("the import request is invalid", None, &errors)
        })?;
        let patchbay::config::ImportAccountRequest {
            tenant_id,
            environment_integration_id,
            context,
            authentication_method,
            region,
            is_sandbox,
        } = request;
        Ok(Self {
            tenant_id,
            environment_integration_id,
            context,
            authentication_method,
            region,
            is_sandbox,
        })
    }

    /// The account to create: `active` (importing trusts the credentials
    /// and runs no actions), region `wnam` and not a sandbox unless given.
    pub fn into_new_account(self) -> NewAccount {
        NewAccount {
            tenant_id: self.tenant_id,
            environment_integration_id: self.environment_integration_id,
            context: self.context,
            authentication_method: self.authentication_method,
            status: patchbay::config::AccountStatus::Active,
            region: Some(self.region.unwrap_or(Region::Wnam)),
            is_sandbox: self.is_sandbox.unwrap_or(false),
        }
    }
}

/// The body of `PATCH /integrated-account/{id}`. `context` keys are merged into
/// the stored context (the caller never sees the secret keys, so replacing the
/// whole context would lose them); `null` clears `region` and `last_error`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// Context keys to set.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Map<String, Value>>,
    /// New status.
    #[serde(default)]
    pub status: Option<AccountStatus>,
    /// New region.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Region>)]
    pub region: Option<Option<Region>>,
    /// New sandbox flag.
    #[serde(default)]
    pub is_sandbox: Option<bool>,
    /// New last error.
    #[serde(default, deserialize_with = "nullable")]
    pub last_error: Option<Option<String>>,
    /// The account's unified mapping overrides, `{model: {resource: {method:
    /// config}}}`, replaced whole (`null` removes them); validated, `400`
    /// with every problem's path under `unified_model_override`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub unified_model_override: Option<Option<Value>>,
}

impl UpdateAccount {
    /// The new `unified_model_override` (`Some(None)` removes it), checked.
    ///
    /// # Errors
    ///
    /// 400 listing every problem of the override, paths under `unified_model_override`.
    fn take_unified_override(&mut self) -> ApiResult<Option<Option<Value>>> {
        let Some(value) = self.unified_model_override.take() else {
            return Ok(None);
        };
        if let Some(value) = &value {
            patchbay::unified::validate_account_override(value).map_err(|errors| {
                ApiError::rejected(
                    "the unified model override is invalid",
                    Some("unified_model_override"),
                    &errors,
                )
            })?;
        }
        Ok(Some(value))
    }
}

impl From<UpdateAccount> for AccountPatch {
    fn from(body: UpdateAccount) -> Self {
        Self {
            merge_context: body.context,
            status: body.status,
            last_error: body.last_error,
            last_action_result: None,
            region: body.region,
            is_sandbox: body.is_sandbox,
        }
    }
}

/// Builds [`AccountView`]s, looking up the password-type credential fields of
/// each environment integration once.
pub(crate) struct Redactor<'a> {
    state: &'a AppState,
    env: &'a str,
    fields: HashMap<String, HashSet<String>>,
    /// The accounts' `unified_model_override`s read ahead for a page
    /// ([`preload_unified`](Self::preload_unified)); `None`: read per view.
    unified: Option<HashMap<String, Value>>,
}

impl<'a> Redactor<'a> {
    pub(crate) fn new(state: &'a AppState, env: &'a str) -> Self {
        Self {
            state,
            env,
            fields: HashMap::new(),
            unified: None,
        }
    }

    /// Reads the `unified_model_override`s of `accounts` in one query, for
    /// their views.
    ///
    /// # Errors
    ///
    /// As the store's query.
    pub(crate) async fn preload_unified(
        &mut self,
        accounts: &[IntegratedAccount],
    ) -> ApiResult<()> {
        let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        self.unified = Some(
            self.state
                .store
                .account_unified_overrides(self.env, &ids)
                .await?,
        );
        Ok(())
    }

    /// The account as answered, without secrets.
    ///
    /// # Errors
    ///
    /// As the store's lookups of the account's install and integration.
    pub(crate) async fn view(&mut self, account: IntegratedAccount) -> ApiResult<AccountView> {
        let install_id = &account.environment_integration_id;
        if !self.fields.contains_key(install_id) {
            let install = self
                .state
                .store
                .get_environment_integration(self.env, install_id)
                .await?;
            let integration = self
                .state
                .store
                .get_integration(self.env, &install.integration_id)
                .await?;
            let override_value = install.override_.map(Value::Object).unwrap_or(Value::Null);
            let config = patchbay::config::apply_override(&integration.config, &override_value);
            self.fields
                .insert(install_id.clone(), password_fields(&config));
        }
        let fields = self.fields.get(install_id).cloned().unwrap_or_default();
        let unified = match &mut self.unified {
            Some(preloaded) => preloaded.remove(&account.id),
            None => {
                self.state
                    .store
                    .account_unified_override(self.env, &account.id)
                    .await?
            }
        };
        Ok(AccountView::redacted(account, &fields).with_unified_override(unified))
    }

    /// One account, looked up and answered without secrets.
    ///
    /// # Errors
    ///
    /// 404 when the account is not in the environment.
    pub(crate) async fn lookup(state: &AppState, env: &str, id: &str) -> ApiResult<AccountView> {
        let account = state.store.get_account(env, id).await?;
        Redactor::new(state, env).view(account).await
    }
}

/// The filters of `GET /integrated-account`.
fn account_filter(query: &QueryParams) -> ApiResult<AccountFilter> {
    let status = query.get("status").map(|text| {
        serde_json::from_value::<AccountStatus>(Value::String(text.to_owned())).map_err(|_| {
            ApiError::bad_request(format!(
                "the query parameter `status` must be one of active, connecting, \
                 post_install_error, validation_error, needs_reauth, not `{text}`"
            ))
        })
    });
    Ok(AccountFilter {
        tenant_id: query.get("tenant_id").map(str::to_owned),
        environment_integration_id: query.get("environment_integration_id").map(str::to_owned),
        status: status.transpose()?,
        is_sandbox: query.bool("is_sandbox")?,
    })
}

/// `GET /integrated-account` with filters `tenant_id`,
/// `environment_integration_id`, `status`, `is_sandbox`, and `limit` /
/// `next_cursor` → `{result, next_cursor}`.
#[utoipa::path(
    get,
    path = "/integrated-account",
    operation_id = "list_integrated_accounts",
    summary = "List integrated accounts",
    description = "The environment's accounts, a page at a time; the filters are optional and combined with AND. Contexts are answered with their non-secret keys only.",
    tag = "integrated-accounts",
    params(
        ("tenant_id" = Option<String>, Query, description = "Only this tenant's accounts."),
        ("environment_integration_id" = Option<String>, Query, description = "Only accounts of this install."),
        ("status" = Option<AccountStatus>, Query, description = "Only accounts in this state."),
        ("is_sandbox" = Option<bool>, Query, description = "`true` or `false`: only sandbox or only live accounts."),
        PageParams,
    ),
    responses(
        (status = 200, description = "One page of the accounts matching every filter given, oldest first, context without secrets.", body = AccountPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AccountPage>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let filter = account_filter(&query)?;
    let page = state
        .store
        .list_accounts(&env, &filter, &query.page()?)
        .await?;
    let mut redactor = Redactor::new(&state, &env);
    redactor.preload_unified(&page.result).await?;
    let mut result = Vec::with_capacity(page.result.len());
    for account in page.result {
        result.push(redactor.view(account).await?);
    }
    Ok(Json(AccountPage {
        result,
        next_cursor: page.next_cursor,
    }))
}

/// `POST /integrated-account`: imports an account with existing credentials
/// (Truto's import body) → 201 with the account (status `active`, region
/// `wnam` unless given).
#[utoipa::path(
    post,
    path = "/integrated-account",
    operation_id = "import_integrated_account",
    summary = "Import an integrated account",
    description = "Truto's import body, validated (`422` with every problem and its path). `region` defaults to `wnam`. The account is created `active`: importing trusts the credentials you bring and runs no actions (see `POST /integrated-account/run-post-install-actions`). Queues `integrated_account:created`. Answers `201` with the account, secrets left out.",
    tag = "integrated-accounts",
    request_body(
        content = ImportAccount,
        description = "Truto's import body. The account is created `active` with the credentials \
            given; no actions run (see `POST /integrated-account/run-post-install-actions`). \
            Queues `integrated_account:created`.",
    ),
    responses(
        (status = 201, description = "The imported account, context without secrets.", body = AccountView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    let account = ImportAccount::validate(&body)?.into_new_account();
    let account = state.store.create_account(&env, account).await?;
    Ok(created(Redactor::new(&state, &env).view(account).await?))
}

/// `GET /integrated-account/{id}`.
#[utoipa::path(
    get,
    path = "/integrated-account/{id}",
    operation_id = "get_integrated_account",
    summary = "Get an integrated account",
    description = "One account, its context without secrets.",
    tag = "integrated-accounts",
    params(("id" = String, Path, description = "The integrated account's id.")),
    responses(
        (status = 200, description = "The account, context without secrets.", body = AccountView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(Redactor::lookup(&state, &env, &id).await?))
}

/// `PATCH /integrated-account/{id}`.
#[utoipa::path(
    patch,
    path = "/integrated-account/{id}",
    operation_id = "update_integrated_account",
    summary = "Update an integrated account",
    description = "`context` keys are merged into the stored context (set keys, keep the others); `null` clears `region` and `last_error`. `unified_model_override` replaces the account's unified mapping overrides (`null` removes them); an invalid one answers `400` with every problem and its path, and nothing changes. Queues `integrated_account:updated`.",
    tag = "integrated-accounts",
    params(("id" = String, Path, description = "The integrated account's id.")),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The changed account, context without secrets; queues `integrated_account:updated`.", body = AccountView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<UpdateAccount>,
) -> ApiResult<Json<AccountView>> {
    if let Some(unified) = body.take_unified_override()? {
        state
            .store
            .set_account_unified_override(&env, &id, unified.as_ref())
            .await?;
    }
    // One transaction writes the change and queues `integrated_account:updated`.
    let account = state.store.update_account(&env, &id, body.into()).await?;
    Ok(Json(Redactor::new(&state, &env).view(account).await?))
}

/// `DELETE /integrated-account/{id}` → `{id}`.
#[utoipa::path(
    delete,
    path = "/integrated-account/{id}",
    operation_id = "delete_integrated_account",
    summary = "Delete an integrated account",
    description = "Revokes the account's OAuth tokens at the provider first when its credential has `auth.revokePath` (a failed revocation is logged; the delete goes on). Answers `{\"id\": \"…\"}`; queues `integrated_account:deleted`.",
    tag = "integrated-accounts",
    params(("id" = String, Path, description = "The integrated account's id.")),
    responses(
        (status = 200, description = "Deleted; queues `integrated_account:deleted`.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    revoke_before_delete(&state, &env, &id).await?;
    // One transaction deletes the account and queues `integrated_account:deleted`.
    state.store.delete_account(&env, &id).await?;
    Ok(deleted(id))
}

/// Revokes the account's OAuth tokens at the provider when its credential has
/// `auth.revokePath` (RFC 7009). A revocation that fails is logged and the
/// delete goes on: the provider's side cannot be allowed to keep an account
/// the customer asked to remove.
///
/// # Errors
///
/// 404 when the account is not in the environment.
async fn revoke_before_delete(state: &AppState, env: &str, id: &str) -> ApiResult<()> {
    let patchbay = match state.runtimes.for_account(env, id).await {
        Ok(patchbay) => patchbay,
        Err(error) if error.status() == StatusCode::NOT_FOUND => return Err(error),
        Err(error) => {
            tracing::warn!(account = %id, %error, "cannot load the account's install to revoke its tokens; deleting it anyway");
            return Ok(());
        }
    };
    match patchbay.revoke_credentials(id).await {
        Ok(revocation) => {
            tracing::debug!(account = %id, ?revocation, "credentials revoked before delete");
        }
        Err(error) => {
            tracing::warn!(account = %id, %error, "revoking the account's tokens failed; deleting it anyway");
        }
    }
    Ok(())
}
