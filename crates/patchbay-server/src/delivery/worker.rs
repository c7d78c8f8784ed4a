//! The delivery worker: sends the store's outbox of webhook events, signed,
//! with retries.
//!
//! Events are queued durably by the request that causes them
//! ([`Store::enqueue_event`], see [`crate::events`]); this worker delivers
//! them later, so an event survives a restart. Each tick it leases a batch of
//! due deliveries ([`Store::claim_due`]), POSTs them concurrently and records
//! the outcome:
//!
//! * a 2xx answer → [`Store::mark_delivered`];
//! * any other status, a network error or a timeout →
//!   [`Store::mark_failed`], retried after [`DeliveryOptions::backoff`], or
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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{SecondsFormat, Utc};
use patchbay::config::SecretString;
use patchbay::egress::DestinationPolicy;
use serde_json::json;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::store::{OutboxDelivery, Store, StoreError};

/// The `user-agent` of deliveries.
pub const USER_AGENT: &str = concat!("patchbay/", env!("CARGO_PKG_VERSION"));
/// The header naming the event type.
pub const EVENT_HEADER: &str = "x-patchbay-event";
/// The header carrying the delivery id (unique per event and webhook, the same
/// across retries).
pub const DELIVERY_HEADER: &str = "x-patchbay-delivery";
/// Rows deleted per pruning statement.
pub const PRUNE_BATCH: u32 = 1000;
/// The variable that sets how long delivered rows are kept.
pub const RETENTION_DELIVERED_VAR: &str = "PATCHBAY_OUTBOX_RETENTION_DELIVERED";
/// The variable that sets how long dead rows are kept.
pub const RETENTION_DEAD_VAR: &str = "PATCHBAY_OUTBOX_RETENTION_DEAD";

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How the worker polls, leases, sends and retries. Build with
/// [`DeliveryOptions::default`] and the `with_*` methods.
#[derive(Clone)]
pub struct DeliveryOptions {
    poll_interval: Duration,
    batch_size: u32,
    lease: Duration,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    request_timeout: Duration,
    client: Option<reqwest::Client>,
    destinations: Arc<DestinationPolicy>,
    retain_delivered: Option<Duration>,
    retain_dead: Option<Duration>,
    prune_interval: Duration,
}

impl Default for DeliveryOptions {
    /// Poll every 1 s, 32 deliveries per batch, 60 s leases, 8 attempts,
    /// backoff from 5 s doubling up to 1 h, 10 s request timeout, an own client
    /// that reaches public addresses only;
    /// keep delivered rows 7 days and dead rows 30 days, pruning every 10 min.
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch_size: 32,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(10),
            client: None,
            destinations: Arc::new(DestinationPolicy::public_only()),
            retain_delivered: Some(7 * DAY),
            retain_dead: Some(30 * DAY),
            prune_interval: Duration::from_secs(600),
        }
    }
}

impl fmt::Debug for DeliveryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryOptions")
            .field("poll_interval", &self.poll_interval)
            .field("batch_size", &self.batch_size)
            .field("lease", &self.lease())
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("request_timeout", &self.request_timeout)
            .field("custom_client", &self.client.is_some())
            .field("destinations", &self.destinations)
            .field("retain_delivered", &self.retain_delivered)
            .field("retain_dead", &self.retain_dead)
            .field("prune_interval", &self.prune_interval)
            .finish()
    }
}

impl DeliveryOptions {
    /// The defaults with the retention periods of the environment:
    /// `PATCHBAY_OUTBOX_RETENTION_DELIVERED` (default `7d`) and
    /// `PATCHBAY_OUTBOX_RETENTION_DEAD` (default `30d`), each a duration such as
    /// `7d`, `12h`, `30m` or `3600s` (a bare number is seconds), or `off` to
    /// keep those rows forever.
    ///
    /// # Errors
    ///
    /// [`RetentionError`] naming the variable and its value when it is not a
    /// duration.
    pub fn from_env() -> Result<Self, RetentionError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables with `var`.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, RetentionError> {
        let defaults = Self::default();
        let read = |name: &'static str, default: Option<Duration>| match var(name) {
            None => Ok(default),
            Some(value) => parse_retention(&value).ok_or(RetentionError {
                variable: name,
                value,
            }),
        };
        let delivered = read(RETENTION_DELIVERED_VAR, defaults.retain_delivered)?;
        let dead = read(RETENTION_DEAD_VAR, defaults.retain_dead)?;
        Ok(defaults.with_retention(delivered, dead))
    }

    /// How long finished deliveries are kept: `delivered` ones after their
    /// delivery, `dead` ones after they were given up; `None` keeps them forever.
    pub fn with_retention(mut self, delivered: Option<Duration>, dead: Option<Duration>) -> Self {
        self.retain_delivered = delivered;
        self.retain_dead = dead;
        self
    }

    /// How often the worker prunes finished deliveries (it also prunes at start).
    pub fn with_prune_interval(mut self, interval: Duration) -> Self {
        self.prune_interval = interval;
        self
    }

    /// How long delivered rows are kept (`None`: forever).
    pub fn retain_delivered(&self) -> Option<Duration> {
        self.retain_delivered
    }

    /// How long dead rows are kept (`None`: forever).
    pub fn retain_dead(&self) -> Option<Duration> {
        self.retain_dead
    }

    /// How long an idle worker waits before looking for due deliveries again
    /// (a worker whose batch was full looks again at once).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// At most this many deliveries per tick (at least 1), sent concurrently.
    pub fn with_batch_size(mut self, size: u32) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// How long a claimed delivery stays leased to this worker. It is raised to
    /// twice the request timeout when shorter, so a lease outlives an attempt.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Attempts per delivery before it is given up (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The retry delay after the first failed attempt (`base`), doubling per
    /// further failure, never above `cap`; see [`backoff`](Self::backoff).
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    /// The timeout of one delivery request, connecting included.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Where deliveries may go (default: public addresses only). The worker's
    /// own client resolves names through this policy, and every target URL
    /// whose host is an IP literal is checked before sending; a refused target
    /// fails the attempt like an unreachable one.
    pub fn with_destinations(mut self, policy: DestinationPolicy) -> Self {
        self.destinations = Arc::new(policy);
        self
    }

    /// Sends with `client` instead of the worker's own (which follows no
    /// redirects). The per-request timeout still applies.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The batch size.
    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }

    /// The effective lease: the configured one, at least twice the request timeout.
    pub fn lease(&self) -> Duration {
        self.lease.max(self.request_timeout.saturating_mul(2))
    }

    /// The attempts per delivery.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The delay before the next attempt after `attempts` failed ones (≥ 1):
    /// `min(base × 2^(attempts−1), cap)`, then jittered to a uniformly random
    /// value between half of it and all of it, so receivers recovering from an
    /// outage are not hit by every retry at once.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self
            .backoff_base
            .saturating_mul(1u32 << exponent)
            .min(self.backoff_cap);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::random_range(0..=spread))
    }
}

/// A retention variable that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{variable}=`{value}` is not a retention period: use a duration such as 7d, 12h, 30m or \
     3600s (a bare number is seconds), or `off` to keep those deliveries forever"
)]
pub struct RetentionError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
}

/// `7d`, `12h`, `30m`, `45s` or `3600` as a duration; `off` as `None` (keep
/// forever). `None` for anything else (see [`RetentionError`]).
fn parse_retention(text: &str) -> Option<Option<Duration>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let count: u64 = number.parse().ok()?;
    count
        .checked_mul(seconds_per_unit)
        .filter(|seconds| *seconds <= 100 * 365 * 86_400)
        .map(|seconds| Some(Duration::from_secs(seconds)))
}

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The HTTP client could not be built (TLS initialisation).
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Why one delivery attempt failed; its text is stored as the delivery's
/// `last_error` (it names no URL and no secret).
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    #[error("the request failed: {0}")]
    Request(String),
}

impl AttemptError {
    fn from_reqwest(error: reqwest::Error, timeout: Duration) -> Self {
        if error.is_timeout() {
            return Self::Timeout(timeout);
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Request(text)
    }
}

/// What one [`DeliveryWorker::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Deliveries leased.
    pub claimed: usize,
    /// Answered 2xx and recorded.
    pub delivered: usize,
    /// Failed and scheduled again.
    pub retrying: usize,
    /// Failed for the last time, or their webhook is gone or inactive.
    pub given_up: usize,
    /// Not recorded: the lease was lost, the store failed or the task ended
    /// abnormally (they become due again when their lease expires).
    pub unrecorded: usize,
}

/// Where and how one webhook's deliveries are sent.
#[derive(Clone)]
struct Target {
    url: String,
    secret: SecretString,
}

/// Why a delivery is not sent.
#[derive(Clone, Copy)]
enum Skip {
    /// The webhook is gone or inactive: give the delivery up.
    GiveUp(&'static str),
    /// The store failed: leave the lease to expire and try later.
    StoreFailed,
}

enum Outcome {
    Delivered,
    Retrying,
    GivenUp,
    Unrecorded,
}

struct Inner {
    store: Arc<dyn Store>,
    options: DeliveryOptions,
    client: reqwest::Client,
}

/// Delivers the outbox of one [`Store`]; see the module docs. Run it with
/// [`spawn`](Self::spawn), or drive it with [`tick`](Self::tick).
#[derive(Clone)]
pub struct DeliveryWorker {
    inner: Arc<Inner>,
}

impl fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("backend", &self.inner.store.backend_name())
            .field("options", &self.inner.options)
            .finish()
    }
}

impl DeliveryWorker {
    /// A worker over `store`.
    ///
    /// # Errors
    ///
    /// [`DeliveryError::Client`] when no client was given and one cannot be built.
    pub fn new(store: Arc<dyn Store>, options: DeliveryOptions) -> Result<Self, DeliveryError> {
        let client = match &options.client {
            Some(client) => client.clone(),
            None => patchbay::egress::client_builder(options.destinations.clone())
                .build()
                .map_err(DeliveryError::Client)?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                options,
                client,
            }),
        })
    }

    /// The options.
    pub fn options(&self) -> &DeliveryOptions {
        &self.inner.options
    }

    /// Leases one batch of due deliveries, attempts each (concurrently) and
    /// records the outcomes; returns when all are done.
    ///
    /// # Errors
    ///
    /// The store's error when claiming fails (nothing was leased then). Errors
    /// of single deliveries are logged and counted, not returned.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let inner = &self.inner;
        let batch = inner
            .store
            .claim_due(inner.options.batch_size, inner.options.lease())
            .await?;
        let mut report = TickReport {
            claimed: batch.len(),
            ..TickReport::default()
        };
        if batch.is_empty() {
            return Ok(report);
        }
        let mut targets: HashMap<(String, String), Result<Target, Skip>> = HashMap::new();
        for delivery in &batch {
            let key = (delivery.environment_id.clone(), delivery.webhook_id.clone());
            if let Entry::Vacant(slot) = targets.entry(key) {
                let (environment_id, webhook_id) = slot.key();
                let target = inner.target(environment_id, webhook_id).await;
                slot.insert(target);
            }
        }
        let mut tasks = JoinSet::new();
        for delivery in batch {
            let key = (delivery.environment_id.clone(), delivery.webhook_id.clone());
            let target = targets.get(&key).cloned().unwrap_or(Err(Skip::StoreFailed));
            let inner = Arc::clone(&self.inner);
            tasks.spawn(async move { inner.process(delivery, target).await });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Outcome::Delivered) => report.delivered += 1,
                Ok(Outcome::Retrying) => report.retrying += 1,
                Ok(Outcome::GivenUp) => report.given_up += 1,
                Ok(Outcome::Unrecorded) => report.unrecorded += 1,
                Err(e) => {
                    tracing::error!(error = %e, "a webhook delivery task ended abnormally");
                    report.unrecorded += 1;
                }
            }
        }
        Ok(report)
    }

    /// Deletes every finished delivery older than its retention period (see
    /// the module docs), [`PRUNE_BATCH`] rows per statement; answers how many
    /// were deleted. `pending` deliveries are never deleted.
    ///
    /// # Errors
    ///
    /// The store's error; rows deleted by earlier batches stay deleted.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = self.prune_batch().await?;
            total += deleted;
            if deleted < u64::from(PRUNE_BATCH) {
                return Ok(total);
            }
        }
    }

    /// When the next prune is due: a prune interval from now (in about a
    /// century for an interval too long to add).
    fn after_prune_interval(&self) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        now.checked_add(self.inner.options.prune_interval)
            .unwrap_or_else(|| now + 100 * 365 * DAY)
    }

    /// One pruning statement: at most [`PRUNE_BATCH`] rows.
    async fn prune_batch(&self) -> Result<u64, StoreError> {
        let options = &self.inner.options;
        let now = Utc::now();
        // A period too long to subtract keeps everything of that status.
        let before = |retention: Option<Duration>| {
            retention.map(|r| {
                chrono::Duration::from_std(r)
                    .ok()
                    .and_then(|r| now.checked_sub_signed(r))
                    .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
            })
        };
        self.inner
            .store
            .prune_outbox(
                before(options.retain_delivered),
                before(options.retain_dead),
                PRUNE_BATCH,
            )
            .await
    }

    /// Runs the worker in the background until the handle is shut down or
    /// dropped: a tick, then (unless the batch was full) a pause of the poll
    /// interval. Every prune interval (and at start) it also prunes finished
    /// deliveries, one batch after each tick until none is left. A failing
    /// store is logged and tried again next tick.
    pub fn spawn(self) -> DeliveryHandle {
        let token = CancellationToken::new();
        let stop = token.clone();
        let task = tokio::spawn(async move {
            tracing::debug!(options = ?self.inner.options, "webhook delivery worker started");
            let mut next_prune = tokio::time::Instant::now();
            let mut pruned = 0u64;
            while !stop.is_cancelled() {
                let mut pruning = false;
                if tokio::time::Instant::now() >= next_prune {
                    match self.prune_batch().await {
                        Ok(deleted) if deleted >= u64::from(PRUNE_BATCH) => {
                            pruned += deleted;
                            pruning = true;
                        }
                        Ok(deleted) => {
                            pruned += deleted;
                            if pruned > 0 {
                                tracing::info!(
                                    deleted = pruned,
                                    "pruned finished webhook deliveries"
                                );
                            }
                            pruned = 0;
                            next_prune = self.after_prune_interval();
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot prune webhook deliveries; retrying later");
                            next_prune = self.after_prune_interval();
                        }
                    }
                }
                let busy = match self.tick().await {
                    Ok(report) => {
                        if report.claimed > 0 {
                            tracing::debug!(?report, "webhook delivery tick");
                        }
                        report.claimed >= self.inner.options.batch_size as usize
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim webhook deliveries; retrying");
                        false
                    }
                };
                let full = busy || pruning;
                if !full {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(self.inner.options.poll_interval) => {}
                    }
                }
            }
            tracing::debug!("webhook delivery worker stopped");
        });
        DeliveryHandle {
            token,
            task: Some(task),
        }
    }
}

/// Starts a [`DeliveryWorker`] over `store` in the background.
///
/// # Errors
///
/// As [`DeliveryWorker::new`].
pub fn spawn(
    store: Arc<dyn Store>,
    options: DeliveryOptions,
) -> Result<DeliveryHandle, DeliveryError> {
    Ok(DeliveryWorker::new(store, options)?.spawn())
}

impl Inner {
    /// The webhook's URL and secret, or why its deliveries are not sent.
    async fn target(&self, environment_id: &str, webhook_id: &str) -> Result<Target, Skip> {
        let store_failed = |e: StoreError| match e {
            StoreError::NotFound { .. } => Skip::GiveUp("the webhook was deleted"),
            e => {
                tracing::warn!(webhook = webhook_id, error = %e, "cannot read a webhook to deliver to");
                Skip::StoreFailed
            }
        };
        let webhook = self
            .store
            .get_webhook(environment_id, webhook_id)
            .await
            .map_err(store_failed)?;
        if !webhook.is_active {
            return Err(Skip::GiveUp("the webhook is inactive"));
        }
        let secret = self
            .store
            .webhook_secret(environment_id, webhook_id)
            .await
            .map_err(store_failed)?;
        Ok(Target {
            url: webhook.target_url,
            secret,
        })
    }

    /// Attempts one delivery and records the outcome.
    async fn process(&self, delivery: OutboxDelivery, target: Result<Target, Skip>) -> Outcome {
        let target = match target {
            Ok(target) => target,
            Err(Skip::StoreFailed) => return Outcome::Unrecorded,
            Err(Skip::GiveUp(reason)) => {
                tracing::info!(
                    delivery = %delivery.id,
                    webhook = %delivery.webhook_id,
                    event = %delivery.event_type,
                    reason,
                    "webhook delivery dropped"
                );
                return self.record_failure(&delivery, reason, None).await;
            }
        };
        match self.send(&delivery, &target).await {
            Ok(status) => match self.store.mark_delivered(&delivery).await {
                Ok(true) => {
                    tracing::info!(
                        delivery = %delivery.id,
                        webhook = %delivery.webhook_id,
                        event = %delivery.event_type,
                        attempt = delivery.attempts,
                        status,
                        "webhook event delivered"
                    );
                    Outcome::Delivered
                }
                Ok(false) => {
                    tracing::warn!(delivery = %delivery.id, "webhook delivered, but its lease had expired");
                    Outcome::Unrecorded
                }
                Err(e) => {
                    tracing::error!(delivery = %delivery.id, error = %e, "cannot record a webhook delivery");
                    Outcome::Unrecorded
                }
            },
            Err(error) => {
                let attempts = delivery.attempts.max(1);
                let retry_at = (attempts < self.options.max_attempts).then(|| {
                    let delay = self.options.backoff(attempts);
                    Utc::now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
                });
                tracing::warn!(
                    delivery = %delivery.id,
                    webhook = %delivery.webhook_id,
                    event = %delivery.event_type,
                    attempt = attempts,
                    max_attempts = self.options.max_attempts,
                    retry_at = ?retry_at,
                    error = %error,
                    "webhook delivery failed"
                );
                self.record_failure(&delivery, &error.to_string(), retry_at)
                    .await
            }
        }
    }

    async fn record_failure(
        &self,
        delivery: &OutboxDelivery,
        error: &str,
        retry_at: Option<chrono::DateTime<Utc>>,
    ) -> Outcome {
        match self.store.mark_failed(delivery, error, retry_at).await {
            Ok(true) if retry_at.is_some() => Outcome::Retrying,
            Ok(true) => Outcome::GivenUp,
            // The row is gone (its webhook was deleted) or re-leased elsewhere.
            Ok(false) => Outcome::Unrecorded,
            Err(e) => {
                tracing::error!(delivery = %delivery.id, error = %e, "cannot record a failed webhook delivery");
                Outcome::Unrecorded
            }
        }
    }

    /// POSTs the signed event; `Ok(status)` for a 2xx answer.
    async fn send(&self, delivery: &OutboxDelivery, target: &Target) -> Result<u16, AttemptError> {
        let body = json!({
            "id": delivery.event_id,
            "event": delivery.event_type,
            "payload": delivery.payload,
            "environment_id": delivery.environment_id,
            "webhook_id": delivery.webhook_id,
            "created_at": delivery.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
        .to_string()
        .into_bytes();
        let signature = patchbay::webhook::outbound::sign_event(
            target.secret.expose().as_bytes(),
            &body,
            SystemTime::now(),
        );
        let url = url::Url::parse(&target.url)
            .map_err(|e| AttemptError::Request(format!("the target URL is invalid: {e}")))?;
        self.options
            .destinations
            .check_url(&url)
            .map_err(|e| AttemptError::Request(e.to_string()))?;
        let timeout = self.options.request_timeout;
        let response = self
            .client
            .post(&target.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(EVENT_HEADER, &delivery.event_type)
            .header(DELIVERY_HEADER, &delivery.id)
            .header(signature.name(), signature.value())
            .body(body)
            .send()
            .await
            .map_err(|e| AttemptError::from_reqwest(e, timeout))?;
        let status = response.status().as_u16();
        drop(response);
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(AttemptError::Status(status))
        }
    }
}

/// A running worker. [`shutdown`](Self::shutdown) stops it after its current
/// tick; dropping the handle stops it too (without waiting).
#[derive(Debug)]
pub struct DeliveryHandle {
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl DeliveryHandle {
    /// Stops the worker and waits for its current tick (in-flight deliveries,
    /// each bounded by the request timeout) to finish and be recorded.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the webhook delivery worker ended abnormally");
        }
    }

    /// Whether the worker has stopped.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for DeliveryHandle {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let options = DeliveryOptions::default()
            .with_backoff(Duration::from_secs(5), Duration::from_secs(3600));
        for _ in 0..50 {
            for (attempts, full) in [(1, 5), (2, 10), (3, 20), (4, 40), (11, 3600), (40, 3600)] {
                let delay = options.backoff(attempts);
                let full = Duration::from_secs(full);
                assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
            }
        }
    }

    #[test]
    fn lease_outlives_a_request() {
        let options = DeliveryOptions::default()
            .with_lease(Duration::from_secs(1))
            .with_request_timeout(Duration::from_secs(10));
        assert_eq!(options.lease(), Duration::from_secs(20));
        assert_eq!(DeliveryOptions::default().max_attempts(), 8);
    }

    #[test]
    fn retention_periods_parse_with_units_or_off() {
        for (text, expected) in [
            ("7d", Some(Some(7 * DAY))),
            ("12h", Some(Some(Duration::from_secs(12 * 3600)))),
            ("30m", Some(Some(Duration::from_secs(1800)))),
            ("45s", Some(Some(Duration::from_secs(45)))),
            ("3600", Some(Some(Duration::from_secs(3600)))),
            (" OFF ", Some(None)),
            ("0", Some(Some(Duration::ZERO))),
            ("7 d", None),
            ("-1d", None),
            ("1w", None),
            ("d", None),
            ("99999999999999999999d", None),
            ("36500000d", None),
        ] {
            assert_eq!(parse_retention(text), expected, "{text}");
        }
    }

    #[test]
    fn retention_comes_from_the_environment_with_clear_errors() {
        let options = DeliveryOptions::from_vars(|_| None).unwrap();
        assert_eq!(options.retain_delivered(), Some(7 * DAY));
        assert_eq!(options.retain_dead(), Some(30 * DAY));
        let options = DeliveryOptions::from_vars(|name| {
            (name == RETENTION_DEAD_VAR).then(|| "off".to_owned())
        })
        .unwrap();
        assert_eq!(options.retain_dead(), None);
        let error = DeliveryOptions::from_vars(|name| {
            (name == RETENTION_DELIVERED_VAR).then(|| "a week".to_owned())
        })
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("PATCHBAY_OUTBOX_RETENTION_DELIVERED=`a week`") && text.contains("7d"),
            "{text}"
        );
    }

    #[test]
    fn attempt_errors_name_no_url() {
        let text = AttemptError::Status(503).to_string();
        assert_eq!(text, "the receiver answered HTTP 503");
    }
}
