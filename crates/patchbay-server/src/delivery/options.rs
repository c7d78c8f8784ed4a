//! [`DeliveryOptions`]: how the worker polls, leases, sends, retries (with
//! [`backoff`](DeliveryOptions::backoff)) and keeps finished deliveries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use patchbay::egress::DestinationPolicy;

use super::retention::{
    DAY, RETENTION_DEAD_VAR, RETENTION_DELIVERED_VAR, RetentionError, parse_retention,
};

/// How the worker polls, leases, sends and retries. Build with
/// [`DeliveryOptions::default`] and the `with_*` methods.
#[derive(Clone)]
pub struct DeliveryOptions {
    pub(super) poll_interval: Duration,
    pub(super) batch_size: u32,
    lease: Duration,
    pub(super) max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    pub(super) request_timeout: Duration,
    pub(super) client: Option<reqwest::Client>,
    pub(super) destinations: Arc<DestinationPolicy>,
    pub(super) retain_delivered: Option<Duration>,
    pub(super) retain_dead: Option<Duration>,
    pub(super) prune_interval: Duration,
    pub(super) log_attempts: bool,
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
            log_attempts: true,
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

    /// Whether each delivery attempt is written as a `webhook` request log (default
    /// `true`; the server's `PATCHBAY_REQUEST_LOGS=off` turns it off).
    pub fn with_attempt_logs(mut self, log: bool) -> Self {
        self.log_attempts = log;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::retention::{DAY, RETENTION_DEAD_VAR, RETENTION_DELIVERED_VAR};
    use super::DeliveryOptions;

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
}
