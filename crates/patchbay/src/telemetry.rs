//! Metrics: what the engine records through the [`metrics`] facade, and their names.
//!
//! The crates record; the host decides where it goes by installing a recorder
//! (`metrics-exporter-prometheus`, StatsD, OpenTelemetry...). Without one nothing is kept.
//! `patchbay-server` installs a Prometheus recorder and serves it on `/metrics`.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | [`UPSTREAM_REQUESTS`] | counter | `integration`, `status` (code or `transport_error`) |
//! | [`UPSTREAM_DURATION`] | histogram (seconds) | `integration` |
//! | [`UPSTREAM_RETRIES`] | counter | `integration`, `reason` |
//! | [`UPSTREAM_RATE_LIMITED`] | counter | `integration` |
//! | [`TOKEN_REFRESHES`] | counter | `grant`, `outcome` (`ok`, `rejected`, `failed`) |
//! | [`INBOUND_WEBHOOKS`] | counter | `integration`, `outcome` |
//!
//! `integration` is the name an install was given with
//! [`Patchbay::install_named`](crate::Patchbay::install_named) (the install id with
//! [`Patchbay::install`](crate::Patchbay::install)).

use patchbay_webhook::WebhookError;

pub use patchbay_auth::telemetry::TOKEN_REFRESHES;
pub use patchbay_executor::telemetry::{
    UPSTREAM_DURATION, UPSTREAM_RATE_LIMITED, UPSTREAM_REQUESTS, UPSTREAM_RETRIES,
};

/// Counter: inbound provider webhooks, by `integration` and `outcome`: `verified` (events
/// read), `handshake` (a verification handshake was answered), `rejected` (verification
/// failed) or `failed` (the config or an expression failed on the request).
pub const INBOUND_WEBHOOKS: &str = "patchbay_inbound_webhooks_total";

/// Registers the descriptions of every metric the engine records with the installed
/// recorder. Call it once after installing the recorder.
pub fn describe_metrics() {
    patchbay_executor::telemetry::describe_metrics();
    patchbay_auth::telemetry::describe_metrics();
    metrics::describe_counter!(
        INBOUND_WEBHOOKS,
        "Inbound provider webhooks by integration and outcome (verified, handshake, rejected, failed)."
    );
}

/// An inbound webhook of `integration` was handled with `result`; `handshake` says
/// whether a successful one was a handshake.
pub(crate) fn inbound<T>(integration: &str, result: &Result<T, WebhookError>, handshake: bool) {
    let outcome = match result {
        Ok(_) if handshake => "handshake",
        Ok(_) => "verified",
        Err(WebhookError::Verification(_)) => "rejected",
        Err(_) => "failed",
    };
    metrics::counter!(INBOUND_WEBHOOKS, "integration" => integration.to_owned(), "outcome" => outcome)
        .increment(1);
}
