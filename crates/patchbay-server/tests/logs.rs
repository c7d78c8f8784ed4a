//! Request logs (`GET /log`) over real HTTP on loopback: a SQLite store in a temp dir
//! and the provider simulator (Zendesk from the catalog) answering a 429 storm.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use patchbay::simulator::{Fault, FaultRule, FaultScript, Provider, ProviderSetup, Simulator};
use patchbay_server::store::{LogQuery, LogType, NewRequestLog, PageRequest};
use reqwest::Method;
use serde_json::{Value, json};

use support::TestServer;

const API_TOKEN: &str = "zendesk-api-token";

/// The Zendesk catalog config, installed with the simulator's URLs; the install's id.
async fn install_zendesk(
    server: &TestServer,
    sim: &patchbay::simulator::RunningSimulator,
) -> String {
    let path = format!(
        "{}/../../examples/catalog/zendesk.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let config: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let override_ = sim.catalog_override(Provider::Zendesk, &config);
    server
        .install(
            json!({"name": "zendesk", "category": "ticketing", "config": config}),
            Some(override_),
        )
        .await
        .install_id
}

async fn import_agent(server: &TestServer, install_id: &str, tenant: &str) -> String {
    let account = server
        .import(
            install_id,
            tenant,
            json!({"context": {"subdomain": "acme", "email": "agent@example.com", "api_token": API_TOKEN}}),
        )
        .await;
    account["id"].as_str().unwrap().to_owned()
}

/// `GET /log?{query}` until it lists `count` logs (the writer flushes in the background).
async fn logs_eventually(server: &TestServer, query: &str, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = server
            .send(Method::GET, &format!("/log?{query}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        let found = body["result"].as_array().map_or(0, Vec::len);
        if found >= count {
            assert_eq!(found, count, "{body:#}");
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{count} logs never listed: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_upstream_call_is_logged_with_its_attempts_and_retry_reasons() {
    let sim = Simulator::builder()
        .setup(
            ProviderSetup::new(Provider::Zendesk)
                .records(5)
                .page_size(2),
        )
        .fault(FaultRule::provider(
            Provider::Zendesk,
            FaultScript::new()
                .then(Fault::too_many_requests(0), 2)
                .then_ok(1000),
        ))
        .start()
        .await
        .unwrap();
    let server = TestServer::start().await;
    let install_id = install_zendesk(&server, &sim).await;
    let account_id = import_agent(&server, &install_id, "acme").await;

    let (status, body) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let page = logs_eventually(&server, "log_type=unified_proxy_api", 1).await;
    let log = &page["result"][0];
    assert_eq!(log["log_type"], "unified_proxy_api");
    assert!(
        log["_id"].is_string() && log["timestamp"].is_string(),
        "{log}"
    );
    let meta = &log["metadata"];
    assert_eq!(meta["environment_id"], server.environment_id.as_str());
    assert_eq!(meta["integrated_account_id"], account_id.as_str());
    assert_eq!(meta["integration"], "zendesk");
    assert_eq!(meta["resource"], "tickets");
    assert_eq!(meta["method"], "list");
    assert_eq!(meta["request_type"], "proxy");
    assert_eq!(meta["http_method"], "GET");
    assert_eq!(meta["http_status_code"], 200);
    assert!(
        meta.get("message").is_none(),
        "a success has no message: {meta}"
    );
    // The URL without its query (`?…` says there was one).
    let url = meta["http_url"].as_str().unwrap();
    assert!(
        url.starts_with(&sim.api_base_url(Provider::Zendesk)),
        "{url}"
    );
    assert!(url.contains("/tickets"), "{url}");
    assert!(
        !url.contains('=') && !url.contains(API_TOKEN),
        "no query values: {url}"
    );
    // Two 429s, each retried for being rate limited, then the answer.
    let attempts = meta["attempts"].as_array().unwrap();
    let statuses: Vec<&Value> = attempts.iter().map(|a| &a["http_status_code"]).collect();
    assert_eq!(
        statuses,
        [&json!(429), &json!(429), &json!(200)],
        "{meta:#}"
    );
    for retried in &attempts[..2] {
        let reason = retried["retry_reason"].as_str().unwrap();
        assert!(reason.starts_with("rate limited"), "{reason}");
    }
    assert!(attempts[2].get("retry_reason").is_none(), "{meta:#}");
    assert!(meta["duration"].as_u64().unwrap() >= meta["fetch_duration"].as_u64().unwrap());

    // A failing call: its message says why, and a second account's call is told apart.
    sim.inject(FaultRule::provider(
        Provider::Zendesk,
        FaultScript::always(Fault::status(404)),
    ));
    let other = import_agent(&server, &install_id, "globex").await;
    let (status, _) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets/7?integrated_account_id={other}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let page = logs_eventually(&server, "log_type=unified_proxy_api", 2).await;
    let failed = &page["result"][0]["metadata"];
    assert_eq!(
        failed["integrated_account_id"],
        other.as_str(),
        "newest first: {page:#}"
    );
    assert_eq!(failed["method"], "get");
    assert_eq!(failed["http_status_code"], 404);
    assert!(
        failed["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{failed}"
    );

    // Filters.
    let by_account = logs_eventually(
        &server,
        &format!("log_type=unified_proxy_api&log_type_filter[integrated_account_id]={account_id}"),
        1,
    )
    .await;
    assert_eq!(by_account["result"][0]["metadata"]["method"], "list");
    logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[integration]=zendesk",
        2,
    )
    .await;
    logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[integration]=github",
        0,
    )
    .await;
    logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[request_type]=unified",
        0,
    )
    .await;
    logs_eventually(&server, "log_type=webhook", 0).await;
    let now = Utc::now();
    let window = format!(
        "log_type=unified_proxy_api&created_at[gt]={}&created_at[lt]={}",
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    logs_eventually(&server, &window, 2).await;

    // Pages, newest first, the cursor leading to the older one.
    let first = logs_eventually(&server, "log_type=unified_proxy_api&limit=1", 1).await;
    assert_eq!(first["result"][0]["metadata"]["method"], "get");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = logs_eventually(
        &server,
        &format!("log_type=unified_proxy_api&limit=1&next_cursor={cursor}"),
        1,
    )
    .await;
    assert_eq!(second["result"][0]["metadata"]["method"], "list");
    assert!(second["next_cursor"].is_null(), "{second}");

    // Another environment sees none of them.
    let stranger = server.other_environment_token().await;
    let (status, body) = server
        .send_as(
            &stranger,
            Method::GET,
            "/log?log_type=unified_proxy_api",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!([]));

    server.assert_no_secret_answered(&[API_TOKEN]);
}

#[tokio::test]
async fn bad_log_queries_are_refused_naming_the_parameter() {
    let server = TestServer::start().await;
    for (query, needle) in [
        ("", "`log_type` is required"),
        (
            "log_type=proxy",
            "`log_type` must be one of unified_proxy_api, webhook",
        ),
        (
            "log_type=webhook&log_type_filter[integration]=x",
            "`log_type_filter[integration]` is not a filter of `webhook` logs",
        ),
        (
            "log_type=webhook&created_at[gt]=2026-01-01T00:00:00Z",
            "`created_at[lt]` is required",
        ),
        (
            "log_type=webhook&created_at[gt]=2026-01-01T00:00:00Z&created_at[lt]=2026-03-01T00:00:00Z",
            "at most 31 days apart",
        ),
        (
            "log_type=webhook&created_at[lt]=yesterday",
            "`created_at[lt]` must be an RFC 3339 time",
        ),
        ("log_type=webhook&limit=101", "from 1 to 100"),
        ("log_type=webhook&next_cursor=nope", "`next_cursor`"),
        (
            "log_type=webhook&log_type_filter[environment_id]=env_other",
            "the token's own environment",
        ),
    ] {
        let (status, body) = server
            .send(Method::GET, &format!("/log?{query}"), None)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{query}: `{needle}` not in {message}"
        );
    }
    let (status, _) = server
        .raw(Method::GET, "/log?log_type=webhook", None, None)
        .await;
    assert_eq!(status, 401, "logs need a token");
}

#[tokio::test]
async fn batches_of_any_size_are_stored_whole_or_not_at_all() {
    let server = TestServer::start().await;
    let log = |environment_id: &str, n: usize| NewRequestLog {
        environment_id: environment_id.to_owned(),
        log_type: LogType::UnifiedProxyApi,
        created_at: Utc::now(),
        request_type: Some("proxy".into()),
        integrated_account_id: Some(format!("ia_{n}")),
        integration: Some("zendesk".into()),
        webhook_id: None,
        metadata: json!({"n": n}).to_string(),
    };
    let stored = || async {
        let mut ns = Vec::new();
        let mut page = PageRequest {
            limit: Some(100),
            ..PageRequest::default()
        };
        loop {
            let answer = server
                .store
                .list_request_logs(
                    &server.environment_id,
                    &LogQuery::new(LogType::UnifiedProxyApi),
                    &page,
                )
                .await
                .unwrap();
            ns.extend(
                answer
                    .result
                    .iter()
                    .map(|l| l.metadata["n"].as_u64().unwrap()),
            );
            match answer.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return ns,
            }
        }
    };
    // Sizes across every statement shape (50, 10, 1) and their remainders.
    let mut next = 0;
    let mut expected = 0;
    for size in [0, 1, 9, 10, 11, 49, 50, 61, 123] {
        let logs: Vec<NewRequestLog> = (next..next + size)
            .map(|n| log(&server.environment_id, n))
            .collect();
        server.store.insert_request_logs(&logs).await.unwrap();
        next += size;
        expected += size;
        let mut ns = stored().await;
        ns.sort_unstable();
        assert_eq!(ns, (0..expected as u64).collect::<Vec<_>>(), "after {size}");
    }
    // One bad row (an environment that does not exist) fails the whole batch: the 60
    // good rows before it are not kept either.
    let mut logs: Vec<NewRequestLog> = (next..next + 60)
        .map(|n| log(&server.environment_id, n))
        .collect();
    logs.push(log("env_missing", next + 60));
    assert!(server.store.insert_request_logs(&logs).await.is_err());
    assert_eq!(
        stored().await.len(),
        expected,
        "nothing of the failed batch"
    );
}

#[tokio::test]
async fn expired_logs_are_pruned_and_recent_ones_kept() {
    let server = TestServer::start().await;
    // Within the writer's retention (7 days), so only the explicit prunes below delete.
    let start = Utc::now() - chrono::Duration::hours(1);
    let at = |minute: u32| start + chrono::Duration::minutes(i64::from(minute));
    let log = |day: u32| NewRequestLog {
        environment_id: server.environment_id.clone(),
        log_type: LogType::UnifiedProxyApi,
        created_at: at(day),
        request_type: Some("proxy".into()),
        integrated_account_id: Some("ia_1".into()),
        integration: Some("zendesk".into()),
        webhook_id: None,
        metadata: json!({"day": day}).to_string(),
    };
    let logs: Vec<NewRequestLog> = (1..=5).map(log).collect();
    server.store.insert_request_logs(&logs).await.unwrap();

    let deleted = server.store.prune_request_logs(at(4), 2).await.unwrap();
    assert_eq!(deleted, 2, "a batch at most");
    let deleted = server.store.prune_request_logs(at(4), 2).await.unwrap();
    assert_eq!(deleted, 1);
    let kept = server
        .store
        .list_request_logs(
            &server.environment_id,
            &LogQuery::new(LogType::UnifiedProxyApi),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    let days: Vec<&Value> = kept.result.iter().map(|l| &l.metadata["day"]).collect();
    assert_eq!(
        days,
        [&json!(5), &json!(4)],
        "newest first, older ones gone"
    );
}

#[tokio::test]
async fn token_refreshes_are_logged_with_their_outcome() {
    use patchbay::simulator::Account;
    let sim = Simulator::builder()
        .setup(
            ProviderSetup::new(Provider::Slack).records(3).account(
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
    let account_id = server.slack_account_with_expired_token(&sim).await;
    let account_id = account_id.as_str();
    let (status, body) = server
        .send(
            Method::GET,
            &format!("/proxy/channels?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let page = logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[request_type]=token_refresh",
        1,
    )
    .await;
    let meta = &page["result"][0]["metadata"];
    assert_eq!(meta["integrated_account_id"], account_id);
    assert_eq!(meta["resource"], "oauth");
    assert_eq!(meta["method"], "refresh_token");
    assert_eq!(meta["reason"], "expiring");
    assert_eq!(meta["outcome"], "ok");
    // The call itself is logged beside it.
    logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[request_type]=proxy",
        1,
    )
    .await;

    // A refused grant is logged as rejected, with the provider's status.
    assert!(sim.revoke(Provider::Slack, "acme"));
    sim.expire_tokens(Provider::Slack);
    let (status, _) = server
        .send(
            Method::GET,
            &format!("/proxy/channels?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let page = logs_eventually(
        &server,
        "log_type=unified_proxy_api&log_type_filter[request_type]=token_refresh",
        2,
    )
    .await;
    let rejected = &page["result"][0]["metadata"];
    assert_eq!(rejected["outcome"], "rejected", "{page:#}");
    assert!(
        rejected["http_status_code"]
            .as_u64()
            .is_some_and(|s| s >= 400),
        "{rejected}"
    );
    let text = page.to_string();
    for secret in ["xoxe-1-rt", "xoxe.xoxp-expired", "slack-client-secret"] {
        assert!(!text.contains(secret), "{secret} in a log");
    }
}

#[tokio::test]
async fn bodies_are_logged_only_when_the_environment_opts_in_masked_and_capped() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 7, "name": "Ada", "api_key": "issued-SECRET", "bio": "x".repeat(40_000)
        })))
        .mount(&provider)
        .await;
    let server = TestServer::start().await;
    let config = json!({
        "base_url": provider.uri(),
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_key", "label": "API key", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "resources": {"users": {"create": {"method": "post", "path": "/users"}}}
    });
    let install_id = server
        .install(json!({"name": "directory", "config": config}), None)
        .await
        .install_id;
    let account = server
        .import(
            &install_id,
            "acme",
            json!({"context": {"api_key": "account-SECRET"}}),
        )
        .await;
    let create = format!(
        "/proxy/users?integrated_account_id={}",
        account["id"].as_str().unwrap()
    );
    let user = json!({"name": "Ada", "password": "hunter2-SECRET", "nested": {"client_secret": "cs-SECRET"}});

    let (status, _) = server.send(Method::POST, &create, Some(user.clone())).await;
    assert!(status.is_success(), "{status}");
    let page = logs_eventually(&server, "log_type=unified_proxy_api", 1).await;
    let meta = &page["result"][0]["metadata"];
    assert!(
        meta.get("request_body").is_none() && meta.get("response_body").is_none(),
        "off by default: {meta}"
    );

    let env = server.environment_id.clone();
    let updated = server
        .patch_ok(&format!("/environment/{env}"), json!({"log_bodies": true}))
        .await;
    assert_eq!(updated["log_bodies"], true);
    let (status, _) = server.send(Method::POST, &create, Some(user)).await;
    assert!(status.is_success(), "{status}");
    let page = logs_eventually(&server, "log_type=unified_proxy_api", 2).await;
    let meta = &page["result"][0]["metadata"];
    assert_eq!(meta["request_body"]["name"], "Ada");
    assert_eq!(meta["request_body"]["password"], "********");
    assert_eq!(meta["request_body"]["nested"]["client_secret"], "********");
    // The 40 kB answer is cut to 16 KiB, its secret masked before the cut.
    let response = meta["response_body"].as_str().expect("a cut body is text");
    assert!(
        response.len() < 17 * 1024 && response.contains("bytes in all"),
        "{}",
        response.len()
    );
    assert!(
        response.contains(r#""api_key":"********""#),
        "{}",
        &response[..200]
    );
    let text = page.to_string();
    for secret in [
        "hunter2-SECRET",
        "cs-SECRET",
        "issued-SECRET",
        "account-SECRET",
    ] {
        assert!(!text.contains(secret), "{secret} in a log");
    }
}
