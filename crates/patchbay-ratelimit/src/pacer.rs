//! [`Pacer`]: client-side pacing per account, in-process or shared through a
//! [`PaceStore`], plus "paused until" after a provider's Retry-After.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::RateLimiter;
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::AcquireError;
use crate::pace_config::PaceConfig;
use crate::pace_store::PaceStore;
use crate::sleep::sleep_cancellable;

/// Default bound of a pause and of one [`Pacer::acquire`] wait: 60 s, the
/// default `RetryPolicy::max_single_wait`.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// tokio's clock for governor, so paced waits follow `tokio::time::pause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TokioInstant(Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;
    fn add(self, other: Nanos) -> TokioInstant {
        // Saturates: a far-future "not before" must not panic.
        TokioInstant(
            self.0
                .checked_add(Duration::from(other))
                .unwrap_or_else(far_future),
        )
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::from(self.0.saturating_duration_since(earlier.0))
    }
    fn saturating_sub(&self, duration: Nanos) -> Self {
        TokioInstant(
            self.0
                .checked_sub(Duration::from(duration))
                .unwrap_or(self.0),
        )
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(Instant::now())
    }
}

type Limiter<K> = RateLimiter<K, DashMapStateStore<K>, TokioClock, NoOpMiddleware<TokioInstant>>;

/// Client-side pacing keyed by account (any `K`, e.g. an integrated-account id).
///
/// [`acquire`](Self::acquire) waits until the key may send: first until any
/// pause set by [`pause_for`](Self::pause_for) is over (so every concurrent
/// caller of a throttled account waits, not only the one that saw the 429),
/// then for a slot of the GCRA quota when one is configured.
///
/// Where slots are counted:
/// * **in-process** (default): governor's GCRA, per pacer;
/// * **shared** ([`with_store`](Self::with_store)): a [`PaceStore`] such as
///   `RedisPaceStore`, so that every process using it
///   keeps the pace together. An acquire whose store is unavailable is paced
///   in-process instead: an outage degrades to per-process pacing, never to
///   failed calls. Pauses stay in-process either way.
///
/// Bounded: a pause never lasts longer than the pacer's maximum wait
/// ([`with_max_wait`](Self::with_max_wait), default [`DEFAULT_MAX_WAIT`]),
/// whatever the provider asked, and `acquire` gives up with
/// [`AcquireError::TooLong`] rather than wait longer than that in all. No
/// account can be wedged by a huge `Retry-After`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use tokio_util::sync::CancellationToken;
/// use patchbay_ratelimit::{PaceConfig, Pacer};
///
/// let one = NonZeroU32::new(1).unwrap();
/// let pacer = Pacer::new(Some(PaceConfig { requests: NonZeroU32::new(10).unwrap(), per: Duration::from_secs(1), burst: one }));
/// let cancel = CancellationToken::new();
/// let start = tokio::time::Instant::now();
/// for _ in 0..11 {
///     pacer.acquire(&"acct_1", &cancel).await.unwrap();
/// }
/// assert_eq!(start.elapsed(), Duration::from_secs(1)); // 10 intervals of 100 ms
/// # }
/// ```
pub struct Pacer<K: Hash + Eq + Clone> {
    /// The pace and its in-process GCRA (the fallback when shared).
    pace: Option<(PaceConfig, Limiter<K>)>,
    shared: Option<Shared<K>>,
    paused: Mutex<HashMap<K, Instant>>,
    max_wait: Duration,
}

/// A shared store, and how a key is named in it.
struct Shared<K> {
    store: Arc<dyn PaceStore>,
    name: fn(&K) -> String,
}

impl<K: Hash + Eq + Clone> fmt::Debug for Pacer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer")
            .field("pace", &self.pace.as_ref().map(|(pace, _)| pace))
            .field("store", &self.shared.as_ref().map(|s| &s.store))
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Pacer<K> {
    /// A pacer with `config` per key (`None`: no pacing, only pauses), counted
    /// in-process.
    pub fn new(config: Option<PaceConfig>) -> Self {
        Self {
            pace: config.map(|c| (c, RateLimiter::dashmap_with_clock(c.quota(), TokioClock))),
            shared: None,
            paused: Mutex::new(HashMap::new()),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// Counts pacing slots in `store` (shared with every process using it),
    /// under each key's `Display` form; the in-process GCRA paces only the
    /// acquires the store cannot answer. Without a pace (`Pacer::new(None)`)
    /// the store is never asked.
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn PaceStore>) -> Self
    where
        K: fmt::Display,
    {
        self.shared = Some(Shared {
            store,
            name: K::to_string,
        });
        self
    }

    /// Bounds pauses and each [`acquire`](Self::acquire) to `max_wait`
    /// (default [`DEFAULT_MAX_WAIT`]).
    #[must_use]
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The bound of pauses and of one `acquire`.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Pauses `key` for `wait` from now, at most the pacer's maximum wait
    /// (never shortens an existing pause).
    pub fn pause_for(&self, key: &K, wait: Duration) {
        let now = Instant::now();
        let until = now
            .checked_add(wait.min(self.max_wait))
            .unwrap_or_else(far_future);
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let entry = paused.entry(key.clone()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// How long `key` is still paused.
    pub fn paused_for(&self, key: &K) -> Option<Duration> {
        let paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let until = *paused.get(key)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Waits until `key` may send a request, at most the pacer's maximum
    /// wait in all.
    ///
    /// # Errors
    /// [`AcquireError::Cancelled`] when `cancel` fires while waiting (or while
    /// the store is asked); [`AcquireError::TooLong`], at once and without
    /// waiting, when the pause or the pacing slot is further away than the
    /// time left of the maximum.
    pub async fn acquire(&self, key: &K, cancel: &CancellationToken) -> Result<(), AcquireError> {
        let deadline = Instant::now()
            .checked_add(self.max_wait)
            .unwrap_or_else(far_future);
        let within_deadline = |wait: Duration| {
            let left = deadline.saturating_duration_since(Instant::now());
            if wait > left {
                Err(AcquireError::TooLong {
                    required: wait,
                    max: self.max_wait,
                })
            } else {
                Ok(wait)
            }
        };
        loop {
            if let Some(left) = self.take_pause(key) {
                sleep_cancellable(within_deadline(left)?, cancel).await?;
                continue;
            }
            let Some((pace, limiter)) = &self.pace else {
                return Ok(());
            };
            let wait = match &self.shared {
                Some(shared) => {
                    let name = (shared.name)(key);
                    let answer = tokio::select! {
                        biased;
                        () = cancel.cancelled() => return Err(AcquireError::Cancelled),
                        answer = shared.store.try_take(&name, pace) => answer,
                    };
                    // The store reports its own outages; this acquire is paced here.
                    answer.unwrap_or_else(|_| local_wait(limiter, key))
                }
                None => local_wait(limiter, key),
            };
            if wait.is_zero() {
                return Ok(());
            }
            sleep_cancellable(within_deadline(wait)?, cancel).await?;
        }
    }

    /// The remaining pause of `key`; forgets expired pauses.
    fn take_pause(&self, key: &K) -> Option<Duration> {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let until = *paused.get(key)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            paused.remove(key);
            None
        } else {
            Some(left)
        }
    }

    /// Drops limiter state of keys idle long enough to be back at full burst.
    pub fn shrink(&self) {
        if let Some((_, limiter)) = &self.pace {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        paused.retain(|_, until| *until > now);
    }
}

/// Takes an in-process slot of `key` (`Duration::ZERO`) or answers the wait for one.
fn local_wait<K: Hash + Eq + Clone>(limiter: &Limiter<K>, key: &K) -> Duration {
    match limiter.check_key(key) {
        Ok(()) => Duration::ZERO,
        // Never zero: zero means "taken".
        Err(not_until) => not_until
            .wait_time_from(TokioClock.now())
            .max(Duration::from_nanos(1)),
    }
}

/// An instant far enough away to mean "never" without overflowing (about 30 years).
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(86_400 * 365 * 30))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_are_clamped_and_never_overflow() {
        let pacer = Pacer::<u8>::new(None).with_max_wait(Duration::from_secs(60));
        pacer.pause_for(&1, Duration::MAX);
        pacer.pause_for(&2, Duration::from_secs(u64::MAX));
        assert_eq!(pacer.paused_for(&1), Some(Duration::from_secs(60)));
        assert_eq!(pacer.paused_for(&2), Some(Duration::from_secs(60)));
        let cancel = CancellationToken::new();
        let start = Instant::now();
        pacer.acquire(&1, &cancel).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_fails_at_once_when_the_wait_exceeds_its_deadline() {
        let one = NonZeroU32::new(1).unwrap();
        // One request per 20 s, but a request may wait at most 10 s.
        let pacer = Pacer::<u8>::new(Some(PaceConfig {
            requests: one,
            per: Duration::from_secs(20),
            burst: one,
        }))
        .with_max_wait(Duration::from_secs(10));
        let cancel = CancellationToken::new();
        pacer.acquire(&1, &cancel).await.unwrap();
        let start = Instant::now();
        assert_eq!(
            pacer.acquire(&1, &cancel).await,
            Err(AcquireError::TooLong {
                required: Duration::from_secs(20),
                max: Duration::from_secs(10)
            })
        );
        assert_eq!(start.elapsed(), Duration::ZERO, "fails without waiting");
        // A pause is clamped to the bound, so waiting it out fits.
        pacer.pause_for(&2, Duration::from_secs(3600));
        pacer.acquire(&2, &cancel).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    /// A store that is always down, or that never answers.
    #[derive(Debug)]
    enum Broken {
        Down,
        Silent,
    }

    impl PaceStore for Broken {
        fn try_take<'a>(&'a self, _: &'a str, _: &'a PaceConfig) -> crate::PaceFuture<'a> {
            Box::pin(async move {
                match self {
                    Broken::Down => Err(crate::PaceStoreUnavailable::new("down")),
                    Broken::Silent => std::future::pending().await,
                }
            })
        }
    }

    fn ten_per_second() -> PaceConfig {
        PaceConfig {
            requests: NonZeroU32::new(10).unwrap(),
            per: Duration::from_secs(1),
            burst: NonZeroU32::MIN,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unavailable_store_paces_in_process() {
        let pacer = Pacer::<u8>::new(Some(ten_per_second())).with_store(Arc::new(Broken::Down));
        let cancel = CancellationToken::new();
        let start = Instant::now();
        for _ in 0..11 {
            pacer.acquire(&1, &cancel).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn asking_the_store_is_cancellable() {
        let pacer = Pacer::<u8>::new(Some(ten_per_second())).with_store(Arc::new(Broken::Silent));
        let cancel = CancellationToken::new();
        let canceller = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            canceller.cancel();
        });
        assert_eq!(
            pacer.acquire(&1, &cancel).await,
            Err(AcquireError::Cancelled)
        );
        // Without a pace the store is never asked.
        let unpaced = Pacer::<u8>::new(None).with_store(Arc::new(Broken::Silent));
        unpaced
            .acquire(&1, &CancellationToken::new())
            .await
            .unwrap();
    }
}
