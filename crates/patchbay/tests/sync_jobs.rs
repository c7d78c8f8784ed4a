//! Runs of sync jobs (`patchbay::sync`) with the facade as their page source, against the
//! provider simulator (Zendesk on loopback): a `depends_on` job delivered completely and
//! in order, an incremental run, resuming after the runner is killed mid-run, rate limits,
//! `loop_on` with a transform, `fail_fast`, `recurse`.
#![cfg(feature = "simulator")]

mod sync_support;

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay::Patchbay;
use patchbay::simulator::Provider;
use patchbay::sync::{
    MemoryRunStore, MemorySink, RunError, RunRequest, RunStatus, Runner, RunnerOptions, Sink,
    SinkError, SyncEvent, load_sync_job,
};
use serde_json::json;
use sync_support::{
    ACCOUNT, arc, delivered, delivered_ids, expected, names, rate_limited_rig, rig, zendesk_job,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const PAGE: u64 = 2;

fn runner(patchbay: &Patchbay, store: &Arc<MemoryRunStore>, sink: &Arc<MemorySink>) -> Runner {
    Runner::new(patchbay.clone(), store.clone(), sink.clone()).options(RunnerOptions {
        page_size: Some(PAGE),
        ..RunnerOptions::default()
    })
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_depends_on_job_delivers_every_record_in_order() {
    let (sim, patchbay) = rig(7, vec![], Patchbay::builder()).await;
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let request = RunRequest::new("run-1", ACCOUNT).args(json!({"integrated_account_id": ACCOUNT}));
    let state = runner(&patchbay, &store, &sink)
        .run(&zendesk_job(), &request)
        .await
        .unwrap();

    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    assert_eq!(state.mutex_key.as_deref(), Some(ACCOUNT));
    assert_eq!(state.previous_run_date, None, "a first run is a full sync");
    let events = sink.events();
    let names = names(&events);
    assert_eq!(names.first(), Some(&"sync_job_run:started"));
    assert_eq!(names.last(), Some(&"sync_job_run:completed"));
    assert!(
        names[1..names.len() - 1]
            .iter()
            .all(|n| *n == "sync_job_run:record"),
        "{names:?}"
    );

    let records = delivered(&events);
    let got: Vec<(String, String)> = records
        .iter()
        .map(|(r, id, _)| (r.clone(), id.clone()))
        .collect();
    assert_eq!(got, expected(&[1, 2, 3, 4, 5, 6, 7], PAGE as usize));
    let sequences: Vec<u64> = records.iter().map(|r| r.2).collect();
    assert_eq!(sequences, (0..records.len() as u64).collect::<Vec<_>>());

    // Progress counts: 4 ticket pages; 2 comment pages (2 + 1) per ticket.
    let tickets = state.resource_stats["ticketing/tickets"];
    let comments = state.resource_stats["ticketing/comments"];
    assert_eq!((tickets.records, tickets.pages, tickets.errors), (7, 4, 0));
    assert_eq!(
        (comments.records, comments.pages, comments.errors),
        (21, 14, 0)
    );
    // The first run rendered `previous_run_date` as the epoch into Zendesk's search.
    let searches: Vec<String> = sim
        .stats()
        .log_for(Provider::Zendesk)
        .filter(|r| r.path.ends_with("/search"))
        .filter_map(|r| r.query.clone())
        .collect();
    assert!(
        searches[0].contains("updated%3E1970-01-01T00%3A00%3A00Z"),
        "{searches:?}"
    );

    // Running the finished run again changes nothing.
    let again = runner(&patchbay, &store, &sink)
        .run(&zendesk_job(), &request)
        .await
        .unwrap();
    assert_eq!(again, state);
    assert_eq!(sink.events().len(), events.len());
}

#[tokio::test]
async fn a_second_run_fetches_only_records_changed_since_the_first_started() {
    // Ticket n was last updated at 2024-01-01T00:30Z + n minutes.
    let (sim, patchbay) = rig(14, vec![], Patchbay::builder()).await;
    let store = arc(MemoryRunStore::new());
    let first_start = at("2024-01-01T00:40:00Z");
    let run = |id: &str, clock: DateTime<Utc>, sink: &Arc<MemorySink>| {
        let runner = runner(&patchbay, &store, sink).clock(move || clock);
        let request = RunRequest::new(id, ACCOUNT);
        async move { runner.run(&zendesk_job(), &request).await.unwrap() }
    };

    let full = arc(MemorySink::new());
    let first = run("run-1", first_start, &full).await;
    assert_eq!(first.status, RunStatus::Completed);
    assert_eq!(first.resource_stats["ticketing/tickets"].records, 14);

    let incremental = arc(MemorySink::new());
    let second = run("run-2", at("2024-01-02T00:00:00Z"), &incremental).await;
    assert_eq!(second.status, RunStatus::Completed, "{:?}", second.error);
    assert_eq!(second.previous_run_date, Some(first_start));
    let got: Vec<(String, String)> = delivered_ids(&incremental.events());
    assert_eq!(
        got,
        expected(&[11, 12, 13, 14], PAGE as usize),
        "only tickets updated after 00:40"
    );
    let last_search = sim
        .stats()
        .log_for(Provider::Zendesk)
        .filter(|r| r.path.ends_with("/search"))
        .filter_map(|r| r.query.clone())
        .last()
        .unwrap();
    assert!(
        last_search.contains("updated%3E2024-01-01T00%3A40%3A00Z"),
        "{last_search}"
    );

    // `ignore_previous_run` syncs everything again.
    let resync = arc(MemorySink::new());
    let runner = runner(&patchbay, &store, &resync);
    let request = RunRequest::new("run-3", ACCOUNT).ignore_previous_run(true);
    let third = runner.run(&zendesk_job(), &request).await.unwrap();
    assert_eq!(third.previous_run_date, None);
    assert_eq!(third.resource_stats["ticketing/tickets"].records, 14);
}

/// Delivers events to `inner` until `record_batches` batches went through, then takes one
/// more batch and never returns: the process "dies" after delivering a page and before
/// its checkpoint.
struct DyingSink {
    inner: Arc<MemorySink>,
    record_batches: usize,
    seen: AtomicUsize,
    died: Notify,
}

#[async_trait]
impl Sink for DyingSink {
    async fn send(&self, event: SyncEvent) -> Result<(), SinkError> {
        let is_batch = matches!(event, SyncEvent::Records(_));
        self.inner.send(event).await?;
        if is_batch && self.seen.fetch_add(1, Ordering::SeqCst) == self.record_batches {
            self.died.notify_one();
            pending::<()>().await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_run_killed_mid_way_resumes_from_its_checkpoint() {
    let (_sim, patchbay) = rig(5, vec![], Patchbay::builder()).await;
    let all = expected(&[1, 2, 3, 4, 5], PAGE as usize);
    // Die after the first page, inside the comments, on a tickets page, near the end.
    for batches in [0, 1, 2, 6, 9, 12] {
        let run_id = format!("run-kill-{batches}");
        let store = arc(MemoryRunStore::new());
        let before = arc(MemorySink::new());
        let dying = Arc::new(DyingSink {
            inner: before.clone(),
            record_batches: batches,
            seen: AtomicUsize::new(0),
            died: Notify::new(),
        });
        let first =
            Runner::new(patchbay.clone(), store.clone(), dying.clone()).options(RunnerOptions {
                page_size: Some(PAGE),
                ..RunnerOptions::default()
            });
        let plan = zendesk_job();
        let request = RunRequest::new(&run_id, ACCOUNT);
        let task = tokio::spawn({
            let request = request.clone();
            async move { first.run(&plan, &request).await }
        });
        dying.died.notified().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let saved = store.get(&run_id).unwrap();
        assert_eq!(saved.status, RunStatus::Running);

        let after = arc(MemorySink::new());
        let state = runner(&patchbay, &store, &after)
            .run(&zendesk_job(), &request)
            .await
            .unwrap();
        assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
        let resumed = after.events();
        assert!(
            !names(&resumed).contains(&"sync_job_run:started"),
            "a resumed run does not start again"
        );

        // The consumer's view: both processes' deliveries, de-duplicated by sequence.
        let mut records = delivered(&before.events());
        records.extend(delivered(&resumed));
        let total = records.len();
        let mut by_sequence = std::collections::BTreeMap::new();
        for (resource, id, sequence) in records {
            let previous = by_sequence.insert(sequence, (resource.clone(), id.clone()));
            if let Some(previous) = previous {
                assert_eq!(
                    previous,
                    (resource, id),
                    "a repeated sequence number is the same record"
                );
            }
        }
        let unique: Vec<(String, String)> = by_sequence.into_values().collect();
        assert_eq!(
            unique, all,
            "after {batches} batches: every record, in order"
        );
        let repeated = total - all.len();
        assert!(
            repeated <= PAGE as usize,
            "after {batches} batches: {repeated} records repeated (at most one page)"
        );
        assert!(
            repeated > 0,
            "the page delivered before the kill was not checkpointed"
        );
    }
}

#[tokio::test]
async fn a_rate_limited_run_pauses_then_goes_on() {
    let (_sim, patchbay) = rate_limited_rig(3, 1).await;
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let started = Instant::now();
    let state = runner(&patchbay, &store, &sink)
        .run(&zendesk_job(), &RunRequest::new("run-429", ACCOUNT))
        .await
        .unwrap();
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let events = sink.events();
    let pause = events
        .iter()
        .find_map(|e| match e {
            SyncEvent::RateLimited(p) => Some(p.clone()),
            _ => None,
        })
        .expect("a rate_limited event");
    assert_eq!(pause.resource, "ticketing/comments");
    assert_eq!(pause.retry_after_ms, 1000);
    assert_eq!(
        names(&events)[..3],
        [
            "sync_job_run:started",
            "sync_job_run:record",
            "sync_job_run:rate_limited"
        ]
    );
    let got: Vec<(String, String)> = delivered(&events)
        .into_iter()
        .map(|(r, id, _)| (r, id))
        .collect();
    assert_eq!(got, expected(&[1, 2, 3], PAGE as usize));
}

#[tokio::test]
async fn a_rate_limit_pause_is_cancellable_and_the_run_resumes_later() {
    let (_sim, patchbay) = rate_limited_rig(2, 3600).await;
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let cancel = CancellationToken::new();
    let paused = runner(&patchbay, &store, &sink).cancel_token(cancel.clone());
    let request = RunRequest::new("run-cancel", ACCOUNT);
    let task = tokio::spawn(async move { paused.run(&zendesk_job(), &request).await });
    while !names(&sink.events()).contains(&"sync_job_run:rate_limited") {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, Err(RunError::Cancelled)), "{outcome:?}");
    assert_eq!(
        store.get("run-cancel").unwrap().status,
        RunStatus::RateLimited
    );

    let state = runner(&patchbay, &store, &sink)
        .run(&zendesk_job(), &RunRequest::new("run-cancel", ACCOUNT))
        .await
        .unwrap();
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    let got: Vec<(String, String)> = delivered_ids(&sink.events());
    assert_eq!(got, expected(&[1, 2], PAGE as usize));
    let rate_limited = names(&sink.events())
        .iter()
        .filter(|n| **n == "sync_job_run:rate_limited")
        .count();
    assert_eq!(
        rate_limited, 1,
        "the resumed run was not rate limited again"
    );
}

#[tokio::test]
async fn loop_on_repeats_a_proxy_request_per_argument_and_transforms_run_per_page() {
    let (_sim, patchbay) = rig(9, vec![], Patchbay::builder()).await;
    let plan = load_sync_job(
        r#"{
          "id": "job-loop",
          "integration_name": "zendesk",
          "args_schema": {"ticket_ids": {"type": "array", "required": true}},
          "resources": [
            {"resource": "tickets", "method": "get", "id": "{{args.ticket_ids}}",
             "loop_on": "{{args.ticket_ids}}", "persist": true},
            {"name": "subjects", "type": "transform", "depends_on": "tickets",
             "config": {"expression": "records.{\"id\": \"s\" & $string(id), \"subject\": subject}"}}
          ]
        }"#,
    )
    .unwrap();
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let request = RunRequest::new("run-loop", ACCOUNT).args(json!({"ticket_ids": [2, 5, 99]}));
    let state = runner(&patchbay, &store, &sink)
        .run(&plan, &request)
        .await
        .unwrap();
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    let got: Vec<(String, String)> = delivered_ids(&sink.events());
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    assert_eq!(
        got,
        pairs(&[
            ("tickets", "2"),
            ("subjects", "s2"),
            ("tickets", "5"),
            ("subjects", "s5")
        ])
    );
    // Ticket 99 does not exist: a record_error, and the run goes on (error_handling ignore).
    let errors: Vec<_> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            SyncEvent::RecordError(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].resource, "tickets");
    assert!(!errors[0].error.contains("zendesk-api-token"));
    assert_eq!(state.resource_stats["tickets"].errors, 1);

    // Arguments are checked against `args_schema`, with their paths.
    let bad = RunRequest::new("run-bad", ACCOUNT).args(json!({"ticket_ids": "2"}));
    let error = runner(&patchbay, &store, &sink)
        .run(&plan, &bad)
        .await
        .unwrap_err();
    let RunError::InvalidArgs(problems) = error else {
        panic!("{error}")
    };
    assert_eq!(
        problems.errors()[0].to_string(),
        "args.ticket_ids: expected array, found a string"
    );
    let missing = RunRequest::new("run-missing", ACCOUNT);
    let error = runner(&patchbay, &store, &sink)
        .run(&plan, &missing)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("args.ticket_ids: required key `ticket_ids` is missing"),
        "{error}"
    );
    assert!(store.get("run-bad").is_none(), "nothing was started");
}

#[tokio::test]
async fn a_run_fails_fast_when_asked_and_reports_why() {
    let (_sim, patchbay) = rig(2, vec![], Patchbay::builder()).await;
    let plan = load_sync_job(
        r#"{"id": "job-missing", "resources": [{"resource": "tickets", "method": "get", "id": "404404", "persist": true}]}"#,
    )
    .unwrap();
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let request =
        RunRequest::new("run-ff", ACCOUNT).error_handling(patchbay::sync::ErrorHandling::FailFast);
    let state = runner(&patchbay, &store, &sink)
        .run(&plan, &request)
        .await
        .unwrap();
    assert_eq!(state.status, RunStatus::Failed);
    assert!(
        state
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("`tickets`"),
        "{:?}",
        state.error
    );
    assert_eq!(
        names(&sink.events()),
        ["sync_job_run:started", "sync_job_run:failed"]
    );
    assert_eq!(store.get("run-ff").unwrap().status, RunStatus::Failed);
}

#[tokio::test]
async fn recurse_fetches_again_per_matching_record_within_the_depth_bound() {
    // Ticket n's assignee is n % 5 + 1 (none for multiples of 7): following assignees as
    // ticket ids from 13 goes 13 → 4 → 5 → 1 → 2 → ... and never ends by itself.
    let (_sim, patchbay) = rig(20, vec![], Patchbay::builder()).await;
    let plan = load_sync_job(
        r#"{
          "id": "job-recurse",
          "resources": [
            {"resource": "tickets", "method": "get", "id": "{{args.start}}", "persist": true,
             "recurse": {"if": "{{resources.tickets.assignee_id:bool}}",
                         "config": {"id": "{{resources.tickets.assignee_id}}"}}}
          ]
        }"#,
    )
    .unwrap();
    let (store, sink) = (arc(MemoryRunStore::new()), arc(MemorySink::new()));
    let bounded = runner(&patchbay, &store, &sink).options(RunnerOptions {
        page_size: Some(PAGE),
        max_depth: 4,
        ..RunnerOptions::default()
    });
    let request = RunRequest::new("run-recurse", ACCOUNT).args(json!({"start": 13}));
    let state = bounded.run(&plan, &request).await.unwrap();
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(
        state.error.as_deref(),
        Some("`tickets` nests deeper than 4 levels (depends_on and recurse)")
    );
    let ids: Vec<String> = delivered_ids(&sink.events())
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ids, ["13", "4", "5", "1"]);

    // From 14 (no assignee) nothing recurses.
    let request = RunRequest::new("run-flat", ACCOUNT).args(json!({"start": 14}));
    let state = bounded.run(&plan, &request).await.unwrap();
    assert_eq!(state.status, RunStatus::Completed, "{:?}", state.error);
    assert_eq!(state.resource_stats["tickets"].records, 1);
}
