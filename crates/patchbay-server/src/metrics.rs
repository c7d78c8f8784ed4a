//! Prometheus metrics: the recorder, the server's own metrics and the `/metrics` listener.
//!
//! The engine records its metrics through the `metrics` facade
//! ([`patchbay::telemetry`]: upstream attempts, retries, 429s, token refreshes, inbound
//! webhooks); the server adds the API's requests, webhook deliveries, the outbox depth
//! and the database pool. [`install_recorder`] installs one process-wide Prometheus
//! recorder; [`router`] serves what it holds as the Prometheus text format on
//! `GET /metrics`.
//!
//! `/metrics` is served on its own address (`PATCHBAY_METRICS_ADDR`, off by default), not
//! on the API's: it needs no token, so it belongs on a port only the scraper reaches.
//! Labels never hold ids or secrets: routes are labelled by their template
//! (`/proxy/{resource}`), never by the path.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::Store;

/// Counter: API requests by `route` (the matched route template, `unmatched` for 404s
/// without a route), `method` and `status`.
pub const HTTP_REQUESTS: &str = "patchbay_http_requests_total";
/// Histogram: seconds to answer an API request, by `route`.
pub const HTTP_DURATION: &str = "patchbay_http_request_duration_seconds";
/// Counter: outbound webhook delivery attempts by `outcome` (`delivered`, `retrying`,
/// `given_up`, `unrecorded` when the store could not record the result).
pub const WEBHOOK_DELIVERIES: &str = "patchbay_webhook_deliveries_total";
/// Gauge: deliveries waiting to be delivered or retried, read at each scrape.
pub const OUTBOX_PENDING: &str = "patchbay_outbox_pending";
/// Gauge: database connections by `state` (`open`, `idle`, `max`), read at each scrape.
pub const DB_CONNECTIONS: &str = "patchbay_db_connections";

/// Histogram buckets for every `*_duration_seconds` metric: 1 ms to 60 s.
const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
];

/// The process's Prometheus recorder, installed on first use.
static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the Prometheus recorder for the whole process (once; later calls return the
/// same handle) and describes every metric.
///
/// # Errors
///
/// A message when another recorder was installed first (by the host).
pub fn install_recorder() -> Result<PrometheusHandle, String> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".to_owned()),
                    &DURATION_BUCKETS,
                )
                .map_err(|e| format!("invalid histogram buckets: {e}"))?
                .install_recorder()
                .map_err(|e| format!("cannot install the Prometheus recorder: {e}"))?;
            describe_metrics();
            Ok(handle)
        })
        .clone()
}

fn describe_metrics() {
    patchbay::telemetry::describe_metrics();
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "API requests by route template, method and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an API request, by route template."
    );
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES,
        "Outbound webhook delivery attempts by outcome."
    );
    metrics::describe_gauge!(
        OUTBOX_PENDING,
        "Webhook deliveries waiting to be delivered or retried."
    );
    metrics::describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections by state (open, idle, max)."
    );
}

/// Records [`HTTP_REQUESTS`] and [`HTTP_DURATION`] for one API request answered with
/// `status` after `elapsed` (called by [`crate::logging::trace_requests`], which times
/// every request once for its span, its log line and these metrics).
pub(crate) fn record_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    metrics::histogram!(HTTP_DURATION, "route" => route.to_owned()).record(elapsed.as_secs_f64());
    metrics::counter!(
        HTTP_REQUESTS,
        "route" => route.to_owned(),
        "method" => method.to_owned(),
        "status" => status.to_string()
    )
    .increment(1);
}

/// Records one outbound delivery attempt's `outcome`.
pub(crate) fn delivery(outcome: &'static str) {
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
}

/// What the `/metrics` route reads.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: std::sync::Arc<Store>,
}

/// `GET /metrics` over `handle`, reading the outbox depth and the pool from `store` at
/// each scrape.
pub fn router(handle: PrometheusHandle, store: std::sync::Arc<Store>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { handle, store })
}

async fn scrape(State(scrape): State<Scrape>) -> Response {
    let pool = scrape.store.pool_stats();
    metrics::gauge!(DB_CONNECTIONS, "state" => "open").set(f64::from(pool.size));
    metrics::gauge!(DB_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!(DB_CONNECTIONS, "state" => "max").set(f64::from(pool.max));
    match scrape.store.outbox_pending().await {
        // Depths beyond 2^53 would lose precision; there are not that many rows.
        #[allow(clippy::cast_precision_loss)]
        Ok(pending) => metrics::gauge!(OUTBOX_PENDING).set(pending as f64),
        Err(error) => tracing::warn!(%error, "cannot read the outbox depth for /metrics"),
    }
    // Drains histogram samples into their buckets, as the exporter asks of its owner.
    scrape.handle.run_upkeep();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}
