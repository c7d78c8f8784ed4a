//! A sync into the PostgreSQL datastore at load: N records (default 1,000,000) in pages of
//! 1,000, through the sync runner ([`patchbay::sync::Runner`]) with a synthetic page
//! source (records made in memory, no HTTP) and the server's `DatastoreSink` (the server's
//! store over a fresh schema, the webhook outbox behind it with no webhook subscribed),
//! next to a baseline: a plain loop making the same records and upserting each page with
//! one multi-row `INSERT … ON CONFLICT … DO UPDATE` through sqlx, into a table of the same
//! shape. Each side runs once, into an empty table, after a `CHECKPOINT`.
//!
//! Reported per side: records/s, wall time, and the process's peak resident set size
//! during the side (`VmHWM`, reset before each with `/proc/self/clear_refs`); then the
//! ratio of the runner's records/s to the baseline's. The runner's checkpoints are kept
//! in memory (`MemoryRunStore`): the server saves one per page in `sync_job_runs`, one
//! small `UPDATE` per 1,000 records, not measured here.
//!
//! ```sh
//! cargo bench -p patchbay-benches --bench sync_datastore
//! PATCHBAY_SYNC_RECORDS=100000 cargo bench -p patchbay-benches --bench sync_datastore
//! ```
//!
//! Environment: `PATCHBAY_SYNC_RECORDS` (default 1,000,000), `PATCHBAY_SYNC_PAGE` (records
//! per page, default 1,000), `PATCHBAY_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; when unreachable the bench says so and
//! exits 0). Writes `$CARGO_TARGET_DIR/sync-datastore.json` (or `target/`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use patchbay::sync::{
    ErrorHandling, FetchedPage, MemoryRunStore, PageRequest, PageSource, RunRequest, RunStatus,
    Runner, RunnerOptions, SourceError, load_sync_job,
};
use patchbay_benches::{peak_rss_kib, record, reset_peak_rss, status_kib};
use patchbay_config::{IntegratedAccount, load_integrated_account};
use patchbay_server::store::{Cipher, Store, connect_postgres_with, datastore_table_name};
use patchbay_server::sync::{DatastoreSink, OutboxSink};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const ACCOUNT: &str = "acct-bench";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Pages of [`record`]s `0..records`, `page` at a time; the cursor is the next index.
struct SyntheticSource {
    account: IntegratedAccount,
    records: u64,
    page: u64,
}

#[async_trait]
impl PageSource for SyntheticSource {
    async fn account(&self, _: &str) -> Result<Option<IntegratedAccount>, SourceError> {
        Ok(Some(self.account.clone()))
    }

    async fn proxy_page(
        &self,
        _: &str,
        _: &str,
        _: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        let start: u64 = request
            .cursor
            .as_deref()
            .map_or(Ok(0), str::parse)
            .map_err(|_| SourceError::Request("bad cursor".into()))?;
        let end = (start + self.page).min(self.records);
        Ok(FetchedPage {
            records: (start..end).map(record).collect(),
            next_cursor: (end < self.records).then(|| end.to_string()),
        })
    }

    async fn unified_page(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
        _: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        Err(SourceError::NotFound("no unified resources here".into()))
    }
}

/// One side's measurement.
struct Side {
    records: u64,
    elapsed: Duration,
    start_rss_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
}

impl Side {
    fn per_second(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }

    fn json(&self) -> Value {
        json!({
            "records": self.records,
            "seconds": self.elapsed.as_secs_f64(),
            "records_per_second": self.per_second(),
            "start_rss_kib": self.start_rss_kib,
            "peak_rss_kib": self.peak_rss_kib,
        })
    }
}

/// Runs `work` as one side: the peak RSS reset before, read after.
async fn measure<F: std::future::Future<Output = u64>>(work: F) -> Side {
    let reset = reset_peak_rss();
    let start_rss_kib = status_kib("VmRSS");
    let started = Instant::now();
    let records = work.await;
    let elapsed = started.elapsed();
    Side {
        records,
        elapsed,
        start_rss_kib,
        peak_rss_kib: if reset { peak_rss_kib() } else { None },
    }
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .expect("count rows")
}

async fn checkpoint(pool: &PgPool) {
    if let Err(e) = sqlx::query("CHECKPOINT").execute(pool).await {
        eprintln!("sync_datastore: CHECKPOINT refused ({e}); going on");
    }
}

/// The runner with the server's datastore sink: answers the records stored.
async fn through_runner(
    store: Arc<Store>,
    environment: &str,
    datastore: &str,
    records: u64,
    page: u64,
) -> u64 {
    let account = load_integrated_account(
        &json!({
            "id": ACCOUNT, "tenant_id": "bench", "environment_integration_id": "bench",
            "authentication_method": "api_key", "status": "active",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        })
        .to_string(),
    )
    .expect("the bench account");
    let source = SyntheticSource {
        account,
        records,
        page,
    };
    let outbox = Arc::new(OutboxSink::new(store.clone(), environment));
    let sink = Arc::new(DatastoreSink::new(
        store,
        environment,
        datastore,
        ErrorHandling::FailFast,
        outbox,
    ));
    let runner =
        Runner::new(source, Arc::new(MemoryRunStore::new()), sink).options(RunnerOptions {
            page_size: Some(page),
            ..RunnerOptions::default()
        });
    let plan = load_sync_job(
        r#"{"integration_name": "bench", "resources": [{"resource": "items", "method": "list", "persist": true}]}"#,
    )
    .expect("the bench job");
    let state = runner
        .run(&plan, &RunRequest::new("run-bench", ACCOUNT))
        .await
        .expect("the run");
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    state.resource_stats["items"].records
}

/// The baseline: the same records, one multi-row upsert per page, straight through sqlx.
async fn plain_loop(pool: &PgPool, records: u64, page: u64) -> u64 {
    let mut start = 0;
    while start < records {
        let end = (start + page).min(records);
        let mut sql = String::from(
            "INSERT INTO baseline_items (integrated_account_id, resource, record_id, record, \
             sync_job_run_id, sequence, synced_at) VALUES ",
        );
        for row in 0..(end - start) {
            let n = row * 7;
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, CAST(${} AS JSONB), ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            ));
        }
        sql.push_str(
            " ON CONFLICT (integrated_account_id, resource, record_id) DO UPDATE SET \
             record = excluded.record, sync_job_run_id = excluded.sync_job_run_id, \
             sequence = excluded.sequence, synced_at = excluded.synced_at",
        );
        let now = chrono::Utc::now().timestamp_micros();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in start..end {
            let data = record(i);
            let id = match &data["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            query = query
                .bind(ACCOUNT)
                .bind("items")
                .bind(id)
                .bind(data.to_string())
                .bind("run-baseline")
                .bind(i as i64)
                .bind(now);
        }
        query.execute(pool).await.expect("baseline upsert");
        start = end;
    }
    records
}

#[tokio::main]
async fn main() {
    let records = env_number("PATCHBAY_SYNC_RECORDS", 1_000_000);
    let page = env_number("PATCHBAY_SYNC_PAGE", 1_000);
    let url = std::env::var("PATCHBAY_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    let admin = PgConnectOptions::from_str(&url).expect("PATCHBAY_BENCH_POSTGRES_URL");
    let mut conn = match PgConnection::connect_with(&admin).await {
        Ok(conn) => conn,
        Err(e) => {
            println!(
                "sync_datastore: skipped: PostgreSQL at {url} is unreachable ({e}); set PATCHBAY_BENCH_POSTGRES_URL"
            );
            return;
        }
    };
    let schema = format!("pb_bench_sync_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("CREATE SCHEMA");
    let options = admin.clone().options([("search_path", schema.as_str())]);
    let outcome = tokio::spawn(run(options, records, page)).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .expect("DROP SCHEMA");
    let report = match outcome {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = std::path::Path::new(&dir).join("sync-datastore.json");
    match std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("sync_datastore: cannot write {}: {e}", path.display()),
    }
}

async fn run(options: PgConnectOptions, records: u64, page: u64) -> Value {
    let cipher = Cipher::from_base64(&Cipher::generate_key_base64()).expect("a key");
    let store = connect_postgres_with(options.clone(), cipher)
        .await
        .expect("the store");
    let environment = store
        .bootstrap()
        .await
        .expect("bootstrap")
        .expect("a new database")
        .environment
        .id;
    let datastore = store
        .create_datastore(&environment, Some("bench".into()))
        .await
        .expect("datastore")
        .id;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("a pool");
    let table = datastore_table_name(&datastore, "items");
    sqlx::query(
        "CREATE TABLE baseline_items (integrated_account_id TEXT NOT NULL, resource TEXT NOT NULL, \
         record_id TEXT NOT NULL, record JSONB NOT NULL, sync_job_run_id TEXT NOT NULL, \
         sequence BIGINT NOT NULL, synced_at BIGINT NOT NULL, \
         PRIMARY KEY (integrated_account_id, resource, record_id))",
    )
    .execute(&pool)
    .await
    .expect("the baseline table");
    println!("sync_datastore: {records} records in pages of {page} into PostgreSQL");

    checkpoint(&pool).await;
    let runner = measure(through_runner(
        store.clone(),
        &environment,
        &datastore,
        records,
        page,
    ))
    .await;
    assert_eq!(
        count(&pool, &table).await,
        records as i64,
        "every record in the datastore table"
    );
    checkpoint(&pool).await;
    let baseline = measure(plain_loop(&pool, records, page)).await;
    assert_eq!(
        count(&pool, "baseline_items").await,
        records as i64,
        "every record in the baseline table"
    );

    let mib = |kib: Option<u64>| {
        kib.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!("| side | records/s | seconds | RSS at start | peak RSS |");
    println!("|---|---:|---:|---:|---:|");
    for (name, side) in [
        ("runner + DatastoreSink", &runner),
        ("plain sqlx loop", &baseline),
    ] {
        println!(
            "| {name} | {:.0} | {:.2} | {} | {} |",
            side.per_second(),
            side.elapsed.as_secs_f64(),
            mib(side.start_rss_kib),
            mib(side.peak_rss_kib)
        );
    }
    let ratio = runner.per_second() / baseline.per_second();
    println!("runner / baseline records/s: {ratio:.2}");
    json!({
        "records": records,
        "page": page,
        "runner": runner.json(),
        "baseline": baseline.json(),
        "ratio": ratio,
    })
}
