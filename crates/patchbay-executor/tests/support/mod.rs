//! What the executor's integration tests share: configs compiled from JSON, accounts,
//! an executor that retries quickly, one-line calls, scripted wiremock responders and
//! the requests a mock server received.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use patchbay_config::{AuthenticationMethod, load_integration_config};
use patchbay_executor::{
    AccountData, CallInput, CompiledIntegration, Executor, ExecutorError, ListOptions, Page,
    RecordStream, Response,
};
use patchbay_ratelimit::RetryPolicy;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// `config` (integration JSON) loaded and compiled; panics with the load error.
pub fn integration(config: Value) -> CompiledIntegration {
    let config = load_integration_config(&config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    CompiledIntegration::new(config).expect("the config compiles")
}

/// An account `id` of `method` with `context` (a JSON object).
pub fn account(id: &str, method: AuthenticationMethod, context: Value) -> AccountData {
    AccountData {
        id: id.into(),
        authentication_method: method,
        context: context.as_object().expect("a JSON object").clone(),
    }
}

/// The API-key account `acct-1` with `context`.
pub fn api_key_account(context: Value) -> AccountData {
    account("acct-1", AuthenticationMethod::ApiKey, context)
}

/// An OAuth account `id` whose access token expired in 2020, refreshable with `refresh`.
pub fn expired_oauth_account(id: &str, refresh: &str) -> AccountData {
    account(
        id,
        AuthenticationMethod::OAuth2,
        json!({"oauth": {"token": {
            "access_token": "old",
            "refresh_token": refresh,
            "expires_at": "2020-01-01T00:00:00.000Z",
        }}}),
    )
}

/// An OAuth2 config whose token endpoint is `{base}/oauth/token` and whose one method is
/// `me.get` at `/me`.
pub fn oauth_me_config(base: &str, client_secret: &str) -> Value {
    json!({
        "base_url": base,
        "credentials": {"format": "oauth2", "config": {
            "client": {"id": "cid", "secret": client_secret},
            "auth": {"tokenHost": base, "tokenPath": "/oauth/token"}
        }},
        "authorization": {"format": "bearer"},
        "resources": {"me": {"get": {"path": "/me"}}}
    })
}

/// The default retry policy with 5-20 ms backoff, so retrying tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// An executor with [`fast_retries`].
pub fn executor() -> Executor {
    Executor::builder().retry_policy(fast_retries()).build()
}

/// An executor, an integration and an account: what the calls of one test share.
pub struct Caller {
    pub exec: Executor,
    pub integration: CompiledIntegration,
    pub account: AccountData,
}

impl Caller {
    /// [`executor`] calling the integration of `config` for `account`.
    pub fn new(config: Value, account: AccountData) -> Self {
        Self {
            exec: executor(),
            integration: integration(config),
            account,
        }
    }

    /// The same integration and account through `exec`.
    pub fn through(self, exec: Executor) -> Self {
        Self { exec, ..self }
    }

    /// Calls `resource.method` with `input`.
    pub async fn call(
        &self,
        resource: &str,
        method: &str,
        input: CallInput,
    ) -> Result<Response, ExecutorError> {
        call(
            &self.exec,
            &self.integration,
            &self.account,
            resource,
            method,
            input,
        )
        .await
    }
}

/// `exec.call` of `resource.method` for `account` with `input`.
pub async fn call(
    exec: &Executor,
    integration: &CompiledIntegration,
    account: &AccountData,
    resource: &str,
    method: &str,
    input: CallInput,
) -> Result<Response, ExecutorError> {
    exec.call(
        integration,
        account.as_account_ref(),
        resource,
        method,
        &input,
    )
    .await
}

/// One page of `resource.method` (no input) for `account`, from `cursor` (`None`: the first).
pub async fn page_at(
    exec: &Executor,
    integration: &CompiledIntegration,
    account: &AccountData,
    resource: &str,
    method: &str,
    cursor: Option<String>,
) -> Result<Page, ExecutorError> {
    exec.list_page(
        integration,
        account.as_account_ref(),
        resource,
        method,
        &CallInput::new(),
        ListOptions {
            cursor,
            ..ListOptions::default()
        },
    )
    .await
}

/// Streams `resource.method` (no input) for `account` with `options` and [`collect`]s it.
pub async fn list_all(
    exec: &Executor,
    integration: &CompiledIntegration,
    account: &AccountData,
    resource: &str,
    method: &str,
    options: ListOptions,
) -> (Vec<Value>, Option<ExecutorError>) {
    collect(exec.list(
        integration,
        account,
        resource,
        method,
        &CallInput::new(),
        options,
    ))
    .await
}

/// List options asking for pages of `n` records.
pub fn limit(n: u64) -> ListOptions {
    ListOptions {
        limit: Some(n),
        ..ListOptions::default()
    }
}

/// Every record of `stream` until the end or the first error (returned beside them).
pub async fn collect(mut stream: RecordStream) -> (Vec<Value>, Option<ExecutorError>) {
    let mut records = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(record) => records.push(record),
            Err(e) => return (records, Some(e)),
        }
    }
    (records, None)
}

/// The `id` of every record, as numbers.
pub fn ids(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["id"].as_u64().expect("a numeric id"))
        .collect()
}

/// `http://127.0.0.1:<port>` of a port nothing listens on.
pub fn dead_base_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address");
    format!("http://{closed}")
}

/// Answers the scripted responses in order, then repeats the last.
pub struct Script(Vec<ResponseTemplate>, AtomicUsize);

impl Script {
    /// A script of `responses` (at least one).
    pub fn new(responses: Vec<ResponseTemplate>) -> Self {
        Self(responses, AtomicUsize::new(0))
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.1.fetch_add(1, Ordering::SeqCst);
        self.0[n.min(self.0.len() - 1)].clone()
    }
}

/// The bodies of every request `server` received, in order, as text.
pub async fn bodies(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// How many `verb` requests to path `at` `server` received.
pub async fn requests_to(server: &MockServer, verb: &str, at: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .count()
}

/// A mock of `verb` requests to the path `at`, to add matchers and a response to.
pub fn on(verb: &str, at: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(at))
}
