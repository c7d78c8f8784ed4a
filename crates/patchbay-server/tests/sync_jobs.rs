//! Sync jobs over real HTTP on loopback: `/sync-job` and `/sync-job-run` against the
//! provider simulator (Zendesk), runs executed in the background with their checkpoints in
//! the store, and their `sync_job_run:*` events delivered by the webhook worker to a
//! wiremock receiver. SQLite in a temp dir; the same scenario on Postgres is reported
//! ignored without it, or fails when `CI=true` (`docs/testing.md`). A run whose executor
//! dies mid-run (its task aborted, its lease left to expire) is resumed by another
//! executor from its last checkpoint. A run with a `datastore_id` upserts its records into
//! the datastore's tables (looked at with sqlx directly), on SQLite and Postgres.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use patchbay::simulator::{
    Fault, FaultRule, FaultScript, Provider, ProviderSetup, RunningSimulator, Simulator,
};
use patchbay_server::delivery::{DeliveryOptions, DeliveryWorker};
use patchbay_server::store::{NewSyncJobRun, RunLimits};
use patchbay_server::sync::{SyncOptions, SyncRuns};
use patchbay_testkit::{Runtime::MultiThread, tokio_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::connect::catalog_json;
use support::postgres::{self, POSTGRES};
use support::{TestServer, id_of};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Tickets the simulator serves; each has 3 comments (ids `ticket * 100 + k`).
const TICKETS: u64 = 5;
const COMMENTS_PER_TICKET: u64 = 3;
/// The page size runs ask for.
const PAGE: u64 = 2;

/// Tickets, then each ticket's comments, both delivered (proxy resources persist only
/// when asked).
fn job() -> Value {
    json!({
        "integration_name": "zendesk",
        "label": "Zendesk tickets and comments",
        "args_schema": {"type": "object", "properties": {"since": {"type": "string", "format": "date"}}},
        "mutex_key": "{{integrated_account_id}}",
        "resources": [
            {"resource": "tickets", "method": "list", "persist": true},
            {"resource": "ticket_comments", "method": "list", "persist": true,
             "depends_on": "tickets", "query": {"ticket_id": "{{resources.tickets.id}}"}}
        ]
    })
}

/// What [`job`] delivers, in order: a page of tickets, then those tickets' comments.
fn expected() -> Vec<(String, String)> {
    let tickets: Vec<u64> = (1..=TICKETS).collect();
    let mut out = Vec::new();
    for chunk in tickets.chunks(PAGE as usize) {
        for t in chunk {
            out.push(("tickets".to_owned(), t.to_string()));
        }
        for t in chunk {
            for k in 1..=COMMENTS_PER_TICKET {
                out.push(("ticket_comments".to_owned(), (t * 100 + k).to_string()));
            }
        }
    }
    out
}

fn sync_options() -> SyncOptions {
    SyncOptions {
        lease: Duration::from_secs(2),
        sweep_interval: Duration::from_secs(1),
        poll_interval: Duration::from_millis(50),
        // The scenarios deliver events once the run is done (`drain`); receiver
        // backpressure has its own test.
        delivery_window: 0,
        page_size: Some(PAGE),
        default_rate_limit_wait: Duration::from_millis(50),
        ..SyncOptions::default()
    }
}

/// [`sync_options`] with a lease long enough that a loaded machine renews it in time (the
/// run-control tests do not kill executors).
fn control_options() -> SyncOptions {
    SyncOptions {
        lease: Duration::from_secs(10),
        ..sync_options()
    }
}

fn delivery_options() -> DeliveryOptions {
    DeliveryOptions::default()
        .with_destinations(
            patchbay::egress::DestinationPolicy::from_allow_list("loopback").unwrap(),
        )
        .with_poll_interval(Duration::from_millis(10))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
        .with_request_timeout(Duration::from_secs(5))
}

async fn simulator(faults: Vec<FaultRule>) -> RunningSimulator {
    let mut sim =
        Simulator::builder().setup(ProviderSetup::new(Provider::Zendesk).records(TICKETS));
    for fault in faults {
        sim = sim.fault(fault);
    }
    sim.start().await.expect("the simulator starts")
}

/// Installs the catalog's Zendesk config pointed at `sim` and imports an account; answers
/// its id.
async fn zendesk_account(server: &TestServer, sim: &RunningSimulator) -> String {
    zendesk_accounts(server, sim, 1).await.remove(0)
}

/// As [`zendesk_account`], with `n` accounts of the one install (tenants `tenant-1`...).
async fn zendesk_accounts(server: &TestServer, sim: &RunningSimulator, n: usize) -> Vec<String> {
    let catalog = catalog_json("zendesk");
    let overlay = sim.catalog_override(Provider::Zendesk, &catalog);
    let install = server
        .install(json!({"name": "zendesk", "config": catalog}), Some(overlay))
        .await
        .install_id;
    let mut accounts = Vec::new();
    for i in 1..=n {
        let account = server
            .import(
                &install,
                &format!("tenant-{i}"),
                json!({"context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}}),
            )
            .await;
        accounts.push(id_of(&account));
    }
    accounts
}

/// A receiver answering 200 to every POST, subscribed to `sync_job_run:*` through the API.
async fn receiver(server: &TestServer) -> MockServer {
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let (status, body) = server
        .send(
            Method::POST,
            "/webhook",
            Some(json!({"target_url": format!("{}/hooks", hooks.uri()), "event_types": ["sync_job_run:*"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    hooks
}

/// Delivers every queued event to the receivers.
async fn drain(worker: &DeliveryWorker) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = worker.tick().await.unwrap();
        if report.claimed == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain");
    }
}

/// The `(event, payload)` of every delivery `hooks` received, in delivery order.
async fn events(hooks: &MockServer) -> Vec<(String, Value)> {
    hooks
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (
                body["event"].as_str().unwrap().to_owned(),
                body["payload"].clone(),
            )
        })
        .collect()
}

/// The `sync_job_run:*` events queued in the outbox about `account`, in queue order (the
/// delivery worker sends a batch concurrently, so receivers may see another order).
async fn queued(server: &TestServer, account: &str) -> Vec<String> {
    let mut events = server
        .store
        .account_events(&server.environment_id, account, 1000)
        .await
        .unwrap();
    events.reverse();
    events
        .into_iter()
        .map(|e| e.event_type)
        .filter(|name| name.starts_with("sync_job_run:"))
        .collect()
}

/// Asserts Truto's order: `created` (when `created`), `started`, records, `completed`.
fn assert_truto_order(names: &[String], created: bool) {
    let mut expected_head = vec!["sync_job_run:started"];
    if created {
        expected_head.insert(0, "sync_job_run:created");
    }
    let head: Vec<&str> = names
        .iter()
        .take(expected_head.len())
        .map(String::as_str)
        .collect();
    assert_eq!(head, expected_head, "{names:?}");
    assert_eq!(
        names.last().map(String::as_str),
        Some("sync_job_run:completed")
    );
    assert!(
        names[expected_head.len()..names.len() - 1]
            .iter()
            .all(|n| n == "sync_job_run:record"),
        "{names:?}"
    );
}

/// `(resource, record id, sequence)` of every record in `events`, in sequence order.
fn records(events: &[(String, Value)]) -> Vec<(String, String, u64)> {
    let mut records: Vec<(String, String, u64)> = events
        .iter()
        .filter(|(name, _)| name == "sync_job_run:record")
        .flat_map(|(_, payload)| {
            let resource = payload["resource"].as_str().unwrap().to_owned();
            payload["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| {
                    (
                        resource.clone(),
                        r["data"]["id"].to_string(),
                        r["sequence"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    records.sort_by_key(|r| r.2);
    records
}

/// Polls `GET /sync-job-run/{id}` until the run is finished (panics after 20 s).
async fn finished(server: &TestServer, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = server
            .send(Method::GET, &format!("/sync-job-run/{run}"), None)
            .await;
        assert_eq!(status, 200, "{answer}");
        if ["completed", "failed", "stopped"].contains(&answer["status"].as_str().unwrap()) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not finish: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn result_len(server: &TestServer, path: &str) -> usize {
    let (status, page) = server.send(Method::GET, path, None).await;
    assert_eq!(status, 200, "{page}");
    page["result"].as_array().unwrap().len()
}

/// The whole API scenario on `server`.
async fn jobs_run_and_deliver_their_records(server: TestServer) {
    let sim = simulator(vec![]).await;
    let account = zendesk_account(&server, &sim).await;
    let hooks = receiver(&server).await;
    let worker = DeliveryWorker::new(server.store.clone(), delivery_options()).unwrap();

    // An invalid job: every problem with its JSON path, nothing stored.
    let (status, answer) = server
        .send(
            Method::POST,
            "/sync-job",
            Some(json!({
                "integration_name": "zendesk",
                "resources": [
                    {"resource": "tickets"},
                    {"resource": "ticket_comments", "method": "list", "depends_on": "ticket",
                     "query": {"ticket_id": "{{resources.users.id}}"}},
                    {"resource": "users", "method": "list", "persistt": true}
                ]
            })),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let paths: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.starts_with("resources[2]")),
        "{answer}"
    );
    assert!(
        answer["message"].as_str().unwrap().contains("persistt"),
        "{answer}"
    );
    assert_eq!(answer["statusCode"], 400);
    assert_eq!(result_len(&server, "/sync-job").await, 0, "nothing stored");
    // Once the unknown key is gone, the rules spanning keys are reported too.
    let (status, answer) = server
        .send(
            Method::POST,
            "/sync-job",
            Some(json!({
                "integration_name": "zendesk",
                "resources": [
                    {"resource": "tickets"},
                    {"resource": "ticket_comments", "method": "list", "depends_on": "ticket",
                     "query": {"ticket_id": "{{resources.users.id}}"}}
                ]
            })),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let paths: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"resources[0].method"), "{answer}");
    assert!(paths.contains(&"resources[1].depends_on"), "{answer}");
    assert_eq!(result_len(&server, "/sync-job").await, 0, "nothing stored");

    // A valid job: stored, stamped runtime version 3, readable and listed.
    let (status, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    assert_eq!(status, 201, "{created}");
    let job_id = id_of(&created);
    assert_eq!(created["default_runtime_version"], 3);
    assert_eq!(created["resources"], job()["resources"]);
    assert_eq!(created["environment_id"], server.environment_id.as_str());
    let (status, got) = server
        .send(Method::GET, &format!("/sync-job/{job_id}"), None)
        .await;
    assert_eq!((status, &got), (StatusCode::OK, &created));
    assert_eq!(
        result_len(&server, "/sync-job?integration_name=zendesk").await,
        1
    );
    assert_eq!(
        result_len(&server, "/sync-job?integration_name=slack").await,
        0
    );
    // PATCH validates the merged job.
    let (status, answer) = server
        .send(
            Method::PATCH,
            &format!("/sync-job/{job_id}"),
            Some(json!({"default_runtime_version": 4})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errors"][0]["path"], "default_runtime_version");
    let patched = server
        .patch_ok(&format!("/sync-job/{job_id}"), json!({"label": "Tickets"}))
        .await;
    assert_eq!(patched["label"], "Tickets");
    assert_eq!(patched["resources"], job()["resources"]);

    // An invalid run: every problem with its path, nothing stored or started.
    let (status, answer) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(
                json!({"sync_job_id": job_id, "integrated_account_id": account,
                        "args": {"since": 5}, "error_handling": "batch"}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let paths: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths[0], "error_handling", "{answer}");
    assert!(paths[1..].iter().all(|p| *p == "args.since"), "{answer}");
    assert!(paths.len() >= 2, "{answer}");
    assert_eq!(result_len(&server, "/sync-job-run").await, 0);
    server
        .expect_error(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": "nope", "integrated_account_id": account})),
            StatusCode::NOT_FOUND,
            "nope",
        )
        .await;

    // A run: created, executed in the background, completed with its counts.
    let (status, run) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(
                json!({"sync_job_id": job_id, "integrated_account_id": account,
                        "status": "created", "args": {"since": "2024-01-01"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["status"], "created");
    let run_id = id_of(&run);
    let done = finished(&server, &run_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["error"], Value::Null);
    assert_eq!(done["mutex_key"], account.as_str());
    assert_eq!(
        done["previous_run_date"],
        Value::Null,
        "a first run is a full sync"
    );
    assert_eq!(
        done["resource_stats"]["tickets"],
        json!({"records": TICKETS, "pages": TICKETS.div_ceil(PAGE), "errors": 0})
    );
    let comment_pages = TICKETS * COMMENTS_PER_TICKET.div_ceil(PAGE);
    assert_eq!(
        done["resource_stats"]["ticket_comments"],
        json!({"records": TICKETS * COMMENTS_PER_TICKET, "pages": comment_pages, "errors": 0})
    );
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());

    // Its events, queued in Truto's order and delivered by the webhook worker.
    let names = queued(&server, &account).await;
    assert_truto_order(&names, true);
    drain(&worker).await;
    let delivered = events(&hooks).await;
    let mut got_names: Vec<&str> = delivered.iter().map(|(n, _)| n.as_str()).collect();
    let mut want_names: Vec<&str> = names.iter().map(String::as_str).collect();
    got_names.sort_unstable();
    want_names.sort_unstable();
    assert_eq!(got_names, want_names, "each queued event delivered once");
    assert!(
        delivered
            .iter()
            .all(|(_, p)| p["sync_job_run_id"] == run_id.as_str()
                && p["integrated_account_id"] == account.as_str())
    );
    let got = records(&delivered);
    let ids: Vec<(String, String)> = got
        .iter()
        .map(|(r, id, _)| (r.clone(), id.clone()))
        .collect();
    assert_eq!(ids, expected());
    let sequences: Vec<u64> = got.iter().map(|r| r.2).collect();
    assert_eq!(sequences, (0..got.len() as u64).collect::<Vec<_>>());
    let completed = delivered
        .iter()
        .find(|(n, _)| n == "sync_job_run:completed")
        .unwrap();
    assert_eq!(completed.1["resource_stats"], done["resource_stats"]);

    // A second run is incremental: its previous_run_date is the first run's start.
    let (status, second) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": job_id, "integrated_account_id": account})),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second = finished(&server, &id_of(&second)).await;
    assert_eq!(second["status"], "completed", "{second}");
    assert_eq!(second["previous_run_date"], done["started_at"]);

    // Lists: filters and cursor pagination.
    let path = format!("/sync-job-run?sync_job_id={job_id}&status=completed&limit=1");
    let (status, first_page) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{first_page}");
    assert_eq!(first_page["result"][0]["id"], run_id.as_str());
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let (status, next_page) = server
        .send(Method::GET, &format!("{path}&next_cursor={cursor}"), None)
        .await;
    assert_eq!(status, 200, "{next_page}");
    assert_eq!(next_page["result"][0]["id"], second["id"]);
    assert_eq!(next_page["next_cursor"], Value::Null);
    assert_eq!(
        result_len(
            &server,
            &format!("/sync-job-run?integrated_account_id={account}")
        )
        .await,
        2
    );
    assert_eq!(result_len(&server, "/sync-job-run?status=running").await, 0);
    server
        .expect_error(
            Method::GET,
            "/sync-job-run?status=done",
            None,
            StatusCode::BAD_REQUEST,
            "status",
        )
        .await;

    // Stopping a finished run changes nothing; runs of another environment are 404.
    let (status, stopped) = server
        .send(Method::DELETE, &format!("/sync-job-run/{run_id}"), None)
        .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["status"], "completed");
    let other = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &other,
            Method::GET,
            &format!("/sync-job-run/{run_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Deleting the job deletes its runs.
    let (status, _) = server
        .send(Method::DELETE, &format!("/sync-job/{job_id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(result_len(&server, "/sync-job-run").await, 0);
    server.assert_no_secret_answered(&["zendesk-api-token"]);
}

async fn on_sqlite() {
    let server = TestServer::builder().sync(sync_options()).start().await;
    jobs_run_and_deliver_their_records(server).await;
}

/// Runs `scenario` on a server over Postgres (`PATCHBAY_TEST_POSTGRES_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own, dropped afterwards.
async fn on_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(TestServer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    on_postgres_with(sync_options(), scenario).await;
}

/// As [`on_postgres`], the server executing runs as `options` say.
async fn on_postgres_with<F, Fut>(options: SyncOptions, scenario: F)
where
    F: FnOnce(TestServer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    postgres_scenario(options, |server, _| scenario(server)).await;
}

/// [`on_postgres`] for a scenario that also looks at the database itself.
async fn on_postgres_db<F, Fut>(scenario: F)
where
    F: FnOnce(TestServer, Database) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    postgres_scenario(sync_options(), scenario).await;
}

/// Runs `scenario` on a server executing runs as `options` say, over a Postgres schema of
/// its own (dropped afterwards), with where that schema is.
async fn postgres_scenario<F, Fut>(options: SyncOptions, scenario: F)
where
    F: FnOnce(TestServer, Database) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    postgres::in_schema("pb_sync_", |url, schema| async move {
        let cipher = patchbay_server::store::Cipher::from_base64(
            &patchbay_server::store::Cipher::generate_key_base64(),
        )
        .unwrap();
        let store =
            patchbay_server::store::connect_postgres_with(postgres::options(&url, &schema), cipher)
                .await
                .unwrap();
        let server = TestServer::builder()
            .store(store)
            .sync(options)
            .start()
            .await;
        scenario(server, Database::Postgres { url, schema }).await;
    })
    .await;
}

/// A run stopped while a request hangs ends `stopped` and sends nothing more.
async fn a_stopped_run_stays_stopped() {
    // The first request for comments hangs, after the first page of tickets.
    let hang = FaultRule::provider(
        Provider::Zendesk,
        FaultScript::new().then(Fault::Delay(Duration::from_secs(30)), 1),
    )
    .path_contains("/comments");
    let sim = simulator(vec![hang]).await;
    let server = TestServer::builder().sync(sync_options()).start().await;
    let account = zendesk_account(&server, &sim).await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let (status, run) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": id_of(&created), "integrated_account_id": account})),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let run_id = id_of(&run);
    // Wait until the first page is saved (the second request hangs).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, got) = server
            .send(Method::GET, &format!("/sync-job-run/{run_id}"), None)
            .await;
        if got["resource_stats"]["tickets"]["records"] == PAGE {
            break;
        }
        assert!(Instant::now() < deadline, "no first page: {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, stopped) = server
        .send(Method::DELETE, &format!("/sync-job-run/{run_id}"), None)
        .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["status"], "stopped");
    assert!(stopped["finished_at"].is_string());
    // Well past a lease: nobody resumes or finishes it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.sync.resume_interrupted().await, 0);
    let (_, later) = server
        .send(Method::GET, &format!("/sync-job-run/{run_id}"), None)
        .await;
    assert_eq!(later["status"], "stopped", "{later}");
    assert_eq!(later["resource_stats"], stopped["resource_stats"]);
}

/// An executor dies mid-run (its task aborted: no more saves, no lease renewal, no
/// release); once its lease expired another executor over the same database resumes the
/// run from its last checkpoint: every record delivered, at most the page in flight
/// twice with the same sequence numbers, `started` once.
async fn an_interrupted_run_is_resumed_by_another_executor(server: TestServer) {
    // The fourth request for comments hangs: the first ticket page and the comments of
    // ticket 1 and the first page of ticket 2's are delivered (sequences 0-6).
    let hang = FaultRule::provider(
        Provider::Zendesk,
        FaultScript::new()
            .then_ok(3)
            .then(Fault::Delay(Duration::from_secs(60)), 1),
    )
    .path_contains("/comments");
    let sim = simulator(vec![hang]).await;
    let account = zendesk_account(&server, &sim).await;
    let hooks = receiver(&server).await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let run = server
        .store
        .create_sync_job_run(
            &server.environment_id,
            NewSyncJobRun {
                sync_job_id: id_of(&created),
                integrated_account_id: account.clone(),
                args: Default::default(),
                error_handling: "ignore".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let first = Arc::new(SyncRuns::new(
        server.store.clone(),
        server.runtimes.clone(),
        sync_options(),
    ));
    let task = first.start(&server.environment_id, &run.id);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let saved = server
            .store
            .get_sync_job_run(&server.environment_id, &run.id)
            .await
            .unwrap();
        if saved.state.is_some_and(|s| s.checkpoint.next_sequence >= 7) {
            break;
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    task.abort();
    let _ = task.await;
    let interrupted = server
        .store
        .get_sync_job_run(&server.environment_id, &run.id)
        .await
        .unwrap();
    assert_eq!(interrupted.status, patchbay::sync::RunStatus::Running);

    // While the dead executor's lease lasts nobody takes the run; then another does.
    let second = Arc::new(SyncRuns::new(
        server.store.clone(),
        server.runtimes.clone(),
        sync_options(),
    ));
    assert_ne!(first.owner(), second.owner());
    assert_eq!(
        second.resume_interrupted().await,
        0,
        "the lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(second.resume_interrupted().await, 1);
    let done = finished(&server, &run.id).await;
    assert_eq!(done["status"], "completed", "{done}");

    // `started` once (the resumed run does not start again), `completed` last.
    assert_truto_order(&queued(&server, &account).await, false);
    let worker = DeliveryWorker::new(server.store.clone(), delivery_options()).unwrap();
    drain(&worker).await;
    let delivered = events(&hooks).await;
    // Every record delivered, in order, keyed by its sequence; a repeated record has the
    // sequence and content of its first delivery.
    let mut by_sequence: std::collections::BTreeMap<u64, (String, String)> = Default::default();
    let got = records(&delivered);
    for (resource, id, sequence) in &got {
        let entry = by_sequence
            .entry(*sequence)
            .or_insert((resource.clone(), id.clone()));
        assert_eq!(
            entry,
            &(resource.clone(), id.clone()),
            "sequence {sequence}"
        );
    }
    let ordered: Vec<(String, String)> = by_sequence.into_values().collect();
    assert_eq!(ordered, expected());
    assert!(
        got.len() <= expected().len() + PAGE as usize,
        "at most one page again: {} records",
        got.len()
    );
    assert_eq!(
        done["resource_stats"]["ticket_comments"]["records"],
        TICKETS * COMMENTS_PER_TICKET
    );
}

/// The paths of a 422 answer's problems.
fn problem_paths(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {answer}"))
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// `/sync-job-cron-trigger`: checked like a run, inactive until scheduled, fired by the
/// engine's tick at the expression's next minute, then unscheduled, changed, deleted.
async fn cron_triggers_create_runs_on_schedule() {
    let sim = simulator(vec![]).await;
    let server = TestServer::builder().sync(sync_options()).start().await;
    let account = zendesk_account(&server, &sim).await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let job_id = id_of(&created);

    // Every problem at its field, nothing stored.
    let (status, answer) = server
        .send(
            Method::POST,
            "/sync-job-cron-trigger",
            Some(json!({
                "sync_job_id": job_id, "integrated_account_id": account,
                "cron_expression": "0 * * * * *", "args": {"since": 5},
                "error_handling": "retry"
            })),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let paths = problem_paths(&answer);
    for expected in ["cron_expression", "args.since", "error_handling"] {
        assert!(paths.iter().any(|p| p == expected), "{expected}: {answer}");
    }
    assert!(
        answer.to_string().contains("must have 5 fields"),
        "{answer}"
    );
    let (status, answer) = server
        .send(
            Method::POST,
            "/sync-job-cron-trigger",
            Some(json!({"sync_job_id": "no-such-job", "integrated_account_id": account, "cron_expression": "* * * * *"})),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(result_len(&server, "/sync-job-cron-trigger").await, 0);

    // Created inactive.
    let (status, trigger) = server
        .send(
            Method::POST,
            "/sync-job-cron-trigger",
            Some(json!({
                "sync_job_id": job_id, "integrated_account_id": account,
                "cron_expression": "* * * * *", "meta": {"owner": "ops"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{trigger}");
    let trigger_id = id_of(&trigger);
    assert_eq!(trigger["scheduled"], false);
    assert_eq!(trigger["next_fire_at"], Value::Null);
    assert_eq!(trigger["meta"], json!({"owner": "ops"}));
    assert_eq!(trigger["error_handling"], "ignore");
    assert_eq!(
        result_len(
            &server,
            &format!("/sync-job-cron-trigger?sync_job_id={job_id}")
        )
        .await,
        1
    );
    assert_eq!(
        result_len(
            &server,
            "/sync-job-cron-trigger?integrated_account_id=other"
        )
        .await,
        0
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        result_len(&server, "/sync-job-run").await,
        0,
        "not scheduled: no run"
    );

    // Scheduled: it fires at the next minute, once, and the run delivers everything.
    let (status, scheduled) = server
        .send(
            Method::POST,
            &format!("/sync-job-cron-trigger/{trigger_id}/schedule"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{scheduled}");
    assert_eq!(scheduled["scheduled"], true);
    let next: chrono::DateTime<chrono::Utc> =
        scheduled["next_fire_at"].as_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now();
    assert!(
        next > now && next - now <= chrono::Duration::seconds(60),
        "{next}"
    );
    assert_eq!(chrono::Timelike::second(&next), 0);
    let deadline = Instant::now() + Duration::from_secs(75);
    let fired = loop {
        let (_, got) = server
            .send(
                Method::GET,
                &format!("/sync-job-cron-trigger/{trigger_id}"),
                None,
            )
            .await;
        if got["last_run_id"].is_string() {
            break got;
        }
        assert!(Instant::now() < deadline, "the trigger did not fire: {got}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let fired_at: chrono::DateTime<chrono::Utc> =
        fired["last_fired_at"].as_str().unwrap().parse().unwrap();
    assert!(fired_at >= next, "fired at {fired_at}, due {next}");
    let following: chrono::DateTime<chrono::Utc> =
        fired["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(following - next, chrono::Duration::seconds(60));
    let run_id = fired["last_run_id"].as_str().unwrap().to_owned();
    let done = finished(&server, &run_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["sync_job_id"], job_id.as_str());
    assert_eq!(
        done["resource_stats"]["ticket_comments"]["records"],
        TICKETS * COMMENTS_PER_TICKET
    );

    // Unscheduled: no next time. A bad change is refused whole; a good one keeps it
    // unscheduled until scheduled again, then it fires by the new expression.
    let (status, unscheduled) = server
        .send(
            Method::DELETE,
            &format!("/sync-job-cron-trigger/{trigger_id}/schedule"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{unscheduled}");
    assert_eq!(unscheduled["scheduled"], false);
    assert_eq!(unscheduled["next_fire_at"], Value::Null);
    let (status, answer) = server
        .send(
            Method::PATCH,
            &format!("/sync-job-cron-trigger/{trigger_id}"),
            Some(json!({"cron_expression": "0 0 30 2 *"})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(problem_paths(&answer), ["cron_expression"]);
    let (status, changed) = server
        .send(
            Method::PATCH,
            &format!("/sync-job-cron-trigger/{trigger_id}"),
            Some(json!({"cron_expression": "0 0 1 1 *", "error_handling": "fail_fast"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["cron_expression"], "0 0 1 1 *");
    assert_eq!(changed["error_handling"], "fail_fast");
    assert_eq!(changed["scheduled"], false);
    assert_eq!(
        changed["meta"],
        json!({"owner": "ops"}),
        "unsent fields stay"
    );
    let (_, rescheduled) = server
        .send(
            Method::POST,
            &format!("/sync-job-cron-trigger/{trigger_id}/schedule"),
            None,
        )
        .await;
    let next: chrono::DateTime<chrono::Utc> = rescheduled["next_fire_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(next.format("%m-%d %H:%M:%S").to_string(), "01-01 00:00:00");

    // Another environment sees none of it; deleting keeps the run.
    let other = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &other,
            Method::GET,
            &format!("/sync-job-cron-trigger/{trigger_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/sync-job-cron-trigger/{trigger_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send(
            Method::GET,
            &format!("/sync-job-cron-trigger/{trigger_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(result_len(&server, "/sync-job-run").await, 1);
}

/// Two servers (two engines) on one Postgres schema: each due time of a trigger creates
/// exactly one run, executed once.
async fn a_due_trigger_fires_once_across_two_engines() {
    postgres::in_schema("pb_cron_", |url, schema| async move {
            let key = patchbay_server::store::Cipher::generate_key_base64();
            let store = || async {
                patchbay_server::store::connect_postgres_with(
                    postgres::options(&url, &schema),
                    patchbay_server::store::Cipher::from_base64(&key).unwrap(),
                )
                .await
                .unwrap()
            };
            let first = TestServer::builder()
                .store(store().await)
                .sync(sync_options())
                .start()
                .await;
            let second_store = store().await;
            let second = TestServer::builder()
                .store(second_store)
                .token(first.token.clone())
                .sync(sync_options())
                .start()
                .await;
            let sim = simulator(vec![]).await;
            let account = zendesk_account(&first, &sim).await;
            let _hooks = receiver(&first).await;
            let (_, created) = first.send(Method::POST, "/sync-job", Some(job())).await;
            // Due only when the test says so (the expression's next time is next 1 January).
            let (status, trigger) = first
                .send(
                    Method::POST,
                    "/sync-job-cron-trigger",
                    Some(json!({"sync_job_id": id_of(&created), "integrated_account_id": account, "cron_expression": "0 0 1 1 *"})),
                )
                .await;
            assert_eq!(status, 201, "{trigger}");
            let trigger_id = id_of(&trigger);
            let mut runs = Vec::new();
            for round in 1..=3 {
                first
                    .store
                    .schedule_sync_job_cron_trigger(
                        &first.environment_id,
                        &trigger_id,
                        Some(chrono::Utc::now()),
                    )
                    .await
                    .unwrap();
                let deadline = Instant::now() + Duration::from_secs(15);
                let run = loop {
                    let (_, got) = second
                        .send(Method::GET, &format!("/sync-job-cron-trigger/{trigger_id}"), None)
                        .await;
                    if got["last_run_id"].is_string() && !runs.contains(&got["last_run_id"]) {
                        let next = got["next_fire_at"].as_str().unwrap();
                        assert!(next.contains("-01-01T00:00:00"), "moved to the next time: {got}");
                        break got["last_run_id"].clone();
                    }
                    assert!(Instant::now() < deadline, "round {round}: not fired: {got}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                runs.push(run.clone());
                let done = finished(&first, run.as_str().unwrap()).await;
                assert_eq!(done["status"], "completed", "{done}");
                // Both engines ticked several times since: still one run per due time.
                tokio::time::sleep(Duration::from_millis(2500)).await;
                assert_eq!(result_len(&second, "/sync-job-run").await, round, "round {round}");
            }
            // Each run executed once: one `started` per run.
            let started = first
                .store
                .account_events(&first.environment_id, &account, 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.event_type == "sync_job_run:started")
                .count();
            assert_eq!(started, 3);
    })
    .await;
}

/// A run whose engine task was never queued (created straight in the store) is queued by
/// the engine's sweep once it is overdue, and completes.
async fn a_run_without_a_task_is_queued_by_the_sweep() {
    let sim = simulator(vec![]).await;
    let server = TestServer::builder().sync(sync_options()).start().await;
    let account = zendesk_account(&server, &sim).await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let run = server
        .store
        .create_sync_job_run(
            &server.environment_id,
            NewSyncJobRun {
                sync_job_id: id_of(&created),
                integrated_account_id: account,
                args: Default::default(),
                error_handling: "ignore".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Overdue after four leases (8 s here); the sweep ticks every second.
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let (_, got) = server
            .send(Method::GET, &format!("/sync-job-run/{}", run.id), None)
            .await;
        if got["status"] == "completed" {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "the lost run was not queued: {got}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "queued before it was overdue"
    );
    assert_eq!(done["resource_stats"]["tickets"]["records"], TICKETS);
}

/// A receiver answering 503 until opened, recording the first record sequence of each
/// page it answered 200, in arrival order.
struct GatedReceiver {
    open: Arc<std::sync::atomic::AtomicBool>,
    accepted: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl wiremock::Respond for GatedReceiver {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        if !self.open.load(std::sync::atomic::Ordering::SeqCst) {
            return ResponseTemplate::new(503);
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        if body["event"] == "sync_job_run:record" {
            let first = body["payload"]["records"][0]["sequence"].as_u64().unwrap();
            self.accepted.lock().unwrap().push(first);
        }
        ResponseTemplate::new(200)
    }
}

/// Receiver backpressure: with a window of one page, a run whose receiver fails waits
/// (no page after the first is fetched) instead of filling the outbox; once the receiver
/// answers, every page arrives after the one before was accepted, in order.
async fn a_run_waits_for_its_receivers() {
    let sim = simulator(vec![]).await;
    let server = TestServer::builder()
        .sync(SyncOptions {
            delivery_window: 1,
            ..sync_options()
        })
        .start()
        .await;
    let account = zendesk_account(&server, &sim).await;
    let open = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(GatedReceiver {
            open: open.clone(),
            accepted: accepted.clone(),
        })
        .mount(&hooks)
        .await;
    let (status, body) = server
        .send(
            Method::POST,
            "/webhook",
            Some(json!({"target_url": format!("{}/hooks", hooks.uri()), "event_types": ["sync_job_run:*"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let delivery = DeliveryWorker::new(
        server.store.clone(),
        delivery_options().with_max_attempts(10_000),
    )
    .unwrap()
    .spawn();
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let (status, run) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": id_of(&created), "integrated_account_id": account})),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let run_id = id_of(&run);

    // The receiver fails: the run holds at its first page.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (_, held) = server
        .send(Method::GET, &format!("/sync-job-run/{run_id}"), None)
        .await;
    assert_eq!(held["status"], "running", "{held}");
    // One page queued, not delivered: the run waits in its delivery (its checkpoint
    // comes after), so no second page was fetched.
    let records_queued = queued(&server, &account)
        .await
        .iter()
        .filter(|name| *name == "sync_job_run:record")
        .count();
    assert_eq!(records_queued, 1, "{held}");
    assert_eq!(
        server
            .store
            .undelivered_sync_job_run_records(&run_id)
            .await
            .unwrap(),
        1
    );
    assert!(
        held["resource_stats"]["tickets"]["records"]
            .as_u64()
            .unwrap_or(0)
            <= PAGE,
        "{held}"
    );
    assert!(
        !hooks.received_requests().await.unwrap().is_empty(),
        "the receiver was tried"
    );

    // Open: the run completes, each page accepted after the one before.
    open.store(true, std::sync::atomic::Ordering::SeqCst);
    let done = finished(&server, &run_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while server
        .store
        .undelivered_sync_job_run_records(&run_id)
        .await
        .unwrap()
        > 0
    {
        assert!(Instant::now() < deadline, "records left undelivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delivery.shutdown().await;
    let got = accepted.lock().unwrap().clone();
    let pages = queued(&server, &account)
        .await
        .iter()
        .filter(|name| *name == "sync_job_run:record")
        .count();
    assert_eq!(got.len(), pages, "every page accepted once: {got:?}");
    assert!(
        got.windows(2).all(|pair| pair[0] < pair[1]),
        "each page after the one before: {got:?}"
    );
}

/// `POST /sync-job-run` of `job` for `account` with `extra` body keys; answers the run id.
async fn start_run(server: &TestServer, job: &str, account: &str, extra: Value) -> String {
    let mut body = json!({"sync_job_id": job, "integrated_account_id": account});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let (status, run) = server.send(Method::POST, "/sync-job-run", Some(body)).await;
    assert_eq!(status, 201, "{run}");
    id_of(&run)
}

async fn get_run(server: &TestServer, run: &str) -> Value {
    let (status, got) = server
        .send(Method::GET, &format!("/sync-job-run/{run}"), None)
        .await;
    assert_eq!(status, 200, "{got}");
    got
}

/// The run's `key` timestamp (`started_at`, `finished_at`).
fn at(run: &Value, key: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(
        run[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}: {run}")),
    )
    .unwrap()
}

/// Runs with the same `mutex_key` execute one at a time in creation order: the second
/// stays `created` while the first hangs, a `force`d run goes past both, and the second
/// starts once the first is stopped (`PATCH` `stopped`, which refuses other statuses).
async fn runs_with_the_same_mutex_key_wait_for_each_other(server: TestServer) {
    // The first request for comments hangs (after the first page of tickets).
    let hang = FaultRule::provider(
        Provider::Zendesk,
        FaultScript::new().then(Fault::Delay(Duration::from_secs(30)), 1),
    )
    .path_contains("/comments");
    let sim = simulator(vec![hang]).await;
    let account = zendesk_account(&server, &sim).await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let job_id = id_of(&created);
    let first = start_run(&server, &job_id, &account, json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_run(&server, &first).await["status"] != "running" {
        assert!(Instant::now() < deadline, "the first run did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = start_run(&server, &job_id, &account, json!({})).await;
    let waiting = get_run(&server, &second).await;
    assert_eq!(
        waiting["mutex_key"],
        account.as_str(),
        "rendered at creation"
    );

    // A forced run neither waits nor makes the others wait: it completes meanwhile.
    let forced = start_run(&server, &job_id, &account, json!({"force": true})).await;
    let forced = finished(&server, &forced).await;
    assert_eq!(forced["status"], "completed", "{forced}");
    assert_eq!(get_run(&server, &first).await["status"], "running");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sync.resume_interrupted().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = get_run(&server, &second).await;
    assert_eq!(
        waiting["status"], "created",
        "the second run waits: {waiting}"
    );
    assert_eq!(waiting["started_at"], Value::Null, "{waiting}");

    // PATCH sets only `stopped`.
    for (body, path) in [
        (json!({"status": "running"}), "status"),
        (json!({"status": "completed"}), "status"),
        (json!({}), "status"),
        (json!({"status": "stopped", "reason": "x"}), "reason"),
    ] {
        let (status, answer) = server
            .send(
                Method::PATCH,
                &format!("/sync-job-run/{first}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        let first = &answer["errors"][0];
        assert!(
            first["path"] == path
                || first["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{path}`")),
            "{body}: {answer}"
        );
    }
    let other = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &other,
            Method::PATCH,
            &format!("/sync-job-run/{first}"),
            Some(json!({"status": "stopped"})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(get_run(&server, &first).await["status"], "running");
    let stopped = server
        .patch_ok(
            &format!("/sync-job-run/{first}"),
            json!({"status": "stopped"}),
        )
        .await;
    assert_eq!(stopped["status"], "stopped");

    // Then the second run goes, after the first ended.
    let second = finished(&server, &second).await;
    assert_eq!(second["status"], "completed", "{second}");
    let gap = at(&second, "started_at") - at(&stopped, "finished_at");
    assert!(gap >= chrono::Duration::zero(), "{second}\n{stopped}");
    // Woken when the first was stopped (the test's sweeper would take an hour).
    assert!(gap < chrono::Duration::seconds(5), "{gap}");
}

/// With at most one run per account, two runs of one account never overlap (the second
/// claimed by another executor over the same database at the same moment) while a run
/// of another account goes alongside; with at most one per integration, neither does.
async fn concurrency_limits_hold(limits: RunLimits, other_overlaps: bool, server: TestServer) {
    // Every comments request is slow, so a run takes a while.
    let slow = || {
        FaultRule::provider(
            Provider::Zendesk,
            FaultScript::always(Fault::Delay(Duration::from_millis(60))),
        )
        .path_contains("/comments")
    };
    let unmutexed = || {
        let mut job = job();
        job.as_object_mut().unwrap().remove("mutex_key");
        job
    };
    {
        let sim = simulator(vec![slow()]).await;
        let accounts = zendesk_accounts(&server, &sim, 2).await;
        let (_, created) = server
            .send(Method::POST, "/sync-job", Some(unmutexed()))
            .await;
        let job_id = id_of(&created);
        let a2 = server
            .store
            .create_sync_job_run(
                &server.environment_id,
                NewSyncJobRun {
                    sync_job_id: job_id.clone(),
                    integrated_account_id: accounts[0].clone(),
                    error_handling: "ignore".into(),
                    integration_name: Some("zendesk".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let other_executor = Arc::new(SyncRuns::new(
            server.store.clone(),
            server.runtimes.clone(),
            limited(limits),
        ));
        let a1 = start_run(&server, &job_id, &accounts[0], json!({})).await;
        other_executor.start(&server.environment_id, &a2);
        let b1 = start_run(&server, &job_id, &accounts[1], json!({})).await;
        // The second executor's run may have had to wait: try it again as a sweeper would.
        let deadline = Instant::now() + Duration::from_secs(20);
        while get_run(&server, &a2).await["status"] == "created" {
            assert!(Instant::now() < deadline, "the waiting run never ran");
            other_executor.resume_interrupted().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (a1, a2, b1) = (
            finished(&server, &a1).await,
            finished(&server, &a2).await,
            finished(&server, &b1).await,
        );
        for run in [&a1, &a2, &b1] {
            assert_eq!(run["status"], "completed", "{run}");
        }
        let overlap = |x: &Value, y: &Value| {
            at(x, "started_at") < at(y, "finished_at") && at(y, "started_at") < at(x, "finished_at")
        };
        assert!(!overlap(&a1, &a2), "{limits:?}: {a1}\n{a2}");
        assert_eq!(
            overlap(&a1, &b1) || overlap(&a2, &b1),
            other_overlaps,
            "{limits:?}: {a1}\n{a2}\n{b1}"
        );
    }
}

const PER_ACCOUNT: RunLimits = RunLimits {
    per_account: Some(1),
    per_integration: None,
};
const PER_INTEGRATION: RunLimits = RunLimits {
    per_account: None,
    per_integration: Some(1),
};

fn limited(limits: RunLimits) -> SyncOptions {
    SyncOptions {
        limits,
        ..control_options()
    }
}

/// The run state API: values stored under keys of a state key, per environment.
async fn the_run_state_api_keeps_values(server: TestServer) {
    let base = "/sync-job-run-state?state_key=acct-1";
    let (status, stored) = server
        .send(
            Method::PUT,
            base,
            Some(json!({"key": "cursor", "value": {"since": "2024-01-01", "ids": [1, 2]}})),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["state_key"], "acct-1");
    assert_eq!(stored["key"], "cursor");
    assert_eq!(stored["value"]["ids"], json!([1, 2]));
    // POST stores too; a key with a slash is addressed URL-encoded; null is a value.
    for (key, value) in [("a/b", json!(null)), ("count", json!(3))] {
        let (status, answer) = server
            .send(
                Method::POST,
                base,
                Some(json!({"key": key, "value": value})),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    // Replacing keeps the entry and its created_at.
    let (status, replaced) = server
        .send(Method::PUT, base, Some(json!({"key": "count", "value": 4})))
        .await;
    assert_eq!(status, 200, "{replaced}");
    let (status, got) = server
        .send(
            Method::GET,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["value"], 4);
    assert_eq!(got["id"], replaced["id"]);
    let (status, got) = server
        .send(
            Method::GET,
            "/sync-job-run-state/a%2Fb?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (got["key"].as_str(), &got["value"]),
        (Some("a/b"), &Value::Null)
    );
    // Lists: per state key, a page at a time.
    let (status, page) = server
        .send(Method::GET, &format!("{base}&limit=2"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    let keys: Vec<&str> = page["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["cursor", "a/b"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = server
        .send(
            Method::GET,
            &format!("{base}&limit=2&next_cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest["result"][0]["key"], "count");
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(
        result_len(&server, "/sync-job-run-state?state_key=acct-2").await,
        0
    );

    // Bad input names what is wrong; nothing is stored.
    let big = "x".repeat(64 * 1024);
    for (body, path) in [
        (json!({"key": "big", "value": big}), "value"),
        (json!({"key": "", "value": 1}), "key"),
        (json!({"key": "k"}), "value"),
        (json!({"value": 1}), "key"),
        (
            json!({"key": "k", "value": 1, "state_key": "x"}),
            "state_key",
        ),
    ] {
        let (status, answer) = server.send(Method::PUT, base, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {answer}");
        let first = &answer["errors"][0];
        assert!(
            first["path"] == path
                || first["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{path}`")),
            "{body}: {answer}"
        );
    }
    let (status, answer) = server
        .send(
            Method::GET,
            "/sync-job-run-state/big?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("acct-1"),
        "{answer}"
    );
    for (method, path) in [
        (Method::GET, "/sync-job-run-state"),
        (Method::GET, "/sync-job-run-state/count"),
        (Method::DELETE, "/sync-job-run-state/count?state_key="),
    ] {
        server
            .expect_error(method, path, None, StatusCode::BAD_REQUEST, "state_key")
            .await;
    }
    server
        .expect_error(
            Method::PUT,
            "/sync-job-run-state",
            Some(json!({"key": "k", "value": 1})),
            StatusCode::BAD_REQUEST,
            "state_key",
        )
        .await;

    // Another environment sees none of it.
    let other = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &other,
            Method::GET,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .send_as(
            &other,
            Method::DELETE,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, page) = server.send_as(&other, Method::GET, base, None).await;
    assert_eq!(
        (status, page["result"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );

    // Delete answers the entry as it was; then it is gone.
    let (status, deleted) = server
        .send(
            Method::DELETE,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
        )
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["value"], 4);
    server
        .expect_error(
            Method::GET,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
            StatusCode::NOT_FOUND,
            "count",
        )
        .await;
    server
        .expect_error(
            Method::DELETE,
            "/sync-job-run-state/count?state_key=acct-1",
            None,
            StatusCode::NOT_FOUND,
            "count",
        )
        .await;
    assert_eq!(result_len(&server, base).await, 2);
}

/// A provider refusing the account's token fails the run and marks the account, as a
/// proxy call does: the account `needs_reauth`, `integrated_account:authentication_error`
/// and `sync_job_run:failed` queued, no secret in either.
async fn a_revoked_token_fails_the_run_and_marks_the_account(server: TestServer) {
    let refused = FaultRule::provider(Provider::Zendesk, FaultScript::always(Fault::ExpiredToken))
        .path_contains("/tickets");
    let sim = simulator(vec![refused]).await;
    let account = zendesk_account(&server, &sim).await;
    server
        .subscribe(
            "https://hooks.example.test/x",
            &[
                "integrated_account:authentication_error",
                "sync_job_run:failed",
            ],
        )
        .await;
    let (_, created) = server.send(Method::POST, "/sync-job", Some(job())).await;
    let run = start_run(&server, &id_of(&created), &account, json!({})).await;
    let done = finished(&server, &run).await;
    assert_eq!(done["status"], "failed", "{done}");
    let stored = server
        .store
        .get_account(&server.environment_id, &account)
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "needs_reauth");
    let events = server
        .store
        .account_events(&server.environment_id, &account, 1000)
        .await
        .unwrap();
    let count = |name: &str| events.iter().filter(|e| e.event_type == name).count();
    let names: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        count("integrated_account:authentication_error"),
        1,
        "{names:?}"
    );
    assert_eq!(count("sync_job_run:failed"), 1, "{names:?}");
    assert_eq!(count("sync_job_run:completed"), 0, "{names:?}");
    let deliveries = server
        .store
        .claim_due(100, Duration::from_secs(600))
        .await
        .unwrap();
    let payload = |name: &str| {
        deliveries
            .iter()
            .find(|d| d.event_type == name)
            .unwrap_or_else(|| panic!("no {name} in {deliveries:?}"))
            .payload
            .clone()
    };
    assert_eq!(
        payload("integrated_account:authentication_error")["id"],
        account.as_str()
    );
    assert_eq!(
        payload("sync_job_run:failed")["sync_job_run_id"],
        run.as_str()
    );
    for delivery in &deliveries {
        assert!(!delivery.payload.to_string().contains("zendesk-api-token"));
    }
    server.assert_no_secret_answered(&["zendesk-api-token"]);
}

// ---- Datastores: a run's records upserted into a table per resource ----------------

/// Where a scenario's database is, to look at datastore tables without the store.
#[derive(Clone)]
enum Database {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Database {
    /// Rows of `table` per account, or `None` when the table does not exist.
    async fn rows_by_account(&self, table: &str) -> Option<Vec<(String, i64)>> {
        let exists = format!(
            "SELECT integrated_account_id, COUNT(*) AS n FROM {table} \
             GROUP BY integrated_account_id ORDER BY integrated_account_id"
        );
        let result = match self {
            Database::Sqlite(file) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(file)
                    .read_only(true);
                let mut conn = sqlx::ConnectOptions::connect(&options).await.unwrap();
                sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(exists))
                    .fetch_all(&mut conn)
                    .await
            }
            Database::Postgres { url, schema } => {
                let mut conn = sqlx::ConnectOptions::connect(&postgres::options(url, schema))
                    .await
                    .unwrap();
                sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(exists))
                    .fetch_all(&mut conn)
                    .await
            }
        };
        match result {
            Ok(rows) => Some(rows),
            Err(e)
                if e.to_string().contains("no such table")
                    || e.to_string().contains("does not exist") =>
            {
                None
            }
            Err(e) => panic!("{table}: {e}"),
        }
    }
}

/// Tickets and their comments persisted, a transform tagging each ticket with the run's
/// `tag` argument, and one producing a record without an `id`.
fn datastore_job() -> Value {
    json!({
        "integration_name": "zendesk",
        "args_schema": {"type": "object", "properties": {"tag": {"type": "string"}}},
        "resources": [
            {"resource": "tickets", "method": "list", "persist": true},
            {"resource": "ticket_comments", "method": "list", "persist": true,
             "depends_on": "tickets", "query": {"ticket_id": "{{resources.tickets.id}}"}},
            {"name": "tagged", "type": "transform", "depends_on": "tickets",
             "config": {"expression": "($tag := args.tag; records.{\"id\": id, \"subject\": subject, \"tag\": $tag})"}},
            {"name": "keyless", "type": "transform", "depends_on": "tickets",
             "config": {"expression": "records[id = 1].{\"subject\": subject}"}}
        ]
    })
}

/// Runs `job` for `account` into `datastore` with `tag`; answers the finished run.
async fn run_into(
    server: &TestServer,
    job: &str,
    account: &str,
    datastore: &str,
    tag: &str,
) -> Value {
    let (status, run) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": job, "integrated_account_id": account,
                        "datastore_id": datastore, "args": {"tag": tag}})),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["datastore_id"], datastore);
    let done = finished(server, &id_of(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");
    done
}

/// The datastore API and a run's records in its tables on `server` over `database`.
async fn runs_upsert_their_records_into_a_datastore(server: TestServer, database: Database) {
    let sim = simulator(vec![]).await;
    let account = zendesk_account(&server, &sim).await;
    // Subscribed, so the runs' events are queued (the datastore is in addition).
    let _hooks = receiver(&server).await;
    let install = server
        .store
        .account_route(&server.environment_id, &account)
        .await
        .unwrap()
        .install
        .environment_integration_id;
    let other_account = id_of(
        &server
            .import(
                &install,
                "tenant-2",
                json!({"context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}}),
            )
            .await,
    );

    // Only the server's own database; no connection settings; problems at their paths.
    for (body, path) in [
        (json!({"type": "mongo_data_api", "label": "m"}), "type"),
        (
            json!({"type": "patchbay_database", "config": {"url": "postgres://10.0.0.1/x"}}),
            "config.url",
        ),
        (json!({"type": "s3", "config": {"bucket": "b"}}), "type"),
    ] {
        let (status, answer) = server.send(Method::POST, "/datastore", Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["path"], path, "{answer}");
        assert!(
            !answer.to_string().contains("10.0.0.1"),
            "the URL is not echoed: {answer}"
        );
    }
    assert_eq!(result_len(&server, "/datastore").await, 0, "nothing stored");
    let (status, datastore) = server
        .send(
            Method::POST,
            "/datastore",
            Some(json!({"type": "patchbay_database", "label": "warehouse"})),
        )
        .await;
    assert_eq!(status, 201, "{datastore}");
    assert_eq!(datastore["type"], "patchbay_database");
    assert_eq!(datastore["tables"], json!([]));
    let datastore_id = id_of(&datastore);
    let patched = server
        .patch_ok(
            &format!("/datastore/{datastore_id}"),
            json!({"label": null}),
        )
        .await;
    assert_eq!(patched["label"], Value::Null);
    assert_eq!(result_len(&server, "/datastore").await, 1);

    let (_, job) = server
        .send(Method::POST, "/sync-job", Some(datastore_job()))
        .await;
    let job = id_of(&job);
    // A datastore that is not in the environment is refused at its path, nothing stored.
    let other = server.other_environment_token().await;
    let (status, foreign) = server
        .send_as(
            &other,
            Method::POST,
            "/datastore",
            Some(json!({"type": "patchbay_database"})),
        )
        .await;
    assert_eq!(status, 201, "{foreign}");
    for bad in ["nope".to_owned(), id_of(&foreign)] {
        let (status, answer) = server
            .send(
                Method::POST,
                "/sync-job-run",
                Some(json!({"sync_job_id": job, "integrated_account_id": account, "datastore_id": bad})),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["path"], "datastore_id", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(&bad),
            "{answer}"
        );
    }
    assert_eq!(result_len(&server, "/sync-job-run").await, 0);

    // A first run: every persisted record in its resource's table, keyed by its id.
    let first = run_into(&server, &job, &account, &datastore_id, "v1").await;
    let first_id = id_of(&first);
    let (_, got) = server
        .send(Method::GET, &format!("/datastore/{datastore_id}"), None)
        .await;
    let tables: Vec<(String, String)> = got["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["resource"].as_str().unwrap().to_owned(),
                t["table_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut resources: Vec<&str> = tables.iter().map(|(r, _)| r.as_str()).collect();
    resources.sort_unstable();
    assert_eq!(
        resources,
        ["tagged", "ticket_comments", "tickets"],
        "no table for keyless records: {got}"
    );
    for (resource, table) in &tables {
        assert_eq!(
            table,
            &patchbay_server::store::datastore_table_name(&datastore_id, resource)
        );
    }
    let table_of = |resource: &str| {
        tables
            .iter()
            .find(|(r, _)| r == resource)
            .unwrap()
            .1
            .clone()
    };
    let records = |resource: &'static str, account: Option<&str>| {
        let (store, env, ds, account) = (
            server.store.clone(),
            server.environment_id.clone(),
            datastore_id.clone(),
            account.map(str::to_owned),
        );
        async move {
            store
                .datastore_records(&env, &ds, resource, account.as_deref())
                .await
                .unwrap()
        }
    };
    let tickets = records("tickets", None).await;
    assert_eq!(
        tickets
            .iter()
            .map(|r| r.record_id.as_str())
            .collect::<Vec<_>>(),
        ["1", "2", "3", "4", "5"]
    );
    for ticket in &tickets {
        assert_eq!(ticket.integrated_account_id, account);
        assert_eq!(ticket.resource, "tickets");
        assert_eq!(ticket.sync_job_run_id, first_id);
        assert_eq!(ticket.record["id"].to_string(), ticket.record_id);
        assert_eq!(
            ticket.record["subject"],
            format!("Ticket {}", ticket.record_id)
        );
    }
    let comments = records("ticket_comments", None).await;
    let mut comment_ids: Vec<String> = comments.iter().map(|r| r.record_id.clone()).collect();
    comment_ids.sort_by_key(|id| id.parse::<u64>().unwrap());
    let want: Vec<String> = expected()
        .into_iter()
        .filter(|(r, _)| r == "ticket_comments")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(comment_ids, want);
    // Sequences are the run's: every record once, numbered across resources.
    let mut sequences: Vec<u64> = tickets
        .iter()
        .chain(&comments)
        .chain(&records("tagged", None).await)
        .map(|r| r.sequence)
        .collect();
    sequences.sort_unstable();
    sequences.dedup();
    assert_eq!(
        sequences.len(),
        (TICKETS + TICKETS * COMMENTS_PER_TICKET + TICKETS) as usize
    );
    let tagged = records("tagged", None).await;
    assert!(tagged.iter().all(|r| r.record["tag"] == "v1"), "{tagged:?}");
    // The rows are in real tables, one per resource.
    assert_eq!(
        database.rows_by_account(&table_of("tickets")).await,
        Some(vec![(account.clone(), TICKETS as i64)])
    );
    // The keyless record: a record_error (error_handling ignore), the webhook events as usual.
    let names = queued(&server, &account).await;
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "sync_job_run:record_error")
            .count(),
        1,
        "{names:?}"
    );
    assert!(
        names.iter().filter(|n| *n == "sync_job_run:record").count() > 1,
        "{names:?}"
    );
    assert_eq!(first["resource_stats"]["keyless"]["records"], 1);

    // A second run upserts: the same keys, no duplicates, the new content and run.
    let second = run_into(&server, &job, &account, &datastore_id, "v2").await;
    let second_id = id_of(&second);
    let tagged = records("tagged", None).await;
    assert_eq!(tagged.len(), TICKETS as usize);
    assert!(
        tagged
            .iter()
            .all(|r| r.record["tag"] == "v2" && r.sync_job_run_id == second_id),
        "{tagged:?}"
    );
    assert_eq!(records("tickets", None).await.len(), TICKETS as usize);
    assert_eq!(
        records("ticket_comments", None).await.len(),
        (TICKETS * COMMENTS_PER_TICKET) as usize
    );

    // Another account's records (the same ids) sit next to the first's.
    run_into(&server, &job, &other_account, &datastore_id, "b").await;
    let mut by_account = vec![
        (account.clone(), TICKETS as i64),
        (other_account.clone(), TICKETS as i64),
    ];
    by_account.sort();
    assert_eq!(
        database.rows_by_account(&table_of("tagged")).await,
        Some(by_account)
    );
    assert!(
        records("tagged", Some(account.as_str()))
            .await
            .iter()
            .all(|r| r.record["tag"] == "v2")
    );
    assert!(
        records("tagged", Some(other_account.as_str()))
            .await
            .iter()
            .all(|r| r.record["tag"] == "b")
    );

    // fail_fast: a record without an id fails the run.
    let (status, strict) = server
        .send(
            Method::POST,
            "/sync-job-run",
            Some(json!({"sync_job_id": job, "integrated_account_id": account, "datastore_id": datastore_id,
                        "error_handling": "fail_fast", "args": {"tag": "strict"}})),
        )
        .await;
    assert_eq!(status, 201, "{strict}");
    let strict = finished(&server, &id_of(&strict)).await;
    assert_eq!(strict["status"], "failed", "{strict}");
    assert!(
        strict["error"].as_str().unwrap().contains("have no `id`"),
        "{strict}"
    );

    // Deleting the datastore: refused while a run that is not finished writes into it,
    // then its tables are dropped and finished runs are detached.
    let pending = server
        .store
        .create_sync_job_run(
            &server.environment_id,
            NewSyncJobRun {
                sync_job_id: job.clone(),
                integrated_account_id: account.clone(),
                args: Default::default(),
                error_handling: "ignore".into(),
                datastore_id: Some(datastore_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Held by nobody that executes it, so it stays unfinished until it is stopped.
    let now = chrono::Utc::now();
    assert!(
        server
            .store
            .claim_sync_job_run(
                &pending.id,
                "test-holder",
                now,
                now + chrono::Duration::hours(1)
            )
            .await
            .unwrap()
    );
    server
        .expect_error(
            Method::DELETE,
            &format!("/datastore/{datastore_id}"),
            None,
            StatusCode::CONFLICT,
            "not finished",
        )
        .await;
    assert!(
        database
            .rows_by_account(&table_of("tickets"))
            .await
            .is_some()
    );
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/sync-job-run/{}", pending.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = server
        .send(Method::DELETE, &format!("/datastore/{datastore_id}"), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = server
        .send(Method::GET, &format!("/datastore/{datastore_id}"), None)
        .await;
    assert_eq!(status, 404);
    for (_, table) in &tables {
        assert_eq!(
            database.rows_by_account(table).await,
            None,
            "{table} dropped"
        );
    }
    let (_, detached) = server
        .send(Method::GET, &format!("/sync-job-run/{first_id}"), None)
        .await;
    assert_eq!(detached["datastore_id"], Value::Null, "{detached}");
    assert_eq!(detached["status"], "completed");
    server.assert_no_secret_answered(&["zendesk-api-token"]);
}

/// A page of 12,001 records (more than one statement's worth: SQLite binds at most 32,766
/// parameters) is upserted whole; an id repeated within the page is stored once, with its
/// last record; a page sent again replaces, never duplicates.
async fn a_large_page_is_upserted_in_one_transaction(server: TestServer, database: Database) {
    let store = &server.store;
    let env = &server.environment_id;
    let datastore = store.create_datastore(env, None).await.unwrap().id;
    let table = store
        .datastore_table(env, &datastore, "crm/contacts")
        .await
        .unwrap();
    assert_eq!(
        table,
        patchbay_server::store::datastore_table_name(&datastore, "crm/contacts")
    );
    assert_eq!(
        store
            .datastore_table(env, &datastore, "crm/contacts")
            .await
            .unwrap(),
        table,
        "created once"
    );
    let records: Vec<Value> = (0..12_000u64)
        .map(|i| json!({"id": format!("c{i}"), "n": i}))
        .chain([json!({"id": "c7", "n": "last"})])
        .collect();
    let page = |run: &'static str| patchbay_server::store::DatastorePage {
        integrated_account_id: "acct-1",
        resource: "crm/contacts",
        sync_job_run_id: run,
        records: records
            .iter()
            .enumerate()
            .map(|(i, r)| (r["id"].as_str().unwrap().to_owned(), i as u64, r))
            .collect(),
    };
    assert_eq!(
        store
            .upsert_datastore_page(&table, &page("run-1"))
            .await
            .unwrap(),
        12_000
    );
    assert_eq!(
        store
            .upsert_datastore_page(&table, &page("run-2"))
            .await
            .unwrap(),
        12_000
    );
    assert_eq!(
        database.rows_by_account(&table).await,
        Some(vec![("acct-1".to_owned(), 12_000)])
    );
    let stored = store
        .datastore_records(env, &datastore, "crm/contacts", Some("acct-1"))
        .await
        .unwrap();
    assert_eq!(stored.len(), 12_000);
    let c7 = stored.iter().find(|r| r.record_id == "c7").unwrap();
    assert_eq!(c7.record, json!({"id": "c7", "n": "last"}));
    assert_eq!(
        (c7.sync_job_run_id.as_str(), c7.sequence),
        ("run-2", 12_000)
    );
    // A table name that is not a datastore table's is refused before any SQL.
    let refused = store
        .upsert_datastore_page("sync_job_runs", &page("run-3"))
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("not a datastore table"),
        "{refused}"
    );
    // Another environment cannot reach the datastore.
    let other = store.create_environment("other-env").await.unwrap().id;
    assert!(matches!(
        store.datastore_table(&other, &datastore, "x").await,
        Err(patchbay_server::store::StorageError::NotFound { .. })
    ));
}

async fn datastore_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder()
        .data_dir(dir.path())
        .sync(sync_options())
        .start()
        .await;
    let database = Database::Sqlite(dir.path().join(patchbay_server::store::DATABASE_FILE));
    runs_upsert_their_records_into_a_datastore(server, database).await;
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "jobs_run_and_deliver_their_records_on_sqlite",
            MultiThread(2),
            on_sqlite,
        ),
        tokio_test(
            "a_stopped_run_stays_stopped",
            MultiThread(2),
            a_stopped_run_stays_stopped,
        ),
        tokio_test(
            "an_interrupted_run_is_resumed_by_another_executor_on_sqlite",
            MultiThread(2),
            || async {
                let server = TestServer::builder().sync(sync_options()).start().await;
                an_interrupted_run_is_resumed_by_another_executor(server).await;
            },
        ),
        tokio_test(
            "cron_triggers_create_runs_on_schedule",
            MultiThread(2),
            cron_triggers_create_runs_on_schedule,
        ),
        tokio_test(
            "a_run_waits_for_its_receivers",
            MultiThread(2),
            a_run_waits_for_its_receivers,
        ),
        tokio_test(
            "a_run_without_a_task_is_queued_by_the_sweep",
            MultiThread(2),
            a_run_without_a_task_is_queued_by_the_sweep,
        ),
        tokio_test(
            "a_due_trigger_fires_once_across_two_engines",
            MultiThread(2),
            a_due_trigger_fires_once_across_two_engines,
        )
        .needs(&POSTGRES),
        tokio_test(
            "jobs_run_and_deliver_their_records_on_postgres",
            MultiThread(2),
            || on_postgres(jobs_run_and_deliver_their_records),
        )
        .needs(&POSTGRES),
        tokio_test(
            "an_interrupted_run_is_resumed_by_another_executor_on_postgres",
            MultiThread(2),
            || on_postgres(an_interrupted_run_is_resumed_by_another_executor),
        )
        .needs(&POSTGRES),
        tokio_test(
            "runs_with_the_same_mutex_key_wait_for_each_other_on_sqlite",
            MultiThread(2),
            || async {
                let server = TestServer::builder().sync(control_options()).start().await;
                runs_with_the_same_mutex_key_wait_for_each_other(server).await;
            },
        ),
        tokio_test(
            "one_run_per_integration_on_sqlite",
            MultiThread(2),
            || async {
                let server = TestServer::builder()
                    .sync(limited(PER_INTEGRATION))
                    .start()
                    .await;
                concurrency_limits_hold(PER_INTEGRATION, false, server).await;
            },
        ),
        tokio_test(
            "one_run_per_integration_on_postgres",
            MultiThread(2),
            || {
                on_postgres_with(limited(PER_INTEGRATION), |server| {
                    concurrency_limits_hold(PER_INTEGRATION, false, server)
                })
            },
        )
        .needs(&POSTGRES),
        tokio_test(
            "the_run_state_api_keeps_values_on_sqlite",
            MultiThread(2),
            || async { the_run_state_api_keeps_values(TestServer::start().await).await },
        ),
        tokio_test(
            "a_revoked_token_fails_the_run_and_marks_the_account_on_sqlite",
            MultiThread(2),
            || async {
                let server = TestServer::builder().sync(control_options()).start().await;
                a_revoked_token_fails_the_run_and_marks_the_account(server).await;
            },
        ),
        tokio_test(
            "runs_with_the_same_mutex_key_wait_for_each_other_on_postgres",
            MultiThread(2),
            || {
                on_postgres_with(
                    control_options(),
                    runs_with_the_same_mutex_key_wait_for_each_other,
                )
            },
        )
        .needs(&POSTGRES),
        tokio_test(
            "the_run_state_api_keeps_values_on_postgres",
            MultiThread(2),
            || on_postgres_with(control_options(), the_run_state_api_keeps_values),
        )
        .needs(&POSTGRES),
        tokio_test(
            "a_revoked_token_fails_the_run_and_marks_the_account_on_postgres",
            MultiThread(2),
            || {
                on_postgres_with(
                    control_options(),
                    a_revoked_token_fails_the_run_and_marks_the_account,
                )
            },
        )
        .needs(&POSTGRES),
        tokio_test("one_run_per_account_on_sqlite", MultiThread(2), || async {
            let server = TestServer::builder()
                .sync(limited(PER_ACCOUNT))
                .start()
                .await;
            concurrency_limits_hold(PER_ACCOUNT, true, server).await;
        }),
        tokio_test("one_run_per_account_on_postgres", MultiThread(2), || {
            on_postgres_with(limited(PER_ACCOUNT), |server| {
                concurrency_limits_hold(PER_ACCOUNT, true, server)
            })
        })
        .needs(&POSTGRES),
        tokio_test(
            "runs_upsert_their_records_into_a_datastore_on_sqlite",
            MultiThread(2),
            datastore_on_sqlite,
        ),
        tokio_test(
            "a_large_page_is_upserted_in_one_transaction_on_sqlite",
            MultiThread(2),
            || async {
                let dir = tempfile::tempdir().unwrap();
                let server = TestServer::builder().data_dir(dir.path()).start().await;
                let database =
                    Database::Sqlite(dir.path().join(patchbay_server::store::DATABASE_FILE));
                a_large_page_is_upserted_in_one_transaction(server, database).await;
            },
        ),
        tokio_test(
            "a_large_page_is_upserted_in_one_transaction_on_postgres",
            MultiThread(2),
            || on_postgres_db(a_large_page_is_upserted_in_one_transaction),
        )
        .needs(&POSTGRES),
        tokio_test(
            "runs_upsert_their_records_into_a_datastore_on_postgres",
            MultiThread(2),
            || on_postgres_db(runs_upsert_their_records_into_a_datastore),
        )
        .needs(&POSTGRES),
    ])
}
