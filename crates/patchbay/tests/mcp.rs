//! MCP tools of an account through the facade (`Patchbay::mcp_tools`, `call_tool`) against
//! the provider simulator on loopback: list pages with `next_cursor`, get, create, a
//! provider error as a tool error, argument errors, a sandbox write, unknown tools, and
//! the tools of a registered unified model (pages, the account's override, refusals).
#![cfg(feature = "simulator")]

mod support;

use patchbay::config::{AuthenticationMethod, apply_override, load_integration_config};
use patchbay::mcp::ToolFilter;
use patchbay::simulator::{Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay::unified::{AccountOverride, load_mapping_row, load_unified_model};
use patchbay::{AccountStore, Error};
use serde_json::{Value, json};
use support::{Harness, account, catalog_text, harness, object};

const CONTEXT: &str =
    r#"{"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}"#;

/// A simulator serving 5 Zendesk tickets and a facade with the catalog config installed
/// as `zendesk` (pointed at it), an account `zd` and a sandbox account `zd-sandbox`.
async fn rig() -> (RunningSimulator, Harness) {
    let sim = Simulator::builder()
        .setup(ProviderSetup::new(Provider::Zendesk).records(5))
        .start()
        .await
        .expect("simulator starts");
    let catalog: Value = serde_json::from_str(&catalog_text("zendesk")).unwrap();
    let merged = apply_override(&catalog, &sim.catalog_override(Provider::Zendesk, &catalog));
    let config = load_integration_config(&merged.to_string()).unwrap();
    let h = harness();
    h.patchbay
        .install("zendesk", config, Default::default())
        .unwrap();
    let context: Value = serde_json::from_str(CONTEXT).unwrap();
    h.put(
        "zd",
        "zendesk",
        AuthenticationMethod::ApiKey,
        context.clone(),
    )
    .await;
    let mut sandbox = account(
        "zd-sandbox",
        "zendesk",
        AuthenticationMethod::ApiKey,
        context,
    );
    sandbox.is_sandbox = true;
    h.accounts.put(sandbox).await.unwrap();
    (sim, h)
}

fn args(value: Value) -> serde_json::Map<String, Value> {
    object(value)
}

#[tokio::test]
async fn tools_are_listed_and_filtered() {
    let (_sim, h) = rig().await;
    let all = h
        .patchbay
        .mcp_tools("zd", &ToolFilter::new())
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "list_all_zendesk_tickets",
            "get_single_zendesk_ticket_by_id",
            "create_a_zendesk_ticket",
            "update_a_zendesk_ticket_by_id",
            "delete_a_zendesk_ticket_by_id",
            "list_all_zendesk_ticket_comments",
            "list_all_zendesk_users",
            "get_single_zendesk_user_by_id",
            "list_all_zendesk_search"
        ]
    );
    let read = h
        .patchbay
        .mcp_tools("zd", &ToolFilter::new().methods(["read"]))
        .await
        .unwrap();
    assert_eq!(read.len(), 6, "lists and gets");
    assert!(
        read.iter()
            .all(|t| t.name.starts_with("list_all") || t.name.starts_with("get_single")),
        "{read:?}"
    );
    assert!(matches!(
        h.patchbay.mcp_tools("nobody", &ToolFilter::new()).await,
        Err(Error::UnknownAccount(_))
    ));
}

#[tokio::test]
async fn list_pages_follow_next_cursor_then_get_and_create() {
    let (sim, h) = rig().await;
    let first = h
        .patchbay
        .call_tool("zd", "list_all_zendesk_tickets", &args(json!({"limit": 3})))
        .await
        .unwrap();
    assert!(!first.is_error, "{}", first.text());
    assert_eq!(first.content["result"].as_array().unwrap().len(), 3);
    let cursor = first.content["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = h
        .patchbay
        .call_tool(
            "zd",
            "list_all_zendesk_tickets",
            &args(json!({"limit": 3, "next_cursor": cursor})),
        )
        .await
        .unwrap();
    let ids: Vec<&Value> = first.content["result"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.content["result"].as_array().unwrap())
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(second.content["next_cursor"], Value::Null);

    let got = h
        .patchbay
        .call_tool(
            "zd",
            "get_single_zendesk_ticket_by_id",
            &args(json!({"id": 2})),
        )
        .await
        .unwrap();
    assert!(!got.is_error);
    assert_eq!(got.content["ticket"]["id"], 2);

    let created = h
        .patchbay
        .call_tool(
            "zd",
            "create_a_zendesk_ticket",
            &args(json!({"subject": "Printer on fire", "comment": {"body": "help"}})),
        )
        .await
        .unwrap();
    assert!(!created.is_error, "{}", created.text());
    assert_eq!(created.content["ticket"]["subject"], "Printer on fire");
    assert_eq!(created.content["ticket"]["description"], "help");
    // No secret of the account is in any result.
    for result in [&first, &second, &got, &created] {
        assert!(!result.text().contains("zendesk-api-token"));
    }
    assert_eq!(sim.stats().total_requests(), 4);
}

#[tokio::test]
async fn failures_are_tool_errors_with_the_providers_answer() {
    let (sim, h) = rig().await;
    let missing = h
        .patchbay
        .call_tool(
            "zd",
            "get_single_zendesk_ticket_by_id",
            &args(json!({"id": 999})),
        )
        .await
        .unwrap();
    assert!(missing.is_error);
    assert_eq!(missing.content["status"], 404);
    assert_eq!(missing.content["kind"], "provider");
    assert!(
        missing.content["error"].as_str().unwrap().contains("404"),
        "{}",
        missing.text()
    );
    assert!(
        missing.content["response"].is_object(),
        "{}",
        missing.text()
    );
    assert!(!missing.text().contains("zendesk-api-token"));

    let no_id = h
        .patchbay
        .call_tool("zd", "get_single_zendesk_ticket_by_id", &args(json!({})))
        .await
        .unwrap();
    assert!(no_id.is_error);
    assert_eq!(no_id.content["error"], "the argument `id` is required");

    let before = sim.stats().total_requests();
    let sandbox = h
        .patchbay
        .call_tool(
            "zd-sandbox",
            "create_a_zendesk_ticket",
            &args(json!({"subject": "x"})),
        )
        .await
        .unwrap();
    assert!(sandbox.is_error);
    assert!(
        sandbox.content["error"]
            .as_str()
            .unwrap()
            .contains("sandbox"),
        "{}",
        sandbox.text()
    );
    assert_eq!(
        sim.stats().total_requests(),
        before,
        "the refused write was not sent"
    );
    // A read on the sandbox account still works.
    let read = h
        .patchbay
        .call_tool(
            "zd-sandbox",
            "get_single_zendesk_ticket_by_id",
            &args(json!({"id": 1})),
        )
        .await
        .unwrap();
    assert!(!read.is_error);

    assert!(matches!(
        h.patchbay.call_tool("zd", "drop_all_tables", &args(json!({}))).await,
        Err(Error::UnknownTool(name)) if name == "drop_all_tables"
    ));
}

/// Registers the shipped `ticketing` model with its Zendesk rows for the `zendesk` install.
fn install_ticketing(h: &Harness) {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/unified/ticketing"
    );
    let read = |file: &str| std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
    let model = load_unified_model(&read("model.json")).unwrap();
    let rows: Vec<Value> = serde_json::from_str(&read("zendesk.json")).unwrap();
    let rows: Vec<_> = rows
        .iter()
        .map(|row| load_mapping_row(&row.to_string()).unwrap())
        .collect();
    h.patchbay
        .install_unified("zendesk", &model, "zendesk", &rows, &[])
        .unwrap();
}

#[tokio::test]
async fn unified_models_add_tools_that_run_unified_calls() {
    let (sim, h) = rig().await;
    install_ticketing(&h);
    let unified = ToolFilter::new().tags(["unified"]);
    let tools = h.patchbay.mcp_tools("zd", &unified).await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "list_all_ticketing_tickets",
            "get_single_ticketing_ticket_by_id",
            "create_a_ticketing_ticket",
            "update_a_ticketing_ticket_by_id",
            "delete_a_ticketing_ticket_by_id",
            "list_all_ticketing_comments",
            "list_all_ticketing_users",
            "get_single_ticketing_user_by_id",
        ]
    );
    assert!(
        tools
            .iter()
            .all(|t| t.model.as_deref() == Some("ticketing"))
    );
    // The integration's own tools are still there, first.
    let all = h
        .patchbay
        .mcp_tools("zd", &ToolFilter::new())
        .await
        .unwrap();
    assert_eq!(all[0].name, "list_all_zendesk_tickets");
    assert_eq!(all.len(), 9 + 8);

    // A page of unified records, then the next one through next_cursor.
    let first = h
        .patchbay
        .call_tool(
            "zd",
            "list_all_ticketing_tickets",
            &args(json!({"limit": 3})),
        )
        .await
        .unwrap();
    assert!(!first.is_error, "{}", first.text());
    assert_eq!(first.content["result_count"], 3);
    assert_eq!(first.content["result"][0]["id"], "1");
    let cursor = first.content["next_cursor"].as_str().unwrap().to_owned();
    let second = h
        .patchbay
        .call_tool(
            "zd",
            "list_all_ticketing_tickets",
            &args(json!({"limit": 3, "next_cursor": cursor})),
        )
        .await
        .unwrap();
    assert_eq!(second.content["result"][0]["id"], "4", "{}", second.text());

    // The account's override is layered on a unified tool's mapping.
    let account_override: AccountOverride = serde_json::from_value(json!({
        "ticketing": {"tickets": {"get": {
            "response_mapping": "{ \"id\": $string(response.id), \"layer\": \"account\" }"
        }}}
    }))
    .unwrap();
    let got = h
        .patchbay
        .call_tool_with_override(
            "zd",
            "get_single_ticketing_ticket_by_id",
            &args(json!({"id": "2"})),
            Some(&account_override),
        )
        .await
        .unwrap();
    // Response mappings layer by merging their results (reference §1.3).
    assert_eq!(got.content["layer"], "account", "{}", got.text());
    assert_eq!(got.content["id"], "2", "{}", got.text());
    let plain = h
        .patchbay
        .call_tool(
            "zd",
            "get_single_ticketing_ticket_by_id",
            &args(json!({"id": "2"})),
        )
        .await
        .unwrap();
    assert!(plain.content["remote_data"].is_object(), "{}", plain.text());
    assert!(plain.content.get("layer").is_none(), "{}", plain.text());

    // Unified refusals are tool errors with the unified error's status and insight, and
    // a sandbox account's unified write never reaches the provider.
    let refused = h
        .patchbay
        .call_tool(
            "zd",
            "create_a_ticketing_ticket",
            &args(json!({"name": "x"})),
        )
        .await
        .unwrap();
    assert!(refused.is_error);
    assert_eq!(refused.content["status"], 400, "{}", refused.text());
    assert_eq!(
        refused.content["response"]["truto_error_insight"]["missing_required_body_fields"]["value"],
        json!(["description"])
    );
    let before = sim.stats().total_requests();
    let sandbox = h
        .patchbay
        .call_tool(
            "zd-sandbox",
            "create_a_ticketing_ticket",
            &args(json!({"name": "x", "description": "y"})),
        )
        .await
        .unwrap();
    assert!(sandbox.is_error, "{}", sandbox.text());
    assert!(sandbox.text().contains("sandbox"), "{}", sandbox.text());
    assert_eq!(sim.stats().total_requests(), before);
}
