//! Request authorization: the headers an `authorization` config adds to each request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use patchbay_config::{Authorization, TemplateString};
use patchbay_template::expression::{Bindings, Expression};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use crate::AuthError;
use crate::context::{placeholder_data, render_required};

/// The bearer token used when a `bearer` config names none.
pub const DEFAULT_BEARER_TOKEN: &str = "{{oauth.token.access_token}}";

/// The request a `header` expression sees as `url` and `requestOptions`.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The full request URL.
    pub url: &'a str,
    /// The request's options (`method`, `headers`, `query`, `body`, ...) as
    /// the executor describes them.
    pub request_options: &'a Value,
}

/// An `authorization` config prepared once (templates parsed, expression
/// compiled) and applied to many requests.
///
/// Methods with `no_auth: true` skip authorization: the executor does not call
/// [`headers`](Self::headers) for them.
#[derive(Debug, Clone)]
pub struct Authorizer {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Bearer(TemplateString),
    Basic {
        username: Option<TemplateString>,
        password: Option<TemplateString>,
    },
    Header {
        name: HeaderName,
        value: TemplateString,
    },
    Expression(Expression),
}

impl Authorizer {
    /// Prepares `authorization`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] when a `header` config has neither an expression
    /// nor a name and value, the header name is invalid, or the JSONata does
    /// not compile.
    pub fn new(authorization: &Authorization) -> Result<Self, AuthError> {
        let kind = match authorization {
            Authorization::Bearer(config) => Kind::Bearer(
                config
                    .as_ref()
                    .and_then(|c| c.token.clone())
                    .unwrap_or_else(|| TemplateString::from(DEFAULT_BEARER_TOKEN)),
            ),
            Authorization::Basic(config) => Kind::Basic {
                username: config.username.clone(),
                password: config.password.clone(),
            },
            Authorization::Header(config) => match (
                &config.expression,
                &config.header_name,
                &config.header_value,
            ) {
                (Some(expression), _, _) => {
                    Kind::Expression(expression.compile().map_err(|e| {
                        AuthError::config(format!("authorization expression does not compile: {e}"))
                    })?)
                }
                (None, Some(name), Some(value)) => Kind::Header {
                    name: HeaderName::try_from(name.as_str()).map_err(|_| {
                        AuthError::config(format!(
                            "authorization header_name `{name}` is not a valid header name"
                        ))
                    })?,
                    value: value.clone(),
                },
                _ => {
                    return Err(AuthError::config(
                        "header authorization needs `expression` or `header_name` and `header_value`",
                    ));
                }
            },
        };
        Ok(Self { kind })
    }

    /// The headers to add, values marked sensitive.
    ///
    /// `bearer` → `Authorization: Bearer <token>` (default token
    /// `{{oauth.token.access_token}}`); `basic` → `Authorization: Basic
    /// base64(username:password)` (a missing part is empty); `header` →
    /// the named header, or every `{name: value}` pair the expression returns
    /// (it sees `url`, `requestOptions` and `context`; `null` values are
    /// skipped).
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingCredential`] when a placeholder has no value or the
    /// token is empty; [`AuthError::Config`] when the expression fails or
    /// returns something other than an object, or a value cannot be a header.
    ///
    /// ```
    /// use patchbay_auth::{Authorizer, RequestView};
    /// use serde_json::json;
    ///
    /// let config = serde_json::from_value(json!({"format": "basic", "config": {"username": "{{email}}/token", "password": "{{api_token}}"}})).unwrap();
    /// let context = json!({"email": "a@b.co", "api_token": "t0k"});
    /// let headers = Authorizer::new(&config)?
    ///     .headers(context.as_object().unwrap(), RequestView { url: "https://x", request_options: &json!({}) })?;
    /// assert_eq!(headers[0].1, "Basic YUBiLmNvL3Rva2VuOnQwaw==");
    /// assert!(headers[0].1.is_sensitive());
    /// # Ok::<(), patchbay_auth::AuthError>(())
    /// ```
    pub fn headers(
        &self,
        context: &Map<String, Value>,
        request: RequestView<'_>,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        match &self.kind {
            Kind::Bearer(token) => {
                let data = placeholder_data(context);
                let token = render_required(token.as_str(), &data, "bearer token")?;
                Ok(vec![(
                    AUTHORIZATION,
                    sensitive(&AUTHORIZATION, format!("Bearer {token}"))?,
                )])
            }
            Kind::Basic { username, password } => {
                let data = placeholder_data(context);
                let part = |t: &Option<TemplateString>, what| match t {
                    Some(t) => render_required(t.as_str(), &data, what),
                    None => Ok(String::new()),
                };
                let credentials = format!(
                    "{}:{}",
                    part(username, "basic username")?,
                    part(password, "basic password")?
                );
                let value = format!("Basic {}", STANDARD.encode(credentials));
                Ok(vec![(AUTHORIZATION, sensitive(&AUTHORIZATION, value)?)])
            }
            Kind::Header { name, value } => {
                let data = placeholder_data(context);
                let value = render_required(value.as_str(), &data, name.as_str())?;
                Ok(vec![(name.clone(), sensitive(name, value)?)])
            }
            Kind::Expression(expression) => {
                let input = json!({
                    "url": request.url,
                    "requestOptions": request.request_options,
                    "context": context,
                });
                let result = expression.evaluate(&input, &Bindings::new()).map_err(|e| {
                    AuthError::config(format!("authorization expression failed: {e}"))
                })?;
                let Some(Value::Object(pairs)) = result else {
                    return Err(AuthError::config(
                        "authorization expression must return an object of headers",
                    ));
                };
                let mut headers = Vec::with_capacity(pairs.len());
                for (name, value) in pairs {
                    let text = match value {
                        Value::Null => continue,
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let name = HeaderName::try_from(name.as_str()).map_err(|_| {
                        AuthError::config(format!(
                            "authorization expression returned an invalid header name `{name}`"
                        ))
                    })?;
                    let value = sensitive(&name, text)?;
                    headers.push((name, value));
                }
                Ok(headers)
            }
        }
    }
}

/// A header value marked sensitive (hidden from `Debug` and HTTP/2 compression
/// tables). The error names the header, never the value.
fn sensitive(name: &HeaderName, value: String) -> Result<HeaderValue, AuthError> {
    let mut value = HeaderValue::try_from(value).map_err(|_| {
        AuthError::config(format!(
            "value of header `{name}` has characters a header cannot hold"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(auth: Value, context: Value) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        let authorization: Authorization = serde_json::from_value(auth).unwrap();
        Authorizer::new(&authorization)?.headers(
            context.as_object().unwrap(),
            RequestView {
                url: "https://api.example.com/v1/items?limit=5",
                request_options: &json!({"method": "get"}),
            },
        )
    }

    #[test]
    fn bearer_defaults_to_the_oauth_access_token() {
        let headers = apply(
            json!({"format": "bearer"}),
            json!({"oauth": {"token": {"access_token": "at-1"}}}),
        )
        .unwrap();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].0, AUTHORIZATION);
        assert_eq!(headers[0].1, "Bearer at-1");
        assert!(headers[0].1.is_sensitive());
    }

    #[test]
    fn bearer_with_fallback_to_an_api_key() {
        let auth = json!({"format": "bearer", "config": {"token": "{{oauth.token.access_token|api_key}}"}});
        assert_eq!(
            apply(auth.clone(), json!({"api_key": "pat"})).unwrap()[0].1,
            "Bearer pat"
        );
        assert_eq!(
            apply(
                auth,
                json!({"api_key": "pat", "oauth": {"token": {"access_token": "o"}}})
            )
            .unwrap()[0]
                .1,
            "Bearer o"
        );
    }

    #[test]
    fn missing_token_is_a_missing_credential() {
        let error = apply(json!({"format": "bearer"}), json!({})).unwrap_err();
        assert!(
            matches!(error, AuthError::MissingCredential { .. }),
            "{error}"
        );
    }

    #[test]
    fn header_name_and_value() {
        let auth = json!({"format": "header", "config": {"header_name": "X-Shopify-Access-Token", "header_value": "{{context.oauth.token.access_token}}"}});
        let headers = apply(auth, json!({"oauth": {"token": {"access_token": "shpat"}}})).unwrap();
        assert_eq!(headers[0].0.as_str(), "x-shopify-access-token");
        assert_eq!(headers[0].1, "shpat");
    }

    #[test]
    fn header_expression_sees_url_request_options_and_context() {
        let auth = json!({"format": "header", "config": {"expression":
            "{'X-Key': context.api_key, 'X-Url': url, 'X-Method': requestOptions.method, 'X-Skip': null, 'X-Num': 7}"}});
        let headers = apply(auth, json!({"api_key": "k1"})).unwrap();
        let pairs: Vec<_> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("x-key", "k1"),
                ("x-url", "https://api.example.com/v1/items?limit=5"),
                ("x-method", "get"),
                ("x-num", "7")
            ]
        );
        assert!(headers.iter().all(|(_, v)| v.is_sensitive()));
    }

    #[test]
    fn bad_header_configs_fail_early_or_cleanly() {
        let no_value = serde_json::from_value::<Authorization>(
            json!({"format": "header", "config": {"header_name": "X"}}),
        )
        .unwrap();
        assert!(matches!(
            Authorizer::new(&no_value),
            Err(AuthError::Config(_))
        ));
        let bad_name = serde_json::from_value::<Authorization>(
            json!({"format": "header", "config": {"header_name": "bad name", "header_value": "v"}}),
        )
        .unwrap();
        assert!(matches!(
            Authorizer::new(&bad_name),
            Err(AuthError::Config(_))
        ));
        let not_object = json!({"format": "header", "config": {"expression": "'just a string'"}});
        assert!(matches!(
            apply(not_object, json!({})),
            Err(AuthError::Config(_))
        ));
        let newline =
            json!({"format": "header", "config": {"header_name": "X", "header_value": "{{v}}"}});
        let error = apply(newline, json!({"v": "a\nSECRET"})).unwrap_err();
        assert!(!error.to_string().contains("SECRET"), "{error}");
    }
}
