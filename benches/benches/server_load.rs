//! Load on the server's proxy list endpoint, next to the same request sent
//! straight to the simulated provider, in the same run.
//!
//! The provider simulator plays GitHub (`GET /user/repos`, link-header
//! pagination, bearer token). patchbay-server runs in-process on loopback over
//! a SQLite store in a temporary directory, with the GitHub catalog config
//! installed against the simulator and one account imported with the
//! simulator's static token. Then C concurrent clients (keep-alive, one
//! request in flight each) send, for a fixed time after a warm-up:
//!
//! - direct: `GET {simulator}/github/user/repos?sort=updated&per_page=N` with
//!   the headers the catalog config sends;
//! - proxy: `GET {server}/proxy/repos?integrated_account_id=...&limit=N`, which
//!   makes exactly that request upstream (checked before measuring), on a
//!   server as it ships (request logs on);
//! - proxy, logs off: the same on a second server, identical but for request
//!   logs (`PATCHBAY_REQUEST_LOGS=off`), so the cost of logging is a ratio
//!   measured in the same run.
//!
//! The sides alternate in rounds so drift on a shared machine hits all three.
//! Before each round and after the last, with no load running, one thread
//! samples the JSON baseline: the CPU of parsing one upstream page into an
//! order-preserving `serde_json::Value`, wrapping it as `{result, next_cursor}`
//! and serializing it again, the least work a proxy that answers JSON can do.
//! The server's CPU per proxied page is reported as a multiple of the samples'
//! median (sampling between the rounds keeps the machine's drift out of it).
//! Reported per side: ok requests/s, p50/p99/max latency (send to last body
//! byte), errors (transport errors and non-2xx), and CPU time per request by
//! component (clients, server incl. SQLite threads, simulator), read from
//! `/proc/self/task` (Linux), after letting the log writer flush what the round
//! queued. Everything runs in one process on separate Tokio
//! runtimes, so on a small machine the clients compete with the server for the
//! same cores: compare the two sides, not the absolute numbers.
//!
//! ```sh
//! cargo bench -p patchbay-benches --bench server_load              # ~25 s
//! cargo bench -p patchbay-benches --bench server_load -- --quick   # ~6 s smoke
//! PATCHBAY_LOAD_CLIENTS=64 PATCHBAY_LOAD_SECONDS=20 cargo bench -p patchbay-benches --bench server_load
//! ```
//!
//! Environment: `PATCHBAY_LOAD_CLIENTS` (default 32), `PATCHBAY_LOAD_SECONDS`
//! (measured seconds per side, default 8, quick 2), `PATCHBAY_LOAD_LIMIT`
//! (page size, default 50), `PATCHBAY_LOAD_AA=1` (request logs off on both servers: an
//! A/A control whose "logs on/off" ratio is the noise of the measurement). Writes a JSON summary to
//! `$CARGO_TARGET_DIR/server-load.json` (default `target/server-load.json`).
//! Exits non-zero when either side's error rate exceeds 1%.

use std::sync::Arc;
use std::time::{Duration, Instant};

use patchbay::simulator::{Provider, RunningSimulator};
use patchbay_server::request_logs::LogOptions;
use patchbay_server::store::open_store;
use serde_json::{Value, json};

#[allow(dead_code, reason = "each load bench uses part of it")]
mod load;
use load::{ROUNDS, Summary, Target, env_number};

/// CPU time the JSON baseline spends per sample (one before each round and one
/// after the last).
const BASELINE_CPU: Duration = Duration::from_millis(300);

struct Settings {
    clients: usize,
    /// Measured time per side (split over [`ROUNDS`]).
    seconds: f64,
    /// Warm-up per side, before the first round.
    warm_up: f64,
    limit: u64,
    quick: bool,
}

impl Settings {
    fn from_env() -> Self {
        // `cargo bench` passes `--bench`; other arguments are ignored.
        let quick = std::env::args().any(|a| a == "--quick");
        let seconds = env_number::<f64>("PATCHBAY_LOAD_SECONDS")
            .filter(|s| *s > 0.0)
            .unwrap_or(if quick { 2.0 } else { 8.0 });
        Settings {
            clients: env_number("PATCHBAY_LOAD_CLIENTS")
                .filter(|c| *c > 0)
                .unwrap_or(32),
            seconds,
            warm_up: if quick { 0.5 } else { 1.5 },
            limit: env_number("PATCHBAY_LOAD_LIMIT")
                .filter(|l| (1..=100).contains(l))
                .unwrap_or(50),
            quick,
        }
    }
}

/// CPU time of the calling thread so far; `None` without Linux's `/proc`.
fn thread_cpu() -> Option<Duration> {
    patchbay_benches::stat_cpu(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// CPU per page of the least a JSON proxy does with `page`: parse it into an
/// order-preserving `Value`, wrap it as `{result, next_cursor}`, serialize it.
/// Repeats in batches until this thread has spent [`BASELINE_CPU`] (of wall
/// time where `/proc` is missing).
fn json_baseline(page: &[u8]) -> Duration {
    const BATCH: u32 = 100;
    let once = || {
        let records: Value = serde_json::from_slice(page).expect("JSON page");
        let answer = json!({"result": records, "next_cursor": "eyJwYWdlIjoyfQ"});
        std::hint::black_box(serde_json::to_vec(&answer).expect("serializes"));
    };
    (0..BATCH).for_each(|_| once());
    let wall_start = Instant::now();
    let cpu_start = thread_cpu();
    let mut pages = 0u32;
    loop {
        (0..BATCH).for_each(|_| once());
        pages += BATCH;
        let spent = match (cpu_start, thread_cpu()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => wall_start.elapsed(),
        };
        if spent >= BASELINE_CPU {
            return spent / pages;
        }
    }
}

/// Sends one request of each side and checks both answer `limit` records and
/// that the proxy's upstream request is the direct one (path, query, headers).
async fn check_equivalence(
    http: &reqwest::Client,
    sim: &RunningSimulator,
    direct: &Target,
    proxy: &Target,
    limit: u64,
) {
    let direct_body = load::fetch_json(http, direct).await;
    let direct_seen = sim
        .stats()
        .log
        .last()
        .cloned()
        .expect("logged direct request");
    let proxy_body = load::fetch_json(http, proxy).await;
    let proxy_seen = sim
        .stats()
        .log
        .last()
        .cloned()
        .expect("logged upstream request");
    assert_eq!(
        direct_body.as_array().map(Vec::len),
        Some(limit as usize),
        "direct page size"
    );
    assert_eq!(
        proxy_body["result"].as_array().map(Vec::len),
        Some(limit as usize),
        "proxy page size"
    );
    assert_eq!(
        (&direct_seen.path, &direct_seen.query),
        (&proxy_seen.path, &proxy_seen.query),
        "the direct request differs from the proxy's upstream request"
    );
    let names = |r: &patchbay::simulator::LoggedRequest| {
        let mut names: Vec<String> = r.headers.iter().map(|(k, _)| k.clone()).collect();
        names.sort();
        names
    };
    if names(&direct_seen) != names(&proxy_seen) {
        println!(
            "note: header names differ; direct {:?}, proxy upstream {:?}",
            names(&direct_seen),
            names(&proxy_seen)
        );
    }
    for name in [
        "authorization",
        "accept",
        "user-agent",
        "x-github-api-version",
    ] {
        assert_eq!(
            direct_seen.header(name),
            proxy_seen.header(name),
            "header `{name}` differs between direct and proxy upstream"
        );
    }
    println!(
        "upstream request (both sides): GET {}?{}",
        proxy_seen.path,
        proxy_seen.query.as_deref().unwrap_or("")
    );
}

/// A server over a fresh SQLite store in `dir`, with the GitHub catalog config
/// installed against `sim` and one account of `pat`: (proxy URL, API token).
async fn github_server(
    http: &reqwest::Client,
    dir: &std::path::Path,
    logs: LogOptions,
    sim: &RunningSimulator,
    pat: &str,
    limit: u64,
) -> (String, String) {
    let store = open_store(None, dir).await.expect("SQLite store");
    let (base, token) = load::start_server(store, logs).await;
    let config = load::catalog("github");
    let server = (base.as_str(), token.as_str());
    let install = load::install(
        http,
        server,
        "github",
        &config,
        sim.catalog_override(Provider::Github, &config),
    )
    .await;
    let account = load::import_account(http, server, &install, "load", pat).await;
    (
        format!("{base}/proxy/repos?integrated_account_id={account}&limit={limit}"),
        token,
    )
}

fn main() {
    let settings = Settings::from_env();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let runtimes = load::Runtimes::new();
    let (server_rt, client_rt) = (&runtimes.server, &runtimes.client);
    let (sim, pat) = runtimes.github_simulator();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.clients * 2)
        .build()
        .expect("HTTP client");
    let limit = settings.limit;
    // Two servers, identical but for request logs: as shipped (on), and off.
    let dir = tempfile::tempdir().expect("temp dir");
    let quiet_dir = tempfile::tempdir().expect("temp dir");
    let logs_off = LogOptions {
        enabled: false,
        ..LogOptions::default()
    };
    // `PATCHBAY_LOAD_AA=1` turns the logs off on the first server too: an A/A run
    // whose on/off ratio shows the noise of the measurement itself.
    let logs_on = if std::env::var("PATCHBAY_LOAD_AA").is_ok_and(|v| v == "1") {
        println!("server_load: A/A control, request logs off on both servers");
        logs_off.clone()
    } else {
        LogOptions::default()
    };
    // Set up from the server's runtime (its tasks run there) with a client of its own
    // (connections belong to the runtime that opened them).
    let setup_http = reqwest::Client::new();
    let (proxy_url, token) = server_rt.block_on(github_server(
        &setup_http,
        dir.path(),
        logs_on,
        &sim,
        &pat,
        limit,
    ));
    let (quiet_url, quiet_token) = server_rt.block_on(github_server(
        &setup_http,
        quiet_dir.path(),
        logs_off,
        &sim,
        &pat,
        limit,
    ));
    drop(setup_http);

    let direct = Arc::new(load::github_direct(&sim, &pat, limit));
    let bearer = |token: &str| load::headers(&[("authorization", &format!("Bearer {token}"))]);
    let proxy = Arc::new(Target::new("proxy", proxy_url, bearer(&token)));
    let quiet_proxy = Arc::new(Target::new(
        "proxy, logs off",
        quiet_url,
        bearer(&quiet_token),
    ));

    client_rt.block_on(check_equivalence(&http, &sim, &direct, &proxy, limit));
    client_rt.block_on(check_equivalence(&http, &sim, &direct, &quiet_proxy, limit));
    let page = client_rt.block_on(load::fetch(&http, &direct));
    println!(
        "server_load: {} clients, {:.1} s per side ({ROUNDS} alternating rounds) after {:.1} s warm-up, page size {limit}, {cores} CPU(s){}",
        settings.clients,
        settings.seconds,
        settings.warm_up,
        if settings.quick { ", quick" } else { "" }
    );

    let mut baseline_samples: Vec<f64> = Vec::new();
    let summaries = client_rt.block_on(load::measure_between(
        &http,
        &[&direct, &proxy, &quiet_proxy],
        settings.clients,
        Duration::from_secs_f64(settings.warm_up),
        settings.seconds,
        || baseline_samples.push(json_baseline(&page).as_secs_f64() * 1e6),
    ));
    baseline_samples.sort_by(f64::total_cmp);
    let baseline_us = baseline_samples[baseline_samples.len() / 2];
    println!(
        "JSON baseline: {baseline_us:.1} µs of CPU per page, median of {} samples between the rounds ({:.1} to {:.1}; {} bytes: parse, wrap as {{result, next_cursor}}, serialize)",
        baseline_samples.len(),
        baseline_samples[0],
        baseline_samples[baseline_samples.len() - 1],
        page.len()
    );
    let [direct_summary, proxy_summary, quiet_summary]: [Summary; 3] = summaries
        .try_into()
        .unwrap_or_else(|_| unreachable!("one summary per side"));
    let rows = [
        (&*direct, &direct_summary),
        (&*proxy, &proxy_summary),
        (&*quiet_proxy, &quiet_summary),
    ];
    load::print_table(&rows);

    let throughput_ratio = proxy_summary.rps / direct_summary.rps;
    let p99_diff_us = proxy_summary.p99_us as i64 - direct_summary.p99_us as i64;
    let p50_diff_us = proxy_summary.p50_us as i64 - direct_summary.p50_us as i64;
    let logs_cpu_ratio =
        proxy_summary.server_cpu() / quiet_summary.server_cpu().max(f64::MIN_POSITIVE);
    let logs_throughput_ratio = proxy_summary.rps / quiet_summary.rps;
    println!(
        "proxy/direct throughput {throughput_ratio:.3}; p50 {:+.2} ms, p99 {:+.2} ms (proxy - direct), p99 ratio {:.2}",
        p50_diff_us as f64 / 1000.0,
        p99_diff_us as f64 / 1000.0,
        proxy_summary.p99_us as f64 / direct_summary.p99_us.max(1) as f64,
    );
    println!(
        "request logs: server CPU per request on/off {logs_cpu_ratio:.3}, throughput on/off {logs_throughput_ratio:.3}"
    );
    println!(
        "server CPU per proxied page / JSON baseline: {:.2} (logs on), {:.2} (logs off)",
        proxy_summary.server_cpu() / baseline_us,
        quiet_summary.server_cpu() / baseline_us,
    );

    load::write_summary(
        "server-load.json",
        &json!({
            "bench": "server_load",
            "provider": "github",
            "resource": "repos",
            "upstream": "GET /github/user/repos?sort=updated&per_page=<limit>",
            "clients": settings.clients,
            "seconds_per_side": settings.seconds,
            "warm_up_seconds": settings.warm_up,
            "rounds": ROUNDS,
            "limit": limit,
            "quick": settings.quick,
            "cpus": cores,
            "direct": direct_summary.json(),
            "proxy": proxy_summary.json(),
            "proxy_logs_off": quiet_summary.json(),
            "json_baseline_cpu_us_per_page": baseline_us,
            "ratios": {
                "throughput_proxy_over_direct": throughput_ratio,
                "p50_diff_us": p50_diff_us,
                "p99_diff_us": p99_diff_us,
                "p99_proxy_over_direct": proxy_summary.p99_us as f64 / direct_summary.p99_us.max(1) as f64,
                "server_cpu_logs_on_over_off": logs_cpu_ratio,
                "throughput_logs_on_over_off": logs_throughput_ratio,
                "server_cpu_over_json_baseline": proxy_summary.server_cpu() / baseline_us,
                "server_cpu_logs_off_over_json_baseline": quiet_summary.server_cpu() / baseline_us,
            },
        }),
    );

    let ok = load::error_rates_ok("server_load", &rows);
    drop(sim);
    drop(dir);
    drop(quiet_dir);
    if !ok {
        std::process::exit(1);
    }
}
