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
//!    `redirect_uri`, tells an opener window (or the framing page) on that
//!    URI's origin (`postMessage`, never to `*`) and then, unless framed,
//!    follows it.
//!
//! A form posted by another site, or without the browser binding the pages
//! hand out, is refused before anything else (the `csrf` module), and no page can be
//! framed but by the origins listed in `PATCHBAY_CORS_ALLOWED_ORIGINS`
//! (`allow_framing`, for the Link SDK's iframe mode).
//!
//! Nothing here answers JSON: the user sees a page that says what happened
//! and what to do. Link tokens are checked on every step (unknown, expired or
//! used: 410) and consumed only once the credentials are known to work at the
//! provider's token endpoint or were submitted.
//!
//! # Layout
//!
//! The handlers here parse the request and answer; the flow's steps live in
//! one module per job:
//!
//! * `link`: the link token (checked on every step, consumed once);
//! * `target`: what is connected (the install, its config and credential);
//! * `pages`: the choosers, the credential form, the result and error pages;
//! * `oauth`: the redirect to the provider and the callback;
//! * `finish`: the submitted form, and creating or updating the account;
//! * `public_url`: the server's public base URL and origins;
//! * `csrf`, `session`, `fields`, `html`: the browser binding, the sealed
//!   OAuth session cookie, the credential fields and the HTML layout.

mod csrf;
mod fields;
mod finish;
pub(crate) mod html;
mod link;
mod oauth;
mod pages;
mod public_url;
mod session;
mod target;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) use self::csrf::{CsrfError, check_origin};
pub(crate) use self::finish::connect_account;
pub use self::oauth::callback_url;
pub(crate) use self::public_url::{own_origins, public_base};
pub(crate) use self::session::{cookie_decode, cookie_encode, cookies};

use self::csrf::BrowserBinding;
use self::finish::submit_inner;
use self::html::Page;
use self::oauth::callback_inner;
use self::pages::{api_page, page_inner};
use self::session::OAuthSession;
use crate::state::AppState;

/// `a=1&b=2` (a query string or a form body) as a map; a repeated name keeps
/// its last value.
fn form_map(encoded: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
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

/// Middleware of the connect pages: lets the origins listed in
/// `PATCHBAY_CORS_ALLOWED_ORIGINS` frame them (the Link SDK's iframe mode);
/// `*` or no list keeps them unframeable (see [`html::frame_for`]).
pub(crate) async fn allow_framing(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if let crate::CorsOrigins::List(origins) = &state.cors_origins {
        html::frame_for(&mut response, origins);
    }
    response
}
