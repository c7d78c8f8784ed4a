//! Bounds on what one call or one account can hold: the per-account cap on
//! requests in flight and the call deadline, against a real HTTP server on
//! loopback that counts how many requests it holds open at once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use patchbay_config::AuthenticationMethod;
use patchbay_executor::{AccountData, CallInput, CompiledIntegration, Executor, ExecutorError};
use serde_json::json;
use support::call;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A provider that holds every request for `hold`, the integration calling it, and the
/// most requests it ever held at once.
struct SlowProvider {
    integration: CompiledIntegration,
    peak: Arc<AtomicUsize>,
}

async fn slow_provider(hold: Duration) -> SlowProvider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let seen_peak = peak.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (open, peak) = (open.clone(), peak.clone());
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let mut read = 0;
                while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(hold).await;
                open.fetch_sub(1, Ordering::SeqCst);
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .await;
            });
        }
    });
    SlowProvider {
        integration: integration(&base),
        peak: seen_peak,
    }
}

fn integration(base: &str) -> CompiledIntegration {
    support::integration(
        json!({"base_url": base, "resources": {"things": {"get": {"path": "/things/{{id}}"}}}}),
    )
}

fn account(id: &str) -> AccountData {
    support::account(id, AuthenticationMethod::ApiKey, json!({}))
}

/// An executor allowing `max` requests of one account in flight, each with `timeout`.
fn capped(max: usize, timeout: Duration) -> Executor {
    Executor::builder()
        .max_in_flight_per_account(max)
        .timeout(timeout)
        .build()
}

/// `n` concurrent `things.get` calls of `account`, each with its own id.
async fn fan_out(
    executor: &Executor,
    integration: &CompiledIntegration,
    account: &AccountData,
    n: usize,
) -> Vec<Result<(), ExecutorError>> {
    let calls = (0..n).map(|i| {
        let (executor, integration, account) =
            (executor.clone(), integration.clone(), account.clone());
        tokio::spawn(async move {
            let input = CallInput::new().id(i.to_string());
            call(&executor, &integration, &account, "things", "get", input)
                .await
                .map(drop)
        })
    });
    let mut results = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        results.push(call.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_never_has_more_requests_in_flight_than_its_cap() {
    let provider = slow_provider(Duration::from_millis(150)).await;
    let executor = capped(2, Duration::from_secs(10));
    let results = fan_out(&executor, &provider.integration, &account("a"), 8).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(provider.peak.load(Ordering::SeqCst), 2, "the cap holds");

    // Another account has slots of its own.
    let other = slow_provider(Duration::from_millis(150)).await;
    let (a, b) = (account("a"), account("b"));
    let both = tokio::join!(
        fan_out(&executor, &other.integration, &a, 2),
        fan_out(&executor, &other.integration, &b, 2)
    );
    assert!(both.0.iter().chain(both.1.iter()).all(Result::is_ok));
    assert_eq!(other.peak.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_finds_no_slot_in_time_is_rate_limited() {
    let provider = slow_provider(Duration::from_millis(600)).await;
    let executor = capped(1, Duration::from_millis(300));
    let results = fan_out(&executor, &provider.integration, &account("a"), 3).await;
    let refused: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| matches!(e, ExecutorError::TooManyInFlight { limit: 1, .. }))
        .collect();
    assert!(!refused.is_empty(), "{results:?}");
    assert!(refused.iter().all(|e| e.is_rate_limited()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_costs_one_call_deadline_not_every_attempt() {
    let provider = slow_provider(Duration::from_secs(30)).await;
    let executor = Executor::builder()
        .timeout(Duration::from_millis(400))
        .call_deadline(Duration::from_millis(900))
        .retry_policy(patchbay_ratelimit::RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..Default::default()
        })
        .build();
    let started = std::time::Instant::now();
    let input = CallInput::new().id("1");
    let error = call(
        &executor,
        &provider.integration,
        &account("a"),
        "things",
        "get",
        input,
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, ExecutorError::Transport { .. }), "{error}");
    // Without the deadline: 10 attempts × 400 ms.
    assert!(took < Duration::from_millis(1500), "{took:?}");
}
