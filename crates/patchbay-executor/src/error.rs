//! Errors of the request pipeline.

use patchbay_auth::AuthError;
use patchbay_pagination::PaginationError;
use patchbay_ratelimit::{GiveUp, ProviderError, RateLimitError};
use patchbay_template::{TemplateError, UrlError};

use crate::response::ParseError;
use crate::transport::TransportError;

/// Why a call failed. Messages never contain tokens, secrets or URLs with
/// query strings (which may carry API keys).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The resource or method does not exist in the config.
    #[error("the integration has no method `{resource}.{method}`")]
    UnknownMethod {
        /// The resource asked for.
        resource: String,
        /// The method asked for.
        method: String,
    },
    /// The config cannot be executed as written.
    #[error("config error: {0}")]
    Config(String),
    /// A template does not parse.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The URL cannot be rendered safely.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The body cannot be encoded.
    #[error("cannot encode the request body: {0}")]
    Body(String),
    /// Credentials could not be obtained or were refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// No complete response arrived (after any retries).
    #[error("{error} ({attempts} attempt(s))")]
    Transport {
        /// The last transport error.
        error: TransportError,
        /// Attempts made.
        attempts: u32,
    },
    /// The provider answered with an error (status ≥ 400, or a body that the
    /// `error_expression` flags). Keeps status, headers and body.
    #[error(transparent)]
    Provider(Box<ProviderError>),
    /// The provider kept rate limiting and the retry policy gave up.
    #[error("rate limited by the provider: {reason}")]
    RateLimited {
        /// Why retrying stopped.
        reason: GiveUp,
        /// The last (rate-limited) response.
        response: Box<ProviderError>,
    },
    /// The account is paused (an earlier `Retry-After`) or paced for longer
    /// than a call may wait (the retry policy's `max_single_wait`). A rate
    /// limit: hosts answer it like a 429.
    #[error(
        "rate limited: the account may not call the provider for {required:?} more, longer than the {max:?} a call may wait"
    )]
    AccountPaused {
        /// How long the call would still have to wait.
        required: std::time::Duration,
        /// The bound (`max_single_wait`).
        max: std::time::Duration,
    },
    /// The account already has as many requests in flight as it may have
    /// (the executor's `max_in_flight_per_account`) and none finished within
    /// the wait. A rate limit of Patchbay's own: hosts answer it like a 429.
    #[error(
        "rate limited: the account already has {limit} requests in flight and none finished within {waited:?}"
    )]
    TooManyInFlight {
        /// The cap.
        limit: usize,
        /// How long the call waited for a slot.
        waited: std::time::Duration,
    },
    /// The response body is not what its format promised.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Pagination cannot go on (a repeated cursor, an empty page pointing on,
    /// the page bound, a bad resume cursor).
    #[error(transparent)]
    Pagination(#[from] PaginationError),
    /// A rate-limit or error expression failed to evaluate.
    #[error(transparent)]
    Policy(#[from] RateLimitError),
    /// The caller cancelled the call.
    #[error("the call was cancelled")]
    Cancelled,
}

impl ExecutorError {
    /// Whether the call failed because of a rate limit ([`RateLimited`](Self::RateLimited),
    /// [`AccountPaused`](Self::AccountPaused) or
    /// [`TooManyInFlight`](Self::TooManyInFlight)): hosts answer HTTP 429.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::AccountPaused { .. } | Self::TooManyInFlight { .. }
        )
    }

    /// The provider's error response, when the call failed with one.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            Self::Provider(e) => Some(e),
            Self::RateLimited { response, .. } => Some(response),
            _ => None,
        }
    }
}
