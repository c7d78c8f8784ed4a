//! Rate limits, retries and provider errors for Patchbay: the pure decision
//! layer the request executor calls around each provider request.
//!
//! * [`RateLimitPolicy`]: is a response rate limited and how long to wait
//!   (default: 429 + `Retry-After`; `rate_limit` expressions override).
//! * [`RetryPolicy`] / [`RetryState`]: bounded retries with jittered
//!   exponential backoff, idempotency-aware.
//! * [`Pacer`]: client-side pacing per account (governor GCRA) and a shared
//!   "paused until" per account after a Retry-After, both bounded: no
//!   provider value can pause an account longer than the maximum wait.
//! * [`PaceStore`]: pacing slots shared by several processes; with the
//!   `redis` feature, `RedisPaceStore` keeps them in Redis (one atomic GCRA
//!   script), falling back to in-process pacing while Redis is unavailable.
//! * [`sleep_cancellable`]: every wait can be cancelled.
//! * [`ErrorPolicy`] / [`ProviderError`]: `error_expression` and the error type
//!   that keeps status, headers and body.
//!
//! How the executor (`patchbay-executor`) uses them in each attempt of a call,
//! **prepare → authorize → pace → send → classify → act**:
//!
//! ```text
//! let mut retry = retry_policy.start(method.is_idempotent());
//! loop {
//!     // prepare + authorize: the request, current tokens, authorization headers
//!     pacer.acquire(&account_id, &cancel).await?;                   // pace
//!     let verdict = match send().await {                            // send
//!         Err(e) if e.is_transient() => retry_or_fail(AttemptOutcome::Connection /* or Timeout */),
//!         Err(e) => return Err(e),
//!         // classify: one pure function, in this order:
//!         //   rate_limit.classify(&view)  -> RateLimited { wait }   (429 or is_rate_limited)
//!         //   errors.check_fault(&view)   -> status 401?            (401 or error_expression)
//!         //       -> RefreshThenRetry / Unauthorized                (when there is a credential)
//!         //   status >= 400               -> ErrorStatus { status, message }
//!         //   error_expression message    -> Fault { message }
//!         //   otherwise                   -> Success
//!         Ok(resp) => classify(&resp),
//!     };
//!     match verdict {                                                // act
//!         Success => return Ok(resp),
//!         Fault { .. } | Unauthorized => return Err(...),
//!         RefreshThenRetry => { tokens.on_unauthorized(..).await?; continue }
//!         RateLimited { wait } => {
//!             // Waits above the bound fail the call; they never pause the account.
//!             if let Some(wait) = wait.filter(|w| *w <= max_single_wait) {
//!                 pacer.pause_for(&account_id, wait)
//!             }
//!             retry_or_fail(AttemptOutcome::RateLimited(wait))
//!         }
//!         ErrorStatus { status, .. } => retry_or_fail(AttemptOutcome::Status(status)),
//!     }
//!     // retry_or_fail: the one place that asks `retry.decide(outcome)`; RetryAfter(wait)
//!     // is the one cancellable wait (`sleep_cancellable(wait, &cancel)`), GiveUp fails.
//! }
//! ```
#![warn(missing_docs, unreachable_pub)]

mod detect;
mod error;
mod pace_config;
mod pace_store;
mod pacer;
mod provider_error;
#[cfg(feature = "redis")]
mod redis_store;
mod retry;
mod retry_after;
mod scope;
mod sleep;

pub use detect::{RateLimitPolicy, RateLimited};
pub use error::{AcquireError, Cancelled, RateLimitError};
pub use pace_config::{PaceConfig, PaceConfigError};
pub use pace_store::{PaceFuture, PaceStore, PaceStoreUnavailable};
pub use pacer::{DEFAULT_MAX_WAIT, Pacer};
pub use provider_error::{DISPLAY_BODY_CHARS, ErrorPolicy, Fault, ProviderError};
#[cfg(feature = "redis")]
pub use redis_store::{DEFAULT_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisPaceStore, RedisUrlError};
pub use retry::{AttemptOutcome, GiveUp, RetryDecision, RetryPolicy, RetryState};
pub use retry_after::parse_retry_after;
pub use scope::{ResponseView, headers_json};
pub use sleep::sleep_cancellable;
