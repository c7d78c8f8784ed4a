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

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use indexmap::IndexMap;
use patchbay_config::{
    ClientAuthMethod, Credential, CredentialsEncodingMode, OAuth2Config, Scopes, SecretString,
    TemplateValue, TokenBodyFormat,
};
use patchbay_egress::DestinationCheck;
use patchbay_template::{UrlError, UrlTemplate};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value};
use url::Url;

use crate::context::{placeholder_data, render_required, render_value};
use crate::{AuthError, TokenSet, pkce};

const DEFAULT_TOKEN_PATH: &str = "/oauth/token";
const DEFAULT_AUTHORIZE_PATH: &str = "/oauth/authorize";
const DEFAULT_ID_PARAM: &str = "client_id";
const DEFAULT_SECRET_PARAM: &str = "client_secret";
/// Default time limit of one token request.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Token responses larger than this are refused.
const MAX_TOKEN_RESPONSE: usize = 1 << 20;
/// Provider error descriptions are cut to this many characters in errors.
const MAX_DESCRIPTION: usize = 200;

/// What `encodeURIComponent` leaves alone; `simple-oauth2`'s strict mode
/// encodes the Basic credentials this way (then writes spaces as `+`).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A new HTTP client that follows no redirects, for token requests.
pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

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
        self.token_request(
            context,
            Endpoint::Token,
            params,
            self.config.token_params.as_ref(),
            &[],
        )
        .await
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

    /// The one token POST behind every grant. `params` are literal values
    /// (codes and tokens are never template-rendered); `defaults` and then
    /// `extra` (`tokenParams`/`refreshParams`) are rendered templates that
    /// replace parameters of the same name.
    async fn token_request(
        &self,
        context: &Map<String, Value>,
        which: Endpoint,
        mut params: Vec<(String, Value)>,
        extra: Option<&IndexMap<String, TemplateValue>>,
        defaults: &[(&str, Value)],
    ) -> Result<TokenSet, AuthError> {
        let data = placeholder_data(context);
        let url = self.token_url(&data, which)?;
        let client = self.client_auth(&data)?;

        let mut templated: IndexMap<String, TemplateValue> = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), TemplateValue(v.clone())))
            .collect();
        if let Some(extra) = extra {
            templated.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for (key, value) in render_params(&templated, &data, extra_name(which))? {
            upsert(&mut params, key, value);
        }

        let request = self.client_post(url.clone(), client, params)?;

        let issued_at = Utc::now();
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        if response.url() != &url {
            return Err(AuthError::InvalidResponse {
                status,
                reason: "the HTTP client followed a redirect from the token endpoint; token requests must not follow redirects (build the client with reqwest::redirect::Policy::none())".into(),
            });
        }
        if (300..400).contains(&status) {
            return Err(AuthError::InvalidResponse {
                status,
                reason: "the token endpoint answered with a redirect; token requests never follow redirects".into(),
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
                return Err(AuthError::InvalidResponse {
                    status,
                    reason: "response body larger than 1 MiB".into(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        interpret_response(
            status,
            &body,
            retry_after,
            issued_at,
            self.default_lifetime(),
        )
    }

    /// A POST to `url` with the client's authentication (a Basic header, or
    /// the id and secret in the body per `options.authorizationMethod`) and
    /// `params` encoded per `options.bodyFormat`, as every token request sends.
    fn client_post(
        &self,
        url: Url,
        client: ClientAuth,
        mut params: Vec<(String, Value)>,
    ) -> Result<reqwest::RequestBuilder, AuthError> {
        if let Some(check) = &self.destination_check {
            check(&url).map_err(AuthError::Refused)?;
        }
        let mut request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        match self.auth_method() {
            ClientAuthMethod::Header => {
                request = request.header(AUTHORIZATION, self.basic_header(&client)?);
            }
            ClientAuthMethod::Body => {
                upsert(
                    &mut params,
                    self.id_param().to_owned(),
                    Value::String(client.id),
                );
                if let Some(secret) = client.secret {
                    upsert(
                        &mut params,
                        self.secret_param().to_owned(),
                        Value::String(secret),
                    );
                }
            }
        }
        Ok(match self.body_format() {
            TokenBodyFormat::Form => {
                let pairs: Vec<(String, String)> = params
                    .into_iter()
                    .filter_map(|(k, v)| form_value(&v).map(|v| (k, v)))
                    .collect();
                request.form(&pairs)
            }
            TokenBodyFormat::Json => request.json(&params.into_iter().collect::<Map<_, _>>()),
        })
    }

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

    fn token_url(&self, data: &Value, which: Endpoint) -> Result<Url, AuthError> {
        let auth = self.config.auth.as_ref();
        let token_path = auth.and_then(|a| a.token_path.as_deref());
        let path = match which {
            Endpoint::Token => token_path,
            Endpoint::Refresh => auth.and_then(|a| a.refresh_path.as_deref()).or(token_path),
        };
        endpoint(
            data,
            auth.and_then(|a| a.token_host.as_deref()),
            path,
            DEFAULT_TOKEN_PATH,
            "token URL",
        )
    }

    /// The rendered client id (required) and secret (optional: public clients
    /// with PKCE have none). Without a `client` section the context's
    /// `client_id` and `client_secret` are used.
    fn client_auth(&self, data: &Value) -> Result<ClientAuth, AuthError> {
        let id = self.client_id(data)?;
        match &self.config.client {
            Some(client) => Ok(ClientAuth {
                id,
                secret: client
                    .secret
                    .as_ref()
                    .map(|s| render_required(s.expose(), data, "client.secret"))
                    .transpose()?,
            }),
            None => Ok(ClientAuth {
                id,
                secret: render_required("{{client_secret}}", data, "client secret").ok(),
            }),
        }
    }

    /// The rendered client id: `client.id`, or the context's `client_id`
    /// without a `client` section.
    fn client_id(&self, data: &Value) -> Result<String, AuthError> {
        match &self.config.client {
            Some(client) => {
                let id = client
                    .id
                    .as_deref()
                    .ok_or_else(|| AuthError::missing("client.id in the credential config"))?;
                render_required(id, data, "client.id")
            }
            None => render_required("{{client_id}}", data, "client id"),
        }
    }

    fn basic_header(&self, client: &ClientAuth) -> Result<HeaderValue, AuthError> {
        let strict = self
            .config
            .options
            .as_ref()
            .and_then(|o| o.credentials_encoding_mode)
            .is_none_or(|m| m == CredentialsEncodingMode::Strict);
        let encode = |text: &str| {
            if strict {
                utf8_percent_encode(text, URI_COMPONENT)
                    .to_string()
                    .replace("%20", "+")
            } else {
                text.to_owned()
            }
        };
        let secret = client.secret.as_deref().unwrap_or_default();
        let credentials = format!("{}:{}", encode(&client.id), encode(secret));
        let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(credentials)))
            .map_err(|_| AuthError::config("client credentials do not fit in a header"))?;
        value.set_sensitive(true);
        Ok(value)
    }

    fn scope_string(&self, requested: Option<&[String]>) -> Option<String> {
        let separator = self
            .config
            .options
            .as_ref()
            .and_then(|o| o.scope_separator.as_deref())
            .unwrap_or(" ");
        match (requested, &self.config.scope) {
            (Some(list), _) => Some(list.join(separator)),
            (None, Some(Scopes::List(list))) => Some(list.join(separator)),
            (None, Some(Scopes::Joined(text))) => Some(text.clone()),
            (None, None) => None,
        }
        .filter(|s| !s.is_empty())
    }

    fn auth_method(&self) -> ClientAuthMethod {
        self.config
            .options
            .as_ref()
            .and_then(|o| o.authorization_method)
            .unwrap_or(ClientAuthMethod::Header)
    }

    fn body_format(&self) -> TokenBodyFormat {
        self.config
            .options
            .as_ref()
            .and_then(|o| o.body_format)
            .unwrap_or(TokenBodyFormat::Form)
    }

    fn id_param(&self) -> &str {
        self.config
            .client
            .as_ref()
            .and_then(|c| c.id_param_name.as_deref())
            .unwrap_or(DEFAULT_ID_PARAM)
    }

    fn secret_param(&self) -> &str {
        self.config
            .client
            .as_ref()
            .and_then(|c| c.secret_param_name.as_deref())
            .unwrap_or(DEFAULT_SECRET_PARAM)
    }

    /// `tokenExpiryDuration` in seconds, used when a response has no `expires_in`.
    pub(crate) fn default_lifetime(&self) -> Option<Duration> {
        self.config
            .token_expiry_duration
            .as_ref()
            .and_then(|d| d.as_f64())
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(Duration::from_secs_f64)
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Token,
    Refresh,
}

fn extra_name(which: Endpoint) -> &'static str {
    match which {
        Endpoint::Token => "tokenParams",
        Endpoint::Refresh => "refreshParams",
    }
}

struct ClientAuth {
    id: String,
    secret: Option<String>,
}

fn param(key: &str, value: &str) -> (String, Value) {
    (key.to_owned(), Value::String(value.to_owned()))
}

fn upsert(params: &mut Vec<(String, Value)>, key: String, value: Value) {
    match params.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => params.push((key, value)),
    }
}

/// Renders templated parameters; parameters rendering undefined are dropped.
fn render_params(
    params: &IndexMap<String, TemplateValue>,
    data: &Value,
    what: &str,
) -> Result<Vec<(String, Value)>, AuthError> {
    let mut out = Vec::with_capacity(params.len());
    for (key, value) in params {
        if let Some(rendered) = render_value(&value.0, data, &format!("{what}.{key}"))? {
            out.push((key.clone(), rendered));
        }
    }
    Ok(out)
}

/// A parameter value as form text; `null` drops the parameter.
fn form_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).ok(),
    }
}

/// Renders `host` and resolves `path` (or `default_path`) against it.
fn endpoint(
    data: &Value,
    host: Option<&str>,
    path: Option<&str>,
    default_path: &str,
    what: &str,
) -> Result<Url, AuthError> {
    let host =
        host.ok_or_else(|| AuthError::config(format!("{what}: auth.tokenHost is not set")))?;
    let base = render_url(host, data, what)?;
    let base = Url::parse(&base)
        .map_err(|e| AuthError::config(format!("{what}: host is not an absolute URL ({e})")))?;
    let path = render_url(path.unwrap_or(default_path), data, what)?;
    base.join(&path)
        .map_err(|e| AuthError::config(format!("{what}: path does not resolve ({e})")))
}

fn render_url(source: &str, data: &Value, what: &str) -> Result<String, AuthError> {
    let template =
        UrlTemplate::parse(source).map_err(|e| AuthError::config(format!("{what}: {e}")))?;
    template.render(data).map_err(|e| match e {
        UrlError::MissingValue { placeholder, .. } => {
            AuthError::missing(format!("{placeholder} (for {what})"))
        }
        other => AuthError::config(format!("{what}: {other}")),
    })
}

/// Maps a token endpoint's answer to tokens or a classified error.
///
/// 2xx with a token → tokens; 2xx with an `error` instead → rejected (Slack
/// answers `200 {"ok": false, "error": ...}`); 400/401/403, or any other 4xx
/// carrying an RFC 6749 error code → rejected; 429 → rate limited; 408 and
/// 5xx → unavailable; anything else → invalid response.
pub(crate) fn interpret_response(
    status: u16,
    body: &[u8],
    retry_after: Option<u64>,
    issued_at: chrono::DateTime<Utc>,
    default_lifetime: Option<Duration>,
) -> Result<TokenSet, AuthError> {
    let parsed = parse_body(body);
    let oauth_error = parsed.as_ref().and_then(oauth_error);
    match status {
        200..=299 => {
            let Some(body) = parsed else {
                return Err(AuthError::InvalidResponse {
                    status,
                    reason: "body is neither JSON nor form data".into(),
                });
            };
            let has_token = body.get("access_token").is_some_and(|t| !t.is_null());
            if !has_token && let Some((error, description)) = oauth_error {
                return Err(AuthError::Rejected {
                    status,
                    error: Some(error),
                    description,
                });
            }
            TokenSet::from_response(&body, issued_at, default_lifetime)
                .map_err(|reason| AuthError::InvalidResponse { status, reason })
        }
        429 => Err(AuthError::RateLimited { retry_after }),
        408 | 500..=599 => Err(AuthError::ProviderUnavailable { status }),
        400 | 401 | 403 => {
            let (error, description) = oauth_error.map_or((None, None), |(e, d)| (Some(e), d));
            Err(AuthError::Rejected {
                status,
                error,
                description,
            })
        }
        400..=499
            if oauth_error
                .as_ref()
                .is_some_and(|(e, _)| is_rfc6749_code(e)) =>
        {
            let (error, description) = oauth_error.map_or((None, None), |(e, d)| (Some(e), d));
            Err(AuthError::Rejected {
                status,
                error,
                description,
            })
        }
        _ => Err(AuthError::InvalidResponse {
            status,
            reason: "unexpected status from the token endpoint".into(),
        }),
    }
}

fn parse_body(body: &[u8]) -> Option<Value> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Some(value);
    }
    // GitHub and other older endpoints answer form-encoded without `Accept: application/json`.
    let text = std::str::from_utf8(body).ok()?.trim();
    let pairs: Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (pairs.contains_key("access_token") || pairs.contains_key("error"))
        .then_some(Value::Object(pairs))
}

/// `error` (a string code, or an object with `code`/`message`) and
/// `error_description` of an error body.
fn oauth_error(body: &Value) -> Option<(String, Option<String>)> {
    let error = match body.get("error")? {
        Value::String(code) if !code.is_empty() => code.clone(),
        Value::Object(obj) => obj.get("code").and_then(Value::as_str)?.to_owned(),
        _ => return None,
    };
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| d.chars().take(MAX_DESCRIPTION).collect());
    Some((error, description))
}

fn is_rfc6749_code(code: &str) -> bool {
    matches!(
        code,
        "invalid_request"
            | "invalid_client"
            | "invalid_grant"
            | "unauthorized_client"
            | "unsupported_grant_type"
            | "invalid_scope"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn interpret(status: u16, body: &str) -> Result<TokenSet, AuthError> {
        interpret_response(status, body.as_bytes(), None, Utc::now(), None)
    }

    #[test]
    fn classifies_token_endpoint_answers() {
        assert!(interpret(200, r#"{"access_token":"a"}"#).is_ok());
        let revoked = interpret(
            400,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
        );
        assert!(
            matches!(&revoked, Err(AuthError::Rejected { status: 400, error: Some(e), description: Some(d) }) if e == "invalid_grant" && d == "expired")
        );
        assert!(interpret(401, "").unwrap_err().requires_reauth());
        assert!(
            interpret(422, r#"{"error":"invalid_grant"}"#)
                .unwrap_err()
                .requires_reauth()
        );
        assert!(
            !interpret(404, r#"{"error":"not_found"}"#)
                .unwrap_err()
                .requires_reauth()
        );
        assert!(matches!(
            interpret(503, "down"),
            Err(AuthError::ProviderUnavailable { status: 503 })
        ));
        assert!(matches!(
            interpret(429, ""),
            Err(AuthError::RateLimited { .. })
        ));
        assert!(matches!(
            interpret(200, "<html>"),
            Err(AuthError::InvalidResponse { status: 200, .. })
        ));
        assert!(matches!(
            interpret(200, r#"{"token":"a"}"#),
            Err(AuthError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn slack_style_200_error_is_a_rejection() {
        let error = interpret(200, r#"{"ok":false,"error":"invalid_refresh_token"}"#).unwrap_err();
        assert!(error.requires_reauth());
        assert!(error.to_string().contains("invalid_refresh_token"));
    }

    #[test]
    fn form_encoded_token_responses_parse() {
        let tokens = interpret(
            200,
            "access_token=gho_x&scope=repo%2Cgist&token_type=bearer",
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "gho_x");
        assert_eq!(tokens.scope.as_deref(), Some("repo,gist"));
    }

    #[test]
    fn long_descriptions_are_cut() {
        let body =
            json!({"error": "invalid_grant", "error_description": "x".repeat(5000)}).to_string();
        let message = interpret(400, &body).unwrap_err().to_string();
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn strict_basic_encoding_matches_simple_oauth2() {
        let config: OAuth2Config = serde_json::from_value(json!({})).unwrap();
        let flow =
            OAuth2Flow::from_config(GrantKind::ClientCredentials, config, reqwest::Client::new());
        let header = flow
            .basic_header(&ClientAuth {
                id: "a b:c".into(),
                secret: Some("p&w=!".into()),
            })
            .unwrap();
        let encoded = header.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, "a+b%3Ac:p%26w%3D!");
        assert!(header.is_sensitive());
    }

    #[test]
    fn endpoints_resolve_like_urls_and_render_placeholders() {
        let data = json!({"tenant_id": "t/1"});
        let url = endpoint(
            &data,
            Some("https://login.example.com/common"),
            Some("/{{tenant_id}}/token"),
            "/x",
            "t",
        )
        .unwrap();
        assert_eq!(url.as_str(), "https://login.example.com/t%2F1/token");
        let missing = endpoint(
            &json!({}),
            Some("https://h"),
            Some("/{{tenant_id}}"),
            "/x",
            "t",
        )
        .unwrap_err();
        assert!(
            matches!(missing, AuthError::MissingCredential { .. }),
            "{missing}"
        );
        let no_host = endpoint(&data, None, None, "/x", "t").unwrap_err();
        assert!(matches!(no_host, AuthError::Config(_)));
    }
}
