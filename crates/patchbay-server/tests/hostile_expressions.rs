//! F4: hostile JSONata in an integration config cannot stall the server or
//! exhaust its memory.
//!
//! A real server on loopback (the shared harness) runs on a runtime with two
//! worker threads, as on a two-core machine. Its integrations carry an
//! `error_expression` that, unguarded, allocates a gigabyte in one built-in
//! call (`$pad`) or loops until the time limit (tail recursion). Several proxy
//! calls evaluate them at once against a wiremock provider while the test
//! polls `/health` and samples the process's resident memory.

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::TestServer;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One `$pad` call asks for a 1 GB string.
const HUGE_PAD: &str = "$length($pad('x', 1000000000))";
/// Never returns; only the time limit stops it.
const ENDLESS_RECURSION: &str = "($f := function($x){ $f($x) }; $f(1))";

/// `/health` must answer within this while the expressions run.
const HEALTH_BUDGET: Duration = Duration::from_millis(300);
/// How much the resident set may grow while the expressions run.
const RSS_GROWTH_BUDGET_KIB: u64 = 256 * 1024;

fn config(base_url: &str, error_expression: &str) -> Value {
    json!({
        "label": "Hostile",
        "base_url": base_url,
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_token", "label": "API token", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_token}}"}},
        "error_expression": error_expression,
        "resources": {"items": {"list": {"path": "/items", "response_path": "items"}}}
    })
}

/// The resident set of this process (the server runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Imports an account of a fresh integration whose `error_expression` is
/// `expression`; answers the account id.
async fn account_with(
    server: &TestServer,
    provider: &MockServer,
    name: &str,
    expression: &str,
) -> String {
    let integration = json!({
        "name": name,
        "category": "other",
        "config": config(&provider.uri(), expression),
    });
    let install_id = server.install(integration, None).await.install_id;
    let account = server
        .import(
            &install_id,
            "acme",
            json!({"context": {"api_token": "t0k"}}),
        )
        .await;
    support::id_of(&account)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expressions_neither_stall_the_server_nor_exhaust_memory() {
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 1}]})))
        .mount(&provider)
        .await;
    let server = TestServer::start().await;
    let pad = account_with(&server, &provider, "hostile-pad", HUGE_PAD).await;
    let recursion = account_with(&server, &provider, "hostile-loop", ENDLESS_RECURSION).await;

    let (status, _) = server.raw(Method::GET, "/health", None, None).await;
    assert_eq!(status, 200);
    let rss_before = rss_kib();

    let calls: Vec<_> = [&pad, &pad, &pad, &recursion, &recursion, &pad]
        .into_iter()
        .map(|account| {
            let client = server.client.clone();
            let url = server.url(&format!("/proxy/items?integrated_account_id={account}"));
            let token = server.token.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let response = client.get(url).bearer_auth(token).send().await.unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                (status, body, started.elapsed())
            })
        })
        .collect();

    // Poll /health (and memory) until every hostile call has answered.
    let mut slowest_health = Duration::ZERO;
    let mut peak_rss = rss_before;
    while !calls.iter().all(tokio::task::JoinHandle::is_finished) {
        let started = Instant::now();
        let health = tokio::time::timeout(
            Duration::from_secs(30),
            server.client.get(server.url("/health")).send(),
        )
        .await
        .expect("/health answers at all")
        .unwrap();
        assert_eq!(health.status(), 200);
        slowest_health = slowest_health.max(started.elapsed());
        peak_rss = peak_rss.max(rss_kib());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    let growth = peak_rss.saturating_sub(rss_before);
    eprintln!(
        "slowest /health {slowest_health:?}; RSS {rss_before} -> peak {peak_rss} KiB; calls: {:?}",
        answers
            .iter()
            .map(|(status, body, took)| (status.as_u16(), took, body["message"].clone()))
            .collect::<Vec<_>>()
    );
    for (status, body, took) in answers {
        assert!(
            status.is_client_error() || status.is_server_error(),
            "a hostile expression must fail the call: {status} {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("JSONata") && message.contains("limit"),
            "the error names the JSONata limit: {body}"
        );
        assert!(
            took < Duration::from_secs(5),
            "a hostile call took {took:?}: {body}"
        );
    }
    assert!(
        slowest_health < HEALTH_BUDGET,
        "/health took {slowest_health:?} while hostile expressions ran"
    );
    assert!(
        growth < RSS_GROWTH_BUDGET_KIB,
        "resident memory grew by {growth} KiB ({rss_before} -> {peak_rss} KiB)"
    );
}
