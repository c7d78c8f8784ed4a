//! Helpers shared by the integration tests: catalog credentials pointed at a
//! mock server, recording stores and event sinks, form/JSON body decoding.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use patchbay_auth::{AuthError, AuthEvents, CredentialStore, StoreError, TokenSet};
use patchbay_config::Credential;
use serde_json::{Map, Value, json};
use wiremock::{MockServer, Request};

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

/// A credential from inline JSON `{format, config}`.
pub fn credential(value: Value) -> Credential {
    serde_json::from_value(value).unwrap()
}

pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
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
