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
//! * [`sleep_cancellable`]: every wait can be cancelled.
//! * [`ErrorPolicy`] / [`ProviderError`]: `error_expression` and the error type
//!   that keeps status, headers and body.
//!
//! A typical attempt loop in the executor:
//!
//! ```text
//! let mut retry = retry_policy.start(method.is_idempotent());
//! loop {
//!     pacer.acquire(&account_id, &cancel).await?;
//!     let outcome = match send().await {
//!         Err(timeout) => Outcome::Timeout,
//!         Err(connect) => Outcome::Connection,
//!         Ok(resp) => {
//!             let view = ResponseView { status, headers, body };
//!             if let Some(limited) = rate_limit.classify(&view, SystemTime::now())? {
//!                 // Waits above the bound fail the call; they never pause the account.
//!                 if let Some(wait) = limited.wait.filter(|w| *w <= max_single_wait) {
//!                     pacer.pause_for(&account_id, wait)
//!                 }
//!                 Outcome::RateLimited(limited.wait)
//!             } else if let Some(message) = errors.check(&view)? {
//!                 return Err(ProviderError::new(status, headers, body, Some(message)))
//!             } else if status >= 400 { Outcome::Status(status) } else { return Ok(resp) }
//!         }
//!     };
//!     match retry.decide(outcome) {
//!         RetryDecision::RetryAfter(wait) => sleep_cancellable(wait, &cancel).await?,
//!         RetryDecision::GiveUp(reason) => return Err(...),
//!     }
//! }
//! ```
#![warn(missing_docs)]

mod detect;
mod error;
mod pacer;
mod provider_error;
mod retry;
mod retry_after;
mod scope;
mod sleep;

pub use detect::{RateLimitPolicy, RateLimited};
pub use error::{AcquireError, Cancelled, RateLimitError};
pub use pacer::{DEFAULT_MAX_WAIT, PaceConfig, Pacer};
pub use provider_error::{DISPLAY_BODY_CHARS, ErrorPolicy, Fault, ProviderError};
pub use retry::{GiveUp, Outcome, RetryDecision, RetryPolicy, RetryState};
pub use retry_after::parse_retry_after;
pub use scope::{ResponseView, headers_json};
pub use sleep::sleep_cancellable;
