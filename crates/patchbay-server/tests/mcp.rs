//! MCP servers of integrated accounts over real HTTP on loopback, against the provider
//! simulator playing Zendesk: the admin routes (`/integrated-account/{id}/mcp`), the
//! protocol endpoint (`POST /mcp/{token}`) with raw JSON-RPC, and the official MCP
//! Python SDK (`tests/mcp_client.py`) as an external client. The Python test needs
//! `python3` with the `mcp` package (`pip install mcp`; `.ci/run` installs it): without
//! it the test is reported ignored, or fails when `CI=true` (`docs/testing.md`).

mod support;

use std::process::Stdio;

use chrono::{Duration, Utc};
use patchbay::mcp::ToolFilter;
use patchbay::simulator::{Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay_server::store::NewMcpServer;
use patchbay_testkit::{Requirement, Runtime::CurrentThread, tokio_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use support::TestServer;

/// The Zendesk API token the simulator accepts; it must never reach an MCP client.
const API_TOKEN: &str = "zendesk-api-token";

/// The Python interpreter: `PATCHBAY_TEST_PYTHON`, or `python3`.
/// The tools of the Zendesk catalog config, in order.
const ZENDESK_TOOLS: [&str; 9] = [
    "list_all_zendesk_tickets",
    "get_single_zendesk_ticket_by_id",
    "create_a_zendesk_ticket",
    "update_a_zendesk_ticket_by_id",
    "delete_a_zendesk_ticket_by_id",
    "list_all_zendesk_ticket_comments",
    "list_all_zendesk_users",
    "get_single_zendesk_user_by_id",
    "list_all_zendesk_search",
];

/// The tools of the shipped `ticketing` unified model's Zendesk mappings
/// (`examples/unified/ticketing`), in the model's order.
const TICKETING_TOOLS: [&str; 8] = [
    "list_all_ticketing_tickets",
    "get_single_ticketing_ticket_by_id",
    "create_a_ticketing_ticket",
    "update_a_ticketing_ticket_by_id",
    "delete_a_ticketing_ticket_by_id",
    "list_all_ticketing_comments",
    "list_all_ticketing_users",
    "get_single_ticketing_user_by_id",
];

fn python() -> String {
    std::env::var("PATCHBAY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Python with the official MCP SDK; give it to `Test::needs`.
static PYTHON_MCP: Requirement = Requirement::new("Python with the MCP SDK", || {
    let python = python();
    let output = std::process::Command::new(&python)
        .args(["-c", "import mcp.client.streamable_http, mcp"])
        .output()
        .map_err(|e| {
            format!("`{python}` cannot run ({e}); install Python 3 or set PATCHBAY_TEST_PYTHON")
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{python}` cannot import the MCP SDK ({}); `pip install mcp` (the version .ci/run pins)",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
});

/// A server with the simulator's Zendesk installed and two accounts of it: `(server,
/// simulator, account id, sandbox account id)`.
async fn zendesk() -> (TestServer, RunningSimulator, String, String) {
    let sim = Simulator::builder()
        .setup(ProviderSetup::new(Provider::Zendesk).records(5))
        .start()
        .await
        .expect("simulator starts");
    let server = TestServer::start().await;
    let install = server.install_simulated(&sim, Provider::Zendesk).await;
    let context =
        json!({"subdomain": "acme", "email": "agent@example.com", "api_token": API_TOKEN});
    let account = server
        .import(&install, "acme", json!({"context": context}))
        .await;
    let sandbox = server
        .import(
            &install,
            "acme-sandbox",
            json!({"context": context, "is_sandbox": true}),
        )
        .await;
    (
        server,
        sim,
        support::id_of(&account),
        support::id_of(&sandbox),
    )
}

/// Creates the shipped `ticketing` unified model with its Zendesk mapping rows
/// (`examples/unified/ticketing`) and installs it in the environment; answers the
/// environment unified model's id.
async fn install_ticketing(server: &TestServer) -> String {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/unified/ticketing"
    );
    let read = |file: &str| -> Value {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let send = |path: &'static str, body: Value| async move {
        let (status, answer) = server.send(Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {answer}");
        answer
    };
    let model = send("/unified-model", read("model.json")).await;
    let model_id = support::id_of(&model);
    for mut row in read("zendesk.json").as_array().unwrap().clone() {
        row["unified_model_id"] = model_id.clone().into();
        send("/unified-model-resource-method", row).await;
    }
    let installed = send(
        "/environment-unified-model",
        json!({"unified_model_id": model_id}),
    )
    .await;
    support::id_of(&installed)
}

/// The names of a `tools/list` answer.
fn tool_names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates an MCP server of `account` with `body`; asserts 201 and answers it.
async fn create(server: &TestServer, account: &str, body: Value) -> Value {
    let (status, answer) = server
        .send(
            Method::POST,
            &format!("/integrated-account/{account}/mcp"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Posts one JSON-RPC message to `url`; answers the status and the body (JSON, or
/// `null` when empty).
async fn rpc(server: &TestServer, url: &str, message: Value) -> (StatusCode, Value) {
    let response = server
        .client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .body(message.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    server.seen.lock().unwrap().push(text.clone());
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

async fn admin_routes_create_list_validate_and_revoke() {
    let (server, _sim, account, _) = zendesk().await;
    let path = format!("/integrated-account/{account}/mcp");

    let created = create(
        &server,
        &account,
        json!({"name": "Support agent", "config": {"methods": ["read"]}}),
    )
    .await;
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("mcp_"), "{created}");
    assert_eq!(created["url"], server.url(&format!("/mcp/{token}")));
    assert_eq!(created["config"], json!({"methods": ["read"], "tags": []}));
    assert_eq!(created["integrated_account_id"], account.as_str());
    assert_eq!(created["expires_at"], Value::Null);

    let (status, list) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    assert_eq!(list["result"][0]["id"], created["id"]);
    assert!(!list.to_string().contains(token), "the token is shown once");

    for (body, field) in [
        (json!({"name": " "}), "name"),
        (
            json!({"name": "x", "config": {"methods": [""]}}),
            "config.methods[0]",
        ),
        (
            json!({"name": "x", "expires_at": (Utc::now() + Duration::seconds(10)).to_rfc3339()}),
            "expires_at",
        ),
    ] {
        let (status, answer) = server.send(Method::POST, &path, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["errors"][0]["path"], field, "{answer}");
    }
    let (status, answer) = server
        .send(
            Method::POST,
            &path,
            Some(json!({"name": "x", "config": {"tags": ["billing"]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("no tool"),
        "{answer}"
    );
    let (status, _) = server
        .send(
            Method::POST,
            "/integrated-account/nobody/mcp",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another environment sees neither the account nor its servers.
    let other = server.other_environment_token().await;
    let (status, _) = server.send_as(&other, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // One server by id, then changed in place: the same URL serves the new filter.
    let one = format!("{path}/{}", created["id"].as_str().unwrap());
    let (status, got) = server.send(Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, list["result"][0]);
    let url = created["url"].as_str().unwrap();
    let tools = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(
        tool_names(&rpc(&server, url, tools.clone()).await.1).len(),
        6
    );
    let expires = (Utc::now() + Duration::days(1)).to_rfc3339();
    let (status, changed) = server
        .send(
            Method::PATCH,
            &one,
            Some(
                json!({"name": "Writer", "config": {"methods": ["create"]}, "expires_at": expires}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Writer");
    assert_eq!(
        changed["config"],
        json!({"methods": ["create"], "tags": []})
    );
    assert!(changed["expires_at"].is_string(), "{changed}");
    assert_eq!(
        tool_names(&rpc(&server, url, tools.clone()).await.1),
        ["create_a_zendesk_ticket"]
    );
    let (status, changed) = server
        .send(
            Method::PATCH,
            &one,
            Some(json!({"config": {"methods": ["read"]}, "expires_at": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Writer", "absent fields are kept");
    assert_eq!(changed["expires_at"], Value::Null, "null clears the expiry");
    for (body, status_code, field) in [
        (
            json!({"name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name"),
        ),
        (
            json!({"expires_at": (Utc::now() + Duration::seconds(5)).to_rfc3339()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("expires_at"),
        ),
        (
            json!({"config": {"tags": ["billing"]}}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"token": "mcp_mine"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ] {
        let (status, answer) = server.send(Method::PATCH, &one, Some(body.clone())).await;
        assert_eq!(status, status_code, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["errors"][0]["path"], field, "{answer}");
        }
    }
    let (_, unchanged) = server.send(Method::GET, &one, None).await;
    assert_eq!(
        unchanged["config"],
        json!({"methods": ["read"], "tags": []}),
        "refused changes store nothing"
    );
    for missing in [
        format!("{path}/nope"),
        format!(
            "/integrated-account/nobody/mcp/{}",
            created["id"].as_str().unwrap()
        ),
    ] {
        let (status, _) = server.send(Method::GET, &missing, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        let (status, _) = server
            .send(Method::PATCH, &missing, Some(json!({"name": "x"})))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
    let (status, _) = server.send_as(&other, Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The URL works, then is refused at once after the revocation.
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let (status, answer) = rpc(&server, url, ping.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], json!({}), "{answer}");
    let (status, deleted) = server
        .send(
            Method::DELETE,
            &format!("{path}/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let (status, answer) = rpc(&server, url, ping).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("{path}/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, list) = server.send(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["result"], json!([]));
}

async fn raw_json_rpc_lists_and_calls_tools() {
    let (server, _sim, account, _) = zendesk().await;
    let created = create(&server, &account, json!({"name": "all"})).await;
    let url = created["url"].as_str().unwrap();

    let (status, init) = rpc(
        &server,
        url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "patchbay", "{init}");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );

    let (status, _) = rpc(
        &server,
        url,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (_, list) = rpc(
        &server,
        url,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let tools = list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"));
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ZENDESK_TOOLS);
    assert_eq!(tools[0]["annotations"]["readOnlyHint"], true);
    assert_eq!(tools[1]["inputSchema"]["required"], json!(["id"]));

    let (_, called) = rpc(
        &server,
        url,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "get_single_zendesk_ticket_by_id", "arguments": {"id": 4}}}),
    )
    .await;
    assert_eq!(called["result"]["isError"], false, "{called}");
    assert_eq!(
        called["result"]["structuredContent"]["ticket"]["id"], 4,
        "{called}"
    );

    // The call is in the request logs, as an `mcp` request of the account.
    let query = format!(
        "/log?log_type=unified_proxy_api&log_type_filter[request_type]=mcp&log_type_filter[integrated_account_id]={account}"
    );
    let mut logged = Value::Null;
    for _ in 0..50 {
        let (status, page) = server.send(Method::GET, &query, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        if page["result"].as_array().is_some_and(|r| !r.is_empty()) {
            logged = page["result"][0].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(logged["metadata"]["request_type"], "mcp", "{logged}");
    assert_eq!(logged["metadata"]["resource"], "tickets", "{logged}");

    // A tool the server does not have is a protocol error (invalid params).
    let (_, unknown) = rpc(
        &server,
        url,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "drop_all_tables", "arguments": {}}}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    // Unknown and malformed tokens are refused before any MCP processing.
    for bad in ["mcp_unknown", "x"] {
        let (status, answer) = rpc(
            &server,
            &server.url(&format!("/mcp/{bad}")),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    }
    server.assert_no_secret_answered(&[API_TOKEN]);
}

async fn unified_model_tools_are_listed_filtered_and_called() {
    let (server, _sim, account, _) = zendesk().await;
    let installed = install_ticketing(&server).await;
    let all = create(&server, &account, json!({"name": "all"})).await;
    let url = all["url"].as_str().unwrap();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});

    // The integration's tools, then the installed model's.
    let (_, listed) = rpc(&server, url, list.clone()).await;
    let names = tool_names(&listed);
    let expected: Vec<&str> = ZENDESK_TOOLS
        .iter()
        .chain(&TICKETING_TOOLS)
        .copied()
        .collect();
    assert_eq!(names, expected);
    let tools = listed["result"]["tools"].as_array().unwrap();
    let unified_list = &tools[ZENDESK_TOOLS.len()];
    let schema = &unified_list["inputSchema"];
    assert_eq!(schema["properties"]["limit"]["type"], "integer", "{schema}");
    assert_eq!(
        schema["properties"]["updated_at"]["properties"]["gt"]["format"], "date-time",
        "the mapping's query_schema is the tool's: {schema}"
    );
    assert!(
        unified_list["description"]
            .as_str()
            .unwrap()
            .contains("unified `ticketing` API"),
        "{unified_list}"
    );
    let create_tool = &tools[ZENDESK_TOOLS.len() + 2];
    assert_eq!(
        create_tool["inputSchema"]["required"],
        json!(["name", "description"]),
        "Truto's `required: true` flags become JSON Schema's array: {create_tool}"
    );

    // Two pages of unified records through next_cursor.
    let call = |id: u64, name: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
    };
    let ids = |answer: &Value| -> Vec<String> {
        assert_eq!(answer["result"]["isError"], false, "{answer}");
        answer["result"]["structuredContent"]["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, first) = rpc(
        &server,
        url,
        call(2, "list_all_ticketing_tickets", json!({"limit": 2})),
    )
    .await;
    assert_eq!(ids(&first), ["1", "2"]);
    let page = &first["result"]["structuredContent"];
    assert_eq!(page["result_count"], 2, "{page}");
    assert!(
        page["result"][0]["remote_data"]["subject"].is_string(),
        "unified records carry remote_data: {page}"
    );
    let cursor = page["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{page}"));
    let (_, second) = rpc(
        &server,
        url,
        call(
            3,
            "list_all_ticketing_tickets",
            json!({"limit": 2, "next_cursor": cursor}),
        ),
    )
    .await;
    assert_eq!(ids(&second), ["3", "4"]);

    let (_, got) = rpc(
        &server,
        url,
        call(4, "get_single_ticketing_ticket_by_id", json!({"id": "3"})),
    )
    .await;
    assert_eq!(got["result"]["isError"], false, "{got}");
    let record = &got["result"]["structuredContent"];
    assert_eq!(record["id"], "3", "{got}");
    assert!(record["status"]["name"].is_string(), "{got}");

    let (_, made) = rpc(
        &server,
        url,
        call(
            5,
            "create_a_ticketing_ticket",
            json!({"name": "Printer on fire", "description": "Send help"}),
        ),
    )
    .await;
    assert_eq!(made["result"]["isError"], false, "{made}");
    assert_eq!(
        made["result"]["structuredContent"]["name"], "Printer on fire",
        "{made}"
    );

    // A missing required body field is refused before any provider call, as a tool
    // error with the unified error's insight.
    let (_, refused) = rpc(
        &server,
        url,
        call(6, "create_a_ticketing_ticket", json!({"name": "No body"})),
    )
    .await;
    let refusal = &refused["result"];
    assert_eq!(refusal["isError"], true, "{refused}");
    assert_eq!(refusal["structuredContent"]["status"], 400, "{refused}");
    assert_eq!(
        refusal["structuredContent"]["response"]["truto_error_insight"]["missing_required_body_fields"]
            ["value"],
        json!(["description"]),
        "{refused}"
    );

    // A provider error is a tool error with the mapped status.
    let (_, missing) = rpc(
        &server,
        url,
        call(
            7,
            "get_single_ticketing_ticket_by_id",
            json!({"id": "999999"}),
        ),
    )
    .await;
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    assert_eq!(
        missing["result"]["structuredContent"]["status"], 404,
        "{missing}"
    );

    // Tags select unified tools (`unified`, the model's name); methods and tags combine.
    let unified_reads = create(
        &server,
        &account,
        json!({"name": "unified reads", "config": {"methods": ["read"], "tags": ["ticketing"]}}),
    )
    .await;
    let (_, listed) = rpc(
        &server,
        unified_reads["url"].as_str().unwrap(),
        list.clone(),
    )
    .await;
    assert_eq!(
        tool_names(&listed),
        [
            "list_all_ticketing_tickets",
            "get_single_ticketing_ticket_by_id",
            "list_all_ticketing_comments",
            "list_all_ticketing_users",
            "get_single_ticketing_user_by_id",
        ]
    );
    let (_, write) = rpc(
        &server,
        unified_reads["url"].as_str().unwrap(),
        call(
            8,
            "create_a_ticketing_ticket",
            json!({"name": "x", "description": "y"}),
        ),
    )
    .await;
    assert_eq!(
        write["error"]["code"], -32602,
        "a filtered-out tool is unknown: {write}"
    );

    // Uninstalling the model takes its tools away at once.
    let (status, answer) = server
        .send(
            Method::DELETE,
            &format!("/environment-unified-model/{installed}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, listed) = rpc(&server, url, list.clone()).await;
    assert_eq!(tool_names(&listed), ZENDESK_TOOLS);
    let (_, gone) = rpc(
        &server,
        url,
        call(9, "list_all_ticketing_tickets", json!({})),
    )
    .await;
    assert_eq!(gone["error"]["code"], -32602, "{gone}");
    // A server whose filter matched only the model's tools now lists none.
    let (_, listed) = rpc(&server, unified_reads["url"].as_str().unwrap(), list).await;
    assert!(tool_names(&listed).is_empty(), "{listed}");
    server.assert_no_secret_answered(&[API_TOKEN]);
}

async fn the_python_sdk_drives_the_server() {
    let (server, sim, account, sandbox) = zendesk().await;
    install_ticketing(&server).await;
    let full = create(&server, &account, json!({"name": "all"})).await;
    let unified = create(
        &server,
        &account,
        json!({"name": "unified", "config": {"tags": ["unified"]}}),
    )
    .await;
    let read_only = create(
        &server,
        &account,
        json!({"name": "read", "config": {"methods": ["read"]}}),
    )
    .await;
    let sandboxed = create(&server, &sandbox, json!({"name": "sandbox"})).await;
    let revoked = create(&server, &account, json!({"name": "revoked"})).await;
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!(
                "/integrated-account/{account}/mcp/{}",
                revoked["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // An expired server (the API refuses to create one; the store does not).
    let expired = server
        .store
        .create_mcp_server(
            &server.environment_id,
            NewMcpServer {
                integrated_account_id: account.clone(),
                name: "expired".into(),
                filter: ToolFilter::new(),
                expires_at: Some(Utc::now() - Duration::seconds(1)),
            },
        )
        .await
        .unwrap();
    let urls = json!({
        "full": full["url"],
        "read_only": read_only["url"],
        "unified": unified["url"],
        "sandbox": sandboxed["url"],
        "revoked": revoked["url"],
        "expired": server.url(&format!("/mcp/{}", expired.token.expose())),
    });

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py");
    let mut child = tokio::process::Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(urls.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("the client finishes within 2 minutes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the client failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(
        !stdout.contains(API_TOKEN),
        "a secret reached the client: {stdout}"
    );

    let full = &report["full"];
    assert_eq!(full["server_name"], "patchbay", "{full}");
    assert_eq!(full["has_tools_capability"], true);
    assert_eq!(full["ping"], "ok");
    let names: Vec<&str> = full["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = ZENDESK_TOOLS
        .iter()
        .chain(&TICKETING_TOOLS)
        .copied()
        .collect();
    assert_eq!(names, expected);
    let list = &full["tools"][0];
    assert!(
        list["description"]
            .as_str()
            .unwrap()
            .contains("next_cursor"),
        "{list}"
    );
    assert_eq!(
        list["input_schema"]["properties"]["limit"]["type"],
        "integer"
    );

    // Two pages through next_cursor: tickets 1-2, then 3-4.
    let ids = |page: &Value| -> Vec<i64> {
        assert_eq!(page["is_error"], false, "{page}");
        page["structured"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&full["page1"]), [1, 2]);
    assert!(full["page1"]["structured"]["next_cursor"].is_string());
    assert_eq!(ids(&full["page2"]), [3, 4]);
    let text: Value = serde_json::from_str(full["page2"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        text, full["page2"]["structured"],
        "the text content is the same JSON"
    );

    assert_eq!(
        full["get"]["structured"]["ticket"]["id"], 3,
        "{}",
        full["get"]
    );
    assert_eq!(full["create"]["is_error"], false, "{}", full["create"]);
    assert_eq!(
        full["create"]["structured"]["ticket"]["subject"],
        "Printer on fire"
    );

    // A provider error is a tool error with the provider's status and answer.
    let error = &full["provider_error"];
    assert_eq!(error["is_error"], true, "{error}");
    assert_eq!(error["structured"]["status"], 404, "{error}");
    assert!(
        error["structured"]["error"]
            .as_str()
            .unwrap()
            .contains("404"),
        "{error}"
    );
    assert_eq!(full["missing_argument"]["is_error"], true);
    assert_eq!(
        full["missing_argument"]["structured"]["error"],
        "the argument `id` is required"
    );
    assert!(
        full["unknown_tool"]
            .as_str()
            .unwrap()
            .contains("drop_all_tables"),
        "{}",
        full["unknown_tool"]
    );

    // The read-only server lists no write tool and refuses to call one.
    let read = &report["read_only"];
    assert_eq!(
        read["tools"],
        json!(
            ZENDESK_TOOLS
                .iter()
                .chain(&TICKETING_TOOLS)
                .filter(|name| name.starts_with("list_all") || name.starts_with("get_single"))
                .collect::<Vec<_>>()
        )
    );
    assert!(
        read["write_call"]
            .as_str()
            .unwrap_or_default()
            .contains("no tool"),
        "{read}"
    );

    // The unified server lists only the model's tools and pages unified records.
    let unified = &report["unified"];
    assert_eq!(unified["tools"], json!(TICKETING_TOOLS), "{unified}");
    let unified_ids = |page: &Value| -> Vec<String> {
        assert_eq!(page["is_error"], false, "{page}");
        page["structured"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(unified_ids(&unified["page1"]), ["1", "2"]);
    assert_eq!(unified_ids(&unified["page2"]), ["3", "4"]);
    assert_eq!(unified["get"]["structured"]["id"], "2", "{unified}");
    assert!(
        unified["get"]["structured"]["remote_data"]["subject"].is_string(),
        "{unified}"
    );

    // The sandbox account refuses writes as a tool error and still reads.
    let sandbox = &report["sandbox"];
    assert_eq!(sandbox["write"]["is_error"], true, "{sandbox}");
    assert!(
        sandbox["write"]["text"]
            .as_str()
            .unwrap()
            .contains("sandbox"),
        "{sandbox}"
    );
    assert_eq!(sandbox["read"]["is_error"], false, "{sandbox}");

    // Revoked and expired tokens are refused: the client cannot even initialize (the
    // SDK reports the 404 as an `MCPError` 'Not Found').
    for refused in ["revoked", "expired"] {
        let what = report[refused].as_str().unwrap();
        assert!(
            what.contains("MCPError") && what.contains("Not Found"),
            "{refused}: {what}"
        );
        let url = urls[refused].as_str().unwrap();
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        assert_eq!(
            rpc(&server, url, ping).await.0,
            StatusCode::NOT_FOUND,
            "{refused}"
        );
    }

    // The provider saw the calls (the sandbox write never reached it).
    let posts = sim
        .stats()
        .log
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        posts, 1,
        "only the full server's create reached the provider"
    );
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "admin_routes_create_list_validate_and_revoke",
            CurrentThread,
            admin_routes_create_list_validate_and_revoke,
        ),
        tokio_test(
            "raw_json_rpc_lists_and_calls_tools",
            CurrentThread,
            raw_json_rpc_lists_and_calls_tools,
        ),
        tokio_test(
            "unified_model_tools_are_listed_filtered_and_called",
            CurrentThread,
            unified_model_tools_are_listed_filtered_and_called,
        ),
        tokio_test(
            "the_python_sdk_drives_the_server",
            CurrentThread,
            the_python_sdk_drives_the_server,
        )
        .needs(&PYTHON_MCP),
    ])
}
