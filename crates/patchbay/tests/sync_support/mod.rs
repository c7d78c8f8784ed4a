//! What the runner tests share: a provider simulator serving Zendesk, a facade with the
//! catalog's Zendesk config and the shipped `ticketing` unified model installed against
//! it, one account, and helpers to read what a run delivered.
#![allow(dead_code)]

use std::sync::Arc;

use patchbay::config::{apply_override, load_integrated_account, load_integration_config};
use patchbay::simulator::{
    Fault, FaultRule, FaultScript, Provider, ProviderSetup, RunningSimulator, Simulator,
};
use patchbay::sync::{JobPlan, SyncEvent, load_sync_job};
use patchbay::unified::{load_mapping_row, load_unified_model};
use patchbay::{Patchbay, PatchbayBuilder};
use serde_json::{Value, json};

/// The account the tests run for.
pub const ACCOUNT: &str = "zd";

/// Comments the simulator serves per ticket (ids `ticket * 100 + k`, k = 1..=3).
pub const COMMENTS_PER_TICKET: u64 = 3;

/// Truto's published RapidBridge example (tickets, then each ticket's comments), with
/// the tickets filtered by `previous_run_date` for incremental runs.
pub const ZENDESK_JOB: &str = r#"{
  "id": "job-zendesk",
  "integration_name": "zendesk",
  "args_schema": {"type": "object", "properties": {"integrated_account_id": {"type": "string"}}},
  "mutex_key": "{{args.integrated_account_id}}",
  "resources": [
    {"resource": "ticketing/tickets", "method": "list",
     "query": {"updated_at": {"gt": "{{previous_run_date}}"}}},
    {"resource": "ticketing/comments", "method": "list", "depends_on": "ticketing/tickets",
     "query": {"ticket_id": "{{resources.ticketing.tickets.id}}"}}
  ]
}"#;

/// The compiled [`ZENDESK_JOB`].
pub fn zendesk_job() -> JobPlan {
    load_sync_job(ZENDESK_JOB).expect("the example job is valid")
}

/// A simulator serving `tickets` Zendesk tickets (with `faults`), and a facade from
/// `builder` with Zendesk installed as `zendesk`, the `ticketing` model registered and
/// the account [`ACCOUNT`].
pub async fn rig(
    tickets: u64,
    faults: Vec<FaultRule>,
    builder: PatchbayBuilder,
) -> (RunningSimulator, Patchbay) {
    let mut sim =
        Simulator::builder().setup(ProviderSetup::new(Provider::Zendesk).records(tickets));
    for fault in faults {
        sim = sim.fault(fault);
    }
    let sim = sim.start().await.expect("the simulator starts");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let read = |file: &str| {
        std::fs::read_to_string(format!("{root}/{file}")).unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let catalog: Value = serde_json::from_str(&read("catalog/zendesk.json")).unwrap();
    let merged = apply_override(&catalog, &sim.catalog_override(Provider::Zendesk, &catalog));
    let patchbay = builder.build();
    patchbay
        .install(
            "zendesk",
            load_integration_config(&merged.to_string()).unwrap(),
            Default::default(),
        )
        .unwrap();
    let model = load_unified_model(&read("unified/ticketing/model.json")).unwrap();
    let rows: Vec<Value> = serde_json::from_str(&read("unified/ticketing/zendesk.json")).unwrap();
    let rows: Vec<_> = rows
        .iter()
        .map(|row| load_mapping_row(&row.to_string()).unwrap())
        .collect();
    patchbay
        .install_unified("zendesk", &model, "zendesk", &rows, &[])
        .unwrap();
    let account = load_integrated_account(
        &json!({
            "id": ACCOUNT, "tenant_id": "tenant-1", "environment_integration_id": "zendesk",
            "context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"},
            "authentication_method": "api_key", "status": "active",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        })
        .to_string(),
    )
    .unwrap();
    patchbay.accounts().put(account).await.unwrap();
    (sim, patchbay)
}

/// `(resource, record id, sequence)` of every record delivered in `events`, in order.
pub fn delivered(events: &[SyncEvent]) -> Vec<(String, String, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Records(batch) => Some(batch),
            _ => None,
        })
        .flat_map(|batch| {
            batch.records.iter().map(|r| {
                let id = match &r.data["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (batch.resource.clone(), id, r.sequence)
            })
        })
        .collect()
}

/// What [`ZENDESK_JOB`] delivers for `tickets` (ticket numbers, in order): each ticket,
/// then its comments, tickets a page at a time (`page` tickets per page).
pub fn expected(tickets: &[u64], page: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in tickets.chunks(page) {
        for t in chunk {
            out.push(("ticketing/tickets".to_owned(), t.to_string()));
        }
        for t in chunk {
            for k in 1..=COMMENTS_PER_TICKET {
                out.push(("ticketing/comments".to_owned(), (t * 100 + k).to_string()));
            }
        }
    }
    out
}

/// `(resource, record id)` of every record delivered in `events`, in order.
pub fn delivered_ids(events: &[SyncEvent]) -> Vec<(String, String)> {
    delivered(events)
        .into_iter()
        .map(|(resource, id, _)| (resource, id))
        .collect()
}

/// A Zendesk simulator whose first request for comments answers 429 with
/// `Retry-After: retry_after` seconds, and a facade that waits out at most 10 ms of a
/// rate limit itself (so the wait is the run's), serving `tickets` tickets.
pub async fn rate_limited_rig(tickets: u64, retry_after: u64) -> (RunningSimulator, Patchbay) {
    let script = FaultScript::new().then(Fault::too_many_requests(retry_after), 1);
    let faults = vec![FaultRule::provider(Provider::Zendesk, script).path_contains("/comments")];
    let builder = Patchbay::builder().max_rate_limit_wait(std::time::Duration::from_millis(10));
    rig(tickets, faults, builder).await
}

/// The names of `events`.
pub fn names(events: &[SyncEvent]) -> Vec<&'static str> {
    events.iter().map(SyncEvent::name).collect()
}

/// An `Arc` of it, as a trait object.
pub fn arc<T>(value: T) -> Arc<T> {
    Arc::new(value)
}
