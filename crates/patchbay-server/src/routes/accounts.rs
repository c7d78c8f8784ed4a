//! `/integrated-account` and `/integrated-account/{id}`: tenants' connections.
//!
//! Import bodies are validated with [`validate_import_request`] (422 with
//! paths). Answers carry the account with its `context` reduced to non-secret
//! keys (see [`crate::redact`]).

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use patchbay::config::{AccountStatus, IntegratedAccount, Region, validate_import_request};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::events::{AccountEvent, emit};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::redact::{account_json, password_fields};
use crate::state::AppState;
use crate::store::{AccountFilter, AccountPatch, NewAccount};

/// The body of `PATCH /integrated-account/{id}`. `context` keys are merged into
/// the stored context (the caller never sees the secret keys, so replacing the
/// whole context would lose them); `null` clears `region` and `last_error`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// Context keys to set.
    #[serde(default)]
    pub context: Option<Map<String, Value>>,
    /// New status.
    #[serde(default)]
    pub status: Option<AccountStatus>,
    /// New region.
    #[serde(default, deserialize_with = "nullable")]
    pub region: Option<Option<Region>>,
    /// New sandbox flag.
    #[serde(default)]
    pub is_sandbox: Option<bool>,
    /// New last error.
    #[serde(default, deserialize_with = "nullable")]
    pub last_error: Option<Option<String>>,
}

/// Password-type credential fields per environment integration, looked up once.
struct Redactor<'a> {
    state: &'a AppState,
    env: &'a str,
    fields: HashMap<String, HashSet<String>>,
}

impl<'a> Redactor<'a> {
    fn new(state: &'a AppState, env: &'a str) -> Self {
        Self {
            state,
            env,
            fields: HashMap::new(),
        }
    }

    /// The account as answered, without secrets.
    async fn json(&mut self, account: &IntegratedAccount) -> ApiResult<Value> {
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
        Ok(account_json(account, &fields))
    }
}

fn parse_status(text: &str) -> ApiResult<AccountStatus> {
    serde_json::from_value(Value::String(text.to_owned())).map_err(|_| {
        ApiError::bad_request(format!(
            "the query parameter `status` must be one of active, connecting, \
             post_install_error, validation_error, needs_reauth, not `{text}`"
        ))
    })
}

/// `GET /integrated-account` with filters `tenant_id`,
/// `environment_integration_id`, `status`, `is_sandbox`, and `limit` /
/// `next_cursor` → `{result, next_cursor}`.
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let filter = AccountFilter {
        tenant_id: query.get("tenant_id").map(str::to_owned),
        environment_integration_id: query.get("environment_integration_id").map(str::to_owned),
        status: query.get("status").map(parse_status).transpose()?,
        is_sandbox: query.bool("is_sandbox")?,
    };
    let page = state
        .store
        .list_accounts(&env, &filter, &query.page()?)
        .await?;
    let mut redactor = Redactor::new(&state, &env);
    let mut result = Vec::with_capacity(page.result.len());
    for account in &page.result {
        result.push(redactor.json(account).await?);
    }
    Ok(Json(
        json!({"result": result, "next_cursor": page.next_cursor}),
    ))
}

/// `POST /integrated-account`: imports an account with existing credentials
/// (Truto's import body) → 201 with the account (status `active`, region
/// `wnam` unless given).
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    let request = validate_import_request(&body).map_err(|errors| {
        ApiError::from_validation("the import request is invalid", None, &errors)
    })?;
    let account = state
        .store
        .create_account(
            &env,
            NewAccount {
                tenant_id: request.tenant_id,
                environment_integration_id: request.environment_integration_id,
                context: request.context,
                authentication_method: request.authentication_method,
                status: AccountStatus::Active,
                region: Some(request.region.unwrap_or(Region::Wnam)),
                is_sandbox: request.is_sandbox.unwrap_or(false),
            },
        )
        .await?;
    emit(&*state.store, &env, AccountEvent::Created, &account).await;
    let body = Redactor::new(&state, &env).json(&account).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /integrated-account/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let account = state.store.get_account(&env, &id).await?;
    Ok(Json(Redactor::new(&state, &env).json(&account).await?))
}

/// `PATCH /integrated-account/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAccount>,
) -> ApiResult<Json<Value>> {
    let mut account = state.store.get_account(&env, &id).await?;
    if let Some(context) = body.context {
        account = state.store.update_context(&env, &id, context).await?;
    }
    let patch = AccountPatch {
        context: None,
        status: body.status,
        last_error: body.last_error,
        last_action_result: None,
        region: body.region,
        is_sandbox: body.is_sandbox,
    };
    if patch != AccountPatch::default() {
        account = state.store.update_account(&env, &id, patch).await?;
    }
    emit(&*state.store, &env, AccountEvent::Updated, &account).await;
    Ok(Json(Redactor::new(&state, &env).json(&account).await?))
}

/// `DELETE /integrated-account/{id}` → `{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let account = state.store.get_account(&env, &id).await?;
    state.store.delete_account(&env, &id).await?;
    emit(&*state.store, &env, AccountEvent::Deleted, &account).await;
    Ok(deleted(&id))
}
