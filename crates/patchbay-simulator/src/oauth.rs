//! OAuth endpoints: token (authorization code with PKCE, refresh with optional rotation,
//! client credentials, Keka's `kekaapi`) and a minimal authorize endpoint that redirects
//! straight back with a code (no login page).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use super::Provider;
use super::pkce::Challenge;
use super::state::Ctx;
use super::stats::GrantKind;
use super::tokens::{Issued, OAuthError, PendingCode};
use super::web::{self, Params, flat_body, header_str};

/// `POST` token endpoint of every OAuth provider.
pub(crate) async fn token(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match flat_body(&headers, &body) {
        Ok(p) => p,
        Err(e) => {
            let err = OAuthError::InvalidRequest(format!("cannot parse the request body: {e}"));
            ctx.sim
                .stats
                .count_token(ctx.p.provider, GrantKind::Other, true);
            return oauth_error(&err);
        }
    };
    let kind = GrantKind::parse(params.get("grant_type"));
    let result = grant(&ctx, &headers, &params, kind);
    ctx.sim
        .stats
        .count_token(ctx.p.provider, kind, result.is_err());
    match result {
        Ok(issued) => token_response(&ctx, &headers, &issued, kind),
        Err(e) => oauth_error(&e),
    }
}

/// Client id and secret from HTTP Basic or the body (`authorizationMethod` header or body).
fn client_of(headers: &HeaderMap, params: &Params) -> (Option<String>, Option<String>) {
    let basic = header_str(headers, "authorization")
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (decode_component(u), decode_component(p)))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            params.get("client_id").map(str::to_owned),
            params.get("client_secret").map(str::to_owned),
        ),
    }
}

/// RFC 6749 §2.3.1 form-encodes id and secret inside Basic; undo it.
fn decode_component(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

fn grant(
    ctx: &Ctx,
    headers: &HeaderMap,
    params: &Params,
    kind: GrantKind,
) -> Result<Issued, OAuthError> {
    let p = &ctx.p;
    let (client_id, secret) = client_of(headers, params);
    let client_id =
        client_id.ok_or_else(|| OAuthError::InvalidRequest("client_id is required".into()))?;
    if client_id != p.credentials.client_id
        || secret.as_deref() != Some(p.credentials.client_secret.as_str())
    {
        return Err(OAuthError::InvalidClient);
    }
    let tokens = &ctx.sim.tokens;
    let require = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::InvalidRequest(format!("{key} is required")))
    };
    match kind {
        GrantKind::AuthorizationCode => tokens.exchange_code(
            p.provider,
            require("code")?,
            &client_id,
            params.get("redirect_uri"),
            params.get("code_verifier"),
            p.issue_policy(),
        ),
        GrantKind::RefreshToken
            if p.issue_policy().refresh_tokens || p.provider == Provider::Github =>
        {
            tokens.refresh(p.provider, require("refresh_token")?, p.issue_policy())
        }
        GrantKind::ClientCredentials if p.provider == Provider::MicrosoftGraph => Ok(tokens
            .issue_client_grant(
                p.provider,
                "client-credentials",
                params.get("scope").map(str::to_owned),
                p.token_lifetime,
            )),
        GrantKind::Kekaapi if p.provider == Provider::Keka => {
            if require("api_key")? != p.credentials.api_key {
                return Err(OAuthError::InvalidGrant("api_key is invalid".into()));
            }
            Ok(tokens.issue_client_grant(
                p.provider,
                "kekaapi",
                Some("kekaapi".into()),
                p.token_lifetime,
            ))
        }
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}

fn oauth_error(err: &OAuthError) -> Response {
    let status = if *err == OAuthError::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    web::json(
        status,
        json!({"error": err.code(), "error_description": err.description()}),
    )
}

/// The provider's token response body.
fn token_response(ctx: &Ctx, headers: &HeaderMap, issued: &Issued, kind: GrantKind) -> Response {
    let provider = ctx.p.provider;
    let expires_in = issued.lifetime.map(|l| l.as_secs());
    let scope = issued.scope.clone().unwrap_or_default();
    let mut body = match provider {
        Provider::Salesforce => {
            let url = ctx.url();
            let issued_at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                .to_string();
            json!({"access_token": issued.access_token, "signature": "c2ltdWxhdGVk", "scope": "api refresh_token",
                "instance_url": url, "id": format!("{url}/id/00DSIM000000001AAA/005SIM000000001AAA"),
                "token_type": "Bearer", "issued_at": issued_at})
        }
        Provider::Github => {
            json!({"access_token": issued.access_token, "token_type": "bearer", "scope": scope})
        }
        Provider::Slack => {
            json!({"ok": true, "app_id": "A0SIM", "authed_user": {"id": "U0SIM"}, "scope": scope,
            "token_type": "bot", "access_token": issued.access_token, "bot_user_id": "U0SIMBOT",
            "team": {"id": "T0SIM", "name": "Simulated"}, "enterprise": null, "is_enterprise_install": false})
        }
        Provider::Shopify => json!({"access_token": issued.access_token, "scope": scope}),
        Provider::Notion => {
            json!({"access_token": issued.access_token, "token_type": "bearer", "bot_id": "00000000-0000-4000-8000-00000000b07",
            "workspace_id": "00000000-0000-4000-8000-0000000000a1", "workspace_name": "Simulated", "workspace_icon": null,
            "owner": {"type": "workspace", "workspace": true}, "duplicated_template_id": null})
        }
        Provider::Keka => {
            json!({"access_token": issued.access_token, "token_type": "Bearer", "scope": "kekaapi"})
        }
        Provider::MicrosoftGraph => {
            json!({"token_type": "Bearer", "access_token": issued.access_token, "ext_expires_in": expires_in})
        }
        Provider::Hubspot => json!({"access_token": issued.access_token, "token_type": "bearer"}),
        Provider::Jira | Provider::Stripe | Provider::Zendesk => {
            json!({"access_token": issued.access_token, "token_type": "Bearer", "scope": scope})
        }
    };
    if let Some(obj) = body.as_object_mut() {
        if provider != Provider::Salesforce
            && let Some(secs) = expires_in
        {
            obj.insert("expires_in".into(), json!(secs));
        }
        // Salesforce only returns the refresh token from the code exchange; it never rotates.
        let send_refresh = provider != Provider::Salesforce || kind == GrantKind::AuthorizationCode;
        if let Some(rt) = issued.refresh_token.as_ref().filter(|_| send_refresh) {
            obj.insert("refresh_token".into(), json!(rt));
            if provider == Provider::Github {
                obj.insert("refresh_token_expires_in".into(), json!(15_897_600));
            }
        }
    }
    // GitHub answers form-encoded unless the client asks for JSON.
    let wants_json = header_str(headers, "accept").is_some_and(|a| a.contains("json"));
    if provider == Provider::Github && !wants_json {
        return form_response(&body);
    }
    web::ok(body)
}

fn form_response(body: &Value) -> Response {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(obj) = body.as_object() {
        for (k, v) in obj {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ser.append_pair(k, &text);
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        ser.finish(),
    )
        .into_response()
}

/// `GET` authorize endpoint: validates the client and redirect URI, stores the code with
/// its PKCE challenge, and answers `302` to `redirect_uri?code=...&state=...`.
pub(crate) async fn authorize(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let bad = |msg: &str| {
        web::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": msg}),
        )
    };
    if q.get("client_id") != Some(ctx.p.credentials.client_id.as_str()) {
        return web::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_client", "error_description": "unknown client_id"}),
        );
    }
    let Some(redirect) = q.get("redirect_uri") else {
        return bad("redirect_uri is required");
    };
    let Ok(mut target) = url::Url::parse(redirect) else {
        return bad("redirect_uri is not an absolute URL");
    };
    if q.get("response_type").is_some_and(|rt| rt != "code") {
        target
            .query_pairs_mut()
            .append_pair("error", "unsupported_response_type");
    } else {
        let challenge = q.get("code_challenge").map(|value| Challenge {
            value: value.to_owned(),
            method: q.get("code_challenge_method").unwrap_or("plain").to_owned(),
        });
        let code = ctx.sim.tokens.store_code(PendingCode {
            provider: ctx.p.provider,
            client_id: ctx.p.credentials.client_id.clone(),
            redirect_uri: redirect.to_owned(),
            challenge,
            scope: q.get("scope").map(str::to_owned),
        });
        target.query_pairs_mut().append_pair("code", &code);
    }
    if let Some(state) = q.get("state") {
        target.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}
