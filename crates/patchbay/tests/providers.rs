//! Every catalog config end to end through the [`Patchbay`] facade against the provider
//! simulator on loopback: each pagination style and auth type with a real provider's
//! shape, resume from `next_cursor`, and the fault cases (429 storms, 5xx, slow answers,
//! connection resets, malformed and truncated bodies, expired and revoked tokens, a
//! burst of concurrent calls during token expiry, Slack's HTTP 200 errors).
#![cfg(feature = "simulator")]

mod support;

use std::collections::HashSet;
use std::ops::Deref;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use patchbay::config::{
    AccountStatus, AuthenticationMethod, apply_override, load_integration_config,
};
use patchbay::executor::{ExecutorError, TransportError};
use patchbay::simulator::{
    Account, Fault, FaultRule, FaultScript, Provider, ProviderSetup, RunningSimulator, Simulator,
};
use patchbay::{CallInput, Error, ListOptions, Patchbay, PatchbayBuilder};
use patchbay_auth::{AuthorizeParams, OAuth2Flow};
use patchbay_ratelimit::{GiveUp, RetryPolicy};
use serde_json::{Map, Value, json};
use support::{Harness, catalog_text, harness_with, object, token_context};

const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

// ---------------------------------------------------------------- harness

/// A simulator serving one provider, and a facade (with its accounts and events) with the
/// catalog config of that provider installed (under the provider's slug) and pointed at it.
struct Rig {
    sim: RunningSimulator,
    provider: Provider,
    h: Harness,
}

impl Deref for Rig {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.h
    }
}

/// Retries quickly so fault tests stay fast: 4 attempts, 1-5 ms backoff.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_single_wait: Duration::from_secs(2),
        max_total_wait: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

/// The catalog config `examples/catalog/{slug}.json` as JSON.
fn catalog_json(slug: &str) -> Value {
    serde_json::from_str(&catalog_text(slug)).expect("catalog JSON")
}

/// The catalog config of `provider` with `overlay` applied over it.
fn catalog(provider: Provider, overlay: &Value) -> patchbay::config::IntegrationConfig {
    let merged = apply_override(&catalog_json(provider.slug()), overlay);
    load_integration_config(&merged.to_string())
        .unwrap_or_else(|e| panic!("{provider} with the simulator overlay: {e}"))
}

/// The overlay pointing a catalog config's `base_url` and OAuth endpoints at the simulator.
fn simulator_overlay(sim: &RunningSimulator, provider: Provider) -> Value {
    sim.catalog_override(provider, &catalog_json(provider.slug()))
}

/// The host variables of an install: the simulator's OAuth app.
fn oauth_app(provider: Provider) -> Map<String, Value> {
    let slug = provider.slug();
    object(
        json!({"client_id": format!("{slug}-client-id"), "client_secret": format!("{slug}-client-secret")}),
    )
}

/// A rig serving `records` records of `provider`, with the API-key account `id` holding
/// `context`.
async fn api_key_rig(provider: Provider, records: u64, id: &str, context: Value) -> Rig {
    let rig = rig(ProviderSetup::new(provider).records(records), provider).await;
    rig.account(id, AuthenticationMethod::ApiKey, context).await;
    rig
}

async fn rig(setup: ProviderSetup, provider: Provider) -> Rig {
    rig_with(setup, provider, Vec::new(), Patchbay::builder()).await
}

async fn rig_with(
    setup: ProviderSetup,
    provider: Provider,
    faults: Vec<FaultRule>,
    builder: PatchbayBuilder,
) -> Rig {
    let mut sim = Simulator::builder().setup(setup);
    for rule in faults {
        sim = sim.fault(rule);
    }
    let sim = sim.start().await.expect("simulator starts");
    let h = harness_with(builder);
    let config = catalog(provider, &simulator_overlay(&sim, provider));
    h.patchbay
        .install(provider.slug(), config, oauth_app(provider))
        .expect("the catalog config compiles");
    Rig { sim, provider, h }
}

impl Rig {
    /// Stores an active account of this rig's install.
    async fn account(&self, id: &str, method: AuthenticationMethod, context: Value) {
        self.put(id, self.provider.slug(), method, context).await;
    }

    /// Runs the authorization-code flow of the installed config against the simulator
    /// (authorize redirect, then code exchange) and returns the account context to store.
    async fn connect_with_code(&self, extra: Value) -> Map<String, Value> {
        let config = catalog(self.provider, &simulator_overlay(&self.sim, self.provider));
        let credential = config
            .credentials
            .as_ref()
            .and_then(|c| c.get("oauth2"))
            .expect("an oauth2 credential")
            .clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let flow = OAuth2Flow::new(&credential, http.clone()).expect("oauth flow");
        let mut context = oauth_app(self.provider);
        context.extend(object(extra));
        let request = flow
            .authorize_url(&context, &AuthorizeParams::new(REDIRECT_URI))
            .expect("authorize URL");
        let answer = http.get(request.url).send().await.expect("authorize");
        assert_eq!(answer.status(), 302);
        let location = reqwest::Url::parse(
            answer.headers()["location"]
                .to_str()
                .expect("ascii location"),
        )
        .expect("redirect URL");
        let query: Map<String, Value> = location
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        assert_eq!(query["state"], request.state.as_str());
        let code = query["code"].as_str().expect("code");
        let tokens = flow
            .exchange_code(
                &context,
                code,
                REDIRECT_URI,
                request.code_verifier.as_ref().map(|v| v.expose()),
            )
            .await
            .expect("code exchange");
        let mut account_context = object(extra_without_app(&context, self.provider));
        tokens.apply_to(&mut account_context);
        account_context
    }
}

/// `context` minus the host's OAuth app variables (those stay host variables).
fn extra_without_app(context: &Map<String, Value>, provider: Provider) -> Value {
    let app = oauth_app(provider);
    Value::Object(
        context
            .iter()
            .filter(|(k, _)| !app.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// An OAuth token context whose access token expired an hour ago.
fn expired_token(access: &str, refresh: &str) -> Value {
    let mut context = token_context(access, Some(refresh), -chrono::Duration::hours(1));
    context["oauth"]["token"]["token_type"] = json!("bearer");
    context
}

fn limit(n: u64) -> ListOptions {
    ListOptions {
        limit: Some(n),
        ..ListOptions::default()
    }
}

/// Streams every record, failing on the first error; checks the stream's final cursor.
async fn list_all(
    patchbay: &Patchbay,
    account: &str,
    resource: &str,
    options: ListOptions,
) -> Result<Vec<Value>, Error> {
    let mut stream = patchbay
        .list(account, resource, "list", &CallInput::new(), options)
        .await?;
    let mut records = Vec::new();
    while let Some(record) = stream.next().await {
        records.push(record?);
    }
    assert_eq!(stream.next_cursor(), None, "a finished list has no cursor");
    Ok(records)
}

/// What identifies a record in a provider's dataset (a JSON pointer into the record), and
/// its expected value for record `n`.
struct Keys {
    pointer: &'static str,
    expected: fn(u64) -> String,
}

impl Keys {
    fn new(pointer: &'static str, expected: fn(u64) -> String) -> Self {
        Self { pointer, expected }
    }

    fn of(&self, record: &Value) -> String {
        str_at(record, self.pointer)
    }
}

/// Lists everything (exact count and ids `1..=records`), then lists the first page with
/// `list_page` and resumes from its `next_cursor` with `list`: together exactly the dataset.
async fn assert_lists_everything_and_resumes(
    rig: &Rig,
    account: &str,
    resource: &str,
    page: Option<u64>,
    records: u64,
    keys: Keys,
) {
    let options = || ListOptions {
        limit: page,
        ..ListOptions::default()
    };
    let expected: Vec<String> = (1..=records).map(keys.expected).collect();
    let all = list_all(&rig.patchbay, account, resource, options())
        .await
        .unwrap_or_else(|e| panic!("{} {resource}: {e}", rig.provider));
    let got: Vec<String> = all.iter().map(|r| keys.of(r)).collect();
    assert_eq!(got.len() as u64, records, "{}: record count", rig.provider);
    assert_eq!(got, expected, "{}: records in order", rig.provider);
    assert_eq!(
        got.iter().collect::<HashSet<_>>().len(),
        got.len(),
        "no duplicates"
    );

    let first = rig
        .patchbay
        .list_page(account, resource, "list", &CallInput::new(), options())
        .await
        .expect("first page");
    assert!(
        !first.records.is_empty() && (first.records.len() as u64) < records,
        "{}: the first page is a strict prefix ({} records)",
        rig.provider,
        first.records.len()
    );
    let cursor = first
        .next_cursor
        .clone()
        .expect("a cursor to the next page");
    let rest = list_all(
        &rig.patchbay,
        account,
        resource,
        ListOptions {
            cursor: Some(cursor),
            ..options()
        },
    )
    .await
    .expect("resume");
    let resumed: Vec<String> = first
        .records
        .iter()
        .chain(&rest)
        .map(|r| keys.of(r))
        .collect();
    assert_eq!(resumed, expected, "{}: page 1 + resumed rest", rig.provider);
}

fn str_at(record: &Value, pointer: &str) -> String {
    match record.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        other => panic!("no {pointer} in {record}: {other:?}"),
    }
}

fn executor_error(error: Error) -> ExecutorError {
    match error {
        Error::Executor(e) => e,
        other => panic!("expected a pipeline error, got {other}"),
    }
}

// ---------------------------------------------------------------- pagination × auth

#[tokio::test]
async fn github_link_header_with_a_personal_access_token() {
    let rig = api_key_rig(
        Provider::Github,
        237,
        "gh",
        json!({"api_key": "ghp_simulator"}),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "gh",
        "repos",
        Some(50),
        237,
        Keys::new("/id", |n| n.to_string()),
    )
    .await;
    let stats = rig.sim.stats();
    // 5 pages listing everything, 1 first page, 4 resumed pages.
    assert_eq!(stats.requests("GET /github/user/repos"), 10);
    let first = stats.log_for(Provider::Github).next().expect("logged");
    let query = first.query.as_deref().unwrap_or_default();
    assert!(
        query.contains("per_page=50") && query.contains("sort=updated"),
        "{query}"
    );
    assert_eq!(first.header("x-github-api-version"), Some("2022-11-28"));
}

#[tokio::test]
async fn shopify_link_header_page_info_with_the_access_token_header() {
    let rig = rig(
        ProviderSetup::new(Provider::Shopify).records(120),
        Provider::Shopify,
    )
    .await;
    // A Shopify offline token never expires; the catalog sends it as X-Shopify-Access-Token.
    rig.account(
        "shop",
        AuthenticationMethod::OAuth2,
        json!({"shop": "acme", "oauth": {"token": {"access_token": "shpat_simulator"}}}),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "shop",
        "products",
        Some(50),
        120,
        Keys::new("/handle", |n| format!("product-{n}")),
    )
    .await;
    let stats = rig.sim.stats();
    assert!(stats.log_for(Provider::Shopify).all(
        |r| r.header("authorization").is_none() && r.header("x-shopify-access-token").is_some()
    ));
    assert!(
        stats
            .log_for(Provider::Shopify)
            .any(|r| r.query.as_deref().is_some_and(|q| q.contains("page_info=")))
    );
}

#[tokio::test]
async fn hubspot_after_cursor_with_an_exchanged_authorization_code() {
    let rig = rig(
        ProviderSetup::new(Provider::Hubspot).records(25),
        Provider::Hubspot,
    )
    .await;
    let context = rig.connect_with_code(json!({})).await;
    assert!(context["oauth"]["token"]["refresh_token"].is_string());
    rig.account("hs", AuthenticationMethod::OAuth2, Value::Object(context))
        .await;
    assert_lists_everything_and_resumes(
        &rig,
        "hs",
        "contacts",
        Some(10),
        25,
        Keys::new("/id", |n| n.to_string()),
    )
    .await;
    let tokens = rig.sim.stats().token_requests(Provider::Hubspot);
    assert_eq!((tokens.authorization_code, tokens.refresh_token), (1, 0));
}

#[tokio::test]
async fn zendesk_cursor_pages_with_basic_api_token_auth() {
    let rig = api_key_rig(Provider::Zendesk, 230, "zd", json!({"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"})).await;
    assert_lists_everything_and_resumes(
        &rig,
        "zd",
        "tickets",
        Some(100),
        230,
        Keys::new("/id", |n| n.to_string()),
    )
    .await;
    let stats = rig.sim.stats();
    let queries: Vec<String> = stats
        .log_for(Provider::Zendesk)
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert!(!queries.is_empty());
    for query in &queries {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
        assert!(
            pairs.contains(&("page[size]".to_owned(), "100".to_owned())),
            "cursor pagination needs page[size]: {query}"
        );
    }
    assert!(
        stats
            .log_for(Provider::Zendesk)
            .all(|r| r.header("authorization").is_some())
    );
}

#[tokio::test]
async fn slack_cursor_ends_on_an_empty_next_cursor_with_a_rotated_refresh_token() {
    let rig = rig(
        ProviderSetup::new(Provider::Slack)
            .records(250)
            .account(Account::new("acme").refresh_token("xoxe-1-seed")),
        Provider::Slack,
    )
    .await;
    rig.account(
        "sl",
        AuthenticationMethod::OAuth2,
        expired_token("xoxe.xoxb-stale", "xoxe-1-seed"),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "sl",
        "channels",
        Some(100),
        250,
        Keys::new("/id", |n| format!("C{n:010}")),
    )
    .await;
    // Slack rotates refresh tokens: the new one was stored and the old one is dead.
    let stored = rig.stored("sl").await;
    let refresh = stored.context["oauth"]["token"]["refresh_token"]
        .as_str()
        .expect("refresh token");
    assert_ne!(refresh, "xoxe-1-seed");
    assert_eq!(
        rig.sim
            .stats()
            .token_requests(Provider::Slack)
            .refresh_token,
        1
    );
    // 3 pages listing everything, then 1 + 2 resuming: the "" cursor ends the list.
    assert_eq!(
        rig.sim
            .stats()
            .requests("GET /slack/api/conversations.list"),
        6
    );
}

#[tokio::test]
async fn salesforce_next_records_url_with_a_pkce_code_exchange() {
    let rig = rig(
        ProviderSetup::new(Provider::Salesforce)
            .records(450)
            .page_size(200),
        Provider::Salesforce,
    )
    .await;
    let context = rig.connect_with_code(json!({})).await;
    // The token response's instance_url is the simulator, so base_url needs no override.
    assert_eq!(
        context["instance_url"],
        rig.sim.api_base_url(Provider::Salesforce)
    );
    rig.account("sf", AuthenticationMethod::OAuth2, Value::Object(context))
        .await;
    assert_lists_everything_and_resumes(
        &rig,
        "sf",
        "accounts",
        None,
        450,
        Keys::new("/Name", |n| format!("Account {n}")),
    )
    .await;
    let stats = rig.sim.stats();
    assert_eq!(
        stats.requests("GET /salesforce/services/data/{version}/query"),
        2,
        "{:?}",
        stats.requests_by_route
    );
}

#[tokio::test]
async fn microsoft_graph_next_link_with_client_credentials() {
    let rig = rig(
        ProviderSetup::new(Provider::MicrosoftGraph).records(25),
        Provider::MicrosoftGraph,
    )
    .await;
    rig.account(
        "ms",
        AuthenticationMethod::OAuth2ClientCredentials,
        json!({
            "tenant_id": "6f1c2b9e-0000-4000-8000-000000000001",
            "client_id": "microsoft-graph-client-id",
            "client_secret": "microsoft-graph-client-secret",
        }),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "ms",
        "users",
        Some(10),
        25,
        Keys::new("/userPrincipalName", |n| {
            format!("user{n}@simulated.onmicrosoft.com")
        }),
    )
    .await;
    let stats = rig.sim.stats();
    assert_eq!(
        stats
            .token_requests(Provider::MicrosoftGraph)
            .client_credentials,
        1,
        "one token for every page"
    );
    assert!(
        stats
            .log_for(Provider::MicrosoftGraph)
            .any(|r| r.query.as_deref().is_some_and(|q| q.contains("skiptoken")))
    );
}

#[tokio::test]
async fn notion_body_cursor_search_with_an_integration_token() {
    let rig = api_key_rig(
        Provider::Notion,
        250,
        "no",
        json!({"api_key": "secret_simulator"}),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "no",
        "pages",
        Some(100),
        250,
        Keys::new("/properties/title/title/0/plain_text", |n| {
            format!("Page {n}")
        }),
    )
    .await;
    assert_eq!(rig.sim.stats().requests("POST /notion/v1/search"), 6);
}

#[tokio::test]
async fn jira_offset_with_a_refreshed_token() {
    let rig = rig(
        ProviderSetup::new(Provider::Jira)
            .records(120)
            .account(Account::new("acme").refresh_token("jira-refresh-seed")),
        Provider::Jira,
    )
    .await;
    let mut context = expired_token("jira-stale", "jira-refresh-seed");
    context["cloud_id"] = json!("11223344-aaaa-bbbb-cccc-556677889900");
    rig.account("ji", AuthenticationMethod::OAuth2, context)
        .await;
    assert_lists_everything_and_resumes(
        &rig,
        "ji",
        "projects",
        Some(50),
        120,
        Keys::new("/key", |n| format!("P{n}")),
    )
    .await;
    let stats = rig.sim.stats();
    assert_eq!(stats.token_requests(Provider::Jira).refresh_token, 1);
    assert!(
        stats
            .log_for(Provider::Jira)
            .filter(|r| r.path.contains("/project/search"))
            .all(|r| r.path.contains("11223344-aaaa-bbbb-cccc-556677889900"))
    );
}

#[tokio::test]
async fn keka_page_numbers_with_the_kekaapi_grant() {
    let rig = rig(
        ProviderSetup::new(Provider::Keka).records(450),
        Provider::Keka,
    )
    .await;
    rig.account(
        "kk",
        AuthenticationMethod::KekaOauth,
        json!({
            "company": "acme",
            "client_id": "keka-client-id",
            "client_secret": "keka-client-secret",
            "api_key": "keka-api-key",
        }),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "kk",
        "employees",
        Some(200),
        450,
        Keys::new("/employeeNumber", |n| format!("EMP{n:06}")),
    )
    .await;
    let tokens = rig.sim.stats().token_requests(Provider::Keka);
    assert_eq!((tokens.kekaapi, tokens.rejected), (1, 0));
    let stored = rig.stored("kk").await;
    assert!(
        stored.context["oauth"]["token"]["access_token"].is_string(),
        "token persisted"
    );
}

#[tokio::test]
async fn stripe_dynamic_starting_after_with_a_secret_key() {
    let rig = api_key_rig(
        Provider::Stripe,
        250,
        "st",
        json!({"api_key": "sk_test_simulator"}),
    )
    .await;
    assert_lists_everything_and_resumes(
        &rig,
        "st",
        "customers",
        None,
        250,
        Keys::new("/id", |n| format!("cus_SIM{n:010}")),
    )
    .await;
    let stats = rig.sim.stats();
    assert!(stats.log_for(Provider::Stripe).any(|r| {
        r.query
            .as_deref()
            .is_some_and(|q| q.contains("starting_after=cus_SIM0000000100"))
    }));
}

// ---------------------------------------------------------------- faults

/// GitHub with a PAT account `gh`, 90 repos (3 pages of 30 with `limit(30)`), the given
/// faults and retries.
async fn github_rig(faults: Vec<FaultRule>, builder: PatchbayBuilder) -> Rig {
    let rig = rig_with(
        ProviderSetup::new(Provider::Github).records(90),
        Provider::Github,
        faults,
        builder,
    )
    .await;
    rig.account(
        "gh",
        AuthenticationMethod::ApiKey,
        json!({"api_key": "ghp_simulator"}),
    )
    .await;
    rig
}

fn github(script: FaultScript) -> Vec<FaultRule> {
    vec![FaultRule::provider(Provider::Github, script)]
}

fn retrying() -> PatchbayBuilder {
    Patchbay::builder().retry_policy(fast_retries())
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_every_record_arrives() {
    let rig = github_rig(
        github(
            FaultScript::new()
                .then(Fault::too_many_requests(0), 3)
                .then_ok(1)
                .then(Fault::too_many_requests(1), 1),
        ),
        retrying(),
    )
    .await;
    let started = Instant::now();
    let repos = list_all(&rig.patchbay, "gh", "repos", limit(30))
        .await
        .expect("the storm passes");
    assert_eq!(repos.len(), 90);
    let elapsed = started.elapsed();
    let stats = rig.sim.stats();
    assert_eq!(stats.faults_injected, 4);
    assert_eq!(
        stats
            .log_for(Provider::Github)
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        [429, 429, 429, 200, 429, 200, 200]
    );
    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({elapsed:?})"
    );
}

#[tokio::test]
async fn a_never_ending_429_storm_gives_up_after_the_policys_attempts() {
    let rig = github_rig(
        github(FaultScript::always(Fault::too_many_requests(0))),
        retrying(),
    )
    .await;
    let err = executor_error(rig.first_page("gh", "repos").await.unwrap_err());
    match &err {
        ExecutorError::RateLimited { reason, response } => {
            assert_eq!(*reason, GiveUp::AttemptsExhausted { attempts: 4 });
            assert_eq!(response.status, 429);
            assert_eq!(response.headers["retry-after"], "0");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(rig.sim.stats().requests("GET /github/user/repos"), 4);
}

#[tokio::test]
async fn a_5xx_get_is_retried_but_a_5xx_post_is_not() {
    let rig = github_rig(
        github(
            FaultScript::new()
                .then(Fault::status(502), 1)
                .then(Fault::status(503), 1),
        ),
        retrying(),
    )
    .await;
    let repos = list_all(&rig.patchbay, "gh", "repos", limit(30))
        .await
        .expect("GET recovers");
    assert_eq!(repos.len(), 90);
    let stats = rig.sim.stats();
    assert_eq!(stats.faults_injected, 2);
    assert_eq!(
        stats
            .log_for(Provider::Github)
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        [502, 503, 200, 200, 200]
    );

    rig.sim.inject(
        FaultRule::provider(
            Provider::Github,
            FaultScript::new().then(Fault::status(503), 1),
        )
        .path_contains("/issues"),
    );
    let input = CallInput::new()
        .query("owner", "octocat")
        .query("repo", "hello")
        .body(json!({"title": "Bug"}));
    let err = executor_error(
        rig.patchbay
            .call("gh", "issues", "create", &input)
            .await
            .unwrap_err(),
    );
    let provider = err.provider_error().expect("the provider's answer");
    assert_eq!(provider.status, 503);
    assert_eq!(
        rig.sim
            .stats()
            .requests("POST /github/repos/{owner}/{repo}/issues"),
        1,
        "a POST is never repeated: {:?}",
        rig.sim.stats().requests_by_route
    );
    // Once the fault is spent the same POST goes through.
    let created = rig
        .patchbay
        .call("gh", "issues", "create", &input)
        .await
        .expect("created");
    assert_eq!(created.status, 201);
    assert_eq!(created.body["title"], "Bug");
}

#[tokio::test]
async fn a_slow_provider_times_out_as_a_transport_error() {
    let rig = github_rig(
        github(FaultScript::always(Fault::Delay(Duration::from_secs(2)))),
        Patchbay::builder()
            .timeout(Duration::from_millis(150))
            .retry_policy(RetryPolicy {
                max_attempts: 2,
                ..fast_retries()
            }),
    )
    .await;
    let started = Instant::now();
    let err = executor_error(rig.first_page("gh", "repos").await.unwrap_err());
    assert!(
        matches!(
            err,
            ExecutorError::Transport {
                error: TransportError::Timeout(_),
                attempts: 2
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not wait for the answer"
    );
}

#[tokio::test]
async fn connection_resets_are_retried_for_gets() {
    let rig = github_rig(
        github(FaultScript::new().then(Fault::ConnectionReset, 2)),
        retrying(),
    )
    .await;
    let repos = list_all(&rig.patchbay, "gh", "repos", limit(30))
        .await
        .expect("recovers after resets");
    assert_eq!(repos.len(), 90);
    let stats = rig.sim.stats();
    assert_eq!(
        stats
            .log_for(Provider::Github)
            .filter(|r| r.status == 0)
            .count(),
        2
    );
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let rig = github_rig(
        github(FaultScript::always(Fault::MalformedJson)),
        retrying(),
    )
    .await;
    let err = executor_error(
        list_all(&rig.patchbay, "gh", "repos", limit(30))
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ExecutorError::Parse(_)), "{err:?}");
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error() {
    let rig = github_rig(
        github(FaultScript::always(Fault::TruncatedBody)),
        retrying(),
    )
    .await;
    let err = executor_error(rig.first_page("gh", "repos").await.unwrap_err());
    assert!(
        matches!(
            err,
            ExecutorError::Transport {
                error: TransportError::Body(_),
                ..
            }
        ),
        "{err:?}"
    );
}

/// HubSpot with account `hs` connected earlier: seeded tokens, stored with `context`.
async fn hubspot_rig(context: Value, builder: PatchbayBuilder) -> Rig {
    let rig = rig_with(
        ProviderSetup::new(Provider::Hubspot).records(30).account(
            Account::new("acme")
                .access_token("hs-access-1")
                .refresh_token("hs-refresh-1")
                .expires_in(Duration::from_secs(1800)),
        ),
        Provider::Hubspot,
        Vec::new(),
        builder,
    )
    .await;
    rig.account("hs", AuthenticationMethod::OAuth2, context)
        .await;
    rig
}

#[tokio::test]
async fn an_access_token_the_provider_expired_is_refreshed_and_persisted() {
    // The stored expiry says the token is good for 30 minutes; the provider disagrees.
    let rig = hubspot_rig(
        token_context(
            "hs-access-1",
            Some("hs-refresh-1"),
            chrono::Duration::minutes(30),
        ),
        retrying(),
    )
    .await;
    rig.sim.expire_tokens(Provider::Hubspot);
    let contacts = list_all(&rig.patchbay, "hs", "contacts", limit(100))
        .await
        .expect("refreshed after the 401");
    assert_eq!(contacts.len(), 30);
    let stats = rig.sim.stats();
    assert_eq!(stats.token_requests(Provider::Hubspot).refresh_token, 1);
    let stored = rig.stored("hs").await;
    let token = &stored.context["oauth"]["token"];
    assert_ne!(token["access_token"], "hs-access-1");
    assert_eq!(
        token["refresh_token"], "hs-refresh-1",
        "HubSpot keeps its refresh token"
    );
    assert!(
        stats
            .tokens
            .iter()
            .any(|t| Some(t.access_token.as_str()) == token["access_token"].as_str() && !t.expired),
        "the stored token is the one the simulator issued"
    );
    assert_eq!(stored.status, AccountStatus::Active);
    assert!(rig.events.take().is_empty());
}

#[tokio::test]
async fn a_revoked_refresh_token_marks_the_account_needs_reauth() {
    let rig = hubspot_rig(expired_token("hs-access-1", "hs-refresh-1"), retrying()).await;
    assert!(rig.sim.revoke(Provider::Hubspot, "acme"));
    let err = rig.first_page("hs", "contacts").await.unwrap_err();
    assert!(matches!(executor_error(err), ExecutorError::Auth(_)));
    rig.assert_needs_reauth("hs", "invalid_grant").await;
    rig.assert_one_authentication_error("hs");
    assert_eq!(
        rig.sim.stats().token_requests(Provider::Hubspot).rejected,
        1
    );
    assert_eq!(
        rig.sim
            .stats()
            .requests("GET /hubspot/crm/v3/objects/contacts"),
        0
    );
}

#[tokio::test]
async fn fifty_concurrent_calls_during_expiry_share_one_refresh() {
    let rig = hubspot_rig(expired_token("hs-access-1", "hs-refresh-1"), retrying()).await;
    // Give the token endpoint a little latency so the 50 calls really overlap.
    rig.sim.inject(
        FaultRule::provider(
            Provider::Hubspot,
            FaultScript::new().then(Fault::Delay(Duration::from_millis(100)), 1),
        )
        .endpoints(patchbay::simulator::Endpoints::Token),
    );
    let calls = (0..50).map(|i| {
        let patchbay = rig.patchbay.clone();
        tokio::spawn(async move {
            let input = CallInput::new().id((i % 30 + 1).to_string());
            patchbay.call("hs", "contacts", "get", &input).await
        })
    });
    let answers = futures_util::future::join_all(calls).await;
    for (i, answer) in answers.into_iter().enumerate() {
        let response = answer
            .expect("task")
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
        assert_eq!(response.status, 200);
        assert_eq!(response.body["id"], (i % 30 + 1).to_string());
    }
    let stats = rig.sim.stats();
    assert_eq!(stats.token_requests(Provider::Hubspot).refresh_token, 1);
    assert_eq!(stats.token_requests(Provider::Hubspot).total(), 1);
    assert_eq!(
        stats.requests("GET /hubspot/crm/v3/objects/contacts/{id}"),
        50
    );
    let stored = rig.stored("hs").await;
    assert_ne!(
        stored.context["oauth"]["token"]["access_token"],
        "hs-access-1"
    );
}

#[tokio::test]
async fn slack_http_200_invalid_auth_is_an_authentication_error() {
    let rig = rig(
        ProviderSetup::new(Provider::Slack).records(5),
        Provider::Slack,
    )
    .await;
    // No refresh token: the catalog's error_expression gives `invalid_auth`
    // status 401, so the account needs reauthorization, as after a real 401.
    rig.account(
        "sl",
        AuthenticationMethod::OAuth2,
        json!({"oauth": {"token": {"access_token": "xoxb-not-a-token"}}}),
    )
    .await;
    let err = executor_error(
        rig.patchbay
            .call("sl", "channels", "list", &CallInput::new())
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ExecutorError::Auth(_)), "{err}");
    assert_eq!(rig.stored("sl").await.status, AccountStatus::NeedsReauth);
    rig.assert_one_authentication_error("sl");
}

#[tokio::test]
async fn slack_http_200_token_expired_refreshes_once_and_retries() {
    let rig = rig_with(
        ProviderSetup::new(Provider::Slack)
            .records(5)
            .account(Account::new("acme").refresh_token("xoxe-1-seed")),
        Provider::Slack,
        vec![FaultRule::provider(
            Provider::Slack,
            FaultScript::new().then(Fault::ExpiredToken, 1),
        )],
        Patchbay::builder().retry_policy(fast_retries()),
    )
    .await;
    // The context says the token is good for an hour; Slack says it expired.
    rig.account(
        "sl",
        AuthenticationMethod::OAuth2,
        token_context(
            "xoxe.xoxb-stale",
            Some("xoxe-1-seed"),
            chrono::Duration::hours(1),
        ),
    )
    .await;
    let response = rig
        .patchbay
        .call("sl", "channels", "list", &CallInput::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.body["ok"], true);
    assert_eq!(
        rig.sim
            .stats()
            .token_requests(Provider::Slack)
            .refresh_token,
        1
    );
    assert_eq!(rig.stored("sl").await.status, AccountStatus::Active);
    assert!(rig.events.take().is_empty());
}
