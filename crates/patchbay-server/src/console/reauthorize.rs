//! Seed 001's flow: an account → "Re-authorize connection" → "Get connection
//! link" → the magic link, with a copy button.
//!
//! `GET /console/accounts/{id}/reauthorize` explains and offers the button;
//! `POST` creates a reconnect link token for the account, exactly as
//! `POST /link-token` with `integrated_account_id` does
//! ([`CreateLinkToken`]), and answers the page with the link. The link is
//! shown in that answer only (the page is `no-store`); opening it runs the
//! connect pages, which keep the account's id and context.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::Failed;
use super::csrf::{self, hidden_field};
use super::directory::Directory;
use super::layout::{Screen, Section, escape, status_badge, when};
use super::session::Signed;
use crate::routes::link_tokens::{CreateLinkToken, connect_url};
use crate::state::AppState;

/// The lifetimes offered for a link: (seconds, label).
const LIFETIMES: [(u64, &str); 3] = [
    (60 * 60, "1 hour"),
    (24 * 60 * 60, "1 day"),
    (7 * 24 * 60 * 60, "7 days"),
];

/// Copies the link; without JavaScript the button stays hidden and the
/// link's text field can be copied by hand.
const COPY_SCRIPT: &str = r#"(function () {
  var button = document.getElementById('copy');
  var field = document.getElementById('magic-link-url');
  var status = document.getElementById('copy-status');
  button.hidden = false;
  function said(ok) {
    status.textContent = ok ? 'The link is copied.' : 'Select the link and copy it with Ctrl+C or Cmd+C.';
  }
  function fallback() {
    field.focus();
    field.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    said(ok);
  }
  button.addEventListener('click', function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { said(true); }, fallback);
    } else {
      fallback();
    }
  });
})();"#;

/// `GET /console/accounts/{id}/reauthorize`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failed> {
    let env = signed.env();
    let account = state.store.get_account(env, &id).await?;
    let directory = Directory::load(&state.store, env).await?;
    let integration = directory.install_label(&account.environment_integration_id);
    let mut body = format!(
        "<p><a href=\"/console/accounts/{id}\">← Back to the account</a></p>\
         <section aria-labelledby=\"about\"><h2 id=\"about\">{tenant} · {integration}</h2>\
         <p>Status: {status}</p>\
         <p>A connection link lets the customer sign in to {integration} again. It opens the \
         connect page for this account only; when they finish, the account keeps its id and \
         context and gets the new credentials. A link works once.</p>",
        id = escape(&account.id),
        tenant = escape(&account.tenant_id),
        integration = escape(&integration),
        status = status_badge(account.status.as_str()),
    );
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/console/accounts/{}/reauthorize\">{}\
         <label for=\"expires_in\">The link works for</label>\
         <select id=\"expires_in\" name=\"expires_in\">",
        escape(&account.id),
        hidden_field(&signed.session.csrf)
    );
    for (seconds, label) in LIFETIMES {
        let _ = write!(body, "<option value=\"{seconds}\">{label}</option>");
    }
    body.push_str(
        "</select><div><button type=\"submit\" id=\"get-link\">Get connection link</button></div>\
         </form></section>",
    );
    Ok(Screen::signed(&signed, Section::Accounts, "Re-authorize connection", body).into_response())
}

/// `POST /console/accounts/{id}/reauthorize` (form: `expires_in`,
/// `csrf_token`): the page with the new magic link.
pub(super) async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    let form = match csrf::signed_form(&state, &headers, &body, &signed) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.page()),
    };
    let expires_in = form
        .text("expires_in")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| LIFETIMES.iter().any(|(seconds, _)| seconds == s))
        .unwrap_or(LIFETIMES[0].0);
    let env = signed.env();
    let request = CreateLinkToken {
        tenant_id: None,
        integrated_account_id: Some(id.clone()),
        environment_integration_id: None,
        context: None,
        redirect_uri: None,
        scopes: None,
        persist_previous_context: None,
        region: None,
        expires_in: Some(expires_in),
    };
    let token = request.validate()?.check_target(&state, env).await?;
    let created = state.store.create_link_token(env, token).await?;
    let url = connect_url(&state, &headers, created.token.expose())?;
    let account = state.store.get_account(env, &id).await?;
    tracing::info!(account = %id, "the console created a reconnect link");
    let lifetime = LIFETIMES
        .iter()
        .find(|(seconds, _)| *seconds == expires_in)
        .map_or("1 hour", |(_, label)| label);
    let body = format!(
        "<p><a href=\"/console/accounts/{id}\">← Back to the account</a></p>\
         <section aria-labelledby=\"magic\"><h2 id=\"magic\">Magic link</h2>\
         <p>Open the magic link to re-authorize {tenant}'s connection now, or send it to the \
         customer so they connect their own account. It works once, until {expires} \
         ({lifetime}).</p>\
         <p><a class=\"button\" id=\"magic-link\" href=\"{url}\" target=\"_blank\" rel=\"noopener noreferrer\">\
         Magic link</a></p>\
         <div class=\"magic\"><div><label for=\"magic-link-url\">The connection link</label>\
         <input id=\"magic-link-url\" type=\"text\" readonly value=\"{url}\"></div>\
         <button type=\"button\" id=\"copy\" class=\"secondary\" hidden>Copy link</button></div>\
         <p id=\"copy-status\" role=\"status\" aria-live=\"polite\"></p></section>",
        id = escape(&account.id),
        tenant = escape(&account.tenant_id),
        expires = when(&created.link_token.expires_at),
        url = escape(&url),
    );
    Ok(
        Screen::signed(&signed, Section::Accounts, "Connection link", body)
            .with_script(COPY_SCRIPT)
            .into_response(),
    )
}
