//! Token revocation (RFC 7009).

use chrono::Utc;
use reqwest::header::RETRY_AFTER;
use serde_json::{Map, Value};

use super::OAuth2Flow;
use super::endpoint::endpoint;
use super::params::param;
use super::token_response::{MAX_TOKEN_RESPONSE, interpret_response};
use crate::AuthError;
use crate::context::placeholder_data;

/// Which token [`OAuth2Flow::revoke`] revokes (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
}

impl TokenTypeHint {
    /// The hint as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }
}

impl OAuth2Flow {
    /// Whether the config names a revocation endpoint (`auth.revokePath`).
    pub fn can_revoke(&self) -> bool {
        self.config
            .auth
            .as_ref()
            .is_some_and(|a| a.revoke_path.is_some())
    }

    /// Revokes `token` (RFC 7009): POSTs `token` and `token_type_hint` to
    /// `auth.tokenHost` + `auth.revokePath`, with the client authentication
    /// and body format of the token requests. Redirects are not followed.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] when the config has no `auth.revokePath`; a 2xx
    /// is success (RFC 7009 answers 200 for unknown tokens too); otherwise
    /// [`AuthError::Rejected`] (400/401/403, e.g. `unsupported_token_type`),
    /// [`AuthError::ProviderUnavailable`] (5xx), [`AuthError::RateLimited`],
    /// [`AuthError::InvalidResponse`] (a redirect or another status) or
    /// [`AuthError::Transport`].
    pub async fn revoke(
        &self,
        context: &Map<String, Value>,
        token: &str,
        hint: TokenTypeHint,
    ) -> Result<(), AuthError> {
        let auth = self.config.auth.as_ref();
        let path = auth
            .and_then(|a| a.revoke_path.as_deref())
            .ok_or_else(|| AuthError::config("the credential config has no auth.revokePath"))?;
        let data = placeholder_data(context);
        let url = endpoint(
            &data,
            auth.and_then(|a| a.token_host.as_deref()),
            Some(path),
            path,
            "revoke URL",
        )?;
        let client = self.client_auth(&data)?;
        let params = vec![
            param("token", token),
            param("token_type_hint", hint.as_str()),
        ];
        let response = self.client_post(url, client, params)?.send().await?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            300..=399 => Err(AuthError::InvalidResponse {
                status,
                reason: "the revoke endpoint answered with a redirect; it is not followed".into(),
            }),
            _ => {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                let body = response.bytes().await.unwrap_or_default();
                let body = &body[..body.len().min(MAX_TOKEN_RESPONSE)];
                match interpret_response(status, body, retry_after, Utc::now(), None) {
                    Err(error) => Err(error),
                    Ok(_) => Err(AuthError::InvalidResponse {
                        status,
                        reason: "unexpected status from the revoke endpoint".into(),
                    }),
                }
            }
        }
    }
}
