//! The install-level routes: `POST` and `GET`
//! `/environment-integration-webhook/{id}`, routed to an account by the
//! context lookup when configured.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use patchbay::webhook::InboundRequest;
use serde_json::{Value, json};

use super::account::account_context;
use super::events::{EventOwner, queue};
use super::lookup::{find_account, lookup_value};
use super::request::{body_error, inbound_request};
use super::response::{handshake_response, webhook_error};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::StoreError;

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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|r| body_error(&r))?;
    let request = inbound_request(&method, &uri, &headers, body);
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let request = inbound_request(&method, &uri, &headers, Bytes::new());
    receive(&state, &install_id, request).await
}

/// The pipeline of both methods: verify `request` for `install_id`, answer
/// its handshake, or route its events and queue them.
async fn receive(
    state: &AppState,
    install_id: &str,
    request: InboundRequest,
) -> ApiResult<Response> {
    let env = state
        .store
        .environment_integration_environment(install_id)
        .await?
        .ok_or_else(|| StoreError::not_found("environment integration", install_id))?;
    let config = state.inbound.for_install(&env, install_id).await?;
    let host_context = Value::Object(config.variables.clone());
    let install_handler = config.handler(&host_context)?;
    if let Some(handshake) = install_handler
        .authenticate(&request, SystemTime::now())
        .map_err(webhook_error)?
    {
        return Ok(handshake_response(&handshake));
    }
    let Some(lookup) = &config.lookup else {
        let events = install_handler
            .transform_payload(&request)
            .map_err(webhook_error)?;
        let owner = EventOwner {
            environment_integration_id: config.install_id.clone(),
            account: None,
        };
        return queue(state, &env, events, &owner).await;
    };
    let Some(wanted) = lookup_value(&lookup.value, &request, &host_context)? else {
        tracing::warn!(
            environment_integration = %config.install_id,
            "an inbound webhook has no `context_lookup_field_value` in its request; ignored"
        );
        return Ok(axum::Json(json!({"ok": true, "events": 0})).into_response());
    };
    let Some(account) =
        find_account(state, &env, &config.install_id, &lookup.field_name, &wanted).await?
    else {
        tracing::warn!(
            environment_integration = %config.install_id,
            field = %lookup.field_name,
            "no integrated account matches an inbound webhook; ignored"
        );
        return Ok(axum::Json(json!({"ok": true, "events": 0})).into_response());
    };
    let context = account_context(config.variables.clone(), &account);
    let events = config
        .handler(&context)?
        .transform_payload(&request)
        .map_err(webhook_error)?;
    let owner = EventOwner {
        environment_integration_id: config.install_id.clone(),
        account: Some((account.id, account.tenant_id)),
    };
    queue(state, &env, events, &owner).await
}
