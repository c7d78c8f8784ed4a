//! The delivery worker: sends the store's outbox of webhook events, signed,
//! with retries.
//!
//! Events are queued durably by the request that causes them
//! ([`Store::enqueue_event`](crate::store::Store::enqueue_event), see [`crate::events`]); this worker delivers
//! them later, so an event survives a restart. Each tick it leases a batch of
//! due deliveries ([`Store::claim_due`](crate::store::Store::claim_due)), POSTs them concurrently and records
//! the outcome:
//!
//! * a 2xx answer → [`Store::mark_delivered`](crate::store::Store::mark_delivered);
//! * any other status, a network error or a timeout →
//!   [`Store::mark_failed`](crate::store::Store::mark_failed), retried after [`DeliveryOptions::backoff`], or
//!   given up (`dead`) after [`DeliveryOptions::with_max_attempts`] attempts;
//! * a webhook deleted (or made inactive) since the event was queued → given
//!   up without a request.
//!
//! Several workers (threads or processes sharing the database) may run at once:
//! a lease is held by one worker only, so each delivery is attempted by one
//! worker at a time. Delivery is *at least once*: a worker that dies after the
//! receiver answered but before recording it re-sends after the lease expires;
//! receivers deduplicate on the body's `id` (the event id) or the
//! `x-patchbay-delivery` header.
//!
//! # The request
//!
//! `POST <target_url>` with the JSON body
//! `{id, event, payload, environment_id, webhook_id, created_at}` (`id` is the
//! event id, the same in every delivery of one event; `created_at` is when the
//! event was queued, RFC 3339) and the headers `content-type:
//! application/json`, `user-agent: patchbay/<version>`, `x-patchbay-event:
//! <event>`, `x-patchbay-delivery: <delivery id>` and
//! [`x-patchbay-signature`](patchbay::webhook::outbound::SIGNATURE_HEADER)
//! (`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, made by
//! [`patchbay::webhook::outbound::sign_event`] at each attempt; receivers check
//! it with [`patchbay::webhook::outbound::verify_event`]). Redirects are not
//! followed.
//!
//! Logs name deliveries, webhooks and event types, never a secret, a body or a
//! target URL (which may embed a token).
//!
//! # Retention
//!
//! Finished deliveries are deleted after a retention period, so the outbox does
//! not grow without bound: `delivered` ones 7 days after delivery, `dead` ones
//! 30 days after they were given up (for inspection meanwhile), by default.
//! `pending` deliveries are never deleted, however old. The worker prunes at
//! start and then every [`DeliveryOptions::with_prune_interval`] (10 min), in
//! batches of [`PRUNE_BATCH`] rows interleaved with its ticks, so a large
//! backlog never holds up deliveries. The server reads the periods from
//! `PATCHBAY_OUTBOX_RETENTION_DELIVERED` and `PATCHBAY_OUTBOX_RETENTION_DEAD`
//! ([`DeliveryOptions::from_env`]).
//!
//! # Layout
//!
//! * `options`: [`DeliveryOptions`], including the retry backoff;
//! * `worker`: [`DeliveryWorker`], its ticks and background loop, and
//!   [`DeliveryHandle`];
//! * `attempt`: one delivery: its webhook's URL and secret, the signed
//!   request, and recording the outcome;
//! * `retention`: the retention periods and pruning.

mod attempt;
mod options;
mod retention;
mod worker;

pub use self::attempt::{DELIVERY_HEADER, EVENT_HEADER, USER_AGENT};
pub use self::options::DeliveryOptions;
pub(crate) use self::retention::parse_retention;
pub use self::retention::{
    PRUNE_BATCH, RETENTION_DEAD_VAR, RETENTION_DELIVERED_VAR, RetentionError,
};
pub use self::worker::{DeliveryError, DeliveryHandle, DeliveryWorker, TickReport, spawn};
