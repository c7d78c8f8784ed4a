//! OAuth2Flow against token endpoints shaped like real providers: the exact
//! requests each grant sends and how responses are read.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use common::*;
use patchbay_auth::{AuthError, AuthorizeParams, OAuth2Flow, pkce_challenge};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn query_map(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn close_to(actual: chrono::DateTime<Utc>, expected_secs_from_now: i64) -> bool {
    let expected = Utc::now() + chrono::TimeDelta::seconds(expected_secs_from_now);
    (actual - expected).num_seconds().abs() <= 5
}

#[tokio::test]
async fn salesforce_authorize_with_pkce_then_code_exchange() {
    let server = MockServer::start().await;
    let flow = catalog_flow("salesforce", "oauth2", &server);
    let app = object(json!({"client_id": "sf-app", "client_secret": "sf-secret"}));

    let request = flow
        .authorize_url(
            &app,
            &AuthorizeParams::new("https://patchbay.test/connect/salesforce/callback"),
        )
        .unwrap();
    assert_eq!(request.url.path(), "/services/oauth2/authorize");
    assert!(request.url.as_str().starts_with(&server.uri()));
    let query = query_map(&request.url);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "sf-app");
    assert_eq!(
        query["redirect_uri"],
        "https://patchbay.test/connect/salesforce/callback"
    );
    assert_eq!(query["scope"], "api refresh_token");
    assert_eq!(query["state"], request.state);
    assert!(request.state.len() >= 32);
    assert_eq!(query["code_challenge_method"], "S256");
    let verifier = request
        .code_verifier
        .as_ref()
        .expect("catalog sets pkce: true")
        .expose()
        .to_owned();
    assert_eq!(query["code_challenge"], pkce_challenge(&verifier));
    assert!(
        !request.url.as_str().contains(&verifier),
        "the verifier never leaves the host"
    );
    assert!(
        !format!("{request:?}").contains(&verifier),
        "Debug hides the verifier"
    );

    answer_post(
        &server,
        "/services/oauth2/token",
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dxx!sf-access",
            "refresh_token": "5Aep-sf-refresh",
            "signature": "sig=",
            "scope": "refresh_token api",
            "instance_url": "https://acme.my.salesforce.com",
            "id": "https://login.salesforce.com/id/00Dxx/005xx",
            "token_type": "Bearer",
            "issued_at": "1735689600000"
        })),
        Some(1),
    )
    .await;

    let tokens = flow
        .exchange_code(
            &app,
            "aPrx-code",
            "https://patchbay.test/connect/salesforce/callback",
            Some(&verifier),
        )
        .await
        .unwrap();

    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        header(sent, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(header(sent, "accept"), Some("application/json"));
    assert_eq!(
        header(sent, "authorization"),
        None,
        "authorizationMethod: body"
    );
    let body = form(sent);
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["code"], "aPrx-code");
    assert_eq!(
        body["redirect_uri"],
        "https://patchbay.test/connect/salesforce/callback"
    );
    assert_eq!(body["code_verifier"], verifier);
    assert_eq!(body["client_id"], "sf-app");
    assert_eq!(body["client_secret"], "sf-secret");
    assert_eq!(body.len(), 6);

    assert_eq!(tokens.access_token.expose(), "00Dxx!sf-access");
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose(),
        "5Aep-sf-refresh"
    );
    assert_eq!(tokens.expires_in, None, "Salesforce sends no expires_in");
    assert!(
        close_to(tokens.expires_at.unwrap(), 7200),
        "tokenExpiryDuration applies"
    );
    let patch = tokens.context_patch();
    assert_eq!(patch["instance_url"], "https://acme.my.salesforce.com");
    assert_eq!(
        patch["oauth"]["token"]["instance_url"],
        "https://acme.my.salesforce.com"
    );
    assert_eq!(patch["oauth"]["scope"], "refresh_token api");
    assert!(patch.get("signature").is_none() && patch.get("id").is_none());
}

#[tokio::test]
async fn slack_authorize_url_joins_scopes_with_the_separator_and_adds_params() {
    let server = MockServer::start().await;
    let flow = catalog_flow("slack", "oauth2", &server);
    let request = flow
        .authorize_url(
            &object(json!({"client_id": "123.456"})),
            &AuthorizeParams::new("https://cb").state("my-state"),
        )
        .unwrap();
    let query = query_map(&request.url);
    assert_eq!(query["scope"], "channels:read,chat:write");
    assert_eq!(query["state"], "my-state");
    assert!(request.code_verifier.is_none() && !query.contains_key("code_challenge"));

    let with_params = OAuth2Flow::new(
        &credential(json!({"format": "oauth2", "config": {
            "client": {"id": "{{client_id}}", "idParamName": "app_key"},
            "auth": {"tokenHost": "https://login.example.com", "authorizeHost": "https://auth.{{region}}.example.com", "authorizePath": "/o/authorize?fixed=1"},
            "scope": "a b",
            "params": {"access_type": "offline", "prompt": "consent", "audience": "{{audience}}", "response_type": "code id_token"}
        }})),
        reqwest::Client::new(),
    )
    .unwrap();
    let request = with_params
        .authorize_url(
            &object(json!({"client_id": "cid", "region": "eu", "audience": "api://x"})),
            &AuthorizeParams::new("https://cb").scopes(vec!["override".into(), "scopes".into()]),
        )
        .unwrap();
    assert_eq!(request.url.host_str(), Some("auth.eu.example.com"));
    let query = query_map(&request.url);
    assert_eq!(query["fixed"], "1");
    assert_eq!(query["app_key"], "cid");
    assert_eq!(query["scope"], "override scopes");
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["audience"], "api://x");
    assert_eq!(
        query["response_type"], "code id_token",
        "params replace standard parameters"
    );
}

#[tokio::test]
async fn hubspot_refresh_sends_the_refresh_grant_and_reads_the_30_minute_expiry() {
    let server = MockServer::start().await;
    answer_post(&server, "/oauth/v1/token", ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "refresh_token": "hub-refresh", "access_token": "hub-access-2", "expires_in": 1800
        })), Some(1)).await;
    let flow = catalog_flow("hubspot", "oauth2", &server);
    let tokens = flow
        .refresh(
            &object(json!({"client_id": "hub-app", "client_secret": "hub-secret"})),
            "hub-refresh",
        )
        .await
        .unwrap();
    let body = first_form(&server).await;
    assert_eq!(
        body,
        HashMap::from([
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), "hub-refresh".to_owned()),
            ("client_id".to_owned(), "hub-app".to_owned()),
            ("client_secret".to_owned(), "hub-secret".to_owned()),
        ])
    );
    assert_eq!(tokens.expires_in, Some(1800));
    assert!(close_to(tokens.expires_at.unwrap(), 1800));
}

#[tokio::test]
async fn header_client_auth_json_body_params_and_refresh_path() {
    let server = MockServer::start().await;
    answer_post(
        &server,
        "/v2/token",
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": "a1", "expires_in": "3600"})),
        None,
    )
    .await;
    answer_post(
        &server,
        "/v2/refresh",
        ResponseTemplate::new(200).set_body_json(json!({"access_token": "a2"})),
        None,
    )
    .await;
    let flow = OAuth2Flow::new(
        &credential(json!({"format": "oauth2", "config": {
            "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
            "auth": {"tokenHost": server.uri(), "tokenPath": "/v2/token", "refreshPath": "/v2/refresh"},
            "options": {"authorizationMethod": "header", "bodyFormat": "json"},
            "tokenParams": {"audience": "{{audience}}", "count": "{{count:int}}", "dropped": "{{nothing:undefined}}"},
            "refreshParams": {"scope": "offline_access"}
        }})),
        reqwest::Client::new(),
    )
    .unwrap();
    let context = object(
        json!({"client_id": "my app", "client_secret": "s&cret", "audience": "https://api", "count": "5"}),
    );

    let tokens = flow
        .exchange_code(&context, "c0de", "https://cb", None)
        .await
        .unwrap();
    assert!(
        close_to(tokens.expires_at.unwrap(), 3600),
        "string expires_in is read as seconds"
    );
    flow.refresh(&context, "r1").await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let exchange = &requests[0];
    assert_eq!(header(exchange, "content-type"), Some("application/json"));
    assert_eq!(
        basic_credentials(exchange).as_deref(),
        Some("my+app:s%26cret"),
        "strict encoding"
    );
    let body: Value = serde_json::from_slice(&exchange.body).unwrap();
    assert_eq!(
        body,
        json!({"grant_type": "authorization_code", "code": "c0de", "redirect_uri": "https://cb", "audience": "https://api", "count": 5})
    );
    let refresh: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(requests[1].url.path(), "/v2/refresh");
    assert_eq!(
        refresh,
        json!({"grant_type": "refresh_token", "refresh_token": "r1", "scope": "offline_access"})
    );
}

#[tokio::test]
async fn keka_grant_sends_kekaapi_with_the_api_key() {
    let server = MockServer::start().await;
    answer_post(
        &server,
        "/connect/token",
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "keka-at", "token_type": "Bearer", "scope": "kekaapi"
        })),
        Some(1),
    )
    .await;
    let flow = catalog_flow("keka", "keka_oauth", &server);
    let context = object(
        json!({"company": "acme", "client_id": "kc", "client_secret": "ks", "api_key": "kk"}),
    );
    let tokens = flow.request_token(&context).await.unwrap();
    let body = first_form(&server).await;
    assert_eq!(body["grant_type"], "kekaapi");
    assert_eq!(body["scope"], "kekaapi");
    assert_eq!(body["api_key"], "kk");
    assert_eq!(body["client_id"], "kc");
    assert_eq!(body["client_secret"], "ks");
    assert_eq!(body.len(), 5);
    assert!(tokens.refresh_token.is_none());
    assert!(
        close_to(tokens.expires_at.unwrap(), 86_400),
        "tokenExpiryDuration as a string"
    );

    let error = flow
        .keka_token(&object(json!({"client_id": "kc", "client_secret": "ks"})))
        .await
        .unwrap_err();
    assert!(
        matches!(error, AuthError::MissingCredential { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn microsoft_client_credentials_renders_the_tenant_into_the_path() {
    let server = MockServer::start().await;
    answer_post(&server, "/0000-tenant/oauth2/v2.0/token", ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAi"
        })), Some(1)).await;
    let flow = catalog_flow("microsoft-graph", "oauth2_client_credentials", &server);
    let context = object(
        json!({"tenant_id": "0000-tenant", "client_id": "ms-app", "client_secret": "ms-secret"}),
    );
    let tokens = flow.client_credentials(&context).await.unwrap();
    let body = first_form(&server).await;
    assert_eq!(body["grant_type"], "client_credentials");
    assert_eq!(body["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(body["client_id"], "ms-app");
    assert_eq!(body["client_secret"], "ms-secret");
    assert_eq!(tokens.extra["ext_expires_in"], 3599);
    assert!(close_to(tokens.expires_at.unwrap(), 3599));
}

#[tokio::test]
async fn github_form_encoded_answer_is_accepted() {
    let server = MockServer::start().await;
    answer_post(
        &server,
        "/login/oauth/access_token",
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-www-form-urlencoded")
            .set_body_string("access_token=gho_16C7e42F&scope=repo%2Cread%3Aorg&token_type=bearer"),
        None,
    )
    .await;
    let flow = catalog_flow("github", "oauth2", &server);
    let tokens = flow
        .exchange_code(
            &object(json!({"client_id": "gh", "client_secret": "ghs"})),
            "code",
            "https://cb",
            None,
        )
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "gho_16C7e42F");
    assert_eq!(tokens.scope.as_deref(), Some("repo,read:org"));
    assert_eq!(
        tokens.expires_at, None,
        "GitHub OAuth app tokens do not expire"
    );
}

async fn refresh_against(response: ResponseTemplate) -> AuthError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let flow = catalog_flow("hubspot", "oauth2", &server);
    flow.refresh(
        &object(json!({"client_id": "id", "client_secret": "SECRET-cs"})),
        "SECRET-rt",
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn error_responses_are_classified_and_never_leak_secrets() {
    let cases = [
        (
            ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_grant", "error_description": "Token has been revoked"}),
            ),
            true,
        ),
        (
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
            true,
        ),
        (
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "invalid_refresh_token"})),
            true,
        ),
        (ResponseTemplate::new(500).set_body_string("oops"), false),
        (ResponseTemplate::new(503), false),
        (
            ResponseTemplate::new(429).insert_header("retry-after", "7"),
            false,
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"access_token\": \"SECRET-half"),
            false,
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"accessToken": "SECRET-wrong-name"})),
            false,
        ),
    ];
    for (response, reauth) in cases {
        let error = refresh_against(response).await;
        assert_eq!(error.requires_reauth(), reauth, "{error}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
    let rate_limited =
        refresh_against(ResponseTemplate::new(429).insert_header("retry-after", "7")).await;
    assert!(matches!(
        rate_limited,
        AuthError::RateLimited {
            retry_after: Some(7)
        }
    ));
    let malformed = refresh_against(ResponseTemplate::new(200).set_body_string("not json")).await;
    assert!(
        matches!(malformed, AuthError::InvalidResponse { status: 200, .. }),
        "{malformed}"
    );
}

#[tokio::test]
async fn unreachable_and_slow_endpoints_are_transport_errors() {
    let flow = OAuth2Flow::new(
        &credential(
            json!({"format": "oauth2", "config": {"auth": {"tokenHost": closed_port_url()}}}),
        ),
        reqwest::Client::new(),
    )
    .unwrap();
    let error = flow
        .refresh(&object(json!({"client_id": "id"})), "SECRET-rt")
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Transport(_)), "{error}");
    assert!(!error.requires_reauth() && error.is_transient());

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = catalog_flow("hubspot", "oauth2", &server).with_timeout(Duration::from_millis(200));
    let error = slow
        .refresh(
            &object(json!({"client_id": "id", "client_secret": "s"})),
            "rt",
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Transport(_)), "{error}");
}

#[tokio::test]
async fn missing_client_id_is_reported_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let flow = catalog_flow("hubspot", "oauth2", &server);
    let error = flow.refresh(&object(json!({})), "rt").await.unwrap_err();
    assert!(
        matches!(&error, AuthError::MissingCredential { what } if what.contains("{{client_id}}")),
        "{error}"
    );
}
