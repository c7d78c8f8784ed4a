//! `POST /link-token`: a single-use, expiring token for the connect pages
//! ([`crate::connect`]).
//!
//! A token is for a new account of `tenant_id`, or, with
//! `integrated_account_id`, for reconnecting that account (its id and context
//! are kept). The answer is the only time the token's value is shown.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::created;
use super::responses::{AuthedErrors, NotFoundErrors, ValidationErrors};
use super::views::{CreatedLinkTokenView, Region};
use crate::auth::Env;
use crate::connect::public_base;
use crate::error::{ApiError, ApiResult, ErrorBody, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{LinkParams, NewLinkToken};

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
    pub region: Option<Region>,
    /// Seconds until the token expires: 60 to 604800, default 3600.
    #[serde(default)]
    #[schema(minimum = 60, maximum = 604800)]
    pub expires_in: Option<u64>,
}

/// A [`CreateLinkToken`] whose fields are checked: exactly one of a tenant
/// (new account) and an account (reconnect), and the store's input.
pub struct LinkTokenRequest {
    /// What the store keeps; `environment_integration_id` is completed from
    /// the account on a reconnect ([`LinkTokenRequest::check_target`]).
    token: NewLinkToken,
}

impl CreateLinkToken {
    /// The checked request.
    ///
    /// # Errors
    ///
    /// 422 naming the field when neither or both of `tenant_id` and
    /// `integrated_account_id` are given (blank counts as not given), `region`
    /// is given for a reconnect, `redirect_uri` is not an absolute http(s)
    /// URL, a scope is blank, or `expires_in` is out of range.
    pub fn validate(self) -> ApiResult<LinkTokenRequest> {
        let tenant_id = self.tenant_id.filter(|t| !t.trim().is_empty());
        let account_id = self.integrated_account_id.filter(|t| !t.trim().is_empty());
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
            (None, Some(_)) if self.region.is_some() => {
                return Err(invalid(
                    "region",
                    "a reconnected account keeps its region; `region` is for new accounts",
                ));
            }
            _ => {}
        }
        if let Some(uri) = &self.redirect_uri
            && crate::web_url::parse_web_url(uri).is_none()
        {
            return Err(invalid(
                "redirect_uri",
                format!("`{uri}` is not an absolute http or https URL"),
            ));
        }
        if let Some(scopes) = &self.scopes
            && let Some(index) = scopes.iter().position(|s| s.trim().is_empty())
        {
            return Err(invalid(
                &format!("scopes[{index}]"),
                "a scope must not be empty",
            ));
        }
        let token = NewLinkToken {
            ttl: ttl(self.expires_in)?,
            params: LinkParams {
                tenant_id,
                integrated_account_id: account_id,
                environment_integration_id: self.environment_integration_id,
                context: self.context.unwrap_or_default(),
                redirect_uri: self.redirect_uri,
                scopes: self.scopes,
                persist_previous_context: self.persist_previous_context.unwrap_or(false),
                region: self.region,
            },
        };
        Ok(LinkTokenRequest { token })
    }
}

impl LinkTokenRequest {
    /// Checks what the request names against the environment and, on a
    /// reconnect, takes the account's environment integration; answers the
    /// store's input.
    ///
    /// # Errors
    ///
    /// 404 for an unknown account or environment integration; 422 when
    /// `environment_integration_id` is not the reconnected account's; 409
    /// when the environment integration is disabled.
    pub async fn check_target(self, state: &AppState, env: &str) -> ApiResult<NewLinkToken> {
        let mut token = self.token;
        if let Some(id) = &token.params.integrated_account_id {
            let account = state.store.get_account(env, id).await?;
            match &token.params.environment_integration_id {
                Some(given) if *given != account.environment_integration_id => {
                    return Err(invalid(
                        "environment_integration_id",
                        format!(
                            "the account `{id}` belongs to the environment integration `{}`",
                            account.environment_integration_id
                        ),
                    ));
                }
                _ => {
                    token.params.environment_integration_id =
                        Some(account.environment_integration_id)
                }
            }
        }
        if let Some(id) = &token.params.environment_integration_id {
            let install = state.store.get_environment_integration(env, id).await?;
            if !install.is_enabled {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("the environment integration `{id}` is disabled"),
                ));
            }
        }
        Ok(token)
    }
}

/// The token's lifetime: `expires_in` seconds, or [`DEFAULT_LINK_TOKEN_TTL`].
///
/// # Errors
///
/// 422 at `expires_in` outside [`MIN_LINK_TOKEN_TTL`]..=[`MAX_LINK_TOKEN_TTL`].
fn ttl(expires_in: Option<u64>) -> ApiResult<Duration> {
    let Some(seconds) = expires_in else {
        return Ok(DEFAULT_LINK_TOKEN_TTL);
    };
    let ttl = Duration::from_secs(seconds);
    if (MIN_LINK_TOKEN_TTL..=MAX_LINK_TOKEN_TTL).contains(&ttl) {
        return Ok(ttl);
    }
    Err(invalid(
        "expires_in",
        format!(
            "must be between {} and {} seconds, not {seconds}",
            MIN_LINK_TOKEN_TTL.as_secs(),
            MAX_LINK_TOKEN_TTL.as_secs()
        ),
    ))
}

/// 422 with the one problem at `path`.
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

/// The connect page's URL with `token`: `{public URL}/connect-account?link_token=…`.
pub(crate) fn connect_url(state: &AppState, headers: &HeaderMap, token: &str) -> ApiResult<String> {
    let base = public_base(state, headers);
    let mut url = url::Url::parse(&format!("{base}/connect-account")).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot form the connect URL: {e}"),
        )
    })?;
    url.query_pairs_mut().append_pair("link_token", token);
    Ok(url.into())
}

/// `POST /link-token` → 201 `{link_token, link_url, expires_at}`.
///
/// # Errors
///
/// As [`CreateLinkToken::validate`] and [`LinkTokenRequest::check_target`].
#[utoipa::path(
    post,
    path = "/link-token",
    operation_id = "create_link_token",
    summary = "Create a link token",
    description = "A single-use, expiring link to the connect pages, for a new account of a tenant (`tenant_id`) or to reconnect an existing account (`integrated_account_id`, which keeps its id and context). The value is shown only in this answer (it is stored as a SHA-256 hash). `422` names the field: neither or both of `tenant_id` / `integrated_account_id`, `region` on a reconnect, a `redirect_uri` that is not an absolute http(s) URL, an empty scope, `expires_in` out of range, or an `environment_integration_id` that is not the account's.",
    tag = "link-tokens",
    request_body = CreateLinkToken,
    responses(
        (status = 201, description = "The token and its connect link; the value is shown only here.", body = CreatedLinkTokenView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The environment integration is disabled.", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateLinkToken>,
) -> ApiResult<impl IntoResponse> {
    let token = body.validate()?.check_target(&state, &env).await?;
    let created_token = state.store.create_link_token(&env, token).await?;
    let token = created_token.token.expose();
    Ok(created(CreatedLinkTokenView {
        link_token: token.to_owned(),
        link_url: connect_url(&state, &headers, token)?,
        expires_at: created_token.link_token.expires_at,
    }))
}
