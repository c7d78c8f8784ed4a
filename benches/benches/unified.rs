//! A unified list page against the proxy list page of the same provider page, through the
//! facade, with the shipped mappings (`examples/unified/`) over the catalog configs and
//! the provider simulator as the upstream (in-process, loopback).
//!
//! Each pair fetches the same 100-record page of the simulator (same upstream request,
//! same records); the unified side adds the mapping: the query mapping, the resource and
//! method pickers, `response_mapping` once per record and `remote_data`. Measured as the
//! process's CPU time per page (user + system, from `/proc/self/stat`; the simulator's
//! work is in it, the same on both sides), so read `unified/*` over `proxy/*`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay::config::{AuthenticationMethod, apply_override, load_integration_config};
use patchbay::simulator::{Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay::unified::{
    MappingRow, UnifiedRequest, load_mapping_row, load_unified_model, nest_query,
};
use patchbay::{AccountStore, CallInput, ListOptions, MemoryAccountStore, Patchbay, UnifiedBody};
use patchbay_benches::process_cpu;
use serde_json::{Map, Value, json};

const PAGE: u64 = 100;

/// One provider's pair: the proxy resource and the unified model/resource mapped onto it.
struct Pair {
    provider: Provider,
    proxy_resource: &'static str,
    model: &'static str,
    resource: &'static str,
}

const PAIRS: [Pair; 3] = [
    Pair {
        provider: Provider::Hubspot,
        proxy_resource: "contacts",
        model: "crm",
        resource: "contacts",
    },
    Pair {
        provider: Provider::Zendesk,
        proxy_resource: "tickets",
        model: "ticketing",
        resource: "tickets",
    },
    Pair {
        provider: Provider::Keka,
        proxy_resource: "employees",
        model: "hris",
        resource: "employees",
    },
];

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn read_json(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).expect("example file")).expect("JSON")
}

fn account_context(provider: Provider) -> (AuthenticationMethod, Value) {
    match provider {
        Provider::Zendesk => (
            AuthenticationMethod::ApiKey,
            json!({"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}),
        ),
        Provider::Keka => (
            AuthenticationMethod::KekaOauth,
            json!({"company": "acme", "client_id": "keka-client-id",
                   "client_secret": "keka-client-secret", "api_key": "keka-api-key"}),
        ),
        other => (
            AuthenticationMethod::OAuth2,
            json!({"oauth": {"token": {"access_token": format!("{}-static-token", other.slug()),
                   "token_type": "bearer", "expires_at": "2999-01-01T00:00:00.000Z"}}}),
        ),
    }
}

async fn setup() -> (RunningSimulator, Patchbay) {
    let mut builder = Simulator::builder();
    for pair in &PAIRS {
        builder = builder.setup(
            ProviderSetup::new(pair.provider)
                .records(PAGE * 10)
                .page_size(PAGE),
        );
    }
    let sim = builder.start().await.expect("simulator");
    let accounts = std::sync::Arc::new(MemoryAccountStore::new());
    let patchbay = Patchbay::builder().account_store(accounts.clone()).build();
    for pair in &PAIRS {
        let slug = pair.provider.slug();
        let catalog = read_json(examples().join(format!("catalog/{slug}.json")));
        let merged = apply_override(&catalog, &sim.catalog_override(pair.provider, &catalog));
        let config = load_integration_config(&merged.to_string()).expect("catalog config");
        patchbay.install(slug, config, Map::new()).expect("install");
        let model = load_unified_model(
            &std::fs::read_to_string(examples().join(format!("unified/{}/model.json", pair.model)))
                .unwrap(),
        )
        .expect("model");
        let rows: Vec<MappingRow> =
            read_json(examples().join(format!("unified/{}/{slug}.json", pair.model)))
                .as_array()
                .expect("rows")
                .iter()
                .map(|row| load_mapping_row(&row.to_string()).expect("row"))
                .collect();
        patchbay
            .install_unified(slug, &model, slug, &rows, &[])
            .expect("mappings");
        let (method, context) = account_context(pair.provider);
        let now = chrono::Utc::now();
        accounts
            .put(patchbay::config::IntegratedAccount {
                id: slug.into(),
                tenant_id: "bench".into(),
                environment_integration_id: slug.into(),
                environment_id: None,
                context: context.as_object().unwrap().clone(),
                authentication_method: method,
                status: patchbay::config::AccountStatus::Active,
                last_error: None,
                last_action_result: None,
                region: None,
                is_sandbox: false,
                object_store_context_keys: None,
                integration: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .expect("account");
    }
    (sim, patchbay)
}

async fn proxy_page(patchbay: &Patchbay, pair: &Pair) -> usize {
    let options = ListOptions {
        limit: Some(PAGE),
        ..ListOptions::default()
    };
    let page = patchbay
        .list_page(
            pair.provider.slug(),
            pair.proxy_resource,
            "list",
            &CallInput::new(),
            options,
        )
        .await
        .expect("proxy page");
    page.records.len()
}

async fn unified_page(patchbay: &Patchbay, pair: &Pair) -> usize {
    let limit = PAGE.to_string();
    let request = UnifiedRequest {
        query: nest_query([("limit", limit.as_str())]),
        ..UnifiedRequest::default()
    };
    let response = patchbay
        .unified(
            pair.provider.slug(),
            pair.model,
            pair.resource,
            "list",
            request,
        )
        .await
        .expect("unified page");
    match response.body {
        UnifiedBody::List(list) => list.result_count,
        _ => panic!("a list"),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_sim, patchbay) = rt.block_on(setup());
    for pair in &PAIRS {
        // Both sides fetch the same page of PAGE records.
        assert_eq!(rt.block_on(proxy_page(&patchbay, pair)), PAGE as usize);
        assert_eq!(rt.block_on(unified_page(&patchbay, pair)), PAGE as usize);

        let mut group = c.benchmark_group(format!("unified_vs_proxy_cpu/{}", pair.provider.slug()));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
        group.bench_function("proxy", |b| {
            b.iter_custom(|iters| {
                let start = process_cpu();
                rt.block_on(async {
                    for _ in 0..iters {
                        proxy_page(&patchbay, pair).await;
                    }
                });
                process_cpu() - start
            })
        });
        group.bench_function("unified", |b| {
            b.iter_custom(|iters| {
                let start = process_cpu();
                rt.block_on(async {
                    for _ in 0..iters {
                        unified_page(&patchbay, pair).await;
                    }
                });
                process_cpu() - start
            })
        });
        group.finish();

        let mut group =
            c.benchmark_group(format!("unified_vs_proxy_wall/{}", pair.provider.slug()));
        group.bench_function("proxy", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..iters {
                        proxy_page(&patchbay, pair).await;
                    }
                });
                start.elapsed()
            })
        });
        group.bench_function("unified", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..iters {
                        unified_page(&patchbay, pair).await;
                    }
                });
                start.elapsed()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
