//! Integrated-account tokens: short-lived bearer tokens scoped to one account, for a
//! browser (or any less trusted client) to call `/proxy` and `/unified` without holding
//! an API token.
//!
//! `POST /integrated-account/token {integrated_account_id}` (with an API token) answers
//! `{integrated_account_token, expires_at}`. The token is `iat_` followed by the account's
//! environment, id and expiry sealed with the store's key (AES-256-GCM, bound to this
//! purpose), so every server process sharing the key can check it without a lookup and
//! nobody can forge or alter one. It is valid for [`ACCOUNT_TOKEN_TTL`] (15 minutes, as
//! Truto's) and only on:
//!
//! * `/proxy/...` and `/unified/...` (not the `/unified/.../meta/...` documentation
//!   routes): the request acts for the token's account, as if it carried
//!   `integrated_account_id=<the account>`; a different `integrated_account_id` is a 403.
//!
//! Every other route answers 403 to an account token. Deleting the account makes its
//! tokens useless at once (the calls find no account).

use std::time::Duration;

use axum::http::Uri;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::query::QueryParams;
use crate::store::Store;

/// What starts an integrated-account token.
pub const ACCOUNT_TOKEN_PREFIX: &str = "iat_";
/// How long an integrated-account token is valid.
pub const ACCOUNT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// The sealing purpose: a value sealed for anything else does not open as a token.
const PURPOSE: &str = "integrated_account_token";
/// The query parameter the token's account fills in.
const ACCOUNT_PARAM: &str = "integrated_account_id";

/// The account an integrated-account token acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScope {
    /// The account's environment.
    #[serde(rename = "env")]
    pub environment_id: String,
    /// The account.
    #[serde(rename = "account")]
    pub account_id: String,
    /// When the token stops working (Unix seconds).
    #[serde(rename = "exp")]
    pub expires_at: i64,
}

impl AccountScope {
    /// When the token stops working.
    pub fn expires(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.expires_at, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// A new token for `account_id` of `environment_id`, valid from `now` for
/// [`ACCOUNT_TOKEN_TTL`].
///
/// # Errors
///
/// 500 when sealing fails.
pub fn issue(
    store: &Store,
    environment_id: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<(String, AccountScope), ApiError> {
    let ttl = chrono::Duration::from_std(ACCOUNT_TOKEN_TTL).unwrap_or(chrono::Duration::zero());
    let scope = AccountScope {
        environment_id: environment_id.to_owned(),
        account_id: account_id.to_owned(),
        expires_at: (now + ttl).timestamp(),
    };
    let payload = serde_json::to_vec(&scope).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the token: {e}"),
        )
    })?;
    let sealed = store.seal(&payload, PURPOSE)?;
    Ok((
        format!("{ACCOUNT_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)),
        scope,
    ))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, message)
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(axum::http::StatusCode::FORBIDDEN, message)
}

/// The scope of `token` (without its prefix) if it is one this server issued and it has
/// not expired at `now`.
///
/// # Errors
///
/// 401 for a token that does not open or has expired (the message says which, never
/// what is inside).
pub fn verify(store: &Store, token: &str, now: DateTime<Utc>) -> Result<AccountScope, ApiError> {
    let invalid = || unauthorized("the integrated-account token is invalid");
    let sealed = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let sealed = String::from_utf8(sealed).map_err(|_| invalid())?;
    let payload = store.unseal(&sealed, PURPOSE).map_err(|_| invalid())?;
    let scope: AccountScope = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    if scope.expires_at <= now.timestamp() {
        return Err(unauthorized(
            "the integrated-account token has expired; ask for a new one",
        ));
    }
    Ok(scope)
}

/// Whether an account token may call `path`.
pub fn allows(path: &str) -> bool {
    let unified = path.starts_with("/unified/")
        && !path.starts_with("/unified/meta/")
        && !path.split('/').any(|segment| segment == "meta");
    path.starts_with("/proxy/") || unified
}

/// `uri` acting for `account_id`: its `integrated_account_id` set to the account.
///
/// # Errors
///
/// 403 when the query names another account; 400 when the query cannot be decoded.
pub fn scoped_uri(uri: &Uri, account_id: &str) -> Result<Uri, ApiError> {
    let QueryParams(mut pairs) = QueryParams::parse(uri.query())?;
    if pairs
        .iter()
        .any(|(key, value)| key == ACCOUNT_PARAM && value != account_id)
    {
        return Err(forbidden(
            "the integrated-account token is for another integrated account",
        ));
    }
    pairs.retain(|(key, _)| key != ACCOUNT_PARAM);
    pairs.push((ACCOUNT_PARAM.to_owned(), account_id.to_owned()));
    let query = serde_urlencoded::to_string(&pairs)
        .map_err(|e| ApiError::bad_request(format!("the query string cannot be encoded: {e}")))?;
    format!("{}?{query}", uri.path())
        .parse()
        .map_err(|e| ApiError::bad_request(format!("the request URI is invalid: {e}")))
}

/// 403 for a route an account token may not call.
pub(crate) fn refuse_route() -> ApiError {
    forbidden(
        "integrated-account tokens may call /proxy and /unified only; use an API token for \
         this route",
    )
}
