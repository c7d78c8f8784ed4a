//! Several processes sharing one credential store: each process is a
//! `TokenManager` of its own, the store a shared map with a per-account lock
//! (as a database with an advisory lock would be). A refresh must happen once
//! across all of them, and the others must adopt its tokens.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use patchbay_auth::{
    AuthError, CredentialStore, RefreshGuard, RefreshLock, StoreError, TokenManager, TokenSet,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Default)]
struct SharedStore {
    tokens: Mutex<HashMap<String, TokenSet>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    saves: AtomicUsize,
    locks_taken: AtomicUsize,
    fail_lock: AtomicBool,
}

struct HeldLock(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

#[async_trait]
impl RefreshLock for HeldLock {
    async fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

impl SharedStore {
    fn with_tokens(context: &Map<String, Value>) -> Arc<Self> {
        let store = Self::default();
        store
            .tokens
            .lock()
            .unwrap()
            .insert(ACCOUNT.to_owned(), TokenSet::from_context(context).unwrap());
        Arc::new(store)
    }

    fn stored(&self) -> TokenSet {
        self.tokens.lock().unwrap()[ACCOUNT].clone()
    }
}

#[async_trait]
impl CredentialStore for SharedStore {
    async fn save_tokens(&self, account_id: &str, tokens: &TokenSet) -> Result<(), StoreError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.tokens
            .lock()
            .unwrap()
            .insert(account_id.to_owned(), tokens.clone());
        Ok(())
    }

    async fn lock_refresh(&self, account_id: &str) -> Result<RefreshGuard, StoreError> {
        if self.fail_lock.load(Ordering::SeqCst) {
            return Err("the database is down".into());
        }
        self.locks_taken.fetch_add(1, Ordering::SeqCst);
        let mutex = self
            .locks
            .lock()
            .unwrap()
            .entry(account_id.to_owned())
            .or_default()
            .clone();
        Ok(RefreshGuard::new(HeldLock(mutex.lock_owned().await)))
    }

    async fn load_tokens(&self, account_id: &str) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.tokens.lock().unwrap().get(account_id).cloned())
    }
}

/// One "process": its own manager over the shared store.
fn process(store: &Arc<SharedStore>) -> Arc<TokenManager> {
    Arc::new(TokenManager::new(
        store.clone(),
        Arc::new(RecordingEvents::default()),
    ))
}

/// A token endpoint that rotates `refresh` into (`access`, `next`), slowly
/// enough that every caller arrives while the refresh is in flight.
async fn rotating(server: &MockServer, refresh: &str, access: &str, next: &str, expected: u64) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(format!("refresh_token={refresh}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "access_token": access, "refresh_token": next, "expires_in": 3600, "token_type": "bearer"
                }))
                .set_delay(Duration::from_millis(150)),
        )
        .expect(expected)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_refresh_an_expired_account_once() {
    let server = MockServer::start().await;
    rotating(&server, "rt-old", "at-new", "rt-new", 1).await;
    let credential = Arc::new(oauth2_at(&server.uri()));
    let ctx = Arc::new(context("at-old", Some("rt-old"), -10));
    let store = SharedStore::with_tokens(&ctx);
    let processes = [process(&store), process(&store)];

    let mut calls = Vec::new();
    for i in 0..40 {
        let manager = processes[i % 2].clone();
        let (credential, ctx) = (credential.clone(), ctx.clone());
        calls.push(tokio::spawn(async move {
            authenticate(&manager, &credential, &ctx)
                .await
                .map(|auth| (auth.access_token().map(str::to_owned), auth.refreshed()))
        }));
    }
    let mut refreshed = 0;
    for call in calls {
        let (token, was_refreshed) = call.await.unwrap().unwrap();
        assert_eq!(token.as_deref(), Some("at-new"));
        refreshed += usize::from(was_refreshed);
    }
    assert_eq!(
        refreshed, 1,
        "one caller obtained the tokens, the rest adopted them"
    );
    assert_eq!(store.saves.load(Ordering::SeqCst), 1);
    assert_eq!(store.stored().access_token.expose(), "at-new");
    assert_eq!(
        store.stored().refresh_token.unwrap().expose(),
        "rt-new",
        "the rotated refresh token is what is stored"
    );
    // One lock per process: callers in one process wait on its in-process slot.
    assert_eq!(store.locks_taken.load(Ordering::SeqCst), 2);
    // Both processes now use the new token without taking the lock again.
    for manager in &processes {
        let auth = authenticate(manager, &credential, &ctx).await.unwrap();
        assert_eq!(auth.access_token(), Some("at-new"));
    }
    assert_eq!(store.locks_taken.load(Ordering::SeqCst), 2);
    server.verify().await;
}

#[tokio::test]
async fn a_401_in_both_processes_refreshes_once_and_a_401_of_the_new_token_again() {
    let server = MockServer::start().await;
    rotating(&server, "rt-1", "at-2", "rt-2", 1).await;
    rotating(&server, "rt-2", "at-3", "rt-3", 1).await;
    let credential = oauth2_at(&server.uri());
    let ctx = context("at-1", Some("rt-1"), 3600);
    let store = SharedStore::with_tokens(&ctx);
    let (first, second) = (process(&store), process(&store));

    // The second process saw the same 401 with the same token: it adopts.
    assert_two_401s_refresh_once((&first, &second), &credential, &ctx, "at-1", "at-2").await;

    // A 401 of the adopted token itself refreshes with the rotated refresh token.
    let c = unauthorized(&second, &credential, &ctx, Some("at-2"))
        .await
        .unwrap();
    assert_token(&c, "at-3", true);
    assert_eq!(store.stored().refresh_token.unwrap().expose(), "rt-3");
    server.verify().await;
}

#[tokio::test]
async fn stored_tokens_that_also_expire_are_refreshed_with_the_stored_refresh_token() {
    let server = MockServer::start().await;
    // Another process already rotated rt-1 into rt-2; using rt-1 would be rejected.
    rotating(&server, "rt-2", "at-3", "rt-3", 1).await;
    let credential = oauth2_at(&server.uri());
    let stale = context("at-1", Some("rt-1"), -10);
    let store = SharedStore::with_tokens(&context("at-2", Some("rt-2"), 30));

    let auth = process(&store)
        .authenticate(account(&credential, &stale))
        .await
        .unwrap();
    assert_eq!(auth.access_token(), Some("at-3"));
    assert_eq!(auth.context()["oauth"]["token"]["refresh_token"], "rt-3");
    assert_eq!(store.stored().refresh_token.unwrap().expose(), "rt-3");
    server.verify().await;
}

#[tokio::test]
async fn a_lock_that_cannot_be_taken_fails_the_refresh_without_a_request() {
    let server = MockServer::start().await;
    rotating(&server, "rt-1", "never", "never", 0).await;
    let credential = oauth2_at(&server.uri());
    let ctx = context("at-1", Some("rt-1"), -10);
    let store = SharedStore::with_tokens(&ctx);
    store.fail_lock.store(true, Ordering::SeqCst);

    let error = process(&store)
        .authenticate(account(&credential, &ctx))
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Store(_)), "{error:?}");
    assert_eq!(store.saves.load(Ordering::SeqCst), 0);
    server.verify().await;
}
