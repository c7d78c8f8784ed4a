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
//! Beside them, a single thread measures the JSON baseline: the CPU of parsing
//! one upstream page into an order-preserving `serde_json::Value`, wrapping it
//! as `{result, next_cursor}` and serializing it again, the least work a proxy
//! that answers JSON can do. The server's CPU per proxied page is reported as
//! a multiple of it.
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
//! (page size, default 50). Writes a JSON summary to
//! `$CARGO_TARGET_DIR/server-load.json` (default `target/server-load.json`).
//! Exits non-zero when either side's error rate exceeds 1%.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchbay::simulator::{Credentials, Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay_server::AppState;
use patchbay_server::store::open_store;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// Largest error rate (errors / requests) either side may have.
const MAX_ERROR_RATE: f64 = 0.01;
/// The sides alternate this many times during the measurement.
const ROUNDS: u32 = 2;
/// Wait after a round before reading CPU times, for background writes to finish.
const SETTLE: Duration = Duration::from_millis(400);
/// CPU time the JSON baseline spends per measurement.
const BASELINE_CPU: Duration = Duration::from_millis(1500);

struct Settings {
    clients: usize,
    /// Measured time per side (split over [`ROUNDS`]).
    seconds: f64,
    /// Warm-up per side, before the first round.
    warm_up: f64,
    limit: u64,
    quick: bool,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let raw = std::env::var(name).ok()?;
    match raw.parse() {
        Ok(value) => Some(value),
        Err(_) => {
            eprintln!("server_load: ignoring {name}={raw:?} (not a number)");
            None
        }
    }
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

/// One side of the comparison: a URL and the headers to send.
struct Target {
    name: &'static str,
    url: String,
    headers: HeaderMap,
}

/// What the clients of one run saw.
#[derive(Default)]
struct Tally {
    /// Latency of every request (ok or not), microseconds.
    latencies_us: Vec<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    /// CPU seconds per component during the run.
    cpu: BTreeMap<&'static str, f64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.elapsed += other.elapsed;
        for (k, v) in other.cpu {
            *self.cpu.entry(k).or_default() += v;
        }
    }
}

/// One client: a request in flight at a time until `until`.
async fn client(http: reqwest::Client, target: Arc<Target>, until: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let started = Instant::now();
        let outcome = match http
            .get(&target.url)
            .headers(target.headers.clone())
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    )),
                    Err(e) => Err(format!("reading the body: {e}")),
                }
            }
            Err(e) => Err(format!("sending: {e}")),
        };
        tally
            .latencies_us
            .push(started.elapsed().as_micros().try_into().unwrap_or(u64::MAX));
        match outcome {
            Ok(()) => tally.ok += 1,
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    tally
}

/// `clients` concurrent clients against `target` for `duration`.
async fn run(
    http: &reqwest::Client,
    target: &Arc<Target>,
    clients: usize,
    duration: Duration,
) -> Tally {
    let cpu_before = cpu_by_component();
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client(http.clone(), target.clone(), until)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await.expect("client task"));
    }
    total.elapsed = started.elapsed();
    // The request-log writer flushes what the round queued within its flush interval
    // (200 ms): that CPU belongs to this round, not to the next side's.
    tokio::time::sleep(SETTLE).await;
    let cpu_after = cpu_by_component();
    total.cpu = cpu_after
        .iter()
        .map(|(k, after)| {
            (
                *k,
                (after - cpu_before.get(k).copied().unwrap_or(0.0)).max(0.0),
            )
        })
        .collect();
    total
}

/// CPU seconds (user + system) used so far by this process's threads,
/// grouped by thread name: `clients`, `server` (its runtime and SQLite
/// workers), `simulator`, `other`. Empty where `/proc` is missing.
fn cpu_by_component() -> BTreeMap<&'static str, f64> {
    // Linux reports in clock ticks; USER_HZ is 100 on every mainstream build.
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut cpu = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return cpu;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<f64>().ok()))
            .sum();
        let component = match comm.trim() {
            c if c.starts_with("load-client") => "clients",
            c if c.starts_with("load-server") || c.starts_with("sqlx") => "server",
            c if c.starts_with("load-sim") => "simulator",
            _ => "other",
        };
        *cpu.entry(component).or_default() += ticks / TICKS_PER_SECOND;
    }
    cpu
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The numbers reported for one side.
struct Summary {
    requests: u64,
    ok: u64,
    errors: u64,
    rps: f64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    seconds: f64,
    /// CPU microseconds per request, by component.
    cpu_us_per_request: BTreeMap<&'static str, f64>,
    first_error: Option<String>,
}

impl Summary {
    fn of(mut tally: Tally) -> Self {
        tally.latencies_us.sort_unstable();
        let requests = tally.ok + tally.errors;
        let seconds = tally.elapsed.as_secs_f64();
        let per_request = |cpu: f64| {
            if requests == 0 {
                0.0
            } else {
                cpu * 1e6 / requests as f64
            }
        };
        Summary {
            requests,
            ok: tally.ok,
            errors: tally.errors,
            rps: tally.ok as f64 / seconds,
            p50_us: percentile(&tally.latencies_us, 50.0),
            p90_us: percentile(&tally.latencies_us, 90.0),
            p99_us: percentile(&tally.latencies_us, 99.0),
            max_us: tally.latencies_us.last().copied().unwrap_or(0),
            seconds,
            cpu_us_per_request: tally
                .cpu
                .iter()
                .map(|(k, v)| (*k, per_request(*v)))
                .collect(),
            first_error: tally.first_error,
        }
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            1.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "error_rate": self.error_rate(),
            "seconds": self.seconds,
            "requests_per_second": self.rps,
            "latency_us": {"p50": self.p50_us, "p90": self.p90_us, "p99": self.p99_us, "max": self.max_us},
            "cpu_us_per_request": self.cpu_us_per_request,
            "first_error": self.first_error,
        })
    }
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn runtime(name: &str, threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn catalog(slug: &str) -> Value {
    let path = format!(
        "{}/../examples/catalog/{slug}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("catalog file"))
        .expect("catalog JSON")
}

/// `target/` of this build: `$CARGO_TARGET_DIR`, else three levels above
/// the bench executable (`target/release/deps/server_load-*`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
}

/// Sends one admin API request; panics unless it answers `201`.
async fn api_create(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: Value,
) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON answer");
    assert_eq!(status.as_u16(), 201, "POST {path}: {answer}");
    answer
}

/// The server side: store, bootstrap token, listener. Returns (base URL, API token).
async fn start_server(
    dir: &std::path::Path,
    logs: patchbay_server::request_logs::LogOptions,
) -> (String, String) {
    let store = open_store(None, dir).await.expect("SQLite store");
    let bootstrap = store
        .bootstrap()
        .await
        .expect("bootstrap")
        .expect("fresh store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    tokio::spawn(patchbay_server::serve_with(
        listener,
        AppState::with_logs(
            store,
            patchbay::egress::DestinationPolicy::from_allow_list("loopback").expect("valid"),
            logs,
        ),
        patchbay_server::ServeOptions::default(),
    ));
    (base, bootstrap.token.plaintext.expose().to_owned())
}

/// Creates the GitHub integration, installs it against `sim` and imports an
/// account with the simulator's static token. Returns the account id.
async fn set_up_account(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sim: &RunningSimulator,
    pat: &str,
) -> String {
    let config = catalog("github");
    let integration = api_create(
        http,
        base,
        token,
        "/integration",
        json!({"name": "github", "config": config}),
    )
    .await;
    let install = api_create(
        http,
        base,
        token,
        "/environment-integration",
        json!({"integration_id": integration["id"], "override": sim.catalog_override(Provider::Github, &config)}),
    )
    .await;
    let account = api_create(
        http,
        base,
        token,
        "/integrated-account",
        json!({
            "tenant_id": "load",
            "environment_integration_id": install["id"],
            "authentication_method": "api_key",
            "context": {"api_key": pat},
        }),
    )
    .await;
    account["id"].as_str().expect("account id").to_owned()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            )
        })
        .collect()
}

/// One request of `t`, which must answer 2xx with JSON.
async fn fetch_json(http: &reqwest::Client, t: &Target) -> Value {
    let response = http
        .get(&t.url)
        .headers(t.headers.clone())
        .send()
        .await
        .expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "{}: HTTP {status}: {text}", t.url);
    serde_json::from_str(&text).expect("JSON body")
}

/// The body of one request of `t` (2xx), as sent.
async fn fetch_page(http: &reqwest::Client, t: &Target) -> Vec<u8> {
    let response = http
        .get(&t.url)
        .headers(t.headers.clone())
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "{}: HTTP {}",
        t.url,
        response.status()
    );
    response.bytes().await.expect("body").to_vec()
}

/// CPU time of the calling thread so far; `None` without Linux's `/proc`.
fn thread_cpu() -> Option<Duration> {
    // Clock ticks (USER_HZ, 100 per second) of utime + stime, fields 14 and 15.
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Some(Duration::from_millis(ticks * 10))
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
    let direct_body = fetch_json(http, direct).await;
    let direct_seen = sim
        .stats()
        .log
        .last()
        .cloned()
        .expect("logged direct request");
    let proxy_body = fetch_json(http, proxy).await;
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

fn main() {
    let settings = Settings::from_env();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    // Three runtimes, as if three processes: the provider, the server, the load.
    let sim_rt = runtime("load-sim", 2);
    let server_rt = runtime("load-server", 2);
    let client_rt = runtime("load-client", 2);

    let pat = Credentials::default_for(Provider::Github).static_tokens[0].clone();
    let sim = sim_rt
        .block_on(
            Simulator::builder()
                .setup(ProviderSetup::new(Provider::Github).records(1000))
                .request_log_capacity(16)
                .start(),
        )
        .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let quiet_dir = tempfile::tempdir().expect("temp dir");
    let logs_on = patchbay_server::request_logs::LogOptions::default();
    let logs_off = patchbay_server::request_logs::LogOptions {
        enabled: false,
        ..logs_on.clone()
    };
    let (base, api_token) = server_rt.block_on(start_server(dir.path(), logs_on));
    let (quiet_base, quiet_token) = server_rt.block_on(start_server(quiet_dir.path(), logs_off));

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.clients * 2)
        .build()
        .expect("HTTP client");
    let limit = settings.limit;
    let account_id = client_rt.block_on(set_up_account(&http, &base, &api_token, &sim, &pat));
    let quiet_account_id =
        client_rt.block_on(set_up_account(&http, &quiet_base, &quiet_token, &sim, &pat));

    let config = catalog("github");
    let mut direct_headers: Vec<(&str, String)> = config["headers"]
        .as_object()
        .expect("catalog headers")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().expect("string header").to_owned()))
        .collect();
    direct_headers.push(("authorization", format!("Bearer {pat}")));
    let direct = Arc::new(Target {
        name: "direct",
        url: format!(
            "{}/user/repos?sort=updated&per_page={limit}",
            sim.api_base_url(Provider::Github)
        ),
        headers: headers(
            &direct_headers
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        ),
    });
    let proxy = Arc::new(Target {
        name: "proxy",
        url: format!("{base}/proxy/repos?integrated_account_id={account_id}&limit={limit}"),
        headers: headers(&[("authorization", &format!("Bearer {api_token}"))]),
    });

    let quiet_proxy = Arc::new(Target {
        name: "proxy, logs off",
        url: format!(
            "{quiet_base}/proxy/repos?integrated_account_id={quiet_account_id}&limit={limit}"
        ),
        headers: headers(&[("authorization", &format!("Bearer {quiet_token}"))]),
    });

    client_rt.block_on(check_equivalence(&http, &sim, &direct, &proxy, limit));
    client_rt.block_on(check_equivalence(&http, &sim, &direct, &quiet_proxy, limit));
    let page = client_rt.block_on(fetch_page(&http, &direct));
    let baseline = json_baseline(&page);
    println!(
        "JSON baseline: {:.1} µs of CPU per page ({} bytes: parse, wrap as {{result, next_cursor}}, serialize)",
        baseline.as_secs_f64() * 1e6,
        page.len()
    );
    println!(
        "server_load: {} clients, {:.1} s per side ({ROUNDS} alternating rounds) after {:.1} s warm-up, page size {limit}, {cores} CPU(s){}",
        settings.clients,
        settings.seconds,
        settings.warm_up,
        if settings.quick { ", quick" } else { "" }
    );

    let sides = [&direct, &proxy, &quiet_proxy];
    let tallies = client_rt.block_on(async {
        let warm = Duration::from_secs_f64(settings.warm_up);
        for target in sides {
            run(&http, target, settings.clients, warm).await;
        }
        let slice = Duration::from_secs_f64(settings.seconds / f64::from(ROUNDS));
        let mut tallies: Vec<Tally> = sides.iter().map(|_| Tally::default()).collect();
        for _ in 0..ROUNDS {
            for (target, tally) in sides.iter().zip(&mut tallies) {
                tally.merge(run(&http, target, settings.clients, slice).await);
            }
        }
        tallies
    });
    let [direct_summary, proxy_summary, quiet_summary] = tallies
        .into_iter()
        .map(Summary::of)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap_or_else(|_| unreachable!("one tally per side"));
    let server_cpu = |s: &Summary| s.cpu_us_per_request.get("server").copied().unwrap_or(0.0);
    let baseline_us = baseline.as_secs_f64() * 1e6;
    let logs_cpu_ratio =
        server_cpu(&proxy_summary) / server_cpu(&quiet_summary).max(f64::MIN_POSITIVE);
    let logs_throughput_ratio = proxy_summary.rps / quiet_summary.rps;

    let throughput_ratio = proxy_summary.rps / direct_summary.rps;
    let p99_diff_us = proxy_summary.p99_us as i64 - direct_summary.p99_us as i64;
    let p50_diff_us = proxy_summary.p50_us as i64 - direct_summary.p50_us as i64;

    println!();
    println!(
        "| {:<7} | {:>7} | {:>9} | {:>9} | {:>9} | {:>9} | {:>6} | {:>28} |",
        "side", "req/s", "p50", "p90", "p99", "max", "errors", "CPU µs/req client/server/sim"
    );
    println!("|{}|", ["-"; 8].map(|_| "---").join("|"));
    for (target, s) in [
        (&direct, &direct_summary),
        (&proxy, &proxy_summary),
        (&quiet_proxy, &quiet_summary),
    ] {
        let cpu = |k: &str| s.cpu_us_per_request.get(k).copied().unwrap_or(0.0);
        println!(
            "| {:<7} | {:>7.0} | {:>9} | {:>9} | {:>9} | {:>9} | {:>6} | {:>28} |",
            target.name,
            s.rps,
            ms(s.p50_us),
            ms(s.p90_us),
            ms(s.p99_us),
            ms(s.max_us),
            s.errors,
            format!(
                "{:.0} / {:.0} / {:.0}",
                cpu("clients"),
                cpu("server"),
                cpu("simulator")
            ),
        );
    }
    println!();
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
        server_cpu(&proxy_summary) / baseline_us,
        server_cpu(&quiet_summary) / baseline_us,
    );

    let summary = json!({
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
            "server_cpu_logs_on_over_off": logs_cpu_ratio,
            "throughput_logs_on_over_off": logs_throughput_ratio,
            "server_cpu_over_json_baseline": server_cpu(&proxy_summary) / baseline_us,
            "server_cpu_logs_off_over_json_baseline": server_cpu(&quiet_summary) / baseline_us,
            "throughput_proxy_over_direct": throughput_ratio,
            "p50_diff_us": p50_diff_us,
            "p99_diff_us": p99_diff_us,
            "p99_proxy_over_direct": proxy_summary.p99_us as f64 / direct_summary.p99_us.max(1) as f64,
        },
    });
    let out = target_dir().join("server-load.json");
    match std::fs::create_dir_all(target_dir())
        .and_then(|()| std::fs::write(&out, serde_json::to_string_pretty(&summary).expect("JSON")))
    {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => eprintln!("server_load: could not write {}: {e}", out.display()),
    }

    let mut failed = false;
    for (target, s) in [
        (&direct, &direct_summary),
        (&proxy, &proxy_summary),
        (&quiet_proxy, &quiet_summary),
    ] {
        if s.error_rate() > MAX_ERROR_RATE {
            failed = true;
            eprintln!(
                "server_load: FAILED: {} error rate {:.2}% ({} of {}) exceeds {:.0}%; first error: {}",
                target.name,
                s.error_rate() * 100.0,
                s.errors,
                s.requests,
                MAX_ERROR_RATE * 100.0,
                s.first_error.as_deref().unwrap_or("none")
            );
        }
    }
    drop(sim);
    drop(dir);
    drop(quiet_dir);
    if failed {
        std::process::exit(1);
    }
}
