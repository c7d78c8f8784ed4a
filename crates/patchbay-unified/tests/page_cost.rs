//! A full page of provider records through `map_records` with a shipped mapping (HubSpot
//! contacts and Zendesk tickets; the `get` rows, whose `response_mapping` is the `list` row's, so that preparing
//! the call runs no engine expression, which under valgrind could outlast its time limit):
//! every record mapped, in order. It is also the workload of the instruction count in
//! `docs/benchmarks.md` (the unified section):
//! `valgrind --tool=callgrind --toggle-collect='*CompiledMapping*map_records*' <this test binary>`.

use patchbay_unified::{CompiledMapping, UnifiedRequest, load_mapping_row};
use serde_json::{Value, json};

/// Records in the shape the simulator serves HubSpot contacts, some fields left empty.
fn hubspot_contacts(count: usize) -> Vec<Value> {
    (1..=count)
        .map(|n| {
            json!({
                "id": n.to_string(),
                "properties": {
                    "firstname": format!("First{n}"),
                    "lastname": if n % 5 == 0 { Value::Null } else { json!(format!("Last{n}")) },
                    "email": format!("person{n}@example.com"),
                    "phone": if n % 3 == 0 { Value::Null } else { json!(format!("+1-555-{n:04}")) },
                    "jobtitle": if n % 2 == 0 { json!("Engineer") } else { Value::Null },
                    "hubspot_owner_id": if n % 4 == 0 { Value::Null } else { json!((n % 7).to_string()) },
                    "createdate": "2024-01-01T00:00:00Z",
                    "lastmodifieddate": "2024-02-01T00:00:00Z"
                },
                "createdAt": "2024-01-01T00:00:00Z",
                "updatedAt": "2024-02-01T00:00:00Z",
                "archived": false
            })
        })
        .collect()
}

/// Records in the shape the simulator serves Zendesk tickets.
fn zendesk_tickets(count: u64) -> Vec<Value> {
    const STATUSES: [&str; 4] = ["new", "open", "pending", "solved"];
    (1..=count)
        .map(|n| {
            json!({
                "id": n, "url": format!("https://acme.zendesk.com/api/v2/tickets/{n}.json"),
                "subject": format!("Ticket {n}"), "description": format!("Simulated ticket {n}"),
                "status": STATUSES[(n % 4) as usize], "priority": null, "type": "incident",
                "requester_id": 1000 + n, "submitter_id": 1000 + n,
                "assignee_id": (n % 7 != 0).then_some(n % 5 + 1),
                "group_id": (n % 2 != 0).then_some(360_000 + n % 3),
                "tags": if n % 3 == 0 { json!(["vip", "billing"]) } else { json!([]) },
                "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z"
            })
        })
        .collect()
}

/// The shipped `get` mapping of `resource` in `examples/unified/{model}/{integration}.json`,
/// compiled and prepared for record `1`.
fn shipped_get(
    model: &str,
    integration: &str,
    resource: &str,
) -> (CompiledMapping, patchbay_unified::PreparedCall) {
    let path = format!(
        "{}/../../examples/unified/{model}/{integration}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let rows: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the shipped mapping"))
            .expect("mapping rows");
    let row = rows
        .iter()
        .find(|row| row["resource_name"] == resource && row["method_name"] == "get")
        .expect("the get row");
    let row = load_mapping_row(&row.to_string()).expect("a valid row");
    let mapping = CompiledMapping::compile(&row.resource_name, &row.method_name, &row.config)
        .expect("compiles");
    let request = UnifiedRequest {
        id: Some("1".to_owned()),
        ..UnifiedRequest::default()
    };
    let prepared = mapping.prepare(request).expect("prepares");
    (mapping, prepared)
}

#[test]
fn a_page_of_zendesk_tickets_maps_every_record_with_the_shipped_mapping() {
    let (mapping, prepared) = shipped_get("ticketing", "zendesk", "tickets");
    let records = zendesk_tickets(600);
    let mapped = mapping
        .map_records(&prepared, records.clone(), &json!({}))
        .expect("maps");
    assert_eq!(mapped.len(), records.len());
    for (n, (unified, raw)) in (1..).zip(mapped.iter().zip(&records)) {
        assert_eq!(unified["id"], json!(n.to_string()));
        assert_eq!(unified["remote_data"], *raw);
    }
    assert_eq!(
        mapped[2],
        json!({"id": "3", "number": "3", "name": "Ticket 3", "description": "Simulated ticket 3",
               "status": {"id": "solved", "name": "resolved"},
               "ticket_type": {"id": "incident", "name": "incident"},
               "assignees": [{"id": "4"}], "created_by": {"id": "1003", "type": "user"},
               "contact": {"id": "1003"}, "team": {"id": "360000"},
               "tags": [{"id": "vip", "name": "vip"}, {"id": "billing", "name": "billing"}],
               "ticket_url": "https://acme.zendesk.com/api/v2/tickets/3.json",
               "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z",
               "remote_data": records[2]})
    );
}

#[test]
fn a_page_of_hubspot_contacts_maps_every_record_with_the_shipped_mapping() {
    let (mapping, prepared) = shipped_get("crm", "hubspot", "contacts");
    let records = hubspot_contacts(600);
    let mapped = mapping
        .map_records(&prepared, records.clone(), &json!({}))
        .expect("maps");
    assert_eq!(mapped.len(), records.len());
    for (n, (unified, raw)) in (1..).zip(mapped.iter().zip(&records)) {
        assert_eq!(unified["id"], json!(n.to_string()));
        assert_eq!(unified["remote_data"], *raw);
    }
    assert_eq!(
        mapped[4],
        json!({"id": "5", "first_name": "First5", "name": "First5",
               "email_addresses": [{"email": "person5@example.com", "type": "work"}],
               "phone_numbers": [{"number": "+1-555-0005", "type": "work"}],
               "owner": {"id": "5"}, "created_at": "2024-01-01T00:00:00Z",
               "updated_at": "2024-02-01T00:00:00Z", "remote_data": records[4]})
    );
}
