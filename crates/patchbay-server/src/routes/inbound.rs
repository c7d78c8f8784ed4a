//! Inbound webhooks: providers call these routes, which authenticate the call
//! with the integration's `webhook` config and queue its events for the
//! environment's outbound webhooks.
//!
//! | route | context | events |
//! |---|---|---|
//! | `POST /integrated-account-webhook/{integrated_account_id}` | host variables + the account's context | one per transformed event, for that account |
//! | `POST /environment-integration-webhook/{environment_integration_id}` | host variables only | routed to the account found by `context_lookup_field_*`, else install-level |
//!
//! Neither route takes an API token: the provider authenticates by
//! `webhook.signature_verification`, so the routes live outside the bearer
//! middleware. The id in the path names the environment.
//!
//! # Pipeline
//!
//! 1. Resolve the environment and the install's compiled `webhook` config
//!    ([`InboundConfigs`](crate::inbound_cache::InboundConfigs): one light
//!    query, the config is merged, validated and compiled only when the
//!    integration's `version` or the install's `updated_at` changed). Unknown
//!    ids → 404; a disabled install → 409; a merged config (integration config
//!    with the install's `override`, as proxy calls use it) without a
//!    `webhook` key → 404.
//! 2. Read the raw body (at most [`MAX_BODY_BYTES`], else 413) and build the
//!    [`InboundRequest`] from the method, the URL the provider called (see
//!    [`request_url`]), the headers and the raw bytes, unmodified.
//! 3. `signature_verification`, then `handle_verification`
//!    ([`WebhookHandler::authenticate`](patchbay::webhook::WebhookHandler::authenticate)):
//!    a handshake is answered with its status, headers and body and nothing
//!    is queued. A handshake that can sign (`$sign`, as Zoom's) answers
//!    verified requests only; an echo handshake (Slack, Meta, Microsoft
//!    Graph) also answers unsigned ones. A failed verification that no
//!    handshake answers → 401 whose message names the failed check
//!    (`signature mismatch: ...`, `missing header ...`, `stale timestamp:
//!    ...`) and never holds a secret or a signature.
//! 4. `payload_transform`: every event object is queued in the outbox
//!    ([`Store::enqueue_event`](crate::store::Store::enqueue_event)) as
//!    [`record_event_type`] with [`event_payload`]; answer 200
//!    `{"ok": true, "events": N}`.
//!
//! Other failures: a `webhook` config that cannot be used (unresolvable
//! secret placeholder, unsupported format, expression that does not compile)
//! → 500 naming the field (never its value); an expression that fails on this
//! request or returns the wrong shape → 422. Queueing is at least once: when
//! the store fails midway the provider gets 500 and its retry may queue the
//! earlier events again.
//!
//! # Routing install-level webhooks
//!
//! When `webhook.signature_verification.config` has both
//! `context_lookup_field_name` (a key of the account context; dots walk into
//! nested objects: `team.id`) and `context_lookup_field_value` (a JSONata
//! expression over the request, `body.team_id`), the events of a verified call
//! go to the install's account whose context value equals the request's
//! (strings and numbers compare by their text: `"42"` matches `42`); the oldest
//! account wins if several match. Contexts are encrypted at rest, so the lookup
//! reads the install's accounts a page at a time ([`LOOKUP_PAGE_SIZE`]) and
//! decrypts each: its cost grows with the number of accounts of the install.
//! A request without a lookup value, or with no matching account, queues
//! nothing and answers 200 `{"ok": true, "events": 0}` (logged as a warning):
//! failing would make the provider retry and eventually disable the
//! endpoint for every tenant. `payload_transform` of a routed call sees the
//! account's context as `$context`. Without the lookup fields the events are
//! queued at the install level (payload without account fields).

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use patchbay::config::IntegratedAccount;
use patchbay::template::expression::{Bindings, Expression};
use patchbay::webhook::{
    HandshakeResponse, InboundRequest, Outcome, VerificationError, WebhookError, request_input,
};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AccountFilter, PageRequest, StoreError};

/// The largest inbound body accepted (1 MiB); larger bodies answer 413
/// before anything is verified.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Accounts read per page while routing an install-level webhook.
pub const LOOKUP_PAGE_SIZE: u32 = 500;

/// The event type a transformed event is queued as: `record:<action>`.
///
/// `<action>` is the event's `event` field, or else its `event_type` field,
/// when that is a string (a leading `record:` is dropped, so `record:created`
/// and `created` are the same); lower-cased, every character other than
/// ASCII letters, digits and `_` replaced by `_` (so outbound webhooks can
/// subscribe to it exactly: `customer.created` → `record:customer_created`),
/// at most 64 characters. Truto's own actions are `created`, `updated` and
/// `deleted`. An event without such a field is `record:received`.
pub fn record_event_type(event: &Map<String, Value>) -> String {
    let name = ["event", "event_type"]
        .iter()
        .find_map(|key| event.get(*key).and_then(Value::as_str))
        .map(|name| name.trim())
        .map(|name| name.strip_prefix("record:").unwrap_or(name))
        .unwrap_or_default();
    let action: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if action.is_empty() {
        "record:received".to_owned()
    } else {
        format!("record:{action}")
    }
}

/// Where the events of a call belong.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOwner {
    /// The install.
    pub environment_integration_id: String,
    /// The account and its tenant, `None` for an install-level event.
    pub account: Option<(String, String)>,
}

/// The queued payload of `event`: the event's own fields plus
/// `environment_integration_id` and, for an account, `integrated_account_id`
/// and `tenant_id`. These keys are set by the server and replace any the
/// event carries, so a provider payload cannot claim another account.
pub fn event_payload(mut event: Map<String, Value>, owner: &EventOwner) -> Value {
    event.insert(
        "environment_integration_id".into(),
        Value::String(owner.environment_integration_id.clone()),
    );
    if let Some((account_id, tenant_id)) = &owner.account {
        event.insert(
            "integrated_account_id".into(),
            Value::String(account_id.clone()),
        );
        event.insert("tenant_id".into(), Value::String(tenant_id.clone()));
    }
    Value::Object(event)
}

/// The URL the provider called, as verifiers that sign it (Twilio, HubSpot)
/// need it: `<scheme>://<host><path>?<query>`.
///
/// The host is the `Host` header (or the request URI's authority, HTTP/2);
/// the scheme is the first value of `X-Forwarded-Proto` when it is `http` or
/// `https`, else `http` (the server itself speaks plain HTTP). Behind a TLS
/// proxy, keep the original `Host` and set `X-Forwarded-Proto`; a proxy that
/// rewrites the path breaks URL-signing providers.
pub fn request_url(uri: &Uri, headers: &HeaderMap) -> String {
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https")
        .unwrap_or_else(|| "http".to_owned());
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{scheme}://{host}{path_and_query}")
}

/// The [`InboundRequest`] of an axum request; header values that are not
/// UTF-8 are read lossily.
fn inbound_request(method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> InboundRequest {
    let mut request = InboundRequest::new(method.as_str(), request_url(uri, headers));
    for (name, value) in headers {
        request = request.with_header(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    request.with_body(body.to_vec())
}

/// 413 for a body over [`MAX_BODY_BYTES`], the rejection's own status otherwise.
fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the webhook body is larger than {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

/// The API error of a webhook pipeline failure (see the module docs).
fn webhook_error(error: WebhookError) -> ApiError {
    match error {
        WebhookError::Verification(VerificationError::Config(e)) | WebhookError::Config(e) => {
            config_error(&e)
        }
        WebhookError::Verification(e @ VerificationError::BodyTooLarge { .. }) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        WebhookError::Verification(e) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("webhook verification failed: {e}"),
        ),
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

/// 500 for a `webhook` config that cannot run; the message names fields only.
pub(crate) fn config_error(error: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %error, "an inbound webhook config cannot be used");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the integration's webhook config cannot be used: {error}"),
    )
}

/// The handshake response as an HTTP response (invalid header names or
/// values are skipped).
fn handshake_response(handshake: &HandshakeResponse) -> Response {
    let status = StatusCode::from_u16(handshake.status).unwrap_or(StatusCode::OK);
    let mut response = (status, handshake.body_bytes()).into_response();
    for (name, value) in &handshake.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Queues `events` for `owner` in `env` and answers `{ok, events}`.
async fn queue(
    state: &AppState,
    env: &str,
    events: Vec<Value>,
    owner: &EventOwner,
) -> ApiResult<Response> {
    let count = events.len();
    for event in events {
        let Value::Object(event) = event else {
            continue; // the handler returns objects only
        };
        let event_type = record_event_type(&event);
        state
            .store
            .enqueue_event(env, &event_type, &event_payload(event, owner))
            .await?;
    }
    Ok(axum::Json(json!({"ok": true, "events": count})).into_response())
}

/// `POST /integrated-account-webhook/{integrated_account_id}`: a provider's
/// webhook for one account (see the module docs).
///
/// # Errors
///
/// 404 unknown account or no `webhook` config, 409 disabled install, 413 body
/// too large, 401 verification failed, 422/500 as in the module docs.
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|r| body_error(&r))?;
    let env = state
        .store
        .account_environment(&account_id)
        .await?
        .ok_or_else(|| StoreError::not_found("integrated account", &account_id))?;
    let config = state.inbound.for_account(&env, &account_id).await?;
    let account = state.store.get_account(&env, &account_id).await?;
    let request = inbound_request(&method, &uri, &headers, body);
    let context = account_context(config.variables.clone(), &account);
    match config
        .handler(&context)?
        .handle(&request, SystemTime::now())
        .map_err(webhook_error)?
    {
        Outcome::Handshake(handshake) => Ok(handshake_response(&handshake)),
        Outcome::Events(events) => {
            let owner = EventOwner {
                environment_integration_id: config.install_id.clone(),
                account: Some((account.id, account.tenant_id)),
            };
            queue(&state, &env, events, &owner).await
        }
    }
}

/// The context webhook expressions and placeholders see for `account`: the
/// host variables overlaid with the account's context, as for proxy calls.
fn account_context(variables: Map<String, Value>, account: &IntegratedAccount) -> Value {
    let mut context = variables;
    context.extend(account.context.clone());
    Value::Object(context)
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
    state: State<AppState>,
    account_id: Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    account_webhook(state, account_id, method, uri, headers, Ok(Bytes::new())).await
}

/// `POST /environment-integration-webhook/{environment_integration_id}`: a
/// provider's webhook for a whole install, routed to an account by the
/// context lookup when configured (see the module docs).
///
/// # Errors
///
/// 404 unknown install or no `webhook` config, 409 disabled install, 413 body
/// too large, 401 verification failed, 422/500 as in the module docs.
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
    let env = state
        .store
        .environment_integration_environment(&install_id)
        .await?
        .ok_or_else(|| StoreError::not_found("environment integration", &install_id))?;
    let config = state.inbound.for_install(&env, &install_id).await?;
    let request = inbound_request(&method, &uri, &headers, body);
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
        return queue(&state, &env, events, &owner).await;
    };
    let Some(wanted) = lookup_value(&lookup.value, &request, &host_context)? else {
        tracing::warn!(
            environment_integration = %config.install_id,
            "an inbound webhook has no `context_lookup_field_value` in its request; ignored"
        );
        return Ok(axum::Json(json!({"ok": true, "events": 0})).into_response());
    };
    let Some(account) = find_account(
        &state,
        &env,
        &config.install_id,
        &lookup.field_name,
        &wanted,
    )
    .await?
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
    queue(&state, &env, events, &owner).await
}

/// Evaluates `context_lookup_field_value` (JSONata over the request, with
/// `$context` = the host variables); `None` when it yields nothing.
fn lookup_value(
    expression: &Expression,
    request: &InboundRequest,
    context: &Value,
) -> ApiResult<Option<Value>> {
    let value = expression
        .evaluate(
            &request_input(request),
            &Bindings::new().with("context", context.clone()),
        )
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`context_lookup_field_value` failed: {e}"),
            )
        })?;
    Ok(value.filter(|v| !v.is_null()))
}

/// The oldest account of `install_id` whose context at `field_name` (dotted
/// path) equals `wanted`, reading [`LOOKUP_PAGE_SIZE`] accounts at a time.
async fn find_account(
    state: &AppState,
    env: &str,
    install_id: &str,
    field_name: &str,
    wanted: &Value,
) -> ApiResult<Option<IntegratedAccount>> {
    let filter = AccountFilter {
        environment_integration_id: Some(install_id.to_owned()),
        ..Default::default()
    };
    let mut page = PageRequest {
        limit: Some(LOOKUP_PAGE_SIZE),
        cursor: None,
    };
    loop {
        let accounts = state.store.list_accounts(env, &filter, &page).await?;
        if let Some(account) = accounts.result.into_iter().find(|account| {
            context_field(&account.context, field_name).is_some_and(|v| same_value(v, wanted))
        }) {
            return Ok(Some(account));
        }
        match accounts.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(None),
        }
    }
}

/// The context value at `path` (`team.id` walks into `team`).
fn context_field<'a>(context: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = context.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = context.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// Equal JSON, or a string and a number with the same text.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            *s == n.to_string()
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn event_types_are_record_actions() {
        for (event, expected) in [
            (
                json!({"event": "created", "resource": "contacts"}),
                "record:created",
            ),
            (json!({"event": "record:updated"}), "record:updated"),
            (
                json!({"event_type": "customer.created"}),
                "record:customer_created",
            ),
            (
                json!({"event": {"type": "message"}, "event_type": "Deleted"}),
                "record:deleted",
            ),
            (json!({"raw": 1}), "record:received"),
            (json!({"event": "  "}), "record:received"),
        ] {
            assert_eq!(record_event_type(&map(event)), expected);
        }
    }

    #[test]
    fn payload_fields_come_from_the_server() {
        let owner = EventOwner {
            environment_integration_id: "ei".into(),
            account: Some(("acc".into(), "t1".into())),
        };
        let payload = event_payload(
            map(json!({"event": "created", "tenant_id": "evil"})),
            &owner,
        );
        assert_eq!(
            payload,
            json!({"event": "created", "tenant_id": "t1", "environment_integration_id": "ei", "integrated_account_id": "acc"})
        );
    }

    #[test]
    fn url_uses_host_and_forwarded_proto() {
        let uri: Uri = "/integrated-account-webhook/a?x=1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("hooks.example.com"));
        assert_eq!(
            request_url(&uri, &headers),
            "http://hooks.example.com/integrated-account-webhook/a?x=1"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        assert_eq!(
            request_url(&uri, &headers),
            "https://hooks.example.com/integrated-account-webhook/a?x=1"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("gopher"));
        assert!(request_url(&uri, &headers).starts_with("http://"));
    }

    #[test]
    fn context_lookup_walks_paths_and_compares_text() {
        let context = map(json!({"team": {"id": 42}, "a.b": "flat"}));
        assert_eq!(context_field(&context, "team.id"), Some(&json!(42)));
        assert_eq!(context_field(&context, "a.b"), Some(&json!("flat")));
        assert_eq!(context_field(&context, "team.nope"), None);
        assert!(same_value(&json!(42), &json!("42")));
        assert!(!same_value(&json!(true), &json!("true")));
    }
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
    state: State<AppState>,
    install_id: Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    environment_integration_webhook(state, install_id, method, uri, headers, Ok(Bytes::new())).await
}
