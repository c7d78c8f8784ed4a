//! Issue #8 hardening of the pipeline, against real HTTP servers on loopback
//! (wiremock): 429 retries for every method, bounded provider waits,
//! redirects that never carry credentials to another origin.

mod support;

use std::time::Duration;

use patchbay_executor::{AccountData, CallInput, Executor, ExecutorError, ListOptions};
use patchbay_ratelimit::RetryPolicy;
use serde_json::{Value, json};
use support::{
    Caller, Script, api_key_account, bodies, executor, expired_oauth_account, fast_retries, ids,
    integration, list_all, oauth_me_config, on, page_at, requests_to,
};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn things(base: &str) -> Value {
    json!({
        "base_url": base,
        "resources": {"things": {
            "get": {"path": "/things/{{id}}"},
            "create": {"method": "post", "path": "/things", "body": {"name": "{{body.name}}"}},
            "search": {"method": "post", "path": "/search", "body": {"q": "x"}}
        }}
    })
}

#[tokio::test]
async fn a_429_is_retried_for_post_but_a_5xx_is_not() {
    let server = MockServer::start().await;
    on("POST", "/search")
        .respond_with(Script::new(vec![
            ResponseTemplate::new(429).insert_header("retry-after", "0"),
            ResponseTemplate::new(200).set_body_json(json!({"results": [1, 2]})),
        ]))
        .mount(&server)
        .await;
    on("POST", "/things")
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let api = Caller::new(things(&server.uri()), api_key_account(json!({})));

    let got = api
        .call("things", "search", CallInput::new())
        .await
        .unwrap_or_else(|e| panic!("a POST that got a 429 is retried: {e}"));
    assert_eq!(got.body, json!({"results": [1, 2]}));
    assert_eq!(requests_to(&server, "POST", "/search").await, 2);

    let create = CallInput::new().body(json!({"name": "x"}));
    let err = api.call("things", "create", create).await.unwrap_err();
    assert_eq!(err.provider_error().unwrap().status, 503);
    assert_eq!(
        requests_to(&server, "POST", "/things").await,
        1,
        "a POST that got a 5xx may have been processed: not retried"
    );
    assert!(matches!(err, ExecutorError::Provider(_)), "{err}");
}

/// A provider that answers `/limited` with a 429 and `retry-after: <value>`,
/// and `/things/{id}` with 200.
async fn limited_provider(retry_after: &str) -> MockServer {
    let server = MockServer::start().await;
    on("GET", "/limited")
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", retry_after))
        .mount(&server)
        .await;
    on("GET", "/things/1")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    server
}

fn limited_config(base: &str) -> Value {
    json!({
        "base_url": base,
        "resources": {
            "limited": {"get": {"path": "/limited"}},
            "things": {"get": {"path": "/things/{{id}}"}}
        }
    })
}

/// A wait beyond the bound fails the call at once with a rate-limit error that
/// names both waits, and the account's next call is not held back.
async fn assert_oversized_wait_fails_fast_and_pauses_nothing(retry_after: &str) {
    let server = limited_provider(retry_after).await;
    let api = Caller::new(limited_config(&server.uri()), api_key_account(json!({})));

    let started = std::time::Instant::now();
    let err = api
        .call("limited", "get", CallInput::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert_eq!(err.provider_error().unwrap().status, 429);
    let message = err.to_string();
    assert!(message.contains("60s allowed"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2), "failed at once");

    let next = tokio::time::timeout(
        Duration::from_secs(5),
        api.call("things", "get", CallInput::new().id("1")),
    )
    .await
    .unwrap_or_else(|_| panic!("retry-after {retry_after}: the account was wedged"));
    assert_eq!(next.unwrap().body, json!({"id": "1"}));
}

#[tokio::test]
async fn a_one_hour_retry_after_fails_the_call_and_does_not_wedge_the_account() {
    assert_oversized_wait_fails_fast_and_pauses_nothing("3600").await;
}

#[tokio::test]
async fn oversized_retry_after_values_never_panic() {
    assert_oversized_wait_fails_fast_and_pauses_nothing("99999999999999999999").await;
    assert_oversized_wait_fails_fast_and_pauses_nothing("Fri, 31 Dec 9999 23:59:59 GMT").await;
}

#[tokio::test]
async fn a_wait_within_the_bound_pauses_the_account_for_at_most_the_bound() {
    let server = limited_provider("2").await;
    // One attempt only, a 3 s bound: the provider's 2 s wait is within it.
    let api = Caller::new(limited_config(&server.uri()), api_key_account(json!({}))).through(
        Executor::builder()
            .retry_policy(RetryPolicy {
                max_attempts: 1,
                max_single_wait: Duration::from_secs(3),
                ..fast_retries()
            })
            .build(),
    );
    let err = api
        .call("limited", "get", CallInput::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    // Within the bound: the account's next call waits out the provider's 2 s.
    let started = std::time::Instant::now();
    api.call("things", "get", CallInput::new().id("1"))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

// ---------------------------------------------------------------- redirects (F2)

/// A provider with an API key in `X-Api-Key` (the `header` authorization), a
/// config header that holds a secret, and redirecting routes.
fn redirecting_config(base: &str) -> Value {
    json!({
        "base_url": base,
        "credentials": {"format": "api_key", "config": {"fields": [{"name": "api_token"}]}},
        "authorization": {"format": "header", "config": {"header_name": "X-Api-Key", "header_value": "{{api_token}}"}},
        "headers": {"X-Private-Key": "{{private_key}}"},
        "resources": {
            "redir": {
                "list": {"path": "/r302"},
                "create": {"method": "post", "path": "/r307", "body": {"secret": "{{body.secret}}"}},
                "update": {"method": "post", "path": "/r303", "body": {"secret": "{{body.secret}}"}},
                "get": {"path": "/same/{{id}}"}
            },
            "bare": {"get": {"path": "/same/{{id}}", "ignore_credentials_on_redirect": true}}
        }
    })
}

fn secret_account() -> AccountData {
    api_key_account(json!({"api_token": "ACCT_SECRET", "private_key": "PRIVATE"}))
}

async fn redirect_to(server: &MockServer, verb: &str, at: &str, status: u16, location: &str) {
    on(verb, at)
        .respond_with(ResponseTemplate::new(status).insert_header("location", location))
        .mount(server)
        .await;
}

/// `path` on `server`.
fn url_of(server: &MockServer, path: &str) -> String {
    format!("{}{path}", server.uri())
}

/// A catcher on another loopback port: another origin.
async fn catcher() -> MockServer {
    let catcher = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"caught": true})))
        .mount(&catcher)
        .await;
    catcher
}

fn assert_bare(request: &Request) {
    for name in ["x-api-key", "authorization", "x-private-key", "cookie"] {
        assert!(
            request.headers.get(name).is_none(),
            "{} {} carried {name}",
            request.method,
            request.url
        );
    }
    assert!(request.body.is_empty(), "the body went to another origin");
}

#[tokio::test]
async fn cross_origin_redirects_carry_no_credentials_and_no_body() {
    let provider = MockServer::start().await;
    let catcher = catcher().await;
    let stolen = url_of(&catcher, "/stolen");
    redirect_to(&provider, "GET", "/r302", 302, &stolen).await;
    redirect_to(&provider, "POST", "/r307", 307, &stolen).await;
    redirect_to(&provider, "POST", "/r303", 303, &stolen).await;
    let api = Caller::new(redirecting_config(&provider.uri()), secret_account());

    for (verb, input) in [
        ("list", CallInput::new()),
        (
            "create",
            CallInput::new().body(json!({"secret": "BODY_SECRET"})),
        ),
        (
            "update",
            CallInput::new().body(json!({"secret": "BODY_SECRET"})),
        ),
    ] {
        let got = api
            .call("redir", verb, input)
            .await
            .unwrap_or_else(|e| panic!("{verb}: {e}"));
        assert_eq!(
            got.body,
            json!({"caught": true}),
            "{verb}: the redirect is followed"
        );
    }
    let caught = catcher.received_requests().await.unwrap();
    assert_eq!(caught.len(), 3);
    caught.iter().for_each(assert_bare);
    let methods: Vec<&str> = caught.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        ["GET", "POST", "GET"],
        "307 keeps the method, 303 becomes GET"
    );
    // The provider itself did get the credentials and the body.
    let first = provider.received_requests().await.unwrap();
    assert!(first.iter().all(|r| r.headers.get("x-api-key").is_some()));
    assert!(String::from_utf8_lossy(&first[1].body).contains("BODY_SECRET"));
}

#[tokio::test]
async fn same_origin_redirects_keep_credentials_unless_the_method_ignores_them() {
    let provider = MockServer::start().await;
    redirect_to(&provider, "GET", "/same/1", 302, "/target").await;
    on("GET", "/target")
        .and(wiremock::matchers::header("x-api-key", "ACCT_SECRET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"with": "key"})))
        .mount(&provider)
        .await;
    on("GET", "/target")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"with": "nothing"})))
        .mount(&provider)
        .await;
    let api = Caller::new(redirecting_config(&provider.uri()), secret_account());

    let kept = api
        .call("redir", "get", CallInput::new().id("1"))
        .await
        .unwrap();
    assert_eq!(kept.body, json!({"with": "key"}));

    // `ignore_credentials_on_redirect`: stripped on the same origin too.
    let stripped = api
        .call("bare", "get", CallInput::new().id("1"))
        .await
        .unwrap();
    assert_eq!(stripped.body, json!({"with": "nothing"}));
    let last = provider.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(last.url.path(), "/target");
    assert_bare(&last);
}

#[tokio::test]
async fn redirect_loops_and_refused_hops_fail_clearly() {
    let provider = MockServer::start().await;
    let catcher = catcher().await;
    redirect_to(&provider, "GET", "/same/loop", 302, "/same/loop").await;
    redirect_to(&provider, "GET", "/same/out", 302, &url_of(&catcher, "/x")).await;
    let api = Caller::new(redirecting_config(&provider.uri()), secret_account());

    let err = api
        .call("redir", "get", CallInput::new().id("loop"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(requests_to(&provider, "GET", "/same/loop").await, 11);

    // The host's per-hop check (a destination policy) refuses the hop.
    let catcher_port = catcher.address().port();
    let api = api.through(
        Executor::builder()
            .retry_policy(fast_retries())
            .destination_check(std::sync::Arc::new(move |url: &url::Url| {
                if url.port() == Some(catcher_port) {
                    Err(format!(
                        "{} is not an allowed destination",
                        url.host_str().unwrap_or("")
                    ))
                } else {
                    Ok(())
                }
            }))
            .build(),
    );
    let err = api
        .call("redir", "get", CallInput::new().id("out"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not an allowed destination"),
        "{err}"
    );
    assert!(catcher.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_that_follows_redirects_itself_is_detected() {
    let provider = MockServer::start().await;
    let catcher = catcher().await;
    redirect_to(&provider, "GET", "/r302", 302, &url_of(&catcher, "/x")).await;
    let api = Caller::new(redirecting_config(&provider.uri()), secret_account()).through(
        Executor::builder()
            .http_client(reqwest::Client::new())
            .retry_policy(fast_retries())
            .build(),
    );
    let err = api
        .call("redir", "list", CallInput::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ExecutorError::Transport {
                error: patchbay_executor::TransportError::ClientFollowedRedirect,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn token_requests_never_follow_redirects() {
    let provider = MockServer::start().await;
    let catcher = catcher().await;
    redirect_to(
        &provider,
        "POST",
        "/oauth/token",
        307,
        &url_of(&catcher, "/tok"),
    )
    .await;
    let api = Caller::new(
        oauth_me_config(&provider.uri(), "CLIENT_SECRET"),
        expired_oauth_account("acct-oauth", "REFRESH_SECRET"),
    );
    let err = api.call("me", "get", CallInput::new()).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("redirect"), "{message}");
    assert!(!message.contains("SECRET"), "{message}");
    assert!(
        catcher.received_requests().await.unwrap().is_empty(),
        "the token request was re-posted to the redirect target"
    );
}

// ---------------------------------------------------------------- config keys that were ignored

/// Three pages of two records; `cursor` in the query picks one; the answer
/// carries `meta.next` and `meta.prev` cursors.
struct ThreePages;

/// A server answering `/items` with [`ThreePages`].
async fn three_pages() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ThreePages)
        .mount(&server)
        .await;
    server
}

impl Respond for ThreePages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map_or(0, |(_, v)| v.trim_start_matches('p').parse().unwrap());
        let data: Vec<Value> = (0..2).map(|i| json!({"id": page * 2 + i})).collect();
        let next = (page < 2).then(|| format!("p{}", page + 1));
        let prev = (page > 0).then(|| format!("p{}", page - 1));
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": data, "meta": {"next": next, "prev": prev}}))
    }
}

#[tokio::test]
async fn prev_cursor_path_gives_list_pages_a_prev_cursor() {
    let server = three_pages().await;
    let integration = integration(json!({
        "base_url": server.uri(),
        "pagination": {"format": "cursor", "config": {"cursor_path": "meta.next", "prev_cursor_path": "meta.prev", "cursor_key": "cursor"}},
        "resources": {"items": {"list": {"path": "/items", "response_path": "data"}}}
    }));
    let account = api_key_account(json!({}));
    let exec = executor();
    let page = |cursor: Option<String>| {
        let (exec, integration, account) = (exec.clone(), integration.clone(), account.clone());
        async move {
            page_at(&exec, &integration, &account, "items", "list", cursor)
                .await
                .unwrap()
        }
    };
    let first = page(None).await;
    assert_eq!(ids(&first.records), [0, 1]);
    assert_eq!(
        first.prev_cursor, None,
        "the first page has no previous page"
    );
    let second = page(first.next_cursor.clone()).await;
    assert_eq!(ids(&second.records), [2, 3]);
    let back = page(Some(second.prev_cursor.clone().expect("a prev_cursor"))).await;
    assert_eq!(
        ids(&back.records),
        [0, 1],
        "prev_cursor leads back to the first page"
    );
    assert_eq!(back.next_cursor, first.next_cursor);
}

#[tokio::test]
async fn ignore_body_in_pagination_sends_the_body_with_the_first_page_only() {
    let server = three_pages().await;
    let integration = integration(json!({
        "base_url": server.uri(),
        "pagination": {"format": "cursor", "config": {"cursor_path": "meta.next", "cursor_key": "cursor"}},
        "resources": {"items": {
            "search": {"method": "post", "path": "/items", "response_path": "data", "body": {"filter": "open"}, "ignore_body_in_pagination": true},
            "query": {"method": "post", "path": "/items", "response_path": "data", "body": {"filter": "open"}}
        }}
    }));
    let account = api_key_account(json!({}));
    let exec = executor();
    for method_name in ["search", "query"] {
        let (records, error) = list_all(
            &exec,
            &integration,
            &account,
            "items",
            method_name,
            ListOptions::default(),
        )
        .await;
        assert!(error.is_none(), "{method_name}: {error:?}");
        assert_eq!(records.len(), 6, "{method_name}");
    }
    let bodies = bodies(&server).await;
    let with_filter = |b: &String| b.contains("\"filter\":\"open\"");
    // search: the first page has the body, the two follow-ups none.
    assert!(with_filter(&bodies[0]), "{bodies:?}");
    assert_eq!(&bodies[1..3], ["", ""], "{bodies:?}");
    // query (without the key): every page has it.
    assert!(bodies[3..].iter().all(with_filter), "{bodies:?}");
}
