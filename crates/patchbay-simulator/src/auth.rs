//! Checks the credentials a provider's API route receives, the way that provider does.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Provider;
use super::problem::AuthFailure;
use super::state::ProviderRuntime;
use super::tokens::{TokenStatus, TokenStore};
use super::web::{Params, header_str};

/// What the client presented.
enum Presented {
    Token(String),
    Basic(String, String),
    Nothing,
    Garbage,
}

/// Authorization scheme per provider: Shopify's `X-Shopify-Access-Token`; Zendesk Basic
/// (or Bearer); Slack Bearer or a `token` parameter; GitHub `Bearer`/`token`; everyone
/// else `Bearer`.
fn presented(provider: Provider, headers: &HeaderMap, query: &Params) -> Presented {
    if provider == Provider::Shopify {
        return match header_str(headers, "x-shopify-access-token") {
            Some(t) if !t.is_empty() => Presented::Token(t.to_owned()),
            _ => Presented::Nothing,
        };
    }
    let Some(value) = header_str(headers, "authorization") else {
        return match query.get("token") {
            Some(t) if provider == Provider::Slack => Presented::Token(t.to_owned()),
            _ => Presented::Nothing,
        };
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer")
        || (provider == Provider::Github && scheme.eq_ignore_ascii_case("token"))
    {
        return if rest.is_empty() {
            Presented::Nothing
        } else {
            Presented::Token(rest.to_owned())
        };
    }
    if scheme.eq_ignore_ascii_case("basic") && provider == Provider::Zendesk {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Presented::Basic(user.to_owned(), pass.to_owned());
        }
    }
    Presented::Garbage
}

/// `Ok` when the request carries credentials `provider` accepts.
pub(crate) fn authenticate(
    p: &ProviderRuntime,
    tokens: &TokenStore,
    headers: &HeaderMap,
    query: &Params,
) -> Result<(), AuthFailure> {
    match presented(p.provider, headers, query) {
        Presented::Nothing => Err(AuthFailure::Missing),
        Presented::Garbage => Err(AuthFailure::Invalid),
        Presented::Basic(user, pass) => match &p.credentials.basic {
            Some((u, pw)) if *u == user && *pw == pass => Ok(()),
            _ => Err(AuthFailure::Invalid),
        },
        Presented::Token(token) => {
            if p.credentials.static_tokens.contains(&token) {
                return Ok(());
            }
            match tokens.status(p.provider, &token) {
                TokenStatus::Valid => Ok(()),
                TokenStatus::Expired => Err(AuthFailure::Expired),
                TokenStatus::Unknown => Err(AuthFailure::Invalid),
            }
        }
    }
}
