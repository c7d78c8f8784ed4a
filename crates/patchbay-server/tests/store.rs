//! The store suite, run against SQLite (temp dir) and Postgres
//! (`PATCHBAY_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`,
//! a fresh schema per test, dropped afterwards). Without a reachable Postgres the
//! Postgres half is reported ignored, or fails when `CI=true` (`docs/testing.md`).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use patchbay::AccountStore;
use patchbay::config::{AccountStatus, AuthenticationMethod};
use patchbay_server::store::*;
use patchbay_testkit::{Runtime, Test, tokio_test};
use serde_json::{Map, Value, json};
use sqlx::{Connection, PgConnection};
use support::postgres::{self, POSTGRES, options as pg_options};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// One backend for one test: the store, and how to reopen or inspect it.
struct Harness {
    kind: Kind,
    store: Arc<Store>,
    key: String,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>, // (url, schema)
}

impl Harness {
    /// A second, independent store on the same database (its own pool), with `key`.
    async fn open_again(&self, key: &str) -> StorageResult<Arc<Store>> {
        open_at(&self.dir, &self.pg, key).await
    }

    /// Every byte stored: the SQLite files, or every Postgres row as JSON text.
    async fn raw(&self) -> Vec<u8> {
        match &self.pg {
            None => {
                let mut bytes = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let path = self.dir.path().join(format!("{DATABASE_FILE}{suffix}"));
                    if let Ok(b) = std::fs::read(path) {
                        bytes.extend(b);
                    }
                }
                assert!(bytes.len() > 4096, "the SQLite file should exist");
                bytes
            }
            Some((url, schema)) => {
                let mut conn = PgConnection::connect_with(&pg_options(url, schema))
                    .await
                    .unwrap();
                let mut text = String::new();
                for table in [
                    "meta",
                    "environments",
                    "api_tokens",
                    "integrations",
                    "environment_integrations",
                    "integrated_accounts",
                    "link_tokens",
                    "webhooks",
                    "outbox",
                ] {
                    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT row_to_json(t)::text FROM {table} t"
                    )))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                    for (row,) in rows {
                        text.push_str(&row);
                    }
                }
                assert!(text.contains("environment"), "rows should be readable");
                text.into_bytes()
            }
        }
    }

    /// Runs `sqlite` or `postgres` (whichever this harness is) on its own
    /// connection to the database, behind the store's back.
    async fn execute_raw(&self, sqlite: &str, postgres: &str) {
        match &self.pg {
            None => {
                let path = self.dir.path().join(DATABASE_FILE);
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
                        .await
                        .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_owned()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Some((url, schema)) => {
                let mut conn = PgConnection::connect_with(&pg_options(url, schema))
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_owned()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }
}

/// A new store instance (own pool) on the database of a harness.
async fn open_at(
    dir: &tempfile::TempDir,
    pg: &Option<(String, String)>,
    key: &str,
) -> StorageResult<Arc<Store>> {
    let cipher = Cipher::from_base64(key)?;
    match pg {
        None => open_sqlite(&dir.path().join(DATABASE_FILE), cipher).await,
        Some((url, schema)) => connect_postgres_with(pg_options(url, schema), cipher).await,
    }
}

type Case = fn(Harness) -> Pin<Box<dyn Future<Output = ()> + Send>>;

async fn run(kind: Kind, case: Case) {
    let dir = tempfile::tempdir().unwrap();
    let key = Cipher::generate_key_base64().to_string();
    let cipher = Cipher::from_base64(&key).unwrap();
    let (store, pg) = match kind {
        Kind::Sqlite => (
            open_store_with(None, dir.path(), cipher).await.unwrap(),
            None,
        ),
        Kind::Postgres => {
            let (url, schema) = postgres::create_schema("pb_test_").await;
            let store = connect_postgres_with(pg_options(&url, &schema), cipher)
                .await
                .unwrap();
            (store, Some((url, schema)))
        }
    };
    let cleanup = pg.clone();
    let harness = Harness {
        kind,
        store,
        key,
        dir,
        pg,
    };
    let outcome = tokio::spawn(case(harness)).await;
    if let Some((url, schema)) = cleanup {
        postgres::drop_schema(&url, &schema).await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Each case twice, as `sqlite::<case>` and `postgres::<case>` (which needs
/// PostgreSQL), on a multi-thread runtime of 4 workers each.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        fn suite() -> Vec<Test> {
            let sqlite = [$(
                tokio_test(
                    concat!("sqlite::", stringify!($case)),
                    Runtime::MultiThread(4),
                    || run(Kind::Sqlite, |h| Box::pin($case(h))),
                )
            ),*];
            let postgres = [$(
                tokio_test(
                    concat!("postgres::", stringify!($case)),
                    Runtime::MultiThread(4),
                    || run(Kind::Postgres, |h| Box::pin($case(h))),
                )
                .needs(&POSTGRES)
            ),*];
            sqlite.into_iter().chain(postgres).collect()
        }
    };
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(suite())
}

suite!(
    bootstrap_once,
    environment_isolation,
    tokens_are_hashed,
    secrets_are_encrypted_at_rest,
    wrong_key_is_a_crypto_error,
    optimistic_version_conflict,
    list_filters_and_cursor_pagination,
    link_token_single_use_and_expiry,
    outbox_concurrent_claims_deliver_each_once,
    outbox_failed_delivery_is_retried_later,
    outbox_survives_reopening,
    account_events_are_scoped_newest_first_with_their_deliveries,
    outbox_rows_written_before_the_account_column_are_filled_in,
    account_lock_is_exclusive,
    bad_input_changes_nothing,
    facade_account_store_writes_through,
    override_replaced_wholesale,
    environment_integration_environment,
    account_route_tracks_revisions,
    many_held_locks_leave_connections_for_work,
    account_changes_and_their_events_commit_together,
    unified_objects_round_trip_and_grow_revisions,
    unified_concurrent_row_updates_one_wins,
    mcp_servers_are_hashed_scoped_revoked_and_expire,
    sign_in_attempts_share_one_limit_across_stores,
);

// ---- fixtures ----

fn config() -> Value {
    json!({"base_url": "https://api.example.com", "label": "Example"})
}

async fn env(store: &Store, name: &str) -> String {
    store.create_environment(name).await.unwrap().id
}

async fn install(store: &Store, environment_id: &str, name: &str) -> String {
    let integration = store
        .create_integration(
            environment_id,
            NewIntegration {
                name: name.into(),
                category: Some("helpdesk".into()),
                is_beta: false,
                sharing: None,
                config: config(),
            },
        )
        .await
        .unwrap();
    store
        .install_integration(
            environment_id,
            NewEnvironmentIntegration {
                integration_id: integration.id,
                show_in_catalog: true,
                is_enabled: true,
                override_: None,
            },
        )
        .await
        .unwrap()
        .id
}

fn context(pairs: Value) -> Map<String, Value> {
    pairs.as_object().cloned().unwrap()
}

fn new_account(tenant: &str, install: &str, ctx: Value) -> NewAccount {
    NewAccount {
        tenant_id: tenant.into(),
        environment_integration_id: install.into(),
        context: context(ctx),
        authentication_method: AuthenticationMethod::OAuth2,
        status: AccountStatus::Active,
        region: None,
        is_sandbox: false,
    }
}

fn hook(url: &str) -> NewWebhook {
    NewWebhook {
        target_url: url.into(),
        event_types: vec!["integrated_account:*".into()],
        is_active: true,
    }
}

fn not_found<T: std::fmt::Debug>(result: StorageResult<T>) {
    assert!(
        matches!(result, Err(StorageError::NotFound { .. })),
        "{result:?}"
    );
}

fn invalid_input<T: std::fmt::Debug>(result: StorageResult<T>) {
    assert!(
        matches!(result, Err(StorageError::InvalidInput(_))),
        "{result:?}"
    );
}

fn conflict<T: std::fmt::Debug>(result: StorageResult<T>) {
    assert!(
        matches!(result, Err(StorageError::Conflict(_))),
        "{result:?}"
    );
}

// ---- cases ----

async fn bootstrap_once(h: Harness) {
    let first = h
        .store
        .bootstrap()
        .await
        .unwrap()
        .expect("first start bootstraps");
    assert_eq!(first.environment.name, "default");
    assert_eq!(
        h.store
            .authenticate(first.token.plaintext.expose())
            .await
            .unwrap()
            .as_deref(),
        Some(first.environment.id.as_str())
    );
    assert!(h.store.bootstrap().await.unwrap().is_none());
    let again = h.open_again(&h.key).await.unwrap();
    assert!(again.bootstrap().await.unwrap().is_none());
    assert_eq!(h.store.list_environments().await.unwrap().len(), 1);
}

async fn environment_isolation(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let token_a = s.create_api_token(&a, "ta").await.unwrap();
    let acting = s
        .authenticate(token_a.plaintext.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acting, a);

    let install_b = install(s, &b, "zendesk").await;
    let integration_b = s
        .get_environment_integration(&b, &install_b)
        .await
        .unwrap()
        .integration_id;
    let account_b = s
        .create_account(&b, new_account("t1", &install_b, json!({"k": 1})))
        .await
        .unwrap();
    let hook_b = s
        .create_webhook(&b, hook("https://b.example/h"))
        .await
        .unwrap()
        .webhook;
    let token_b = s.create_api_token(&b, "tb").await.unwrap().token;

    // Acting in A, B's objects do not exist.
    not_found(s.get_integration(&acting, &integration_b).await);
    not_found(s.get_environment_integration(&acting, &install_b).await);
    not_found(s.get_account(&acting, &account_b.id).await);
    not_found(s.get_webhook(&acting, &hook_b.id).await);
    assert!(
        s.list_accounts(&acting, &AccountFilter::default(), &PageRequest::default())
            .await
            .unwrap()
            .result
            .is_empty()
    );
    assert!(
        s.list_integrations(&acting, &PageRequest::default())
            .await
            .unwrap()
            .result
            .is_empty()
    );
    assert!(
        s.list_webhooks(&acting, &PageRequest::default())
            .await
            .unwrap()
            .result
            .is_empty()
    );
    not_found(
        s.update_account(
            &acting,
            &account_b.id,
            AccountPatch {
                status: Some(AccountStatus::NeedsReauth),
                ..Default::default()
            },
        )
        .await,
    );
    not_found(
        s.update_context(&acting, &account_b.id, context(json!({"x": 1})))
            .await,
    );
    not_found(
        s.update_integration(
            &acting,
            &integration_b,
            IntegrationPatch {
                version: 1,
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await,
    );
    not_found(
        s.update_webhook(
            &acting,
            &hook_b.id,
            WebhookPatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await,
    );
    not_found(s.delete_account(&acting, &account_b.id).await);
    not_found(s.delete_webhook(&acting, &hook_b.id).await);
    not_found(s.delete_integration(&acting, &integration_b).await);
    not_found(s.delete_environment_integration(&acting, &install_b).await);
    not_found(s.delete_api_token(&acting, &token_b.id).await);
    not_found(s.webhook_secret(&acting, &hook_b.id).await);
    not_found(s.lock_account(&acting, &account_b.id).await);
    // Installing B's integration or attaching accounts to B's install from A fails.
    not_found(
        s.install_integration(
            &acting,
            NewEnvironmentIntegration {
                integration_id: integration_b.clone(),
                show_in_catalog: true,
                is_enabled: true,
                override_: None,
            },
        )
        .await,
    );
    not_found(
        s.create_account(&acting, new_account("t", &install_b, json!({})))
            .await,
    );
    // put_account cannot take over B's account id.
    let install_a = install(s, &a, "zendesk").await;
    let mut hijack = account_b.clone();
    hijack.environment_id = None;
    hijack.environment_integration_id = install_a;
    conflict(s.put_account(&acting, hijack, None).await);
    // B is untouched.
    let still = s.get_account(&b, &account_b.id).await.unwrap();
    assert_eq!(still, account_b);
    assert!(s.get_webhook(&b, &hook_b.id).await.unwrap().is_active);
    assert_eq!(s.list_api_tokens(&b).await.unwrap().len(), 1);
}

async fn tokens_are_hashed(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let created = s.create_api_token(&a, "ci").await.unwrap();
    let plaintext = created.plaintext.expose().to_owned();
    assert!(
        !format!("{created:?}").contains(&plaintext),
        "Debug must not show the token"
    );
    assert_eq!(
        s.authenticate(&plaintext).await.unwrap().as_deref(),
        Some(a.as_str())
    );
    assert_eq!(s.authenticate("pb_nope").await.unwrap(), None);
    let link = s
        .create_link_token(
            &a,
            NewLinkToken {
                params: LinkParams {
                    tenant_id: Some("t".into()),
                    ..Default::default()
                },
                ttl: Duration::from_secs(600),
            },
        )
        .await
        .unwrap();
    let raw = h.raw().await;
    assert!(
        !Harness::contains(&raw, &plaintext),
        "API token stored in plaintext"
    );
    assert!(
        !Harness::contains(&raw, link.token.expose()),
        "link token stored in plaintext"
    );
    s.delete_api_token(&a, &created.token.id).await.unwrap();
    assert_eq!(s.authenticate(&plaintext).await.unwrap(), None);
}

async fn secrets_are_encrypted_at_rest(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let install_id = install(s, &a, "zendesk").await;
    s.update_environment_integration(&a, &install_id, EnvironmentIntegrationPatch { override_: Some(Some(context(json!({"credentials": {"oauth2": {"client": {"id": "cid", "secret": "OVERRIDE-SECRET-123"}}}})))), ..Default::default() })
        .await
        .unwrap();
    let account = s
        .create_account(
            &a,
            new_account(
                "t1",
                &install_id,
                json!({"oauth": {"token": {"access_token": "ACCESS-TOKEN-SECRET-456"}}}),
            ),
        )
        .await
        .unwrap();
    let created = s
        .create_webhook(&a, hook("https://a.example/h"))
        .await
        .unwrap();
    let webhook_secret = created.secret.expose().to_owned();
    let raw = h.raw().await;
    for secret in [
        "OVERRIDE-SECRET-123",
        "ACCESS-TOKEN-SECRET-456",
        webhook_secret.as_str(),
    ] {
        assert!(
            !Harness::contains(&raw, secret),
            "`{secret}` stored in plaintext"
        );
    }
    assert!(
        Harness::contains(&raw, "t1"),
        "non-secret columns are stored as is"
    );
    // The right key reads everything back, also from a second store instance.
    let again = h.open_again(&h.key).await.unwrap();
    assert_eq!(
        again.get_account(&a, &account.id).await.unwrap().context,
        account.context
    );
    assert_eq!(
        again
            .webhook_secret(&a, &created.webhook.id)
            .await
            .unwrap()
            .expose(),
        webhook_secret
    );
    let install_again = again
        .get_environment_integration(&a, &install_id)
        .await
        .unwrap();
    assert_eq!(
        install_again.override_.as_ref().unwrap()["credentials"]["oauth2"]["client"]["secret"],
        "OVERRIDE-SECRET-123"
    );
    assert!(!format!("{install_again:?}").contains("OVERRIDE-SECRET-123"));
}

async fn wrong_key_is_a_crypto_error(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let install_id = install(s, &a, "zendesk").await;
    s.create_account(&a, new_account("t1", &install_id, json!({"api_key": "k"})))
        .await
        .unwrap();
    let wrong = Cipher::generate_key_base64();
    let err = h.open_again(&wrong).await.unwrap_err();
    assert!(matches!(err, StorageError::Crypto(_)), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");
    // Rotation: the new key with the old one as previous opens and reads.
    let rotated = Cipher::from_base64(&wrong)
        .unwrap()
        .with_previous_base64(&h.key)
        .unwrap();
    let store = match &h.pg {
        None => open_sqlite(&h.dir.path().join(DATABASE_FILE), rotated)
            .await
            .unwrap(),
        Some((url, schema)) => connect_postgres_with(pg_options(url, schema), rotated)
            .await
            .unwrap(),
    };
    let accounts = store
        .list_accounts(&a, &AccountFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(accounts.result[0].context["api_key"], "k");
}

async fn optimistic_version_conflict(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let created = s
        .create_integration(
            &a,
            NewIntegration {
                name: "hubspot".into(),
                category: None,
                is_beta: false,
                sharing: None,
                config: config(),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.version, 1);
    let updated = s
        .update_integration(
            &a,
            &created.id,
            IntegrationPatch {
                version: 1,
                is_beta: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    let stale = s
        .update_integration(
            &a,
            &created.id,
            IntegrationPatch {
                version: 1,
                category: Some(Some("crm".into())),
                ..Default::default()
            },
        )
        .await;
    conflict(stale);
    let stored = s.get_integration(&a, &created.id).await.unwrap();
    assert_eq!(
        (stored.version, stored.category, stored.is_beta),
        (2, None, true)
    );
    // Concurrent updates with the same version: exactly one wins.
    let wins = AtomicUsize::new(0);
    let tasks = (0..8).map(|i| {
        let wins = &wins;
        let id = created.id.clone();
        let a = a.clone();
        async move {
            if s.update_integration(
                &a,
                &id,
                IntegrationPatch {
                    version: 2,
                    category: Some(Some(format!("c{i}"))),
                    ..Default::default()
                },
            )
            .await
            .is_ok()
            {
                wins.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    futures_join_all(tasks).await;
    assert_eq!(wins.load(Ordering::SeqCst), 1);
    assert_eq!(s.get_integration(&a, &created.id).await.unwrap().version, 3);
    // Duplicate names conflict.
    let dup = s
        .create_integration(
            &a,
            NewIntegration {
                name: "hubspot".into(),
                category: None,
                is_beta: false,
                sharing: None,
                config: config(),
            },
        )
        .await;
    conflict(dup);
}

async fn futures_join_all<F: Future<Output = ()>>(futures: impl IntoIterator<Item = F>) {
    let futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut futures: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in futures.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await
}

async fn list_filters_and_cursor_pagination(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let i1 = install(s, &a, "one").await;
    let i2 = install(s, &a, "two").await;
    let mut ids = Vec::new();
    for n in 0..7 {
        let mut new = new_account(
            if n % 2 == 0 { "even" } else { "odd" },
            if n < 5 { &i1 } else { &i2 },
            json!({"n": n}),
        );
        new.is_sandbox = n == 3;
        if n == 6 {
            new.status = AccountStatus::NeedsReauth;
        }
        ids.push(s.create_account(&a, new).await.unwrap().id);
    }
    // Pages of 3 walk all 7 in creation order, then stop.
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = s
            .list_accounts(
                &a,
                &AccountFilter::default(),
                &PageRequest {
                    limit: Some(3),
                    cursor: cursor.clone(),
                },
            )
            .await
            .unwrap();
        pages += 1;
        assert!(page.result.len() <= 3);
        seen.extend(page.result.iter().map(|acc| acc.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = ids.clone();
    sorted.sort();
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    assert_eq!(seen_sorted, sorted, "every account exactly once");
    assert_eq!(seen.len(), 7);

    let list = |f: AccountFilter| {
        let a = a.clone();
        async move {
            s.list_accounts(&a, &f, &PageRequest::default())
                .await
                .unwrap()
                .result
        }
    };
    let even = list(AccountFilter {
        tenant_id: Some("even".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(even.len(), 4);
    assert!(even.iter().all(|acc| acc.tenant_id == "even"));
    assert_eq!(
        list(AccountFilter {
            environment_integration_id: Some(i2.clone()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    let sandbox = list(AccountFilter {
        is_sandbox: Some(true),
        ..Default::default()
    })
    .await;
    assert_eq!(sandbox.len(), 1);
    assert_eq!(sandbox[0].context["n"], 3);
    assert_eq!(
        list(AccountFilter {
            is_sandbox: Some(false),
            ..Default::default()
        })
        .await
        .len(),
        6
    );
    let reauth = list(AccountFilter {
        status: Some(AccountStatus::NeedsReauth),
        ..Default::default()
    })
    .await;
    assert_eq!(reauth.len(), 1);
    assert_eq!(reauth[0].context["n"], 6);
    assert_eq!(
        list(AccountFilter {
            tenant_id: Some("odd".into()),
            environment_integration_id: Some(i1.clone()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    // A filtered, paged walk.
    let p1 = s
        .list_accounts(
            &a,
            &AccountFilter {
                tenant_id: Some("even".into()),
                ..Default::default()
            },
            &PageRequest {
                limit: Some(3),
                cursor: None,
            },
        )
        .await
        .unwrap();
    let p2 = s
        .list_accounts(
            &a,
            &AccountFilter {
                tenant_id: Some("even".into()),
                ..Default::default()
            },
            &PageRequest {
                limit: Some(3),
                cursor: p1.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (p1.result.len(), p2.result.len(), p2.next_cursor),
        (3, 1, None)
    );
    // Garbage cursors and limits are input errors.
    invalid_input(
        s.list_accounts(
            &a,
            &AccountFilter::default(),
            &PageRequest {
                limit: None,
                cursor: Some("garbage!".into()),
            },
        )
        .await,
    );
    invalid_input(
        s.list_accounts(
            &a,
            &AccountFilter::default(),
            &PageRequest {
                limit: Some(0),
                cursor: None,
            },
        )
        .await,
    );
}

async fn link_token_single_use_and_expiry(h: Harness) {
    let s = h.store.clone();
    let a = env(&s, "a").await;
    let new = |ttl| NewLinkToken {
        params: LinkParams {
            tenant_id: Some("acme".into()),
            context: context(json!({"subdomain": "acme"})),
            redirect_uri: Some("https://app.example/done".into()),
            ..Default::default()
        },
        ttl,
    };
    let created = s
        .create_link_token(&a, new(Duration::from_secs(600)))
        .await
        .unwrap();
    let token = created.token.expose().to_owned();
    let debug = format!("{created:?}");
    assert!(
        !debug.contains(&token) && !debug.contains("subdomain"),
        "Debug shows neither the token nor the context: {debug}"
    );
    assert!(
        s.find_link_token(&token).await.unwrap().is_some(),
        "peeking does not consume"
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            s.consume_link_token(&token).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(t) = task.await.unwrap() {
            winners.push(t);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one consumer wins");
    assert_eq!(winners[0].params.tenant_id.as_deref(), Some("acme"));
    assert_eq!(winners[0].params.context["subdomain"], "acme");
    assert_eq!(winners[0].environment_id, a);
    assert!(s.consume_link_token(&token).await.unwrap().is_none());
    assert!(s.find_link_token(&token).await.unwrap().is_none());

    let short = s
        .create_link_token(&a, new(Duration::from_millis(300)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        s.find_link_token(short.token.expose())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.consume_link_token(short.token.expose())
            .await
            .unwrap()
            .is_none(),
        "expired tokens are refused"
    );
    assert!(s.consume_link_token("lt_unknown").await.unwrap().is_none());
}

async fn setup_outbox(s: &Store, events: usize) -> (String, Vec<String>) {
    let a = env(s, "a").await;
    let hook = s
        .create_webhook(&a, hook("https://a.example/h"))
        .await
        .unwrap()
        .webhook;
    let inactive = s.create_webhook(&a, hook_inactive()).await.unwrap().webhook;
    assert!(!inactive.is_active);
    let mut ids = Vec::new();
    for n in 0..events {
        let e = s
            .enqueue_event(&a, "integrated_account:active", &json!({"n": n}))
            .await
            .unwrap();
        assert_eq!(e.deliveries, 1, "only the active subscribed webhook");
        ids.push(e.event_id);
    }
    let unrelated = s
        .enqueue_event(&a, "sync_job_run:created", &json!({}))
        .await
        .unwrap();
    assert_eq!(unrelated.deliveries, 0);
    let _ = hook;
    (a, ids)
}

fn hook_inactive() -> NewWebhook {
    NewWebhook {
        target_url: "https://a.example/off".into(),
        event_types: vec!["*".into()],
        is_active: false,
    }
}

async fn outbox_concurrent_claims_deliver_each_once(h: Harness) {
    let (_a, event_ids) = setup_outbox(&h.store, 100).await;
    let other = h.open_again(&h.key).await.unwrap();
    let workers = [h.store.clone(), other].map(|store| {
        tokio::spawn(async move {
            let mut delivered = Vec::new();
            loop {
                let batch = store.claim_due(7, Duration::from_secs(60)).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                for d in batch {
                    assert!(store.mark_delivered(&d).await.unwrap());
                    delivered.push(d.event_id);
                }
            }
            delivered
        })
    });
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for w in workers {
        let got = w.await.unwrap();
        per_worker.push(got.len());
        all.extend(got);
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        total, 100,
        "each event delivered once (per worker: {per_worker:?})"
    );
    assert_eq!(all.len(), 100, "no event delivered twice");
    let mut expected = event_ids;
    expected.sort();
    assert_eq!(all, expected);
    assert!(
        h.store
            .claim_due(10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn outbox_failed_delivery_is_retried_later(h: Harness) {
    let s = &*h.store;
    setup_outbox(s, 1).await;
    let first = s.claim_due(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].payload, json!({"n": 0}));
    assert!(
        s.claim_due(10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "leased rows are not handed out twice"
    );
    let retry_at = chrono::Utc::now() + chrono::Duration::milliseconds(400);
    assert!(
        s.mark_failed(&first[0], "HTTP 503", Some(retry_at))
            .await
            .unwrap()
    );
    assert!(
        s.claim_due(10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "not due before retry_at"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = s.claim_due(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].id.as_str(), second[0].attempts),
        (first[0].id.as_str(), 2)
    );
    // The old lease is void.
    assert!(!s.mark_delivered(&first[0]).await.unwrap());
    // An expired lease (crashed worker) makes the row due again.
    assert!(
        s.mark_failed(&second[0], "timeout", Some(chrono::Utc::now()))
            .await
            .unwrap()
    );
    let third = s.claim_due(10, Duration::from_millis(200)).await.unwrap();
    assert_eq!(third.len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fourth = s.claim_due(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!((fourth.len(), fourth[0].attempts), (1, 4));
    assert!(
        !s.mark_delivered(&third[0]).await.unwrap(),
        "a lost lease cannot complete"
    );
    // Giving up: never claimed again.
    assert!(s.mark_failed(&fourth[0], "gone", None).await.unwrap());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        s.claim_due(10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Subscribes two webhooks in `environment`: one to `integrated_account:*`
/// (answered) and one to every event.
async fn account_and_all_hooks(s: &Store, environment: &str) -> Webhook {
    let accounts = s
        .create_webhook(environment, hook("https://a.example/accounts"))
        .await
        .unwrap()
        .webhook;
    let everything = NewWebhook {
        event_types: vec!["*".into()],
        ..hook("https://a.example/all")
    };
    s.create_webhook(environment, everything).await.unwrap();
    accounts
}

/// `account_events`: the events about one account of one environment, newest
/// first, `limit` counting events (not deliveries), each delivery's status.
async fn account_events_are_scoped_newest_first_with_their_deliveries(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let accounts = account_and_all_hooks(s, &a).await;
    s.create_webhook(&b, hook("https://b.example/h"))
        .await
        .unwrap();
    let mut queued = Vec::new();
    for (environment, event_type, payload) in [
        (&a, "integrated_account:created", json!({"id": "acc1"})),
        (&a, "integrated_account:created", json!({"id": "acc2"})),
        (&b, "integrated_account:created", json!({"id": "acc1"})),
        (&a, "integrated_account:active", json!({"id": "acc1"})),
        (
            &a,
            "records:created",
            json!({"integrated_account_id": "acc1", "id": "rec"}),
        ),
        (&a, "sync_job_run:created", json!({})),
    ] {
        queued.push(
            s.enqueue_event(environment, event_type, &payload)
                .await
                .unwrap(),
        );
        // Distinct creation times, so "newest first" has one answer.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let events = s.account_events(&a, "acc1", 10).await.unwrap();
    let seen: Vec<(&str, usize)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.deliveries.len()))
        .collect();
    assert_eq!(
        seen,
        [
            ("records:created", 1),
            ("integrated_account:active", 2),
            ("integrated_account:created", 2),
        ],
        "newest first, every delivery of each"
    );
    assert_eq!(events[1].event_id, queued[3].event_id);
    assert_eq!(events[2].event_id, queued[0].event_id);
    assert!(events[0].created_at > events[1].created_at);
    assert!(
        events
            .iter()
            .flat_map(|e| &e.deliveries)
            .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0)
    );
    // `limit` counts events: the two newest, each with all its deliveries.
    let latest = s.account_events(&a, "acc1", 2).await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[1].deliveries.len(), 2);
    // Another account, another environment: only their own events.
    let other = s.account_events(&a, "acc2", 10).await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].event_id, queued[1].event_id);
    let elsewhere = s.account_events(&b, "acc1", 10).await.unwrap();
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].event_id, queued[2].event_id);
    assert!(s.account_events(&a, "nobody", 10).await.unwrap().is_empty());
    // Deliveries report what became of them.
    for delivery in s.claim_due(100, Duration::from_secs(60)).await.unwrap() {
        if delivery.webhook_id == accounts.id {
            assert!(s.mark_delivered(&delivery).await.unwrap());
        } else {
            assert!(s.mark_failed(&delivery, "HTTP 500", None).await.unwrap());
        }
    }
    let events = s.account_events(&a, "acc1", 10).await.unwrap();
    for delivery in events.iter().flat_map(|e| &e.deliveries) {
        assert_eq!(delivery.attempts, 1);
        if delivery.webhook_id == accounts.id {
            assert_eq!(delivery.status, DeliveryStatus::Delivered);
            assert!(delivery.delivered_at.is_some() && delivery.last_error.is_none());
        } else {
            assert_eq!(delivery.status, DeliveryStatus::Dead);
            assert_eq!(delivery.last_error.as_deref(), Some("HTTP 500"));
        }
    }
}

/// The `UPDATE` of migration 0005 (`sqlite` or `postgres`): the outbox rows
/// written before rows recorded their account get it from their payload.
fn backfill(backend: &str) -> String {
    let path = format!(
        "{}/migrations/{backend}/0005_outbox_account.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .find(|statement| statement.starts_with("UPDATE"))
        .expect("the migration fills in the column")
        .to_owned()
}

async fn outbox_rows_written_before_the_account_column_are_filled_in(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let first = account_and_all_hooks(s, &a).await;
    s.enqueue_event(&a, "integrated_account:created", &json!({"id": "acc1"}))
        .await
        .unwrap();
    s.enqueue_event(
        &a,
        "records:created",
        &json!({"integrated_account_id": "acc1"}),
    )
    .await
    .unwrap();
    s.enqueue_event(&a, "records:created", &json!({"integrated_account_id": 7}))
        .await
        .unwrap();
    assert_eq!(s.account_events(&a, "acc1", 10).await.unwrap().len(), 2);
    // As a database written before the column was: no row has it.
    let forget = "UPDATE outbox SET integrated_account_id = NULL";
    h.execute_raw(forget, forget).await;
    assert!(s.account_events(&a, "acc1", 10).await.unwrap().is_empty());
    h.execute_raw(&backfill("sqlite"), &backfill("postgres"))
        .await;
    let events = s.account_events(&a, "acc1", 10).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["records:created", "integrated_account:created"]);
    assert_eq!(events[1].deliveries.len(), 2, "{events:?}");
    assert!(
        events[1]
            .deliveries
            .iter()
            .any(|d| d.webhook_id == first.id)
    );
}

async fn outbox_survives_reopening(h: Harness) {
    setup_outbox(&h.store, 3).await;
    let leased = h
        .store
        .claim_due(1, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    let Harness {
        store,
        key,
        dir,
        pg,
        ..
    } = h;
    drop(store); // "restart": the only instance goes away
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reopened = open_at(&dir, &pg, &key).await.unwrap();
    let due = reopened
        .claim_due(10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        due.len(),
        3,
        "pending and lease-expired events survive a restart"
    );
    for d in &due {
        assert!(reopened.mark_delivered(d).await.unwrap());
    }
}

async fn account_lock_is_exclusive(h: Harness) {
    let s = h.store.clone();
    let a = env(&s, "a").await;
    let install_id = install(&s, &a, "zendesk").await;
    let account = s
        .create_account(&a, new_account("t", &install_id, json!({"refreshes": 0})))
        .await
        .unwrap();
    // For Postgres, a second pool acts as a second process.
    let other = match h.kind {
        Kind::Postgres => h.open_again(&h.key).await.unwrap(),
        Kind::Sqlite => s.clone(),
    };
    let held = s.lock_account(&a, &account.id).await.unwrap();
    let blocked = tokio::time::timeout(
        Duration::from_millis(300),
        other.lock_account(&a, &account.id),
    )
    .await;
    assert!(blocked.is_err(), "the lock must be exclusive while held");
    held.release().await.unwrap();
    let got =
        tokio::time::timeout(Duration::from_secs(5), other.lock_account(&a, &account.id)).await;
    got.expect("free after release")
        .unwrap()
        .release()
        .await
        .unwrap();

    // 12 read-modify-write "refreshes" from two stores never lose an update.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 { s.clone() } else { other.clone() };
        let (a, id) = (a.clone(), account.id.clone());
        tasks.push(tokio::spawn(async move {
            let (st, a2, id2) = (store.clone(), a.clone(), id.clone());
            with_account_lock(&store, &a, &id, || async move {
                let (a, id) = (a2, id2);
                let n = st.get_account(&a, &id).await.unwrap().context["refreshes"]
                    .as_i64()
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
                st.put_account(
                    &a,
                    {
                        let mut acc = st.get_account(&a, &id).await.unwrap();
                        acc.context.insert("refreshes".into(), json!(n + 1));
                        acc
                    },
                    None,
                )
                .await
                .unwrap();
            })
            .await
            .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        s.get_account(&a, &account.id).await.unwrap().context["refreshes"],
        12
    );
}

async fn bad_input_changes_nothing(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let bad = s
        .create_integration(
            &a,
            NewIntegration {
                name: "bad".into(),
                category: None,
                is_beta: false,
                sharing: None,
                config: json!({"base_url": 42, "resources": "nope"}),
            },
        )
        .await;
    invalid_input(bad);
    assert!(
        s.list_integrations(&a, &PageRequest::default())
            .await
            .unwrap()
            .result
            .is_empty()
    );
    let good = s
        .create_integration(
            &a,
            NewIntegration {
                name: "good".into(),
                category: None,
                is_beta: false,
                sharing: None,
                config: config(),
            },
        )
        .await
        .unwrap();
    let patch = IntegrationPatch {
        version: 1,
        name: Some("renamed".into()),
        config: Some(json!(["not", "an", "object"])),
        ..Default::default()
    };
    invalid_input(s.update_integration(&a, &good.id, patch).await);
    assert_eq!(
        s.get_integration(&a, &good.id).await.unwrap(),
        good,
        "a rejected update changes nothing"
    );
    let install_id = s
        .install_integration(
            &a,
            NewEnvironmentIntegration {
                integration_id: good.id.clone(),
                show_in_catalog: true,
                is_enabled: true,
                override_: None,
            },
        )
        .await
        .unwrap()
        .id;
    let acc = s
        .create_account(&a, new_account("t", &install_id, json!({"k": "v"})))
        .await
        .unwrap();
    invalid_input(
        s.create_account(&a, new_account(" ", &install_id, json!({})))
            .await,
    );
    not_found(
        s.create_account(&a, new_account("t", "no-such-install", json!({})))
            .await,
    );
    invalid_input(
        s.create_webhook(
            &a,
            NewWebhook {
                event_types: vec!["*".into()],
                ..hook("not a url")
            },
        )
        .await,
    );
    invalid_input(
        s.create_webhook(
            &a,
            NewWebhook {
                event_types: vec!["bad type!".into()],
                ..hook("https://x.example")
            },
        )
        .await,
    );
    invalid_input(
        s.create_link_token(
            &a,
            NewLinkToken {
                params: LinkParams::default(),
                ttl: Duration::from_secs(60),
            },
        )
        .await,
    );
    // Unknown statuses do not parse into the status type the store takes.
    assert!(serde_json::from_value::<AccountStatus>(json!("bogus")).is_err());
    // In-use objects cannot be deleted from under their dependants.
    conflict(s.delete_integration(&a, &good.id).await);
    conflict(s.delete_environment_integration(&a, &install_id).await);
    assert_eq!(s.get_account(&a, &acc.id).await.unwrap(), acc);
    assert_eq!(
        s.list_webhooks(&a, &PageRequest::default())
            .await
            .unwrap()
            .result
            .len(),
        0
    );
    assert!(
        s.list_integrations(&a, &PageRequest::default())
            .await
            .unwrap()
            .result
            .len()
            == 1
    );
}

async fn facade_account_store_writes_through(h: Harness) {
    let s = h.store.clone();
    let a = env(&s, "a").await;
    let b = env(&s, "b").await;
    let install_id = install(&s, &a, "zendesk").await;
    let acc = s
        .create_account(
            &a,
            new_account(
                "t",
                &install_id,
                json!({"oauth": {"token": {"access_token": "old"}}, "subdomain": "x"}),
            ),
        )
        .await
        .unwrap();
    let facade = EnvironmentAccounts::new(s.clone(), a.clone());
    facade
        .update_context(
            &acc.id,
            context(json!({"oauth": {"token": {"access_token": "REFRESHED-TOKEN-789"}}})),
        )
        .await
        .unwrap();
    facade
        .set_status(
            &acc.id,
            AccountStatus::NeedsReauth,
            Some("refresh failed".into()),
        )
        .await
        .unwrap();
    let stored = s.get_account(&a, &acc.id).await.unwrap();
    assert_eq!(
        stored.context["oauth"]["token"]["access_token"],
        "REFRESHED-TOKEN-789"
    );
    assert_eq!(stored.context["subdomain"], "x", "other keys kept");
    assert_eq!(
        (stored.status, stored.last_error.as_deref()),
        (AccountStatus::NeedsReauth, Some("refresh failed"))
    );
    assert!(!Harness::contains(&h.raw().await, "REFRESHED-TOKEN-789"));
    // Bound to its environment.
    let other = EnvironmentAccounts::new(s.clone(), b);
    assert!(other.get(&acc.id).await.unwrap().is_none());
    assert!(other.update_context(&acc.id, Map::new()).await.is_err());
    // The unbound adapter resolves the environment.
    let all = AllAccounts::new(s.clone());
    all.set_status(&acc.id, AccountStatus::Active, None)
        .await
        .unwrap();
    assert_eq!(
        all.get(&acc.id).await.unwrap().unwrap().status,
        AccountStatus::Active
    );
    // Concurrent context merges lose no key.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let facade = facade.clone();
        let id = acc.id.clone();
        tasks.push(tokio::spawn(async move {
            facade
                .update_context(&id, context(json!({format!("k{i}"): i})))
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let merged = s.get_account(&a, &acc.id).await.unwrap().context;
    assert!(
        (0..10).all(|i| merged.contains_key(&format!("k{i}"))),
        "{merged:?}"
    );
}

async fn override_replaced_wholesale(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let install_id = install(s, &a, "zendesk").await;
    let set = |v: Value| EnvironmentIntegrationPatch {
        override_: Some(Some(context(v))),
        ..Default::default()
    };
    s.update_environment_integration(
        &a,
        &install_id,
        set(json!({"pagination": {"format": "page"}, "rate_limit": {"x": 1}})),
    )
    .await
    .unwrap();
    let updated = s
        .update_environment_integration(
            &a,
            &install_id,
            set(json!({"pagination": {"format": "cursor"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        updated.override_,
        Some(context(json!({"pagination": {"format": "cursor"}})))
    );
    let flags = s
        .update_environment_integration(
            &a,
            &install_id,
            EnvironmentIntegrationPatch {
                is_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!flags.is_enabled);
    assert_eq!(
        flags.override_, updated.override_,
        "flags alone keep the override"
    );
    let cleared = s
        .update_environment_integration(
            &a,
            &install_id,
            EnvironmentIntegrationPatch {
                override_: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.override_, None);
    assert_eq!(
        s.get_environment_integration(&a, &install_id)
            .await
            .unwrap(),
        cleared
    );
    let dup = s
        .install_integration(
            &a,
            NewEnvironmentIntegration {
                integration_id: cleared.integration_id.clone(),
                show_in_catalog: true,
                is_enabled: true,
                override_: None,
            },
        )
        .await;
    conflict(dup);
}

async fn environment_integration_environment(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let in_a = install(s, &a, "zendesk").await;
    let in_b = install(s, &b, "zendesk").await;
    assert_eq!(
        s.environment_integration_environment(&in_a).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        s.environment_integration_environment(&in_b).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        s.environment_integration_environment("no-such-install")
            .await
            .unwrap(),
        None
    );
    s.delete_environment_integration(&a, &in_a).await.unwrap();
    assert_eq!(
        s.environment_integration_environment(&in_a).await.unwrap(),
        None,
        "an uninstalled integration has no environment"
    );
}

async fn account_route_tracks_revisions(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let install_id = install(s, &a, "zendesk").await;
    let account = s
        .create_account(
            &a,
            new_account("acme", &install_id, json!({"api_token": "t"})),
        )
        .await
        .unwrap();
    let route = s.account_route(&a, &account.id).await.unwrap();
    let installed = s
        .get_environment_integration(&a, &install_id)
        .await
        .unwrap();
    let integration = s
        .get_integration(&a, &installed.integration_id)
        .await
        .unwrap();
    assert_eq!(
        route,
        AccountRoute {
            account_id: account.id.clone(),
            install: InstallRoute {
                environment_integration_id: install_id.clone(),
                integration_id: integration.id.clone(),
                integration_version: integration.version,
                install_updated_at: installed.updated_at,
                is_enabled: true,
                log_bodies: false,
            },
        }
    );
    // Another environment's account is not found; neither is a missing one.
    not_found(s.account_route(&b, &account.id).await);
    not_found(s.account_route(&a, "no-such-account").await);
    // Changes of the integration and the install show in the route.
    let updated = s
        .update_integration(
            &a,
            &integration.id,
            IntegrationPatch {
                version: integration.version,
                name: Some("zendesk-2".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let disabled = s
        .update_environment_integration(
            &a,
            &install_id,
            EnvironmentIntegrationPatch {
                is_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let route = s.account_route(&a, &account.id).await.unwrap().install;
    assert_eq!(route.integration_version, updated.version);
    assert!(route.integration_version > integration.version);
    assert_eq!(route.install_updated_at, disabled.updated_at);
    assert!(!route.is_enabled);
}

/// More accounts refreshing at once than the pool has connections: each holds
/// its lock while it writes, as a token refresh does. Without a cap on the
/// connections locks may hold, every connection would hold a lock and every
/// write would wait for a connection.
async fn many_held_locks_leave_connections_for_work(h: Harness) {
    let s = h.store.clone();
    let a = env(&s, "a").await;
    let install_id = install(&s, &a, "zendesk").await;
    let mut ids = Vec::new();
    for i in 0..16 {
        let account = s
            .create_account(
                &a,
                new_account(&format!("t{i}"), &install_id, json!({"n": 0})),
            )
            .await
            .unwrap();
        ids.push(account.id);
    }
    let work = ids.into_iter().map(|id| {
        let s = s.clone();
        let a = a.clone();
        async move {
            let lock = s.lock_account(&a, &id).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.update_context(&a, &id, context(json!({"n": 1})))
                .await
                .unwrap();
            lock.release().await.unwrap();
        }
    });
    tokio::time::timeout(Duration::from_secs(20), futures_join_all(work))
        .await
        .expect("16 concurrent locked writes finish (no pool starvation)");
}

/// An account change and its `integrated_account:*` event are one transaction:
/// when the outbox refuses the event, the change is not written either (and
/// when the outbox works, both are).
async fn account_changes_and_their_events_commit_together(h: Harness) {
    const BREAK_OUTBOX_SQLITE: &str = "CREATE TRIGGER outbox_down BEFORE INSERT ON outbox \
         BEGIN SELECT RAISE(ABORT, 'outbox down'); END;";
    const BREAK_OUTBOX_PG: &str = "CREATE OR REPLACE FUNCTION outbox_down() RETURNS trigger AS $$ \
         BEGIN RAISE EXCEPTION 'outbox down'; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER outbox_down BEFORE INSERT ON outbox \
         FOR EACH ROW EXECUTE FUNCTION outbox_down();";
    const MEND_OUTBOX_SQLITE: &str = "DROP TRIGGER outbox_down;";
    const MEND_OUTBOX_PG: &str = "DROP TRIGGER outbox_down ON outbox;";

    let s = &*h.store;
    let a = env(s, "a").await;
    let install_id = install(s, &a, "crm").await;
    s.create_webhook(&a, hook("https://a.example/h"))
        .await
        .unwrap();
    let pending = || async {
        let mut types = Vec::new();
        for d in s.claim_due(100, Duration::from_secs(60)).await.unwrap() {
            types.push(d.event_type.clone());
            assert!(s.mark_delivered(&d).await.unwrap());
        }
        types
    };

    // The outbox is down: nothing is created.
    h.execute_raw(BREAK_OUTBOX_SQLITE, BREAK_OUTBOX_PG).await;
    assert!(
        s.create_account(&a, new_account("t1", &install_id, json!({})))
            .await
            .is_err()
    );
    let listed = s
        .list_accounts(&a, &AccountFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert!(
        listed.result.is_empty(),
        "no account without its created event"
    );

    // The outbox works: the account and its event are both written.
    h.execute_raw(MEND_OUTBOX_SQLITE, MEND_OUTBOX_PG).await;
    let account = s
        .create_account(&a, new_account("t1", &install_id, json!({"k": "v"})))
        .await
        .unwrap();
    assert_eq!(pending().await, ["integrated_account:created"]);

    // Down again: neither an update nor a delete is written without its event.
    h.execute_raw(BREAK_OUTBOX_SQLITE, BREAK_OUTBOX_PG).await;
    let patch = AccountPatch {
        merge_context: Some(context(json!({"k": "changed"}))),
        status: Some(AccountStatus::NeedsReauth),
        ..Default::default()
    };
    assert!(
        s.update_account(&a, &account.id, patch.clone())
            .await
            .is_err()
    );
    assert!(s.delete_account(&a, &account.id).await.is_err());
    let kept = s.get_account(&a, &account.id).await.unwrap();
    assert_eq!(kept.status, AccountStatus::Active);
    assert_eq!(kept.context["k"], "v");

    h.execute_raw(MEND_OUTBOX_SQLITE, MEND_OUTBOX_PG).await;
    let updated = s.update_account(&a, &account.id, patch).await.unwrap();
    assert_eq!(updated.context["k"], "changed", "context keys are merged");
    s.delete_account(&a, &account.id).await.unwrap();
    assert_eq!(
        pending().await,
        ["integrated_account:updated", "integrated_account:deleted"]
    );

    // The facade's status changes (connect results, a refused token) go
    // through the account store with their event: one transaction too.
    let account = s
        .create_account(&a, new_account("t2", &install_id, json!({})))
        .await
        .unwrap();
    assert_eq!(pending().await, ["integrated_account:created"]);
    let facade = EnvironmentAccounts::new(h.store.clone(), a.clone());
    const REFUSED: &str = "integrated_account:authentication_error";
    h.execute_raw(BREAK_OUTBOX_SQLITE, BREAK_OUTBOX_PG).await;
    assert!(
        facade
            .set_status_with_event(
                &account.id,
                AccountStatus::NeedsReauth,
                Some("refused".into()),
                REFUSED
            )
            .await
            .is_err()
    );
    assert_eq!(
        s.get_account(&a, &account.id).await.unwrap().status,
        AccountStatus::Active
    );
    h.execute_raw(MEND_OUTBOX_SQLITE, MEND_OUTBOX_PG).await;
    let change = facade
        .set_status_with_event(
            &account.id,
            AccountStatus::NeedsReauth,
            Some("refused".into()),
            REFUSED,
        )
        .await
        .unwrap();
    assert!(change.event_recorded, "the store queued the event itself");
    assert_eq!(change.account.status, AccountStatus::NeedsReauth);
    assert_eq!(pending().await, [REFUSED]);
}

// ---- unified models ----

fn unified_model(name: &str) -> patchbay::unified::UnifiedModel {
    patchbay::unified::validate_unified_model(&json!({
        "name": name, "category": "crm", "resources": {"contacts": {"methods": ["get"]}}
    }))
    .unwrap()
}

fn mapping(owner: &str, method: &str, config: Value) -> NewMapping {
    NewMapping {
        owner_id: owner.into(),
        resource_name: "contacts".into(),
        integration_name: "acme".into(),
        method_name: method.into(),
        config: serde_json::from_value(config).unwrap(),
    }
}

/// Every object of the unified API written, read back (also through a second
/// store on the same database), constrained, scoped and cascaded; every write
/// grows the revision the runtime compares.
async fn unified_objects_round_trip_and_grow_revisions(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let model = s
        .create_unified_model(&a, unified_model("crm"))
        .await
        .unwrap();
    assert_eq!(model.version, 1);
    conflict(s.create_unified_model(&a, unified_model("crm")).await);
    s.create_unified_model(&b, unified_model("crm"))
        .await
        .unwrap();
    not_found(s.get_unified_model(&b, &model.id).await);

    // Not installed yet: the route says so.
    let route = s.unified_route(&a, "crm").await.unwrap();
    assert_eq!(route.unified_model_id, model.id);
    assert!(route.install.is_none());
    not_found(s.unified_route(&a, "hris").await);

    let mut revisions = vec![route.clone()];
    let mut grew = |route: UnifiedRoute, what: &str| {
        assert!(
            !revisions.contains(&route),
            "{what} did not change the route: {route:?}"
        );
        revisions.push(route);
    };
    let row = s
        .create_mapping(
            &a,
            MappingKind::Base,
            mapping(&model.id, "get", json!({"resource": "people"})),
        )
        .await
        .unwrap();
    grew(s.unified_route(&a, "crm").await.unwrap(), "a base row");
    conflict(
        s.create_mapping(&a, MappingKind::Base, mapping(&model.id, "get", json!({})))
            .await,
    );
    not_found(
        s.create_mapping(&b, MappingKind::Base, mapping(&model.id, "list", json!({})))
            .await,
    );
    let installed = s.install_unified_model(&a, &model.id, None).await.unwrap();
    grew(s.unified_route(&a, "crm").await.unwrap(), "installing");
    conflict(s.install_unified_model(&a, &model.id, None).await);
    let env_row = s
        .create_mapping(
            &a,
            MappingKind::Environment,
            mapping(&installed.id, "get", json!({"query": {"a": "1"}})),
        )
        .await
        .unwrap();
    grew(s.unified_route(&a, "crm").await.unwrap(), "an override row");

    // A second store on the same database sees the same route.
    let again = h.open_again(&h.key).await.unwrap();
    assert_eq!(
        again.unified_route(&a, "crm").await.unwrap(),
        s.unified_route(&a, "crm").await.unwrap()
    );

    // Versions: stale updates are conflicts and change nothing.
    let mut changed = row.clone();
    changed.config = serde_json::from_value(json!({"resource": "persons"})).unwrap();
    let updated = s.update_mapping(&a, changed.clone()).await.unwrap();
    assert_eq!(updated.version, 2);
    grew(
        s.unified_route(&a, "crm").await.unwrap(),
        "a base row update",
    );
    conflict(s.update_mapping(&a, changed).await);
    let read = s.get_mapping(&a, MappingKind::Base, &row.id).await.unwrap();
    assert_eq!(read.version, 2);
    assert_eq!(read.config, updated.config);
    conflict(
        s.update_unified_model(&a, &model.id, 5, unified_model("crm"))
            .await,
    );
    let mut renamed = unified_model("crm");
    renamed.description = Some("People".into());
    let model2 = s
        .update_unified_model(&a, &model.id, 1, renamed)
        .await
        .unwrap();
    assert_eq!(model2.version, 2);
    grew(s.unified_route(&a, "crm").await.unwrap(), "a model update");
    s.update_environment_unified_model(
        &a,
        &installed.id,
        Some(serde_json::from_value(json!({"docs": {"acme": "x"}})).unwrap()),
    )
    .await
    .unwrap();
    grew(
        s.unified_route(&a, "crm").await.unwrap(),
        "an override update",
    );
    let read = s
        .get_environment_unified_model(&a, &installed.id)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(read.model_override).unwrap(),
        json!({"docs": {"acme": "x"}})
    );

    // Filters.
    let filter = MappingFilter {
        owner_id: Some(model.id.clone()),
        method_name: Some("get".into()),
        version: Some(2),
        ..Default::default()
    };
    let page = s
        .list_mappings(&a, MappingKind::Base, &filter, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.result.len(), 1);
    let filter = EnvironmentUnifiedModelFilter {
        unified_model_name: Some("crm".into()),
        ..Default::default()
    };
    let page = s
        .list_environment_unified_models(&a, &filter, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.result[0].id, installed.id);
    let page = s
        .list_unified_models(
            &a,
            &UnifiedModelFilter {
                version: Some(2),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.result.len(), 1);

    // The account override survives other account writes.
    let install_id = install(s, &a, "acme").await;
    let account = s
        .create_account(&a, new_account("t", &install_id, json!({"k": "v"})))
        .await
        .unwrap();
    let layer = json!({"crm": {"contacts": {"get": {"query": {"x": "1"}}}}});
    s.set_account_unified_override(&a, &account.id, Some(&layer))
        .await
        .unwrap();
    s.update_context(&a, &account.id, context(json!({"k": "w"})))
        .await
        .unwrap();
    assert_eq!(
        s.account_unified_override(&a, &account.id).await.unwrap(),
        Some(layer)
    );
    not_found(s.account_unified_override(&b, &account.id).await);
    s.set_account_unified_override(&a, &account.id, None)
        .await
        .unwrap();
    assert_eq!(
        s.account_unified_override(&a, &account.id).await.unwrap(),
        None
    );

    // Deletes: a model is kept while installed; uninstalling and deleting cascade.
    conflict(s.delete_unified_model(&a, &model.id).await);
    s.delete_mapping(&a, MappingKind::Base, &row.id)
        .await
        .unwrap();
    grew(
        s.unified_route(&a, "crm").await.unwrap(),
        "a base row delete",
    );
    s.create_mapping(&a, MappingKind::Base, mapping(&model.id, "get", json!({})))
        .await
        .unwrap();
    s.delete_environment_unified_model(&a, &installed.id)
        .await
        .unwrap();
    not_found(
        s.get_mapping(&a, MappingKind::Environment, &env_row.id)
            .await,
    );
    assert!(s.unified_route(&a, "crm").await.unwrap().install.is_none());
    s.delete_unified_model(&a, &model.id).await.unwrap();
    let page = s
        .list_mappings(
            &a,
            MappingKind::Base,
            &MappingFilter::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(page.result.is_empty(), "{:?}", page.result);
}

/// Writers racing on one row's version: exactly one update wins per version.
async fn unified_concurrent_row_updates_one_wins(h: Harness) {
    let s = h.store.clone();
    let a = env(&s, "a").await;
    let model = s
        .create_unified_model(&a, unified_model("crm"))
        .await
        .unwrap();
    let row = s
        .create_mapping(&a, MappingKind::Base, mapping(&model.id, "get", json!({})))
        .await
        .unwrap();
    let wins = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, a, wins, mut row) = (s.clone(), a.clone(), wins.clone(), row.clone());
        tasks.push(tokio::spawn(async move {
            row.config = serde_json::from_value(json!({"query": {"n": i.to_string()}})).unwrap();
            match s.update_mapping(&a, row).await {
                Ok(_) => {
                    wins.fetch_add(1, Ordering::SeqCst);
                }
                Err(StorageError::Conflict(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(wins.load(Ordering::SeqCst), 1);
    let read = s.get_mapping(&a, MappingKind::Base, &row.id).await.unwrap();
    assert_eq!(read.version, 2);
}

async fn mcp_servers_are_hashed_scoped_revoked_and_expire(h: Harness) {
    let s = &*h.store;
    let a = env(s, "a").await;
    let b = env(s, "b").await;
    let install_a = install(s, &a, "helpdesk").await;
    let account = s
        .create_account(&a, new_account("t1", &install_a, json!({})))
        .await
        .unwrap();
    let new = |expires_at| NewMcpServer {
        integrated_account_id: account.id.clone(),
        name: "agent".into(),
        filter: patchbay::mcp::ToolFilter::new()
            .methods(["read"])
            .tags(["crm"]),
        expires_at,
    };
    let created = s.create_mcp_server(&a, new(None)).await.unwrap();
    let token = created.token.expose().to_owned();
    assert!(token.starts_with("mcp_"));
    assert!(
        !format!("{created:?}").contains(&token),
        "Debug hides the token"
    );
    assert!(
        !Harness::contains(&h.raw().await, &token),
        "stored as a hash only"
    );

    // Another process sharing the database finds it, and stops finding it once revoked.
    let again = h.open_again(&h.key).await.unwrap();
    let found = again
        .find_mcp_server(&token, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created.server);
    assert_eq!(found.filter.methods, ["read"]);
    assert_eq!(
        s.list_mcp_servers(&a, &account.id).await.unwrap(),
        std::slice::from_ref(&created.server)
    );
    assert!(matches!(
        s.list_mcp_servers(&b, &account.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        s.delete_mcp_server(&b, &account.id, &created.server.id)
            .await,
        Err(StorageError::NotFound { .. })
    ));
    s.delete_mcp_server(&a, &account.id, &created.server.id)
        .await
        .unwrap();
    assert!(
        again
            .find_mcp_server(&token, chrono::Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.list_mcp_servers(&a, &account.id)
            .await
            .unwrap()
            .is_empty()
    );

    // An expiring server answers until its expiry, then is neither found nor listed, and
    // the next creation deletes it.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(60);
    let expiring = s.create_mcp_server(&a, new(Some(soon))).await.unwrap();
    let token = expiring.token.expose().to_owned();
    assert!(
        s.find_mcp_server(&token, chrono::Utc::now())
            .await
            .unwrap()
            .is_some()
    );
    let later = soon + chrono::Duration::seconds(1);
    assert!(s.find_mcp_server(&token, later).await.unwrap().is_none());
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let expired = s.create_mcp_server(&a, new(Some(past))).await.unwrap();
    assert!(
        s.find_mcp_server(expired.token.expose(), chrono::Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.list_mcp_servers(&a, &account.id).await.unwrap(),
        [expiring.server]
    );

    // Bad input stores nothing; an account of another environment is not found.
    let mut blank = new(None);
    blank.name = " ".into();
    assert!(matches!(
        s.create_mcp_server(&a, blank).await,
        Err(StorageError::InvalidInput(_))
    ));
    assert!(matches!(
        s.create_mcp_server(&b, new(None)).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(s.list_mcp_servers(&a, &account.id).await.unwrap().len(), 1);
}

/// Console sign-in attempts counted at once through two stores on one
/// database (two server processes) share one limit: exactly the burst goes
/// ahead and the others are told how long to wait; another client has its
/// own limit, and an attempt is allowed again once the period has passed.
async fn sign_in_attempts_share_one_limit_across_stores(h: Harness) {
    let other = h.open_again(&h.key).await.unwrap();
    let limit = AttemptLimit {
        burst: 5,
        period: Duration::from_secs(60),
    };
    let tries: Vec<_> = (0..30)
        .map(|i| {
            let store = if i % 2 == 0 {
                h.store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                store
                    .count_sign_in_attempt("192.0.2.1", limit)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for attempt in tries {
        match attempt.await.unwrap() {
            None => allowed += 1,
            // Each attempt reads the clock before its statement runs, so a
            // wait may exceed the period by the time between the two.
            Some(wait) => assert!(
                wait > Duration::ZERO && wait <= Duration::from_secs(61),
                "{wait:?}"
            ),
        }
    }
    assert_eq!(allowed, 5, "the burst, once across both stores");
    let wait = other
        .count_sign_in_attempt("192.0.2.1", limit)
        .await
        .unwrap()
        .expect("still over the limit");
    assert!(wait > Duration::from_secs(50), "about one period: {wait:?}");
    assert_eq!(
        h.store
            .count_sign_in_attempt("192.0.2.2", limit)
            .await
            .unwrap(),
        None,
        "another client"
    );
    let quick = AttemptLimit {
        burst: 1,
        period: Duration::from_millis(300),
    };
    let client = "198.51.100.1";
    assert!(
        h.store
            .count_sign_in_attempt(client, quick)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        other
            .count_sign_in_attempt(client, quick)
            .await
            .unwrap()
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        other
            .count_sign_in_attempt(client, quick)
            .await
            .unwrap()
            .is_none()
    );
}
