//! The binary's logs and traces: JSON log lines with a `request` event per API request,
//! and spans exported over OTLP/HTTP to a local receiver (wiremock standing in for an
//! OpenTelemetry collector).

mod support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use patchbay_server::store::Cipher;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::process::{server_command, stderr_log};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Starts the binary with `env` on a fresh SQLite store; its API address.
async fn start(dir: &Path, env: &[(&str, &str)]) -> (Child, String) {
    let key = Cipher::generate_key_base64().to_string();
    let mut command = server_command(&key, dir);
    command
        .env("PATCHBAY_ADDR", "127.0.0.1:0")
        .env("PATCHBAY_DATA_DIR", dir.join("data"))
        .env_remove("DATABASE_URL")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("PATCHBAY_LOG_FORMAT");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start patchbay-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = read(&stderr_log(dir));
        if let Some(addr) = log
            .lines()
            .filter(|l| l.contains("patchbay-server listening"))
            .find_map(|l| {
                // Text: `addr=127.0.0.1:1234`; JSON: `"addr":"127.0.0.1:1234"`.
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix("addr="))
                    .map(str::to_owned)
                    .or_else(|| {
                        serde_json::from_str::<Value>(l).ok()?["fields"]["addr"]
                            .as_str()
                            .map(str::to_owned)
                    })
            })
        {
            return (child, addr);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("patchbay-server exited with {status}:\n{log}");
        }
        assert!(Instant::now() < deadline, "not listening:\n{log}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// SIGTERM, then the exit (panics after 20 s).
async fn stop(mut child: Child, dir: &Path) {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(
                status.success(),
                "exit {status}:\n{}",
                read(&stderr_log(dir))
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no exit:\n{}",
            read(&stderr_log(dir))
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn json_logs_have_one_request_event_per_api_request() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start(dir.path(), &[("PATCHBAY_LOG_FORMAT", "json")]).await;
    let health = reqwest::get(format!("http://{addr}/health?probe=k8s"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    stop(child, dir.path()).await;

    let log = read(&stderr_log(dir.path()));
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 1, "{log}");
    let request = requests[0];
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["fields"]["status"], 200);
    assert!(request["fields"]["duration_ms"].is_u64(), "{request}");
    assert_eq!(request["span"]["name"], "http.request");
    assert_eq!(request["span"]["http.route"], "/health");
    assert_eq!(request["span"]["http.request.method"], "GET");
    assert!(!log.contains("probe=k8s"), "no query string in logs");
}

#[tokio::test]
async fn spans_are_exported_over_otlp_when_an_endpoint_is_set() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start(
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.uri()),
            ("OTEL_SERVICE_NAME", "patchbay-under-test"),
        ],
    )
    .await;
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    // Shutdown exports what the batch still holds.
    stop(child, dir.path()).await;

    let exports = collector.received_requests().await.unwrap();
    assert!(
        !exports.is_empty(),
        "no export:\n{}",
        read(&stderr_log(dir.path()))
    );
    let export = &exports[0];
    assert_eq!(export.headers["content-type"], "application/x-protobuf");
    // The protobuf carries the span and resource strings verbatim.
    let body = String::from_utf8_lossy(&export.body);
    for expected in [
        "http.request",
        "/health",
        "patchbay-under-test",
        "http.route",
    ] {
        assert!(body.contains(expected), "`{expected}` not exported");
    }
}
