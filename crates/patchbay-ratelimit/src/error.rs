//! Errors of rate-limit and error-expression handling.

use patchbay_template::expression::ExpressionError;

/// A `rate_limit` or `error_expression` expression failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// The expression did not compile.
    #[error("{field} does not compile: {source}")]
    Compile {
        /// The config field.
        field: &'static str,
        /// The engine's error.
        #[source]
        source: ExpressionError,
    },
    /// The expression failed on a response.
    #[error("{field} failed: {source}")]
    Evaluate {
        /// The config field.
        field: &'static str,
        /// The engine's error.
        #[source]
        source: ExpressionError,
    },
}

/// A wait was cancelled through its cancellation token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("wait cancelled")]
pub struct Cancelled;

/// Why [`Pacer::acquire`](crate::Pacer::acquire) returned without a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcquireError {
    /// The cancellation token fired.
    #[error("wait cancelled")]
    Cancelled,
    /// The account is paused (a provider's `Retry-After`) or paced for longer
    /// than a request may wait.
    #[error(
        "the account may not send for {required:?} more, longer than the {max:?} a request may wait"
    )]
    TooLong {
        /// How long the request would still have to wait.
        required: std::time::Duration,
        /// The pacer's maximum wait.
        max: std::time::Duration,
    },
}

impl From<Cancelled> for AcquireError {
    fn from(_: Cancelled) -> Self {
        Self::Cancelled
    }
}
