//! Helpers shared by the integration tests: catalog credentials pointed at a
//! mock server, recording stores and event sinks, form/JSON body decoding.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use patchbay_auth::{
    AccountAuth, AuthError, AuthEvents, Authenticated, CredentialStore, OAuth2Flow, StoreError,
    TokenManager, TokenSet,
};
use patchbay_config::Credential;
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The credential of `examples/catalog/<name>.json` (the `preferred` entry of a
/// credentials map), with every host pointed at `server`.
pub fn catalog_credential(name: &str, preferred: &str, server: &MockServer) -> Credential {
    let path = format!(
        "{}/../../examples/catalog/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let credentials = &config["credentials"];
    let mut credential = if credentials.get("format").is_some() {
        credentials.clone()
    } else {
        credentials[preferred].clone()
    };
    let auth = credential["config"]["auth"].as_object_mut().unwrap();
    auth.insert("tokenHost".into(), json!(server.uri()));
    if auth.contains_key("authorizeHost") {
        auth.insert("authorizeHost".into(), json!(server.uri()));
    }
    serde_json::from_value(credential).unwrap()
}

/// An [`OAuth2Flow`] (with a new HTTP client) of [`catalog_credential`]`(name, preferred, server)`.
pub fn catalog_flow(name: &str, preferred: &str, server: &MockServer) -> OAuth2Flow {
    OAuth2Flow::new(
        &catalog_credential(name, preferred, server),
        reqwest::Client::new(),
    )
    .unwrap()
}

/// Answers `POST at` on `server` with `response`; with `expected`, exactly that many times.
pub async fn answer_post(
    server: &MockServer,
    at: &str,
    response: ResponseTemplate,
    expected: Option<u64>,
) {
    let mock = Mock::given(method("POST"))
        .and(path(at))
        .respond_with(response);
    match expected {
        Some(n) => mock.expect(n),
        None => mock,
    }
    .mount(server)
    .await;
}

/// The form body of the first request `server` received.
pub async fn first_form(server: &MockServer) -> HashMap<String, String> {
    form(&server.received_requests().await.unwrap()[0])
}

/// A credential from inline JSON `{format, config}`.
pub fn credential(value: Value) -> Credential {
    serde_json::from_value(value).unwrap()
}

pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// The account id the token-manager tests use.
pub const ACCOUNT: &str = "acct-1";

/// An OAuth2 credential with the app's client id/secret from the context
/// (`{{client_id}}`, `{{client_secret}}`), sent in the body, to `{token_host}/token`.
pub fn oauth2_at(token_host: &str) -> Credential {
    credential(json!({"format": "oauth2", "config": {
        "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
        "auth": {"tokenHost": token_host, "tokenPath": "/token"},
        "options": {"authorizationMethod": "body"}
    }}))
}

/// An account context (with the app's client id/secret) whose access token expires
/// `expires_in` seconds from now.
pub fn context(access: &str, refresh: Option<&str>, expires_in: i64) -> Map<String, Value> {
    let expires_at = (Utc::now() + chrono::TimeDelta::seconds(expires_in))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut token = json!({"access_token": access, "expires_at": expires_at});
    if let Some(refresh) = refresh {
        token["refresh_token"] = json!(refresh);
    }
    object(json!({"client_id": "app", "client_secret": "app-secret", "oauth": {"token": token}}))
}

/// The account [`ACCOUNT`] with `credential` and `context`.
pub fn account<'a>(credential: &'a Credential, context: &'a Map<String, Value>) -> AccountAuth<'a> {
    AccountAuth {
        account_id: ACCOUNT,
        credential,
        context,
    }
}

/// `manager.authenticate` for [`ACCOUNT`] with `credential` and `context`.
pub async fn authenticate(
    manager: &TokenManager,
    credential: &Credential,
    context: &Map<String, Value>,
) -> Result<Authenticated, AuthError> {
    manager.authenticate(account(credential, context)).await
}

/// `manager.on_unauthorized` for [`ACCOUNT`]: a request with `rejected` got a 401.
pub async fn unauthorized(
    manager: &TokenManager,
    credential: &Credential,
    context: &Map<String, Value>,
    rejected: Option<&str>,
) -> Result<Authenticated, AuthError> {
    manager
        .on_unauthorized(account(credential, context), rejected)
        .await
}

/// Reports a 401 of the access token `rejected` through `first`, then through `second` (the
/// same manager or another process's): the first refreshes to `access`, the second adopts
/// that token without a refresh of its own.
pub async fn assert_two_401s_refresh_once(
    (first, second): (&TokenManager, &TokenManager),
    credential: &Credential,
    context: &Map<String, Value>,
    rejected: &str,
    access: &str,
) {
    let a = unauthorized(first, credential, context, Some(rejected))
        .await
        .unwrap();
    assert_token(&a, access, true);
    let b = unauthorized(second, credential, context, Some(rejected))
        .await
        .unwrap();
    assert_token(&b, access, false);
}

/// A new recording store and event sink.
pub fn recorders() -> (Arc<RecordingStore>, Arc<RecordingEvents>) {
    Default::default()
}

/// Checks the access token `auth` carries and whether getting it refreshed the tokens.
pub fn assert_token(auth: &Authenticated, access: &str, refreshed: bool) {
    assert_eq!(auth.access_token(), Some(access));
    assert_eq!(auth.refreshed(), refreshed, "refreshed");
}

/// A request's form body as a map (repeated keys: last wins).
pub fn form(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `user:password` of a Basic Authorization header.
pub fn basic_credentials(request: &Request) -> Option<String> {
    use base64::Engine;
    let encoded = header(request, "authorization")?.strip_prefix("Basic ")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Records what it saves, in order, and can be told to fail.
#[derive(Default)]
pub struct RecordingStore {
    pub saved: Mutex<Vec<(String, TokenSet)>>,
    pub log: Mutex<Vec<String>>,
    pub fail: AtomicBool,
}

impl RecordingStore {
    pub fn failing() -> Self {
        let store = Self::default();
        store.fail.store(true, Ordering::SeqCst);
        store
    }

    pub fn saves(&self) -> usize {
        self.saved.lock().unwrap().len()
    }

    pub fn last(&self) -> TokenSet {
        self.saved.lock().unwrap().last().unwrap().1.clone()
    }
}

#[async_trait]
impl CredentialStore for RecordingStore {
    async fn save_tokens(&self, account_id: &str, tokens: &TokenSet) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            self.log.lock().unwrap().push("save failed".into());
            return Err("database is down".into());
        }
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map_or("-", |r| r.expose())
            .to_owned();
        self.log
            .lock()
            .unwrap()
            .push(format!("saved {} {refresh}", tokens.access_token.expose()));
        self.saved
            .lock()
            .unwrap()
            .push((account_id.to_owned(), tokens.clone()));
        Ok(())
    }
}

/// Records `authentication_failed` calls as (account id, error message, requires_reauth).
#[derive(Default)]
pub struct RecordingEvents {
    pub failures: Mutex<Vec<(String, String, bool)>>,
}

impl RecordingEvents {
    pub fn count(&self) -> usize {
        self.failures.lock().unwrap().len()
    }
}

#[async_trait]
impl AuthEvents for RecordingEvents {
    async fn authentication_failed(&self, account_id: &str, error: &AuthError) {
        self.failures.lock().unwrap().push((
            account_id.to_owned(),
            error.to_string(),
            error.requires_reauth(),
        ));
    }
}

/// An address nothing listens on.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
