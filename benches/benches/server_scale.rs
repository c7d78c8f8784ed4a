//! The server's proxy at scale: many accounts over many installs, hit at
//! random, on the embedded SQLite store and on PostgreSQL side by side.
//!
//! The provider simulator plays GitHub. Two servers run in-process on
//! loopback, one over SQLite in a temporary directory, one over a fresh
//! PostgreSQL database (created for the run, dropped after), both as shipped
//! (request logs on). Each gets the same set-up through its API: `I`
//! integrations (the GitHub catalog config under `github-00`, `github-01`, …),
//! each installed against the simulator, and `A` accounts spread evenly over
//! the installs. Then C concurrent clients (keep-alive, one request in flight
//! each) send `GET /proxy/repos?integrated_account_id=<random>&limit=50`, the
//! account drawn at random from all `A` for every request, so no row is hot;
//! the three sides (the simulator directly, SQLite, PostgreSQL) alternate in
//! rounds. Reported per side: requests/s, p50/p90/p99/max latency, errors
//! (a pool running dry shows here, as 5xx or timeouts), and CPU per request by
//! component (the PostgreSQL server's own processes are not in it: they run
//! outside this process).
//!
//! ```sh
//! cargo bench -p patchbay-benches --bench server_scale             # 10,000 accounts, 50 installs, 64 clients
//! cargo bench -p patchbay-benches --bench server_scale -- --quick  # 500 accounts, 10 installs, 2 s per side
//! ```
//!
//! Environment: `PATCHBAY_SCALE_ACCOUNTS` (default 10,000), `PATCHBAY_SCALE_INSTALLS`
//! (default 50), `PATCHBAY_LOAD_CLIENTS` (default 64), `PATCHBAY_LOAD_SECONDS`
//! (measured seconds per side, default 8), `PATCHBAY_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; when unreachable only SQLite is
//! measured, and the bench says so). Writes `$CARGO_TARGET_DIR/server-scale.json`.
//! Exits non-zero when a side's error rate exceeds 1%.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use patchbay::simulator::{Provider, RunningSimulator};
use patchbay_server::request_logs::LogOptions;
use patchbay_server::store::open_store;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

#[allow(dead_code, reason = "each load bench uses part of it")]
mod load;
use load::{ROUNDS, Summary, Target, env_number};

/// Where PostgreSQL is unless `PATCHBAY_BENCH_POSTGRES_URL` says otherwise.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Accounts imported at once during the set-up.
const SETUP_CONCURRENCY: usize = 32;
/// Records per page, as the simulator's GitHub serves them.
const LIMIT: u64 = 50;

struct Settings {
    accounts: usize,
    installs: usize,
    clients: usize,
    seconds: f64,
    warm_up: f64,
    quick: bool,
}

impl Settings {
    fn from_env() -> Self {
        let quick = std::env::args().any(|a| a == "--quick");
        Settings {
            accounts: env_number("PATCHBAY_SCALE_ACCOUNTS")
                .filter(|n| *n > 0)
                .unwrap_or(if quick { 500 } else { 10_000 }),
            installs: env_number("PATCHBAY_SCALE_INSTALLS")
                .filter(|n| *n > 0)
                .unwrap_or(if quick { 10 } else { 50 }),
            clients: env_number("PATCHBAY_LOAD_CLIENTS")
                .filter(|n| *n > 0)
                .unwrap_or(64),
            seconds: env_number::<f64>("PATCHBAY_LOAD_SECONDS")
                .filter(|s| *s > 0.0)
                .unwrap_or(if quick { 2.0 } else { 8.0 }),
            warm_up: if quick { 0.5 } else { 2.0 },
            quick,
        }
    }
}

/// A PostgreSQL database of the run's own, dropped by [`Database::drop_database`].
struct Database {
    admin: PgConnectOptions,
    name: String,
    url: String,
}

impl Database {
    /// Creates `patchbay_scale_<random>`; `Err` says why PostgreSQL cannot be used.
    async fn create() -> Result<Self, String> {
        let admin_url = std::env::var("PATCHBAY_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let admin = PgConnectOptions::from_str(&admin_url)
            .map_err(|e| format!("PATCHBAY_BENCH_POSTGRES_URL `{admin_url}`: {e}"))?;
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .map_err(|e| format!("PostgreSQL at {admin_url} is unreachable ({e})"))?;
        let name = format!("patchbay_scale_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("CREATE DATABASE on {admin_url}: {e}"))?;
        let url = admin.clone().database(&name).to_url_lossy().to_string();
        Ok(Self { admin, name, url })
    }

    async fn drop_database(&self) {
        let dropped = async {
            let mut conn = PgConnection::connect_with(&self.admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await
        };
        if let Err(e) = dropped.await {
            eprintln!("server_scale: could not drop database {}: {e}", self.name);
        }
    }
}

/// A server over the store at `database_url` (SQLite in `dir` when `None`) with
/// `settings.installs` GitHub installs against `sim` and `settings.accounts` accounts
/// spread over them: one proxy URL per account, and the API token.
async fn scaled_server(
    settings: &Settings,
    database_url: Option<&str>,
    dir: &std::path::Path,
    sim: &RunningSimulator,
    pat: &str,
) -> (Vec<String>, String) {
    let http = reqwest::Client::new();
    let store = open_store(database_url, dir).await.expect("store");
    let (base, token) = load::start_server(store, LogOptions::default()).await;
    let server = (base.as_str(), token.as_str());
    let config = load::catalog("github");
    let mut installs = Vec::with_capacity(settings.installs);
    for n in 0..settings.installs {
        let name = format!("github-{n:02}");
        let install_override = sim.catalog_override(Provider::Github, &config);
        installs.push(load::install(&http, server, &name, &config, install_override).await);
    }
    let accounts: Vec<String> = stream::iter(0..settings.accounts)
        .map(|n| {
            let (http, installs) = (&http, &installs);
            async move {
                let tenant = format!("tenant-{n}");
                load::import_account(http, server, &installs[n % installs.len()], &tenant, pat)
                    .await
            }
        })
        .buffered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let urls = accounts
        .iter()
        .map(|id| format!("{base}/proxy/repos?integrated_account_id={id}&limit={LIMIT}"))
        .collect();
    (urls, token)
}

fn main() {
    let settings = Settings::from_env();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let runtimes = load::Runtimes::new();
    let (server_rt, client_rt) = (&runtimes.server, &runtimes.client);
    let (sim, pat) = runtimes.github_simulator();

    let database = server_rt.block_on(Database::create());
    if let Err(why) = &database {
        println!("server_scale: measuring SQLite only: {why}");
    }
    let sqlite_dir = tempfile::tempdir().expect("temp dir");
    let postgres_dir = tempfile::tempdir().expect("temp dir");
    let setup_started = Instant::now();
    let (sqlite_urls, sqlite_token) = server_rt.block_on(scaled_server(
        &settings,
        None,
        sqlite_dir.path(),
        &sim,
        &pat,
    ));
    let postgres = database.as_ref().ok().map(|db| {
        server_rt.block_on(scaled_server(
            &settings,
            Some(&db.url),
            postgres_dir.path(),
            &sim,
            &pat,
        ))
    });
    println!(
        "server_scale: set up {} accounts over {} installs per store in {:.1} s",
        settings.accounts,
        settings.installs,
        setup_started.elapsed().as_secs_f64()
    );

    let direct = Arc::new(load::github_direct(&sim, &pat, LIMIT));
    let bearer = |token: &str| load::headers(&[("authorization", &format!("Bearer {token}"))]);
    let mut sides = vec![
        direct.clone(),
        Arc::new(Target::spread(
            "proxy, SQLite",
            sqlite_urls,
            bearer(&sqlite_token),
        )),
    ];
    if let Some((urls, token)) = postgres {
        sides.push(Arc::new(Target::spread(
            "proxy, PostgreSQL",
            urls,
            bearer(&token),
        )));
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.clients * 2)
        .build()
        .expect("HTTP client");
    // Every side answers before the clock starts.
    for side in &sides {
        client_rt.block_on(load::fetch_json(&http, side));
    }
    println!(
        "server_scale: {} clients, {:.1} s per side ({ROUNDS} alternating rounds) after {:.1} s warm-up, {cores} CPU(s){}",
        settings.clients,
        settings.seconds,
        settings.warm_up,
        if settings.quick { ", quick" } else { "" }
    );
    let summaries: Vec<Summary> = client_rt.block_on(load::measure(
        &http,
        &sides.iter().collect::<Vec<_>>(),
        settings.clients,
        Duration::from_secs_f64(settings.warm_up),
        settings.seconds,
    ));
    let rows: Vec<(&Target, &Summary)> = sides.iter().map(|s| &**s).zip(&summaries).collect();
    load::print_table(&rows);

    let side_json = |n: usize| summaries.get(n).map_or(Value::Null, Summary::json);
    load::write_summary(
        "server-scale.json",
        &json!({
            "bench": "server_scale",
            "accounts": settings.accounts,
            "installs": settings.installs,
            "clients": settings.clients,
            "seconds_per_side": settings.seconds,
            "warm_up_seconds": settings.warm_up,
            "rounds": ROUNDS,
            "limit": LIMIT,
            "quick": settings.quick,
            "cpus": cores,
            "direct": side_json(0),
            "proxy_sqlite": side_json(1),
            "proxy_postgres": side_json(2),
        }),
    );

    let ok = load::error_rates_ok("server_scale", &rows);
    if let Ok(db) = &database {
        // The servers still hold connections: `WITH (FORCE)` ends them.
        server_rt.block_on(db.drop_database());
    }
    drop(sim);
    if !ok {
        std::process::exit(1);
    }
}
