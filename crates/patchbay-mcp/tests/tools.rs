//! Tool generation from the catalog configs and from configs with schemas and tags.

use patchbay_config::{IntegrationConfig, load_integration_config};
use patchbay_mcp::{ArgumentError, MethodKind, Tool, ToolFilter, tools};
use serde_json::{Map, Value, json};

fn catalog(name: &str) -> IntegrationConfig {
    let path = format!(
        "{}/../../examples/catalog/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    load_integration_config(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config(value: Value) -> IntegrationConfig {
    load_integration_config(&value.to_string()).unwrap()
}

fn named<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools.iter().find(|t| t.name == name).unwrap_or_else(|| {
        panic!(
            "no tool {name} in {:?}",
            tools.iter().map(|t| &t.name).collect::<Vec<_>>()
        )
    })
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn github_tools_are_named_described_and_take_their_placeholders() {
    let tools = tools("github", &catalog("github"));
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "list_all_github_repos",
            "get_single_github_repo_by_id",
            "list_all_github_issues",
            "get_single_github_issue_by_id",
            "create_a_github_issue",
            "update_a_github_issue_by_id",
            "list_all_github_issue_comments",
            "get_single_github_issue_comment_by_id",
            "create_a_github_issue_comment",
            "update_a_github_issue_comment_by_id",
            "delete_a_github_issue_comment_by_id",
            "list_all_github_assignees",
            "get_single_github_user_by_id",
        ]
    );

    let list = named(&tools, "list_all_github_issues");
    assert_eq!(list.kind, MethodKind::Read);
    assert!(
        list.description.contains("next_cursor"),
        "{}",
        list.description
    );
    let properties = list.input_schema["properties"].as_object().unwrap();
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(keys, ["limit", "next_cursor", "owner", "repo", "state"]);
    assert!(list.input_schema.get("required").is_none());

    let get = named(&tools, "get_single_github_repo_by_id");
    assert_eq!(get.input_schema["required"], json!(["id"]));

    let create = named(&tools, "create_a_github_issue");
    assert_eq!(create.kind, MethodKind::Write);
    let keys: Vec<&str> = create.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["owner", "repo", "title", "body", "labels"]);
    // owner and repo are path placeholders of the query, the rest is the body.
    let call = create
        .route(&args(
            json!({"owner": "acme", "repo": "app", "title": "Bug", "labels": ["x"]}),
        ))
        .unwrap();
    assert_eq!(call.query, args(json!({"owner": "acme", "repo": "app"})));
    assert_eq!(call.body, Some(json!({"title": "Bug", "labels": ["x"]})));
    assert!(!call.list);
}

#[test]
fn a_whole_body_method_sends_every_other_argument_in_the_body() {
    let tools = tools("zendesk", &catalog("zendesk"));
    let create = named(&tools, "create_a_zendesk_ticket");
    let call = create
        .route(&args(json!({"subject": "Help", "comment": {"body": "hi"}})))
        .unwrap();
    assert_eq!(
        call.body,
        Some(json!({"subject": "Help", "comment": {"body": "hi"}}))
    );
    assert!(call.query.is_empty());
    assert!(create.description.contains("request body"));
}

#[test]
fn list_arguments_page_and_get_requires_its_id() {
    let tools = tools("zendesk", &catalog("zendesk"));
    let list = named(&tools, "list_all_zendesk_tickets");
    let call = list
        .route(&args(
            json!({"limit": 2, "next_cursor": "abc", "status": "open"}),
        ))
        .unwrap();
    assert!(call.list);
    assert_eq!(call.limit, Some(2));
    assert_eq!(call.next_cursor.as_deref(), Some("abc"));
    assert_eq!(call.query, args(json!({"status": "open"})));

    for (bad, argument) in [
        (json!({"limit": 0}), "limit"),
        (json!({"limit": "x"}), "limit"),
        (json!({"next_cursor": 5}), "next_cursor"),
    ] {
        match list.route(&args(bad)) {
            Err(ArgumentError::WrongType { argument: a, .. }) => assert_eq!(a, argument),
            other => panic!("expected a wrong {argument}, got {other:?}"),
        }
    }

    let get = named(&tools, "get_single_zendesk_ticket_by_id");
    assert_eq!(get.route(&Map::new()), Err(ArgumentError::MissingId));
    assert_eq!(
        get.route(&args(json!({"id": 7}))).unwrap().id.as_deref(),
        Some("7")
    );
    assert_eq!(
        get.route(&args(json!({"id": ""}))).unwrap_err().to_string(),
        "the argument `id` must be a non-empty string or a number"
    );
}

#[test]
fn config_schemas_descriptions_and_tags_are_used() {
    let config = config(json!({
        "base_url": "https://api.example.com",
        "label": "Example CRM",
        "tool_tags": {"contacts": ["crm", "people"]},
        "resources": {
            "contacts": {
                "list": {
                    "path": "/contacts",
                    "description": "List the CRM's contacts, newest first.",
                    "api_documentation_url": "https://docs.example.com/contacts",
                    "query_schema": {"type": "object", "properties": {
                        "email": {"type": "string", "description": "Exact email."},
                        "limit": {"type": "integer"}
                    }, "required": ["email"]}
                },
                "update": {
                    "method": "patch",
                    "path": "/contacts/{{id}}",
                    "body_schema": {"type": "object", "properties": {
                        "name": {"type": "string"}
                    }}
                },
                "merge": {"method": "post", "path": "/contacts/{{id}}/merge"}
            },
            "notes": {"search": {"path": "/notes/search", "query": {"q": "{{query.q}}"}}}
        }
    }));
    let tools = tools("example", &config);
    let list = named(&tools, "list_all_example_contacts");
    assert!(list.description.starts_with("List the CRM's contacts, newest first. Provider documentation: https://docs.example.com/contacts"));
    assert_eq!(
        list.input_schema["properties"]["email"],
        json!({"type": "string", "description": "Exact email."})
    );
    // `limit` stays the page size, not the schema's query key.
    assert_eq!(list.input_schema["properties"]["limit"]["minimum"], 1);
    assert_eq!(list.input_schema["required"], json!(["email"]));
    assert_eq!(list.tags, ["crm", "people"]);

    let update = named(&tools, "update_a_example_contact_by_id");
    assert_eq!(
        update.input_schema["properties"]["name"],
        json!({"type": "string"})
    );
    assert_eq!(update.input_schema["required"], json!(["id"]));

    let merge = named(&tools, "merge_example_contacts_by_id");
    assert_eq!(merge.kind, MethodKind::Custom);
    let search = named(&tools, "search_example_notes");
    assert_eq!(search.kind, MethodKind::Custom);
    assert!(
        search
            .description
            .starts_with("Run the `search` method of the notes of Example CRM.")
    );

    let read = ToolFilter::new().methods(["read"]);
    let names = |filter: &ToolFilter| -> Vec<String> {
        tools
            .iter()
            .filter(|t| filter.matches(t))
            .map(|t| t.name.clone())
            .collect()
    };
    assert_eq!(names(&read), ["list_all_example_contacts"]);
    assert_eq!(
        names(&ToolFilter::new().methods(["custom"])),
        ["merge_example_contacts_by_id", "search_example_notes"]
    );
    assert_eq!(
        names(&ToolFilter::new().methods(["update", "search"])).len(),
        2
    );
    // Tags and methods combine with AND.
    assert_eq!(
        names(&ToolFilter::new().tags(["people"])),
        [
            "list_all_example_contacts",
            "update_a_example_contact_by_id",
            "merge_example_contacts_by_id"
        ]
    );
    assert_eq!(
        names(&ToolFilter::new().tags(["people"]).methods(["custom"])),
        ["merge_example_contacts_by_id"]
    );
    assert!(names(&ToolFilter::new().tags(["billing"])).is_empty());
}

#[test]
fn colliding_names_are_made_unique() {
    let config = config(json!({
        "base_url": "https://api.example.com",
        "resources": {
            "pull-requests": {"list": {"path": "/a"}},
            "pull_requests": {"list": {"path": "/b"}}
        }
    }));
    let names: Vec<String> = tools("gh", &config).into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        ["list_all_gh_pull_requests", "list_all_gh_pull_requests_2"]
    );
}

#[test]
fn every_catalog_config_gives_unique_valid_names() {
    let dir = format!("{}/../../examples/catalog", env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let config = load_integration_config(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let tools = tools(&name, &config);
        let methods: usize = config
            .resources
            .iter()
            .flatten()
            .map(|(_, m)| m.len())
            .sum();
        assert_eq!(tools.len(), methods, "{name}");
        for tool in &tools {
            assert!(
                tool.name.len() <= 128
                    && tool
                        .name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                tool.name
            );
            assert_eq!(tools.iter().filter(|t| t.name == tool.name).count(), 1);
            assert_eq!(tool.input_schema["type"], "object");
        }
        total += tools.len();
    }
    assert!(total > 20, "the catalog has {total} tools");
}

#[test]
fn unified_tools_route_by_their_mapping_schemas() {
    use patchbay_mcp::{UNIFIED_TAG, UnifiedMethod, unified_tool};

    let query = json!({"type": "object", "properties": {
        "updated_at": {"type": "object", "properties": {"gt": {"type": "string"}}},
        "id": {"type": "string"}
    }});
    let list = unified_tool(
        &UnifiedMethod::new("crm", "contacts", "list")
            .description(Some("People you sell to"))
            .documentation_url(Some("https://docs.example/contacts"))
            .schemas(Some(&query), None),
    );
    assert_eq!(list.name, "list_all_crm_contacts");
    assert_eq!(list.kind, MethodKind::Read);
    assert_eq!(list.tags, [UNIFIED_TAG, "crm"]);
    assert!(
        list.description.contains("People you sell to."),
        "{}",
        list.description
    );
    assert!(list.description.contains("https://docs.example/contacts"));
    assert!(list.description.contains("next_cursor"));
    let properties = list.input_schema["properties"].as_object().unwrap();
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["limit", "next_cursor", "updated_at"],
        "`id` is reserved"
    );
    let call = list
        .route(&args(
            json!({"updated_at": {"gt": "2024-01-01"}, "owner": "me", "limit": 5}),
        ))
        .unwrap();
    assert_eq!(call.model.as_deref(), Some("crm"));
    assert_eq!(call.limit, Some(5));
    assert_eq!(
        Value::Object(call.query),
        json!({"updated_at": {"gt": "2024-01-01"}, "owner": "me"}),
        "a list sends unlisted arguments in the query"
    );
    assert_eq!(call.body, None);

    // `update` without a body schema takes the record's fields, none required, and
    // sends every other argument in the body too.
    let record = json!({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "first_name": {"type": "string"}
    }});
    let update =
        unified_tool(&UnifiedMethod::new("crm", "contacts", "update").record_schema(Some(&record)));
    assert_eq!(update.name, "update_a_crm_contact_by_id");
    assert_eq!(update.input_schema["required"], json!(["id"]));
    assert!(update.input_schema["properties"]["first_name"].is_object());
    let call = update
        .route(&args(
            json!({"id": 7, "first_name": "Ada", "nickname": "A"}),
        ))
        .unwrap();
    assert_eq!(call.id.as_deref(), Some("7"));
    assert_eq!(
        call.body,
        Some(json!({"first_name": "Ada", "nickname": "A"}))
    );
    assert_eq!(
        update.route(&args(json!({"first_name": "Ada"}))),
        Err(ArgumentError::MissingId)
    );

    // A custom method takes an optional id; with a body schema, extras go to the body.
    let body = json!({"properties": {"note": {"type": "string"}}, "required": ["note"]});
    let custom =
        unified_tool(&UnifiedMethod::new("crm", "contacts", "merge").schemas(None, Some(&body)));
    assert_eq!(custom.name, "merge_crm_contacts");
    assert_eq!(custom.kind, MethodKind::Custom);
    assert_eq!(custom.input_schema["required"], json!(["note"]));
    let call = custom
        .route(&args(json!({"note": "dupes", "into": "9"})))
        .unwrap();
    assert_eq!(call.id, None);
    assert_eq!(call.body, Some(json!({"note": "dupes", "into": "9"})));
    let call = custom
        .route(&args(json!({"id": "3", "note": "x"})))
        .unwrap();
    assert_eq!(call.id.as_deref(), Some("3"));

    // `get` has no body: unlisted arguments are query parameters.
    let get = unified_tool(&UnifiedMethod::new("crm", "contacts", "get"));
    let call = get
        .route(&args(json!({"id": "1", "fields": "name"})))
        .unwrap();
    assert_eq!(Value::Object(call.query), json!({"fields": "name"}));

    // Filters: a unified tool has the `unified` and model tags, no integration tags.
    assert!(ToolFilter::new().tags(["unified"]).matches(&get));
    assert!(
        ToolFilter::new()
            .tags(["crm"])
            .methods(["read"])
            .matches(&get)
    );
    assert!(
        !ToolFilter::new()
            .tags(["crm"])
            .methods(["write"])
            .matches(&get)
    );
    assert!(
        !ToolFilter::new().tags(["unified"]).matches(
            &named(
                &tools("zendesk", &catalog("zendesk")),
                "list_all_zendesk_tickets"
            )
            .clone()
        )
    );
}
