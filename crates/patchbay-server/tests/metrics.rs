//! Prometheus metrics: scraped over HTTP and parsed with a Prometheus text-format parser,
//! after real traffic (a proxy call that meets a 429 and is retried, API requests).
//!
//! The recorder is process-wide, so this binary holds only these tests, and they run one
//! at a time ([`SERIAL`]) so that each sees only its own traffic.

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::TestServer;
use support::process::{server_command, stderr_log};
use support::prometheus::Exposition;

/// Held by each test for its whole run: the recorder is shared by the process.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Scrapes `url` and parses the Prometheus text format strictly.
async fn scrape(url: &str) -> Exposition {
    let answer = reqwest::get(url).await.expect("GET /metrics");
    assert_eq!(answer.status(), 200);
    let content_type = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = answer.text().await.unwrap();
    Exposition::parse(&text).unwrap_or_else(|e| panic!("not the Prometheus text format: {e}"))
}

/// The number of observations of the histogram `metric` with `labels`.
fn histogram_count(scrape: &Exposition, metric: &str, labels: &[(&str, &str)]) -> f64 {
    assert_eq!(
        scrape.types.get(metric).map(String::as_str),
        Some("histogram"),
        "{metric} is a histogram"
    );
    let mut inf = labels.to_vec();
    inf.push(("le", "+Inf"));
    let count = scrape.value(&format!("{metric}_count"), labels);
    assert_eq!(scrape.value(&format!("{metric}_bucket"), &inf), count);
    count
}

/// A config whose `tickets` list meets whatever the provider answers.
fn ticket_config(base_url: &str) -> serde_json::Value {
    json!({
        "base_url": base_url,
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_key", "label": "API key", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "resources": {"tickets": {"list": {"path": "/tickets", "response_path": "tickets"}}}
    })
}

#[tokio::test]
async fn upstream_attempts_retries_and_api_requests_are_counted_by_name_never_by_id() {
    let _serial = SERIAL.lock().await;
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/tickets"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tickets": [{"id": 1}]})))
        .mount(&provider)
        .await;

    let server = TestServer::start().await;
    let handle = patchbay_server::metrics::install_recorder().expect("recorder");
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let router = patchbay_server::metrics::router(handle, server.store.clone());
    tokio::spawn(async move { axum::serve(metrics, router).await });

    let installed = server
        .install(
            json!({"name": "metered-desk", "category": "helpdesk", "config": ticket_config(&provider.uri())}),
            None,
        )
        .await;
    let account = server
        .import(
            &installed.install_id,
            "tenant-1",
            json!({"context": {"api_key": "metered-SECRET"}}),
        )
        .await;
    let account_id = account["id"].as_str().unwrap();
    // Other tests of this binary proxy too: count from here.
    let earlier = scrape(&metrics_url).await;
    let proxied_before = earlier
        .find(
            "patchbay_http_requests_total",
            &[
                ("route", "/proxy/{resource}"),
                ("method", "GET"),
                ("status", "200"),
            ],
        )
        .first()
        .map_or(0.0, |s| s.value);
    let timed_before = earlier
        .find(
            "patchbay_http_request_duration_seconds_count",
            &[("route", "/proxy/{resource}")],
        )
        .first()
        .map_or(0.0, |s| s.value);
    let (status, body) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!([{"id": 1}]));

    let scrape = scrape(&metrics_url).await;
    let desk = ("integration", "metered-desk");
    assert_eq!(
        scrape.value(
            "patchbay_upstream_requests_total",
            &[desk, ("status", "429")]
        ),
        1.0
    );
    assert_eq!(
        scrape.value(
            "patchbay_upstream_requests_total",
            &[desk, ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        scrape.value(
            "patchbay_upstream_retries_total",
            &[desk, ("reason", "rate_limited")]
        ),
        1.0
    );
    assert_eq!(
        scrape.value("patchbay_upstream_rate_limited_total", &[desk]),
        1.0
    );
    assert_eq!(
        histogram_count(
            &scrape,
            "patchbay_upstream_request_duration_seconds",
            &[desk]
        ),
        2.0
    );
    // The API request is labelled by its route template.
    let proxy = [
        ("route", "/proxy/{resource}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert_eq!(
        scrape.value("patchbay_http_requests_total", &proxy) - proxied_before,
        1.0
    );
    assert_eq!(
        histogram_count(
            &scrape,
            "patchbay_http_request_duration_seconds",
            &[("route", "/proxy/{resource}")]
        ) - timed_before,
        1.0
    );
    // Scrape-time gauges.
    assert_eq!(scrape.value("patchbay_outbox_pending", &[]), 0.0);
    assert!(scrape.value("patchbay_db_connections", &[("state", "open")]) >= 1.0);
    assert!(scrape.value("patchbay_db_connections", &[("state", "max")]) >= 1.0);

    // No label value holds an id or a secret: ids and secrets are not bounded label values.
    let labels: Vec<&String> = scrape
        .samples
        .iter()
        .flat_map(|s| s.labels.values())
        .collect();
    for forbidden in [account_id, installed.install_id.as_str(), "metered-SECRET"] {
        assert!(
            labels.iter().all(|v| !v.contains(forbidden)),
            "`{forbidden}` in a label: {labels:?}"
        );
    }
    // The help text is there for every metric the engine describes.
    for metric in [
        patchbay::telemetry::UPSTREAM_REQUESTS,
        patchbay::telemetry::UPSTREAM_RETRIES,
        patchbay_server::metrics::HTTP_REQUESTS,
    ] {
        assert!(scrape.help.contains_key(metric), "no HELP for {metric}");
    }
}

/// The `addr=` of the first log line holding `marker`.
fn logged_addr(log: &str, marker: &str) -> Option<String> {
    let line = log.lines().find(|line| line.contains(marker))?;
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .map(|addr| {
            addr.trim_end_matches(|c: char| !c.is_ascii_digit())
                .to_owned()
        })
}

#[tokio::test]
async fn the_binary_serves_metrics_on_its_own_address_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let key = patchbay_server::store::Cipher::generate_key_base64().to_string();
    let mut child = server_command(&key, dir.path())
        .env("PATCHBAY_ADDR", "127.0.0.1:0")
        .env("PATCHBAY_METRICS_ADDR", "127.0.0.1:0")
        .env("PATCHBAY_DATA_DIR", dir.path().join("data"))
        .env_remove("DATABASE_URL")
        .spawn()
        .expect("start patchbay-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let (api, metrics) = loop {
        let log = std::fs::read_to_string(stderr_log(dir.path())).unwrap_or_default();
        let api = logged_addr(&log, "patchbay-server listening");
        let metrics = logged_addr(&log, "patchbay-server metrics listening");
        if let (Some(api), Some(metrics)) = (api, metrics) {
            break (api, metrics);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("patchbay-server exited with {status}:\n{log}");
        }
        assert!(Instant::now() < deadline, "no listening lines:\n{log}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_ne!(api, metrics);

    let health = reqwest::get(format!("http://{api}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let scrape = scrape(&format!("http://{metrics}/metrics")).await;
    let health = [("route", "/health"), ("method", "GET"), ("status", "200")];
    assert_eq!(scrape.value("patchbay_http_requests_total", &health), 1.0);
    // The API port does not serve the metrics.
    let on_api = reqwest::get(format!("http://{api}/metrics")).await.unwrap();
    assert_eq!(on_api.status(), 404);

    child.kill().ok();
    child.wait().ok();
}

#[tokio::test]
async fn token_requests_are_counted_by_grant_and_outcome() {
    let _serial = SERIAL.lock().await;
    use patchbay::simulator::{Account, Provider, ProviderSetup, Simulator};
    let sim = Simulator::builder()
        .setup(
            ProviderSetup::new(Provider::Slack).records(2).account(
                Account::new("acme")
                    .access_token("xoxe.xoxp-expired")
                    .refresh_token("xoxe-1-rt")
                    .expires_in(Duration::ZERO),
            ),
        )
        .start()
        .await
        .unwrap();
    let server = TestServer::start().await;
    let handle = patchbay_server::metrics::install_recorder().expect("recorder");
    let count = |outcome: &str| -> f64 {
        let scrape = Exposition::parse(&handle.render()).unwrap();
        scrape
            .find(
                "patchbay_token_refreshes_total",
                &[("grant", "refresh_token"), ("outcome", outcome)],
            )
            .first()
            .map_or(0.0, |s| s.value)
    };
    let (ok_before, rejected_before) = (count("ok"), count("rejected"));
    let account_id = server.slack_account_with_expired_token(&sim).await;
    let path = format!("/proxy/channels?integrated_account_id={account_id}");
    let (status, body) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(sim.revoke(Provider::Slack, "acme"));
    sim.expire_tokens(Provider::Slack);
    let (status, _) = server.send(Method::GET, &path, None).await;
    assert!(status.is_client_error(), "{status}");

    assert_eq!(count("ok") - ok_before, 1.0);
    assert_eq!(count("rejected") - rejected_before, 1.0);
}
