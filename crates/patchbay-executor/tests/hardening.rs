//! Issue #8 hardening of the pipeline, against real HTTP servers on loopback
//! (wiremock): 429 retries for every method, bounded provider waits,
//! redirects that never carry credentials to another origin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use patchbay_config::{AuthenticationMethod, load_integration_config};
use patchbay_executor::{CallInput, Executor, ExecutorError, Integration, OwnedAccount};
use patchbay_ratelimit::RetryPolicy;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn integration(config: Value) -> Integration {
    let config = load_integration_config(&config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    Integration::new(config).unwrap()
}

fn api_key_account(context: Value) -> OwnedAccount {
    OwnedAccount {
        id: "acct-1".into(),
        authentication_method: AuthenticationMethod::ApiKey,
        context: context.as_object().unwrap().clone(),
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn executor() -> Executor {
    Executor::builder().retry_policy(fast_retries()).build()
}

/// Answers the scripted responses in order, then repeats the last.
struct Script(Vec<ResponseTemplate>, AtomicUsize);

impl Script {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        Self(responses, AtomicUsize::new(0))
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.1.fetch_add(1, Ordering::SeqCst);
        self.0[n.min(self.0.len() - 1)].clone()
    }
}

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

async fn requests_to(server: &MockServer, verb: &str, at: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .count()
}

#[tokio::test]
async fn a_429_is_retried_for_post_but_a_5xx_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/search"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(429).insert_header("retry-after", "0"),
            ResponseTemplate::new(200).set_body_json(json!({"results": [1, 2]})),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/things"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let integration = integration(things(&server.uri()));
    let account = api_key_account(json!({}));
    let exec = executor();

    let got = exec
        .call(&integration, account.as_account(), "things", "search", &CallInput::new())
        .await
        .unwrap_or_else(|e| panic!("a POST that got a 429 is retried: {e}"));
    assert_eq!(got.body, json!({"results": [1, 2]}));
    assert_eq!(requests_to(&server, "POST", "/search").await, 2);

    let err = exec
        .call(
            &integration,
            account.as_account(),
            "things",
            "create",
            &CallInput::new().body(json!({"name": "x"})),
        )
        .await
        .unwrap_err();
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
    Mock::given(method("GET"))
        .and(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", retry_after))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/things/1"))
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
    let integration = integration(limited_config(&server.uri()));
    let account = api_key_account(json!({}));
    let exec = executor();

    let started = std::time::Instant::now();
    let err = exec
        .call(&integration, account.as_account(), "limited", "get", &CallInput::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert_eq!(err.provider_error().unwrap().status, 429);
    let message = err.to_string();
    assert!(message.contains("60s allowed"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2), "failed at once");

    let next = tokio::time::timeout(
        Duration::from_secs(5),
        exec.call(
            &integration,
            account.as_account(),
            "things",
            "get",
            &CallInput::new().id("1"),
        ),
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
    let integration = integration(limited_config(&server.uri()));
    let account = api_key_account(json!({}));
    // One attempt only, a 3 s bound: the provider's 2 s wait is within it.
    let exec = Executor::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            max_single_wait: Duration::from_secs(3),
            ..fast_retries()
        })
        .build();
    let err = exec
        .call(&integration, account.as_account(), "limited", "get", &CallInput::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    // Within the bound: the account's next call waits out the provider's 2 s.
    let started = std::time::Instant::now();
    exec.call(
        &integration,
        account.as_account(),
        "things",
        "get",
        &CallInput::new().id("1"),
    )
    .await
    .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}
