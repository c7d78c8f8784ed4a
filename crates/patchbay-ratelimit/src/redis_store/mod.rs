//! [`RedisPaceStore`]: pacing slots in Redis, shared by every process that uses
//! the same Redis and key prefix.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::pace_config::PaceConfig;
use crate::pace_store::{PaceFuture, PaceStore, PaceStoreUnavailable};

/// Default bound of one Redis round trip (connecting included).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// Default prefix of the pacing keys.
pub const DEFAULT_KEY_PREFIX: &str = "patchbay:pace:";
/// After a failure, Redis is asked again only this much later; meanwhile every
/// acquire is paced in-process at once (a dead Redis costs no time per call).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// At most one warning per this long while Redis is unavailable.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// The GCRA script: one atomic round trip per slot (EVALSHA, loaded on `NOSCRIPT`).
const GCRA_LUA: &str = include_str!("gcra.lua");

/// Pacing slots in Redis: a GCRA per key in one atomic Lua script on the Redis
/// server's clock, so every process using the same Redis (and key prefix) paces
/// a key together.
///
/// * **Keys**: `<prefix><key>` (default prefix [`DEFAULT_KEY_PREFIX`]) holds the
///   key's theoretical arrival time and expires once the key is back at full
///   burst, so idle keys leave nothing behind.
/// * **Outages**: a command that fails or takes longer than the timeout
///   (default [`DEFAULT_REDIS_TIMEOUT`], connecting included) answers
///   [`PaceStoreUnavailable`], and the pacer paces that acquire in-process.
///   For a second after a failure Redis is not asked at all; then it is tried
///   again (the connection reconnects by itself), and used as soon as it
///   answers. An outage is logged as one `tracing` warning per 30 s at most,
///   and its end at `info`; [`fallbacks`](Self::fallbacks) counts the
///   asks it sent to in-process pacing.
/// * **Secrets**: neither `Debug` nor any error or log shows the URL (it may
///   hold a password).
///
/// Connects on first use, so it is created without a runtime and without
/// Redis being up. `rediss://` (TLS) is not supported by this build.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use patchbay_ratelimit::{PaceConfig, Pacer, RedisPaceStore};
///
/// let store = RedisPaceStore::new("redis://127.0.0.1:6379/0")?
///     .with_key_prefix("myapp:pace:")
///     .with_timeout(Duration::from_millis(100));
/// let pacer = Pacer::<String>::new(Some("10/s".parse()?)).with_store(Arc::new(store));
/// # let _ = pacer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisPaceStore {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    health: Mutex<Health>,
    fallbacks: AtomicU64,
}

/// The outage bookkeeping.
#[derive(Debug, Default)]
struct Health {
    /// Since when Redis has been failing (`None`: it answered last time).
    down_since: Option<Instant>,
    /// Redis is not asked before this.
    retry_at: Option<Instant>,
    /// When the last outage warning was logged.
    warned_at: Option<Instant>,
}

impl fmt::Debug for RedisPaceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPaceStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("fallbacks", &self.fallbacks())
            .finish_non_exhaustive()
    }
}

/// `REDIS_URL` (or another Redis URL) is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a usable Redis URL (redis://[user:password@]host[:port][/db] or unix://path): {reason}"
)]
pub struct RedisUrlError {
    reason: String,
}

impl RedisPaceStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`
    /// or `unix://path`); nothing is connected yet.
    ///
    /// # Errors
    /// [`RedisUrlError`] when `url` does not parse (the message never repeats
    /// the URL).
    pub fn new(url: &str) -> Result<Self, RedisUrlError> {
        let client = redis::Client::open(url).map_err(|e| RedisUrlError {
            reason: describe(&e),
        })?;
        Ok(Self {
            client,
            connection: Mutex::new(None),
            script: redis::Script::new(GCRA_LUA),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            health: Mutex::new(Health::default()),
            fallbacks: AtomicU64::new(0),
        })
    }

    /// Prefixes every key with `prefix` (default [`DEFAULT_KEY_PREFIX`]):
    /// processes pace together when they share Redis and prefix.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds one Redis round trip, connecting included (default
    /// [`DEFAULT_REDIS_TIMEOUT`]); a slower answer paces in-process.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// How many asks ([`PaceStore::try_take`]) were answered unavailable, and so
    /// paced in-process (an acquire that waits asks again after its wait).
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// The connection, created on first use (it reconnects by itself).
    fn connection(&self) -> Result<ConnectionManager, PaceStoreUnavailable> {
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(connection) = &*slot {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            // No retries inside one command: a failure answers at once, and the
            // store itself asks again a second later.
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| PaceStoreUnavailable::new(describe(&e)))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// One run of the script: microseconds to wait (0: a slot was taken).
    async fn run_script(
        &self,
        key: &str,
        config: &PaceConfig,
    ) -> Result<u64, PaceStoreUnavailable> {
        let mut connection = self.connection()?;
        let interval = micros(config.interval()).max(1);
        let tolerance = interval.saturating_mul(u64::from(config.burst.get() - 1));
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation.arg(interval).arg(tolerance);
        match tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection)).await {
            Ok(Ok(wait)) => Ok(wait),
            Ok(Err(e)) => Err(PaceStoreUnavailable::new(describe(&e))),
            Err(_) => Err(PaceStoreUnavailable::new(format!(
                "no answer within {:?}",
                self.timeout
            ))),
        }
    }

    /// Whether Redis may be asked now (not within a second of a failure).
    fn may_ask(&self) -> bool {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    fn answered(&self) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(since) = health.down_since.take() {
            health.retry_at = None;
            health.warned_at = None;
            tracing::info!(
                down_for = ?since.elapsed(),
                fallbacks = self.fallbacks(),
                "Redis answers again: pacing is shared across processes again"
            );
        }
    }

    fn failed(&self, error: &PaceStoreUnavailable) {
        let now = Instant::now();
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.down_since.get_or_insert(now);
        health.retry_at = Some(now + RETRY_AFTER_FAILURE);
        if health
            .warned_at
            .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
        {
            health.warned_at = Some(now);
            tracing::warn!(
                error = %error.reason(),
                fallbacks = self.fallbacks(),
                "Redis is unavailable for shared pacing: pacing in-process until it answers \
                 (each process alone keeps the pace, so together they may exceed it)"
            );
        }
    }
}

impl PaceStore for RedisPaceStore {
    fn try_take<'a>(&'a self, key: &'a str, config: &'a PaceConfig) -> PaceFuture<'a> {
        Box::pin(async move {
            let outcome = if self.may_ask() {
                let outcome = self.run_script(key, config).await;
                match &outcome {
                    Ok(_) => self.answered(),
                    Err(e) => self.failed(e),
                }
                outcome
            } else {
                Err(PaceStoreUnavailable::new(
                    "Redis failed less than a second ago",
                ))
            };
            outcome.map(Duration::from_micros).inspect_err(|_| {
                self.fallbacks.fetch_add(1, Ordering::Relaxed);
            })
        })
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// A Redis error as the client words it: a fixed description, a server
/// message or an I/O error, never the URL.
fn describe(error: &redis::RedisError) -> String {
    error.to_string()
}
