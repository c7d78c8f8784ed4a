//! The call observer gets one report per call, with every attempt and the reason of each
//! retry, and no secret. (Apart from `attempt_spans.rs`: a test without a `tracing`
//! subscriber running beside that file's would make its spans' callsites uninterested.)

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use patchbay_executor::{CallInput, Executor};
use patchbay_ratelimit::RetryPolicy;
use serde_json::json;
use support::{api_key_account, call, integration};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A [`patchbay_executor::CallReport`] as owned values.
#[derive(Debug, Clone)]
struct Seen {
    name: String,
    integration: String,
    request_type: Option<String>,
    status: Option<u16>,
    attempts: Vec<(Option<u16>, Option<String>)>,
    error: Option<String>,
    url: String,
}

/// Keeps every report it is given.
#[derive(Default)]
struct Reports(Mutex<Vec<Seen>>);

impl patchbay_executor::CallObserver for Reports {
    fn call_finished(&self, r: &patchbay_executor::CallReport<'_>) {
        self.0.lock().expect("lock").push(Seen {
            name: format!("{}.{}", r.resource, r.method),
            integration: r.integration.to_owned(),
            request_type: r.request_type.map(str::to_owned),
            status: r.status,
            attempts: r
                .attempts
                .iter()
                .map(|a| (a.status, a.retry_reason.clone()))
                .collect(),
            error: r.error.clone(),
            url: r.url.to_owned(),
        });
    }
}

#[tokio::test]
async fn the_call_observer_gets_one_report_per_call_with_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "gone"})))
        .mount(&server)
        .await;
    let integration = integration(json!({
        "base_url": server.uri(),
        "resources": {"things": {"list": {
            "method": "get",
            "path": "/things",
            "query": {"api_key": "{{api_key}}"}
        }}}
    }))
    .with_name("thing-store");
    let account = api_key_account(json!({"api_key": "sk-secret-123"}));
    let reports = Arc::new(Reports::default());
    let executor = Executor::builder()
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        })
        .call_observer(reports.clone())
        .build();
    call(
        &executor,
        &integration,
        &account,
        "things",
        "list",
        CallInput::new().request_type("unified"),
    )
    .await
    .expect("the second attempt succeeds");
    call(
        &executor,
        &integration,
        &account,
        "things",
        "list",
        CallInput::new(),
    )
    .await
    .expect_err("a 404 fails");

    let reports = reports.0.lock().expect("lock").clone();
    assert_eq!(reports.len(), 2, "one report per call: {reports:#?}");
    let first = &reports[0];
    assert_eq!(first.name, "things.list");
    assert_eq!(first.integration, "thing-store");
    assert_eq!(first.request_type.as_deref(), Some("unified"));
    assert_eq!(first.status, Some(200));
    assert_eq!(
        first.attempts,
        [
            (Some(503), Some("status 503".to_owned())),
            (Some(200), None)
        ]
    );
    assert_eq!(first.error, None);
    assert!(
        first.url.ends_with("/things?…") && !first.url.contains("sk-secret"),
        "{}",
        first.url
    );
    let second = &reports[1];
    assert_eq!(second.request_type, None);
    assert_eq!(second.status, Some(404));
    assert_eq!(second.attempts, [(Some(404), None)]);
    assert!(
        second
            .error
            .as_deref()
            .is_some_and(|e| !e.contains("sk-secret")),
        "{:?}",
        second.error
    );
}
