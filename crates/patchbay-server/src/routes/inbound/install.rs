//! The install-level routes: `POST` and `GET`
//! `/environment-integration-webhook/{id}`, routed to an account by the
//! context lookup when configured.

use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::response::Response;
use patchbay::webhook::Routed;

use super::events::{EventOwner, nothing_queued, queue};
use super::lookup::find_account;
use super::request::ProviderRequest;
use super::response::{facade_error, handshake_response, webhook_error};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::StorageError;

/// `POST /environment-integration-webhook/{environment_integration_id}`: a
/// provider's webhook for a whole install, routed to an account by the
/// context lookup when configured (see the [module docs](super)).
///
/// # Errors
///
/// 404 unknown install or no `webhook` config, 409 disabled install, 413 body
/// too large, 401 verification failed, 422/500 as in the [module docs](super).
#[utoipa::path(
    post,
    path = "/environment-integration-webhook/{environment_integration_id}",
    tag = "inbound-webhooks",
    operation_id = "environment_integration_webhook",
    summary = "Inbound webhook for an install",
    description = "A provider's webhook for a whole install (one app-level URL for every tenant). No API token: verified by the integration's `webhook.signature_verification` with host variables only. With `context_lookup_field_name` / `context_lookup_field_value` the events go to the install's account whose context value matches the request's (none matching: `{\"ok\": true, \"events\": 0}`); without them they are queued for the install.",
    security(()),
    params(("environment_integration_id" = String, Path, description = "The install the webhook is for; it names the environment.")),
    request_body(
        content = String,
        content_type = "*/*",
        description = "The provider's raw body (at most 1 MiB), verified and transformed exactly as sent.",
    ),
    responses(
        (status = 200, description = "The events are queued (for the account found by `context_lookup_field_*`, else \
            for the install; `events: 0` when the lookup finds no account), or a handshake is answered with its own \
            status, headers and body.", body = crate::openapi::InboundAccepted),
        (status = 401, description = "Verification failed; the message names the check, never a secret or a signature.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such install, or its config (with the override) has no `webhook` key.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The install is disabled.", body = crate::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB.", body = crate::openapi::ErrorBody),
        (status = 422, description = "An expression (`handle_verification`, `payload_transform`, `context_lookup_field_value`) \
            failed on this request or returned the wrong shape.", body = crate::openapi::ErrorBody),
        (status = 500, description = "The `webhook` config cannot be used (the message names the field, never its value), or the store failed.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn environment_integration_webhook(
    State(state): State<AppState>,
    Path(install_id): Path<String>,
    request: ProviderRequest,
) -> ApiResult<Response> {
    receive(&state, &install_id, request).await
}

/// `GET /environment-integration-webhook/{environment_integration_id}`: the
/// `GET` handshakes (Meta's `hub.challenge`) of an install-level webhook, run
/// as [`environment_integration_webhook`] runs a `POST` with an empty body.
#[utoipa::path(
    get,
    path = "/environment-integration-webhook/{environment_integration_id}",
    tag = "inbound-webhooks",
    operation_id = "environment_integration_webhook_handshake",
    summary = "Inbound webhook handshake (GET) for an install",
    description = "For providers that verify a webhook URL with a `GET` (Meta's `hub.challenge`): `handle_verification` sees the query, with the install's host variables as context, and answers with its own status and body.",
    security(()),
    params(("environment_integration_id" = String, Path, description = "The install the webhook is for; it names the environment.")),
    responses(
        (status = 200, description = "The handshake's answer (its own status, headers and body), or the events queued.", body = crate::openapi::InboundAccepted),
        (status = 401, description = "No handshake answered and verification failed.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such install, or no `webhook` config.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The install is disabled.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn environment_integration_webhook_handshake(
    State(state): State<AppState>,
    Path(install_id): Path<String>,
    request: ProviderRequest,
) -> ApiResult<Response> {
    receive(&state, &install_id, request).await
}

/// The pipeline of both methods: verify `request` for `install_id` with the
/// facade of its environment ([`Patchbay::install_webhook`](patchbay::Patchbay::install_webhook)),
/// answer its handshake, or route its events and queue them.
async fn receive(
    state: &AppState,
    install_id: &str,
    ProviderRequest(request): ProviderRequest,
) -> ApiResult<Response> {
    let env = state
        .store
        .environment_integration_environment(install_id)
        .await?
        .ok_or_else(|| StorageError::not_found("environment integration", install_id))?;
    let patchbay = state.runtimes.for_install(&env, install_id).await?;
    let owner = |account| EventOwner {
        environment_integration_id: install_id.to_owned(),
        account,
    };
    match patchbay
        .install_webhook(install_id, &request, SystemTime::now())
        .map_err(facade_error)?
    {
        Routed::Handshake(handshake) => Ok(handshake_response(&handshake)),
        Routed::Events(events) => queue(state, &env, events, &owner(None)).await,
        Routed::NoLookupValue => {
            tracing::warn!(
                environment_integration = %install_id,
                "an inbound webhook has no `context_lookup_field_value` in its request; ignored"
            );
            Ok(nothing_queued())
        }
        Routed::NeedsAccount(lookup) => {
            let Some(account) = find_account(state, &env, install_id, &lookup).await? else {
                tracing::warn!(
                    environment_integration = %install_id,
                    field = %lookup.field(),
                    "no integrated account matches an inbound webhook; ignored"
                );
                return Ok(nothing_queued());
            };
            let events = lookup
                .transform_for(&account.context)
                .map_err(webhook_error)?;
            let owner = owner(Some((account.id, account.tenant_id)));
            queue(state, &env, events, &owner).await
        }
    }
}
