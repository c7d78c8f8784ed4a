// Lists Zendesk tickets without the internet: starts the provider simulator in-process,
// installs the catalog config `examples/catalog/zendesk.json` pointed at it, stores an
// integrated account, streams every record, then resumes a list from `next_cursor`.
//
//     cargo run -p patchbay --features simulator --example list_offline
//
// (`crates/patchbay/tests/examples.rs` includes this file and runs `run`, so a broken
// example fails CI. That is why this file has plain comments instead of `//!` docs.)

use std::error::Error as StdError;
use std::io::Write;
use std::sync::Arc;

use futures_util::StreamExt;
use patchbay::config::{
    AccountStatus, AuthenticationMethod, IntegratedAccount, apply_override, load_integration_config,
};
use patchbay::simulator::{Provider, ProviderSetup, Simulator};
use patchbay::{AccountStore, CallInput, ListOptions, MemoryAccountStore, Patchbay};
use serde_json::{Value, json};

/// Tickets the simulated Zendesk serves.
pub const TICKETS: u64 = 250;
/// Page size asked for (`page[size]`).
pub const PAGE: u64 = 100;

/// What a run saw.
#[derive(Debug)]
pub struct Summary {
    /// Ids of every ticket streamed by the full list, in order.
    pub ids: Vec<u64>,
    /// Ids of the first page, read before stopping.
    pub first_page: Vec<u64>,
    /// Ids of the resumed list (from the first page's `next_cursor`).
    pub resumed: Vec<u64>,
}

/// Runs the example, printing to `out`.
pub async fn run(out: &mut impl Write) -> Result<Summary, Box<dyn StdError + Send + Sync>> {
    // 1. A simulated Zendesk on 127.0.0.1:<ephemeral port>.
    let sim = Simulator::builder()
        .setup(ProviderSetup::new(Provider::Zendesk).records(TICKETS))
        .start()
        .await?;

    // 2. The catalog config, with its base_url pointed at the simulator.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/catalog/zendesk.json"
    );
    let catalog: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let pointed = apply_override(
        &catalog,
        &json!({"base_url": sim.api_base_url(Provider::Zendesk)}),
    );
    let config = load_integration_config(&pointed.to_string())?;

    // 3. The facade, with the integration installed under the id accounts refer to.
    let accounts = Arc::new(MemoryAccountStore::new());
    let patchbay = Patchbay::builder().account_store(accounts.clone()).build();
    patchbay.install("zendesk-offline", config, Default::default())?;

    // 4. An integrated account: the fields the catalog config asks for (Basic auth
    //    `{{email}}/token:{{api_token}}`), with the simulator's credentials.
    let context = json!({
        "subdomain": "acme",
        "email": "agent@example.com",
        "api_token": "zendesk-api-token",
    });
    accounts
        .put(IntegratedAccount {
            id: "acct-zendesk".into(),
            tenant_id: "tenant-1".into(),
            environment_integration_id: "zendesk-offline".into(),
            environment_id: None,
            context: context.as_object().cloned().unwrap_or_default(),
            authentication_method: AuthenticationMethod::ApiKey,
            status: AccountStatus::Active,
            last_error: None,
            last_action_result: None,
            region: None,
            is_sandbox: false,
            object_store_context_keys: None,
            integration: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        })
        .await?;

    // 5. Stream every ticket, one page in memory at a time.
    let options = || ListOptions {
        limit: Some(PAGE),
        ..ListOptions::default()
    };
    let mut tickets = patchbay
        .list(
            "acct-zendesk",
            "tickets",
            "list",
            &CallInput::new(),
            options(),
        )
        .await?;
    let mut ids = Vec::new();
    while let Some(ticket) = tickets.next().await {
        let ticket = ticket?;
        if ids.len() < 3 {
            writeln!(out, "  #{} {}", ticket["id"], ticket["subject"])?;
        }
        ids.push(ticket["id"].as_u64().ok_or("ticket without a numeric id")?);
    }
    writeln!(out, "listed {} tickets", ids.len())?;

    // 6. Resume: fetch one page, keep its cursor, continue later from there.
    let page = patchbay
        .list_page(
            "acct-zendesk",
            "tickets",
            "list",
            &CallInput::new(),
            options(),
        )
        .await?;
    let first_page: Vec<u64> = page
        .records
        .iter()
        .filter_map(|t| t["id"].as_u64())
        .collect();
    let cursor = page
        .next_cursor
        .ok_or("the first page has no next_cursor")?;
    writeln!(
        out,
        "first page: {} tickets, next_cursor {cursor}",
        first_page.len()
    )?;
    let mut rest = patchbay
        .list(
            "acct-zendesk",
            "tickets",
            "list",
            &CallInput::new(),
            ListOptions {
                cursor: Some(cursor),
                ..options()
            },
        )
        .await?;
    let mut resumed = Vec::new();
    while let Some(ticket) = rest.next().await {
        resumed.push(
            ticket?["id"]
                .as_u64()
                .ok_or("ticket without a numeric id")?,
        );
    }
    writeln!(
        out,
        "resumed: {} more tickets (#{} to #{}); next_cursor now {:?}",
        resumed.len(),
        resumed.first().copied().unwrap_or_default(),
        resumed.last().copied().unwrap_or_default(),
        rest.next_cursor()
    )?;
    writeln!(
        out,
        "{} requests reached the simulator",
        sim.stats().requests("GET /zendesk/api/v2/tickets")
    )?;
    sim.shutdown().await;
    Ok(Summary {
        ids,
        first_page,
        resumed,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError + Send + Sync>> {
    run(&mut std::io::stdout()).await?;
    Ok(())
}
