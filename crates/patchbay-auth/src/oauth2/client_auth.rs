//! How the client authenticates its token and revoke POSTs, and how their
//! bodies are encoded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use patchbay_config::{ClientAuthMethod, CredentialsEncodingMode, TokenBodyFormat};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::{Map, Value};
use url::Url;

use super::OAuth2Flow;
use super::params::{form_value, upsert};
use crate::AuthError;
use crate::context::render_required;

const DEFAULT_ID_PARAM: &str = "client_id";
const DEFAULT_SECRET_PARAM: &str = "client_secret";

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

/// The rendered client id and secret.
pub(super) struct ClientAuth {
    id: String,
    secret: Option<String>,
}

impl OAuth2Flow {
    /// A POST to `url` with the client's authentication (a Basic header, or
    /// the id and secret in the body per `options.authorizationMethod`) and
    /// `params` encoded per `options.bodyFormat`, as every token request sends.
    pub(super) fn client_post(
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

    /// The rendered client id (required) and secret (optional: public clients
    /// with PKCE have none). Without a `client` section the context's
    /// `client_id` and `client_secret` are used.
    pub(super) fn client_auth(&self, data: &Value) -> Result<ClientAuth, AuthError> {
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
    pub(super) fn client_id(&self, data: &Value) -> Result<String, AuthError> {
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

    pub(super) fn id_param(&self) -> &str {
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
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use patchbay_config::OAuth2Config;
    use serde_json::json;

    use super::ClientAuth;
    use crate::oauth2::{GrantKind, OAuth2Flow};

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
}
