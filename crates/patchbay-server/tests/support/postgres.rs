//! The PostgreSQL server of the tests that need one: its URL, the
//! [`POSTGRES`] requirement that reports them ignored (or failed, with
//! `CI=true`) when it is unreachable, and fresh schemas to run in.

use std::str::FromStr;

use patchbay_testkit::Requirement;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// Where the tests find PostgreSQL unless `PATCHBAY_TEST_POSTGRES_URL` says
/// otherwise (`.ci/run` starts it).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

const HINT: &str = "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                    or point PATCHBAY_TEST_POSTGRES_URL at another server";

/// A reachable PostgreSQL at [`url`]; give it to `Test::needs`.
pub static POSTGRES: Requirement = Requirement::new("PostgreSQL", || {
    let url = url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(PgConnection::connect(&url)) {
        Ok(conn) => {
            let _ = runtime.block_on(conn.close());
            Ok(())
        }
        Err(e) => Err(format!("PostgreSQL at {url} is unreachable ({e}); {HINT}")),
    }
});

/// `PATCHBAY_TEST_POSTGRES_URL`, or [`DEFAULT_URL`].
pub fn url() -> String {
    std::env::var("PATCHBAY_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// A connection to [`url`] for administration (creating schemas and
/// databases). Panics, saying why, when the server is unreachable: a test
/// that needs [`POSTGRES`] only runs once it answered.
pub async fn admin() -> PgConnection {
    let url = url();
    PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable ({e}); {HINT}"))
}

/// Options connecting to `url` with `schema` first in the search path, then `public`
/// (where [`create_schema`] keeps the extensions the sync-job engine's tables use).
pub fn options(url: &str, schema: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", format!("{schema},public"))])
}

/// Creates a schema named `<prefix><random>` on [`url`]; answers
/// `(url, schema)`. Drop it with [`drop_schema`].
///
/// Also makes sure the extensions of the sync-job engine's queue (`hstore`, `pgcrypto`,
/// see docs/guides/storage.md) exist in `public`: left to the engine's migrations they
/// would be created in the first schema of the search path, a test's schema, and dropped
/// with it together with the queue's columns of their types.
pub async fn create_schema(prefix: &str) -> (String, String) {
    let schema = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
    let mut admin = admin().await;
    // Serialised across test processes: two concurrent `CREATE EXTENSION IF NOT EXISTS`
    // can both try to create it.
    sqlx::query("SELECT pg_advisory_lock(7201)")
        .execute(&mut admin)
        .await
        .unwrap();
    for extension in ["hstore", "pgcrypto"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE EXTENSION IF NOT EXISTS {extension} WITH SCHEMA public"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    sqlx::query("SELECT pg_advisory_unlock(7201)")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    (url(), schema)
}

/// Drops a schema of [`create_schema`] with everything in it.
pub async fn drop_schema(url: &str, schema: &str) {
    let mut admin = PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// Runs `scenario` with the `(url, schema)` of a schema of its own ([`create_schema`]),
/// then drops the schema, also when `scenario` panics (the panic goes on afterwards).
pub async fn in_schema<F, Fut>(prefix: &str, scenario: F)
where
    F: FnOnce(String, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (url, schema) = create_schema(prefix).await;
    let outcome = tokio::spawn(scenario(url.clone(), schema.clone())).await;
    drop_schema(&url, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
