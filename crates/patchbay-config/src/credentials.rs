//! `credentials`: how an integrated account authenticates.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SecretString;
use crate::languages::{StringOrNumber, TemplateValue};
use crate::tagged::tagged_union;

/// One credential definition, or several keyed by a name the connecting user
/// picks from (Truto's Link UI shows them as tabs).
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// A single `{format, config}` credential.
    Single(Box<Credential>),
    /// Several credentials by name, e.g. `{"oauth2": {...}, "api_key": {...}}`.
    Map(IndexMap<String, Credential>),
}

impl Credentials {
    /// The credentials as `(name, credential)` pairs; a single credential is
    /// named after its format.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&str, &Credential)> + '_> {
        match self {
            Self::Single(c) => Box::new(std::iter::once((c.format_name(), &**c))),
            Self::Map(map) => Box::new(map.iter().map(|(k, v)| (k.as_str(), v))),
        }
    }

    /// The credential for an authentication method name (`oauth2`, `api_key`, ...):
    /// the map entry with that name, else the first credential of that format.
    pub fn get(&self, method: &str) -> Option<&Credential> {
        if let Self::Map(map) = self
            && let Some(c) = map.get(method)
        {
            return Some(c);
        }
        self.iter()
            .map(|(_, c)| c)
            .find(|c| c.format_name() == method)
    }
}

impl Serialize for Credentials {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Single(c) => c.serialize(serializer),
            Self::Map(m) => m.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        let single = value.as_object().is_some_and(|o| o.contains_key("format"));
        if single {
            serde_json::from_value(value)
                .map(|c| Self::Single(Box::new(c)))
                .map_err(D::Error::custom)
        } else {
            serde_json::from_value(value)
                .map(Self::Map)
                .map_err(D::Error::custom)
        }
    }
}

impl JsonSchema for Credentials {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Credentials".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let single = generator.subschema_for::<Credential>();
        schemars::json_schema!({
            "description": "One credential, or several keyed by name.",
            "anyOf": [
                single,
                { "type": "object", "additionalProperties": single }
            ]
        })
    }
}

/// A credential definition: its format and the format's config.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// OAuth 2.0 authorization code flow (with refresh).
    OAuth2(OAuth2Config),
    /// OAuth 2.0 client credentials grant.
    OAuth2ClientCredentials(OAuth2Config),
    /// Keka HRMS's token grant (client id and secret plus an API key).
    KekaOAuth(OAuth2Config),
    /// Values the user enters (API keys, usernames, passwords).
    ApiKey(ApiKeyConfig),
}

tagged_union!(Credential {
    tag: "format",
    content: "config",
    OAuth2 = "oauth2" => required(OAuth2Config),
    OAuth2ClientCredentials = "oauth2_client_credentials" => required(OAuth2Config),
    KekaOAuth = "keka_oauth" => required(OAuth2Config),
    ApiKey = "api_key" => required(ApiKeyConfig),
});

impl Credential {
    /// The format name as written in configs.
    pub fn format_name(&self) -> &'static str {
        match self {
            Self::OAuth2(_) => "oauth2",
            Self::OAuth2ClientCredentials(_) => "oauth2_client_credentials",
            Self::KekaOAuth(_) => "keka_oauth",
            Self::ApiKey(_) => "api_key",
        }
    }

    /// The fields the connecting user fills in.
    pub fn fields(&self) -> &[Field] {
        match self {
            Self::OAuth2(c) | Self::OAuth2ClientCredentials(c) | Self::KekaOAuth(c) => &c.fields,
            Self::ApiKey(c) => &c.fields,
        }
    }
}

/// The config of the OAuth 2.0 formats (`oauth2`, `oauth2_client_credentials`,
/// `keka_oauth`). Key names follow Truto, which uses the option names of the
/// `simple-oauth2` library; defaults are that library's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    /// The OAuth client (app) credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<OAuth2Client>,
    /// Where the provider's endpoints are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OAuth2Endpoints>,
    /// How token requests are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<OAuth2Options>,
    /// Fields the connecting user fills in (e.g. a subdomain, or client id and
    /// secret for bring-your-own-app and client-credentials flows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// Extra parameters of the token request (may hold placeholders).
    #[serde(
        default,
        rename = "tokenParams",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_params: Option<IndexMap<String, TemplateValue>>,
    /// Extra parameters of the refresh request (may hold placeholders).
    #[serde(
        default,
        rename = "refreshParams",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_params: Option<IndexMap<String, TemplateValue>>,
    /// Access-token lifetime in seconds when the token response has no `expires_in`.
    #[serde(
        default,
        rename = "tokenExpiryDuration",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_expiry_duration: Option<StringOrNumber>,
    /// Scopes requested in the authorize URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scopes>,
    /// Extra parameters of the authorize URL (may hold placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<IndexMap<String, TemplateValue>>,
    /// Use PKCE (S256) in the authorization code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
    /// Link to the provider's documentation on creating the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_link: Option<String>,
    /// Text shown to the user about the permissions asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_text: Option<String>,
}

/// Requested scopes: a list, or one string already joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scopes {
    /// Scopes joined with `options.scopeSeparator`.
    List(Vec<String>),
    /// Scopes as one string.
    Joined(String),
}

/// `credentials.*.config.client`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Client {
    /// The client id (may be a placeholder such as `{{client_id}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client secret (may be a placeholder). Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
    /// Name of the client id parameter. Default `client_id`.
    #[serde(
        default,
        rename = "idParamName",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_param_name: Option<String>,
    /// Name of the client secret parameter. Default `client_secret`.
    #[serde(
        default,
        rename = "secretParamName",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_param_name: Option<String>,
}

/// `credentials.*.config.auth`: the provider's OAuth endpoints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Endpoints {
    /// Base URL of the token endpoint, e.g. `https://login.example.com`.
    #[serde(default, rename = "tokenHost", skip_serializing_if = "Option::is_none")]
    pub token_host: Option<String>,
    /// Path of the token endpoint. Default `/oauth/token`.
    #[serde(default, rename = "tokenPath", skip_serializing_if = "Option::is_none")]
    pub token_path: Option<String>,
    /// Path of the refresh endpoint. Default: `tokenPath`.
    #[serde(
        default,
        rename = "refreshPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_path: Option<String>,
    /// Path of the revoke endpoint. Default `/oauth/revoke`.
    #[serde(
        default,
        rename = "revokePath",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoke_path: Option<String>,
    /// Base URL of the authorize endpoint. Default: `tokenHost`.
    #[serde(
        default,
        rename = "authorizeHost",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorize_host: Option<String>,
    /// Path of the authorize endpoint. Default `/oauth/authorize`.
    #[serde(
        default,
        rename = "authorizePath",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorize_path: Option<String>,
}

/// `credentials.*.config.options`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Options {
    /// Separator used to join scopes. Default `" "`.
    #[serde(
        default,
        rename = "scopeSeparator",
        skip_serializing_if = "Option::is_none"
    )]
    pub scope_separator: Option<String>,
    /// Where client credentials go in token requests. Default `header`.
    #[serde(
        default,
        rename = "authorizationMethod",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorization_method: Option<ClientAuthMethod>,
    /// Encoding of token request bodies. Default `form`.
    #[serde(
        default,
        rename = "bodyFormat",
        skip_serializing_if = "Option::is_none"
    )]
    pub body_format: Option<TokenBodyFormat>,
    /// How client credentials are encoded for Basic auth. Default `strict`.
    #[serde(
        default,
        rename = "credentialsEncodingMode",
        skip_serializing_if = "Option::is_none"
    )]
    pub credentials_encoding_mode: Option<CredentialsEncodingMode>,
}

/// Where the client id and secret go in token requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic `Authorization` header.
    Header,
    /// Parameters in the request body.
    Body,
}

/// Encoding of token request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenBodyFormat {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`.
    Json,
}

/// How client credentials are encoded in the Basic header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsEncodingMode {
    /// Form-url-encode id and secret first (RFC 6749 §2.3.1).
    Strict,
    /// Use id and secret as they are.
    Loose,
}

/// The config of the `api_key` format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Fields the connecting user fills in; values land at the top of the
    /// account's context (`{{api_key}}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// Link to the provider's documentation on creating a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_link: Option<String>,
    /// Text shown to the user about the permissions needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_text: Option<String>,
}

/// A field the connecting user fills in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The context key the value is stored under.
    pub name: String,
    /// The label shown to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The input type. Default `text`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub field_type: Option<FieldType>,
    /// Whether a value is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Choices of a `single_select` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FieldOption>>,
    /// Value used when the user leaves the field empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// A format the value must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FieldFormat>,
    /// A transformation applied to the value before it is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<FieldTransform>,
    /// Placeholder text of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Help text shown under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// A regular expression the value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// Input type of a [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Plain text.
    Text,
    /// A secret, masked on input and never shown again.
    Password,
    /// One choice out of `options`.
    SingleSelect,
}

impl FieldType {
    /// Whether values of this type are secrets.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::Password)
    }
}

/// A choice of a `single_select` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldOption {
    /// What the user sees.
    pub label: String,
    /// What is stored.
    pub value: Value,
}

/// A format a field value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldFormat {
    /// An email address.
    Email,
    /// A number.
    Number,
    /// A UUID.
    Uuid,
    /// An absolute URL.
    Url,
}

/// A transformation applied to a field value before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldTransform {
    /// Lower-case the value.
    Lowercase,
    /// Upper-case the value.
    Uppercase,
    /// Store the hex SHA-256 of the value.
    Sha256,
}
