//! The credentials a simulated provider accepts.

use super::Provider;

/// What a simulated provider accepts as proof of identity.
///
/// Defaults ([`Credentials::default_for`]) are fixed strings so tests can rely on them:
///
/// | field | default |
/// |---|---|
/// | `client_id` / `client_secret` | `{slug}-client-id` / `{slug}-client-secret` |
/// | `static_tokens` | GitHub `ghp_simulator`, Stripe `sk_test_simulator`, Notion `secret_simulator`, Shopify `shpat_simulator`, others `{slug}-static-token` |
/// | `api_key` (Keka `kekaapi` grant) | `keka-api-key` (all providers carry `{slug}-api-key`, only Keka uses it) |
/// | `basic` (Zendesk) | `agent@example.com/token` : `zendesk-api-token` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// OAuth client id accepted by the token and authorize endpoints.
    pub client_id: String,
    /// OAuth client secret accepted by the token endpoint.
    pub client_secret: String,
    /// Access tokens that never expire (personal access tokens, API keys, imported tokens).
    pub static_tokens: Vec<String>,
    /// The `api_key` form field of Keka's `grant_type=kekaapi` token request.
    pub api_key: String,
    /// Basic-auth `(username, password)`; Zendesk's is `("{email}/token", api_token)`.
    pub basic: Option<(String, String)>,
}

impl Credentials {
    /// The documented default credentials of `provider`.
    pub fn default_for(provider: Provider) -> Self {
        let slug = provider.slug();
        let static_token = match provider {
            Provider::Github => "ghp_simulator".to_owned(),
            Provider::Stripe => "sk_test_simulator".to_owned(),
            Provider::Notion => "secret_simulator".to_owned(),
            Provider::Shopify => "shpat_simulator".to_owned(),
            _ => format!("{slug}-static-token"),
        };
        let basic = (provider == Provider::Zendesk).then(|| {
            (
                "agent@example.com/token".to_owned(),
                "zendesk-api-token".to_owned(),
            )
        });
        Credentials {
            client_id: format!("{slug}-client-id"),
            client_secret: format!("{slug}-client-secret"),
            static_tokens: vec![static_token],
            api_key: format!("{slug}-api-key"),
            basic,
        }
    }

    /// Replaces the OAuth client id and secret.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = id.into();
        self.client_secret = secret.into();
        self
    }

    /// Replaces the never-expiring tokens with exactly `token`.
    pub fn static_token(mut self, token: impl Into<String>) -> Self {
        self.static_tokens = vec![token.into()];
        self
    }

    /// Replaces the Keka `api_key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Replaces the Basic-auth pair.
    pub fn basic(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((username.into(), password.into()));
        self
    }
}
