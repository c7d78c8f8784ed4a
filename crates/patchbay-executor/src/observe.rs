//! Reports of upstream calls, for request logs: after every call (one request through
//! the pipeline with all its attempts; one per page of a list), the executor hands a
//! [`CallReport`] to the [`CallObserver`] it was built with
//! ([`ExecutorBuilder::call_observer`](crate::ExecutorBuilder::call_observer)).

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Receives a report of every upstream call an executor made.
///
/// Called on the calling task once the call has ended (successfully or not), so it
/// must be quick and must not block: queue the report and write it elsewhere.
pub trait CallObserver: Send + Sync + 'static {
    /// One call has ended.
    fn call_finished(&self, report: &CallReport<'_>);

    /// Whether reports should carry the request and response bodies (asked once per
    /// call, when it starts; default `false`, which spares the copy).
    fn wants_bodies(&self) -> bool {
        false
    }
}

/// What one upstream call did. Holds no secret: the URL has neither query nor
/// credentials, and the error is the executor's message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallReport<'a> {
    /// The integration's name ([`CompiledIntegration::with_name`](crate::CompiledIntegration::with_name)).
    pub integration: &'a str,
    /// The integrated account the call was made for.
    pub account_id: &'a str,
    /// The resource and method names (`tickets`, `list`); `proxy`/`custom` for calls
    /// without a configured method.
    pub resource: &'a str,
    /// See [`resource`](Self::resource).
    pub method: &'a str,
    /// What the call was made for, as the caller said ([`CallInput::request_type`](crate::CallInput::request_type)):
    /// e.g. `unified`; `None` for a plain call.
    pub request_type: Option<&'a str>,
    /// The HTTP method of the request.
    pub http_method: &'a str,
    /// The last attempt's URL: scheme, host, port and path; `?…` stands for a query.
    pub url: &'a str,
    /// When the call started.
    pub started_at: SystemTime,
    /// How long the whole call took, waits between attempts included.
    pub duration: Duration,
    /// The last answer's HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    /// Every attempt, in order.
    pub attempts: &'a [AttemptReport],
    /// Why the call failed; `None` when it succeeded.
    pub error: Option<String>,
    /// The request body as sent (JSON, form fields as an object, or text), when the
    /// observer [wants bodies](CallObserver::wants_bodies) and there was one. It may hold
    /// credentials the config puts in bodies: redact before storing.
    pub request_body: Option<&'a Value>,
    /// The last answer's parsed body, when the observer wants bodies and one came.
    pub response_body: Option<&'a Value>,
}

/// One attempt of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptReport {
    /// The answer's HTTP status; `None` when none came (connection failure, timeout) or
    /// the attempt ended before sending.
    pub status: Option<u16>,
    /// From sending to having read the answer.
    pub duration: Duration,
    /// Why another attempt followed (`rate limited, provider asked for 2s`, `status 503`,
    /// `timeout`, `refreshed credentials`); `None` for the last attempt.
    pub retry_reason: Option<String>,
}
