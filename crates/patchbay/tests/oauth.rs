//! The facade's OAuth 2 authorization-code flow against a real token endpoint on loopback.

use patchbay::auth::{AuthError, AuthorizeParams};
use patchbay::{CodeExchange, Error, ErrorKind, Patchbay};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT_URI: &str = "https://app.example.org/connect/example/callback";

/// A facade with `example` installed: an `oauth2` credential (PKCE on, the client id from the
/// host variables, the subdomain from the user's context) whose endpoints are `server`.
fn installed(server: &MockServer) -> Patchbay {
    let config = patchbay::config::load_integration_config(
        &json!({
            "base_url": "https://api.example.com",
            "credentials": {
                "oauth2": {"format": "oauth2", "config": {
                    "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
                    "auth": {
                        "tokenHost": server.uri(),
                        "tokenPath": "/oauth/token",
                        "authorizeHost": "https://{{subdomain}}.example.com",
                        "authorizePath": "/authorize"
                    },
                    "options": {"scopeSeparator": " "},
                    "pkce": true,
                    "scope": ["read", "write"]
                }},
                "api_key": {"format": "api_key", "config": {"fields": [{"name": "api_key"}]}}
            },
            "resources": {"me": {"get": {"path": "/me"}}}
        })
        .to_string(),
    )
    .expect("the config is valid");
    let patchbay = Patchbay::builder().build();
    let host = json!({"client_id": "app-1", "client_secret": "s3cret"});
    patchbay
        .install("example", config, host.as_object().cloned().unwrap())
        .expect("installs");
    patchbay
}

fn entered() -> Map<String, Value> {
    json!({"subdomain": "acme"}).as_object().cloned().unwrap()
}

/// The authorize request of the `oauth2` credential for the entered context.
fn authorize(patchbay: &Patchbay) -> patchbay::auth::AuthorizeRequest {
    patchbay
        .authorize_url(
            "example",
            "oauth2",
            &entered(),
            &AuthorizeParams::new(REDIRECT_URI),
        )
        .unwrap()
}

/// Exchanges `code` (with the PKCE `code_verifier`, if any) for the entered context.
async fn exchange(
    patchbay: &Patchbay,
    code: &str,
    code_verifier: Option<&str>,
) -> Result<patchbay::auth::TokenSet, Error> {
    patchbay
        .exchange_code(
            "example",
            "oauth2",
            &entered(),
            CodeExchange {
                code,
                redirect_uri: REDIRECT_URI,
                code_verifier,
            },
        )
        .await
}

fn query_of(url: &url::Url) -> Map<String, Value> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

#[tokio::test]
async fn the_authorize_url_renders_host_variables_and_the_entered_context() {
    let server = MockServer::start().await;
    let patchbay = installed(&server);
    let request = authorize(&patchbay);

    assert_eq!(request.url.host_str(), Some("acme.example.com"));
    assert_eq!(request.url.path(), "/authorize");
    let query = query_of(&request.url);
    assert_eq!(query["client_id"], "app-1");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["state"], request.state.as_str());
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(
        request.code_verifier.is_some(),
        "pkce: true keeps a verifier"
    );
    assert!(
        !request.url.as_str().contains("s3cret"),
        "the client secret never reaches the browser"
    );
}

#[tokio::test]
async fn exchange_code_posts_the_code_and_verifier_and_returns_the_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-1",
            "refresh_token": "rt-1",
            "expires_in": 3600,
            "token_type": "bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let patchbay = installed(&server);
    let request = authorize(&patchbay);
    let verifier = request.code_verifier.as_ref().map(|v| v.expose());

    let tokens = exchange(&patchbay, "the-code", verifier).await.unwrap();

    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose()),
        Some("rt-1")
    );
    let context = tokens.context_patch();
    assert_eq!(context["oauth"]["token"]["access_token"], "at-1");
}

#[tokio::test]
async fn a_refused_code_is_an_auth_error_that_hides_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let patchbay = installed(&server);

    let error = exchange(&patchbay, "stale", None).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(
        matches!(&error, Error::Auth(AuthError::Rejected { .. })),
        "{error:?}"
    );
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[tokio::test]
async fn unknown_installs_and_credentials_and_non_oauth_credentials_are_refused() {
    let server = MockServer::start().await;
    let patchbay = installed(&server);
    let params = AuthorizeParams::new(REDIRECT_URI);

    let error = patchbay
        .authorize_url("missing", "oauth2", &entered(), &params)
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownIntegration(ref id) if id == "missing"),
        "{error}"
    );

    let error = patchbay
        .authorize_url("example", "oauth1", &entered(), &params)
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownCredential { ref credential, .. } if credential == "oauth1"),
        "{error}"
    );
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let error = patchbay
        .authorize_url("example", "api_key", &entered(), &params)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
