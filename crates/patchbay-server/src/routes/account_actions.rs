//! `POST /integrated-account/refresh-credentials` and
//! `POST /integrated-account/run-post-install-actions`: actions on one account
//! of the environment, named by `{id}` in the body (Truto's shape).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use patchbay::Error as FacadeError;
use serde::Deserialize;

use super::accounts::Redactor;
use super::responses::{AuthedErrors, NotFoundErrors, ValidationErrors};
use super::views::{AccountView, Refreshed};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The body of both actions.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountId {
    /// The integrated account.
    pub id: String,
}

/// `POST /integrated-account/refresh-credentials` `{id}` → `{success: true}`
/// once new tokens are stored.
///
/// # Errors
///
/// 404 for an unknown account; 409 when it has nothing to refresh (`api_key`,
/// or `oauth2` without a refresh token); 401 when the provider refuses the
/// grant (the account is now `needs_reauth` and
/// `integrated_account:authentication_error` is queued); 502 when the
/// provider cannot be reached or fails.
#[utoipa::path(
    post,
    path = "/integrated-account/refresh-credentials",
    operation_id = "refresh_credentials",
    summary = "Refresh an account's credentials",
    description = "`{\"id\": \"…\"}` → `{\"success\": true}` once new tokens are stored: the refresh token grant for `oauth2`, the grant again for `oauth2_client_credentials` and `keka_oauth`, whether or not the current token expires soon. Concurrent refreshes of one account make one token request.",
    tag = "integrated-accounts",
    request_body = AccountId,
    responses(
        (status = 200, description = "New tokens are stored.", body = Refreshed),
        ValidationErrors,
        (status = 401, description = "Missing or invalid API token; or the provider refused the grant (the account \
            is now `needs_reauth` and `integrated_account:authentication_error` is queued).", body = ErrorBody),
        NotFoundErrors,
        (status = 409, description = "Nothing to refresh (`api_key`, or `oauth2` without a refresh token), or a disabled install.", body = ErrorBody),
        (status = 502, description = "The provider cannot be reached or fails.", body = ErrorBody),
    ),
)]
pub async fn refresh_credentials(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<AccountId>,
) -> ApiResult<Json<Refreshed>> {
    let patchbay = state.runtimes.for_account(&env, &body.id).await?;
    match patchbay.refresh_credentials(&body.id).await {
        Ok(()) => Ok(Json(Refreshed { success: true })),
        Err(error @ FacadeError::CannotRefresh { .. }) => {
            Err(ApiError::new(StatusCode::CONFLICT, error.to_string()))
        }
        Err(FacadeError::Auth(error)) if error.requires_reauth() => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "the provider refused to refresh the credentials; the account needs to be reconnected: {error}"
            ),
        )),
        Err(FacadeError::Auth(error)) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("refreshing the credentials failed: {error}"),
        )),
        Err(error) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error.to_string(),
        )),
    }
}

/// `POST /integrated-account/run-post-install-actions` `{id}`: runs the
/// config's `post_install` and `validation` actions again, as connecting
/// does, and answers the account with its new status (`active`,
/// `post_install_error` or `validation_error`, with `last_error`). The
/// matching `integrated_account:*` event is queued.
///
/// # Errors
///
/// 404 for an unknown account; 409 for a disabled integration.
#[utoipa::path(
    post,
    path = "/integrated-account/run-post-install-actions",
    operation_id = "run_post_install_actions",
    summary = "Run an account's post-install actions",
    description = "`{\"id\": \"…\"}` runs the config's `post_install` then `validation` actions, as connecting does, and answers the account with its new status: `active`, or `post_install_error` / `validation_error` with `last_error`. The matching `integrated_account:*` event is queued.",
    tag = "integrated-accounts",
    request_body = AccountId,
    responses(
        (status = 200, description = "The account with its new status (`active`, or `post_install_error` / \
            `validation_error` with `last_error`); the matching `integrated_account:*` event is queued.",
            body = AccountView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The install is disabled.", body = ErrorBody),
    ),
)]
pub async fn run_post_install_actions(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<AccountId>,
) -> ApiResult<Json<AccountView>> {
    let patchbay = state.runtimes.for_account(&env, &body.id).await?;
    patchbay.connect(&body.id).await.map_err(|e| {
        tracing::error!(account = %body.id, error = %e, "running post-install actions failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "running the post-install actions failed; see the server log",
        )
    })?;
    Ok(Json(Redactor::lookup(&state, &env, &body.id).await?))
}
