//! TokenManager against mock token endpoints: when it refreshes, that
//! concurrent callers share one refresh, that new tokens are saved before
//! use, and which failures mark the account for reauthorization.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use patchbay_auth::{AuthError, TokenManager};
use patchbay_config::Credential;
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn manager(store: &Arc<RecordingStore>, events: &Arc<RecordingEvents>) -> TokenManager {
    TokenManager::new(store.clone(), events.clone())
}

/// A mock token endpoint answering `response` exactly `expected` times, and an OAuth2
/// credential pointing at it.
async fn endpoint(response: ResponseTemplate, expected: u64) -> (MockServer, Credential) {
    let server = MockServer::start().await;
    token_endpoint(&server, response, expected).await;
    let credential = oauth2_at(&server.uri());
    (server, credential)
}

/// [`endpoint`] rotating into `at-new`/`rt-new` once, answering after 300 ms.
async fn slow_rotation() -> (MockServer, Credential) {
    endpoint(
        rotated("at-new", "rt-new").set_delay(Duration::from_millis(300)),
        1,
    )
    .await
}

async fn token_endpoint(server: &MockServer, response: ResponseTemplate, expected: u64) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(response)
        .expect(expected)
        .mount(server)
        .await;
}

fn rotated(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ok": true, "access_token": access, "refresh_token": refresh, "expires_in": 43200, "token_type": "bearer"
    }))
}

#[tokio::test]
async fn fresh_tokens_are_used_without_a_request() {
    let (_server, credential) = endpoint(rotated("never", "never"), 0).await;
    let (store, events) = recorders();
    let ctx = context("at-valid", Some("rt"), 3600);
    let auth = manager(&store, &events)
        .authenticate(account(&credential, &ctx))
        .await
        .unwrap();
    assert_token(&auth, "at-valid", false);
    assert_eq!(store.saves(), 0);
}

#[tokio::test]
async fn tokens_within_the_skew_are_refreshed_first() {
    let (server, credential) = endpoint(rotated("at-new", "rt-new"), 1).await;
    let (store, events) = recorders();
    let ctx = context("at-old", Some("rt-old"), 30);
    let manager = manager(&store, &events);

    let auth = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_token(&auth, "at-new", true);
    assert_eq!(auth.context()["oauth"]["token"]["refresh_token"], "rt-new");
    assert_eq!(
        form(&server.received_requests().await.unwrap()[0])["refresh_token"],
        "rt-old"
    );

    // A caller still holding the old context gets the new token, without a second refresh.
    let again = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_token(&again, "at-new", false);

    // With a 10 s skew the 30 s token would still have been used.
    let (_untouched, credential2) = endpoint(rotated("x", "y"), 0).await;
    let relaxed =
        TokenManager::new(store.clone(), events.clone()).with_refresh_skew(Duration::from_secs(10));
    let kept = authenticate(&relaxed, &credential2, &ctx).await.unwrap();
    assert_eq!(kept.access_token(), Some("at-old"));
}

#[tokio::test]
async fn fifty_concurrent_callers_share_one_refresh() {
    let (server, credential) = slow_rotation().await;
    let (store, events) = recorders();
    let manager = Arc::new(manager(&store, &events));
    let credential = Arc::new(credential);
    let ctx = Arc::new(context("at-expired", Some("rt-old"), -10));

    let callers: Vec<_> = (0..50)
        .map(|_| {
            let (manager, credential, ctx) = (manager.clone(), credential.clone(), ctx.clone());
            tokio::spawn(async move {
                authenticate(&manager, &credential, &ctx)
                    .await
                    .map(|a| a.access_token().map(str::to_owned))
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap().as_deref(), Some("at-new"));
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(store.saves(), 1);
    assert_eq!(events.count(), 0);
}

#[tokio::test]
async fn a_401_refreshes_once_even_when_reported_by_many_callers() {
    let (_server, credential) = endpoint(rotated("at-2", "rt-2"), 1).await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let ctx = context("at-1", Some("rt-1"), 3600);

    // Another request that failed with the same (already replaced) token adopts.
    assert_two_401s_refresh_once((&manager, &manager), &credential, &ctx, "at-1", "at-2").await;
}

#[tokio::test]
async fn rotated_refresh_token_is_saved_before_use_and_used_next_time() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("refresh_token=xoxe-1"))
        .respond_with(rotated("xoxb-2", "xoxe-2"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("refresh_token=xoxe-2"))
        .respond_with(rotated("xoxb-3", "xoxe-3"))
        .expect(1)
        .mount(&server)
        .await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let credential = catalog_credential("slack", "oauth2", &server);
    let ctx = context("xoxb-1", Some("xoxe-1"), -1);

    let auth = authenticate(&manager, &credential, &ctx).await.unwrap();
    store
        .log
        .lock()
        .unwrap()
        .push(format!("used {}", auth.access_token().unwrap()));
    assert_eq!(
        *store.log.lock().unwrap(),
        ["saved xoxb-2 xoxe-2", "used xoxb-2"]
    );

    // A caller holding the pre-rotation context triggers a 401 refresh: the
    // manager must send the rotated refresh token, not the one in that context.
    let after = unauthorized(&manager, &credential, &ctx, None)
        .await
        .unwrap();
    assert_eq!(after.access_token(), Some("xoxb-3"));
    assert_eq!(store.last().refresh_token.unwrap().expose(), "xoxe-3");
}

#[tokio::test]
async fn a_failing_store_keeps_the_new_token_unused_and_retries_the_save() {
    let (_server, credential) = endpoint(rotated("at-new", "rt-new"), 1).await;
    let (store, events): (Arc<RecordingStore>, Arc<RecordingEvents>) =
        (Arc::new(RecordingStore::failing()), Default::default());
    let manager = manager(&store, &events);
    let ctx = context("at-old", Some("rt-old"), -1);

    let error = authenticate(&manager, &credential, &ctx).await.unwrap_err();
    assert!(matches!(error, AuthError::Store(_)), "{error}");
    assert!(!error.requires_reauth());
    assert!(!error.to_string().contains("at-new"));
    assert_eq!(events.count(), 0);

    // Still failing: no second token request, still an error.
    assert!(matches!(
        authenticate(&manager, &credential, &ctx).await,
        Err(AuthError::Store(_))
    ));

    store.fail.store(false, Ordering::SeqCst);
    let auth = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_eq!(auth.access_token(), Some("at-new"));
    assert_eq!(store.last().refresh_token.unwrap().expose(), "rt-new");
    assert_eq!(
        *store.log.lock().unwrap(),
        ["save failed", "save failed", "saved at-new rt-new"]
    );
}

async fn rejected_refresh(response: ResponseTemplate) {
    let (_server, credential) = endpoint(response, 1).await;
    let (store, events) = recorders();
    let manager = Arc::new(manager(&store, &events));
    let credential = Arc::new(credential);
    let ctx = Arc::new(context("at-old", Some("SECRET-rt"), -1));

    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (manager, credential, ctx) = (manager.clone(), credential.clone(), ctx.clone());
            tokio::spawn(async move { authenticate(&manager, &credential, &ctx).await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert!(error.requires_reauth(), "{error}");
        assert!(!format!("{error} {error:?}").contains("SECRET"));
    }
    let failures = events.failures.lock().unwrap();
    assert_eq!(
        failures.len(),
        1,
        "one event per rejected grant: {failures:?}"
    );
    assert_eq!(failures[0].0, ACCOUNT);
    assert!(failures[0].2);
    assert_eq!(store.saves(), 0);
}

#[tokio::test]
async fn invalid_grant_400_marks_needs_reauth_once() {
    rejected_refresh(
        ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})),
    )
    .await;
}

#[tokio::test]
async fn a_401_from_the_token_endpoint_marks_needs_reauth_once() {
    rejected_refresh(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .await;
}

#[tokio::test]
async fn server_errors_do_not_mark_needs_reauth() {
    for status in [500, 503] {
        let (_server, credential) = endpoint(ResponseTemplate::new(status), 2).await;
        let (store, events) = recorders();
        let manager = manager(&store, &events);

        let expired = context("at-old", Some("rt"), -1);
        let error = authenticate(&manager, &credential, &expired)
            .await
            .unwrap_err();
        assert!(
            matches!(error, AuthError::ProviderUnavailable { status: s } if s == status),
            "{error}"
        );

        // Not yet expired, only within the skew: the current token is still served.
        let expiring = context("at-still-valid", Some("rt"), 30);
        let kept = authenticate(&manager, &credential, &expiring)
            .await
            .unwrap();
        assert_eq!(kept.access_token(), Some("at-still-valid"));
        assert_eq!(events.count(), 0);
    }
}

#[tokio::test]
async fn connection_errors_do_not_mark_needs_reauth() {
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let credential = oauth2_at(&closed_port_url());
    let error = manager
        .on_unauthorized(
            account(&credential, &context("at", Some("rt"), 3600)),
            Some("at"),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Transport(_)), "{error}");
    assert_eq!(events.count(), 0);
}

#[tokio::test]
async fn client_credentials_are_fetched_when_missing_and_reused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-9/oauth2/v2.0/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "graph-1", "expires_in": 3599})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let credential = catalog_credential("microsoft-graph", "oauth2_client_credentials", &server);
    let ctx = object(json!({"tenant_id": "tenant-9", "client_id": "c", "client_secret": "s"}));

    let first = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_eq!(first.access_token(), Some("graph-1"));
    assert_eq!(first.context()["tenant_id"], "tenant-9");
    let second = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_eq!(second.access_token(), Some("graph-1"));
    assert_eq!(store.saves(), 1);
}

#[tokio::test]
async fn keka_tokens_are_fetched_again_after_a_401() {
    let server = MockServer::start().await;
    token_endpoint(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"access_token": "keka-2"})),
        0,
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=kekaapi"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "keka-2", "expires_in": 86400})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let credential = catalog_credential("keka", "keka_oauth", &server);
    let mut ctx = context("keka-1", None, 3600);
    ctx.insert("api_key".into(), json!("kk"));
    let auth = unauthorized(&manager, &credential, &ctx, Some("keka-1"))
        .await
        .unwrap();
    assert_eq!(auth.access_token(), Some("keka-2"));
}

#[tokio::test]
async fn accounts_without_a_way_to_refresh_report_a_401() {
    let (store, events) = recorders();
    let manager = manager(&store, &events);

    let api_key =
        credential(json!({"format": "api_key", "config": {"fields": [{"name": "api_key"}]}}));
    let ctx = object(json!({"api_key": "k"}));
    let auth = authenticate(&manager, &api_key, &ctx).await.unwrap();
    assert_eq!(auth.context(), &ctx);
    assert_eq!(events.count(), 0);
    let error = unauthorized(&manager, &api_key, &ctx, None)
        .await
        .unwrap_err();
    assert!(error.requires_reauth());
    assert_eq!(events.count(), 1);

    // oauth2 without a refresh token: used while it lasts, a 401 is final.
    let oauth = oauth2_at(&closed_port_url());
    let no_refresh = context("at", None, -1);
    assert_eq!(
        authenticate(&manager, &oauth, &no_refresh)
            .await
            .unwrap()
            .access_token(),
        Some("at")
    );
    assert!(
        unauthorized(&manager, &oauth, &no_refresh, Some("at"))
            .await
            .unwrap_err()
            .requires_reauth()
    );
    assert_eq!(events.count(), 2);

    let reported = manager.report_unauthorized(ACCOUNT).await;
    assert!(reported.requires_reauth());
    assert_eq!(events.count(), 3);
}

#[tokio::test]
async fn a_reauthorized_account_s_new_tokens_replace_the_remembered_ones() {
    let (_server, credential) = endpoint(rotated("at-2", "rt-2"), 1).await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    manager
        .authenticate(account(&credential, &context("at-1", Some("rt-1"), -1)))
        .await
        .unwrap();

    // The user reconnected: the host's context now holds brand-new tokens.
    let reconnected = context("at-fresh", Some("rt-fresh"), 7200);
    let auth = authenticate(&manager, &credential, &reconnected)
        .await
        .unwrap();
    assert_eq!(auth.access_token(), Some("at-fresh"));
}

#[tokio::test]
async fn a_cancelled_caller_does_not_lose_rotated_tokens() {
    let (_server, credential) = slow_rotation().await;
    let (store, events) = recorders();
    let manager = manager(&store, &events);
    let ctx = context("at-old", Some("rt-old"), -1);

    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        authenticate(&manager, &credential, &ctx),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "the caller gave up before the token endpoint answered"
    );
    let auth = authenticate(&manager, &credential, &ctx).await.unwrap();
    assert_eq!(auth.access_token(), Some("at-new"));
    assert_eq!(store.saves(), 1);
}
