//! OAuth 2.0 flows against one provider: the authorize URL, and every grant
//! through one templated token POST.
//!
//! Config names and defaults follow `simple-oauth2`, whose option names Truto
//! uses: `auth.tokenPath` defaults to `/oauth/token`, `auth.refreshPath` to the
//! token path, `auth.authorizeHost` to `auth.tokenHost`, `auth.authorizePath`
//! to `/oauth/authorize`; paths resolve against their host as URLs do
//! (`/x` replaces the host's path); client credentials go in a Basic header
//! unless `options.authorizationMethod` is `body`; bodies are form-encoded
//! unless `options.bodyFormat` is `json`.
//!
//! [`OAuth2Flow`] is defined here; its jobs live in submodules:
//! `authorize_url` (the authorize URL), `grants` (what each grant sends),
//! `token_request` (the one token POST), `client_auth` (the client's
//! authentication and the body encoding of every POST), `token_response`
//! (answers to tokens or classified errors), `revoke` (RFC 7009), and the
//! helpers `endpoint` (templated URLs) and `params` (templated parameters).

mod authorize_url;
mod client_auth;
mod endpoint;
mod grants;
mod params;
mod revoke;
mod token_request;
mod token_response;

use std::sync::Arc;
use std::time::Duration;

use patchbay_config::{Credential, OAuth2Config};
use patchbay_egress::DestinationCheck;

use crate::AuthError;

pub use authorize_url::{AuthorizeParams, AuthorizeRequest};
pub use revoke::TokenTypeHint;

/// Default time limit of one token request.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// A new HTTP client that follows no redirects, for token requests.
pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Which grant a credential format uses to get tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantKind {
    /// `oauth2`: authorization code, then refresh tokens.
    AuthorizationCode,
    /// `oauth2_client_credentials`: the client credentials grant, re-run on expiry.
    ClientCredentials,
    /// `keka_oauth`: Keka's `kekaapi` grant (client id, secret and API key), re-run on expiry.
    Keka,
}

/// One provider's OAuth 2.0 endpoints, ready to run grants.
///
/// Cheap to clone. Every method takes the account context (plus host
/// variables such as the OAuth app's `client_id`) that the config's `{{ }}`
/// placeholders read; see [`placeholder_data`](crate::placeholder_data).
#[derive(Clone)]
pub struct OAuth2Flow {
    kind: GrantKind,
    config: Arc<OAuth2Config>,
    http: reqwest::Client,
    timeout: Duration,
    destination_check: Option<DestinationCheck>,
}

impl std::fmt::Debug for OAuth2Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2Flow")
            .field("kind", &self.kind)
            .field("config", &self.config)
            .field("timeout", &self.timeout)
            .field("destination_check", &self.destination_check.is_some())
            .finish_non_exhaustive()
    }
}

impl OAuth2Flow {
    /// The flow of an OAuth credential, with the default 30 s timeout.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] for an `api_key` credential, which has no tokens.
    pub fn new(credential: &Credential, http: reqwest::Client) -> Result<Self, AuthError> {
        let (kind, config) = match credential {
            Credential::OAuth2(c) => (GrantKind::AuthorizationCode, c),
            Credential::OAuth2ClientCredentials(c) => (GrantKind::ClientCredentials, c),
            Credential::KekaOAuth(c) => (GrantKind::Keka, c),
            Credential::ApiKey(_) => {
                return Err(AuthError::config("api_key credentials have no OAuth flow"));
            }
        };
        Ok(Self::from_config(kind, config.clone(), http))
    }

    /// A flow of `kind` over `config`.
    pub fn from_config(kind: GrantKind, config: OAuth2Config, http: reqwest::Client) -> Self {
        Self {
            kind,
            config: Arc::new(config),
            http,
            timeout: DEFAULT_TOKEN_TIMEOUT,
            destination_check: None,
        }
    }

    /// Sets the time limit of each token request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks every token, refresh and revoke URL with `check` before sending
    /// (a destination policy); a refused URL fails with
    /// [`AuthError::Refused`] and nothing is sent.
    pub fn with_destination_check(mut self, check: Option<DestinationCheck>) -> Self {
        self.destination_check = check;
        self
    }

    /// The grant this flow runs.
    pub fn kind(&self) -> GrantKind {
        self.kind
    }

    /// The credential config.
    pub fn config(&self) -> &OAuth2Config {
        &self.config
    }
}
