//! Graceful shutdown of the server binary on SIGTERM: it stops accepting, lets the
//! in-flight proxy call and webhook delivery finish, records them, and exits 0. Nothing
//! queued is lost and nothing is left leased.

mod support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use patchbay_server::store::{Cipher, LogQuery, LogType, PageRequest, open_store_with};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::process::{server_command, stderr_log, stdout_log};

/// How long the provider and the webhook receiver take to answer.
const SLOW: Duration = Duration::from_millis(1500);

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Polls `found` until it answers `Some` (panics after 20 s, showing the server's log).
async fn eventually<T>(logs: &Path, what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never happened:\n{}",
            read(&stderr_log(logs))
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn send(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// `POST path` with `body`, which must answer `201`; the answer.
async fn create(base: &str, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = send(base, token, Method::POST, path, Some(body)).await;
    assert_eq!(status, 201, "POST {path}: {answer}");
    answer
}

/// Creates the integration `name` with `config`, installs it (with `override_` unless
/// null) and imports an API-key account with `context`; answers the account.
async fn connect_account(
    base: &str,
    token: &str,
    name: &str,
    config: Value,
    override_: Value,
    context: Value,
) -> Value {
    let integration = create(
        base,
        token,
        "/integration",
        json!({"name": name, "config": config}),
    )
    .await;
    let mut install = json!({"integration_id": integration["id"]});
    if !override_.is_null() {
        install["override"] = override_;
    }
    let install = create(base, token, "/environment-integration", install).await;
    create(
        base,
        token,
        "/integrated-account",
        json!({
            "tenant_id": "acme", "environment_integration_id": install["id"],
            "authentication_method": "api_key", "context": context
        }),
    )
    .await
}

async fn wait_for_requests(server: &MockServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap_or_default().len() < n {
        assert!(Instant::now() < deadline, "{n} requests never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts the server binary on SQLite in `data`, logging into `logs`, with the variables
/// `env`; answers the process and its base URL once it listens.
async fn start_server(
    key: &str,
    logs: &Path,
    data: &Path,
    env: &[(&str, &str)],
) -> (Child, String) {
    let child = server_command(key, logs)
        .env("PATCHBAY_ADDR", "127.0.0.1:0")
        .env("PATCHBAY_DATA_DIR", data)
        .env("PATCHBAY_ALLOWED_DESTINATIONS", "loopback")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .spawn()
        .expect("start patchbay-server");
    let addr = eventually(logs, "listening", || {
        let log = read(&stderr_log(logs));
        let line = log
            .lines()
            .rfind(|l| l.contains("patchbay-server listening"))?;
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .map(str::to_owned)
    })
    .await;
    (child, format!("http://{addr}"))
}

/// The API token the first start printed.
async fn first_token(logs: &Path) -> String {
    eventually(logs, "the first token", || {
        read(&stdout_log(logs))
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("pb_"))
            .map(str::to_owned)
    })
    .await
}

fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_finishes_what_is_in_flight_and_loses_nothing() {
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/tickets"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tickets": [{"id": 1}]}))
                .set_delay(SLOW),
        )
        .mount(&provider)
        .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(SLOW))
        .mount(&receiver)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = Cipher::generate_key_base64().to_string();
    let logs = dir.path();
    let (mut child, base) = start_server(&key, logs, &data, &[]).await;
    let token = first_token(logs).await;

    // An account whose provider answers slowly, and a webhook whose receiver does too.
    let config = json!({
        "base_url": provider.uri(),
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_key", "label": "API key", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "resources": {"tickets": {"list": {"path": "/tickets", "response_path": "tickets"}}}
    });
    let account = connect_account(
        &base,
        &token,
        "desk",
        config,
        Value::Null,
        json!({"api_key": "k"}),
    )
    .await;
    let (status, webhook) = send(
        &base,
        &token,
        Method::POST,
        "/webhook",
        Some(json!({
            "target_url": format!("{}/hook", receiver.uri()), "event_types": ["test"]
        })),
    )
    .await;
    assert_eq!(status, 201, "{webhook}");
    let (status, queued) = send(
        &base,
        &token,
        Method::POST,
        "/webhook/test",
        Some(json!({"id": webhook["id"]})),
    )
    .await;
    assert_eq!(status, 202, "{queued}");

    // A proxy call in flight and a delivery in flight when SIGTERM arrives.
    let call = tokio::spawn({
        let (base, token) = (base.clone(), token.clone());
        let path = format!(
            "/proxy/tickets?integrated_account_id={}",
            account["id"].as_str().unwrap()
        );
        async move { send(&base, &token, Method::GET, &path, None).await }
    });
    wait_for_requests(&provider, 1).await;
    wait_for_requests(&receiver, 1).await;
    terminate(&child);

    let (status, body) = call.await.unwrap();
    assert_eq!(status, 200, "the in-flight call finished: {body}");
    assert_eq!(body["result"], json!([{"id": 1}]));
    let exit = eventually(logs, "the exit", || child.try_wait().ok().flatten()).await;
    assert!(exit.success(), "exit {exit}:\n{}", read(&stderr_log(logs)));
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "nothing listens any more"
    );
    assert_eq!(
        receiver.received_requests().await.unwrap().len(),
        1,
        "delivered once"
    );

    // What was in flight is recorded: the delivery settled (nothing pending or leased),
    // the proxy call's request log written.
    let store = open_store_with(None, &data, Cipher::from_base64(&key).unwrap())
        .await
        .unwrap();
    assert_eq!(
        store.outbox_pending().await.unwrap(),
        0,
        "the delivery is recorded as done"
    );
    let environment = store.list_environments().await.unwrap().remove(0);
    let calls = store
        .list_request_logs(
            &environment.id,
            &LogQuery::new(LogType::UnifiedProxyApi),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        calls.result.len(),
        1,
        "the in-flight call's log was written before exit"
    );
    let deliveries = store
        .list_request_logs(
            &environment.id,
            &LogQuery::new(LogType::Webhook),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(deliveries.result.len(), 1);
    assert_eq!(deliveries.result[0].metadata["webhook_successful"], true);
}

/// A sync job run being executed when SIGTERM arrives stops where it is: the process exits
/// 0 without finishing it and leaves it unleased, queued again on the job engine; the next
/// start on the same data directory takes it and completes it from its checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_a_sync_run_to_the_next_start() {
    use patchbay::simulator::{Fault, FaultRule, FaultScript, Provider, ProviderSetup, Simulator};
    use patchbay_server::store::RunHold;

    const TICKETS: u64 = 20;
    // Every request takes 250 ms: the run (10 pages) lasts 2.5 s.
    let slow = FaultRule::provider(
        Provider::Zendesk,
        FaultScript::new().then(Fault::Delay(Duration::from_millis(250)), 10_000),
    );
    let sim = Simulator::builder()
        .setup(ProviderSetup::new(Provider::Zendesk).records(TICKETS))
        .fault(slow)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = Cipher::generate_key_base64().to_string();
    let first_logs = dir.path().join("first");
    std::fs::create_dir_all(&first_logs).unwrap();
    let env = [
        ("PATCHBAY_SYNC_PAGE_SIZE", "2"),
        ("PATCHBAY_SYNC_LEASE_SECS", "3"),
        ("PATCHBAY_SYNC_SWEEP_SECS", "1"),
    ];
    let (mut child, base) = start_server(&key, &first_logs, &data, &env).await;
    let token = first_token(&first_logs).await;

    let catalog = support::connect::catalog_json("zendesk");
    let overlay = sim.catalog_override(Provider::Zendesk, &catalog);
    let account = connect_account(
        &base,
        &token,
        "zendesk",
        catalog,
        overlay,
        json!({"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}),
    )
    .await;
    let job = create(
        &base,
        &token,
        "/sync-job",
        json!({"integration_name": "zendesk", "resources": [
            {"resource": "tickets", "method": "list", "persist": true}
        ]}),
    )
    .await;
    let run = create(
        &base,
        &token,
        "/sync-job-run",
        json!({"sync_job_id": job["id"], "integrated_account_id": account["id"]}),
    )
    .await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, got) = send(
            &base,
            &token,
            Method::GET,
            &format!("/sync-job-run/{run_id}"),
            None,
        )
        .await;
        if got["resource_stats"]["tickets"]["records"]
            .as_u64()
            .unwrap_or(0)
            >= 4
        {
            break;
        }
        assert!(
            Instant::now() < deadline && (got["status"] == "running" || got["status"] == "created"),
            "the run made no progress: {got}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    terminate(&child);
    let exit = eventually(&first_logs, "the exit", || child.try_wait().ok().flatten()).await;
    assert!(
        exit.success(),
        "exit {exit}:\n{}",
        read(&stderr_log(&first_logs))
    );
    {
        let store = open_store_with(None, &data, Cipher::from_base64(&key).unwrap())
            .await
            .unwrap();
        let environment = store.list_environments().await.unwrap().remove(0);
        let stopped = store
            .get_sync_job_run(&environment.id, &run_id)
            .await
            .unwrap();
        assert_eq!(
            stopped.status,
            patchbay::sync::RunStatus::Running,
            "left unfinished, not failed"
        );
        let saved = stopped.state.expect("a checkpoint").resource_stats["tickets"].records;
        assert!(
            (4..TICKETS).contains(&saved),
            "stopped mid-run: {saved} records"
        );
        assert_eq!(
            store
                .sync_job_run_hold(&run_id, chrono::Utc::now())
                .await
                .unwrap(),
            RunHold::Free,
            "the lease was released"
        );
    }

    // The next start takes the run from the queue and completes it.
    let second_logs = dir.path().join("second");
    std::fs::create_dir_all(&second_logs).unwrap();
    let (mut second, base) = start_server(&key, &second_logs, &data, &env).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let (_, got) = send(
            &base,
            &token,
            Method::GET,
            &format!("/sync-job-run/{run_id}"),
            None,
        )
        .await;
        if got["status"] == "completed" || got["status"] == "failed" {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "the next start did not finish the run: {got}\n{}",
            read(&stderr_log(&second_logs))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["resource_stats"]["tickets"]["records"], TICKETS);
    terminate(&second);
    let exit = eventually(&second_logs, "the exit", || {
        second.try_wait().ok().flatten()
    })
    .await;
    assert!(exit.success());
    sim.shutdown().await;
}
