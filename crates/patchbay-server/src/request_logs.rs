//! Request logs: a row per upstream call, written in the background.
//!
//! Each environment's facade reports every upstream call it makes (a proxy call, each
//! page of a list, each call of a unified request or an action; all attempts, with the
//! reason of each retry) to an [`EnvironmentObserver`]. The observer turns the report
//! into a [`NewRequestLog`] and hands it to [`RequestLogs`], which queues it without
//! waiting: a bounded channel read by one writer task that stores batches (at most
//! [`LogOptions::batch_size`] rows, or what arrived within [`LogOptions::flush_interval`])
//! in one statement each. The request path never waits for the database; when the queue
//! is full (the database is down or far behind) new logs are dropped and counted in
//! `patchbay_request_logs_dropped_total`.
//!
//! The writer also deletes logs older than the retention period
//! (`PATCHBAY_LOG_RETENTION`, default 7 days) every [`PRUNE_EVERY`].
//!
//! What is logged holds no secret: the URL is scheme, host, port and path (`?…` stands
//! for a query, which can carry API keys), the error is the executor's message (URLs
//! taken out of transport errors), and no header or body is kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use patchbay::auth::telemetry::{TokenRequestObserver, TokenRequestReport};
use patchbay::executor::{AttemptReport, CallObserver, CallReport};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::delivery::parse_retention;
use crate::redact::{MASK, override_key_is_secret};
use crate::store::{LogType, NewRequestLog, Store};

/// Counter: logs dropped because the writer's queue was full.
pub const LOGS_DROPPED: &str = "patchbay_request_logs_dropped_total";

/// How often the writer deletes expired logs.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Rows deleted per pruning statement.
const PRUNE_BATCH: u32 = 5_000;

/// How request logs are written and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// Whether upstream calls and webhook deliveries are logged at all
    /// (`PATCHBAY_REQUEST_LOGS`, `on` or `off`, default on).
    pub enabled: bool,
    /// How long logs are kept (`PATCHBAY_LOG_RETENTION`, default 7 days); `None` keeps
    /// them forever.
    pub retention: Option<Duration>,
    /// The most logs written in one statement.
    pub batch_size: usize,
    /// The longest a log waits in the queue before it is written.
    pub flush_interval: Duration,
    /// Logs the queue holds before new ones are dropped.
    pub capacity: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
            batch_size: 500,
            flush_interval: Duration::from_millis(200),
            capacity: 10_000,
        }
    }
}

impl LogOptions {
    /// The defaults with `PATCHBAY_REQUEST_LOGS` (`on`, `off`) and
    /// `PATCHBAY_LOG_RETENTION` (`7d`, `12h`, `3600s`, `off`).
    ///
    /// # Errors
    ///
    /// A message naming the variable when its value is not usable.
    pub fn from_env() -> Result<Self, String> {
        let mut options = Self::default();
        if let Ok(text) = std::env::var("PATCHBAY_REQUEST_LOGS") {
            options.enabled = match text.trim().to_ascii_lowercase().as_str() {
                "" | "on" | "true" => true,
                "off" | "false" => false,
                _ => {
                    return Err(format!(
                        "PATCHBAY_REQUEST_LOGS=`{text}` must be `on` or `off`"
                    ));
                }
            };
        }
        if let Ok(text) = std::env::var("PATCHBAY_LOG_RETENTION") {
            options.retention = parse_retention(&text).ok_or_else(|| {
                format!(
                    "PATCHBAY_LOG_RETENTION=`{text}` is not a retention period: use a duration \
                     such as 7d, 12h, 30m or 3600s (a bare number is seconds), or `off` to keep \
                     request logs forever"
                )
            })?;
        }
        Ok(options)
    }
}

/// The queue of logs to write; cheap to clone. [`shutdown`](Self::shutdown) writes what
/// is queued and stops the writer; dropping every clone does too, without waiting.
#[derive(Debug, Clone)]
pub struct RequestLogs {
    queue: mpsc::Sender<NewRequestLog>,
    writer: Arc<Writer>,
}

/// The writer task and how to stop it.
#[derive(Debug)]
struct Writer {
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl RequestLogs {
    /// Starts the writer over `store` on the current Tokio runtime.
    pub fn spawn(store: Arc<Store>, options: LogOptions) -> Self {
        let (queue, receiver) = mpsc::channel(options.capacity.max(1));
        let stop = CancellationToken::new();
        let task = tokio::spawn(write(store, options, receiver, stop.clone()));
        Self {
            queue,
            writer: Arc::new(Writer {
                stop,
                task: Mutex::new(Some(task)),
            }),
        }
    }

    /// Writes every queued log, then stops the writer (later logs are dropped). Waits
    /// for the last write.
    pub async fn shutdown(&self) {
        self.writer.stop.cancel();
        let task = self
            .writer
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the request log writer ended abnormally");
        }
    }

    /// Queues `log` without waiting; drops it (and counts it) when the queue is full.
    pub fn record(&self, log: NewRequestLog) {
        if self.queue.try_send(log).is_err() {
            metrics::counter!(LOGS_DROPPED).increment(1);
        }
    }

    /// The observer of the calls and token requests of `environment_id`'s facade.
    pub fn observer(&self, environment_id: &str) -> Arc<EnvironmentObserver> {
        Arc::new(EnvironmentObserver {
            environment_id: environment_id.to_owned(),
            logs: self.clone(),
            log_bodies: AtomicBool::new(false),
        })
    }
}

/// Logs the upstream calls of one environment.
#[derive(Debug)]
pub struct EnvironmentObserver {
    environment_id: String,
    logs: RequestLogs,
    /// The environment's `log_bodies`, as the last call's route read it.
    log_bodies: AtomicBool,
}

impl EnvironmentObserver {
    /// Whether calls from now on log their bodies.
    pub fn set_log_bodies(&self, log_bodies: bool) {
        self.log_bodies.store(log_bodies, Ordering::Relaxed);
    }
}

impl CallObserver for EnvironmentObserver {
    fn call_finished(&self, report: &CallReport<'_>) {
        self.logs.record(call_log(&self.environment_id, report));
    }

    fn wants_bodies(&self) -> bool {
        self.log_bodies.load(Ordering::Relaxed)
    }
}

/// The most bytes of a body (as JSON) a log keeps; a longer one is cut with a note.
pub const MAX_LOGGED_BODY: usize = 16 * 1024;

/// `body` as a log keeps it: every value under a key that names a secret
/// ([`override_key_is_secret`]: `password`, `secret`, `*token`, `authorization`, `key`,
/// ...) replaced by [`MASK`], then cut to [`MAX_LOGGED_BODY`] bytes of JSON.
pub fn loggable_body(body: &Value) -> Value {
    fn mask(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if override_key_is_secret(key) {
                        *value = Value::String(MASK.to_owned());
                    } else {
                        mask(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(mask),
            _ => {}
        }
    }
    let mut body = body.clone();
    mask(&mut body);
    let text = body.to_string();
    if text.len() <= MAX_LOGGED_BODY {
        return body;
    }
    let mut cut = MAX_LOGGED_BODY;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Value::String(format!(
        "{}… (cut: {} bytes in all)",
        &text[..cut],
        text.len()
    ))
}

impl TokenRequestObserver for EnvironmentObserver {
    fn token_request(&self, report: &TokenRequestReport<'_>) {
        self.logs.record(token_log(&self.environment_id, report));
    }
}

/// The log of one token request: a `unified_proxy_api` log of `request_type`
/// `token_refresh`, resource `oauth`, method the grant (`refresh_token`, `request`).
fn token_log(environment_id: &str, report: &TokenRequestReport<'_>) -> NewRequestLog {
    let metadata = TokenMetadata {
        environment_id,
        integrated_account_id: report.account_id,
        resource: "oauth",
        method: report.grant,
        request_type: TOKEN_REFRESH,
        http_method: "POST",
        reason: report.reason,
        outcome: report.outcome,
        http_status_code: report.status,
        duration: millis(report.duration),
        message: report.error.as_deref(),
    };
    NewRequestLog {
        environment_id: environment_id.to_owned(),
        log_type: LogType::UnifiedProxyApi,
        created_at: DateTime::<Utc>::from(report.started_at),
        request_type: Some(TOKEN_REFRESH.to_owned()),
        integrated_account_id: Some(report.account_id.to_owned()),
        integration: None,
        webhook_id: None,
        metadata: metadata_text(&metadata),
    }
}

/// The `request_type` of token request logs.
pub const TOKEN_REFRESH: &str = "token_refresh";

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `metadata` as the JSON text a row stores. Serializing fields straight from the
/// report, with no intermediate `Value`, keeps the request's share of logging small.
fn metadata_text(metadata: &impl Serialize) -> String {
    // Plain structs of strings, numbers and JSON values always serialize.
    serde_json::to_string(metadata).unwrap_or_else(|_| String::from("{}"))
}

/// The metadata of a token request log, in Truto's field order; absent fields are left
/// out, as Truto strips empty ones.
#[derive(Serialize)]
struct TokenMetadata<'a> {
    environment_id: &'a str,
    integrated_account_id: &'a str,
    resource: &'a str,
    method: &'a str,
    request_type: &'a str,
    http_method: &'a str,
    reason: &'a str,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status_code: Option<u16>,
    duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// The metadata of an upstream call's log: Truto's `unified_proxy_api` fields
/// (`duration` and `fetch_duration` in milliseconds) plus every attempt.
#[derive(Serialize)]
struct CallMetadata<'a> {
    environment_id: &'a str,
    integrated_account_id: &'a str,
    integration: &'a str,
    resource: &'a str,
    method: &'a str,
    request_type: &'a str,
    http_method: &'a str,
    http_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status_code: Option<u16>,
    duration: u64,
    fetch_duration: u64,
    #[serde(serialize_with = "serialize_attempts")]
    attempts: &'a [AttemptReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_body: Option<Value>,
}

/// One attempt as a log shows it: status (`null` when no answer came), duration in
/// milliseconds, and the reason of the retry that followed, if one did.
#[derive(Serialize)]
struct AttemptMetadata<'a> {
    http_status_code: Option<u16>,
    duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_reason: Option<&'a str>,
}

fn serialize_attempts<S: serde::Serializer>(
    attempts: &&[AttemptReport],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(attempts.iter().map(|a| AttemptMetadata {
        http_status_code: a.status,
        duration: millis(a.duration),
        retry_reason: a.retry_reason.as_deref(),
    }))
}

/// The log of one upstream call.
fn call_log(environment_id: &str, report: &CallReport<'_>) -> NewRequestLog {
    let request_type = report.request_type.unwrap_or("proxy");
    let metadata = CallMetadata {
        environment_id,
        integrated_account_id: report.account_id,
        integration: report.integration,
        resource: report.resource,
        method: report.method,
        request_type,
        http_method: report.http_method,
        http_url: report.url,
        http_status_code: report.status,
        duration: millis(report.duration),
        fetch_duration: millis(report.attempts.iter().map(|a| a.duration).sum()),
        attempts: report.attempts,
        message: report.error.as_deref(),
        request_body: report.request_body.map(loggable_body),
        response_body: report.response_body.map(loggable_body),
    };
    NewRequestLog {
        environment_id: environment_id.to_owned(),
        log_type: LogType::UnifiedProxyApi,
        created_at: DateTime::<Utc>::from(report.started_at),
        request_type: Some(request_type.to_owned()),
        integrated_account_id: Some(report.account_id.to_owned()),
        integration: Some(report.integration.to_owned()),
        webhook_id: None,
        metadata: metadata_text(&metadata),
    }
}

/// The writer: batches until the queue closes or `stop` is cancelled (then writes what
/// is queued), prunes now and then.
async fn write(
    store: Arc<Store>,
    options: LogOptions,
    mut queue: mpsc::Receiver<NewRequestLog>,
    stop: CancellationToken,
) {
    let mut next_prune = tokio::time::Instant::now();
    let mut batch = Vec::with_capacity(options.batch_size);
    loop {
        let first = tokio::select! {
            log = queue.recv() => log,
            () = stop.cancelled() => {
                queue.close();
                while let Some(log) = queue.recv().await {
                    batch.push(log);
                    if batch.len() == options.batch_size {
                        store_batch(&store, &mut batch).await;
                    }
                }
                store_batch(&store, &mut batch).await;
                return;
            }
            () = tokio::time::sleep_until(next_prune) => {
                prune(&store, options.retention).await;
                next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
                continue;
            }
        };
        let Some(first) = first else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + options.flush_interval;
        while batch.len() < options.batch_size {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(log)) => batch.push(log),
                Ok(None) | Err(_) => break,
            }
        }
        store_batch(&store, &mut batch).await;
    }
}

/// Writes and empties `batch`; a failure is logged and counted as dropped logs.
async fn store_batch(store: &Store, batch: &mut Vec<NewRequestLog>) {
    if batch.is_empty() {
        return;
    }
    if let Err(error) = store.insert_request_logs(batch).await {
        tracing::warn!(%error, logs = batch.len(), "request logs could not be written");
        metrics::counter!(LOGS_DROPPED).increment(batch.len() as u64);
    }
    batch.clear();
}

/// Deletes the logs older than `retention`, a batch at a time.
async fn prune(store: &Store, retention: Option<Duration>) {
    let Some(retention) = retention else {
        return;
    };
    let Some(before) = SystemTime::now().checked_sub(retention) else {
        return;
    };
    let before = DateTime::<Utc>::from(before);
    loop {
        match store.prune_request_logs(before, PRUNE_BATCH).await {
            Ok(deleted) if deleted >= u64::from(PRUNE_BATCH) => continue,
            Ok(deleted) => {
                if deleted > 0 {
                    tracing::debug!(deleted, "pruned expired request logs");
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "expired request logs could not be pruned");
                return;
            }
        }
    }
}
