//! [`RateLimitPolicy`]: is a response rate limited, and for how long?

use std::time::{Duration, SystemTime};

use patchbay_config::{BoolOrJsonata, RateLimit};
use patchbay_template::expression::{Bindings, Expression};
use serde_json::Value;

use crate::error::RateLimitError;
use crate::retry_after::parse_retry_after;
use crate::scope::{ResponseView, as_number, headers_json, is_truthy, mentions};

/// A response was recognised as rate limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// How long the provider asked to wait, when it said.
    pub wait: Option<Duration>,
}

#[derive(Debug, Clone)]
enum Detect {
    Status429,
    Constant(bool),
    Expression(Expression),
}

/// Rate-limit detection for one method, built once from its `rate_limit`
/// config (JSONata compiled up front).
///
/// Without config, a response is rate limited when its status is 429, and the
/// wait is its `Retry-After` (delta-seconds or an HTTP date). With config:
/// * `is_rate_limited` (a boolean or JSONata; truthy = limited) replaces the
///   status check;
/// * `retry_after_header_expression` gives seconds to wait (replacing the
///   `Retry-After` header);
/// * `rate_limit_header_expression` gives the reset time in epoch seconds
///   (milliseconds are recognised by size; values below 10^9 are taken as
///   seconds-from-now).
///
/// The longer of the two waits wins. Expressions see `status`, `headers`
/// (lower-cased names) and `body`.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use patchbay_config::{BoolOrJsonata, RateLimit};
/// use patchbay_ratelimit::{RateLimitPolicy, ResponseView};
///
/// // GitHub: a primary limit is a 403 with x-ratelimit-remaining: 0 and a reset time.
/// let github = RateLimit {
///     is_rate_limited: Some(BoolOrJsonata::Expression(
///         "status = 429 or (status = 403 and headers.`x-ratelimit-remaining` = '0')".into())),
///     retry_after_header_expression: Some("$number(headers.`retry-after`)".into()),
///     rate_limit_header_expression: Some("$number(headers.`x-ratelimit-reset`)".into()),
/// };
/// let policy = RateLimitPolicy::new(Some(&github))?;
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
/// headers.insert("x-ratelimit-reset", "1700000042".parse().unwrap());
/// let limited = policy.classify(&ResponseView { status: 403, headers: &headers, body: None }, now)?;
/// assert_eq!(limited.unwrap().wait, Some(Duration::from_secs(42)));
/// # Ok::<(), patchbay_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitPolicy {
    detect: Detect,
    retry_after: Option<Expression>,
    reset: Option<Expression>,
    needs_body: bool,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            detect: Detect::Status429,
            retry_after: None,
            reset: None,
            needs_body: false,
        }
    }
}

fn compile(
    field: &'static str,
    source: &patchbay_config::Jsonata,
) -> Result<Expression, RateLimitError> {
    source
        .compile()
        .map_err(|source| RateLimitError::Compile { field, source })
}

impl RateLimitPolicy {
    /// Builds the policy of a method (`None`: the defaults).
    ///
    /// # Errors
    /// [`RateLimitError::Compile`] when an expression does not compile.
    pub fn new(config: Option<&RateLimit>) -> Result<Self, RateLimitError> {
        let Some(config) = config else {
            return Ok(Self::default());
        };
        let detect = match &config.is_rate_limited {
            None => Detect::Status429,
            Some(BoolOrJsonata::Bool(b)) => Detect::Constant(*b),
            Some(BoolOrJsonata::Expression(e)) => {
                Detect::Expression(compile("is_rate_limited", e)?)
            }
        };
        let retry_after = config
            .retry_after_header_expression
            .as_ref()
            .map(|e| compile("retry_after_header_expression", e))
            .transpose()?;
        let reset = config
            .rate_limit_header_expression
            .as_ref()
            .map(|e| compile("rate_limit_header_expression", e))
            .transpose()?;
        let needs_body = [
            match &detect {
                Detect::Expression(e) => Some(e),
                _ => None,
            },
            retry_after.as_ref(),
            reset.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|e| mentions(e.source(), "body"));
        Ok(Self {
            detect,
            retry_after,
            reset,
            needs_body,
        })
    }

    /// Classifies one response; `now` is the wall clock (injected for tests and
    /// for HTTP-date `Retry-After` values).
    ///
    /// # Errors
    /// [`RateLimitError::Evaluate`] when an expression fails at run time.
    pub fn classify(
        &self,
        response: &ResponseView<'_>,
        now: SystemTime,
    ) -> Result<Option<RateLimited>, RateLimitError> {
        // The body is read in place, never copied (it can be large); the expression engine
        // converts only the parts an expression reads.
        let status = Value::from(response.status);
        let headers = headers_json(response.headers);
        let null = Value::Null;
        let mut scope: Vec<(&str, &Value)> = vec![("status", &status), ("headers", &headers)];
        if self.needs_body {
            scope.push(("body", response.body.unwrap_or(&null)));
        }
        let limited = match &self.detect {
            Detect::Status429 => response.status == 429,
            Detect::Constant(b) => *b,
            Detect::Expression(e) => evaluate(e, "is_rate_limited", &scope)?
                .as_ref()
                .is_some_and(is_truthy),
        };
        if !limited {
            return Ok(None);
        }
        let retry_after = match &self.retry_after {
            Some(e) => evaluate(e, "retry_after_header_expression", &scope)?
                .as_ref()
                .and_then(as_number)
                .map(seconds),
            None => response
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, now)),
        };
        let until_reset = match &self.reset {
            Some(e) => evaluate(e, "rate_limit_header_expression", &scope)?
                .as_ref()
                .and_then(as_number)
                .map(|reset| wait_until_reset(reset, now)),
            None => None,
        };
        let wait = match (retry_after, until_reset) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok(Some(RateLimited { wait }))
    }
}

fn evaluate(
    expr: &Expression,
    field: &'static str,
    scope: &[(&str, &Value)],
) -> Result<Option<Value>, RateLimitError> {
    expr.evaluate_scope(scope, &Bindings::new())
        .map_err(|source| RateLimitError::Evaluate { field, source })
}

/// Non-negative seconds (fractions kept) as a duration; absurd values saturate at a day.
fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.clamp(0.0, 86_400.0))
}

/// Wait until `reset`: epoch seconds, epoch milliseconds (> 10^11), or (< 10^9)
/// seconds from now.
fn wait_until_reset(reset: f64, now: SystemTime) -> Duration {
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let delta = if reset > 1e11 {
        reset / 1000.0 - now_secs
    } else if reset >= 1e9 {
        reset - now_secs
    } else {
        reset
    };
    seconds(delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            wait_until_reset(1_700_000_010.0, now),
            Duration::from_secs(10)
        );
        assert_eq!(
            wait_until_reset(1_700_000_010_000.0, now),
            Duration::from_secs(10)
        );
        assert_eq!(wait_until_reset(30.0, now), Duration::from_secs(30));
        assert_eq!(wait_until_reset(1_600_000_000.0, now), Duration::ZERO);
    }
}
