//! The grants: what each one adds to the token request.

use serde_json::{Map, Value};

use super::params::param;
use super::token_request::Endpoint;
use super::{GrantKind, OAuth2Flow};
use crate::{AuthError, TokenSet};

impl OAuth2Flow {
    /// Exchanges an authorization code: `grant_type=authorization_code`,
    /// `code`, `redirect_uri`, `code_verifier` (when PKCE was used), then the
    /// config's `tokenParams`.
    ///
    /// # Errors
    ///
    /// See [`AuthError`]: a refused code is [`AuthError::Rejected`].
    pub async fn exchange_code(
        &self,
        context: &Map<String, Value>,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenSet, AuthError> {
        let mut params = vec![
            param("grant_type", "authorization_code"),
            param("code", code),
            param("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = code_verifier {
            params.push(param("code_verifier", verifier));
        }
        self.token_grant(context, params).await
    }

    /// Refreshes: `grant_type=refresh_token`, `refresh_token`, then the
    /// config's `refreshParams`, posted to `auth.refreshPath`. A response
    /// without a refresh token is returned as is; the caller keeps the old one.
    ///
    /// # Errors
    ///
    /// See [`AuthError`]: a revoked or expired grant is [`AuthError::Rejected`].
    pub async fn refresh(
        &self,
        context: &Map<String, Value>,
        refresh_token: &str,
    ) -> Result<TokenSet, AuthError> {
        let params = vec![
            param("grant_type", "refresh_token"),
            param("refresh_token", refresh_token),
        ];
        self.token_request(
            context,
            Endpoint::Refresh,
            params,
            self.config.refresh_params.as_ref(),
            &[],
        )
        .await
    }

    /// Runs the client credentials grant: `grant_type=client_credentials`, the
    /// config's `scope` when set, then `tokenParams` (Microsoft's
    /// `scope=https://graph.microsoft.com/.default`).
    ///
    /// # Errors
    ///
    /// See [`AuthError`]: wrong client credentials are [`AuthError::Rejected`].
    pub async fn client_credentials(
        &self,
        context: &Map<String, Value>,
    ) -> Result<TokenSet, AuthError> {
        let mut params = vec![param("grant_type", "client_credentials")];
        if let Some(scope) = self.scope_string(None) {
            params.push(("scope".into(), Value::String(scope)));
        }
        self.token_grant(context, params).await
    }

    /// Posts a grant's `params`, then the config's `tokenParams`, to the token endpoint.
    async fn token_grant(
        &self,
        context: &Map<String, Value>,
        params: Vec<(String, Value)>,
    ) -> Result<TokenSet, AuthError> {
        self.token_request(
            context,
            Endpoint::Token,
            params,
            self.config.token_params.as_ref(),
            &[],
        )
        .await
    }

    /// Runs Keka's grant: `grant_type=kekaapi`, `scope=kekaapi`,
    /// `api_key={{api_key}}` and the client credentials, each overridable
    /// through `tokenParams`.
    ///
    /// # Errors
    ///
    /// See [`AuthError`]; [`AuthError::MissingCredential`] when the context has
    /// no `api_key` and `tokenParams` does not supply one.
    pub async fn keka_token(&self, context: &Map<String, Value>) -> Result<TokenSet, AuthError> {
        let defaults = [
            ("grant_type", Value::from("kekaapi")),
            ("scope", Value::from("kekaapi")),
            ("api_key", Value::from("{{api_key}}")),
        ];
        self.token_request(
            context,
            Endpoint::Token,
            Vec::new(),
            self.config.token_params.as_ref(),
            &defaults,
        )
        .await
    }

    /// Gets a token without a user: the client credentials grant or Keka's
    /// grant, by [`kind`](Self::kind).
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] for the authorization code flow, which needs a
    /// user; otherwise as the grant.
    pub async fn request_token(&self, context: &Map<String, Value>) -> Result<TokenSet, AuthError> {
        match self.kind {
            GrantKind::ClientCredentials => self.client_credentials(context).await,
            GrantKind::Keka => self.keka_token(context).await,
            GrantKind::AuthorizationCode => Err(AuthError::config(
                "the authorization code flow needs a user; use exchange_code",
            )),
        }
    }
}
