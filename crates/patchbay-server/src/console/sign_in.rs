//! `GET/POST /console/sign-in` and `POST /console/sign-out`.
//!
//! Sign-in takes an API token of an environment (checked like a bearer token,
//! [`Store::authenticate`](crate::store::Store::authenticate)), or, when
//! `PATCHBAY_CONSOLE_PASSWORD` is set, that password and an environment's
//! name. Neither is ever echoed back or logged. A failed attempt answers 401
//! with the form and a message that does not say which part was wrong.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::csrf::{self, hidden_field};
use super::form::Form;
use super::layout::{Screen, error_page, escape, notice};
use super::session::{Credential, Session, Signed, is_secure, random_value, safe_next};
use super::throttle;
use crate::state::AppState;
use crate::store::StorageError;

/// What the sign-in page shows above its forms.
enum Message<'a> {
    None,
    SignedOut,
    Failed(&'a str),
}

/// The sign-in page with the binding `binding` and `next`.
fn sign_in_page(state: &AppState, binding: &str, next: &str, message: Message<'_>) -> Screen {
    let mut body = String::new();
    match message {
        Message::None => {}
        Message::SignedOut => body.push_str(&notice("You are signed out.")),
        Message::Failed(text) => {
            let _ = write!(
                body,
                "<p class=\"error\" role=\"alert\" id=\"sign-in-error\">{}</p>",
                escape(text)
            );
        }
    }
    let hidden = format!(
        "{}<input type=\"hidden\" name=\"next\" value=\"{}\">",
        hidden_field(binding),
        escape(next)
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"with-token\"><h2 id=\"with-token\">With an API token</h2>\
         <form method=\"post\" action=\"/console/sign-in\">{hidden}\
         <label for=\"token\">API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required \
         aria-describedby=\"token-hint\">\
         <p class=\"hint\" id=\"token-hint\">An API token of the environment to manage, e.g. the \
         one the server printed on its first start (<code>pb_…</code>), or one made with \
         <code>patchbay-server token create</code>.</p>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form></section>"
    );
    if state.console.password().is_some() {
        let _ = write!(
            body,
            "<section aria-labelledby=\"with-password\"><h2 id=\"with-password\">With the console password</h2>\
             <form method=\"post\" action=\"/console/sign-in\">{hidden}\
             <label for=\"password\">Console password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <label for=\"environment\">Environment</label>\
             <input id=\"environment\" name=\"environment\" type=\"text\" autocomplete=\"off\" \
             aria-describedby=\"environment-hint\">\
             <p class=\"hint\" id=\"environment-hint\">The environment's name; leave it empty when \
             the server has one environment.</p>\
             <button type=\"submit\" id=\"sign-in-password\">Sign in</button></form></section>"
        );
    }
    Screen::public(StatusCode::OK, "Sign in", body)
}

/// `response` with `cookie` appended as a `Set-Cookie` header.
fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /console/sign-in[?next=/console/...]`: the sign-in forms. Sets the
/// sign-in binding cookie when the browser has none.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = Form::parse(raw.unwrap_or_default().as_bytes());
    let next = safe_next(query.get("next"));
    let message = if query.get("signed_out").is_some() {
        Message::SignedOut
    } else {
        Message::None
    };
    let (binding, fresh) = match csrf::sign_in_value(&headers) {
        Some(value) => (value, false),
        None => (random_value(), true),
    };
    let response = sign_in_page(&state, &binding, &next, message).into_response();
    if fresh {
        with_cookie(
            response,
            &csrf::sign_in_cookie(&binding, is_secure(&state, &headers)),
        )
    } else {
        response
    }
}

/// Why a sign-in attempt failed.
enum Failure {
    /// The credentials are wrong (the message does not say which part).
    Refused(&'static str),
    /// The store failed.
    Storage(StorageError),
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// The environment and credential `form` signs in to.
async fn authenticate(state: &AppState, form: &Form) -> Result<(String, Credential), Failure> {
    if let Some(token) = form.text("token") {
        return match state.store.authenticate(token).await? {
            Some(environment_id) => Ok((
                environment_id,
                Credential::Token {
                    token: token.to_owned(),
                },
            )),
            None => Err(Failure::Refused(
                "That API token is not valid. Check that it was copied whole and has not been revoked.",
            )),
        };
    }
    let refused = Failure::Refused("The password or the environment is not right.");
    let (Some(password), Some(attempt)) = (state.console.password(), form.get("password")) else {
        return Err(Failure::Refused("Enter an API token."));
    };
    if !password.matches(attempt) {
        return Err(refused);
    }
    let environments = state.store.list_environments().await?;
    let environment = match form.text("environment") {
        Some(name) => environments.into_iter().find(|e| e.name == name),
        None if environments.len() == 1 => environments.into_iter().next(),
        None => None,
    };
    match environment {
        Some(environment) => Ok((
            environment.id,
            Credential::Password {
                fingerprint: password.fingerprint(),
            },
        )),
        None => Err(refused),
    }
}

/// The largest sign-in form read.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// `POST /console/sign-in` (form: `token`, or `password` and `environment`;
/// `next`; `csrf_token`): 303 to `next` with the session cookie, 401 with the
/// form again, 403 for a form without this browser's binding, or 429 when
/// the client has tried too often ([`throttle`]).
pub(super) async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(too_many) = throttle::check(&state.store, &parts).await {
        return too_many;
    }
    let headers = parts.headers;
    let body = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "This form is too large",
                "Go back and try again.",
            );
        }
    };
    let form = Form::parse(&body);
    let binding = csrf::sign_in_value(&headers);
    if let Err(refused) = csrf::check(&state, &headers, &form, binding.as_deref()) {
        return refused.page();
    }
    let binding = binding.unwrap_or_default();
    let next = safe_next(form.get("next"));
    let secure = is_secure(&state, &headers);
    let (environment_id, credential) = match authenticate(&state, &form).await {
        Ok(found) => found,
        Err(Failure::Refused(message)) => {
            tracing::info!("a console sign-in was refused");
            return sign_in_page(&state, &binding, &next, Message::Failed(message))
                .with_status(StatusCode::UNAUTHORIZED)
                .into_response();
        }
        Err(Failure::Storage(error)) => return storage_error(&error),
    };
    let session = Session::start(environment_id, credential);
    let cookie = match session.set_cookie(&state.store, secure) {
        Ok(cookie) => cookie,
        Err(error) => return storage_error(&error),
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&next) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    let response = with_cookie(response, &cookie);
    // The binding has done its job; a new one is made for the next sign-in.
    with_cookie(
        response,
        &format!(
            "{}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict",
            csrf::SIGN_IN_COOKIE
        ),
    )
}

/// `POST /console/sign-out` (form: `csrf_token`): clears the session cookie
/// and goes back to the sign-in page.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = csrf::signed_form(&state, &headers, &body, &signed) {
        return refused.page();
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_static("/console/sign-in?signed_out=1"),
    );
    with_cookie(
        response,
        &Session::clear_cookie(is_secure(&state, &headers)),
    )
}

/// The 500 page of a store that failed.
pub(super) fn storage_error(error: &StorageError) -> Response {
    tracing::error!(%error, "a console page cannot reach the store");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The console cannot reach its storage right now. Try again in a moment.",
    )
}
