//! What the facade's integration tests share: a [`Patchbay`] wired to in-memory accounts
//! and events, stored accounts, catalog configs, token contexts and event checks.
#![allow(dead_code)]

use std::sync::Arc;

use patchbay::config::{
    AccountStatus, AuthenticationMethod, IntegratedAccount, IntegrationConfig,
    load_integration_config,
};
use patchbay::{
    AccountStore, CallInput, Error, ListOptions, MemoryAccountStore, MemoryEvents, Page, Patchbay,
    PatchbayBuilder,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer};

/// A facade with its in-memory account store and event sink, to look into.
pub struct Harness {
    pub patchbay: Patchbay,
    pub accounts: Arc<MemoryAccountStore>,
    pub events: Arc<MemoryEvents>,
}

/// [`harness_with`] a default builder.
pub fn harness() -> Harness {
    harness_with(Patchbay::builder())
}

/// `builder` with a new in-memory account store and event sink.
pub fn harness_with(builder: PatchbayBuilder) -> Harness {
    let accounts = Arc::new(MemoryAccountStore::new());
    let events = Arc::new(MemoryEvents::new());
    let patchbay = builder
        .account_store(accounts.clone())
        .event_sink(events.clone())
        .build();
    Harness {
        patchbay,
        accounts,
        events,
    }
}

impl Harness {
    /// Stores an active account `id` of the install `install`.
    pub async fn put(&self, id: &str, install: &str, method: AuthenticationMethod, context: Value) {
        self.accounts
            .put(account(id, install, method, context))
            .await
            .expect("the memory store takes it");
    }

    /// The stored account `id` (it must exist).
    pub async fn stored(&self, id: &str) -> IntegratedAccount {
        self.accounts
            .get(id)
            .await
            .expect("the memory store answers")
            .expect("the account exists")
    }

    /// The first page of `resource.list` for `account`, without input.
    pub async fn first_page(&self, account: &str, resource: &str) -> Result<Page, Error> {
        self.patchbay
            .list_page(
                account,
                resource,
                "list",
                &CallInput::new(),
                ListOptions::default(),
            )
            .await
    }

    /// Checks that account `id` is stored as needing reauthorization, its last error
    /// naming `reason`.
    pub async fn assert_needs_reauth(&self, id: &str, reason: &str) {
        let stored = self.stored(id).await;
        assert_eq!(stored.status, AccountStatus::NeedsReauth);
        let error = stored.last_error.as_deref().unwrap_or_default();
        assert!(error.contains(reason), "{id}: {error:?}");
    }

    /// Checks that exactly one event was emitted since the last take, the
    /// `integrated_account:authentication_error` of `account`.
    pub fn assert_one_authentication_error(&self, account: &str) {
        let events = self.events.take();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].name, "integrated_account:authentication_error");
        assert_eq!(events[0].payload["id"], account);
    }
}

/// An active account `id` of the install `install` with `context` (a JSON object).
pub fn account(
    id: &str,
    install: &str,
    method: AuthenticationMethod,
    context: Value,
) -> IntegratedAccount {
    IntegratedAccount {
        id: id.into(),
        tenant_id: "tenant-1".into(),
        environment_integration_id: install.into(),
        environment_id: None,
        context: object(context),
        authentication_method: method,
        status: AccountStatus::Active,
        last_error: None,
        last_action_result: None,
        region: None,
        is_sandbox: false,
        object_store_context_keys: None,
        integration: None,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    }
}

/// `value`, which must be a JSON object, as a map.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected a JSON object, got {other}"),
    }
}

/// `value` loaded as an integration config; panics with the load error.
pub fn config(value: Value) -> IntegrationConfig {
    load_integration_config(&value.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// The text of the catalog config `examples/catalog/{slug}.json`.
pub fn catalog_text(slug: &str) -> String {
    let path = format!(
        "{}/../../examples/catalog/{slug}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An OAuth token context whose `expires_at` is `from_now` away (negative: in the past).
pub fn token_context(access: &str, refresh: Option<&str>, from_now: chrono::Duration) -> Value {
    let at = chrono::Utc::now() + from_now;
    let mut token = json!({
        "access_token": access,
        "expires_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    if let Some(refresh) = refresh {
        token["refresh_token"] = json!(refresh);
    }
    json!({"oauth": {"token": token}})
}

/// How many requests to path `at` `server` received.
pub async fn requests_to(server: &MockServer, at: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .filter(|r| r.url.path() == at)
        .count()
}

/// The bodies of every request `server` received, in order, as text.
pub async fn bodies(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// A mock of `verb` requests to the path `at`, to add matchers and a response to.
pub fn on(verb: &str, at: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(at))
}
