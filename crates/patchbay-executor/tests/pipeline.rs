//! The pipeline against real HTTP servers on loopback (wiremock).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use patchbay_config::AuthenticationMethod;
use patchbay_executor::{
    AccountRef, CallInput, CompiledIntegration, Executor, ExecutorError, ListOptions,
};
use patchbay_ratelimit::RetryPolicy;
use serde_json::{Map, Value, json};
use support::{
    Caller, Script, api_key_account, call, dead_base_url, executor, expired_oauth_account,
    fast_retries, ids, integration, limit, list_all, oauth_me_config, on, page_at, requests_to,
};
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// A cursor API shaped like HubSpot's: `after` in, `paging.next.after` out.
struct CursorPages {
    pages: usize,
    per_page: usize,
}

impl Respond for CursorPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let results: Vec<Value> = (0..self.per_page)
            .map(|i| json!({"id": page * self.per_page + i}))
            .collect();
        let mut body = json!({"results": results});
        if page + 1 < self.pages {
            body["paging"] = json!({"next": {"after": (page + 1).to_string()}});
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// A HubSpot-shaped contacts API of `pages` pages of `per_page` records answering the
/// requests `mock` matches, and the integration calling it with a bearer API key.
async fn contacts_api(
    pages: usize,
    per_page: usize,
    mock: MockBuilder,
) -> (MockServer, CompiledIntegration) {
    let server = MockServer::start().await;
    mock.respond_with(CursorPages { pages, per_page })
        .mount(&server)
        .await;
    let integration = integration(cursor_config(&server.uri()));
    (server, integration)
}

fn cursor_config(base: &str) -> Value {
    json!({
        "base_url": base,
        "credentials": {"format": "api_key", "config": {"fields": [{"name": "api_key"}]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "pagination": {"format": "cursor", "config": {"cursor_path": "paging.next.after", "cursor_key": "after", "limit_key": "limit"}},
        "resources": {"contacts": {"list": {"path": "/crm/v3/objects/contacts", "response_path": "results"}}}
    })
}

#[tokio::test]
async fn streams_every_record_across_cursor_pages_and_resumes() {
    let contacts =
        on("GET", "/crm/v3/objects/contacts").and(header("authorization", "Bearer k-123"));
    let (server, integration) = contacts_api(4, 5, contacts).await;
    let account = api_key_account(json!({"api_key": "k-123"}));
    let exec = executor();

    let (records, error) =
        list_all(&exec, &integration, &account, "contacts", "list", limit(5)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&records), (0..20).collect::<Vec<_>>());

    // One page at a time, resuming from next_cursor.
    let first = page_at(&exec, &integration, &account, "contacts", "list", None)
        .await
        .unwrap();
    assert_eq!(first.records.len(), 5);
    let cursor = first.next_cursor.expect("more pages");
    let second = page_at(
        &exec,
        &integration,
        &account,
        "contacts",
        "list",
        Some(cursor),
    )
    .await
    .unwrap();
    assert_eq!(second.records[0]["id"], 5);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.last().unwrap().url.query(), Some("after=1"));
}

#[tokio::test]
async fn next_cursor_advances_only_when_a_page_is_fully_yielded() {
    let (_server, integration) =
        contacts_api(3, 2, Mock::given(path("/crm/v3/objects/contacts"))).await;
    let account = api_key_account(json!({"api_key": "k"}));
    let mut stream = executor().list(
        &integration,
        &account,
        "contacts",
        "list",
        &CallInput::new(),
        ListOptions::default(),
    );
    assert_eq!(stream.next().await.unwrap().unwrap()["id"], 0);
    assert_eq!(stream.next_cursor(), None, "page 1 not finished yet");
    assert_eq!(stream.next().await.unwrap().unwrap()["id"], 1);
    let after_page_one = stream.next_cursor().expect("page 1 done");
    assert_eq!(stream.next().await.unwrap().unwrap()["id"], 2);
    assert_eq!(stream.next_cursor(), Some(after_page_one));
}

#[tokio::test]
async fn a_repeating_cursor_stops_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": 1}], "next": "same"})),
        )
        .mount(&server)
        .await;
    let integration = integration(json!({
        "base_url": server.uri(),
        "pagination": {"format": "cursor", "config": {"cursor_path": "next", "cursor_key": "cursor"}},
        "resources": {"items": {"list": {"path": "/items", "response_path": "data"}}}
    }));
    let (records, error) = list_all(
        &executor(),
        &integration,
        &api_key_account(json!({})),
        "items",
        "list",
        ListOptions::default(),
    )
    .await;
    assert!(
        matches!(error, Some(ExecutorError::Pagination(_))),
        "{error:?}"
    );
    assert!(
        records.len() <= 2,
        "stopped instead of looping: {}",
        records.len()
    );
    assert!(server.received_requests().await.unwrap().len() <= 3);
}

#[tokio::test]
async fn link_header_pagination_follows_rel_next() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(path("/user/repos"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", format!("<{base}/user/repos?page=2&per_page=2>; rel=\"next\", <{base}/user/repos?page=2&per_page=2>; rel=\"last\"").as_str())
                .set_body_json(json!([{"id": 1}, {"id": 2}])),
        )
        .mount(&server)
        .await;
    Mock::given(path("/user/repos"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 3}])))
        .mount(&server)
        .await;
    let mut config: Value =
        serde_json::from_str(include_str!("../../../examples/catalog/github.json")).unwrap();
    config["base_url"] = json!(base);
    let integration = integration(config);
    let account = api_key_account(json!({"api_key": "ghp_x"}));
    let (records, error) = list_all(
        &executor(),
        &integration,
        &account,
        "repos",
        "list",
        limit(2),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ids(&records), [1, 2, 3]);
    let first = &server.received_requests().await.unwrap()[0];
    assert_eq!(first.headers.get("authorization").unwrap(), "Bearer ghp_x");
    assert_eq!(first.url.query(), Some("sort=updated&per_page=2"));
}

fn simple(base: &str) -> Value {
    json!({
        "base_url": base,
        "error_expression": "body.ok = false ? body.error",
        "resources": {"things": {
            "get": {"path": "/things/{{id}}"},
            "create": {"method": "post", "path": "/things", "body": {"name": "{{body.name}}"}}
        }}
    })
}

#[tokio::test]
async fn retries_429_and_5xx_for_idempotent_methods_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(429).insert_header("retry-after", "0"),
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_json(json!({"id": "7"})),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": "down"})))
        .mount(&server)
        .await;
    let api = Caller::new(simple(&server.uri()), api_key_account(json!({})));

    let got = api
        .call("things", "get", CallInput::new().id("7"))
        .await
        .unwrap();
    assert_eq!(got.body, json!({"id": "7"}));

    let create = CallInput::new().body(json!({"name": "x"}));
    let err = api.call("things", "create", create).await.unwrap_err();
    let provider = err.provider_error().expect("provider error");
    assert_eq!(provider.status, 503);
    assert_eq!(provider.body, json!({"error": "down"}));
    assert_eq!(
        requests_to(&server, "POST", "/things").await,
        1,
        "POST is not retried"
    );
}

/// A [`simple`] provider answering every GET with `answer`, the error of `things.get`
/// (id 1) there, and the server (to count what it received).
async fn get_error(answer: ResponseTemplate) -> (ExecutorError, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(answer)
        .mount(&server)
        .await;
    let api = Caller::new(simple(&server.uri()), api_key_account(json!({})));
    let err = api
        .call("things", "get", CallInput::new().id("1"))
        .await
        .unwrap_err();
    (err, server)
}

#[tokio::test]
async fn a_429_storm_gives_up_within_the_policy() {
    let (err, server) =
        get_error(ResponseTemplate::new(429).insert_header("retry-after", "0")).await;
    assert!(matches!(err, ExecutorError::RateLimited { .. }), "{err}");
    assert_eq!(err.provider_error().unwrap().status, 429);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "default policy: 4 attempts"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_fails_fast() {
    let started = std::time::Instant::now();
    let (err, _) = get_error(ResponseTemplate::new(429).insert_header("retry-after", "3600")).await;
    assert!(matches!(err, ExecutorError::RateLimited { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn error_expression_catches_200_with_error_bodies() {
    let (err, _) = get_error(
        ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "invalid_auth"})),
    )
    .await;
    let provider = err.provider_error().unwrap();
    assert_eq!(provider.status, 200);
    assert_eq!(provider.message.as_deref(), Some("invalid_auth"));
    assert!(err.to_string().contains("invalid_auth"), "{err}");
}

#[tokio::test]
async fn malformed_and_truncated_bodies_and_dead_servers_are_typed_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/things/bad"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"a\":", "application/json"))
        .mount(&server)
        .await;
    let api = Caller::new(simple(&server.uri()), api_key_account(json!({})));
    let err = api
        .call("things", "get", CallInput::new().id("bad"))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecutorError::Parse(_)), "{err}");

    // Nothing listens on this port: connection errors are retried, then reported.
    let dead = Caller::new(simple(&dead_base_url()), api.account);
    let err = dead
        .call("things", "get", CallInput::new().id("1"))
        .await
        .unwrap_err();
    match err {
        ExecutorError::Transport { attempts, .. } => assert_eq!(attempts, 4),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn secrets_stay_out_of_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"message": "bad"})))
        .mount(&server)
        .await;
    let account = api_key_account(json!({"api_key": "sk_live_SECRET"}));
    let api = Caller::new(
        json!({
            "base_url": server.uri(),
            "query": {"api_key": "{{api_key}}"},
            "resources": {"things": {"get": {"path": "/things/{{id}}"}}}
        }),
        account.clone(),
    );
    let err = api
        .call("things", "get", CallInput::new().id("1"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("sk_live_SECRET"));
    assert!(!format!("{err:?}").contains("sk_live_SECRET"));
    assert!(!format!("{:?}", account).contains("sk_live_SECRET"));

    let once = Executor::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..fast_retries()
        })
        .build();
    let dead = Caller::new(
        json!({"base_url": dead_base_url(), "query": {"api_key": "{{api_key}}"}, "resources": {"things": {"get": {"path": "/x"}}}}),
        account,
    )
    .through(once);
    let err = dead
        .call("things", "get", CallInput::new())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("sk_live_SECRET"), "{err}");
}

#[tokio::test]
async fn oauth_tokens_refresh_once_for_fifty_concurrent_calls_and_after_a_401() {
    let server = MockServer::start().await;
    let token_calls = Arc::new(AtomicUsize::new(0));
    let counter = token_calls.clone();
    on("POST", "/oauth/token")
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(50))
                .set_body_json(json!({"access_token": format!("fresh-{n}"), "refresh_token": format!("r-{n}"), "expires_in": 3600}))
        })
        .mount(&server)
        .await;
    on("GET", "/me")
        .and(header("authorization", "Bearer fresh-0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    on("GET", "/me")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;

    let integration = integration(oauth_me_config(&server.uri(), "csecret"));
    let account = expired_oauth_account("acct-oauth", "r-old");
    let exec = executor();
    let calls = (0..50).map(|_| {
        let exec = exec.clone();
        let integration = integration.clone();
        let account = account.clone();
        async move { call(&exec, &integration, &account, "me", "get", CallInput::new()).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(
        token_calls.load(Ordering::SeqCst),
        1,
        "exactly one refresh for 50 concurrent callers"
    );

    // A token the provider no longer accepts: one refresh after the 401, then success.
    let other = support::account(
        "acct-2",
        AuthenticationMethod::OAuth2,
        json!({"oauth": {"token": {"access_token": "revoked", "refresh_token": "r-x", "expires_in": 3600}}}),
    );
    // A host may lend the executor an account it holds in parts.
    let ctx: Map<String, Value> = other.context.clone();
    let account2 = AccountRef {
        id: &other.id,
        authentication_method: other.authentication_method,
        context: &ctx,
    };
    let err = exec
        .call(&integration, account2, "me", "get", &CallInput::new())
        .await
        .unwrap_err();
    // The refreshed token (fresh-1) is not the one this mock accepts, so the second 401 is final.
    assert!(matches!(err, ExecutorError::Auth(_)), "{err}");
    assert_eq!(
        token_calls.load(Ordering::SeqCst),
        2,
        "one refresh after the 401, none after the second"
    );
}
