//! Hardening of the HTTP API (issue #8; security review F7, F10, F11, F12),
//! over real HTTP on loopback with a SQLite store in a temp dir.

mod support;

use std::time::{Duration, Instant};

use patchbay_server::ServeOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestServer, id_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_SECRET: &str = "hdr-SECRET-1";
const PRIVATE_KEY: &str = "pk-SECRET-2";
const BEARER_SECRET: &str = "bearer-SECRET-3";
const PIN: &str = "pin-SECRET-4";
const PASSPHRASE: &str = "pp-SECRET-5";
const URL_TOKEN: &str = "urltoken-SECRET-7";

/// Asserts `body` is the API's error shape for `status`.
fn assert_error_shape(what: &str, status: StatusCode, body: &Value) {
    assert_eq!(body["statusCode"], json!(status.as_u16()), "{what}: {body}");
    assert!(body["error"].is_string(), "{what}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: {body}");
}

/// Sends `body` as raw text; answers the status, headers and parsed JSON.
async fn send_text(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = server
        .client
        .request(method, server.url(path))
        .bearer_auth(&server.token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: the answer is not JSON ({e}): {text}"));
    (status, headers, value)
}

/// Every route that takes a JSON object body (ids need not exist: the body
/// is checked first).
const JSON_ROUTES: [(&str, &str); 12] = [
    ("POST", "/integration"),
    ("PATCH", "/integration/x"),
    ("POST", "/environment-integration"),
    ("PATCH", "/environment-integration/x"),
    ("POST", "/integrated-account"),
    ("PATCH", "/integrated-account/x"),
    ("POST", "/integrated-account/refresh-credentials"),
    ("POST", "/integrated-account/run-post-install-actions"),
    ("POST", "/link-token"),
    ("POST", "/webhook"),
    ("PATCH", "/webhook/x"),
    ("POST", "/webhook/test"),
];

#[tokio::test]
async fn malformed_json_is_400_and_non_objects_are_422_on_every_json_route() {
    let server = TestServer::start().await;
    for (method, path) in JSON_ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let what = format!("{method} {path}");
        // An unknown first key must not hide the syntax error.
        for malformed in [r#"{"foo": 1"#, r#"{"tenant_id": "a",}"#, "[1,"] {
            let (status, _, body) = send_text(&server, method.clone(), path, Some(malformed)).await;
            assert_eq!(status, 400, "{what} {malformed}: {body}");
            assert_error_shape(&what, status, &body);
            let message = body["message"].as_str().unwrap();
            assert!(
                message.contains("malformed JSON at line 1, column"),
                "{what} {malformed}: {message}"
            );
        }
        for (not_object, found) in [
            (r#"["acme"]"#, "an array"),
            (r#""acme""#, "a string"),
            ("42", "a number"),
            ("null", "null"),
        ] {
            let (status, _, body) =
                send_text(&server, method.clone(), path, Some(not_object)).await;
            assert_eq!(status, 422, "{what} {not_object}: {body}");
            assert_error_shape(&what, status, &body);
            assert_eq!(body["errors"][0]["path"], "(root)", "{what}: {body}");
            assert_eq!(
                body["errors"][0]["message"],
                format!("expected a JSON object, found {found}"),
                "{what}: {body}"
            );
        }
    }
    // Well-formed JSON with a wrong field stays 422 with its path.
    let (status, _, body) =
        send_text(&server, Method::POST, "/link-token", Some(r#"{"foo": 1}"#)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("foo")
    );
    // `POST /link-token ["acme"]` created a link token for tenant `acme`.
    let (status, _, body) =
        send_text(&server, Method::POST, "/link-token", Some(r#"["acme"]"#)).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_tolerates_whitespace() {
    let server = TestServer::start().await;
    let token = &server.token;
    for (header, expected) in [
        (format!("bearer {token}"), 200),
        (format!("BEARER {token}"), 200),
        (format!("  Bearer   {token}  "), 200),
        (format!("Basic {token}"), 401),
        ("bearer ".to_owned(), 401),
    ] {
        let response = server
            .client
            .get(server.url("/integration"))
            .header("authorization", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{header:?}");
    }
}

/// A config with a credentials map (two credentials with password fields).
fn multi_credential_config() -> Value {
    json!({
        "label": "Multi",
        "base_url": "https://api.multi.example",
        "credentials": {
            "api_key": {"format": "api_key", "config": {"fields": [
                {"name": "region", "label": "Region", "type": "text"},
                {"name": "pin", "label": "PIN", "type": "password"}
            ]}},
            "legacy": {"format": "api_key", "config": {"fields": [
                {"name": "passphrase", "label": "Passphrase", "type": "password"}
            ]}}
        },
        "resources": {"users": {"list": {"path": "/users"}}}
    })
}

#[tokio::test]
async fn password_fields_of_every_credential_are_never_answered() {
    let server = TestServer::start().await;
    let installed = server
        .install(
            json!({"name": "multi", "config": multi_credential_config()}),
            None,
        )
        .await;
    let context = json!({"region": "eu", "pin": PIN, "passphrase": PASSPHRASE});
    let account = server
        .import(&installed.install_id, "acme", json!({"context": context}))
        .await;
    assert_eq!(account["context"], json!({"region": "eu"}), "{account}");
    let id = id_of(&account);
    let (status, got) = server
        .send(Method::GET, &format!("/integrated-account/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["context"], json!({"region": "eu"}));
    let (_, list) = server.send(Method::GET, "/integrated-account", None).await;
    assert_eq!(list["result"][0]["context"], json!({"region": "eu"}));
    let (status, patched) = server
        .send(
            Method::PATCH,
            &format!("/integrated-account/{id}"),
            Some(json!({"context": {"region": "us"}})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["context"], json!({"region": "us"}));
    // The secrets are still stored: only the answers leave them out.
    let stored = server
        .store
        .get_account(&server.environment_id, &id)
        .await
        .unwrap();
    assert_eq!(stored.context["pin"], PIN);
    server.assert_no_secret_answered(&[PIN, PASSPHRASE]);
}

#[tokio::test]
async fn override_secrets_are_masked_and_a_mask_sent_back_keeps_them() {
    let server = TestServer::start().await;
    let override_ = json!({
        "label": "Ours",
        "headers": {"Authorization": format!("Bearer {HEADER_SECRET}"), "X-Private-Key": PRIVATE_KEY},
        "authorization": {"format": "bearer", "config": {"token": BEARER_SECRET}}
    });
    let installed = server
        .install(
            json!({"name": "multi", "config": multi_credential_config()}),
            Some(override_.clone()),
        )
        .await;
    let path = format!("/environment-integration/{}", installed.install_id);
    let masked = json!({
        "label": "Ours",
        "headers": {"Authorization": "********", "X-Private-Key": "********"},
        "authorization": {"format": "bearer", "config": {"token": "********"}}
    });
    let (status, got) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["override"], masked);
    let (_, list) = server
        .send(Method::GET, "/environment-integration", None)
        .await;
    assert_eq!(list["result"][0]["override"], masked);

    // The answer sent back with one change: the secrets stay as stored.
    let mut sent_back = got["override"].clone();
    sent_back["label"] = json!("Renamed");
    let (status, patched) = server
        .send(Method::PATCH, &path, Some(json!({"override": sent_back})))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["override"]["label"], "Renamed");
    assert_eq!(patched["override"]["headers"], masked["headers"]);
    let stored = server
        .store
        .get_environment_integration(&server.environment_id, &installed.install_id)
        .await
        .unwrap()
        .override_
        .unwrap();
    let mut expected = override_.clone();
    expected["label"] = json!("Renamed");
    assert_eq!(Value::Object(stored), expected);

    // A mask where no secret is stored is refused, naming the path.
    let (status, refused) = server
        .send(
            Method::PATCH,
            &path,
            Some(json!({"override": {"headers": {"X-New": "********"}}})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["path"], "override.headers.X-New");
    server.assert_no_secret_answered(&[HEADER_SECRET, PRIVATE_KEY, BEARER_SECRET]);
}

#[tokio::test]
async fn webhook_target_urls_refuse_user_info_and_answer_masked_queries() {
    let server = TestServer::start().await;
    for url in [
        "https://user:pass@hooks.example/in",
        "https://token@hooks.example/in",
    ] {
        let (status, body) = server
            .send(
                Method::POST,
                "/webhook",
                Some(json!({"target_url": url, "event_types": ["*"]})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["errors"][0]["path"], "target_url");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("user name or password")
        );
    }
    let url = format!("https://hooks.example/in?token={URL_TOKEN}&team=a");
    let masked = "https://hooks.example/in?token=********&team=********";
    let (status, created) = server
        .send(
            Method::POST,
            "/webhook",
            Some(json!({"target_url": url, "event_types": ["*"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["target_url"], masked);
    let id = id_of(&created);
    let (_, got) = server
        .send(Method::GET, &format!("/webhook/{id}"), None)
        .await;
    assert_eq!(got["target_url"], masked);
    let (_, list) = server.send(Method::GET, "/webhook", None).await;
    assert_eq!(list["result"][0]["target_url"], masked);
    // The masked URL sent back keeps the stored one.
    let (status, patched) = server
        .send(
            Method::PATCH,
            &format!("/webhook/{id}"),
            Some(json!({"target_url": masked, "is_active": false})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let stored = server
        .store
        .get_webhook(&server.environment_id, &id)
        .await
        .unwrap();
    assert_eq!(stored.target_url, url);
    server.assert_no_secret_answered(&[URL_TOKEN]);
}

#[tokio::test]
async fn every_error_answer_has_the_json_error_shape() {
    let server = TestServer::start().await;
    let big = format!(
        r#"{{"name": "x", "pad": "{}"}}"#,
        "a".repeat(3 * 1024 * 1024)
    );
    let table: Vec<(Method, &str, Option<String>, u16)> = vec![
        // Over the 2 MiB body limit.
        (Method::POST, "/integration", Some(big), 413),
        // Over the validation route's 256 KiB limit.
        (
            Method::POST,
            "/integration/validate",
            Some(format!(r#"{{"pad": "{}"}}"#, "a".repeat(300 * 1024))),
            413,
        ),
        // A path segment that is not UTF-8.
        (Method::GET, "/integration/%FF", None, 400),
        (Method::GET, "/webhook/%C3%28", None, 400),
        // A query string that cannot be decoded, and bad cursors (documented 400).
        (Method::GET, "/integration?limit=%FF", None, 400),
        (Method::GET, "/integration?next_cursor=garbage", None, 400),
        (
            Method::GET,
            "/environment-integration?next_cursor=garbage",
            None,
            400,
        ),
        (
            Method::GET,
            "/integrated-account?next_cursor=garbage",
            None,
            400,
        ),
        (Method::GET, "/webhook?next_cursor=%21%21", None, 400),
        // Unknown routes and methods.
        (Method::GET, "/no-such-route", None, 404),
        (Method::DELETE, "/health", None, 405),
        (Method::PUT, "/integration", None, 405),
    ];
    for (method, path, body, expected) in table {
        let what = format!("{method} {path}");
        let (status, _, answer) = send_text(&server, method, path, body.as_deref()).await;
        assert_eq!(status.as_u16(), expected, "{what}: {answer}");
        assert_error_shape(&what, status, &answer);
    }
}

#[tokio::test]
async fn validation_is_rate_limited_per_client_with_retry_after() {
    let server = TestServer::start().await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..60 {
        let (status, headers, body) =
            send_text(&server, Method::POST, "/integration/validate", Some("{}")).await;
        statuses.push(status.as_u16());
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((headers, body));
            break;
        }
    }
    assert!(
        statuses.iter().take(20).all(|s| *s != 429),
        "the burst of 20 is allowed: {statuses:?}"
    );
    let (headers, body) = limited.unwrap_or_else(|| panic!("never limited: {statuses:?}"));
    assert_error_shape("429", StatusCode::TOO_MANY_REQUESTS, &body);
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // Authenticated routes are not limited by it.
    let (status, _) = server.send(Method::GET, "/integration", None).await;
    assert_eq!(status, 200);
    // Another client address (127.0.0.2 is loopback too) has its own bucket.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let response = other
        .post(server.url("/integration/validate"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// A storage-free server ([`patchbay_server::router`]) with `options`; its address.
async fn serve_with_options(options: ServeOptions) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(patchbay_server::serve_router(
        listener,
        patchbay_server::router(),
        options,
        std::future::pending(),
    ));
    addr
}

/// Reads until the peer closes (or `limit` passes); answers what was read
/// and whether the peer closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_at_the_header_timeout() {
    let addr = serve_with_options(ServeOptions {
        header_read_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    })
    .await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut partial, Duration::from_secs(5)).await;
    assert!(closed, "a partial head is held past the header timeout");
    let (_, idle_closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(
        idle_closed,
        "a silent connection is held past the header timeout"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // A complete request is still answered.
    let response = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_body_slower_than_the_body_timeout_gets_408() {
    let addr = serve_with_options(ServeOptions {
        body_read_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /integration/validate HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "the connection stays open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_error_shape("408", StatusCode::REQUEST_TIMEOUT, &body);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_ends() {
    let addr = serve_with_options(ServeOptions {
        max_connections: 2,
        ..ServeOptions::default()
    })
    .await;
    let first = TcpStream::connect(addr).await.unwrap();
    let second = TcpStream::connect(addr).await.unwrap();
    // Give the server time to accept both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut third, Duration::from_millis(700)).await;
    assert!(
        !closed && answer.is_empty(),
        "served over the cap: {answer}"
    );
    drop(first);
    drop(second);
    let (answer, closed) = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(closed, "{answer}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
