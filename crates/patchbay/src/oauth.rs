//! Connecting an account with OAuth 2 (authorization code): the authorize URL to send the
//! user to, and the code exchange when the provider sends them back.
//!
//! The host keeps what must survive the round trip (the `state`, the PKCE verifier, the
//! `redirect_uri`) between the two calls, e.g. in a sealed cookie, and stores the account
//! with the returned tokens ([`TokenSet::context_patch`]) afterwards.

use patchbay_auth::{AuthorizeParams, AuthorizeRequest, OAuth2Flow, TokenSet};
use patchbay_config::Credential;
use serde_json::{Map, Value};

use crate::Error;
use crate::facade::Patchbay;

/// What the provider's callback brought back, and what the start of the flow kept for it.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    /// The `code` query parameter of the callback.
    pub code: &'a str,
    /// The `redirect_uri` the authorize URL was built with (providers compare them).
    pub redirect_uri: &'a str,
    /// The PKCE verifier of the [`AuthorizeRequest`], when the credential uses PKCE.
    pub code_verifier: Option<&'a str>,
}

impl Patchbay {
    /// The authorize URL of the `oauth2` credential `credential` of the install
    /// `environment_integration_id`: where to send the user to grant access.
    ///
    /// Placeholders of the credential config (the client id, `params`, a subdomain in the
    /// host) render against the install's host variables overlaid with `context` (the
    /// values the user entered, or a reconnected account's context). The returned
    /// [`AuthorizeRequest`] holds the `state` to check on the callback and the PKCE
    /// verifier to pass to [`exchange_code`](Self::exchange_code).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownIntegration`] when nothing is installed under that id,
    /// [`Error::UnknownCredential`] when the config has no such credential, and
    /// [`Error::Auth`] when it is not an `oauth2` credential or a value it needs (the
    /// client id, a placeholder) is missing.
    ///
    /// ```
    /// use patchbay::auth::AuthorizeParams;
    ///
    /// let config = patchbay::config::load_integration_config(r#"{
    ///     "base_url": "https://api.example.com",
    ///     "credentials": {"oauth2": {"format": "oauth2", "config": {
    ///         "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
    ///         "auth": {"tokenHost": "https://login.example.com", "authorizePath": "/authorize"}
    ///     }}},
    ///     "resources": {"me": {"get": {"path": "/me"}}}
    /// }"#).unwrap();
    /// let patchbay = patchbay::Patchbay::builder().build();
    /// let variables = serde_json::json!({"client_id": "app-1", "client_secret": "s3cret"});
    /// patchbay.install("example", config, variables.as_object().unwrap().clone()).unwrap();
    ///
    /// let params = AuthorizeParams::new("https://app.example.org/callback");
    /// let request = patchbay.authorize_url("example", "oauth2", &Default::default(), &params).unwrap();
    /// assert!(request.url.as_str().starts_with("https://login.example.com/authorize?"));
    /// assert!(request.url.query().unwrap().contains("client_id=app-1"));
    /// assert!(!request.state.is_empty());
    /// ```
    pub fn authorize_url(
        &self,
        environment_integration_id: &str,
        credential: &str,
        context: &Map<String, Value>,
        params: &AuthorizeParams,
    ) -> Result<AuthorizeRequest, Error> {
        let (flow, context) = self.oauth_flow(environment_integration_id, credential, context)?;
        flow.authorize_url(&context, params).map_err(Error::Auth)
    }

    /// Exchanges the authorization code of a finished authorize step for tokens, at the
    /// token endpoint of the credential `credential` of `environment_integration_id`,
    /// with the same `context` as [`authorize_url`](Self::authorize_url).
    ///
    /// The request goes through the facade's HTTP client and destination check and
    /// follows no redirect. Nothing is stored: the host creates or updates the account
    /// with [`TokenSet::context_patch`], and after a reconnect calls
    /// [`reconnected`](Self::reconnected) so cached token state is dropped.
    ///
    /// # Errors
    ///
    /// As [`authorize_url`](Self::authorize_url); a code the provider refuses is an
    /// [`Error::Auth`] whose error is `AuthError::Rejected`.
    pub async fn exchange_code(
        &self,
        environment_integration_id: &str,
        credential: &str,
        context: &Map<String, Value>,
        exchange: CodeExchange<'_>,
    ) -> Result<TokenSet, Error> {
        let (flow, context) = self.oauth_flow(environment_integration_id, credential, context)?;
        flow.exchange_code(
            &context,
            exchange.code,
            exchange.redirect_uri,
            exchange.code_verifier,
        )
        .await
        .map_err(Error::Auth)
    }

    /// The OAuth flow of an installed credential over the facade's client and destination
    /// check, and the context it renders against (host variables, then `context`).
    fn oauth_flow(
        &self,
        environment_integration_id: &str,
        credential: &str,
        context: &Map<String, Value>,
    ) -> Result<(OAuth2Flow, Map<String, Value>), Error> {
        let installed = self.installed(environment_integration_id)?;
        let config: &Credential = installed
            .integration
            .config()
            .credentials
            .as_ref()
            .and_then(|credentials| credentials.get(credential))
            .ok_or_else(|| Error::UnknownCredential {
                integration: environment_integration_id.to_owned(),
                credential: credential.to_owned(),
            })?;
        let executor = self.executor();
        let flow = OAuth2Flow::new(config, executor.http_client().clone())
            .map_err(Error::Auth)?
            .with_destination_check(executor.destination_check().cloned());
        Ok((flow, installed.context_with(context)))
    }
}
