//! The request pipeline (render + auth + send + classify + extract) against a
//! raw reqwest loop doing the same HTTP work on the same local server.
//!
//! Read the report as ratios: `pipeline/*` over `raw_reqwest/*` in the same group.
//!
//! `single_request` and `list_100_pages` are wall time, one request at a time.
//! `under_load_cpu` keeps `CONCURRENT` requests in flight and reports the process's CPU
//! time per request (the local API's share is in both sides and the same), which holds
//! steady when other work shares the machine.

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;
use std::time::Duration;

use patchbay_benches::{Dataset, config, process_cpu, start_api};
use patchbay_config::{AuthenticationMethod, load_integration_config};
use patchbay_executor::{AccountData, CallInput, CompiledIntegration, Executor, ListOptions};
use serde_json::{Value, json};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(start_api(Dataset {
        records: 100 * 50,
        page_size: 50,
    }));
    let base = format!("http://{addr}");
    let integration =
        CompiledIntegration::new(load_integration_config(&config(&base).to_string()).unwrap())
            .unwrap();
    let account = AccountData {
        id: "bench".into(),
        authentication_method: AuthenticationMethod::ApiKey,
        context: json!({"api_key": "bench-key"}).as_object().unwrap().clone(),
    };
    let mut plain_config = config(&base);
    plain_config
        .as_object_mut()
        .unwrap()
        .remove("error_expression");
    let plain =
        CompiledIntegration::new(load_integration_config(&plain_config.to_string()).unwrap())
            .unwrap();
    let client = reqwest::Client::new();
    let executor = Executor::builder().http_client(client.clone()).build();

    // Both sides must agree on what they fetch.
    let raw_first = rt.block_on(raw_page(&client, &base, None)).0;
    let piped_first = rt
        .block_on(executor.call(
            &integration,
            account.as_account_ref(),
            "items",
            "first",
            &CallInput::new(),
        ))
        .unwrap()
        .body["data"]
        .clone();
    assert_eq!(Value::Array(raw_first), piped_first);

    let mut group = c.benchmark_group("single_request");
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&rt)
            .iter(|| async { raw_page(&client, &base, None).await })
    });
    group.bench_function("pipeline", |b| {
        b.to_async(&rt).iter(|| async {
            executor
                .call(
                    &integration,
                    account.as_account_ref(),
                    "items",
                    "first",
                    &CallInput::new(),
                )
                .await
                .unwrap()
        })
    });
    group.bench_function("pipeline_without_error_expression", |b| {
        b.to_async(&rt).iter(|| async {
            executor
                .call(
                    &plain,
                    account.as_account_ref(),
                    "items",
                    "first",
                    &CallInput::new(),
                )
                .await
                .unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("under_load_cpu");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6));
    group.bench_function("raw_reqwest", |b| {
        b.iter_custom(|iters| {
            under_load(&rt, iters, || async {
                raw_page(&client, &base, None).await;
            })
        })
    });
    for (name, compiled) in [
        ("pipeline", &integration),
        ("pipeline_without_error_expression", &plain),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                under_load(&rt, iters, || async {
                    executor
                        .call(
                            compiled,
                            account.as_account_ref(),
                            "items",
                            "first",
                            &CallInput::new(),
                        )
                        .await
                        .unwrap();
                })
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("list_100_pages");
    group.sample_size(20);
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let mut cursor = None;
            let mut count = 0;
            loop {
                let (records, next) = raw_page(&client, &base, cursor).await;
                count += records.len();
                match next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            assert_eq!(count, 5000);
        })
    });
    group.bench_function("pipeline", |b| {
        b.to_async(&rt).iter(|| async {
            let stream = executor.list(
                &integration,
                &account,
                "items",
                "list",
                &CallInput::new(),
                ListOptions::default(),
            );
            let count = stream
                .fold(0usize, |n, r| async move { n + usize::from(r.is_ok()) })
                .await;
            assert_eq!(count, 5000);
        })
    });
    group.bench_function("pipeline_without_error_expression", |b| {
        b.to_async(&rt).iter(|| async {
            let stream = executor.list(
                &plain,
                &account,
                "items",
                "list",
                &CallInput::new(),
                ListOptions::default(),
            );
            let count = stream
                .fold(0usize, |n, r| async move { n + usize::from(r.is_ok()) })
                .await;
            assert_eq!(count, 5000);
        })
    });
    group.finish();
}

/// Requests kept in flight at once by `under_load_cpu`.
const CONCURRENT: u64 = 16;

/// The process CPU time of `iters` requests made by `request`, `CONCURRENT` at a time.
fn under_load<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, request: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = process_cpu();
    rt.block_on(async {
        futures_util::stream::iter(0..iters)
            .for_each_concurrent(CONCURRENT as usize, |_| request())
            .await;
    });
    process_cpu() - start
}

/// One page the way a hand-written client would fetch it.
async fn raw_page(
    client: &reqwest::Client,
    base: &str,
    cursor: Option<String>,
) -> (Vec<Value>, Option<String>) {
    let mut request = client.get(format!("{base}/items")).bearer_auth("bench-key");
    if let Some(cursor) = cursor {
        request = request.query(&[("cursor", cursor)]);
    }
    let mut body: Value = request
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = body["next"].as_str().map(str::to_owned);
    let Value::Array(records) = body["data"].take() else {
        panic!("no data")
    };
    (records, next)
}

criterion_group!(benches, bench);
criterion_main!(benches);
