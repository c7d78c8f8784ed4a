//! `authorization`: how each request carries the credentials.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::languages::{Jsonata, TemplateString};
use crate::tagged::tagged_union;

/// How requests are authorized.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// `Authorization: Bearer <token>`. Without config the token is the OAuth
    /// access token (`{{oauth.token.access_token}}`).
    Bearer(Option<BearerConfig>),
    /// `Authorization: Basic base64(username:password)`.
    Basic(BasicConfig),
    /// A custom header, or headers computed by a JSONata expression.
    Header(HeaderConfig),
}

tagged_union!(Authorization {
    tag: "format",
    content: "config",
    Bearer = "bearer" => optional(BearerConfig),
    Basic = "basic" => required(BasicConfig),
    Header = "header" => required(HeaderConfig),
});

/// The config of `bearer` authorization.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerConfig {
    /// The token, usually `{{oauth.token.access_token}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TemplateString>,
}

/// The config of `basic` authorization.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicConfig {
    /// The user name (placeholders allowed, e.g. `{{email}}/token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<TemplateString>,
    /// The password (placeholders allowed, e.g. `{{api_token}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<TemplateString>,
}

/// The config of `header` authorization: either a header name and value, or an
/// expression returning an object of headers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderConfig {
    /// The header to set, e.g. `X-Api-Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    /// Its value, e.g. `{{api_key}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<TemplateString>,
    /// A JSONata expression returning `{header: value}`; it sees `url`,
    /// `requestOptions` and `context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<Jsonata>,
}
