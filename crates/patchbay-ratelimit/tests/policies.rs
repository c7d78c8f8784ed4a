//! Rate-limit detection with the catalog configs, retries, pacing and cancellation.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_config::{IntegrationConfig, load_integration_config};
use patchbay_ratelimit::{
    AttemptOutcome, ErrorPolicy, GiveUp, PaceConfig, Pacer, RateLimitPolicy, ResponseView,
    RetryDecision, RetryPolicy, sleep_cancellable,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn catalog(name: &str) -> IntegrationConfig {
    let path = format!(
        "{}/../../examples/catalog/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    load_integration_config(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

const NOW: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn classify(
    policy: &RateLimitPolicy,
    status: u16,
    h: &http::HeaderMap,
    body: Option<&Value>,
) -> Option<Option<Duration>> {
    policy
        .classify(
            &ResponseView {
                status,
                headers: h,
                body,
            },
            now(),
        )
        .unwrap()
        .map(|l| l.wait)
}

#[test]
fn default_is_429_with_retry_after_seconds_date_or_absent() {
    let policy = RateLimitPolicy::new(None).unwrap();
    assert_eq!(
        classify(&policy, 429, &headers(&[("Retry-After", "7")]), None),
        Some(Some(Duration::from_secs(7)))
    );
    let date = httpdate::fmt_http_date(now() + Duration::from_secs(90));
    assert_eq!(
        classify(&policy, 429, &headers(&[("retry-after", &date)]), None),
        Some(Some(Duration::from_secs(90)))
    );
    assert_eq!(classify(&policy, 429, &headers(&[]), None), Some(None));
    assert_eq!(
        classify(&policy, 503, &headers(&[("Retry-After", "7")]), None),
        None
    );
    assert_eq!(classify(&policy, 200, &headers(&[]), None), None);
}

#[test]
fn github_secondary_and_primary_limits() {
    let config = catalog("github");
    let policy = RateLimitPolicy::new(config.rate_limit.as_ref()).unwrap();
    // Primary: 403 + remaining 0 + reset epoch.
    let primary = headers(&[
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", &(NOW + 300).to_string()),
    ]);
    assert_eq!(
        classify(&policy, 403, &primary, None),
        Some(Some(Duration::from_secs(300)))
    );
    // A 403 with quota left is a permission error, not a rate limit.
    let forbidden = headers(&[
        ("x-ratelimit-remaining", "4999"),
        ("x-ratelimit-reset", &(NOW + 300).to_string()),
    ]);
    assert_eq!(classify(&policy, 403, &forbidden, None), None);
    // Secondary: retry-after and reset both present: the longer wins.
    let secondary = headers(&[
        ("retry-after", "60"),
        ("x-ratelimit-remaining", "10"),
        ("x-ratelimit-reset", &(NOW + 20).to_string()),
    ]);
    assert_eq!(
        classify(&policy, 429, &secondary, None),
        Some(Some(Duration::from_secs(60)))
    );
}

#[test]
fn salesforce_body_based_detection_and_graph_503() {
    let sf = catalog("salesforce");
    let policy = RateLimitPolicy::new(sf.rate_limit.as_ref()).unwrap();
    let body = json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]);
    assert_eq!(
        classify(&policy, 403, &headers(&[]), Some(&body)),
        Some(None)
    );
    let other = json!([{"message": "no", "errorCode": "INSUFFICIENT_ACCESS"}]);
    assert_eq!(classify(&policy, 403, &headers(&[]), Some(&other)), None);

    let graph = catalog("microsoft-graph");
    let policy = RateLimitPolicy::new(graph.rate_limit.as_ref()).unwrap();
    assert_eq!(
        classify(&policy, 503, &headers(&[("Retry-After", "3")]), None),
        Some(Some(Duration::from_secs(3)))
    );
}

#[test]
fn error_expressions_from_the_catalog() {
    let slack = catalog("slack");
    let policy = ErrorPolicy::new(slack.error_expression.as_ref()).unwrap();
    let h = headers(&[]);
    let body = json!({"ok": false, "error": "invalid_auth"});
    assert_eq!(
        policy
            .check(&ResponseView {
                status: 200,
                headers: &h,
                body: Some(&body)
            })
            .unwrap()
            .as_deref(),
        Some("invalid_auth")
    );

    let zendesk = catalog("zendesk");
    let policy = ErrorPolicy::new(zendesk.error_expression.as_ref()).unwrap();
    let body = json!({"error": "RecordNotFound", "description": "Not found"});
    assert_eq!(
        policy
            .check(&ResponseView {
                status: 404,
                headers: &h,
                body: Some(&body)
            })
            .unwrap()
            .as_deref(),
        Some("Not found")
    );
    assert_eq!(
        policy
            .check(&ResponseView {
                status: 200,
                headers: &h,
                body: Some(&json!({"tickets": []}))
            })
            .unwrap(),
        None
    );
}

#[test]
fn retry_after_above_the_bound_gives_up_instead_of_sleeping() {
    let policy = RetryPolicy::default();
    let mut retry = policy.start(true);
    assert_eq!(
        retry.decide(AttemptOutcome::RateLimited(Some(Duration::from_secs(3600)))),
        RetryDecision::GiveUp(GiveUp::WaitTooLong {
            requested: Duration::from_secs(3600),
            max: Duration::from_secs(60)
        })
    );
}

proptest! {
    /// Full jitter stays within [0, cap] for every retry and seed.
    #[test]
    fn jitter_within_bounds(seed in any::<u64>(), retries in 1u32..8) {
        let policy = RetryPolicy { max_attempts: 100, max_total_wait: Duration::from_secs(10_000), ..RetryPolicy::default() };
        let mut retry = policy.start(true).with_seed(seed);
        for n in 1..=retries {
            let cap = policy.backoff_cap(n);
            match retry.decide(AttemptOutcome::Status(503)) {
                RetryDecision::RetryAfter(wait) => prop_assert!(wait <= cap, "{wait:?} > {cap:?}"),
                RetryDecision::GiveUp(reason) => prop_assert!(false, "gave up: {reason}"),
            }
        }
    }
}

#[test]
fn jitter_is_spread_not_constant() {
    let policy = RetryPolicy::default();
    let waits: Vec<Duration> = (0..50)
        .map(|seed| {
            match policy
                .start(true)
                .with_seed(seed)
                .decide(AttemptOutcome::Timeout)
            {
                RetryDecision::RetryAfter(w) => w,
                RetryDecision::GiveUp(r) => panic!("{r}"),
            }
        })
        .collect();
    let min = waits.iter().min().unwrap();
    let max = waits.iter().max().unwrap();
    assert!(*max - *min > Duration::from_millis(200), "{min:?}..{max:?}");
}

#[tokio::test(start_paused = true)]
async fn cancellation_returns_promptly() {
    let token = CancellationToken::new();
    let child = token.clone();
    let start = tokio::time::Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        child.cancel();
    });
    let result = sleep_cancellable(Duration::from_secs(3600), &token).await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), Duration::from_millis(50));
    // Without cancellation the full wait elapses.
    let start = tokio::time::Instant::now();
    sleep_cancellable(Duration::from_secs(2), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn pacing_spreads_calls_per_account() {
    let pacer = Pacer::new(Some(PaceConfig {
        requests: NonZeroU32::new(5).unwrap(),
        per: Duration::from_secs(1),
        burst: NonZeroU32::new(2).unwrap(),
    }));
    let cancel = CancellationToken::new();
    let start = tokio::time::Instant::now();
    // 2 burst + 10 paced at 200 ms each = 2 s.
    for _ in 0..12 {
        pacer.acquire(&"a", &cancel).await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    // Another account has its own budget.
    let other = tokio::time::Instant::now();
    pacer.acquire(&"b", &cancel).await.unwrap();
    pacer.acquire(&"b", &cancel).await.unwrap();
    assert_eq!(other.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_wait_for_an_observed_retry_after() {
    let pacer = std::sync::Arc::new(Pacer::<String>::new(None));
    let cancel = CancellationToken::new();
    pacer.pause_for(&"acct".to_string(), Duration::from_secs(30));
    pacer.pause_for(&"acct".to_string(), Duration::from_secs(5)); // never shortens
    assert_eq!(
        pacer.paused_for(&"acct".to_string()),
        Some(Duration::from_secs(30))
    );
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (pacer, cancel) = (pacer.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            pacer.acquire(&"acct".to_string(), &cancel).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert_eq!(pacer.paused_for(&"acct".to_string()), None);
    // An unrelated account is not paused.
    let start = tokio::time::Instant::now();
    pacer.acquire(&"other".to_string(), &cancel).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_paused_acquire_can_be_cancelled() {
    let pacer = Pacer::<u32>::new(None);
    pacer.pause_for(&1, Duration::from_secs(600));
    let cancel = CancellationToken::new();
    cancel.cancel();
    assert!(pacer.acquire(&1, &cancel).await.is_err());
}
