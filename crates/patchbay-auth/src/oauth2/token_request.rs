//! The one token POST behind every grant, and the URL it goes to.

use std::time::Duration;

use chrono::Utc;
use indexmap::IndexMap;
use patchbay_config::TemplateValue;
use reqwest::header::RETRY_AFTER;
use serde_json::{Map, Value};
use url::Url;

use super::OAuth2Flow;
use super::endpoint::endpoint;
use super::params::{render_params, upsert};
use super::token_response::{MAX_TOKEN_RESPONSE, interpret_response};
use crate::context::placeholder_data;
use crate::{AuthError, TokenSet};

const DEFAULT_TOKEN_PATH: &str = "/oauth/token";

impl OAuth2Flow {
    /// The one token POST behind every grant. `params` are literal values
    /// (codes and tokens are never template-rendered); `defaults` and then
    /// `extra` (`tokenParams`/`refreshParams`) are rendered templates that
    /// replace parameters of the same name.
    pub(super) async fn token_request(
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

    /// `tokenExpiryDuration` in seconds, used when a response has no `expires_in`.
    fn default_lifetime(&self) -> Option<Duration> {
        self.config
            .token_expiry_duration
            .as_ref()
            .and_then(|d| d.as_f64())
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// Which token endpoint a request goes to.
#[derive(Clone, Copy)]
pub(super) enum Endpoint {
    Token,
    Refresh,
}

fn extra_name(which: Endpoint) -> &'static str {
    match which {
        Endpoint::Token => "tokenParams",
        Endpoint::Refresh => "refreshParams",
    }
}
