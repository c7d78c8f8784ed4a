//! The runner against its [`PageSource`] contract, without the facade: a scripted source
//! answers pages and errors in order and records what it was asked. What the runner does
//! with each [`SourceError`] (skip, fail, pause for `retry_after`), what a request
//! carries (cursor, page size, `truto_response_format`), and unreadable accounts. The
//! facade's implementation is exercised against the simulator in
//! `crates/patchbay/tests/sync_jobs.rs`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use patchbay_config::{IntegratedAccount, load_integrated_account};
use patchbay_sync::{
    FetchedPage, MemoryRunStore, MemorySink, PageRequest, PageSource, RunError, RunRequest,
    RunState, RunStatus, Runner, RunnerOptions, SourceError, SyncEvent, load_sync_job,
};
use serde_json::{Value, json};

const ACCOUNT: &str = "acct-1";

/// One call the source received: `proxy tickets list` or `unified ticketing/tickets list`,
/// and its request.
type Call = (String, PageRequest);

/// A page source answering from a script, in call order (an empty last page when the
/// script is used up).
struct ScriptedSource {
    account: Result<Option<IntegratedAccount>, &'static str>,
    answers: Mutex<VecDeque<Result<FetchedPage, SourceError>>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl ScriptedSource {
    fn new(answers: Vec<Result<FetchedPage, SourceError>>) -> Self {
        let account = load_integrated_account(
            &json!({
                "id": ACCOUNT, "tenant_id": "tenant-1", "environment_integration_id": "zendesk",
                "context": {"subdomain": "acme"}, "authentication_method": "api_key",
                "status": "active", "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z"
            })
            .to_string(),
        )
        .unwrap();
        ScriptedSource {
            account: Ok(Some(account)),
            answers: Mutex::new(answers.into()),
            calls: Arc::default(),
        }
    }

    fn answer(&self, call: String, request: PageRequest) -> Result<FetchedPage, SourceError> {
        self.calls.lock().unwrap().push((call, request));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(FetchedPage::default()))
    }
}

#[async_trait]
impl PageSource for ScriptedSource {
    async fn account(&self, _: &str) -> Result<Option<IntegratedAccount>, SourceError> {
        self.account
            .clone()
            .map_err(|reason| SourceError::Other(reason.into()))
    }

    async fn proxy_page(
        &self,
        _: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        self.answer(format!("proxy {resource} {method}"), request)
    }

    async fn unified_page(
        &self,
        _: &str,
        model: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        self.answer(format!("unified {model}/{resource} {method}"), request)
    }
}

fn page(ids: &[u64], next_cursor: Option<&str>) -> Result<FetchedPage, SourceError> {
    Ok(FetchedPage {
        records: ids.iter().map(|id| json!({"id": id})).collect(),
        next_cursor: next_cursor.map(str::to_owned),
    })
}

fn boxed(message: &str) -> patchbay_sync::BoxError {
    message.into()
}

/// Runs `job` with `source` (page size 2) and returns the state, the events' names and
/// the calls.
async fn run(
    source: ScriptedSource,
    job: &str,
    options: RunnerOptions,
) -> (Result<RunState, RunError>, Vec<SyncEvent>, Vec<Call>) {
    let calls = source.calls.clone();
    let sink = Arc::new(MemorySink::new());
    let runner =
        Runner::new(source, Arc::new(MemoryRunStore::new()), sink.clone()).options(RunnerOptions {
            page_size: Some(2),
            ..options
        });
    let plan = load_sync_job(job).unwrap();
    let state = runner.run(&plan, &RunRequest::new("run-1", ACCOUNT)).await;
    let calls = calls.lock().unwrap().clone();
    (state, sink.events(), calls)
}

fn names(events: &[SyncEvent]) -> Vec<&'static str> {
    events.iter().map(SyncEvent::name).collect()
}

const TWO_PROXY_RESOURCES: &str = r#"{"resources": [
  {"resource": "tickets", "method": "list", "persist": true},
  {"resource": "users", "method": "list", "persist": true}
]}"#;

#[tokio::test]
async fn a_request_error_is_skipped_and_an_auth_error_fails_the_run() {
    let source = ScriptedSource::new(vec![
        page(&[1, 2], Some("c2")),
        Err(SourceError::Request(boxed("the provider answered 500"))),
        Err(SourceError::Auth(boxed("the token was refused"))),
    ]);
    let (state, events, calls) = run(source, TWO_PROXY_RESOURCES, RunnerOptions::default()).await;
    let state = state.unwrap();
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(
        state.error.as_deref(),
        Some("`users`: the token was refused")
    );
    assert_eq!(
        names(&events),
        [
            "sync_job_run:started",
            "sync_job_run:record",
            "sync_job_run:record_error",
            "sync_job_run:failed"
        ]
    );
    let SyncEvent::RecordError(skipped) = &events[2] else {
        panic!("{:?}", events[2])
    };
    assert_eq!(skipped.error, "`tickets`: the provider answered 500");
    let asked: Vec<(&str, Option<&str>, Option<u64>)> = calls
        .iter()
        .map(|(call, r)| (call.as_str(), r.cursor.as_deref(), r.limit))
        .collect();
    assert_eq!(
        asked,
        [
            ("proxy tickets list", None, Some(2)),
            ("proxy tickets list", Some("c2"), Some(2)),
            ("proxy users list", None, Some(2)),
        ]
    );
}

#[tokio::test]
async fn not_found_and_config_errors_fail_the_run_even_when_errors_are_ignored() {
    for error in [
        SourceError::NotFound(boxed("no unified mapping")),
        SourceError::Config(boxed("the config cannot run")),
        SourceError::Other(boxed("the store failed")),
    ] {
        let message = error.to_string();
        let (state, events, _) = run(
            ScriptedSource::new(vec![Err(error)]),
            TWO_PROXY_RESOURCES,
            RunnerOptions::default(),
        )
        .await;
        let state = state.unwrap();
        assert_eq!(state.status, RunStatus::Failed, "{message}");
        assert_eq!(state.error, Some(format!("`tickets`: {message}")));
        assert_eq!(
            names(&events),
            ["sync_job_run:started", "sync_job_run:failed"]
        );
    }
}

#[tokio::test]
async fn a_rate_limit_pauses_for_the_sources_retry_after_or_the_default() {
    let rate_limited = |retry_after| {
        Err(SourceError::RateLimited {
            retry_after,
            error: boxed("429"),
        })
    };
    let source = ScriptedSource::new(vec![
        rate_limited(Some(Duration::from_millis(30))),
        page(&[1], None),
        rate_limited(None),
        page(&[2], None),
    ]);
    let options = RunnerOptions {
        default_rate_limit_wait: Duration::from_millis(20),
        ..RunnerOptions::default()
    };
    let (state, events, calls) = run(source, TWO_PROXY_RESOURCES, options).await;
    let state = state.unwrap();
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    let pauses: Vec<(String, u64)> = events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::RateLimited(p) => Some((p.resource.clone(), p.retry_after_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(
        pauses,
        [("tickets".to_owned(), 30), ("users".to_owned(), 20)]
    );
    assert_eq!(calls.len(), 4, "each rate-limited page is asked again");
    assert_eq!(calls[0].1, calls[1].1);
}

#[tokio::test]
async fn a_unified_entry_asks_the_unified_page_with_its_response_format() {
    let job = r#"{"resources": [
      {"resource": "ticketing/tickets", "method": "list", "response_format": "raw",
       "query": {"status": "open"}}
    ]}"#;
    let source = ScriptedSource::new(vec![page(&[1, 2], Some("n2")), page(&[3], None)]);
    let (state, events, calls) = run(source, job, RunnerOptions::default()).await;
    assert_eq!(state.unwrap().status, RunStatus::Completed);
    assert_eq!(names(&events).len(), 4, "started, two pages, completed");
    let (call, first) = &calls[0];
    assert_eq!(call, "unified ticketing/tickets list");
    let query: Value = first.query.clone().into();
    assert_eq!(
        query,
        json!({"status": "open", "truto_response_format": "raw"})
    );
    assert_eq!(calls[1].1.cursor.as_deref(), Some("n2"));
}

#[tokio::test]
async fn an_account_the_source_cannot_give_is_an_error_and_nothing_starts() {
    let mut missing = ScriptedSource::new(vec![]);
    missing.account = Ok(None);
    let mut failing = ScriptedSource::new(vec![]);
    failing.account = Err("the account store is down");
    for (source, reason) in [
        (missing, "no such account"),
        (failing, "the account store is down"),
    ] {
        let (outcome, events, calls) =
            run(source, TWO_PROXY_RESOURCES, RunnerOptions::default()).await;
        let error = outcome.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("integrated account `{ACCOUNT}` cannot be used: {reason}")
        );
        assert!(events.is_empty() && calls.is_empty());
    }
}

/// A new run's `mutex_key` is rendered from the account and the arguments with their
/// defaults.
#[test]
fn the_mutex_key_of_a_new_run_is_rendered_from_the_account_and_args() {
    let account = ScriptedSource::new(vec![]).account.unwrap().unwrap();
    let plan = |mutex_key: Value| {
        load_sync_job(
            &json!({
                "integration_name": "zendesk",
                "args_schema": {"type": "object", "properties": {
                    "region": {"type": "string", "default": "eu"},
                    "team": {"type": "string"}
                }},
                "mutex_key": mutex_key,
                "resources": [{"resource": "tickets", "method": "list"}]
            })
            .to_string(),
        )
        .unwrap()
    };
    let args = serde_json::Map::new();
    assert_eq!(
        plan(json!(
            "{{args.region}}/{{integrated_account_id}}/{{subdomain}}/{{sync_job.id}}"
        ))
        .render_mutex_key(&account, "job-1", &args)
        .as_deref(),
        Some("eu/acct-1/acme/job-1")
    );
    // A missing argument leaves its placeholder as text (as every template does), so the
    // runs without it share that key.
    assert_eq!(
        plan(json!("{{args.team}}"))
            .render_mutex_key(&account, "job-1", &args)
            .as_deref(),
        Some("{{args.team}}")
    );
    let with_team: serde_json::Map<String, Value> =
        serde_json::from_value(json!({"team": "red"})).unwrap();
    assert_eq!(
        plan(json!("{{args.team}}"))
            .render_mutex_key(&account, "job-1", &with_team)
            .as_deref(),
        Some("red")
    );
    assert_eq!(
        plan(Value::Null).render_mutex_key(&account, "job-1", &args),
        None
    );
}
