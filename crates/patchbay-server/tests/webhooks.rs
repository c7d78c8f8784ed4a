//! Outbound webhooks over real HTTP on loopback: the `/webhook` routes, the
//! events account routes queue, and the delivery worker sending them (signed,
//! retried, durable) to a wiremock receiver. SQLite store in a temp dir; one
//! test runs the worker over Postgres and is reported ignored without it, or
//! fails when `CI=true` (`docs/testing.md`).

mod support;

use std::time::{Duration, Instant, SystemTime};

use patchbay::webhook::outbound::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, verify_event};
use patchbay_server::delivery::{DeliveryOptions, DeliveryWorker, TickReport};
use patchbay_server::store::open_store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use patchbay_testkit::{Runtime::CurrentThread, tokio_test};
use support::TestServer;
use support::postgres::{self, POSTGRES};

const API_TOKEN: &str = "api-token-SECRET-1";

/// Registers a webhook; answers `(id, secret)`.
async fn webhook(server: &TestServer, target_url: &str, event_types: &[&str]) -> (String, String) {
    let (status, body) = server
        .send(
            Method::POST,
            "/webhook",
            Some(json!({"target_url": target_url, "event_types": event_types})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// [`webhook`] at the path `at` of the receiver `hooks`.
async fn webhook_at(
    server: &TestServer,
    hooks: &MockServer,
    at: &str,
    event_types: &[&str],
) -> (String, String) {
    webhook(server, &format!("{}{at}", hooks.uri()), event_types).await
}

/// Creates and installs an integration; answers the install id.
async fn install(server: &TestServer) -> String {
    let config = json!({
        "label": "Helpdesk",
        "base_url": "https://helpdesk.example/api",
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_token", "label": "API token", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_token}}"}},
        "resources": {"tickets": {"list": {"path": "/tickets"}}}
    });
    server
        .install(json!({"name": "helpdesk", "config": config}), None)
        .await
        .install_id
}

/// Imports an account (queues `integrated_account:created`); answers it.
async fn import(server: &TestServer, install_id: &str, tenant: &str) -> Value {
    server
        .import(
            install_id,
            tenant,
            json!({"context": {"api_token": API_TOKEN}}),
        )
        .await
}

/// Verifies `request`'s signature header over its body with `secret`, now.
fn verify_now(
    secret: &[u8],
    request: &Request,
) -> Result<(), patchbay::webhook::VerificationError> {
    verify_event(
        secret,
        header(request, SIGNATURE_HEADER),
        &request.body,
        SystemTime::now(),
        DEFAULT_TOLERANCE,
    )
}

/// Fast options for tests.
fn fast() -> DeliveryOptions {
    DeliveryOptions::default()
        // The receivers listen on loopback.
        .with_destinations(
            patchbay::egress::DestinationPolicy::from_allow_list("loopback").unwrap(),
        )
        .with_poll_interval(Duration::from_millis(10))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
        .with_request_timeout(Duration::from_secs(5))
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// The requests `server` received at `path_` (all paths when `None`).
async fn received(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect()
}

/// Polls until `server` received `n` requests at `at` (panics after 10 s).
async fn wait_for(server: &MockServer, at: &str, n: usize) -> Vec<Request> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = received(server, at).await;
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} requests at {at} arrived",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Ticks `worker` until a tick claims nothing (panics after 10 s); answers the sum.
async fn drain(worker: &DeliveryWorker) -> TickReport {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut total = TickReport::default();
    loop {
        let report = worker.tick().await.unwrap();
        total.claimed += report.claimed;
        total.delivered += report.delivered;
        total.retrying += report.retrying;
        total.given_up += report.given_up;
        total.unrecorded += report.unrecorded;
        if report.claimed == 0 {
            return total;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain: {total:?}"
        );
    }
}

/// Ticks `worker` (waiting out backoffs) until `finished` deliveries ended
/// delivered or given up (panics after 10 s); answers the sum.
async fn drain_with_retries(worker: &DeliveryWorker, finished: usize) -> TickReport {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut total = TickReport::default();
    while total.delivered + total.given_up < finished {
        let report = worker.tick().await.unwrap();
        total.claimed += report.claimed;
        total.delivered += report.delivered;
        total.retrying += report.retrying;
        total.given_up += report.given_up;
        total.unrecorded += report.unrecorded;
        if report.claimed == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain: {total:?}"
        );
    }
    total
}

fn body_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no `{name}` header"))
        .to_str()
        .unwrap()
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "create_answers_the_secret_once_and_routes_work",
            CurrentThread,
            create_answers_the_secret_once_and_routes_work,
        ),
        tokio_test(
            "invalid_bodies_are_422_with_paths",
            CurrentThread,
            invalid_bodies_are_422_with_paths,
        ),
        tokio_test(
            "webhooks_are_scoped_to_their_environment",
            CurrentThread,
            webhooks_are_scoped_to_their_environment,
        ),
        tokio_test(
            "importing_an_account_delivers_a_signed_created_event",
            CurrentThread,
            importing_an_account_delivers_a_signed_created_event,
        ),
        tokio_test(
            "account_updates_and_deletes_are_delivered_to_subscribers_only",
            CurrentThread,
            account_updates_and_deletes_are_delivered_to_subscribers_only,
        ),
        tokio_test(
            "failed_deliveries_are_retried_until_accepted",
            CurrentThread,
            failed_deliveries_are_retried_until_accepted,
        ),
        tokio_test(
            "deliveries_are_given_up_after_max_attempts",
            CurrentThread,
            deliveries_are_given_up_after_max_attempts,
        ),
        tokio_test(
            "targets_on_internal_addresses_are_never_called_by_default",
            CurrentThread,
            targets_on_internal_addresses_are_never_called_by_default,
        ),
        tokio_test(
            "deleted_and_inactive_webhooks_receive_nothing",
            CurrentThread,
            deleted_and_inactive_webhooks_receive_nothing,
        ),
        tokio_test(
            "test_event_goes_to_the_named_webhook_only",
            CurrentThread,
            test_event_goes_to_the_named_webhook_only,
        ),
        tokio_test(
            "queued_events_survive_a_restart",
            CurrentThread,
            queued_events_survive_a_restart,
        ),
        tokio_test(
            "two_workers_deliver_each_event_once",
            CurrentThread,
            two_workers_deliver_each_event_once,
        ),
        tokio_test(
            "delivery_works_on_postgres",
            CurrentThread,
            delivery_works_on_postgres,
        )
        .needs(&POSTGRES),
    ])
}

async fn create_answers_the_secret_once_and_routes_work() {
    let server = TestServer::start().await;
    let (status, created) = server
        .send(
            Method::POST,
            "/webhook",
            Some(json!({"target_url": "https://hooks.example/in", "event_types": ["integrated_account:*", "test"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 16, "{created}");
    assert_eq!(created["target_url"], "https://hooks.example/in");
    assert_eq!(created["is_active"], true);
    assert_eq!(
        created["event_types"],
        json!(["integrated_account:*", "test"])
    );
    assert!(created["environment_id"].is_string() && created["created_at"].is_string());

    let (status, got) = server
        .send(Method::GET, &format!("/webhook/{id}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["id"], id.as_str());
    assert!(got.get("secret").is_none(), "{got}");

    let patched = server
        .patch_ok(
            &format!("/webhook/{id}"),
            json!({"is_active": false, "event_types": ["*"]}),
        )
        .await;
    assert_eq!(patched["is_active"], false);
    assert_eq!(patched["event_types"], json!(["*"]));
    assert_eq!(patched["target_url"], "https://hooks.example/in");
    assert!(patched.get("secret").is_none(), "{patched}");

    // An inactive webhook cannot be tested.
    let (status, body) = server
        .send(Method::POST, "/webhook/test", Some(json!({"id": id})))
        .await;
    assert_eq!(status, 409, "{body}");

    let (second, _) = webhook(&server, "http://127.0.0.1:9/hook", &["*"]).await;
    let (status, page) = server.send(Method::GET, "/webhook?limit=1", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["result"].as_array().unwrap().len(), 1);
    assert_eq!(page["result"][0]["id"], id.as_str());
    assert!(page["result"][0].get("secret").is_none(), "{page}");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, page) = server
        .send(
            Method::GET,
            &format!("/webhook?limit=1&next_cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(page["result"][0]["id"], second.as_str());
    assert!(page["next_cursor"].is_null(), "{page}");
    let (status, body) = server.send(Method::GET, "/webhook?limit=0", None).await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = server
        .send(Method::DELETE, &format!("/webhook/{id}"), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"id": id})));
    let (status, _) = server
        .send(Method::GET, &format!("/webhook/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .send(Method::DELETE, &format!("/webhook/{id}"), None)
        .await;
    assert_eq!(status, 404);

    // Only the creating answers held a secret.
    let seen = server.seen.lock().unwrap();
    let with_secret = seen.iter().filter(|text| text.contains(&secret)).count();
    assert_eq!(
        with_secret, 1,
        "the secret appears only in the create answer"
    );
    assert!(
        seen[0].contains(&secret),
        "the first answer is the create answer"
    );
}

/// Sends `body` to `path` with `method`, asserts `422` and answers the error
/// body.
async fn refused(server: &TestServer, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = server.send(method, path, Some(body)).await;
    assert_eq!(status, 422, "{path}: {answer}");
    answer
}

/// The `path` of each of an error body's `errors`.
fn error_paths(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body}"))
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

async fn invalid_bodies_are_422_with_paths() {
    let server = TestServer::start().await;
    let create = |body: Value| refused(&server, Method::POST, "/webhook", body);
    for url in [
        "ftp://hooks.example/in",
        "/relative",
        "not a url",
        "https://",
    ] {
        let body = create(json!({"target_url": url, "event_types": ["*"]})).await;
        assert_eq!(error_paths(&body), ["target_url"], "{url}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("target_url"),
            "{body}"
        );
    }
    let target = "https://hooks.example/in";
    let body = create(json!({"target_url": target, "event_types": []})).await;
    assert_eq!(error_paths(&body), ["event_types"]);
    let body =
        create(json!({"target_url": target, "event_types": ["*", "integrated_account:exploded"]}))
            .await;
    assert_eq!(error_paths(&body), ["event_types[1]"]);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("integrated_account:exploded"), "{body}");
    assert!(
        message.contains("integrated_account:created") && message.contains("record:*"),
        "{body}"
    );
    let body = create(json!({"target_url": target, "event_types": [3]})).await;
    assert_eq!(error_paths(&body), ["event_types[0]"]);
    let body = create(json!({"target_url": target, "event_types": ["*"], "secret": "mine"})).await;
    assert!(
        body["message"].as_str().unwrap().contains("secret"),
        "{body}"
    );
    let (status, body) = server
        .raw(
            Method::POST,
            "/webhook",
            Some(&server.token),
            Some("{\"target_url\":".into()),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let (id, _) = webhook(&server, target, &["*"]).await;
    let path = format!("/webhook/{id}");
    let update = |body: Value| refused(&server, Method::PATCH, &path, body);
    let body = update(json!({"target_url": "mailto:a@b.c"})).await;
    assert_eq!(error_paths(&body), ["target_url"]);
    let body = update(json!({"event_types": ["nope"]})).await;
    assert_eq!(error_paths(&body), ["event_types[0]"]);
    update(json!({"colour": "red"})).await;
    let test = json!({"id": id, "extra": 1});
    refused(&server, Method::POST, "/webhook/test", test).await;
    let (status, _) = server
        .send(Method::POST, "/webhook/test", Some(json!({"id": "nope"})))
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .raw(Method::GET, "/webhook", Some("not-a-token"), None)
        .await;
    assert_eq!(status, 401);
}

async fn webhooks_are_scoped_to_their_environment() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    let (id, _) = webhook_at(&server, &hooks, "/a", &["*"]).await;
    let other = server.other_environment_token().await;
    let path = format!("/webhook/{id}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"is_active": false}))),
        (Method::DELETE, None),
    ] {
        let (status, answer) = server.send_as(&other, method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {answer}");
    }
    let (status, _) = server
        .send_as(
            &other,
            Method::POST,
            "/webhook/test",
            Some(json!({"id": id})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = server.send_as(&other, Method::GET, "/webhook", None).await;
    assert_eq!(list["result"], json!([]));
    let (status, got) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["is_active"], true, "untouched by the other environment");

    // The other environment's events do not reach this environment's webhook.
    let (_, other_hook_secret) = {
        let (status, body) = server
            .send_as(
                &other,
                Method::POST,
                "/webhook",
                Some(json!({"target_url": format!("{}/b", hooks.uri()), "event_types": ["test"]})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, queued) = server
            .send_as(
                &other,
                Method::POST,
                "/webhook/test",
                Some(json!({"id": body["id"]})),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
        (
            body["id"].clone(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    };
    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    let report = drain(&worker).await;
    assert_eq!(report.delivered, 1, "{report:?}");
    assert!(received(&hooks, "/a").await.is_empty());
    let got = received(&hooks, "/b").await;
    assert_eq!(got.len(), 1);
    let now = SystemTime::now();
    verify_event(
        other_hook_secret.as_bytes(),
        header(&got[0], SIGNATURE_HEADER),
        &got[0].body,
        now,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    assert_eq!(body_json(&got[0])["event"], "test");
}

async fn importing_an_account_delivers_a_signed_created_event() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    let (hook_id, secret) =
        webhook_at(&server, &hooks, "/hooks", &["integrated_account:created"]).await;
    let install = install(&server).await;
    let account = import(&server, &install, "acme").await;
    let account_id = account["id"].as_str().unwrap();

    let handle = patchbay_server::delivery::spawn(server.store.clone(), fast()).unwrap();
    let got = wait_for(&hooks, "/hooks", 1).await;
    handle.shutdown().await;
    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    assert_eq!(drain(&worker).await.claimed, 0, "nothing left to send");
    let got_again = received(&hooks, "/hooks").await;
    assert_eq!(got_again.len(), 1, "delivered exactly once");
    let request = &got[0];

    verify_now(secret.as_bytes(), request)
        .expect("the signature verifies with the webhook's secret");
    assert!(verify_now(b"another-secret", request).is_err());
    assert_eq!(header(request, "content-type"), "application/json");
    assert!(header(request, "user-agent").starts_with("patchbay/"));
    assert_eq!(
        header(request, "x-patchbay-event"),
        "integrated_account:created"
    );
    assert!(!header(request, "x-patchbay-delivery").is_empty());

    let body = body_json(request);
    assert_eq!(body["event"], "integrated_account:created");
    assert_eq!(body["webhook_id"], hook_id.as_str());
    assert_eq!(body["environment_id"], account["environment_id"]);
    assert!(
        body["id"].is_string() && body["created_at"].is_string(),
        "{body}"
    );
    assert_eq!(body["payload"]["id"], account_id);
    assert_eq!(body["payload"]["tenant_id"], "acme");
    assert_eq!(body["payload"]["status"], "active");
    assert!(body["payload"].get("context").is_none(), "{body}");
    let text = String::from_utf8_lossy(&request.body);
    assert!(!text.contains(API_TOKEN), "a credential leaked: {text}");
    assert!(!text.contains(&secret), "the secret leaked: {text}");
}

async fn account_updates_and_deletes_are_delivered_to_subscribers_only() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    webhook_at(&server, &hooks, "/all", &["integrated_account:*"]).await;
    webhook_at(&server, &hooks, "/deleted", &["integrated_account:deleted"]).await;
    webhook_at(&server, &hooks, "/records", &["record:*", "test"]).await;
    let install = install(&server).await;
    let account = import(&server, &install, "acme").await;
    let id = account["id"].as_str().unwrap();
    server
        .patch_ok(
            &format!("/integrated-account/{id}"),
            json!({"is_sandbox": true}),
        )
        .await;
    let (status, _) = server
        .send(Method::DELETE, &format!("/integrated-account/{id}"), None)
        .await;
    assert_eq!(status, 200);

    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    let report = drain(&worker).await;
    assert_eq!(report.delivered, 4, "{report:?}");
    let events = |requests: Vec<Request>| -> Vec<String> {
        let mut names: Vec<String> = requests
            .iter()
            .map(|r| body_json(r)["event"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        events(received(&hooks, "/all").await),
        [
            "integrated_account:created",
            "integrated_account:deleted",
            "integrated_account:updated"
        ]
    );
    let deleted = received(&hooks, "/deleted").await;
    assert_eq!(events(deleted.clone()), ["integrated_account:deleted"]);
    assert_eq!(
        body_json(&deleted[0])["payload"],
        json!({"id": id, "tenant_id": "acme", "environment_integration_id": install})
    );
    assert!(
        received(&hooks, "/records").await.is_empty(),
        "not subscribed"
    );
}

async fn failed_deliveries_are_retried_until_accepted() {
    let server = TestServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&hooks)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&hooks)
        .await;
    let (id, secret) = webhook_at(&server, &hooks, "/flaky", &["test"]).await;
    let (status, queued) = server
        .send(Method::POST, "/webhook/test", Some(json!({"id": id})))
        .await;
    assert_eq!(status, 202, "{queued}");

    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    let report = drain_with_retries(&worker, 1).await;
    assert_eq!(
        (
            report.claimed,
            report.retrying,
            report.delivered,
            report.given_up
        ),
        (3, 2, 1, 0),
        "{report:?}"
    );
    // Later ticks send nothing more.
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(drain(&worker).await.claimed, 0);
    let got = received(&hooks, "/flaky").await;
    assert_eq!(got.len(), 3, "two failures, one success, nothing after");
    let event_ids: Vec<Value> = got.iter().map(|r| body_json(r)["id"].clone()).collect();
    assert!(
        event_ids.iter().all(|e| *e == queued["id"]),
        "{event_ids:?}"
    );
    let deliveries: Vec<&str> = got
        .iter()
        .map(|r| header(r, "x-patchbay-delivery"))
        .collect();
    assert!(
        deliveries.iter().all(|d| *d == deliveries[0]),
        "{deliveries:?}"
    );
    for request in &got {
        verify_now(secret.as_bytes(), request).unwrap();
    }
}

async fn deliveries_are_given_up_after_max_attempts() {
    let server = TestServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&hooks)
        .await;
    let (id, _) = webhook_at(&server, &hooks, "/down?sig=receiver-SECRET", &["test"]).await;
    server
        .send(Method::POST, "/webhook/test", Some(json!({"id": id})))
        .await;
    let worker = DeliveryWorker::new(server.store.clone(), fast().with_max_attempts(3)).unwrap();
    let report = drain_with_retries(&worker, 1).await;
    assert_eq!(
        (report.claimed, report.retrying, report.given_up),
        (3, 2, 1),
        "{report:?}"
    );
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(drain(&worker).await.claimed, 0);
    assert_eq!(received(&hooks, "/down").await.len(), 3);

    // Each attempt is a `webhook` request log, newest first, without the URL's secrets.
    let (status, logs) = server
        .send(
            Method::GET,
            &format!("/log?log_type=webhook&log_type_filter[webhook_id]={id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{logs}");
    let logs = logs["result"].as_array().unwrap();
    let attempts: Vec<&Value> = logs.iter().map(|l| &l["metadata"]["attempt"]).collect();
    assert_eq!(attempts, [&json!(3), &json!(2), &json!(1)], "{logs:#?}");
    for log in logs {
        let meta = &log["metadata"];
        assert_eq!(log["log_type"], "webhook");
        assert_eq!(meta["event"], "test");
        assert_eq!(meta["webhook_endpoint_status"], 503);
        assert_eq!(meta["webhook_successful"], false);
        assert_eq!(meta["message"], "the receiver answered HTTP 503");
        let url = meta["http_url"].as_str().unwrap();
        assert!(
            url.contains("/down?sig=") && !url.contains("receiver-SECRET"),
            "{url}"
        );
    }
}

/// F5: the worker's default client reaches public addresses only, so a
/// target on loopback (by IP literal or by a name) is never called.
async fn targets_on_internal_addresses_are_never_called_by_default() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    let port = hooks.address().port();
    for target in [
        format!("http://127.0.0.1:{port}/in"),
        format!("http://localhost:{port}/in"),
    ] {
        let (id, _) = webhook(&server, &target, &["test"]).await;
        server
            .send(Method::POST, "/webhook/test", Some(json!({"id": id})))
            .await;
    }
    let options = DeliveryOptions::default()
        .with_poll_interval(Duration::from_millis(10))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
        .with_max_attempts(2);
    let worker = DeliveryWorker::new(server.store.clone(), options).unwrap();
    let report = drain_with_retries(&worker, 2).await;
    assert_eq!((report.delivered, report.given_up), (0, 2), "{report:?}");
    assert!(
        received(&hooks, "/in").await.is_empty(),
        "the receiver was never reached"
    );
}

async fn deleted_and_inactive_webhooks_receive_nothing() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    let (deleted, _) = webhook_at(&server, &hooks, "/deleted", &["*"]).await;
    let (paused, _) = webhook_at(&server, &hooks, "/paused", &["*"]).await;
    let (kept, _) = webhook_at(&server, &hooks, "/kept", &["*"]).await;
    let install = install(&server).await;
    import(&server, &install, "acme").await;
    let (status, _) = server
        .send(Method::DELETE, &format!("/webhook/{deleted}"), None)
        .await;
    assert_eq!(status, 200);
    server
        .patch_ok(&format!("/webhook/{paused}"), json!({"is_active": false}))
        .await;

    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    let report = drain(&worker).await;
    assert_eq!((report.delivered, report.given_up), (1, 1), "{report:?}");
    assert!(received(&hooks, "/deleted").await.is_empty());
    assert!(received(&hooks, "/paused").await.is_empty());
    let got = received(&hooks, "/kept").await;
    assert_eq!(got.len(), 1);
    assert_eq!(body_json(&got[0])["webhook_id"], kept.as_str());

    // Reactivating does not resurrect the event given up while inactive.
    server
        .send(
            Method::PATCH,
            &format!("/webhook/{paused}"),
            Some(json!({"is_active": true})),
        )
        .await;
    assert_eq!(drain(&worker).await.claimed, 0);
    assert!(received(&hooks, "/paused").await.is_empty());
}

async fn test_event_goes_to_the_named_webhook_only() {
    let server = TestServer::start().await;
    let hooks = receiver().await;
    let (target, secret) =
        webhook_at(&server, &hooks, "/target", &["integrated_account:deleted"]).await;
    webhook_at(&server, &hooks, "/bystander", &["*"]).await;
    let (status, queued) = server
        .send(Method::POST, "/webhook/test", Some(json!({"id": target})))
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["event"], "test");
    assert_eq!(queued["webhook_id"], target.as_str());
    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    assert_eq!(drain(&worker).await.delivered, 1);
    assert!(received(&hooks, "/bystander").await.is_empty());
    let got = received(&hooks, "/target").await;
    assert_eq!(got.len(), 1);
    let body = body_json(&got[0]);
    assert_eq!(
        (body["event"].as_str(), body["id"].clone()),
        (Some("test"), queued["id"].clone())
    );
    verify_now(secret.as_bytes(), &got[0]).unwrap();
}

async fn queued_events_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = receiver().await;
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let (_, secret) =
        webhook_at(&server, &hooks, "/durable", &["integrated_account:created"]).await;
    let install = install(&server).await;
    let account = import(&server, &install, "acme").await;
    // No worker ran: stop the server and let go of the store entirely.
    let token = server.stop().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(received(&hooks, "/durable").await.is_empty());

    let server = TestServer::builder()
        .data_dir(dir.path())
        .token(token)
        .start()
        .await;
    let handle = patchbay_server::delivery::spawn(server.store.clone(), fast()).unwrap();
    let got = wait_for(&hooks, "/durable", 1).await;
    handle.shutdown().await;
    let worker = DeliveryWorker::new(server.store.clone(), fast()).unwrap();
    assert_eq!(drain(&worker).await.claimed, 0);
    assert_eq!(received(&hooks, "/durable").await.len(), 1, "exactly once");
    assert_eq!(body_json(&got[0])["payload"]["id"], account["id"]);
    verify_now(secret.as_bytes(), &got[0]).unwrap();
    // The API still works with the first start's token.
    let (status, _) = server.send(Method::GET, "/webhook", None).await;
    assert_eq!(status, 200);
}

async fn two_workers_deliver_each_event_once() {
    const EVENTS: usize = 24;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(5)))
        .mount(&hooks)
        .await;
    let (id, _) = webhook_at(&server, &hooks, "/shared", &["test"]).await;
    for _ in 0..EVENTS {
        let (status, _) = server
            .send(Method::POST, "/webhook/test", Some(json!({"id": id})))
            .await;
        assert_eq!(status, 202);
    }
    // A second store over the same database, as a second process would have.
    let second_store = open_store(None, dir.path()).await.unwrap();
    let options = fast().with_batch_size(3);
    let one = patchbay_server::delivery::spawn(server.store.clone(), options.clone()).unwrap();
    let two = patchbay_server::delivery::spawn(second_store.clone(), options).unwrap();
    wait_for(&hooks, "/shared", EVENTS).await;
    one.shutdown().await;
    two.shutdown().await;
    let worker = DeliveryWorker::new(second_store, fast()).unwrap();
    assert_eq!(drain(&worker).await.claimed, 0);

    let got = received(&hooks, "/shared").await;
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| body_json(r)["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(got.len(), EVENTS, "each event delivered once");
    assert_eq!(ids.len(), EVENTS, "distinct events");
}

/// The worker and the one-webhook enqueue over Postgres
/// (`PATCHBAY_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`);
/// reported ignored when it is unreachable, unless `CI=true`.
async fn delivery_works_on_postgres() {
    let (url, schema) = postgres::create_schema("pb_hooks_").await;
    let outcome = tokio::spawn({
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            let options = postgres::options(&url, &schema);
            let cipher = patchbay_server::store::Cipher::from_base64(
                &patchbay_server::store::Cipher::generate_key_base64(),
            )
            .unwrap();
            let store = patchbay_server::store::connect_postgres_with(options, cipher)
                .await
                .unwrap();
            let env = store.bootstrap().await.unwrap().unwrap().environment.id;
            let hooks = receiver().await;
            let new = |at: &str, types: &[&str]| patchbay_server::store::NewWebhook {
                target_url: format!("{}/{at}", hooks.uri()),
                event_types: types.iter().map(|t| t.to_string()).collect(),
                is_active: true,
            };
            let target = store
                .create_webhook(&env, new("target", &["integrated_account:deleted"]))
                .await
                .unwrap();
            store
                .create_webhook(&env, new("all", &["*"]))
                .await
                .unwrap();
            let queued = store
                .enqueue_for_webhook(&env, &target.webhook.id, "test", &json!({"n": 1}))
                .await
                .unwrap();
            assert_eq!(queued.deliveries, 1);
            assert!(matches!(
                store
                    .enqueue_for_webhook(&env, "nope", "test", &json!({}))
                    .await,
                Err(patchbay_server::store::StorageError::NotFound { .. })
            ));
            store
                .enqueue_event(&env, "integrated_account:created", &json!({"id": "a"}))
                .await
                .unwrap();
            let worker = DeliveryWorker::new(store.clone(), fast()).unwrap();
            assert_eq!(drain(&worker).await.delivered, 2);
            let got = received(&hooks, "/target").await;
            assert_eq!(got.len(), 1);
            assert_eq!(body_json(&got[0])["id"], queued.event_id.as_str());
            verify_now(target.secret.expose().as_bytes(), &got[0]).unwrap();
            let all = received(&hooks, "/all").await;
            assert_eq!(all.len(), 1);
            assert_eq!(body_json(&all[0])["event"], "integrated_account:created");
        }
    })
    .await;
    postgres::drop_schema(&url, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
