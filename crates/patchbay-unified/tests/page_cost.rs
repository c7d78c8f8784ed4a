//! A full page of provider records through `map_records` with a shipped mapping (HubSpot
//! contacts; the `get` row, whose `response_mapping` is the `list` row's, so that preparing
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

#[test]
fn a_page_of_hubspot_contacts_maps_every_record_with_the_shipped_mapping() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/unified/crm/hubspot.json"
    );
    let rows: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the shipped mapping"))
            .expect("mapping rows");
    let row = rows
        .iter()
        .find(|row| row["resource_name"] == "contacts" && row["method_name"] == "get")
        .expect("the contacts get row");
    let row = load_mapping_row(&row.to_string()).expect("a valid row");
    let mapping = CompiledMapping::compile(&row.resource_name, &row.method_name, &row.config)
        .expect("compiles");
    let request = UnifiedRequest {
        id: Some("1".to_owned()),
        ..UnifiedRequest::default()
    };
    let prepared = mapping.prepare(request).expect("prepares");
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
