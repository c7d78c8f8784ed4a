//! The `oauth2` credential: sending the user to the provider's authorize URL
//! with the flow's session cookie, and the callback that exchanges the code.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use patchbay::auth::AuthorizeParams;
use patchbay::{CodeExchange, Patchbay};
use serde_json::{Map, Value};

use super::finish::finish;
use super::html::Page;
use super::link::{consume, link_gone, live_link};
use super::pages::{Flow, api_page, result_page};
use super::session::{OAuthSession, SESSION_TTL};
use super::target::{Target, resolve_target};
use crate::state::AppState;
use crate::store::LinkToken;

/// The callback URL of `integration_name`, the `redirect_uri` to register at
/// the provider.
pub fn callback_url(base: &str, integration_name: &str) -> String {
    let segment: String =
        url::form_urlencoded::byte_serialize(integration_name.as_bytes()).collect();
    format!("{base}/connect/{segment}/callback")
}

/// The context the credential config's placeholders render against, over the
/// install's host variables (which the facade adds): the reconnected
/// account's context, the link's seed context, then `extra`.
fn render_context(
    target: &Target,
    link: &LinkToken,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut context = Map::new();
    if let Some(account) = &target.account {
        context.extend(account.context.clone());
    }
    context.extend(link.params.context.clone());
    context.extend(extra.clone());
    context
}

/// Sends the user to the provider's authorize URL (303) with the flow's
/// sealed session cookie; the link token is not consumed yet.
pub(super) async fn start_oauth(
    state: &AppState,
    base: &str,
    token: &str,
    link: &LinkToken,
    target: &Target,
    credential_name: String,
    collected: Map<String, Value>,
) -> Flow<Response> {
    let patchbay = facade(state, target).await?;
    let redirect_uri = callback_url(base, &target.integration.name);
    let mut params = AuthorizeParams::new(redirect_uri.clone());
    if let Some(scopes) = &link.params.scopes {
        params = params.scopes(scopes.clone());
    }
    let request = patchbay
        .authorize_url(
            &target.install.id,
            &credential_name,
            &render_context(target, link, &collected),
            &params,
        )
        .map_err(|e| {
            Page::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This connection cannot be made",
                &e.to_string(),
            )
        })?;
    let session = OAuthSession {
        state: request.state.clone(),
        environment_id: link.environment_id.clone(),
        link_token: token.to_owned(),
        environment_integration_id: target.install.id.clone(),
        integration_name: target.integration.name.clone(),
        credential: credential_name,
        redirect_uri,
        code_verifier: request
            .code_verifier
            .as_ref()
            .map(|v| v.expose().to_owned()),
        fields: collected,
        expires_at: Utc::now() + SESSION_TTL,
    };
    let cookie = session
        .set_cookie(state.store.as_ref(), base.starts_with("https://"))
        .map_err(|e| api_page(e.into()))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::LOCATION, request.url.as_str()),
        (header::SET_COOKIE, cookie.as_str()),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.append(name, value);
        }
    }
    Ok(response)
}

/// What [`callback`](super::callback) answers: exchanges the code, consumes
/// the link token and connects the account.
pub(super) async fn callback_inner(
    state: &AppState,
    integration: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Flow<Page> {
    let oauth_state = query.get("state").map(String::as_str).unwrap_or("");
    if oauth_state.is_empty() {
        return Err(Page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in cannot be finished",
            "The provider did not send back a state. Open the connect link again.",
        ));
    }
    let session = OAuthSession::from_request(
        state.store.as_ref(),
        headers,
        oauth_state,
        integration,
        Utc::now(),
    )
    .map_err(|e| {
        Page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in cannot be finished",
            &e.to_string(),
        )
    })?;
    if let Some(error) = query.get("error") {
        let detail = query
            .get("error_description")
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let message = if error == "access_denied" {
            format!("Access was not granted{detail}. Open the connect link again to retry.")
        } else {
            format!(
                "The provider answered `{error}`{detail}. Open the connect link again to retry."
            )
        };
        return Err(Page::error(
            StatusCode::BAD_REQUEST,
            "The sign-in did not finish",
            &message,
        ));
    }
    let code = query.get("code").filter(|c| !c.is_empty()).ok_or_else(|| {
        Page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in cannot be finished",
            "The provider sent neither a code nor an error. Open the connect link again.",
        )
    })?;
    let link = live_link(state, Some(&session.link_token)).await?;
    if link.environment_id != session.environment_id {
        return Err(link_gone());
    }
    let target = resolve_target(state, &link, Some(&session.environment_integration_id))
        .await?
        .ok_or_else(link_gone)?;
    let (credential_name, credential) = target
        .credential(Some(&session.credential))
        .map_err(|_| link_gone())?;
    let tokens = facade(state, &target).await?
        .exchange_code(
            &target.install.id,
            &credential_name,
            &render_context(&target, &link, &session.fields),
            CodeExchange {
                code,
                redirect_uri: &session.redirect_uri,
                code_verifier: session.code_verifier.as_deref(),
            },
        )
        .await
        .map_err(|e| {
            tracing::warn!(integration, error = %e, "an authorization code exchange failed");
            Page::error(
                StatusCode::BAD_GATEWAY,
                "The sign-in did not finish",
                &format!("The provider did not accept the sign-in: {e}. Open the connect link again to retry."),
            )
        })?;
    let Some(link) = consume(state, &session.link_token).await? else {
        return Err(link_gone());
    };
    let mut context = link.params.context.clone();
    context.extend(session.fields.clone());
    context.extend(tokens.context_patch());
    let outcome = finish(state, &link, &target, &credential, context).await;
    Ok(result_page(&link, &target, outcome))
}

/// The environment's facade with the target's install as currently stored,
/// whose OAuth flows use the server's client and destination policy.
async fn facade(state: &AppState, target: &Target) -> Flow<Patchbay> {
    state
        .runtimes
        .for_install(&target.install.environment_id, &target.install.id)
        .await
        .map_err(api_page)
}
