//! Two real `patchbay-server` processes on one Postgres database behave as one:
//! an expired account's token refresh happens once across both, and each
//! webhook event is delivered once although both processes run a delivery
//! worker, and a unified mapping changed through one process takes effect on
//! the other's next unified call. With `REDIS_URL` they also keep one
//! account's pace (`PATCHBAY_PACING`) together: the provider sees the pace,
//! not twice it (as it does without Redis).
//!
//! Each test creates a fresh database on the local Postgres server
//! (`PATCHBAY_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`) and drops it at the end. Without
//! a reachable Postgres the tests are reported ignored, or fail when `CI=true`
//! (`docs/testing.md`). The pacing tests need Redis too
//! (`PATCHBAY_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`), with a key
//! prefix of their own.
//! The provider is the simulator (Slack, which rotates refresh tokens: a second
//! refresh with the old refresh token would be rejected).

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Child;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchbay::simulator::{
    Account, Endpoints, Fault, FaultRule, FaultScript, Provider, ProviderSetup, RunningSimulator,
    Simulator,
};
use patchbay_server::store::Cipher;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use patchbay_testkit::{Runtime, tokio_test};
use support::postgres::{self, POSTGRES};
use support::process::{server_command, stderr_log, stdout_log};
use support::redis::REDIS;
/// How long a server process may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- database

/// A database of its own on the test server.
struct Database {
    admin: PgConnectOptions,
    name: String,
    /// The `DATABASE_URL` of the servers.
    url: String,
}

/// Creates `patchbay_2p_<random>`.
async fn create_database() -> Database {
    let admin_url = postgres::url();
    let admin = PgConnectOptions::from_str(&admin_url).expect("PATCHBAY_TEST_POSTGRES_URL");
    let mut conn = postgres::admin().await;
    let name = format!("patchbay_2p_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let url = admin.clone().database(&name).to_url_lossy().to_string();
    Database { admin, name, url }
}

impl Database {
    async fn drop_database(&self) {
        let mut conn = PgConnection::connect_with(&self.admin)
            .await
            .expect("connect to drop the test database");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .expect("DROP DATABASE");
    }
}

/// Runs `case` against a fresh database, then drops it (also when `case`
/// panics: its server processes are killed by then).
async fn with_database<F, Fut>(case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let database = create_database().await;
    let outcome = tokio::spawn(case(database.url.clone())).await;
    database.drop_database().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

// ---------------------------------------------------------------- processes

/// A running server process, killed when dropped (also on panic).
struct ServerProcess {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl ServerProcess {
    /// Starts the server binary on a random port over `database_url`, with the
    /// variables `env`, and waits until its log says where it listens.
    async fn start(database_url: &str, key: &str, env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = server_command(key, dir.path())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("DATABASE_URL", database_url)
            .env("PATCHBAY_ADDR", "127.0.0.1:0")
            // The simulated provider listens on loopback.
            .env("PATCHBAY_ALLOWED_DESTINATIONS", "loopback")
            .env("PATCHBAY_DATA_DIR", dir.path().join("data"))
            .spawn()
            .expect("start patchbay-server");
        let mut process = Self {
            child,
            base: String::new(),
            dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(addr) = process.listening_addr() {
                process.base = format!("http://{addr}");
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!(
                    "patchbay-server exited with {status}:\n{}",
                    process.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "patchbay-server did not start listening within {START_TIMEOUT:?}:\n{}",
                process.stderr()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn stderr(&self) -> String {
        strip_ansi(&read(&stderr_log(self.dir.path())))
    }

    /// The address of the "patchbay-server listening addr=..." log line.
    fn listening_addr(&self) -> Option<String> {
        let log = self.stderr();
        let line = log
            .lines()
            .find(|line| line.contains("patchbay-server listening"))?;
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))?;
        Some(addr.to_owned())
    }

    /// The bootstrap API token printed on the database's first start.
    fn bootstrap_token(&self) -> String {
        let out = read(&stdout_log(self.dir.path()));
        out.lines()
            .map(str::trim)
            .find(|line| line.starts_with("pb_"))
            .unwrap_or_else(|| panic!("no bootstrap token on stdout:\n{out}"))
            .to_owned()
    }
}

/// Two server processes on one fresh database, and an API client.
struct Cluster {
    processes: [ServerProcess; 2],
    token: String,
    http: reqwest::Client,
}

impl Cluster {
    /// Starts the first process (which migrates and bootstraps the database),
    /// then the second with the same key.
    async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// [`start`](Self::start) with the variables `env` in both processes.
    async fn start_with(database_url: &str, env: &[(&str, String)]) -> Self {
        let key = Cipher::generate_key_base64().to_string();
        let first = ServerProcess::start(database_url, &key, env).await;
        let token = first.bootstrap_token();
        let second = ServerProcess::start(database_url, &key, env).await;
        Self {
            processes: [first, second],
            token,
            http: reqwest::Client::new(),
        }
    }

    /// `method path` on process `i` (0 or 1) with the API token.
    async fn send(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        send(
            &self.http,
            &self.processes[i].base,
            &self.token,
            method,
            path,
            body,
        )
        .await
    }
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request to patchbay-server");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

// ---------------------------------------------------------------- setup

/// The Slack catalog config with its token endpoint and API at the simulator.
fn slack_config(sim: &RunningSimulator) -> Value {
    let path = format!(
        "{}/../../examples/catalog/slack.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let auth = &mut config["credentials"]["config"]["auth"];
    for key in ["tokenPath", "authorizePath"] {
        let path = format!("/slack{}", auth[key].as_str().unwrap());
        auth[key] = json!(path);
    }
    auth["tokenHost"] = json!(sim.base_url());
    auth["authorizeHost"] = json!(sim.base_url());
    config["base_url"] = json!(sim.api_base_url(Provider::Slack));
    config
}

/// Creates the Slack integration through process 0 and installs it with the
/// simulator's OAuth app; the install's id.
async fn install_slack(cluster: &Cluster, sim: &RunningSimulator) -> String {
    let (status, integration) = cluster
        .send(
            0,
            Method::POST,
            "/integration",
            Some(json!({"name": "slack", "category": "chat", "config": slack_config(sim)})),
        )
        .await;
    assert_eq!(status, 201, "{integration}");
    let override_ = json!({"credentials": {"config": {"client": {
        "id": "slack-client-id", "secret": "slack-client-secret"
    }}}});
    let (status, install) = cluster
        .send(
            0,
            Method::POST,
            "/environment-integration",
            Some(json!({"integration_id": integration["id"], "override": override_})),
        )
        .await;
    assert_eq!(status, 201, "{install}");
    install["id"].as_str().unwrap().to_owned()
}

/// Imports an account through process `i`; its id.
async fn import(
    cluster: &Cluster,
    i: usize,
    install_id: &str,
    tenant: &str,
    token: Value,
) -> String {
    let (status, account) = cluster
        .send(
            i,
            Method::POST,
            "/integrated-account",
            Some(json!({
                "tenant_id": tenant,
                "environment_integration_id": install_id,
                "authentication_method": "oauth2",
                "context": {"oauth": {"token": token}}
            })),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    account["id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- tests

/// A sync job run executed by one process survives that process's `kill -9`: the other
/// process's engine takes the run's task back (the dead worker's heartbeats stopped) once
/// its lease expired, resumes it from the last checkpoint and completes it; every record
/// reaches the webhook receiver, each sequence number with one record, `started` once.
async fn a_sync_run_survives_kill_9_of_the_process_running_it() {
    const TICKETS: u64 = 30;
    with_database(|database_url| async move {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&receiver)
            .await;
        // Every Zendesk request takes 200 ms: the run (15 pages) lasts about 3 s.
        let slow = FaultRule::provider(
            Provider::Zendesk,
            FaultScript::new().then(Fault::Delay(Duration::from_millis(200)), 10_000),
        );
        let sim = Simulator::builder()
            .setup(ProviderSetup::new(Provider::Zendesk).records(TICKETS))
            .fault(slow)
            .start()
            .await
            .unwrap();
        let env = [
            ("PATCHBAY_SYNC_LEASE_SECS", "3".to_owned()),
            ("PATCHBAY_SYNC_SWEEP_SECS", "1".to_owned()),
            ("PATCHBAY_SYNC_PAGE_SIZE", "2".to_owned()),
            // Deliveries the dead process had claimed stay leased for a minute; receiver
            // backpressure (tested in sync_jobs.rs) would hold the run that long.
            ("PATCHBAY_SYNC_DELIVERY_WINDOW", "0".to_owned()),
        ];
        let mut cluster = Cluster::start_with(&database_url, &env).await;
        let catalog = support::connect::catalog_json("zendesk");
        let overlay = sim.catalog_override(Provider::Zendesk, &catalog);
        let (status, integration) = cluster
            .send(0, Method::POST, "/integration", Some(json!({"name": "zendesk", "config": catalog})))
            .await;
        assert_eq!(status, 201, "{integration}");
        let (status, install) = cluster
            .send(
                0,
                Method::POST,
                "/environment-integration",
                Some(json!({"integration_id": integration["id"], "override": overlay})),
            )
            .await;
        assert_eq!(status, 201, "{install}");
        let (status, account) = cluster
            .send(
                0,
                Method::POST,
                "/integrated-account",
                Some(json!({
                    "tenant_id": "tenant-1",
                    "environment_integration_id": install["id"],
                    "authentication_method": "api_key",
                    "context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}
                })),
            )
            .await;
        assert_eq!(status, 201, "{account}");
        let (status, hook) = cluster
            .send(
                1,
                Method::POST,
                "/webhook",
                Some(json!({"target_url": format!("{}/hook", receiver.uri()), "event_types": ["sync_job_run:*"]})),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        let (status, job) = cluster
            .send(
                0,
                Method::POST,
                "/sync-job",
                Some(json!({"integration_name": "zendesk", "resources": [
                    {"resource": "tickets", "method": "list", "persist": true}
                ]})),
            )
            .await;
        assert_eq!(status, 201, "{job}");
        let (status, run) = cluster
            .send(
                0,
                Method::POST,
                "/sync-job-run",
                Some(json!({"sync_job_id": job["id"], "integrated_account_id": account["id"]})),
            )
            .await;
        assert_eq!(status, 201, "{run}");
        let run_id = run["id"].as_str().unwrap().to_owned();

        // Once a few pages are delivered, find the process holding the run and kill it.
        let mut db = PgConnection::connect(&database_url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let owner = loop {
            let (_, got) = cluster
                .send(0, Method::GET, &format!("/sync-job-run/{run_id}"), None)
                .await;
            let records = got["resource_stats"]["tickets"]["records"].as_u64().unwrap_or(0);
            let owner: Option<String> =
                sqlx::query_scalar("SELECT lease_owner FROM sync_job_runs WHERE id = $1")
                    .bind(&run_id)
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            if records >= 6 && let Some(owner) = owner {
                assert_eq!(got["status"], "running", "{got}");
                break owner;
            }
            assert!(Instant::now() < deadline, "the run made no progress: {got}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let pid: u32 = owner.split('-').next().unwrap().parse().unwrap();
        let dead = cluster
            .processes
            .iter()
            .position(|p| p.child.id() == pid)
            .unwrap_or_else(|| panic!("the lease owner {owner} is neither process"));
        let survivor = 1 - dead;
        cluster.processes[dead].child.kill().unwrap(); // SIGKILL
        cluster.processes[dead].child.wait().unwrap();
        let killed_at = Instant::now();

        let deadline = Instant::now() + Duration::from_secs(60);
        let done = loop {
            let (_, got) = cluster
                .send(survivor, Method::GET, &format!("/sync-job-run/{run_id}"), None)
                .await;
            if got["status"] != "running" && got["status"] != "created" {
                break got;
            }
            assert!(
                Instant::now() < deadline,
                "the surviving process did not finish the run: {got}\n{}",
                cluster.processes[survivor].stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["resource_stats"]["tickets"]["records"], TICKETS);
        let resumed_after = killed_at.elapsed();

        // Every record delivered (sequence → ticket id, the same on a repeat), `started`
        // once, `completed` delivered.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut sequences: std::collections::BTreeMap<u64, String> = Default::default();
            let mut started = 0;
            let mut completed = 0;
            for request in receiver.received_requests().await.unwrap() {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                match body["event"].as_str().unwrap() {
                    "sync_job_run:started" => started += 1,
                    "sync_job_run:completed" => completed += 1,
                    "sync_job_run:record" => {
                        for record in body["payload"]["records"].as_array().unwrap() {
                            let id = record["data"]["id"].to_string();
                            let sequence = record["sequence"].as_u64().unwrap();
                            let first = sequences.entry(sequence).or_insert_with(|| id.clone());
                            assert_eq!(first, &id, "sequence {sequence} names two records");
                        }
                    }
                    _ => {}
                }
            }
            if completed >= 1 && sequences.len() as u64 == TICKETS {
                assert_eq!(started, 1, "started once");
                let ids: std::collections::BTreeSet<u64> = sequences
                    .into_values()
                    .map(|id| id.trim_matches('"').parse().unwrap())
                    .collect();
                assert_eq!(ids, (1..=TICKETS).collect(), "every ticket once");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not every record was delivered: {} of {TICKETS}, completed {completed}",
                sequences.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("kill -9: the run completed {resumed_after:?} after its process died");
        sim.shutdown().await;
    })
    .await;
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "an_expired_account_is_refreshed_once_across_two_processes",
            Runtime::MultiThread(4),
            an_expired_account_is_refreshed_once_across_two_processes,
        )
        .needs(&POSTGRES),
        tokio_test(
            "a_sync_run_survives_kill_9_of_the_process_running_it",
            Runtime::MultiThread(4),
            a_sync_run_survives_kill_9_of_the_process_running_it,
        )
        .needs(&POSTGRES),
        tokio_test(
            "a_revoked_token_is_refused_by_every_process_at_once",
            Runtime::MultiThread(4),
            a_revoked_token_is_refused_by_every_process_at_once,
        )
        .needs(&POSTGRES),
        tokio_test(
            "each_webhook_event_is_delivered_once_by_two_processes",
            Runtime::MultiThread(4),
            each_webhook_event_is_delivered_once_by_two_processes,
        )
        .needs(&POSTGRES),
        tokio_test(
            "a_unified_mapping_changed_through_one_process_applies_in_the_other",
            Runtime::MultiThread(4),
            a_unified_mapping_changed_through_one_process_applies_in_the_other,
        )
        .needs(&POSTGRES),
        tokio_test(
            "two_processes_on_one_redis_keep_an_accounts_pace_together",
            Runtime::MultiThread(4),
            two_processes_on_one_redis_keep_an_accounts_pace_together,
        )
        .needs(&POSTGRES)
        .needs(&REDIS),
        tokio_test(
            "without_redis_each_process_keeps_the_pace_alone",
            Runtime::MultiThread(4),
            without_redis_each_process_keeps_the_pace_alone,
        )
        .needs(&POSTGRES),
    ])
}

async fn a_revoked_token_is_refused_by_every_process_at_once() {
    with_database(|database_url| async move {
        let cluster = Cluster::start(&database_url).await;
        let (status, created) = cluster
            .send(0, Method::POST, "/api-token", Some(json!({"name": "ci"})))
            .await;
        assert_eq!(status, 201, "{created}");
        let value = created["token"].as_str().unwrap().to_owned();
        let id = created["id"].as_str().unwrap().to_owned();
        for process in &cluster.processes {
            let (status, body) = send(
                &cluster.http,
                &process.base,
                &value,
                Method::GET,
                "/ping",
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = cluster
            .send(1, Method::DELETE, &format!("/api-token/{id}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        // No cache anywhere: the very next request on either process is refused.
        for process in &cluster.processes {
            let (status, body) = send(
                &cluster.http,
                &process.base,
                &value,
                Method::GET,
                "/ping",
                None,
            )
            .await;
            assert_eq!(status, 401, "{body}");
        }
    })
    .await;
}

async fn an_expired_account_is_refreshed_once_across_two_processes() {
    with_database(|database_url| async move {
        let sim = Simulator::builder()
            .setup(
                ProviderSetup::new(Provider::Slack).records(5).account(
                    Account::new("acme")
                        .access_token("xoxe.xoxp-expired")
                        .refresh_token("xoxe-1-rt")
                        .expires_in(Duration::ZERO),
                ),
            )
            // A slow token endpoint: both processes are sure to want the
            // refresh while it is in flight.
            .fault(
                FaultRule::provider(
                    Provider::Slack,
                    FaultScript::always(Fault::Delay(Duration::from_millis(300))),
                )
                .endpoints(Endpoints::Token),
            )
            .start()
            .await
            .unwrap();
        let cluster = Cluster::start(&database_url).await;
        let install_id = install_slack(&cluster, &sim).await;
        let account_id = import(
            &cluster,
            0,
            &install_id,
            "acme",
            json!({
                "access_token": "xoxe.xoxp-expired",
                "refresh_token": "xoxe-1-rt",
                "expires_at": "2020-01-01T00:00:00.000Z"
            }),
        )
        .await;

        let mut calls = tokio::task::JoinSet::new();
        for i in 0..40 {
            let process = i % 2;
            let (http, base, token) = (
                cluster.http.clone(),
                cluster.processes[process].base.clone(),
                cluster.token.clone(),
            );
            let path = format!("/proxy/channels?integrated_account_id={account_id}");
            calls.spawn(async move {
                let (status, body) = send(&http, &base, &token, Method::GET, &path, None).await;
                (process, status, body)
            });
        }
        let mut by_process = [0; 2];
        while let Some(call) = calls.join_next().await {
            let (process, status, body) = call.unwrap();
            assert_eq!(status, 200, "process {process}: {body}");
            assert_eq!(body["result"].as_array().map(Vec::len), Some(5), "{body}");
            by_process[process] += 1;
        }
        assert_eq!(by_process, [20, 20]);

        let counts = sim.stats().token_requests(Provider::Slack);
        assert_eq!(
            counts.refresh_token, 1,
            "one refresh across both processes: {counts:?}"
        );
        assert_eq!(counts.rejected, 0, "{counts:?}");

        // Both processes still agree on the account: active, refreshed tokens.
        for process in 0..2 {
            let (status, account) = cluster
                .send(
                    process,
                    Method::GET,
                    &format!("/integrated-account/{account_id}"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{account}");
            assert_eq!(account["status"], "active", "{account}");
        }
        sim.shutdown().await;
    })
    .await;
}

async fn each_webhook_event_is_delivered_once_by_two_processes() {
    const ACCOUNTS: usize = 8;
    with_database(|database_url| async move {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&receiver)
            .await;
        let sim = Simulator::builder()
            .provider(Provider::Slack)
            .start()
            .await
            .unwrap();
        let cluster = Cluster::start(&database_url).await;
        let install_id = install_slack(&cluster, &sim).await;
        let (status, webhook) = cluster
            .send(
                1,
                Method::POST,
                "/webhook",
                Some(json!({
                    "target_url": format!("{}/hook", receiver.uri()),
                    "event_types": ["integrated_account:created"]
                })),
            )
            .await;
        assert_eq!(status, 201, "{webhook}");

        let mut imported = Vec::new();
        for n in 0..ACCOUNTS {
            let token = json!({"access_token": format!("xoxp-{n}")});
            imported
                .push(import(&cluster, n % 2, &install_id, &format!("tenant-{n}"), token).await);
        }

        // Wait for every event, then a few poll intervals more for duplicates.
        let deadline = Instant::now() + Duration::from_secs(15);
        while receiver.received_requests().await.unwrap().len() < ACCOUNTS {
            assert!(
                Instant::now() < deadline,
                "only {} of {ACCOUNTS} events delivered",
                receiver.received_requests().await.unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;

        let mut delivered: HashMap<String, usize> = HashMap::new();
        for request in receiver.received_requests().await.unwrap() {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body["event"], "integrated_account:created", "{body}");
            let account = body["payload"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *delivered.entry(account).or_default() += 1;
        }
        for id in &imported {
            assert_eq!(
                delivered.get(id),
                Some(&1),
                "deliveries per account: {delivered:?}"
            );
        }
        assert_eq!(delivered.len(), ACCOUNTS, "{delivered:?}");
        sim.shutdown().await;
    })
    .await;
}

/// Process 1 registers the crm mappings on its first unified call; changes
/// made through process 0 (a base row, a new environment override row, the
/// model uninstalled) apply to process 1's next call.
async fn a_unified_mapping_changed_through_one_process_applies_in_the_other() {
    with_database(|database_url| async move {
        let provider = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/people/1"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": 1, "first": "Ann"})),
            )
            .mount(&provider)
            .await;
        let cluster = Cluster::start(&database_url).await;
        let created = |path: &'static str, body: Value| {
            let cluster = &cluster;
            async move {
                let (status, answer) = cluster.send(0, Method::POST, path, Some(body)).await;
                assert_eq!(status, 201, "POST {path}: {answer}");
                answer["id"].as_str().unwrap().to_owned()
            }
        };
        let integration = created(
            "/integration",
            json!({"name": "acme", "config": {
                "base_url": provider.uri(),
                "credentials": {"format": "api_key", "config": {"fields": [{"name": "api_key", "type": "password"}]}},
                "authorization": {"format": "basic", "config": {"username": "{{api_key}}", "password": "x"}},
                "resources": {"people": {"get": {"path": "/people/{{id}}"}}}
            }}),
        )
        .await;
        let install = created(
            "/environment-integration",
            json!({"integration_id": integration}),
        )
        .await;
        let account = created(
            "/integrated-account",
            json!({"tenant_id": "t", "environment_integration_id": install,
                   "authentication_method": "api_key", "context": {"api_key": "k"}}),
        )
        .await;
        let model = created(
            "/unified-model",
            json!({"name": "crm", "resources": {"contacts": {}}}),
        )
        .await;
        let row = created(
            "/unified-model-resource-method",
            json!({"unified_model_id": model, "resource_name": "contacts",
                   "integration_name": "acme", "method_name": "get",
                   "config": {"resource": "people", "response_mapping": "response.{ \"name\": first }"}}),
        )
        .await;
        let installed = created(
            "/environment-unified-model",
            json!({"unified_model_id": model}),
        )
        .await;
        let url = format!("/unified/crm/contacts/1?integrated_account_id={account}");
        let call = || cluster.send(1, Method::GET, &url, None);

        let (status, answer) = call().await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["name"], "Ann");

        let (status, answer) = cluster
            .send(
                0,
                Method::PATCH,
                &format!("/unified-model-resource-method/{row}"),
                Some(json!({"config": {"response_mapping": "response.{ \"name\": $uppercase(first) }"}})),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(call().await.1["name"], "ANN");

        created(
            "/environment-unified-model-resource-method",
            json!({"environment_unified_model_id": installed, "resource_name": "contacts",
                   "integration_name": "acme", "method_name": "get",
                   "config": {"response_mapping": "response.{ \"name\": \"from the environment\" }"}}),
        )
        .await;
        assert_eq!(call().await.1["name"], "from the environment");

        let (status, _) = cluster
            .send(
                0,
                Method::DELETE,
                &format!("/environment-unified-model/{installed}"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let (status, answer) = call().await;
        assert_eq!(status, 404, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("not installed"),
            "{answer}"
        );
    })
    .await;
}

// ---------------------------------------------------------------- pacing

/// The pace of the pacing tests: 10 requests a second per account, evenly
/// spaced (burst 1).
const PACE: &str = "10/s";
const PACE_PER_SECOND: f64 = 10.0;
/// How long the clients call.
const HAMMER_FOR: Duration = Duration::from_secs(4);
/// Clients per process, each calling as fast as it is answered.
const CLIENTS_PER_PROCESS: usize = 8;

/// A provider that answers an empty page and notes when each request arrived.
#[derive(Clone, Default)]
struct ArrivalLog(Arc<Mutex<Vec<Instant>>>);

impl Respond for ArrivalLog {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(200).set_body_json(json!({"items": []}))
    }
}

/// What the provider saw of one account's calls.
#[derive(Debug)]
struct Arrivals {
    count: usize,
    /// Requests per second between the first and the last.
    rate: f64,
    /// The most requests in any one second.
    max_in_a_second: usize,
}

impl Arrivals {
    fn of(mut times: Vec<Instant>) -> Self {
        times.sort();
        let count = times.len();
        let span = times[count - 1].duration_since(times[0]).as_secs_f64();
        let max_in_a_second = (0..count)
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0);
        Self {
            count,
            rate: (count - 1) as f64 / span,
            max_in_a_second,
        }
    }
}

/// Two processes started with `PATCHBAY_PACING=10/s` and `env`; both call one
/// account's list through `/proxy` from [`CLIENTS_PER_PROCESS`] clients each
/// for [`HAMMER_FOR`]. Every call must succeed; answers what the provider saw.
async fn hammer_one_account(database_url: &str, env: &[(&str, String)]) -> Arrivals {
    let arrivals = ArrivalLog::default();
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(arrivals.clone())
        .mount(&provider)
        .await;
    let mut env = env.to_vec();
    env.push(("PATCHBAY_PACING", PACE.to_owned()));
    let cluster = Cluster::start_with(database_url, &env).await;
    let created = |path: &'static str, body: Value| {
        let cluster = &cluster;
        async move {
            let (status, answer) = cluster.send(0, Method::POST, path, Some(body)).await;
            assert_eq!(status, 201, "POST {path}: {answer}");
            answer["id"].as_str().unwrap().to_owned()
        }
    };
    let integration = created(
        "/integration",
        json!({"name": "paced", "config": {
            "base_url": provider.uri(),
            "resources": {"items": {"list": {"path": "/items", "response_path": "items"}}}
        }}),
    )
    .await;
    let install = created(
        "/environment-integration",
        json!({"integration_id": integration}),
    )
    .await;
    let account = created(
        "/integrated-account",
        json!({"tenant_id": "t", "environment_integration_id": install,
               "authentication_method": "api_key", "context": {}}),
    )
    .await;

    let until = Instant::now() + HAMMER_FOR;
    let mut clients = tokio::task::JoinSet::new();
    for process in 0..2 {
        for _ in 0..CLIENTS_PER_PROCESS {
            let (http, base, token) = (
                cluster.http.clone(),
                cluster.processes[process].base.clone(),
                cluster.token.clone(),
            );
            let path = format!("/proxy/items?integrated_account_id={account}");
            clients.spawn(async move {
                while Instant::now() < until {
                    let (status, body) = send(&http, &base, &token, Method::GET, &path, None).await;
                    assert_eq!(status, 200, "process {process}: {body}");
                }
            });
        }
    }
    while let Some(client) = clients.join_next().await {
        client.unwrap();
    }
    let times = arrivals.0.lock().unwrap().clone();
    Arrivals::of(times)
}

async fn two_processes_on_one_redis_keep_an_accounts_pace_together() {
    with_database(|database_url| async move {
        let prefix = format!("patchbay-test:{}:", uuid::Uuid::new_v4().simple());
        let seen = hammer_one_account(
            &database_url,
            &[
                ("REDIS_URL", support::redis::url()),
                ("PATCHBAY_PACING_KEY_PREFIX", prefix),
            ],
        )
        .await;
        eprintln!("two processes, one Redis: {seen:?}");
        // One pace for both: 10/s, evenly spaced (a little slack for loopback jitter).
        assert!(
            seen.rate <= PACE_PER_SECOND * 1.1,
            "the provider saw more than the pace: {seen:?}"
        );
        assert!(seen.max_in_a_second <= 12, "{seen:?}");
        // ... and the pace is used, not wasted.
        assert!(seen.rate >= PACE_PER_SECOND * 0.8, "{seen:?}");
        assert!(seen.count >= 35, "{seen:?}");
    })
    .await;
}

/// The control: the same load without Redis reaches the provider at about
/// twice the pace, so the shared test can fail.
async fn without_redis_each_process_keeps_the_pace_alone() {
    with_database(|database_url| async move {
        let seen = hammer_one_account(&database_url, &[]).await;
        eprintln!("two processes, no Redis: {seen:?}");
        assert!(
            seen.rate >= PACE_PER_SECOND * 1.6 && seen.rate <= PACE_PER_SECOND * 2.2,
            "each process paces alone: {seen:?}"
        );
    })
    .await;
}
