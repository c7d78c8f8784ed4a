//! `POST /link-token`: a single-use, expiring token for the connect pages
//! ([`crate::connect`]).
//!
//! A token is for a new account of `tenant_id`, or, with
//! `integrated_account_id`, for reconnecting that account (its id and context
//! are kept). The answer is the only time the token's value is shown.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use patchbay::config::Region;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Env;
use crate::connect::public_base;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::NewLinkToken;

/// How long a link token is valid unless `expires_in` says otherwise.
pub const DEFAULT_LINK_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest `expires_in` accepted (7 days).
pub const MAX_LINK_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The shortest `expires_in` accepted.
pub const MIN_LINK_TOKEN_TTL: Duration = Duration::from_secs(60);

/// The body of `POST /link-token` (Truto's, plus `expires_in`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkToken {
    /// The tenant a new account is for. Exclusive with `integrated_account_id`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The account to reconnect. Exclusive with `tenant_id`.
    #[serde(default)]
    pub integrated_account_id: Option<String>,
    /// Connect only this installed integration (else the user chooses).
    #[serde(default)]
    pub environment_integration_id: Option<String>,
    /// Context the account starts with (e.g. values the config's
    /// placeholders read); the user's input and tokens are added to it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Map<String, Value>>,
    /// Where the browser goes after connecting, with `integrated_account_id`
    /// and `status` appended.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// OAuth scopes replacing the config's.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Accepted for Truto compatibility. A reconnect always keeps the
    /// account's context (new values replace keys of the same name).
    #[serde(default)]
    pub persist_previous_context: Option<bool>,
    /// Data region of a new account (default `wnam`).
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::Region>)]
    pub region: Option<Region>,
    /// Seconds until the token expires: 60 to 604800, default 3600.
    #[serde(default)]
    #[schema(minimum = 60, maximum = 604800)]
    pub expires_in: Option<u64>,
}

fn invalid(path: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::Invalid {
        message: format!("the link token request is invalid: {path}: {message}"),
        errors: vec![FieldError {
            path: path.to_owned(),
            message,
        }],
    }
}

/// `POST /link-token` → 201 `{link_token, link_url, expires_at}`.
///
/// # Errors
///
/// 422 naming the field when neither or both of `tenant_id` and
/// `integrated_account_id` are given, `region` is given for a reconnect,
/// `redirect_uri` is not an absolute http(s) URL, `expires_in` is out of
/// range, or `environment_integration_id` differs from the reconnected
/// account's; 404 for an unknown account or environment integration; 409 for
/// a disabled one.
#[utoipa::path(
    post,
    path = "/link-token",
    operation_id = "create_link_token",
    summary = "Create a link token",
    description = "A single-use, expiring link to the connect pages, for a new account of a tenant (`tenant_id`) or to reconnect an existing account (`integrated_account_id`, which keeps its id and context). The value is shown only in this answer (it is stored as a SHA-256 hash).",
    tag = "link-tokens",
    request_body = CreateLinkToken,
    responses(
        (status = 201, description = "The token and its connect link; the value is shown only here.", body = crate::openapi::CreatedLinkToken),
        (status = 400, description = "Malformed JSON or an empty body.", body = crate::openapi::ErrorBody),
        (status = 401, description = "Missing or invalid API token.", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such account or environment integration in the environment.", body = crate::openapi::ErrorBody),
        (status = 409, description = "The environment integration is disabled.", body = crate::openapi::ErrorBody),
        (status = 422, description = "Naming the field: neither or both of `tenant_id` / `integrated_account_id`, \
            `region` on a reconnect, a `redirect_uri` that is not an absolute http(s) URL, an empty scope, \
            `expires_in` out of range, an `environment_integration_id` that is not the account's, or a body \
            of the wrong shape.", body = crate::openapi::ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateLinkToken>,
) -> ApiResult<impl IntoResponse> {
    let tenant_id = body.tenant_id.filter(|t| !t.trim().is_empty());
    let account_id = body.integrated_account_id.filter(|t| !t.trim().is_empty());
    let mut install_id = body.environment_integration_id;
    match (&tenant_id, &account_id) {
        (None, None) => {
            return Err(invalid(
                "tenant_id",
                "give `tenant_id` for a new account or `integrated_account_id` to reconnect one",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "integrated_account_id",
                "give either `tenant_id` (new account) or `integrated_account_id` (reconnect), not both",
            ));
        }
        _ => {}
    }
    if let Some(id) = &account_id {
        if body.region.is_some() {
            return Err(invalid(
                "region",
                "a reconnected account keeps its region; `region` is for new accounts",
            ));
        }
        let account = state.store.get_account(&env, id).await?;
        match &install_id {
            Some(given) if *given != account.environment_integration_id => {
                return Err(invalid(
                    "environment_integration_id",
                    format!(
                        "the account `{id}` belongs to the environment integration `{}`",
                        account.environment_integration_id
                    ),
                ));
            }
            _ => install_id = Some(account.environment_integration_id),
        }
    }
    if let Some(id) = &install_id {
        let install = state.store.get_environment_integration(&env, id).await?;
        if !install.is_enabled {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("the environment integration `{id}` is disabled"),
            ));
        }
    }
    if let Some(uri) = &body.redirect_uri
        && crate::web_url::parse_web_url(uri).is_none()
    {
        return Err(invalid(
            "redirect_uri",
            format!("`{uri}` is not an absolute http or https URL"),
        ));
    }
    if let Some(scopes) = &body.scopes
        && let Some(index) = scopes.iter().position(|s| s.trim().is_empty())
    {
        return Err(invalid(
            &format!("scopes[{index}]"),
            "a scope must not be empty",
        ));
    }
    let ttl = match body.expires_in {
        None => DEFAULT_LINK_TOKEN_TTL,
        Some(seconds) => {
            let ttl = Duration::from_secs(seconds);
            if !(MIN_LINK_TOKEN_TTL..=MAX_LINK_TOKEN_TTL).contains(&ttl) {
                return Err(invalid(
                    "expires_in",
                    format!(
                        "must be between {} and {} seconds, not {seconds}",
                        MIN_LINK_TOKEN_TTL.as_secs(),
                        MAX_LINK_TOKEN_TTL.as_secs()
                    ),
                ));
            }
            ttl
        }
    };
    let created = state
        .store
        .create_link_token(
            &env,
            NewLinkToken {
                tenant_id,
                integrated_account_id: account_id,
                environment_integration_id: install_id,
                context: body.context.unwrap_or_default(),
                redirect_uri: body.redirect_uri,
                scopes: body.scopes,
                persist_previous_context: body.persist_previous_context.unwrap_or(false),
                region: body.region,
                ttl,
            },
        )
        .await?;
    let token = created.token.expose();
    let mut link_url = url::Url::parse(&format!(
        "{}/connect-account",
        public_base(&state, &headers)
    ))
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot form the connect URL: {e}"),
        )
    })?;
    link_url.query_pairs_mut().append_pair("link_token", token);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "link_token": token,
            "link_url": link_url.as_str(),
            "expires_at": created.link_token.expires_at,
        })),
    ))
}
