//! Finishing a connection: the submitted credential form (checked, then
//! handed to OAuth or connected at once), and creating or updating the
//! account, running its connect actions and queueing its events.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay::config::{
    AccountStatus, AuthenticationMethod, Credential, IntegratedAccount, Region,
};
use serde_json::{Map, Value, json};

use super::fields;
use super::html::Page;
use super::link::{LINK_TOKEN, consume, link_gone, live_link};
use super::oauth::start_oauth;
use super::pages::{Flow, form_page, result_page};
use super::target::{Target, resolve_target};
use crate::error::ApiError;
use crate::events::{self, AccountEvent};
use crate::state::AppState;
use crate::store::{LinkToken, NewAccount};

/// What [`submit`](super::submit) answers once the form passed the CSRF
/// checks: the form again with its problems, the redirect to the provider
/// (`oauth2`), or the result page of the connected account.
pub(super) async fn submit_inner(
    state: &AppState,
    base: &str,
    csrf: &str,
    form: &HashMap<String, String>,
) -> Flow<Response> {
    let token = form.get(LINK_TOKEN).map(String::as_str);
    let link = live_link(state, token).await?;
    let token = token.unwrap_or_default();
    let chosen = form.get("integration").map(String::as_str);
    let Some(target) = resolve_target(state, &link, chosen).await? else {
        return Err(Page::error(
            StatusCode::BAD_REQUEST,
            "This form is incomplete",
            "No integration was chosen. Open the connect link again.",
        ));
    };
    let (credential_name, credential) = target
        .credential(form.get("credential").map(String::as_str))
        .map_err(|_| {
            Page::error(
                StatusCode::BAD_REQUEST,
                "This form is incomplete",
                "No way to connect was chosen. Open the connect link again.",
            )
        })?;
    let collected = match fields::collect(credential.fields(), form) {
        Ok(collected) => {
            let refused = fields::refused_destinations(
                credential.fields(),
                &collected,
                state.runtimes.destinations(),
            )
            .await;
            if refused.is_empty() {
                Ok(collected)
            } else {
                Err(refused)
            }
        }
        Err(problems) => Err(problems),
    };
    let collected = match collected {
        Ok(collected) => collected,
        Err(problems) => {
            return Ok(form_page(
                base,
                token,
                csrf,
                &target,
                &credential_name,
                &credential,
                form,
                &problems,
            )
            .into_response());
        }
    };
    if let Credential::OAuth2(_) = credential {
        return start_oauth(
            state,
            base,
            token,
            &link,
            &target,
            credential_name,
            collected,
        )
        .await;
    }
    let Some(link) = consume(state, token).await? else {
        return Err(link_gone());
    };
    let mut context = link.params.context.clone();
    context.extend(collected);
    let outcome = finish(state, &link, &target, &credential, context).await;
    Ok(result_page(&link, &target, outcome).into_response())
}

/// Creates the account (or updates the reconnected one), runs the connect
/// actions and answers the account with its final status.
pub(super) async fn finish(
    state: &AppState,
    link: &LinkToken,
    target: &Target,
    credential: &Credential,
    context: Map<String, Value>,
) -> Result<IntegratedAccount, ApiError> {
    let env = &link.environment_id;
    let method = authentication_method(credential).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the credential format `{}` cannot be connected",
                credential.format_name()
            ),
        )
    })?;
    let (account, previous_status) = match &target.account {
        Some(existing) => {
            // A reconnect keeps the id and the context; new values win.
            let mut account = state.store.get_account(env, &existing.id).await?;
            let previous = account.status;
            account.context.extend(context);
            account.authentication_method = method;
            account.status = AccountStatus::Connecting;
            account.last_error = None;
            account.integration = None;
            state
                .store
                .put_account(env, account.clone(), Some(AccountEvent::Updated))
                .await?;
            (account, Some(previous))
        }
        None => {
            let tenant_id = link.params.tenant_id.clone().ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the link token has no tenant_id",
                )
            })?;
            let account = state
                .store
                .create_account(
                    env,
                    NewAccount {
                        tenant_id,
                        environment_integration_id: target.install.id.clone(),
                        context,
                        authentication_method: method,
                        status: AccountStatus::Connecting,
                        region: Some(link.params.region.unwrap_or(Region::Wnam)),
                        is_sandbox: false,
                    },
                )
                .await?;
            (account, None)
        }
    };
    connect_account(state, env, &account.id, previous_status).await
}

/// Runs the connect actions of the account `account_id` whose credentials were just
/// stored (validation, post-install actions) and answers it with its final status. An
/// account that was not `active` before (`previous_status`) and is now is announced with
/// `integrated_account:reactivated`.
pub(crate) async fn connect_account(
    state: &AppState,
    env: &str,
    account_id: &str,
    previous_status: Option<AccountStatus>,
) -> Result<IntegratedAccount, ApiError> {
    let patchbay = state.runtimes.for_account(env, account_id).await?;
    // Whatever the token manager remembers about the old grant is void now.
    patchbay.reconnected(account_id);
    let status = patchbay.connect(account_id).await.map_err(|e| {
        tracing::error!(account = %account_id, error = %e, "connecting an account failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "connecting the account failed; see the server log",
        )
    })?;
    let account = state.store.get_account(env, account_id).await?;
    if status == AccountStatus::Active
        && previous_status.is_some_and(|s| s != AccountStatus::Active)
    {
        events::emit(
            state.store.as_ref(),
            env,
            AccountEvent::Reactivated,
            &account,
        )
        .await;
    }
    Ok(account)
}

fn authentication_method(credential: &Credential) -> Option<AuthenticationMethod> {
    serde_json::from_value(json!(credential.format_name())).ok()
}
