//! The console's session: a sealed cookie, and the [`Signed`] extractor every
//! page behind sign-in takes.
//!
//! Signing in seals a [`Session`] with the store's key ([`Store::seal`]) into
//! the cookie [`COOKIE`]: `HttpOnly`, `SameSite=Strict`, `Path=/console`, and
//! `Secure` when the public URL is https. Nothing is kept in memory, so any
//! server process sharing the key serves the session. The session holds the
//! environment, the CSRF value its forms carry, when it expires, and what
//! proves it is still allowed:
//!
//! * signed in with an API token: the token (inside the sealed cookie only),
//!   authenticated again on every request, so revoking the token ends the
//!   session at once;
//! * signed in with the console password: a fingerprint of the password, so
//!   changing `PATCHBAY_CONSOLE_PASSWORD` ends every such session.
//!
//! Signing out clears the cookie. A copy of the cookie taken before stays
//! valid until it expires ([`SESSION_TTL`]) unless its token is revoked or the
//! password changes.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::layout::error_page;
use crate::connect::{cookie_decode, cookie_encode, cookies, public_base};
use crate::state::AppState;
use crate::store::{Environment, StorageError, Store};

/// The session cookie's name.
pub(super) const COOKIE: &str = "patchbay_console";
/// How long a session lasts after signing in.
pub(super) const SESSION_TTL: Duration = Duration::hours(8);
/// The `purpose` the session is sealed for.
const PURPOSE: &str = "console-session";

/// A signed-in person's session.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Session {
    /// The environment the console acts in.
    pub(super) environment_id: String,
    /// The value every form of this session carries ([`super::csrf`]).
    pub(super) csrf: String,
    /// When the session stops being accepted.
    expires_at: DateTime<Utc>,
    /// What proves the session is still allowed.
    credential: Credential,
}

/// How the session was signed in.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Credential {
    /// An API token of the environment.
    Token {
        /// The token's value.
        token: String,
    },
    /// The console password ([`super::options::ConsolePassword::fingerprint`]).
    Password {
        /// The password's fingerprint.
        fingerprint: String,
    },
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("environment_id", &self.environment_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A random value of 32 bytes, base64url (43 characters).
pub(super) fn random_value() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether the console is served over https (cookies then get `Secure`).
pub(super) fn is_secure(state: &AppState, headers: &HeaderMap) -> bool {
    public_base(state, headers).starts_with("https://")
}

impl Session {
    /// A new session of `environment_id`, proved by `credential`.
    pub(super) fn start(environment_id: String, credential: Credential) -> Self {
        Self {
            environment_id,
            csrf: random_value(),
            expires_at: Utc::now() + SESSION_TTL,
            credential,
        }
    }

    /// The `Set-Cookie` value that stores this session.
    ///
    /// # Errors
    ///
    /// The store's error when sealing fails.
    pub(super) fn set_cookie(&self, store: &Store, secure: bool) -> Result<String, StorageError> {
        let plaintext =
            serde_json::to_vec(self).map_err(|e| StorageError::Crypto(e.to_string()))?;
        let sealed = store.seal(&plaintext, PURPOSE)?;
        Ok(format!(
            "{COOKIE}={}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict{}",
            cookie_encode(&sealed),
            SESSION_TTL.num_seconds(),
            secure_attribute(secure)
        ))
    }

    /// The `Set-Cookie` value that deletes the session.
    pub(super) fn clear_cookie(secure: bool) -> String {
        format!(
            "{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict{}",
            secure_attribute(secure)
        )
    }

    /// The unexpired session in the request's cookie, if any.
    fn from_headers(store: &Store, headers: &HeaderMap, now: DateTime<Utc>) -> Option<Self> {
        let sealed = cookies(headers)
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| cookie_decode(value))?;
        let plaintext = store.unseal(&sealed, PURPOSE).ok()?;
        let session: Self = serde_json::from_slice(&plaintext).ok()?;
        (session.expires_at > now).then_some(session)
    }

    /// Whether what signed the session in still allows it: the token still
    /// authenticates to the session's environment, or the password is the
    /// same.
    ///
    /// # Errors
    ///
    /// The store's error when authenticating fails.
    async fn still_allowed(&self, state: &AppState) -> Result<bool, StorageError> {
        match &self.credential {
            Credential::Token { token } => Ok(state.store.authenticate(token).await?.as_deref()
                == Some(self.environment_id.as_str())),
            Credential::Password { fingerprint } => Ok(state
                .console
                .password()
                .is_some_and(|password| password.fingerprint() == *fingerprint)),
        }
    }
}

fn secure_attribute(secure: bool) -> &'static str {
    if secure { "; Secure" } else { "" }
}

/// A signed-in request: its session and environment.
pub(super) struct Signed {
    /// The session.
    pub(super) session: Session,
    /// The environment the console acts in.
    pub(super) environment: Environment,
}

impl Signed {
    /// The environment's id.
    pub(super) fn env(&self) -> &str {
        &self.environment.id
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    /// The request's session, still allowed; else a redirect to the sign-in
    /// page that comes back to this page (and clears a stale cookie).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let secure = is_secure(state, &parts.headers);
        let Some(session) = Session::from_headers(&state.store, &parts.headers, Utc::now()) else {
            return Err(to_sign_in(parts, secure));
        };
        match session.still_allowed(state).await {
            Ok(true) => {}
            Ok(false) => return Err(to_sign_in(parts, secure)),
            Err(error) => return Err(storage_failed(&error)),
        }
        match state.store.get_environment(&session.environment_id).await {
            Ok(environment) => Ok(Self {
                session,
                environment,
            }),
            Err(StorageError::NotFound { .. }) => Err(to_sign_in(parts, secure)),
            Err(error) => Err(storage_failed(&error)),
        }
    }
}

/// 303 to the sign-in page, with `next` set to this page when it is a page
/// one can come back to (a `GET`), and the session cookie cleared.
fn to_sign_in(parts: &Parts, secure: bool) -> Response {
    let mut location = String::from("/console/sign-in");
    if parts.method == axum::http::Method::GET
        && let Some(path) = parts.uri.path_and_query()
        && path.path() != "/console/sign-in"
    {
        location.push_str("?next=");
        location.extend(url::form_urlencoded::byte_serialize(
            path.as_str().as_bytes(),
        ));
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if cookies(&parts.headers).any(|(name, _)| name == COOKIE)
        && let Ok(value) = HeaderValue::from_str(&Session::clear_cookie(secure))
    {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// The 500 page of a store that failed while checking a session.
fn storage_failed(error: &StorageError) -> Response {
    tracing::error!(%error, "the console cannot check a session");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The console cannot reach its storage right now. Try again in a moment.",
    )
}

/// Where to go after signing in: `next` when it is a console page of this
/// server, else the accounts list.
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/console")
                && !next.starts_with("//")
                && !next.contains(['\\', '\r', '\n']) =>
        {
            next.to_owned()
        }
        _ => "/console/accounts".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_console() {
        assert_eq!(safe_next(Some("/console/catalog")), "/console/catalog");
        for bad in [
            "https://evil.example/console",
            "//evil.example",
            "/health",
            "/console\\@evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console/accounts", "{bad}");
        }
        assert_eq!(safe_next(None), "/console/accounts");
    }

    #[test]
    fn cookies_are_strict_http_only_and_scoped() {
        let cookie = Session::clear_cookie(true);
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("Path=/console"), "{cookie}");
        assert!(cookie.ends_with("; Secure"), "{cookie}");
        assert!(!Session::clear_cookie(false).contains("Secure"));
        let session = Session::start(
            "env".into(),
            Credential::Token {
                token: "pb_secret".into(),
            },
        );
        assert!(!format!("{session:?}").contains("pb_secret"));
    }
}
