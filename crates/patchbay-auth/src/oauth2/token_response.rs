//! Token endpoint answers: tokens, or a classified error.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value};

use crate::{AuthError, TokenSet};

/// Token responses larger than this are refused.
pub(super) const MAX_TOKEN_RESPONSE: usize = 1 << 20;
/// Provider error descriptions are cut to this many characters in errors.
const MAX_DESCRIPTION: usize = 200;

/// Maps a token endpoint's answer to tokens or a classified error.
///
/// 2xx with a token → tokens; 2xx with an `error` instead → rejected (Slack
/// answers `200 {"ok": false, "error": ...}`); 400/401/403, or any other 4xx
/// carrying an RFC 6749 error code → rejected; 429 → rate limited; 408 and
/// 5xx → unavailable; anything else → invalid response.
pub(super) fn interpret_response(
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
    use chrono::Utc;
    use serde_json::json;

    use super::interpret_response;
    use crate::{AuthError, TokenSet};

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
}
