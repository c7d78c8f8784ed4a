//! The OAuth connect session: what the callback needs, kept in the browser.
//!
//! Starting an OAuth connection seals an [`OAuthSession`] with the store's key
//! ([`Store::seal`]) into an `HttpOnly`, `SameSite=Lax` cookie named after the
//! flow's `state`, scoped to `/connect/`. The callback finds the cookie by the
//! `state` the provider sends back, unseals it and checks that it names the
//! same state, the same integration and has not expired. So:
//!
//! * a callback only works in the browser that started the flow (CSRF: a
//!   forged callback has no cookie), and several flows can run side by side;
//! * any server process sharing the key can finish a flow another started
//!   (nothing is kept in memory), which is what a load balancer needs;
//! * the PKCE verifier and the link token never appear in a URL, and a
//!   tampered or foreign cookie fails authentication instead of being trusted.

use std::fmt;

use axum::http::HeaderMap;
use axum::http::header;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::{StorageError, Store};

/// How long a user has between leaving for the provider and coming back.
pub(crate) const SESSION_TTL: Duration = Duration::minutes(15);
/// The `purpose` the session is sealed for.
const PURPOSE: &str = "oauth-connect-session";
/// Cookie names are this prefix plus the state.
const COOKIE_PREFIX: &str = "patchbay_connect_";

/// A started OAuth connection.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct OAuthSession {
    /// The `state` sent to the provider.
    pub(crate) state: String,
    /// The environment of the link token.
    pub(crate) environment_id: String,
    /// The link token's value (consumed at the callback).
    pub(crate) link_token: String,
    /// The environment integration being connected.
    pub(crate) environment_integration_id: String,
    /// The integration's name, the callback path segment.
    pub(crate) integration_name: String,
    /// The credential's name in the config (`oauth2`, or a key of a credentials map).
    pub(crate) credential: String,
    /// The `redirect_uri` sent to the provider; the code exchange repeats it.
    pub(crate) redirect_uri: String,
    /// The PKCE verifier, when the credential uses PKCE.
    pub(crate) code_verifier: Option<String>,
    /// Field values collected before leaving (e.g. a subdomain).
    pub(crate) fields: Map<String, Value>,
    /// When the session stops being accepted.
    pub(crate) expires_at: DateTime<Utc>,
}

impl fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSession")
            .field("environment_id", &self.environment_id)
            .field(
                "environment_integration_id",
                &self.environment_integration_id,
            )
            .field("integration_name", &self.integration_name)
            .field("credential", &self.credential)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a callback's session is not usable; each says what the user should do.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum SessionError {
    /// No cookie for this state: another browser, cookies blocked, or already finished.
    #[error(
        "this sign-in was not started in this browser, or it has already finished; \
         open the connect link again"
    )]
    Missing,
    /// The cookie does not unseal, or does not match the callback.
    #[error("this sign-in's session is not valid; open the connect link again")]
    Invalid,
    /// Older than [`SESSION_TTL`].
    #[error("this sign-in took too long and expired; open the connect link again")]
    Expired,
}

impl OAuthSession {
    /// The cookie's name.
    pub(crate) fn cookie_name(state: &str) -> String {
        format!("{COOKIE_PREFIX}{state}")
    }

    /// The `Set-Cookie` value that stores this session.
    ///
    /// # Errors
    ///
    /// The store's error when sealing fails.
    pub(crate) fn set_cookie(&self, store: &Store, secure: bool) -> Result<String, StorageError> {
        let plaintext =
            serde_json::to_vec(self).map_err(|e| StorageError::Crypto(e.to_string()))?;
        let sealed = store.seal(&plaintext, PURPOSE)?;
        Ok(format!(
            "{}={}; Path=/connect/; Max-Age={}; HttpOnly; SameSite=Lax{}",
            Self::cookie_name(&self.state),
            cookie_encode(&sealed),
            SESSION_TTL.num_seconds(),
            if secure { "; Secure" } else { "" }
        ))
    }

    /// The `Set-Cookie` value that deletes the session of `state`.
    pub(crate) fn clear_cookie(state: &str) -> String {
        format!(
            "{}=; Path=/connect/; Max-Age=0; HttpOnly; SameSite=Lax",
            Self::cookie_name(state)
        )
    }

    /// The session of `state` from the request's cookies, checked against
    /// the callback's `integration_name` and the clock.
    pub(crate) fn from_request(
        store: &Store,
        headers: &HeaderMap,
        state: &str,
        integration_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, SessionError> {
        let name = Self::cookie_name(state);
        let sealed = cookies(headers)
            .find(|(k, _)| *k == name)
            .map(|(_, v)| cookie_decode(v))
            .ok_or(SessionError::Missing)?;
        let plaintext = store
            .unseal(&sealed, PURPOSE)
            .map_err(|_| SessionError::Invalid)?;
        let session: Self =
            serde_json::from_slice(&plaintext).map_err(|_| SessionError::Invalid)?;
        if session.state != state || session.integration_name != integration_name {
            return Err(SessionError::Invalid);
        }
        if session.expires_at <= now {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }
}

/// `name=value` pairs of every `Cookie` header.
pub(crate) fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// Sealed values are `v1:<key id>:<base64>`; `:`, `+`, `/` and `=` are
/// percent-encoded so the value is a valid cookie octet string everywhere.
pub(crate) fn cookie_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub(crate) fn cookie_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_values_round_trip_and_parse_among_others() {
        let sealed = "v1:k1:ab+/c==";
        let encoded = cookie_encode(sealed);
        assert!(
            !encoded.contains([':', '+', '/', '=', ';', ' ']),
            "{encoded}"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=1; patchbay_connect_s1={encoded}; b=2")).unwrap(),
        );
        let found: Vec<_> = cookies(&headers).collect();
        assert_eq!(found.len(), 3);
        assert_eq!(cookie_decode(found[1].1), sealed);
    }
}
