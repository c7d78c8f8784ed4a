//! The metrics the pipeline records, through the [`metrics`] facade.
//!
//! Nothing is kept, and next to nothing is spent, unless the host installs a recorder
//! (`patchbay-server` installs a Prometheus one). Every metric is labelled with the
//! `integration` name the integration was compiled with
//! ([`CompiledIntegration::with_name`](crate::CompiledIntegration::with_name)).

use std::time::Duration;

use patchbay_ratelimit::AttemptOutcome;

/// Counter: upstream HTTP attempts, by `integration` and `status` (the HTTP status code, or
/// `transport_error` when no answer came).
pub const UPSTREAM_REQUESTS: &str = "patchbay_upstream_requests_total";
/// Histogram: seconds from sending an attempt to having read its answer, by `integration`.
pub const UPSTREAM_DURATION: &str = "patchbay_upstream_request_duration_seconds";
/// Counter: attempts followed by another one, by `integration` and `reason`
/// (`rate_limited`, `status`, `timeout`, `connection` or `refreshed_credentials`).
pub const UPSTREAM_RETRIES: &str = "patchbay_upstream_retries_total";
/// Counter: answers classified as rate limited (a 429, or what the config's `rate_limit`
/// expression says), by `integration`.
pub const UPSTREAM_RATE_LIMITED: &str = "patchbay_upstream_rate_limited_total";

/// Registers the descriptions of the pipeline's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        UPSTREAM_REQUESTS,
        "Upstream HTTP attempts by integration and status (or transport_error)."
    );
    metrics::describe_histogram!(
        UPSTREAM_DURATION,
        metrics::Unit::Seconds,
        "Time from sending an upstream attempt to having read its answer."
    );
    metrics::describe_counter!(
        UPSTREAM_RETRIES,
        "Upstream attempts that were retried, by integration and reason."
    );
    metrics::describe_counter!(
        UPSTREAM_RATE_LIMITED,
        "Upstream answers classified as rate limited, by integration."
    );
}

/// One attempt ended: with an answer of `status`, or (`None`) without one.
pub(crate) fn attempt(integration: &str, status: Option<u16>, elapsed: Duration) {
    let status = match status {
        Some(code) => code.to_string(),
        None => "transport_error".to_owned(),
    };
    metrics::counter!(UPSTREAM_REQUESTS, "integration" => integration.to_owned(), "status" => status)
        .increment(1);
    metrics::histogram!(UPSTREAM_DURATION, "integration" => integration.to_owned())
        .record(elapsed.as_secs_f64());
}

/// The answer was classified as rate limited.
pub(crate) fn rate_limited(integration: &str) {
    metrics::counter!(UPSTREAM_RATE_LIMITED, "integration" => integration.to_owned()).increment(1);
}

/// Another attempt follows, for `reason` ([`retry_label`]).
pub(crate) fn retry(integration: &str, reason: &'static str) {
    metrics::counter!(UPSTREAM_RETRIES, "integration" => integration.to_owned(), "reason" => reason)
        .increment(1);
}

/// The `reason` label of a retry after `outcome`.
pub(crate) fn retry_label(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::RateLimited(_) => "rate_limited",
        AttemptOutcome::Status(_) => "status",
        AttemptOutcome::Timeout => "timeout",
        AttemptOutcome::Connection => "connection",
    }
}

/// The `reason` label of a retry after the credentials were refreshed on a 401.
pub(crate) const REFRESHED_CREDENTIALS: &str = "refreshed_credentials";
