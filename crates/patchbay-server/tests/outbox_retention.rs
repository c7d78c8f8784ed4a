//! Outbox retention (security review F12): delivered and dead deliveries are
//! deleted after their retention period, pending ones never, by the store's
//! `prune_outbox` and the delivery worker's pruning step. Run against SQLite
//! (temp dir) and Postgres (`PATCHBAY_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, a fresh schema per test, dropped
//! afterwards; without a reachable Postgres that half is reported ignored, or
//! fails when `CI=true`: `docs/testing.md`).

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use patchbay_server::delivery::{DeliveryOptions, DeliveryWorker};
use patchbay_server::store::*;
use patchbay_testkit::{Runtime, tokio_test};
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, SqliteConnection};
use support::postgres::{self, POSTGRES, options as pg_options};

/// Where the store's rows are, to read them back directly.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Db {
    /// `(event_type, status)` of every outbox row, sorted.
    async fn rows(&self) -> Vec<(String, String)> {
        const SQL: &str = "SELECT event_type, status FROM outbox ORDER BY event_type";
        let mut rows: Vec<(String, String)> = match self {
            Db::Sqlite(dir) => {
                let options = SqliteConnectOptions::new().filename(dir.path().join(DATABASE_FILE));
                let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
                sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap()
            }
            Db::Postgres { url, schema } => {
                let mut conn = PgConnection::connect_with(&pg_options(url, schema))
                    .await
                    .unwrap();
                sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap()
            }
        };
        rows.sort();
        rows
    }
}

/// A fresh store of `postgres` or SQLite.
async fn open(postgres: bool) -> (Arc<Store>, Db) {
    let cipher = Cipher::from_base64(&Cipher::generate_key_base64()).unwrap();
    if !postgres {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store_with(None, dir.path(), cipher).await.unwrap();
        return (store, Db::Sqlite(dir));
    }
    let (url, schema) = postgres::create_schema("pb_test_").await;
    let store = connect_postgres_with(pg_options(&url, &schema), cipher)
        .await
        .unwrap();
    (store, Db::Postgres { url, schema })
}

async fn close(db: Db) {
    if let Db::Postgres { url, schema } = db {
        postgres::drop_schema(&url, &schema).await;
    }
}

fn rows(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Queues one delivery per name (one webhook), claims them and settles each
/// as its name says: `delivered`, `dead`, `retrying` (pending, due in an
/// hour) or `leased` (pending, in flight).
async fn queue_and_settle(store: &Store, env: &str, names: &[&str]) {
    for name in names {
        store
            .enqueue_event(env, name, &json!({"n": name}))
            .await
            .unwrap();
    }
    let claimed = store
        .claim_due(100, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(claimed.len(), names.len());
    for delivery in &claimed {
        let recorded = match delivery.event_type.rsplit('_').next().unwrap() {
            "delivered" => store.mark_delivered(delivery).await.unwrap(),
            "dead" => store.mark_failed(delivery, "gave up", None).await.unwrap(),
            "retrying" => store
                .mark_failed(
                    delivery,
                    "HTTP 503",
                    Some(Utc::now() + chrono::Duration::hours(1)),
                )
                .await
                .unwrap(),
            _ => true,
        };
        assert!(recorded, "{}", delivery.event_type);
    }
}

async fn pruning(store: Arc<Store>, db: &Db) {
    let env = store.bootstrap().await.unwrap().unwrap().environment.id;
    store
        .create_webhook(
            &env,
            NewWebhook {
                target_url: "http://127.0.0.1:9/hook".into(),
                event_types: vec!["*".into()],
                is_active: true,
            },
        )
        .await
        .unwrap();
    queue_and_settle(
        store.as_ref(),
        &env,
        &["old_delivered", "old_dead", "old_retrying", "old_leased"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cutoff = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    queue_and_settle(store.as_ref(), &env, &["new_delivered", "new_dead"]).await;

    // Only finished rows older than the cutoff go; at most `limit` at a time.
    assert_eq!(
        store
            .prune_outbox(Some(cutoff), Some(cutoff), 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .prune_outbox(Some(cutoff), Some(cutoff), 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.rows().await,
        rows(&[
            ("new_dead", "dead"),
            ("new_delivered", "delivered"),
            ("old_leased", "pending"),
            ("old_retrying", "pending"),
        ])
    );
    // `None` keeps that status whatever its age.
    let later = Utc::now() + chrono::Duration::days(1);
    assert_eq!(store.prune_outbox(None, Some(later), 100).await.unwrap(), 1);
    assert_eq!(
        db.rows().await,
        rows(&[
            ("new_delivered", "delivered"),
            ("old_leased", "pending"),
            ("old_retrying", "pending"),
        ])
    );

    // The worker's defaults (7 and 30 days) keep fresh rows...
    let worker = DeliveryWorker::new(store.clone(), DeliveryOptions::default()).unwrap();
    assert_eq!(worker.prune().await.unwrap(), 0);
    // ...a zero retention prunes every finished row and no pending one.
    queue_and_settle(store.as_ref(), &env, &["z_dead"]).await;
    let worker = DeliveryWorker::new(
        store.clone(),
        DeliveryOptions::default().with_retention(Some(Duration::ZERO), Some(Duration::ZERO)),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(worker.prune().await.unwrap(), 2);
    assert_eq!(
        db.rows().await,
        rows(&[("old_leased", "pending"), ("old_retrying", "pending")])
    );

    // The running worker prunes on its own, in batches, at start.
    queue_and_settle(store.as_ref(), &env, &["w_delivered", "w_dead"]).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let handle = DeliveryWorker::new(
        store.clone(),
        DeliveryOptions::default()
            .with_retention(Some(Duration::ZERO), Some(Duration::ZERO))
            .with_poll_interval(Duration::from_millis(20)),
    )
    .unwrap()
    .spawn();
    let mut left = db.rows().await;
    for _ in 0..100 {
        if left.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = db.rows().await;
    }
    handle.shutdown().await;
    assert_eq!(
        left,
        rows(&[("old_leased", "pending"), ("old_retrying", "pending")])
    );
}

/// Runs [`pruning`] on a fresh store of `postgres` or SQLite, then drops the
/// Postgres schema whatever the outcome.
async fn run(postgres: bool) {
    let (store, db) = open(postgres).await;
    let db = Arc::new(db);
    let outcome = tokio::spawn({
        let db = Arc::clone(&db);
        async move { pruning(store, &db).await }
    })
    .await;
    if let Ok(db) = Arc::try_unwrap(db) {
        close(db).await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "sqlite_prunes_finished_deliveries_after_retention_and_never_pending_ones",
            Runtime::MultiThread(2),
            sqlite_prunes_finished_deliveries_after_retention_and_never_pending_ones,
        ),
        tokio_test(
            "postgres_prunes_finished_deliveries_after_retention_and_never_pending_ones",
            Runtime::MultiThread(2),
            postgres_prunes_finished_deliveries_after_retention_and_never_pending_ones,
        )
        .needs(&POSTGRES),
    ])
}

async fn sqlite_prunes_finished_deliveries_after_retention_and_never_pending_ones() {
    run(false).await;
}

async fn postgres_prunes_finished_deliveries_after_retention_and_never_pending_ones() {
    run(true).await;
}
