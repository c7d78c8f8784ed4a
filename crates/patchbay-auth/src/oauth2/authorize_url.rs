//! The authorize URL that starts the authorization code flow.

use indexmap::IndexMap;
use patchbay_config::SecretString;
use serde_json::{Map, Value};
use url::Url;

use super::OAuth2Flow;
use super::endpoint::endpoint;
use super::params::{form_value, render_params};
use crate::context::placeholder_data;
use crate::{AuthError, pkce};

const DEFAULT_AUTHORIZE_PATH: &str = "/oauth/authorize";

/// Options of [`OAuth2Flow::authorize_url`].
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    redirect_uri: String,
    scopes: Option<Vec<String>>,
    state: Option<String>,
}

impl AuthorizeParams {
    /// Authorize with this callback URL, the config's scopes and a fresh state.
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            ..Self::default()
        }
    }

    /// Request these scopes instead of the config's (a link token's `scopes`).
    pub fn scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// Use this `state` instead of a random one (for hosts that encode data in it).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }
}

/// An authorize URL and what the callback needs to finish the flow.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// Where to send the user.
    pub url: Url,
    /// The `state` sent; the callback must receive the same value.
    pub state: String,
    /// The PKCE verifier to pass to [`OAuth2Flow::exchange_code`], when PKCE is on.
    pub code_verifier: Option<SecretString>,
}

impl OAuth2Flow {
    /// Builds the authorize URL: `response_type=code`, the client id (under
    /// `client.idParamName`), `redirect_uri`, the scopes joined with
    /// `options.scopeSeparator`, `state`, with `pkce: true` a fresh S256
    /// `code_challenge`, then the config's `params` (rendered; they replace
    /// standard parameters of the same name).
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingCredential`] when the client id or a placeholder has
    /// no value; [`AuthError::Config`] for an unusable host or path.
    ///
    /// ```
    /// use patchbay_auth::{AuthorizeParams, OAuth2Flow, GrantKind};
    /// use serde_json::json;
    ///
    /// let config = serde_json::from_value(json!({
    ///     "client": {"id": "{{client_id}}"},
    ///     "auth": {"tokenHost": "https://login.example.com"},
    ///     "scope": ["read", "write"], "pkce": true
    /// })).unwrap();
    /// let flow = OAuth2Flow::from_config(GrantKind::AuthorizationCode, config, patchbay_auth::no_redirect_client());
    /// let context = json!({"client_id": "app-1"});
    /// let request = flow.authorize_url(context.as_object().unwrap(), &AuthorizeParams::new("https://me/cb"))?;
    /// assert!(request.url.as_str().starts_with("https://login.example.com/oauth/authorize?response_type=code&client_id=app-1"));
    /// assert!(request.code_verifier.is_some());
    /// # Ok::<(), patchbay_auth::AuthError>(())
    /// ```
    pub fn authorize_url(
        &self,
        context: &Map<String, Value>,
        params: &AuthorizeParams,
    ) -> Result<AuthorizeRequest, AuthError> {
        let data = placeholder_data(context);
        let auth = self.config.auth.as_ref();
        let host = auth
            .and_then(|a| a.authorize_host.as_deref())
            .or_else(|| auth.and_then(|a| a.token_host.as_deref()));
        let path = auth.and_then(|a| a.authorize_path.as_deref());
        let mut url = endpoint(&data, host, path, DEFAULT_AUTHORIZE_PATH, "authorize URL")?;

        let state = params.state.clone().unwrap_or_else(pkce::state);
        let mut query: IndexMap<String, String> = IndexMap::new();
        query.insert("response_type".into(), "code".into());
        query.insert(self.id_param().into(), self.client_id(&data)?);
        query.insert("redirect_uri".into(), params.redirect_uri.clone());
        if let Some(scope) = self.scope_string(params.scopes.as_deref()) {
            query.insert("scope".into(), scope);
        }
        query.insert("state".into(), state.clone());
        let code_verifier = (self.config.pkce == Some(true)).then(pkce::code_verifier);
        if let Some(verifier) = &code_verifier {
            query.insert("code_challenge".into(), pkce::pkce_challenge(verifier));
            query.insert("code_challenge_method".into(), "S256".into());
        }
        if let Some(extra) = &self.config.params {
            for (key, value) in render_params(extra, &data, "params")? {
                if let Some(text) = form_value(&value) {
                    query.insert(key, text);
                }
            }
        }
        url.query_pairs_mut().extend_pairs(&query);
        Ok(AuthorizeRequest {
            url,
            state,
            code_verifier: code_verifier.map(SecretString::new),
        })
    }
}
