//! Connecting accounts in a browser: the link-token web flow.
//!
//! A host creates a link token (`POST /link-token`) and sends its user to
//! `GET /connect-account?link_token=...`. The pages here, plain HTML with no
//! framework, then:
//!
//! 1. let the user pick an integration (when the token does not name one) and
//!    a credential (when the config offers several);
//! 2. show the credential's `fields` (an API key, a subdomain...);
//! 3. for `oauth2`, send the user to the provider's authorize URL with a fresh
//!    `state` and, when the config enables it, PKCE; the provider sends them
//!    back to `GET /connect/{integration}/callback`, which exchanges the code
//!    (the flow's session travels in a sealed, `HttpOnly` cookie named after
//!    the `state`, so the callback works only in the browser that started it
//!    and on any server process sharing the encryption key);
//! 4. consume the link token (single use), create the account, or for a
//!    reconnect token update the existing account keeping its id and context,
//!    run the config's `post_install` and `validation` actions, set the status,
//!    queue the events, and show a result page that, when the token has a
//!    `redirect_uri`, tells an opener window on that URI's origin
//!    (`window.opener.postMessage`, never to `*`) and then follows it.
//!
//! A form posted by another site, or without the browser binding the pages
//! hand out, is refused before anything else ([`csrf`]), and no page can be
//! framed.
//!
//! Nothing here answers JSON: the user sees a page that says what happened
//! and what to do. Link tokens are checked on every step (unknown, expired or
//! used: 410) and consumed only once the credentials are known to work at the
//! provider's token endpoint or were submitted.

mod csrf;
mod fields;
mod html;
mod session;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use patchbay::auth::{AuthorizeParams, OAuth2Flow};
use patchbay::config::{
    AccountStatus, AuthenticationMethod, Credential, IntegratedAccount, Region,
};
use serde_json::{Map, Value, json};

use self::csrf::{BrowserBinding, CsrfError, check_origin};
use self::fields::FieldProblem;
use self::html::{Page, escape, json_for_script};
use self::session::{OAuthSession, SESSION_TTL};
use crate::error::ApiError;
use crate::events::{self, AccountEvent};
use crate::runtime::{EffectiveConfig, Installed};
use crate::state::AppState;
use crate::store::{EnvironmentIntegration, IntegrationRecord, LinkToken, NewAccount, PageRequest};

/// The query parameter and form field carrying the link token.
const LINK_TOKEN: &str = "link_token";

/// `a=1&b=2` (a query string or a form body) as a map; a repeated name keeps
/// its last value.
fn form_map(encoded: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The server's public base URL without a trailing slash: the configured one,
/// else `http://` + the request's `Host` (when it is a valid authority).
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The origins (`scheme://host[:port]`) the connect pages are served at: the
/// configured public URL's, else the request's `Host` over http and https
/// (a TLS proxy in front may not say which).
fn own_origins(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    if let Some(url) = &state.public_url {
        return vec![url.origin().ascii_serialization()];
    }
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
        .map(|host| vec![format!("http://{host}"), format!("https://{host}")])
        .unwrap_or_default()
}

/// The 403 page of a submit refused by [`csrf`].
fn refused(error: &CsrfError) -> Page {
    tracing::warn!(reason = %error, "a connect form submit was refused");
    Page::error(
        StatusCode::FORBIDDEN,
        "This form cannot be submitted",
        &format!("For your security, {error}."),
    )
}

/// `response` with the browser binding's cookie, when it is new.
fn with_binding(mut response: Response, binding: &BrowserBinding, secure: bool) -> Response {
    if let Some(cookie) = binding.set_cookie(secure)
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The callback URL of `integration_name`, the `redirect_uri` to register at
/// the provider.
pub fn callback_url(base: &str, integration_name: &str) -> String {
    let segment: String =
        url::form_urlencoded::byte_serialize(integration_name.as_bytes()).collect();
    format!("{base}/connect/{segment}/callback")
}

/// What the flow is connecting: an install of the link token's environment,
/// its effective config and, for a reconnect, the account.
struct Target {
    install: EnvironmentIntegration,
    integration: IntegrationRecord,
    effective: EffectiveConfig,
    account: Option<IntegratedAccount>,
}

impl Target {
    fn label(&self) -> String {
        self.effective
            .config
            .label
            .clone()
            .unwrap_or_else(|| self.integration.name.clone())
    }

    /// The credential named `name`, or the only one, or the reconnected
    /// account's; `Err` with the names to choose from.
    fn credential(&self, name: Option<&str>) -> Result<(String, Credential), Vec<String>> {
        let Some(credentials) = &self.effective.config.credentials else {
            return Err(Vec::new());
        };
        let all: Vec<(&str, &Credential)> = credentials.iter().collect();
        let wanted = name.map(str::to_owned).or_else(|| {
            self.account
                .as_ref()
                .map(|a| method_name(a.authentication_method))
        });
        if let Some(wanted) = wanted {
            if let Some((n, c)) = all.iter().find(|(n, _)| *n == wanted) {
                return Ok(((*n).to_owned(), (*c).clone()));
            }
            if let Some(c) = credentials.get(&wanted) {
                return Ok((wanted, c.clone()));
            }
        }
        match all.as_slice() {
            [(n, c)] => Ok(((*n).to_owned(), (*c).clone())),
            many => Err(many.iter().map(|(n, _)| (*n).to_owned()).collect()),
        }
    }
}

fn method_name(method: AuthenticationMethod) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn authentication_method(credential: &Credential) -> Option<AuthenticationMethod> {
    serde_json::from_value(json!(credential.format_name())).ok()
}

/// Answers `page` as a response; the flow's handlers return `Result<_, Page>`.
type Flow<T> = Result<T, Page>;

fn link_gone() -> Page {
    Page::error(
        StatusCode::GONE,
        "This link cannot be used",
        "This connect link is unknown, has expired or was already used. \
         Ask the application that sent you here for a new link.",
    )
}

fn api_page(error: ApiError) -> Page {
    let status = error.status();
    let title = if status.is_server_error() {
        "Something went wrong"
    } else {
        "This connection cannot be made"
    };
    Page::error(status, title, &error.to_string())
}

/// The unused, unexpired link token `token`.
async fn live_link(state: &AppState, token: Option<&str>) -> Flow<LinkToken> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Page::error(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "The address has no link_token. Open the full link you were given.",
        )
    })?;
    match state.store.find_link_token(token).await {
        Ok(Some(link)) => Ok(link),
        Ok(None) => Err(link_gone()),
        Err(e) => Err(api_page(e.into())),
    }
}

/// The install the flow connects: the reconnected account's, the token's, or
/// `chosen`; `Ok(None)` when the user must choose.
async fn resolve_target(
    state: &AppState,
    link: &LinkToken,
    chosen: Option<&str>,
) -> Flow<Option<Target>> {
    let env = &link.environment_id;
    let account = match &link.integrated_account_id {
        Some(id) => Some(
            state
                .store
                .get_account(env, id)
                .await
                .map_err(|e| api_page(e.into()))?,
        ),
        None => None,
    };
    let install_id = account
        .as_ref()
        .map(|a| a.environment_integration_id.clone())
        .or_else(|| link.environment_integration_id.clone());
    let install_id = match (install_id, chosen) {
        (Some(fixed), Some(chosen)) if fixed != chosen => {
            return Err(Page::error(
                StatusCode::BAD_REQUEST,
                "This connection cannot be made",
                "This link is for a different integration.",
            ));
        }
        (Some(fixed), _) => fixed,
        (None, Some(chosen)) => chosen.to_owned(),
        (None, None) => return Ok(None),
    };
    let install = state
        .store
        .get_environment_integration(env, &install_id)
        .await
        .map_err(|e| api_page(e.into()))?;
    if !install.is_enabled {
        return Err(Page::error(
            StatusCode::CONFLICT,
            "This integration is turned off",
            "This integration is not available right now. Ask the application's team to enable it.",
        ));
    }
    let Installed {
        install,
        integration,
        effective,
    } = Installed::of(state.store.as_ref(), install)
        .await
        .map_err(api_page)?;
    Ok(Some(Target {
        install,
        integration,
        effective,
        account,
    }))
}

/// The enabled installs of the link's environment, for the chooser.
async fn installs_to_choose(
    state: &AppState,
    env: &str,
) -> Flow<Vec<(EnvironmentIntegration, IntegrationRecord)>> {
    let mut found = Vec::new();
    let mut page = PageRequest::default();
    loop {
        let batch = state
            .store
            .list_environment_integrations(env, &page)
            .await
            .map_err(|e| api_page(e.into()))?;
        for install in batch.result {
            if !(install.is_enabled && install.show_in_catalog) {
                continue;
            }
            let integration = state
                .store
                .get_integration(env, &install.integration_id)
                .await
                .map_err(|e| api_page(e.into()))?;
            found.push((install, integration));
        }
        match batch.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(found),
        }
    }
}

fn connect_url(base: &str, token: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair(LINK_TOKEN, token);
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("{base}/connect-account?{}", query.finish())
}

fn choices_page(title: &str, intro: &str, choices: &[(String, String)]) -> Page {
    let mut body = format!("<p>{}</p><ul class=\"choices\">", escape(intro));
    for (href, label) in choices {
        body.push_str(&format!(
            r#"<li><a class="choice" href="{}">{}</a></li>"#,
            escape(href),
            escape(label)
        ));
    }
    body.push_str("</ul>");
    Page::new(StatusCode::OK, title, body)
}

/// The credential form of `target`; `csrf` is the browser binding's sealed
/// token (see [`csrf`]).
#[allow(clippy::too_many_arguments)]
fn form_page(
    base: &str,
    token: &str,
    csrf: &str,
    target: &Target,
    credential_name: &str,
    credential: &Credential,
    submitted: &HashMap<String, String>,
    problems: &[FieldProblem],
) -> Page {
    let label = target.label();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut body = String::new();
    if target.account.is_some() {
        body.push_str(&format!(
            "<p>Reconnect your {} account.</p>",
            escape(&label)
        ));
    }
    body.push_str(&format!(
        r#"<form method="post" action="{}/connect-account">"#,
        escape(base)
    ));
    for (name, value) in [
        (LINK_TOKEN, token),
        (csrf::FIELD, csrf),
        ("integration", target.install.id.as_str()),
        ("credential", credential_name),
    ] {
        body.push_str(&format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value)
        ));
    }
    body.push_str(&fields::render_inputs(
        credential.fields(),
        submitted,
        problems,
    ));
    let button = match credential {
        Credential::OAuth2(_) => format!("Continue to {label}"),
        _ => "Connect".to_owned(),
    };
    body.push_str(&format!(
        r#"<button type="submit" id="connect">{}</button></form>"#,
        escape(&button)
    ));
    Page::new(status, &format!("Connect {label}"), body)
}

/// `GET /connect-account?link_token=...[&integration=<environment integration id>][&credential=<name>]`:
/// the chooser or the credential form. Answers HTML: 200, or 400/404/409/410
/// pages that say what is wrong.
#[utoipa::path(
    get,
    path = "/connect-account",
    tag = "connect",
    operation_id = "connect_page",
    summary = "Connect page",
    description = "HTML; the link token authorizes. Sets the browser's CSRF cookie (`patchbay_csrf`) when it has none; forms carry it sealed as `csrf_token`. Shows, in turn: a chooser of installs (when the token names none and there are several), a chooser of credentials (when the config has several), then the credential's fields as a form. Error pages say what is wrong.",
    security(()),
    params(
        ("link_token" = String, Query, description = "The link token of `POST /link-token`; it authorizes the page."),
        ("integration" = Option<String>, Query, description = "The chosen environment integration (the chooser's links set it)."),
        ("credential" = Option<String>, Query, description = "The chosen credential of the config (`oauth2`, `api_key`, ...), when it has several."),
    ),
    responses(
        (status = 200, description = "The chooser of installs, the chooser of credentials, or the credential's form.", content_type = "text/html", body = String),
        (status = 400, description = "A page: no `link_token`, or an integration other than the link's.", content_type = "text/html", body = String),
        (status = 404, description = "A page: the install is unknown, or there is nothing to connect.", content_type = "text/html", body = String),
        (status = 409, description = "A page: the install is disabled.", content_type = "text/html", body = String),
        (status = 410, description = "A page: the link token is unknown, expired or used.", content_type = "text/html", body = String),
        (status = 422, description = "A page: the config has no credentials to collect.", content_type = "text/html", body = String),
    ),
)]
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = form_map(raw.unwrap_or_default().as_bytes());
    let base = public_base(&state, &headers);
    let binding = BrowserBinding::for_page(&headers);
    let page = match binding.form_token(state.store.as_ref()) {
        Ok(csrf) => match page_inner(&state, &base, &csrf, &query).await {
            Ok(page) | Err(page) => page,
        },
        Err(e) => api_page(e.into()),
    };
    with_binding(page.into_response(), &binding, base.starts_with("https://"))
}

async fn page_inner(
    state: &AppState,
    base: &str,
    csrf: &str,
    query: &HashMap<String, String>,
) -> Flow<Page> {
    let token = query.get(LINK_TOKEN).map(String::as_str);
    let link = live_link(state, token).await?;
    let token = token.unwrap_or_default();
    let chosen = query.get("integration").map(String::as_str);
    let Some(target) = resolve_target(state, &link, chosen).await? else {
        let installs = installs_to_choose(state, &link.environment_id).await?;
        if let [(only, _)] = installs.as_slice() {
            let target = resolve_target(state, &link, Some(&only.id)).await?;
            return Ok(credential_step(base, token, csrf, target, query));
        }
        if installs.is_empty() {
            return Err(Page::error(
                StatusCode::NOT_FOUND,
                "Nothing to connect",
                "No integration is available to connect. Ask the application's team to install one.",
            ));
        }
        let choices: Vec<(String, String)> = installs
            .iter()
            .map(|(install, integration)| {
                let label = integration
                    .config
                    .get("label")
                    .and_then(Value::as_str)
                    .unwrap_or(&integration.name)
                    .to_owned();
                (
                    connect_url(base, token, &[("integration", &install.id)]),
                    label,
                )
            })
            .collect();
        return Ok(choices_page(
            "Choose an app to connect",
            "Which app do you want to connect?",
            &choices,
        ));
    };
    Ok(credential_step(base, token, csrf, Some(target), query))
}

fn credential_step(
    base: &str,
    token: &str,
    csrf: &str,
    target: Option<Target>,
    query: &HashMap<String, String>,
) -> Page {
    let Some(target) = target else {
        return link_gone();
    };
    match target.credential(query.get("credential").map(String::as_str)) {
        Ok((name, credential)) => form_page(
            base,
            token,
            csrf,
            &target,
            &name,
            &credential,
            &HashMap::new(),
            &[],
        ),
        Err(names) if names.is_empty() => Page::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This integration cannot be connected here",
            "Its config has no credentials to collect.",
        ),
        Err(names) => {
            let choices: Vec<(String, String)> = names
                .iter()
                .map(|name| {
                    (
                        connect_url(
                            base,
                            token,
                            &[("integration", &target.install.id), ("credential", name)],
                        ),
                        name.replace('_', " "),
                    )
                })
                .collect();
            choices_page(
                &format!("Connect {}", target.label()),
                "How do you want to connect?",
                &choices,
            )
        }
    }
}

/// `POST /connect-account` (form): checks the fields, then either starts the
/// OAuth flow (303 to the provider, with the session cookie) or connects the
/// account and answers the result page. A form with problems is shown again
/// (422) without consuming the link token.
#[utoipa::path(
    post,
    path = "/connect-account",
    tag = "connect",
    operation_id = "connect_submit",
    summary = "Submit the connect form",
    description = "Refuses (`403`) forms posted by another site or without this browser's CSRF binding. Checks the fields; problems re-render the form (`422`) without consuming the link token. An `oauth2` credential answers `303` to the provider's authorize URL with the flow's session cookie; other formats consume the link token, create (or update) the account, run the config's `post_install` and `validation` actions and answer the result page.",
    security(()),
    request_body(
        content = crate::openapi::ConnectForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The credential form: the link token, the chosen install and credential, and the credential's fields.",
    ),
    responses(
        (status = 200, description = "The result page: the account is connected (or what failed); the link token is consumed.", content_type = "text/html", body = String),
        (status = 303, description = "An `oauth2` credential: to the provider's authorize URL, with the flow's session cookie.",
            headers(
                ("Location" = String, description = "The provider's authorize URL."),
                ("Set-Cookie" = String, description = "The sealed OAuth session (`HttpOnly`, `SameSite=Lax`)."),
            )),
        (status = 400, description = "A page: the form is incomplete (no install or credential chosen).", content_type = "text/html", body = String),
        (status = 403, description = "A page: the form was posted by another site (`Sec-Fetch-Site`, else `Origin`), or without \
            this browser's `patchbay_csrf` cookie and matching `csrf_token` field. Nothing else is checked or changed.", content_type = "text/html", body = String),
        (status = 404, description = "A page: the install is unknown.", content_type = "text/html", body = String),
        (status = 409, description = "A page: the install is disabled.", content_type = "text/html", body = String),
        (status = 410, description = "A page: the link token is unknown, expired or used.", content_type = "text/html", body = String),
        (status = 422, description = "The form again with its problems next to the fields (the link token is not consumed), \
            or a page saying the connection cannot be made.", content_type = "text/html", body = String),
    ),
)]
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_map(&body);
    let base = public_base(&state, &headers);
    let binding = check_origin(&headers, &own_origins(&state, &headers)).and_then(|()| {
        BrowserBinding::for_submit(
            state.store.as_ref(),
            &headers,
            form.get(csrf::FIELD).map(String::as_str),
        )
    });
    let binding = match binding {
        Ok(binding) => binding,
        Err(error) => return refused(&error).into_response(),
    };
    let answer = match binding.form_token(state.store.as_ref()) {
        Ok(csrf) => submit_inner(&state, &base, &csrf, &form).await,
        Err(e) => Err(api_page(e.into())),
    };
    match answer {
        Ok(response) => response,
        Err(page) => page.into_response(),
    }
}

async fn submit_inner(
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
            &credential,
            collected,
        );
    }
    let Some(link) = consume(state, token).await? else {
        return Err(link_gone());
    };
    let mut context = link.context.clone();
    context.extend(collected);
    let outcome = finish(state, &link, &target, &credential, context).await;
    Ok(result_page(&link, &target, outcome).into_response())
}

async fn consume(state: &AppState, token: &str) -> Flow<Option<LinkToken>> {
    state
        .store
        .consume_link_token(token)
        .await
        .map_err(|e| api_page(e.into()))
}

/// The context the credential config's placeholders render against: host
/// variables, the reconnected account's context, the link's seed context,
/// then `extra`.
fn render_context(
    target: &Target,
    link: &LinkToken,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut context = target.effective.variables.clone();
    if let Some(account) = &target.account {
        context.extend(account.context.clone());
    }
    context.extend(link.context.clone());
    context.extend(extra.clone());
    context
}

#[allow(clippy::too_many_arguments)]
fn start_oauth(
    state: &AppState,
    base: &str,
    token: &str,
    link: &LinkToken,
    target: &Target,
    credential_name: String,
    credential: &Credential,
    collected: Map<String, Value>,
) -> Flow<Response> {
    let flow = oauth_flow(state, credential)?;
    let redirect_uri = callback_url(base, &target.integration.name);
    let mut params = AuthorizeParams::new(redirect_uri.clone());
    if let Some(scopes) = &link.scopes {
        params = params.scopes(scopes.clone());
    }
    let request = flow
        .authorize_url(&render_context(target, link, &collected), &params)
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

/// `GET /connect/{integration}/callback?code=...&state=...` (or `error=...`):
/// finishes an OAuth connection started in this browser. Answers the result
/// page, or an error page that says what to do; the session cookie is cleared
/// either way.
#[utoipa::path(
    get,
    path = "/connect/{integration}/callback",
    tag = "connect",
    operation_id = "connect_callback",
    summary = "OAuth callback",
    description = "The OAuth redirect URI (`{integration}` is the integration's `name`). Needs the session cookie from the same browser, a matching `state` and a session younger than 15 minutes. Exchanges the code, consumes the link token, creates or updates the account, runs the actions and answers the result page; the cookie is cleared either way.",
    security(()),
    params(
        ("integration" = String, Path, description = "The integration's `name`; this URL is the redirect URI to register at the provider."),
        ("code" = Option<String>, Query, description = "The authorization code."),
        ("state" = String, Query, description = "The flow's state; it names the session cookie."),
        ("error" = Option<String>, Query, description = "The provider's error (e.g. `access_denied`) instead of a code."),
        ("error_description" = Option<String>, Query, description = "The provider's error description."),
    ),
    responses(
        (status = 200, description = "The result page (the session cookie is cleared).", content_type = "text/html", body = String),
        (status = 400, description = "A page: no state, no matching session cookie, a session older than 15 minutes, \
            a provider error, or neither code nor error.", content_type = "text/html", body = String),
        (status = 410, description = "A page: the link token is no longer usable.", content_type = "text/html", body = String),
        (status = 422, description = "A page: the connection cannot be made with this config.", content_type = "text/html", body = String),
        (status = 502, description = "A page: the provider did not accept the code.", content_type = "text/html", body = String),
    ),
)]
pub async fn callback(
    State(state): State<AppState>,
    Path(integration): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = form_map(raw.unwrap_or_default().as_bytes());
    let oauth_state = query.get("state").cloned().unwrap_or_default();
    let page = match callback_inner(&state, &integration, &headers, &query).await {
        Ok(page) | Err(page) => page,
    };
    let mut response = page.into_response();
    if !oauth_state.is_empty()
        && let Ok(value) = HeaderValue::from_str(&OAuthSession::clear_cookie(&oauth_state))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn callback_inner(
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
    let (_, credential) = target
        .credential(Some(&session.credential))
        .map_err(|_| link_gone())?;
    let flow = oauth_flow(state, &credential)?;
    let tokens = flow
        .exchange_code(
            &render_context(&target, &link, &session.fields),
            code,
            &session.redirect_uri,
            session.code_verifier.as_deref(),
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
    let mut context = link.context.clone();
    context.extend(session.fields.clone());
    context.extend(tokens.context_patch());
    let outcome = finish(state, &link, &target, &credential, context).await;
    Ok(result_page(&link, &target, outcome))
}

/// Creates the account (or updates the reconnected one), runs the connect
/// actions and answers the account with its final status.
async fn finish(
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
            let tenant_id = link.tenant_id.clone().ok_or_else(|| {
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
                        region: Some(link.region.unwrap_or(Region::Wnam)),
                        is_sandbox: false,
                    },
                )
                .await?;
            (account, None)
        }
    };
    let patchbay = state.runtimes.for_account(env, &account.id).await?;
    // Whatever the token manager remembers about the old grant is void now.
    patchbay.reconnected(&account.id);
    let status = patchbay.connect(&account.id).await.map_err(|e| {
        tracing::error!(account = %account.id, error = %e, "connecting an account failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "connecting the account failed; see the server log",
        )
    })?;
    let account = state.store.get_account(env, &account.id).await?;
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

/// The OAuth flow of `credential` over the server's client, its token
/// requests held to the destination policy.
fn oauth_flow(state: &AppState, credential: &Credential) -> Flow<OAuth2Flow> {
    OAuth2Flow::new(credential, state.runtimes.http().clone())
        .map(|flow| flow.with_destination_check(Some(state.runtimes.destination_check())))
        .map_err(|e| {
            Page::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This connection cannot be made",
                &e.to_string(),
            )
        })
}

/// The page after connecting: says what happened and, when the link has a
/// `redirect_uri`, posts the outcome to an opener window on that URI's origin
/// (never to `*`) and follows it (with `integrated_account_id` and `status`
/// appended). Without a `redirect_uri` it posts nothing.
fn result_page(
    link: &LinkToken,
    target: &Target,
    outcome: Result<IntegratedAccount, ApiError>,
) -> Page {
    let account = match outcome {
        Ok(account) => account,
        Err(error) => return api_page(error),
    };
    let label = target.label();
    let (title, text) = match account.status {
        AccountStatus::Active => (
            format!("{label} is connected"),
            "You can close this window.".to_owned(),
        ),
        _ => (
            format!("{label} could not be set up"),
            format!(
                "The connection was made, but setting it up failed: {}",
                account.last_error.as_deref().unwrap_or("unknown error")
            ),
        ),
    };
    let status = account.status.as_str().to_owned();
    let message = json!({
        "source": "patchbay",
        "type": "connect",
        "integrated_account_id": account.id,
        "environment_integration_id": account.environment_integration_id,
        "tenant_id": account.tenant_id,
        "status": status,
        "error": account.last_error,
    });
    let redirect = link.redirect_uri.as_deref().and_then(|uri| {
        let mut url = url::Url::parse(uri).ok()?;
        url.query_pairs_mut()
            .append_pair("integrated_account_id", &account.id)
            .append_pair("status", &status);
        Some(url)
    });
    let mut body = format!(
        r#"<p id="result" data-status="{}" data-account="{}">{}</p>"#,
        escape(&status),
        escape(&account.id),
        escape(&text)
    );
    let Some(url) = redirect else {
        // No redirect_uri, so no origin to address: post nothing (the result
        // must never go to `*`, i.e. to whatever page opened this window).
        return Page::new(StatusCode::OK, &title, body);
    };
    body.push_str(&format!(
        r#"<p><a href="{}">Continue</a></p>"#,
        escape(url.as_str())
    ));
    let script = format!(
        "var result = {};\n\
         if (window.opener) {{ try {{ window.opener.postMessage(result, {}); }} catch (e) {{}} }}\n\
         window.location.replace({});",
        json_for_script(&message),
        json_for_script(&Value::String(url.origin().ascii_serialization())),
        json_for_script(&Value::String(url.into())),
    );
    Page::new(StatusCode::OK, &title, body).with_script(script)
}
