//! [`RetryPolicy`]: whether and when to retry a failed attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What happened on an attempt that might be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The response was rate limited (see [`RateLimitPolicy`](crate::RateLimitPolicy)),
    /// with the provider's wait if it gave one.
    RateLimited(Option<Duration>),
    /// The response had this (non-success) status.
    Status(u16),
    /// The request timed out.
    Timeout,
    /// The connection failed (DNS, connect, reset).
    Connection,
}

/// Why no retry will happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GiveUp {
    /// The outcome is not retryable (e.g. a 400).
    #[error("HTTP {0} is not retryable")]
    NotRetryable(u16),
    /// The method is not idempotent and `retry_non_idempotent` is off.
    #[error("the request is not idempotent, so it is not retried automatically")]
    NotIdempotent,
    /// All attempts are used.
    #[error("gave up after {attempts} attempts")]
    AttemptsExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// The provider asked for a longer wait than allowed for one retry.
    #[error("the provider asked to wait {requested:?}, more than the {max:?} allowed")]
    WaitTooLong {
        /// Requested wait.
        requested: Duration,
        /// The `max_single_wait` bound.
        max: Duration,
    },
    /// Waiting again would exceed the total wait budget.
    #[error(
        "waiting {next:?} more would exceed the total retry budget of {max:?} ({waited:?} already waited)"
    )]
    BudgetExhausted {
        /// The next wait.
        next: Duration,
        /// Already waited.
        waited: Duration,
        /// The `max_total_wait` bound.
        max: Duration,
    },
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop and return the error.
    GiveUp(GiveUp),
}

/// Retry rules. Defaults: 4 attempts in all; exponential backoff from 500 ms
/// doubling up to 30 s with full jitter; a provider-requested wait (Retry-After)
/// is honoured exactly up to `max_single_wait` (60 s); at most 120 s of waiting
/// per request; retries rate limits for every method (the provider did not
/// process the request), and 408, 500, 502, 503, 504, timeouts and connection
/// errors only for idempotent methods unless `retry_non_idempotent`.
///
/// ```
/// use std::time::Duration;
/// use patchbay_ratelimit::{GiveUp, AttemptOutcome, RetryDecision, RetryPolicy};
///
/// let policy = RetryPolicy::default();
/// let mut retry = policy.start(true).with_seed(7);
/// assert_eq!(retry.decide(AttemptOutcome::RateLimited(Some(Duration::from_secs(2)))),
///            RetryDecision::RetryAfter(Duration::from_secs(2)));
/// assert!(matches!(retry.decide(AttemptOutcome::Status(503)), RetryDecision::RetryAfter(d) if d <= Duration::from_secs(1)));
/// assert!(matches!(retry.decide(AttemptOutcome::RateLimited(Some(Duration::from_secs(3600)))),
///                  RetryDecision::GiveUp(GiveUp::WaitTooLong { .. })));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 = never retry).
    pub max_attempts: u32,
    /// Backoff base: the cap of the first retry's jittered wait.
    pub base_delay: Duration,
    /// Cap of the exponential backoff.
    pub max_backoff: Duration,
    /// Longest single wait accepted; a longer Retry-After gives up.
    pub max_single_wait: Duration,
    /// Most waiting in all for one request.
    pub max_total_wait: Duration,
    /// Statuses retried (besides rate-limited responses).
    pub retry_statuses: Vec<u16>,
    /// Retry non-idempotent methods (POST, PATCH) after 5xx, timeouts and
    /// connection errors too. Rate-limited attempts are retried for every method.
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_single_wait: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(120),
            retry_statuses: vec![408, 500, 502, 503, 504],
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Starts tracking one request (`idempotent`: see `HttpMethod::is_idempotent`).
    pub fn start(&self, idempotent: bool) -> RetryState<'_> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        RetryState {
            policy: self,
            idempotent,
            attempts: 1,
            waited: Duration::ZERO,
            rng: SplitMix64(seed),
        }
    }

    /// The un-jittered backoff cap before retry number `retry` (1-based):
    /// `min(max_backoff, base_delay * 2^(retry-1))`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.base_delay.saturating_mul(factor).min(self.max_backoff)
    }
}

/// The retry state of one request: attempts made, time waited, jitter source.
#[derive(Debug, Clone)]
pub struct RetryState<'p> {
    policy: &'p RetryPolicy,
    idempotent: bool,
    attempts: u32,
    waited: Duration,
    rng: SplitMix64,
}

impl RetryState<'_> {
    /// Seeds the jitter (tests, reproducible runs).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = SplitMix64(seed);
        self
    }

    /// Attempts made so far (1 after the first).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Total wait granted so far.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Decides after a failed attempt. A `RetryAfter` counts the next attempt
    /// and its wait against the budgets.
    pub fn decide(&mut self, outcome: AttemptOutcome) -> RetryDecision {
        let p = self.policy;
        let retryable = match outcome {
            AttemptOutcome::RateLimited(_)
            | AttemptOutcome::Timeout
            | AttemptOutcome::Connection => true,
            AttemptOutcome::Status(status) => p.retry_statuses.contains(&status),
        };
        if !retryable {
            let status = match outcome {
                AttemptOutcome::Status(s) => s,
                _ => 0,
            };
            return RetryDecision::GiveUp(GiveUp::NotRetryable(status));
        }
        // A rate-limited request was not processed by the provider, so it is
        // safe to send again whatever its method (Truto retries 429s for every
        // method too). A 5xx or a lost connection may have been processed.
        let rate_limited = matches!(outcome, AttemptOutcome::RateLimited(_));
        if !rate_limited && !self.idempotent && !p.retry_non_idempotent {
            return RetryDecision::GiveUp(GiveUp::NotIdempotent);
        }
        if self.attempts >= p.max_attempts {
            return RetryDecision::GiveUp(GiveUp::AttemptsExhausted {
                attempts: self.attempts,
            });
        }
        let wait = match outcome {
            AttemptOutcome::RateLimited(Some(requested)) => {
                if requested > p.max_single_wait {
                    return RetryDecision::GiveUp(GiveUp::WaitTooLong {
                        requested,
                        max: p.max_single_wait,
                    });
                }
                requested
            }
            _ => self.jitter(p.backoff_cap(self.attempts)),
        };
        if self.waited.saturating_add(wait) > p.max_total_wait {
            return RetryDecision::GiveUp(GiveUp::BudgetExhausted {
                next: wait,
                waited: self.waited,
                max: p.max_total_wait,
            });
        }
        self.attempts += 1;
        self.waited += wait;
        RetryDecision::RetryAfter(wait)
    }

    /// Full jitter: uniform in `[0, cap]`.
    fn jitter(&mut self, cap: Duration) -> Duration {
        let fraction = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(fraction)
    }
}

/// A tiny non-cryptographic PRNG for jitter (SplitMix64).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_and_statuses() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.start(false).decide(AttemptOutcome::Status(503)),
            RetryDecision::GiveUp(GiveUp::NotIdempotent)
        );
        assert_eq!(
            policy.start(true).decide(AttemptOutcome::Status(400)),
            RetryDecision::GiveUp(GiveUp::NotRetryable(400))
        );
        assert_eq!(
            policy.start(true).decide(AttemptOutcome::Status(501)),
            RetryDecision::GiveUp(GiveUp::NotRetryable(501))
        );
        // A 429 means "not processed": POST lists and creates are retried.
        assert!(matches!(
            policy
                .start(false)
                .decide(AttemptOutcome::RateLimited(Some(Duration::ZERO))),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            policy
                .start(false)
                .decide(AttemptOutcome::RateLimited(None)),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            policy.start(false).decide(AttemptOutcome::Connection),
            RetryDecision::GiveUp(GiveUp::NotIdempotent)
        );
        let lenient = RetryPolicy {
            retry_non_idempotent: true,
            ..RetryPolicy::default()
        };
        assert!(matches!(
            lenient.start(false).decide(AttemptOutcome::Timeout),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy::default();
        let mut retry = policy.start(true).with_seed(1);
        for _ in 0..3 {
            assert!(matches!(
                retry.decide(AttemptOutcome::Connection),
                RetryDecision::RetryAfter(_)
            ));
        }
        assert_eq!(
            retry.decide(AttemptOutcome::Connection),
            RetryDecision::GiveUp(GiveUp::AttemptsExhausted { attempts: 4 })
        );
    }

    #[test]
    fn total_budget_is_bounded() {
        let policy = RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        };
        let mut retry = policy.start(true);
        let wait = Duration::from_secs(50);
        assert_eq!(
            retry.decide(AttemptOutcome::RateLimited(Some(wait))),
            RetryDecision::RetryAfter(wait)
        );
        assert_eq!(
            retry.decide(AttemptOutcome::RateLimited(Some(wait))),
            RetryDecision::RetryAfter(wait)
        );
        assert!(matches!(
            retry.decide(AttemptOutcome::RateLimited(Some(wait))),
            RetryDecision::GiveUp(GiveUp::BudgetExhausted { .. })
        ));
        assert_eq!(retry.waited(), Duration::from_secs(100));
    }

    #[test]
    fn backoff_caps_grow_and_saturate() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_cap(1), Duration::from_millis(500));
        assert_eq!(p.backoff_cap(3), Duration::from_secs(2));
        assert_eq!(p.backoff_cap(40), Duration::from_secs(30));
    }
}
