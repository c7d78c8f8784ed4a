//! What the load benches share: sides of a comparison, concurrent keep-alive
//! clients, CPU time by component from `/proc/self/task`, summaries and the
//! table they print, and an in-process server to put load on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use patchbay::simulator::{Credentials, Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay_server::AppState;
use patchbay_server::request_logs::LogOptions;
use patchbay_server::store::Store;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// Largest error rate (errors / requests) a side may have.
pub const MAX_ERROR_RATE: f64 = 0.01;
/// The sides alternate this many times during the measurement.
pub const ROUNDS: u32 = 4;
/// Wait after a round before reading CPU times, for background writes to finish.
const SETTLE: Duration = Duration::from_millis(400);

/// `name` from the environment as a number; unset or unreadable (said on stderr) is `None`.
pub fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let raw = std::env::var(name).ok()?;
    match raw.parse() {
        Ok(value) => Some(value),
        Err(_) => {
            eprintln!("load: ignoring {name}={raw:?} (not a number)");
            None
        }
    }
}

/// One side of the comparison: the URLs to spread requests over (one or many, e.g. one
/// per account) and the headers to send.
pub struct Target {
    /// The side's name in the table.
    pub name: &'static str,
    /// Requests go to these in turn, each client starting at its own place.
    pub urls: Vec<String>,
    /// Sent with every request.
    pub headers: HeaderMap,
}

impl Target {
    /// A side that sends every request to `url`.
    pub fn new(name: &'static str, url: String, headers: HeaderMap) -> Self {
        Self::spread(name, vec![url], headers)
    }

    /// A side that spreads its requests over `urls`.
    pub fn spread(name: &'static str, urls: Vec<String>, headers: HeaderMap) -> Self {
        assert!(!urls.is_empty(), "a side needs a URL");
        Self {
            name,
            urls,
            headers,
        }
    }

    /// The first URL.
    pub fn url(&self) -> &str {
        &self.urls[0]
    }
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

/// SplitMix64 of `n`: consecutive requests land on URLs spread at random (and the same
/// in every run), so a side with many accounts has no hot row.
fn scatter(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One client: a request in flight at a time until `until`.
async fn client(
    http: reqwest::Client,
    target: Arc<Target>,
    until: Instant,
    next_url: Arc<AtomicUsize>,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let n = next_url.fetch_add(1, Ordering::Relaxed);
        let url = &target.urls[scatter(n as u64) as usize % target.urls.len()];
        let started = Instant::now();
        let outcome = match http.get(url).headers(target.headers.clone()).send().await {
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
    let next_url = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            tokio::spawn(client(
                http.clone(),
                target.clone(),
                until,
                next_url.clone(),
            ))
        })
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
        let Some(used) = patchbay_benches::stat_cpu(&stat) else {
            continue;
        };
        let component = match comm.trim() {
            c if c.starts_with("load-client") => "clients",
            c if c.starts_with("load-server") || c.starts_with("sqlx") => "server",
            c if c.starts_with("load-sim") => "simulator",
            _ => "other",
        };
        *cpu.entry(component).or_default() += used.as_secs_f64();
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

/// Warms every side up for `warm_up`, then runs them in turn [`ROUNDS`] times (in
/// reverse order every other round), `seconds` per side in all, with `clients`
/// concurrent clients; one summary per side, in the order of `sides`.
pub async fn measure(
    http: &reqwest::Client,
    sides: &[&Arc<Target>],
    clients: usize,
    warm_up: Duration,
    seconds: f64,
) -> Vec<Summary> {
    measure_between(http, sides, clients, warm_up, seconds, || {}).await
}

/// As [`measure`], calling `between` before each round and after the last (with no
/// load running), e.g. to sample a baseline in the same conditions as the rounds.
pub async fn measure_between(
    http: &reqwest::Client,
    sides: &[&Arc<Target>],
    clients: usize,
    warm_up: Duration,
    seconds: f64,
    mut between: impl FnMut(),
) -> Vec<Summary> {
    for side in sides {
        run(http, side, clients, warm_up).await;
    }
    let slice = Duration::from_secs_f64(seconds / f64::from(ROUNDS));
    let mut tallies: Vec<Tally> = sides.iter().map(|_| Tally::default()).collect();
    for round in 0..ROUNDS {
        // A B C, then C B A: each side runs as often first as last, so what a side
        // leaves behind (or a drift of the machine) does not favour one of them.
        let mut order: Vec<usize> = (0..sides.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        between();
        for n in order {
            tallies[n].merge(run(http, sides[n], clients, slice).await);
        }
    }
    between();
    tallies.into_iter().map(Summary::of).collect()
}

/// The numbers reported for one side.
pub struct Summary {
    /// Requests sent (ok or not).
    pub requests: u64,
    ok: u64,
    /// Transport errors and non-2xx answers.
    pub errors: u64,
    /// Ok requests per second.
    pub rps: f64,
    /// Latency percentiles and maximum, microseconds.
    pub p50_us: u64,
    p90_us: u64,
    /// See `p50_us`.
    pub p99_us: u64,
    max_us: u64,
    seconds: f64,
    /// CPU microseconds per request, by component.
    pub cpu_us_per_request: BTreeMap<&'static str, f64>,
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

    /// The server's CPU microseconds per request (runtime and database threads).
    pub fn server_cpu(&self) -> f64 {
        self.cpu_us_per_request
            .get("server")
            .copied()
            .unwrap_or(0.0)
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            1.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    /// The summary as the JSON report has it.
    pub fn json(&self) -> Value {
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

/// Prints one table row per side: throughput, latencies, errors, CPU by component.
pub fn print_table(rows: &[(&Target, &Summary)]) {
    println!();
    println!(
        "| {:<18} | {:>7} | {:>9} | {:>9} | {:>9} | {:>9} | {:>6} | {:>28} |",
        "side", "req/s", "p50", "p90", "p99", "max", "errors", "CPU µs/req client/server/sim"
    );
    println!("|{}|", ["-"; 8].map(|_| "---").join("|"));
    for (target, s) in rows {
        let cpu = |k: &str| s.cpu_us_per_request.get(k).copied().unwrap_or(0.0);
        println!(
            "| {:<18} | {:>7.0} | {:>9} | {:>9} | {:>9} | {:>9} | {:>6} | {:>28} |",
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
}

/// Whether every side's error rate is within [`MAX_ERROR_RATE`]; says which is not.
pub fn error_rates_ok(bench: &str, rows: &[(&Target, &Summary)]) -> bool {
    let mut ok = true;
    for (target, s) in rows {
        if s.error_rate() > MAX_ERROR_RATE {
            ok = false;
            eprintln!(
                "{bench}: FAILED: {} error rate {:.2}% ({} of {}) exceeds {:.0}%; first error: {}",
                target.name,
                s.error_rate() * 100.0,
                s.errors,
                s.requests,
                MAX_ERROR_RATE * 100.0,
                s.first_error.as_deref().unwrap_or("none")
            );
        }
    }
    ok
}

/// Three runtimes, as if three processes: the provider, the server, the load. Their
/// thread names (`load-sim`, `load-server`, `load-client`) group the CPU accounting.
pub struct Runtimes {
    /// Runs the provider simulator.
    pub sim: Runtime,
    /// Runs the servers under test.
    pub server: Runtime,
    /// Runs the load clients.
    pub client: Runtime,
}

impl Runtimes {
    /// Two worker threads each.
    pub fn new() -> Self {
        Self {
            sim: runtime("load-sim", 2),
            server: runtime("load-server", 2),
            client: runtime("load-client", 2),
        }
    }

    /// The simulator playing GitHub with 1,000 repos, on the simulator's runtime, and
    /// the static token it accepts.
    pub fn github_simulator(&self) -> (RunningSimulator, String) {
        let pat = Credentials::default_for(Provider::Github).static_tokens[0].clone();
        let sim = self
            .sim
            .block_on(
                Simulator::builder()
                    .setup(ProviderSetup::new(Provider::Github).records(1000))
                    .request_log_capacity(16)
                    .start(),
            )
            .expect("simulator starts");
        (sim, pat)
    }
}

/// A multi-threaded runtime whose threads are named `name-…` (the CPU accounting groups
/// threads by name).
pub fn runtime(name: &str, threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The bundled catalog config `examples/catalog/{slug}.json`.
pub fn catalog(slug: &str) -> Value {
    let path = format!(
        "{}/../examples/catalog/{slug}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("catalog file"))
        .expect("catalog JSON")
}

/// Writes `summary` as `$CARGO_TARGET_DIR/{file}` (default `target/{file}`).
pub fn write_summary(file: &str, summary: &Value) {
    let dir = target_dir();
    let out = dir.join(file);
    match std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&out, serde_json::to_string_pretty(summary).expect("JSON")))
    {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
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
pub async fn api_create(
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

/// A server on loopback over `store` (bootstrapped here), calling loopback providers.
/// Returns (base URL, API token).
pub async fn start_server(store: Arc<Store>, logs: LogOptions) -> (String, String) {
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

/// Creates an integration `name` with `config` and installs it with `override`;
/// answers the install's id.
pub async fn install(
    http: &reqwest::Client,
    (base, token): (&str, &str),
    name: &str,
    config: &Value,
    install_override: Value,
) -> String {
    let integration = api_create(
        http,
        base,
        token,
        "/integration",
        json!({"name": name, "config": config}),
    )
    .await;
    let install = api_create(
        http,
        base,
        token,
        "/environment-integration",
        json!({"integration_id": integration["id"], "override": install_override}),
    )
    .await;
    install["id"].as_str().expect("install id").to_owned()
}

/// Imports an API-key account of `install` for `tenant`; answers its id.
pub async fn import_account(
    http: &reqwest::Client,
    (base, token): (&str, &str),
    install: &str,
    tenant: &str,
    api_key: &str,
) -> String {
    let account = api_create(
        http,
        base,
        token,
        "/integrated-account",
        json!({
            "tenant_id": tenant,
            "environment_integration_id": install,
            "authentication_method": "api_key",
            "context": {"api_key": api_key},
        }),
    )
    .await;
    account["id"].as_str().expect("account id").to_owned()
}

/// The direct side: `GET /user/repos?sort=updated&per_page={limit}` on the simulated
/// GitHub with the catalog config's headers and the token `pat`, the request the proxy
/// makes upstream.
pub fn github_direct(sim: &RunningSimulator, pat: &str, limit: u64) -> Target {
    let config = catalog("github");
    let mut pairs: Vec<(&str, String)> = config["headers"]
        .as_object()
        .expect("catalog headers")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().expect("string header").to_owned()))
        .collect();
    pairs.push(("authorization", format!("Bearer {pat}")));
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Target::new(
        "direct",
        format!(
            "{}/user/repos?sort=updated&per_page={limit}",
            sim.api_base_url(Provider::Github)
        ),
        headers(&borrowed),
    )
}

/// Header map of `pairs`.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
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

/// The body of one request to `t`'s first URL, which must answer 2xx.
pub async fn fetch(http: &reqwest::Client, t: &Target) -> Vec<u8> {
    let response = http
        .get(t.url())
        .headers(t.headers.clone())
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body = response.bytes().await.expect("body");
    assert!(
        status.is_success(),
        "{}: HTTP {status}: {}",
        t.url(),
        String::from_utf8_lossy(&body)
    );
    body.to_vec()
}

/// [`fetch`] as JSON.
pub async fn fetch_json(http: &reqwest::Client, t: &Target) -> Value {
    serde_json::from_slice(&fetch(http, t).await).expect("JSON body")
}
