//! The per-account routes: `POST` and `GET` `/integrated-account-webhook/{id}`.

use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::response::Response;
use patchbay::webhook::Handled;

use super::events::{EventOwner, queue};
use super::request::ProviderRequest;
use super::response::{facade_error, handshake_response};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::StorageError;

/// `POST /integrated-account-webhook/{integrated_account_id}`: a provider's
/// webhook for one account (see the [module docs](super)).
///
/// # Errors
///
/// 404 unknown account or no `webhook` config, 409 disabled install, 413 body
/// too large, 401 verification failed, 422/500 as in the [module docs](super).
#[utoipa::path(
    post,
    path = "/integrated-account-webhook/{integrated_account_id}",
    tag = "inbound-webhooks",
    operation_id = "account_webhook",
    summary = "Inbound webhook for one account",
    description = "A provider's webhook for one account (a webhook registered per connection). No API token: the call is verified by the integration's `webhook.signature_verification`, with the install's override applied and the account's context over the host variables. `handle_verification` may answer a handshake (nothing is queued); otherwise `payload_transform` turns the body into events, each queued for the environment's outbound webhooks as `record:<action>`.",
    security(()),
    params(("integrated_account_id" = String, Path, description = "The account the webhook is for; it names the environment.")),
    request_body(
        content = String,
        content_type = "*/*",
        description = "The provider's raw body (at most 1 MiB), verified and transformed exactly as sent.",
    ),
    responses(
        (status = 200, description = "The events are queued, or a handshake (`handle_verification`) is answered with \
            its own status, headers and body.", body = crate::openapi::InboundAccepted),
        (status = 401, description = "Verification failed; the message names the check, never a secret or a signature.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such account, or its config (with the install's override) has no `webhook` key.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The account's install is disabled.", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB.", body = crate::openapi::ErrorBody),
        (status = 422, description = "An expression (`handle_verification`, `payload_transform`) failed on this request or returned the wrong shape.", body = crate::openapi::ErrorBody),
        (status = 500, description = "The `webhook` config cannot be used (the message names the field, never its value), or the store failed.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn account_webhook(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    request: ProviderRequest,
) -> ApiResult<Response> {
    receive(&state, &account_id, request).await
}

/// `GET /integrated-account-webhook/{integrated_account_id}`: the handshakes
/// providers send as a `GET` (Meta's `hub.challenge`), run exactly as
/// [`account_webhook`] runs a `POST` with an empty body: `handle_verification`
/// answers, anything else must pass verification.
#[utoipa::path(
    get,
    path = "/integrated-account-webhook/{integrated_account_id}",
    tag = "inbound-webhooks",
    operation_id = "account_webhook_handshake",
    summary = "Inbound webhook handshake (GET) for one account",
    description = "For providers that verify a webhook URL with a `GET` (Meta's `hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`): `handle_verification` sees the query and answers with its own status and body. A `GET` that no handshake answers goes through signature verification like a `POST` with an empty body.",
    security(()),
    params(("integrated_account_id" = String, Path, description = "The account the webhook is for; it names the environment.")),
    responses(
        (status = 200, description = "The handshake's answer (its own status, headers and body), or the events queued.", body = crate::openapi::InboundAccepted),
        (status = 401, description = "No handshake answered and verification failed.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such account, or no `webhook` config.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The account's install is disabled.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn account_webhook_handshake(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    request: ProviderRequest,
) -> ApiResult<Response> {
    receive(&state, &account_id, request).await
}

/// The pipeline of both methods: verify `request` for `account_id` with the
/// facade of its environment ([`Patchbay::account_webhook`](patchbay::Patchbay::account_webhook)),
/// answer its handshake or queue its events for the account.
async fn receive(
    state: &AppState,
    account_id: &str,
    ProviderRequest(request): ProviderRequest,
) -> ApiResult<Response> {
    let env = state
        .store
        .account_environment(account_id)
        .await?
        .ok_or_else(|| StorageError::not_found("integrated account", account_id))?;
    let patchbay = state.runtimes.for_account(&env, account_id).await?;
    let account = state.store.get_account(&env, account_id).await?;
    match patchbay
        .account_webhook(&account, &request, SystemTime::now())
        .map_err(facade_error)?
    {
        Handled::Handshake(handshake) => Ok(handshake_response(&handshake)),
        Handled::Events(events) => {
            let owner = EventOwner {
                environment_integration_id: account.environment_integration_id,
                account: Some((account.id, account.tenant_id)),
            };
            queue(state, &env, events, &owner).await
        }
    }
}
