//! Cross-site request protection of every console form.
//!
//! Two checks run before a form is read, like the connect pages':
//!
//! 1. **Fetch metadata and origin** ([`crate::connect::check_origin`]): a
//!    browser's `Sec-Fetch-Site` must be `same-origin` (or `none`), else an
//!    `Origin` header, when sent, must be the server's own.
//! 2. **A token**: the hidden field [`FIELD`] must equal the value the request's
//!    cookie holds, compared in constant time. Signed in, that is the session's
//!    CSRF value (inside the sealed session cookie). On the sign-in form, before
//!    any session, it is the value of the [`SIGN_IN_COOKIE`] the sign-in page
//!    set (so another site cannot sign a browser in to its own environment).
//!
//! All console cookies are `SameSite=Strict`, so no browser sends them with a
//! request another site starts. A refused form answers 403 and changes nothing.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::form::Form;
use super::layout::error_page;
use super::session::Signed;
use crate::connect::{check_origin, cookies, own_origins};
use crate::state::AppState;

/// The hidden form field that carries the token.
pub(super) const FIELD: &str = "csrf_token";
/// The cookie that binds the sign-in form to the browser that opened it.
pub(super) const SIGN_IN_COOKIE: &str = "patchbay_console_sign_in";
/// How long a sign-in page's binding lasts.
const SIGN_IN_MAX_AGE_SECONDS: u32 = 60 * 60;

/// Why a form is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refused {
    /// Fetch metadata or `Origin` say another site posted it.
    #[error("this form was sent from another site")]
    CrossSite,
    /// No token, or not this session's (or this browser's).
    #[error("this form is missing its security token or is out of date")]
    Token,
}

impl Refused {
    /// The 403 page: nothing was changed, and what to do.
    pub(super) fn page(&self) -> Response {
        tracing::warn!(reason = %self, "a console form was refused");
        error_page(
            StatusCode::FORBIDDEN,
            "This form cannot be submitted",
            &format!(
                "For your security, nothing was changed: {self}. Go back, reload the page and try again."
            ),
        )
    }
}

/// The form of a signed-in console POST: parsed from `body` once [`check`] finds it
/// from the console's own origin with the session's token; otherwise why it was refused.
pub(super) fn signed_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    signed: &Signed,
) -> Result<Form, Refused> {
    let form = Form::parse(body);
    check(state, headers, &form, Some(&signed.session.csrf))?;
    Ok(form)
}

/// Checks a submitted `form` against `expected` (the session's value, or the
/// sign-in cookie's).
pub(super) fn check(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
    expected: Option<&str>,
) -> Result<(), Refused> {
    check_origin(headers, &own_origins(state, headers)).map_err(|_| Refused::CrossSite)?;
    let sent = form.get(FIELD).unwrap_or_default();
    match expected {
        Some(expected)
            if !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(Refused::Token),
    }
}

/// The sign-in binding of the request, if it has one.
pub(super) fn sign_in_value(headers: &HeaderMap) -> Option<String> {
    cookies(headers)
        .find(|(name, _)| *name == SIGN_IN_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| {
            value.len() == 43
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Set-Cookie` value of a sign-in binding `value`.
pub(super) fn sign_in_cookie(value: &str, secure: bool) -> String {
    format!(
        "{SIGN_IN_COOKIE}={value}; Path=/console; Max-Age={SIGN_IN_MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The hidden input carrying `token`.
pub(super) fn hidden_field(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="{FIELD}" value="{}">"#,
        crate::connect::html::escape(token)
    )
}
