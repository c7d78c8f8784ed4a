//! Streams 1,000,000 records (1,000 pages of 1,000) through the pipeline and
//! reports peak RSS, next to the peak after fetching a single page, to show
//! that a list is held one page at a time.
//!
//! `cargo bench -p patchbay-benches --bench list_memory` (Linux: reads
//! `/proc/self/status`). Set `PATCHBAY_BENCH_RECORDS` to change the count.

use std::time::Instant;

use futures_util::StreamExt;
use patchbay_benches::{Dataset, config, start_api};
use patchbay_config::{AuthenticationMethod, load_integration_config};
use patchbay_executor::{AccountData, CallInput, CompiledIntegration, Executor, ListOptions};
use serde_json::json;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let records: u64 = std::env::var("PATCHBAY_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let addr = start_api(Dataset { records, page_size: 1000 }).await;
        let integration = CompiledIntegration::new(load_integration_config(&config(&format!("http://{addr}")).to_string()).unwrap()).unwrap();
        let account = AccountData {
            id: "bench".into(),
            authentication_method: AuthenticationMethod::ApiKey,
            context: json!({"api_key": "bench-key"}).as_object().unwrap().clone(),
        };
        let executor = Executor::default();

        let one = executor
            .list_page(&integration, account.as_account_ref(), "items", "list", &CallInput::new(), ListOptions::default())
            .await
            .unwrap();
        assert_eq!(one.records.len(), 1000);
        drop(one);
        let after_one_page = peak_rss_kib();

        let started = Instant::now();
        let mut stream = executor.list(&integration, &account, "items", "list", &CallInput::new(), ListOptions::default());
        let mut count = 0u64;
        while let Some(record) = stream.next().await {
            record.unwrap();
            count += 1;
        }
        let elapsed = started.elapsed();
        assert_eq!(count, records);
        let after_all = peak_rss_kib();
        println!("list_memory: streamed {count} records in {:.2?} ({:.0} records/s)", elapsed, count as f64 / elapsed.as_secs_f64());
        match (after_one_page, after_all) {
            (Some(one), Some(all)) => println!(
                "list_memory: peak RSS after one page {one} KiB, after {count} records {all} KiB (ratio {:.2})",
                all as f64 / one as f64
            ),
            _ => println!("list_memory: peak RSS unavailable (no /proc/self/status)"),
        }
    });
}
