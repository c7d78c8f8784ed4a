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
