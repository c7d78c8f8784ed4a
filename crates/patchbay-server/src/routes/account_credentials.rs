//! `POST /integrated-account/token` (a short-lived token for one account, see
//! [`crate::account_tokens`]) and `PATCH /integrated-account/{id}/credentials` (new
//! credentials for an account, connected again).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use patchbay::config::AccountStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::accounts::Redactor;
use super::created;
use super::responses::{AuthedErrors, NotFoundErrors, ValidationErrors};
use super::views::AccountView;
use crate::account_tokens;
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::AccountEvent;

/// The body of `POST /integrated-account/token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account the token acts for.
    pub integrated_account_id: String,
}

/// `POST /integrated-account/token`: the token, valid for 15 minutes.
#[derive(Serialize, ToSchema)]
#[schema(as = IntegratedAccountToken)]
pub struct AccountTokenView {
    /// `Authorization: Bearer <token>` on `/proxy` and `/unified` for this account only.
    pub integrated_account_token: String,
    /// When it stops working (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// `POST /integrated-account/token {integrated_account_id}` → 201 with the token.
#[utoipa::path(
    post,
    path = "/integrated-account/token",
    operation_id = "create_integrated_account_token",
    summary = "Create an integrated-account token",
    description = "A bearer token valid for 15 minutes on `/proxy/...` and `/unified/...` \
        (not the `meta` routes) for this account only: the account is implied, another \
        `integrated_account_id` is a 403, and every other route answers 403. For a browser \
        or another client that must not hold an API token. Needs an API token.",
    tag = "integrated-accounts",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token and when it expires.", body = AccountTokenView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn create_token(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let account = state
        .store
        .get_account(&env, &body.integrated_account_id)
        .await?;
    let (token, scope) = account_tokens::issue(&state.store, &env, &account.id, Utc::now())?;
    Ok(created(AccountTokenView {
        integrated_account_token: token,
        expires_at: scope.expires(),
    }))
}

/// The body of `PATCH /integrated-account/{id}/credentials`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredentials {
    /// Context keys to set (the others are kept): a new API key, new OAuth tokens under
    /// `oauth.token`, ...
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
}

/// `PATCH /integrated-account/{id}/credentials {context}` → the account, connected again.
#[utoipa::path(
    patch,
    path = "/integrated-account/{id}/credentials",
    operation_id = "update_integrated_account_credentials",
    summary = "Replace an account's credentials",
    description = "Merges `context` into the account's context (its credentials: a new API key, \
        tokens obtained elsewhere), forgets what the token manager remembered of the old \
        grant, and connects the account again as the connect page would: the integration's \
        validation and post-install actions run and the answer has the resulting `status` \
        (`active`, or `validation_error` / `post_install_error` with `last_error`). An \
        account that becomes active again is announced with `integrated_account:reactivated`. \
        The answer never carries the credentials.",
    tag = "integrated-accounts",
    params(("id" = String, Path, description = "The integrated account's id.")),
    request_body = NewCredentials,
    responses(
        (status = 200, description = "The account after connecting, without credentials.", body = AccountView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update_credentials(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewCredentials>,
) -> ApiResult<Json<AccountView>> {
    if body.context.is_empty() {
        return Err(ApiError::invalid(
            "the credentials are invalid",
            vec![FieldError {
                path: "context".into(),
                message: "must set at least one key".into(),
            }],
        ));
    }
    let mut account = state.store.get_account(&env, &id).await?;
    let previous = account.status;
    account.context.extend(body.context);
    account.status = AccountStatus::Connecting;
    account.last_error = None;
    state
        .store
        .put_account(&env, account, Some(AccountEvent::Updated))
        .await?;
    let account = crate::connect::connect_account(&state, &env, &id, Some(previous)).await?;
    Ok(Json(Redactor::new(&state, &env).view(account).await?))
}
