//! Streams 1,000,000 records (1,000 pages of 1,000) through the pipeline and
//! reports peak RSS, next to the peak after fetching a single page, to show
//! that a list is held one page at a time. Then the same records again through
//! the server: `patchbay-server` in-process over SQLite (request logs on), a
//! client paging through `GET /proxy/items` by `next_cursor` until the end, peak
//! RSS after the first page and after the last (the peak is reset between the
//! two parts through `/proc/self/clear_refs`).
//!
//! `cargo bench -p patchbay-benches --bench list_memory` (Linux: reads
//! `/proc/self/status`). Set `PATCHBAY_BENCH_RECORDS` to change the count.

use std::time::Instant;

use futures_util::StreamExt;
use patchbay_benches::{Dataset, config, start_api};
use patchbay_config::{AuthenticationMethod, load_integration_config};
use patchbay_executor::{AccountData, CallInput, CompiledIntegration, Executor, ListOptions};
use serde_json::json;

#[allow(dead_code, reason = "each load bench uses part of it")]
mod load;

/// Starts the peak RSS (`VmHWM`) afresh from the current RSS; `false` where the kernel
/// does not allow it.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Pages through `/proxy/items` of a server over SQLite until the last page; checks
/// every record arrives once and in order, and reports peak RSS after the first page
/// and after the last.
async fn through_the_server(api: std::net::SocketAddr, records: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = patchbay_server::store::open_store(None, dir.path())
        .await
        .expect("SQLite store");
    let (base, token) =
        load::start_server(store, patchbay_server::request_logs::LogOptions::default()).await;
    let http = reqwest::Client::new();
    let server = (base.as_str(), token.as_str());
    let install = load::install(
        &http,
        server,
        "items",
        &config(&format!("http://{api}")),
        json!({}),
    )
    .await;
    let account = load::import_account(&http, server, &install, "memory", "bench-key").await;

    reset_peak_rss();
    let started = Instant::now();
    let (mut count, mut pages, mut cursor) = (0u64, 0u64, None::<String>);
    let mut after_one_page = None;
    loop {
        let mut query = vec![
            ("integrated_account_id", account.as_str()),
            ("limit", "1000"),
        ];
        if let Some(cursor) = &cursor {
            query.push(("next_cursor", cursor));
        }
        let response = http
            .get(format!("{base}/proxy/items"))
            .query(&query)
            .bearer_auth(&token)
            .send()
            .await
            .expect("proxy page");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        let page: serde_json::Value = response.json().await.expect("JSON page");
        let result = page["result"].as_array().expect("result");
        for record in result {
            assert_eq!(
                record["id"].as_u64(),
                Some(count),
                "records arrive once, in order"
            );
            count += 1;
        }
        pages += 1;
        if pages == 1 {
            after_one_page = peak_rss_kib();
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(count, records);
    let after_all = peak_rss_kib();
    println!(
        "list_memory (server): {count} records in {pages} proxy pages in {elapsed:.2?} ({:.0} records/s)",
        count as f64 / elapsed.as_secs_f64()
    );
    match (after_one_page, after_all) {
        (Some(one), Some(all)) => println!(
            "list_memory (server): peak RSS after one page {one} KiB, after {count} records {all} KiB (ratio {:.2})",
            all as f64 / one as f64
        ),
        _ => println!("list_memory (server): peak RSS unavailable (no /proc/self/status)"),
    }
}

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
        drop(stream);
        if !reset_peak_rss() {
            println!("list_memory: cannot reset the peak RSS (/proc/self/clear_refs): the server's figures include the pipeline's peak");
        }
        through_the_server(addr, records).await;
    });
}
