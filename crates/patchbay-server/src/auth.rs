//! Bearer-token authentication: `Authorization: Bearer <api token>` resolves
//! to the environment the request acts in.
//!
//! [`require_token`] runs before every API handler; handlers take [`Env`] and
//! act only in that environment, so an id of another environment is a 404 like
//! a missing one. A missing or unknown token is 401. Token values are never
//! logged or echoed. The scheme is matched case-insensitively ([`bearer_token`]).
//!
//! An integrated-account token (`iat_…`, see [`crate::account_tokens`]) authenticates
//! too, for `/proxy` and `/unified` only: the request acts in the account's environment,
//! for that account.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::account_tokens;
use crate::error::ApiError;
use crate::state::AppState;

/// The environment the authenticated request acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env(pub String);

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// The token of an `Authorization` value `Bearer <token>`.
///
/// The scheme is case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER`), and
/// spaces or tabs around the scheme and the token are ignored. `None` for any
/// other scheme, an empty token, or a token with inner whitespace.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    let valid =
        scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains([' ', '\t']);
    valid.then_some(token)
}

/// Middleware: authenticates the bearer token and stores the [`Env`] in the
/// request's extensions.
///
/// # Errors
///
/// 401 for a missing, malformed or unknown token; 500 when the store fails.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing `Authorization: Bearer <api token>` header"))?;
    let token =
        header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            unauthorized("the `Authorization` header must be `Bearer <api token>`")
        })?;
    if let Some(sealed) = token.strip_prefix(account_tokens::ACCOUNT_TOKEN_PREFIX) {
        let scope = account_tokens::verify(&state.store, sealed, chrono::Utc::now())?;
        if !account_tokens::allows(request.uri().path()) {
            return Err(account_tokens::refuse_route());
        }
        *request.uri_mut() = account_tokens::scoped_uri(request.uri(), &scope.account_id)?;
        request
            .extensions_mut()
            .insert(Env(scope.environment_id.clone()));
        request.extensions_mut().insert(scope);
        return Ok(next.run(request).await);
    }
    let environment_id = state
        .store
        .authenticate(token)
        .await?
        .ok_or_else(|| unauthorized("the API token is invalid or has been deleted"))?;
    request.extensions_mut().insert(Env(environment_id));
    Ok(next.run(request).await)
}

impl<S: Send + Sync> FromRequestParts<S> for Env {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Env>()
            .cloned()
            .ok_or_else(|| unauthorized("the request is not authenticated"))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive_and_whitespace_is_tolerated() {
        for value in [
            "Bearer pb_x",
            "bearer pb_x",
            "BEARER pb_x",
            "  Bearer   pb_x  ",
            "bEaReR\tpb_x",
        ] {
            assert_eq!(bearer_token(value), Some("pb_x"), "{value:?}");
        }
        for value in [
            "Bearer",
            "Bearer ",
            "Basic pb_x",
            "Bearerpb_x",
            "Bearer a b",
            "pb_x",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }
}
